/* Keys, CA certificates, leaf issuance and encodings on OpenSSL 3. */
#include "cps_pki.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509v3.h>

cps_result cps_pki_random(unsigned char *buf, size_t len) {
  return RAND_bytes(buf, (int)len) == 1 ? CPS_OK : CPS_ERR_CRYPTO;
}

cps_result cps_pki_key_generate(EVP_PKEY **out) {
  EVP_PKEY *k = EVP_EC_gen("P-384");
  if (!k) return CPS_ERR_CRYPTO;
  *out = k;
  return CPS_OK;
}

/* Copy a memory BIO into a malloc'd NUL-terminated string. */
static cps_result bio_to_string(BIO *b, char **out) {
  char *data = NULL;
  long n = BIO_get_mem_data(b, &data);
  if (n < 0) return CPS_ERR_CRYPTO;
  char *s = malloc((size_t)n + 1);
  if (!s) return CPS_ERR_NOMEM;
  memcpy(s, data, (size_t)n);
  s[n] = '\0';
  *out = s;
  return CPS_OK;
}

cps_result cps_pki_key_to_pem(EVP_PKEY *key, char **pem) { return cps_pki_key_to_pem_pass(key, NULL, pem); }

cps_result cps_pki_key_to_pem_pass(EVP_PKEY *key, const char *pass, char **pem) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b) return CPS_ERR_NOMEM;
  cps_result r = CPS_ERR_CRYPTO;
  int ok = pass ? PEM_write_bio_PKCS8PrivateKey(b, key, EVP_aes_256_cbc(), (char *)pass,
                                                (int)strlen(pass), NULL, NULL)
                : PEM_write_bio_PrivateKey(b, key, NULL, NULL, 0, NULL, NULL);
  if (ok == 1) r = bio_to_string(b, pem);
  /* the memory BIO held the key (encrypted or not): wipe it before it is freed */
  char *data = NULL;
  long n = BIO_get_mem_data(b, &data);
  if (n > 0) OPENSSL_cleanse(data, (size_t)n);
  BIO_free(b);
  return r;
}

/* PEM password callback: the passphrase given as @p u, or refusal (never a terminal prompt). */
static int pass_cb(char *buf, int size, int rwflag, void *u) {
  (void)rwflag;
  size_t n = u ? strlen(u) : 0;
  if (!u || n > (size_t)size) return -1;
  memcpy(buf, u, n);
  return (int)n;
}

cps_result cps_pki_key_from_pem(const char *pem, EVP_PKEY **out) {
  return cps_pki_key_from_pem_pass(pem, NULL, out);
}

cps_result cps_pki_key_from_pem_pass(const char *pem, const char *pass, EVP_PKEY **out) {
  BIO *b = BIO_new_mem_buf(pem, -1);
  if (!b) return CPS_ERR_NOMEM;
  EVP_PKEY *k = PEM_read_bio_PrivateKey(b, NULL, pass_cb, (void *)pass);
  BIO_free(b);
  if (!k) {
    ERR_clear_error();
    return CPS_ERR_INVALID;
  }
  *out = k;
  return CPS_OK;
}

bool cps_pki_key_pem_encrypted(const char *pem) {
  return pem && (strstr(pem, "-----BEGIN ENCRYPTED PRIVATE KEY-----") || strstr(pem, "Proc-Type: 4,ENCRYPTED"));
}

cps_result cps_pki_cert_to_der(X509 *cert, unsigned char **der, size_t *len) {
  unsigned char *buf = NULL;
  int n = i2d_X509(cert, &buf);
  if (n <= 0) return CPS_ERR_CRYPTO;
  unsigned char *copy = malloc((size_t)n);
  if (!copy) {
    OPENSSL_free(buf);
    return CPS_ERR_NOMEM;
  }
  memcpy(copy, buf, (size_t)n);
  OPENSSL_free(buf);
  *der = copy;
  *len = (size_t)n;
  return CPS_OK;
}

cps_result cps_pki_cert_from_der(const unsigned char *der, size_t len, X509 **out) {
  const unsigned char *p = der;
  X509 *c = d2i_X509(NULL, &p, (long)len);
  if (!c) return CPS_ERR_INVALID;
  if ((size_t)(p - der) != len) {
    X509_free(c);
    return CPS_ERR_INVALID;
  }
  *out = c;
  return CPS_OK;
}

cps_result cps_pki_cert_to_pem(X509 *cert, char **pem) {
  BIO *b = BIO_new(BIO_s_mem());
  if (!b) return CPS_ERR_NOMEM;
  cps_result r = CPS_ERR_CRYPTO;
  if (PEM_write_bio_X509(b, cert) == 1) r = bio_to_string(b, pem);
  BIO_free(b);
  return r;
}

