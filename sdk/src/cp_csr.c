/* Registration id rules and PKCS#10 CSRs (ecdsa-with-SHA384) on wolfCrypt. */
#include "certpilot/cp_csr.h"

#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/error-crypt.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "cp_key_priv.h"
#include "cp_rng.h"

/* Room for the TBS body plus the signature before we know the final size. */
#define CSR_WORK_MAX (CP_CSR_DER_MAX + 256)

static int id_char_ok(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == ':';
}

static int id_last_char_ok(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '-';
}

cp_result cp_registration_id_validate(const char *registration_id)
{
  size_t len, i;

  if (registration_id == NULL)
    return CP_ERR_INVALID_ARG;
  len = strnlen(registration_id, CP_REGISTRATION_ID_MAX + 1);
  if (len == 0 || len > CP_REGISTRATION_ID_MAX) {
    cp_log(CP_LOG_WARNING, "registration id: length must be 1-%d characters",
           CP_REGISTRATION_ID_MAX);
    return CP_ERR_BAD_REGISTRATION_ID;
  }
  for (i = 0; i < len; i++) {
    if (!id_char_ok((unsigned char)registration_id[i])) {
      cp_log(CP_LOG_WARNING,
             "registration id: character %zu (0x%02x) is not alphanumeric or \"-._:\"",
             i, (unsigned)(unsigned char)registration_id[i]);
      return CP_ERR_BAD_REGISTRATION_ID;
    }
  }
  if (!id_last_char_ok((unsigned char)registration_id[len - 1])) {
    cp_log(CP_LOG_WARNING,
           "registration id: the last character must be alphanumeric or \"-\"");
    return CP_ERR_BAD_REGISTRATION_ID;
  }
  return CP_OK;
}

/* Write a DER length; returns the bytes used (1 or 2 here: lengths < 256). */
static size_t put_der_len(uint8_t *p, size_t len)
{
  if (len < 0x80) {
    p[0] = (uint8_t)len;
    return 1;
  }
  p[0] = 0x81;
  p[1] = (uint8_t)len;
  return 2;
}

/* The contents of Name for CN=@p cn: one RelativeDistinguishedName,
 * SET { SEQUENCE { id-at-commonName, UTF8String cn } }. wolfSSL's CertName
 * caps the CN at 63 characters, so the subject is encoded here and put in
 * Cert.sbjRaw, which wolfSSL wraps in the outer SEQUENCE itself. wolfSSL
 * measures sbjRaw with strlen(): no byte of this encoding is zero (the CN is
 * validated, every length is non-zero). @p out holds >= 160 bytes. */
static size_t encode_cn_rdn(const char *cn, uint8_t *out)
{
  static const uint8_t oid_cn[] = {0x06, 0x03, 0x55, 0x04, 0x03};
  uint8_t atv[160];
  size_t cn_len = strlen(cn), n = 0, m = 0;

  atv[n++] = 0x30;
  n += put_der_len(atv + n, sizeof oid_cn + 1 + (cn_len < 0x80 ? 1 : 2) + cn_len);
  memcpy(atv + n, oid_cn, sizeof oid_cn);
  n += sizeof oid_cn;
  atv[n++] = 0x0c;
  n += put_der_len(atv + n, cn_len);
  memcpy(atv + n, cn, cn_len);
  n += cn_len;

  out[m++] = 0x31;
  m += put_der_len(out + m, n);
  memcpy(out + m, atv, n);
  m += n;
  return m;
}

/* Largest DER of a P-384 ECDSA signature: SEQUENCE { INTEGER(49), INTEGER(49) }. */
#define P384_SIG_DER_MAX (2 + 2 * (2 + 49))

/* The length @p csr (@p len bytes) would have with the longest possible
 * signature. ECDSA signatures vary by a byte or two from one call to the
 * next, so this is the size to report when the caller's buffer is short:
 * a retry with it always fits. The CSR ends with
 * BIT STRING { 00, SEQUENCE { r, s } }, whose length fits in one byte. */
