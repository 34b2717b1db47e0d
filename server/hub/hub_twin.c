/* Twin persistence in SQLite (hub-owned tables in the core's DB file). */
#include "hub_twin.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub_topic.h"
#include "hub_twin_merge.h"

struct hub_twin_store {
  sqlite3 *db;
};

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS hub_twin ("
    " device_id TEXT PRIMARY KEY,"
    " desired TEXT NOT NULL DEFAULT '{}',"
    " desired_version INTEGER NOT NULL DEFAULT 1,"
    " reported TEXT NOT NULL DEFAULT '{}',"
    " reported_version INTEGER NOT NULL DEFAULT 1,"
    " updated_utc INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS hub_twin_desired_log ("
    " device_id TEXT NOT NULL,"
    " version INTEGER NOT NULL,"
    " patch TEXT NOT NULL,"
    " PRIMARY KEY (device_id, version));"
    "CREATE TABLE IF NOT EXISTS hub_telemetry ("
    " device_id TEXT PRIMARY KEY,"
    " messages INTEGER NOT NULL DEFAULT 0,"
    " bytes INTEGER NOT NULL DEFAULT 0,"
    " last_utc INTEGER NOT NULL DEFAULT 0);";

static cp_result sql_fail(hub_twin_store *s, const char *what) {
  fprintf(stderr, "certpilot hub: twin store: %s: %s\n", what, sqlite3_errmsg(s->db));
  return CP_ERR_IO;
}

cp_result hub_twin_store_open(const char *db_path, hub_twin_store **out) {
  if (!db_path || !out) return CP_ERR_INVALID_ARG;
  hub_twin_store *s = calloc(1, sizeof *s);
  if (!s) return CP_ERR_NO_MEMORY;
  if (sqlite3_open_v2(db_path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX,
                      NULL) != SQLITE_OK) {
    fprintf(stderr, "certpilot hub: cannot open %s: %s\n", db_path,
            s->db ? sqlite3_errmsg(s->db) : "out of memory");
    sqlite3_close(s->db);
    free(s);
    return CP_ERR_IO;
  }
  sqlite3_busy_timeout(s->db, 5000);
  char *err = NULL;
  if (sqlite3_exec(s->db, "PRAGMA journal_mode=WAL;", NULL, NULL, &err) != SQLITE_OK) {
    /* WAL is an optimisation; a DB on a filesystem without it still works. */
    sqlite3_free(err);
    err = NULL;
  }
  if (sqlite3_exec(s->db, schema_sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "certpilot hub: cannot create twin tables: %s\n", err ? err : "?");
    sqlite3_free(err);
    sqlite3_close(s->db);
    free(s);
    return CP_ERR_IO;
  }
  *out = s;
  return CP_OK;
}

void hub_twin_store_close(hub_twin_store *store) {
  if (!store) return;
  sqlite3_close(store->db);
  free(store);
}

static cp_result exec(hub_twin_store *s, const char *sql) {
  char *err = NULL;
  if (sqlite3_exec(s->db, sql, NULL, NULL, &err) != SQLITE_OK) {
    fprintf(stderr, "certpilot hub: twin store: %s: %s\n", sql, err ? err : "?");
    sqlite3_free(err);
    return CP_ERR_IO;
  }
  return CP_OK;
}

static cp_result ensure_row(hub_twin_store *s, const char *id) {
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, "INSERT OR IGNORE INTO hub_twin(device_id) VALUES(?1)", -1, &st,
                         NULL) != SQLITE_OK)
    return sql_fail(s, "prepare insert");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? CP_OK : sql_fail(s, "insert twin");
}

