#!/usr/bin/env bash
# Instructions two nodes execute per cross-node round trip, counted by valgrind's
# callgrind: displays on node A, controllers on node B, both on a Redis of their own
# (started here on a free port), 50 pairs closed loop.
#
#   scripts/profile-cross-node.sh       # PAIRLINK=/path/to/binary to profile another build
#
# Both nodes run under callgrind; once the pairs are connected and warm, the counters are
# zeroed; WINDOW seconds later they are dumped, and the controller messages node B
# received meanwhile (its /metrics counter) are the round trips served. Prints each
# node's instructions per round trip and writes the profiles to $RESULTS.
#
# Settings (environment): PAIRS (50), WINDOW (8, seconds), RESULTS
# (target/profile-cross-node), PAIRLINK.
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-50}
WINDOW=${WINDOW:-8}
RESULTS=${RESULTS:-target/profile-cross-node}
PAIRLINK=${PAIRLINK:-}

say() { echo "profile-cross-node: $*" >&2; }
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  wait 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

command -v valgrind >/dev/null || { say "needs valgrind (apt-get install valgrind)"; exit 1; }
command -v redis-server >/dev/null || { say "needs redis-server (scripts/services.sh installs it)"; exit 1; }
if [ -z "$PAIRLINK" ]; then
  cargo build --release --quiet
  PAIRLINK=target/release/pairlink
fi
rm -rf "$RESULTS"
mkdir -p "$RESULTS"
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

redis_port=$(free_port)
redis-server --port "$redis_port" --save '' --appendonly no >"$RESULTS/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 50); do redis-cli -p "$redis_port" PING >/dev/null 2>&1 && break; sleep 0.1; done

declare -A node_pid node_port
for node in a b; do
  node_port[$node]=$(free_port)
  RUST_LOG=pairlink=warn valgrind --tool=callgrind --callgrind-out-file="$RESULTS/callgrind.$node.%p" \
    "$PAIRLINK" serve --bind "127.0.0.1:${node_port[$node]}" --database-url "sqlite://$RESULTS/$node.db" \
    --redis-url "redis://127.0.0.1:$redis_port" --redis-prefix profile: >"$RESULTS/$node.log" 2>&1 &
  node_pid[$node]=$!
  pids+=($!)
done
for node in a b; do
  for _ in $(seq 1 600); do
    curl -sf --max-time 1 "http://127.0.0.1:${node_port[$node]}/readyz" >/dev/null 2>&1 && break
    kill -0 "${node_pid[$node]}" 2>/dev/null || { say "node $node exited; see $RESULTS/$node.log"; exit 1; }
    sleep 0.2
  done
done

# Controller messages node B received so far: one per round trip.
received() {
  curl -sf "http://127.0.0.1:${node_port[b]}/metrics" |
    awk '/^pairlink_messages_received_total/ && /role="controller"/ { n += $2 } END { printf "%d", n }'
}

"$PAIRLINK" bench pairs --url "ws://127.0.0.1:${node_port[a]}" --controller-url "ws://127.0.0.1:${node_port[b]}" \
  --pairs "$PAIRS" --warmup 5s --duration "$(( WINDOW + 10 ))s" --json >"$RESULTS/bench.json" 2>"$RESULTS/bench.log" &
bench_pid=$!
pids+=($bench_pid)
sleep 6
for node in a b; do callgrind_control --zero "${node_pid[$node]}" >/dev/null 2>&1; done
before=$(received)
sleep "$WINDOW"
after=$(received)
for node in a b; do callgrind_control --dump "${node_pid[$node]}" >/dev/null 2>&1; done
round_trips=$(( after - before ))
echo "round trips served in the window: $round_trips"
for node in a b; do
  dump=$(ls -t "$RESULTS"/callgrind."$node".*.1 | head -1)
  ir=$(callgrind_annotate "$dump" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1; exit }')
  role=$([ "$node" = a ] && echo displays || echo controllers)
  echo "node $node ($role): $(( round_trips > 0 ? ir / round_trips : 0 )) instructions per round trip ($dump)"
done
