/* Pure topic / username parsing and building for the mosquitto plugin. */
#include "hub_topic.h"

#include <stdio.h>
#include <string.h>

#define DPS_REGISTER_PREFIX "$dps/registrations/PUT/iotdps-register/?"
#define DPS_STATUS_PREFIX "$dps/registrations/GET/iotdps-get-operationstatus/?"
#define TWIN_GET_PREFIX "$iothub/twin/GET/?"
#define TWIN_REPORTED_PREFIX "$iothub/twin/PATCH/properties/reported/?"
#define TELEMETRY_PREFIX "devices/"
#define TELEMETRY_SUFFIX "/messages/events/"

static const char *const hub_versions[] = {
    "2018-06-30", "2019-10-01", "2020-09-30", "2021-04-12",
    "2025-08-01-preview", NULL};

static bool is_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

/* Characters allowed in $rid and operationId values. */
static bool is_token_char(char c) {
  return is_alnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

static bool id_valid_n(const char *s, size_t n) {
  if (n == 0 || n > HUB_ID_MAX) return false;
  for (size_t i = 0; i < n; i++) {
    char c = s[i];
    if (!(is_alnum(c) || c == '-' || c == '.' || c == '_' || c == ':')) return false;
  }
  char last = s[n - 1];
  return is_alnum(last) || last == '-';
}

bool hub_id_valid(const char *id) {
  if (!id) return false;
  size_t n = strnlen(id, HUB_ID_MAX + 1);
  return id_valid_n(id, n);
}

static bool starts_with(const char *s, const char *prefix) {
  return strncmp(s, prefix, strlen(prefix)) == 0;
}

/* Copy a token value of length n into dst (capacity cap incl. NUL) after
 * checking its characters. */
static bool take_token(char *dst, size_t cap, const char *v, size_t n) {
  if (n == 0 || n >= cap) return false;
  for (size_t i = 0; i < n; i++)
    if (!is_token_char(v[i])) return false;
  memcpy(dst, v, n);
  dst[n] = '\0';
  return true;
}

/* Parse "k=v&k=v" for $rid (required) and, when want_op, operationId
 * (required). Unknown keys are ignored; known keys may appear once. */
static bool parse_query(const char *q, hub_topic *t, bool want_op) {
  bool have_rid = false, have_op = false;
  while (*q) {
    const char *amp = strchr(q, '&');
    size_t plen = amp ? (size_t)(amp - q) : strlen(q);
    const char *eq = memchr(q, '=', plen);
    if (!eq) return false;
    size_t klen = (size_t)(eq - q);
    const char *v = eq + 1;
    size_t vlen = plen - klen - 1;
    if (klen == 4 && memcmp(q, "$rid", 4) == 0) {
      if (have_rid || !take_token(t->rid, sizeof t->rid, v, vlen)) return false;
      have_rid = true;
    } else if (want_op && klen == 11 && memcmp(q, "operationId", 11) == 0) {
      if (have_op || !take_token(t->operation_id, sizeof t->operation_id, v, vlen))
        return false;
      have_op = true;
    } else if (klen == 0) {
      return false;
    }
    if (!amp) break;
    q = amp + 1;
    if (*q == '\0') return false; /* trailing '&' */
  }
  return have_rid && (!want_op || have_op);
}

cp_result hub_topic_parse(const char *topic, hub_topic *out) {
  if (!topic || !out) return CP_ERR_INVALID_ARG;
  hub_topic t;
  memset(&t, 0, sizeof t);
  if (starts_with(topic, DPS_REGISTER_PREFIX)) {
    t.kind = HUB_TOPIC_DPS_REGISTER;
    if (!parse_query(topic + strlen(DPS_REGISTER_PREFIX), &t, false)) return CP_ERR_PARSE;
  } else if (starts_with(topic, DPS_STATUS_PREFIX)) {
    t.kind = HUB_TOPIC_DPS_OPERATION_STATUS;
    if (!parse_query(topic + strlen(DPS_STATUS_PREFIX), &t, true)) return CP_ERR_PARSE;
  } else if (starts_with(topic, TWIN_GET_PREFIX)) {
    t.kind = HUB_TOPIC_TWIN_GET;
    if (!parse_query(topic + strlen(TWIN_GET_PREFIX), &t, false)) return CP_ERR_PARSE;
  } else if (starts_with(topic, TWIN_REPORTED_PREFIX)) {
    t.kind = HUB_TOPIC_TWIN_PATCH_REPORTED;
    if (!parse_query(topic + strlen(TWIN_REPORTED_PREFIX), &t, false)) return CP_ERR_PARSE;
  } else if (starts_with(topic, TELEMETRY_PREFIX)) {
    const char *id = topic + strlen(TELEMETRY_PREFIX);
    const char *slash = strchr(id, '/');
    if (!slash) return CP_ERR_PARSE;
    size_t n = (size_t)(slash - id);
    if (!id_valid_n(id, n)) return CP_ERR_PARSE;
    if (!starts_with(slash, TELEMETRY_SUFFIX)) return CP_ERR_PARSE;
    /* Anything after the suffix is a property bag; it must not add levels. */
    if (strchr(slash + strlen(TELEMETRY_SUFFIX), '/')) return CP_ERR_PARSE;
    t.kind = HUB_TOPIC_TELEMETRY;
    memcpy(t.device_id, id, n);
    t.device_id[n] = '\0';
  } else {
    return CP_ERR_PARSE;
  }
  *out = t;
  return CP_OK;
}

/* Copy segment [s, s+n) into dst (cap incl. NUL). */
static bool take_segment(char *dst, size_t cap, const char *s, size_t n) {
  if (n == 0 || n >= cap) return false;
  for (size_t i = 0; i < n; i++)
    if ((unsigned char)s[i] <= 0x20 || s[i] == 0x7f) return false;
  memcpy(dst, s, n);
  dst[n] = '\0';
  return true;
}

/* q points after "api-version="; value runs to '&' or end. */
static bool take_api_version(char *dst, size_t cap, const char *q) {
  size_t n = strcspn(q, "&");
  if (n == 0 || n >= cap) return false;
  for (size_t i = 0; i < n; i++)
    if (!(is_alnum(q[i]) || q[i] == '-')) return false;
  memcpy(dst, q, n);
  dst[n] = '\0';
  return true;
}

cp_result hub_username_parse(const char *username, hub_username *out) {
  if (!username || !out) return CP_ERR_INVALID_ARG;
  hub_username u;
  memset(&u, 0, sizeof u);
  const char *s1 = strchr(username, '/');
  if (!s1) return CP_ERR_PARSE;
  if (!take_segment(u.scope, sizeof u.scope, username, (size_t)(s1 - username)))
    return CP_ERR_PARSE;
  const char *seg2 = s1 + 1;
  const char *s2 = strchr(seg2, '/');
  if (!s2) return CP_ERR_PARSE;
  const char *rest = s2 + 1;
  if ((size_t)(s2 - seg2) == strlen("registrations") &&
      starts_with(seg2, "registrations") && strchr(rest, '/')) {
    /* DPS: {scope}/registrations/{regId}/api-version=… */
    const char *s3 = strchr(rest, '/');
    size_t n = (size_t)(s3 - rest);
    if (!id_valid_n(rest, n)) return CP_ERR_PARSE;
    memcpy(u.id, rest, n);
    u.id[n] = '\0';
    const char *q = s3 + 1;
    if (!starts_with(q, "api-version=")) return CP_ERR_PARSE;
    if (!take_api_version(u.api_version, sizeof u.api_version, q + strlen("api-version=")))
      return CP_ERR_PARSE;
    if (strchr(q, '/')) return CP_ERR_PARSE;
    u.kind = HUB_CLIENT_DPS;
  } else {
    /* Hub: {hub}/{deviceId}/?api-version=… */
    size_t n = (size_t)(s2 - seg2);
    if (!id_valid_n(seg2, n)) return CP_ERR_PARSE;
    memcpy(u.id, seg2, n);
    u.id[n] = '\0';
    if (!starts_with(rest, "?")) return CP_ERR_PARSE;
    if (strchr(rest, '/')) return CP_ERR_PARSE;
    /* api-version may be any parameter of the query. */
    const char *q = rest + 1;
    bool found = false;
    while (*q) {
      if (starts_with(q, "api-version=")) {
        if (found) return CP_ERR_PARSE;
        if (!take_api_version(u.api_version, sizeof u.api_version,
                              q + strlen("api-version=")))
          return CP_ERR_PARSE;
        found = true;
      }
      const char *amp = strchr(q, '&');
      if (!amp) break;
      q = amp + 1;
    }
    if (!found) return CP_ERR_PARSE;
    u.kind = HUB_CLIENT_HUB;
  }
  *out = u;
  return CP_OK;
}

bool hub_api_version_supported(const char *api_version) {
  if (!api_version) return false;
  for (size_t i = 0; hub_versions[i]; i++)
    if (strcmp(hub_versions[i], api_version) == 0) return true;
  return false;
}

static cp_result finish(char *buf, size_t len, const char *tmp, int n) {
  if (n < 0 || (size_t)n >= len) return CP_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, tmp, (size_t)n + 1);
  return CP_OK;
}

