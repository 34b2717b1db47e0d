/* TPM registration against the reference server core (cps_prov.h), device on
 * swtpm: EK enrolled → PUT without auth → 401 challenge → import → PUT with
 * the TPM-signed SAS → 202 → poll → assigned with a chain for the SDK key;
 * renewal reuses the identity key; EK not enrolled → 401 with no challenge. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certpilot/cp_csr.h"
#include "certpilot/cp_encoding.h"
#include "certpilot/cp_key.h"
#include "certpilot/cp_log.h"
#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_sas.h"
#include "certpilot/cp_tpm.h"
#include "certpilot/cp_x509.h"
#include "cp_swtpm.h"
#include "cps_prov.h"
#include "cps_rbac.h"
#include "cps_test_util.h"

#define API "2025-07-01-preview"
#define REG_ID "tpm-dev-1"

typedef struct fixture {
  char path[64];
  cps_service *svc;
  cp_swtpm sw;
  cp_posix_tpm ptpm;
  cp_tpm tpm;
  char ek_b64[CP_TPM_PUBLIC_B64_MAX];
} fixture;

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof *f);
  uint8_t ek[CP_TPM_PUBLIC_MAX];
  size_t len = 0, b64_len = 0;

  if (f == NULL || cp_swtpm_start(&f->sw) != 0 ||
      cp_posix_tpm_open(&f->ptpm, f->sw.tcti) != CP_OK ||
      cp_posix_tpm_interface(&f->ptpm, &f->tpm) != CP_OK ||
      cp_tpm_get_public(&f->tpm, CP_TPM_KEY_EK, ek, sizeof ek, &len) != CP_OK ||
      cp_base64_encode(ek, len, f->ek_b64, sizeof f->ek_b64, &b64_len) != CP_OK)
    return -1;
  f->svc = tu_service(f->path, 1);
  tu_setup_basic(f->svc);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;

  tu_service_free(f->svc, f->path);
  cp_posix_tpm_close(&f->ptpm);
  cp_swtpm_stop(&f->sw);
  free(f);
  return 0;
}

static void enroll_tpm(fixture *f, const char *id, const char *ek_b64, int want)
{
  char body[2048];

  snprintf(body, sizeof body,
           "{\"id\":\"%s\",\"kind\":\"individual\",\"attestation\":\"tpm\","
           "\"endorsementKey\":\"%s\",\"policy\":\"p1\",\"hub\":\"hub1\"}",
           id, ek_b64);
  assert_int_equal(tu_mgmt(f->svc, CPS_ROLE_CONTRIBUTOR, "POST", "/enrollments", body, NULL),
                   want);
}

/* A P-384 key and its CSR (base64) made by the SDK. */
static void make_csr(cp_key *key, char *csr_b64, size_t size)
{
  uint8_t der[2048];
  size_t der_len = 0, b64_len = 0;

  assert_int_equal(cp_key_generate_p384(key), CP_OK);
  assert_int_equal(cp_csr_build(key, REG_ID, der, sizeof der, &der_len), CP_OK);
  assert_int_equal(cp_csr_to_base64(der, der_len, csr_b64, size, &b64_len), CP_OK);
}

static void put_register(fixture *f, const char *body, const char *auth, cps_prov_response *resp)
{
  cps_prov_request rq = {.id_scope = cps_service_id_scope(f->svc), .registration_id = REG_ID,
                         .api_version = API, .body = body, .body_len = strlen(body),
                         .authorization = auth};

  assert_int_equal(cps_prov_register(f->svc, &rq, resp), CPS_OK);
}

static void tpm_sas(fixture *f, char *tok, size_t size)
{
  char uri[256];
  size_t len = 0;

  snprintf(uri, sizeof uri, "%s/registrations/%s", cps_service_id_scope(f->svc), REG_ID);
  assert_int_equal(cp_tpm_sas_token(&f->tpm, uri, (int64_t)time(NULL) + 600, "registration",
                                    tok, size, &len), CP_OK);
}

/* PUT with the TPM-signed SAS, poll, return the final status JSON. */
static cJSON *register_signed(fixture *f, const char *body)
{
  char tok[CP_SAS_TOKEN_MAX];
  cps_prov_response resp, sresp;
  cJSON *out;

  tpm_sas(f, tok, sizeof tok);
  put_register(f, body, tok, &resp);
  assert_int_equal(resp.status, 202);
  cps_prov_request st = {.id_scope = cps_service_id_scope(f->svc), .registration_id = REG_ID,
                         .api_version = API, .operation_id = resp.operation_id,
                         .authorization = tok};
  assert_int_equal(cps_prov_operation_status(f->svc, &st, &sresp), CPS_OK);
  assert_int_equal(sresp.status, 200);
  out = cJSON_Parse(sresp.body);
  cps_prov_response_free(&sresp);
  cps_prov_response_free(&resp);
  return out;
}