/* Read one section (0 desired, 1 reported) and its version. */
static cp_result read_section(hub_twin_store *s, const char *id, int which, cJSON **doc,
                              long long *version) {
  static const char *const q[2] = {
      "SELECT desired, desired_version FROM hub_twin WHERE device_id=?1",
      "SELECT reported, reported_version FROM hub_twin WHERE device_id=?1"};
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(s->db, q[which], -1, &st, NULL) != SQLITE_OK)
    return sql_fail(s, "prepare select");
  sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
  cp_result r = CP_OK;
  if (sqlite3_step(st) == SQLITE_ROW) {
    const char *text = (const char *)sqlite3_column_text(st, 0);
    *version = sqlite3_column_int64(st, 1);
    *doc = cJSON_Parse(text ? text : "{}");
    if (!*doc || !cJSON_IsObject(*doc)) {
      cJSON_Delete(*doc);
      *doc = NULL;
      r = CP_ERR_IO; /* stored data is corrupt */
    }
  } else {
    *doc = cJSON_CreateObject();
    *version = 1;
    if (!*doc) r = CP_ERR_NO_MEMORY;
  }
  sqlite3_finalize(st);
  return r;
}

cp_result hub_twin_get(hub_twin_store *store, const char *device_id, char **json_out) {
  if (!store || !json_out || !hub_id_valid(device_id)) return CP_ERR_INVALID_ARG;
  cJSON *desired = NULL, *reported = NULL, *root = NULL;
  long long dv = 0, rv = 0;
  cp_result r = exec(store, "BEGIN");
  if (r != CP_OK) return r;
  r = read_section(store, device_id, 0, &desired, &dv);
  if (r == CP_OK) r = read_section(store, device_id, 1, &reported, &rv);
  exec(store, "COMMIT");
  if (r != CP_OK) goto out;
  r = CP_ERR_NO_MEMORY;
  if (!cJSON_AddNumberToObject(desired, "$version", (double)dv) ||
      !cJSON_AddNumberToObject(reported, "$version", (double)rv))
    goto out;
  root = cJSON_CreateObject();
  if (!root) goto out;
  cJSON_AddItemToObject(root, "desired", desired);
  desired = NULL;
  cJSON_AddItemToObject(root, "reported", reported);
  reported = NULL;
  char *text = cJSON_PrintUnformatted(root);
  if (!text) goto out;
  *json_out = text;
  r = CP_OK;
out:
  cJSON_Delete(desired);
  cJSON_Delete(reported);
  cJSON_Delete(root);
  return r;
}

static cp_result parse_patch(const char *patch, size_t len, cJSON **out) {
  if (len > HUB_TWIN_MAX_PATCH) return CP_ERR_BUFFER_TOO_SMALL;
  cJSON *p = cJSON_ParseWithLength(patch, len);
  if (!p) return CP_ERR_PARSE;
  cp_result r = hub_twin_patch_check(p, HUB_TWIN_MAX_DEPTH);
  if (r != CP_OK) {
    cJSON_Delete(p);
    return r;
  }
  *out = p;
  return CP_OK;
}

