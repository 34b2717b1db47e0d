/* Attestation: SAS (individual key or group-derived key) and X.509 (TLS client certificate). */
#include "cps_prov_auth.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>
#include <strings.h>

#include "cps_pki.h"
#include "cps_sas.h"

/* SAS against one symmetric enrollment: individual keys directly, group keys derived. */
static int sas_matches(cps_service *svc, const cps_enrollment *e, const cps_sas_token *tok,
                       const char *regid, cps_error *err) {
  const char *keys[2] = {e->primary_key, e->secondary_key};
  const cps_service_config *cfg = cps_service_config_get(svc);
  for (int i = 0; i < 2; i++) {
    if (!keys[i][0]) continue;
    char derived[128];
    const char *key = keys[i];
    if (e->group) {
      if (cps_sas_derive_device_key(keys[i], regid, derived, sizeof derived) != CPS_OK) continue;
      key = derived;
    }
    if (cps_sas_verify(tok, cps_service_id_scope(svc), regid, key, time(NULL),
                       cfg->sas_max_lifetime_s, err) == CPS_OK)
      return 1;
  }
  return 0;
}

/* X.509 against one x509 enrollment: same certificate (individual) or chains to the group CA. */
static int x509_matches(const cps_enrollment *e, const cps_prov_request *req, cps_error *err) {
  X509 *enr = NULL;
  if (cps_pki_cert_from_der(e->x509_der, e->x509_len, &enr) != CPS_OK) return 0;
  int ok = 0;
  if (!e->group) {
    ok = X509_cmp(enr, req->client_cert) == 0;
    if (!ok) {
      cps_fail(err, CPS_ERR_UNAUTHORIZED, "x509: certificate differs from the enrollment's");
    } else if (X509_cmp_current_time(X509_get0_notBefore(enr)) > 0 ||
               X509_cmp_current_time(X509_get0_notAfter(enr)) < 0) {
      ok = 0;
      cps_fail(err, CPS_ERR_UNAUTHORIZED, "x509: certificate is not valid now");
    }
  } else {
    X509_STORE *store = X509_STORE_new();
    X509_STORE_CTX *ctx = X509_STORE_CTX_new();
    if (store && ctx && X509_STORE_add_cert(store, enr) == 1 &&
        X509_STORE_CTX_init(ctx, store, req->client_cert, req->client_chain) == 1) {
      X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
      X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
      ok = X509_verify_cert(ctx) == 1;
      if (!ok)
        cps_fail(err, CPS_ERR_UNAUTHORIZED, "x509: chain does not verify to the group CA: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
    X509_STORE_CTX_free(ctx);
    X509_STORE_free(store);
  }
  X509_free(enr);
  ERR_clear_error();
  return ok;
}

cps_result cps_prov_authenticate(cps_service *svc, const cps_prov_request *req,
                                 cps_enrollment *out, cps_error *err) {
  cps_enrollment *cands = NULL;
  size_t n = 0;
  cps_result r = cps_enrollment_candidates(svc, req->registration_id, &cands, &n);
  if (r != CPS_OK) return r;
  int use_x509 = req->authorization == NULL && req->client_cert != NULL;
  cps_sas_token tok;
  if (!use_x509) {
    if (!req->authorization) {
      r = cps_fail(err, CPS_ERR_UNAUTHORIZED, "no SAS token and no client certificate");
      goto done;
    }
    r = cps_sas_parse(req->authorization, &tok, err);
    if (r != CPS_OK) goto done;
  } else {
    char cn[256];
    if (cps_pki_cert_cn(req->client_cert, cn, sizeof cn) != CPS_OK ||
        strcasecmp(cn, req->registration_id) != 0) {
      r = cps_fail(err, CPS_ERR_UNAUTHORIZED,
                   "x509: client certificate CN does not equal the registration id");
      goto done;
    }
  }
  size_t applicable = 0;
  r = CPS_ERR_NOT_FOUND;
  for (size_t i = 0; i < n; i++) {
    cps_enrollment *e = &cands[i];
    if ((e->x509 != 0) != (use_x509 != 0)) continue;
    applicable++;
    int ok = use_x509 ? x509_matches(e, req, err) : sas_matches(svc, e, &tok, req->registration_id, err);
    if (ok) {
      *out = *e;
      memset(e, 0, sizeof *e);
      r = CPS_OK;
      break;
    }
  }
  if (r != CPS_OK) {
    if (applicable == 0)
      r = cps_fail(err, CPS_ERR_NOT_FOUND, "no enrollment for registration id '%s'",
                   req->registration_id);
    else
      r = CPS_ERR_UNAUTHORIZED; /* err holds the last failed check */
  }
done:
  for (size_t i = 0; i < n; i++) cps_enrollment_clear(&cands[i]);
  free(cands);
  return r;
}
