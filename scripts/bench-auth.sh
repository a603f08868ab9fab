#!/usr/bin/env bash
# Authenticated small calls, logins and the cost of bearer validation: flightgate vs a pyarrow
# Flight server with Basic→Bearer middleware, driven by the pyarrow client (bench/auth_calls_bench.py).
source "$(dirname "$0")/bench-common.sh"

mkdir -p "$WORK/fg" "$WORK/open"
# The audit log goes to a real file: writing it is part of what an authenticated call costs.
FLIGHTGATE_AUDIT_FILE="$WORK/audit.log" FLIGHTGATE_DEMO_NUMBERS_ROWS=1000 \
  node bin/flightgate.js serve --demo --port 0 --http-port 0 --data-dir "$WORK/fg" >"$WORK/fg.log" 2>&1 &
FG_PID=$!; PIDS+=($!); wait_line "$WORK/fg.log" '^flightgate listening on' $!
node bench/unauthenticated_server.mjs "$WORK/open" >"$WORK/open.log" 2>&1 &
PIDS+=($!); wait_line "$WORK/open.log" '^flightgate listening on' $!
.venv/bin/python bench/pyarrow_basic_bearer_server.py >"$WORK/py.log" 2>&1 &
PY_PID=$!; PIDS+=($!); wait_line "$WORK/py.log" '^listening on' $!

FG=$(sed -n 's/^flightgate listening on //p' "$WORK/fg.log")
OPEN=$(sed -n 's/^flightgate listening on //p' "$WORK/open.log")
PY="grpc://127.0.0.1:$(sed -n 's/^listening on //p' "$WORK/py.log")"
FG_PID=$FG_PID PY_PID=$PY_PID .venv/bin/python bench/auth_calls_bench.py "$FG" "$OPEN" "$PY"
# The same check measured in-process, free of network and client noise.
node --import tsx bench/bearer-validation.mts
