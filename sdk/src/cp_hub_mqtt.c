/* IoT Hub over MQTT: user name, twin topics, topic parsing (protocol.md §7). */
#include "certpilot/cp_hub.h"
#include "certpilot/cp_protocol.h"

#include <string.h>

#include "cp_query.h"
#include "cp_str.h"

static bool empty(const char *s)
{
  return s == NULL || s[0] == '\0';
}

cp_result cp_hub_mqtt_username(const char *hub_host, const char *device_id, char *out,
                               size_t out_size, size_t *out_len)
{
  if (empty(hub_host) || empty(device_id) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len, CP_HUB_USERNAME_FMT "&DeviceClientType=%s",
                       hub_host, device_id, CP_HUB_API_VERSION, CP_HUB_CLIENT_TYPE);
}

cp_result cp_hub_twin_get_topic(const char *rid, char *out, size_t out_size,
                                size_t *out_len)
{
  if (empty(rid) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len, CP_HUB_TOPIC_TWIN_GET "%s", rid);
}

cp_result cp_hub_twin_patch_topic(const char *rid, char *out, size_t out_size,
                                  size_t *out_len)
{
  if (empty(rid) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len, CP_HUB_TOPIC_TWIN_PATCH_REPORTED "%s", rid);
}

static bool starts(const char *t, size_t len, const char *prefix)
{
  size_t n = strlen(prefix);

  return len >= n && memcmp(t, prefix, n) == 0;
}

static cp_result parse_query(const char *p, const char *end, cp_hub_topic_info *info,
                             cp_error_detail *detail)
{
  cp_query_pair q;
  uint64_t v;

  while (cp_query_next(&p, end, &q)) {
    if (cp_query_is(&q, "$rid")) {
      if (q.value_len == 0 || q.value_len >= sizeof info->rid ||
          !cp_str_chars_ok(q.value, q.value_len, "-")) {
        cp_error_detail_set(detail, "topic.$rid", "hub topic has a bad $rid");
        return CP_ERR_PARSE;
      }
      memcpy(info->rid, q.value, q.value_len);
      info->rid[q.value_len] = '\0';
    } else if (cp_query_is(&q, "$version")) {
      if (cp_str_parse_u64(q.value, q.value_len, &v) != CP_OK) {
        cp_error_detail_set(detail, "topic.$version", "hub topic has a bad $version");
        return CP_ERR_PARSE;
      }
      info->has_version = true;
      info->version = (int64_t)v;
    }
  }
  return CP_OK;
}

cp_result cp_hub_topic_parse(const char *topic, size_t topic_len, cp_hub_topic_info *out,
                             cp_error_detail *detail)
{
  const char *end = topic + topic_len, *p;
  cp_hub_topic_info info;
  uint64_t status;
  cp_result r;

  if (topic == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  memset(&info, 0, sizeof info);
  if (starts(topic, topic_len, CP_HUB_TOPIC_TWIN_RES_PREFIX)) {
    info.kind = CP_HUB_TOPIC_TWIN_RESPONSE;
    p = topic + strlen(CP_HUB_TOPIC_TWIN_RES_PREFIX);
    if (end - p < 5 || p[3] != '/' || p[4] != '?' ||
        cp_str_parse_u64(p, 3, &status) != CP_OK || status < 100) {
      cp_error_detail_set(detail, "topic.status",
                          "twin response topic has no 3-digit status followed by \"/?\"");
      return CP_ERR_PARSE;
    }
    info.status = (int)status;
    r = parse_query(p + 5, end, &info, detail);
    if (r != CP_OK)
      return r;
    if (info.rid[0] == '\0') {
      cp_error_detail_set(detail, "topic.$rid", "twin response topic has no $rid");
      return CP_ERR_PARSE;
    }
  } else if (starts(topic, topic_len, CP_HUB_TOPIC_TWIN_DESIRED_PREFIX)) {
    info.kind = CP_HUB_TOPIC_DESIRED_PATCH;
    p = topic + strlen(CP_HUB_TOPIC_TWIN_DESIRED_PREFIX);
    if (end - p < 1 || p[0] != '?') {
      cp_error_detail_set(detail, "topic", "desired patch topic has no query");
      return CP_ERR_PARSE;
    }
    r = parse_query(p + 1, end, &info, detail);
    if (r != CP_OK)
      return r;
    if (!info.has_version) {
      cp_error_detail_set(detail, "topic.$version", "desired patch topic has no $version");
      return CP_ERR_PARSE;
    }
  } else {
    return CP_ERR_NOT_FOUND;
  }
  *out = info;
  return CP_OK;
}