/* The chain is [leaf, ICA, root], verifies to its root, and certifies @p key. */
static void check_chain(const cJSON *final, const cp_key *key)
{
  const cJSON *st = cJSON_GetObjectItem(final, "registrationState");
  const cJSON *arr = cJSON_GetObjectItem(st, "issuedCertificateChain");
  static uint8_t der[3][4096];
  cp_der chain[3];
  size_t n = 0;

  assert_string_equal(cJSON_GetObjectItem(final, "status")->valuestring, "assigned");
  assert_string_equal(cJSON_GetObjectItem(st, "deviceId")->valuestring, REG_ID);
  assert_int_equal(cJSON_GetArraySize(arr), 3);
  for (int i = 0; i < 3; i++) {
    const char *b64 = cJSON_GetArrayItem(arr, i)->valuestring;
    assert_int_equal(cp_base64_decode(b64, strlen(b64), der[i], sizeof der[i], &n), CP_OK);
    chain[i].data = der[i];
    chain[i].len = n;
  }
  assert_int_equal(cp_chain_verify(chain, 3, chain[2], (int64_t)time(NULL), NULL), CP_OK);
  assert_int_equal(cp_cert_matches_key(chain[0].data, chain[0].len, key), CP_OK);
}

static void test_tpm_register_enrolled_ek_challenge_then_assigned_with_chain(void **state)
{
  fixture *f = *state;
  cp_key key;
  char csr[1400], body[4096], ak[CP_TPM_AUTH_KEY_B64_MAX], kn[CP_TPM_KEY_NAME_MAX];
  size_t len = 0;
  cps_prov_response resp;
  cJSON *final;
  int present = 1;

  enroll_tpm(f, REG_ID, f->ek_b64, 201);
  make_csr(&key, csr, sizeof csr);
  assert_int_equal(cp_tpm_register_body(&f->tpm, REG_ID, csr, NULL, body, sizeof body, &len),
                   CP_OK);
  /* first leg: no Authorization → 401 with the challenge */
  put_register(f, body, NULL, &resp);
  assert_int_equal(resp.status, 401);
  assert_int_equal(cp_tpm_challenge_parse(resp.body, strlen(resp.body), ak, sizeof ak, kn),
                   CP_OK);
  assert_string_equal(kn, "registration");
  cps_prov_response_free(&resp);
  assert_int_equal(cp_posix_tpm_has_identity(&f->ptpm, &present), CP_OK);
  assert_int_equal(present, 0);
  assert_int_equal(cp_tpm_import_identity_b64(&f->tpm, ak), CP_OK);
  /* second leg: the same body with the TPM-signed SAS */
  final = register_signed(f, body);
  check_chain(final, &key);
  cJSON_Delete(final);
  assert_int_equal(tu_count(f->svc, "device"), 1);
}

static void test_tpm_renewal_reuses_identity_key_without_challenge(void **state)
{
  fixture *f = *state;
  cp_key key1, key2;
  char csr[1400], body[4096], ak[CP_TPM_AUTH_KEY_B64_MAX], kn[CP_TPM_KEY_NAME_MAX];
  size_t len = 0;
  cps_prov_response resp;
  cJSON *final;
  uint8_t mac_before[32], mac_after[32];

  enroll_tpm(f, REG_ID, f->ek_b64, 201);
  make_csr(&key1, csr, sizeof csr);
  assert_int_equal(cp_tpm_register_body(&f->tpm, REG_ID, csr, NULL, body, sizeof body, &len), CP_OK);
  put_register(f, body, NULL, &resp);
  assert_int_equal(cp_tpm_challenge_parse(resp.body, strlen(resp.body), ak, sizeof ak, kn), CP_OK);
  cps_prov_response_free(&resp);
  assert_int_equal(cp_tpm_import_identity_b64(&f->tpm, ak), CP_OK);
  final = register_signed(f, body);
  check_chain(final, &key1);
  cJSON_Delete(final);
  assert_int_equal(cp_tpm_hmac_sha256(&f->tpm, (const uint8_t *)"probe", 5, mac_before), CP_OK);
  /* renewal: new key + CSR, signed with the identity key already in the TPM */
  make_csr(&key2, csr, sizeof csr);
  assert_int_equal(cp_tpm_register_body(&f->tpm, REG_ID, csr, NULL, body, sizeof body, &len), CP_OK);
  final = register_signed(f, body);
  check_chain(final, &key2);
  cJSON_Delete(final);
  assert_int_equal(cp_tpm_hmac_sha256(&f->tpm, (const uint8_t *)"probe", 5, mac_after), CP_OK);
  assert_memory_equal(mac_before, mac_after, 32);
  assert_int_equal(tu_count(f->svc, "device"), 1);
  assert_int_equal(tu_count(f->svc, "issued"), 2);
}

