#!/usr/bin/env bash
# Integration: symmetric-key devices (individual and group) register over HTTPS with an SDK CSR;
# the chain passes `openssl verify`; bad input gets its Azure error and changes nothing.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SDK_DEVICE=$1
. "$HERE/harness.sh"
cp_server_start || exit 1
. "$HERE/lib.sh"

cp_mgmt POST /credential >/dev/null; expect_eq "$(cp_status)" 201 "create credential"
cp_mgmt POST /policies '{"name":"p1","validityDays":30}' >/dev/null; expect_eq "$(cp_status)" 201 "create policy"
KEY=$(cp_mgmt POST /enrollments '{"id":"dev-1","kind":"individual","attestation":"symmetricKey","policy":"p1","hub":"hub-a"}' | jq -r .primaryKey)
expect_eq "$(cp_status)" 201 "create individual enrollment"
GKEY=$(cp_mgmt POST /enrollments '{"id":"grp-1","kind":"group","attestation":"symmetricKey","policy":"p1","hub":"hub-b"}' | jq -r .primaryKey)
expect_eq "$(cp_status)" 201 "create group enrollment"

# Individual enrollment, CSR by the SDK.
CSR=$(new_csr dev-1)
register_and_poll dev-1 "$(sas dev-1 "$KEY")" "{\"registrationId\":\"dev-1\",\"csr\":\"$CSR\"}"
expect_eq "$(jq -r .status "$W/final.json")" assigned "dev-1 status"
expect_eq "$(jq -r .registrationState.assignedHub "$W/final.json")" hub-a "dev-1 hub"
expect_eq "$(jq -r .registrationState.deviceId "$W/final.json")" dev-1 "dev-1 deviceId"
expect_eq "$(jq -r .registrationState.substatus "$W/final.json")" initialAssignment "dev-1 substatus"
for f in createdDateTimeUtc lastUpdatedDateTimeUtc etag; do
  [ "$(jq -r ".registrationState.$f" "$W/final.json")" != null ] || fail "dev-1: registrationState.$f missing"
done
save_chain dev-1
verify_chain dev-1
TEXT=$(openssl x509 -in "$W/dev-1.leaf.pem" -noout -text)
echo "$TEXT" | grep -q 'Subject: CN = dev-1' || fail "leaf subject"
echo "$TEXT" | grep -q 'URI:urn:certpilot:device-id:' || fail "leaf revocation identifier"
echo "$TEXT" | grep -A1 'Key Usage: critical' | grep -q 'Digital Signature' || fail "leaf keyUsage"
echo "$TEXT" | grep -A1 'Extended Key Usage' | grep -q 'TLS Web Client Authentication' || fail "leaf EKU"
echo "$TEXT" | grep -q 'ecdsa-with-SHA384' || fail "leaf signature algorithm"
echo "$TEXT" | grep -q 'Subject Alternative Name: critical' && fail "SAN must not be critical"
[ "$(cp_mgmt GET /devices/dev-1 | jq '.certificates | length')" = 1 ] || fail "issued serial not recorded"
pass "individual symmetric key + SDK CSR -> chain verified by openssl"

# Group enrollment: device key derived by the SDK.
DKEY=$("$SDK_DEVICE" derive "$GKEY" sensor-7)
CSR=$(new_csr sensor-7)
register_and_poll sensor-7 "$(sas sensor-7 "$DKEY")" "{\"registrationId\":\"sensor-7\",\"csr\":\"$CSR\"}"
expect_eq "$(jq -r .status "$W/final.json")" assigned "sensor-7 status"
expect_eq "$(jq -r .registrationState.assignedHub "$W/final.json")" hub-b "sensor-7 hub"
expect_eq "$(jq -r .registrationState.symmetricKey.enrollmentGroupId "$W/final.json")" grp-1 "sensor-7 group"
save_chain sensor-7
verify_chain sensor-7
pass "group symmetric key + SDK CSR -> chain verified by openssl"

# Without a CSR: assigned, no chain.
register_and_poll dev-1 "$(sas dev-1 "$KEY")" '{"registrationId":"dev-1"}'
expect_eq "$(jq -r .status "$W/final.json")" assigned "no-csr status"
expect_eq "$(jq -r '.registrationState.issuedCertificateChain' "$W/final.json")" null "no-csr chain"
pass "registration without CSR assigns without a chain"

# ---- bad input: each gets its error and changes nothing in the store ----
DEVICES_BEFORE=$(cp_mgmt GET /devices)
ISSUED_BEFORE=$(echo "$DEVICES_BEFORE" | jq '[.[].certificates[]] | length')
AUTH=$(sas dev-1 "$KEY")

