#!/usr/bin/env bash
# Validate the container setup as far as is possible without a Docker engine:
#   1. docker-compose.yml against the Compose Specification JSON Schema
#      (../shared/schemas/compose-spec.json, relative to the repo root);
#   2. every service with `build:` points at a directory holding its Dockerfile;
#   3. Dockerfile sanity: FROM lines, ENTRYPOINT in the final stage, `cargo build --release --locked`;
#   4. `docker compose config -q`, if the compose plugin is installed (it needs no engine).
#
# Usage: scripts/check-compose.sh [COMPOSE_FILE]   (default: docker-compose.yml)
# A relative COMPOSE_FILE is taken relative to the current directory.
# Python deps (jsonschema, pyyaml) go into .venv in the repo root.
set -euo pipefail

compose_arg="${1:-}"
if [[ -n "$compose_arg" && "$compose_arg" != /* ]]; then
    compose_arg="$PWD/$compose_arg"
fi

cd "$(dirname "$0")/.."
repo_root="$PWD"
compose_file="${compose_arg:-$repo_root/docker-compose.yml}"
schema="$(cd "$repo_root/.." && pwd)/shared/schemas/compose-spec.json"

[[ -f "$compose_file" ]] || { echo "FAIL: compose file not found: $compose_file" >&2; exit 1; }
[[ -f "$schema" ]] || { echo "FAIL: schema not found: $schema" >&2; exit 1; }

if [[ ! -x .venv/bin/python ]]; then
    echo "creating .venv"
    python3 -m venv .venv
fi
if ! .venv/bin/python -c 'import jsonschema, yaml' 2>/dev/null; then
    echo "installing jsonschema and pyyaml into .venv"
    .venv/bin/pip install -q jsonschema pyyaml
fi

echo "compose file: $compose_file"
echo "schema:       $schema"

.venv/bin/python - "$compose_file" "$schema" <<'PY'
import json
import os
import re
import sys

import jsonschema
import yaml

compose_path, schema_path = sys.argv[1], sys.argv[2]
failures = []


def fail(msg):
    failures.append(msg)
    print(f"  FAIL: {msg}")


# 1. Schema validation.
print("[1] compose file against the Compose Specification schema")
with open(schema_path) as f:
    schema = json.load(f)
try:
    with open(compose_path) as f:
        doc = yaml.safe_load(f)
except yaml.YAMLError as e:
    fail(f"YAML does not parse: {e}")
    doc = None

if doc is not None:
    # The schema declares draft-07 as "https://json-schema.org/draft-07/schema" (no trailing
    # "#"), which jsonschema does not recognise; name the draft explicitly.
    cls = jsonschema.Draft7Validator
    cls.check_schema(schema)
    validator = cls(schema)
    errors = sorted(validator.iter_errors(doc), key=lambda e: list(e.absolute_path))
    for e in errors:
        where = "/".join(str(p) for p in e.absolute_path) or "(top level)"
        fail(f"{where}: {e.message}")
    if not errors:
        print("  ok: valid")

# 2. build contexts.
print("[2] services with build: point at a directory with a Dockerfile")
dockerfiles = []
services = (doc or {}).get("services") or {}
compose_dir = os.path.dirname(os.path.abspath(compose_path))
if isinstance(services, dict):
    for name, svc in services.items():
        if not isinstance(svc, dict) or "build" not in svc:
            continue
        build = svc["build"]
        if isinstance(build, str):
            context, dockerfile = build, "Dockerfile"
        elif isinstance(build, dict):
            context = build.get("context", ".")
            dockerfile = build.get("dockerfile", "Dockerfile")
            if "dockerfile_inline" in build:
                print(f"  ok: {name}: inline Dockerfile")
                continue
        else:
            fail(f"{name}: build is neither a string nor a mapping")
            continue
        if re.match(r"^[a-z][a-z0-9+.-]*://", str(context)) or str(context).startswith("git@"):
            print(f"  skip: {name}: remote build context {context}")
            continue
        ctx = os.path.normpath(os.path.join(compose_dir, context))
        path = os.path.normpath(os.path.join(ctx, dockerfile))
        if not os.path.isdir(ctx):
            fail(f"{name}: build context {ctx} is not a directory")
        elif not os.path.isfile(path):
            fail(f"{name}: no Dockerfile at {path}")
        else:
            print(f"  ok: {name}: {path}")
            dockerfiles.append(path)
if not dockerfiles and not failures:
    print("  (no service builds locally)")

# 3. Dockerfile sanity.
print("[3] Dockerfile sanity")
for path in dict.fromkeys(dockerfiles):
    with open(path) as f:
        text = f.read()
    # Join continuation lines, drop comments and blank lines.
    text = re.sub(r"\\\n", " ", text)
    lines = [l.strip() for l in text.splitlines()]
    lines = [l for l in lines if l and not l.startswith("#")]
    froms = [i for i, l in enumerate(lines) if re.match(r"(?i)^FROM\s", l)]
    if not froms:
        fail(f"{path}: no FROM line")
        continue
    print(f"  ok: {path}: {len(froms)} stage(s): "
          + ", ".join(lines[i].split(None, 1)[1] for i in froms))
    final = lines[froms[-1]:]
    if any(re.match(r"(?i)^ENTRYPOINT\s", l) for l in final):
        print("  ok: final stage has ENTRYPOINT")
    else:
        fail(f"{path}: final stage has no ENTRYPOINT")
    if re.search(r"cargo\s+build\s+(?=[^\n]*--release)(?=[^\n]*--locked)", "\n".join(lines)):
        print("  ok: cargo build --release --locked")
    else:
        fail(f"{path}: no `cargo build --release --locked`")

# 4. Secrets come from the env file, and the organisation has no default.
print("[4] no secret or organisation written into the compose file")
for name, svc in (services or {}).items():
    env = (svc or {}).get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, None) for e in env)
    for key, value in env.items():
        text = "" if value is None else str(value)
        if "PASSWORD" in key.upper() and text and not text.startswith("${"):
            fail(f"{name}: {key} is written in the compose file; read it from .env")
        if re.search(r"://[^/@:]+:[^/@]+@", text):
            fail(f"{name}: {key} holds a URL with a password")
        if key == "CLAIMTRAIL_ORG_NAME" and re.search(r"\$\{CLAIMTRAIL_ORG_NAME:?-", text):
            fail(f"{name}: CLAIMTRAIL_ORG_NAME has a default; it must stay required")
if not failures:
    print("  ok")

sys.exit(1 if failures else 0)
PY

echo "[5] docker compose config -q"
if command -v docker >/dev/null 2>&1 && docker compose version >/dev/null 2>&1; then
    docker compose -f "$compose_file" config -q
    echo "  ok: docker compose accepts the file"
else
    echo "  skip: the docker compose plugin is not installed"
fi

echo "all checks passed"