static cp_result patch_section(hub_twin_store *s, const char *id, int which, const char *patch,
                               size_t len, long long *version_out) {
  if (!s || !patch || !hub_id_valid(id)) return CP_ERR_INVALID_ARG;
  cJSON *p = NULL, *doc = NULL;
  char *text = NULL, *patch_text = NULL;
  cp_result r = parse_patch(patch, len, &p);
  if (r != CP_OK) return r;
  r = exec(s, "BEGIN IMMEDIATE");
  if (r != CP_OK) {
    cJSON_Delete(p);
    return r;
  }
  long long version = 0;
  r = ensure_row(s, id);
  if (r == CP_OK) r = read_section(s, id, which, &doc, &version);
  if (r == CP_OK) r = hub_twin_merge(doc, p);
  if (r == CP_OK) {
    text = cJSON_PrintUnformatted(doc);
    if (!text) r = CP_ERR_NO_MEMORY;
    else if (strlen(text) > HUB_TWIN_MAX_SECTION) r = CP_ERR_BUFFER_TOO_SMALL;
  }
  version++;
  if (r == CP_OK) {
    static const char *const upd[2] = {
        "UPDATE hub_twin SET desired=?2, desired_version=?3, updated_utc=?4 WHERE device_id=?1",
        "UPDATE hub_twin SET reported=?2, reported_version=?3, updated_utc=?4 WHERE device_id=?1"};
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(s->db, upd[which], -1, &st, NULL) != SQLITE_OK) {
      r = sql_fail(s, "prepare update");
    } else {
      sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_text(st, 2, text, -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 3, version);
      sqlite3_bind_int64(st, 4, (sqlite3_int64)time(NULL));
      if (sqlite3_step(st) != SQLITE_DONE) r = sql_fail(s, "update twin");
      sqlite3_finalize(st);
    }
  }
  if (r == CP_OK && which == 0) {
    /* Log the desired patch (as sent) for the notification to the device. */
    patch_text = cJSON_PrintUnformatted(p);
    sqlite3_stmt *st = NULL;
    if (!patch_text) {
      r = CP_ERR_NO_MEMORY;
    } else if (sqlite3_prepare_v2(s->db,
                                  "INSERT INTO hub_twin_desired_log(device_id, version, patch) "
                                  "VALUES(?1, ?2, ?3)",
                                  -1, &st, NULL) != SQLITE_OK) {
      r = sql_fail(s, "prepare log");
    } else {
      sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
      sqlite3_bind_int64(st, 2, version);
      sqlite3_bind_text(st, 3, patch_text, -1, SQLITE_STATIC);
      if (sqlite3_step(st) != SQLITE_DONE) r = sql_fail(s, "insert log");
      sqlite3_finalize(st);
    }
    if (r == CP_OK) {
      st = NULL;
      if (sqlite3_prepare_v2(s->db,
                             "DELETE FROM hub_twin_desired_log WHERE device_id=?1 AND version<=?2",
                             -1, &st, NULL) != SQLITE_OK) {
        r = sql_fail(s, "prepare prune");
      } else {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_int64(st, 2, version - HUB_TWIN_DESIRED_LOG_KEEP);
        if (sqlite3_step(st) != SQLITE_DONE) r = sql_fail(s, "prune log");
        sqlite3_finalize(st);
      }
    }
  }
  if (r == CP_OK) r = exec(s, "COMMIT");
  if (r != CP_OK) exec(s, "ROLLBACK");
  else if (version_out) *version_out = version;
  free(text);
  free(patch_text);
  cJSON_Delete(doc);
  cJSON_Delete(p);
  return r;
}

cp_result hub_twin_patch_reported(hub_twin_store *store, const char *device_id,
                                  const char *patch, size_t len, long long *version_out) {
  return patch_section(store, device_id, 1, patch, len, version_out);
}

cp_result hub_twin_patch_desired(hub_twin_store *store, const char *device_id,
                                 const char *patch, size_t len, long long *version_out) {
  return patch_section(store, device_id, 0, patch, len, version_out);
}

cp_result hub_twin_desired_version(hub_twin_store *store, const char *device_id,
                                   long long *version_out) {
  if (!store || !version_out || !hub_id_valid(device_id)) return CP_ERR_INVALID_ARG;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(store->db, "SELECT desired_version FROM hub_twin WHERE device_id=?1",
                         -1, &st, NULL) != SQLITE_OK)
    return sql_fail(store, "prepare version");
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  cp_result r = CP_OK;
  if (rc == SQLITE_ROW) *version_out = sqlite3_column_int64(st, 0);
  else if (rc == SQLITE_DONE) *version_out = 1;
  else r = sql_fail(store, "select version");
  sqlite3_finalize(st);
  return r;
}

/* Attach "$version": v to a JSON object text and return the new text. */
static cp_result with_version(const char *text, long long v, char **json_out) {
  cJSON *o = cJSON_Parse(text);
  if (!o || !cJSON_IsObject(o)) {
    cJSON_Delete(o);
    return CP_ERR_IO;
  }
  cJSON_DeleteItemFromObjectCaseSensitive(o, "$version");
  char *out = NULL;
  if (cJSON_AddNumberToObject(o, "$version", (double)v)) out = cJSON_PrintUnformatted(o);
  cJSON_Delete(o);
  if (!out) return CP_ERR_NO_MEMORY;
  *json_out = out;
  return CP_OK;
}

