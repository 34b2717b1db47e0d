#!/usr/bin/env bash
# The samples end to end against a local certpilot-server (started on free
# loopback ports by tests/integration/server/harness.sh and removed at the end):
# create a credential, a policy and an individual symmetric-key enrollment,
# provision a device with provision_symmetric_key, verify the chain with openssl,
# then (when the server runs the MQTT hub) report the twin with hub_report_twin.
# Usage: samples/demo.sh [build-dir]     (default: build)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=$(cd "${1:-$root/build}" && pwd)
export CP_BINARY_DIR=$build
. "$root/tests/integration/server/harness.sh"
step() { printf '\n== %s\n' "$*"; }

step "1. start certpilot-server on free loopback ports"
cp_server_start
echo "DPS $CERTPILOT_DPS_URL, management $CERTPILOT_MGMT_URL, id scope $CERTPILOT_ID_SCOPE"

step "2. credential (root CA), policy p1 (30-day leaves), enrollment demo-device-001"
cp_mgmt POST /credential >/dev/null && echo "credential: HTTP $(cp_status)"
cp_mgmt POST /policies '{"name":"p1","validityDays":30}' >/dev/null && echo "policy: HTTP $(cp_status)"
hub=${CERTPILOT_HUB_NAME:-localhost}
key=$(cp_mgmt POST /enrollments "{\"id\":\"demo-device-001\",\"kind\":\"individual\",\"attestation\":\"symmetricKey\",\"policy\":\"p1\",\"hub\":\"$hub\"}" \
      | sed -n 's/.*"primaryKey":"\([^"]*\)".*/\1/p')
echo "enrollment: HTTP $(cp_status)"
[ -n "$key" ] || { echo "no enrollment key returned" >&2; exit 1; }
cp_mgmt GET /credential | sed -n 's/.*"certificate":"\(.*\)".*/\1/p' | sed 's/\\n/\n/g' > "$CP_HARNESS_DIR/root.pem"

transport=https port=${CERTPILOT_DPS_PORT}
if [ -n "${CERTPILOT_MQTT_SAS_PORT:-}" ]; then transport=mqtt port=$CERTPILOT_MQTT_SAS_PORT; fi
step "3. provision over $transport: fresh P-384 key, CSR, chain checked against the root"
"$build/samples/provision_symmetric_key/provision_symmetric_key" --host 127.0.0.1 --port "$port" \
  --transport "$transport" --id-scope "$CERTPILOT_ID_SCOPE" --registration-id demo-device-001 \
  --key "$key" --trust-bundle "$CERTPILOT_TRUST_BUNDLE" --anchor "$CP_HARNESS_DIR/root.pem" \
  --out-dir "$CP_HARNESS_DIR"

step "4. openssl verify the issued chain"
openssl verify -CAfile "$CP_HARNESS_DIR/root.pem" -untrusted "$CP_HARNESS_DIR/demo-device-001.chain.pem" \
  "$CP_HARNESS_DIR/demo-device-001.chain.pem"
stat -c 'key file mode: %a' "$CP_HARNESS_DIR/demo-device-001.key.pem"

step "5. hub: connect with the chain, report the certificate in the twin"
if [ -n "${CERTPILOT_MQTT_PORT:-}" ]; then
  # The broker syncs the trusted issuing CAs every 2 s: a brand-new policy's CA
  # may need a moment before the hub accepts its leaves.
  for attempt in 1 2 3 4 5; do
    if "$build/samples/hub_report_twin/hub_report_twin" --hub "$hub" --port "$CERTPILOT_MQTT_PORT" \
         --connect-host 127.0.0.1 --device-id demo-device-001 \
         --cert "$CP_HARNESS_DIR/demo-device-001.chain.pem" \
         --key "$CP_HARNESS_DIR/demo-device-001.key.pem" --trust-bundle "$CERTPILOT_TRUST_BUNDLE"; then
      break
    fi
    [ "$attempt" = 5 ] && exit 1
    echo "(hub does not trust the new policy CA yet; retrying in 1 s)"
    sleep 1
  done
  echo "management API view of the twin:"
  cp_mgmt GET /devices/demo-device-001/twin; echo
  [ "$(cp_status)" = 200 ] || { echo "twin read-back failed: HTTP $(cp_status)" >&2; exit 1; }
else
  echo "this certpilot-server build runs no MQTT hub (no CERTPILOT_MQTT_PORT): step skipped;"
  echo "tests/integration/sdk/test_sdk_e2e runs it against the in-process hub"
fi

step "6. clean up (server stopped, temporary folder removed)"
set +e          # the server's SIGTERM exit status is not a demo failure
cp__cleanup
trap - EXIT
echo "demo finished"
