/* Unit tests: a client reaches only its own protocol topics. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "hub_acl.h"

static void test_hub_acl_dps_own_topics_allowed(void **state) {
  (void)state;
  assert_true(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_SUBSCRIBE,
                             "$dps/registrations/res/#"));
  assert_true(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_READ,
                             "$dps/registrations/res/202/?$rid=1&retry-after=3"));
  assert_true(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_WRITE,
                             "$dps/registrations/PUT/iotdps-register/?$rid=1"));
  assert_true(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_WRITE,
                             "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2&operationId=x"));
}

static void test_hub_acl_dps_other_topics_denied(void **state) {
  (void)state;
  assert_false(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_SUBSCRIBE, "#"));
  assert_false(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_SUBSCRIBE, "$dps/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_SUBSCRIBE,
                              "$dps/registrations/PUT/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_SUBSCRIBE, "$iothub/twin/res/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_WRITE,
                              "$dps/registrations/res/200/?$rid=1"));
  assert_false(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_WRITE, "$iothub/twin/GET/?$rid=1"));
  assert_false(hub_acl_allows(HUB_CLIENT_DPS, "reg-1", HUB_ACCESS_WRITE,
                              "devices/reg-1/messages/events/"));
}

static void test_hub_acl_hub_own_topics_allowed(void **state) {
  (void)state;
  static const char *const subs[] = {"$iothub/twin/res/#", "$iothub/twin/PATCH/properties/desired/#",
                                     "$iothub/methods/POST/#", "devices/dev-1/messages/devicebound/#"};
  for (size_t i = 0; i < 4; i++)
    assert_true(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_SUBSCRIBE, subs[i]));
  assert_true(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_READ,
                             "$iothub/twin/PATCH/properties/desired/?$version=3"));
  assert_true(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_WRITE, "$iothub/twin/GET/?$rid=1"));
  assert_true(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_WRITE,
                             "$iothub/twin/PATCH/properties/reported/?$rid=2"));
  assert_true(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_WRITE,
                             "devices/dev-1/messages/events/"));
  assert_true(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_UNSUBSCRIBE, "$iothub/twin/res/#"));
}

static void test_hub_acl_hub_other_device_denied(void **state) {
  (void)state;
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_SUBSCRIBE,
                              "devices/dev-2/messages/devicebound/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_SUBSCRIBE,
                              "devices/+/messages/devicebound/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_SUBSCRIBE, "devices/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_SUBSCRIBE,
                              "devices/dev-1/messages/events/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_SUBSCRIBE, "$iothub/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_SUBSCRIBE,
                              "$dps/registrations/res/#"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_WRITE,
                              "devices/dev-2/messages/events/"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_WRITE,
                              "$iothub/twin/res/200/?$rid=1"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_WRITE,
                              "$iothub/twin/PATCH/properties/desired/?$version=9"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_READ,
                              "devices/dev-2/messages/devicebound/x"));
  /* a device id that prefixes another's must not match it */
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev", HUB_ACCESS_SUBSCRIBE,
                              "devices/dev-1/messages/devicebound/#"));
}

static void test_hub_acl_bad_arguments_denied(void **state) {
  (void)state;
  assert_false(hub_acl_allows(HUB_CLIENT_NONE, "dev-1", HUB_ACCESS_READ, "$iothub/twin/res/x"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, NULL, HUB_ACCESS_READ, "$iothub/twin/res/x"));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "dev-1", HUB_ACCESS_READ, NULL));
  assert_false(hub_acl_allows(HUB_CLIENT_HUB, "bad/id", HUB_ACCESS_READ, "$iothub/twin/res/x"));
  assert_false(hub_acl_allows(HUB_CLIENT_NONE, "dev-1", HUB_ACCESS_UNSUBSCRIBE, "x"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_acl_dps_own_topics_allowed),
      cmocka_unit_test(test_hub_acl_dps_other_topics_denied),
      cmocka_unit_test(test_hub_acl_hub_own_topics_allowed),
      cmocka_unit_test(test_hub_acl_hub_other_device_denied),
      cmocka_unit_test(test_hub_acl_bad_arguments_denied),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
