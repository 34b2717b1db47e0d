#!/usr/bin/env bash
# Provisioning latency against the real certpilot-server (HTTPS + supervised
# mosquitto), started on free loopback ports by tests/integration/server/harness.sh
# (retry-after 0). Usage: bench_sdk.sh <build dir> [runs] [baseline build dir]
# With a baseline build dir (e.g. a build of an older commit), its
# bench_sdk_provision runs first against the same server, so both clients are
# compared in one run.
set -euo pipefail
build=$(cd "$1" && pwd)
runs=${2:-200}
baseline=${3:+$(cd "$3" && pwd)}
export CP_BINARY_DIR=$build
. "$(dirname "$0")/../server/harness.sh"
cp_server_start
cp_mgmt POST /credential >/dev/null
cp_mgmt POST /policies '{"name":"p1","validityDays":30}' >/dev/null
CP_BENCH_GROUP_KEY=$(cp_mgmt POST /enrollments \
  "{\"id\":\"grp\",\"kind\":\"group\",\"attestation\":\"symmetricKey\",\"policy\":\"p1\",\"hub\":\"${CERTPILOT_HUB_NAME:-localhost}\"}" \
  | sed -n 's/.*"primaryKey":"\([^"]*\)".*/\1/p')
export CP_BENCH_GROUP_KEY
set +e
rc=0
if [ -n "$baseline" ]; then
  echo "client of $baseline (baseline), server of $build:"
  "$baseline/tests/integration/sdk/bench_sdk_provision" "$runs" || rc=$?
  echo
  echo "client of $build, same server:"
fi
if [ "$rc" -eq 0 ]; then
  "$build/tests/integration/sdk/bench_sdk_provision" "$runs"
  rc=$?
fi
cp__cleanup
trap - EXIT
exit $rc
