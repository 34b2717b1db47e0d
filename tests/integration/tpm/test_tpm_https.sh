#!/usr/bin/env bash
# Integration: TPM onboarding over HTTPS against certpilot-server (harness.sh, free loopback
# ports) with the provision_tpm sample on a private swtpm:
#   EK enrolled -> 401 challenge -> import -> TPM-signed SAS -> 202 -> poll -> chain that
#   `openssl verify` accepts; renewal reuses the identity key (no new challenge);
#   an EK that is not enrolled -> 401, nothing persisted in that TPM.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SAMPLE=$1
. "$CP_SOURCE_DIR/tests/integration/server/harness.sh"
cp_server_start || exit 1
. "$CP_SOURCE_DIR/tests/integration/server/lib.sh"
export TSS2_LOG=all+none

SWTPM_PIDS=()
stop_swtpms() { for p in "${SWTPM_PIDS[@]}"; do kill "$p" 2>/dev/null; wait "$p" 2>/dev/null; done; }
trap 'stop_swtpms; cp__cleanup' EXIT

# start_swtpm NAME: a TPM on two free consecutive loopback ports; sets TCTI_<NAME>.
start_swtpm() {
  local name=$1 dir="$W/tpm-$1" port
  mkdir -p "$dir"
  for _ in 1 2 3 4 5; do
    port=$(python3 - <<'PY'
import socket
for _ in range(50):
    a = socket.socket(); a.bind(("127.0.0.1", 0)); p = a.getsockname()[1]
    b = socket.socket()
    try:
        b.bind(("127.0.0.1", p + 1)); print(p); break
    except OSError:
        pass
    finally:
        a.close(); b.close()
PY
)
    timeout 600 swtpm socket --tpm2 --server type=tcp,port="$port",bindaddr=127.0.0.1 \
      --ctrl type=tcp,port=$((port + 1)),bindaddr=127.0.0.1 --tpmstate dir="$dir" \
      --flags not-need-init,startup-clear >/dev/null 2>&1 &
    local pid=$!
    for _ in $(seq 100); do
      (echo >/dev/tcp/127.0.0.1/"$port") 2>/dev/null && break
      kill -0 "$pid" 2>/dev/null || break
      sleep 0.05
    done
    if kill -0 "$pid" 2>/dev/null; then
      SWTPM_PIDS+=("$pid")
      printf -v "TCTI_$name" 'swtpm:host=127.0.0.1,port=%s' "$port"
      return 0
    fi
  done
  fail "swtpm $name did not start"
}

start_swtpm A
start_swtpm B
HOST=$(echo "$CERTPILOT_DPS_URL" | sed -E 's#https://([^:/]+).*#\1#')
device() { # device TCTI REGID OUTDIR
  mkdir -p "$3"
  "$SAMPLE" --tcti "$1" --host "$HOST" --port "$CERTPILOT_DPS_PORT" --id-scope "$CERTPILOT_ID_SCOPE" \
    --registration-id "$2" --trust-bundle "$CERTPILOT_TRUST_BUNDLE" --anchor "$W/root.pem" \
    --out-dir "$3" --timeout-ms 30000 >"$3/out.txt" 2>&1
}
identity_name() { tpm2_readpublic -T "$1" -c 0x81000100 2>/dev/null | awk '/^name:/ {print $2}'; }

cp_mgmt POST /credential >/dev/null; expect_eq "$(cp_status)" 201 "create credential"
cp_mgmt GET /credential | jq -r .certificate >"$W/root.pem"
cp_mgmt POST /policies '{"name":"p1","validityDays":30}' >/dev/null; expect_eq "$(cp_status)" 201 "create policy"
EK_A=$("$SAMPLE" --print-ek --tcti "$TCTI_A") || fail "print EK of TPM A"
cp_mgmt POST /enrollments "{\"id\":\"tpm-dev-1\",\"kind\":\"individual\",\"attestation\":\"tpm\",\"endorsementKey\":\"$EK_A\",\"policy\":\"p1\",\"hub\":\"hub-t\"}" >"$W/enr.json"
expect_eq "$(cp_status)" 201 "create TPM enrollment"
expect_eq "$(jq -r .attestation "$W/enr.json")" tpm "enrollment attestation"
[ "$(jq -r '.primaryKey // "hidden"' "$W/enr.json")" = hidden ] || fail "TPM enrollment must not show a key"
pass "TPM enrollment keyed by the EK"

