/* Hub queries: device certificate acceptance and the trusted-ICA bundle. */
#include "cps_hub.h"

#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>
#include <openssl/x509v3.h>

#include "cps_pki.h"
#include "cps_registry.h"
#include "cps_service_internal.h"

/* Trusted ICAs (and, when with_roots, their roots) as a new stack. */
static cps_result trusted_cas(cps_service *svc, int with_roots, STACK_OF(X509) **out) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT i.cert, COALESCE(i.root, c.root_cert) FROM ica i"
                         " JOIN policy p ON p.id = i.policy_id"
                         " LEFT JOIN credential c ON c.id = p.credential_id"
                         " WHERE i.trusted = 1 AND i.cert IS NOT NULL ORDER BY i.id",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  STACK_OF(X509) *sk = sk_X509_new_null();
  if (!sk) {
    sqlite3_finalize(s);
    return CPS_ERR_NOMEM;
  }
  while (sqlite3_step(s) == SQLITE_ROW) {
    for (int col = 0; col < (with_roots ? 2 : 1); col++) {
      int n = sqlite3_column_bytes(s, col);
      X509 *c = NULL;
      if (n <= 0 || cps_pki_cert_from_der(sqlite3_column_blob(s, col), (size_t)n, &c) != CPS_OK)
        continue;
      int dup = 0;
      for (int i = 0; i < sk_X509_num(sk); i++)
        if (X509_cmp(sk_X509_value(sk, i), c) == 0) dup = 1;
      if (dup || !sk_X509_push(sk, c)) X509_free(c);
    }
  }
  sqlite3_finalize(s);
  *out = sk;
  return CPS_OK;
}

cps_result cps_hub_check_device_cert(cps_service *svc, const char *hub_name, X509 *leaf,
                                     STACK_OF(X509) *chain, char device_id[CPS_DEVICE_ID_MAX],
                                     cps_error *err) {
  if (!leaf) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "chain: no client certificate");
  STACK_OF(X509) *icas = NULL;
  cps_result r = trusted_cas(svc, 0, &icas);
  if (r != CPS_OK) return r;
  X509_STORE *store = X509_STORE_new();
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  int ok = 0;
  if (store && ctx) {
    for (int i = 0; i < sk_X509_num(icas); i++) X509_STORE_add_cert(store, sk_X509_value(icas, i));
    if (X509_STORE_CTX_init(ctx, store, leaf, chain) == 1) {
      X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN);
      X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
      ok = X509_verify_cert(ctx) == 1;
      if (!ok)
        cps_fail(err, CPS_ERR_UNAUTHORIZED, "chain: %s",
                 X509_verify_cert_error_string(X509_STORE_CTX_get_error(ctx)));
    }
  }
  X509_STORE_CTX_free(ctx);
  X509_STORE_free(store);
  sk_X509_pop_free(icas, X509_free);
  ERR_clear_error();
  if (!ok) {
    if (err && !err->msg[0]) cps_fail(err, CPS_ERR_UNAUTHORIZED, "chain: cannot verify");
    return CPS_ERR_UNAUTHORIZED;
  }
  char cn[CPS_DEVICE_ID_MAX];
  if (cps_pki_cert_cn(leaf, cn, sizeof cn) != CPS_OK)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "chain: leaf has no usable CN");
  cps_device dev;
  r = cps_device_get(svc, cn, &dev);
  if (r == CPS_ERR_NOT_FOUND) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "device: unknown");
  if (r != CPS_OK) return r;
  if (!dev.enabled) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "device: disabled");
  if (strcmp(dev.hub, hub_name) != 0)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "device: assigned to another hub");
  char rid[80];
  if (cps_pki_revocation_id_get(leaf, rid, sizeof rid) != CPS_OK ||
      strcmp(rid, dev.revocation_id) != 0)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "device: certificate revoked");
  memcpy(device_id, dev.id, CPS_DEVICE_ID_MAX);
  return CPS_OK;
}

cps_result cps_hub_trust_bundle_pem(cps_service *svc, char **pem) {
  STACK_OF(X509) *sk = NULL;
  cps_result r = trusted_cas(svc, 1, &sk);
  if (r != CPS_OK) return r;
  size_t total = 0;
  char *out = calloc(1, 1);
  for (int i = 0; out && i < sk_X509_num(sk); i++) {
    char *one = NULL;
    if (cps_pki_cert_to_pem(sk_X509_value(sk, i), &one) != CPS_OK) continue;
    size_t n = strlen(one);
    char *grown = realloc(out, total + n + 1);
    if (!grown) {
      free(one);
      free(out);
      out = NULL;
      break;
    }
    out = grown;
    memcpy(out + total, one, n + 1);
    total += n;
    free(one);
  }
  sk_X509_pop_free(sk, X509_free);
  if (!out) return CPS_ERR_NOMEM;
  *pem = out;
  return CPS_OK;
}
