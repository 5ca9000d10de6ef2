#!/usr/bin/env bash
# What access logs and metrics cost on the two hot paths, in one run, on one build:
#   - GET /v1/lookup (wrk, as scripts/bench-lookup.sh: 100,000 sources, 10,000 verdicts);
#   - review transitions with the audit chain (examples/loadtest, SQLite, as scripts/loadtest.sh);
# each with neither, with access lines (RUST_LOG=info, written to a file), with metrics
# (CLAIMTRAIL_METRICS_BIND) and with both. Loopback only; every run is bounded in time.
#   scripts/bench-observe.sh [SECONDS] [CONNECTIONS] [CLIENTS]   (default 5 s, 32, 16)
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
seconds=${1:-5}
connections=${2:-32}
clients=${3:-16}
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 120 ]; then echo "SECONDS: 1 to 120" >&2; exit 2; fi

bench_need_tools
bench_build
fill="$target_dir/release/examples/fill_lookup"
loadtest="$target_dir/release/examples/loadtest"
export CLAIMTRAIL_ORG_NAME="${CLAIMTRAIL_ORG_NAME:-Bench Desk}"
export CLAIMTRAIL_ORG_URL="${CLAIMTRAIL_ORG_URL:-https://desk.example.org/}"

# name, RUST_LOG, CLAIMTRAIL_METRICS_BIND
variants=(
    "neither warn,claimtrail=info,claimtrail::access=off -"
    "access-logs info,sqlx=warn -"
    "metrics warn,claimtrail=info,claimtrail::access=off 127.0.0.1:0"
    "both info,sqlx=warn 127.0.0.1:0"
)

echo "== examples/fill_lookup (SQLite file in $work)"
article=$("$fill" --database-url "$work/lookup.db")
encoded=$(jq -rn --arg u "$article" '$u | @uri')

echo "== GET /v1/lookup: wrk -t1 -c$connections -d${seconds}s (2 s warm-up each)"
for v in "${variants[@]}"; do
    read -r name log bind <<<"$v"
    [ "$bind" = - ] && bind=
    RUST_LOG=$log CLAIMTRAIL_METRICS_BIND=$bind bench_start_claimtrail lookup
    bench_run "lookup, $name" "$ct_pid" "$ct_url/v1/lookup?url=$encoded" -H "Authorization: Bearer $ct_key"
    lines=$(grep -c 'answered' "$work/lookup.log" || true)
    echo "   (access lines written: $lines)"
    kill -TERM "$ct_pid"
    wait "$ct_pid" 2>/dev/null || true
done

echo "== review transitions: examples/loadtest, $clients clients, ${seconds}s, SQLite"
for v in "${variants[@]}"; do
    read -r name log bind <<<"$v"
    [ "$bind" = - ] && bind=
    echo "-- $name"
    LOADTEST_SERVER_LOG=$log CLAIMTRAIL_METRICS_BIND=$bind \
        "$loadtest" --binary "$claimtrail" --database-url "$work/load-$name.db" \
        --clients "$clients" --seconds "$seconds" | grep -Ei 'transitions|p99|verified' || true
done
