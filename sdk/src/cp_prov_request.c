/* The DPS register body {"registrationId","csr","payload"} (protocol.md §1–§3). */
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

#include <string.h>

#include "cp_json_util.h"

cp_result cp_prov_register_body(const char *registration_id, const char *csr_b64,
                                const char *payload_json, char *out, size_t out_size,
                                size_t *out_len)
{
  cJSON *root, *payload = NULL;
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
  if (root == NULL ||
      cJSON_AddStringToObject(root, CP_JSON_REGISTRATION_ID, registration_id) == NULL ||
      (csr_b64 != NULL && cJSON_AddStringToObject(root, CP_JSON_CSR, csr_b64) == NULL)) {
    cJSON_Delete(payload);
    cJSON_Delete(root);
    return CP_ERR_NO_MEMORY;
  }
  if (payload != NULL && !cJSON_AddItemToObject(root, CP_JSON_PAYLOAD, payload)) {
    cJSON_Delete(payload);
    cJSON_Delete(root);
    return CP_ERR_NO_MEMORY;
  }
  r = cp_json_print(root, out, out_size, out_len);
  cJSON_Delete(root);
  return r;
}
