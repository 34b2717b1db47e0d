/* Helpers shared by the credential, policy and CRL handlers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "cps_mgmt_internal.h"
#include "cps_pki.h"
#include "cps_prov_util.h"

void mgmt_cred_clear(mgmt_cred *c) {
  X509_free(c->cert);
  EVP_PKEY_free(c->key);
  memset(c, 0, sizeof *c);
}

/* The live credential, or CPS_ERR_NOT_FOUND. */
cps_result mgmt_cred_load(cps_service *svc, mgmt_cred *out) {
  sqlite3_stmt *s = NULL;
  memset(out, 0, sizeof *out);
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT id, root_cert, root_key FROM credential WHERE deleted=0", -1, &s,
                         NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  cps_result r = CPS_ERR_NOT_FOUND;
  if (sqlite3_step(s) == SQLITE_ROW) {
    out->id = sqlite3_column_int64(s, 0);
    r = cps_pki_cert_from_der(sqlite3_column_blob(s, 1), (size_t)sqlite3_column_bytes(s, 1),
                              &out->cert);
    if (r == CPS_OK)
      r = cps_service_key_from_pem(svc, (const char *)sqlite3_column_text(s, 2), &out->key);
    if (r != CPS_OK) {
      mgmt_cred_clear(out);
      r = CPS_ERR_CRYPTO;
    }
  }
  sqlite3_finalize(s);
  return r;
}

void mgmt_add_cert_info(cJSON *o, X509 *c) {
  char cn[256] = "", serial[CPS_SERIAL_HEX_MAX] = "", nb[40], na[40];
  cps_pki_cert_cn(c, cn, sizeof cn);
  cps_pki_cert_serial_hex(c, serial);
  struct tm tm;
  ASN1_TIME_to_tm(X509_get0_notBefore(c), &tm);
  cps_time_iso(timegm(&tm), nb, sizeof nb);
  ASN1_TIME_to_tm(X509_get0_notAfter(c), &tm);
  cps_time_iso(timegm(&tm), na, sizeof na);
  cJSON_AddStringToObject(o, "subject", cn);
  cJSON_AddStringToObject(o, "serial", serial);
  cJSON_AddStringToObject(o, "notBefore", nb);
  cJSON_AddStringToObject(o, "notAfter", na);
}

/* Live policy by name, else the newest deleted one. */
cps_result mgmt_policy_find(cps_service *svc, const char *name, mgmt_policy_row *p) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT id, name, validity_s, byor, deleted, state,"
                         " COALESCE(credential_id, 0) FROM policy WHERE name=?"
                         " ORDER BY deleted ASC, id DESC LIMIT 1",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  cps_result r = CPS_ERR_NOT_FOUND;
  if (sqlite3_step(s) == SQLITE_ROW) {
    memset(p, 0, sizeof *p);
    p->id = sqlite3_column_int64(s, 0);
    snprintf(p->name, sizeof p->name, "%s", (const char *)sqlite3_column_text(s, 1));
    p->validity_s = (long)sqlite3_column_int64(s, 2);
    p->byor = sqlite3_column_int(s, 3);
    p->deleted = sqlite3_column_int(s, 4);
    snprintf(p->state, sizeof p->state, "%s", (const char *)sqlite3_column_text(s, 5));
    p->cred_id = sqlite3_column_int64(s, 6);
    r = CPS_OK;
  }
  sqlite3_finalize(s);
  return r;
}
