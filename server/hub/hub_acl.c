/* Pure ACL decision for the certpilot mosquitto plugin. */
#include "hub_acl.h"

#include <stdio.h>
#include <string.h>

static bool has_prefix(const char *s, const char *p) {
  return strncmp(s, p, strlen(p)) == 0;
}

/* A filter is "under" a prefix when it starts with the prefix literally: any
 * wildcard it has then sits below that prefix. */
static bool dps_receive_ok(const char *topic) {
  return has_prefix(topic, "$dps/registrations/res/");
}

static bool hub_receive_ok(const char *id, const char *topic) {
  if (has_prefix(topic, "$iothub/twin/res/") ||
      has_prefix(topic, "$iothub/twin/PATCH/properties/desired/") ||
      has_prefix(topic, "$iothub/methods/POST/"))
    return true;
  char own[HUB_ID_MAX + 64];
  int n = snprintf(own, sizeof own, "devices/%s/messages/devicebound/", id);
  if (n < 0 || (size_t)n >= sizeof own) return false;
  return has_prefix(topic, own);
}

bool hub_acl_allows(hub_client_kind kind, const char *id, hub_access access,
                    const char *topic) {
  if (!id || !topic || !hub_id_valid(id)) return false;
  if (access == HUB_ACCESS_UNSUBSCRIBE) return kind == HUB_CLIENT_DPS || kind == HUB_CLIENT_HUB;
  hub_topic t;
  switch (kind) {
  case HUB_CLIENT_DPS:
    if (access == HUB_ACCESS_WRITE)
      return hub_topic_parse(topic, &t) == CP_OK &&
             (t.kind == HUB_TOPIC_DPS_REGISTER || t.kind == HUB_TOPIC_DPS_OPERATION_STATUS);
    return dps_receive_ok(topic);
  case HUB_CLIENT_HUB:
    if (access == HUB_ACCESS_WRITE) {
      if (hub_topic_parse(topic, &t) != CP_OK) return false;
      if (t.kind == HUB_TOPIC_TWIN_GET || t.kind == HUB_TOPIC_TWIN_PATCH_REPORTED) return true;
      return t.kind == HUB_TOPIC_TELEMETRY && strcmp(t.device_id, id) == 0;
    }
    return hub_receive_ok(id, topic);
  default:
    return false;
  }
}
