#!/usr/bin/env bash
# Issue 7: a late page of GET /v1/claims and GET /v1/sources costs what the first page does.
# Builds a SQLite database with 100,000 claims and 100,000 sources (each with its version),
# written straight into a file `claimtrail migrate` created (the API is too slow for 100k
# rows), starts `claimtrail serve` (release) on it, and measures with wrk the first page and a
# page whose cursor is 100 rows from the end. Then runs the list statements directly (Python's
# sqlite3, same SQLite file) in today's shape (`id > $n`, nil UUID for the first page) and the
# old one (`($n IS NULL OR id > $n)`) for comparison. Loopback only; each load run is bounded
# in time; everything started here is stopped on exit.
#   scripts/bench-pages.sh [SECONDS] [CONNECTIONS] [ROWS]   (default 5 s, 8 connections, 100000)
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
seconds=${1:-5}
connections=${2:-8}
rows=${3:-100000}
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 120 ]; then echo "SECONDS: 1 to 120" >&2; exit 2; fi
if [ "$rows" -lt 1000 ] || [ "$rows" -gt 5000000 ]; then echo "ROWS: 1000 to 5000000" >&2; exit 2; fi

bench_need_tools
bench_build

db="$work/pages.db"
echo "== claimtrail migrate, then $rows claims and $rows sources written into $db"
DATABASE_URL="$db" "$claimtrail" migrate >&2
# Prints the cursors (base64url of the id bytes, as `Cursor` encodes them) of the late pages.
read -r late_claim late_source < <(python3 - "$db" "$rows" <<'EOF'
import base64, hashlib, os, sqlite3, sys, time

path, rows = sys.argv[1], int(sys.argv[2])

def uuid7(ms):
    """A UUIDv7 as 16 bytes, as the service makes its ids."""
    b = bytearray(ms.to_bytes(6, "big") + os.urandom(10))
    b[6] = 0x70 | (b[6] & 0x0F)
    b[8] = 0x80 | (b[8] & 0x3F)
    return bytes(b)

def ids(start_ms):
    return sorted(uuid7(start_ms + i) for i in range(rows))

at = "2026-01-02T03:04:05.678901Z"
claims, sources = ids(1_767_000_000_000), ids(1_767_100_000_000)
conn = sqlite3.connect(path)
with conn:
    conn.executemany(
        "INSERT INTO claims (id, text, claimant, created_at) VALUES (?, ?, NULL, ?)",
        ((cid, f"Claim {i}: the figures were as stated.", at) for i, cid in enumerate(claims)),
    )
    conn.executemany(
        "INSERT INTO sources (id, title, url, authors, latest_version, created_at) "
        "VALUES (?, ?, ?, '[]', 1, ?)",
        ((sid, f"Source {i}", f"https://example.org/{i}", at) for i, sid in enumerate(sources)),
    )
    texts = (f"The text of source {i}." for i in range(rows))
    conn.executemany(
        "INSERT INTO source_versions (source_id, number, sha256, length, text, captured_at) "
        "VALUES (?, 1, ?, ?, ?, ?)",
        ((sid, hashlib.sha256(t.encode()).hexdigest(), len(t), t, at)
         for sid, t in zip(sources, texts)),
    )
conn.close()
late = rows - 100 - 1
cursor = lambda b: base64.urlsafe_b64encode(b).rstrip(b"=").decode()
print(cursor(claims[late]), cursor(sources[late]))
EOF
)
if [ -z "${late_source:-}" ]; then echo "error: filling the database failed" >&2; exit 1; fi
echo "   $(du -h "$db" | cut -f1); late cursors: claims $late_claim, sources $late_source"

echo "== claimtrail serve on it"
bench_start_claimtrail pages
auth="Authorization: Bearer $ct_key"

# check URL: a full page of 50 whose items come after the cursor (if any).
check() {
    local url=$1 n
    n=$(curl -sf -H "$auth" "$url" | jq '.items | length')
    if [ "$n" != 50 ]; then echo "error: $url returned $n items, not 50" >&2; exit 1; fi
}

