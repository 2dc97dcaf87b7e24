#!/usr/bin/env bash
# Installs the Debian packages of the tools that are missing, so that the test scripts
# also run on a fresh machine. Each argument is TOOL:PACKAGE, TOOL being a command name
# or the path of an executable (or of a directory the package installs, such as a Go
# library's source), e.g. `scripts/install-missing.sh node:nodejs npm:npm`.
set -euo pipefail

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=()
for pair in "$@"; do
  tool=${pair%%:*}
  package=${pair#*:}
  if [[ $tool == */* ]]; then
    [ -x "$tool" ] || missing+=("$package")
  else
    command -v "$tool" >/dev/null 2>&1 || missing+=("$package")
  fi
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "installing ${missing[*]}" >&2
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi
