/* Builders of DPS user names, topics, HTTP paths and register bodies. */
#include <string.h>

#include "fixtures.h"

#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

static void test_cp_prov_mqtt_username_valid_ids_matches_protocol(void **state)
{
  char out[CP_PROV_USERNAME_MAX];
  size_t len = 0;

  (void)state;
  assert_int_equal(cp_prov_mqtt_username("0ne000A1B2C", "dev-1", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "0ne000A1B2C/registrations/dev-1/api-version=2025-07-01-preview"
                           "&ClientVersion=certpilot%2F0.1.0");
  assert_int_equal(len, strlen(out));
}

static void test_cp_prov_mqtt_username_small_buffer_untouched_and_reports_size(void **state)
{
  char out[16];
  size_t len = 0;

  (void)state;
  memset(out, 'x', sizeof out);
  assert_int_equal(cp_prov_mqtt_username("scope", "dev-1", out, sizeof out, &len),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(out[0], 'x');
  assert_int_equal(len, strlen("scope/registrations/dev-1/api-version=2025-07-01-preview"
                               "&ClientVersion=certpilot%2F0.1.0") + 1);
}

static void test_cp_prov_mqtt_username_empty_scope_invalid_arg(void **state)
{
  char out[64];
  size_t len;

  (void)state;
  assert_int_equal(cp_prov_mqtt_username("", "dev-1", out, sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_mqtt_username("s", NULL, out, sizeof out, &len), CP_ERR_INVALID_ARG);
}

static void test_cp_prov_mqtt_topics_rid_and_operation_match_protocol(void **state)
{
  char out[CP_PROV_TOPIC_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_prov_mqtt_register_topic("7", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "$dps/registrations/PUT/iotdps-register/?$rid=7");
  assert_int_equal(cp_prov_mqtt_status_topic("8", "4.abc", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "$dps/registrations/GET/iotdps-get-operationstatus/"
                           "?$rid=8&operationId=4.abc");
  assert_int_equal(cp_prov_mqtt_status_topic("8", "", out, sizeof out, &len),
                   CP_ERR_INVALID_ARG);
}

static void test_cp_prov_http_paths_special_chars_percent_encoded(void **state)
{
  char out[CP_PROV_HTTP_PATH_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_prov_http_register_path("0ne0001", "sn:007/x", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "/0ne0001/registrations/sn%3A007%2Fx/register"
                           "?api-version=2025-07-01-preview");
  assert_int_equal(cp_prov_http_operation_path("0ne0001", "dev-1", "4.a b", out, sizeof out,
                                               &len), CP_OK);
  assert_string_equal(out, "/0ne0001/registrations/dev-1/operations/4.a%20b"
                           "?api-version=2025-07-01-preview");
}

static void test_cp_prov_register_body_with_csr_and_payload_is_json(void **state)
{
  char out[CP_PROV_BODY_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_prov_register_body("dev-1", "TUlJQg==", "{\"model\":\"x\"}", out,
                                         sizeof out, &len), CP_OK);
  assert_string_equal(out, "{\"registrationId\":\"dev-1\",\"csr\":\"TUlJQg==\","
                           "\"payload\":{\"model\":\"x\"}}");
}

static void test_cp_prov_register_body_without_csr_omits_member(void **state)
{
  char out[128];
  size_t len;

  (void)state;
  assert_int_equal(cp_prov_register_body("dev-1", NULL, NULL, out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "{\"registrationId\":\"dev-1\"}");
}

static void test_cp_prov_register_body_payload_not_object_invalid_arg(void **state)
{
  char out[128];
  size_t len;

  (void)state;
  assert_int_equal(cp_prov_register_body("dev-1", NULL, "[1,2]", out, sizeof out, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_register_body("dev-1", NULL, "{oops", out, sizeof out, &len),
                   CP_ERR_INVALID_ARG);
}

static void test_cp_prov_register_body_quotes_escaped(void **state)
{
  char out[128];
  size_t len;

  (void)state;
  assert_int_equal(cp_prov_register_body("a\"b", NULL, NULL, out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "{\"registrationId\":\"a\\\"b\"}");
}

#define TPM_EK "RUtQVUI="  /* stand-ins for base64 TPM2B_PUBLIC blobs */
#define TPM_SRK "U1JLUFVC"

static void test_cp_prov_register_body_tpm_tpm_member_between_id_and_csr(void **state)
{
  char out[CP_PROV_BODY_MAX];
  size_t len = 0;
  const char *want = "{\"registrationId\":\"dev-1\",\"tpm\":{\"endorsementKey\":\"" TPM_EK
                     "\",\"storageRootKey\":\"" TPM_SRK "\"},\"csr\":\"TUlJQg==\","
                     "\"payload\":{\"model\":\"x\"}}";

  (void)state;
  assert_int_equal(cp_prov_register_body_tpm("dev-1", TPM_EK, TPM_SRK, "TUlJQg==",
                                             "{\"model\":\"x\"}", out, sizeof out, &len),
                   CP_OK);
  assert_string_equal(out, want);
  assert_int_equal(len, strlen(want));
  /* without csr and payload: registrationId and tpm only */
  assert_int_equal(cp_prov_register_body_tpm("dev-1", TPM_EK, TPM_SRK, NULL, NULL, out,
                                             sizeof out, &len), CP_OK);
  assert_string_equal(out, "{\"registrationId\":\"dev-1\",\"tpm\":{\"endorsementKey\":\""
                           TPM_EK "\",\"storageRootKey\":\"" TPM_SRK "\"}}");
}

static void test_cp_prov_register_body_tpm_missing_or_oversized_key_invalid_arg(void **state)
{
  static char big[CP_PROV_TPM_KEY_B64_MAX + 1];
  char out[CP_PROV_BODY_MAX];
  size_t len = 7;

  (void)state;
  memset(big, 'A', CP_PROV_TPM_KEY_B64_MAX);
  big[CP_PROV_TPM_KEY_B64_MAX] = '\0'; /* one too long */
  memset(out, 'x', sizeof out);
  assert_int_equal(cp_prov_register_body_tpm("dev-1", NULL, TPM_SRK, NULL, NULL, out,
                                             sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_register_body_tpm("dev-1", TPM_EK, "", NULL, NULL, out,
                                             sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_register_body_tpm("dev-1", big, TPM_SRK, NULL, NULL, out,
                                             sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_register_body_tpm("", TPM_EK, TPM_SRK, NULL, NULL, out,
                                             sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_register_body_tpm("dev-1", TPM_EK, TPM_SRK, NULL, "[1]", out,
                                             sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(out[0], 'x');
  assert_int_equal(len, 7);
  /* the longest accepted key fits CP_PROV_BODY_MAX together with EK, CSR, payload */
  big[CP_PROV_TPM_KEY_B64_MAX - 1] = '\0';
  assert_int_equal(cp_prov_register_body_tpm("dev-1", big, big, NULL, NULL, out, sizeof out,
                                             &len), CP_OK);
  assert_int_equal(len, strlen(out));
}

static void test_cp_prov_register_body_tpm_small_buffer_untouched_and_reports_size(void **state)
{
  char out[32], full[CP_PROV_BODY_MAX];
  size_t need = 0, len = 0;

  (void)state;
  memset(out, 'x', sizeof out);
  assert_int_equal(cp_prov_register_body_tpm("dev-1", TPM_EK, TPM_SRK, NULL, NULL, out,
                                             sizeof out, &need), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(out[0], 'x');
  assert_int_equal(cp_prov_register_body_tpm("dev-1", TPM_EK, TPM_SRK, NULL, NULL, full,
                                             sizeof full, &len), CP_OK);
  assert_int_equal(need, len + 1);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_prov_mqtt_username_valid_ids_matches_protocol),
    cmocka_unit_test(test_cp_prov_mqtt_username_small_buffer_untouched_and_reports_size),
    cmocka_unit_test(test_cp_prov_mqtt_username_empty_scope_invalid_arg),
    cmocka_unit_test(test_cp_prov_mqtt_topics_rid_and_operation_match_protocol),
    cmocka_unit_test(test_cp_prov_http_paths_special_chars_percent_encoded),
    cmocka_unit_test(test_cp_prov_register_body_with_csr_and_payload_is_json),
    cmocka_unit_test(test_cp_prov_register_body_without_csr_omits_member),
    cmocka_unit_test(test_cp_prov_register_body_payload_not_object_invalid_arg),
    cmocka_unit_test(test_cp_prov_register_body_quotes_escaped),
    cmocka_unit_test(test_cp_prov_register_body_tpm_tpm_member_between_id_and_csr),
    cmocka_unit_test(test_cp_prov_register_body_tpm_missing_or_oversized_key_invalid_arg),
    cmocka_unit_test(test_cp_prov_register_body_tpm_small_buffer_untouched_and_reports_size),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
