#!/usr/bin/env bash
# Integration: every management operation over HTTPS, with its consequences checked through the
# DPS endpoint, the CRLs, the hub trust bundle and the audit log; RBAC; restart persistence.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SDK_DEVICE=$1
. "$HERE/harness.sh"
cp_server_start || exit 1
. "$HERE/lib.sh"

provision() { # REGID KEY -> final json; chain saved when assigned
  local csr; csr=$(new_csr "$1")
  register_and_poll "$1" "$(sas "$1" "$2")" "{\"registrationId\":\"$1\",\"csr\":\"$csr\"}"
  [ "$(jq -r .status "$W/final.json")" = assigned ] && save_chain "$1"
  true
}
serial_of() { openssl x509 -in "$1" -noout -serial | cut -d= -f2; }
crl_serials() { # PATH -> serials (upper hex), one per line
  cp_mgmt GET "$1" > "$W/crl.der"
  [ "$(cp_status)" = 200 ] || fail "GET $1: $(cp_status)"
  openssl crl -inform DER -in "$W/crl.der" -noout -text | sed -n 's/^ *Serial Number: *//p'
}

# ---- RBAC: no token 401, reader write 403, reader read 200 ----
CP_MGMT_TOKEN=nope cp_mgmt GET /policies >/dev/null; expect_eq "$(cp_status)" 401 "unknown token"
READER=$(cp_mgmt POST /tokens '{"name":"viewer","role":"reader"}' | jq -r .token)
expect_eq "$(cp_status)" 201 "create reader token"
CP_MGMT_TOKEN=$READER cp_mgmt POST /credential >/dev/null; expect_eq "$(cp_status)" 403 "reader creates credential"
CP_MGMT_TOKEN=$READER cp_mgmt GET /credential >/dev/null; expect_eq "$(cp_status)" 404 "reader reads (none yet)"
expect_eq "$(count /policies)" 0 "reader write changed nothing"
pass "RBAC: 401 / 403 / read allowed"

# ---- credential + policy validation ----
cp_mgmt POST /credential >/dev/null; expect_eq "$(cp_status)" 201 "create credential"
cp_mgmt POST /credential >/dev/null; expect_eq "$(cp_status)" 409 "second credential"
cp_mgmt GET /credential | jq -r .certificate > "$W/ns-root.pem"
for bad in '{"name":"x","validityDays":0}' '{"name":"x","validityDays":91}' '{"name":"x"}' \
           '{"name":"bad name","validityDays":7}' '{"name":"x","validityDays":7.5}'; do
  cp_mgmt POST /policies "$bad" >/dev/null; expect_eq "$(cp_status)" 400 "policy $bad"
done
cp_mgmt POST /policies '{"name":"p1","validityDays":90}' >/dev/null; expect_eq "$(cp_status)" 201 "policy 90 days"
cp_mgmt POST /policies '{"name":"p1","validityDays":7}' >/dev/null; expect_eq "$(cp_status)" 409 "duplicate policy"
cp_mgmt POST /policies '{"name":"short","validitySeconds":120}' >/dev/null; expect_eq "$(cp_status)" 201 "dev-mode seconds"
expect_eq "$(count /policies)" 2 "policies"
pass "credential and policy creation with validation"

