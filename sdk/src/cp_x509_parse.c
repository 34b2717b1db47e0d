/* Parse one X.509 certificate (PEM or DER) into cp_cert_info. */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/sha256.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "cp_x509_internal.h"

#define PEM_CERT_BEGIN "-----BEGIN CERTIFICATE-----"

void cp_x509_hex(const uint8_t *in, size_t len, char *out)
{
  static const char hex[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < len; i++) {
    out[2 * i] = hex[in[i] >> 4];
    out[2 * i + 1] = hex[in[i] & 0x0f];
  }
  out[2 * len] = '\0';
}

cp_result cp_x509_to_der(const uint8_t *data, size_t len, uint8_t *der,
                         size_t der_size, const uint8_t **der_out,
                         size_t *der_len)
{
  size_t skip = 0, n;
  cp_result r;

  if (data == NULL || len == 0)
    return CP_ERR_PARSE;
  if (data[0] == 0x30) {
    if (len > CP_CERT_DER_MAX) {
      cp_log(CP_LOG_WARNING, "x509: DER is %zu bytes, limit %d", len, CP_CERT_DER_MAX);
      return CP_ERR_PARSE;
    }
    *der_out = data;
    *der_len = len;
    return CP_OK;
  }
  while (skip < len && (data[skip] == ' ' || data[skip] == '\t' || data[skip] == '\r' ||
                        data[skip] == '\n'))
    skip++;
  if (len - skip < sizeof PEM_CERT_BEGIN - 1 ||
      memcmp(data + skip, PEM_CERT_BEGIN, sizeof PEM_CERT_BEGIN - 1) != 0) {
    cp_log(CP_LOG_WARNING, "x509: input is neither DER nor a PEM CERTIFICATE block");
    return CP_ERR_PARSE;
  }
  r = cp_pem_decode((const char *)data + skip, len - skip, NULL, der, der_size, &n, NULL);
  if (r != CP_OK) {
    cp_log(CP_LOG_WARNING, "x509: bad PEM certificate: %s", cp_result_str(r));
    return CP_ERR_PARSE;
  }
  *der_out = der;
  *der_len = n;
  return CP_OK;
}

/* The outer SEQUENCE must span exactly @p len bytes. */
static int der_framing_ok(const uint8_t *der, size_t len)
{
  const uint8_t *p = der;
  cp_x509_tlv t;

  return cp_x509_der_read(&p, der + len, &t) && t.tag == 0x30 && p == der + len;
}

cp_result cp_x509_decode(const uint8_t *der, size_t der_len, DecodedCert *dc)
{
  int ret;

  if (der == NULL || der_len == 0 || der_len > CP_CERT_DER_MAX) {
    cp_log(CP_LOG_WARNING, "x509: certificate DER empty or over %d bytes", CP_CERT_DER_MAX);
    return CP_ERR_PARSE;
  }
  if (!der_framing_ok(der, der_len)) {
    cp_log(CP_LOG_WARNING, "x509: DER is truncated or has trailing bytes");
    return CP_ERR_PARSE;
  }
  wc_InitDecodedCert(dc, der, (word32)der_len, NULL);
  /* NO_VERIFY: no date or signature checks here; cp_chain_verify does them
   * against the caller's clock. */
  ret = wc_ParseCert(dc, CERT_TYPE, NO_VERIFY, NULL);
  if (ret != 0) {
    cp_log(CP_LOG_WARNING, "x509: not a valid certificate (wolfSSL %d)", ret);
    wc_FreeDecodedCert(dc);
    return CP_ERR_PARSE;
  }
  if (dc->subjectRaw == NULL || dc->issuerRaw == NULL || dc->subjectRawLen < 0 ||
      dc->issuerRawLen < 0) {
    wc_FreeDecodedCert(dc);
    return CP_ERR_PARSE;
  }
  return CP_OK;
}

