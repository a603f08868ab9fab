# Sourced by the bench scripts: installs what they need, builds, gives them a scratch directory
# ($WORK) and a list of processes ($PIDS) that are stopped on exit, and wait_line.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
[ -d node_modules/apache-arrow ] || npm install --no-audit --no-fund
bash scripts/setup-python.sh >/dev/null
npx tsc -p tsconfig.build.json
WORK=$(mktemp -d)
PIDS=()
trap 'for p in "${PIDS[@]}"; do kill $p 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$WORK"' EXIT

wait_line() { # log file, pattern, pid: waits until the process logs the pattern
  for _ in $(seq 1 300); do
    grep -q "$2" "$1" && return 0
    kill -0 "$3" 2>/dev/null || { cat "$1" >&2; exit 1; }
    sleep 0.1
  done
  echo "timed out waiting for $2" >&2; cat "$1" >&2; exit 1
}
