#!/usr/bin/env bash
# Checks the running server against its own OpenAPI document (/api/openapi.json) with
# schemathesis: generated valid and invalid requests to every content API route, each
# response checked for status code, content type, schema conformance, auth handling and
# server errors. Installs a pinned schemathesis into a venv under target/ if missing;
# starts `pairlink serve` on a free port with a fresh SQLite database and an admin
# token, and stops it afterwards.
set -euo pipefail
cd "$(dirname "$0")/.."

SCHEMATHESIS_VERSION=4.32.5
target=$(realpath -m "${CARGO_TARGET_DIR:-target}")
venv="$target/schemathesis-venv"
if ! "$venv/bin/schemathesis" --version 2>/dev/null | grep -q "$SCHEMATHESIS_VERSION"; then
  echo "schemathesis: installing schemathesis $SCHEMATHESIS_VERSION into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "schemathesis==$SCHEMATHESIS_VERSION"
fi

cargo build --locked --bin pairlink
work=$(mktemp -d)
server_pid=
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
token=schemathesis-$RANDOM$RANDOM
PAIRLINK_ADMIN_TOKEN=$token RUST_LOG=pairlink=warn "$target/debug/pairlink" serve \
  --bind "127.0.0.1:$port" --database-url "sqlite://$work/pairlink.db" &
server_pid=$!

# --generation-allow-x00 false: the API refuses NUL in texts (PostgreSQL cannot store
# it), a rule a JSON schema cannot state next to the not-blank pattern. Run from the
# temporary directory, where schemathesis leaves its cache.
cd "$work"
"$venv/bin/schemathesis" run "http://127.0.0.1:$port/api/openapi.json" \
  --wait-for-schema 30 \
  --checks all \
  --header "Authorization: Bearer $token" \
  --generation-allow-x00 false \
  --max-examples "${SCHEMATHESIS_MAX_EXAMPLES:-50}" \
  --seed "${SCHEMATHESIS_SEED:-1}" \
  --generation-database none \
  --no-color \
  --report junit --report-dir "$work/report" \
  "$@"
