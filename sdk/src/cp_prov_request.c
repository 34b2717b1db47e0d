/* The DPS register body {"registrationId","tpm","csr","payload"} (protocol.md §1–§3, §5). */
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

#include <string.h>

#include "cp_json_util.h"

#define JSON_ENDORSEMENT_KEY "endorsementKey"
#define JSON_STORAGE_ROOT_KEY "storageRootKey"

static bool tpm_key_ok(const char *b64)
{
  return b64 != NULL && b64[0] != '\0' && strlen(b64) < CP_PROV_TPM_KEY_B64_MAX;
}

/* Members in the order the DPS SDKs send them: registrationId, tpm, csr, payload.
 * ek/srk both NULL: no "tpm" member. */
static cp_result build(const char *registration_id, const char *ek, const char *srk,
                       const char *csr_b64, const char *payload_json, char *out,
                       size_t out_size, size_t *out_len)
{
  cJSON *root, *tpm, *payload = NULL;
  cp_result r;

  if (registration_id == NULL || registration_id[0] == '\0' || out == NULL ||
      out_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (payload_json != NULL) {
    payload = cJSON_ParseWithLength(payload_json, strlen(payload_json));
    if (payload == NULL || !cJSON_IsObject(payload)) {
      cJSON_Delete(payload);
      return CP_ERR_INVALID_ARG;
    }
  }
  root = cJSON_CreateObject();
  r = root != NULL && cJSON_AddStringToObject(root, CP_JSON_REGISTRATION_ID,
                                              registration_id) != NULL
          ? CP_OK
          : CP_ERR_NO_MEMORY;
  if (r == CP_OK && ek != NULL) {
    tpm = cJSON_AddObjectToObject(root, CP_JSON_TPM);
    if (tpm == NULL || cJSON_AddStringToObject(tpm, JSON_ENDORSEMENT_KEY, ek) == NULL ||
        cJSON_AddStringToObject(tpm, JSON_STORAGE_ROOT_KEY, srk) == NULL)
      r = CP_ERR_NO_MEMORY;
  }
  if (r == CP_OK && csr_b64 != NULL &&
      cJSON_AddStringToObject(root, CP_JSON_CSR, csr_b64) == NULL)
    r = CP_ERR_NO_MEMORY;
  if (r == CP_OK && payload != NULL) {
    if (cJSON_AddItemToObject(root, CP_JSON_PAYLOAD, payload))
      payload = NULL; /* owned by root now */
    else
      r = CP_ERR_NO_MEMORY;
  }
  if (r == CP_OK)
    r = cp_json_print(root, out, out_size, out_len);
  cJSON_Delete(payload);
  cJSON_Delete(root);
  return r;
}

cp_result cp_prov_register_body(const char *registration_id, const char *csr_b64,
                                const char *payload_json, char *out, size_t out_size,
                                size_t *out_len)
{
  return build(registration_id, NULL, NULL, csr_b64, payload_json, out, out_size, out_len);
}

cp_result cp_prov_register_body_tpm(const char *registration_id,
                                    const char *endorsement_key_b64,
                                    const char *storage_root_key_b64, const char *csr_b64,
                                    const char *payload_json, char *out, size_t out_size,
                                    size_t *out_len)
{
  if (!tpm_key_ok(endorsement_key_b64) || !tpm_key_ok(storage_root_key_b64))
    return CP_ERR_INVALID_ARG;
  return build(registration_id, endorsement_key_b64, storage_root_key_b64, csr_b64,
               payload_json, out, out_size, out_len);
}
