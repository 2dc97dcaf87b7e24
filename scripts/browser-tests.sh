#!/usr/bin/env bash
# Runs the end-to-end tests in real headless Chromium (tests/browser), on a fresh
# machine too: installs Debian's chromium and Node.js if missing and the npm packages
# from the lock file, builds pairlink, then runs the tests against it.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/node-chromium.sh

cd tests/browser
npm ci --no-audit --no-fund --loglevel=error
npm test
