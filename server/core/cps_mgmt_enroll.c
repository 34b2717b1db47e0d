/* Management of enrollments and devices (revoke, disable, enable). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/x509v3.h>

#include "cps_b64.h"
#include "cps_mgmt_internal.h"
#include "cps_pki.h"
#include "cps_prov_tpm.h"
#include "cps_prov_util.h"
#include "cps_registry.h"

static int can_see_secrets(const mgmt_req *rq) { return rq->who && rq->who->role == CPS_ROLE_CONTRIBUTOR; }

static cJSON *enrollment_json(const mgmt_req *rq, const cps_enrollment *e) {
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "id", e->id);
  cJSON_AddStringToObject(o, "kind", e->group ? "group" : "individual");
  /* TPM (cps_prov_tpm.h): its key is the TPM's identity key, never shown. */
  int tpm = !e->group && cps_prov_tpm_is_enrollment(rq->svc, e->id);
  cJSON_AddStringToObject(o, "attestation", tpm ? "tpm" : e->x509 ? "x509" : "symmetricKey");
  if (!e->group) cJSON_AddStringToObject(o, "registrationId", e->registration_id);
  if (!e->x509 && !tpm && can_see_secrets(rq)) {
    cJSON_AddStringToObject(o, "primaryKey", e->primary_key);
    if (e->secondary_key[0]) cJSON_AddStringToObject(o, "secondaryKey", e->secondary_key);
  }
  if (e->x509 && e->x509_der) {
    X509 *c = NULL;
    char *pem = NULL;
    if (cps_pki_cert_from_der(e->x509_der, e->x509_len, &c) == CPS_OK &&
        cps_pki_cert_to_pem(c, &pem) == CPS_OK)
      cJSON_AddStringToObject(o, "certificate", pem);
    free(pem);
    X509_free(c);
  }
  cJSON_AddStringToObject(o, "policy", e->policy);
  cJSON_AddStringToObject(o, "hub", e->hub);
  cJSON_AddBoolToObject(o, "enabled", e->enabled);
  return o;
}

/* A symmetric key: given (base64 of 16..64 bytes) or generated (64 bytes). */
static int key_param(const cJSON *j, char *out, size_t size, int generate, const char **why) {
  if (!j) {
    if (!generate) {
      out[0] = '\0';
      return 1;
    }
    unsigned char raw[64];
    char *b64 = NULL;
    if (cps_pki_random(raw, sizeof raw) != CPS_OK || cps_b64_encode(raw, sizeof raw, &b64) != CPS_OK)
      return *why = "cannot generate a key", 0;
    snprintf(out, size, "%s", b64);
    free(b64);
    return 1;
  }
  unsigned char *raw = NULL;
  size_t n = 0;
  if (!cJSON_IsString(j) || strlen(j->valuestring) >= size ||
      cps_b64_decode(j->valuestring, strlen(j->valuestring), &raw, &n) != CPS_OK)
    return *why = "keys must be base64", 0;
  free(raw);
  if (n < 16 || n > 64) return *why = "keys must decode to 16-64 bytes", 0;
  snprintf(out, size, "%s", j->valuestring);
  return 1;
}

