/* Unit tests: the transport-neutral provisioning service and the hub query (cps_prov.h, cps_hub.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "cps_b64.h"
#include "cps_hub.h"
#include "cps_pki.h"
#include "cps_prov.h"
#include "cps_rbac.h"
#include "cps_registry.h"
#include "cps_sas.h"
#include "cps_test_util.h"

#define KEY "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="
#define API CP_DPS_API_VERSION_TEST
#define CP_DPS_API_VERSION_TEST "2025-07-01-preview"

typedef struct fx {
  char path[64];
  cps_service *svc;
} fx;

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  f->svc = tu_service(f->path, 1);
  tu_setup_basic(f->svc);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tu_service_free(f->svc, f->path);
  free(f);
  return 0;
}

/* Register, then fetch the operation; returns the final JSON (caller deletes) or NULL. */
static cJSON *register_device(cps_service *svc, const char *regid, const char *key, const char *body,
                              int *reg_status) {
  char tok[600];
  assert_int_equal(cps_sas_build(cps_service_id_scope(svc), regid, key, (long long)time(NULL) + 600,
                                 tok, sizeof tok), CPS_OK);
  cps_prov_request rq = {.id_scope = cps_service_id_scope(svc), .registration_id = regid,
                         .api_version = API, .body = body, .body_len = strlen(body),
                         .authorization = tok};
  cps_prov_response resp;
  assert_int_equal(cps_prov_register(svc, &rq, &resp), CPS_OK);
  *reg_status = resp.status;
  if (resp.status != 202) {
    cps_prov_response_free(&resp);
    return NULL;
  }
  assert_int_equal(resp.retry_after, 0);
  cJSON *j = cJSON_Parse(resp.body);
  assert_string_equal(cJSON_GetObjectItem(j, "status")->valuestring, "assigning");
  assert_string_equal(cJSON_GetObjectItem(j, "operationId")->valuestring, resp.operation_id);
  cJSON_Delete(j);
  cps_prov_request st = {.id_scope = rq.id_scope, .registration_id = regid, .api_version = API,
                         .operation_id = resp.operation_id, .authorization = tok};
  cps_prov_response sresp;
  assert_int_equal(cps_prov_operation_status(svc, &st, &sresp), CPS_OK);
  assert_int_equal(sresp.status, 200);
  cJSON *out = cJSON_Parse(sresp.body);
  cps_prov_response_free(&sresp);
  cps_prov_response_free(&resp);
  return out;
}

static char *reg_body(const char *regid, const char *csr_b64) {
  char *b = malloc(4096);
  if (csr_b64) snprintf(b, 4096, "{\"registrationId\":\"%s\",\"csr\":\"%s\"}", regid, csr_b64);
  else snprintf(b, 4096, "{\"registrationId\":\"%s\"}", regid);
  return b;
}

static X509 *chain_cert(cJSON *result, int i) {
  cJSON *arr = cJSON_GetObjectItem(cJSON_GetObjectItem(result, "registrationState"), "issuedCertificateChain");
  const char *b64 = cJSON_GetArrayItem(arr, i)->valuestring;
  unsigned char *der = NULL;
  size_t len = 0;
  assert_int_equal(cps_b64_decode(b64, strlen(b64), &der, &len), CPS_OK);
  X509 *c = NULL;
  assert_int_equal(cps_pki_cert_from_der(der, len, &c), CPS_OK);
  free(der);
  return c;
}

