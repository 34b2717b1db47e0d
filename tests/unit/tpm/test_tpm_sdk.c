/* SDK side of TPM onboarding over a fake cp_tpm port (what firmware supplies):
 * argument checks, register body, challenge parsing, base64 import. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_tpm.h"

/* The fake port: fixed "public parts", records the imported blob. */
typedef struct fake_tpm {
  uint8_t ek[3], srk[4];
  uint8_t imported[64];
  size_t imported_len;
  int import_calls;
  cp_result fail_with;
} fake_tpm;

static cp_result fake_get_public(void *ctx, cp_tpm_key which, uint8_t *out,
                                 size_t out_size, size_t *out_len)
{
  fake_tpm *f = ctx;
  const uint8_t *src = which == CP_TPM_KEY_EK ? f->ek : f->srk;
  size_t n = which == CP_TPM_KEY_EK ? sizeof f->ek : sizeof f->srk;

  if (f->fail_with != CP_OK)
    return f->fail_with;
  if (n > out_size)
    return CP_ERR_BUFFER_TOO_SMALL;
  memcpy(out, src, n);
  *out_len = n;
  return CP_OK;
}

static cp_result fake_import(void *ctx, const uint8_t *blob, size_t len)
{
  fake_tpm *f = ctx;

  f->import_calls++;
  if (len > sizeof f->imported)
    return CP_ERR_PARSE;
  memcpy(f->imported, blob, len);
  f->imported_len = len;
  return CP_OK;
}

static cp_result fake_hmac(void *ctx, const uint8_t *data, size_t len, uint8_t out[32])
{
  (void)ctx;
  memset(out, 0, 32);
  out[0] = (uint8_t)len;
  if (len > 0)
    out[1] = data[0];
  return CP_OK;
}

static const cp_tpm_ops fake_ops = {fake_get_public, fake_import, fake_hmac};

static void fake_init(fake_tpm *f, cp_tpm *tpm)
{
  memset(f, 0, sizeof *f);
  memcpy(f->ek, "\x01\x02\x03", 3);
  memcpy(f->srk, "\xfa\xfb\xfc\xfd", 4);
  tpm->ops = &fake_ops;
  tpm->ctx = f;
}

static void test_cp_tpm_register_body_fake_tpm_has_b64_keys_and_csr(void **state)
{
  fake_tpm f;
  cp_tpm tpm;
  char body[512];
  size_t len = 0;
  cJSON *root, *t;

  (void)state;
  fake_init(&f, &tpm);
  assert_int_equal(cp_tpm_register_body(&tpm, "dev-tpm-1", "Q1NS", "{\"a\":1}", body,
                                        sizeof body, &len), CP_OK);
  assert_int_equal(len, strlen(body));
  assert_true(strncmp(body, "{\"registrationId\":\"dev-tpm-1\",\"tpm\":", 35) == 0);
  root = cJSON_Parse(body);
  assert_non_null(root);
  t = cJSON_GetObjectItem(root, "tpm");
  assert_string_equal(cJSON_GetObjectItem(t, "endorsementKey")->valuestring, "AQID");
  assert_string_equal(cJSON_GetObjectItem(t, "storageRootKey")->valuestring, "+vv8/Q==");
  assert_string_equal(cJSON_GetObjectItem(root, "csr")->valuestring, "Q1NS");
  assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "payload"), "a")->valueint, 1);
  cJSON_Delete(root);
}