static void enrollment_create(mgmt_req *rq, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  const cJSON *j = rq->json;
  if (!cJSON_IsObject(j)) return mgmt_error(resp, 400, "body must be a JSON object");
  const cJSON *id = cJSON_GetObjectItemCaseSensitive(j, "id");
  const cJSON *kind = cJSON_GetObjectItemCaseSensitive(j, "kind");
  const cJSON *att = cJSON_GetObjectItemCaseSensitive(j, "attestation");
  const cJSON *regid = cJSON_GetObjectItemCaseSensitive(j, "registrationId");
  const cJSON *policy = cJSON_GetObjectItemCaseSensitive(j, "policy");
  const cJSON *hub = cJSON_GetObjectItemCaseSensitive(j, "hub");
  const cJSON *cert = cJSON_GetObjectItemCaseSensitive(j, "certificate");
  const cJSON *enabled = cJSON_GetObjectItemCaseSensitive(j, "enabled");
  cps_enrollment e;
  memset(&e, 0, sizeof e);
  if (!cJSON_IsString(id) || !cps_registration_id_valid(id->valuestring))
    return mgmt_error(resp, 400, "id must be 1-128 of [A-Za-z0-9-._:] ending alphanumeric or '-'");
  snprintf(e.id, sizeof e.id, "%s", id->valuestring);
  if (!cJSON_IsString(kind) || (strcmp(kind->valuestring, "individual") && strcmp(kind->valuestring, "group")))
    return mgmt_error(resp, 400, "kind must be \"individual\" or \"group\"");
  e.group = !strcmp(kind->valuestring, "group");
  if (!cJSON_IsString(att) || (strcmp(att->valuestring, "symmetricKey") &&
                              strcmp(att->valuestring, "x509") && strcmp(att->valuestring, "tpm")))
    return mgmt_error(resp, 400, "attestation must be \"symmetricKey\", \"x509\" or \"tpm\"");
  e.x509 = !strcmp(att->valuestring, "x509");
  /* TPM: an individual symmetric row keyed by the EK (cps_prov_tpm.h). */
  const cJSON *ek = cJSON_GetObjectItemCaseSensitive(j, "endorsementKey");
  int tpm = !strcmp(att->valuestring, "tpm");
  if (tpm && (e.group || !cJSON_IsString(ek)))
    return mgmt_error(resp, 400, "tpm attestation needs an individual enrollment with an "
                                 "endorsementKey (base64 TPM2B_PUBLIC)");
  if (!tpm && ek) return mgmt_error(resp, 400, "endorsementKey is only for tpm attestation");
  if (tpm && (cJSON_GetObjectItemCaseSensitive(j, "primaryKey") ||
              cJSON_GetObjectItemCaseSensitive(j, "secondaryKey")))
    return mgmt_error(resp, 400, "a tpm enrollment takes no keys");
  if (!e.group) {
    if (regid && (!cJSON_IsString(regid) || !cps_registration_id_valid(regid->valuestring)))
      return mgmt_error(resp, 400, "registrationId is not valid");
    snprintf(e.registration_id, sizeof e.registration_id, "%s", regid ? regid->valuestring : e.id);
  } else if (regid) {
    return mgmt_error(resp, 400, "registrationId is only for individual enrollments");
  }
  if (!cJSON_IsString(policy) || !mgmt_name_ok(policy->valuestring))
    return mgmt_error(resp, 400, "policy must name a policy");
  snprintf(e.policy, sizeof e.policy, "%s", policy->valuestring);
  if (!cJSON_IsString(hub) || !hub->valuestring[0] || strlen(hub->valuestring) >= sizeof e.hub)
    return mgmt_error(resp, 400, "hub must be a non-empty hub name");
  snprintf(e.hub, sizeof e.hub, "%s", hub->valuestring);
  if (enabled && !cJSON_IsBool(enabled)) return mgmt_error(resp, 400, "enabled must be a boolean");
  e.enabled = !enabled || cJSON_IsTrue(enabled);
  const char *why = NULL;
  if (!e.x509) {
    if (cert) return mgmt_error(resp, 400, "certificate is only for x509 attestation");
    if (!key_param(cJSON_GetObjectItemCaseSensitive(j, "primaryKey"), e.primary_key, sizeof e.primary_key, 1, &why) ||
        !key_param(cJSON_GetObjectItemCaseSensitive(j, "secondaryKey"), e.secondary_key, sizeof e.secondary_key, 0, &why))
      return mgmt_error(resp, 400, "%s", why);
  } else {
    STACK_OF(X509) *sk = NULL;
    if (!cJSON_IsString(cert) ||
        cps_pki_certs_from_pem(cert->valuestring, strlen(cert->valuestring), &sk) != CPS_OK)
      return mgmt_error(resp, 400, "certificate must be a PEM certificate");
    X509 *c = sk_X509_value(sk, 0);
    cps_result r = cps_pki_cert_to_der(c, &e.x509_der, &e.x509_len);
    int is_ca = X509_check_ca(c) >= 1;
    sk_X509_pop_free(sk, X509_free);
    if (r != CPS_OK) return mgmt_fail(resp, r, "certificate unusable");
    if (e.group && !is_ca) {
      cps_enrollment_clear(&e);
      return mgmt_error(resp, 400, "a group x509 enrollment needs a CA certificate");
    }
  }
  cps_ica ica;
  cps_error err = {{0}};
  cps_result r = cps_ica_load_active(svc, e.policy, &ica, &err);
  if (r == CPS_OK) cps_ica_clear(&ica);
  if (r == CPS_ERR_NOT_FOUND || (r == CPS_ERR_CONFLICT && strstr(err.msg, "deleted"))) {
    cps_enrollment_clear(&e);
    return mgmt_error(resp, 400, "policy '%s' does not exist", e.policy);
  }
  sqlite3_stmt *s = NULL;
  if (tpm && cps_store_begin(cps_service_store(svc)) != CPS_OK) {
    cps_enrollment_clear(&e);
    return mgmt_fail(resp, CPS_ERR_STORE, "store error");
  }
  r = CPS_ERR_STORE;
  int rc = SQLITE_ERROR;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "INSERT INTO enrollment(id, grp, x509, registration_id, primary_key,"
                         " secondary_key, x509_cert, policy, hub, enabled, created)"
                         " VALUES(?,?,?,?,?,?,?,?,?,?,?)",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, e.id, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 2, e.group);
    sqlite3_bind_int(s, 3, e.x509);
    if (e.group) sqlite3_bind_null(s, 4);
    else sqlite3_bind_text(s, 4, e.registration_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 5, e.primary_key, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 6, e.secondary_key, -1, SQLITE_STATIC);
    if (e.x509_der) sqlite3_bind_blob(s, 7, e.x509_der, (int)e.x509_len, SQLITE_STATIC);
    else sqlite3_bind_null(s, 7);
    sqlite3_bind_text(s, 8, e.policy, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 9, e.hub, -1, SQLITE_STATIC);
    sqlite3_bind_int(s, 10, e.enabled);
    sqlite3_bind_int64(s, 11, (long long)time(NULL));
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) r = CPS_OK;
  }
  sqlite3_finalize(s);
  if (tpm) {
    if (r == CPS_OK) r = cps_prov_tpm_enroll(svc, e.id, ek->valuestring, &err);
    if (r == CPS_OK) r = cps_store_commit(cps_service_store(svc));
    else cps_store_rollback(cps_service_store(svc));
  }
  if (tpm && rc == SQLITE_DONE && r != CPS_OK && r != CPS_ERR_STORE) {
    mgmt_error(resp, r == CPS_ERR_CONFLICT ? 409 : 400, "%s", err.msg);
  } else if (rc == SQLITE_CONSTRAINT) {
    mgmt_error(resp, 409, "enrollment '%s' exists", e.id);
  } else if (r != CPS_OK) {
    mgmt_fail(resp, r, "cannot store the enrollment");
  } else {
    mgmt_json(resp, 201, enrollment_json(rq, &e));
  }
  cps_enrollment_clear(&e);
}