static void test_cps_prov_register_symmetric_with_csr_assigned_with_chain(void **state) {
  fx *f = *state;
  EVP_PKEY *key = NULL;
  char *csr = tu_csr_b64("dev-1", "P-384", &key);
  char *body = reg_body("dev-1", csr);
  int st = 0;
  cJSON *res = register_device(f->svc, "dev-1", KEY, body, &st);
  assert_int_equal(st, 202);
  assert_non_null(res);
  assert_string_equal(cJSON_GetObjectItem(res, "status")->valuestring, "assigned");
  cJSON *rs = cJSON_GetObjectItem(res, "registrationState");
  assert_string_equal(cJSON_GetObjectItem(rs, "assignedHub")->valuestring, "hub1");
  assert_string_equal(cJSON_GetObjectItem(rs, "deviceId")->valuestring, "dev-1");
  assert_string_equal(cJSON_GetObjectItem(rs, "substatus")->valuestring, "initialAssignment");
  assert_non_null(cJSON_GetObjectItem(rs, "createdDateTimeUtc"));
  assert_non_null(cJSON_GetObjectItem(rs, "lastUpdatedDateTimeUtc"));
  assert_non_null(cJSON_GetObjectItem(rs, "etag"));
  assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(rs, "issuedCertificateChain")), 3);
  X509 *leaf = chain_cert(res, 0), *ica = chain_cert(res, 1), *root = chain_cert(res, 2);
  assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), key), 1);
  assert_int_equal(X509_check_issued(ica, leaf), X509_V_OK);
  assert_int_equal(X509_check_issued(root, ica), X509_V_OK);
  assert_int_equal(X509_check_issued(root, root), X509_V_OK);
  /* the leaf carries the device's current revocation identifier and its serial is recorded */
  cps_device dev;
  assert_int_equal(cps_device_get(f->svc, "dev-1", &dev), CPS_OK);
  char rid[80];
  assert_int_equal(cps_pki_revocation_id_get(leaf, rid, sizeof rid), CPS_OK);
  assert_string_equal(rid, dev.revocation_id);
  assert_int_equal(tu_count(f->svc, "issued"), 1);
  /* the hub accepts it on hub1 only */
  char id[CPS_DEVICE_ID_MAX];
  cps_error err = {{0}};
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf, NULL, id, &err), CPS_OK);
  assert_string_equal(id, "dev-1");
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub2", leaf, NULL, id, &err), CPS_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "another hub"));
  X509_free(leaf);
  X509_free(ica);
  X509_free(root);
  EVP_PKEY_free(key);
  cJSON_Delete(res);
  free(body);
  free(csr);
}

static void test_cps_prov_register_without_csr_assigned_without_chain(void **state) {
  fx *f = *state;
  char *body = reg_body("dev-1", NULL);
  int st = 0;
  cJSON *res = register_device(f->svc, "dev-1", KEY, body, &st);
  assert_string_equal(cJSON_GetObjectItem(res, "status")->valuestring, "assigned");
  assert_null(cJSON_GetObjectItem(cJSON_GetObjectItem(res, "registrationState"), "issuedCertificateChain"));
  assert_int_equal(tu_count(f->svc, "device"), 1);
  assert_int_equal(tu_count(f->svc, "issued"), 0);
  cJSON_Delete(res);
  free(body);
}

static void expect_failed_csr(fx *f, const char *csr_cn, const char *curve, const char *needle) {
  char *csr = tu_csr_b64(csr_cn, curve, NULL);
  char *body = reg_body("dev-1", csr);
  int st = 0;
  cJSON *res = register_device(f->svc, "dev-1", KEY, body, &st);
  assert_non_null(res);
  assert_string_equal(cJSON_GetObjectItem(res, "status")->valuestring, "failed");
  cJSON *rs = cJSON_GetObjectItem(res, "registrationState");
  assert_int_equal(cJSON_GetObjectItem(rs, "errorCode")->valueint, 400037);
  assert_non_null(strstr(cJSON_GetObjectItem(rs, "errorMessage")->valuestring, needle));
  assert_int_equal(tu_count(f->svc, "device"), 0);
  assert_int_equal(tu_count(f->svc, "issued"), 0);
  cJSON_Delete(res);
  free(body);
  free(csr);
}

static void test_cps_prov_register_p256_csr_failed_store_unchanged(void **state) {
  expect_failed_csr(*state, "dev-1", "P-256", "P-384");
}

static void test_cps_prov_register_cn_mismatch_failed_store_unchanged(void **state) {
  expect_failed_csr(*state, "dev-2", "P-384", "CN");
}