cp_result hub_twin_desired_after(hub_twin_store *store, const char *device_id,
                                 long long after_version, char **json_out,
                                 long long *version_out) {
  if (!store || !json_out || !version_out || !hub_id_valid(device_id)) return CP_ERR_INVALID_ARG;
  long long current = 1;
  cp_result r = hub_twin_desired_version(store, device_id, &current);
  if (r != CP_OK) return r;
  if (current <= after_version) return CP_ERR_NOT_FOUND;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT version, patch FROM hub_twin_desired_log WHERE device_id=?1 "
                         "AND version>?2 ORDER BY version LIMIT 1",
                         -1, &st, NULL) != SQLITE_OK)
    return sql_fail(store, "prepare log select");
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, after_version);
  int rc = sqlite3_step(st);
  if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) == after_version + 1) {
    long long v = sqlite3_column_int64(st, 0);
    r = with_version((const char *)sqlite3_column_text(st, 1), v, json_out);
    if (r == CP_OK) *version_out = v;
    sqlite3_finalize(st);
    return r;
  }
  sqlite3_finalize(st);
  if (rc != SQLITE_ROW && rc != SQLITE_DONE) return sql_fail(store, "log select");
  /* Gap (pruned, or the device is far behind): send the whole section. */
  cJSON *doc = NULL;
  long long v = 0;
  r = read_section(store, device_id, 0, &doc, &v);
  if (r != CP_OK) return r;
  char *text = cJSON_PrintUnformatted(doc);
  cJSON_Delete(doc);
  if (!text) return CP_ERR_NO_MEMORY;
  r = with_version(text, v, json_out);
  free(text);
  if (r == CP_OK) *version_out = v;
  return r;
}

cp_result hub_telemetry_record(hub_twin_store *store, const char *device_id, size_t bytes) {
  if (!store || !hub_id_valid(device_id)) return CP_ERR_INVALID_ARG;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(store->db,
                         "INSERT INTO hub_telemetry(device_id, messages, bytes, last_utc) "
                         "VALUES(?1, 1, ?2, ?3) ON CONFLICT(device_id) DO UPDATE SET "
                         "messages=messages+1, bytes=bytes+?2, last_utc=?3",
                         -1, &st, NULL) != SQLITE_OK)
    return sql_fail(store, "prepare telemetry");
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(st, 2, (sqlite3_int64)bytes);
  sqlite3_bind_int64(st, 3, (sqlite3_int64)time(NULL));
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  return rc == SQLITE_DONE ? CP_OK : sql_fail(store, "count telemetry");
}

cp_result hub_telemetry_count(hub_twin_store *store, const char *device_id,
                              long long *count_out) {
  if (!store || !count_out || !hub_id_valid(device_id)) return CP_ERR_INVALID_ARG;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(store->db, "SELECT messages FROM hub_telemetry WHERE device_id=?1", -1,
                         &st, NULL) != SQLITE_OK)
    return sql_fail(store, "prepare telemetry count");
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  cp_result r = CP_OK;
  if (rc == SQLITE_ROW) *count_out = sqlite3_column_int64(st, 0);
  else if (rc == SQLITE_DONE) *count_out = 0;
  else r = sql_fail(store, "telemetry count");
  sqlite3_finalize(st);
  return r;
}

cp_result hub_telemetry_get(hub_twin_store *store, const char *device_id,
                            hub_telemetry_stats *out) {
  if (!store || !out || !hub_id_valid(device_id)) return CP_ERR_INVALID_ARG;
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(store->db,
                         "SELECT messages, bytes, last_utc FROM hub_telemetry WHERE device_id=?1",
                         -1, &st, NULL) != SQLITE_OK)
    return sql_fail(store, "prepare telemetry stats");
  sqlite3_bind_text(st, 1, device_id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(st);
  cp_result r = CP_OK;
  hub_telemetry_stats v = {0, 0, 0};
  if (rc == SQLITE_ROW) {
    v.messages = sqlite3_column_int64(st, 0);
    v.bytes = sqlite3_column_int64(st, 1);
    v.last_utc = sqlite3_column_int64(st, 2);
  } else if (rc != SQLITE_DONE) {
    r = sql_fail(store, "telemetry stats");
  }
  sqlite3_finalize(st);
  if (r == CP_OK) *out = v;
  return r;
}
