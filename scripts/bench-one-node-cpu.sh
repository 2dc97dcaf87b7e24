#!/usr/bin/env bash
# Server CPU per round trip on one node, pairlink against the seed's Go server with its
# draw replaced by a constant (a bare Go relay: gorilla/websocket, one goroutine per
# socket, no database work), both loaded by the same neutral Go load generator
# (bench/pairs-go, gorilla/websocket too).
#
#   scripts/bench-one-node-cpu.sh      # 3 rounds, each server fresh, alternated
#
# For each run: utime + stime of the server's process from /proc/PID/stat around the
# run, divided by the round trips the generator completed; user and kernel apart. The
# generator shares the machine's cores, so its throughput says little; CPU per round
# trip is the server's own cost. Prints each run, then the medians and their ratio.
#
# Settings (environment): ROUNDS (3), PAIRS (50), DURATION (10s), PORT (18401),
# SEED_GO (../shared/anchors/seed-go), RESULTS (target/bench-one-node-cpu), PAIRLINK (a
# pairlink binary to measure instead of building target/release/pairlink).
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
PAIRS=${PAIRS:-50}
DURATION=${DURATION:-10s}
PORT=${PORT:-18401}
SEED_GO=${SEED_GO:-../shared/anchors/seed-go}
RESULTS=${RESULTS:-target/bench-one-node-cpu}
PAIRLINK=${PAIRLINK:-}

say() { echo "bench-one-node-cpu: $*" >&2; }
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; wait "$server_pid" 2>/dev/null || true; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# Go, and the libraries the relay and the generator import, from Debian.
gocode=/usr/share/gocode/src/github.com
scripts/install-missing.sh go:golang-go "$gocode/gorilla/websocket:golang-github-gorilla-websocket-dev" \
  "$gocode/gorilla/mux:golang-github-gorilla-mux-dev" "$gocode/lib/pq:golang-github-lib-pq-dev"
[ -f "$SEED_GO/main.go" ] || { say "no seed anchor at $SEED_GO (set SEED_GO)"; exit 1; }
rm -rf "$RESULTS"
mkdir -p "$RESULTS/relay"

say "building pairlink (release), the bare Go relay and the load generator"
if [ -z "$PAIRLINK" ]; then
  cargo build --release --quiet
  PAIRLINK=target/release/pairlink
fi
# The seed with `process` (its two ORDER BY random() queries) returning a constant draw.
awk '
  /^func \(h \*handler\) process\(/ {
    print; print "\treturn &unityMsg{QuizIDs: []int{1, 2, 3}, ActionID: 1}, nil"; skip = 1; next
  }
  skip && /^}/ { skip = 0 }
  !skip
' "$SEED_GO/main.go" >"$RESULTS/relay/main.go"
grep -q 'QuizIDs: \[\]int{1, 2, 3}' "$RESULTS/relay/main.go" || { say "the seed's draw was not found to replace"; exit 1; }
export GOPATH=/usr/share/gocode GO111MODULE=off
(cd "$RESULTS/relay" && go build -o ../bare-relay main.go)
(cd bench/pairs-go && go build -o "$OLDPWD/$RESULTS/pairs-go" .)

wait_for_port() {
  for _ in $(seq 1 100); do
    (echo >"/dev/tcp/127.0.0.1/$1") 2>/dev/null && return 0
    kill -0 "$server_pid" 2>/dev/null || { say "the server exited; see $RESULTS"; exit 1; }
    sleep 0.1
  done
  say "the server did not listen on $1"; exit 1
}

# One run: starts server $1 on port $2, loads it, prints "name total user kernel rate".
run() {
  local name=$1 port=$2 ticks; ticks=$(getconf CLK_TCK)
  case $name in
    pairlink)
      RUST_LOG=pairlink=warn "$PAIRLINK" serve --bind "127.0.0.1:$port" \
        --database-url "sqlite://$RESULTS/$port.db" >"$RESULTS/$name-$port.log" 2>&1 &
      ;;
    bare-go-relay)
      # The relay never queries; its database handle is opened lazily and left unused.
      DATABASE_URL='postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable' ADDR="127.0.0.1:$port" \
        "$RESULTS/bare-relay" >"$RESULTS/$name-$port.log" 2>&1 &
      ;;
  esac
  server_pid=$!
  wait_for_port "$port"
  local before after
  before=$(awk '{ print $14, $15 }' "/proc/$server_pid/stat")
  "$RESULTS/pairs-go" -url "ws://127.0.0.1:$port" -pairs "$PAIRS" -duration "$DURATION" >"$RESULTS/$name-$port.json"
  after=$(awk '{ print $14, $15 }' "/proc/$server_pid/stat")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=""
  python3 - "$name" "$ticks" "$before" "$after" "$RESULTS/$name-$port.json" <<'PY'
import json, sys
name, ticks, before, after, path = sys.argv[1], int(sys.argv[2]), sys.argv[3].split(), sys.argv[4].split(), sys.argv[5]
result = json.load(open(path))
n = result["round_trips"]
user = (int(after[0]) - int(before[0])) / ticks / n * 1e6
kernel = (int(after[1]) - int(before[1])) / ticks / n * 1e6
print(f"{name} {user + kernel:.2f} {user:.2f} {kernel:.2f} {n / result['seconds']:.0f}")
PY
}

: >"$RESULTS/runs.txt"
port=$PORT
for round in $(seq 1 "$ROUNDS"); do
  for name in pairlink bare-go-relay; do
    port=$((port + 1))  # a fresh port for each server: no TIME_WAIT in the way
    line=$(run "$name" "$port")
    echo "$line" >>"$RESULTS/runs.txt"
    read -r who total user kernel rate <<<"$line"
    printf '%-14s round %d: %6.2f µs per round trip (user %5.2f, kernel %5.2f), %s round trips/s\n' \
      "$who" "$round" "$total" "$user" "$kernel" "$rate"
  done
done
python3 - "$RESULTS/runs.txt" <<'PY'
import statistics, sys
runs = {}
for line in open(sys.argv[1]):
    name, total, user, kernel, rate = line.split()
    runs.setdefault(name, []).append((float(total), float(user), float(kernel)))
medians = {name: [statistics.median(column) for column in zip(*values)] for name, values in runs.items()}
for name, (total, user, kernel) in medians.items():
    print(f"median {name:<14} {total:6.2f} µs per round trip (user {user:5.2f}, kernel {kernel:5.2f})")
ours, theirs = medians["pairlink"], medians["bare-go-relay"]
print(f"pairlink / bare Go relay: {ours[0] / theirs[0]:.2f} × in total, {ours[1] / theirs[1]:.2f} × in user space")
PY
