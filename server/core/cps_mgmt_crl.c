/* CRLs (root and per ICA) and the hub trust bundle. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "cps_hub.h"
#include "cps_mgmt_internal.h"
#include "cps_pki.h"
#include "cps_prov_util.h"

/* Serve the CRL of @p scope ("root:<id>" / "ica:<id>"). A CRL is regenerated when its
 * generation counter changed (a revocation bumped it) or when half of its nextUpdate window has
 * passed; otherwise the stored bytes are served again. Each regeneration takes the next CRL
 * number (RFC 5280 §5.2.3). */
static void crl_reply(cps_service *svc, cps_mgmt_response *resp, X509 *issuer, EVP_PKEY *key,
                      const char *sql, long long id, long long gen, const char *scope) {
  sqlite3 *db = cps_service_db(svc);
  sqlite3_stmt *s = NULL;
  long long now = (long long)time(NULL), number = 1;
  if (sqlite3_prepare_v2(db, "SELECT gen, number, der, this_update FROM crl WHERE scope=?", -1, &s,
                         NULL) != SQLITE_OK)
    return mgmt_error(resp, 500, "store error");
  sqlite3_bind_text(s, 1, scope, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW) {
    number = sqlite3_column_int64(s, 1) + 1;
    if (sqlite3_column_int64(s, 0) == gen &&
        now - sqlite3_column_int64(s, 3) < svc->cfg.crl_next_update_s / 2) {
      mgmt_raw(resp, 200, "application/pkix-crl", sqlite3_column_blob(s, 2),
               (size_t)sqlite3_column_bytes(s, 2));
      sqlite3_finalize(s);
      return;
    }
  }
  sqlite3_finalize(s);
  cps_crl_entry *e = NULL;
  char **serials = NULL;
  size_t n = 0;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) != SQLITE_OK)
    return mgmt_error(resp, 500, "store error");
  sqlite3_bind_int64(s, 1, id);
  while (sqlite3_step(s) == SQLITE_ROW) {
    cps_crl_entry *ge = realloc(e, (n + 1) * sizeof *e);
    char **gs = realloc(serials, (n + 1) * sizeof *serials);
    if (ge) e = ge;
    if (gs) serials = gs;
    if (!ge || !gs) break;
    serials[n] = strdup((const char *)sqlite3_column_text(s, 0));
    e[n].serial_hex = serials[n];
    e[n].revoked_at = (time_t)sqlite3_column_int64(s, 1);
    n++;
  }
  sqlite3_finalize(s);
  unsigned char *der = NULL;
  size_t len = 0;
  cps_result r =
      cps_pki_crl_build(issuer, key, e, n, svc->cfg.crl_next_update_s, (long)number, &der, &len);
  for (size_t i = 0; i < n; i++) free(serials[i]);
  free(serials);
  free(e);
  if (r != CPS_OK) return mgmt_fail(resp, r, "cannot build the CRL");
  r = CPS_ERR_STORE;
  if (sqlite3_prepare_v2(db, "INSERT OR REPLACE INTO crl(scope, gen, number, der, this_update)"
                             " VALUES(?, ?, ?, ?, ?)", -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, scope, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, gen);
    sqlite3_bind_int64(s, 3, number);
    sqlite3_bind_blob(s, 4, der, (int)len, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, now);
    if (sqlite3_step(s) == SQLITE_DONE) r = CPS_OK;
  }
  sqlite3_finalize(s);
  if (r != CPS_OK) mgmt_fail(resp, r, "cannot store the CRL");
  else mgmt_raw(resp, 200, "application/pkix-crl", der, len);
  free(der);
}

/* Serial hex of an ICA stored as DER (for root CRL entries), via SQL function. */
static void sql_cert_serial(sqlite3_context *ctx, int argc, sqlite3_value **argv) {
  (void)argc;
  X509 *c = NULL;
  char hex[CPS_SERIAL_HEX_MAX];
  if (sqlite3_value_bytes(argv[0]) > 0 &&
      cps_pki_cert_from_der(sqlite3_value_blob(argv[0]), (size_t)sqlite3_value_bytes(argv[0]), &c) == CPS_OK &&
      cps_pki_cert_serial_hex(c, hex) == CPS_OK) {
    sqlite3_result_text(ctx, hex, -1, SQLITE_TRANSIENT);
  } else {
    sqlite3_result_null(ctx);
  }
  X509_free(c);
}

