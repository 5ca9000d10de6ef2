# shellcheck shell=bash disable=SC2034
# Shared by scripts/bench-read.sh and scripts/bench-health.sh (sourced, not run).
# Starts servers on loopback ports they choose themselves, reads their addresses from their
# output, and stops everything it started on exit.

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1

# The release binaries, wherever cargo puts them (CARGO_TARGET_DIR is honoured).
bench_build() {
    echo "== cargo build --release --bins --examples" >&2
    cargo build --release --locked --bins --examples >&2
    target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
    claimtrail="$target_dir/release/claimtrail"
    minimal="$target_dir/release/examples/minimal_read"
}

bench_need_tools() {
    if ! command -v wrk >/dev/null; then
        echo "== installing wrk (Debian package)" >&2
        if [ "$(id -u)" = 0 ]; then
            apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
        else
            sudo apt-get install -y wrk >&2 || { sudo apt-get update >&2 && sudo apt-get install -y wrk >&2; }
        fi
    fi
    for tool in wrk curl jq python3; do
        command -v "$tool" >/dev/null || { echo "error: $tool is required" >&2; exit 1; }
    done
}

work=$(mktemp -d)
# The servers' transparency-log key, made at their first start: in the run's directory.
export CLAIMTRAIL_LOG_KEY_FILE="$work/claimtrail-log.key"
pids=()
bench_cleanup() {
    local pid
    for pid in "${pids[@]}"; do
        kill "$pid" 2>/dev/null || true
    done
    for pid in "${pids[@]}"; do
        wait "$pid" 2>/dev/null || true
    done
    rm -rf "$work"
}
trap bench_cleanup EXIT
trap 'exit 130' INT TERM

# bench_wait_addr LOGFILE PID: the http://127.0.0.1:PORT the process prints, within 30 s.
bench_wait_addr() {
    local log=$1 pid=$2 addr
    for _ in $(seq 300); do
        addr=$(grep -aoE 'http://127\.0\.0\.1:[0-9]+' "$log" | head -1 || true)
        if [ -n "$addr" ]; then
            echo "$addr"
            return 0
        fi
        if ! kill -0 "$pid" 2>/dev/null; then
            echo "error: the server exited; its output:" >&2
            cat "$log" >&2
            return 1
        fi
        sleep 0.1
    done
    echo "error: no address from the server within 30 s; its output:" >&2
    cat "$log" >&2
    return 1
}

# bench_start_claimtrail NAME [serve flags…]: starts the real service on a fresh SQLite file
# and a free loopback port; sets $ct_pid, $ct_url and $ct_key (an admin key made with the CLI).
bench_start_claimtrail() {
    local name=$1
    shift
    local db="$work/$name.db"
    ct_key=$(DATABASE_URL="$db" "$claimtrail" keys create --person bench --role admin 2>/dev/null)
    NO_COLOR=1 DATABASE_URL="$db" CLAIMTRAIL_BIND=127.0.0.1:0 \
        CLAIMTRAIL_ORG_NAME="${CLAIMTRAIL_ORG_NAME:-Bench Desk}" \
        CLAIMTRAIL_ORG_URL="${CLAIMTRAIL_ORG_URL:-https://desk.example.org/}" \
        "$claimtrail" serve "$@" >"$work/$name.log" 2>&1 &
    ct_pid=$!
    pids+=("$ct_pid")
    ct_url=$(bench_wait_addr "$work/$name.log" "$ct_pid")
}

# CPU seconds (user + system) a process has used so far.
bench_cpu() {
    local ticks
    ticks=$(awk '{print $14 + $15}' "/proc/$1/stat")
    awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN {printf "%.2f", t / hz}'
}

# Busy and total jiffies of the whole machine so far ("busy total"), from /proc/stat.
bench_machine() {
    awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8 + $9, $2 + $3 + $4 + $5 + $6 + $7 + $8 + $9}' /proc/stat
}

# bench_other_pct "BEFORE" "AFTER" CPU_SECONDS_OF_OURS SECONDS: percent of one core used by
# everything else on the machine in between (other jobs would skew the figures).
bench_other_pct() {
    awk -v a="$1" -v b="$2" -v ours="$3" -v s="$4" -v hz="$(getconf CLK_TCK)" 'BEGIN {
        split(a, x, " "); split(b, y, " ")
        printf "%.0f", ((y[1] - x[1]) / hz - ours) / s * 100
    }'
}

# Milliseconds from a wrk latency figure ("812.00us", "7.91ms", "1.02s").
bench_ms() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) n /= 1000
        else if (v ~ /ms$/) n *= 1
        else if (v ~ /m$/) n *= 60000
        else if (v ~ /s$/) n *= 1000
        printf "%.2f", n
    }'
}

# bench_wrk OUTFILE wrk-args…: runs wrk (its CPU time goes to $wrk_cpu), then sets $rps,
# $p50, $p90, $p99 and $max (ms), $requests and $bad (non-2xx responses plus socket errors).
bench_wrk() {
    local out=$1 times
    shift
    local TIMEFORMAT='%U %S'
    times=$({ time wrk "$@" >"$out" 2>&1; } 2>&1) || {
        cat "$out" >&2
        return 1
    }
    wrk_cpu=$(awk '{printf "%.2f", $1 + $2}' <<<"$times")
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$out")
    p50=$(bench_ms "$(awk '$1 == "50%" {print $2}' "$out")")
    p90=$(bench_ms "$(awk '$1 == "90%" {print $2}' "$out")")
    p99=$(bench_ms "$(awk '$1 == "99%" {print $2}' "$out")")
    max=$(bench_ms "$(awk '$1 == "Latency" && NF >= 4 {print $4; exit}' "$out")")
    requests=$(awk '/requests in/ {print $1}' "$out")
    local non2xx errors
    non2xx=$(awk '/Non-2xx or 3xx responses:/ {print $NF}' "$out")
    errors=$(awk '/Socket errors:/ {
        for (i = 1; i <= NF; i++) if ($i ~ /^[0-9]+,?$/) s += $i
        print s + 0
    }' "$out")
    bad=$((${non2xx:-0} + ${errors:-0}))
}

# bench_run NAME PID URL [wrk-args…]: a 2 s warm-up, then the measured run of $seconds with
# $connections; prints one line and sets $rps and $p99. Fails on responses that are not 2xx,
# unless $allow_304 is set (wrk counts a 304 as "Non-2xx or 3xx").
bench_run() {
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
    if [ "$bad" -ne 0 ] && [ -z "${allow_304:-}" ]; then
        echo "error: $bad of $requests responses were not 2xx or failed; wrk said:" >&2
        cat "$work/run.txt" >&2
        exit 1
    fi
}

# bench_start_minimal: the baseline, examples/minimal_read (axum + sqlx, one SQLite row by
# key), on a free loopback port; sets $min_pid and $min_url.
bench_start_minimal() {
    echo "== examples/minimal_read"
    "$minimal" --database "$work/minimal.db" --port 0 >"$work/minimal.log" 2>&1 &
    min_pid=$!
    pids+=("$min_pid")
    local base row
    base=$(bench_wait_addr "$work/minimal.log" "$min_pid")
    row=$(awk '$1 == "id" {print $2; exit}' "$work/minimal.log")
    min_url="$base/rows/$row"
    curl -sf "$min_url" >"$work/row.json"
    echo "   $min_url ($(wc -c <"$work/row.json") bytes)"
}
