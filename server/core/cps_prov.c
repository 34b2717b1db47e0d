/* Transport-neutral DPS register / operation-status service. */
#include "cps_prov.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>

#include "certpilot/cp_protocol.h"
#include "cps_b64.h"
#include "cps_issue_internal.h"
#include "cps_pki.h"
#include "cps_prov_auth.h"
#include "cps_prov_tpm.h"
#include "cps_prov_util.h"
#include "cps_registry.h"
#include "cps_service_internal.h"

/* api-versions sent by Azure's released device SDKs (protocol.md §13.6), oldest first. */
static const char *const API_VERSIONS[] = {"2017-11-15", "2018-04-01", "2018-09-01-preview",
                                           "2018-11-01", "2019-03-31", "2021-06-01",
                                           "2021-11-01-preview", "2022-02-01-preview",
                                           "2022-12-12", "2023-03-01-preview", "2025-07-01-preview"};

bool cps_prov_api_version_ok(const char *v) {
  if (!v) return false;
  for (size_t i = 0; i < sizeof API_VERSIONS / sizeof API_VERSIONS[0]; i++)
    if (strcmp(v, API_VERSIONS[i]) == 0) return true;
  return false;
}

bool cps_prov_api_version_has_csr(const char *v) {
  return cps_prov_api_version_ok(v) && strcmp(v, CP_DPS_API_VERSION) >= 0;
}

char *cps_prov_error_body(int error_code, const char *message) {
  char tracking[37], ts[40];
  if (cps_uuid(tracking) != CPS_OK) strcpy(tracking, "00000000-0000-0000-0000-000000000000");
  cps_time_iso(time(NULL), ts, sizeof ts);
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddNumberToObject(o, CP_JSON_ERROR_CODE, error_code);
  cJSON_AddStringToObject(o, CP_JSON_TRACKING_ID, tracking);
  cJSON_AddStringToObject(o, CP_JSON_MESSAGE, message);
  cJSON_AddStringToObject(o, CP_JSON_TIMESTAMP_UTC, ts);
  char *s = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  return s;
}

static cps_result set_error(cps_prov_response *resp, int code, const char *message) {
  resp->status = code / 1000;
  resp->body = cps_prov_error_body(code, message);
  char buf[16];
  snprintf(buf, sizeof buf, "%d", code);
  resp->error_code = strdup(buf);
  return (resp->body && resp->error_code) ? CPS_OK : CPS_ERR_NOMEM;
}

void cps_prov_response_free(cps_prov_response *resp) {
  if (!resp) return;
  free(resp->body);
  free(resp->operation_id);
  free(resp->error_code);
  memset(resp, 0, sizeof *resp);
  resp->retry_after = -1;
}

/* Token bucket shared by all devices and all services (threads) of this process. */
static pthread_mutex_t bucket_mu = PTHREAD_MUTEX_INITIALIZER;
static double bucket_tokens = -1;
static double bucket_time;

static int rate_limited(cps_service *svc) {
  if (svc->cfg.rate_limit_per_s <= 0) return 0;
  double now = cps_monotonic();
  int limited = 0;
  pthread_mutex_lock(&bucket_mu);
  if (bucket_tokens < 0) {
    bucket_tokens = svc->cfg.rate_limit_burst;
  } else {
    bucket_tokens += (now - bucket_time) * svc->cfg.rate_limit_per_s;
    if (bucket_tokens > svc->cfg.rate_limit_burst) bucket_tokens = svc->cfg.rate_limit_burst;
  }
  bucket_time = now;
  if (bucket_tokens < 1.0) {
    limited = 1;
  } else {
    bucket_tokens -= 1.0;
  }
  pthread_mutex_unlock(&bucket_mu);
  return limited;
}

/* Common checks of both calls: api-version, id scope, registration id, rate limit. */
static int precheck(cps_service *svc, const cps_prov_request *req, cps_prov_response *resp) {
  if (!cps_prov_api_version_ok(req->api_version)) {
    char msg[160];
    snprintf(msg, sizeof msg, "api-version %.60s is missing or not supported",
             req->api_version ? req->api_version : "(none)");
    set_error(resp, 400001, msg);
    return 0;
  }
  if (!req->id_scope || strcmp(req->id_scope, cps_service_id_scope(svc)) != 0) {
    set_error(resp, 404001, "unknown id scope");
    return 0;
  }
  if (!cps_registration_id_valid(req->registration_id)) {
    set_error(resp, 400004, "registration id is not valid");
    return 0;
  }
  if (rate_limited(svc)) {
    set_error(resp, 429001, "too many requests");
    resp->retry_after = 1;
    return 0;
  }
  return 1;
}