static int plain_register(cps_service *svc, const char *api, const char *scope, const char *regid,
                          const char *body, size_t len, const char *auth, cJSON **err_json) {
  cps_prov_request rq = {.id_scope = scope, .registration_id = regid, .api_version = api,
                         .body = body, .body_len = len, .authorization = auth};
  cps_prov_response resp;
  assert_int_equal(cps_prov_register(svc, &rq, &resp), CPS_OK);
  int st = resp.status;
  if (err_json) *err_json = cJSON_Parse(resp.body);
  if (st >= 400) {
    cJSON *j = cJSON_Parse(resp.body);
    assert_non_null(cJSON_GetObjectItem(j, "trackingId"));
    assert_non_null(cJSON_GetObjectItem(j, "timestampUtc"));
    assert_int_equal(cJSON_GetObjectItem(j, "errorCode")->valueint / 1000, st);
    char code[16];
    snprintf(code, sizeof code, "%d", cJSON_GetObjectItem(j, "errorCode")->valueint);
    assert_string_equal(code, resp.error_code);
    cJSON_Delete(j);
  }
  cps_prov_response_free(&resp);
  return st;
}

static void test_cps_prov_register_bad_requests_get_azure_errors(void **state) {
  fx *f = *state;
  const char *scope = cps_service_id_scope(f->svc);
  char tok[600], old[600];
  cps_sas_build(scope, "dev-1", KEY, (long long)time(NULL) + 600, tok, sizeof tok);
  cps_sas_build(scope, "dev-1", KEY, (long long)time(NULL) - 10, old, sizeof old);
  const char *ok = "{\"registrationId\":\"dev-1\"}";
  assert_int_equal(plain_register(f->svc, NULL, scope, "dev-1", ok, strlen(ok), tok, NULL), 400);
  assert_int_equal(plain_register(f->svc, "2099-01-01", scope, "dev-1", ok, strlen(ok), tok, NULL), 400);
  assert_int_equal(plain_register(f->svc, API, "0neXXXX", "dev-1", ok, strlen(ok), tok, NULL), 404);
  assert_int_equal(plain_register(f->svc, API, scope, "dev-1", "{\"registrationId\":", 18, tok, NULL), 400);
  assert_int_equal(plain_register(f->svc, API, scope, "dev-1", "{\"registrationId\":\"dev-9\"}", 26, tok, NULL), 400);
  char *big = calloc(1, CPS_PROV_MAX_BODY + 2);
  memset(big, ' ', CPS_PROV_MAX_BODY + 1);
  assert_int_equal(plain_register(f->svc, API, scope, "dev-1", big, CPS_PROV_MAX_BODY + 1, tok, NULL), 413);
  free(big);
  assert_int_equal(plain_register(f->svc, API, scope, "dev-1", ok, strlen(ok), old, NULL), 401);
  assert_int_equal(plain_register(f->svc, API, scope, "dev-1", ok, strlen(ok), NULL, NULL), 401);
  assert_int_equal(plain_register(f->svc, API, scope, "bad/id", ok, strlen(ok), tok, NULL), 400);
  /* forged: signed with another key */
  char forged[600];
  cps_sas_build(scope, "dev-1", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk=", (long long)time(NULL) + 600,
                forged, sizeof forged);
  assert_int_equal(plain_register(f->svc, API, scope, "dev-1", ok, strlen(ok), forged, NULL), 401);
  /* unknown enrollment: no individual and no group enrollment */
  char tok9[600];
  cps_sas_build(scope, "dev-9", KEY, (long long)time(NULL) + 600, tok9, sizeof tok9);
  const char *b9 = "{\"registrationId\":\"dev-9\"}";
  assert_int_equal(plain_register(f->svc, API, scope, "dev-9", b9, strlen(b9), tok9, NULL), 404);
  assert_int_equal(tu_count(f->svc, "device"), 0);
  assert_int_equal(tu_count(f->svc, "operation"), 0);
}

static void test_cps_prov_register_disabled_enrollment_disabled_status(void **state) {
  fx *f = *state;
  assert_int_equal(tu_mgmt(f->svc, CPS_ROLE_CONTRIBUTOR, "POST", "/enrollments/dev-1/disable", NULL, NULL), 200);
  char *csr = tu_csr_b64("dev-1", "P-384", NULL);
  char *body = reg_body("dev-1", csr);
  int st = 0;
  cJSON *res = register_device(f->svc, "dev-1", KEY, body, &st);
  assert_string_equal(cJSON_GetObjectItem(res, "status")->valuestring, "disabled");
  assert_int_equal(tu_count(f->svc, "device"), 0);
  assert_int_equal(tu_count(f->svc, "issued"), 0);
  cJSON_Delete(res);
  free(body);
  free(csr);
}

