/* Chain verification at a caller-given time against one trust anchor.
 *
 * wolfSSL parses each certificate with NO_VERIFY (no clock involved) and
 * checks each signature with the issuer's key (wc_CheckCertSigPubKey, which
 * looks at no dates). Every date check is done here against @p now. */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>

#include "certpilot/cp_log.h"
#include "cp_x509_internal.h"

static int name_eq(const byte *a, int a_len, const byte *b, int b_len)
{
  return a_len == b_len && memcmp(a, b, (size_t)a_len) == 0;
}

/* May @p ca (at chain position @p pos, counting the leaf as 0) issue
 * certificates? pos - 1 intermediates sit below it. */
static const char *ca_problem(const DecodedCert *ca, size_t pos)
{
  if (!ca->isCA)
    return "is not a CA (basicConstraints cA missing)";
  if (ca->extKeyUsageSet && !(ca->extKeyUsage & KEYUSE_KEY_CERT_SIGN))
    return "has keyUsage without keyCertSign";
  if (ca->pathLengthSet && pos - 1 > ca->pathLength)
    return "has a pathLenConstraint the chain exceeds";
  return NULL;
}

static int signed_by(const uint8_t *der, size_t der_len, const DecodedCert *issuer)
{
  return wc_CheckCertSigPubKey(der, (word32)der_len, NULL, issuer->publicKey,
                               issuer->pubKeySize, (int)issuer->keyOID) == 0;
}

static cp_result fail(size_t *failed_index, size_t i, cp_result r)
{
  if (failed_index != NULL)
    *failed_index = i;
  return r;
}

/* The last element must be the anchor itself or be issued and signed by it. */
static cp_result check_anchor(const cp_der *last, const DecodedCert *last_dc,
                              cp_der anchor, size_t n)
{
  DecodedCert adc;
  const char *why;
  cp_result r;

  if (last->len == anchor.len && memcmp(last->data, anchor.data, anchor.len) == 0)
    return CP_OK;
  r = cp_x509_decode(anchor.data, anchor.len, &adc);
  if (r != CP_OK) {
    cp_log(CP_LOG_WARNING, "x509: trust anchor does not parse");
    return r;
  }
  r = CP_ERR_UNTRUSTED;
  if (!name_eq(last_dc->issuerRaw, last_dc->issuerRawLen, adc.subjectRaw, adc.subjectRawLen))
    cp_log(CP_LOG_WARNING, "x509: chain[%zu] issuer is not the trust anchor", n - 1);
  else if ((why = ca_problem(&adc, n)) != NULL)
    cp_log(CP_LOG_WARNING, "x509: trust anchor %s", why);
  else if (!signed_by(last->data, last->len, &adc))
    cp_log(CP_LOG_WARNING, "x509: chain[%zu] is not signed by the trust anchor", n - 1);
  else
    r = CP_OK;
  wc_FreeDecodedCert(&adc);
  return r;
}

cp_result cp_chain_verify(const cp_der *chain, size_t n, cp_der anchor,
                          int64_t now, size_t *failed_index)
{
  DecodedCert dc[2];
  int64_t not_before[CP_CHAIN_MAX], not_after[CP_CHAIN_MAX];
  size_t i, cur = 0;
  const char *why;
  cp_result r;

  if ((chain == NULL && n > 0) || anchor.data == NULL || anchor.len == 0)
    return CP_ERR_INVALID_ARG;
  if (n == 0 || n > CP_CHAIN_MAX) {
    cp_log(CP_LOG_WARNING, "x509: chain has %zu certificates (1..%d allowed)", n, CP_CHAIN_MAX);
    return fail(failed_index, 0, CP_ERR_CHAIN_INVALID);
  }
  for (i = 0; i < n; i++)
    if (chain[i].data == NULL)
      return fail(failed_index, i, CP_ERR_INVALID_ARG);

  /* Structure and signatures, walking up with two decoded certificates. */
  r = cp_x509_decode(chain[0].data, chain[0].len, &dc[cur]);
  if (r != CP_OK)
    return fail(failed_index, 0, r);
  for (i = 0;; i++) {
    DecodedCert *c = &dc[cur], *up = &dc[cur ^ 1];
    if (cp_x509_validity(c, &not_before[i], &not_after[i]) != CP_OK) {
      wc_FreeDecodedCert(c);
      return fail(failed_index, i, CP_ERR_PARSE);
    }
    if (i + 1 == n)
      break;
    r = cp_x509_decode(chain[i + 1].data, chain[i + 1].len, up);
    if (r != CP_OK) {
      wc_FreeDecodedCert(c);
      return fail(failed_index, i + 1, r);
    }
    if (!name_eq(c->issuerRaw, c->issuerRawLen, up->subjectRaw, up->subjectRawLen)) {
      cp_log(CP_LOG_WARNING, "x509: chain[%zu] issuer is not chain[%zu] subject", i, i + 1);
      r = fail(failed_index, i, CP_ERR_CHAIN_INVALID);
    } else if ((why = ca_problem(up, i + 1)) != NULL) {
      cp_log(CP_LOG_WARNING, "x509: chain[%zu] %s", i + 1, why);
      r = fail(failed_index, i + 1, CP_ERR_CHAIN_INVALID);
    } else if (!signed_by(chain[i].data, chain[i].len, up)) {
      cp_log(CP_LOG_WARNING, "x509: chain[%zu] signature does not verify with chain[%zu] key",
             i, i + 1);
      r = fail(failed_index, i, CP_ERR_BAD_SIGNATURE);
    }
    wc_FreeDecodedCert(c);
    if (r != CP_OK) {
      wc_FreeDecodedCert(up);
      return r;
    }
    cur ^= 1;
  }
  r = check_anchor(&chain[n - 1], &dc[cur], anchor, n);
  wc_FreeDecodedCert(&dc[cur]);
  if (r != CP_OK)
    return fail(failed_index, n, r);

  /* Validity windows at the caller's time (RFC 5280: both ends inclusive). */
  for (i = 0; i < n; i++) {
    if (now < not_before[i]) {
      cp_log(CP_LOG_WARNING, "x509: chain[%zu] not valid before %lld", i,
             (long long)not_before[i]);
      return fail(failed_index, i, CP_ERR_CERT_NOT_YET_VALID);
    }
    if (now > not_after[i]) {
      cp_log(CP_LOG_WARNING, "x509: chain[%zu] expired at %lld", i, (long long)not_after[i]);
      return fail(failed_index, i, CP_ERR_CERT_EXPIRED);
    }
  }
  return CP_OK;
}
