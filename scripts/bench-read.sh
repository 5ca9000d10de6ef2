#!/usr/bin/env bash
# GET /v1/claims/{id} against a minimal axum + sqlx server returning one SQLite row by key
# (examples/minimal_read.rs), measured in the same run with the same load (issue 7: the figure
# is the ratio; at least 0.5). Loopback only; each load run is bounded in time; everything
# started here is stopped on exit.
#   scripts/bench-read.sh [SECONDS] [CONNECTIONS]      (default 10 s, 32 connections, wrk -t1)
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
seconds=${1:-10}
connections=${2:-32}
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 120 ]; then echo "SECONDS: 1 to 120" >&2; exit 2; fi

bench_need_tools
bench_build

echo "== claimtrail serve --demo (SQLite file in $work)"
bench_start_claimtrail claimtrail --demo
auth="Authorization: Bearer $ct_key"
claim=$(curl -sf -H "$auth" "$ct_url/v1/claims" | jq -r '.items[0].id')
if [ -z "$claim" ] || [ "$claim" = null ]; then echo "error: no claim in the demo data" >&2; exit 1; fi
real_url="$ct_url/v1/claims/$claim"
curl -sf -H "$auth" "$real_url" >"$work/claim.json"
echo "   $real_url ($(wc -c <"$work/claim.json") bytes)"

echo "== examples/minimal_read"
"$minimal" --database "$work/minimal.db" --port 0 >"$work/minimal.log" 2>&1 &
min_pid=$!
pids+=("$min_pid")
min_base=$(bench_wait_addr "$work/minimal.log" "$min_pid")
row=$(awk '$1 == "id" {print $2; exit}' "$work/minimal.log")
min_url="$min_base/rows/$row"
curl -sf "$min_url" >"$work/row.json"
echo "   $min_url ($(wc -c <"$work/row.json") bytes)"

# run NAME PID URL [wrk-args…]: a 2 s warm-up, then the measured run; prints one line.
run() {
    local name=$1 pid=$2 url=$3 cpu0 cpu1 m0 m1 ours
    shift 3
    bench_wrk "$work/warmup.txt" -t1 -c"$connections" -d2s "$@" "$url"
    cpu0=$(bench_cpu "$pid")
    m0=$(bench_machine)
    bench_wrk "$work/run.txt" -t1 -c"$connections" -d"${seconds}s" --latency "$@" "$url"
    m1=$(bench_machine)
    cpu1=$(bench_cpu "$pid")
    ours=$(awk -v a="$cpu0" -v b="$cpu1" -v w="$wrk_cpu" 'BEGIN {print b - a + w}')
    server_cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v s="$seconds" 'BEGIN {printf "%.0f", (b - a) / s * 100}')
    wrk_pct=$(awk -v c="$wrk_cpu" -v s="$seconds" 'BEGIN {printf "%.0f", c / s * 100}')
    printf '%-32s %9s req/s  p50 %5s ms  p90 %5s ms  p99 %5s ms  max %6s ms  CPU: server %3s%%  wrk %3s%%  other %3s%%\n' \
        "$name" "$rps" "$p50" "$p90" "$p99" "$max" "$server_cpu" "$wrk_pct" \
        "$(bench_other_pct "$m0" "$m1" "$ours" "$seconds")"
    if [ "$bad" -ne 0 ]; then
        echo "error: $bad of $requests responses were not 2xx or failed; wrk said:" >&2
        cat "$work/run.txt" >&2
        exit 1
    fi
}

echo "== wrk -t1 -c$connections -d${seconds}s --latency (2 s warm-up first; $(nproc) cores shared by server and wrk;"
echo "   CPU in % of one core; \"other\" is everything else on the machine, which skews the figures)"
run "claimtrail GET /v1/claims/{id}" "$ct_pid" "$real_url" -H "$auth"
real_rps=$rps
run "minimal_read GET /rows/{id}" "$min_pid" "$min_url"
min_rps=$rps
awk -v a="$real_rps" -v b="$min_rps" \
    'BEGIN {printf "ratio claimtrail / minimal: %.2f (target >= 0.5)\n", a / b}'