static int auth_error(cps_prov_response *resp, cps_result r, const cps_error *err) {
  if (r == CPS_ERR_NOT_FOUND) return set_error(resp, 404002, err->msg), 0;
  if (r == CPS_ERR_UNAUTHORIZED) return set_error(resp, 401002, err->msg[0] ? err->msg : "unauthorized"), 0;
  return set_error(resp, 500001, "internal error"), 0;
}

/* Create the device on first registration, refresh hub/enrollment later. Sets *disabled. */
static cps_result device_upsert(cps_service *svc, const cps_enrollment *e, const char *regid,
                                int *disabled) {
  cps_device dev;
  cps_result r = cps_device_get(svc, regid, &dev);
  sqlite3_stmt *s = NULL;
  long long now = (long long)time(NULL);
  if (r == CPS_ERR_NOT_FOUND) {
    char rev[CPS_REVOCATION_ID_HEX_LEN + 1];
    if ((r = cps_pki_revocation_id_new(rev)) != CPS_OK) return r;
    if (sqlite3_prepare_v2(cps_service_db(svc),
                           "INSERT INTO device(id, enrollment_id, hub, enabled, revocation_id,"
                           " created, updated) VALUES(?, ?, ?, 1, ?, ?, ?)",
                           -1, &s, NULL) != SQLITE_OK)
      return CPS_ERR_STORE;
    sqlite3_bind_text(s, 1, regid, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 3, e->hub, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 4, rev, -1, SQLITE_TRANSIENT);
    sqlite3_bind_int64(s, 5, now);
    sqlite3_bind_int64(s, 6, now);
    *disabled = 0;
  } else if (r == CPS_OK) {
    *disabled = !dev.enabled;
    if (*disabled) return CPS_OK;
    if (sqlite3_prepare_v2(cps_service_db(svc),
                           "UPDATE device SET enrollment_id=?, hub=?, updated=?, etag=etag+1"
                           " WHERE id=?",
                           -1, &s, NULL) != SQLITE_OK)
      return CPS_ERR_STORE;
    sqlite3_bind_text(s, 1, e->id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, e->hub, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 3, now);
    sqlite3_bind_text(s, 4, regid, -1, SQLITE_STATIC);
  } else {
    return r;
  }
  r = sqlite3_step(s) == SQLITE_DONE ? CPS_OK : CPS_ERR_STORE;
  sqlite3_finalize(s);
  return r;
}

/* registrationState common members. */
static cJSON *reg_state(const cps_enrollment *e, const char *regid, const char *status,
                        const cps_device *dev) {
  cJSON *st = cJSON_CreateObject();
  char created[40], updated[40];
  time_t now = time(NULL);
  cps_time_iso(dev ? (time_t)dev->created : now, created, sizeof created);
  cps_time_iso(dev ? (time_t)dev->updated : now, updated, sizeof updated);
  cJSON_AddStringToObject(st, CP_JSON_REGISTRATION_ID, regid);
  cJSON_AddStringToObject(st, "createdDateTimeUtc", created);
  if (dev) {
    cJSON_AddStringToObject(st, CP_JSON_ASSIGNED_HUB, dev->hub);
    cJSON_AddStringToObject(st, CP_JSON_DEVICE_ID, dev->id);
  }
  cJSON_AddStringToObject(st, CP_JSON_STATUS, status);
  if (dev) {
    cJSON_AddStringToObject(st, CP_JSON_SUBSTATUS, "initialAssignment");
    char etag[32];
    snprintf(etag, sizeof etag, "\"%lld\"", dev->etag);
    cJSON_AddStringToObject(st, "etag", etag);
  }
  cJSON_AddStringToObject(st, "lastUpdatedDateTimeUtc", updated);
  if (e->group) {
    cJSON *att = cJSON_AddObjectToObject(st, e->x509 ? "x509" : "symmetricKey");
    cJSON_AddStringToObject(att, "enrollmentGroupId", e->id);
  }
  return st;
}

static cps_result store_operation(cps_service *svc, const char *opid, const char *regid,
                                  const char *status, const char *json) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "INSERT INTO operation(id, registration_id, status, result, created)"
                         " VALUES(?, ?, ?, ?, ?)",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, opid, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, regid, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, status, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, json, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 5, (long long)time(NULL));
  cps_result r = sqlite3_step(s) == SQLITE_DONE ? CPS_OK : CPS_ERR_STORE;
  sqlite3_finalize(s);
  return r;
}

