#!/usr/bin/env bash
# certpilotd against certpilot-server (tests/integration/server/harness.sh):
#  1. symmetric key, provisioning over HTTPS, hub over MQTT/TLS: provision + one renewal,
#     twin shows the current certificate;
#  2. X.509 onboarding certificate over MQTT: provision; SIGUSR1 (certpilot renew) renews now.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
. "$CP_SOURCE_DIR/tests/integration/server/harness.sh"
cp_server_start || exit 1
BIN=$CP_BINARY_DIR/agent
PIDS=()
fail() {
  echo "FAIL: $*" >&2
  for d in "$CP_HARNESS_DIR"/*/; do [ -f "$d/certpilotd.log" ] && { echo "--- $d"; cat "$d/certpilotd.log"; }; done >&2
  exit 1
}
stop_agents() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; PIDS=(); }
trap 'stop_agents; cp__cleanup' EXIT
num() { jq -r ".$2 // empty" "$1/run/status.json" 2>/dev/null; }
wait_count() { # dir n seconds
  local end=$((SECONDS + $3))
  while [ "$SECONDS" -lt "$end" ]; do
    c=$(num "$1" renewalCount); [ -n "$c" ] && [ "$c" -ge "$2" ] && return 0
    sleep 0.3
  done
  return 1
}
conf() { # dir regid transport port onboarding-lines
  cat > "$1/certpilotd.conf" <<CONF
[provisioning]
endpoint = 127.0.0.1
port = $4
id_scope = $CERTPILOT_ID_SCOPE
registration_id = $2
transport = $3
trust_bundle = $CERTPILOT_TRUST_BUNDLE
timeout = 20
[hub]
port = $CERTPILOT_MQTT_PORT
[onboarding]
$5
[renewal]
jitter = 0
backoff_initial = 1
backoff_max = 4
[paths]
state_dir = $1/state
run_dir = $1/run
metrics_file =
[log]
level = debug
CONF
}

cp_mgmt POST /credential >/dev/null || fail "credential"
cp_mgmt POST /policies '{"name":"short","validitySeconds":12}' >/dev/null || fail "policy"

# 1. symmetric key over HTTPS
D1=$CP_HARNESS_DIR/https-dev-1; mkdir -m 0700 "$D1"
KEY=$(cp_mgmt POST /enrollments "{\"id\":\"https-dev-1\",\"kind\":\"individual\",\"attestation\":\"symmetricKey\",\"policy\":\"short\",\"hub\":\"$CERTPILOT_HUB_NAME\"}" | jq -r .primaryKey)
[ -n "$KEY" ] && [ "$KEY" != null ] || fail "individual enrollment"
(umask 077; printf '%s\n' "$KEY" > "$D1/enrollment.key")
conf "$D1" https-dev-1 https "$CERTPILOT_DPS_PORT" "kind = symmetric-key
symmetric_key_file = $D1/enrollment.key"
sleep 3 # the broker picks up the new policy's CA
"$BIN/certpilotd" --config "$D1/certpilotd.conf" 2>"$D1/certpilotd.log" & PIDS+=($!)
wait_count "$D1" 2 60 || fail "https: no provisioning + renewal"
grep -q 'from 127.0.0.1 (https)' "$D1/certpilotd.log" || fail "https: not provisioned over HTTPS"
SERIAL=$("$BIN/certpilot" -r "$D1/run" status --json | jq -r .certificate.serialNumber)
for i in $(seq 1 20); do
  TWIN=$(cp_mgmt GET /devices/https-dev-1/twin)
  [ "$(echo "$TWIN" | jq -r '.. | .certificate? // empty | .serialNumber' | head -n1)" = "$SERIAL" ] && break
  SERIAL=$("$BIN/certpilot" -r "$D1/run" status --json | jq -r .certificate.serialNumber)
  sleep 0.3
done
[ "$(echo "$TWIN" | jq -r '.. | .certificate? // empty | .serialNumber' | head -n1)" = "$SERIAL" ] ||
  fail "https: twin does not show serial $SERIAL: $TWIN"
stop_agents

# 2. X.509 onboarding certificate (group enrollment of an onboarding CA), over MQTT
D2=$CP_HARNESS_DIR/x509-dev-1; mkdir -m 0700 "$D2"
( cd "$D2" && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout onbca.key \
    -out onbca.pem -subj /CN=agent-onboarding-ca -days 2 \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign &&
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout onb.key -out onb.csr \
    -subj /CN=x509-dev-1 &&
  openssl x509 -req -in onb.csr -CA onbca.pem -CAkey onbca.key -CAcreateserial -days 1 -out onb.pem &&
  chmod 600 onb.key ) >/dev/null 2>&1 || fail "onboarding certificate"
BODY=$(jq -n --arg pem "$(cat "$D2/onbca.pem")" --arg hub "$CERTPILOT_HUB_NAME" \
  '{id:"grp-x509",kind:"group",attestation:"x509",certificate:$pem,policy:"short",hub:$hub}')
cp_mgmt POST /enrollments "$BODY" >/dev/null || fail "x509 enrollment"
conf "$D2" x509-dev-1 mqtt "$CERTPILOT_MQTT_PORT" "kind = x509
cert_file = $D2/onb.pem
key_file = $D2/onb.key"
sleep 3 # the broker picks up the onboarding CA
"$BIN/certpilotd" --config "$D2/certpilotd.conf" 2>"$D2/certpilotd.log" & PIDS+=($!)
wait_count "$D2" 1 60 || fail "x509: not provisioned"
# the issued leaf is not the onboarding certificate, and its key is new
cmp -s "$D2/state/current/key.pem" "$D2/onb.key" && fail "x509: onboarding key reused"
"$BIN/certpilot" -r "$D2/run" renew >/dev/null || fail "certpilot renew"
wait_count "$D2" 2 30 || fail "x509: SIGUSR1 did not renew"
grep -q 'renewal requested' "$D2/certpilotd.log" || fail "x509: no 'renewal requested' in the log"
stop_agents
echo "PASS"