cps_result cps_pki_certs_from_pem(const char *pem, size_t len, STACK_OF(X509) **out) {
  BIO *b = BIO_new_mem_buf(pem, (int)len);
  if (!b) return CPS_ERR_NOMEM;
  STACK_OF(X509) *sk = sk_X509_new_null();
  if (!sk) {
    BIO_free(b);
    return CPS_ERR_NOMEM;
  }
  X509 *c;
  while ((c = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
    if (!sk_X509_push(sk, c)) {
      X509_free(c);
      break;
    }
  }
  ERR_clear_error();
  BIO_free(b);
  if (sk_X509_num(sk) == 0) {
    sk_X509_free(sk);
    return CPS_ERR_INVALID;
  }
  *out = sk;
  return CPS_OK;
}

/* Random positive serial of 159 bits (20 bytes with the top bit clear, never zero). */
static int set_random_serial(X509 *cert) {
  unsigned char raw[20];
  if (RAND_bytes(raw, sizeof raw) != 1) return 0;
  raw[0] &= 0x7f;
  raw[0] |= 0x01;
  BIGNUM *bn = BN_bin2bn(raw, sizeof raw, NULL);
  if (!bn) return 0;
  int ok = BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(cert)) != NULL;
  BN_free(bn);
  return ok;
}

static int add_ext(X509 *cert, X509 *issuer, int nid, const char *value) {
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, cert, NULL, NULL, 0);
  X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &ctx, nid, value);
  if (!ext) return 0;
  int ok = X509_add_ext(cert, ext, -1);
  X509_EXTENSION_free(ext);
  return ok;
}

static int set_cn(X509_NAME *name, const char *cn) {
  return X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1,
                                    0);
}

/* Validity now-backdate .. now+validity, capped at the issuer's notAfter. The back-dating
 * (for device clocks running a little behind) is at most a tenth of the validity, so that
 * the seconds-long certificates of dev mode keep their lifetime measured from notBefore
 * close to what the policy says; devices renew at a fraction of that lifetime. */
static int set_validity(X509 *cert, X509 *issuer, long validity_s) {
  long backdate = validity_s / 10 < CPS_PKI_BACKDATE_S ? validity_s / 10 : CPS_PKI_BACKDATE_S;
  if (!X509_gmtime_adj(X509_getm_notBefore(cert), -backdate)) return 0;
  if (!X509_gmtime_adj(X509_getm_notAfter(cert), validity_s)) return 0;
  if (issuer && ASN1_TIME_compare(X509_get0_notAfter(cert), X509_get0_notAfter(issuer)) > 0) {
    if (!X509_set1_notAfter(cert, X509_get0_notAfter(issuer))) return 0;
  }
  return 1;
}

/* Common skeleton: version 3, serial, subject CN, issuer, validity, key. */
static X509 *cert_new(X509 *issuer, EVP_PKEY *pub, const char *cn, long validity_s) {
  X509 *c = X509_new();
  if (!c) return NULL;
  if (!X509_set_version(c, 2) || !set_random_serial(c) ||
      !set_cn(X509_get_subject_name(c), cn) ||
      !X509_set_issuer_name(c, issuer ? X509_get_subject_name(issuer) : X509_get_subject_name(c)) ||
      !set_validity(c, issuer, validity_s) || !X509_set_pubkey(c, pub)) {
    X509_free(c);
    return NULL;
  }
  return c;
}

static cps_result finish(X509 *c, EVP_PKEY *signer, X509 **out) {
  if (X509_sign(c, signer, EVP_sha384()) <= 0) {
    X509_free(c);
    return CPS_ERR_CRYPTO;
  }
  *out = c;
  return CPS_OK;
}