/* The work behind a 202: device, certificate, operation record. Runs inside a transaction. */
static cps_result do_register(cps_service *svc, const cps_enrollment *e, const char *regid,
                              const unsigned char *csr, size_t csr_len, int has_csr,
                              const char *opid) {
  const char *status = CP_STATUS_ASSIGNED;
  int fail_code = 0;
  cps_error err = {{0}};
  cps_chain chain;
  memset(&chain, 0, sizeof chain);
  cps_device dev;
  int have_dev = 0;
  cps_result r = CPS_OK;
  X509_REQ *req = NULL;

  if (!e->enabled) {
    status = CP_STATUS_DISABLED;
    snprintf(err.msg, sizeof err.msg, "enrollment '%s' is disabled", e->id);
  } else if (has_csr && !csr) {
    status = CP_STATUS_FAILED;
    fail_code = 400037;
    snprintf(err.msg, sizeof err.msg, "csr: not base64 DER");
  } else if (has_csr && cps_pki_csr_check(csr, csr_len, regid, &req, &err) != CPS_OK) {
    status = CP_STATUS_FAILED;
    fail_code = 400037;
  } else {
    int disabled = 0;
    sqlite3_exec(cps_service_db(svc), "SAVEPOINT reg", NULL, NULL, NULL);
    r = device_upsert(svc, e, regid, &disabled);
    if (r != CPS_OK) {
      X509_REQ_free(req);
      return r;
    }
    if (disabled) {
      status = CP_STATUS_DISABLED;
      snprintf(err.msg, sizeof err.msg, "device '%s' is disabled", regid);
    } else if (has_csr) {
      r = cps_issue_checked(svc, regid, req, &chain, &err);
      if (r == CPS_ERR_INVALID) {
        status = CP_STATUS_FAILED;
        fail_code = 400037;
      } else if (r == CPS_ERR_CONFLICT || r == CPS_ERR_NOT_FOUND) {
        status = CP_STATUS_FAILED;
        fail_code = 409001;
      } else if (r != CPS_OK) {
        X509_REQ_free(req);
        return r;
      }
      r = CPS_OK;
    }
    /* A failed issuance leaves the device as it was. */
    if (fail_code) sqlite3_exec(cps_service_db(svc), "ROLLBACK TO reg", NULL, NULL, NULL);
    sqlite3_exec(cps_service_db(svc), "RELEASE reg", NULL, NULL, NULL);
    if (cps_device_get(svc, regid, &dev) == CPS_OK) have_dev = 1;
  }
  X509_REQ_free(req);
  /* A failed registration records only the operation. */
  if (fail_code) {
    cps_chain_free(&chain);
    have_dev = 0;
  }
  cJSON *root = cJSON_CreateObject();
  cJSON_AddStringToObject(root, CP_JSON_OPERATION_ID, opid);
  cJSON_AddStringToObject(root, CP_JSON_STATUS, status);
  cJSON *st = reg_state(e, regid, status, have_dev && !strcmp(status, CP_STATUS_ASSIGNED) ? &dev : NULL);
  cJSON_AddItemToObject(root, CP_JSON_REGISTRATION_STATE, st);
  if (fail_code) cJSON_AddNumberToObject(st, CP_JSON_ERROR_CODE, fail_code);
  if (strcmp(status, CP_STATUS_ASSIGNED) != 0) cJSON_AddStringToObject(st, CP_JSON_ERROR_MESSAGE, err.msg);
  if (chain.count) {
    cJSON *arr = cJSON_AddArrayToObject(st, CP_JSON_ISSUED_CHAIN);
    for (size_t i = 0; i < chain.count; i++) cJSON_AddItemToArray(arr, cJSON_CreateString(chain.b64[i]));
  }
  cps_chain_free(&chain);
  char *json = cJSON_PrintUnformatted(root);
  cJSON_Delete(root);
  if (!json) return CPS_ERR_NOMEM;
  r = store_operation(svc, opid, regid, status, json);
  free(json);
  return r;
}

