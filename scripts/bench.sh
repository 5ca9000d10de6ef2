#!/usr/bin/env bash
# Every benchmark of the project in a short mode, from one release build, as one table: each
# figure is a ratio to a baseline measured in the same run that is not our code (never an
# absolute time), beside its floor (or ceiling) and a verdict. Exits 1 when a figure misses
# its floor. NOTES.md ("Benchmark floors") says where each floor comes from.
#
#   scripts/bench.sh [FILTER]      e.g. `scripts/bench.sh transitions` runs the rows matching it
#
# Environment:
#   BENCH_MARGIN=0.8   fail only when a figure is more than 20 % past its floor (CI sets it, so
#                      that noise does not block; default 1.0: the floor itself)
#   BENCH_SECONDS=N    seconds per load run (default 4; each is run twice, interleaved with its
#                      baseline, and the better of the two counts)
#   BENCH_RELEASE_DIR=DIR  run binaries built before (DIR holds claimtrail, examples/ and deps/)
#                      instead of building (for a "before" table)
#   BENCH_REFERENCE=DIR  a checkout of an older commit, built there (`cargo build --release
#                      --bins --examples` with its own target directory): its review
#                      transitions are measured in the same run, against the same baseline
#                      (this is how the transition floors were set; see NOTES.md)
# Loopback only; every load run is bounded in time; everything started here is stopped on exit.
# CARGO_TARGET_DIR is honoured; the organisation settings `serve` needs are a sample desk's.
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
filter=${1:-}
margin=${BENCH_MARGIN:-1.0}
seconds=${BENCH_SECONDS:-4}
rounds=2
export CLAIMTRAIL_ORG_NAME="${CLAIMTRAIL_ORG_NAME:-Bench Desk}"
export CLAIMTRAIL_ORG_URL="${CLAIMTRAIL_ORG_URL:-https://desk.example.org/}"

# Floors (figure >= floor) and ceilings (figure <= ceiling), as ratios; NOTES.md says why.
floor_transitions_sqlite=0.30   # 37f800d's ratio to minimal_write, measured beside it
floor_transitions_postgres=0.10 # the same on PostgreSQL
# The claim view and the claim list are under issue 17's 0.5 (its target, shown as such); their
# floor holds what they reach today, a little under its lowest reading, so that they cannot
# fall back (NOTES.md: the view read 0.35-0.50, the list 0.30-0.37 on 2026-12-07).
floor_claim_view=0.33
target_claim_view=0.5
floor_lookup=1.0
floor_list_first=0.28
floor_list_late=0.28
target_list_first=0.5
target_list_late=0.5
ceiling_resolve=1.1             # quote resolution time / memmem time on 10 MB
ceiling_reanchor=1.2            # 1,000 passages re-anchored / exact re-search (issue 10: 1.13-1.20)
# Import ÷ a plain bulk insert of the same texts: 0.13 on 2026-12-07 (14.3 vs 107.8 MB/s);
# the target is issue 17's 20 MB/s over that insert's rate. The floor holds today's.
floor_import=0.11
target_import=0.19

bench_need_tools
if [ -n "${BENCH_RELEASE_DIR:-}" ]; then
    # Binaries built before (e.g. a copy of an older build's target/release): no build.
    release=$BENCH_RELEASE_DIR
    bench_bin() { find "$release/deps" -maxdepth 1 -type f -executable -name "$1-*" -printf '%T@ %p\n' | sort -n | tail -1 | cut -d' ' -f2; }
else
    echo "== cargo build --release --bins --examples --bench anchor --bench reanchor (once)" >&2
    cargo build --release --locked --bins --examples --bench anchor --bench reanchor \
        --message-format=json-render-diagnostics >"$work/build.json"
    target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
    release="$target_dir/release"
    bench_bin() {
        jq -r --arg n "$1" 'select(.reason == "compiler-artifact" and .target.name == $n
            and (.target.kind | index("bench")) and .executable != null) | .executable' \
            "$work/build.json" | tail -1
    }
