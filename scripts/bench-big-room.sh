#!/usr/bin/env bash
# One big room: fills it with MEMBERS members, then has SENDERS of them send RATE
# messages per second in all, and prints `pairlink bench room`'s report (fill time,
# deliveries per second, gaps, 1013 closes, server CPU per delivery).
#
#   scripts/bench-big-room.sh                 # 10,000 members on one node
#   NODES=2 scripts/bench-big-room.sh         # over two nodes on a redis-server of its own
#
# Settings (environment): MEMBERS (10000), NODES (1 or 2), SENDERS (10), RATE (10: with
# 10,000 members, 100,000 deliveries per second), DURATION (10s), BASE_PORT (18401),
# SERVER (target/release/pairlink: the binary the nodes run, e.g. an older build to
# compare), BENCH (target/release/pairlink), SERVE_FLAGS (extra `serve` flags),
# BENCH_FLAGS (extra `bench room` flags, e.g. --no-notices), RESULTS (target/big-room).
#
# The nodes and the bench are separate processes, each with its own open-file limit
# (raised to the hard limit): a node holds its members' sockets, the bench all of them.
# With NODES=2 a redis-server is started on BASE_PORT+10, with no persistence, and
# stopped on exit with everything else the script started (by PID).
set -euo pipefail
cd "$(dirname "$0")/.."

MEMBERS=${MEMBERS:-10000}
NODES=${NODES:-1}
SENDERS=${SENDERS:-10}
RATE=${RATE:-10}
DURATION=${DURATION:-10s}
BASE_PORT=${BASE_PORT:-18401}
SERVER=${SERVER:-target/release/pairlink}
BENCH=${BENCH:-target/release/pairlink}
SERVE_FLAGS=${SERVE_FLAGS:-}
BENCH_FLAGS=${BENCH_FLAGS:-}
RESULTS=${RESULTS:-target/big-room}

say() { echo "bench-big-room: $*" >&2; }
fail() { say "$*"; exit 1; }

pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

[ -x "$SERVER" ] || fail "no server binary at $SERVER (cargo build --release)"
[ -x "$BENCH" ] || fail "no bench binary at $BENCH (cargo build --release)"
case "$NODES" in 1 | 2) ;; *) fail "NODES is 1 or 2" ;; esac
ulimit -n "$(ulimit -Hn)"
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.db "$RESULTS"/*.log

redis_flags=()
server_pids=()
if [ "$NODES" = 2 ]; then
  redis_port=$((BASE_PORT + 10))
  redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no \
    >"$RESULTS/redis.log" 2>&1 &
  pids+=($!)
  server_pids+=($!)
  for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis_flags=(--redis-url "redis://127.0.0.1:$redis_port")
fi

urls=()
for ((n = 0; n < NODES; n++)); do
  port=$((BASE_PORT + n))
  # shellcheck disable=SC2086 # SERVE_FLAGS is a list of flags
  RUST_LOG=pairlink=warn "$SERVER" serve --bind "127.0.0.1:$port" \
    --database-url "sqlite://$RESULTS/node-$n.db" "${redis_flags[@]}" $SERVE_FLAGS \
    >"$RESULTS/node-$n.log" 2>&1 &
  pids+=($!)
  server_pids+=($!)
  urls+=("ws://127.0.0.1:$port")
done
for ((n = 0; n < NODES; n++)); do
  for _ in $(seq 1 300); do
    curl -sf --max-time 1 "http://127.0.0.1:$((BASE_PORT + n))/readyz" >/dev/null 2>&1 && break
    sleep 0.1
  done
  curl -sf --max-time 1 "http://127.0.0.1:$((BASE_PORT + n))/readyz" >/dev/null || fail "node $n is not ready: $RESULTS/node-$n.log"
done

node_flags=()
for url in "${urls[@]:1}"; do node_flags+=(--node-url "$url"); done
say "server $("$SERVER" --version 2>/dev/null || echo "$SERVER"), $MEMBERS members on $NODES node(s), $SENDERS senders at $RATE/s"
# shellcheck disable=SC2086 # BENCH_FLAGS is a list of flags
"$BENCH" bench room --url "${urls[0]}" "${node_flags[@]}" --members "$MEMBERS" \
  --senders "$SENDERS" --rate "$RATE" --duration "$DURATION" \
  --pid "$(IFS=,; echo "${server_pids[*]}")" $BENCH_FLAGS
