#!/usr/bin/env bash
# Tests the JavaScript SDK (clients/js) on a fresh machine too: installs Node.js, npm and
# Debian's chromium if missing and the npm packages from the lock file, builds pairlink
# (or uses $PAIRLINK_BIN), then type-checks, lints, builds and tests the SDK against the
# real binary: Node tests, the packed package in a fresh folder, and headless Chromium.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node-chromium.sh

cd clients/js
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
npm run --silent check
npm test
