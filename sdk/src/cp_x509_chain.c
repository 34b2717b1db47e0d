/* Chain format conversions: base64-DER array -> PEM bundle, PEM bundle -> DERs.
 * Both validate everything in a first pass and write only in a second, so
 * outputs stay untouched on failure. */
#include <string.h>

#include <wolfssl/options.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "cp_x509_internal.h"

#define PEM_LABEL "CERTIFICATE"

/* Decode base64 element @p b64 and check that it parses as a certificate. */
static cp_result decode_element(const char *b64, uint8_t *der, size_t der_size,
                                size_t *der_len)
{
  DecodedCert dc;
  cp_result r;

  r = cp_base64_decode(b64, strlen(b64), der, der_size, der_len);
  if (r != CP_OK)
    return CP_ERR_PARSE; /* bad base64, or larger than any certificate we take */
  r = cp_x509_decode(der, *der_len, &dc);
  if (r != CP_OK)
    return r;
  wc_FreeDecodedCert(&dc);
  return CP_OK;
}

cp_result cp_chain_b64_to_pem(const char *const *b64, size_t n, char *out,
                              size_t out_size, size_t *out_len,
                              size_t *failed_index)
{
  uint8_t der[CP_CERT_DER_MAX];
  size_t i, der_len, pem_len, need = 1, pos = 0;
  cp_result r;

  if ((b64 == NULL && n > 0) || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (n == 0)
    return CP_ERR_CHAIN_INVALID;
  for (i = 0; i < n; i++) {
    if (b64[i] == NULL) {
      if (failed_index != NULL)
        *failed_index = i;
      return CP_ERR_INVALID_ARG;
    }
    r = decode_element(b64[i], der, sizeof der, &der_len);
    if (r != CP_OK) {
      cp_log(CP_LOG_WARNING, "x509: chain element %zu is not a base64 DER certificate", i);
      if (failed_index != NULL)
        *failed_index = i;
      return r;
    }
    r = cp_pem_encode(PEM_LABEL, der, der_len, NULL, 0, &pem_len);
    if (r != CP_ERR_BUFFER_TOO_SMALL)
      return r == CP_OK ? CP_ERR_CRYPTO : r;
    need += pem_len - 1; /* pem_len counts a NUL; the bundle has one */
  }
  if (out == NULL || out_size < need) {
    *out_len = need;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  for (i = 0; i < n; i++) {
    r = cp_base64_decode(b64[i], strlen(b64[i]), der, sizeof der, &der_len);
    if (r == CP_OK)
      r = cp_pem_encode(PEM_LABEL, der, der_len, out + pos, out_size - pos, &pem_len);
    if (r != CP_OK)
      return CP_ERR_CRYPTO; /* cannot happen: the first pass checked both */
    pos += pem_len;
  }
  *out_len = pos;
  return CP_OK;
}

/* Walk the CERTIFICATE blocks of @p pem. With @p store NULL only count and
 * measure; otherwise write DERs back to back and fill @p chain. */
static cp_result walk_bundle(const char *pem, size_t pem_len, uint8_t *store,
                             cp_der *chain, size_t *count,
                             size_t *total)
{
  uint8_t der[CP_CERT_DER_MAX];
  char label[64];
  size_t off = 0, used, der_len, k = 0, sum = 0;
  cp_result r;

  for (;;) {
    r = cp_pem_decode(pem + off, pem_len - off, label, der, sizeof der, &der_len, &used);
    if (r == CP_ERR_NOT_FOUND)
      break;
    if (r != CP_OK) {
      cp_log(CP_LOG_WARNING, "x509: PEM block %zu is malformed", k);
      return CP_ERR_PARSE;
    }
    off += used;
    if (strcmp(label, PEM_LABEL) != 0) {
      memset(der, 0, der_len); /* could be a private key */
      cp_log(CP_LOG_WARNING, "x509: PEM block %zu is \"%s\", not a certificate", k, label);
      return CP_ERR_PARSE;
    }
    if (der_len < 2 || der[0] != 0x30) {
      cp_log(CP_LOG_WARNING, "x509: PEM block %zu is not DER", k);
      return CP_ERR_PARSE;
    }
    if (store != NULL) {
      memcpy(store + sum, der, der_len);
      chain[k].data = store + sum;
      chain[k].len = der_len;
    }
    sum += der_len;
    k++;
  }
  *count = k;
  *total = sum;
  return CP_OK;
}

cp_result cp_pem_bundle_split(const char *pem, size_t pem_len, uint8_t *der_store,
                              size_t store_size, cp_der *chain, size_t *n)
{
  size_t count, total;
  cp_result r;

  if (pem == NULL || der_store == NULL || chain == NULL || n == NULL)
    return CP_ERR_INVALID_ARG;
  r = walk_bundle(pem, pem_len, NULL, NULL, &count, &total);
  if (r != CP_OK)
    return r;
  if (count == 0)
    return CP_ERR_NOT_FOUND;
  if (count > *n || total > store_size) {
    cp_log(CP_LOG_WARNING, "x509: bundle holds %zu certificates (%zu bytes); room for %zu (%zu)",
           count, total, *n, store_size);
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  r = walk_bundle(pem, pem_len, der_store, chain, &count, &total);
  if (r != CP_OK)
    return r;
  *n = count;
  return CP_OK;
}
