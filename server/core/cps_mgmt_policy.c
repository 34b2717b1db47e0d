/* Management of policies (issuing CAs), BYOR and policy revocation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509v3.h>

#include "cps_mgmt_internal.h"
#include "cps_pki.h"
#include "cps_prov_util.h"

#define ICA_VALIDITY_S (5L * 365 * 86400)
#define MAX_LEAF_VALIDITY_S (90L * 86400)

static cJSON *policy_json(cps_service *svc, const mgmt_policy_row *p) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", p->name);
  if (p->validity_s % 86400 == 0) cJSON_AddNumberToObject(o, "validityDays", (double)(p->validity_s / 86400));
  else cJSON_AddNumberToObject(o, "validitySeconds", (double)p->validity_s);
  cJSON_AddBoolToObject(o, "byor", p->byor);
  cJSON_AddStringToObject(o, "state", p->deleted ? "deleted" : p->state);
  cJSON *arr = cJSON_AddArrayToObject(o, "issuingCAs");
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT id, state, trusted, cert FROM ica WHERE policy_id=? ORDER BY id",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, p->id);
    while (sqlite3_step(s) == SQLITE_ROW) {
      cJSON *i = cJSON_CreateObject();
      cJSON_AddNumberToObject(i, "id", (double)sqlite3_column_int64(s, 0));
      cJSON_AddStringToObject(i, "state", (const char *)sqlite3_column_text(s, 1));
      cJSON_AddBoolToObject(i, "trustedByHubs", sqlite3_column_int(s, 2));
      X509 *c = NULL;
      if (sqlite3_column_bytes(s, 3) > 0 &&
          cps_pki_cert_from_der(sqlite3_column_blob(s, 3), (size_t)sqlite3_column_bytes(s, 3), &c) == CPS_OK) {
        mgmt_add_cert_info(i, c);
        X509_free(c);
      }
      cJSON_AddItemToArray(arr, i);
    }
  }
  sqlite3_finalize(s);
  return o;
}

/* New ICA row for policy p: signed by the credential, or pending with a CSR (BYOR). */
static cps_result ica_create(cps_service *svc, const mgmt_policy_row *p, mgmt_cred *c) {
  EVP_PKEY *key = NULL;
  X509 *cert = NULL;
  X509_REQ *req = NULL;
  char *pem = NULL;
  unsigned char *der = NULL, *csr_der = NULL;
  size_t der_len = 0;
  int csr_len = 0;
  char cn[200];
  snprintf(cn, sizeof cn, "%s policy %s ICA %lld", svc->namespace_name, p->name, (long long)time(NULL));
  cps_result r = cps_pki_key_generate(&key);
  if (r == CPS_OK) r = cps_service_key_to_pem(svc, key, &pem);
  if (r == CPS_OK && !p->byor) {
    r = cps_pki_ca_issue(c->cert, c->key, key, cn, ICA_VALIDITY_S, &cert);
    if (r == CPS_OK) r = cps_pki_cert_to_der(cert, &der, &der_len);
  } else if (r == CPS_OK) {
    r = cps_pki_ca_csr(key, cn, &req);
    if (r == CPS_OK && (csr_len = i2d_X509_REQ(req, &csr_der)) <= 0) r = CPS_ERR_CRYPTO;
  }
  if (r == CPS_OK) {
    sqlite3_stmt *s = NULL;
    r = CPS_ERR_STORE;
    if (sqlite3_prepare_v2(cps_service_db(svc),
                           "INSERT INTO ica(policy_id, cert, key, csr, state, trusted, created)"
                           " VALUES(?, ?, ?, ?, ?, ?, ?)",
                           -1, &s, NULL) == SQLITE_OK) {
      sqlite3_bind_int64(s, 1, p->id);
      if (der) sqlite3_bind_blob(s, 2, der, (int)der_len, SQLITE_STATIC);
      else sqlite3_bind_null(s, 2);
      sqlite3_bind_text(s, 3, pem, -1, SQLITE_STATIC);
      if (csr_der) sqlite3_bind_blob(s, 4, csr_der, csr_len, SQLITE_STATIC);
      else sqlite3_bind_null(s, 4);
      sqlite3_bind_text(s, 5, p->byor ? "pending" : "active", -1, SQLITE_STATIC);
      sqlite3_bind_int(s, 6, p->byor ? 0 : 1);
      sqlite3_bind_int64(s, 7, (long long)time(NULL));
      if (sqlite3_step(s) == SQLITE_DONE) r = CPS_OK;
    }
    sqlite3_finalize(s);
  }
  if (pem) OPENSSL_cleanse(pem, strlen(pem));
  free(pem);
  free(der);
  OPENSSL_free(csr_der);
  X509_REQ_free(req);
  X509_free(cert);
  EVP_PKEY_free(key);
  return r;
}

