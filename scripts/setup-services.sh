#!/usr/bin/env bash
# Makes sure the Redis and PostgreSQL server binaries the integration tests start exist, and
# Chromium for the browser tests, installing them from the Debian packages when missing. Starts nothing: each test starts its
# own private servers on free loopback ports.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
need=()
command -v redis-server >/dev/null 2>&1 || need+=(redis-server)
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ ${#need[@]} -eq 0 ] && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
echo "installing ${need[*]} (for the integration tests)" >&2
$SUDO apt-get update -qq >/dev/null
# policy-rc.d keeps the packages from starting system-wide servers we do not want.
if [ ! -e /usr/sbin/policy-rc.d ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  trap '$SUDO rm -f /usr/sbin/policy-rc.d' EXIT
fi
$SUDO apt-get install -y -qq "${need[@]}" >/dev/null
