#!/usr/bin/env bash
# Integration: X.509 attestation over HTTPS (TLS client certificate), group (CA) and individual
# enrollments, with an SDK CSR; wrong certificates are refused.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SDK_DEVICE=$1
. "$HERE/harness.sh"
cp_server_start || exit 1
. "$HERE/lib.sh"

# An onboarding CA and device certificates (the manufacturer's PKI, made with openssl).
mkca() { # NAME
  openssl req -x509 -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$W/$1.key" \
    -subj "/CN=$1" -days 30 -sha384 -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -addext "basicConstraints=critical,CA:TRUE" -out "$W/$1.pem" 2>/dev/null || fail "mkca $1"
}
mkdev() { # CN CA
  printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$W/dev.ext"
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout "$W/$1.onb.key" \
    -subj "/CN=$1" -out "$W/$1.onb.csr" 2>/dev/null
  openssl x509 -req -in "$W/$1.onb.csr" -CA "$W/$2.pem" -CAkey "$W/$2.key" -CAcreateserial -days 10 \
    -sha384 -extfile "$W/dev.ext" -out "$W/$1.onb.pem" 2>/dev/null || fail "mkdev $1"
}
mkca factory-ca
mkca rogue-ca
mkdev x509-dev-1 factory-ca
mkdev x509-dev-2 rogue-ca
printf '[req]\ndistinguished_name=dn\nx509_extensions=v3\n[dn]\n[v3]\nbasicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n' > "$W/solo.cnf"
openssl req -x509 -new -config "$W/solo.cnf" -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes \
  -keyout "$W/solo.onb.key" -subj /CN=solo-1 -days 10 -sha384 -out "$W/solo.onb.pem" 2>/dev/null || fail "solo cert"

cp_mgmt POST /credential >/dev/null
cp_mgmt POST /policies '{"name":"p1","validityDays":14}' >/dev/null
jq -n --rawfile c "$W/factory-ca.pem" '{id:"factory",kind:"group",attestation:"x509",certificate:$c,policy:"p1",hub:"hub-x"}' > "$W/g.json"
cp_mgmt POST /enrollments "$(cat "$W/g.json")" >/dev/null; expect_eq "$(cp_status)" 201 "group x509 enrollment"
jq -n --rawfile c "$W/solo.onb.pem" '{id:"solo-1",kind:"individual",attestation:"x509",certificate:$c,policy:"p1",hub:"hub-y"}' > "$W/i.json"
cp_mgmt POST /enrollments "$(cat "$W/i.json")" >/dev/null; expect_eq "$(cp_status)" 201 "individual x509 enrollment"
jq -n --rawfile c "$W/solo.onb.pem" '{id:"bad",kind:"group",attestation:"x509",certificate:$c,policy:"p1",hub:"h"}' > "$W/b.json"
cp_mgmt POST /enrollments "$(cat "$W/b.json")" >/dev/null; expect_eq "$(cp_status)" 400 "group enrollment with a non-CA certificate"

# Group: the device certificate chains to the enrollment's CA.
CSR=$(new_csr x509-dev-1)
register_and_poll x509-dev-1 "" "{\"registrationId\":\"x509-dev-1\",\"csr\":\"$CSR\"}" \
  --cert "$W/x509-dev-1.onb.pem" --key "$W/x509-dev-1.onb.key"
expect_eq "$(jq -r .status "$W/final.json")" assigned "x509 group status"
expect_eq "$(jq -r .registrationState.assignedHub "$W/final.json")" hub-x "x509 group hub"
expect_eq "$(jq -r .registrationState.x509.enrollmentGroupId "$W/final.json")" factory "x509 group id"
save_chain x509-dev-1
verify_chain x509-dev-1
openssl verify -CAfile "$(cp_mgmt GET /credential | jq -r .certificate > "$W/root.pem"; echo "$W/root.pem")" \
  -untrusted "$W/x509-dev-1.ica.pem" "$W/x509-dev-1.leaf.pem" >/dev/null || fail "chain vs namespace root"
pass "X.509 group enrollment + SDK CSR -> chain verified by openssl"

# Individual: the same certificate as enrolled.
CSR=$(new_csr solo-1)
register_and_poll solo-1 "" "{\"registrationId\":\"solo-1\",\"csr\":\"$CSR\"}" \
  --cert "$W/solo.onb.pem" --key "$W/solo.onb.key"
expect_eq "$(jq -r .status "$W/final.json")" assigned "x509 individual status"
expect_eq "$(jq -r .registrationState.assignedHub "$W/final.json")" hub-y "x509 individual hub"
save_chain solo-1
verify_chain solo-1
pass "X.509 individual enrollment + SDK CSR -> chain verified by openssl"

# Refusals: unknown CA, CN differing from the registration id.
dps PUT x509-dev-2 "register?api-version=$API" "" '{"registrationId":"x509-dev-2"}' \
  --cert "$W/x509-dev-2.onb.pem" --key "$W/x509-dev-2.onb.key"
expect_eq "$DPS_STATUS" 401 "certificate from an unknown CA"
dps PUT x509-dev-9 "register?api-version=$API" "" '{"registrationId":"x509-dev-9"}' \
  --cert "$W/x509-dev-1.onb.pem" --key "$W/x509-dev-1.onb.key"
expect_eq "$DPS_STATUS" 401 "CN differs from the registration id"
jq -r .message "$W/dps.body" | grep -q CN || fail "CN mismatch message"
expect_eq "$(count /devices)" 2 "devices after refusals"
pass "X.509 refusals: unknown CA 401, CN mismatch 401, nothing stored"
