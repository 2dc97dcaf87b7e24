#!/usr/bin/env bash
# Measures pairlink against the Go seed server (the anchor in shared/anchors/seed-go) on
# the same PostgreSQL catalogue, with `pairlink bench`, and prints both side by side.
#
#   scripts/bench-vs-seed.sh                     # pairs + idle against both servers
#   scripts/bench-vs-seed.sh --catalogue-sweep   # also pairlink at 1k, 100k and 1M quizzes
#
# Settings (environment): PAIRS (50), DURATION (10s), WARMUP (2s), QUIZZES (500),
# ACTIONS (100), IDLE_PAIRS (2000), SWEEP ("1000 100000 1000000"),
# PG (postgres://postgres@127.0.0.1:5432), PAIRLINK_PORT (18081), SEED_PORT (18082),
# SEED_GO (../shared/anchors/seed-go), RESULTS (target/bench-vs-seed).
# Needs PostgreSQL on 127.0.0.1:5432 with trust auth (scripts/services.sh sets it up)
# and installs Debian's Go packages if `go` is missing. Both servers run on this
# machine with the bench, so they share its CPUs with it: compare, don't quote. Each
# measurement also reports the CPU share other processes used meanwhile (from `top`);
# above 10% its figures are not comparable: rerun on a quiet machine.
#
# Server CPU per round trip: utime+stime from /proc, read just before and just after
# `bench pairs`, divided by the round trips of the whole run (the report counts those of
# the measured window; the whole run, warm-up included, is estimated as its rate times
# warm-up plus duration, which in a closed loop at a steady rate is close). For pairlink
# that is its one process; for the seed, the Go process plus PostgreSQL, which runs its
# two ORDER BY random() queries per message. PostgreSQL's time is summed over the
# postmaster and all its children: each live process's own utime+stime plus its
# cumulative children's times (cutime+cstime), the postmaster's included. A backend that
# exits during the run is counted while alive by its own times and, once the postmaster
# has reaped it, in the postmaster's cutime+cstime, so none of its time is lost or counted
# twice. (pg_stat views do not report CPU time, hence /proc.)
set -euo pipefail
cd "$(dirname "$0")/.."

PAIRS=${PAIRS:-50}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
QUIZZES=${QUIZZES:-500}
ACTIONS=${ACTIONS:-100}
IDLE_PAIRS=${IDLE_PAIRS:-2000}
SWEEP=${SWEEP:-1000 100000 1000000}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
PAIRLINK_PORT=${PAIRLINK_PORT:-18081}
SEED_PORT=${SEED_PORT:-18082}
SEED_GO=${SEED_GO:-../shared/anchors/seed-go}
RESULTS=${RESULTS:-target/bench-vs-seed}
SEED_BIN=/tmp/seed-go-server
PAIRLINK=target/release/pairlink

sweep=false
case "${1:-}" in
  "") ;;
  --catalogue-sweep) sweep=true ;;
  *) echo "usage: $0 [--catalogue-sweep]" >&2; exit 2 ;;
esac

