/* Unit tests: twin merge rules, versions, desired log, telemetry counter. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_twin.h"
#include "hub_twin_merge.h"

typedef struct fixture {
  char dir[64];
  char path[128];
  hub_twin_store *store;
} fixture;

static int setup(void **state) {
  fixture *f = calloc(1, sizeof *f);
  if (!f) return -1;
  strcpy(f->dir, "/tmp/cp_hub_twin_XXXXXX");
  if (!mkdtemp(f->dir)) return -1;
  snprintf(f->path, sizeof f->path, "%s/server.db", f->dir);
  if (hub_twin_store_open(f->path, &f->store) != CP_OK) return -1;
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fixture *f = *state;
  hub_twin_store_close(f->store);
  char p[160];
  static const char *const suffix[] = {"", "-wal", "-shm"};
  for (int i = 0; i < 3; i++) {
    snprintf(p, sizeof p, "%s%s", f->path, suffix[i]);
    unlink(p);
  }
  rmdir(f->dir);
  free(f);
  return 0;
}

/* Parse a twin document and return one section member as a string. */
static cJSON *section(const char *json, const char *name) {
  cJSON *root = cJSON_Parse(json);
  assert_non_null(root);
  cJSON *s = cJSON_DetachItemFromObjectCaseSensitive(root, name);
  cJSON_Delete(root);
  assert_non_null(s);
  return s;
}

static void test_hub_twin_merge_null_deletes_nested_merges(void **state) {
  (void)state;
  cJSON *t = cJSON_Parse("{\"a\":1,\"b\":{\"x\":1,\"y\":2},\"c\":\"k\"}");
  cJSON *p = cJSON_Parse("{\"a\":null,\"b\":{\"y\":null,\"z\":3},\"d\":{\"e\":null,\"f\":[1]}}");
  assert_int_equal(hub_twin_merge(t, p), CP_OK);
  char *s = cJSON_PrintUnformatted(t);
  assert_string_equal(s, "{\"b\":{\"x\":1,\"z\":3},\"c\":\"k\",\"d\":{\"f\":[1]}}");
  free(s);
  cJSON_Delete(t);
  cJSON_Delete(p);
}

static void test_hub_twin_merge_value_replaces_object(void **state) {
  (void)state;
  cJSON *t = cJSON_Parse("{\"b\":{\"x\":1}}");
  cJSON *p = cJSON_Parse("{\"b\":5}");
  assert_int_equal(hub_twin_merge(t, p), CP_OK);
  char *s = cJSON_PrintUnformatted(t);
  assert_string_equal(s, "{\"b\":5}");
  free(s);
  cJSON_Delete(t);
  cJSON_Delete(p);
}

static void test_hub_twin_patch_check_rejects_bad_patches(void **state) {
  (void)state;
  static const char *const bad[] = {"[1,2]", "5", "\"x\"", "{\"$version\":3}", "{\"a\":{\"$b\":1}}",
                                    "{\"a\":{\"b\":{\"c\":{\"d\":{\"e\":{\"f\":{\"g\":{\"h\":{\"i\":{\"j\":{\"k\":1}}}}}}}}}}}"};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cJSON *p = cJSON_Parse(bad[i]);
    assert_non_null(p);
    if (hub_twin_patch_check(p, HUB_TWIN_MAX_DEPTH) != CP_ERR_PARSE) fail_msg("accepted %s", bad[i]);
    cJSON_Delete(p);
  }
  cJSON *ok = cJSON_Parse("{\"a\":{\"b\":{\"c\":1}}}");
  assert_int_equal(hub_twin_patch_check(ok, HUB_TWIN_MAX_DEPTH), CP_OK);
  cJSON_Delete(ok);
}

