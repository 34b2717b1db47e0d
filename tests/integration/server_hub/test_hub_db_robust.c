/*
 * Integration: the server process and the broker's plugin share one SQLite
 * (WAL) file. Stopping / killing / restarting the broker while this process
 * keeps its connections open (as certpilot-server and the test environments
 * do) must leave both processes on the same, intact database.
 *
 * Regression for "database disk image is malformed" after a broker restart:
 * cps_store_open() used to open() and close() the database file itself, which
 * dropped every POSIX lock this process's SQLite connections held on it; the
 * plugin, closing its connections on a clean broker stop, then believed it was
 * the last user, checkpointed and DELETED the -wal and -shm files under us.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <dirent.h>
#include <fcntl.h>
#include <signal.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cps_service.h"
#include "cps_store.h"
#include "hub_it_env.h"
#include "hub_twin.h"

/* base64 of 32 fixed bytes: test-only group key */
#define GROUP_KEY "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
#define ROUNDS 6

static it_env env;
static hub_twin_store *twins; /* a third connection in this process, as hub_server has */

static char *path(const char *name) {
  static char buf[4][400];
  static int i;
  i = (i + 1) % 4;
  snprintf(buf[i], sizeof buf[i], "%s/%s", env.dir, name);
  return buf[i];
}

static int group_setup(void **state) {
  (void)state;
  it_retry_after_s = 0;
  if (it_env_start(&env) != 0) return -1;
  if (hub_twin_store_open(env.db, &twins) != CP_OK) return -1;
  if (it_mgmt(&env, "POST", "/credential", "{}", NULL) >= 300) return -1;
  if (it_mgmt(&env, "POST", "/policies", "{\"name\":\"p1\",\"validityDays\":30}", NULL) >= 300) return -1;
  if (it_mgmt(&env, "POST", "/enrollments",
              "{\"id\":\"grp-sas\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
              "\"primaryKey\":\"" GROUP_KEY "\",\"policy\":\"p1\",\"hub\":\"" IT_HUB "\"}",
              NULL) >= 300)
    return -1;
  return hub_broker_sync_trust(env.broker) == CP_OK ? 0 : -1;
}

static int group_teardown(void **state) {
  (void)state;
  hub_twin_store_close(twins);
  it_env_stop(&env);
  return 0;
}

static bool file_exists(const char *suffix) {
  char p[400];
  snprintf(p, sizeof p, "%s%s", env.db, suffix);
  struct stat st;
  return stat(p, &st) == 0;
}

