/* Parse DPS response topics "$dps/registrations/res/{status}/?$rid=…&retry-after=…". */
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

#include <string.h>

#include "cp_query.h"
#include "cp_str.h"

cp_result cp_prov_retry_after_parse(const char *value, size_t len, uint32_t *out_s)
{
  uint64_t v = 0;
  size_t i;

  if (value == NULL || out_s == NULL)
    return CP_ERR_INVALID_ARG;
  while (len > 0 && (value[0] == ' ' || value[0] == '\t')) {
    value++;
    len--;
  }
  while (len > 0 && (value[len - 1] == ' ' || value[len - 1] == '\t'))
    len--;
  if (len == 0)
    return CP_ERR_PARSE;
  for (i = 0; i < len; i++) {
    if (value[i] < '0' || value[i] > '9')
      return CP_ERR_PARSE;
    /* Saturate instead of overflowing: anything huge clamps to the maximum. */
    if (v <= CP_RETRY_AFTER_MAX_S)
      v = v * 10 + (uint64_t)(value[i] - '0');
  }
  *out_s = v > CP_RETRY_AFTER_MAX_S ? CP_RETRY_AFTER_MAX_S : (uint32_t)v;
  return CP_OK;
}

cp_result cp_prov_topic_parse(const char *topic, size_t topic_len,
                              cp_prov_topic_info *out, cp_error_detail *detail)
{
  const size_t plen = strlen(CP_DPS_TOPIC_RES_PREFIX);
  const char *p, *end;
  cp_prov_topic_info info;
  cp_query_pair q;
  uint64_t status;

  if (topic == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  if (topic_len < plen || memcmp(topic, CP_DPS_TOPIC_RES_PREFIX, plen) != 0)
    return CP_ERR_NOT_FOUND;
  memset(&info, 0, sizeof info);
  p = topic + plen;
  end = topic + topic_len;
  /* "{status}/?" */
  if (end - p < 5 || p[3] != '/' || p[4] != '?' ||
      cp_str_parse_u64(p, 3, &status) != CP_OK || status < 100) {
    cp_error_detail_set(detail, "topic.status",
                        "response topic has no 3-digit status followed by \"/?\"");
    return CP_ERR_PARSE;
  }
  info.status = (int)status;
  p += 5;
  while (cp_query_next(&p, end, &q)) {
    if (cp_query_is(&q, "$rid")) {
      if (q.value_len == 0 || q.value_len >= sizeof info.rid ||
          !cp_str_chars_ok(q.value, q.value_len, "-")) {
        cp_error_detail_set(detail, "topic.$rid", "response topic has a bad $rid");
        return CP_ERR_PARSE;
      }
      memcpy(info.rid, q.value, q.value_len);
      info.rid[q.value_len] = '\0';
    } else if (cp_query_is(&q, "retry-after")) {
      if (cp_prov_retry_after_parse(q.value, q.value_len, &info.retry_after_s) != CP_OK) {
        cp_error_detail_set(detail, "topic.retry-after",
                            "response topic has a retry-after that is not a number");
        return CP_ERR_PARSE;
      }
      info.has_retry_after = true;
    }
  }
  if (info.rid[0] == '\0') {
    cp_error_detail_set(detail, "topic.$rid", "response topic has no $rid");
    return CP_ERR_PARSE;
  }
  *out = info;
  return CP_OK;
}