KEY=$(cp_mgmt POST /enrollments '{"id":"d1","kind":"individual","attestation":"symmetricKey","policy":"p1","hub":"hub-a"}' | jq -r .primaryKey)
expect_eq "$(cp_status)" 201 "enrollment d1"
CP_MGMT_TOKEN=$READER cp_mgmt GET /enrollments/d1 | jq -e '.primaryKey == null' >/dev/null || fail "reader sees keys"
cp_mgmt POST /enrollments '{"id":"d1","kind":"individual","attestation":"symmetricKey","policy":"p1","hub":"hub-a"}' >/dev/null
expect_eq "$(cp_status)" 409 "duplicate enrollment"
cp_mgmt POST /enrollments '{"id":"d9","kind":"individual","attestation":"symmetricKey","policy":"nope","hub":"h"}' >/dev/null
expect_eq "$(cp_status)" 400 "enrollment with unknown policy"
cp_mgmt POST /enrollments '{"id":"s1","kind":"individual","attestation":"symmetricKey","policy":"short","hub":"hub-a"}' >/dev/null
SKEY=$(cp_mgmt GET /enrollments/s1 | jq -r .primaryKey)
provision s1 "$SKEY"
LIFE=$(( $(date -d "$(openssl x509 -in "$W/s1.leaf.pem" -noout -enddate | cut -d= -f2)" +%s) - $(date +%s) ))
[ "$LIFE" -le 125 ] && [ "$LIFE" -ge 100 ] || fail "validitySeconds=120 leaf lives $LIFE s"
pass "dev-mode policy issues a 120-second leaf"

# ---- provision d1, then revoke the device ----
provision d1 "$KEY"; verify_chain d1
cp "$W/d1.leaf.pem" "$W/d1-first.leaf.pem"
S1=$(serial_of "$W/d1.leaf.pem")
provision d1 "$KEY"
S2=$(serial_of "$W/d1.leaf.pem")
RID_OLD=$(cp_mgmt GET /devices/d1 | jq -r .revocationId)
ICA_ID=$(cp_mgmt GET /policies/p1 | jq '.issuingCAs[0].id')
crl_serials "/crl/policies/p1" | grep -q . && fail "ICA CRL not empty before revocation"
cp_mgmt POST /devices/d1/revoke >/dev/null; expect_eq "$(cp_status)" 200 "revoke device"
RID_NEW=$(cp_mgmt GET /devices/d1 | jq -r .revocationId)
[ "$RID_OLD" != "$RID_NEW" ] || fail "revocation identifier not rotated"
crl_serials "/crl/icas/$ICA_ID" > "$W/ica.serials"
grep -qx "$S1" "$W/ica.serials" && grep -qx "$S2" "$W/ica.serials" || fail "ICA CRL lacks the device's serials"
openssl crl -inform DER -in "$W/crl.der" -noout -nextupdate | grep -q nextUpdate || fail "CRL without nextUpdate"
openssl crl -inform DER -in "$W/crl.der" -CAfile "$W/d1.ica.pem" -noout 2>&1 | grep -q 'verify OK' || fail "ICA CRL signature"
provision d1 "$KEY"
openssl x509 -in "$W/d1.leaf.pem" -noout -ext subjectAltName | grep -q "$RID_NEW" || fail "new leaf lacks new identifier"
pass "revoke device: identifier rotated, every serial on the ICA CRL, new leaf carries new identifier"

# ---- disable / enable device ----
cp_mgmt POST /devices/d1/disable >/dev/null; expect_eq "$(cp_status)" 200 "disable device"
register_and_poll d1 "$(sas d1 "$KEY")" '{"registrationId":"d1"}'
expect_eq "$(jq -r .status "$W/final.json")" disabled "disabled device registration"
cp_mgmt POST /devices/d1/enable >/dev/null
provision d1 "$KEY"; expect_eq "$(jq -r .status "$W/final.json")" assigned "enabled device registration"
pass "disable / enable device"

# ---- revoke policy: old ICA on the root CRL, new ICA, hub trust updated ----
OLD_ICA_SERIAL=$(serial_of "$W/d1.ica.pem")
cp "$W/d1.ica.pem" "$W/old-ica.pem"
cp_mgmt POST /policies/p1/revoke >/dev/null; expect_eq "$(cp_status)" 200 "revoke policy"
crl_serials /crl/root | grep -qx "$OLD_ICA_SERIAL" || fail "root CRL lacks the old ICA"
openssl crl -inform DER -in "$W/crl.der" -CAfile "$W/ns-root.pem" -noout 2>&1 | grep -q 'verify OK' || fail "root CRL signature"
provision d1 "$KEY"; verify_chain d1
[ "$(serial_of "$W/d1.ica.pem")" != "$OLD_ICA_SERIAL" ] || fail "new registration still under the old ICA"
cp_mgmt GET /hub/trust > "$W/trust.pem"
grep -q "$(sed -n 2p "$W/d1.ica.pem")" "$W/trust.pem" || fail "hub trust lacks the new ICA"
grep -q "$(sed -n 2p "$W/old-ica.pem")" "$W/trust.pem" && fail "hub trust still has the old ICA"
openssl verify -partial_chain -CAfile "$W/trust.pem" "$W/d1-first.leaf.pem" >/dev/null 2>&1 && fail "old leaf still verifies against hub trust"
pass "revoke policy: root CRL, new ICA for new registrations, hub trust updated"

