/* Management of the namespace credential (root CA). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "cps_mgmt_internal.h"
#include "cps_pki.h"
#include "cps_prov_util.h"

#define ROOT_VALIDITY_S (20L * 365 * 86400)

static cJSON *cred_json(mgmt_cred *c) {
  cJSON *o = cJSON_CreateObject();
  mgmt_add_cert_info(o, c->cert);
  char *pem = NULL;
  if (cps_pki_cert_to_pem(c->cert, &pem) == CPS_OK) cJSON_AddStringToObject(o, "certificate", pem);
  free(pem);
  return o;
}

static long long count_live_policies(cps_service *svc, long long cred_id) {
  sqlite3_stmt *s = NULL;
  long long n = -1;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT COUNT(*) FROM policy WHERE deleted=0 AND credential_id=?", -1, &s,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, cred_id);
    if (sqlite3_step(s) == SQLITE_ROW) n = sqlite3_column_int64(s, 0);
  }
  sqlite3_finalize(s);
  return n;
}

void mgmt_credential(mgmt_req *rq, cps_mgmt_response *resp) {
  if (rq->nseg != 1) return mgmt_error(resp, 404, "no such resource");
  cps_service *svc = rq->svc;
  mgmt_cred c;
  cps_result r = mgmt_cred_load(svc, &c);
  if (r != CPS_OK && r != CPS_ERR_NOT_FOUND) return mgmt_fail(resp, r, "credential unreadable");
  if (!strcmp(rq->method, "GET")) {
    if (r == CPS_ERR_NOT_FOUND) return mgmt_error(resp, 404, "namespace has no credential");
    mgmt_json(resp, 200, cred_json(&c));
  } else if (!strcmp(rq->method, "POST")) {
    if (r == CPS_OK) {
      mgmt_cred_clear(&c);
      return mgmt_error(resp, 409, "namespace already has a credential");
    }
    char cn[200];
    snprintf(cn, sizeof cn, "%s root CA", svc->namespace_name);
    char *pem = NULL;
    unsigned char *der = NULL;
    size_t der_len = 0;
    r = cps_pki_key_generate(&c.key);
    if (r == CPS_OK) r = cps_pki_root_create(c.key, cn, ROOT_VALIDITY_S, &c.cert);
    if (r == CPS_OK) r = cps_service_key_to_pem(svc, c.key, &pem);
    if (r == CPS_OK) r = cps_pki_cert_to_der(c.cert, &der, &der_len);
    if (r == CPS_OK) {
      sqlite3_stmt *s = NULL;
      r = CPS_ERR_STORE;
      if (sqlite3_prepare_v2(cps_service_db(svc),
                             "INSERT INTO credential(created, root_cert, root_key) VALUES(?,?,?)",
                             -1, &s, NULL) == SQLITE_OK) {
        sqlite3_bind_int64(s, 1, (long long)time(NULL));
        sqlite3_bind_blob(s, 2, der, (int)der_len, SQLITE_STATIC);
        sqlite3_bind_text(s, 3, pem, -1, SQLITE_STATIC);
        if (sqlite3_step(s) == SQLITE_DONE) r = CPS_OK;
      }
      sqlite3_finalize(s);
    }
    if (pem) OPENSSL_cleanse(pem, strlen(pem));
    free(pem);
    free(der);
    if (r == CPS_OK) mgmt_json(resp, 201, cred_json(&c));
    else mgmt_fail(resp, r, "cannot create the credential");
  } else if (!strcmp(rq->method, "DELETE")) {
    if (r == CPS_ERR_NOT_FOUND) return mgmt_error(resp, 404, "namespace has no credential");
    long long n = count_live_policies(svc, c.id);
    if (n != 0) {
      mgmt_cred_clear(&c);
      return mgmt_error(resp, 409, "credential still has %lld policies; delete them first", n);
    }
    char id[32];
    snprintf(id, sizeof id, "%lld", c.id);
    r = cps_store_begin(svc->store);
    if (r == CPS_OK)
      r = mgmt_exec(svc, "UPDATE credential SET deleted=1, root_key=NULL WHERE id=?", id, NULL);
    if (r == CPS_OK)
      r = mgmt_exec(svc, "UPDATE ica SET trusted=0, state='retired' WHERE policy_id IN"
                         " (SELECT id FROM policy WHERE credential_id=?)", id, NULL);
    if (r == CPS_OK) r = cps_store_commit(svc->store);
    else cps_store_rollback(svc->store);
    if (r == CPS_OK) mgmt_raw(resp, 204, "application/json", NULL, 0);
    else mgmt_fail(resp, r, "cannot delete the credential");
  } else {
    mgmt_error(resp, 405, "method not allowed");
  }
  mgmt_cred_clear(&c);
}
