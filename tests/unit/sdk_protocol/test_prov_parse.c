/* DPS response topics, bodies and error bodies, recorded and hostile. */
#include <string.h>

#include "fixtures.h"

#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

static cp_prov_response resp; /* large: keep it off the stack */

static cp_result topic(const char *t, cp_prov_topic_info *info, cp_error_detail *d)
{
  return cp_prov_topic_parse(t, strlen(t), info, d);
}

static void test_cp_prov_topic_parse_202_with_retry_after_reads_all(void **state)
{
  cp_prov_topic_info info;

  (void)state;
  assert_int_equal(topic("$dps/registrations/res/202/?$rid=12&retry-after=3", &info, NULL), CP_OK);
  assert_int_equal(info.status, 202);
  assert_string_equal(info.rid, "12");
  assert_true(info.has_retry_after);
  assert_int_equal(info.retry_after_s, 3);
}

static void test_cp_prov_topic_parse_no_retry_after_reports_absent(void **state)
{
  cp_prov_topic_info info;

  (void)state;
  assert_int_equal(topic("$dps/registrations/res/200/?$rid=1", &info, NULL), CP_OK);
  assert_false(info.has_retry_after);
  assert_int_equal(info.retry_after_s, 0);
}

static void test_cp_prov_topic_parse_huge_retry_after_clamped(void **state)
{
  cp_prov_topic_info info;

  (void)state;
  assert_int_equal(topic("$dps/registrations/res/429/?$rid=1&retry-after="
                         "99999999999999999999999999", &info, NULL), CP_OK);
  assert_int_equal(info.retry_after_s, CP_RETRY_AFTER_MAX_S);
}

static void test_cp_prov_topic_parse_unknown_params_ignored(void **state)
{
  cp_prov_topic_info info;

  (void)state;
  assert_int_equal(topic("$dps/registrations/res/202/?foo=bar&$rid=9&x", &info, NULL), CP_OK);
  assert_string_equal(info.rid, "9");
}

static void test_cp_prov_topic_parse_truncated_parse_error_names_part(void **state)
{
  static const char *bad[] = {
    "$dps/registrations/res/",       "$dps/registrations/res/20",
    "$dps/registrations/res/202",    "$dps/registrations/res/202/",
    "$dps/registrations/res/2x2/?$rid=1", "$dps/registrations/res/202/?$rid=",
    "$dps/registrations/res/202/?retry-after=3",
  };
  cp_prov_topic_info info;
  cp_error_detail d;
  size_t i;

  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cp_error_detail_clear(&d);
    memset(&info, 0x5a, sizeof info);
    assert_int_equal(topic(bad[i], &info, &d), CP_ERR_PARSE);
    assert_true(strncmp(d.field, "topic.", 6) == 0);
    assert_int_equal(info.status, 0x5a5a5a5a); /* untouched */
  }
}

static void test_cp_prov_topic_parse_bad_retry_after_parse_error(void **state)
{
  cp_prov_topic_info info;
  cp_error_detail d;

  (void)state;
  assert_int_equal(topic("$dps/registrations/res/202/?$rid=1&retry-after=-3", &info, &d),
                   CP_ERR_PARSE);
  assert_string_equal(d.field, "topic.retry-after");
}

static void test_cp_prov_topic_parse_other_topic_not_found(void **state)
{
  cp_prov_topic_info info;

  (void)state;
  assert_int_equal(topic("$iothub/twin/res/200/?$rid=1", &info, NULL), CP_ERR_NOT_FOUND);
}

static void test_cp_prov_retry_after_parse_header_values(void **state)
{
  uint32_t s = 7;

  (void)state;
  assert_int_equal(cp_prov_retry_after_parse(" 2 ", 3, &s), CP_OK);
  assert_int_equal(s, 2);
  assert_int_equal(cp_prov_retry_after_parse("301", 3, &s), CP_OK);
  assert_int_equal(s, CP_RETRY_AFTER_MAX_S);
  assert_int_equal(cp_prov_retry_after_parse("Wed, 21 Oct 2026 07:28:00 GMT", 29, &s),
                   CP_ERR_PARSE);
  assert_int_equal(cp_prov_retry_after_parse("", 0, &s), CP_ERR_PARSE);
}

static cp_result body(const char *b, cp_error_detail *d)
{
  return cp_prov_response_parse(b, strlen(b), &resp, d);
}

static void test_cp_prov_response_parse_recorded_202_assigning(void **state)
{
  (void)state;
  assert_int_equal(body(BODY_202_ASSIGNING, NULL), CP_OK);
  assert_int_equal(resp.status, CP_PROV_STATUS_ASSIGNING);
  assert_string_equal(resp.operation_id, "4.d0a6c0b1e5a2c3f4.2f3e7c9d-1b2a-4c5d-9e8f-0a1b2c3d4e5f");
  assert_int_equal(resp.chain_len, 0);
}

