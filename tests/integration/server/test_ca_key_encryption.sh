#!/usr/bin/env bash
# Integration: CA keys encrypted at rest (--ca-key-passphrase-file). An existing database with
# unencrypted keys is migrated at start-up, new CA keys are written encrypted, issuance over
# HTTPS still works (chain checked by openssl), and the server refuses to start, changing
# nothing, without the passphrase, with a wrong one or with a passphrase file others can read.
set -u
HERE=$(cd "$(dirname "$0")" && pwd)
SDK_DEVICE=$1
BIN=${CERTPILOT_SERVER_BIN:-$CP_BINARY_DIR/server/certpilot-server}
. "$HERE/harness.sh"
CP_HARNESS_DIR=${CP_HARNESS_DIR:-}
. "$HERE/lib.sh"
K=$(mktemp -d /tmp/certpilot-cakeys.XXXXXX)
trap 'rm -rf "$K"' EXIT
DATA=$K/data
DB=$DATA/certpilot.db
SECRET='Tr0ub4dor&3 correct horse'
printf '%s\n' "$SECRET" > "$K/pass"
chmod 600 "$K/pass"

# start FLAGS…: the harness's server on the shared data dir (the harness replaces the EXIT trap)
start() {
  cp_server_start --data-dir "$DATA" "$@" 2>/dev/null || { cat "$CP_HARNESS_DIR/server.err" >&2; exit 1; }
  trap 'cp__cleanup; rm -rf "$K"' EXIT
  W=$CP_HARNESS_DIR
}
stop() {
  cp_server_stop
  rm -rf "$CP_HARNESS_DIR"
}
# keys_with HEADER: how many stored CA keys hold this PEM header
keys_with() {
  sqlite3 "$DB" "SELECT COUNT(*) FROM (SELECT root_key AS k FROM credential WHERE root_key IS NOT NULL
                 UNION ALL SELECT key FROM ica) WHERE instr(k, '-----BEGIN $1-----') > 0"
}
keys_dump() { sqlite3 "$DB" "SELECT id, root_key FROM credential; SELECT id, key FROM ica" | sha256sum; }
# refused WHY FLAGS…: the server must exit 1 before listening, with WHY in its error
refused() {
  local why=$1
  shift
  timeout 30 "$BIN" --data-dir "$DATA" --dps-port 0 --mgmt-port 0 --mqtt false --max-lifetime 20 \
    --ready-file "$K/refused.ready" "$@" > "$K/refused.out" 2> "$K/refused.err"
  local rc=$?
  [ "$rc" = 1 ] || fail "server started or failed oddly (exit $rc; want 1): $(cat "$K/refused.err")"
  [ -e "$K/refused.ready" ] && fail "refused server wrote its ready file"
  grep -q -- "$why" "$K/refused.err" || fail "error does not say '$why': $(cat "$K/refused.err")"
  grep -qF "$SECRET" "$K/refused.out" "$K/refused.err" && fail "the passphrase was printed"
  return 0
}
no_secret_in_logs() {
  grep -qF "$SECRET" "$CP_HARNESS_DIR/server.out" "$CP_HARNESS_DIR/server.err" \
    && fail "the passphrase appears in the server's output"
  grep -q "PRIVATE KEY" "$CP_HARNESS_DIR/server.out" "$CP_HARNESS_DIR/server.err" \
    && fail "a key appears in the server's output"
  return 0
}

# 1. Today's behaviour: without the option the CA keys are stored unencrypted.
start
export CP_MGMT_TOKEN=$CERTPILOT_ADMIN_TOKEN
cp_mgmt POST /credential >/dev/null; expect_eq "$(cp_status)" 201 "create credential"
cp_mgmt POST /policies '{"name":"p1","validityDays":14}' >/dev/null; expect_eq "$(cp_status)" 201 "create policy"
stop
expect_eq "$(keys_with 'PRIVATE KEY')" 2 "unencrypted keys before the migration"
expect_eq "$(keys_with 'ENCRYPTED PRIVATE KEY')" 0 "encrypted keys before the migration"
pass "without the option: root and ICA keys stored unencrypted (as before)"

# 2. A passphrase file that group or others can read is refused; nothing changes.
BEFORE=$(keys_dump)
chmod 644 "$K/pass"
refused "group or others may access it" --ca-key-passphrase-file "$K/pass"
grep -q "$K/pass" "$K/refused.err" || fail "mode error does not name the file"
chmod 600 "$K/pass"
: > "$K/empty"; chmod 600 "$K/empty"
refused "is empty" --ca-key-passphrase-file "$K/empty"
refused "No such file" --ca-key-passphrase-file "$K/missing"
expect_eq "$(keys_dump)" "$BEFORE" "keys after refused starts"
pass "passphrase file mode 0644 / empty / missing: refused, database unchanged"