static void test_hub_twin_get_new_device_versions_one(void **state) {
  fixture *f = *state;
  char *json = NULL;
  assert_int_equal(hub_twin_get(f->store, "dev-1", &json), CP_OK);
  assert_string_equal(json, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
  free(json);
}

static void test_hub_twin_patch_reported_bumps_version_and_persists(void **state) {
  fixture *f = *state;
  long long v = 0;
  const char *p1 = "{\"fw\":\"1.0\",\"certificate\":{\"validUntil\":\"2026-03-31T00:00:00Z\"}}";
  assert_int_equal(hub_twin_patch_reported(f->store, "dev-1", p1, strlen(p1), &v), CP_OK);
  assert_int_equal(v, 2);
  const char *p2 = "{\"fw\":null,\"certificate\":{\"renewalCount\":1}}";
  assert_int_equal(hub_twin_patch_reported(f->store, "dev-1", p2, strlen(p2), &v), CP_OK);
  assert_int_equal(v, 3);
  /* reopen: persisted */
  hub_twin_store_close(f->store);
  assert_int_equal(hub_twin_store_open(f->path, &f->store), CP_OK);
  char *json = NULL;
  assert_int_equal(hub_twin_get(f->store, "dev-1", &json), CP_OK);
  cJSON *rep = section(json, "reported");
  char *s = cJSON_PrintUnformatted(rep);
  assert_string_equal(s, "{\"certificate\":{\"validUntil\":\"2026-03-31T00:00:00Z\","
                         "\"renewalCount\":1},\"$version\":3}");
  free(s);
  cJSON_Delete(rep);
  cJSON *des = section(json, "desired");
  assert_int_equal(cJSON_GetObjectItem(des, "$version")->valueint, 1);
  cJSON_Delete(des);
  free(json);
  /* other devices are unaffected */
  assert_int_equal(hub_twin_get(f->store, "dev-2", &json), CP_OK);
  assert_string_equal(json, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
  free(json);
}

static void test_hub_twin_patch_reported_bad_payload_changes_nothing(void **state) {
  fixture *f = *state;
  long long v = 77;
  const char *ok = "{\"a\":1}";
  assert_int_equal(hub_twin_patch_reported(f->store, "dev-1", ok, strlen(ok), &v), CP_OK);
  assert_int_equal(v, 2);
  static const char *const bad[] = {"not json", "[1]", "{\"$x\":1}", "{\"a\":", ""};
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    v = 77;
    assert_int_equal(hub_twin_patch_reported(f->store, "dev-1", bad[i], strlen(bad[i]), &v),
                     CP_ERR_PARSE);
    assert_int_equal(v, 77);
  }
  size_t big_len = HUB_TWIN_MAX_PATCH + 100;
  char *big = malloc(big_len + 1);
  assert_non_null(big);
  memset(big, ' ', big_len);
  memcpy(big, "{\"a\":\"", 6);
  memset(big + 6, 'x', big_len - 8);
  memcpy(big + big_len - 2, "\"}", 2);
  big[big_len] = '\0';
  assert_int_equal(hub_twin_patch_reported(f->store, "dev-1", big, big_len, &v),
                   CP_ERR_BUFFER_TOO_SMALL);
  free(big);
  char *json = NULL;
  assert_int_equal(hub_twin_get(f->store, "dev-1", &json), CP_OK);
  assert_string_equal(json, "{\"desired\":{\"$version\":1},\"reported\":{\"a\":1,\"$version\":2}}");
  free(json);
  assert_int_equal(hub_twin_patch_reported(f->store, "bad/id", ok, strlen(ok), &v),
                   CP_ERR_INVALID_ARG);
}

static void test_hub_twin_desired_after_returns_patches_in_order(void **state) {
  fixture *f = *state;
  long long v = 0, dv = 0;
  const char *p1 = "{\"interval\":10}";
  const char *p2 = "{\"mode\":\"eco\",\"interval\":null}";
  assert_int_equal(hub_twin_patch_desired(f->store, "dev-1", p1, strlen(p1), &v), CP_OK);
  assert_int_equal(v, 2);
  assert_int_equal(hub_twin_patch_desired(f->store, "dev-1", p2, strlen(p2), &v), CP_OK);
  assert_int_equal(v, 3);
  assert_int_equal(hub_twin_desired_version(f->store, "dev-1", &dv), CP_OK);
  assert_int_equal(dv, 3);
  char *json = NULL;
  assert_int_equal(hub_twin_desired_after(f->store, "dev-1", 1, &json, &v), CP_OK);
  assert_int_equal(v, 2);
  assert_string_equal(json, "{\"interval\":10,\"$version\":2}");
  free(json);
  assert_int_equal(hub_twin_desired_after(f->store, "dev-1", 2, &json, &v), CP_OK);
  assert_int_equal(v, 3);
  assert_string_equal(json, "{\"mode\":\"eco\",\"interval\":null,\"$version\":3}");
  free(json);
  json = NULL;
  assert_int_equal(hub_twin_desired_after(f->store, "dev-1", 3, &json, &v), CP_ERR_NOT_FOUND);
  assert_null(json);
  assert_int_equal(hub_twin_get(f->store, "dev-1", &json), CP_OK);
  assert_string_equal(json, "{\"desired\":{\"mode\":\"eco\",\"$version\":3},\"reported\":{\"$version\":1}}");
  free(json);
}

static void test_hub_twin_desired_after_pruned_sends_whole_section(void **state) {
  fixture *f = *state;
  long long v = 0;
  char patch[64];
  for (int i = 0; i < HUB_TWIN_DESIRED_LOG_KEEP + 5; i++) {
    snprintf(patch, sizeof patch, "{\"k%d\":%d}", i % 3, i);
    assert_int_equal(hub_twin_patch_desired(f->store, "dev-1", patch, strlen(patch), &v), CP_OK);
  }
  char *json = NULL;
  assert_int_equal(hub_twin_desired_after(f->store, "dev-1", 1, &json, &v), CP_OK);
  assert_int_equal(v, HUB_TWIN_DESIRED_LOG_KEEP + 6);
  cJSON *o = cJSON_Parse(json);
  assert_non_null(cJSON_GetObjectItem(o, "k0"));
  assert_non_null(cJSON_GetObjectItem(o, "k1"));
  assert_non_null(cJSON_GetObjectItem(o, "k2"));
  cJSON_Delete(o);
  free(json);
}

static void test_hub_telemetry_record_counts(void **state) {
  fixture *f = *state;
  long long n = -1;
  assert_int_equal(hub_telemetry_count(f->store, "dev-1", &n), CP_OK);
  assert_int_equal(n, 0);
  assert_int_equal(hub_telemetry_record(f->store, "dev-1", 10), CP_OK);
  assert_int_equal(hub_telemetry_record(f->store, "dev-1", 20), CP_OK);
  assert_int_equal(hub_telemetry_count(f->store, "dev-1", &n), CP_OK);
  assert_int_equal(n, 2);
  assert_int_equal(hub_telemetry_count(f->store, "dev-2", &n), CP_OK);
  assert_int_equal(n, 0);
  hub_telemetry_stats st;
  assert_int_equal(hub_telemetry_get(f->store, "dev-1", &st), CP_OK);
  assert_int_equal(st.messages, 2);
  assert_int_equal(st.bytes, 30);
  assert_true(st.last_utc > 0);
  assert_int_equal(hub_telemetry_get(f->store, "dev-2", &st), CP_OK);
  assert_int_equal(st.messages, 0);
  assert_int_equal(st.last_utc, 0);
}

static void test_hub_twin_store_open_bad_path_fails(void **state) {
  (void)state;
  hub_twin_store *s = (hub_twin_store *)0x1;
  assert_int_equal(hub_twin_store_open("/nonexistent-dir/x/y.db", &s), CP_ERR_IO);
  assert_ptr_equal(s, (hub_twin_store *)0x1);
  assert_int_equal(hub_twin_store_open(NULL, &s), CP_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_twin_merge_null_deletes_nested_merges),
      cmocka_unit_test(test_hub_twin_merge_value_replaces_object),
      cmocka_unit_test(test_hub_twin_patch_check_rejects_bad_patches),
      cmocka_unit_test_setup_teardown(test_hub_twin_get_new_device_versions_one, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hub_twin_patch_reported_bumps_version_and_persists, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hub_twin_patch_reported_bad_payload_changes_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hub_twin_desired_after_returns_patches_in_order, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hub_twin_desired_after_pruned_sends_whole_section, setup, teardown),
      cmocka_unit_test_setup_teardown(test_hub_telemetry_record_counts, setup, teardown),
      cmocka_unit_test(test_hub_twin_store_open_bad_path_fails),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