void mgmt_enrollment(mgmt_req *rq, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  const char *m = rq->method;
  if (rq->nseg == 1) {
    if (!strcmp(m, "POST")) return enrollment_create(rq, resp);
    if (strcmp(m, "GET") != 0) return mgmt_error(resp, 405, "method not allowed");
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT id FROM enrollment ORDER BY id", -1, &s, NULL) ==
        SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        cps_enrollment e;
        if (cps_enrollment_get(svc, (const char *)sqlite3_column_text(s, 0), &e) == CPS_OK) {
          cJSON_AddItemToArray(arr, enrollment_json(rq, &e));
          cps_enrollment_clear(&e);
        }
      }
    }
    sqlite3_finalize(s);
    return mgmt_json(resp, 200, arr);
  }
  cps_enrollment e;
  cps_result r = cps_enrollment_get(svc, rq->seg[1], &e);
  if (r == CPS_ERR_NOT_FOUND) return mgmt_error(resp, 404, "enrollment '%s' does not exist", rq->seg[1]);
  if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
  if (rq->nseg == 2 && !strcmp(m, "GET")) {
    mgmt_json(resp, 200, enrollment_json(rq, &e));
  } else if (rq->nseg == 2 && !strcmp(m, "DELETE")) {
    r = mgmt_exec(svc, "DELETE FROM enrollment WHERE id=?", e.id, NULL);
    if (r == CPS_OK) mgmt_raw(resp, 204, "application/json", NULL, 0);
    else mgmt_fail(resp, r, "store error");
  } else if (rq->nseg == 3 && !strcmp(m, "POST") &&
             (!strcmp(rq->seg[2], "disable") || !strcmp(rq->seg[2], "enable"))) {
    r = mgmt_exec(svc, "UPDATE enrollment SET enabled=? WHERE id=?",
                  !strcmp(rq->seg[2], "enable") ? "1" : "0", e.id, NULL);
    cps_enrollment_clear(&e);
    if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
    r = cps_enrollment_get(svc, rq->seg[1], &e);
    if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
    mgmt_json(resp, 200, enrollment_json(rq, &e));
  } else {
    mgmt_error(resp, 404, "no such resource");
  }
  cps_enrollment_clear(&e);
}

