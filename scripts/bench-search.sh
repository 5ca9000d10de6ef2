#!/usr/bin/env bash
# Full-text search at scale: GET /v1/sources?q=… over the 100,000 synthetic articles of
# examples/scale_trace.rs (imported with `claimtrail import`), and GET /v1/claims?q=… over
# 100,000 claims (examples/fill_claims.rs). Target (issue 11): p99 under 50 ms. wrk on
# loopback, each run bounded in time, a Lua script rotating realistic queries (single words,
# two words, a phrase, a rare term, a common term); then each query alone, timed with curl.
# Everything started here is stopped on exit.
#   scripts/bench-search.sh [SECONDS] [CONNECTIONS]      (default 10 s, 4 connections, wrk -t1)
# BENCH_SEARCH_DB=FILE keeps the filled SQLite database there (filled if missing, reused
# if present: filling takes a minute or two). BENCH_SEARCH_PG_URL=postgres://…/db (an empty
# database, or one this script filled before) runs the same on PostgreSQL.
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
seconds=${1:-10}
connections=${2:-4}
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 120 ]; then echo "SECONDS: 1 to 120" >&2; exit 2; fi

bench_need_tools
bench_build
examples="$target_dir/release/examples"

# Queries as sent (URL-encoded), with what they are.
source_queries=(
    "officials|common word (nearly every article)"
    "harvest|single word"
    "church%20market|two words"
    "%22according%20to%20the%20world%20bank%22|phrase"
    "42424|rare term (one article)"
    "%227.77%20billion%22|rare phrase (100 articles)"
    "remittances%20border|two words"
)
claim_queries=(
    "said|common word (every claim)"
    "remittances|single word"
    "bridge%20cost|two words"
    "%22will%20cost%22|phrase"
    "%22claim%204242%22|rare phrase (one claim)"
    "unemployment%20decade|two words"
)

# lua FILE PATH_PREFIX QUERY…: a wrk script that rotates the queries.
lua() {
    local file=$1 prefix=$2
    shift 2
    {
        echo "local paths = {"
        local q
        for q in "$@"; do echo "  \"$prefix${q%%|*}\","; done
        echo "}"
        echo "local i = 0"
        echo "request = function()"
        echo "  i = i % #paths + 1"
        echo "  return wrk.format(\"GET\", paths[i])"
        echo "end"
    } >"$file"
}

# fill URL: imports the articles and adds the claims (skipped when sources are there).
fill() {
    local url=$1 files="$work/articles"
    if [ ! -d "$files" ]; then
        echo "== examples/scale_trace --write-files (100,000 articles)"
        "$examples/scale_trace" --write-files "$files" | sed 's/^/   /'
    fi
    echo "== claimtrail import (100,000 articles, indexed as they are stored)"
    local t0=$SECONDS
    DATABASE_URL="$url" "$claimtrail" import "$files" 2>&1 | tail -2 | sed 's/^/   /'
    echo "   $((SECONDS - t0)) s"
    echo "== examples/fill_claims (100,000 claims)"
    "$examples/fill_claims" --database-url "$url" --count 100000 2>&1 | sed 's/^/   /'
}

# serve NAME URL: the service on that database; sets $ct_pid, $ct_url, $ct_key.
serve() {
    local name=$1 url=$2
    ct_key=$(DATABASE_URL="$url" "$claimtrail" keys create --person "bench-$RANDOM" --role admin 2>/dev/null)
    NO_COLOR=1 DATABASE_URL="$url" CLAIMTRAIL_BIND=127.0.0.1:0 \
        CLAIMTRAIL_ORG_NAME="Bench Desk" CLAIMTRAIL_ORG_URL="https://desk.example.org/" \
        "$claimtrail" serve >"$work/$name.log" 2>&1 &
    ct_pid=$!
    pids+=("$ct_pid")
    ct_url=$(bench_wait_addr "$work/$name.log" "$ct_pid")
}

# each PATH_PREFIX QUERY…: every query alone, 20 times in a row; median and max with curl.
each() {
    local prefix=$1 q times
    shift
    for q in "$@"; do
        times=$(for _ in $(seq 20); do
            curl -sf -o "$work/one.json" -w '%{time_total}\n' -H "Authorization: Bearer $ct_key" \
                "$ct_url$prefix${q%%|*}"
        done | sort -n)
        printf '   %-52s %6s hits on page 1  median %6.1f ms  max %6.1f ms\n' "${q#*|}: ${q%%|*}" \
            "$(jq '.items | length' "$work/one.json")" \
            "$(sed -n 10p <<<"$times" | awk '{print $1 * 1000}')" \
            "$(tail -1 <<<"$times" | awk '{print $1 * 1000}')"
    done
}

# bench BACKEND URL
bench() {
    local backend=$1 url=$2 count
    serve "$backend" "$url"
    count=$(curl -sf -H "Authorization: Bearer $ct_key" "$ct_url/v1/sources?q=synthetic&limit=1" | jq '.items | length')
    if [ "$count" != 1 ]; then echo "error: the database holds no synthetic article" >&2; exit 1; fi
    lua "$work/sources.lua" "/v1/sources?limit=20&q=" "${source_queries[@]}"
    lua "$work/claims.lua" "/v1/claims?limit=20&q=" "${claim_queries[@]}"
    echo "== $backend: wrk -t1 -c$connections -d${seconds}s --latency, 20 per page (2 s warm-up first; $(nproc) cores"
    echo "   shared by server and wrk; CPU in % of one core; \"other\" is everything else on the machine)"
    bench_run "$backend sources?q= (7 queries)" "$ct_pid" "$ct_url" -H "Authorization: Bearer $ct_key" -s "$work/sources.lua"
    bench_run "$backend claims?q= (6 queries)" "$ct_pid" "$ct_url" -H "Authorization: Bearer $ct_key" -s "$work/claims.lua"
    echo "== $backend: each query alone (curl, sequential)"
    each "/v1/sources?limit=20&q=" "${source_queries[@]}"
    each "/v1/claims?limit=20&q=" "${claim_queries[@]}"
    kill "$ct_pid"
    wait "$ct_pid" 2>/dev/null || true
}

db=${BENCH_SEARCH_DB:-$work/search.db}
if [ ! -s "$db" ]; then
    fill "$db"
fi
echo "   SQLite file $db: $(du -h "$db" | cut -f1)"
bench sqlite "$db"

if [ -n "${BENCH_SEARCH_PG_URL:-}" ]; then
    sources=$(psql "$BENCH_SEARCH_PG_URL" -Atc "SELECT count(*) FROM sources" 2>/dev/null || echo 0)
    if [ "$sources" -lt 100000 ]; then
        fill "$BENCH_SEARCH_PG_URL"
    fi
    bench postgres "$BENCH_SEARCH_PG_URL"
fi
