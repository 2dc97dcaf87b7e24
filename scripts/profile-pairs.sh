#!/usr/bin/env bash
# Instructions the server executes per round trip, counted by valgrind's callgrind: a
# figure that, unlike CPU time on a shared machine, comes out the same from run to run.
#
#   scripts/profile-pairs.sh            # 50 pairs, closed loop, against one `pairlink serve`
#
# The server (the release binary, which carries line tables) runs under callgrind; a
# `pairlink bench pairs` runs against it. Once the pairs are connected and warm, the
# counters are zeroed; WINDOW seconds later they are dumped, and the controller messages
# the server received meanwhile (its /metrics counter) are the round trips served.
# Prints the server's instructions per round trip (Ir) and writes the profile to
# $RESULTS/callgrind.out.* for `callgrind_annotate`.
#
# Settings (environment): PAIRS (50), WINDOW (8, seconds), PORT (18991),
# RESULTS (target/profile-pairs), PAIRLINK (a binary to profile instead of building
# target/release/pairlink; it also serves as the bench client).
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-50}
WINDOW=${WINDOW:-8}
PORT=${PORT:-18991}
RESULTS=${RESULTS:-target/profile-pairs}
PAIRLINK=${PAIRLINK:-}

say() { echo "profile-pairs: $*" >&2; }
server_pid=""
bench_pid=""
cleanup() {
  if [ -n "$bench_pid" ]; then kill "$bench_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v valgrind >/dev/null || { say "needs valgrind (apt-get install valgrind)"; exit 1; }
if [ -z "$PAIRLINK" ]; then
  cargo build --release --quiet
  PAIRLINK=target/release/pairlink
fi
rm -rf "$RESULTS"
mkdir -p "$RESULTS"

# Controller messages received so far: one per round trip.
received() {
  curl -sf "http://127.0.0.1:$PORT/metrics" |
    awk '/^pairlink_messages_received_total/ && /role="controller"/ { n += $2 } END { printf "%d", n }'
}

RUST_LOG=pairlink=warn valgrind --tool=callgrind --callgrind-out-file="$RESULTS/callgrind.out.%p" \
  "$PAIRLINK" serve --bind "127.0.0.1:$PORT" --database-url "sqlite://$RESULTS/p.db" \
  >"$RESULTS/server.log" 2>&1 &
server_pid=$!
for _ in $(seq 1 600); do
  curl -sf --max-time 1 "http://127.0.0.1:$PORT/readyz" >/dev/null 2>&1 && break
  kill -0 "$server_pid" 2>/dev/null || { say "the server exited; see $RESULTS/server.log"; exit 1; }
  sleep 0.2
done

"$PAIRLINK" bench pairs --url "ws://127.0.0.1:$PORT" --pairs "$PAIRS" --warmup 5s \
  --duration "$(( WINDOW + 10 ))s" --json >"$RESULTS/bench.json" 2>"$RESULTS/bench.log" &
bench_pid=$!
sleep 5
callgrind_control --zero "$server_pid" >/dev/null 2>&1
before=$(received)
sleep "$WINDOW"
after=$(received)
callgrind_control --dump "$server_pid" >/dev/null 2>&1
kill "$bench_pid" 2>/dev/null || true
wait "$bench_pid" 2>/dev/null || true
bench_pid=""

dump=$(ls -t "$RESULTS"/callgrind.out.* | head -1)
ir=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
round_trips=$(( after - before ))
echo "round trips served in the window: $round_trips"
echo "server instructions (Ir) in the window: $ir"
echo "instructions per round trip: $(( round_trips > 0 ? ir / round_trips : 0 ))"
echo "profile: $dump (callgrind_annotate --inclusive=yes $dump | head -60)"
