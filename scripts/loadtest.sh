#!/usr/bin/env bash
# Review transitions per second with the audit chain, on SQLite and on PostgreSQL, from the
# load generator in examples/loadtest.rs. Loopback only; each run is bounded in time.
#   scripts/loadtest.sh [CLIENTS] [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
clients=${1:-16}
seconds=${2:-10}

cargo build --release --locked --bins --examples
# The binaries wherever cargo puts them (CARGO_TARGET_DIR is honoured).
release="$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)/release"
. scripts/pg.sh
pg_start
work=$(mktemp -d)
trap 'pg_stop; rm -rf "$work"' EXIT

echo "== SQLite (file in $work)"
"$release/examples/loadtest" --database-url "$work/load.db" --clients "$clients" --seconds "$seconds"

echo "== PostgreSQL (throwaway server from scripts/pg.sh: fsync and synchronous_commit are off)"
psql "$CLAIMTRAIL_TEST_PG_URL" -qc "CREATE DATABASE loadtest"
"$release/examples/loadtest" --database-url "${CLAIMTRAIL_TEST_PG_URL%/postgres}/loadtest" --clients "$clients" --seconds "$seconds"
