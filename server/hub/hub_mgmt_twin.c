/* Management API routes for device twins. */
#include "hub_mgmt_twin.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cps_audit.h"
#include "cps_registry.h"
#include "hub_topic.h"

static int reply_json(cps_mgmt_response *resp, int status, cJSON *doc) {
  char *text = doc ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  if (!text) return -1;
  resp->status = status;
  resp->content_type = "application/json";
  resp->body = (unsigned char *)text;
  resp->len = strlen(text);
  return 1;
}

static int reply_error(cps_mgmt_response *resp, int status, const char *message) {
  cJSON *doc = cJSON_CreateObject();
  cJSON *err = cJSON_AddObjectToObject(doc, "error");
  if (!err || !cJSON_AddNumberToObject(err, "code", status) ||
      !cJSON_AddStringToObject(err, "message", message)) {
    cJSON_Delete(doc);
    return -1;
  }
  return reply_json(resp, status, doc);
}

/* "/devices/{id}/twin[/desired]" → id and whether "/desired" follows. */
static int parse_route(const char *path, char *id, size_t id_size, int *desired) {
  static const char prefix[] = "/devices/";
  if (!path || strncmp(path, prefix, sizeof prefix - 1) != 0) return 0;
  const char *p = path + sizeof prefix - 1;
  const char *slash = strchr(p, '/');
  if (!slash) return 0;
  size_t n = (size_t)(slash - p);
  if (strcmp(slash, "/twin") == 0) *desired = 0;
  else if (strcmp(slash, "/twin/desired") == 0) *desired = 1;
  else return 0;
  if (n == 0 || n >= id_size) {
    id[0] = '\0';
    return 1;
  }
  memcpy(id, p, n);
  id[n] = '\0';
  return 1;
}

static int handle(cps_service *svc, hub_twin_store *twins, const cps_principal *who,
                  const char *method, const char *id, int desired, const char *body,
                  size_t body_len, cps_mgmt_response *resp) {
  int is_get = strcmp(method, "GET") == 0;
  int is_patch = strcmp(method, "PATCH") == 0 || strcmp(method, "POST") == 0;
  if ((desired && !is_patch) || (!desired && !is_get))
    return reply_error(resp, 405, desired ? "use PATCH (or POST) on /devices/{id}/twin/desired"
                                          : "use GET on /devices/{id}/twin");
  cps_result rb = cps_rbac_check(who ? who->role : CPS_ROLE_NONE,
                                 is_get ? CPS_ACCESS_READ : CPS_ACCESS_WRITE);
  if (rb == CPS_ERR_UNAUTHORIZED) return reply_error(resp, 401, "missing or unknown bearer token");
  if (rb != CPS_OK) return reply_error(resp, 403, "role may not change twins");
  cps_device dev;
  if (!hub_id_valid(id) || cps_device_get(svc, id, &dev) != CPS_OK)
    return reply_error(resp, 404, "no such device");
  if (is_get) {
    char *json = NULL;
    if (hub_twin_get(twins, dev.id, &json) != CP_OK) return reply_error(resp, 500, "twin store error");
    cJSON *doc = cJSON_Parse(json);
    free(json);
    if (!doc || !cJSON_AddStringToObject(doc, "deviceId", dev.id)) {
      cJSON_Delete(doc);
      return -1;
    }
    return reply_json(resp, 200, doc);
  }
  long long v = 0;
  cp_result r = hub_twin_patch_desired(twins, dev.id, body ? body : "", body_len, &v);
  switch (r) {
  case CP_OK: {
    cJSON *doc = cJSON_CreateObject();
    if (!doc || !cJSON_AddNumberToObject(doc, "$version", (double)v)) {
      cJSON_Delete(doc);
      return -1;
    }
    return reply_json(resp, 200, doc);
  }
  case CP_ERR_PARSE:
    return reply_error(resp, 400,
                       "desired patch must be a JSON object without '$' names, at most 10 levels deep");
  case CP_ERR_BUFFER_TOO_SMALL:
    return reply_error(resp, 413, "desired properties larger than 32 KiB");
  default: return reply_error(resp, 500, "twin store error");
  }
}

int hub_mgmt_twin_handle(cps_service *svc, hub_twin_store *twins, const cps_principal *who,
                         const char *method, const char *path, const char *body,
                         size_t body_len, cps_mgmt_response *resp) {
  char id[HUB_ID_MAX + 1];
  int desired = 0;
  if (!method || !resp || !parse_route(path, id, sizeof id, &desired)) return 0;
  memset(resp, 0, sizeof *resp);
  int rc = handle(svc, twins, who, method, id, desired, body, body_len, resp);
  char target[HUB_ID_MAX + 16];
  snprintf(target, sizeof target, "devices/%s", id);
  cps_audit_append(svc, who, desired ? "PATCH devices/twin/desired" : "GET devices/twin", target,
                   resp->status ? resp->status : 500);
  return rc;
}

int hub_mgmt_twin_route(cps_service *svc, const cps_principal *who, const char *method,
                        const char *path, const char *body, size_t body_len,
                        cps_mgmt_response *resp) {
  char id[HUB_ID_MAX + 1];
  int desired = 0;
  if (!svc || !method || !resp || !parse_route(path, id, sizeof id, &desired)) return 0;
  hub_twin_store *twins = NULL;
  if (hub_twin_store_open(cps_service_config_get(svc)->db_path, &twins) != CP_OK) {
    memset(resp, 0, sizeof *resp);
    cps_audit_append(svc, who, desired ? "PATCH devices/twin/desired" : "GET devices/twin", id, 500);
    return reply_error(resp, 500, "twin store unavailable");
  }
  int rc = hub_mgmt_twin_handle(svc, twins, who, method, path, body, body_len, resp);
  hub_twin_store_close(twins);
  return rc;
}