static void test_cps_prov_register_group_symmetric_derived_key_assigned(void **state) {
  fx *f = *state;
  const char *gk = "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==";
  char body[512];
  snprintf(body, sizeof body, "{\"id\":\"g1\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
                              "\"primaryKey\":\"%s\",\"policy\":\"p1\",\"hub\":\"hub2\"}", gk);
  assert_int_equal(tu_mgmt(f->svc, CPS_ROLE_CONTRIBUTOR, "POST", "/enrollments", body, NULL), 201);
  char dk[64];
  assert_int_equal(cps_sas_derive_device_key(gk, "sensor-42", dk, sizeof dk), CPS_OK);
  char *csr = tu_csr_b64("sensor-42", "P-384", NULL);
  char *rb = reg_body("sensor-42", csr);
  int st = 0;
  cJSON *res = register_device(f->svc, "sensor-42", dk, rb, &st);
  assert_string_equal(cJSON_GetObjectItem(res, "status")->valuestring, "assigned");
  cJSON *rs = cJSON_GetObjectItem(res, "registrationState");
  assert_string_equal(cJSON_GetObjectItem(rs, "assignedHub")->valuestring, "hub2");
  assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(rs, "symmetricKey"), "enrollmentGroupId")->valuestring, "g1");
  cJSON_Delete(res);
  free(rb);
  /* the group key itself is not a device key */
  rb = reg_body("sensor-43", NULL);
  register_device(f->svc, "sensor-43", gk, rb, &st);
  assert_int_equal(st, 401);
  free(rb);
  free(csr);
}

static void test_cps_prov_register_rate_limited_429(void **state) {
  (void)state;
  char path[64];
  cps_service_config cfg;
  cps_service_config_default(&cfg);
  snprintf(path, sizeof path, "/tmp/cps-rate-%d.db", (int)getpid());
  cfg.db_path = path;
  cfg.rate_limit_per_s = 0.001;
  cfg.rate_limit_burst = 2;
  cps_service *svc = NULL;
  assert_int_equal(cps_service_open(&cfg, &svc, NULL), CPS_OK);
  const char *b = "{\"registrationId\":\"x1\"}";
  const char *scope = cps_service_id_scope(svc);
  assert_int_equal(plain_register(svc, API, scope, "x1", b, strlen(b), NULL, NULL), 401);
  assert_int_equal(plain_register(svc, API, scope, "x1", b, strlen(b), NULL, NULL), 401);
  assert_int_equal(plain_register(svc, API, scope, "x1", b, strlen(b), NULL, NULL), 429);
  tu_service_free(svc, path);
}

static void test_cps_hub_check_device_cert_after_revoke_disable_rejected(void **state) {
  fx *f = *state;
  char *csr = tu_csr_b64("dev-1", "P-384", NULL);
  char *body = reg_body("dev-1", csr);
  int st = 0;
  cJSON *res = register_device(f->svc, "dev-1", KEY, body, &st);
  X509 *leaf = chain_cert(res, 0);
  char id[CPS_DEVICE_ID_MAX];
  cps_error err = {{0}};
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf, NULL, id, &err), CPS_OK);
  assert_int_equal(tu_mgmt(f->svc, CPS_ROLE_CONTRIBUTOR, "POST", "/devices/dev-1/disable", NULL, NULL), 200);
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf, NULL, id, &err), CPS_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "disabled"));
  /* a disabled device gets status disabled and no new certificate */
  cJSON *res2 = register_device(f->svc, "dev-1", KEY, body, &st);
  assert_string_equal(cJSON_GetObjectItem(res2, "status")->valuestring, "disabled");
  cJSON_Delete(res2);
  assert_int_equal(tu_mgmt(f->svc, CPS_ROLE_CONTRIBUTOR, "POST", "/devices/dev-1/enable", NULL, NULL), 200);
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf, NULL, id, &err), CPS_OK);
  assert_int_equal(tu_mgmt(f->svc, CPS_ROLE_CONTRIBUTOR, "POST", "/devices/dev-1/revoke", NULL, NULL), 200);
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf, NULL, id, &err), CPS_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "revoked"));
  /* re-provisioning gives a leaf with the new identifier, accepted again */
  cJSON *res3 = register_device(f->svc, "dev-1", KEY, body, &st);
  X509 *leaf3 = chain_cert(res3, 0);
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf3, NULL, id, &err), CPS_OK);
  X509_free(leaf3);
  cJSON_Delete(res3);
  X509_free(leaf);
  cJSON_Delete(res);
  free(body);
  free(csr);
}

