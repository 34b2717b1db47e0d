/* Leaf issuance for a known device, recorded in the same transaction as the caller's. */
#include "cps_issue_internal.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>

#include "cps_b64.h"
#include "cps_pki.h"
#include "cps_registry.h"

void cps_chain_free(cps_chain *chain) {
  if (!chain) return;
  for (size_t i = 0; i < CPS_CHAIN_MAX; i++) free(chain->b64[i]);
  memset(chain, 0, sizeof *chain);
}

static long long asn1_epoch(const ASN1_TIME *t) {
  struct tm tm;
  if (ASN1_TIME_to_tm(t, &tm) != 1) return 0;
  return (long long)timegm(&tm);
}

static cps_result cert_b64(X509 *c, char **out) {
  unsigned char *der = NULL;
  size_t len = 0;
  cps_result r = cps_pki_cert_to_der(c, &der, &len);
  if (r != CPS_OK) return r;
  r = cps_b64_encode(der, len, out);
  free(der);
  return r;
}

cps_result cps_issue_for_device(cps_service *svc, const char *device_id,
                                const unsigned char *csr_der, size_t csr_len, cps_chain *out,
                                cps_error *err) {
  X509_REQ *csr = NULL;
  cps_result r = cps_pki_csr_check(csr_der, csr_len, device_id, &csr, err);
  if (r != CPS_OK) return r;
  r = cps_issue_checked(svc, device_id, csr, out, err);
  X509_REQ_free(csr);
  return r;
}

cps_result cps_issue_checked(cps_service *svc, const char *device_id, X509_REQ *csr,
                             cps_chain *out, cps_error *err) {
  cps_device dev;
  cps_result r = cps_device_get(svc, device_id, &dev);
  if (r == CPS_ERR_NOT_FOUND) return cps_fail(err, r, "device '%s' does not exist", device_id);
  if (r != CPS_OK) return r;
  if (!dev.enabled) return cps_fail(err, CPS_ERR_FORBIDDEN, "device '%s' is disabled", device_id);
  cps_enrollment enr;
  r = cps_enrollment_get(svc, dev.enrollment_id, &enr);
  if (r == CPS_ERR_NOT_FOUND)
    return cps_fail(err, CPS_ERR_CONFLICT, "enrollment '%s' of device '%s' was deleted",
                    dev.enrollment_id, device_id);
  if (r != CPS_OK) return r;
  char policy[sizeof enr.policy];
  memcpy(policy, enr.policy, sizeof policy);
  cps_enrollment_clear(&enr);

  char cn[CPS_DEVICE_ID_MAX_ISSUE];
  if (cps_pki_req_cn(csr, cn, sizeof cn) != CPS_OK || strcmp(cn, dev.id) != 0)
    return cps_fail(err, CPS_ERR_INVALID, "csr: subject CN does not equal device id '%s'", dev.id);
  cps_ica ica;
  r = cps_ica_load_active(svc, policy, &ica, err);
  if (r != CPS_OK) return r == CPS_ERR_NOT_FOUND ? CPS_ERR_CONFLICT : r;
  X509 *leaf = NULL;
  cps_chain chain;
  memset(&chain, 0, sizeof chain);
  r = cps_pki_leaf_issue(ica.cert, ica.key, csr, dev.id, dev.revocation_id, ica.validity_s, &leaf,
                         chain.serial_hex);
  if (r == CPS_OK) {
    chain.not_after = asn1_epoch(X509_get0_notAfter(leaf));
    r = cps_issued_record(svc, chain.serial_hex, dev.id, ica.id,
                          asn1_epoch(X509_get0_notBefore(leaf)), chain.not_after);
  }
  if (r == CPS_OK) r = cert_b64(leaf, &chain.b64[0]);
  if (r == CPS_OK) r = cert_b64(ica.cert, &chain.b64[1]);
  if (r == CPS_OK) r = cert_b64(ica.root, &chain.b64[2]);
  X509_free(leaf);
  cps_ica_clear(&ica);
  if (r != CPS_OK) {
    cps_chain_free(&chain);
    return r;
  }
  chain.count = 3;
  *out = chain;
  return CPS_OK;
}
