#!/usr/bin/env bash
# The whole test suite: formatting, lints, unit and integration tests on SQLite and on a real
# PostgreSQL (installed and started here), the OpenAPI document check, schemathesis against the
# real server and the compose check.
set -euo pipefail
cd "$(dirname "$0")/.."

. scripts/pg.sh
pg_start
trap pg_stop EXIT

step() { printf '\n== %s\n' "$*" >&2; }

step "cargo fmt --check"
cargo fmt --all -- --check

step "cargo clippy --all-targets -- -D warnings"
cargo clippy --locked --all-targets -- -D warnings

step "Python tools (.venv): the README's proof check needs cryptography"
[ -x .venv/bin/python ] || python3 -m venv .venv
.venv/bin/pip install -q --disable-pip-version-check cryptography openapi-spec-validator jsonschema pyyaml
# The API tests run the README's Python with this interpreter.
export CLAIMTRAIL_TEST_PYTHON="$PWD/.venv/bin/python"

step "tests (SQLite and PostgreSQL)"
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --locked --no-fail-fast
    cargo test --locked --doc
else
    cargo test --locked --no-fail-fast
fi

step "OpenAPI document passes openapi-spec-validator"
.venv/bin/openapi-spec-validator openapi/openapi.json

step "schemathesis against the real server (SQLite)"
bash scripts/schemathesis.sh

step "docker-compose.yml and Dockerfile"
bash scripts/check-compose.sh

step "all checks passed"
