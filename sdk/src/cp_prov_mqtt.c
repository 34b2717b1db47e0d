/* DPS over MQTT: user name and request topics (protocol.md §1). */
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

#include "cp_str.h"

static bool empty(const char *s)
{
  return s == NULL || s[0] == '\0';
}

cp_result cp_prov_mqtt_username(const char *id_scope, const char *registration_id,
                                char *out, size_t out_size, size_t *out_len)
{
  if (empty(id_scope) || empty(registration_id) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len,
                       CP_DPS_USERNAME_FMT "&ClientVersion=%s", id_scope,
                       registration_id, CP_DPS_API_VERSION, CP_PROV_CLIENT_VERSION);
}

cp_result cp_prov_mqtt_register_topic(const char *rid, char *out, size_t out_size,
                                      size_t *out_len)
{
  if (empty(rid) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len, CP_DPS_TOPIC_REGISTER "%s", rid);
}

cp_result cp_prov_mqtt_status_topic(const char *rid, const char *operation_id,
                                    char *out, size_t out_size, size_t *out_len)
{
  if (empty(rid) || empty(operation_id) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len,
                       CP_DPS_TOPIC_OPERATION_STATUS "%s" CP_DPS_QUERY_OPERATION_ID "%s",
                       rid, operation_id);
}
