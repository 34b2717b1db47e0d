/* Append-only audit log. */
#include "cps_audit.h"

#include <string.h>
#include <time.h>

#include "cps_prov_util.h"
#include "cps_service_internal.h"

cps_result cps_audit_append(cps_service *svc, const cps_principal *who, const char *operation,
                            const char *target, int result) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "INSERT INTO audit(time, token_name, role, operation, target, result)"
                         " VALUES(?, ?, ?, ?, ?, ?)",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_int64(s, 1, (long long)time(NULL));
  sqlite3_bind_text(s, 2, who && who->name[0] ? who->name : "-", -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 3, cps_role_name(who ? who->role : CPS_ROLE_NONE), -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 4, operation, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 5, target ? target : "", -1, SQLITE_STATIC);
  sqlite3_bind_int(s, 6, result);
  cps_result r = sqlite3_step(s) == SQLITE_DONE ? CPS_OK : CPS_ERR_STORE;
  sqlite3_finalize(s);
  return r;
}

cps_result cps_audit_list(cps_service *svc, long long after_seq, int limit, cJSON **out) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT seq, time, token_name, role, operation, target, result FROM audit"
                         " WHERE seq > ? ORDER BY seq LIMIT ?",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_int64(s, 1, after_seq);
  sqlite3_bind_int(s, 2, limit > 0 ? limit : 1000);
  cJSON *arr = cJSON_CreateArray();
  if (!arr) {
    sqlite3_finalize(s);
    return CPS_ERR_NOMEM;
  }
  while (sqlite3_step(s) == SQLITE_ROW) {
    cJSON *o = cJSON_CreateObject();
    char ts[40];
    cps_time_iso((time_t)sqlite3_column_int64(s, 1), ts, sizeof ts);
    cJSON_AddNumberToObject(o, "seq", (double)sqlite3_column_int64(s, 0));
    cJSON_AddStringToObject(o, "time", ts);
    cJSON_AddStringToObject(o, "tokenName", (const char *)sqlite3_column_text(s, 2));
    cJSON_AddStringToObject(o, "role", (const char *)sqlite3_column_text(s, 3));
    cJSON_AddStringToObject(o, "operation", (const char *)sqlite3_column_text(s, 4));
    cJSON_AddStringToObject(o, "target", (const char *)sqlite3_column_text(s, 5));
    cJSON_AddNumberToObject(o, "result", sqlite3_column_int(s, 6));
    cJSON_AddItemToArray(arr, o);
  }
  sqlite3_finalize(s);
  *out = arr;
  return CPS_OK;
}
