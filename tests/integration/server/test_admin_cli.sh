#!/usr/bin/env bash
# Integration: `certpilot-server admin …` drives the management API end to end (a person can do
# everything without curl), exit statuses follow the HTTP results.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SDK_DEVICE=$1
. "$HERE/harness.sh"
cp_server_start || exit 1
. "$HERE/lib.sh"

run() { cp_admin "$@" > "$W/cli.out" 2> "$W/cli.err"; }
run credential create || fail "credential create: $(cat "$W/cli.err")"
run credential show && jq -e '.certificate | startswith("-----BEGIN CERTIFICATE-----")' "$W/cli.out" >/dev/null || fail "credential show"
run policy create p1 --days 5 || fail "policy create"
jq -e '.validityDays == 5' "$W/cli.out" >/dev/null || fail "policy create output"
run policy create p2 --days 500 && fail "policy create 500 days must fail"
grep -q "validityDays must be" "$W/cli.err" || fail "policy error message: $(cat "$W/cli.err")"
run enrollment create dev-c --kind individual --attestation symmetricKey --policy p1 --hub hub-c || fail "enrollment create"
KEY=$(jq -r .primaryKey "$W/cli.out")
run enrollment list && expect_eq "$(jq length "$W/cli.out")" 1 "enrollment list"
CSR=$(new_csr dev-c)
register_and_poll dev-c "$(sas dev-c "$KEY")" "{\"registrationId\":\"dev-c\",\"csr\":\"$CSR\"}"
save_chain dev-c; verify_chain dev-c
run device list && expect_eq "$(jq -r '.[0].deviceId' "$W/cli.out")" dev-c "device list"
run device show dev-c || fail "device show"
run device revoke dev-c || fail "device revoke"
run --out "$W/ica.crl" crl policy p1 || fail "crl policy"
openssl crl -inform DER -in "$W/ica.crl" -noout -text | grep -q "$(openssl x509 -in "$W/dev-c.leaf.pem" -noout -serial | cut -d= -f2)" \
  || fail "CRL from the CLI lacks the revoked serial"
run device disable dev-c && run device enable dev-c || fail "device disable/enable"
run enrollment disable dev-c && jq -e '.enabled == false' "$W/cli.out" >/dev/null || fail "enrollment disable"
run enrollment enable dev-c || fail "enrollment enable"
run policy revoke p1 || fail "policy revoke"
run --out "$W/root.crl" crl root || fail "crl root"
openssl crl -inform DER -in "$W/root.crl" -noout -text | grep -q "$(openssl x509 -in "$W/dev-c.ica.pem" -noout -serial | cut -d= -f2)" \
  || fail "root CRL from the CLI lacks the old ICA"
run hub-trust && grep -q 'BEGIN CERTIFICATE' "$W/cli.out" || fail "hub-trust"
run token create ro reader || fail "token create"
RO=$(jq -r .token "$W/cli.out")
"$(cp__bin)" admin --url "$CERTPILOT_MGMT_URL" --token "$RO" --cacert "$CERTPILOT_TRUST_BUNDLE" policy delete p1 \
  2> "$W/cli.err" && fail "reader deleted a policy"
grep -q 'HTTP 403' "$W/cli.err" || fail "reader refusal message: $(cat "$W/cli.err")"
run credential delete && fail "credential delete with policies must fail"
grep -q 'HTTP 409' "$W/cli.err" || fail "409 message"
run policy delete p1 && run policy untrust p1 && run credential delete || fail "delete chain"
run enrollment delete dev-c || fail "enrollment delete"
run audit && jq -e 'length > 10' "$W/cli.out" >/dev/null || fail "audit"
# Without a token: usage error, exit 2.
env -u CERTPILOT_ADMIN_TOKEN "$(cp__bin)" admin --url "$CERTPILOT_MGMT_URL" policy list 2>/dev/null
expect_eq "$?" 2 "no token exit status"
# Unknown command: exit 2.
run frobnicate; expect_eq "$?" 2 "unknown command exit status"
pass "admin CLI covers credential, policy, enrollment, device, CRL, hub trust, token and audit operations"
