#!/usr/bin/env bash
# certpilotd with TPM onboarding on a private swtpm, against certpilot-server over HTTPS:
# provision (challenge + import of the identity key), then renew with the same identity key
# (every SAS an HMAC inside the TPM) and a new operational key; the twin shows the leaf.
#   test_agent_tpm.sh PROVISION_TPM_SAMPLE   (the sample prints the EK to enroll)
set -u
SAMPLE=$1
. "$CP_SOURCE_DIR/tests/integration/server/harness.sh"
cp_server_start || exit 1
BIN=$CP_BINARY_DIR/agent
export TSS2_LOG=all+none
PIDS=()
fail() {
  echo "FAIL: $*" >&2
  [ -f "$D/certpilotd.log" ] && cat "$D/certpilotd.log" >&2
  exit 1
}
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; cp__cleanup; }
trap cleanup EXIT
D=$CP_HARNESS_DIR/tpm-agent; mkdir -m 0700 "$D"

# a TPM on two free consecutive loopback ports (server + control)
for _ in 1 2 3 4 5; do
  port=$(python3 -c '
import socket
for _ in range(50):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()')
  mkdir -p "$D/tpm"
  timeout 600 swtpm socket --tpm2 --server type=tcp,port="$port",bindaddr=127.0.0.1 \
    --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --tpmstate dir="$D/tpm" \
    --flags not-need-init,startup-clear >/dev/null 2>&1 &
  pid=$!
  for _ in $(seq 100); do
    (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.05
  done
  if kill -0 "$pid" 2>/dev/null; then PIDS+=("$pid"); TCTI="swtpm:host=127.0.0.1,port=$port"; break; fi
done
[ -n "${TCTI:-}" ] || fail "swtpm did not start"
identity() { tpm2_readpublic -T "$TCTI" -c 0x81000100 2>/dev/null | awk '/^name:/ {print $2}'; }

cp_mgmt POST /credential >/dev/null || fail "credential"
cp_mgmt POST /policies '{"name":"short","validitySeconds":12}' >/dev/null || fail "policy"
EK=$("$SAMPLE" --print-ek --tcti "$TCTI") || fail "print EK"
cp_mgmt POST /enrollments "{\"id\":\"tpm-agent-1\",\"kind\":\"individual\",\"attestation\":\"tpm\",\"endorsementKey\":\"$EK\",\"policy\":\"short\",\"hub\":\"$CERTPILOT_HUB_NAME\"}" >/dev/null
[ "$(cp_status)" = 201 ] || fail "TPM enrollment"
[ -z "$(identity)" ] || fail "fresh TPM already holds an identity key"
cat > "$D/certpilotd.conf" <<CONF
[provisioning]
endpoint = 127.0.0.1
port = $CERTPILOT_DPS_PORT
id_scope = $CERTPILOT_ID_SCOPE
registration_id = tpm-agent-1
transport = https
trust_bundle = $CERTPILOT_TRUST_BUNDLE
timeout = 30
[hub]
port = $CERTPILOT_MQTT_PORT
[onboarding]
kind = tpm
tpm_tcti = $TCTI
[renewal]
jitter = 0
backoff_initial = 1
backoff_max = 4
[paths]
state_dir = $D/state
run_dir = $D/run
metrics_file =
[log]
level = debug
CONF
sleep 3 # the broker picks up the new policy's CA
"$BIN/certpilotd" --config "$D/certpilotd.conf" 2>"$D/certpilotd.log" & PIDS+=($!)
count() { jq -r '.renewalCount // 0' "$D/run/status.json" 2>/dev/null || echo 0; }
end=$((SECONDS + 60))
while [ "$(count)" -lt 1 ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.3; done
[ "$(count)" -ge 1 ] || fail "not provisioned with the TPM"
NAME1=$(identity)
[ -n "$NAME1" ] || fail "identity key not persisted in the TPM"
KEY1=$(cat "$D/state/current/key.pem")
end=$((SECONDS + 60))
while [ "$(count)" -lt 2 ] && [ "$SECONDS" -lt "$end" ]; do sleep 0.3; done
[ "$(count)" -ge 2 ] || fail "no renewal"
[ "$(identity)" = "$NAME1" ] || fail "identity key changed on renewal"
[ "$(cat "$D/state/current/key.pem")" != "$KEY1" ] || fail "operational key reused"
SERIAL=$("$BIN/certpilot" -r "$D/run" status --json | jq -r .certificate.serialNumber)
ok=
for _ in $(seq 1 20); do
  [ "$(cp_mgmt GET /devices/tpm-agent-1/twin | jq -r '.. | .certificate? // empty | .serialNumber' | head -n1)" = "$SERIAL" ] && { ok=1; break; }
  SERIAL=$("$BIN/certpilot" -r "$D/run" status --json | jq -r .certificate.serialNumber)
  sleep 0.3
done
[ -n "$ok" ] || fail "twin does not show the current serial"
echo PASS