static void test_cp_prov_response_parse_recorded_200_assigned_reads_state_and_chain(void **state)
{
  (void)state;
  assert_int_equal(body(BODY_200_ASSIGNED, NULL), CP_OK);
  assert_int_equal(resp.status, CP_PROV_STATUS_ASSIGNED);
  assert_string_equal(resp.device_id, "dev-1");
  assert_string_equal(resp.assigned_hub, "hub.example.net");
  assert_string_equal(resp.registration_id, "dev-1");
  assert_string_equal(resp.substatus, "initialAssignment");
  assert_int_equal(resp.chain_len, 3);
  assert_string_equal(resp.chain_b64[0], B64_A);
  assert_string_equal(resp.chain_b64[2], B64_C);
}

static void test_cp_prov_response_parse_failed_reads_error_code_and_message(void **state)
{
  (void)state;
  assert_int_equal(body(BODY_200_FAILED, NULL), CP_OK);
  assert_int_equal(resp.status, CP_PROV_STATUS_FAILED);
  assert_int_equal(resp.error_code, 400037);
  assert_string_equal(resp.error_message, "CSR key is not EC P-384");
}

/* Every hostile body must fail with CP_ERR_BAD_RESPONSE, name the field, and
 * leave the output untouched. */
static void expect_bad(const char *b, const char *field)
{
  cp_error_detail d;

  cp_error_detail_clear(&d);
  memset(&resp, 0x33, sizeof resp);
  assert_int_equal(cp_prov_response_parse(b, strlen(b), &resp, &d), CP_ERR_BAD_RESPONSE);
  assert_string_equal(d.field, field);
  assert_true(d.message[0] != '\0');
  assert_int_equal((unsigned char)resp.operation_id[0], 0x33);
}

static void test_cp_prov_response_parse_not_json_bad_response(void **state)
{
  (void)state;
  expect_bad("<html>502 Bad Gateway</html>", "");
  expect_bad("", "");
  expect_bad("[\"operationId\"]", "");
  expect_bad("{\"operationId\":\"x\",\"status\":\"assigning\"", "");
}

static void test_cp_prov_response_parse_missing_fields_named(void **state)
{
  (void)state;
  expect_bad("{\"status\":\"assigning\"}", "operationId");
  expect_bad("{\"operationId\":\"x\"}", "status");
  expect_bad("{\"operationId\":\"x\",\"status\":\"assigned\"}", "registrationState");
  expect_bad("{\"operationId\":\"x\",\"status\":\"assigned\",\"registrationState\":"
             "{\"assignedHub\":\"h\"}}", "registrationState.deviceId");
  expect_bad("{\"operationId\":\"x\",\"status\":\"assigned\",\"registrationState\":"
             "{\"deviceId\":\"d\"}}", "registrationState.assignedHub");
}

static void test_cp_prov_response_parse_wrong_types_named(void **state)
{
  (void)state;
  expect_bad("{\"operationId\":5,\"status\":\"assigning\"}", "operationId");
  expect_bad("{\"operationId\":\"x\",\"status\":\"failed\",\"registrationState\":"
             "{\"errorCode\":\"400037\"}}", "registrationState.errorCode");
  expect_bad("{\"operationId\":\"x\",\"status\":\"failed\",\"registrationState\":"
             "{\"errorCode\":4000370}}", "registrationState.errorCode");
  expect_bad("{\"operationId\":\"x\",\"status\":\"assigning\",\"registrationState\":7}",
             "registrationState");
}

static void test_cp_prov_response_parse_unknown_status_bad_response(void **state)
{
  (void)state;
  expect_bad("{\"operationId\":\"x\",\"status\":\"exploded\"}", "status");
}

static void test_cp_prov_response_parse_operation_id_with_topic_chars_rejected(void **state)
{
  (void)state;
  expect_bad("{\"operationId\":\"x&$rid=9\",\"status\":\"assigning\"}", "operationId");
  expect_bad("{\"operationId\":\"a/b\",\"status\":\"assigning\"}", "operationId");
}

#define ASSIGNED_WITH_CHAIN(chain) \
  "{\"operationId\":\"x\",\"status\":\"assigned\",\"registrationState\":{" \
  "\"deviceId\":\"d\",\"assignedHub\":\"h\",\"issuedCertificateChain\":" chain "}}"

static void test_cp_prov_response_parse_chain_wrong_length_bad_response(void **state)
{
  (void)state;
  expect_bad(ASSIGNED_WITH_CHAIN("[]"), "registrationState.issuedCertificateChain");
  expect_bad(ASSIGNED_WITH_CHAIN("[\"" B64_A "\",\"" B64_A "\",\"" B64_A "\",\"" B64_A
                                 "\",\"" B64_A "\"]"),
             "registrationState.issuedCertificateChain");
  expect_bad(ASSIGNED_WITH_CHAIN("\"" B64_A "\""), "registrationState.issuedCertificateChain");
}