static void policy_create(mgmt_req *rq, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(rq->json, "name");
  const cJSON *days = cJSON_GetObjectItemCaseSensitive(rq->json, "validityDays");
  const cJSON *secs = cJSON_GetObjectItemCaseSensitive(rq->json, "validitySeconds");
  const cJSON *byor = cJSON_GetObjectItemCaseSensitive(rq->json, "byor");
  if (!cJSON_IsString(name) || !mgmt_name_ok(name->valuestring))
    return mgmt_error(resp, 400, "name must be 1-64 of [A-Za-z0-9._-]");
  long validity;
  if (secs) {
    if (!svc->cfg.dev_mode)
      return mgmt_error(resp, 400, "validitySeconds is only accepted in dev mode");
    if (!cJSON_IsNumber(secs) || secs->valuedouble < 1 || secs->valuedouble > MAX_LEAF_VALIDITY_S ||
        secs->valuedouble != (double)(long)secs->valuedouble)
      return mgmt_error(resp, 400, "validitySeconds must be an integer from 1 to %ld", MAX_LEAF_VALIDITY_S);
    validity = (long)secs->valuedouble;
  } else {
    if (!cJSON_IsNumber(days) || days->valuedouble < 1 || days->valuedouble > 90 ||
        days->valuedouble != (double)(long)days->valuedouble)
      return mgmt_error(resp, 400, "validityDays must be an integer from 1 to 90");
    validity = (long)days->valuedouble * 86400;
  }
  if (byor && !cJSON_IsBool(byor)) return mgmt_error(resp, 400, "byor must be a boolean");
  mgmt_policy_row p;
  memset(&p, 0, sizeof p);
  snprintf(p.name, sizeof p.name, "%s", name->valuestring);
  p.validity_s = validity;
  p.byor = cJSON_IsTrue(byor);
  mgmt_cred c;
  cps_result r = mgmt_cred_load(svc, &c);
  if (r == CPS_ERR_NOT_FOUND && !p.byor)
    return mgmt_error(resp, 409, "namespace has no credential; create it first");
  if (r != CPS_OK && r != CPS_ERR_NOT_FOUND) return mgmt_fail(resp, r, "credential unreadable");
  mgmt_policy_row existing;
  if (mgmt_policy_find(svc, p.name, &existing) == CPS_OK && !existing.deleted) {
    mgmt_cred_clear(&c);
    return mgmt_error(resp, 409, "policy '%s' exists", p.name);
  }
  sqlite3_stmt *s = NULL;
  int began = cps_store_begin(svc->store) == CPS_OK;
  r = CPS_ERR_STORE;
  if (began &&
      sqlite3_prepare_v2(cps_service_db(svc),
                         "INSERT INTO policy(name, validity_s, byor, state, created, credential_id)"
                         " VALUES(?, ?, ?, ?, ?, ?)",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, p.name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, p.validity_s);
    sqlite3_bind_int(s, 3, p.byor);
    sqlite3_bind_text(s, 4, p.byor ? "pending" : "active", -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 5, (long long)time(NULL));
    if (c.cert && !p.byor) sqlite3_bind_int64(s, 6, c.id);
    else sqlite3_bind_null(s, 6);
    if (sqlite3_step(s) == SQLITE_DONE) r = CPS_OK;
  }
  sqlite3_finalize(s);
  if (r == CPS_OK) {
    p.id = sqlite3_last_insert_rowid(cps_service_db(svc));
    snprintf(p.state, sizeof p.state, "%s", p.byor ? "pending" : "active");
    r = ica_create(svc, &p, &c);
  }
  if (r == CPS_OK) r = cps_store_commit(svc->store);
  else cps_store_rollback(svc->store);
  mgmt_cred_clear(&c);
  if (r != CPS_OK) return mgmt_fail(resp, r, "cannot create the policy");
  mgmt_json(resp, 201, policy_json(svc, &p));
}

static cps_result crl_bump_root(cps_service *svc, long long cred_id) {
  char id[32];
  snprintf(id, sizeof id, "%lld", cred_id);
  return mgmt_exec(svc, "UPDATE credential SET crl_number=crl_number+1 WHERE id=?", id, NULL);
}

