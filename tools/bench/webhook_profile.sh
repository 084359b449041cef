#!/usr/bin/env bash
# webhook_profile.sh [BUILD_DIR]: CPU cost of one durable signed webhook in voxlogd, counted in instructions
# with valgrind's callgrind (repeatable on a shared machine, unlike seconds). Starts voxlogd under callgrind
# on loopback with Twilio credentials (signatures verified), replays N pre-signed status callbacks from
# webhook_gen with wrk (16 connections), stops it, and prints the instructions per accepted webhook plus the
# ten most expensive functions (inclusive). Needs valgrind (Debian package). N: CALLS (default 10000 calls
# x 4 statuses; more than the server gets through in 30 s under callgrind, so no request repeats: 5000
# ran out on a faster VM); the server is slowed ~50x, so this takes about a minute.
set -euo pipefail
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
CALLS=${CALLS:-10000}
PORT=${PORT:-44350}
WORK=$(mktemp -d /tmp/voxlog-profile-XXXXXX)
trap 'kill "$VOX_PID" 2>/dev/null || true; rm -rf "$WORK"' EXIT
export TWILIO_AUTH_TOKEN=profile_token_0123456789abcdef
PUBLIC_URL=https://bench.example.com
"$BUILD/tools/bench/webhook_gen" "$WORK/requests.txt" "$PUBLIC_URL/api/calls/webhooks/status" "$CALLS" >/dev/null

DATA_DIR="$WORK/data" PORT=$PORT BIND_ADDRESS=127.0.0.1 PUBLIC_URL=$PUBLIC_URL \
  TWILIO_ACCOUNT_SID=AC0a1b2c3d4e5f60718293a4b5c6d7e8f9 TWILIO_FLOW_SID=FW00000000000000000000000000000000 \
  TWILIO_PHONE_NUMBER=+442071838750 TWILIO_API_BASE=http://127.0.0.1:9 \
  valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" "$BUILD/tools/voxlogd/voxlogd" /dev/null \
  >"$WORK/voxlogd.log" 2>&1 &
VOX_PID=$!
for _ in $(seq 360); do grep -q "listening on" "$WORK/voxlogd.log" && break; sleep 0.5; done
WEBHOOK_REQUESTS="$WORK/requests.txt" WEBHOOK_PATH=/api/calls/webhooks/status \
  wrk -t1 -c16 -d30s --timeout 10s -s tools/bench/webhook_post.lua "http://127.0.0.1:$PORT" >"$WORK/wrk.out"
accepted=$(curl -s "http://127.0.0.1:$PORT/metrics" | sed -n 's/^voxlog_webhooks_total{route="status",result="accepted"} //p')
kill -TERM "$VOX_PID"
wait "$VOX_PID" || true
if grep -q 'wrapped=1' "$WORK/wrk.out"; then
  echo "webhook_profile: wrk ran out of distinct requests and repeated them (duplicates cost less); rerun with a larger CALLS" >&2
  exit 1
fi
total=$(callgrind_annotate "$WORK/callgrind.out" 2>/dev/null | sed -n 's/^ *\([0-9,]*\) .*PROGRAM TOTALS.*/\1/p' | tr -d ,)
echo "webhooks accepted: $accepted (wrk, 16 connections, 30 s under callgrind)"
echo "instructions, whole process: $total"
echo "instructions per accepted webhook: $((total / accepted))"
echo "most expensive (inclusive):"
callgrind_annotate --inclusive=yes "$WORK/callgrind.out" 2>/dev/null | grep -E 'voxlog::|restinio::router|regex|nlohmann.*serializer' |
  head -10 | cut -c1-160
