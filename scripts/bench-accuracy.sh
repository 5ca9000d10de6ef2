#!/usr/bin/env bash
# Accuracy of the figure extractor beside quantulum3 (scripts/accuracy.py says how it is
# measured). Installs quantulum3 (pinned) in .venv-accuracy on first use and builds the release
# binary. Usage: scripts/bench-accuracy.sh
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
if [ ! -x .venv-accuracy/bin/python ]; then
    python3 -m venv .venv-accuracy
fi
.venv-accuracy/bin/pip install -q --disable-pip-version-check quantulum3==0.10.0
cargo build --release --quiet
target_dir=$(cargo metadata --format-version 1 --no-deps | jq -r .target_directory)
.venv-accuracy/bin/python -W ignore scripts/accuracy.py "$target_dir/release/claimtrail"
