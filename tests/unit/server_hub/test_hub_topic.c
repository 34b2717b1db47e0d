/* Unit tests: topic and username parsing / building (hostile input). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <string.h>

#include "hub_topic.h"

static void test_hub_topic_parse_register_rid_ok(void **state) {
  (void)state;
  hub_topic t;
  assert_int_equal(hub_topic_parse("$dps/registrations/PUT/iotdps-register/?$rid=42", &t), CP_OK);
  assert_int_equal(t.kind, HUB_TOPIC_DPS_REGISTER);
  assert_string_equal(t.rid, "42");
}

static void test_hub_topic_parse_status_both_params_ok(void **state) {
  (void)state;
  hub_topic t;
  assert_int_equal(hub_topic_parse("$dps/registrations/GET/iotdps-get-operationstatus/"
                                   "?$rid=7&operationId=4.d0a6.abc-1",
                                   &t),
                   CP_OK);
  assert_int_equal(t.kind, HUB_TOPIC_DPS_OPERATION_STATUS);
  assert_string_equal(t.rid, "7");
  assert_string_equal(t.operation_id, "4.d0a6.abc-1");
  /* parameter order does not matter */
  assert_int_equal(hub_topic_parse("$dps/registrations/GET/iotdps-get-operationstatus/"
                                   "?operationId=op&$rid=8",
                                   &t),
                   CP_OK);
  assert_string_equal(t.rid, "8");
  assert_string_equal(t.operation_id, "op");
}

static void test_hub_topic_parse_status_missing_operation_fails(void **state) {
  (void)state;
  hub_topic t;
  memset(&t, 0x5a, sizeof t);
  hub_topic before = t;
  assert_int_equal(
      hub_topic_parse("$dps/registrations/GET/iotdps-get-operationstatus/?$rid=7", &t),
      CP_ERR_PARSE);
  assert_memory_equal(&t, &before, sizeof t); /* untouched */
}

static void test_hub_topic_parse_twin_topics_ok(void **state) {
  (void)state;
  hub_topic t;
  assert_int_equal(hub_topic_parse("$iothub/twin/GET/?$rid=abc", &t), CP_OK);
  assert_int_equal(t.kind, HUB_TOPIC_TWIN_GET);
  assert_string_equal(t.rid, "abc");
  assert_int_equal(hub_topic_parse("$iothub/twin/PATCH/properties/reported/?$rid=9", &t), CP_OK);
  assert_int_equal(t.kind, HUB_TOPIC_TWIN_PATCH_REPORTED);
  assert_string_equal(t.rid, "9");
}

static void test_hub_topic_parse_telemetry_with_props_ok(void **state) {
  (void)state;
  hub_topic t;
  assert_int_equal(hub_topic_parse("devices/dev-1/messages/events/", &t), CP_OK);
  assert_int_equal(t.kind, HUB_TOPIC_TELEMETRY);
  assert_string_equal(t.device_id, "dev-1");
  assert_int_equal(
      hub_topic_parse("devices/dev-1/messages/events/$.ct=application%2Fjson&$.ce=utf-8", &t),
      CP_OK);
  assert_string_equal(t.device_id, "dev-1");
}

