#!/usr/bin/env bash
# Checks docs/asyncapi.yaml with the official AsyncAPI parser and its ruleset: fails on
# any diagnostic of severity error. Installs Node.js if missing and the parser from the
# lock file (scripts/asyncapi/package-lock.json). The Rust tests check the same
# document's schemas against real messages (tests/api/schema.rs).
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-missing.sh node:nodejs npm:npm

cd scripts/asyncapi
npm ci --no-audit --no-fund --loglevel=error
node validate.mjs ../../docs/asyncapi.yaml
