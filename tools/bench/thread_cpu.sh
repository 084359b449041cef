#!/usr/bin/env bash
# thread_cpu.sh PID [SECONDS]: the CPU each thread of PID used over SECONDS (default 4), in jiffies
# (getconf CLK_TCK per second) from /proc/PID/task/*/stat, user and system apart, busiest first, with each
# thread's share of the process's total, and its context switches from /proc/PID/task/*/status: `vol`
# (it blocked: waited for work, a lock or the disk) and `invol` (it was preempted). Run it while a
# benchmark loads the server, e.g. 3 s into the ingestion run of server_bench.sh, to see which thread the
# CPU goes to (the README's per-thread shares) and how often each one sleeps and wakes.
set -euo pipefail
PID=$1 SECONDS_=${2:-4}
snapshot() {
  for task in /proc/"$PID"/task/*; do
    echo "$(basename "$task") $(tr ' ' '_' <"$task/comm") $(awk '{print $14, $15}' "$task/stat" 2>/dev/null || echo 0 0)" \
         "$(awk '/^voluntary_ctxt/{v=$2} /^nonvoluntary_ctxt/{n=$2} END{print v+0, n+0}' "$task/status" 2>/dev/null || echo 0 0)"
  done | sort
}
before=$(snapshot); sleep "$SECONDS_"; after=$(snapshot)
join <(echo "$before") <(echo "$after") |
  awk '{ u = $8 - $3; s = $9 - $4; total += u + s; vol += $10 - $5; invol += $11 - $6
         line[NR] = sprintf("%-8s %-18s user=%-5d sys=%-5d vol=%-6d invol=%-6d", $1, $2, u, s, $10 - $5, $11 - $6)
         busy[NR] = u + s }
       END { for (i = 1; i <= NR; i++) if (busy[i] > 0) printf "%d %s share=%.0f%%\n", busy[i], line[i], 100 * busy[i] / total
             printf "-1 all threads: context switches vol=%d invol=%d\n", vol, invol }' |
  sort -n -r | cut -d' ' -f2-