static cJSON *device_json(cps_service *svc, const cps_device *d) {
  cJSON *o = cJSON_CreateObject();
  char c[40], u[40];
  cps_time_iso((time_t)d->created, c, sizeof c);
  cps_time_iso((time_t)d->updated, u, sizeof u);
  cJSON_AddStringToObject(o, "deviceId", d->id);
  cJSON_AddStringToObject(o, "enrollmentId", d->enrollment_id);
  cJSON_AddStringToObject(o, "hub", d->hub);
  cJSON_AddBoolToObject(o, "enabled", d->enabled);
  cJSON_AddStringToObject(o, "revocationId", d->revocation_id);
  cJSON_AddStringToObject(o, "createdDateTimeUtc", c);
  cJSON_AddStringToObject(o, "lastUpdatedDateTimeUtc", u);
  cJSON_AddNumberToObject(o, "etag", (double)d->etag);
  cJSON *arr = cJSON_AddArrayToObject(o, "certificates");
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT serial, ica_id, not_before, not_after, revoked FROM issued"
                         " WHERE device_id=? ORDER BY not_before, serial",
                         -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, d->id, -1, SQLITE_STATIC);
    while (sqlite3_step(s) == SQLITE_ROW) {
      cJSON *i = cJSON_CreateObject();
      char nb[40], na[40];
      cps_time_iso((time_t)sqlite3_column_int64(s, 2), nb, sizeof nb);
      cps_time_iso((time_t)sqlite3_column_int64(s, 3), na, sizeof na);
      cJSON_AddStringToObject(i, "serial", (const char *)sqlite3_column_text(s, 0));
      cJSON_AddNumberToObject(i, "issuingCA", (double)sqlite3_column_int64(s, 1));
      cJSON_AddStringToObject(i, "notBefore", nb);
      cJSON_AddStringToObject(i, "notAfter", na);
      cJSON_AddBoolToObject(i, "revoked", sqlite3_column_int(s, 4));
      cJSON_AddItemToArray(arr, i);
    }
  }
  sqlite3_finalize(s);
  return o;
}

void mgmt_device(mgmt_req *rq, cps_mgmt_response *resp) {
  cps_service *svc = rq->svc;
  const char *m = rq->method;
  if (rq->nseg == 1) {
    if (strcmp(m, "GET") != 0) return mgmt_error(resp, 405, "method not allowed");
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT id FROM device ORDER BY id", -1, &s, NULL) ==
        SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        cps_device d;
        if (cps_device_get(svc, (const char *)sqlite3_column_text(s, 0), &d) == CPS_OK)
          cJSON_AddItemToArray(arr, device_json(svc, &d));
      }
    }
    sqlite3_finalize(s);
    return mgmt_json(resp, 200, arr);
  }
  cps_device d;
  cps_result r = cps_device_get(svc, rq->seg[1], &d);
  if (r == CPS_ERR_NOT_FOUND) return mgmt_error(resp, 404, "device '%s' does not exist", rq->seg[1]);
  if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
  if (rq->nseg == 2) {
    if (!strcmp(m, "GET")) return mgmt_json(resp, 200, device_json(svc, &d));
    return mgmt_error(resp, 405, "method not allowed");
  }
  if (rq->nseg != 3 || strcmp(m, "POST") != 0) return mgmt_error(resp, 404, "no such resource");
  const char *action = rq->seg[2];
  char now[32];
  snprintf(now, sizeof now, "%lld", (long long)time(NULL));
  if (!strcmp(action, "revoke")) {
    char rev[CPS_REVOCATION_ID_HEX_LEN + 1];
    if ((r = cps_pki_revocation_id_new(rev)) != CPS_OK) return mgmt_fail(resp, r, "random failed");
    cps_store_begin(svc->store);
    r = mgmt_exec(svc, "UPDATE device SET revocation_id=?, updated=?, etag=etag+1 WHERE id=?", rev,
                  now, d.id, NULL);
    if (r == CPS_OK)
      r = mgmt_exec(svc, "UPDATE ica SET crl_number=crl_number+1 WHERE id IN (SELECT ica_id FROM"
                         " issued WHERE device_id=? AND revoked=0)", d.id, NULL);
    if (r == CPS_OK)
      r = mgmt_exec(svc, "UPDATE issued SET revoked=1, revoked_at=? WHERE device_id=? AND revoked=0",
                    now, d.id, NULL);
    if (r == CPS_OK) r = cps_store_commit(svc->store);
    else cps_store_rollback(svc->store);
  } else if (!strcmp(action, "disable") || !strcmp(action, "enable")) {
    r = mgmt_exec(svc, "UPDATE device SET enabled=?, updated=?, etag=etag+1 WHERE id=?",
                  !strcmp(action, "enable") ? "1" : "0", now, d.id, NULL);
  } else {
    return mgmt_error(resp, 404, "no such resource");
  }
  if (r != CPS_OK) return mgmt_fail(resp, r, "store error");
  cps_device_get(svc, d.id, &d);
  mgmt_json(resp, 200, device_json(svc, &d));
}
