# syntax=docker/dockerfile:1
# pairlink in a container: built with the Rust toolchain, run from a slim Debian image
# as an unprivileged user. `docker compose up` (docker-compose.yml) runs it with
# PostgreSQL; alone it keeps its catalogue in SQLite under the /data volume.

FROM rust:1-bookworm AS build
WORKDIR /src
COPY . .
# The registry and target directories are build caches (BuildKit), so a change to
# pairlink's source recompiles pairlink, not its dependencies.
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked --bin pairlink \
    && cp target/release/pairlink /usr/local/bin/pairlink

FROM debian:bookworm-slim
# No CA bundle and no HTTP client: pairlink makes no outgoing TLS connections, and
# nothing here needs curl (see the README about health checks).
RUN groupadd --system --gid 10001 pairlink \
    && useradd --system --uid 10001 --gid pairlink --home-dir /data --no-create-home pairlink \
    && mkdir /data && chown pairlink:pairlink /data
COPY --from=build /usr/local/bin/pairlink /usr/local/bin/pairlink
# Numeric, so that Kubernetes runAsNonRoot can check it is not root.
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
ENV DATABASE_URL=sqlite:///data/pairlink.db \
    PAIRLINK_BIND=0.0.0.0:8080 \
    RUST_LOG=pairlink=info
EXPOSE 8080
# Exec form: pairlink is PID 1 and gets `docker stop`'s SIGTERM (graceful shutdown)
# and `docker kill --signal=HUP`'s SIGHUP (certificate reload) itself.
ENTRYPOINT ["pairlink"]
CMD ["serve"]