static void test_hub_topic_parse_hostile_topics_fail(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "$dps",
      "$dps/registrations/PUT/iotdps-register/",
      "$dps/registrations/PUT/iotdps-register/?",
      "$dps/registrations/PUT/iotdps-register/?$rid=",
      "$dps/registrations/PUT/iotdps-register/?$rid",
      "$dps/registrations/PUT/iotdps-register/?$rid=1&$rid=2",
      "$dps/registrations/PUT/iotdps-register/?$rid=1&",
      "$dps/registrations/PUT/iotdps-register/?$rid=a/b",
      "$dps/registrations/PUT/iotdps-register/?$rid=a+b",
      "$dps/registrations/PUT/iotdps-register/?=x&$rid=1",
      "$dps/registrations/PUT/iotdps-register?$rid=1",
      "$dps/registrations/GET/iotdps-get-operationstatus/?operationId=x",
      "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=",
      "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=a#",
      "$iothub/twin/GET/",
      "$iothub/twin/GET/?$rid=00000000001111111111222222222233333333334444444444555555555566666",
      "$iothub/twin/PATCH/properties/desired/?$rid=1",
      "devices//messages/events/",
      "devices/dev-1",
      "devices/dev-1/messages/events",
      "devices/dev-1/messages/devicebound/",
      "devices/dev 1/messages/events/",
      "devices/dev-1/messages/events/a/b",
      "devices/+/messages/events/",
      "#",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    hub_topic t;
    if (hub_topic_parse(bad[i], &t) != CP_ERR_PARSE) fail_msg("accepted: '%s'", bad[i]);
  }
  hub_topic t;
  assert_int_equal(hub_topic_parse(NULL, &t), CP_ERR_INVALID_ARG);
  assert_int_equal(hub_topic_parse("$iothub/twin/GET/?$rid=1", NULL), CP_ERR_INVALID_ARG);
}

static void test_hub_topic_parse_rid_at_limit_ok(void **state) {
  (void)state;
  char topic[200];
  char rid[HUB_RID_MAX + 1];
  memset(rid, 'r', HUB_RID_MAX);
  rid[HUB_RID_MAX] = '\0';
  snprintf(topic, sizeof topic, "$iothub/twin/GET/?$rid=%s", rid);
  hub_topic t;
  assert_int_equal(hub_topic_parse(topic, &t), CP_OK);
  assert_string_equal(t.rid, rid);
}

static void test_hub_username_parse_dps_ok(void **state) {
  (void)state;
  hub_username u;
  assert_int_equal(hub_username_parse("0ne00000001/registrations/dev-1/api-version="
                                      "2025-07-01-preview&ClientVersion=x%2F1",
                                      &u),
                   CP_OK);
  assert_int_equal(u.kind, HUB_CLIENT_DPS);
  assert_string_equal(u.scope, "0ne00000001");
  assert_string_equal(u.id, "dev-1");
  assert_string_equal(u.api_version, "2025-07-01-preview");
}

static void test_hub_username_parse_hub_ok(void **state) {
  (void)state;
  hub_username u;
  assert_int_equal(hub_username_parse("hub.local/dev-1/?api-version=2025-08-01-preview"
                                      "&DeviceClientType=c%2F1",
                                      &u),
                   CP_OK);
  assert_int_equal(u.kind, HUB_CLIENT_HUB);
  assert_string_equal(u.scope, "hub.local");
  assert_string_equal(u.id, "dev-1");
  assert_string_equal(u.api_version, "2025-08-01-preview");
  /* a device literally named "registrations" is still a hub client */
  assert_int_equal(hub_username_parse("hub/registrations/?api-version=2021-04-12", &u), CP_OK);
  assert_int_equal(u.kind, HUB_CLIENT_HUB);
  assert_string_equal(u.id, "registrations");
}

static void test_hub_username_parse_hostile_fails(void **state) {
  (void)state;
  static const char *const bad[] = {
      "",
      "scope",
      "scope/registrations/dev-1",
      "scope/registrations/dev-1/",
      "scope/registrations/dev-1/api-version=",
      "scope/registrations/dev-1/apiversion=1",
      "scope/registrations/dev 1/api-version=2021-06-01",
      "scope/registrations/dev-1/api-version=2021-06-01/x",
      "/registrations/dev-1/api-version=2021-06-01",
      "hub/dev-1/",
      "hub/dev-1/?",
      "hub/dev-1/?x=1",
      "hub/dev-1/?api-version=a b",
      "hub/dev-1/?api-version=1&api-version=2",
      "hub//?api-version=2021-04-12",
      "hub/dev-1/x?api-version=2021-04-12",
      "hub/dev#1/?api-version=2021-04-12",
  };
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    hub_username u;
    if (hub_username_parse(bad[i], &u) != CP_ERR_PARSE) fail_msg("accepted: '%s'", bad[i]);
  }
  hub_username u;
  assert_int_equal(hub_username_parse(NULL, &u), CP_ERR_INVALID_ARG);
}

