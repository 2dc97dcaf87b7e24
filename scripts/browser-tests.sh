#!/usr/bin/env bash
# Runs the end-to-end tests in real headless Chromium (tests/browser), on a fresh
# machine too: installs Debian's chromium and Node.js if missing and the npm packages
# from the lock file, builds pairlink, then runs the tests against it.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-missing.sh "${CHROMIUM_PATH:-/usr/bin/chromium}:chromium" node:nodejs npm:npm

cargo build --locked --quiet
# The binary just built, wherever cargo put it (CARGO_TARGET_DIR, .cargo/config.toml).
target_dir=$(cargo metadata --locked --format-version 1 --no-deps \
  | node -e 'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => console.log(JSON.parse(s).target_directory))')
export PAIRLINK_BIN="${PAIRLINK_BIN:-$target_dir/debug/pairlink}"
cd tests/browser
npm ci --no-audit --no-fund --loglevel=error
npm test