cps_result cps_pki_root_create(EVP_PKEY *key, const char *cn, long validity_s, X509 **out) {
  X509 *c = cert_new(NULL, key, cn, validity_s);
  if (!c) return CPS_ERR_CRYPTO;
  if (!add_ext(c, c, NID_basic_constraints, "critical,CA:TRUE") ||
      !add_ext(c, c, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(c, c, NID_subject_key_identifier, "hash") ||
      !add_ext(c, c, NID_authority_key_identifier, "keyid:always")) {
    X509_free(c);
    return CPS_ERR_CRYPTO;
  }
  return finish(c, key, out);
}

cps_result cps_pki_ca_issue(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *subject_key,
                            const char *cn, long validity_s, X509 **out) {
  X509 *c = cert_new(issuer, subject_key, cn, validity_s);
  if (!c) return CPS_ERR_CRYPTO;
  if (!add_ext(c, issuer, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") ||
      !add_ext(c, issuer, NID_key_usage, "critical,keyCertSign,cRLSign") ||
      !add_ext(c, issuer, NID_subject_key_identifier, "hash") ||
      !add_ext(c, issuer, NID_authority_key_identifier, "keyid:always")) {
    X509_free(c);
    return CPS_ERR_CRYPTO;
  }
  return finish(c, issuer_key, out);
}

cps_result cps_pki_ca_csr(EVP_PKEY *key, const char *cn, X509_REQ **out) {
  X509_REQ *req = X509_REQ_new();
  if (!req) return CPS_ERR_NOMEM;
  if (!X509_REQ_set_version(req, 0) || !set_cn(X509_REQ_get_subject_name(req), cn) ||
      !X509_REQ_set_pubkey(req, key) || X509_REQ_sign(req, key, EVP_sha384()) <= 0) {
    X509_REQ_free(req);
    return CPS_ERR_CRYPTO;
  }
  *out = req;
  return CPS_OK;
}

/* Subject CN of an X509_NAME into out. */
static cps_result name_cn(X509_NAME *name, char *out, size_t out_size) {
  int idx = X509_NAME_get_index_by_NID(name, NID_commonName, -1);
  if (idx < 0) return CPS_ERR_INVALID;
  if (X509_NAME_get_index_by_NID(name, NID_commonName, idx) >= 0) return CPS_ERR_INVALID;
  ASN1_STRING *s = X509_NAME_ENTRY_get_data(X509_NAME_get_entry(name, idx));
  unsigned char *utf8 = NULL;
  int n = ASN1_STRING_to_UTF8(&utf8, s);
  if (n < 0) return CPS_ERR_INVALID;
  cps_result r = CPS_OK;
  if ((size_t)n >= out_size || memchr(utf8, 0, (size_t)n)) {
    r = CPS_ERR_INVALID;
  } else {
    memcpy(out, utf8, (size_t)n);
    out[n] = '\0';
  }
  OPENSSL_free(utf8);
  return r;
}

cps_result cps_pki_req_cn(X509_REQ *req, char *out, size_t out_size) {
  return name_cn(X509_REQ_get_subject_name(req), out, out_size);
}

cps_result cps_pki_cert_cn(X509 *cert, char *out, size_t out_size) {
  return name_cn(X509_get_subject_name(cert), out, out_size);
}

cps_result cps_pki_ca_sign_request(X509 *issuer, EVP_PKEY *issuer_key, X509_REQ *req,
                                   long validity_s, X509 **out, cps_error *err) {
  EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
  if (!pub || X509_REQ_verify(req, pub) != 1)
    return cps_fail(err, CPS_ERR_INVALID, "request: signature does not verify");
  char cn[256];
  if (name_cn(X509_REQ_get_subject_name(req), cn, sizeof cn) != CPS_OK)
    return cps_fail(err, CPS_ERR_INVALID, "request: subject has no single CN");
  return cps_pki_ca_issue(issuer, issuer_key, pub, cn, validity_s, out);
}

cps_result cps_pki_csr_check(const unsigned char *der, size_t len, const char *registration_id,
                             X509_REQ **out, cps_error *err) {
  if (!der || len == 0) return cps_fail(err, CPS_ERR_INVALID, "csr: empty");
  const unsigned char *p = der;
  X509_REQ *req = d2i_X509_REQ(NULL, &p, (long)len);
  if (!req) return cps_fail(err, CPS_ERR_INVALID, "csr: not a DER PKCS#10 request");
  cps_result r = CPS_ERR_INVALID;
  EVP_PKEY *pub = X509_REQ_get0_pubkey(req);
  char cn[256];
  char group[64] = "";
  if ((size_t)(p - der) != len) {
    cps_fail(err, r, "csr: trailing bytes after the request");
  } else if (!pub) {
    cps_fail(err, r, "csr: public key does not parse");
  } else if (X509_REQ_verify(req, pub) != 1) {
    cps_fail(err, r, "csr: signature does not verify");
  } else if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC ||
             !EVP_PKEY_get_utf8_string_param(pub, "group", group, sizeof group, NULL) ||
             strcmp(group, "secp384r1") != 0) {
    cps_fail(err, r, "csr: key is not EC P-384 (got %s)",
             EVP_PKEY_get_base_id(pub) == EVP_PKEY_EC ? (group[0] ? group : "unknown curve")
                                                      : "non-EC key");
  } else if (name_cn(X509_REQ_get_subject_name(req), cn, sizeof cn) != CPS_OK) {
    cps_fail(err, r, "csr: subject must hold exactly one CN");
  } else if (strcmp(cn, registration_id) != 0) {
    cps_fail(err, r, "csr: subject CN '%.100s' does not equal registration id '%.100s'", cn,
             registration_id);
  } else {
    r = CPS_OK;
  }
  ERR_clear_error();
  if (r == CPS_OK && out) {
    *out = req;
  } else {
    X509_REQ_free(req);
  }
  return r;
}

cps_result cps_pki_revocation_id_new(char out[CPS_REVOCATION_ID_HEX_LEN + 1]) {
  unsigned char raw[CPS_REVOCATION_ID_HEX_LEN / 2];
  if (RAND_bytes(raw, sizeof raw) != 1) return CPS_ERR_CRYPTO;
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < sizeof raw; i++) {
    out[2 * i] = hex[raw[i] >> 4];
    out[2 * i + 1] = hex[raw[i] & 15];
  }
  out[CPS_REVOCATION_ID_HEX_LEN] = '\0';
  return CPS_OK;
}

