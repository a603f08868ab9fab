#!/usr/bin/env bash
# npm run bench:rss — serve a ~2 GB Arrow file and report the server's RSS while streaming it.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/apache-arrow ] || npm install --no-audit --no-fund
bash scripts/setup-python.sh >/dev/null
npx tsc -p tsconfig.build.json
DATA=bench/.data-large
mkdir -p "$DATA"
node --import tsx bench/large-file.ts "$DATA"
# A reader account for the benchmark (kept if it exists from an earlier run).
FG_CLI="node bin/flightgate.js"
$FG_CLI roles create bench --data-dir "$DATA" >/dev/null 2>&1 || true
$FG_CLI roles grant bench --dataset '*' --action read --data-dir "$DATA" >/dev/null
printf 'bench-password\n' | $FG_CLI users add bench --role bench --password-stdin --data-dir "$DATA" >/dev/null 2>&1 || true
LOG=$(mktemp)
FLIGHTGATE_AUDIT_FILE=/dev/null node bin/flightgate.js serve --port 0 --http-port 0 --data-dir "$DATA" >"$LOG" 2>&1 &
FG=$!
trap 'kill $FG 2>/dev/null || true; wait $FG 2>/dev/null || true; rm -f "$LOG"' EXIT
until grep -q '^flightgate listening on' "$LOG"; do kill -0 $FG || { cat "$LOG"; exit 1; }; sleep 0.2; done
URI=$(sed -n 's/^flightgate listening on //p' "$LOG")
ls -l "$DATA"/large.arrows | awk '{printf "{\"file_bytes\": %s}\n", $5}'
.venv/bin/python bench/read_large.py "$URI" "$FG" large
.venv/bin/python bench/read_large.py "$URI" "$FG" large
