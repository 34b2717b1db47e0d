/* DPS TPM registration pieces (protocol.md §5): register body with the EK and
 * SRK public parts (built by cp_prov_register_body_tpm()), the 401 challenge
 * reader, base64 import. */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"
#include "certpilot/cp_tpm.h"

_Static_assert(CP_TPM_PUBLIC_B64_MAX == CP_PROV_TPM_KEY_B64_MAX,
               "cp_provisioning.h must size TPM keys like cp_tpm.h");

#define JSON_AUTHENTICATION_KEY "authenticationKey"
#define JSON_KEY_NAME "keyName"

static cp_result public_b64(const cp_tpm *tpm, cp_tpm_key which, char *out)
{
  uint8_t pub[CP_TPM_PUBLIC_MAX];
  size_t len = 0, b64_len = 0;
  cp_result r = cp_tpm_get_public(tpm, which, pub, sizeof pub, &len);

  if (r == CP_OK)
    r = cp_base64_encode(pub, len, out, CP_TPM_PUBLIC_B64_MAX, &b64_len);
  return r;
}

cp_result cp_tpm_register_body(const cp_tpm *tpm, const char *registration_id,
                               const char *csr_b64, const char *payload_json,
                               char *out, size_t out_size, size_t *out_len)
{
  char ek[CP_TPM_PUBLIC_B64_MAX], srk[CP_TPM_PUBLIC_B64_MAX];
  cJSON *payload;
  cp_result r;

  if (tpm == NULL || registration_id == NULL || registration_id[0] == '\0' ||
      out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (payload_json != NULL) {
    payload = cJSON_Parse(payload_json);
    r = cJSON_IsObject(payload) ? CP_OK : CP_ERR_INVALID_ARG;
    cJSON_Delete(payload);
    if (r != CP_OK) {
      cp_log(CP_LOG_ERROR, "tpm: payload is not a JSON object");
      return r;
    }
  }
  r = public_b64(tpm, CP_TPM_KEY_EK, ek);
  if (r == CP_OK)
    r = public_b64(tpm, CP_TPM_KEY_SRK, srk);
  if (r == CP_OK)
    r = cp_prov_register_body_tpm(registration_id, ek, srk, csr_b64, payload_json, out,
                                  out_size, out_len);
  return r;
}

cp_result cp_tpm_challenge_parse(const char *body, size_t body_len,
                                 char *auth_key_b64, size_t auth_key_size,
                                 char key_name[CP_TPM_KEY_NAME_MAX])
{
  cJSON *root;
  const cJSON *ak, *kn;
  const char *name = CP_SAS_KEY_NAME;
  cp_result r = CP_OK;

  if (body == NULL || auth_key_b64 == NULL || key_name == NULL)
    return CP_ERR_INVALID_ARG;
  root = cJSON_ParseWithLength(body, body_len);
  if (!cJSON_IsObject(root)) {
    cJSON_Delete(root);
    cp_log(CP_LOG_ERROR, "tpm: 401 body is not a JSON object");
    return CP_ERR_BAD_RESPONSE;
  }
  ak = cJSON_GetObjectItemCaseSensitive(root, JSON_AUTHENTICATION_KEY);
  kn = cJSON_GetObjectItemCaseSensitive(root, JSON_KEY_NAME);
  if (!cJSON_IsString(ak) || ak->valuestring[0] == '\0') {
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, CP_JSON_MESSAGE);

    cp_log(CP_LOG_ERROR, "tpm: 401 without authenticationKey (refused: %.200s)",
           cJSON_IsString(msg) ? msg->valuestring : "no message");
    r = CP_ERR_BAD_RESPONSE;
  } else if (kn != NULL && (!cJSON_IsString(kn) || kn->valuestring[0] == '\0' ||
                            strlen(kn->valuestring) >= CP_TPM_KEY_NAME_MAX)) {
    cp_log(CP_LOG_ERROR, "tpm: 401 keyName is not a short string");
    r = CP_ERR_BAD_RESPONSE;
  } else {
    if (kn != NULL)
      name = kn->valuestring;
    if (strlen(ak->valuestring) + 1 > auth_key_size) {
      r = CP_ERR_BUFFER_TOO_SMALL;
    } else {
      memcpy(auth_key_b64, ak->valuestring, strlen(ak->valuestring) + 1);
      memcpy(key_name, name, strlen(name) + 1);
    }
  }
  cJSON_Delete(root);
  return r;
}

cp_result cp_tpm_import_identity_b64(const cp_tpm *tpm, const char *auth_key_b64)
{
  uint8_t *blob;
  size_t len = 0;
  cp_result r;

  if (tpm == NULL || auth_key_b64 == NULL)
    return CP_ERR_INVALID_ARG;
  blob = malloc(CP_TPM_AUTH_KEY_MAX);
  if (blob == NULL)
    return CP_ERR_NO_MEMORY;
  r = cp_base64_decode(auth_key_b64, strlen(auth_key_b64), blob, CP_TPM_AUTH_KEY_MAX,
                       &len);
  if (r == CP_ERR_BUFFER_TOO_SMALL)
    r = CP_ERR_PARSE;
  if (r != CP_OK)
    cp_log(CP_LOG_ERROR, "tpm: authenticationKey is not base64 of at most %d bytes",
           CP_TPM_AUTH_KEY_MAX);
  else
    r = cp_tpm_import_identity(tpm, blob, len);
  free(blob);
  return r;
}