cps_result cps_prov_register(cps_service *svc, const cps_prov_request *req,
                             cps_prov_response *resp) {
  memset(resp, 0, sizeof *resp);
  resp->retry_after = -1;
  if (!precheck(svc, req, resp)) return resp->body ? CPS_OK : CPS_ERR_NOMEM;
  if (req->body_len > CPS_PROV_MAX_BODY) {
    set_error(resp, 413001, "request body too large");
    return CPS_OK;
  }
  cJSON *body = req->body ? cJSON_ParseWithLength(req->body, req->body_len) : NULL;
  const cJSON *rid = cJSON_GetObjectItemCaseSensitive(body, CP_JSON_REGISTRATION_ID);
  const cJSON *csrj = cJSON_GetObjectItemCaseSensitive(body, CP_JSON_CSR);
  if (!cJSON_IsObject(body)) {
    cJSON_Delete(body);
    set_error(resp, 400004, "body is not a JSON object");
    return CPS_OK;
  }
  if (!cJSON_IsString(rid) || strcasecmp(rid->valuestring, req->registration_id) != 0) {
    cJSON_Delete(body);
    set_error(resp, 400004, "registrationId in the body must equal the one in the path");
    return CPS_OK;
  }
  if (csrj && !cJSON_IsString(csrj) && !cJSON_IsNull(csrj)) {
    cJSON_Delete(body);
    set_error(resp, 400004, "csr must be a base64 string");
    return CPS_OK;
  }
  /* TPM attestation, first leg: answer the 401 challenge (cps_prov_tpm.h). */
  if (cps_prov_tpm_wants_challenge(req, body)) {
    cps_result tr = cps_prov_tpm_challenge(
        svc, req, cJSON_GetObjectItemCaseSensitive(body, CP_JSON_TPM), resp);
    cJSON_Delete(body);
    return tr;
  }
  int has_csr = cJSON_IsString(csrj) && cps_prov_api_version_has_csr(req->api_version);
  unsigned char *csr = NULL;
  size_t csr_len = 0;
  if (has_csr && cps_b64_decode(csrj->valuestring, strlen(csrj->valuestring), &csr, &csr_len) != CPS_OK)
    csr = NULL;
  cJSON_Delete(body);

  cps_error err = {{0}};
  cps_enrollment enr;
  cps_result r = cps_prov_authenticate(svc, req, &enr, &err);
  if (r != CPS_OK) {
    free(csr);
    auth_error(resp, r, &err);
    return resp->body ? CPS_OK : CPS_ERR_NOMEM;
  }
  char opid[40] = "4.";
  cps_store *st = cps_service_store(svc);
  r = cps_random_hex(opid + 2, 32);
  if (r == CPS_OK) r = cps_store_begin(st);
  if (r == CPS_OK) {
    r = do_register(svc, &enr, req->registration_id, csr, csr_len, has_csr, opid);
    if (r == CPS_OK) {
      r = cps_store_commit(st);
    } else {
      cps_store_rollback(st);
    }
  }
  free(csr);
  cps_enrollment_clear(&enr);
  if (r != CPS_OK) {
    set_error(resp, 500001, "internal error");
    return resp->body ? CPS_OK : CPS_ERR_NOMEM;
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, CP_JSON_OPERATION_ID, opid);
  cJSON_AddStringToObject(o, CP_JSON_STATUS, CP_STATUS_ASSIGNING);
  resp->body = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  resp->status = 202;
  resp->retry_after = svc->cfg.retry_after_s;
  resp->operation_id = strdup(opid);
  return (resp->body && resp->operation_id) ? CPS_OK : CPS_ERR_NOMEM;
}

cps_result cps_prov_operation_status(cps_service *svc, const cps_prov_request *req,
                                     cps_prov_response *resp) {
  memset(resp, 0, sizeof *resp);
  resp->retry_after = -1;
  if (!precheck(svc, req, resp)) return resp->body ? CPS_OK : CPS_ERR_NOMEM;
  if (req->body_len > 0 && req->body) {
    /* §2: a csr in a status lookup is a 400. */
    cJSON *b = cJSON_ParseWithLength(req->body, req->body_len);
    int bad = cJSON_GetObjectItemCaseSensitive(b, CP_JSON_CSR) != NULL;
    cJSON_Delete(b);
    if (bad) {
      set_error(resp, 400004, "csr is not allowed in an operation status request");
      return CPS_OK;
    }
  }
  cps_error err = {{0}};
  cps_enrollment enr;
  cps_result r = cps_prov_authenticate(svc, req, &enr, &err);
  if (r != CPS_OK) {
    auth_error(resp, r, &err);
    return resp->body ? CPS_OK : CPS_ERR_NOMEM;
  }
  cps_enrollment_clear(&enr);
  sqlite3_stmt *s = NULL;
  if (!req->operation_id ||
      sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT result FROM operation WHERE id=? AND registration_id=?", -1, &s,
                         NULL) != SQLITE_OK) {
    set_error(resp, req->operation_id ? 500001 : 404003, "unknown operation");
    return CPS_OK;
  }
  sqlite3_bind_text(s, 1, req->operation_id, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, req->registration_id, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW) {
    resp->status = 200;
    resp->body = strdup((const char *)sqlite3_column_text(s, 0));
  } else {
    set_error(resp, 404003, "unknown operation id for this registration");
  }
  sqlite3_finalize(s);
  return resp->body ? CPS_OK : CPS_ERR_NOMEM;
}
