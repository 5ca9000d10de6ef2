#!/usr/bin/env bash
# The CMS's hot read, GET /v1/lookup?url=… (an article with a published verdict), against a
# minimal axum + sqlx server returning one SQLite row by key (examples/minimal_read.rs), in
# the same run with the same load, on a database of 100,000 sources and 10,000 published
# verdicts (examples/fill_lookup.rs). Target (issue 8): ratio at least 1.0, p99 under 3 ms.
# Also the conditional read (If-None-Match with the ETag: 304). Loopback only; each load run
# is bounded in time; everything started here is stopped on exit.
#   scripts/bench-lookup.sh [SECONDS] [CONNECTIONS]    (default 10 s, 32 connections, wrk -t1)
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
seconds=${1:-10}
connections=${2:-32}
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 120 ]; then echo "SECONDS: 1 to 120" >&2; exit 2; fi

bench_need_tools
bench_build
fill="$target_dir/release/examples/fill_lookup"

echo "== examples/fill_lookup (100,000 sources, 10,000 published verdicts; SQLite file in $work)"
article=$("$fill" --database-url "$work/lookup.db")
echo "   $(du -h "$work/lookup.db" | cut -f1); looking up $article"
bench_start_claimtrail lookup
auth="Authorization: Bearer $ct_key"
encoded=$(jq -rn --arg u "$article" '$u | @uri')
real_url="$ct_url/v1/lookup?url=$encoded"
curl -sf -H "$auth" "$real_url" >"$work/lookup.json"
claims=$(jq '.claims | length' "$work/lookup.json")
verdict=$(jq -r '.claims[0].verdict.rating.key' "$work/lookup.json")
if [ "$claims" != 1 ] || [ "$verdict" != mostly_false ]; then
    echo "error: the lookup found $claims claims (verdict $verdict); expected 1 with a verdict" >&2
    cat "$work/lookup.json" >&2
    exit 1
fi
etag=$(curl -sf -D - -o /dev/null -H "$auth" "$real_url" | awk 'tolower($1) == "etag:" {print $2}' | tr -d '\r')
echo "   $real_url ($(wc -c <"$work/lookup.json") bytes, ETag $etag)"

bench_start_minimal

echo "== wrk -t1 -c$connections -d${seconds}s --latency (2 s warm-up first; $(nproc) cores shared by server and wrk;"
echo "   CPU in % of one core; \"other\" is everything else on the machine, which skews the figures)"
bench_run "claimtrail GET /v1/lookup" "$ct_pid" "$real_url" -H "$auth"
real_rps=$rps
real_p99=$p99
allow_304=1 bench_run "claimtrail lookup, If-None-Match" "$ct_pid" "$real_url" -H "$auth" -H "If-None-Match: $etag"
bench_run "minimal_read GET /rows/{id}" "$min_pid" "$min_url"
min_rps=$rps
awk -v a="$real_rps" -v b="$min_rps" -v p="$real_p99" \
    'BEGIN {printf "ratio claimtrail / minimal: %.2f (target >= 1.0); lookup p99 %s ms (target < 3)\n", a / b, p}'
