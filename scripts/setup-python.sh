#!/usr/bin/env bash
# Creates .venv with pyarrow, protobuf and grpcio-tools for the Flight SQL test client, and DuckDB's
# Python package (the answers Flight SQL results are compared with, and the benchmark's reference),
# from the configured package index, unless they are already there.
set -euo pipefail
cd "$(dirname "$0")/.."
if .venv/bin/python -c 'import pyarrow.flight, google.protobuf, grpc_tools, duckdb' 2>/dev/null; then exit 0; fi
if [ -x .venv/bin/python ]; then :
elif ! python3 -m venv .venv 2>/dev/null; then
  # Debian's python3 ships venv separately.
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq python3-venv >/dev/null; fi
  rm -rf .venv && python3 -m venv .venv
fi
# --retries 0: an unreachable default index should fail over to the local mirror at once.
.venv/bin/pip install --quiet --retries 0 --timeout 20 pyarrow protobuf grpcio-tools duckdb
.venv/bin/python -c 'import pyarrow, pyarrow.flight; print("pyarrow", pyarrow.__version__)'