static void test_tpm_register_ek_not_enrolled_gets_401_without_challenge(void **state)
{
  fixture *f = *state;
  char body[4096], ak[CP_TPM_AUTH_KEY_B64_MAX] = "", kn[CP_TPM_KEY_NAME_MAX];
  size_t len = 0;
  cps_prov_response resp;
  cp_swtpm other;
  cp_posix_tpm optpm;
  cp_tpm otpm;
  uint8_t ek[CP_TPM_PUBLIC_MAX];
  char ek_b64[CP_TPM_PUBLIC_B64_MAX];

  /* the enrollment holds another TPM's EK */
  assert_int_equal(cp_swtpm_start(&other), 0);
  assert_int_equal(cp_posix_tpm_open(&optpm, other.tcti), CP_OK);
  assert_int_equal(cp_posix_tpm_interface(&optpm, &otpm), CP_OK);
  assert_int_equal(cp_tpm_get_public(&otpm, CP_TPM_KEY_EK, ek, sizeof ek, &len), CP_OK);
  assert_int_equal(cp_base64_encode(ek, len, ek_b64, sizeof ek_b64, &len), CP_OK);
  cp_posix_tpm_close(&optpm);
  cp_swtpm_stop(&other);
  enroll_tpm(f, REG_ID, ek_b64, 201);

  assert_int_equal(cp_tpm_register_body(&f->tpm, REG_ID, NULL, NULL, body, sizeof body, &len), CP_OK);
  put_register(f, body, NULL, &resp);
  assert_int_equal(resp.status, 401);
  assert_non_null(strstr(resp.body, "401002"));
  assert_non_null(strstr(resp.body, "not enrolled"));
  assert_int_equal(cp_tpm_challenge_parse(resp.body, strlen(resp.body), ak, sizeof ak, kn),
                   CP_ERR_BAD_RESPONSE);
  cps_prov_response_free(&resp);
  /* and a SAS from a TPM without the identity key cannot be made */
  char tok[CP_SAS_TOKEN_MAX];
  assert_int_equal(cp_tpm_sas_token(&f->tpm, "s/registrations/" REG_ID, 1, "registration",
                                    tok, sizeof tok, &len), CP_ERR_NOT_FOUND);
  assert_int_equal(tu_count(f->svc, "device"), 0);
}

static void test_tpm_enrollment_bad_or_duplicate_ek_rejected(void **state)
{
  fixture *f = *state;

  enroll_tpm(f, "bad-ek", "AAEC", 400);
  enroll_tpm(f, REG_ID, f->ek_b64, 201);
  enroll_tpm(f, "tpm-dev-2", f->ek_b64, 409); /* one EK, one enrollment */
  assert_int_equal(tu_count(f->svc, "tpm_enrollment"), 1);
}

static void test_tpm_signed_sas_from_old_challenge_is_refused_after_new_challenge(void **state)
{
  fixture *f = *state;
  char body[4096], ak[CP_TPM_AUTH_KEY_B64_MAX], kn[CP_TPM_KEY_NAME_MAX], tok[CP_SAS_TOKEN_MAX];
  size_t len = 0;
  cps_prov_response resp;

  enroll_tpm(f, REG_ID, f->ek_b64, 201);
  assert_int_equal(cp_tpm_register_body(&f->tpm, REG_ID, NULL, NULL, body, sizeof body, &len), CP_OK);
  put_register(f, body, NULL, &resp);
  assert_int_equal(cp_tpm_challenge_parse(resp.body, strlen(resp.body), ak, sizeof ak, kn), CP_OK);
  cps_prov_response_free(&resp);
  assert_int_equal(cp_tpm_import_identity_b64(&f->tpm, ak), CP_OK);
  /* someone asks again: the server rotates the key; the TPM still holds the old one */
  put_register(f, body, NULL, &resp);
  assert_int_equal(resp.status, 401);
  cps_prov_response_free(&resp);
  tpm_sas(f, tok, sizeof tok);
  put_register(f, body, tok, &resp);
  assert_int_equal(resp.status, 401);
  cps_prov_response_free(&resp);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_tpm_register_enrolled_ek_challenge_then_assigned_with_chain, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_renewal_reuses_identity_key_without_challenge, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_register_ek_not_enrolled_gets_401_without_challenge, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_enrollment_bad_or_duplicate_ek_rejected, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_signed_sas_from_old_challenge_is_refused_after_new_challenge, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