# 3. Migration: started with the passphrase, the server encrypts the existing keys.
start --ca-key-passphrase-file "$K/pass"
grep -q "encrypted 2 CA keys in the database" "$CP_HARNESS_DIR/server.out" || fail "migration not logged"
expect_eq "$(keys_with 'ENCRYPTED PRIVATE KEY')" 2 "encrypted keys after the migration"
expect_eq "$(keys_with 'PRIVATE KEY')" 0 "unencrypted keys after the migration"
pass "existing unencrypted keys encrypted in place at start-up, count logged"

# 4. Issuance end to end with the encrypted keys: a new policy (ICA signed by the encrypted
#    root, its key written encrypted), a device registered over HTTPS, chain checked by openssl.
cp_mgmt POST /policies '{"name":"p2","validityDays":14}' >/dev/null; expect_eq "$(cp_status)" 201 "policy p2"
KEY=$(cp_mgmt POST /enrollments '{"id":"enc-dev-1","kind":"individual","attestation":"symmetricKey","policy":"p2","hub":"hub-enc"}' | jq -r .primaryKey)
expect_eq "$(cp_status)" 201 "enrollment"
CSR=$(new_csr enc-dev-1)
register_and_poll enc-dev-1 "$(sas enc-dev-1 "$KEY")" "{\"registrationId\":\"enc-dev-1\",\"csr\":\"$CSR\"}"
expect_eq "$(jq -r .status "$W/final.json")" assigned "registration status"
save_chain enc-dev-1
verify_chain enc-dev-1
cp_mgmt GET /credential | jq -r .certificate > "$W/ns-root.pem"
openssl verify -CAfile "$W/ns-root.pem" -untrusted "$W/enc-dev-1.ica.pem" "$W/enc-dev-1.leaf.pem" >/dev/null \
  || fail "chain does not verify against the namespace root"
cp_mgmt GET /crl/root > "$W/root.crl"; expect_eq "$(cp_status)" 200 "root CRL signed with the encrypted root key"
openssl crl -inform DER -in "$W/root.crl" -CAfile "$W/ns-root.pem" -noout 2>&1 | grep -q "verify OK" \
  || fail "root CRL does not verify"
expect_eq "$(keys_with 'ENCRYPTED PRIVATE KEY')" 3 "encrypted keys with the new policy"
expect_eq "$(keys_with 'PRIVATE KEY')" 0 "unencrypted keys with the new policy"
grep -q "plugin ready" "$CP_HARNESS_DIR/server.err" || fail "MQTT plugin did not start with the passphrase file"
no_secret_in_logs
stop
pass "HTTPS registration with encrypted CA keys: chain verified by openssl, new ICA key encrypted"

# 5. Encrypted database, no passphrase: refused, naming the option; nothing changes.
BEFORE=$(keys_dump)
refused "CA keys in .* are encrypted: set ca-key-passphrase-file (--ca-key-passphrase-file FILE)"
expect_eq "$(keys_dump)" "$BEFORE" "keys after a start without passphrase"
pass "encrypted keys without the option: refused with the option named, database unchanged"

# 6. Wrong passphrase: refused at start-up (keys decrypted there); nothing changes.
printf 'not the passphrase\n' > "$K/wrong"; chmod 600 "$K/wrong"
refused "the passphrase in $K/wrong does not decrypt the CA keys" --ca-key-passphrase-file "$K/wrong"
expect_eq "$(keys_dump)" "$BEFORE" "keys after a wrong passphrase"
pass "wrong passphrase: refused at start-up, database unchanged"

# 7. The right passphrase from a config file: starts, nothing left to migrate.
printf 'ca-key-passphrase-file = %s\n' "$K/pass" > "$K/server.conf"
start --config "$K/server.conf"
grep -q "encrypted .* CA key" "$CP_HARNESS_DIR/server.out" && fail "keys migrated twice"
cp_mgmt GET /crl/policies/p2 >/dev/null; expect_eq "$(cp_status)" 200 "ICA CRL after restart"
expect_eq "$(keys_dump)" "$BEFORE" "keys after a restart with the passphrase"
no_secret_in_logs
pass "config file key ca-key-passphrase-file: restart with encrypted keys works"