static void test_hub_api_version_supported_hub_list(void **state) {
  (void)state;
  assert_true(hub_api_version_supported("2025-08-01-preview"));
  assert_true(hub_api_version_supported("2021-04-12"));
  assert_true(hub_api_version_supported("2020-09-30"));
  assert_false(hub_api_version_supported("2025-07-01-preview")); /* a DPS version */
  assert_false(hub_api_version_supported("1999-01-01"));
  assert_false(hub_api_version_supported(""));
  assert_false(hub_api_version_supported(NULL));
}

static void test_hub_id_valid_rules(void **state) {
  (void)state;
  assert_true(hub_id_valid("a"));
  assert_true(hub_id_valid("sn-007:a.b_c-"));
  assert_false(hub_id_valid(""));
  assert_false(hub_id_valid("abc."));
  assert_false(hub_id_valid("a/b"));
  char longid[HUB_ID_MAX + 2];
  memset(longid, 'a', sizeof longid - 1);
  longid[sizeof longid - 1] = '\0';
  assert_false(hub_id_valid(longid));
  longid[HUB_ID_MAX] = '\0';
  assert_true(hub_id_valid(longid));
}

static void test_hub_topic_build_responses_format(void **state) {
  (void)state;
  char buf[128];
  assert_int_equal(hub_topic_build_dps_response(buf, sizeof buf, 202, "1", 3), CP_OK);
  assert_string_equal(buf, "$dps/registrations/res/202/?$rid=1&retry-after=3");
  assert_int_equal(hub_topic_build_dps_response(buf, sizeof buf, 200, "1", -1), CP_OK);
  assert_string_equal(buf, "$dps/registrations/res/200/?$rid=1");
  assert_int_equal(hub_topic_build_twin_response(buf, sizeof buf, 204, "r", 5), CP_OK);
  assert_string_equal(buf, "$iothub/twin/res/204/?$rid=r&$version=5");
  assert_int_equal(hub_topic_build_twin_response(buf, sizeof buf, 200, "r", -1), CP_OK);
  assert_string_equal(buf, "$iothub/twin/res/200/?$rid=r");
  assert_int_equal(hub_topic_build_twin_desired(buf, sizeof buf, 12), CP_OK);
  assert_string_equal(buf, "$iothub/twin/PATCH/properties/desired/?$version=12");
}

static void test_hub_topic_build_small_buffer_untouched(void **state) {
  (void)state;
  char buf[10];
  memset(buf, 'x', sizeof buf);
  assert_int_equal(hub_topic_build_dps_response(buf, sizeof buf, 202, "1", 3),
                   CP_ERR_BUFFER_TOO_SMALL);
  for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], 'x');
  assert_int_equal(hub_topic_build_dps_response(buf, sizeof buf, 99, "1", 3), CP_ERR_INVALID_ARG);
  assert_int_equal(hub_topic_build_twin_desired(buf, sizeof buf, -1), CP_ERR_INVALID_ARG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_topic_parse_register_rid_ok),
      cmocka_unit_test(test_hub_topic_parse_status_both_params_ok),
      cmocka_unit_test(test_hub_topic_parse_status_missing_operation_fails),
      cmocka_unit_test(test_hub_topic_parse_twin_topics_ok),
      cmocka_unit_test(test_hub_topic_parse_telemetry_with_props_ok),
      cmocka_unit_test(test_hub_topic_parse_hostile_topics_fail),
      cmocka_unit_test(test_hub_topic_parse_rid_at_limit_ok),
      cmocka_unit_test(test_hub_username_parse_dps_ok),
      cmocka_unit_test(test_hub_username_parse_hub_ok),
      cmocka_unit_test(test_hub_username_parse_hostile_fails),
      cmocka_unit_test(test_hub_api_version_supported_hub_list),
      cmocka_unit_test(test_hub_id_valid_rules),
      cmocka_unit_test(test_hub_topic_build_responses_format),
      cmocka_unit_test(test_hub_topic_build_small_buffer_untouched),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
