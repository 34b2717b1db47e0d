/* Unit tests: RBAC decisions and bearer tokens (cps_rbac.h), audit (cps_audit.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "cps_audit.h"
#include "cps_rbac.h"
#include "cps_test_util.h"

static void test_cps_rbac_check_roles_matrix(void **state) {
  (void)state;
  assert_int_equal(cps_rbac_check(CPS_ROLE_CONTRIBUTOR, CPS_ACCESS_READ), CPS_OK);
  assert_int_equal(cps_rbac_check(CPS_ROLE_CONTRIBUTOR, CPS_ACCESS_WRITE), CPS_OK);
  assert_int_equal(cps_rbac_check(CPS_ROLE_READER, CPS_ACCESS_READ), CPS_OK);
  assert_int_equal(cps_rbac_check(CPS_ROLE_READER, CPS_ACCESS_WRITE), CPS_ERR_FORBIDDEN);
  assert_int_equal(cps_rbac_check(CPS_ROLE_NONE, CPS_ACCESS_READ), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_rbac_check(CPS_ROLE_NONE, CPS_ACCESS_WRITE), CPS_ERR_UNAUTHORIZED);
}

static void test_cps_role_parse_names_roundtrip(void **state) {
  (void)state;
  assert_int_equal(cps_role_parse("reader"), CPS_ROLE_READER);
  assert_int_equal(cps_role_parse("credentials-contributor"), CPS_ROLE_CONTRIBUTOR);
  assert_int_equal(cps_role_parse("admin"), CPS_ROLE_NONE);
  assert_string_equal(cps_role_name(CPS_ROLE_CONTRIBUTOR), "credentials-contributor");
}

static void test_cps_token_authenticate_created_token_maps_to_role(void **state) {
  (void)state;
  char path[64], secret[80], hdr[100];
  cps_service *svc = tu_service(path, 1);
  cps_error err = {{0}};
  assert_int_equal(cps_token_create(svc, "ops", CPS_ROLE_READER, secret, sizeof secret, &err), CPS_OK);
  snprintf(hdr, sizeof hdr, "Bearer %s", secret);
  cps_principal p;
  assert_int_equal(cps_token_authenticate(svc, hdr, &p), CPS_OK);
  assert_string_equal(p.name, "ops");
  assert_int_equal(p.role, CPS_ROLE_READER);
  /* the secret itself is not stored */
  sqlite3_stmt *s = NULL;
  sqlite3_prepare_v2(cps_store_db(cps_service_store(svc)), "SELECT COUNT(*) FROM token WHERE hash=?1 OR name=?1",
                     -1, &s, NULL);
  sqlite3_bind_text(s, 1, secret, -1, SQLITE_STATIC);
  sqlite3_step(s);
  assert_int_equal(sqlite3_column_int(s, 0), 0);
  sqlite3_finalize(s);
  assert_int_equal(cps_token_create(svc, "ops", CPS_ROLE_READER, secret, sizeof secret, &err), CPS_ERR_CONFLICT);
  tu_service_free(svc, path);
}

static void test_cps_token_authenticate_unknown_or_malformed_rejected(void **state) {
  (void)state;
  char path[64], secret[80], hdr[120];
  cps_service *svc = tu_service(path, 1);
  cps_error err = {{0}};
  assert_int_equal(cps_token_create(svc, "admin", CPS_ROLE_CONTRIBUTOR, secret, sizeof secret, &err), CPS_OK);
  cps_principal p;
  assert_int_equal(cps_token_authenticate(svc, NULL, &p), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_token_authenticate(svc, secret, &p), CPS_ERR_UNAUTHORIZED);
  snprintf(hdr, sizeof hdr, "Bearer %sx", secret);
  assert_int_equal(cps_token_authenticate(svc, hdr, &p), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_token_authenticate(svc, "Bearer ", &p), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_token_create(svc, "bad name", CPS_ROLE_READER, secret, sizeof secret, &err), CPS_ERR_INVALID);
  tu_service_free(svc, path);
}

static void test_cps_mgmt_handle_reader_write_forbidden_and_audited(void **state) {
  (void)state;
  char path[64];
  cps_service *svc = tu_service(path, 1);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_READER, "POST", "/credential", NULL, NULL), 403);
  assert_int_equal(tu_count(svc, "credential"), 0);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_NONE, "GET", "/policies", NULL, NULL), 401);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_READER, "GET", "/policies", NULL, NULL), 200);
  cJSON *audit = NULL;
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_READER, "GET", "/audit", NULL, &audit), 200);
  assert_int_equal(cJSON_GetArraySize(audit), 3);
  cJSON *first = cJSON_GetArrayItem(audit, 0);
  assert_string_equal(cJSON_GetObjectItem(first, "tokenName")->valuestring, "test-reader");
  assert_string_equal(cJSON_GetObjectItem(first, "role")->valuestring, "reader");
  assert_string_equal(cJSON_GetObjectItem(first, "operation")->valuestring, "POST credential");
  assert_int_equal(cJSON_GetObjectItem(first, "result")->valueint, 403);
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(audit, 1), "result")->valueint, 401);
  cJSON_Delete(audit);
  tu_service_free(svc, path);
}

static void test_cps_audit_log_update_and_delete_refused(void **state) {
  (void)state;
  char path[64];
  cps_service *svc = tu_service(path, 1);
  cps_principal who = {"t", CPS_ROLE_CONTRIBUTOR};
  assert_int_equal(cps_audit_append(svc, &who, "POST policies", "policies", 201), CPS_OK);
  sqlite3 *db = cps_store_db(cps_service_store(svc));
  assert_int_not_equal(sqlite3_exec(db, "UPDATE audit SET result=200", NULL, NULL, NULL), SQLITE_OK);
  assert_int_not_equal(sqlite3_exec(db, "DELETE FROM audit", NULL, NULL, NULL), SQLITE_OK);
  assert_int_equal(tu_count(svc, "audit"), 1);
  tu_service_free(svc, path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cps_rbac_check_roles_matrix),
      cmocka_unit_test(test_cps_role_parse_names_roundtrip),
      cmocka_unit_test(test_cps_token_authenticate_created_token_maps_to_role),
      cmocka_unit_test(test_cps_token_authenticate_unknown_or_malformed_rejected),
      cmocka_unit_test(test_cps_mgmt_handle_reader_write_forbidden_and_audited),
      cmocka_unit_test(test_cps_audit_log_update_and_delete_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
