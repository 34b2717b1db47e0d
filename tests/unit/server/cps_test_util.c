/* Test helpers for the server core unit tests. */
#include "cps_test_util.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/pem.h>

#include "cps_b64.h"
#include "cps_rbac.h"

unsigned char *tu_csr(const char *cn, const char *curve, size_t *len, EVP_PKEY **key_out) {
  EVP_PKEY *key = EVP_EC_gen(curve);
  assert_non_null(key);
  X509_REQ *req = X509_REQ_new();
  X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                             (const unsigned char *)cn, -1, -1, 0);
  X509_REQ_set_pubkey(req, key);
  assert_true(X509_REQ_sign(req, key, EVP_sha384()) > 0);
  unsigned char *der = NULL;
  int n = i2d_X509_REQ(req, &der);
  assert_true(n > 0);
  unsigned char *copy = malloc((size_t)n);
  memcpy(copy, der, (size_t)n);
  OPENSSL_free(der);
  X509_REQ_free(req);
  *len = (size_t)n;
  if (key_out) *key_out = key;
  else EVP_PKEY_free(key);
  return copy;
}

char *tu_csr_b64(const char *cn, const char *curve, EVP_PKEY **key_out) {
  size_t len = 0;
  unsigned char *der = tu_csr(cn, curve, &len, key_out);
  char *b64 = NULL;
  assert_int_equal(cps_b64_encode(der, len, &b64), CPS_OK);
  free(der);
  return b64;
}

cps_service *tu_service(char path[64], int dev_mode) {
  snprintf(path, 64, "/tmp/cps-test-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  cps_service_config cfg;
  cps_service_config_default(&cfg);
  cfg.db_path = path;
  cfg.dev_mode = dev_mode != 0;
  cfg.retry_after_s = 0;
  cps_service *svc = NULL;
  cps_error err = {{0}};
  assert_int_equal(cps_service_open(&cfg, &svc, &err), CPS_OK);
  return svc;
}

void tu_service_free(cps_service *svc, const char *path) {
  cps_service_close(svc);
  char p[96];
  unlink(path);
  snprintf(p, sizeof p, "%s-wal", path);
  unlink(p);
  snprintf(p, sizeof p, "%s-shm", path);
  unlink(p);
}

int tu_mgmt(cps_service *svc, int role, const char *method, const char *path, const char *body,
            cJSON **json) {
  cps_principal who;
  memset(&who, 0, sizeof who);
  snprintf(who.name, sizeof who.name, "test-%s", cps_role_name((cps_role)role));
  who.role = (cps_role)role;
  cps_mgmt_response resp;
  char p[256];
  snprintf(p, sizeof p, "%s", path);
  char *q = strchr(p, '?');
  if (q) *q++ = '\0';
  assert_int_equal(cps_mgmt_handle(svc, &who, method, p, q, body, body ? strlen(body) : 0, &resp),
                   CPS_OK);
  if (json) *json = resp.body ? cJSON_ParseWithLength((const char *)resp.body, resp.len) : NULL;
  int st = resp.status;
  cps_mgmt_response_free(&resp);
  return st;
}

void tu_setup_basic(cps_service *svc) {
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "POST", "/credential", NULL, NULL), 201);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "POST", "/policies",
                           "{\"name\":\"p1\",\"validityDays\":7}", NULL), 201);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "POST", "/enrollments",
                           "{\"id\":\"dev-1\",\"kind\":\"individual\",\"attestation\":\"symmetricKey\","
                           "\"primaryKey\":\"MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY=\","
                           "\"policy\":\"p1\",\"hub\":\"hub1\"}", NULL), 201);
}

long long tu_count(cps_service *svc, const char *table) {
  char sql[128];
  snprintf(sql, sizeof sql, "SELECT COUNT(*) FROM %s", table);
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(cps_store_db(cps_service_store(svc)), sql, -1, &s, NULL), SQLITE_OK);
  assert_int_equal(sqlite3_step(s), SQLITE_ROW);
  long long n = sqlite3_column_int64(s, 0);
  sqlite3_finalize(s);
  return n;
}
