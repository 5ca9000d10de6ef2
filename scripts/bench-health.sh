#!/usr/bin/env bash
# GET /health latency while four CPU-heavy quote resolutions run (issue 7: p99 under 5 ms).
# Stores a source of ~2 MB of "a " and keeps four clients posting the quote "a" to it (an
# ambiguous quote: refused, but only after the full resolution), while wrk measures /health;
# then an open-loop probe (one request every 10 ms, latency counted from when it was due,
# so a stall is not hidden by fewer samples) does the same. Loopback only; every client
# stops by itself; everything started here is stopped on exit.
#   scripts/bench-health.sh [SECONDS] [CONNECTIONS]    (default 10 s; wrk -t1 -c4 on /health)
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
seconds=${1:-10}
connections=${2:-4}
heavy_clients=4
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 120 ]; then echo "SECONDS: 1 to 120" >&2; exit 2; fi

bench_need_tools
bench_build

echo "== claimtrail serve (SQLite file in $work)"
bench_start_claimtrail claimtrail
auth="Authorization: Bearer $ct_key"

python3 -c '
import json, sys
json.dump({"title": "bench: 2 MB of \"a \"", "text": "a " * (1 << 20)}, sys.stdout)
' >"$work/source.json"
source=$(curl -sf -H "$auth" -H 'content-type: application/json' \
    --data-binary @"$work/source.json" "$ct_url/v1/sources" | jq -r .id)
echo "   source $source: 2,097,152 bytes of text (\"a \" x 1,048,576)"
passages="$ct_url/v1/sources/$source/passages"
echo '{"quote":"a"}' >"$work/quote.json"

heavy() {
    curl -s -o "$work/heavy-body.$BASHPID" -w '%{http_code} %{time_total} %{size_download}\n' \
        --max-time 60 -H "$auth" -H 'content-type: application/json' \
        --data-binary @"$work/quote.json" "$passages"
}

echo "== one heavy request alone (POST …/passages {\"quote\":\"a\"}): status, seconds, response bytes"
echo "   first (folds the text and builds its index): $(heavy)"
for i in 1 2 3; do
    echo "   again ($i):                                   $(heavy)"
done
body=$(find "$work" -name 'heavy-body.*' | head -1)
type=$(jq -r .type "$body")
count=$(jq -r '.candidate_count // empty' "$body")
echo "   problem type: $type${count:+, count $count}"

# The probe: a new connection and one GET /health every 10 ms for $1 seconds, each sent on
# time whatever the earlier ones are doing (open loop: a stalled server cannot make the probe
# send fewer requests, as it does to wrk's fixed connections); latency from connect to the
# whole response. "late" is how far behind schedule the probe itself sent (its own CPU share).
probe() {
    python3 - "$ct_url" "$1" <<'EOF'
import asyncio, sys, time, urllib.parse

url = urllib.parse.urlparse(sys.argv[1])
seconds, interval = float(sys.argv[2]), 0.010

async def one(due, lat, late):
    await asyncio.sleep(max(0.0, due - time.monotonic()))
    t0 = time.monotonic()
    late.append(t0 - due)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    writer.write(b"GET /health HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
    response = await asyncio.wait_for(reader.read(), 30)
    lat.append(time.monotonic() - t0)
    writer.close()
    if not response.startswith(b"HTTP/1.1 200"):
        raise SystemExit(f"/health answered {response[:40]!r}")

async def main():
    lat, late = [], []
    start = time.monotonic() + 0.05
    n = int(seconds / interval)
    await asyncio.gather(*(one(start + k * interval, lat, late) for k in range(n)))
    lat.sort()
    q = lambda p: lat[min(len(lat) - 1, int(p * len(lat)))] * 1000
    print(f"{len(lat)} requests  p50 {q(0.50):6.2f} ms  p90 {q(0.90):6.2f} ms  "
          f"p99 {q(0.99):7.2f} ms  max {lat[-1] * 1000:7.2f} ms  (probe late: max {max(late) * 1000:.1f} ms)")

asyncio.run(main())
EOF
}

# health_row LABEL: wrk on /health for $seconds; prints one line.
health_row() {
    local cpu0 cpu1 m0 m1
    cpu0=$(bench_cpu "$ct_pid")
    m0=$(bench_machine)
    bench_wrk "$work/health.txt" -t1 -c"$connections" -d"${seconds}s" --latency "$ct_url/health"
    m1=$(bench_machine)
    cpu1=$(bench_cpu "$ct_pid")
    # "other" includes the heavy clients' curl processes (small).
    printf '%-24s %9s req/s  p50 %6s ms  p90 %6s ms  p99 %7s ms  max %7s ms  CPU: server %3s%%  wrk %3s%%  other %3s%%\n' \
        "$1" "$rps" "$p50" "$p90" "$p99" "$max" \
        "$(awk -v a="$cpu0" -v b="$cpu1" -v s="$seconds" 'BEGIN {printf "%.0f", (b - a) / s * 100}')" \
        "$(awk -v c="$wrk_cpu" -v s="$seconds" 'BEGIN {printf "%.0f", c / s * 100}')" \
        "$(bench_other_pct "$m0" "$m1" "$(awk -v a="$cpu0" -v b="$cpu1" -v w="$wrk_cpu" 'BEGIN {print b - a + w}')" "$seconds")"
    [ "$bad" -eq 0 ] || { echo "error: $bad bad /health responses" >&2; cat "$work/health.txt" >&2; exit 1; }
}

# heavy_loops SECONDS: starts $heavy_clients loops that each post the quote until SECONDS
# from now (a request in flight then still finishes, within curl's 60 s limit).
heavy_loops() {
    local until=$(($(date +%s) + $1)) c
    loop_pids=()
    for c in $(seq "$heavy_clients"); do
        (while [ "$(date +%s)" -lt "$until" ]; do heavy; done >"$work/heavy.$c.txt") &
        loop_pids+=($!)
        pids+=($!)
    done
}
heavy_report() {
    wait "${loop_pids[@]}"
    cat "$work"/heavy.*.txt | awk '
        {n++; t += $2; if ($2 > m) m = $2; s[$1]++}
        END {
            printf "   heavy requests done: %d, mean %.3f s, max %.3f s, status", n, n ? t / n : 0, m
            for (k in s) printf " %s x%d", k, s[k]
            print ""
        }'
    rm -f "$work"/heavy.*.txt
}

echo "== GET /health, wrk -t1 -c$connections -d${seconds}s --latency (CPU in % of one core; $(nproc) cores)"
health_row "idle"
heavy_loops $((seconds + 2))
sleep 1
health_row "$heavy_clients heavy clients running"
heavy_report

echo "== GET /health, open-loop probe: a new connection and request every 10 ms for ${seconds} s"
echo "   idle:                    $(probe "$seconds")"
heavy_loops $((seconds + 2))
sleep 1
echo "   $heavy_clients heavy clients running: $(probe "$seconds")"
heavy_report