# 1. first registration: challenge, import, SAS by TPM2_HMAC, chain
[ -z "$(identity_name "$TCTI_A")" ] || fail "fresh TPM already has an identity key"
device "$TCTI_A" tpm-dev-1 "$W/run1" || fail "provision_tpm: $(cat "$W/run1/out.txt")"
[ -s "$W/run1/tpm-dev-1.chain.pem" ] || fail "no chain written"
expect_eq "$(stat -c %a "$W/run1/tpm-dev-1.key.pem")" 600 "key file mode"
openssl verify -CAfile "$W/root.pem" -untrusted "$W/run1/tpm-dev-1.chain.pem" "$W/run1/tpm-dev-1.chain.pem" \
  >/dev/null || fail "openssl verify of the issued chain"
openssl x509 -in "$W/run1/tpm-dev-1.chain.pem" -noout -subject | grep -q 'CN = tpm-dev-1' || fail "leaf CN"
diff <(openssl x509 -in "$W/run1/tpm-dev-1.chain.pem" -noout -pubkey) \
     <(openssl pkey -in "$W/run1/tpm-dev-1.key.pem" -pubout) >/dev/null || fail "leaf key != saved key"
NAME1=$(identity_name "$TCTI_A")
[ -n "$NAME1" ] || fail "identity key not persisted at 0x81000100"
tpm2_readpublic -T "$TCTI_A" -c 0x81000100 2>/dev/null | grep -q keyedhash || fail "identity key type"
expect_eq "$(cp_mgmt GET /devices/tpm-dev-1 | jq -r .hub)" hub-t "device hub"
pass "TPM registration over HTTPS: challenge -> import -> SAS -> chain verified by openssl"

# 2. renewal: the identity key in the TPM is reused, a new leaf is issued
device "$TCTI_A" tpm-dev-1 "$W/run2" || fail "renewal: $(cat "$W/run2/out.txt")"
expect_eq "$(identity_name "$TCTI_A")" "$NAME1" "identity key after renewal"
S1=$(openssl x509 -in "$W/run1/tpm-dev-1.chain.pem" -noout -serial)
S2=$(openssl x509 -in "$W/run2/tpm-dev-1.chain.pem" -noout -serial)
[ "$S1" != "$S2" ] || fail "renewal did not issue a new leaf"
openssl verify -CAfile "$W/root.pem" -untrusted "$W/run2/tpm-dev-1.chain.pem" "$W/run2/tpm-dev-1.chain.pem" \
  >/dev/null || fail "openssl verify of the renewed chain"
expect_eq "$(cp_mgmt GET /devices/tpm-dev-1 | jq '.certificates | length')" 2 "issued serials"
pass "renewal reuses the TPM identity key"

# 3. EK not enrolled (TPM B claims the same registration id): 401, nothing persisted
if device "$TCTI_B" tpm-dev-1 "$W/run3"; then fail "unenrolled EK was provisioned"; fi
grep -qi 'unauthorized' "$W/run3/out.txt" || fail "no unauthorized error: $(cat "$W/run3/out.txt")"
grep -q 'not enrolled' "$W/run3/out.txt" || fail "no reason given: $(cat "$W/run3/out.txt")"
[ -z "$(identity_name "$TCTI_B")" ] || fail "TPM B got an identity key"
[ ! -e "$W/run3/tpm-dev-1.chain.pem" ] || fail "chain written for a refused device"
pass "EK not enrolled -> 401 with the reason, nothing persisted"

# 4. TPM A (holding an identity key) for a registration id without enrollment: refused
if device "$TCTI_A" tpm-dev-2 "$W/run4"; then fail "unknown registration id was provisioned"; fi
grep -q 'no enrollment for registration id' "$W/run4/out.txt" || fail "run4: $(cat "$W/run4/out.txt")"
expect_eq "$(identity_name "$TCTI_A")" "$NAME1" "identity key after a refused registration"
pass "registration id without enrollment -> 404, identity key untouched"
exit 0
