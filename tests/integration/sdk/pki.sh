#!/usr/bin/env bash
# Test PKI for transport tests: a root CA, a server cert for 127.0.0.1/localhost,
# a client cert, and an unrelated CA (for "wrong trust bundle").
# Usage: pki.sh <dir>
set -euo pipefail
d=$1
mkdir -p "$d"
cd "$d"
ec() { openssl ecparam -name prime256v1 -genkey -noout -out "$1" 2>/dev/null; chmod 600 "$1"; }
ec ca.key
openssl req -x509 -new -key ca.key -sha256 -days 2 -subj "/CN=certpilot test CA" -out ca.pem 2>/dev/null
ec other-ca.key
openssl req -x509 -new -key other-ca.key -sha256 -days 2 -subj "/CN=unrelated CA" -out other-ca.pem 2>/dev/null
ec server.key
openssl req -new -key server.key -subj "/CN=localhost" -out server.csr 2>/dev/null
printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\nextendedKeyUsage=serverAuth\n' > server.ext
openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
  -extfile server.ext -out server.pem 2>/dev/null
ec client.key
openssl req -new -key client.key -subj "/CN=client-1" -out client.csr 2>/dev/null
printf 'extendedKeyUsage=clientAuth\n' > client.ext
openssl x509 -req -in client.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -sha256 \
  -extfile client.ext -out client.pem 2>/dev/null
