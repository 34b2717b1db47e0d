/* Parse DPS RegistrationOperationStatus bodies and error bodies (protocol.md §1–§3). */
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

#include <stdio.h>
#include <string.h>

#include "cp_json_util.h"
#include "cp_str.h"

/* Characters we let into an operationId: it goes into a topic and a URL path. */
#define OPERATION_ID_CHARS "-._~:"
/* Characters of a host name, optionally with ":port". */
#define HUB_CHARS "-.:"

const char *cp_prov_status_str(cp_prov_status s)
{
  switch (s) {
  case CP_PROV_STATUS_UNASSIGNED: return CP_STATUS_UNASSIGNED;
  case CP_PROV_STATUS_ASSIGNING: return CP_STATUS_ASSIGNING;
  case CP_PROV_STATUS_ASSIGNED: return CP_STATUS_ASSIGNED;
  case CP_PROV_STATUS_FAILED: return CP_STATUS_FAILED;
  case CP_PROV_STATUS_DISABLED: return CP_STATUS_DISABLED;
  case CP_PROV_STATUS_UNKNOWN: break;
  }
  return "unknown";
}

static cp_prov_status status_from_str(const char *s)
{
  static const cp_prov_status all[] = {CP_PROV_STATUS_UNASSIGNED, CP_PROV_STATUS_ASSIGNING,
                                       CP_PROV_STATUS_ASSIGNED, CP_PROV_STATUS_FAILED,
                                       CP_PROV_STATUS_DISABLED};
  size_t i;

  for (i = 0; i < sizeof all / sizeof all[0]; i++) {
    if (strcmp(s, cp_prov_status_str(all[i])) == 0)
      return all[i];
  }
  return CP_PROV_STATUS_UNKNOWN;
}