cp_result hub_topic_build_dps_response(char *buf, size_t len, int status,
                                       const char *rid, int retry_after) {
  if (!buf || !rid || status < 100 || status > 599) return CP_ERR_INVALID_ARG;
  char tmp[256];
  int n = retry_after >= 0
              ? snprintf(tmp, sizeof tmp, "$dps/registrations/res/%d/?$rid=%s&retry-after=%d",
                         status, rid, retry_after)
              : snprintf(tmp, sizeof tmp, "$dps/registrations/res/%d/?$rid=%s", status, rid);
  if (n < 0 || (size_t)n >= sizeof tmp) return CP_ERR_INVALID_ARG;
  return finish(buf, len, tmp, n);
}

cp_result hub_topic_build_twin_response(char *buf, size_t len, int status,
                                        const char *rid, long long version) {
  if (!buf || !rid || status < 100 || status > 599) return CP_ERR_INVALID_ARG;
  char tmp[256];
  int n = version >= 0
              ? snprintf(tmp, sizeof tmp, "$iothub/twin/res/%d/?$rid=%s&$version=%lld",
                         status, rid, version)
              : snprintf(tmp, sizeof tmp, "$iothub/twin/res/%d/?$rid=%s", status, rid);
  if (n < 0 || (size_t)n >= sizeof tmp) return CP_ERR_INVALID_ARG;
  return finish(buf, len, tmp, n);
}

cp_result hub_topic_build_twin_desired(char *buf, size_t len, long long version) {
  if (!buf || version < 0) return CP_ERR_INVALID_ARG;
  char tmp[96];
  int n = snprintf(tmp, sizeof tmp, "$iothub/twin/PATCH/properties/desired/?$version=%lld",
                   version);
  return finish(buf, len, tmp, n);
}
