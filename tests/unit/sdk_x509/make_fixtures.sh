#!/bin/sh
# Make the X.509 fixtures the sdk_x509 tests use, with the openssl CLI, into
# the directory given as $1 (created fresh by the test; nothing is committed).
#   root     P-384 self-signed CA, SHA-384, notAfter past 2050 (GeneralizedTime)
#   root2    another key with root's exact subject (a wrong trust anchor)
#   ica      P-384 CA signed by root, pathlen:0
#   leaf     P-384 leaf signed by ica: escaped and UTF-8 names, 5 URIs + 1 DNS SAN
#   leaf256  P-256 leaf with a multi-valued RDN, leafrsa RSA-2048 leaf (both signed by ica)
#   icanoca  signed by root with CA:FALSE; leafnoca signed by it
#   ica2     CA signed by ica (breaks ica's pathlen:0); leafdeep signed by ica2
#   icashort CA living 1 day; leafshort (30 days) signed by it
#   leafc    the leaf key with its point compressed in the certificate
#   longname subject over 511 characters one-line; longuri a 300-character SAN URI
#   oldroot, oldleaf, futleaf: fixed dates, see below
# Every .pem has a .der twin; leaf.key.der / other.key.der are SEC1 DER keys.
set -eu
d=$1
cd "$d"
p384() { openssl ecparam -name secp384r1 -genkey -noout -out "$1.key"; }

ca_ext='keyUsage=critical,keyCertSign,cRLSign
subjectKeyIdentifier=hash'
leaf_ext='basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
extendedKeyUsage=clientAuth'

# sign <name> <issuer> <days> <ext> <serial-opt...>
sign() {
  printf '%s\n' "$4" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.pem" -CAkey "$2.key" -sha384 -days "$3" \
    -extfile "$1.ext" -set_serial "$5" -out "$1.pem" 2>/dev/null
}

p384 root
openssl req -x509 -new -key root.key -sha384 -days 12000 -set_serial 1 \
  -subj "/C=US/O=Contoso/CN=Test Root" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out root.pem
p384 root2
openssl req -x509 -new -key root2.key -sha384 -days 12000 -set_serial 2 \
  -subj "/C=US/O=Contoso/CN=Test Root" -addext "basicConstraints=critical,CA:TRUE" \
  -addext "keyUsage=critical,keyCertSign,cRLSign" -out root2.pem

p384 ica
openssl req -new -key ica.key -subj "/C=US/O=Contoso/CN=Test ICA" -out ica.csr
sign ica root 3650 "$ca_ext
basicConstraints=critical,CA:TRUE,pathlen:0" 0x7f01

p384 leaf
openssl req -new -utf8 -key leaf.key -subj "/C=DE/O=Contoso\, Ltd/OU=Gerät/CN=dev-1" -out leaf.csr
sign leaf ica 30 "$leaf_ext
subjectAltName=URI:urn:certpilot:rev:3f2a,DNS:dev-1.example,URI:https://example.com/a,URI:urn:x:3,URI:urn:x:4,URI:urn:x:5" 0x00c0ffee0102030405060708090a0b0c0d0e0f10

openssl ecparam -name prime256v1 -genkey -noout -out leaf256.key
openssl req -new -multivalue-rdn -key leaf256.key -subj "/O=Contoso/CN=dev-256+serialNumber=42" \
  -out leaf256.csr
sign leaf256 ica 30 "$leaf_ext" 0x0256

openssl genrsa -out leafrsa.key 2048 2>/dev/null
openssl req -new -key leafrsa.key -subj "/CN=dev-rsa" -out leafrsa.csr
sign leafrsa ica 30 "$leaf_ext
subjectAltName=URI:urn:certpilot:rsa" 0x0a0b

p384 icanoca
openssl req -new -key icanoca.key -subj "/C=US/O=Contoso/CN=Not A CA" -out icanoca.csr
sign icanoca root 3650 "basicConstraints=critical,CA:FALSE" 0x33
p384 leafnoca
openssl req -new -key leafnoca.key -subj "/CN=dev-noca" -out leafnoca.csr
sign leafnoca icanoca 30 "$leaf_ext" 0x34

