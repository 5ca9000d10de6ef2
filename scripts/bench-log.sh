#!/usr/bin/env bash
# The transparency log at scale: GET /v1/audit/checkpoint, inclusion proofs of random entries
# and consistency proofs between random sizes, on an SQLite log of COUNT entries (default
# 1,000,000, appended by examples/fill_audit.rs as every write appends them), beside the
# minimal_read baseline (examples/minimal_read.rs) under the same load. Loopback only; each
# load run is bounded in time; everything started here is stopped on exit.
#   scripts/bench-log.sh [SECONDS] [CONNECTIONS] [COUNT]   (default 10 s, 32 connections)
set -euo pipefail
# shellcheck source=scripts/bench-common.sh
. "$(dirname "$0")/bench-common.sh"
seconds=${1:-10}
connections=${2:-32}
count=${3:-1000000}
if [ "$seconds" -lt 1 ] || [ "$seconds" -gt 120 ]; then echo "SECONDS: 1 to 120" >&2; exit 2; fi

bench_need_tools
bench_build

echo "== examples/fill_audit ($count entries; SQLite file in $work)"
"$target_dir/release/examples/fill_audit" --database-url "$work/log.db" --count "$count" | sed 's/^/   /'
echo "   $(du -h "$work/log.db" | cut -f1)"
bench_start_claimtrail log
auth="Authorization: Bearer $ct_key"
size=$(curl -sf "$ct_url/v1/audit/checkpoint" | sed -n 2p)
echo "   the checkpoint's size: $size"

# Requests that rotate over random entries and sizes (fixed seed).
python3 - "$size" >"$work/inclusion.lua" <<'PY'
import random, sys
size = int(sys.argv[1]); r = random.Random(7)
paths = [f"/v1/audit/proof/inclusion?seq={r.randint(1, size)}&size={size}" for _ in range(1000)]
print("local paths = {" + ",".join(f'"{p}"' for p in paths) + "}")
print("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend")
PY
python3 - "$size" >"$work/consistency.lua" <<'PY'
import random, sys
size = int(sys.argv[1]); r = random.Random(8)
paths = [f"/v1/audit/proof/consistency?from={r.randint(1, size)}&to={size}" for _ in range(1000)]
print("local paths = {" + ",".join(f'"{p}"' for p in paths) + "}")
print("local i = 0\nrequest = function()\n  i = i % #paths + 1\n  return wrk.format(nil, paths[i])\nend")
PY
curl -sf -H "$auth" "$ct_url/v1/audit/proof/inclusion?seq=1" | jq -c '{leaf_index, tree_size, hashes: (.hashes | length)}' | sed 's/^/   inclusion of entry 1: /'

bench_start_minimal

echo "== wrk -t1 -c$connections -d${seconds}s --latency (2 s warm-up first; $(nproc) cores shared by server and wrk;"
echo "   CPU in % of one core; \"other\" is everything else on the machine, which skews the figures)"
bench_run "GET /v1/audit/checkpoint" "$ct_pid" "$ct_url/v1/audit/checkpoint"
cp_rps=$rps
bench_run "inclusion proofs (random seq)" "$ct_pid" "$ct_url" -H "$auth" -s "$work/inclusion.lua"
inc_rps=$rps
bench_run "consistency proofs (random from)" "$ct_pid" "$ct_url" -H "$auth" -s "$work/consistency.lua"
con_rps=$rps
bench_run "minimal_read GET /rows/{id}" "$min_pid" "$min_url"
min_rps=$rps
awk -v a="$cp_rps" -v b="$inc_rps" -v c="$con_rps" -v m="$min_rps" \
    'BEGIN {printf "ratios to minimal_read: checkpoint %.2f, inclusion %.2f, consistency %.2f\n", a / m, b / m, c / m}'
