#!/usr/bin/env bash
# Integration: config file + flags, clear errors for bad settings, first-start files and
# modes, clean shutdown on SIGINT.
set -u
BIN=${CERTPILOT_SERVER_BIN:-$CP_BINARY_DIR/server/certpilot-server}
SDK_DEVICE=$1
D=$(mktemp -d /tmp/certpilot-config.XXXXXX)
PID=
trap '[ -n "$PID" ] && kill -KILL "$PID" 2>/dev/null; rm -rf "$D"' EXIT
fail() { echo "FAIL: $*" >&2; cat "$D"/err 2>/dev/null >&2; exit 1; }

# Bad settings: exit 2, message names the key (and the file line).
printf 'retry-after = 5000\n' > "$D/bad.conf"
"$BIN" --config "$D/bad.conf" 2> "$D/err"; [ $? = 2 ] || fail "bad value accepted"
grep -q "bad.conf:1: retry-after must be an integer from 0 to 300" "$D/err" || fail "bad value message"
printf 'colour = blue\n' > "$D/bad2.conf"
"$BIN" --config "$D/bad2.conf" 2> "$D/err"; [ $? = 2 ] || fail "unknown key accepted"
grep -q "unknown setting 'colour'" "$D/err" || fail "unknown key message"
"$BIN" --dps-port 70000 2> "$D/err"; [ $? = 2 ] || fail "bad flag accepted"
grep -q "command line: dps-port" "$D/err" || fail "bad flag message"
echo "ok: bad settings rejected with the key named"

# Config file values apply; flags override them.
cat > "$D/good.conf" <<CONF
# certpilot-server test config
data-dir = $D/data
dps-port = 0
mgmt-port = 0
id-scope = 0neCONFIG01
retry-after = 7
max-lifetime = 60
threads = 2
CONF
"$BIN" --config "$D/good.conf" --retry-after 3 --ready-file "$D/ready" --admin-token-file "$D/tok" \
  > "$D/out" 2> "$D/err" &
PID=$!
for _ in $(seq 100); do [ -s "$D/ready" ] && break; sleep 0.05; done
[ -s "$D/ready" ] || fail "server not ready"
. "$D/ready"
[ "$CERTPILOT_ID_SCOPE" = 0neCONFIG01 ] || fail "id-scope from the config file not applied"
grep -q "listening on https://127.0.0.1:$CERTPILOT_DPS_PORT" "$D/out" || fail "listen address not printed"
[ "$(stat -c %a "$D/data")" = 700 ] || fail "data dir mode"
[ "$(stat -c %a "$D/data/certpilot.db")" = 600 ] || fail "database mode"
[ "$(stat -c %a "$D/data/tls/server.key")" = 600 ] || fail "server key mode"
[ "$(stat -c %a "$D/data/tls/server-ca.key")" = 600 ] || fail "server CA key mode"
[ "$(stat -c %a "$D/tok")" = 600 ] || fail "admin token file mode"
grep -q "$(cat "$D/tok")" "$D/out" || fail "admin token not printed on first start"
H=$(curl -s -D - -o /dev/null --cacert "$CERTPILOT_TRUST_BUNDLE" -X PUT -H "Authorization: x" \
  "$CERTPILOT_DPS_URL/0neCONFIG01/registrations/x/register?api-version=2021-06-01" -d '{"registrationId":"x"}')
echo "$H" | grep -q '^HTTP/1.1 401' || fail "DPS endpoint did not answer: $H"
echo "ok: config file applied, flags override, first-start files are private"

# Validity in seconds needs dev mode.
ST=$(curl -s -o /dev/null -w '%{http_code}' --cacert "$CERTPILOT_TRUST_BUNDLE" -H "Authorization: Bearer $(cat "$D/tok")" \
  -X POST "$CERTPILOT_MGMT_URL/credential")
[ "$ST" = 201 ] || fail "credential: $ST"
B=$(curl -s -w ' %{http_code}' --cacert "$CERTPILOT_TRUST_BUNDLE" -H "Authorization: Bearer $(cat "$D/tok")" \
  -X POST "$CERTPILOT_MGMT_URL/policies" -d '{"name":"fast","validitySeconds":60}')
echo "$B" | grep -q 'dev mode.* 400$' || fail "validitySeconds accepted outside dev mode: $B"
echo "ok: validitySeconds refused outside dev mode"

# The flag (--retry-after 3) overrides the file (7).
curl -s -o /dev/null --cacert "$CERTPILOT_TRUST_BUNDLE" -H "Authorization: Bearer $(cat "$D/tok")" \
  -X POST "$CERTPILOT_MGMT_URL/policies" -d '{"name":"p","validityDays":1}'
KEY=$(curl -s --cacert "$CERTPILOT_TRUST_BUNDLE" -H "Authorization: Bearer $(cat "$D/tok")" -X POST \
  "$CERTPILOT_MGMT_URL/enrollments" -d '{"id":"e1","kind":"individual","attestation":"symmetricKey","policy":"p","hub":"h"}' | jq -r .primaryKey)
H=$(curl -s -D - -o /dev/null --cacert "$CERTPILOT_TRUST_BUNDLE" -X PUT \
  -H "Authorization: $("$SDK_DEVICE" sas 0neCONFIG01 e1 "$KEY" 60)" \
  "$CERTPILOT_DPS_URL/0neCONFIG01/registrations/e1/register?api-version=2025-07-01-preview" -d '{"registrationId":"e1"}')
echo "$H" | grep -q '^HTTP/1.1 202' || fail "registration: $H"
echo "$H" | grep -qi '^Retry-After: 3' || fail "--retry-after did not override the file: $H"
echo "ok: flags override the config file"

# SIGINT: clean exit 0.
kill -INT "$PID"
wait "$PID"; RC=$?
PID=
[ "$RC" = 0 ] || fail "exit status $RC after SIGINT"
grep -q "stopped" "$D/err" || fail "no clean stop"
echo "ok: SIGINT stops the server cleanly"
