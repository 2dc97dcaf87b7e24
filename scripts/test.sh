#!/usr/bin/env bash
# Runs pairlink's whole test suite, on a fresh machine too: makes sure the services the
# tests talk to are up (starting or installing them if needed), then runs cargo test.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

cargo test --locked --all-targets "$@"
