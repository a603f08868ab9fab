#!/usr/bin/env bash
# npm run bench: flightgate vs the pyarrow Flight server, driven by the pyarrow client.
# The 10M-row demo dataset is generated once into bench/.data and reused. flightgate runs twice:
# with its default durable uploads (fsync before commit) and with durableWrites off, since the
# reference server keeps uploads in memory only.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/apache-arrow ] || npm install --no-audit --no-fund
bash scripts/setup-python.sh >/dev/null
npx tsc -p tsconfig.build.json
DATA=bench/.data
mkdir -p "$DATA"
PIDS=()
LOGS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true; rm -f "${LOGS[@]}"' EXIT

# Runs in this shell (not a $(…) subshell), so that the trap knows the server's pid and stops it.
start() { # variable, name, extra env: sets the variable to name=uri,pid
  local var=$1
  shift
  local log
  log=$(mktemp)
  LOGS+=("$log")
  env FLIGHTGATE_AUDIT_FILE="$DATA/audit-$1.log" "${@:2}" node bin/flightgate.js serve --demo --port 0 --http-port 0 --data-dir "$DATA" >"$log" 2>&1 &
  local pid=$!
  PIDS+=("$pid")
  for _ in $(seq 1 900); do
    grep -q '^flightgate listening on' "$log" && break
    kill -0 $pid 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 0.2
  done
  printf -v "$var" '%s' "$1=$(sed -n 's/^flightgate listening on //p' "$log"),$pid"
}
# A reader under a row and column policy, for the restricted DoGet figure (idempotent: kept in the registry).
node bin/flightgate.js roles create bench-policy --data-dir "$DATA" >/dev/null 2>&1 || true
node bin/flightgate.js roles grant bench-policy --dataset numbers --action read --rows 'id % 2 = 0' --mask name=last4 --data-dir "$DATA" >/dev/null
printf '%s\n' 'bench-reader-password' | node bin/flightgate.js users add bench-reader --role bench-policy --password-stdin --data-dir "$DATA" >/dev/null 2>&1 || true
start FG flightgate FLIGHTGATE_DURABLE_WRITES=true
start FG_NOSYNC flightgate-nofsync FLIGHTGATE_DURABLE_WRITES=false
.venv/bin/python bench/flight_bench.py "$DATA/numbers.arrows" "$FG" "$FG_NOSYNC"
# Flight SQL: flightgate against pyarrow's C++ Flight server answering with DuckDB's Python package.
mkdir -p "$DATA/gen"
.venv/bin/python -m grpc_tools.protoc -Itest/interop/proto --python_out="$DATA/gen" flight_sql_subset.proto flight_session.proto
.venv/bin/python bench/flight_sql_bench.py "$DATA/numbers.arrows" "$DATA/gen" "$FG"
# The route for Arrow results out of DuckDB: our binding against @duckdb/node-api building Arrow in JS.
BENCH_RUNS=${BENCH_ROUTE_RUNS:-3} node --import tsx bench/sql-routes.mts
# Authenticated small calls, logins and bearer-validation cost (flightgate vs pyarrow with Basic→Bearer middleware).
bash scripts/bench-auth.sh
# OAuth token service (tokens/s, introspections/s vs oidc-provider and our no-op route) and JWT vs session bearers on Flight.
bash scripts/bench-oauth.sh
# Libraries in place of our own code (prom-client, @peculiar/x509) and the one kept (the audit writer), measured against each other.
node --import tsx bench/library-choices.mts
