#!/usr/bin/env bash
# server_bench.sh [BUILD_DIR]: voxlogd's server benchmarks, each beside a bare RESTinio baseline measured
# in the same run. Builds nothing: takes the binaries from BUILD_DIR (default: build-bench, then build).
#
#  1. Webhook ingestion, durable: wrk -t1 -c$CONNS -d${DURATION}s replays pre-signed Twilio status
#     callbacks (webhook_gen + webhook_post.lua; every request a new fact) against bare_server and against
#     voxlogd with Twilio credentials set, so every signature is verified and every 200 follows a durable
#     commit. Afterwards /healthz and /metrics must show lastSeq grown by exactly 2 events per accepted
#     webhook (WebhookReceived + CallStatusChanged) and no duplicates.
#  2. Webhook to WebSocket: ws_latency with $WS_SUBS subscribers, $WS_RATE signed webhooks/s for
#     $WS_SECONDS s (after $WS_WARMUP warm-up webhooks), against bare_server's echo and a fresh voxlogd.
#  3. Fan-out at scale (ONLY=fanout; not in the default run): for each of $FANOUT_KINDS (/ws, Socket.IO over
#     Engine.IO's WebSocket) and each count in $FANOUT_SUBS, a fresh voxlogd, ws_latency at $WS_RATE
#     webhooks/s for $FANOUT_SECONDS s, and voxlogd's RSS growth per idle subscriber; beside voxlogd with no
#     subscriber (the webhook answer's own latency) and bare_server's echo to as many /ws subscribers.
#
# The machine is shared (other tenants' load moves the figures): before each measurement the script waits up to $GATE_SECONDS
# for other processes to go quiet, and it prints the CPU-seconds others used during each measurement.
# RUNS=n repeats everything and prints medians. Knobs (env): RUNS=1 DURATION=10 CONNS=64 CALLS=150000
# WS_SUBS=100 WS_RATE=100 WS_SECONDS=15 WS_WARMUP=100 BARE_PORT=44100 GATE_SECONDS=20 GATE_PCT=25, and
# ONLY=ingest or ONLY=ws to run one of the two benchmarks (e.g. to alternate two builds quickly), ONLY=fanout
# for the third (FANOUT_SUBS="100 1000 5000" FANOUT_KINDS="ws socketio" FANOUT_SECONDS=10).
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
BENCH_DIR="$ROOT/tools/bench"
BENCH_NAME=server_bench
# shellcheck source=tools/bench/bench_lib.sh
source "$BENCH_DIR/bench_lib.sh"
RUNS=${RUNS:-1} DURATION=${DURATION:-10} CONNS=${CONNS:-64} CALLS=${CALLS:-150000}
WS_SUBS=${WS_SUBS:-100} WS_RATE=${WS_RATE:-100} WS_SECONDS=${WS_SECONDS:-15} WS_WARMUP=${WS_WARMUP:-100}
BARE_PORT=${BARE_PORT:-44100} GATE_SECONDS=${GATE_SECONDS:-20} GATE_PCT=${GATE_PCT:-25} ONLY=${ONLY:-}
FANOUT_SUBS=${FANOUT_SUBS:-"100 1000 5000"} FANOUT_KINDS=${FANOUT_KINDS:-"ws socketio"}
FANOUT_SECONDS=${FANOUT_SECONDS:-10}
case "$ONLY" in ""|ingest|ws|fanout) ;; *) echo "server_bench: ONLY must be ingest, ws or fanout" >&2; exit 2 ;; esac
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true  # thousands of subscribers, on both sides
PUBLIC_URL=https://voxlog.example.com
WEBHOOK_PATH=/api/calls/webhooks/status

