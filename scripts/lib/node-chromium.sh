# Sourced by the scripts that test pairlink from Node.js and headless Chromium
# (browser-tests.sh, test-sdk-js.sh), on a fresh machine too: installs Debian's chromium
# and Node.js if missing, builds pairlink unless $PAIRLINK_BIN names a binary already,
# and exports PAIRLINK_BIN. Expects to run from the repository's root.

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
[ -x "${CHROMIUM_PATH:-/usr/bin/chromium}" ] || missing+=(chromium)
command -v node >/dev/null 2>&1 || missing+=(nodejs)
command -v npm >/dev/null 2>&1 || missing+=(npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ -z "${PAIRLINK_BIN:-}" ]; then
  cargo build --locked --quiet --bin pairlink
  # The binary just built, wherever cargo put it (CARGO_TARGET_DIR, .cargo/config.toml).
  target_dir=$(cargo metadata --locked --format-version 1 --no-deps \
    | node -e 'let s = ""; process.stdin.on("data", (d) => { s += d; }).on("end", () => console.log(JSON.parse(s).target_directory))')
  export PAIRLINK_BIN="$target_dir/debug/pairlink"
fi
