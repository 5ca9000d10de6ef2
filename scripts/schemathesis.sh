#!/usr/bin/env bash
# A client no one here wrote: schemathesis (pinned in scripts/requirements-schemathesis.txt,
# installed into .venv) generates requests from the served OpenAPI document and runs them
# against the real server on a fresh SQLite file, on loopback only. It fails on any response
# that is a server error or that the document does not describe (status code, content type,
# body schema).
#
#   scripts/schemathesis.sh [extra schemathesis run options]
#
# Environment: SCHEMATHESIS_MAX_EXAMPLES (test cases per operation and phase, default 100),
# SCHEMATHESIS_SEED (default: a fixed seed, so that CI runs repeat; `random` for a new one),
# SCHEMATHESIS_TIMEOUT (hard limit for the run in seconds, default 480).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD

max_examples=${SCHEMATHESIS_MAX_EXAMPLES:-100}
seed=${SCHEMATHESIS_SEED:-20261127}
run_timeout=${SCHEMATHESIS_TIMEOUT:-480}

[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check -r scripts/requirements-schemathesis.txt

cargo build --locked --quiet --bin claimtrail
bin="${CARGO_TARGET_DIR:-$root/target}/debug/claimtrail"

work=$(mktemp -d /tmp/claimtrail-schemathesis.XXXXXX)
server_pid=""
cleanup() {
    if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    if [ -n "${SCHEMATHESIS_KEEP:-}" ]; then
        echo "schemathesis.sh: kept $work (server.log, claimtrail.db)" >&2
    else
        rm -rf "$work"
    fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

export DATABASE_URL="$work/claimtrail.db"
export CLAIMTRAIL_LOG_KEY_FILE="$work/claimtrail-log.key"
export NO_COLOR=1
export RUST_LOG=${RUST_LOG:-info,sqlx=warn}

# The run's own key, made before the server starts: an admin may do everything.
token=$("$bin" keys create --person schemathesis --role admin 2>/dev/null)
case "$token" in
    ct_*) ;;
    *) echo "schemathesis.sh: no admin key from \`claimtrail keys create\`" >&2; exit 1 ;;
esac

# Port 0: the kernel picks a free port, the server logs which.
# Private webhook URLs allowed: endpoints the run creates are then not resolved (no DNS).
CLAIMTRAIL_ORG_NAME="Schemathesis Desk" CLAIMTRAIL_ORG_URL=https://desk.example.org/ \
    CLAIMTRAIL_WEBHOOK_ALLOW_PRIVATE=true \
    "$bin" serve --bind 127.0.0.1:0 >"$work/server.log" 2>&1 &
server_pid=$!
base=""
for _ in $(seq 1 300); do
    base=$(grep -o 'listening on http://127\.0\.0\.1:[0-9]*' "$work/server.log" | head -n1 | sed 's/^listening on //') || true
    if [ -n "$base" ] && curl -fsS "$base/health" >/dev/null 2>&1; then
        break
    fi
    if ! kill -0 "$server_pid" 2>/dev/null; then
        echo "schemathesis.sh: the server exited:" >&2
        cat "$work/server.log" >&2
        exit 1
    fi
    base=""
    sleep 0.1
done
[ -n "$base" ] || { echo "schemathesis.sh: the server did not answer /health" >&2; cat "$work/server.log" >&2; exit 1; }
echo "schemathesis.sh: server at $base (SQLite $DATABASE_URL), $max_examples examples per operation" >&2

seed_args=()
[ "$seed" = random ] || seed_args=(--seed "$seed")

status=0
# The report directory and hypothesis' example database stay in the temporary directory.
(
    cd "$work"
    timeout --signal=INT --kill-after=30 "$run_timeout" \
        "$root/.venv/bin/python" "$root/scripts/schemathesis_run.py" run "$base/openapi.json" \
        --checks not_a_server_error,status_code_conformance,content_type_conformance,response_schema_conformance \
        --header "Authorization: Bearer $token" \
        --max-examples "$max_examples" \
        "${seed_args[@]}" \
        --workers 2 \
        --request-timeout 30 \
        --generation-database none \
        --no-color \
        "$@"
) || status=$?

# The run must have kept its own key: a run whose requests were all refused proves nothing.
if kill -0 "$server_pid" 2>/dev/null; then
    key_status=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $token" "$base/v1/keys" || true)
    if [ "$key_status" != 200 ]; then
        echo "schemathesis.sh: the run's key no longer works (GET /v1/keys: $key_status)" >&2
        status=1
    fi
fi
if ! kill -0 "$server_pid" 2>/dev/null; then
    echo "schemathesis.sh: the server died during the run:" >&2
    tail -n 50 "$work/server.log" >&2
    status=1
fi
if grep -q ' ERROR ' "$work/server.log"; then
    echo "schemathesis.sh: the server logged errors:" >&2
    grep ' ERROR ' "$work/server.log" | head -n 20 >&2
fi
if [ "$status" -eq 124 ] || [ "$status" -eq 130 ]; then
    echo "schemathesis.sh: the run took longer than ${run_timeout}s" >&2
fi
exit "$status"