static void test_cps_hub_check_device_cert_after_policy_revoke_old_ica_rejected(void **state) {
  fx *f = *state;
  char *csr = tu_csr_b64("dev-1", "P-384", NULL);
  char *body = reg_body("dev-1", csr);
  int st = 0;
  cJSON *res = register_device(f->svc, "dev-1", KEY, body, &st);
  X509 *leaf = chain_cert(res, 0), *old_ica = chain_cert(res, 1);
  assert_int_equal(tu_mgmt(f->svc, CPS_ROLE_CONTRIBUTOR, "POST", "/policies/p1/revoke", NULL, NULL), 200);
  char id[CPS_DEVICE_ID_MAX];
  cps_error err = {{0}};
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf, NULL, id, &err), CPS_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "chain"));
  cJSON *res2 = register_device(f->svc, "dev-1", KEY, body, &st);
  X509 *leaf2 = chain_cert(res2, 0), *new_ica = chain_cert(res2, 1);
  assert_int_not_equal(X509_cmp(old_ica, new_ica), 0);
  assert_int_equal(X509_check_issued(new_ica, leaf2), X509_V_OK);
  assert_int_equal(cps_hub_check_device_cert(f->svc, "hub1", leaf2, NULL, id, &err), CPS_OK);
  /* trust bundle holds the new ICA and not the old one */
  char *pem = NULL;
  assert_int_equal(cps_hub_trust_bundle_pem(f->svc, &pem), CPS_OK);
  STACK_OF(X509) *sk = NULL;
  assert_int_equal(cps_pki_certs_from_pem(pem, strlen(pem), &sk), CPS_OK);
  int has_new = 0, has_old = 0;
  for (int i = 0; i < sk_X509_num(sk); i++) {
    if (!X509_cmp(sk_X509_value(sk, i), new_ica)) has_new = 1;
    if (!X509_cmp(sk_X509_value(sk, i), old_ica)) has_old = 1;
  }
  assert_true(has_new && !has_old);
  sk_X509_pop_free(sk, X509_free);
  free(pem);
  X509_free(leaf);
  X509_free(old_ica);
  X509_free(leaf2);
  X509_free(new_ica);
  cJSON_Delete(res);
  cJSON_Delete(res2);
  free(body);
  free(csr);
}

static void test_cps_prov_operation_status_unknown_operation_404(void **state) {
  fx *f = *state;
  char tok[600];
  cps_sas_build(cps_service_id_scope(f->svc), "dev-1", KEY, (long long)time(NULL) + 600, tok, sizeof tok);
  cps_prov_request rq = {.id_scope = cps_service_id_scope(f->svc), .registration_id = "dev-1",
                         .api_version = API, .operation_id = "4.nothere", .authorization = tok};
  cps_prov_response resp;
  assert_int_equal(cps_prov_operation_status(f->svc, &rq, &resp), CPS_OK);
  assert_int_equal(resp.status, 404);
  cps_prov_response_free(&resp);
}

int main(void) {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
  const struct CMUnitTest tests[] = {
      T(test_cps_prov_register_symmetric_with_csr_assigned_with_chain),
      T(test_cps_prov_register_without_csr_assigned_without_chain),
      T(test_cps_prov_register_p256_csr_failed_store_unchanged),
      T(test_cps_prov_register_cn_mismatch_failed_store_unchanged),
      T(test_cps_prov_register_bad_requests_get_azure_errors),
      T(test_cps_prov_register_disabled_enrollment_disabled_status),
      T(test_cps_prov_register_group_symmetric_derived_key_assigned),
      cmocka_unit_test(test_cps_prov_register_rate_limited_429),
      T(test_cps_hub_check_device_cert_after_revoke_disable_rejected),
      T(test_cps_hub_check_device_cert_after_policy_revoke_old_ica_rejected),
      T(test_cps_prov_operation_status_unknown_operation_404),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