static bool is_b64(const char *s, size_t len)
{
  size_t i, pad = 0;

  if (len == 0 || len % 4 != 0)
    return false;
  for (i = 0; i < len; i++) {
    char c = s[i];
    if (c == '=') {
      pad++;
    } else if (pad > 0 || !((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
                            (c >= '0' && c <= '9') || c == '+' || c == '/')) {
      return false;
    }
  }
  return pad <= 2;
}

static cp_result parse_chain(const cJSON *state, cp_prov_response *resp,
                             cp_error_detail *detail)
{
  const char *path = "registrationState." CP_JSON_ISSUED_CHAIN;
  const cJSON *chain = cJSON_GetObjectItemCaseSensitive(state, CP_JSON_ISSUED_CHAIN);
  const cJSON *el;
  size_t n = 0;
  int count;

  if (chain == NULL || cJSON_IsNull(chain))
    return CP_OK;
  if (!cJSON_IsArray(chain)) {
    cp_error_detail_set(detail, path, "member \"%s\" is not an array", path);
    return CP_ERR_BAD_RESPONSE;
  }
  count = cJSON_GetArraySize(chain);
  if (count < 1 || count > CP_PROV_CHAIN_MAX) {
    cp_error_detail_set(detail, path, "member \"%s\" has %d elements, expected 1..%d",
                        path, count, CP_PROV_CHAIN_MAX);
    return CP_ERR_BAD_RESPONSE;
  }
  cJSON_ArrayForEach(el, chain) {
    size_t len;
    char field[CP_ERROR_FIELD_MAX];

    snprintf(field, sizeof field, "%s[%zu]", path, n);
    if (!cJSON_IsString(el) || el->valuestring == NULL) {
      cp_error_detail_set(detail, field, "element \"%s\" is not a string", field);
      return CP_ERR_BAD_RESPONSE;
    }
    len = strlen(el->valuestring);
    if (len + 1 > CP_PROV_CHAIN_B64_MAX) {
      cp_error_detail_set(detail, field, "element \"%s\" is too long (%zu characters)",
                          field, len);
      return CP_ERR_BAD_RESPONSE;
    }
    if (!is_b64(el->valuestring, len)) {
      cp_error_detail_set(detail, field, "element \"%s\" is not base64", field);
      return CP_ERR_BAD_RESPONSE;
    }
    memcpy(resp->chain_b64[n], el->valuestring, len + 1);
    n++;
  }
  resp->chain_len = n;
  return CP_OK;
}

static cp_result parse_state(const cJSON *root, cp_prov_response *resp,
                             cp_error_detail *detail)
{
  const cJSON *state = cJSON_GetObjectItemCaseSensitive(root, CP_JSON_REGISTRATION_STATE);
  bool assigned = resp->status == CP_PROV_STATUS_ASSIGNED;
  int64_t code = 0;
  cp_result r;

  if (state == NULL || cJSON_IsNull(state)) {
    if (assigned) {
      cp_error_detail_set(detail, CP_JSON_REGISTRATION_STATE,
                          "status is assigned but \"registrationState\" is missing");
      return CP_ERR_BAD_RESPONSE;
    }
    return CP_OK;
  }
  if (!cJSON_IsObject(state)) {
    cp_error_detail_set(detail, CP_JSON_REGISTRATION_STATE,
                        "member \"registrationState\" is not an object");
    return CP_ERR_BAD_RESPONSE;
  }
  r = cp_json_get_string(state, CP_JSON_REGISTRATION_ID, "registrationState.registrationId",
                         false, resp->registration_id, sizeof resp->registration_id, detail);
  if (r == CP_OK)
    r = cp_json_get_string(state, CP_JSON_DEVICE_ID, "registrationState.deviceId", assigned,
                           resp->device_id, sizeof resp->device_id, detail);
  if (r == CP_OK)
    r = cp_json_get_string(state, CP_JSON_ASSIGNED_HUB, "registrationState.assignedHub",
                           assigned, resp->assigned_hub, sizeof resp->assigned_hub, detail);
  if (r == CP_OK)
    r = cp_json_get_string(state, CP_JSON_SUBSTATUS, "registrationState.substatus", false,
                           resp->substatus, sizeof resp->substatus, detail);
  if (r == CP_OK)
    r = cp_json_get_int(state, CP_JSON_ERROR_CODE, "registrationState.errorCode", false,
                        &code, NULL, detail);
  if (r != CP_OK)
    return r;
  if (code < 0 || code > 999999) {
    cp_error_detail_set(detail, "registrationState.errorCode",
                        "registrationState.errorCode %lld is out of range", (long long)code);
    return CP_ERR_BAD_RESPONSE;
  }
  resp->error_code = (int32_t)code;
  /* errorMessage is informational: keep what fits. */
  {
    const cJSON *m = cJSON_GetObjectItemCaseSensitive(state, CP_JSON_ERROR_MESSAGE);
    if (cJSON_IsString(m) && m->valuestring != NULL)
      snprintf(resp->error_message, sizeof resp->error_message, "%s", m->valuestring);
  }
  if (!cp_str_chars_ok(resp->device_id, strlen(resp->device_id), "-._:")) {
    cp_error_detail_set(detail, "registrationState.deviceId",
                        "registrationState.deviceId has characters outside [A-Za-z0-9-._:]");
    return CP_ERR_BAD_RESPONSE;
  }
  if (!cp_str_chars_ok(resp->assigned_hub, strlen(resp->assigned_hub), HUB_CHARS)) {
    cp_error_detail_set(detail, "registrationState.assignedHub",
                        "registrationState.assignedHub is not a host name");
    return CP_ERR_BAD_RESPONSE;
  }
  return parse_chain(state, resp, detail);
}

cp_result cp_prov_response_parse(const char *body, size_t body_len,
                                 cp_prov_response *out, cp_error_detail *detail)
{
  static cp_prov_response zero;
  cp_prov_response *resp;
  char status[32];
  cJSON *root;
  cp_result r;

  if (body == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  root = cp_json_parse_object(body, body_len, detail);
  if (root == NULL)
    return CP_ERR_BAD_RESPONSE;
  /* Parse into scratch space first so that @p out stays untouched on failure. */
  resp = cJSON_malloc(sizeof *resp);
  if (resp == NULL) {
    cJSON_Delete(root);
    return CP_ERR_NO_MEMORY;
  }
  *resp = zero;
  r = cp_json_get_string(root, CP_JSON_OPERATION_ID, CP_JSON_OPERATION_ID, true,
                         resp->operation_id, sizeof resp->operation_id, detail);
  if (r == CP_OK && !cp_str_chars_ok(resp->operation_id, strlen(resp->operation_id),
                                     OPERATION_ID_CHARS)) {
    cp_error_detail_set(detail, CP_JSON_OPERATION_ID,
                        "operationId has characters outside [A-Za-z0-9-._~:]");
    r = CP_ERR_BAD_RESPONSE;
  }
  if (r == CP_OK)
    r = cp_json_get_string(root, CP_JSON_STATUS, CP_JSON_STATUS, true, status,
                           sizeof status, detail);
  if (r == CP_OK) {
    resp->status = status_from_str(status);
    if (resp->status == CP_PROV_STATUS_UNKNOWN) {
      cp_error_detail_set(detail, CP_JSON_STATUS, "unknown registration status \"%s\"",
                          status);
      r = CP_ERR_BAD_RESPONSE;
    }
  }
  if (r == CP_OK)
    r = parse_state(root, resp, detail);
  if (r == CP_OK)
    *out = *resp;
  cJSON_free(resp);
  cJSON_Delete(root);
  return r;
}

cp_result cp_prov_error_parse(int status, const char *body, size_t body_len,
                              cp_error_detail *detail)
{
  cp_result r = status == 401 ? CP_ERR_UNAUTHORIZED : CP_ERR_REFUSED;
  cp_error_detail scratch;
  cJSON *root;

  if (detail == NULL)
    return r;
  cp_error_detail_clear(&scratch);
  detail->status = status;
  detail->error_code = 0;
  detail->field[0] = '\0';
  snprintf(detail->message, sizeof detail->message, "server answered %d", status);
  if (body == NULL || body_len == 0)
    return r;
  root = cp_json_parse_object(body, body_len, &scratch);
  if (root == NULL) {
    snprintf(detail->message, sizeof detail->message,
             "server answered %d with a body that is not a JSON object", status);
    return r;
  }
  {
    const cJSON *code = cJSON_GetObjectItemCaseSensitive(root, CP_JSON_ERROR_CODE);
    const cJSON *msg = cJSON_GetObjectItemCaseSensitive(root, CP_JSON_MESSAGE);
    if (cJSON_IsNumber(code) && code->valuedouble >= 0 && code->valuedouble <= 999999)
      detail->error_code = (int32_t)code->valuedouble;
    if (cJSON_IsString(msg) && msg->valuestring != NULL)
      snprintf(detail->message, sizeof detail->message, "%s", msg->valuestring);
  }
  cJSON_Delete(root);
  return r;
}