static cp_result fill_info(const uint8_t *der, size_t der_len, DecodedCert *dc,
                           cp_cert_info *info)
{
  uint8_t hash[WC_SHA256_DIGEST_SIZE];
  const DNS_entry *alt;
  const uint8_t *spki;
  size_t spki_len;
  cp_result r;

  r = cp_x509_name_format(dc->subjectRaw, (size_t)dc->subjectRawLen, info->subject,
                          sizeof info->subject, info->subject_cn, sizeof info->subject_cn);
  if (r == CP_OK)
    r = cp_x509_name_format(dc->issuerRaw, (size_t)dc->issuerRawLen, info->issuer,
                            sizeof info->issuer, info->issuer_cn, sizeof info->issuer_cn);
  if (r != CP_OK) {
    cp_log(CP_LOG_WARNING, "x509: subject or issuer name malformed or too long");
    return r;
  }
  if (dc->serialSz <= 0 || (size_t)dc->serialSz * 2 + 1 > sizeof info->serial_hex) {
    cp_log(CP_LOG_WARNING, "x509: serial number missing or longer than 32 bytes");
    return CP_ERR_PARSE;
  }
  cp_x509_hex(dc->serial, (size_t)dc->serialSz, info->serial_hex);
  if (cp_x509_validity(dc, &info->not_before, &info->not_after) != CP_OK) {
    cp_log(CP_LOG_WARNING, "x509: validity dates malformed");
    return CP_ERR_PARSE;
  }
  if (wc_Sha256Hash(der, (word32)der_len, hash) != 0)
    return CP_ERR_CRYPTO;
  cp_x509_hex(hash, sizeof hash, info->thumbprint_sha256);
  for (alt = dc->altNames; alt != NULL; alt = alt->next) {
    if (alt->type != ASN_URI_TYPE)
      continue;
    if (info->san_uri_count < CP_CERT_SAN_URI_MAX) {
      char *dst = info->san_uris[info->san_uri_count];
      if (alt->name == NULL || alt->len < 0 || (size_t)alt->len >= CP_CERT_SAN_URI_LEN ||
          memchr(alt->name, 0, (size_t)alt->len) != NULL) {
        cp_log(CP_LOG_WARNING, "x509: subjectAltName URI longer than %d or malformed",
               CP_CERT_SAN_URI_LEN - 1);
        return CP_ERR_PARSE;
      }
      memcpy(dst, alt->name, (size_t)alt->len);
      dst[alt->len] = '\0';
    }
    info->san_uri_count++;
  }
  info->is_ca = dc->isCA != 0;
  if (cp_x509_spki(der, der_len, &spki, &spki_len) != CP_OK)
    return CP_ERR_PARSE;
  if (spki_len > sizeof info->public_key_der) {
    cp_log(CP_LOG_WARNING, "x509: public key is %zu bytes, limit %zu", spki_len,
           sizeof info->public_key_der);
    return CP_ERR_UNSUPPORTED_KEY;
  }
  memcpy(info->public_key_der, spki, spki_len);
  info->public_key_der_len = spki_len;
  return CP_OK;
}

cp_result cp_cert_parse(const uint8_t *data, size_t len, cp_cert_info *out)
{
  uint8_t pem_der[CP_CERT_DER_MAX];
  const uint8_t *der;
  size_t der_len;
  DecodedCert dc;
  cp_cert_info *info;
  cp_result r;

  if (data == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  r = cp_x509_to_der(data, len, pem_der, sizeof pem_der, &der, &der_len);
  if (r != CP_OK)
    return r;
  r = cp_x509_decode(der, der_len, &dc);
  if (r != CP_OK)
    return r;
  /* Built aside so that @p out stays untouched on failure. */
  info = (cp_cert_info *)XMALLOC(sizeof *info, NULL, DYNAMIC_TYPE_TMP_BUFFER);
  if (info == NULL) {
    wc_FreeDecodedCert(&dc);
    return CP_ERR_NO_MEMORY;
  }
  memset(info, 0, sizeof *info);
  r = fill_info(der, der_len, &dc, info);
  wc_FreeDecodedCert(&dc);
  if (r == CP_OK)
    memcpy(out, info, sizeof *info);
  XFREE(info, NULL, DYNAMIC_TYPE_TMP_BUFFER);
  return r;
}