fi
claimtrail="$release/claimtrail"
minimal="$release/examples/minimal_read"

results="$work/results"
: >"$results"
# result NAME SUBJECT BASELINE RATIO LIMIT min|max [TARGET]
# LIMIT blocks (the run fails past it); TARGET, when a figure's issue set one it does not meet
# yet, is shown and reported ("under target") but does not fail the run.
result() {
    printf '%s|%s|%s|%s|%s|%s|%s\n' "$1" "$2" "$3" "$4" "$5" "$6" "${7:-}" >>"$results"
    printf '   -> %s: %s / %s = %s (%s %s)\n' "$1" "$2" "$3" "$4" "$([ "$6" = min ] && echo floor || echo ceiling)" "$5"
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", (b > 0 ? a / b : 0)}'; }
best() { printf '%s\n' "$@" | sort -g | tail -1; }
wanted() { [ -z "$filter" ] || [[ $1 == *$filter* ]]; }

# ---- writes: review transitions with the audit chain beside minimal_write -------------------
loadtest="$release/examples/loadtest"
minimal_write="$release/examples/minimal_write"
# rate OUTPUT: the "(N/s)" of a loadtest line.
rate() { grep -m1 -oE '\(([0-9.]+)/s\)' <<<"$1" | tr -d '(/s)'; }

# transitions BACKEND DATABASE_URL_PREFIX
transitions() {
    local backend=$1 out r mins=() ours=() refs=() i
    # url NAME: a fresh database for one run (a new name each time: it runs in a subshell).
    url() {
        local name
        name="$1_$(date +%s%N)"
        if [ "$backend" = sqlite ]; then
            echo "$work/$name.db"
        else
            psql "$CLAIMTRAIL_TEST_PG_URL" -qc "CREATE DATABASE $name" >/dev/null
            echo "${CLAIMTRAIL_TEST_PG_URL%/postgres}/$name"
        fi
    }
    for i in $(seq "$rounds"); do
        out=$("$loadtest" --minimal "$minimal_write" --database-url "$(url minimal)" \
            --clients 16 --seconds "$seconds")
        echo "   $backend round $i: $out"
        mins+=("$(rate "$out")")
        # The whole output is read (a `head` would close the pipe under the audit line still
        # to come), and a failed audit check fails the run.
        out=$("$loadtest" --database-url "$(url load)" --clients 16 --seconds "$seconds")
        echo "$out" | sed "s/^/   $backend round $i: /"
        ours+=("$(rate "$out")")
        if [ -n "${BENCH_REFERENCE:-}" ]; then
            out=$("$BENCH_REFERENCE/target/release/examples/loadtest" \
                --binary "$BENCH_REFERENCE/target/release/claimtrail" \
                --database-url "$(url reference)" --clients 16 --seconds "$seconds")
            echo "$out" | sed "s/^/   $backend round $i (reference): /"
            refs+=("$(rate "$out")")
        fi
    done
    local m o
    m=$(best "${mins[@]}")
    o=$(best "${ours[@]}")
    local floor_var="floor_transitions_$backend"
    result "review transitions/s, $backend (vs minimal_write)" "$o" "$m" "$(ratio "$o" "$m")" "${!floor_var}" min
    if [ ${#refs[@]} -gt 0 ]; then
        r=$(best "${refs[@]}")
        echo "   reference ($BENCH_REFERENCE) $backend: $r/s, ratio $(ratio "$r" "$m") to minimal_write;" \
            "this build / reference: $(ratio "$o" "$r")"
        printf '%s|%s|%s|%s|%s|%s\n' "(reference) transitions, $backend" "$r" "$m" "$(ratio "$r" "$m")" - info >>"$results"
    fi
}

if wanted transitions; then
    echo "== review transitions with the audit chain (examples/loadtest, 16 clients, ${seconds} s) beside"
    echo "   examples/minimal_write (one INSERT per request, same durability settings), interleaved, best of $rounds"
    transitions sqlite
    # shellcheck source=scripts/pg.sh
    . scripts/pg.sh
    pg_start
    trap 'pg_stop; bench_cleanup' EXIT
    transitions postgres
    pg_stop
fi

# ---- reads beside minimal_read (wrk) ----------------------------------------------------------
connections=32
# pair NAME URL [wrk-args…]: our run, then minimal_read's, then ours and minimal_read's again;
# sets $pair_ours and $pair_min (the better of each).
pair() {
    local name=$1 pid=$2 url=$3 a b c d
    shift 3
    bench_run "claimtrail $name" "$pid" "$url" "$@"
    a=$rps
    bench_run "minimal_read GET /rows/{id}" "$min_pid" "$min_url"
    b=$rps
    bench_run "claimtrail $name" "$pid" "$url" "$@"
    c=$rps
    bench_run "minimal_read GET /rows/{id}" "$min_pid" "$min_url"
    d=$rps
    pair_ours=$(best "$a" "$c")
    pair_min=$(best "$b" "$d")
}
if wanted "claim view" || wanted lookup || wanted list; then
    bench_start_minimal
fi

if wanted "claim view"; then
    echo "== GET /v1/claims/{id} (demo data) beside minimal_read, wrk -c$connections ${seconds} s, interleaved"
    bench_start_claimtrail demo --demo
    auth="Authorization: Bearer $ct_key"
    claim=$(curl -sf -H "$auth" "$ct_url/v1/claims" | jq -r '.items[0].id')
    pair "GET /v1/claims/{id}" "$ct_pid" "$ct_url/v1/claims/$claim" -H "$auth"
    result "claim view GET /v1/claims/{id} (vs minimal_read)" "$pair_ours" "$pair_min" "$(ratio "$pair_ours" "$pair_min")" "$floor_claim_view" min "$target_claim_view"
    kill "$ct_pid"
fi

if wanted lookup; then
    echo "== GET /v1/lookup (100,000 sources, 10,000 verdicts: examples/fill_lookup) beside minimal_read"
    article=$("$release/examples/fill_lookup" --database-url "$work/lookup.db")
    bench_start_claimtrail lookup
    auth="Authorization: Bearer $ct_key"
    lookup_url="$ct_url/v1/lookup?url=$(jq -rn --arg u "$article" '$u | @uri')"
    [ "$(curl -sf -H "$auth" "$lookup_url" | jq '.claims | length')" = 1 ] \
        || { echo "error: the lookup did not find the article's claim" >&2; exit 1; }
    pair "GET /v1/lookup" "$ct_pid" "$lookup_url" -H "$auth"
    result "lookup GET /v1/lookup (vs minimal_read)" "$pair_ours" "$pair_min" "$(ratio "$pair_ours" "$pair_min")" "$floor_lookup" min
    kill "$ct_pid"
fi

if wanted list; then
    echo "== GET /v1/claims, first and late page of 50 (100,000 claims, each with a review) beside minimal_read"
    db="$work/pages.db"
    DATABASE_URL="$db" "$claimtrail" migrate >/dev/null 2>&1
    python3 - "$db" >"$work/late-cursor" <<'EOF'
import base64, os, sqlite3, sys

path, rows = sys.argv[1], 100_000
def uuid7(ms):
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return bytes(b)
at = "2026-01-02T03:04:05.678901Z"
claims = sorted(uuid7(1_767_000_000_000 + i) for i in range(rows))
reviews = sorted(uuid7(1_768_000_000_000 + i) for i in range(rows))
conn = sqlite3.connect(path)
with conn:
    conn.executemany(
        "INSERT INTO claims (id, text, claimant, created_at, review_id) VALUES (?, ?, NULL, ?, ?)",
        ((c, f"Claim {i}: the figures were as stated.", at, r)
         for i, (c, r) in enumerate(zip(claims, reviews))))
    conn.executemany(
        "INSERT INTO reviews (id, claim_id, author, state, scale_id, rating, summary, evidence_ids, "
        "revision, created_at, updated_at) VALUES (?, ?, 'bench', 'draft', 'default', 'unproven', "
        "'A review.', '[]', 1, ?, ?)",
        ((r, c, at, at) for c, r in zip(claims, reviews)))
print(base64.urlsafe_b64encode(claims[rows - 101]).rstrip(b"=").decode())
EOF
    late=$(cat "$work/late-cursor")
    bench_start_claimtrail pages
    auth="Authorization: Bearer $ct_key"
    for page in first late; do
        url="$ct_url/v1/claims"
        [ "$page" = late ] && url="$url?cursor=$late"
        [ "$(curl -sf -H "$auth" "$url" | jq '.items | length')" = 50 ] \
            || { echo "error: $url did not return 50 claims" >&2; exit 1; }
        pair "GET /v1/claims ($page page)" "$ct_pid" "$url" -H "$auth"
        floor_var="floor_list_$page"
        target_var="target_list_$page"
        result "claim list, $page page (vs minimal_read)" "$pair_ours" "$pair_min" "$(ratio "$pair_ours" "$pair_min")" "${!floor_var}" min "${!target_var}"
    done
    kill "$ct_pid"
fi

# ---- CPU benchmarks (criterion, short mode) ---------------------------------------------------
# estimate GROUP BENCH: the mean time in ns criterion measured.
estimate() { jq -r .mean.point_estimate "$CRITERION_HOME/$1/$2/new/estimates.json"; }
export CRITERION_HOME="$work/criterion" CLAIMTRAIL_BENCH_SHORT=1

if wanted resolve; then
    echo "== quote resolution on 10 MB beside memchr::memmem (benches/anchor.rs, short)"
    "$(bench_bin anchor)" --bench 'anchor_search/(memmem_find|resolve_found)$' 2>&1 | grep -E '^anchor|time:' | sed 's/^/   /'
    a=$(estimate anchor_search resolve_found)
    b=$(estimate anchor_search memmem_find)
    result "quote resolution time (vs memmem), lower is better" "$(printf %.0f "$a")ns" "$(printf %.0f "$b")ns" "$(ratio "$a" "$b")" "$ceiling_resolve" max
fi

if wanted reanchor; then
    echo "== re-anchoring 1,000 passages of 1 MB beside an exact re-search (benches/reanchor.rs, short)"
    # Run twice, the better ratio counts, as the load runs do: the short criterion run of
    # this pair has read 1.28 to 1.52 on unchanged code (NOTES.md "Benchmark floors").
    best_ratio=""
    for round in 1 2; do
        "$(bench_bin reanchor)" --bench 2>&1 | grep -E '^reanchor|time:|bytes ->' | sed "s/^/   round $round: /"
        ra=$(estimate reanchor_1mb reanchor_1000_passages)
        rb=$(estimate reanchor_1mb exact_research_1000_quotes)
        r=$(ratio "$ra" "$rb")
        if [ -z "$best_ratio" ] || awk -v r="$r" -v b="$best_ratio" 'BEGIN {exit !(r < b)}'; then
            best_ratio=$r a=$ra b=$rb
        fi
    done
    result "re-anchoring time (vs exact re-search), lower is better" "$(printf %.0f "$((${a%.*} / 1000))")us" "$(printf %.0f "$((${b%.*} / 1000))")us" "$best_ratio" "$ceiling_reanchor" max
fi

# ---- import beside a plain bulk insert --------------------------------------------------------
if wanted import; then
    articles=20000
    echo "== claimtrail import of $articles synthetic articles (figures extracted, search indexed) beside"
    echo "   a plain bulk insert of the same texts (Python's sqlite3, WAL, synchronous=NORMAL, batches of 5,000)"
    "$release/examples/scale_trace" --write-files "$work/articles" --count "$articles" | sed 's/^/   /'
    bytes=$(find "$work/articles" -name '*.txt' -printf '%s\n' | awk '{s += $1} END {print s}')
    plain() {
        python3 - "$work/articles" "$work/plain-$1.db" <<'EOF'
import os, sqlite3, sys, time
folder, path = sys.argv[1:]
conn = sqlite3.connect(path, isolation_level=None)
conn.execute("PRAGMA journal_mode=WAL")
conn.execute("PRAGMA synchronous=NORMAL")
conn.execute("CREATE TABLE texts (id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE, text TEXT NOT NULL)")
names = sorted(n for n in os.listdir(folder) if n.endswith(".txt"))
t = time.perf_counter()
for i in range(0, len(names), 5000):
    rows = []
    for n in names[i:i + 5000]:
        with open(os.path.join(folder, n), encoding="utf-8") as f:
            rows.append((n, f.read()))
    conn.execute("BEGIN")
    conn.executemany("INSERT INTO texts (name, text) VALUES (?, ?)", rows)
    conn.execute("COMMIT")
print(f"{time.perf_counter() - t:.3f}")
EOF
    }
    ours() {
        local t0 t1
        t0=$(date +%s.%N)
        DATABASE_URL="$work/import-$1.db" "$claimtrail" import "$work/articles" >/dev/null 2>&1
        t1=$(date +%s.%N)
        awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.3f", b - a}'
    }
    mb() { awk -v b="$bytes" -v s="$1" 'BEGIN {printf "%.1f", b / 1e6 / s}'; }
    p1=$(mb "$(plain 1)"); o1=$(mb "$(ours 1)"); p2=$(mb "$(plain 2)"); o2=$(mb "$(ours 2)")
    echo "   plain bulk insert: $p1, $p2 MB/s; claimtrail import: $o1, $o2 MB/s ($((bytes / 1000000)) MB)"
    o=$(best "$o1" "$o2")
    p=$(best "$p1" "$p2")
    result "import MB/s (vs plain bulk insert)" "$o" "$p" "$(ratio "$o" "$p")" "$floor_import" min "$target_import"
fi

# ---- the table ---------------------------------------------------------------------------------
echo
echo "== scripts/bench.sh at $(git rev-parse --short HEAD)$(git diff --quiet HEAD -- src || echo '+changes'), $(nproc) cores, margin $margin"
failed=0
awk -F'|' -v m="$margin" '
    BEGIN {
        printf "| %-56s | %10s | %10s | %6s | %-8s | %-9s | %-12s |\n", "figure", "value", "baseline", "ratio", "floor", "target", "verdict"
        printf "|%s|%s|%s|%s|%s|%s|%s|\n", "----------------------------------------------------------", "------------", "------------", "--------", "----------", "-----------", "--------------"
    }
    {
        if ($6 == "min") { limit = ">= " $5; ok = ($4 + 0 >= $5 * m) }
        else if ($6 == "max") { limit = "<= " $5; ok = ($4 + 0 <= $5 / m) }
        else { limit = "-"; ok = -1 }
        verdict = ok == 1 ? "pass" : (ok == 0 ? "FAIL" : "info")
        target = "-"
        if ($7 != "") {
            target = ($6 == "max" ? "<= " : ">= ") $7
            if (ok == 1 && (($6 == "min" && $4 + 0 < $7) || ($6 == "max" && $4 + 0 > $7))) verdict = "under target"
        }
        if (ok == 0) bad++
        printf "| %-56s | %10s | %10s | %6.2f | %-8s | %-9s | %-12s |\n", $1, $2, $3, $4, limit, target, verdict
    }
    END { exit bad > 0 }
' "$results" || failed=1
if [ "$failed" -ne 0 ]; then
    echo "error: a figure is below its floor (margin $margin)" >&2
    exit 1
fi