void mgmt_crl(mgmt_req *rq, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  if (strcmp(rq->method, "GET") != 0) return mgmt_error(resp, 405, "method not allowed");
  if (rq->nseg == 2 && !strcmp(rq->seg[1], "root")) {
    mgmt_cred c;
    cps_result r = mgmt_cred_load(svc, &c);
    if (r != CPS_OK) return mgmt_fail(resp, r, "namespace has no credential");
    sqlite3_create_function(cps_service_db(svc), "cert_serial", 1, SQLITE_UTF8, NULL,
                            sql_cert_serial, NULL, NULL);
    long long gen = 0;
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT crl_number FROM credential WHERE id=?", -1,
                           &s, NULL) == SQLITE_OK) {
      sqlite3_bind_int64(s, 1, c.id);
      if (sqlite3_step(s) == SQLITE_ROW) gen = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
    char scope[48];
    snprintf(scope, sizeof scope, "root:%lld", c.id);
    crl_reply(svc, resp, c.cert, c.key,
              "SELECT cert_serial(i.cert), i.revoked_at FROM ica i JOIN policy p ON p.id=i.policy_id"
              " WHERE p.credential_id=? AND i.state='revoked' AND i.cert IS NOT NULL"
              " AND i.root IS NULL ORDER BY i.id",
              c.id, gen, scope);
    mgmt_cred_clear(&c);
    return;
  }
  /* /crl/icas/{id} or /crl/policies/{name} (the policy's newest ICA with a certificate). */
  long long ica_id = -1;
  if (rq->nseg == 3 && !strcmp(rq->seg[1], "icas")) {
    char *end = NULL;
    ica_id = strtoll(rq->seg[2], &end, 10);
    if (*end || ica_id <= 0) return mgmt_error(resp, 404, "no such issuing CA");
  } else if (rq->nseg == 3 && !strcmp(rq->seg[1], "policies")) {
    mgmt_policy_row p;
    if (mgmt_policy_find(svc, rq->seg[2], &p) != CPS_OK)
      return mgmt_error(resp, 404, "policy '%s' does not exist", rq->seg[2]);
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(cps_service_db(svc),
                           "SELECT id FROM ica WHERE policy_id=? AND cert IS NOT NULL ORDER BY"
                           " (state='active') DESC, id DESC LIMIT 1", -1, &s, NULL) == SQLITE_OK) {
      sqlite3_bind_int64(s, 1, p.id);
      if (sqlite3_step(s) == SQLITE_ROW) ica_id = sqlite3_column_int64(s, 0);
    }
    sqlite3_finalize(s);
  } else {
    return mgmt_error(resp, 404, "no such CRL");
  }
  sqlite3_stmt *s = NULL;
  X509 *cert = NULL;
  EVP_PKEY *key = NULL;
  long long gen = 0;
  if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT cert, key, crl_number FROM ica WHERE id=?", -1,
                         &s, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, ica_id);
    if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) > 0) {
      cps_pki_cert_from_der(sqlite3_column_blob(s, 0), (size_t)sqlite3_column_bytes(s, 0), &cert);
      cps_service_key_from_pem(svc, (const char *)sqlite3_column_text(s, 1), &key);
      gen = sqlite3_column_int64(s, 2);
    }
  }
  sqlite3_finalize(s);
  char scope[48];
  snprintf(scope, sizeof scope, "ica:%lld", ica_id);
  if (cert && key)
    crl_reply(svc, resp, cert, key,
              "SELECT serial, revoked_at FROM issued WHERE ica_id=? AND revoked=1 ORDER BY serial",
              ica_id, gen, scope);
  else
    mgmt_error(resp, 404, "no such issuing CA");
  X509_free(cert);
  EVP_PKEY_free(key);
}

void mgmt_hub_trust(mgmt_req *rq, cps_mgmt_response *resp) {
  if (rq->nseg != 2 || strcmp(rq->seg[1], "trust") != 0) return mgmt_error(resp, 404, "no such resource");
  if (strcmp(rq->method, "GET") != 0) return mgmt_error(resp, 405, "method not allowed");
  char *pem = NULL;
  cps_result r = cps_hub_trust_bundle_pem(rq->svc, &pem);
  if (r != CPS_OK) return mgmt_fail(resp, r, "cannot build the bundle");
  mgmt_raw(resp, 200, "application/x-pem-file", pem, strlen(pem));
  free(pem);
}