static size_t worst_case_len(const uint8_t *csr, size_t len)
{
  size_t i;

  for (i = len - 8; i + 110 > len && i > 0; i--) {
    if (csr[i] == 0x03 && i + 2 + csr[i + 1] == len && csr[i + 2] == 0x00 &&
        csr[i + 3] == 0x30 && (size_t)csr[i + 4] + 2 + 1 == csr[i + 1])
      return len - ((size_t)csr[i + 4] + 2) + P384_SIG_DER_MAX;
  }
  return len + 8; /* not reached for our own encoding; still a safe margin */
}

cp_result cp_csr_build(const cp_key *key, const char *registration_id,
                       uint8_t *der, size_t der_size, size_t *out_len)
{
  uint8_t work[CSR_WORK_MAX], name[160];
  size_t name_len;
  ecc_key ecc;
  WC_RNG rng;
  Cert req;
  cp_result r;
  int rc;

  if (key == NULL || out_len == NULL || key->_der_len == 0)
    return CP_ERR_INVALID_ARG;
  r = cp_registration_id_validate(registration_id);
  if (r != CP_OK)
    return r;
  r = cp_key_load(key, &ecc);
  if (r != CP_OK)
    return r;
  if (cp_rng_init(&rng) != CP_OK) {
    wc_ecc_free(&ecc);
    return CP_ERR_CRYPTO;
  }
  r = CP_ERR_CRYPTO;
  name_len = encode_cn_rdn(registration_id, name);
  if (wc_InitCert(&req) != 0)
    goto out;
  req.version = 0; /* PKCS#10 v1 */
  req.sigType = CTC_SHA384wECDSA;
  memset(req.sbjRaw, 0, sizeof req.sbjRaw);
  memcpy(req.sbjRaw, name, name_len);
  if (wc_SetKeyUsage(&req, "digitalSignature") != 0 ||
      wc_SetExtKeyUsage(&req, "clientAuth") != 0) {
    cp_log(CP_LOG_ERROR, "csr: setting subject or extensions failed");
    goto out;
  }
  rc = wc_MakeCertReq_ex(&req, work, (word32)sizeof work, ECC_TYPE, &ecc);
  if (rc <= 0) {
    cp_log(CP_LOG_ERROR, "csr: encoding the request failed (%d)", rc);
    goto out;
  }
  rc = wc_SignCert_ex(req.bodySz, req.sigType, work, (word32)sizeof work, ECC_TYPE,
                      &ecc, &rng);
  if (rc <= 0) {
    cp_log(CP_LOG_ERROR, "csr: signing the request failed (%d)", rc);
    goto out;
  }
  if (der == NULL || der_size < (size_t)rc) {
    *out_len = worst_case_len(work, (size_t)rc);
    r = CP_ERR_BUFFER_TOO_SMALL;
    goto out;
  }
  memcpy(der, work, (size_t)rc);
  *out_len = (size_t)rc;
  r = CP_OK;
out:
  cp_rng_free(&rng);
  wc_ecc_free(&ecc);
  return r;
}

cp_result cp_csr_to_pem(const uint8_t *der, size_t der_len, char *out,
                        size_t out_size, size_t *out_len)
{
  return cp_pem_encode("CERTIFICATE REQUEST", der, der_len, out, out_size, out_len);
}

cp_result cp_csr_to_base64(const uint8_t *der, size_t der_len, char *out,
                           size_t out_size, size_t *out_len)
{
  if (der == NULL || der_len == 0)
    return CP_ERR_INVALID_ARG;
  return cp_base64_encode(der, der_len, out, out_size, out_len);
}

