#!/usr/bin/env bash
# The scale run: a cluster of pairlink nodes on one Redis holds 100,000 idle WebSocket
# connections (50,000 display/controller pairs, each pair split over two nodes), and
# while it holds them, cross-node round trips are measured. Prints one summary.
#
#   scripts/scale-run.sh
#
# Settings (environment): NODES (6), PAIRS (50000), BENCH_PROCS (6), LATENCY_PAIRS (50),
# RATES ("5000 10000": open-loop measurements, round trips/s), DURATION (10s), WARMUP (2s),
# CONNECT_CONCURRENCY (64, per bench process), BASE_PORT (18601), QUIZZES (500),
# ACTIONS (100), PG (postgres://postgres@127.0.0.1:5432), REDIS_URL
# (redis://127.0.0.1:6379), SEED_GO (../shared/anchors/seed-go), RESULTS
# (target/scale-run), CARGO_TARGET_DIR (target).
#
# Why several processes: each may open at most `ulimit -Hn` files, so no node and no
# bench process can hold 100,000 sockets. Bench process k opens its displays on node k
# and its controllers on node k+1, so every pair's messages cross nodes through Redis.
# For comparison, one more node without Redis then takes one bench process's share.
#
# Needs PostgreSQL (trust auth) and Redis on 127.0.0.1 (scripts/services.sh). Everything
# runs on this machine's CPUs: the nodes, the benches, Redis and PostgreSQL. The script
# changes no sysctl; it checks the ones that bound the run and says which one to raise.
# On exit it stops what it started (by PID), drops its database and deletes its Redis keys
# (a prefix of its own; the rest of the Redis is left alone).
set -euo pipefail
cd "$(dirname "$0")/.."

