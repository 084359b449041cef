#!/usr/bin/env bash
# cluster_bench.sh [BUILD_DIR]: durable webhook ingestion on one PostgreSQL log shared by 1, 2 and 3 voxlogd
# nodes, beside one voxlogd on LMDB (the baseline), all in one run. Builds nothing: takes voxlogd, voxlog and
# webhook_gen from BUILD_DIR (default: build-bench, then build).
#
# What it measures, per configuration (LMDB x 1 node, then PostgreSQL x each count in $NODES):
#   - one wrk -t1 per node (webhook_post.lua), $CONNS connections in all, split evenly over the nodes, for
#     $DURATION s; each wrk replays its own file of pre-signed Twilio status callbacks (webhook_gen; every
#     request a new fact, signed for the nodes' shared PUBLIC_URL), so the load is spread evenly and no call
#     is on two nodes;
#   - total webhooks/s (the sum of the wrk's), p50/p99 of all requests (the wrk's latency distributions
#     pooled, weighted by their request counts), max, non-2xx;
#   - CPU-seconds during the measurement (from /proc/<pid>/stat: each process with all its threads, its
#     reaped children and its live descendants) of the voxlogd processes, of the PostgreSQL processes (both
#     postmasters, the primary's and the standby's, and all their children), of the wrk clients, and of
#     everything else on the machine ("foreign"); CPU per accepted webhook in microseconds;
#   - on PostgreSQL: write transactions (voxlogd's voxlog_commits_total, summed over the nodes), the
#     database's transactions (pg_stat_database.xact_commit of the voxlog database), and statements and round
#     trips per commit from pg_stat_statements (loaded into the primary for the run; PG_STAT_STATEMENTS=0
#     leaves it out), by kind: the writer's (log_head lock, lookup, write, COMMIT), the followers' reads of
#     the log's tail, and the rest. "BEGIN; SELECT ... FOR UPDATE" is one string, one round trip
#     (eventstore/pg_writer.cpp), so round trips = statements - BEGINs. Without pg_stat_statements, round
#     trips are estimated as 4 per voxlogd commit plus one per other database transaction (high by up to one
#     per node per commit: a LISTENing session reads each NOTIFY in a transaction of its own).
#   - then the checks: the log's last seq grew by exactly 2 events per accepted webhook (WebhookReceived +
#     CallStatusChanged), every node's /healthz lastSeq caught up with it, no duplicates, no non-2xx, no
#     request file replayed twice, and `voxlog verify` passes on the log (LOG_URL set on PostgreSQL).
#   - ratios of each configuration against the LMDB baseline.
#
# Each PostgreSQL configuration gets a fresh cluster from tools/cluster/pg-cluster (a primary and a
# synchronous standby, fsync and synchronous_commit on) in the run's temporary directory, run as the user
# postgres when the script runs as root. The database password is never printed (URLs show ***); a Twilio
# auth token is made up for the run and never printed. Before each measurement the script waits up to
# $GATE_SECONDS for other processes to use less than $GATE_PCT% of one core, and says if they did not.
#
# Knobs (environment, defaults): DURATION=10 (seconds per configuration) CONNS=64 NODES="1 2 3"
# CALLS=$((15000 * DURATION)) (calls in the LMDB request file, 4 requests each)
# NODE_CALLS=$((3000 * DURATION)) (calls in each PostgreSQL node's file) BLOCK=250 (webhook_gen's block: a
# block's calls get their 4 callbacks in turn, so about one webhook in 4 is a call's first, which makes
# voxlogd read the call's stream, in every configuration alike) PG_PORT=45433 (and the next)
# PG_BIN (default: the newest /usr/lib/postgresql/*/bin) PG_STAT_STATEMENTS=1 SETTLE=2 (seconds after wrk
# stops before the counters are read: requests in flight commit, PostgreSQL flushes its statistics)
# GATE_SECONDS=20 GATE_PCT=25.
#
# Output: a header (date, vCPUs, load, binaries), one table row per configuration, the round trips of each
# PostgreSQL configuration, one check line per configuration (OK or FAILED), the ratios against LMDB, then
# the raw key=value lines (one per configuration, one per wrk). Exit status 1 if a check failed.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR="$ROOT/tools/bench"
BENCH_NAME=cluster_bench
# shellcheck source=tools/bench/bench_lib.sh
source "$BENCH_DIR/bench_lib.sh"
DURATION=${DURATION:-10} CONNS=${CONNS:-64} NODES=${NODES:-"1 2 3"}
CALLS=${CALLS:-$((15000 * DURATION))} NODE_CALLS=${NODE_CALLS:-$((3000 * DURATION))} BLOCK=${BLOCK:-250}
PG_PORT=${PG_PORT:-45433} PG_STAT_STATEMENTS=${PG_STAT_STATEMENTS:-1} SETTLE=${SETTLE:-2}
GATE_SECONDS=${GATE_SECONDS:-20} GATE_PCT=${GATE_PCT:-25}
PG_BIN=${PG_BIN:-$(printf '%s\n' /usr/lib/postgresql/*/bin | sort -V | tail -n 1)}
PUBLIC_URL=https://voxlog.example.com
WEBHOOK_PATH=/api/calls/webhooks/status
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

die() { echo "$BENCH_NAME: $*" >&2; exit 2; }
BUILD=$(find_build "${1:-}" tools/voxlogd/voxlogd tools/voxlog/voxlog tools/bench/webhook_gen) ||
  die "no build with voxlogd, voxlog and webhook_gen; build those targets first"
BUILD=$(cd "$BUILD" && pwd)
VOXLOGD="$BUILD/tools/voxlogd/voxlogd"
VOXLOG="$BUILD/tools/voxlog/voxlog"
GEN="$BUILD/tools/bench/webhook_gen"
command -v wrk >/dev/null || die "wrk is not installed (apt-get install wrk)"
[[ -x "$PG_BIN/initdb" ]] || die "no PostgreSQL server binaries in '$PG_BIN': apt-get install postgresql-15 (or set PG_BIN)"
for n in $NODES; do [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "NODES must be node counts, e.g. \"1 2 3\""; done
MAX_NODES=$(tr ' ' '\n' <<<"$NODES" | sort -n | tail -n 1)
(( CONNS >= MAX_NODES )) || die "CONNS must be at least the largest node count"

# PostgreSQL refuses to run as root: the clusters then belong to postgres.
if [[ $(id -u) -eq 0 ]]; then
  id postgres >/dev/null 2>&1 || die "running as root needs the user postgres (PostgreSQL refuses root)"
  as_pg() { runuser -u postgres -- "$@"; }
else
  as_pg() { "$@"; }
fi

WORK=$(mktemp -d /tmp/cluster_bench.XXXXXX)
chmod 711 "$WORK"  # postgres must reach its cluster directory inside
STARTED=()         # voxlogd pids
WRK_PIDS=()        # the running measurement's wrk pids
CLUSTERS=()        # pg-cluster directories
# shellcheck disable=SC2317  # run by the trap
cleanup() {
  for pid in "${WRK_PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${STARTED[@]}"; do kill -0 "$pid" 2>/dev/null && stop_server "$pid"; done
  for dir in "${CLUSTERS[@]}"; do as_pg env PG_BIN="$PG_BIN" "$ROOT/tools/cluster/pg-cluster" stop "$dir" >/dev/null 2>&1 || true; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A made-up account for this run: the token signs the requests and verifies them, and is never printed.
TWILIO_AUTH_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')
export TWILIO_AUTH_TOKEN
unset LOG_URL

# --- PostgreSQL ------------------------------------------------------------------------------------------------
pg_cluster() { as_pg env PORT="$PG_PORT" PG_BIN="$PG_BIN" "$ROOT/tools/cluster/pg-cluster" "$@"; }
psql_pg() {  # DB SQL: as the cluster's superuser, over its private socket; unaligned, tuples only
  as_pg "$PG_BIN/psql" -X -q -At -F ' ' -v ON_ERROR_STOP=1 -h "$PGDIR/run" -p "$PG_PORT" -d "$1" -c "$2"
}
postmasters() { head -n 1 "$PGDIR/node1/postmaster.pid" "$PGDIR/node2/postmaster.pid" 2>/dev/null | grep -E '^[0-9]+$'; }
# new_cluster N: a fresh primary + synchronous standby in $WORK/cluster-N; sets PGDIR and PG_URL (not printed).
new_cluster() {
  PGDIR="$WORK/cluster-$1"
  mkdir "$PGDIR"
  [[ $(id -u) -ne 0 ]] || chown postgres "$PGDIR"
  CLUSTERS+=("$PGDIR")
  pg_cluster start "$PGDIR" >"$PGDIR.start.log" 2>&1 || { redact <"$PGDIR.start.log" >&2; die "pg-cluster start failed"; }
  PGSS=0
  if [[ "$PG_STAT_STATEMENTS" == 1 &&
        $(psql_pg postgres "SELECT count(*) FROM pg_available_extensions WHERE name = 'pg_stat_statements'") == 1 ]]; then
    psql_pg postgres "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
    as_pg "$PG_BIN/pg_ctl" -D "$PGDIR/node1" -l "$PGDIR/logs/node1.log" -m fast -w restart >/dev/null
    psql_pg postgres "CREATE EXTENSION pg_stat_statements"  # its view shows every database's statements
    PGSS=1
  fi
  local state=""
  for _ in $(seq 60); do
    state=$(psql_pg postgres "SELECT sync_state FROM pg_stat_replication WHERE application_name = 'node2'" || true)
    [[ "$state" == sync ]] && break
    sleep 0.5
  done
  [[ "$state" == sync ]] || die "the standby of $PGDIR is not synchronous ('$state')"
  PG_URL=$(pg_cluster url "$PGDIR")
}
stop_cluster() { pg_cluster stop "$PGDIR" >/dev/null; }
pg_head() { psql_pg voxlog "SELECT last_seq FROM voxlog.log_head"; }
pg_xact() { psql_pg postgres "SELECT xact_commit FROM pg_stat_database WHERE datname = 'voxlog'"; }
# The statements the nodes ran since the reset, by kind: total begin lock lookup write commit rollback follow.
pg_statements() {
  psql_pg postgres "SELECT coalesce(sum(calls), 0),
      coalesce(sum(calls) FILTER (WHERE k = 'begin'), 0), coalesce(sum(calls) FILTER (WHERE k = 'lock'), 0),
      coalesce(sum(calls) FILTER (WHERE k = 'lookup'), 0), coalesce(sum(calls) FILTER (WHERE k = 'write'), 0),
      coalesce(sum(calls) FILTER (WHERE k = 'commit'), 0), coalesce(sum(calls) FILTER (WHERE k = 'rollback'), 0),
      coalesce(sum(calls) FILTER (WHERE k = 'follow'), 0)
    FROM (SELECT calls, CASE
        WHEN query ~* '^\s*begin\s*$' THEN 'begin'
        WHEN query ~ 'FROM voxlog.log_head FOR UPDATE' THEN 'lock'
        WHEN query ~ 'FROM voxlog.dedupe WHERE key = ANY' THEN 'lookup'
        WHEN query ~ 'INSERT INTO voxlog.events' THEN 'write'
        WHEN query ~* '^\s*commit\s*$' THEN 'commit'
        WHEN query ~* '^\s*rollback\s*$' THEN 'rollback'
        WHEN query ~ 'FROM voxlog.events WHERE seq >' THEN 'follow'
        ELSE 'other' END AS k
      FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'voxlog')) s"
}
# The other statements (kind "other") with their calls, most called first: into the raw output.
pg_other_statements() {
  psql_pg postgres "SELECT calls, regexp_replace(left(query, 90), '\s+', ' ', 'g') FROM pg_stat_statements
    WHERE dbid = (SELECT oid FROM pg_database WHERE datname = 'voxlog')
      AND query !~* '^\s*(begin|commit|rollback)\s*$' AND query !~ 'log_head FOR UPDATE'
      AND query !~ 'voxlog.dedupe WHERE key = ANY' AND query !~ 'INSERT INTO voxlog.events'
      AND query !~ 'FROM voxlog.events WHERE seq >'
    ORDER BY calls DESC LIMIT 8"
}

# --- one configuration -------------------------------------------------------------------------------------
# run_config NAME BACKEND N: N voxlogd nodes on BACKEND (lmdb: one node on its DATA_DIR; pg: a fresh cluster),
# one wrk per node; appends a line to $WORK/results.
run_config() {
  local name=$1 backend=$2 n=$3 i pids=() ports=() files=() conns
  local acc0=0 com0=0 ev0=0 cs0=0 head0 xact0=0 v0 p0 m0 v1 p1 m1 head1 xact1=0
  if [[ $backend == pg ]]; then
    new_cluster "$n"
    export LOG_URL=$PG_URL
    for ((i = 1; i <= n; i++)); do start_voxlogd "$WORK/$name/node$i"; pids+=("$VOX_PID"); ports+=("$VOX_PORT"); done
    unset LOG_URL
    files=("${PG_FILES[@]:0:n}")
    head0=$(pg_head)
  else
    start_voxlogd "$WORK/$name/node1"; pids=("$VOX_PID"); ports=("$VOX_PORT")
    files=("$WORK/requests-lmdb.txt")
    head0=$(last_seq "${ports[0]}")
  fi
  local pg_pids=()
  [[ $backend == pg ]] && mapfile -t pg_pids < <(postmasters)

  gate "${pids[@]}" "${pg_pids[@]}"
  for port in "${ports[@]}"; do
    acc0=$((acc0 + $(metric "$port" 'voxlog_webhooks_total{route="status",result="accepted"}')))
    com0=$((com0 + $(metric "$port" voxlog_commits_total))); ev0=$((ev0 + $(metric "$port" voxlog_events_appended_total)))
    cs0=$(awk -v a="$cs0" -v b="$(metric "$port" voxlog_commit_seconds_sum)" 'BEGIN { print a + b }')
  done
  if [[ $backend == pg ]]; then
    if [[ $PGSS == 1 ]]; then psql_pg postgres "SELECT pg_stat_statements_reset()" >/dev/null; fi
    xact0=$(pg_xact)
  fi

  # The measurement: one wrk per node, at once.
  v0=$(proc_busy "${pids[@]}"); p0=$(proc_busy "${pg_pids[@]}"); m0=$(machine_busy)
  times >"$WORK/times0"
  WRK_PIDS=()
  for ((i = 0; i < n; i++)); do
    conns=$((CONNS / n + (i < CONNS % n ? 1 : 0)))
    WEBHOOK_REQUESTS="${files[i]}" WEBHOOK_PATH="$WEBHOOK_PATH" WEBHOOK_LATENCY_OUT="$WORK/$name/lat$i" \
      wrk -t1 -c"$conns" -d"${DURATION}s" --timeout 5s -s "$BENCH_DIR/webhook_post.lua" "http://127.0.0.1:${ports[i]}" \
      >"$WORK/$name/wrk$i.out" 2>&1 &
    WRK_PIDS+=($!)
  done
  for pid in "${WRK_PIDS[@]}"; do wait "$pid" || true; done
  WRK_PIDS=()
  times >"$WORK/times1"
  m1=$(machine_busy); v1=$(proc_busy "${pids[@]}"); p1=$(proc_busy "${pg_pids[@]}")

  # Requests in flight when wrk stopped commit; PostgreSQL flushes its statistics.
  sleep "$SETTLE"
  local requests=0 rps=0 non2xx=0 wrapped=0 errors=0 max=0 line acc=0 com=0 ev=0 cs=0 dup=0 seq_behind=""
  for ((i = 0; i < n; i++)); do
    line=$(grep '^WRK ' "$WORK/$name/wrk$i.out" || true)
    [[ -n "$line" ]] || { echo "$BENCH_NAME: wrk against node $((i + 1)) failed:" >&2; cat "$WORK/$name/wrk$i.out" >&2; exit 1; }
    echo "config=$name node=$((i + 1)) conns=$((CONNS / n + (i < CONNS % n ? 1 : 0))) ${line#WRK }" >>"$WORK/raw"
    requests=$((requests + $(field requests "$line"))); non2xx=$((non2xx + $(field non2xx "$line")))
    rps=$(awk -v a="$rps" -v b="$(field rps "$line")" 'BEGIN { print a + b }')
    wrapped=$((wrapped + $(field wrapped "$line")))
    errors=$((errors + $(field connect_errors "$line") + $(field read_errors "$line") + $(field write_errors "$line") + $(field timeouts "$line")))
    max=$(awk -v a="$max" -v b="$(field max_ms "$line")" 'BEGIN { print (b > a ? b : a) }')
  done
  for port in "${ports[@]}"; do
    acc=$((acc + $(metric "$port" 'voxlog_webhooks_total{route="status",result="accepted"}')))
    dup=$((dup + $(metric "$port" 'voxlog_webhooks_total{route="status",result="duplicate"}')))
    com=$((com + $(metric "$port" voxlog_commits_total))); ev=$((ev + $(metric "$port" voxlog_events_appended_total)))
    cs=$(awk -v a="$cs" -v b="$(metric "$port" voxlog_commit_seconds_sum)" 'BEGIN { print a + b }')
  done
  acc=$((acc - acc0)); com=$((com - com0)); ev=$((ev - ev0))
  local commit_ms
  commit_ms=$(awk -v s="$cs" -v s0="$cs0" -v c="$com" 'BEGIN { if (c > 0) printf "%.2f", (s - s0) * 1000 / c; else printf "-" }')
  if [[ $backend == pg ]]; then head1=$(pg_head); else head1=$(last_seq "${ports[0]}"); fi
  # Every node has followed the log to its end (each follows the others' commits).
  for port in "${ports[@]}"; do
    local s=""
    for _ in $(seq 50); do s=$(last_seq "$port"); [[ "$s" == "$head1" ]] && break; sleep 0.2; done
    [[ "$s" == "$head1" ]] || seq_behind+="${port}@${s},"
  done
  # Pooled percentiles: each wrk's quantile samples weighted by its requests, sorted; the first sample whose
  # share's middle reaches 50% (99%) of all requests.
  local p50p99
  p50p99=$(for ((i = 0; i < n; i++)); do
             awk -v r="$(field requests "$(grep '^WRK ' "$WORK/$name/wrk$i.out")")" '{ print $1 * r, $2 }' "$WORK/$name/lat$i"
           done | sort -k2,2g | awk '{ w[NR] = $1; l[NR] = $2; t += $1 }
             END { for (i = 1; i <= NR; i++) { m = c + w[i] / 2; c += w[i]; if (!a && m >= 0.5 * t) a = l[i]; if (!b && m >= 0.99 * t) b = l[i] }
                   print a, b }')
  for pid in "${pids[@]}"; do stop_server "$pid"; done

  # PostgreSQL's statistics, once the nodes' sessions have ended: a busy backend flushes its transaction
  # counts at most once a second, and may put it off for 10 s; an ending one flushes them all.
  local stmts="" others="" verify
  if [[ $backend == pg ]]; then
    [[ $PGSS == 1 ]] && { stmts=$(pg_statements); others=$(pg_other_statements); }
    xact1=$(pg_xact)
  fi
  if [[ $backend == pg ]]; then
    verify=$(LOG_URL=$PG_URL "$VOXLOG" verify 2>&1 | redact | tr '\n' ' ' || true)
    stop_cluster
  else
    verify=$(DATA_DIR="$WORK/$name/node1" "$VOXLOG" verify 2>&1 | tr '\n' ' ' || true)
  fi
  verify=${verify% }
  local ok=OK
  [[ $((head1 - head0)) -eq $((2 * acc)) && $acc -ge $requests && $((acc - requests)) -le $CONNS && $dup -eq 0 &&
     $non2xx -eq 0 && $wrapped -eq 0 && -z "$seq_behind" && $verify == ok:* ]] || ok=FAILED
  # CPU of the wrk processes (reaped children of this shell) and of everything else.
  local wrk_cpu
  wrk_cpu=$(children_cpu_between "$WORK/times0" "$WORK/times1")
  {
    printf 'config=%s backend=%s nodes=%s rps=%.0f requests=%s p50_ms=%s p99_ms=%s max_ms=%s non2xx=%s socket_errors=%s' \
      "$name" "$backend" "$n" "$rps" "$requests" "${p50p99% *}" "${p50p99#* }" "$max" "$non2xx" "$errors"
    printf ' wrapped=%s accepted=%s seq_delta=%s duplicates=%s behind=%s commits=%s events=%s commit_ms=%s' \
      "$wrapped" "$acc" "$((head1 - head0))" "$dup" "${seq_behind:-none}" "$com" "$ev" "$commit_ms"
    printf ' vox_cpu=%s pg_cpu=%s wrk_cpu=%s foreign_cpu=%s xact=%s' "$(jiffies_s $((v1 - v0)))" \
      "$(jiffies_s $((p1 - p0)))" "$wrk_cpu" \
      "$(foreign_s $((m1 - m0)) $((v1 - v0 + p1 - p0)) "$wrk_cpu")" \
      "$((xact1 - xact0))"
    if [[ -n "$stmts" ]]; then
      read -r s_total s_begin s_lock s_lookup s_write s_commit s_rollback s_follow <<<"$stmts"
      printf ' stmts=%s begin=%s lock=%s lookup=%s write=%s commit=%s rollback=%s follow=%s' "$s_total" "$s_begin" \
        "$s_lock" "$s_lookup" "$s_write" "$s_commit" "$s_rollback" "$s_follow"
    fi
    printf ' check=%s gate=%s verify=%s\n' "$ok" "${GATE_NOTE// /_}" "${verify// /_}"
  } >>"$WORK/results"
  if [[ -n "$others" ]]; then
    while IFS= read -r line; do echo "config=$name other_statement calls=$line"; done <<<"$others" >>"$WORK/raw"
  fi
}

# --- the run -------------------------------------------------------------------------------------------------
mkdir -p "$WORK/lmdb-1"
GEN_OUT=$("$GEN" "$WORK/requests-lmdb.txt" "$PUBLIC_URL$WEBHOOK_PATH" "$CALLS" "$BLOCK")
BODY_BYTES=$(field mean_body_bytes "$GEN_OUT")
PG_FILES=()
for ((i = 1; i <= MAX_NODES; i++)); do
  "$GEN" "$WORK/requests-pg$i.txt" "$PUBLIC_URL$WEBHOOK_PATH" "$NODE_CALLS" "$BLOCK" >/dev/null
  PG_FILES+=("$WORK/requests-pg$i.txt")
done
sync  # the request files' dirty pages must not be written back during a measurement (server_bench.sh)
START=$(date -u +%Y-%m-%dT%H:%MZ)
run_config lmdb-1 lmdb 1
for n in $NODES; do mkdir -p "$WORK/pg-$n"; run_config "pg-$n" pg "$n"; done

# --- report --------------------------------------------------------------------------------------------------
get() { field "$2" "$(grep "^config=$1 " "$WORK/results")"; }  # get CONFIG KEY
per() { awk -v a="$1" -v b="$2" -v m="${3:-1}" -v f="${4:-%.2f}" 'BEGIN { if (b > 0) printf f, a * m / b; else printf "-" }'; }
echo
echo "== voxlogd on LMDB and on one PostgreSQL log: $START, $(nproc) vCPU, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   binaries: $BUILD; PostgreSQL: $("$PG_BIN/postgres" --version), a primary + a synchronous standby on"
echo "   this machine (tools/cluster/pg-cluster), a fresh cluster per configuration. lmdb-1: one voxlogd on LMDB;"
echo "   pg-N: N voxlogd nodes on the PostgreSQL log."
echo "   Load: one wrk 4.1 -t1 per node (webhook_post.lua), $CONNS connections in all split over the nodes, ${DURATION}s;"
echo "   signed form-encoded Twilio status callbacks, mean body $BODY_BYTES B, each a new fact, a file of its own per"
echo "   node. p50/p99: all requests, the wrk's distributions pooled. CPU in seconds over the measurement; us/wh ="
echo "   CPU microseconds per accepted webhook (v: voxlogd, p: PostgreSQL); foreign = other processes on the machine;"
echo "   ev/com: events per commit; commit_ms: a node's mean time from taking a batch to its durable commit"
echo "   (voxlog_commit_seconds), on PostgreSQL including the wait for the log_head lock."
printf '   %-12s %5s %10s %7s %7s %7s %6s %7s %6s %6s %7s %7s %6s %6s %7s %8s %9s\n' config nodes webhooks/s p50_ms \
  p99_ms max_ms non2xx vox_cpu pg_cpu wrk_cpu foreign us/wh_v us/wh_p us/wh ev/com commits commit_ms
while read -r line; do
  c=$(field config "$line"); acc=$(field accepted "$line")
  vc=$(field vox_cpu "$line"); pc=$(field pg_cpu "$line")
  printf '   %-12s %5s %10s %7s %7s %7s %6s %7s %6s %6s %7s %7s %6s %6s %7s %8s %9s\n' "$c" "$(field nodes "$line")" \
    "$(field rps "$line")" "$(field p50_ms "$line")" "$(field p99_ms "$line")" "$(field max_ms "$line")" \
    "$(field non2xx "$line")" "$vc" "$pc" "$(field wrk_cpu "$line")" "$(field foreign_cpu "$line")" \
    "$(per "$vc" "$acc" 1e6 %.0f)" "$(per "$pc" "$acc" 1e6 %.0f)" "$(per "$(awk -v a="$vc" -v b="$pc" 'BEGIN { print a + b }')" "$acc" 1e6 %.0f)" \
    "$(per "$(field events "$line")" "$(field commits "$line")" 1 %.1f)" "$(field commits "$line")" "$(field commit_ms "$line")"
done <"$WORK/results"
echo
echo "   Database round trips per voxlogd commit (commits: voxlog_commits_total summed over the nodes)."
echo "   pg_stat_statements: statements the nodes ran in the voxlog database from just before the measurement to"
echo "   their stop ${SETTLE}s after it; round trips = statements - BEGINs (each BEGIN is sent with the log_head lock in one"
echo "   string). writer = lock + lookup + write + COMMIT; follow = the nodes' reads of the log's tail; other ="
echo "   the rest (listed in the raw lines). estimate = 4 per commit + 1 per other transaction, from"
echo "   pg_stat_database.xact_commit (every transaction, the writer's and the one-statement others). It runs high:"
echo "   xact_commit also counts the transaction in which an idle LISTENing session reads a NOTIFY, up to one per"
echo "   node per commit, which is no round trip."
printf '   %-12s %8s %8s %9s %8s %8s %8s %8s %9s\n' config commits xact/com stmts/com rt/com writer follow other estimate
while read -r line; do
  [[ $(field backend "$line") == pg ]] || continue
  com=$(field commits "$line"); xact=$(field xact "$line")
  est=$(awk -v c="$com" -v x="$xact" 'BEGIN { if (c > 0) printf "%.2f", (4 * c + (x - c)) / c; else printf "-" }')
  if [[ -n "$(field stmts "$line")" ]]; then
    st=$(field stmts "$line"); bg=$(field begin "$line")
    wr=$(( $(field lock "$line") + $(field lookup "$line") + $(field write "$line") + $(field commit "$line") ))
    fo=$(field follow "$line")
    printf '   %-12s %8s %8s %9s %8s %8s %8s %8s %9s\n' "$(field config "$line")" "$com" "$(per "$xact" "$com")" \
      "$(per "$st" "$com")" "$(per $((st - bg)) "$com")" "$(per "$wr" "$com")" "$(per "$fo" "$com")" \
      "$(per $((st - bg - wr - fo)) "$com")" "$est"
  else
    printf '   %-12s %8s %8s %9s %8s %8s %8s %8s %9s\n' "$(field config "$line")" "$com" "$(per "$xact" "$com")" \
      - - - - - "$est"
  fi
done <"$WORK/results"
echo
FAILED=0
while read -r line; do
  c=$(field config "$line"); acc=$(field accepted "$line"); n=$(field requests "$line")
  [[ $(field check "$line") == OK ]] || FAILED=1
  echo "   check $c: $(field check "$line"): wrk got $n answers ($(field non2xx "$line") non-2xx," \
       "$(field socket_errors "$line") socket errors, file replayed: $(field wrapped "$line")); $acc webhooks accepted" \
       "($((acc - n)) in flight at wrk's stop), last seq +$(field seq_delta "$line") (2 per webhook:" \
       "$((2 * acc))), duplicates $(field duplicates "$line"), nodes behind: $(field behind "$line");" \
       "verify: $(field verify "$line" | tr '_' ' '); gate: $(field gate "$line" | tr '_' ' ')"
done <"$WORK/results"
echo
echo "   Against LMDB x 1 node (the same run):"
printf '   %-12s %11s %9s %9s %10s\n' config webhooks/s p50 p99 CPU/webhook
B_RPS=$(get lmdb-1 rps); B_P50=$(get lmdb-1 p50_ms); B_P99=$(get lmdb-1 p99_ms)
B_CPU=$(awk -v a="$(get lmdb-1 vox_cpu)" -v b="$(get lmdb-1 pg_cpu)" -v n="$(get lmdb-1 accepted)" 'BEGIN { print (a + b) / n }')
while read -r line; do
  c=$(field config "$line"); [[ $c == lmdb-1 ]] && continue
  cpu=$(awk -v a="$(field vox_cpu "$line")" -v b="$(field pg_cpu "$line")" -v n="$(field accepted "$line")" 'BEGIN { print (a + b) / n }')
  printf '   %-12s %11s %9s %9s %10s\n' "$c" "x$(per "$(field rps "$line")" "$B_RPS")" "x$(per "$(field p50_ms "$line")" "$B_P50" 1 %.1f)" \
    "x$(per "$(field p99_ms "$line")" "$B_P99" 1 %.1f)" "x$(per "$cpu" "$B_CPU" 1 %.1f)"
done <"$WORK/results"
echo
echo "raw:"
sed 's/^/   /' "$WORK/results" "$WORK/raw"
exit "$FAILED"
