#!/usr/bin/env bash
# Runs pairlink's whole test suite, on a fresh machine too: makes sure the services the
# tests talk to are up (starting or installing them if needed), then runs cargo test,
# the Autobahn protocol conformance suite, the content API's schemathesis checks, the
# AsyncAPI parser's check of docs/asyncapi.yaml, the end-to-end tests in headless
# Chromium and the three client SDKs' tests against the real binary.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/services.sh

cargo test --locked --all-targets "$@"

# WebSocket protocol conformance (RFC 6455) against /echo.
scripts/autobahn.sh

# The content API against its OpenAPI document.
scripts/schemathesis.sh

# The WebSocket API's AsyncAPI document, through the AsyncAPI parser.
scripts/asyncapi.sh

# End-to-end tests in headless Chromium: WebRTC through the signaling endpoint, and
# every workflow of the web console.
scripts/browser-tests.sh

# The container packaging, as far as it can be checked without a Docker engine.
scripts/packaging.sh

# The client SDKs, each against the real pairlink binary: Android (Java over OkHttp,
# Maven offline on Debian's repository), Unity (C# on Mono, NUnit) and JavaScript (Node
# and headless Chromium).
scripts/test-sdk-android.sh
scripts/test-sdk-unity.sh
scripts/test-sdk-js.sh