/* Single-value query; -1 on any error (printed). */
static long long query_int(sqlite3 *db, const char *sql) {
  sqlite3_stmt *s = NULL;
  long long v = -1;
  if (sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    v = sqlite3_column_int64(s, 0);
  else
    fprintf(stderr, "query '%s': %s\n", sql, sqlite3_errmsg(db));
  sqlite3_finalize(s);
  return v;
}

/* "ok" from PRAGMA integrity_check on @p db. */
static bool integrity_ok(sqlite3 *db) {
  sqlite3_stmt *s = NULL;
  bool ok = false;
  if (sqlite3_prepare_v2(db, "PRAGMA integrity_check", -1, &s, NULL) == SQLITE_OK &&
      sqlite3_step(s) == SQLITE_ROW) {
    const char *t = (const char *)sqlite3_column_text(s, 0);
    ok = t && strcmp(t, "ok") == 0;
    if (!ok) fprintf(stderr, "integrity_check: %s\n", t ? t : "(null)");
  } else {
    fprintf(stderr, "integrity_check: %s\n", sqlite3_errmsg(db));
  }
  sqlite3_finalize(s);
  return ok;
}

/* Devices as listed by the management API of this process. */
static int mgmt_device_count(void) {
  char *out = NULL;
  int st = it_mgmt(&env, "GET", "/devices", NULL, &out);
  cJSON *arr = out ? cJSON_Parse(out) : NULL;
  free(out);
  int n = st == 200 && cJSON_IsArray(arr) ? cJSON_GetArraySize(arr) : -1;
  cJSON_Delete(arr);
  return n;
}

/* This process's long-lived connections and a fresh one agree and are intact. */
static void assert_db_consistent(int devices, const char *when) {
  sqlite3 *svc_db = cps_store_db(cps_service_store(env.svc));
  sqlite3 *fresh = NULL;
  assert_int_equal(sqlite3_open_v2(env.db, &fresh, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
  sqlite3_busy_timeout(fresh, 5000);
  long long a = query_int(svc_db, "SELECT count(*) FROM device");
  long long b = query_int(fresh, "SELECT count(*) FROM device");
  long long pa = query_int(svc_db, "SELECT count(*) FROM policy");
  long long pb = query_int(fresh, "SELECT count(*) FROM policy");
  long long aa = query_int(svc_db, "SELECT max(seq) FROM audit");
  long long ab = query_int(fresh, "SELECT max(seq) FROM audit");
  bool i1 = integrity_ok(svc_db), i2 = integrity_ok(fresh);
  sqlite3_close(fresh);
  if (a != devices || b != devices || pa != pb || aa != ab || !i1 || !i2)
    fprintf(stderr, "%s: devices %lld/%lld (want %d), policies %lld/%lld, audit %lld/%lld, integrity %d/%d\n",
            when, a, b, devices, pa, pb, aa, ab, i1, i2);
  assert_int_equal(a, devices);
  assert_int_equal(b, devices);
  assert_int_equal(pa, pb);
  assert_int_equal(aa, ab);
  assert_true(i1);
  assert_true(i2);
  assert_int_equal(mgmt_device_count(), devices);
}

static void provision(const char *regid) {
  char k[64], c[64];
  snprintf(k, sizeof k, "%s.key", regid);
  snprintf(c, sizeof c, "%s.chain.pem", regid);
  assert_int_equal(it_provision(&env, "ssl-sas", regid, it_group_sas(&env, GROUP_KEY, regid), NULL,
                                NULL, path(k), path(c)),
                   0);
}

/* ---------------------------------------------------------------- tests --- */

static void test_broker_stop_kill_restart_cycles_database_stays_consistent(void **state) {
  (void)state;
  for (int round = 0; round < ROUNDS; round++) {
    char id[32], body[128], what[64];
    snprintf(id, sizeof id, "robust-dev-%d", round);
    provision(id); /* the plugin writes device, issued serial, operation */
    snprintf(what, sizeof what, "round %d after provisioning", round);
    assert_db_consistent(round + 1, what);
    assert_true(file_exists("-wal"));

    if (round % 2 == 0) {
      /* Clean stop: mosquitto runs the plugin's cleanup, which closes its
       * connections. We still hold ours, so SQLite must keep the WAL. */
      hub_broker_stop(env.broker);
      env.broker = NULL;
      if (!file_exists("-wal") || !file_exists("-shm"))
        fprintf(stderr, "round %d: the broker's clean exit deleted %s-wal/-shm while this process "
                        "still had it open\n", round, env.db);
      assert_true(file_exists("-wal"));
      assert_true(file_exists("-shm"));
      /* Writes from this process while the broker is down. */
      snprintf(body, sizeof body, "{\"name\":\"down-%d\",\"validityDays\":30}", round);
      assert_int_equal(it_mgmt(&env, "POST", "/policies", body, NULL), 201);
      char why[256] = "";
      cp_result r = hub_broker_start(&env.cfg, &env.broker, why, sizeof why);
      if (r != CP_OK) fprintf(stderr, "broker restart: %s\n", why);
      assert_int_equal(r, CP_OK);
    } else {
      /* Crash: the supervisor restarts it. */
      unsigned before = hub_broker_restarts(env.broker);
      pid_t old = hub_broker_pid(env.broker);
      assert_true(old > 0);
      assert_int_equal(kill(old, SIGKILL), 0);
      for (int i = 0; i < 100 && hub_broker_restarts(env.broker) == before; i++) usleep(100000);
      assert_int_equal(hub_broker_restarts(env.broker), before + 1);
      assert_int_equal(hub_broker_state_get(env.broker), HUB_BROKER_RUNNING);
      snprintf(body, sizeof body, "{\"name\":\"crash-%d\",\"validityDays\":30}", round);
      assert_int_equal(it_mgmt(&env, "POST", "/policies", body, NULL), 201);
    }
    assert_int_equal(hub_broker_sync_trust(env.broker), CP_OK);
    snprintf(what, sizeof what, "round %d after the broker restart", round);
    assert_db_consistent(round + 1, what);
    /* The twin store (another connection of this process) still reads and writes. */
    long long v = 0;
    snprintf(body, sizeof body, "{\"round\":%d}", round);
    assert_int_equal(hub_twin_patch_desired(twins, id, body, strlen(body), &v), CP_OK);
    char *twin = NULL;
    assert_int_equal(hub_twin_get(twins, id, &twin), CP_OK);
    snprintf(body, sizeof body, "\"round\":%d", round);
    assert_non_null(strstr(twin, body));
    free(twin);
  }
}

/* The supervisor forks mosquitto while this process has SQLite connections
 * open: none of their descriptors may survive the exec (SQLite opens them
 * O_CLOEXEC; the child also closes fds 3..1023 before exec). */
static void test_database_descriptors_close_on_exec(void **state) {
  (void)state;
  DIR *d = opendir("/proc/self/fd");
  assert_non_null(d);
  int seen = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL) {
    if (de->d_name[0] == '.') continue;
    char link[300], target[512], info[300];
    snprintf(link, sizeof link, "/proc/self/fd/%s", de->d_name);
    ssize_t n = readlink(link, target, sizeof target - 1);
    if (n <= 0) continue;
    target[n] = '\0';
    if (strncmp(target, env.db, strlen(env.db)) != 0) continue;
    snprintf(info, sizeof info, "/proc/self/fdinfo/%s", de->d_name);
    FILE *f = fopen(info, "r");
    assert_non_null(f);
    char line[128];
    unsigned long flags = 0;
    bool have = false;
    while (fgets(line, sizeof line, f))
      if (sscanf(line, "flags: %lo", &flags) == 1) have = true;
    fclose(f);
    assert_true(have);
    if (!(flags & O_CLOEXEC)) fprintf(stderr, "fd %s (%s) is inherited by children\n", de->d_name, target);
    assert_true(flags & O_CLOEXEC);
    seen++;
  }
  closedir(d);
  assert_true(seen >= 3); /* database, -wal, -shm */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_database_descriptors_close_on_exec),
      cmocka_unit_test(test_broker_stop_kill_restart_cycles_database_stays_consistent),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