BUILD=$(find_build "${1:-}" tools/voxlogd/voxlogd tools/bench/ws_latency) || {
  echo "server_bench: no build with voxlogd and the bench tools; build the targets voxlogd webhook_gen" \
       "ws_latency bare_server first" >&2
  exit 2
}
VOXLOGD="$BUILD/tools/voxlogd/voxlogd"
BARE="$BUILD/tools/bench/bare_server"
GEN="$BUILD/tools/bench/webhook_gen"
WSLAT="$BUILD/tools/bench/ws_latency"
[[ "$ONLY" == fanout ]] || command -v wrk >/dev/null || { echo "server_bench: wrk is not installed (apt-get install wrk)" >&2; exit 2; }

WORK=$(mktemp -d /tmp/server_bench.XXXXXX)
STARTED=()
cleanup() {
  for pid in "${STARTED[@]}"; do kill -0 "$pid" 2>/dev/null && stop_server "$pid"; done
  rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# A made-up account for this run: the token signs the requests and verifies them, and is never printed.
export TWILIO_AUTH_TOKEN=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')

# --- servers -------------------------------------------------------------------------------------------------
# bare_server takes a fixed port, which a client socket of an earlier run may still hold (44100 is in Linux's
# ephemeral range): a port in use means the next one, up to ten times.
start_bare() {
  for _ in $(seq 10); do
    "$BARE" "$BARE_PORT" >"$WORK/bare.log" 2>&1 &
    BARE_PID=$!
    for _ in $(seq 50); do
      grep -q listening "$WORK/bare.log" && { STARTED+=("$BARE_PID"); return; }
      kill -0 "$BARE_PID" 2>/dev/null || break
      sleep 0.1
    done
    wait "$BARE_PID" 2>/dev/null || true
    grep -q "Address already in use" "$WORK/bare.log" || break
    BARE_PORT=$((BARE_PORT + 1))
  done
  echo "server_bench: bare_server did not start on port $BARE_PORT:" >&2; cat "$WORK/bare.log" >&2; exit 1
}

# --- measurements ----------------------------------------------------------------------------------------------
# measure SERVER_PID CMD...: runs the client CMD; sets OUT (its WRK/WSLAT line) and the CPU-seconds used
# meanwhile by the server, by the client, and by everything else on the machine (FOREIGN_CPU).
measure() {
  local server=$1 m0 s0 m1 s1
  shift
  times >"$WORK/times0"; m0=$(machine_busy); s0=$(proc_busy "$server")
  "$@" >"$WORK/client.out" 2>"$WORK/client.err" || true
  times >"$WORK/times1"; m1=$(machine_busy); s1=$(proc_busy "$server")
  OUT=$(grep -E '^(WRK|WSLAT) ' "$WORK/client.out" || true)
  if [[ -z "$OUT" ]]; then echo "server_bench: the client failed:" >&2; cat "$WORK/client.out" "$WORK/client.err" >&2; exit 1; fi
  SERVER_CPU=$(jiffies_s $((s1 - s0)))
  CLIENT_CPU=$(children_cpu_between "$WORK/times0" "$WORK/times1")
  FOREIGN_CPU=$(foreign_s $((m1 - m0)) $((s1 - s0)) "$CLIENT_CPU")
}
wrk_load() {  # $1: port
  WEBHOOK_REQUESTS="$WORK/requests.txt" WEBHOOK_PATH="$WEBHOOK_PATH" \
    wrk -t1 -c"$CONNS" -d"${DURATION}s" --timeout 5s -s "$BENCH_DIR/webhook_post.lua" "http://127.0.0.1:$1"
}
ws_load() {  # $1: port
  "$WSLAT" --port "$1" --subscribers "$WS_SUBS" --rate "$WS_RATE" --seconds "$WS_SECONDS" --warmup "$WS_WARMUP" \
    --url "$PUBLIC_URL"
}
fanout_load() {  # $1: port, $2: ws|socketio, $3: subscribers, $4: the server's pid (RSS)
  local protocol=$2
  [[ "$protocol" == none ]] && protocol=ws  # no subscriber: the webhook answer alone
  "$WSLAT" --port "$1" --protocol "$protocol" --subscribers "$3" --rate "$WS_RATE" --seconds "$FANOUT_SECONDS" \
    --warmup "$WS_WARMUP" --url "$PUBLIC_URL" --server-pid "$4"
}
fanout_voxlogd() {  # $1: run, $2: kind, $3: subscribers
  start_voxlogd "$WORK/vox-fanout-$1-$2-$3"
  gate "${STARTED[@]}"
  measure "$VOX_PID" fanout_load "$VOX_PORT" "$2" "$3" "$VOX_PID"
  record "$1" "fanout-$2-$3" voxlogd
  stop_server "$VOX_PID"
}
record() {  # record RUN BENCH SERVER: appends the last measurement to the results
  echo "run=$1 bench=$2 server=$3 $OUT server_cpu=$SERVER_CPU client_cpu=$CLIENT_CPU foreign_cpu=$FOREIGN_CPU" \
       "gate=${GATE_NOTE// /_}" >>"$WORK/results"
}

ingest_voxlogd() {  # $1: run
  start_voxlogd "$WORK/vox-ingest-$1"
  local seq0 acc0 seq1 acc1 dup1 commits1 events1
  seq0=$(last_seq "$VOX_PORT"); acc0=$(metric "$VOX_PORT" 'voxlog_webhooks_total{route="status",result="accepted"}')
  gate "${STARTED[@]}"
  measure "$VOX_PID" wrk_load "$VOX_PORT"
  sleep 1  # requests in flight when wrk stopped still commit
  seq1=$(last_seq "$VOX_PORT")
  acc1=$(metric "$VOX_PORT" 'voxlog_webhooks_total{route="status",result="accepted"}')
  dup1=$(metric "$VOX_PORT" 'voxlog_webhooks_total{route="status",result="duplicate"}')
  commits1=$(metric "$VOX_PORT" voxlog_commits_total); events1=$(metric "$VOX_PORT" voxlog_events_appended_total)
  OUT="$OUT seq_delta=$((seq1 - seq0)) accepted=$((acc1 - acc0)) duplicates=$dup1 commits=$commits1 events=$events1"
  record "$1" ingest voxlogd
  stop_server "$VOX_PID"
}
ws_voxlogd() {  # $1: run
  start_voxlogd "$WORK/vox-ws-$1"
  gate "${STARTED[@]}"
  measure "$VOX_PID" ws_load "$VOX_PORT"
  record "$1" ws voxlogd
  stop_server "$VOX_PID"
}

# --- the run -------------------------------------------------------------------------------------------------
if [[ "$ONLY" != fanout ]]; then
  GEN_OUT=$("$GEN" "$WORK/requests.txt" "$PUBLIC_URL$WEBHOOK_PATH" "$CALLS")
  REQUESTS=$(field requests "$GEN_OUT"); BODY_BYTES=$(field mean_body_bytes "$GEN_OUT")
fi
# The request file is hundreds of MB of dirty pages; written back during the first measurement, they slowed
# its log commits (ext4 flushes other files' data with a journal commit): run 1 once had p99 34 ms, max 139 ms,
# while three runs after a sync had 6.5-7.3 ms (so most likely, not proven, the cause).
sync
start_bare
for run in $(seq "$RUNS"); do
  if [[ "$ONLY" == fanout ]]; then
    gate "${STARTED[@]}"; measure "$BARE_PID" fanout_load "$BARE_PORT" ws 0 "$BARE_PID"; record "$run" fanout-none-0 bare
    for n in $FANOUT_SUBS; do
      gate "${STARTED[@]}"; measure "$BARE_PID" fanout_load "$BARE_PORT" ws "$n" "$BARE_PID"; record "$run" "fanout-ws-$n" bare
    done
    fanout_voxlogd "$run" none 0
    for kind in $FANOUT_KINDS; do for n in $FANOUT_SUBS; do fanout_voxlogd "$run" "$kind" "$n"; done; done
    continue
  fi
  if [[ "$ONLY" != ws ]]; then
    gate "${STARTED[@]}"; measure "$BARE_PID" wrk_load "$BARE_PORT"; record "$run" ingest bare
    ingest_voxlogd "$run"
  fi
  if [[ "$ONLY" != ingest ]]; then
    gate "${STARTED[@]}"; measure "$BARE_PID" ws_load "$BARE_PORT"; record "$run" ws bare
    ws_voxlogd "$run"
  fi
done
stop_server "$BARE_PID"

# --- report --------------------------------------------------------------------------------------------------
median() {  # median BENCH SERVER FIELD
  grep " bench=$1 server=$2 " "$WORK/results" | sed -n "s/.* $3=\([^ ]*\).*/\1/p" | sort -g |
    awk '{ v[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}
echo
echo "== voxlogd server benchmarks: $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) vCPU, load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "   binaries: $BUILD   runs: $RUNS (medians below; every run in the raw lines)"
echo
if [[ "$ONLY" == fanout ]]; then
echo "3. Fan-out: ws_latency (subscribers: 1 thread, epoll; webhooks: a thread of their own), $WS_RATE signed"
echo "   webhooks/s for ${FANOUT_SECONDS}s after $WS_WARMUP warm-up ones, each a new call; subscribers on /ws (JSON) or"
echo "   Socket.IO (Engine.IO v4 over WebSocket); latency from just before the POST is written to each subscriber"
echo "   reading the first message naming its CallSid. http = the answer's arrival by the kernel's receive"
echo "   timestamp (the server's latency), seen = when the poster thread read it. A fresh voxlogd per line;"
echo "   rss/sub = its RSS growth per idle subscriber once all are connected; x_none = http_p99 over the same"
echo "   server's http_p99 with no subscriber (issue 19: at most 1.5 with 1,000; FANOUT_SECONDS=30 steadies it)."
printf '   %-8s %-9s %6s %9s %9s %9s %10s %8s %8s %6s %8s %8s %5s %8s %10s %11s\n' server kind subs last_p50 last_p99 \
  last_max pooled_p99 http_p50 http_p99 x_none seen_p99 missing disc rss/sub client_cpu% foreign_cpu
for bench in $(sed -n 's/.* bench=\(fanout-[^ ]*\) .*/\1/p' "$WORK/results" | awk '!seen[$0]++'); do
  for server in bare voxlogd; do
    grep -q " bench=$bench server=$server " "$WORK/results" || continue
    kind=${bench#fanout-}; subs=${kind##*-}; kind=${kind%-*}
    x_none=$(awk -v a="$(median "$bench" $server http_p99_ms)" -v b="$(median fanout-none-0 $server http_p99_ms)" \
      'BEGIN { if (b + 0 > 0 && a + 0 > 0) printf "%.2f", a / b; else print "-" }')
    printf '   %-8s %-9s %6s %9s %9s %9s %10s %8s %8s %6s %8s %8s %5s %8s %10s %11s\n' "$server" "$kind" "$subs" \
      "$(median "$bench" $server last_p50_ms)" "$(median "$bench" $server last_p99_ms)" \
      "$(median "$bench" $server last_max_ms)" "$(median "$bench" $server pooled_p99_ms)" \
      "$(median "$bench" $server http_p50_ms)" "$(median "$bench" $server http_p99_ms)" "$x_none" \
      "$(median "$bench" $server http_seen_p99_ms)" \
      "$(median "$bench" $server missing)" "$(median "$bench" $server disconnected)" \
      "$(median "$bench" $server rss_per_subscriber_b)" \
      "$(median "$bench" $server client_cpu_pct)" "$(median "$bench" $server foreign_cpu)"
  done
done
echo "   (milliseconds, bytes; CPU in seconds over the measurement; foreign = other processes on the machine)"
fi
if [[ "$ONLY" != ws && "$ONLY" != fanout ]]; then
echo "1. Durable webhook ingestion: wrk 4.1 -t1 -c$CONNS -d${DURATION}s (webhook_post.lua), POST $WEBHOOK_PATH,"
echo "   signed form-encoded Twilio status callbacks, mean body $BODY_BYTES B, $REQUESTS distinct requests"
echo "   ($CALLS calls x 4 statuses). voxlogd: 1 io thread, signatures verified, 200 after the group commit."
echo "   bare_server: same RESTinio traits, 1 io thread, answers 200 \"ok\"."
printf '   %-12s %9s %8s %8s %8s %8s %10s %10s %11s\n' server req/s p50_ms p99_ms max_ms non2xx server_cpu client_cpu foreign_cpu
for server in bare voxlogd; do
  printf '   %-12s %9s %8s %8s %8s %8s %10s %10s %11s\n' "$server" "$(median ingest $server rps)" \
    "$(median ingest $server p50_ms)" "$(median ingest $server p99_ms)" "$(median ingest $server max_ms)" \
    "$(median ingest $server non2xx)" "$(median ingest $server server_cpu)" "$(median ingest $server client_cpu)" \
    "$(median ingest $server foreign_cpu)"
done
awk -v v="$(median ingest voxlogd rps)" -v b="$(median ingest bare rps)" \
  'BEGIN { printf "   voxlogd / bare throughput: %.2f\n", v / b }'
grep " bench=ingest server=voxlogd " "$WORK/results" | while read -r line; do
  n=$(field requests "$line"); acc=$(field accepted "$line"); seq=$(field seq_delta "$line")
  verdict=$([[ $seq -eq $((2 * acc)) && $acc -ge $n && $((acc - n)) -le $CONNS && $(field duplicates "$line") -eq 0 &&
               $(field wrapped "$line") -eq 0 && $(field non2xx "$line") -eq 0 ]] && echo OK || echo FAILED)
  echo "   durability check run $(field run "$line"): $verdict: wrk got $n answers; voxlogd accepted $acc webhooks" \
       "($((acc - n)) in flight at wrk's stop), lastSeq +$seq (2 events each), duplicates $(field duplicates "$line")," \
       "$(field events "$line") events in $(field commits "$line") commits"
done
echo
fi
if [[ "$ONLY" != ingest && "$ONLY" != fanout ]]; then
echo "2. Webhook to WebSocket: ws_latency (1 thread, epoll), $WS_SUBS subscribers on /ws, $WS_RATE webhooks/s for" \
     "${WS_SECONDS}s after $WS_WARMUP warm-up ones, each a new call;"
echo "   latency from just before the POST is written to the subscriber reading the first frame naming its CallSid."
echo "   voxlogd: verify, actor, commit, broadcaster; bare_server: echoes the POST body to every subscriber."
printf '   %-12s %9s %9s %9s %10s %10s %8s %8s %8s %10s %11s\n' server last_p50 last_p99 last_max pooled_p50 \
  pooled_p99 http_p50 http_p99 missing client_cpu% foreign_cpu
for server in bare voxlogd; do
  printf '   %-12s %9s %9s %9s %10s %10s %8s %8s %8s %10s %11s\n' "$server" "$(median ws $server last_p50_ms)" \
    "$(median ws $server last_p99_ms)" "$(median ws $server last_max_ms)" "$(median ws $server pooled_p50_ms)" \
    "$(median ws $server pooled_p99_ms)" "$(median ws $server http_p50_ms)" "$(median ws $server http_p99_ms)" \
    "$(median ws $server missing)" "$(median ws $server client_cpu_pct)" "$(median ws $server foreign_cpu)"
done
echo "   (milliseconds; CPU in seconds over the measurement; foreign = other processes on the machine)"
fi
echo
echo "raw:"
sed 's/^/   /' "$WORK/results"
