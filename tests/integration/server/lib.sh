#!/usr/bin/env bash
# Shared helpers of the server integration tests (sourced after harness.sh).
# Device-side crypto (keys, CSRs, SAS tokens) is done by the SDK through $SDK_DEVICE.

API=2025-07-01-preview
W="$CP_HARNESS_DIR"

fail() {
  echo "FAIL: $*" >&2
  echo "--- server stderr:" >&2
  cat "$CP_HARNESS_DIR/server.err" >&2 2>/dev/null
  exit 1
}
pass() { echo "ok: $*"; }

expect_eq() { [ "$1" = "$2" ] || fail "$3: expected '$2', got '$1'"; }

# dps REQUEST_METHOD REGID PATH_SUFFIX AUTH [BODY] [extra curl args…]
# Sets DPS_STATUS; body in $W/dps.body, headers in $W/dps.hdr.
dps() {
  local method=$1 regid=$2 suffix=$3 auth=$4 body=${5:-}
  shift 5 2>/dev/null || shift $#
  local args=(-s -o "$W/dps.body" -D "$W/dps.hdr" -w '%{http_code}' --cacert "$CERTPILOT_TRUST_BUNDLE"
              -X "$method" -H 'Content-Type: application/json; charset=utf-8' -H 'Accept: application/json')
  [ -n "$auth" ] && args+=(-H "Authorization: $auth")
  [ -n "$body" ] && args+=(--data-binary "$body")
  DPS_STATUS=$(curl "${args[@]}" "$@" "$CERTPILOT_DPS_URL/$CERTPILOT_ID_SCOPE/registrations/$regid/$suffix")
}

# register_and_poll REGID AUTH BODY [extra curl args…] -> final JSON in $W/final.json
register_and_poll() {
  local regid=$1 auth=$2 body=$3
  shift 3
  dps PUT "$regid" "register?api-version=$API" "$auth" "$body" "$@"
  [ "$DPS_STATUS" = 202 ] || fail "register $regid: HTTP $DPS_STATUS $(cat "$W/dps.body")"
  grep -qi '^Retry-After: 0' "$W/dps.hdr" || fail "register $regid: no Retry-After header"
  grep -qi '^Location: /.*/operations/' "$W/dps.hdr" || fail "register $regid: no Location header"
  local op; op=$(jq -r .operationId "$W/dps.body")
  expect_eq "$(jq -r .status "$W/dps.body")" assigning "register $regid status"
  for _ in $(seq 20); do
    dps GET "$regid" "operations/$op?api-version=$API" "$auth" "" "$@"
    [ "$DPS_STATUS" = 200 ] && break
    [ "$DPS_STATUS" = 202 ] || fail "poll $regid: HTTP $DPS_STATUS"
    sleep 0.2
  done
  [ "$DPS_STATUS" = 200 ] || fail "poll $regid never finished"
  cp "$W/dps.body" "$W/final.json"
}

# sas REGID KEY [SECONDS]
sas() { "$SDK_DEVICE" sas "$CERTPILOT_ID_SCOPE" "$1" "$2" "${3:-600}"; }

# new_csr REGID -> prints base64 CSR; key in $W/REGID.key
new_csr() {
  "$SDK_DEVICE" key "$W/$1.key" || fail "sdk key"
  "$SDK_DEVICE" csr "$W/$1.key" "$1" || fail "sdk csr"
}

# save_chain REGID: writes $W/REGID.{leaf,ica,root,chain}.pem from $W/final.json
save_chain() {
  local n=0 name
  expect_eq "$(jq '.registrationState.issuedCertificateChain | length' "$W/final.json")" 3 "$1 chain length"
  for name in leaf ica root; do
    jq -r ".registrationState.issuedCertificateChain[$n]" "$W/final.json" | base64 -d \
      | openssl x509 -inform DER -out "$W/$1.$name.pem" || fail "$1: chain[$n] is not a DER certificate"
    n=$((n + 1))
  done
  cat "$W/$1.leaf.pem" "$W/$1.ica.pem" > "$W/$1.chain.pem"
}

# verify_chain REGID: openssl verify leaf against root with the ICA as intermediate
verify_chain() {
  openssl verify -x509_strict -purpose sslclient -CAfile "$W/$1.root.pem" -untrusted "$W/$1.ica.pem" \
    "$W/$1.leaf.pem" >/dev/null || fail "$1: openssl verify rejected the chain"
  # the leaf holds the CSR key
  [ "$(openssl pkey -in "$W/$1.key" -pubout)" = "$(openssl x509 -in "$W/$1.leaf.pem" -noout -pubkey)" ] \
    || fail "$1: leaf key differs from the CSR key"
}

count() { cp_mgmt GET "$1" | jq length; }
