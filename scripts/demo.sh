#!/usr/bin/env bash
# The main job, end to end on one machine. It installs packages, builds, and
# starts the reference server on loopback (dev mode, free ports, with its
# mosquitto hub). Then it creates a credential, a policy issuing 30-second
# certificates and a symmetric-key enrollment, and runs certpilotd (not as a
# system service: its state lives in a temporary folder). certpilotd provisions
# over MQTT, reports the certificate to the device twin and renews twice with a
# new key each time. After every issuance the demo prints `certpilot status`
# and the twin as the server stores it. Everything is removed at the end.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
bash scripts/deps.sh
echo "== building (takes a minute on a fresh machine)"
cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build -j"$(nproc)" >/dev/null

export CP_BINARY_DIR=$ROOT/build CP_SERVER_MAX_LIFETIME=600
# shellcheck source=../tests/integration/server/harness.sh
. tests/integration/server/harness.sh
REGID=demo-device-001
ISSUANCES=3 # the first provisioning and two renewals
AGENT_PID=

demo_cleanup() {
  local rc=$?
  set +e
  [ -n "$AGENT_PID" ] && kill -TERM "$AGENT_PID" 2>/dev/null && wait "$AGENT_PID" 2>/dev/null
  cp__cleanup
  exit "$rc"
}

echo "== 1. reference server on loopback"
cp_server_start >/dev/null
trap demo_cleanup EXIT
W=$CP_HARNESS_DIR/device
mkdir -m 0700 "$W"
echo "   DPS over HTTPS $CERTPILOT_DPS_URL, MQTT (SAS) 127.0.0.1:$CERTPILOT_MQTT_SAS_PORT," \
     "hub 127.0.0.1:$CERTPILOT_MQTT_PORT, management $CERTPILOT_MGMT_URL"

echo "== 2. credential (root CA), policy 'demo' (30 s certificates), enrollment '$REGID'"
cp_admin credential create >/dev/null
cp_admin policy create demo --seconds 30 >/dev/null
KEY=$(openssl rand -base64 32)
cp_admin enrollment create "$REGID" --kind individual --attestation symmetricKey \
  --policy demo --hub "$CERTPILOT_HUB_NAME" --primary-key "$KEY" >/dev/null
(umask 077 && printf '%s' "$KEY" >"$W/enrollment.key")
sleep 3 # the hub's broker picks up a new policy's CA within 2 s (docs/server-mqtt.md)
cp_admin enrollment show "$REGID" | sed -e 's/"primaryKey":"[^"]*"/"primaryKey":"(hidden)"/' -e 's/^/   /'

echo "== 3. certpilotd: provision, then renew at 2/3 of each certificate's life"
cat >"$W/certpilotd.conf" <<CONF
[provisioning]
endpoint = 127.0.0.1
port = $CERTPILOT_MQTT_SAS_PORT
id_scope = $CERTPILOT_ID_SCOPE
registration_id = $REGID
transport = mqtt
trust_bundle = $CERTPILOT_TRUST_BUNDLE
timeout = 20
[hub]
port = $CERTPILOT_MQTT_PORT
[onboarding]
kind = symmetric-key
symmetric_key_file = $W/enrollment.key
[renewal]
jitter = 0
[paths]
state_dir = $W/state
run_dir = $W/run
metrics_file = $W/run/certpilot.prom
[log]
level = info
CONF
echo "   config: $W/certpilotd.conf"
build/agent/certpilotd --config "$W/certpilotd.conf" --exit-after-renewals "$ISSUANCES" \
  2>"$W/certpilotd.log" &
AGENT_PID=$!

# Print status and twin each time the renewal count grows.
shown=0
deadline=$((SECONDS + 180))
while [ "$shown" -lt "$ISSUANCES" ]; do
  if [ "$SECONDS" -gt "$deadline" ]; then
    echo "demo: timed out waiting for issuance $((shown + 1)); certpilotd log:" >&2
    cat "$W/certpilotd.log" >&2
    exit 1
  fi
  count=$(sed -n 's/.*"renewalCount":[[:space:]]*\([0-9]*\).*/\1/p' "$W/run/status.json" 2>/dev/null | head -n1 || true)
  reported=$(cp_mgmt GET "/devices/$REGID/twin" 2>/dev/null | grep -o '"renewalCount":[0-9]*' | head -n1 | cut -d: -f2 || true)
  if [ -n "$count" ] && [ "$count" -gt "$shown" ] && [ "${reported:-0}" -ge "$count" ]; then
    shown=$count
    [ "$shown" -eq 1 ] && what="provisioned" || what="renewal $((shown - 1))"
    echo "-- issuance $shown ($what)"
    build/agent/certpilot -r "$W/run" status | sed 's/^/   /'
    echo "   twin (read from the server's management API):"
    cp_mgmt GET "/devices/$REGID/twin" | sed 's/^/   /'
    echo
  elif ! kill -0 "$AGENT_PID" 2>/dev/null; then
    echo "demo: certpilotd exited early; its log:" >&2
    cat "$W/certpilotd.log" >&2
    exit 1
  fi
  sleep 1
done
wait "$AGENT_PID"
AGENT_PID=
echo "== 4. what happened (certpilotd's log)"
sed 's/^/   /' "$W/certpilotd.log"
echo "== 5. the state directory: current and previous generation, switched by rename"
ls -l "$W/state" "$W/state/current/" | sed 's/^/   /'
echo "== demo finished: $ISSUANCES certificates issued, each with a new key; server stopped, files removed"