static void test_cp_tpm_register_body_small_buffer_reports_size(void **state)
{
  fake_tpm f;
  cp_tpm tpm;
  char body[16], big[512];
  size_t len = 0, need = 0;

  (void)state;
  fake_init(&f, &tpm);
  memset(body, 'x', sizeof body);
  assert_int_equal(cp_tpm_register_body(&tpm, "dev", NULL, NULL, body, sizeof body, &need),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(body[0], 'x');
  assert_int_equal(cp_tpm_register_body(&tpm, "dev", NULL, NULL, big, sizeof big, &len), CP_OK);
  assert_int_equal(need, len + 1);
  assert_null(strstr(big, "csr"));
}

static void test_cp_tpm_register_body_bad_input_or_tpm_failure_fails(void **state)
{
  fake_tpm f;
  cp_tpm tpm;
  char body[512];
  size_t len;

  (void)state;
  fake_init(&f, &tpm);
  assert_int_equal(cp_tpm_register_body(&tpm, "", NULL, NULL, body, sizeof body, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_tpm_register_body(&tpm, "d", NULL, "[1]", body, sizeof body, &len), CP_ERR_INVALID_ARG);
  f.fail_with = CP_ERR_TPM;
  assert_int_equal(cp_tpm_register_body(&tpm, "d", NULL, NULL, body, sizeof body, &len), CP_ERR_TPM);
}

static void test_cp_tpm_challenge_parse_azure_body_gives_key_and_name(void **state)
{
  const char *b = "{\"message\":\"TPM challenge\",\"authenticationKey\":\"AAEC\",\"keyName\":\"registration\"}";
  char ak[64], kn[CP_TPM_KEY_NAME_MAX];

  (void)state;
  assert_int_equal(cp_tpm_challenge_parse(b, strlen(b), ak, sizeof ak, kn), CP_OK);
  assert_string_equal(ak, "AAEC");
  assert_string_equal(kn, "registration");
}

static void test_cp_tpm_challenge_parse_plain_401_returns_bad_response(void **state)
{
  const char *refusal = "{\"errorCode\":401002,\"message\":\"Unauthorized\"}";
  const char *no_json = "Unauthorized";
  const char *bad_name = "{\"authenticationKey\":\"AAEC\",\"keyName\":5}";
  const char *no_name = "{\"authenticationKey\":\"AAEC\"}";
  char ak[64] = "untouched", kn[CP_TPM_KEY_NAME_MAX] = "untouched";

  (void)state;
  assert_int_equal(cp_tpm_challenge_parse(refusal, strlen(refusal), ak, sizeof ak, kn), CP_ERR_BAD_RESPONSE);
  assert_int_equal(cp_tpm_challenge_parse(no_json, strlen(no_json), ak, sizeof ak, kn), CP_ERR_BAD_RESPONSE);
  assert_int_equal(cp_tpm_challenge_parse(bad_name, strlen(bad_name), ak, sizeof ak, kn), CP_ERR_BAD_RESPONSE);
  assert_string_equal(ak, "untouched");
  assert_int_equal(cp_tpm_challenge_parse(no_name, strlen(no_name), ak, 4, kn), CP_ERR_BUFFER_TOO_SMALL);
  assert_string_equal(kn, "untouched");
  assert_int_equal(cp_tpm_challenge_parse(no_name, strlen(no_name), ak, sizeof ak, kn), CP_OK);
  assert_string_equal(kn, "registration");
}

static void test_cp_tpm_import_identity_b64_decodes_and_passes_bytes(void **state)
{
  fake_tpm f;
  cp_tpm tpm;

  (void)state;
  fake_init(&f, &tpm);
  assert_int_equal(cp_tpm_import_identity_b64(&tpm, "AAECAw=="), CP_OK);
  assert_int_equal(f.imported_len, 4);
  assert_memory_equal(f.imported, "\x00\x01\x02\x03", 4);
  assert_int_equal(cp_tpm_import_identity_b64(&tpm, "not base64!"), CP_ERR_PARSE);
  assert_int_equal(cp_tpm_import_identity_b64(&tpm, ""), CP_ERR_INVALID_ARG);
  assert_int_equal(f.import_calls, 1);
}

static void test_cp_tpm_wrappers_incomplete_port_returns_invalid_arg(void **state)
{
  fake_tpm f;
  cp_tpm tpm;
  cp_tpm_ops partial = {fake_get_public, NULL, fake_hmac};
  uint8_t mac[32], buf[8];
  size_t len;

  (void)state;
  fake_init(&f, &tpm);
  assert_int_equal(cp_tpm_hmac_sha256(&tpm, (const uint8_t *)"q", 1, mac), CP_OK);
  assert_int_equal(mac[0], 1);
  assert_int_equal(mac[1], 'q');
  tpm.ops = &partial;
  assert_int_equal(cp_tpm_hmac_sha256(&tpm, (const uint8_t *)"q", 1, mac), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_tpm_get_public(&tpm, CP_TPM_KEY_EK, buf, sizeof buf, &len), CP_ERR_INVALID_ARG);
  tpm.ops = &fake_ops;
  assert_int_equal(cp_tpm_import_identity(&tpm, buf, CP_TPM_AUTH_KEY_MAX + 1), CP_ERR_INVALID_ARG);
  assert_int_equal(f.import_calls, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_tpm_register_body_fake_tpm_has_b64_keys_and_csr),
    cmocka_unit_test(test_cp_tpm_register_body_small_buffer_reports_size),
    cmocka_unit_test(test_cp_tpm_register_body_bad_input_or_tpm_failure_fails),
    cmocka_unit_test(test_cp_tpm_challenge_parse_azure_body_gives_key_and_name),
    cmocka_unit_test(test_cp_tpm_challenge_parse_plain_401_returns_bad_response),
    cmocka_unit_test(test_cp_tpm_import_identity_b64_decodes_and_passes_bytes),
    cmocka_unit_test(test_cp_tpm_wrappers_incomplete_port_returns_invalid_arg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
