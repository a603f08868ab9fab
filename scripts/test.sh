#!/usr/bin/env bash
# The whole test suite: installs what it needs (node modules, Python with pyarrow), type-checks,
# builds the CLI and runs every test file.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules/apache-arrow ] || npm install --no-audit --no-fund
bash scripts/setup-python.sh
bash scripts/setup-services.sh
node scripts/build-native.mjs
npx tsc -p tsconfig.json --noEmit
npx tsc -p tsconfig.build.json
shopt -s globstar nullglob
files=(test/**/*.test.ts)
if [ $# -gt 0 ]; then files=("$@"); fi
node --import tsx --test --test-reporter=spec "${files[@]}"