# run NAME URL: a 1 s warm-up, then the measured run; prints one line.
run() {
    local name=$1 url=$2 cpu0 cpu1
    check "$url"
    bench_wrk "$work/warmup.txt" -t1 -c"$connections" -d1s -H "$auth" "$url"
    cpu0=$(bench_cpu "$ct_pid")
    bench_wrk "$work/run.txt" -t1 -c"$connections" -d"${seconds}s" --latency -H "$auth" "$url"
    cpu1=$(bench_cpu "$ct_pid")
    server_cpu=$(awk -v a="$cpu0" -v b="$cpu1" -v s="$seconds" 'BEGIN {printf "%.0f", (b - a) / s * 100}')
    printf '%-34s %9s req/s  p50 %6s ms  p99 %6s ms  max %7s ms  server CPU %3s%%\n' \
        "$name" "$rps" "$p50" "$p99" "$max" "$server_cpu"
    if [ "$bad" -ne 0 ]; then
        echo "error: $bad of $requests responses were not 2xx or failed; wrk said:" >&2
        cat "$work/run.txt" >&2
        exit 1
    fi
}

echo "== wrk -t1 -c$connections -d${seconds}s --latency, pages of 50 ($(nproc) cores shared by server and wrk)"
run "GET /v1/claims (first page)" "$ct_url/v1/claims"
run "GET /v1/claims (late page)" "$ct_url/v1/claims?cursor=$late_claim"
run "GET /v1/sources (first page)" "$ct_url/v1/sources"
run "GET /v1/sources (late page)" "$ct_url/v1/sources?cursor=$late_source"

echo "== the statements alone (Python sqlite3 on the same file, one connection, median of 50 runs)"
python3 - "$db" "$late_claim" "$late_source" <<'EOF'
import base64, sqlite3, statistics, sys, time

path, late_claim, late_source = sys.argv[1:]
def uncursor(c):
    return base64.urlsafe_b64decode(c + "=" * (-len(c) % 4))

# As in src/store/provenance.rs (`sql::LIST_CLAIMS`, `sql::LIST_SOURCES`): today's shape, and
# the old one this benchmark compares with.
SOURCE = ("SELECT s.id, s.title, s.url, s.publisher, s.authors, s.published_at, s.created_at, "
          "v.number, v.sha256, v.length, v.captured_at FROM sources s "
          "JOIN source_versions v ON v.source_id = s.id AND v.number = s.latest_version")
STATEMENTS = {
    "claims": (
        "SELECT id, text, claimant, created_at FROM claims WHERE id > $1 ORDER BY id LIMIT $2",
        "SELECT id, text, claimant, created_at FROM claims WHERE ($1 IS NULL OR id > $1) ORDER BY id LIMIT $2",
        lambda after: {"1": after, "2": 50},
        uncursor(late_claim),
    ),
    "sources": (
        SOURCE + " WHERE ($1 IS NULL OR s.url = $1) AND s.id > $2 ORDER BY s.id LIMIT $3",
        SOURCE + " WHERE ($1 IS NULL OR s.url = $1) AND ($2 IS NULL OR s.id > $2) ORDER BY s.id LIMIT $3",
        lambda after: {"1": None, "2": after, "3": 50},
        uncursor(late_source),
    ),
}
conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
def median_ms(sql, params):
    times = []
    for _ in range(50):
        t = time.perf_counter()
        n = len(conn.execute(sql, params).fetchall())
        times.append((time.perf_counter() - t) * 1000)
    assert n == 50, n
    return statistics.median(times)

for table, (today, old, params, late) in STATEMENTS.items():
    nil = bytes(16)
    print(f"{table:8} id > $n (today)            first page {median_ms(today, params(nil)):7.3f} ms   "
          f"late page {median_ms(today, params(late)):7.3f} ms")
    print(f"{table:8} ($n IS NULL OR …) (old)  first page {median_ms(old, params(None)):7.3f} ms   "
          f"late page {median_ms(old, params(late)):7.3f} ms")
EOF
