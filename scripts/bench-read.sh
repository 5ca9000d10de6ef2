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

bench_start_minimal

echo "== wrk -t1 -c$connections -d${seconds}s --latency (2 s warm-up first; $(nproc) cores shared by server and wrk;"
echo "   CPU in % of one core; \"other\" is everything else on the machine, which skews the figures)"
bench_run "claimtrail GET /v1/claims/{id}" "$ct_pid" "$real_url" -H "$auth"
real_rps=$rps
bench_run "minimal_read GET /rows/{id}" "$min_pid" "$min_url"
min_rps=$rps
awk -v a="$real_rps" -v b="$min_rps" \
    'BEGIN {printf "ratio claimtrail / minimal: %.2f (target >= 0.5)\n", a / b}'
