# Sourced by the scripts that test pairlink from Node.js and headless Chromium
# (browser-tests.sh, test-sdk-js.sh), on a fresh machine too: installs Debian's chromium
# and Node.js if missing, builds pairlink unless $PAIRLINK_BIN names a binary already,
# and exports PAIRLINK_BIN. Expects to run from the repository's root.

scripts/install-missing.sh "${CHROMIUM_PATH:-/usr/bin/chromium}:chromium" node:nodejs npm:npm

if [ -z "${PAIRLINK_BIN:-}" ]; then
  cargo build --locked --quiet --bin pairlink
  # The binary just built, wherever cargo put it (CARGO_TARGET_DIR, .cargo/config.toml).
  target_dir=$(cargo metadata --locked --format-version 1 --no-deps \
    | node -e 'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => console.log(JSON.parse(s).target_directory))')
  export PAIRLINK_BIN="$target_dir/debug/pairlink"
fi
