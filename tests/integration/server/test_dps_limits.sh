#!/usr/bin/env bash
# Integration: rate limiting (429 + Retry-After) and the server's own TLS (trust bundle required).
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SDK_DEVICE=$1
. "$HERE/harness.sh"
cp_server_start --rate-limit 0.2 --rate-burst 2 || exit 1
. "$HERE/lib.sh"

B='{"registrationId":"r1"}'
dps PUT r1 "register?api-version=$API" "" "$B"; expect_eq "$DPS_STATUS" 401 "first request"
dps PUT r1 "register?api-version=$API" "" "$B"; expect_eq "$DPS_STATUS" 401 "second request"
dps PUT r1 "register?api-version=$API" "" "$B"; expect_eq "$DPS_STATUS" 429 "third request"
grep -qi '^Retry-After: [1-9]' "$W/dps.hdr" || fail "429 without Retry-After"
jq -e '.errorCode == 429001' "$W/dps.body" >/dev/null || fail "429 body"
pass "rate limit -> 429 with Retry-After"

# TLS is verified: without the trust bundle curl refuses the server certificate.
curl -s -o /dev/null "$CERTPILOT_DPS_URL/" && fail "server certificate accepted without the trust bundle"
openssl s_client -connect "127.0.0.1:$CERTPILOT_DPS_PORT" -CAfile "$CERTPILOT_TRUST_BUNDLE" \
  -verify_return_error -verify_hostname localhost </dev/null >/dev/null 2>&1 || fail "server certificate does not verify"
pass "server TLS certificate verifies against the trust bundle (and only with it)"
