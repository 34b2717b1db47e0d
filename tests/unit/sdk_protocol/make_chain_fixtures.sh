#!/usr/bin/env bash
# Chain fixtures for test_prov_chain: a P-384 root -> ICA -> leaf(CN=dev-1),
# a forged ICA/root with the SAME names but other keys, and a second device key.
# Each certificate is also written as one-line base64 DER (*.b64).
# Usage: make_chain_fixtures.sh <dir>
set -euo pipefail
cd "$1"
key() { openssl ecparam -name secp384r1 -genkey -noout 2>/dev/null | openssl pkcs8 -topk8 -nocrypt -out "$1"; }
ca_ext() { printf 'basicConstraints=critical,CA:TRUE\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n'; }
leaf_ext() { printf 'basicConstraints=CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth\n'; }
for p in good forged; do
  key $p-root.key; key $p-ica.key
  openssl req -x509 -new -key $p-root.key -sha384 -days 30 -subj "/CN=certpilot root" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out $p-root.pem 2>/dev/null
  openssl req -new -key $p-ica.key -subj "/CN=certpilot issuing CA" -out $p-ica.csr 2>/dev/null
  openssl x509 -req -in $p-ica.csr -CA $p-root.pem -CAkey $p-root.key -set_serial 0x$RANDOM$RANDOM \
    -days 30 -sha384 -extfile <(ca_ext) -out $p-ica.pem 2>/dev/null
done
key device.key; key other-device.key
openssl req -new -key device.key -subj "/CN=dev-1" -out leaf.csr 2>/dev/null
openssl x509 -req -in leaf.csr -CA good-ica.pem -CAkey good-ica.key -set_serial 0x1234abcd \
  -days 7 -sha384 -extfile <(leaf_ext) -out leaf.pem 2>/dev/null
# The same leaf request signed by the forged ICA: names line up, signatures do not.
openssl x509 -req -in leaf.csr -CA forged-ica.pem -CAkey forged-ica.key -set_serial 0x99 \
  -days 7 -sha384 -extfile <(leaf_ext) -out forged-leaf.pem 2>/dev/null
for c in leaf forged-leaf good-ica good-root forged-ica forged-root; do
  openssl x509 -in $c.pem -outform DER | base64 -w0 > $c.b64
done
