/* TPM attestation glue for the provisioning service (see cps_prov_tpm.h). */
#include "cps_prov_tpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>

#include "certpilot/cp_protocol.h"
#include "cps_b64.h"
#include "cps_registry.h"
#include "cps_service_internal.h"

#define TPM_ENDORSEMENT_KEY "endorsementKey"
#define TPM_STORAGE_ROOT_KEY "storageRootKey"

bool cps_prov_tpm_wants_challenge(const cps_prov_request *req, const cJSON *body)
{
  return req->authorization == NULL &&
         cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(body, CP_JSON_TPM));
}

#if CPS_WITH_TPM
#include "cps_tpm.h"

static cps_result ensure_table(cps_service *svc)
{
  return sqlite3_exec(cps_service_db(svc),
                      "CREATE TABLE IF NOT EXISTS tpm_enrollment(ek_id TEXT PRIMARY KEY,"
                      " enrollment_id TEXT NOT NULL UNIQUE COLLATE NOCASE, ek_pub BLOB NOT NULL,"
                      " created INTEGER NOT NULL DEFAULT (strftime('%s','now')))",
                      NULL, NULL, NULL) == SQLITE_OK
             ? CPS_OK
             : CPS_ERR_STORE;
}

/* Decode a base64 key and compute its EK id. */
static cps_result decode_key(const char *b64, const char *what, unsigned char **raw,
                             size_t *len, char ek_id[CPS_TPM_EK_ID_LEN], cps_error *err)
{
  cps_tpm_error terr = {{0}};

  *raw = NULL;
  if (b64 == NULL || cps_b64_decode(b64, strlen(b64), raw, len) != CPS_OK || *len == 0) {
    free(*raw);
    *raw = NULL;
    return cps_fail(err, CPS_ERR_INVALID, "tpm: %s is not base64", what);
  }
  if (cps_tpm_public_check(*raw, *len, ek_id, &terr) != CPS_TPM_OK) {
    free(*raw);
    *raw = NULL;
    return cps_fail(err, CPS_ERR_INVALID, "%s (%s)", terr.msg, what);
  }
  return CPS_OK;
}

cps_result cps_prov_tpm_enroll(cps_service *svc, const char *enrollment_id,
                               const char *ek_b64, cps_error *err)
{
  char ek_id[CPS_TPM_EK_ID_LEN];
  unsigned char *ek = NULL;
  size_t ek_len = 0;
  sqlite3_stmt *s = NULL;
  cps_result r = decode_key(ek_b64, TPM_ENDORSEMENT_KEY, &ek, &ek_len, ek_id, err);
  int rc;

  if (r == CPS_OK)
    r = ensure_table(svc);
  /* rows of deleted enrollments do not keep their EK enrolled */
  if (r == CPS_OK &&
      sqlite3_exec(cps_service_db(svc),
                   "DELETE FROM tpm_enrollment WHERE enrollment_id NOT IN"
                   " (SELECT id FROM enrollment)",
                   NULL, NULL, NULL) != SQLITE_OK)
    r = CPS_ERR_STORE;
  if (r == CPS_OK &&
      sqlite3_prepare_v2(cps_service_db(svc),
                         "INSERT INTO tpm_enrollment(ek_id, enrollment_id, ek_pub) VALUES(?,?,?)",
                         -1, &s, NULL) != SQLITE_OK)
    r = CPS_ERR_STORE;
  if (r == CPS_OK) {
    sqlite3_bind_text(s, 1, ek_id, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, enrollment_id, -1, SQLITE_STATIC);
    sqlite3_bind_blob(s, 3, ek, (int)ek_len, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_CONSTRAINT)
      r = cps_fail(err, CPS_ERR_CONFLICT, "tpm: this endorsement key is already enrolled");
    else if (rc != SQLITE_DONE)
      r = CPS_ERR_STORE;
  }
  sqlite3_finalize(s);
  free(ek);
  return r;
}

bool cps_prov_tpm_is_enrollment(cps_service *svc, const char *enrollment_id)
{
  sqlite3_stmt *s = NULL;
  bool found = false;

  if (ensure_table(svc) != CPS_OK ||
      sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT 1 FROM tpm_enrollment WHERE enrollment_id=?", -1, &s,
                         NULL) != SQLITE_OK)
    return false;
  sqlite3_bind_text(s, 1, enrollment_id, -1, SQLITE_STATIC);
  found = sqlite3_step(s) == SQLITE_ROW;
  sqlite3_finalize(s);
  return found;
}

static cps_result reply_error(cps_prov_response *resp, int code, const char *msg)
{
  char buf[16];

  resp->status = code / 1000;
  resp->body = cps_prov_error_body(code, msg);
  snprintf(buf, sizeof buf, "%d", code);
  resp->error_code = strdup(buf);
  return resp->body != NULL && resp->error_code != NULL ? CPS_OK : CPS_ERR_NOMEM;
}