# ---- delete policy: no more issuance; hub keeps trusting until removal ----
cp_mgmt DELETE /policies/p1 >/dev/null; expect_eq "$(cp_status)" 204 "delete policy"
CSR=$(new_csr d1)
register_and_poll d1 "$(sas d1 "$KEY")" "{\"registrationId\":\"d1\",\"csr\":\"$CSR\"}"
expect_eq "$(jq -r .status "$W/final.json")" failed "issuance after policy delete"
cp_mgmt GET /hub/trust | grep -q "$(sed -n 2p "$W/d1.ica.pem")" || fail "deleted policy ICA dropped from hub trust too early"
cp_mgmt DELETE /policies/p1/trust >/dev/null; expect_eq "$(cp_status)" 204 "remove ICA from hubs"
cp_mgmt GET /hub/trust | grep -q "$(sed -n 2p "$W/d1.ica.pem")" && fail "ICA still trusted after removal"
pass "delete policy stops issuance; CA removal from hubs is separate"

# ---- delete credential: 409 while policies exist, then irreversible ----
cp_mgmt DELETE /credential >/dev/null; expect_eq "$(cp_status)" 409 "delete credential with policies"
cp_mgmt GET /credential >/dev/null; expect_eq "$(cp_status)" 200 "credential still there after 409"
cp_mgmt DELETE /policies/short >/dev/null
cp_mgmt DELETE /credential >/dev/null; expect_eq "$(cp_status)" 204 "delete credential"
cp_mgmt GET /credential >/dev/null; expect_eq "$(cp_status)" 404 "credential gone"
pass "delete credential: 409 while policies exist, then gone"

# ---- enrollments: list/get/delete; devices list ----
expect_eq "$(count /enrollments)" 2 "enrollment list"
cp_mgmt DELETE /enrollments/s1 >/dev/null; expect_eq "$(cp_status)" 204 "delete enrollment"
cp_mgmt GET /enrollments/s1 >/dev/null; expect_eq "$(cp_status)" 404 "deleted enrollment"
expect_eq "$(count /devices)" 2 "device list"
pass "enrollment list/get/delete, device list"

# ---- BYOR: CSR out, certificate signed by an external root in, chain ends at that root ----
cp_mgmt POST /credential >/dev/null; expect_eq "$(cp_status)" 201 "new credential"
cp_mgmt POST /policies '{"name":"byo","validityDays":10,"byor":true}' >/dev/null; expect_eq "$(cp_status)" 201 "BYOR policy"
cp_mgmt POST /enrollments '{"id":"b1","kind":"individual","attestation":"symmetricKey","policy":"byo","hub":"hub-a"}' >/dev/null
BKEY=$(cp_mgmt GET /enrollments/b1 | jq -r .primaryKey)
provision b1 "$BKEY"; expect_eq "$(jq -r .status "$W/final.json")" failed "BYOR pending: no issuance"
cp_mgmt GET /policies/byo/csr > "$W/byo.csr"; expect_eq "$(cp_status)" 200 "BYOR CSR download"
openssl req -in "$W/byo.csr" -noout -verify 2>&1 | grep -qi 'verify OK' || fail "BYOR CSR does not verify"
openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$W/ext.key" \
  -subj /CN=external-root -days 30 -sha384 -addext "keyUsage=critical,keyCertSign,cRLSign" \
  -addext "basicConstraints=critical,CA:TRUE" -out "$W/ext.pem" 2>/dev/null
