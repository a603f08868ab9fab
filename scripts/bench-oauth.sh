#!/usr/bin/env bash
# Token service and bearer-kind figures: client_credentials tokens/s and introspections/s with
# autocannon against our no-op route and oidc-provider (bench/oauth_http_bench.mts), then Flight
# calls/s with a JWT bearer vs a session token with the pyarrow client (bench/jwt_calls_bench.py).
source "$(dirname "$0")/bench-common.sh"

mkdir -p "$WORK/fg"
FLIGHTGATE_AUDIT_FILE="$WORK/audit.log" FLIGHTGATE_DEMO_NUMBERS_ROWS=1000 \
  node bin/flightgate.js serve --demo --port 0 --http-port 0 --data-dir "$WORK/fg" >"$WORK/fg.log" 2>&1 &
PIDS+=($!); wait_line "$WORK/fg.log" '^flightgate listening on' $!
node --import tsx bench/oidc_provider_server.mts >"$WORK/idp.log" 2>&1 &
PIDS+=($!); wait_line "$WORK/idp.log" '^issuers ' $!
node --import tsx bench/http_noop_server.mts >"$WORK/noop.log" 2>&1 &
PIDS+=($!); wait_line "$WORK/noop.log" '^listening on ' $!

FG=$(sed -n 's/^flightgate listening on //p' "$WORK/fg.log")
FG_HTTP=$(sed -n 's/^flightgate token service on //p' "$WORK/fg.log")
read -r JWT_ISSUER OPAQUE_ISSUER < <(sed -n 's/^issuers //p' "$WORK/idp.log")
NOOP="$(sed -n 's/^listening on //p' "$WORK/noop.log")/noop"
CLIENT=$(node bin/flightgate.js clients add bench --role demo-db1-reader --data-dir "$WORK/fg" --json)
ID=$(node -e 'console.log(JSON.parse(process.argv[1]).client_id)' "$CLIENT")
SECRET=$(node -e 'console.log(JSON.parse(process.argv[1]).client_secret)' "$CLIENT")

node --import tsx bench/oauth_http_bench.mts "$FG_HTTP" "$ID" "$SECRET" "$JWT_ISSUER" "$OPAQUE_ISSUER" "$NOOP"
.venv/bin/python bench/jwt_calls_bench.py "$FG" "$FG_HTTP/oauth2/token" "$ID" "$SECRET"
