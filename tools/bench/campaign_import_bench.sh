#!/usr/bin/env bash
# Campaign import: 100,000 CSV rows (phone, name, appointment_at, place, tz) posted to a real voxlogd, how long
# until the campaign is durable (201), how long until the campaigns view shows every contact, and voxlogd's
# peak memory. Beside it, in the same minutes: the same body as a dry run (parse and validate only, nothing
# recorded: the baseline), and a 10,000-row import (memory per row: bounded means it grows with the rows of
# one import, not with what came before).
#
#   tools/bench/campaign_import_bench.sh [build-dir] [rows]
set -euo pipefail
BUILD=${1:-build}
ROWS=${2:-100000}
VOXLOGD=$BUILD/tools/voxlogd/voxlogd
[ -x "$VOXLOGD" ] || { echo "no $VOXLOGD: build it first (Release)" >&2; exit 1; }
WORK=$(mktemp -d /tmp/voxlog-import-bench-XXXXXX)
trap 'kill $PID 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

make_csv() {  # rows file
  python3 - "$1" "$2" <<'PY'
import sys
n, path = int(sys.argv[1]), sys.argv[2]
with open(path, "w") as f:
    f.write("phone,name,appointment_at,place,tz\r\n")
    for i in range(n):
        f.write(f"+447911{100000 + i},\"Patient {i}, Jr\",2026-12-{8 + i % 20:02d}T{9 + i % 8:02d}:30:00Z,Basingstoke,Europe/London\r\n")
PY
}
make_csv "$ROWS" "$WORK/big.csv"
make_csv 10000 "$WORK/small.csv"

PORT=$((40000 + RANDOM % 20000))
env -i PATH="$PATH" PORT=$PORT DATA_DIR="$WORK/data" SIM_TIME_SCALE=0.01 MAX_CAMPAIGN_CONTACTS=1000000 \
  "$VOXLOGD" /nonexistent.env > "$WORK/voxlogd.log" 2>&1 &
PID=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
hwm() { awk '/VmHWM/ {print $2}' /proc/$PID/status; }
rss() { awk '/VmRSS/ {print $2}' /proc/$PID/status; }
# Nobody is dialled: the campaign starts in 2030.
QUERY="name=bench&start_at=2030-01-01T00:00:00Z"
post() {  # file extra-query -> "seconds status id"
  curl -s -o "$WORK/answer.json" -w '%{time_total} %{http_code}' -X POST -H 'Content-Type: text/csv' \
    --data-binary @"$1" "http://127.0.0.1:$PORT/api/campaigns?$QUERY$2"
}
visible() {  # id -> seconds until the view counts every contact
  local start=$(date +%s.%N)
  while :; do
    local n=$(curl -s "http://127.0.0.1:$PORT/api/campaigns/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["data"]["counts"]["pending"])' 2>/dev/null || echo 0)
    [ "$n" = "$2" ] && break
    sleep 0.05
  done
  python3 -c "print(f'{$(date +%s.%N) - $start:.2f}')"
}
id_of() { python3 -c 'import json; print(json.load(open("'"$WORK/answer.json"'"))["data"]["id"])'; }

echo "# $(date -u +%FT%TZ) $(git -C "$(dirname "$0")" rev-parse --short HEAD 2>/dev/null) load $(cut -d' ' -f1 /proc/loadavg), $(du -h "$WORK/big.csv" | cut -f1) CSV"
base_kb=$(rss)
read -r t_dry code <<<"$(post "$WORK/big.csv" '&dry_run=1')"
[ "$code" = 200 ] || { cat "$WORK/answer.json"; exit 1; }
read -r t_small code <<<"$(post "$WORK/small.csv" '')"
[ "$code" = 201 ] || { cat "$WORK/answer.json"; exit 1; }
small_id=$(id_of)
v_small=$(visible "$small_id" 10000)
hwm_small=$(hwm)
read -r t_big code <<<"$(post "$WORK/big.csv" '')"
[ "$code" = 201 ] || { cat "$WORK/answer.json"; exit 1; }
big_id=$(id_of)
v_big=$(visible "$big_id" "$ROWS")
hwm_big=$(hwm)
printf '| %-34s | %8s | %14s |\n' "import" "201 in s" "all in view, s"
printf '| %-34s | %8s | %14s |\n' "$ROWS rows, dry run (baseline)" "$t_dry" "-"
printf '| %-34s | %8s | %14s |\n' "10000 rows" "$t_small" "$v_small"
printf '| %-34s | %8s | %14s |\n' "$ROWS rows" "$t_big" "$v_big"
sleep 15  # jemalloc's background thread returns freed pages after its decay time (10 s)
echo "# voxlogd memory: $((base_kb / 1024)) MiB at start, peak $((hwm_small / 1024)) MiB after 10000 rows, peak $((hwm_big / 1024)) MiB after $ROWS rows; $(( $(rss) / 1024 )) MiB 15 s later (the campaign actors hold their contacts)"