/* The enrollment for this EK, if it is the one for this registration id. */
static cps_result find_enrollment(cps_service *svc, const char *ek_id, const char *regid,
                                  cps_enrollment *out)
{
  sqlite3_stmt *s = NULL;
  char enr_id[129] = "";
  cps_result r;

  if (ensure_table(svc) != CPS_OK ||
      sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT enrollment_id FROM tpm_enrollment WHERE ek_id=?", -1, &s,
                         NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, ek_id, -1, SQLITE_STATIC);
  if (sqlite3_step(s) == SQLITE_ROW)
    snprintf(enr_id, sizeof enr_id, "%s", (const char *)sqlite3_column_text(s, 0));
  sqlite3_finalize(s);
  if (enr_id[0] == '\0')
    return CPS_ERR_NOT_FOUND;
  r = cps_enrollment_get(svc, enr_id, out);
  if (r == CPS_OK && (out->group || strcasecmp(out->registration_id, regid) != 0)) {
    cps_enrollment_clear(out);
    r = CPS_ERR_NOT_FOUND;
  }
  return r;
}

static cps_result set_identity_key(cps_service *svc, const char *enrollment_id,
                                   const unsigned char *key, size_t len)
{
  char *b64 = NULL;
  sqlite3_stmt *s = NULL;
  cps_result r = cps_b64_encode(key, len, &b64);

  if (r == CPS_OK &&
      sqlite3_prepare_v2(cps_service_db(svc),
                         "UPDATE enrollment SET primary_key=?, secondary_key='' WHERE id=?",
                         -1, &s, NULL) != SQLITE_OK)
    r = CPS_ERR_STORE;
  if (r == CPS_OK) {
    sqlite3_bind_text(s, 1, b64, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, enrollment_id, -1, SQLITE_STATIC);
    r = sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(cps_service_db(svc)) == 1
            ? CPS_OK
            : CPS_ERR_STORE;
  }
  sqlite3_finalize(s);
  if (b64 != NULL) {
    OPENSSL_cleanse(b64, strlen(b64));
    free(b64);
  }
  return r;
}

cps_result cps_prov_tpm_challenge(cps_service *svc, const cps_prov_request *req,
                                  const cJSON *tpm, cps_prov_response *resp)
{
  const cJSON *ekj = cJSON_GetObjectItemCaseSensitive(tpm, TPM_ENDORSEMENT_KEY);
  const cJSON *srkj = cJSON_GetObjectItemCaseSensitive(tpm, TPM_STORAGE_ROOT_KEY);
  char ek_id[CPS_TPM_EK_ID_LEN], srk_id[CPS_TPM_EK_ID_LEN];
  unsigned char *ek = NULL, *srk = NULL;
  size_t ek_len = 0, srk_len = 0;
  cps_error err = {{0}};
  cps_enrollment enr;
  cps_tpm_challenge ch;
  cps_tpm_error terr = {{0}};
  cps_result r;

  memset(&ch, 0, sizeof ch);
  r = decode_key(cJSON_IsString(ekj) ? ekj->valuestring : NULL, TPM_ENDORSEMENT_KEY, &ek,
                 &ek_len, ek_id, &err);
  if (r == CPS_OK)
    r = decode_key(cJSON_IsString(srkj) ? srkj->valuestring : NULL, TPM_STORAGE_ROOT_KEY,
                   &srk, &srk_len, srk_id, &err);
  if (r != CPS_OK) {
    free(ek);
    return reply_error(resp, 400004, err.msg);
  }
  r = find_enrollment(svc, ek_id, req->registration_id, &enr);
  if (r == CPS_ERR_NOT_FOUND) {
    free(ek);
    free(srk);
    return reply_error(resp, 401002,
                       "tpm: endorsement key is not enrolled for this registration id");
  }
  if (r == CPS_OK && cps_tpm_challenge_build(ek, ek_len, srk, srk_len, &ch, &terr) != CPS_TPM_OK) {
    cps_enrollment_clear(&enr);
    free(ek);
    free(srk);
    return reply_error(resp, 400004, terr.msg);
  }
  free(ek);
  free(srk);
  if (r == CPS_OK) {
    r = set_identity_key(svc, enr.id, ch.identity_key, sizeof ch.identity_key);
    cps_enrollment_clear(&enr);
  }
  if (r != CPS_OK) {
    cps_tpm_challenge_free(&ch);
    return reply_error(resp, 500001, "internal error");
  }
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, CP_JSON_MESSAGE, "TPM challenge: activate the authenticationKey");
  cJSON_AddStringToObject(o, "authenticationKey", ch.blob_b64);
  cJSON_AddStringToObject(o, "keyName", CP_SAS_KEY_NAME);
  resp->body = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  cps_tpm_challenge_free(&ch);
  resp->status = 401;
  return resp->body != NULL ? CPS_OK : CPS_ERR_NOMEM;
}

#else /* !CPS_WITH_TPM */

cps_result cps_prov_tpm_challenge(cps_service *svc, const cps_prov_request *req,
                                  const cJSON *tpm, cps_prov_response *resp)
{
  (void)svc;
  (void)req;
  (void)tpm;
  resp->status = 400;
  resp->body = cps_prov_error_body(400004, "TPM attestation is not built into this server");
  resp->error_code = strdup("400004");
  return resp->body != NULL && resp->error_code != NULL ? CPS_OK : CPS_ERR_NOMEM;
}

cps_result cps_prov_tpm_enroll(cps_service *svc, const char *enrollment_id,
                               const char *ek_b64, cps_error *err)
{
  (void)svc;
  (void)enrollment_id;
  (void)ek_b64;
  return cps_fail(err, CPS_ERR_INVALID, "TPM attestation is not built into this server");
}

bool cps_prov_tpm_is_enrollment(cps_service *svc, const char *enrollment_id)
{
  (void)svc;
  (void)enrollment_id;
  return false;
}

#endif