say() { echo "bench-vs-seed: $*" >&2; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
psql_admin() { psql -q -X -v ON_ERROR_STOP=1 "$PG/postgres" "$@"; }

# --- clean-up: whatever was started or created is stopped or dropped on exit ----------
server_pid=""   # the one server running, if any
watcher_pid=""  # the `top` sampling other load during a measurement, if any
databases=()
cleanup() {
  if [ -n "$watcher_pid" ]; then kill "$watcher_pid" 2>/dev/null || true; fi
  if [ -n "$server_pid" ]; then stop_server; fi
  for db in "${databases[@]}"; do psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null 2>&1 || true; done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- build both servers ---------------------------------------------------------------
scripts/services.sh
if ! command -v go >/dev/null 2>&1; then
  say "installing Go and the seed's libraries from Debian"
  as_root apt-get update -qq
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go \
    golang-github-gorilla-websocket-dev golang-github-gorilla-mux-dev golang-github-lib-pq-dev >/dev/null
fi
[ -x "$SEED_GO/build.sh" ] || { say "no seed anchor at $SEED_GO (set SEED_GO)"; exit 1; }
say "building pairlink (release) and the seed"
cargo build --release --quiet
sh "$SEED_GO/build.sh"
mkdir -p "$RESULTS"

# --- helpers --------------------------------------------------------------------------
# new_database N_QUIZZES: a fresh database filled by the anchor's seed-data.sh, named in $db.
new_database() {
  db="pairlink_bench_$$_${#databases[@]}"
  psql_admin -c "CREATE DATABASE $db" >/dev/null
  databases+=("$db")
  sh "$SEED_GO/seed-data.sh" "$db" "$1" "$ACTIONS" >/dev/null
}

# wait_ready PORT PID [URL]: until the port accepts (and URL answers, if given).
wait_ready() {
  for _ in $(seq 1 1200); do
    kill -0 "$2" 2>/dev/null || { say "the server on port $1 exited; see $RESULTS/*.log"; exit 1; }
    if [ -n "${3:-}" ]; then
      curl -sf --max-time 1 "$3" >/dev/null 2>&1 && return 0
    elif (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; then
      return 0
    fi
    sleep 0.1
  done
  say "the server on port $1 is not ready after 120 s"; exit 1
}

# start_pairlink DB PORT LOG, start_seed DB PORT LOG: start a server, set $server_pid.
# pairlink binds its port before it has loaded the catalogue, so readiness is /healthz
# answering; the seed binds last, so its port is enough.
start_pairlink() {
  RUST_LOG=pairlink=warn "$PAIRLINK" serve --bind "127.0.0.1:$2" --database-url "$PG/$1" >"$3" 2>&1 &
  server_pid=$!
  wait_ready "$2" "$server_pid" "http://127.0.0.1:$2/healthz"
}

start_seed() {
  DATABASE_URL="$PG/$1?sslmode=disable" ADDR="127.0.0.1:$2" "$SEED_BIN" >"$3" 2>&1 &
  server_pid=$!
  wait_ready "$2" "$server_pid"
}

stop_server() {
  kill "$server_pid" 2>/dev/null || true
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
}

# watch_start NAME, watch_stop NAME: other load. Figures taken while something else uses
# the CPUs (a build, a test run) come out low and are not comparable, so each measurement
# runs with `top` sampling every second; watch_stop writes the share of the machine used
# by processes other than the servers, PostgreSQL and this script's own tools to
# $RESULTS/NAME-other-load.txt and warns above 10%.
OWN_COMMANDS='^(pairlink|seed-go-server|postgres|top|bash|bench-vs-seed[.]s|sleep|curl|jq|awk)$'
watch_start() {
  command -v top >/dev/null 2>&1 || return 0
  LC_ALL=C top -b -d 1 -w 512 >"$RESULTS/$1-top.log" 2>/dev/null &
  watcher_pid=$!
}
watch_stop() {
  [ -n "$watcher_pid" ] || { echo "?" >"$RESULTS/$1-other-load.txt"; return 0; }
  kill "$watcher_pid" 2>/dev/null || true
  wait "$watcher_pid" 2>/dev/null || true
  watcher_pid=""
  local other
  # Columns: PID USER PR NI VIRT RES SHR S %CPU %MEM TIME+ COMMAND. The first sample
  # (CPU since each process started) is skipped.
  other=$(awk -v own="$OWN_COMMANDS" -v ncpu="$(nproc)" '
    /^top - / { samples++; next }
    samples > 1 && $1 ~ /^[0-9]+$/ && $12 !~ own { cpu += $9 }
    END { printf "%.0f", (samples > 1 ? cpu / (samples - 1) / ncpu : 0) }' "$RESULTS/$1-top.log")
  echo "$other" >"$RESULTS/$1-other-load.txt"
  if [ "$other" -gt 10 ]; then
    say "WARNING: other processes used ${other}% of the CPUs during $1; its figures are low and not comparable (see $RESULTS/$1-top.log)"
  fi
}

# measure NAME PORT PID with_postgres|alone: idle first (on the fresh server, so RSS
# growth is not hidden by memory kept from earlier connections), then pairs, with the
# server's CPU time around the pairs run in $RESULTS/NAME-cpu.json; JSON into $RESULTS.
measure() {
  say "$1: bench idle --pairs $IDLE_PAIRS"
  watch_start "$1-idle"
  "$PAIRLINK" bench idle --url "ws://127.0.0.1:$2" --pairs "$IDLE_PAIRS" --pid "$3" --json >"$RESULTS/$1-idle.json"
  watch_stop "$1-idle"
  say "$1: bench pairs --pairs $PAIRS --duration $DURATION"
  watch_start "$1-pairs"
  local before after server_before server_after
  server_before=$(cpu_ticks "$3")
  before=$(server_ticks "$3" "$4")
  "$PAIRLINK" bench pairs --url "ws://127.0.0.1:$2" --pairs "$PAIRS" --duration "$DURATION" \
    --warmup "$WARMUP" --json >"$RESULTS/$1-pairs.json"
  after=$(server_ticks "$3" "$4")
  server_after=$(cpu_ticks "$3")
  watch_stop "$1-pairs"
  # µs per round trip: ticks / CLK_TCK over round trips of the whole run (see the header).
  jq -n --argjson ticks "$(( after - before ))" --argjson own "$(( server_after - server_before ))" \
    --argjson hz "$(getconf CLK_TCK)" --slurpfile r "$RESULTS/$1-pairs.json" '
    ($r[0].round_trips_per_s * ($r[0].warmup_s + $r[0].duration_s)) as $n
    | { cpu_s: ($ticks / $hz), process_cpu_s: ($own / $hz), round_trips_estimated: ($n | round),
        us_per_round_trip: (if $n == 0 then 0 else ($ticks / $hz * 1e6 / $n * 10 | round / 10) end),
        process_us_per_round_trip: (if $n == 0 then 0 else ($own / $hz * 1e6 / $n * 10 | round / 10) end) }' \
    >"$RESULTS/$1-cpu.json"
}

rss_kib() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }

# cpu_ticks PID [with_children]: utime+stime (fields 14-15 of /proc/PID/stat) in clock
# ticks, plus cutime+cstime (16-17) if asked. The command name (field 2) may hold
# spaces, so fields are counted after its closing parenthesis.
cpu_ticks() {
  local stat children=${2:-}
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || { echo 0; return 0; }
  stat=${stat##*) }
  # shellcheck disable=SC2086
  set -- $stat
  # Now $1 is field 3 (state): utime is ${12}, stime ${13}, cutime ${14}, cstime ${15}.
  if [ "$children" = with_children ]; then
    echo $(( ${12} + ${13} + ${14} + ${15} ))
  else
    echo $(( ${12} + ${13} ))
  fi
}

# postgres_ticks: PostgreSQL's CPU time in clock ticks, over the postmaster (the oldest
# process named postgres: the one cluster on 127.0.0.1:5432 here) and every process
# under it, alive or exited (see the header).
postgres_ticks() {
  local master total=0 pid
  master=$(pgrep -o -x postgres || true)
  [ -n "$master" ] || { echo 0; return 0; }
  for pid in $master $(pgrep -P "$master" || true); do
    total=$(( total + $(cpu_ticks "$pid" with_children) ))
  done
  echo "$total"
}

# server_ticks PID with_postgres|alone: the server's CPU time, with PostgreSQL's or not.
server_ticks() {
  local ticks
  ticks=$(cpu_ticks "$1")
  if [ "$2" = with_postgres ]; then ticks=$(( ticks + $(postgres_ticks) )); fi
  echo "$ticks"
}

# --- pairlink and the seed on the same catalogue ----------------------------------------
new_database "$QUIZZES"
say "catalogue: $QUIZZES quizzes, $ACTIONS actions in database $db"

start_pairlink "$db" "$PAIRLINK_PORT" "$RESULTS/pairlink.log"
measure pairlink "$PAIRLINK_PORT" "$server_pid" alone
stop_server

start_seed "$db" "$SEED_PORT" "$RESULTS/seed.log"
measure seed "$SEED_PORT" "$server_pid" with_postgres
stop_server

row() { # row LABEL JQ_EXPR FILE_SUFFIX
  local a b
  a=$(jq -r "$2" "$RESULTS/pairlink-$3.json")
  b=$(jq -r "$2" "$RESULTS/seed-$3.json")
  printf '%-30s %14s %14s %12s\n' "$1" "$a" "$b" \
    "$(jq -nr --argjson a "$a" --argjson b "$b" 'if $b == 0 then "-" else ($a / $b * 100 | round / 100 | tostring) end')"
}
echo
echo "pairlink vs the Go seed: $PAIRS pairs for $DURATION (after $WARMUP warm-up), closed loop;"
echo "$IDLE_PAIRS idle pairs; $QUIZZES quizzes. Both on this machine with the bench."
printf '%-30s %14s %14s %12s\n' "" pairlink seed "pairlink/seed"
row "round trips/s"                '.round_trips_per_s | round'  pairs
row "latency p50 (µs)"             '.latency_us.p50'             pairs
row "latency p99 (µs)"             '.latency_us.p99'             pairs
row "latency p99.9 (µs)"           '.latency_us.p99_9'           pairs
row "latency max (µs)"             '.latency_us.max'             pairs
row "server CPU µs/round trip"     '.us_per_round_trip'          cpu
row "  of which the server process" '.process_us_per_round_trip'  cpu
row "errors (pairs)"               '.errors_total'               pairs
row "controller retries (pairs)"   '.controller_retries'         pairs
row "idle connections opened"      '.connections_opened'         idle
row "idle connections/s"           '.connections_per_s | round'  idle
row "server RSS before idle (KiB)" '.server_rss_before_kib'      idle
row "server KiB per idle conn"     '.server_kib_per_connection * 100 | round / 100' idle
row "errors (idle)"                '.errors_total'               idle
tp=$(jq -nr --slurpfile a "$RESULTS/pairlink-pairs.json" --slurpfile b "$RESULTS/seed-pairs.json" \
  'if $b[0].round_trips_per_s == 0 then "n/a" else ($a[0].round_trips_per_s / $b[0].round_trips_per_s * 10 | round / 10 | tostring) end')
p99=$(jq -nr --slurpfile a "$RESULTS/pairlink-pairs.json" --slurpfile b "$RESULTS/seed-pairs.json" \
  'if $a[0].latency_us.p99 == 0 then "n/a" else ($b[0].latency_us.p99 / $a[0].latency_us.p99 * 10 | round / 10 | tostring) end')
echo
echo "throughput: pairlink does ${tp}x the seed's round trips per second"
echo "p99 latency: the seed's p99 is ${p99}x pairlink's"
echo "server CPU per round trip: pairlink $(jq -r .us_per_round_trip "$RESULTS/pairlink-cpu.json") µs," \
     "the seed $(jq -r .us_per_round_trip "$RESULTS/seed-cpu.json") µs with PostgreSQL" \
     "($(jq -r .process_us_per_round_trip "$RESULTS/seed-cpu.json") µs in the Go process)"
echo "idle memory: $(jq -r '.server_kib_per_connection * 100 | round / 100' "$RESULTS/pairlink-idle.json") KiB per connection for pairlink," \
     "$(jq -r '.server_kib_per_connection * 100 | round / 100' "$RESULTS/seed-idle.json") KiB for the seed"
echo "other load (% of the CPUs used by other processes): pairlink idle $(cat "$RESULTS/pairlink-idle-other-load.txt")," \
     "pairs $(cat "$RESULTS/pairlink-pairs-other-load.txt"); seed idle $(cat "$RESULTS/seed-idle-other-load.txt")," \
     "pairs $(cat "$RESULTS/seed-pairs-other-load.txt"); above 10, rerun on a quiet machine"
echo "JSON reports and server logs: $RESULTS/"

# --- optional: pairlink's throughput as the catalogue grows ------------------------------
if $sweep; then
  echo
  printf '%-10s %8s %16s %14s %8s %8s %7s %8s\n' quizzes "start s" "server RSS KiB" "round trips/s" "p50 µs" "p99 µs" errors "other %"
  for n in $SWEEP; do
    say "sweep: filling a catalogue of $n quizzes"
    new_database "$n"
    started=$EPOCHREALTIME
    start_pairlink "$db" "$PAIRLINK_PORT" "$RESULTS/pairlink-sweep-$n.log"
    ready=$(awk -v a="$started" -v b="$EPOCHREALTIME" 'BEGIN { printf "%.1f", b - a }')
    rss=$(rss_kib "$server_pid")
    watch_start "pairlink-sweep-$n"
    "$PAIRLINK" bench pairs --url "ws://127.0.0.1:$PAIRLINK_PORT" --pairs "$PAIRS" --duration "$DURATION" \
      --warmup "$WARMUP" --json >"$RESULTS/pairlink-sweep-$n.json"
    watch_stop "pairlink-sweep-$n"
    stop_server
    psql_admin -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" >/dev/null
    jq -r --arg n "$n" --arg rss "$rss" --arg ready "$ready" --arg other "$(cat "$RESULTS/pairlink-sweep-$n-other-load.txt")" \
      '[$n, $ready, $rss, (.round_trips_per_s | round), .latency_us.p50, .latency_us.p99, .errors_total, $other] | @tsv' \
      "$RESULTS/pairlink-sweep-$n.json" | awk -F'\t' '{printf "%-10s %8s %16s %14s %8s %8s %7s %8s\n", $1, $2, $3, $4, $5, $6, $7, $8}'
  done
fi
