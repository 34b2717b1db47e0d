/* SQLite store: open, schema, transactions, meta. */
#include "cps_store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

struct cps_store {
  sqlite3 *db;
};

static const char *const SCHEMA =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS credential(id INTEGER PRIMARY KEY, created INTEGER NOT NULL,"
    " root_cert BLOB NOT NULL, root_key TEXT, deleted INTEGER NOT NULL DEFAULT 0,"
    " crl_number INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS policy(id INTEGER PRIMARY KEY, name TEXT NOT NULL,"
    " validity_s INTEGER NOT NULL, byor INTEGER NOT NULL DEFAULT 0, state TEXT NOT NULL,"
    " deleted INTEGER NOT NULL DEFAULT 0, created INTEGER NOT NULL,"
    " credential_id INTEGER REFERENCES credential(id));"
    "CREATE UNIQUE INDEX IF NOT EXISTS policy_live_name ON policy(name) WHERE deleted = 0;"
    "CREATE TABLE IF NOT EXISTS ica(id INTEGER PRIMARY KEY,"
    " policy_id INTEGER NOT NULL REFERENCES policy(id), cert BLOB, key TEXT NOT NULL,"
    " csr BLOB, root BLOB, state TEXT NOT NULL, trusted INTEGER NOT NULL DEFAULT 0,"
    " revoked_at INTEGER, created INTEGER NOT NULL, crl_number INTEGER NOT NULL DEFAULT 0);"
    "CREATE TABLE IF NOT EXISTS enrollment(id TEXT PRIMARY KEY COLLATE NOCASE,"
    " grp INTEGER NOT NULL, x509 INTEGER NOT NULL, registration_id TEXT COLLATE NOCASE,"
    " primary_key TEXT, secondary_key TEXT, x509_cert BLOB, policy TEXT NOT NULL,"
    " hub TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1, created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS enrollment_regid ON enrollment(registration_id);"
    "CREATE TABLE IF NOT EXISTS device(id TEXT PRIMARY KEY COLLATE NOCASE,"
    " enrollment_id TEXT NOT NULL, hub TEXT NOT NULL, enabled INTEGER NOT NULL DEFAULT 1,"
    " revocation_id TEXT NOT NULL, created INTEGER NOT NULL, updated INTEGER NOT NULL,"
    " etag INTEGER NOT NULL DEFAULT 1);"
    "CREATE TABLE IF NOT EXISTS issued(serial TEXT PRIMARY KEY, device_id TEXT NOT NULL,"
    " ica_id INTEGER NOT NULL REFERENCES ica(id), not_before INTEGER NOT NULL,"
    " not_after INTEGER NOT NULL, revoked INTEGER NOT NULL DEFAULT 0, revoked_at INTEGER);"
    "CREATE INDEX IF NOT EXISTS issued_device ON issued(device_id);"
    "CREATE INDEX IF NOT EXISTS issued_ica ON issued(ica_id, revoked);"
    "CREATE TABLE IF NOT EXISTS operation(id TEXT PRIMARY KEY, registration_id TEXT NOT NULL"
    " COLLATE NOCASE, status TEXT NOT NULL, result TEXT NOT NULL, created INTEGER NOT NULL);"
    "CREATE INDEX IF NOT EXISTS operation_created ON operation(created);"
    "CREATE TABLE IF NOT EXISTS audit(seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " time INTEGER NOT NULL, token_name TEXT NOT NULL, role TEXT NOT NULL,"
    " operation TEXT NOT NULL, target TEXT NOT NULL, result INTEGER NOT NULL);"
    "CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit"
    " BEGIN SELECT RAISE(ABORT, 'audit log is append-only'); END;"
    "CREATE TABLE IF NOT EXISTS crl(scope TEXT PRIMARY KEY, gen INTEGER NOT NULL,"
    " number INTEGER NOT NULL, der BLOB NOT NULL, this_update INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS token(name TEXT PRIMARY KEY, role TEXT NOT NULL,"
    " hash BLOB NOT NULL UNIQUE, created INTEGER NOT NULL);";

/* Serialises create_private() between threads (see there). */
static pthread_mutex_t create_mu = PTHREAD_MUTEX_INITIALIZER;

/*
 * Create @p path 0600 if it does not exist, so that keys in it are never
 * world-readable (SQLite gives -wal and -shm the database file's mode).
 *
 * An EXISTING database file must never be open()ed and close()d here: POSIX
 * record locks belong to the process, and closing ANY descriptor of the file
 * drops every lock the process holds on it, including the SHARED lock that
 * each SQLite connection of this process (other services, other threads, the
 * twin store) keeps on a WAL database. Another process (the broker's plugin)
 * then believes it is the last user when it closes its connection: it
 * checkpoints and deletes the -wal and -shm files that our connections still
 * use, and both processes go on with different WALs ("database disk image is
 * malformed", lost writes). O_EXCL only creates: on an existing file no
 * descriptor is opened. A file it does create is new and unlocked; the mutex
 * keeps another cps_store_open() of this process from connecting to it
 * before our descriptor is closed.
 */
static cps_result create_private(const char *path, cps_error *err) {
  pthread_mutex_lock(&create_mu);
  int fd = open(path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  int e = errno;
  if (fd >= 0) close(fd);
  pthread_mutex_unlock(&create_mu);
  if (fd >= 0 || e == EEXIST) return CPS_OK;
  return cps_fail(err, CPS_ERR_IO, "store: cannot create %s: %s", path, strerror(e));
}

cps_result cps_store_open(const char *path, cps_store **out, cps_error *err) {
  if (!path || !*path) return cps_fail(err, CPS_ERR_INVALID, "store: no database path");
  if (strcmp(path, ":memory:") != 0 && create_private(path, err) != CPS_OK) return CPS_ERR_IO;
  cps_store *st = calloc(1, sizeof *st);
  if (!st) return CPS_ERR_NOMEM;
  if (sqlite3_open_v2(path, &st->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK) {
    cps_fail(err, CPS_ERR_STORE, "store: %s: %s", path,
             st->db ? sqlite3_errmsg(st->db) : "out of memory");
    cps_store_close(st);
    return CPS_ERR_STORE;
  }
  sqlite3_busy_timeout(st->db, 5000);
  char *emsg = NULL;
  if (sqlite3_exec(st->db, "PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;"
                           "PRAGMA synchronous=NORMAL;", NULL, NULL, &emsg) != SQLITE_OK ||
      sqlite3_exec(st->db, SCHEMA, NULL, NULL, &emsg) != SQLITE_OK) {
    cps_fail(err, CPS_ERR_STORE, "store: schema: %s", emsg ? emsg : "?");
    sqlite3_free(emsg);
    cps_store_close(st);
    return CPS_ERR_STORE;
  }
  *out = st;
  return CPS_OK;
}

void cps_store_close(cps_store *st) {
  if (!st) return;
  sqlite3_close(st->db);
  free(st);
}

sqlite3 *cps_store_db(cps_store *st) { return st->db; }

cps_result cps_store_begin(cps_store *st) {
  return sqlite3_exec(st->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK ? CPS_OK
                                                                                : CPS_ERR_STORE;
}

cps_result cps_store_commit(cps_store *st) {
  if (sqlite3_exec(st->db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK) return CPS_OK;
  cps_store_rollback(st);
  return CPS_ERR_STORE;
}

void cps_store_rollback(cps_store *st) {
  if (!sqlite3_get_autocommit(st->db)) sqlite3_exec(st->db, "ROLLBACK", NULL, NULL, NULL);
}

cps_result cps_store_meta_get(cps_store *st, const char *key, char **out) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, "SELECT value FROM meta WHERE key=?", -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  cps_result r = CPS_ERR_NOT_FOUND;
  if (sqlite3_step(s) == SQLITE_ROW) {
    const char *v = (const char *)sqlite3_column_text(s, 0);
    char *copy = strdup(v ? v : "");
    if (copy) {
      *out = copy;
      r = CPS_OK;
    } else {
      r = CPS_ERR_NOMEM;
    }
  }
  sqlite3_finalize(s);
  return r;
}

cps_result cps_store_meta_set(cps_store *st, const char *key, const char *value) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(st->db, "INSERT OR REPLACE INTO meta(key, value) VALUES(?, ?)", -1, &s,
                         NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, value, -1, SQLITE_STATIC);
  cps_result r = sqlite3_step(s) == SQLITE_DONE ? CPS_OK : CPS_ERR_STORE;
  sqlite3_finalize(s);
  return r;
}
