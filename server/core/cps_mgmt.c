/* Management dispatcher: authentication result → RBAC → handler → audit. */
#include "cps_mgmt_internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cps_audit.h"
#include "cps_b64.h"
#include "cps_rbac.h"

#include <openssl/crypto.h>

void mgmt_json(cps_mgmt_response *resp, int status, cJSON *doc) {
  char *s = doc ? cJSON_PrintUnformatted(doc) : NULL;
  cJSON_Delete(doc);
  resp->status = s ? status : 500;
  resp->content_type = "application/json";
  resp->body = (unsigned char *)s;
  resp->len = s ? strlen(s) : 0;
}

void mgmt_error(cps_mgmt_response *resp, int status, const char *fmt, ...) {
  char msg[300];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  cJSON *o = cJSON_CreateObject();
  cJSON *e = cJSON_AddObjectToObject(o, "error");
  cJSON_AddNumberToObject(e, "code", status);
  cJSON_AddStringToObject(e, "message", msg);
  mgmt_json(resp, status, o);
  if (resp->status == 500 && status != 500) resp->status = status;
}

void mgmt_raw(cps_mgmt_response *resp, int status, const char *ctype, const void *data,
              size_t len) {
  resp->body = malloc(len ? len : 1);
  if (!resp->body) {
    resp->status = 500;
    resp->len = 0;
    return;
  }
  if (len) memcpy(resp->body, data, len);
  resp->len = len;
  resp->status = status;
  resp->content_type = ctype;
}

void mgmt_fail(cps_mgmt_response *resp, cps_result r, const char *msg) {
  mgmt_error(resp, cps_result_http_status(r), "%s", msg && *msg ? msg : cps_result_str(r));
}

cps_result mgmt_exec(cps_service *svc, const char *sql, ...) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc), sql, -1, &s, NULL) != SQLITE_OK) return CPS_ERR_STORE;
  va_list ap;
  va_start(ap, sql);
  int i = 1;
  const char *v;
  while ((v = va_arg(ap, const char *)) != NULL) sqlite3_bind_text(s, i++, v, -1, SQLITE_TRANSIENT);
  va_end(ap);
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  return rc == SQLITE_DONE || rc == SQLITE_ROW ? CPS_OK : CPS_ERR_STORE;
}

int mgmt_name_ok(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n > 64) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return 0;
  }
  return 1;
}

void cps_mgmt_response_free(cps_mgmt_response *resp) {
  if (!resp) return;
  free(resp->body);
  memset(resp, 0, sizeof *resp);
}

/* POST /tokens creates a token (secret returned once); GET /tokens lists names and roles. */
static void mgmt_tokens(mgmt_req *rq, cps_mgmt_response *resp) {
  if (!strcmp(rq->method, "GET")) {
    cJSON *arr = cJSON_CreateArray();
    sqlite3_stmt *s = NULL;
    if (sqlite3_prepare_v2(cps_service_db(rq->svc), "SELECT name, role FROM token ORDER BY name", -1,
                           &s, NULL) == SQLITE_OK) {
      while (sqlite3_step(s) == SQLITE_ROW) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", (const char *)sqlite3_column_text(s, 0));
        cJSON_AddStringToObject(o, "role", (const char *)sqlite3_column_text(s, 1));
        cJSON_AddItemToArray(arr, o);
      }
    }
    sqlite3_finalize(s);
    return mgmt_json(resp, 200, arr);
  }
  if (strcmp(rq->method, "POST") != 0) return mgmt_error(resp, 405, "method not allowed");
  const cJSON *name = cJSON_GetObjectItemCaseSensitive(rq->json, "name");
  const cJSON *role = cJSON_GetObjectItemCaseSensitive(rq->json, "role");
  cps_role r = cJSON_IsString(role) ? cps_role_parse(role->valuestring) : CPS_ROLE_NONE;
  if (!cJSON_IsString(name)) return mgmt_error(resp, 400, "name is required");
  if (r == CPS_ROLE_NONE)
    return mgmt_error(resp, 400, "role must be \"reader\" or \"credentials-contributor\"");
  char secret[80];
  cps_error err = {{0}};
  cps_result res = cps_token_create(rq->svc, name->valuestring, r, secret, sizeof secret, &err);
  if (res != CPS_OK) return mgmt_fail(resp, res, err.msg);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "name", name->valuestring);
  cJSON_AddStringToObject(o, "role", cps_role_name(r));
  cJSON_AddStringToObject(o, "token", secret);
  OPENSSL_cleanse(secret, sizeof secret);
  mgmt_json(resp, 201, o);
}

