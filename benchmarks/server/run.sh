#!/usr/bin/env bash
# Run the server load benchmark against a fresh certpilot-server started by the test harness.
# Usage: benchmarks/server/run.sh BUILD_DIR [bench_register args…]   e.g. run.sh build -n 400 -c 8
set -eu
BUILD=$(cd "${1:?build dir}" && pwd); shift
HERE=$(cd "$(dirname "$0")" && pwd)
export CP_BINARY_DIR=$BUILD
exec "$HERE/../../tests/integration/server/harness.sh" run -- \
  "$BUILD/benchmarks/server/bench_server_register" "$@"
