/* CRL construction (v2, CRL number, AKI), DER output. */
#include "cps_pki.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/x509v3.h>

static int add_revoked(X509_CRL *crl, const cps_crl_entry *e) {
  BIGNUM *bn = NULL;
  if (!BN_hex2bn(&bn, e->serial_hex)) return 0;
  X509_REVOKED *rev = X509_REVOKED_new();
  ASN1_INTEGER *serial = BN_to_ASN1_INTEGER(bn, NULL);
  ASN1_TIME *t = ASN1_TIME_set(NULL, e->revoked_at);
  int ok = rev && serial && t && X509_REVOKED_set_serialNumber(rev, serial) &&
           X509_REVOKED_set_revocationDate(rev, t) && X509_CRL_add0_revoked(crl, rev);
  if (!ok) X509_REVOKED_free(rev);
  ASN1_INTEGER_free(serial);
  ASN1_TIME_free(t);
  BN_free(bn);
  return ok;
}

cps_result cps_pki_crl_build(X509 *issuer, EVP_PKEY *key, const cps_crl_entry *entries,
                             size_t count, long next_update_s, long crl_number,
                             unsigned char **der, size_t *len) {
  X509_CRL *crl = X509_CRL_new();
  if (!crl) return CPS_ERR_NOMEM;
  cps_result r = CPS_ERR_CRYPTO;
  ASN1_TIME *now = X509_gmtime_adj(NULL, 0);
  ASN1_TIME *next = X509_gmtime_adj(NULL, next_update_s);
  ASN1_INTEGER *num = ASN1_INTEGER_new();
  if (!now || !next || !num) goto done;
  if (!X509_CRL_set_version(crl, 1) ||
      !X509_CRL_set_issuer_name(crl, X509_get_subject_name(issuer)) ||
      !X509_CRL_set1_lastUpdate(crl, now) || !X509_CRL_set1_nextUpdate(crl, next))
    goto done;
  for (size_t i = 0; i < count; i++)
    if (!add_revoked(crl, &entries[i])) goto done;
  if (!ASN1_INTEGER_set(num, crl_number) || !X509_CRL_add1_ext_i2d(crl, NID_crl_number, num, 0, 0))
    goto done;
  X509V3_CTX ctx;
  X509V3_set_ctx_nodb(&ctx);
  X509V3_set_ctx(&ctx, issuer, NULL, NULL, crl, 0);
  X509_EXTENSION *aki = X509V3_EXT_conf_nid(NULL, &ctx, NID_authority_key_identifier, "keyid:always");
  if (!aki) goto done;
  int ok = X509_CRL_add_ext(crl, aki, -1);
  X509_EXTENSION_free(aki);
  if (!ok || !X509_CRL_sort(crl) || X509_CRL_sign(crl, key, EVP_sha384()) <= 0) goto done;
  unsigned char *buf = NULL;
  int n = i2d_X509_CRL(crl, &buf);
  if (n <= 0) goto done;
  unsigned char *copy = malloc((size_t)n);
  if (!copy) {
    OPENSSL_free(buf);
    r = CPS_ERR_NOMEM;
    goto done;
  }
  memcpy(copy, buf, (size_t)n);
  OPENSSL_free(buf);
  *der = copy;
  *len = (size_t)n;
  r = CPS_OK;
done:
  ASN1_TIME_free(now);
  ASN1_TIME_free(next);
  ASN1_INTEGER_free(num);
  X509_CRL_free(crl);
  return r;
}