NODES=${NODES:-6}
PAIRS=${PAIRS:-50000}
BENCH_PROCS=${BENCH_PROCS:-6}
LATENCY_PAIRS=${LATENCY_PAIRS:-50}
RATES=${RATES:-5000 10000}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-2s}
CONNECT_CONCURRENCY=${CONNECT_CONCURRENCY:-64}
BASE_PORT=${BASE_PORT:-18601}
QUIZZES=${QUIZZES:-500}
ACTIONS=${ACTIONS:-100}
PG=${PG:-postgres://postgres@127.0.0.1:5432}
REDIS_URL=${REDIS_URL:-redis://127.0.0.1:6379}
SEED_GO=${SEED_GO:-../shared/anchors/seed-go}
RESULTS=${RESULTS:-target/scale-run}
PAIRLINK=${CARGO_TARGET_DIR:-target}/release/pairlink
PREFIX="scale-run-$$:"
DB="pairlink_scale_$$"
# Files a process needs besides its sockets (the bench reserves 64; a node has its pools).
RESERVED_FILES=100
# How long opening every pair may take before the run counts as failed.
OPEN_TIMEOUT_S=900

say() { echo "scale-run: $(date +%T) $*" >&2; }
fail() { say "FAILED: $*"; exit 1; }
psql_admin() { psql -q -X -v ON_ERROR_STOP=1 "$PG/postgres" "$@"; }
redis() { redis-cli -u "$REDIS_URL" "$@"; }

# --- clean-up: everything started or created here is stopped or removed on exit --------
node_pids=()
bench_pids=()
db_created=false
cleanup() {
  local pid
  for pid in "${bench_pids[@]}" "${node_pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${bench_pids[@]}" "${node_pids[@]}"; do wait "$pid" 2>/dev/null || true; done
  if $db_created; then psql_admin -c "DROP DATABASE IF EXISTS $DB WITH (FORCE)" >/dev/null 2>&1 || true; fi
  redis --scan --pattern "$PREFIX*" | xargs -r -n 500 redis-cli -u "$REDIS_URL" del >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- the plan: which bench process opens what on which node, and does it fit? ----------
[ "$NODES" -ge 2 ] || fail "NODES must be at least 2 (displays and controllers on different nodes)"
limit=$(ulimit -Hn)
per_proc=$(( (PAIRS + BENCH_PROCS - 1) / BENCH_PROCS ))
declare -a proc_pairs node_conns
for ((n = 0; n < NODES; n++)); do node_conns[n]=0; done
for ((k = 0; k < BENCH_PROCS; k++)); do
  left=$(( PAIRS - k * per_proc ))
  proc_pairs[k]=$(( left < per_proc ? (left > 0 ? left : 0) : per_proc ))
  d=$(( k % NODES )); c=$(( (k + 1) % NODES ))
  node_conns[d]=$(( node_conns[d] + proc_pairs[k] ))
  node_conns[c]=$(( node_conns[c] + proc_pairs[k] ))
done
node_conns[0]=$(( node_conns[0] + LATENCY_PAIRS )); node_conns[1]=$(( node_conns[1] + LATENCY_PAIRS ))
(( 2 * per_proc + 64 <= limit )) ||
  fail "$per_proc pairs per bench process need $((2 * per_proc)) sockets; the open-file limit is $limit: raise BENCH_PROCS"
for ((n = 0; n < NODES; n++)); do
  (( node_conns[n] + RESERVED_FILES <= limit )) ||
    fail "node $n would hold ${node_conns[n]} connections; the open-file limit is $limit: raise NODES"
done
read -r port_low port_high < /proc/sys/net/ipv4/ip_local_port_range
say "plan: $PAIRS pairs ($((2 * PAIRS)) connections) on $NODES nodes from $BENCH_PROCS bench processes" \
    "of up to $per_proc pairs; open-file limit $limit; ephemeral ports $port_low-$port_high per source address"
if [ -r /proc/sys/net/netfilter/nf_conntrack_max ]; then
  ct_max=$(cat /proc/sys/net/netfilter/nf_conntrack_max); ct_now=$(cat /proc/sys/net/netfilter/nf_conntrack_count)
  # Loopback connections are tracked too; a full table drops new connections silently.
  (( ct_now + 2 * PAIRS + 2000 <= ct_max )) ||
    fail "conntrack holds $ct_now of $ct_max entries, too few left for $((2 * PAIRS)) connections" \
         "(wait 2 minutes for earlier runs' entries to expire, or raise net.netfilter.nf_conntrack_max)"
fi
(( BASE_PORT + NODES < port_low )) || fail "BASE_PORT..+NODES overlaps the ephemeral port range"
for ((n = 0; n <= NODES; n++)); do
  # Taken, the node would exit while /readyz answered from whatever holds the port.
  ! (exec 3<>"/dev/tcp/127.0.0.1/$((BASE_PORT + n))") 2>/dev/null || fail "port $((BASE_PORT + n)) is taken: set BASE_PORT"
done

# --- build, database, nodes -------------------------------------------------------------
redis ping >/dev/null || fail "no Redis at $REDIS_URL"
say "building pairlink (release)"
cargo build --release --quiet
mkdir -p "$RESULTS"
rm -f "$RESULTS"/*.json "$RESULTS"/*.log

psql_admin -c "CREATE DATABASE $DB" >/dev/null
db_created=true
sh "$SEED_GO/seed-data.sh" "$DB" "$QUIZZES" "$ACTIONS" >/dev/null
# Migrate once, so that the nodes do not all start by migrating the same database.
"$PAIRLINK" migrate --database-url "$PG/$DB" >"$RESULTS/migrate.log" 2>&1 || fail "migration failed: $RESULTS/migrate.log"

port() { echo $(( BASE_PORT + $1 )); }
url() { echo "ws://127.0.0.1:$(port "$1")"; }
for ((n = 0; n < NODES; n++)); do
  RUST_LOG=pairlink=warn,pairlink::broker::redis=debug "$PAIRLINK" serve --bind "127.0.0.1:$(port "$n")" --database-url "$PG/$DB" \
    --redis-url "$REDIS_URL" --redis-prefix "$PREFIX" --heartbeat-interval 2s >"$RESULTS/node-$n.log" 2>&1 &
  node_pids[n]=$!
done
# wait_ready N: until node N answers /readyz (Redis reached, catalogue loaded).
wait_ready() {
  for _ in $(seq 1 600); do
    kill -0 "${node_pids[$1]}" 2>/dev/null || fail "node $1 exited: $RESULTS/node-$1.log"
    curl -sf --max-time 1 "http://127.0.0.1:$(port "$1")/readyz" >/dev/null 2>&1 && return 0
    sleep 0.1
  done
  fail "node $1 is not ready after 60 s: $RESULTS/node-$1.log"
}
for ((n = 0; n < NODES; n++)); do wait_ready "$n"; done
say "$NODES nodes ready on ports $(port 0)-$(port $((NODES - 1))), Redis prefix $PREFIX"

# --- measurements -----------------------------------------------------------------------
rss_kib() { awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"; }
# cpu_ticks PID...: user + system CPU of those processes still running, in clock ticks.
cpu_ticks() {
  local t=0 pid
  for pid in "$@"; do [ -r "/proc/$pid/stat" ] && t=$(( t + $(awk '{ print $14 + $15 }' "/proc/$pid/stat") )); done
  echo "$t"
}
# busy_ticks, irq_ticks: CPU time the whole machine spent busy so far, and the part of it
# in interrupts (mostly loopback TCP's softirq, charged to whichever process it
# interrupted, so also part of those processes' time), in ticks.
busy_ticks() { awk '$1 == "cpu" { print $2 + $3 + $4 + $7 + $8 + $9; exit }' /proc/stat; }
irq_ticks() { awk '$1 == "cpu" { print $7 + $8; exit }' /proc/stat; }
connections() { curl -sf --max-time 5 "http://127.0.0.1:$(port "$1")/metrics" | awk '/^pairlink_connections\{/ { s += $2 } END { print s + 0 }'; }
redis_used() { redis info memory | tr -d '\r' | awk -F: '$1 == "used_memory" { print $2 }'; }
redis_keys() { redis --scan --pattern "$PREFIX*" | wc -l; }
redis_pid=$(redis info server | tr -d '\r' | awk -F: '$1 == "process_id" { print $2 }')
[ -r "/proc/$redis_pid/stat" ] || fail "Redis (pid $redis_pid) must run on this machine: its CPU is measured"
hz=$(getconf CLK_TCK)

# cpu_start, cpu_stop NAME: the CPU seconds the nodes, Redis, the bench processes and
# everything else (other load: an outside build would make the figures low) used in
# between, and how much of it went to interrupts, to $RESULTS/NAME-cpu.json. Benches are counted while running (idle benches)
# or once finished (`bench pairs`, through /usr/bin/time).
cpu_start() {
  c_nodes=$(cpu_ticks "${node_pids[@]}"); c_redis=$(cpu_ticks "$redis_pid"); c_idle=$(cpu_ticks "${bench_pids[@]}")
  c_busy=$(busy_ticks); c_irq=$(irq_ticks); c_wall=$(date +%s.%N)
}
cpu_stop() {
  local bench=0
  [ -s "$RESULTS/$1-time.txt" ] && bench=$(awk -v hz="$hz" 'END { print int(($1 + $2) * hz) }' "$RESULTS/$1-time.txt")
  jq -n --argjson hz "$hz" --argjson nodes "$(( $(cpu_ticks "${node_pids[@]}") - c_nodes ))" \
        --argjson redis "$(( $(cpu_ticks "$redis_pid") - c_redis ))" --argjson bench "$bench" \
        --argjson idle "$(( $(cpu_ticks "${bench_pids[@]}") - c_idle ))" --argjson busy "$(( $(busy_ticks) - c_busy ))" \
        --argjson irq "$(( $(irq_ticks) - c_irq ))" \
        --argjson wall "$(awk -v a="$c_wall" -v b="$(date +%s.%N)" 'BEGIN { print b - a }')" \
    '{wall_s: $wall, nodes_cpu_s: ($nodes / $hz), redis_cpu_s: ($redis / $hz),
      bench_cpu_s: (($bench + $idle) / $hz), irq_cpu_s: ($irq / $hz),
      other_cpu_s: ([$busy - $nodes - $redis - $bench - $idle, 0] | max / $hz)}' \
    >"$RESULTS/$1-cpu.json"
}

# latency NAME ARGS...: one `bench pairs` run to $RESULTS/NAME.json, its CPU to NAME-cpu.json.
latency() {
  local name=$1; shift
  cpu_start
  /usr/bin/time -f '%U %S' -o "$RESULTS/$name-time.txt" \
    "$PAIRLINK" bench pairs --json --duration "$DURATION" --warmup "$WARMUP" "$@" \
    >"$RESULTS/$name.json" 2>"$RESULTS/$name.log" || fail "bench pairs ($name) failed: $RESULTS/$name.log"
  cpu_stop "$name"
  [ "$(jq .errors_total "$RESULTS/$name.json")" = 0 ] || say "WARNING: $name had errors: $(jq -c .errors "$RESULTS/$name.json")"
}

declare -a rss_before rss_after conns_held
for ((n = 0; n < NODES; n++)); do rss_before[n]=$(rss_kib "${node_pids[n]}"); done
redis_before=$(redis_used)

# --- hold the connections ---------------------------------------------------------------
say "opening $PAIRS idle pairs"
cpu_start
for ((k = 0; k < BENCH_PROCS; k++)); do
  (( proc_pairs[k] > 0 )) || continue
  # The hold ends when this script sends SIGTERM, after the measurements under load.
  "$PAIRLINK" bench idle --json --pairs "${proc_pairs[k]}" --hold 2h --connect-concurrency "$CONNECT_CONCURRENCY" \
    --url "$(url $((k % NODES)))" --controller-url "$(url $(((k + 1) % NODES)))" \
    >"$RESULTS/idle-$k.json" 2>"$RESULTS/idle-$k.log" &
  bench_pids[k]=$!
done
deadline=$(( $(date +%s) + OPEN_TIMEOUT_S ))
while :; do
  holding=0
  for k in "${!bench_pids[@]}"; do
    kill -0 "${bench_pids[k]}" 2>/dev/null || fail "bench idle $k exited while opening: $RESULTS/idle-$k.log"
    grep -qs "all pairs opened" "$RESULTS/idle-$k.log" && holding=$(( holding + 1 ))
  done
  (( holding == ${#bench_pids[@]} )) && break
  (( $(date +%s) < deadline )) || fail "not every bench had opened its pairs after $OPEN_TIMEOUT_S s"
  sleep 0.2
done
cpu_stop opening
sleep 1 # the nodes set up the last connections' tasks after the handshake
held=0
for ((n = 0; n < NODES; n++)); do
  rss_after[n]=$(rss_kib "${node_pids[n]}")
  conns_held[n]=$(connections "$n")
  held=$(( held + conns_held[n] ))
done
redis_after=$(redis_used)
keys_held=$(redis_keys)
say "holding $held connections"

# --- round trips under load -------------------------------------------------------------
say "measuring cross-node round trips while they are held"
cpu_start; sleep 10; cpu_stop holding # what holding alone costs (pings and heartbeats)
latency loaded-closed --pairs "$LATENCY_PAIRS" --url "$(url 0)" --controller-url "$(url 1)"
for rate in $RATES; do
  latency "loaded-open-$rate" --pairs "$((2 * LATENCY_PAIRS))" --rate "$rate" --url "$(url 0)" --controller-url "$(url 1)"
done
# Still held? Connections dropped meanwhile would make the figures moot.
still=0; for ((n = 0; n < NODES; n++)); do still=$(( still + $(connections "$n") )); done
ready_nodes=0
for ((n = 0; n < NODES; n++)); do
  curl -sf --max-time 1 "http://127.0.0.1:$(port "$n")/readyz" >/dev/null 2>&1 && ready_nodes=$(( ready_nodes + 1 ))
done

say "closing them"
cpu_start
c_idle=0 # the idle benches' CPU is lost once they exit: it shows as other load here
for k in "${!bench_pids[@]}"; do kill -TERM "${bench_pids[k]}"; done
for k in "${!bench_pids[@]}"; do
  wait "${bench_pids[k]}" || fail "bench idle $k failed: $RESULTS/idle-$k.log"
done
bench_pids=()
cpu_stop closing
for k in "${!proc_pairs[@]}"; do
  [ -s "$RESULTS/idle-$k.json" ] || continue
  [ "$(jq .errors_total "$RESULTS/idle-$k.json")" = 0 ] || say "WARNING: bench idle $k had errors: $(jq -c .errors "$RESULTS/idle-$k.json")"
done
# The nodes release the addresses in Redis after the sockets close: until only the node
# registry and one alive key per node are left, or 30 s have passed.
released_after=""
for i in $(seq 0 60); do
  keys_after_close=$(redis_keys)
  (( keys_after_close <= NODES + 1 )) && { released_after=$(awk -v i="$i" 'BEGIN { print i / 2 }'); break; }
  sleep 0.5
done
if [ -z "$released_after" ]; then
  redis --scan --pattern "$PREFIX*" | sort >"$RESULTS/keys-after-close.txt"
  say "WARNING: $keys_after_close Redis keys left 30 s after every connection closed: $RESULTS/keys-after-close.txt"
fi
for ((n = 0; n < NODES; n++)); do wait_ready "$n"; done

# --- the same without load, and one node without Redis ----------------------------------
say "measuring round trips without load (same node, then across nodes)"
latency quiet-same-1 --pairs 1 --url "$(url 0)"
latency quiet-cross-1 --pairs 1 --url "$(url 0)" --controller-url "$(url 1)"
latency quiet-same --pairs "$LATENCY_PAIRS" --url "$(url 0)"
latency quiet-cross --pairs "$LATENCY_PAIRS" --url "$(url 0)" --controller-url "$(url 1)"

say "one node without Redis, for comparison"
RUST_LOG=pairlink=warn "$PAIRLINK" serve --bind "127.0.0.1:$(port "$NODES")" --database-url "$PG/$DB" \
  >"$RESULTS/node-$NODES.log" 2>&1 &
node_pids[NODES]=$!
wait_ready "$NODES"
"$PAIRLINK" bench idle --json --pairs "${proc_pairs[0]}" --hold 2s --connect-concurrency "$CONNECT_CONCURRENCY" \
  --url "$(url "$NODES")" --pid "${node_pids[NODES]}" >"$RESULTS/single-idle.json" 2>"$RESULTS/single-idle.log" ||
  fail "bench idle on one node failed: $RESULTS/single-idle.log"
latency single-1 --pairs 1 --url "$(url "$NODES")"
latency single --pairs "$LATENCY_PAIRS" --url "$(url "$NODES")"

# --- summary ----------------------------------------------------------------------------
cpu() { jq -r "$2" "$RESULTS/$1-cpu.json"; }
{
  echo "scale run: $NODES nodes, $BENCH_PROCS bench processes, $(date -u +%FT%TZ), commit $(git rev-parse --short HEAD)"
  idle=$(jq -s '{connections: (map(.connections_opened) | add), dropped: (map(.pairs_dropped) | add),
                 errors: (map(.errors_total) | add), retries: (map(.controller_retries) | add),
                 open_s: (map(.open_s) | max)}' "$RESULTS"/idle-[0-9]*.json)
  echo "connections held   $held on the nodes ($(jq .connections <<<"$idle") opened by the benches," \
       "$(jq .dropped <<<"$idle") pairs dropped, $(jq .errors <<<"$idle") errors);" \
       "$still still held after the measurements; $ready_nodes of $NODES nodes ready then"
  echo "opening            $(jq '.open_s * 10 | round / 10' <<<"$idle") s for the slowest bench;" \
       "$(jq -r --argjson c "$held" '($c / .open_s) | round' <<<"$idle") connections/s over all;" \
       "$(jq .retries <<<"$idle") controllers retried;" \
       "CPU s: nodes $(cpu opening .nodes_cpu_s), redis $(cpu opening .redis_cpu_s), benches $(cpu opening .bench_cpu_s)"
  total_growth=0
  for ((n = 0; n < NODES; n++)); do
    growth=$(( rss_after[n] - rss_before[n] )); total_growth=$(( total_growth + growth ))
    printf 'node %-2d            %6d connections  RSS %6d -> %7d KiB  %.2f KiB per connection\n' \
      "$n" "${conns_held[n]}" "${rss_before[n]}" "${rss_after[n]}" "$(awk -v g="$growth" -v c="${conns_held[n]}" 'BEGIN { print (c ? g / c : 0) }')"
  done
  printf 'all nodes          %.2f KiB per connection (RSS growth %d KiB)\n' \
    "$(awk -v g="$total_growth" -v c="$held" 'BEGIN { print g / c }')" "$total_growth"
  jq -r '"one node, no Redis \(.connections_opened) connections  RSS \(.server_rss_before_kib) -> \(.server_rss_after_kib) KiB  \(.server_kib_per_connection * 100 | round / 100) KiB per connection"' \
    "$RESULTS/single-idle.json"
  printf 'redis              used_memory %d -> %d bytes (%.0f bytes per connection); %d keys under %s, %d after closing (within %s s)\n' \
    "$redis_before" "$redis_after" "$(awk -v a="$redis_after" -v b="$redis_before" -v c="$held" 'BEGIN { print (a - b) / c }')" \
    "$keys_held" "$PREFIX" "$keys_after_close" "${released_after:-"> 30"}"
  echo "holding (10 s)     CPU s: nodes $(cpu holding .nodes_cpu_s), redis $(cpu holding .redis_cpu_s), benches $(cpu holding .bench_cpu_s)"
  echo "closing            $(cpu closing '.wall_s * 10 | round / 10') s; CPU s: nodes $(cpu closing .nodes_cpu_s), redis $(cpu closing .redis_cpu_s)"
  for name in loaded-closed $(printf 'loaded-open-%s ' $RATES) quiet-same-1 quiet-cross-1 quiet-same quiet-cross single-1 single; do
    jq -r --arg name "$name" --slurpfile cpu "$RESULTS/$name-cpu.json" \
      '"\($name | . + " " * ([18 - length, 1] | max)) \(.pairs_connected) pairs \(.pacing)\(if .target_rate then " at \(.target_rate)/s" else "" end):" +
       " \(.round_trips_per_s | round)/s, p50 \(.latency_us.p50) p90 \(.latency_us.p90) p99 \(.latency_us.p99) max \(.latency_us.max) µs," +
       " errors \(.errors_total); CPU s: nodes \($cpu[0].nodes_cpu_s) redis \($cpu[0].redis_cpu_s) bench \($cpu[0].bench_cpu_s) other \($cpu[0].other_cpu_s) (interrupts \($cpu[0].irq_cpu_s))"' \
      "$RESULTS/$name.json"
  done
} | tee "$RESULTS/summary.txt"
grep -h "Redis is unreachable" "$RESULTS"/node-*.log >&2 && say "WARNING: a node lost Redis during the run (see above)"
(( held >= 2 * PAIRS )) || fail "held $held connections, fewer than the $((2 * PAIRS)) asked for"
(( still >= 2 * PAIRS )) || fail "only $still connections were still held after the measurements"
say "done: $RESULTS/summary.txt"
