#!/usr/bin/env bash
# npm run bench: flightgate vs the pyarrow Flight server, driven by the pyarrow client.
# The 10M-row demo dataset is generated once into bench/.data and reused.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/apache-arrow ] || npm install --no-audit --no-fund
bash scripts/setup-python.sh >/dev/null
npx tsc -p tsconfig.build.json
DATA=bench/.data
mkdir -p "$DATA"
LOG=$(mktemp)
node bin/flightgate.js serve --demo --port 0 --data-dir "$DATA" >"$LOG" 2>&1 &
FG=$!
trap 'kill $FG 2>/dev/null || true; wait $FG 2>/dev/null || true; rm -f "$LOG"' EXIT
for _ in $(seq 1 600); do
  grep -q '^flightgate listening on' "$LOG" && break
  kill -0 $FG 2>/dev/null || { cat "$LOG"; exit 1; }
  sleep 0.2
done
URI=$(sed -n 's/^flightgate listening on //p' "$LOG")
.venv/bin/python bench/flight_bench.py "$URI" "$FG" "$DATA/numbers.arrows"