printf 'basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n' > "$W/ica.ext"
openssl x509 -req -in "$W/byo.csr" -CA "$W/ext.pem" -CAkey "$W/ext.key" -CAcreateserial -days 20 -sha384 \
  -extfile "$W/ica.ext" -out "$W/byo-ica.pem" 2>/dev/null || fail "external signing"
cat "$W/ext.pem" > "$W/wrong.pem"
curl -s -o /dev/null -w '%{http_code}' --cacert "$CERTPILOT_TRUST_BUNDLE" -H "Authorization: Bearer $CERTPILOT_ADMIN_TOKEN" \
  -X PUT --data-binary @"$W/wrong.pem" "$CERTPILOT_MGMT_URL/policies/byo/certificate" | grep -qx 400 || fail "BYOR upload of a wrong bundle"
cat "$W/byo-ica.pem" "$W/ext.pem" > "$W/bundle.pem"
ST=$(curl -s -o "$W/up.json" -w '%{http_code}' --cacert "$CERTPILOT_TRUST_BUNDLE" -H "Authorization: Bearer $CERTPILOT_ADMIN_TOKEN" \
  -X PUT --data-binary @"$W/bundle.pem" "$CERTPILOT_MGMT_URL/policies/byo/certificate")
expect_eq "$ST" 200 "BYOR upload"
expect_eq "$(jq -r .state "$W/up.json")" active "BYOR state after upload"
provision b1 "$BKEY"; expect_eq "$(jq -r .status "$W/final.json")" assigned "BYOR issuance"
verify_chain b1
cmp -s <(openssl x509 -in "$W/b1.root.pem" -outform DER) <(openssl x509 -in "$W/ext.pem" -outform DER) || fail "BYOR chain does not end at the external root"
pass "BYOR: CSR download, external signing, upload, chain ends at the external root"

# ---- audit log ----
cp_mgmt GET /audit > "$W/audit.json"
jq -e '[.[] | select(.operation == "POST devices/revoke" and .target == "devices/d1" and .result == 200 and .tokenName == "admin" and .role == "credentials-contributor")] | length == 1' "$W/audit.json" >/dev/null || fail "audit lacks the device revoke"
jq -e '[.[] | select(.operation == "POST credential" and .tokenName == "viewer" and .result == 403)] | length == 1' "$W/audit.json" >/dev/null || fail "audit lacks the refused reader write"
jq -e '[.[] | select(.operation == "DELETE credential" and .result == 409)] | length == 1' "$W/audit.json" >/dev/null || fail "audit lacks the 409"
jq -e 'all(.[]; .time != null and .seq > 0)' "$W/audit.json" >/dev/null || fail "audit records incomplete"
pass "audit log records operations with token, role, target, result"

# ---- restart: state survives ----
DEV_BEFORE=$(cp_mgmt GET /devices | jq -c '[.[] | {deviceId, revocationId, enabled}]')
PORT=$CERTPILOT_DPS_PORT
cp_server_stop
"$(cp__bin)" --data-dir "$CERTPILOT_DATA_DIR" --dps-port 0 --mgmt-port 0 --dev --retry-after 0 \
  --max-lifetime 120 --ready-file "$W/ready2.env" > "$W/server2.out" 2>>"$CP_HARNESS_DIR/server.err" &
CERTPILOT_SERVER_PID=$!
for _ in $(seq 100); do [ -s "$W/ready2.env" ] && break; sleep 0.05; done
set -a; . "$W/ready2.env"; set +a
grep -q 'admin token' "$W/server2.out" && fail "admin token printed again on restart"
expect_eq "$(cp_mgmt GET /devices | jq -c '[.[] | {deviceId, revocationId, enabled}]')" "$DEV_BEFORE" "devices after restart"
provision b1 "$BKEY"; expect_eq "$(jq -r .status "$W/final.json")" assigned "issuance after restart"
pass "state survives a restart; admin token not shown again"
