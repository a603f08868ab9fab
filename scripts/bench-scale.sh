#!/usr/bin/env bash
# npm run bench:scale: how cost grows with datasets, concurrent readers and concurrent uploads (and replicas),
# flightgate against a pyarrow Flight server doing the same (bench/scale.py). Each part starts and
# stops its own servers; the scratch directory is removed on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/apache-arrow ] || npm install --no-audit --no-fund
bash scripts/setup-python.sh >/dev/null
npx tsc -p tsconfig.build.json
WORK=$(mktemp -d "${TMPDIR:-/tmp}/fg-bench-scale-XXXXXX")
trap 'rm -rf "$WORK"' EXIT
.venv/bin/python bench/scale.py "$WORK"
.venv/bin/python bench/sessions_scale.py "$WORK"
# Replicas: DoGet spread over 1-3 replicas sharing a directory, and append latency with the catalog in PostgreSQL vs embedded.
bash scripts/setup-services.sh
node --import tsx bench/replicas.mts