/* Compare the CSR's SubjectPublicKeyInfo with @p key's. */
static cp_result csr_key_matches(DecodedCert *dc, const cp_key *key)
{
  uint8_t mine[CP_PUBKEY_DER_MAX], theirs[CP_PUBKEY_DER_MAX * 2];
  size_t mine_len = 0;
  word32 theirs_len = (word32)sizeof theirs;
  cp_result r;

  r = cp_key_public_der(key, mine, sizeof mine, &mine_len);
  if (r != CP_OK)
    return r;
  if (wc_GetPubKeyDerFromCert(dc, theirs, &theirs_len) != 0)
    return CP_ERR_PARSE;
  if (theirs_len != mine_len || memcmp(theirs, mine, mine_len) != 0) {
    cp_log(CP_LOG_WARNING, "csr: public key is not the given key's");
    return CP_ERR_KEY_MISMATCH;
  }
  return CP_OK;
}

cp_result cp_csr_check(const uint8_t *der, size_t der_len, const cp_key *key,
                       const char *registration_id)
{
  char cn[CP_REGISTRATION_ID_MAX + 1];
  DecodedCert dc;
  cp_result r;
  int rc;

  if (der == NULL || der_len == 0)
    return CP_ERR_INVALID_ARG;
  if (der_len > CSR_WORK_MAX) {
    cp_log(CP_LOG_WARNING, "csr: %zu bytes is too long for a CSR", der_len);
    return CP_ERR_PARSE;
  }
  /* PKCS#10 is SEQUENCE { info, alg, sig }: the outer length must cover the
   * input exactly (wolfSSL ignores trailing bytes). */
  {
    size_t hdr, body;
    if (der_len < 2 || der[0] != 0x30)
      return CP_ERR_PARSE;
    if (der[1] < 0x80) {
      hdr = 2;
      body = der[1];
    } else if (der[1] == 0x81 && der_len >= 3) {
      hdr = 3;
      body = der[2];
    } else if (der[1] == 0x82 && der_len >= 4) {
      hdr = 4;
      body = ((size_t)der[2] << 8) | der[3];
    } else {
      return CP_ERR_PARSE;
    }
    if (hdr + body != der_len) {
      cp_log(CP_LOG_WARNING, "csr: DER length does not match the input");
      return CP_ERR_PARSE;
    }
  }
  wc_InitDecodedCert(&dc, der, (word32)der_len, NULL);
  rc = ParseCert(&dc, CERTREQ_TYPE, VERIFY, NULL);
  if (rc != 0) {
    r = (rc == ASN_SIG_CONFIRM_E || rc == SIG_VERIFY_E) ? CP_ERR_BAD_SIGNATURE
                                                          : CP_ERR_PARSE;
    cp_log(CP_LOG_WARNING, "csr: %s (%d)",
           r == CP_ERR_BAD_SIGNATURE ? "self-signature does not verify"
                                     : "not a well-formed PKCS#10 request",
           rc);
    goto out;
  }
  if (dc.keyOID != ECDSAk || dc.pkCurveOID != ECC_SECP384R1_OID ||
      dc.signatureOID != CTC_SHA384wECDSA) {
    cp_log(CP_LOG_WARNING, "csr: key is not P-384 or signature not ecdsa-with-SHA384");
    r = CP_ERR_UNSUPPORTED_KEY;
    goto out;
  }
  if (dc.subjectCN == NULL || dc.subjectCNLen <= 0 ||
      dc.subjectCNLen > CP_REGISTRATION_ID_MAX) {
    cp_log(CP_LOG_WARNING, "csr: subject CN missing or too long");
    r = CP_ERR_BAD_REGISTRATION_ID;
    goto out;
  }
  memcpy(cn, dc.subjectCN, (size_t)dc.subjectCNLen);
  cn[dc.subjectCNLen] = '\0';
  r = strlen(cn) == (size_t)dc.subjectCNLen ? cp_registration_id_validate(cn)
                                            : CP_ERR_BAD_REGISTRATION_ID;
  if (r != CP_OK)
    goto out;
  if (registration_id != NULL && strcmp(cn, registration_id) != 0) {
    cp_log(CP_LOG_WARNING, "csr: subject CN is not the registration id");
    r = CP_ERR_NAME_MISMATCH;
    goto out;
  }
  r = key != NULL ? csr_key_matches(&dc, key) : CP_OK;
out:
  wc_FreeDecodedCert(&dc);
  return r;
}