cps_result cps_pki_leaf_issue(X509 *ica, EVP_PKEY *ica_key, X509_REQ *csr, const char *device_id,
                              const char *revocation_id, long validity_s, X509 **out,
                              char serial_hex[CPS_SERIAL_HEX_MAX]) {
  EVP_PKEY *pub = X509_REQ_get0_pubkey(csr);
  if (!pub) return CPS_ERR_INVALID;
  X509 *c = cert_new(ica, pub, device_id, validity_s);
  if (!c) return CPS_ERR_CRYPTO;
  char san[sizeof CPS_REVOCATION_URI_PREFIX + 80];
  if (strlen(revocation_id) > 64) {
    X509_free(c);
    return CPS_ERR_INVALID;
  }
  snprintf(san, sizeof san, "URI:%s%s", CPS_REVOCATION_URI_PREFIX, revocation_id);
  if (!add_ext(c, ica, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(c, ica, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(c, ica, NID_ext_key_usage, "clientAuth") ||
      !add_ext(c, ica, NID_subject_key_identifier, "hash") ||
      !add_ext(c, ica, NID_authority_key_identifier, "keyid:always") ||
      !add_ext(c, ica, NID_subject_alt_name, san)) {
    X509_free(c);
    return CPS_ERR_CRYPTO;
  }
  char serial[CPS_SERIAL_HEX_MAX];
  if (cps_pki_cert_serial_hex(c, serial) != CPS_OK) {
    X509_free(c);
    return CPS_ERR_CRYPTO;
  }
  cps_result r = finish(c, ica_key, out);
  if (r == CPS_OK) memcpy(serial_hex, serial, CPS_SERIAL_HEX_MAX);
  return r;
}

cps_result cps_pki_server_cert_issue(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key,
                                     const char *cn, const char *san, long validity_s, X509 **out) {
  X509 *c = cert_new(issuer, key, cn, validity_s);
  if (!c) return CPS_ERR_CRYPTO;
  if (!add_ext(c, issuer, NID_basic_constraints, "critical,CA:FALSE") ||
      !add_ext(c, issuer, NID_key_usage, "critical,digitalSignature") ||
      !add_ext(c, issuer, NID_ext_key_usage, "serverAuth") ||
      !add_ext(c, issuer, NID_subject_key_identifier, "hash") ||
      !add_ext(c, issuer, NID_authority_key_identifier, "keyid:always") ||
      !add_ext(c, issuer, NID_subject_alt_name, san)) {
    X509_free(c);
    return CPS_ERR_INVALID;
  }
  return finish(c, issuer_key, out);
}

cps_result cps_pki_cert_serial_hex(X509 *cert, char out[CPS_SERIAL_HEX_MAX]) {
  BIGNUM *bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), NULL);
  if (!bn) return CPS_ERR_CRYPTO;
  char *hex = BN_bn2hex(bn);
  BN_free(bn);
  if (!hex) return CPS_ERR_NOMEM;
  cps_result r = CPS_OK;
  if (strlen(hex) >= CPS_SERIAL_HEX_MAX) {
    r = CPS_ERR_INVALID;
  } else {
    strcpy(out, hex);
  }
  OPENSSL_free(hex);
  return r;
}

cps_result cps_pki_revocation_id_get(X509 *cert, char *out, size_t out_size) {
  GENERAL_NAMES *names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL, NULL);
  if (!names) return CPS_ERR_NOT_FOUND;
  cps_result r = CPS_ERR_NOT_FOUND;
  size_t plen = strlen(CPS_REVOCATION_URI_PREFIX);
  for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
    GENERAL_NAME *gn = sk_GENERAL_NAME_value(names, i);
    if (gn->type != GEN_URI) continue;
    const char *uri = (const char *)ASN1_STRING_get0_data(gn->d.uniformResourceIdentifier);
    int n = ASN1_STRING_length(gn->d.uniformResourceIdentifier);
    if (n < 0 || (size_t)n <= plen || memcmp(uri, CPS_REVOCATION_URI_PREFIX, plen) != 0) continue;
    size_t idlen = (size_t)n - plen;
    if (idlen >= out_size) {
      r = CPS_ERR_INVALID;
      break;
    }
    memcpy(out, uri + plen, idlen);
    out[idlen] = '\0';
    r = CPS_OK;
    break;
  }
  GENERAL_NAMES_free(names);
  return r;
}