p384 ica2
openssl req -new -key ica2.key -subj "/CN=Test ICA 2" -out ica2.csr
sign ica2 ica 3650 "$ca_ext
basicConstraints=critical,CA:TRUE" 0x35
p384 leafdeep
openssl req -new -key leafdeep.key -subj "/CN=dev-deep" -out leafdeep.csr
sign leafdeep ica2 30 "$leaf_ext" 0x36

p384 icashort
openssl req -new -key icashort.key -subj "/C=US/O=Contoso/CN=Short ICA" -out icashort.csr
sign icashort root 1 "$ca_ext
basicConstraints=critical,CA:TRUE" 0x37
p384 leafshort
openssl req -new -key leafshort.key -subj "/CN=dev-short" -out leafshort.csr
sign leafshort icashort 30 "$leaf_ext" 0x38

# leafc: the leaf key again, its point written compressed in the certificate
openssl ec -in leaf.key -conv_form compressed -out leafc.key 2>/dev/null
openssl req -new -key leafc.key -subj "/CN=dev-1" -out leafc.csr
sign leafc ica 30 "$leaf_ext" 0x40

# longname: a subject whose one-line form is over 511 characters;
# longuri: a SAN URI of 300 characters
ou=$(printf 'u%.0s' $(seq 1 60))
longsubj=/CN=dev-long
for i in 1 2 3 4 5 6 7 8 9; do longsubj="$longsubj/OU=$i$ou"; done
p384 longname
openssl req -new -key longname.key -subj "$longsubj" -out longname.csr
sign longname ica 30 "$leaf_ext" 0x41
p384 longuri
openssl req -new -key longuri.key -subj "/CN=dev-longuri" -out longuri.csr
sign longuri ica 30 "$leaf_ext
subjectAltName=URI:urn:x:$(printf 'a%.0s' $(seq 1 294))" 0x42

# Fixed dates need `openssl ca`: oldroot 1970-01-01..2049-12-31T23:59:59Z
# (UTCTime bounds), oldleaf 2020-01-01..2020-02-01 (long expired by the
# wall clock), futleaf 2060-01-01..2061-01-01 (GeneralizedTime notBefore).
mkdir cadb
: > cadb/index.txt
echo 1000 > cadb/serial
cat > ca.cnf <<'CNF'
[ca]
default_ca = cp
[cp]
database = ./cadb/index.txt
new_certs_dir = ./cadb
serial = ./cadb/serial
default_md = sha384
policy = any
unique_subject = no
email_in_dn = no
[any]
commonName = supplied
organizationName = optional
[root_ext]
basicConstraints = critical,CA:TRUE
keyUsage = critical,keyCertSign
[leaf_ext]
basicConstraints = critical,CA:FALSE
CNF
# dated <name> <issuer|-selfsign> <start> <end> <extensions> <subject>
dated() {
  p384 "$1"
  openssl req -new -key "$1.key" -subj "$6" -out "$1.csr"
  if [ "$2" = -selfsign ]; then
    set -- "$1" "-selfsign -keyfile $1.key" "$3" "$4" "$5"
  else
    set -- "$1" "-cert $2.pem -keyfile $2.key" "$3" "$4" "$5"
  fi
  # shellcheck disable=SC2086
  openssl ca -batch -config ca.cnf $2 -in "$1.csr" -startdate "$3" -enddate "$4" \
    -extensions "$5" -notext -out "$1.pem" 2>/dev/null
}
dated oldroot -selfsign 19700101000000Z 20491231235959Z root_ext "/O=Contoso/CN=Old Root"
dated oldleaf oldroot 20200101000000Z 20200201000000Z leaf_ext "/CN=dev-old"
dated futleaf oldroot 20600101000000Z 20610101000000Z leaf_ext "/CN=dev-future"

p384 other
for k in leaf other; do openssl ec -in $k.key -outform DER -out $k.key.der 2>/dev/null; done
for c in root root2 ica leaf leaf256 leafrsa icanoca leafnoca ica2 leafdeep icashort leafshort oldroot oldleaf futleaf \
    leafc longname longuri; do
  openssl x509 -in $c.pem -outform DER -out $c.der
done