static void test_cp_prov_response_parse_chain_base64_garbage_names_element(void **state)
{
  (void)state;
  expect_bad(ASSIGNED_WITH_CHAIN("[\"" B64_A "\",\"not base64!\"]"),
             "registrationState.issuedCertificateChain[1]");
  expect_bad(ASSIGNED_WITH_CHAIN("[\"-----BEGIN CERTIFICATE-----\"]"),
             "registrationState.issuedCertificateChain[0]");
  expect_bad(ASSIGNED_WITH_CHAIN("[\"" B64_A "\",17]"),
             "registrationState.issuedCertificateChain[1]");
  expect_bad(ASSIGNED_WITH_CHAIN("[\"QQ=A\"]"), "registrationState.issuedCertificateChain[0]");
}

static void test_cp_prov_response_parse_huge_chain_element_rejected(void **state)
{
  static const char head[] = "{\"operationId\":\"x\",\"status\":\"assigned\","
                             "\"registrationState\":{\"deviceId\":\"d\",\"assignedHub\":"
                             "\"h\",\"issuedCertificateChain\":[\"";
  static char b[sizeof head + CP_PROV_CHAIN_B64_MAX + 64];
  size_t n = sizeof head - 1;

  (void)state;
  memcpy(b, head, n);
  memset(b + n, 'A', CP_PROV_CHAIN_B64_MAX + 3); /* multiple of 4, one too long */
  strcpy(b + n + CP_PROV_CHAIN_B64_MAX + 3, "\"]}}");
  expect_bad(b, "registrationState.issuedCertificateChain[0]");
}

static void test_cp_prov_response_parse_hub_not_hostname_rejected(void **state)
{
  (void)state;
  expect_bad("{\"operationId\":\"x\",\"status\":\"assigned\",\"registrationState\":{"
             "\"deviceId\":\"d\",\"assignedHub\":\"evil/host?x\"}}",
             "registrationState.assignedHub");
}

static void test_cp_prov_error_parse_401_unauthorized_with_code_and_message(void **state)
{
  cp_error_detail d;

  (void)state;
  assert_int_equal(cp_prov_error_parse(401, BODY_401, strlen(BODY_401), &d), CP_ERR_UNAUTHORIZED);
  assert_int_equal(d.status, 401);
  assert_int_equal(d.error_code, 401002);
  assert_string_equal(d.message, "Invalid certificate.");
}

static void test_cp_prov_error_parse_non_json_body_refused_and_says_so(void **state)
{
  cp_error_detail d;

  (void)state;
  assert_int_equal(cp_prov_error_parse(404, "nope", 4, &d), CP_ERR_REFUSED);
  assert_int_equal(d.status, 404);
  assert_int_equal(d.error_code, 0);
  assert_non_null(strstr(d.message, "not a JSON object"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_prov_topic_parse_202_with_retry_after_reads_all),
    cmocka_unit_test(test_cp_prov_topic_parse_no_retry_after_reports_absent),
    cmocka_unit_test(test_cp_prov_topic_parse_huge_retry_after_clamped),
    cmocka_unit_test(test_cp_prov_topic_parse_unknown_params_ignored),
    cmocka_unit_test(test_cp_prov_topic_parse_truncated_parse_error_names_part),
    cmocka_unit_test(test_cp_prov_topic_parse_bad_retry_after_parse_error),
    cmocka_unit_test(test_cp_prov_topic_parse_other_topic_not_found),
    cmocka_unit_test(test_cp_prov_retry_after_parse_header_values),
    cmocka_unit_test(test_cp_prov_response_parse_recorded_202_assigning),
    cmocka_unit_test(test_cp_prov_response_parse_recorded_200_assigned_reads_state_and_chain),
    cmocka_unit_test(test_cp_prov_response_parse_failed_reads_error_code_and_message),
    cmocka_unit_test(test_cp_prov_response_parse_not_json_bad_response),
    cmocka_unit_test(test_cp_prov_response_parse_missing_fields_named),
    cmocka_unit_test(test_cp_prov_response_parse_wrong_types_named),
    cmocka_unit_test(test_cp_prov_response_parse_unknown_status_bad_response),
    cmocka_unit_test(test_cp_prov_response_parse_operation_id_with_topic_chars_rejected),
    cmocka_unit_test(test_cp_prov_response_parse_chain_wrong_length_bad_response),
    cmocka_unit_test(test_cp_prov_response_parse_chain_base64_garbage_names_element),
    cmocka_unit_test(test_cp_prov_response_parse_huge_chain_element_rejected),
    cmocka_unit_test(test_cp_prov_response_parse_hub_not_hostname_rejected),
    cmocka_unit_test(test_cp_prov_error_parse_401_unauthorized_with_code_and_message),
    cmocka_unit_test(test_cp_prov_error_parse_non_json_body_refused_and_says_so),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