/* Split "/a/b/c" into decoded segments. Returns 0 on a bad path. */
static int split_path(const char *path, mgmt_req *rq) {
  const char *p = path;
  if (*p != '/') return 0;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *end = strchr(p, '/');
    size_t n = end ? (size_t)(end - p) : strlen(p);
    if (rq->nseg == MGMT_MAX_SEG) return 0;
    char *seg = malloc(n + 1);
    if (!seg || cps_url_decode(p, n, seg, n + 1) != CPS_OK) {
      free(seg);
      return 0;
    }
    rq->seg[rq->nseg++] = seg;
    p += n;
  }
  return 1;
}

/* Audit operation name: resource + verb, e.g. "policies.POST.revoke". */
static void op_name(const mgmt_req *rq, char *out, size_t size, char *target, size_t tsize) {
  const char *res = rq->nseg > 0 ? rq->seg[0] : "";
  const char *action = rq->nseg > 2 ? rq->seg[2] : "";
  snprintf(out, size, "%s %s%s%s", rq->method, res, action[0] ? "/" : "", action);
  snprintf(target, tsize, "%s%s%s", res, rq->nseg > 1 ? "/" : "", rq->nseg > 1 ? rq->seg[1] : "");
}

cps_result cps_mgmt_handle(cps_service *svc, const cps_principal *who, const char *method,
                           const char *path, const char *query, const char *body,
                           size_t body_len, cps_mgmt_response *resp) {
  memset(resp, 0, sizeof *resp);
  mgmt_req rq;
  memset(&rq, 0, sizeof rq);
  rq.svc = svc;
  rq.who = who;
  rq.method = method;
  rq.query = query;
  rq.body = body;
  rq.body_len = body_len;
  int is_read = strcmp(method, "GET") == 0;
  cps_result decision = cps_rbac_check(who ? who->role : CPS_ROLE_NONE,
                                       is_read ? CPS_ACCESS_READ : CPS_ACCESS_WRITE);
  int path_ok = split_path(path ? path : "", &rq);
  if (decision == CPS_ERR_UNAUTHORIZED) {
    mgmt_error(resp, 401, "missing or unknown bearer token");
  } else if (decision == CPS_ERR_FORBIDDEN) {
    mgmt_error(resp, 403, "role %s may not %s", cps_role_name(who->role), method);
  } else if (!path_ok || rq.nseg == 0) {
    mgmt_error(resp, 404, "no such resource");
  } else {
    const char *ctype_json = NULL;
    if (body && body_len > 0 && !(rq.nseg == 3 && !strcmp(rq.seg[2], "certificate"))) {
      rq.json = cJSON_ParseWithLength(body, body_len);
      ctype_json = rq.json ? "ok" : NULL;
      if (!rq.json) mgmt_error(resp, 400, "body is not valid JSON");
    }
    if (!resp->status) {
      (void)ctype_json;
      const char *res = rq.seg[0];
      if (!strcmp(res, "credential")) mgmt_credential(&rq, resp);
      else if (!strcmp(res, "policies")) mgmt_policy(&rq, resp);
      else if (!strcmp(res, "crl")) mgmt_crl(&rq, resp);
      else if (!strcmp(res, "hub")) mgmt_hub_trust(&rq, resp);
      else if (!strcmp(res, "enrollments")) mgmt_enrollment(&rq, resp);
      else if (!strcmp(res, "devices")) mgmt_device(&rq, resp);
      else if (!strcmp(res, "tokens") && rq.nseg == 1) mgmt_tokens(&rq, resp);
      else if (!strcmp(res, "audit") && rq.nseg == 1 && is_read) {
        long long after = 0;
        int limit = 1000;
        if (query) {
          const char *a = strstr(query, "after=");
          const char *l = strstr(query, "limit=");
          if (a) after = strtoll(a + 6, NULL, 10);
          if (l) limit = atoi(l + 6);
        }
        cJSON *arr = NULL;
        cps_result r = cps_audit_list(svc, after, limit, &arr);
        if (r == CPS_OK) mgmt_json(resp, 200, arr);
        else mgmt_fail(resp, r, "audit log unavailable");
      } else {
        mgmt_error(resp, 404, "no such resource");
      }
    }
  }
  char op[96], target[200];
  op_name(&rq, op, sizeof op, target, sizeof target);
  cps_audit_append(svc, who, op, target, resp->status);
  cJSON_Delete(rq.json);
  for (int i = 0; i < rq.nseg; i++) free(rq.seg[i]);
  return resp->status ? CPS_OK : CPS_ERR_NOMEM;
}