static void policy_revoke(mgmt_req *rq, mgmt_policy_row *p, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  if (p->deleted) return mgmt_error(resp, 409, "policy '%s' was deleted", p->name);
  mgmt_cred c;
  memset(&c, 0, sizeof c);
  if (!p->byor) {
    cps_result lr = mgmt_cred_load(svc, &c);
    if (lr != CPS_OK) return mgmt_fail(resp, lr == CPS_ERR_NOT_FOUND ? CPS_ERR_CONFLICT : lr, "no credential");
  }
  char pid[32], now[32];
  snprintf(pid, sizeof pid, "%lld", p->id);
  snprintf(now, sizeof now, "%lld", (long long)time(NULL));
  cps_result r = cps_store_begin(svc->store);
  if (r == CPS_OK)
    r = mgmt_exec(svc, "UPDATE ica SET state='revoked', trusted=0, revoked_at=? WHERE"
                       " policy_id=? AND state IN ('active','pending')", now, pid, NULL);
  if (r == CPS_OK && !p->byor) r = crl_bump_root(svc, c.id);
  if (r == CPS_OK && p->byor) r = mgmt_exec(svc, "UPDATE policy SET state='pending' WHERE id=?", pid, NULL);
  if (r == CPS_OK) r = ica_create(svc, p, &c);
  if (r == CPS_OK) r = cps_store_commit(svc->store);
  else cps_store_rollback(svc->store);
  mgmt_cred_clear(&c);
  if (r != CPS_OK) return mgmt_fail(resp, r, "cannot revoke the policy");
  mgmt_policy_find(svc, p->name, p);
  mgmt_json(resp, 200, policy_json(svc, p));
}

static void policy_byor_csr(mgmt_req *rq, mgmt_policy_row *p, cps_mgmt_response *resp) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(rq->svc),
                         "SELECT csr FROM ica WHERE policy_id=? AND state='pending'", -1, &s,
                         NULL) != SQLITE_OK)
    return mgmt_error(resp, 500, "store error");
  sqlite3_bind_int64(s, 1, p->id);
  if (sqlite3_step(s) == SQLITE_ROW && sqlite3_column_bytes(s, 0) > 0) {
    const unsigned char *der = sqlite3_column_blob(s, 0);
    X509_REQ *req = d2i_X509_REQ(NULL, &der, sqlite3_column_bytes(s, 0));
    BIO *b = BIO_new(BIO_s_mem());
    char *data = NULL;
    long n;
    if (req && b && PEM_write_bio_X509_REQ(b, req) == 1 && (n = BIO_get_mem_data(b, &data)) > 0)
      mgmt_raw(resp, 200, "application/pkcs10", data, (size_t)n);
    else
      mgmt_error(resp, 500, "cannot encode the CSR");
    BIO_free(b);
    X509_REQ_free(req);
  } else {
    mgmt_error(resp, 409, "policy '%s' has no pending BYOR request", p->name);
  }
  sqlite3_finalize(s);
}

static void policy_byor_upload(mgmt_req *rq, mgmt_policy_row *p, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  if (!p->byor || p->deleted) return mgmt_error(resp, 409, "policy '%s' is not a live BYOR policy", p->name);
  if (!rq->body || rq->body_len == 0) return mgmt_error(resp, 400, "body must be a PEM bundle [ICA, root]");
  STACK_OF(X509) *sk = NULL;
  if (cps_pki_certs_from_pem(rq->body, rq->body_len, &sk) != CPS_OK)
    return mgmt_error(resp, 400, "body holds no PEM certificate");
  if (sk_X509_num(sk) != 2) {
    sk_X509_pop_free(sk, X509_free);
    return mgmt_error(resp, 400, "bundle must hold exactly the ICA certificate then its root");
  }
  X509 *ica = sk_X509_value(sk, 0), *root = sk_X509_value(sk, 1);
  sqlite3_stmt *s = NULL;
  EVP_PKEY *key = NULL;
  long long ica_id = 0;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT id, key FROM ica WHERE policy_id=? AND state='pending'", -1, &s,
                         NULL) == SQLITE_OK) {
    sqlite3_bind_int64(s, 1, p->id);
    if (sqlite3_step(s) == SQLITE_ROW) {
      ica_id = sqlite3_column_int64(s, 0);
      cps_service_key_from_pem(svc, (const char *)sqlite3_column_text(s, 1), &key);
    }
  }
  sqlite3_finalize(s);
  const char *why = NULL;
  if (!key) why = "policy has no pending request";
  else if (X509_check_private_key(ica, key) != 1) why = "certificate does not hold the policy's public key";
  else if (X509_check_ca(ica) < 1) why = "certificate is not a CA (basicConstraints CA:TRUE needed)";
  else if (X509_verify(ica, X509_get0_pubkey(root)) != 1) why = "ICA is not signed by the root in the bundle";
  else if (X509_check_ca(root) < 1) why = "root is not a CA";
  EVP_PKEY_free(key);
  ERR_clear_error();
  if (why) {
    sk_X509_pop_free(sk, X509_free);
    return mgmt_error(resp, key || ica_id ? 400 : 409, "%s", why);
  }
  unsigned char *ica_der = NULL, *root_der = NULL;
  size_t ica_len = 0, root_len = 0;
  cps_result r = cps_pki_cert_to_der(ica, &ica_der, &ica_len);
  if (r == CPS_OK) r = cps_pki_cert_to_der(root, &root_der, &root_len);
  sk_X509_pop_free(sk, X509_free);
  if (r == CPS_OK) r = cps_store_begin(svc->store);
  if (r == CPS_OK) {
    r = CPS_ERR_STORE;
    if (sqlite3_prepare_v2(cps_service_db(svc),
                           "UPDATE ica SET cert=?, root=?, state='active', trusted=1 WHERE id=?", -1,
                           &s, NULL) == SQLITE_OK) {
      sqlite3_bind_blob(s, 1, ica_der, (int)ica_len, SQLITE_STATIC);
      sqlite3_bind_blob(s, 2, root_der, (int)root_len, SQLITE_STATIC);
      sqlite3_bind_int64(s, 3, ica_id);
      if (sqlite3_step(s) == SQLITE_DONE) r = CPS_OK;
    }
    sqlite3_finalize(s);
    char pid[32];
    snprintf(pid, sizeof pid, "%lld", p->id);
    if (r == CPS_OK) r = mgmt_exec(svc, "UPDATE policy SET state='active' WHERE id=?", pid, NULL);
    if (r == CPS_OK) r = cps_store_commit(svc->store);
    else cps_store_rollback(svc->store);
  }
  free(ica_der);
  free(root_der);
  if (r != CPS_OK) return mgmt_fail(resp, r, "cannot store the certificate");
  mgmt_policy_find(svc, p->name, p);
  mgmt_json(resp, 200, policy_json(svc, p));
}

