/* Hub user name, twin topics, certificate report, twin and desired parsing. */
#include <string.h>

#include "fixtures.h"

#include "certpilot/cp_hub.h"
#include "certpilot/cp_protocol.h"

static void test_cp_hub_mqtt_username_matches_protocol(void **state)
{
  char out[CP_HUB_USERNAME_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_hub_mqtt_username("hub.example.net", "dev-1", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "hub.example.net/dev-1/?api-version=2025-08-01-preview"
                           "&DeviceClientType=certpilot%2F0.1.0");
  assert_int_equal(cp_hub_mqtt_username("", "dev-1", out, sizeof out, &len), CP_ERR_INVALID_ARG);
}

static void test_cp_hub_twin_topics_match_protocol(void **state)
{
  char out[CP_HUB_TOPIC_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_hub_twin_get_topic("5", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "$iothub/twin/GET/?$rid=5");
  assert_int_equal(cp_hub_twin_patch_topic("6", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "$iothub/twin/PATCH/properties/reported/?$rid=6");
}

static cp_result hub_topic(const char *t, cp_hub_topic_info *i, cp_error_detail *d)
{
  return cp_hub_topic_parse(t, strlen(t), i, d);
}

static void test_cp_hub_topic_parse_patch_response_reads_status_rid_version(void **state)
{
  cp_hub_topic_info i;

  (void)state;
  assert_int_equal(hub_topic("$iothub/twin/res/204/?$rid=6&$version=12", &i, NULL), CP_OK);
  assert_int_equal(i.kind, CP_HUB_TOPIC_TWIN_RESPONSE);
  assert_int_equal(i.status, 204);
  assert_string_equal(i.rid, "6");
  assert_true(i.has_version);
  assert_int_equal(i.version, 12);
}

static void test_cp_hub_topic_parse_desired_patch_reads_version(void **state)
{
  cp_hub_topic_info i;

  (void)state;
  assert_int_equal(hub_topic("$iothub/twin/PATCH/properties/desired/?$version=3", &i, NULL), CP_OK);
  assert_int_equal(i.kind, CP_HUB_TOPIC_DESIRED_PATCH);
  assert_int_equal(i.version, 3);
}

static void test_cp_hub_topic_parse_truncated_or_bad_parse_error(void **state)
{
  static const char *bad[] = {
    "$iothub/twin/res/", "$iothub/twin/res/20", "$iothub/twin/res/200/?",
    "$iothub/twin/res/200/?$rid=1&$version=x", "$iothub/twin/PATCH/properties/desired/",
    "$iothub/twin/PATCH/properties/desired/?$version=",
  };
  cp_hub_topic_info i;
  cp_error_detail d;
  size_t k;

  (void)state;
  for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    cp_error_detail_clear(&d);
    assert_int_equal(hub_topic(bad[k], &i, &d), CP_ERR_PARSE);
    assert_true(strncmp(d.field, "topic", 5) == 0);
  }
  assert_int_equal(hub_topic("$iothub/methods/POST/x/?$rid=1", &i, NULL), CP_ERR_NOT_FOUND);
}

static void test_cp_hub_certificate_report_body_has_all_13_7_members(void **state)
{
  cp_cert_info leaf;
  cp_hub_certificate_report rep;
  char out[CP_HUB_REPORT_BODY_MAX];
  size_t len;

  (void)state;
  memset(&leaf, 0, sizeof leaf);
  leaf.not_before = 1772323200; /* 2026-03-01T00:00:00Z */
  leaf.not_after = 1774915200;  /* 2026-03-31T00:00:00Z */
  strcpy(leaf.serial_hex, "0a1b");
  strcpy(leaf.thumbprint_sha256, "ff00");
  strcpy(leaf.issuer, "CN=issuing CA, O=certpilot");
  assert_int_equal(cp_hub_certificate_report_from_cert(&leaf, 1772326800, 2, NULL, &rep), CP_OK);
  assert_int_equal(cp_hub_certificate_report_body(&rep, out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "{\"certificate\":{\"validFrom\":\"2026-03-01T00:00:00Z\","
                           "\"validUntil\":\"2026-03-31T00:00:00Z\",\"serialNumber\":\"0a1b\","
                           "\"thumbprint\":\"ff00\",\"issuer\":\"CN=issuing CA, O=certpilot\","
                           "\"renewedAt\":\"2026-03-01T01:00:00Z\",\"renewalCount\":2,"
                           "\"lastError\":null}}");
  assert_int_equal(cp_hub_certificate_report_from_cert(&leaf, 0, 0, "renewal failed: 401", &rep),
                   CP_OK);
  assert_int_equal(cp_hub_certificate_report_body(&rep, out, sizeof out, &len), CP_OK);
  assert_non_null(strstr(out, "\"renewedAt\":\"1970-01-01T00:00:00Z\""));
  assert_non_null(strstr(out, "\"lastError\":\"renewal failed: 401\""));
}

static void test_cp_hub_certificate_report_leap_day_time_formatted(void **state)
{
  cp_cert_info leaf;
  cp_hub_certificate_report rep;

  (void)state;
  memset(&leaf, 0, sizeof leaf);
  leaf.not_before = 951782400;  /* 2000-02-29T00:00:00Z */
  leaf.not_after = 4107542399;  /* 2100-02-28T23:59:59Z */
  assert_int_equal(cp_hub_certificate_report_from_cert(&leaf, 0, 0, NULL, &rep), CP_OK);
  assert_string_equal(rep.valid_from, "2000-02-29T00:00:00Z");
  assert_string_equal(rep.valid_until, "2100-02-28T23:59:59Z");
  leaf.not_after = -1;
  assert_int_equal(cp_hub_certificate_report_from_cert(&leaf, 0, 0, NULL, &rep), CP_ERR_INVALID_ARG);
}

static void test_cp_hub_twin_parse_recorded_twin_reads_versions_and_certificate(void **state)
{
  static const char twin[] =
    "{\"desired\":{\"telemetryInterval\":30,\"$version\":4},\"reported\":{\"certificate\":"
    "{\"validFrom\":\"2026-03-01T00:00:00Z\",\"validUntil\":\"2026-03-31T00:00:00Z\","
    "\"serialNumber\":\"0a\",\"thumbprint\":\"ab\",\"issuer\":\"CN=ca\",\"renewedAt\":"
    "\"2026-03-01T00:00:00Z\",\"renewalCount\":1,\"lastError\":null},\"$version\":9}}";
  cp_hub_twin t;

  (void)state;
  assert_int_equal(cp_hub_twin_parse(twin, strlen(twin), &t, NULL), CP_OK);
  assert_int_equal(t.desired_version, 4);
  assert_int_equal(t.reported_version, 9);
  assert_true(t.has_certificate);
  assert_string_equal(t.certificate.valid_until, "2026-03-31T00:00:00Z");
  assert_int_equal(t.certificate.renewal_count, 1);
  assert_false(t.certificate.has_last_error);
}

static void test_cp_hub_twin_parse_hostile_bodies_bad_response_named(void **state)
{
  static const struct { const char *body, *field; } bad[] = {
    {"not json", ""},
    {"{\"reported\":{}}", "desired"},
    {"{\"desired\":{}}", "desired.$version"},
    {"{\"desired\":{\"$version\":\"4\"}}", "desired.$version"},
    {"{\"desired\":{\"$version\":4},\"reported\":[]}", "reported"},
    {"{\"desired\":{\"$version\":4},\"reported\":{\"certificate\":5}}", "reported.certificate"},
    {"{\"desired\":{\"$version\":4},\"reported\":{\"certificate\":{\"renewalCount\":-1}}}",
     "reported.certificate.renewalCount"},
    {"{\"desired\":{\"$version\":4},\"reported\":{\"certificate\":{\"validFrom\":1}}}",
     "reported.certificate.validFrom"},
  };
  cp_hub_twin t;
  cp_error_detail d;
  size_t k;

  (void)state;
  for (k = 0; k < sizeof bad / sizeof bad[0]; k++) {
    cp_error_detail_clear(&d);
    memset(&t, 0x11, sizeof t);
    assert_int_equal(cp_hub_twin_parse(bad[k].body, strlen(bad[k].body), &t, &d),
                     CP_ERR_BAD_RESPONSE);
    assert_string_equal(d.field, bad[k].field);
    assert_int_equal(t.desired_version, 0x1111111111111111LL);
  }
}

static void test_cp_hub_desired_parse_reads_version_rejects_garbage(void **state)
{
  int64_t v = -1;
  cp_error_detail d;

  (void)state;
  assert_int_equal(cp_hub_desired_parse("{\"x\":1,\"$version\":7}", 20, &v, NULL), CP_OK);
  assert_int_equal(v, 7);
  assert_int_equal(cp_hub_desired_parse("{\"x\":1}", 7, &v, &d), CP_ERR_BAD_RESPONSE);
  assert_string_equal(d.field, "$version");
  assert_int_equal(cp_hub_desired_parse("{\"$version\":1.5}", 16, &v, &d), CP_ERR_BAD_RESPONSE);
  assert_int_equal(v, 7);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_hub_mqtt_username_matches_protocol),
    cmocka_unit_test(test_cp_hub_twin_topics_match_protocol),
    cmocka_unit_test(test_cp_hub_topic_parse_patch_response_reads_status_rid_version),
    cmocka_unit_test(test_cp_hub_topic_parse_desired_patch_reads_version),
    cmocka_unit_test(test_cp_hub_topic_parse_truncated_or_bad_parse_error),
    cmocka_unit_test(test_cp_hub_certificate_report_body_has_all_13_7_members),
    cmocka_unit_test(test_cp_hub_certificate_report_leap_day_time_formatted),
    cmocka_unit_test(test_cp_hub_twin_parse_recorded_twin_reads_versions_and_certificate),
    cmocka_unit_test(test_cp_hub_twin_parse_hostile_bodies_bad_response_named),
    cmocka_unit_test(test_cp_hub_desired_parse_reads_version_rejects_garbage),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