expect_error() { # STATUS ERRORCODE_PREFIX DESC
  expect_eq "$DPS_STATUS" "$1" "$3"
  jq -e '.errorCode and .trackingId and .message and .timestampUtc' "$W/dps.body" >/dev/null \
    || fail "$3: not an Azure error body: $(cat "$W/dps.body")"
  case "$(jq -r .errorCode "$W/dps.body")" in "$2"*) ;; *) fail "$3: errorCode $(jq -r .errorCode "$W/dps.body")";; esac
  grep -qi "^x-ms-error-code: $2" "$W/dps.hdr" || fail "$3: no x-ms-error-code header"
  pass "$3 -> $1"
}
dps PUT dev-1 "register?api-version=$API" "$AUTH" '{"registrationId":'; expect_error 400 400 "malformed JSON"
dps PUT dev-1 "register" "$AUTH" '{"registrationId":"dev-1"}'; expect_error 400 400 "missing api-version"
dps PUT dev-1 "register?api-version=1999-01-01" "$AUTH" '{"registrationId":"dev-1"}'; expect_error 400 400 "unknown api-version"
BIG=$(head -c 40000 /dev/zero | tr '\0' ' ')
dps PUT dev-1 "register?api-version=$API" "$AUTH" "{\"registrationId\":\"dev-1\",\"payload\":\"$BIG\"}"
expect_error 413 413 "oversize body"
dps PUT dev-1 "register?api-version=$API" "$(sas dev-1 "$KEY" -5)" '{"registrationId":"dev-1"}'; expect_error 401 401 "expired SAS"
dps PUT dev-1 "register?api-version=$API" "$(sas dev-1 "$GKEY")" '{"registrationId":"dev-1"}'; expect_error 401 401 "forged SAS (other key)"
dps PUT dev-1 "register?api-version=$API" "" '{"registrationId":"dev-1"}'; expect_error 401 401 "no credentials"
CP_SAVE=$CERTPILOT_ID_SCOPE; CERTPILOT_ID_SCOPE=0neFFFFFFFF
dps PUT dev-1 "register?api-version=$API" "$AUTH" '{"registrationId":"dev-1"}'; expect_error 404 404 "unknown id scope"
CERTPILOT_ID_SCOPE=$CP_SAVE
dps GET dev-1 "operations/4.nope?api-version=$API" "$AUTH"; expect_error 404 404 "unknown operation"

# Wrong-curve CSR (P-256, made with openssl) and CN mismatch: final "failed", 400037.
openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$W/p256.key" \
  -subj /CN=dev-1 -outform DER -out "$W/p256.der" 2>/dev/null
P256=$(base64 -w0 "$W/p256.der")
register_and_poll dev-1 "$AUTH" "{\"registrationId\":\"dev-1\",\"csr\":\"$P256\"}"
expect_eq "$(jq -r .status "$W/final.json")" failed "P-256 CSR status"
expect_eq "$(jq -r .registrationState.errorCode "$W/final.json")" 400037 "P-256 CSR errorCode"
jq -r .registrationState.errorMessage "$W/final.json" | grep -q 'P-384' || fail "P-256 CSR message"
pass "wrong-curve CSR -> failed 400037"
OTHER=$(new_csr someone-else)
register_and_poll dev-1 "$AUTH" "{\"registrationId\":\"dev-1\",\"csr\":\"$OTHER\"}"
expect_eq "$(jq -r .status "$W/final.json")" failed "CN mismatch status"
jq -r .registrationState.errorMessage "$W/final.json" | grep -q 'CN' || fail "CN mismatch message"
pass "CN mismatch -> failed 400037"

# Unknown enrollment (no individual enrollment, and the group's derived key does not apply).
cp_mgmt DELETE /enrollments/grp-1 >/dev/null; expect_eq "$(cp_status)" 204 "delete group enrollment"
dps PUT nobody "register?api-version=$API" "$(sas nobody "$KEY")" '{"registrationId":"nobody"}'
expect_error 404 404 "unknown enrollment"

# Disabled enrollment: final status "disabled", no certificate.
cp_mgmt POST /enrollments/dev-1/disable >/dev/null; expect_eq "$(cp_status)" 200 "disable enrollment"
CSR=$(new_csr dev-1)
register_and_poll dev-1 "$AUTH" "{\"registrationId\":\"dev-1\",\"csr\":\"$CSR\"}"
expect_eq "$(jq -r .status "$W/final.json")" disabled "disabled enrollment status"
expect_eq "$(jq -r '.registrationState.issuedCertificateChain' "$W/final.json")" null "disabled: no chain"
pass "disabled enrollment -> disabled"

DEVICES_AFTER=$(cp_mgmt GET /devices)
expect_eq "$(echo "$DEVICES_AFTER" | jq '[.[].certificates[]] | length')" "$ISSUED_BEFORE" "issued serials after bad input"
expect_eq "$(echo "$DEVICES_AFTER" | jq -c '[.[] | {deviceId, enabled, revocationId, hub}]')" \
          "$(echo "$DEVICES_BEFORE" | jq -c '[.[] | {deviceId, enabled, revocationId, hub}]')" "devices after bad input"
pass "bad input changed nothing in the store"
