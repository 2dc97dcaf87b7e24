#!/usr/bin/env bash
# CPU and Redis commands per round trip across two nodes: displays on node A,
# controllers on node B, both on a Redis of their own (started here on a free port), and
# the same bench against one node without Redis for comparison.
#
#   scripts/cross-node-cpu.sh [BIN]       # BIN: target/release/pairlink by default
#   PAIRS=50 DURATION=10s RUNS=3 scripts/cross-node-cpu.sh
#   WORKERS=1 scripts/cross-node-cpu.sh   # one tokio worker thread per process
#
# WORKERS sets TOKIO_WORKER_THREADS for every pairlink process started here (both nodes,
# the lone node and the bench); unset, each takes one worker per core. On a machine
# whose cores the two nodes, Redis and the bench share, one worker each is the share of
# a core every busy process gets anyway, and spares them the threads' switching.
#
# CPU is utime+stime from /proc/PID/stat of both nodes and the redis-server (one node
# alone: that node), over the whole bench run (no warm-up: the bench's round trips are
# all there is), divided by the round trips it reports. Redis commands come from
# `INFO commandstats` (reset before each run). Every process it starts is stopped by PID.
set -euo pipefail

BIN=${1:-target/release/pairlink}
PAIRS=${PAIRS:-50}
DURATION=${DURATION:-10s}
RUNS=${RUNS:-1}
if [ -n "${WORKERS:-}" ]; then export TOKIO_WORKER_THREADS=$WORKERS; fi
WORK=$(mktemp -d)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

free_port() {
    python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

ticks() { # utime+stime of the PIDs given, in clock ticks
    local total=0
    for pid in "$@"; do
        read -r -a stat < <(sed 's/^.*) //' "/proc/$pid/stat")
        total=$((total + stat[11] + stat[12]))
    done
    echo "$total"
}

wait_ready() {
    for _ in $(seq 1 100); do
        curl -fs "http://$1/readyz" >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "node $1 never got ready" >&2
    exit 1
}

start_node() { # ADDR DB [serve flags...]
    local addr=$1 db=$2
    shift 2
    RUST_LOG=warn "$BIN" serve --bind "$addr" --database-url "sqlite://$WORK/$db" "$@" \
        >"$WORK/$db.log" 2>&1 &
    PIDS+=($!)
    LAST_PID=$!
    wait_ready "$addr"
}

commandstats() { # calls per command, one "name calls" a line
    redis-cli -p "$REDIS_PORT" INFO commandstats |
        sed -n 's/^cmdstat_\([a-z|]*\):calls=\([0-9]*\).*/\1 \2/p'
}

measure() { # LABEL URL CONTROLLER_URL PIDS...
    local label=$1 url=$2 controller=$3
    shift 3
    [ -n "$REDIS_PORT" ] && redis-cli -p "$REDIS_PORT" CONFIG RESETSTAT >/dev/null
    local before after pid
    local -A each
    for pid in "$@"; do each[$pid]=$(ticks "$pid"); done
    before=$(ticks "$@")
    local flags=(--url "$url" --pairs "$PAIRS" --duration "$DURATION" --warmup 0s --json)
    [ -n "$controller" ] && flags+=(--controller-url "$controller")
    "$BIN" bench pairs "${flags[@]}" >"$WORK/report.json"
    after=$(ticks "$@")
    local split=""
    for pid in "$@"; do split+=" $(tr -d '\n' <"/proc/$pid/comm")/$pid=$(( $(ticks "$pid") - each[$pid] ))"; done
    local trips
    trips=$(python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["round_trips"], r["round_trips_per_s"], r["errors_total"])' "$WORK/report.json")
    read -r count rate errors <<<"$trips"
    local hz
    hz=$(getconf CLK_TCK)
    python3 - "$label" "$count" "$rate" "$errors" "$((after - before))" "$hz" <<'EOF'
import sys
label, count, rate, errors, ticks, hz = sys.argv[1:]
cpu = int(ticks) / int(hz)
print(f"{label}: {int(count)} round trips ({float(rate):,.0f}/s), {errors} errors, "
      f"CPU {cpu:.2f} s = {cpu / int(count) * 1e6:.1f} us per round trip")
EOF
    echo "    CPU ticks (1/$hz s) by process:$split"
    if [ -n "$REDIS_PORT" ]; then
        commandstats | grep -v -e '^config' -e '^info' | while read -r name calls; do
            python3 -c 'import sys; print(f"    {sys.argv[1]:<12} {int(sys.argv[2]):>9} calls, {int(sys.argv[2])/int(sys.argv[3]):.3f} per round trip")' \
                "$name" "$calls" "$count"
        done
    fi
}

REDIS_PORT=$(free_port)
redis-server --port "$REDIS_PORT" --save '' --appendonly no >"$WORK/redis.log" 2>&1 &
PIDS+=($!)
REDIS_PID=$!
for _ in $(seq 1 50); do redis-cli -p "$REDIS_PORT" PING >/dev/null 2>&1 && break; sleep 0.1; done

A=127.0.0.1:$(free_port)
B=127.0.0.1:$(free_port)
SOLO=127.0.0.1:$(free_port)
REDIS=(--redis-url "redis://127.0.0.1:$REDIS_PORT" --redis-prefix cross-node:)
start_node "$A" a.db "${REDIS[@]}"
NODE_A=$LAST_PID
start_node "$B" b.db "${REDIS[@]}"
NODE_B=$LAST_PID
echo "binary: $BIN ($("$BIN" --version 2>/dev/null || true)); $PAIRS pairs closed loop, $DURATION; tokio workers per process: ${TOKIO_WORKER_THREADS:-one per core}"
for run in $(seq 1 "$RUNS"); do
    measure "across nodes, run $run" "ws://$A" "ws://$B" "$NODE_A" "$NODE_B" "$REDIS_PID"
done

start_node "$SOLO" solo.db
SOLO_PID=$LAST_PID
SAVED_PORT=$REDIS_PORT
REDIS_PORT=
for run in $(seq 1 "$RUNS"); do
    measure "one node, run $run" "ws://$SOLO" "" "$SOLO_PID"
done
REDIS_PORT=$SAVED_PORT
