# shellcheck shell=bash
# Shared functions of the server benchmarks (server_bench.sh, cluster_bench.sh): sourced, never run.
#
# The sourcing script sets ROOT (the repository: find_build), BENCH_NAME (for messages), VOXLOGD and PUBLIC_URL
# (start_voxlogd), GATE_SECONDS and GATE_PCT (gate), and keeps the pids it started in the array STARTED. Nothing here prints a secret:
# start_voxlogd passes the environment (TWILIO_AUTH_TOKEN, LOG_URL, ...) to voxlogd, never on a command line.

HZ=$(getconf CLK_TCK)

# --- CPU accounting ------------------------------------------------------------------------------------------
# Busy jiffies of the whole machine.
machine_busy() { awk '/^cpu /{print $2+$3+$4+$7+$8+$9}' /proc/stat; }
# Busy jiffies of the given processes and all their descendants: each one's own (all threads) plus its
# reaped children's (cutime, cstime), plus its live children's, recursively. A child that exits between two
# readings moves from "live" to its parent's cutime, so the sum only grows. Gone pids count 0.
proc_busy() {
  local total=0 pid t kids
  for pid in "$@"; do
    # Fields after the ")" of the command name (which may hold spaces): utime is the 12th, cstime the 15th.
    t=$(sed 's/.*) //' "/proc/$pid/stat" 2>/dev/null | awk '{print $12+$13+$14+$15}') || t=0
    total=$((total + ${t:-0}))
    kids=$(pgrep -P "$pid" 2>/dev/null | tr '\n' ' ') || kids=
    if [[ -n "$kids" ]]; then
      # shellcheck disable=SC2086  # a list of pids
      t=$(proc_busy $kids)
      total=$((total + t))
    fi
  done
  echo "$total"
}
jiffies_s() { awk -v j="$1" -v hz="$HZ" 'BEGIN { printf "%.1f", j / hz }'; }
# CPU-seconds of the shell's reaped children, from a file the `times` builtin wrote (run `times` in the
# benchmark's shell, not in a subshell).
children_cpu() { awk 'NR == 2 { s = 0; for (i = 1; i <= 2; i++) { split($i, t, "m"); s += t[1] * 60 + t[2] } print s }' "$1"; }
# children_cpu_between TIMES0 TIMES1: CPU-seconds the shell's reaped children (the clients) used in between.
children_cpu_between() {
  awk -v a="$(children_cpu "$1")" -v b="$(children_cpu "$2")" 'BEGIN { printf "%.1f", b - a }'
}
# foreign_s MACHINE_JIFFIES OURS_JIFFIES CLIENT_SECONDS: CPU-seconds of everything else on the machine (at least 0).
foreign_s() {
  awk -v j=$(($1 - $2)) -v hz="$HZ" -v c="$3" 'BEGIN { f = j / hz - c; printf "%.1f", f < 0 ? 0 : f }'
}

# gate PID...: waits until processes other than the given ones (and their descendants) use less than GATE_PCT%
# of one core over 2 s, or GATE_SECONDS pass. Sets GATE_NOTE.
# shellcheck disable=SC2034  # GATE_NOTE is read by the sourcing script
gate() {
  local waited=0 before mine after mine_after pct
  while :; do
    before=$(machine_busy); mine=$(proc_busy "$@")
    sleep 2
    after=$(machine_busy); mine_after=$(proc_busy "$@")
    pct=$(( ( (after - before) - (mine_after - mine) ) * 100 / (2 * HZ) ))
    waited=$((waited + 2))
    if (( pct < GATE_PCT )); then GATE_NOTE="quiet (${pct}%)"; return; fi
    if (( waited >= GATE_SECONDS )); then GATE_NOTE="NOT quiet after ${waited}s (${pct}% of a core)"; return; fi
  done
}

# --- binaries ------------------------------------------------------------------------------------------------
# find_build DIR EXECUTABLE...: the first of DIR, $ROOT/build-bench and $ROOT/build that holds every named
# executable (paths under the build directory); status 1, nothing printed, when none does.
find_build() {
  local dir bin dirs=("$1" "$ROOT/build-bench" "$ROOT/build")
  shift
  for dir in "${dirs[@]}"; do
    [[ -n "$dir" ]] || continue
    for bin in "$@"; do [[ -x "$dir/$bin" ]] || continue 2; done
    echo "$dir"
    return 0
  done
  return 1
}

# --- servers -------------------------------------------------------------------------------------------------
# start_voxlogd DATA_DIR: a voxlogd on a free loopback port, with Twilio credentials and PUBLIC_URL, so every
# webhook's signature is verified; the log is DATA_DIR/log, or LOG_URL if the environment has it. Sets
# VOX_PID and VOX_PORT; its output goes to DATA_DIR.log.
start_voxlogd() {
  mkdir -p "$1"
  : >"$1.log"  # before the server's own redirection: the loop below may read it first (set -e)
  env PORT=0 DATA_DIR="$1" PUBLIC_URL="$PUBLIC_URL" MAX_CONNECTIONS=8192 TWILIO_ACCOUNT_SID=AC0a1b2c3d4e5f60718293a4b5c6d7e8f9 \
    TWILIO_FLOW_SID=FW0a1b2c3d4e5f60718293a4b5c6d7e8f9 TWILIO_PHONE_NUMBER=+442071838750 \
    TWILIO_API_BASE=http://127.0.0.1:9 "$VOXLOGD" /dev/null >"$1.log" 2>&1 &
  VOX_PID=$!
  STARTED+=("$VOX_PID")
  for _ in $(seq 100); do
    VOX_PORT=$(sed -n 's/^voxlogd listening on http:\/\/[0-9.]*:\([0-9]*\).*/\1/p' "$1.log")
    [[ -n "$VOX_PORT" ]] && return
    kill -0 "$VOX_PID" 2>/dev/null || break
    sleep 0.1
  done
  echo "$BENCH_NAME: voxlogd did not start:" >&2; redact <"$1.log" >&2; exit 1
}
# stop_server PID: SIGTERM; a server that ignores it for 10 s is killed, and the run says so.
stop_server() {
  kill "$1" 2>/dev/null || true
  for _ in $(seq 100); do kill -0 "$1" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$1" 2>/dev/null; then
    echo "$BENCH_NAME: WARNING: pid $1 did not stop within 10 s of SIGTERM; killed" >&2
    kill -KILL "$1" 2>/dev/null || true
  fi
  wait "$1" 2>/dev/null || true
}

# --- reading results -------------------------------------------------------------------------------------------
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }  # field NAME LINE: a key=value of a line
metric() { curl -sf "http://127.0.0.1:$1/metrics" | awk -v m="$2" 'index($0, m " ") == 1 {print $NF}'; }  # PORT NAME
last_seq() { curl -sf "http://127.0.0.1:$1/healthz" | sed -n 's/.*"lastSeq":\([0-9]*\).*/\1/p'; }  # PORT
redact() { sed -E 's#(postgres(ql)?://[^:/@]*):[^@]*@#\1:***@#g'; }  # a URL's password, in anything shown