void mgmt_policy(mgmt_req *rq, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  const char *m = rq->method;
  if (rq->nseg == 1) {
    if (!strcmp(m, "POST")) {
      if (!cJSON_IsObject(rq->json)) return mgmt_error(resp, 400, "body must be a JSON object");
      return policy_create(rq, resp);
    }
    if (strcmp(m, "GET") != 0) return mgmt_error(resp, 405, "method not allowed");
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT name FROM policy WHERE deleted=0 ORDER BY name",
                           -1, &s, NULL) == SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        mgmt_policy_row p;
        if (mgmt_policy_find(svc, (const char *)sqlite3_column_text(s, 0), &p) == CPS_OK)
          cJSON_AddItemToArray(arr, policy_json(svc, &p));
      }
    }
    sqlite3_finalize(s);
    return mgmt_json(resp, 200, arr);
  }
  mgmt_policy_row p;
  cps_result r = mgmt_policy_find(svc, rq->seg[1], &p);
  if (r == CPS_ERR_NOT_FOUND) return mgmt_error(resp, 404, "policy '%s' does not exist", rq->seg[1]);
  if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
  char pid[32];
  snprintf(pid, sizeof pid, "%lld", p.id);
  if (rq->nseg == 2) {
    if (!strcmp(m, "GET")) return mgmt_json(resp, 200, policy_json(svc, &p));
    if (!strcmp(m, "DELETE")) {
      if (p.deleted) return mgmt_error(resp, 404, "policy '%s' does not exist", p.name);
      r = mgmt_exec(svc, "UPDATE policy SET deleted=1 WHERE id=?", pid, NULL);
      if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
      return mgmt_raw(resp, 204, "application/json", NULL, 0);
    }
    return mgmt_error(resp, 405, "method not allowed");
  }
  const char *action = rq->seg[2];
  if (rq->nseg == 3 && !strcmp(action, "revoke") && !strcmp(m, "POST")) return policy_revoke(rq, &p, resp);
  if (rq->nseg == 3 && !strcmp(action, "csr") && !strcmp(m, "GET")) return policy_byor_csr(rq, &p, resp);
  if (rq->nseg == 3 && !strcmp(action, "certificate") && !strcmp(m, "PUT"))
    return policy_byor_upload(rq, &p, resp);
  if (rq->nseg == 3 && !strcmp(action, "trust") && !strcmp(m, "DELETE")) {
    r = mgmt_exec(svc, "UPDATE ica SET trusted=0 WHERE policy_id IN (SELECT id FROM policy WHERE name=?)",
                  p.name, NULL);
    if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
    return mgmt_raw(resp, 204, "application/json", NULL, 0);
  }
  mgmt_error(resp, 404, "no such resource");
}
