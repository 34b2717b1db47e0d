/* Unit tests of the certpilotd configuration parser. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_config.h"

#define BASE                                           \
  "[provisioning]\n"                                   \
  "endpoint = dps.example.net\n"                       \
  "id_scope = 0ne000A1B2C\n"                           \
  "registration_id = dev-001\n"                        \
  "trust_bundle = /etc/certpilot/ca.pem\n"             \
  "[onboarding]\n"                                     \
  "kind = symmetric-key\n"                             \
  "symmetric_key_file = /etc/certpilot/device.key\n"

static cp_result parse(const char *text, cpa_config *cfg, char *err, size_t n) {
  cpa_config_defaults(cfg);
  return cpa_config_parse_string(text, "t.conf", cfg, err, n);
}

static void test_cpa_config_parse_minimal_gets_documented_defaults(void **state) {
  (void)state;
  cpa_config cfg;
  char err[256];
  assert_int_equal(parse(BASE "[provisioning]\nport =\n", &cfg, err, sizeof err), CP_OK);
  assert_int_equal(cfg.port, 0);
  assert_string_equal(cfg.endpoint, "dps.example.net");
  assert_string_equal(cfg.registration_id, "dev-001");
  assert_int_equal(cfg.transport, CPA_TRANSPORT_MQTT);
  assert_int_equal(cfg.onboarding, CPA_ONBOARDING_SYMMETRIC_KEY);
  assert_true(fabs(cfg.renewal_fraction - 2.0 / 3.0) < 1e-9);
  assert_string_equal(cfg.state_dir, "/var/lib/certpilot");
  assert_string_equal(cfg.run_dir, "/run/certpilot");
  assert_true(cfg.twin_report);
  assert_int_equal(cfg.log_level, 6);
}

static void test_cpa_config_parse_all_keys_sets_each_field(void **state) {
  (void)state;
  cpa_config cfg;
  char err[256];
  const char *text =
      "[provisioning]\nendpoint = h\nport = 8884\nid_scope = s\nregistration_id = Dev_1:a-\n"
      "transport = mqtt-ws\ntrust_bundle = /t.pem\nchain_anchor = /a.pem\ntimeout = 2m\n"
      "[onboarding]\nkind = x509\ncert_file = /c.pem\nkey_file = /k.pem\nsymmetric_key_is_group = yes\n"
      "tpm_tcti = swtpm:port=2321\nsymmetric_key_file = /s\n"
      "[renewal]\nfraction = 3/4\njitter = 2%\nbackoff_initial = 5\nbackoff_max = 1h\n"
      "backoff_time_left_fraction = 0.5\ndisabled_backoff = 1d\n"
      "[paths]\nstate_dir = /s/d\nrun_dir = /r/d\nmetrics_file =\n"
      "[hooks]\npost_renewal = systemctl reload nginx\ntimeout = 10\n"
      "[twin]\nreport = off\n[log]\nlevel = debug\n[hub]\nport = 8885\ntransport = mqtt\n";
  assert_int_equal(parse(text, &cfg, err, sizeof err), CP_OK);
  assert_int_equal(cfg.port, 8884);
  assert_int_equal(cfg.transport, CPA_TRANSPORT_MQTT_WS);
  assert_string_equal(cfg.chain_anchor, "/a.pem");
  assert_int_equal(cfg.timeout, 120);
  assert_int_equal(cfg.onboarding, CPA_ONBOARDING_X509);
  assert_string_equal(cfg.key_file, "/k.pem");
  assert_true(cfg.symmetric_key_is_group);
  assert_string_equal(cfg.tpm_tcti, "swtpm:port=2321");
  assert_true(fabs(cfg.renewal_fraction - 0.75) < 1e-9);
  assert_true(fabs(cfg.jitter_fraction - 0.02) < 1e-9);
  assert_int_equal(cfg.backoff_initial, 5);
  assert_int_equal(cfg.backoff_max, 3600);
  assert_int_equal(cfg.disabled_backoff, 86400);
  assert_string_equal(cfg.metrics_file, "");
  assert_string_equal(cfg.post_renewal, "systemctl reload nginx");
  assert_int_equal(cfg.hook_timeout, 10);
  assert_false(cfg.twin_report);
  assert_int_equal(cfg.log_level, 7);
  assert_int_equal(cfg.hub_port, 8885);
  assert_int_equal(cfg.hub_transport, CPA_TRANSPORT_MQTT + 1);
}

static void expect_error(const char *text, const char *needle) {
  cpa_config cfg;
  char err[256];
  cpa_config_defaults(&cfg);
  cpa_config before = cfg;
  assert_int_equal(cpa_config_parse_string(text, "t.conf", &cfg, err, sizeof err), CP_ERR_CONFIG);
  if (strstr(err, needle) == NULL) fail_msg("error '%s' lacks '%s'", err, needle);
  assert_memory_equal(&cfg, &before, sizeof cfg); /* output untouched */
}

static void test_cpa_config_parse_unknown_key_fails_with_line_and_name(void **state) {
  (void)state;
  expect_error(BASE "[renewal]\n\nfractoin = 0.5\n", "t.conf:11: [renewal] fractoin: unknown key");
}

static void test_cpa_config_parse_unknown_section_fails_with_line(void **state) {
  (void)state;
  expect_error(BASE "[renwal]\nfraction = 0.5\n", "t.conf:10: [renwal] fraction: unknown section");
}

static void test_cpa_config_parse_bad_values_fail_naming_key(void **state) {
  (void)state;
  expect_error(BASE "[renewal]\nfraction = 1.5\n", "t.conf:10: [renewal] fraction: 1.5 is out of range");
  expect_error(BASE "[renewal]\nfraction = abc\n", "[renewal] fraction: 'abc' is not a fraction");
  expect_error(BASE "[renewal]\nbackoff_max = 10x\n", "[renewal] backoff_max: '10x' is not a duration");
  expect_error(BASE "[renewal]\nbackoff_initial = 0\n", "[renewal] backoff_initial: 0 is out of range");
  expect_error(BASE "[provisioning]\ntimeout = 5m\n", "[provisioning] timeout: 5m is out of range (1-120 seconds)");
  expect_error(BASE "[twin]\nreport = maybe\n", "t.conf:10: [twin] report: 'maybe' is not a boolean");
  expect_error("[provisioning]\ntransport = amqp\n", "t.conf:2: [provisioning] transport: 'amqp'");
  expect_error("[provisioning]\nport = 70000\n", "[provisioning] port: '70000' is not a port");
  expect_error("[provisioning]\nport = 88x\n", "[provisioning] port: '88x' is not a port");
  expect_error("[paths]\nstate_dir = relative/dir\n", "[paths] state_dir: 'relative/dir' is not an absolute path");
  expect_error("[log]\nlevel = loud\n", "[log] level: 'loud'");
  expect_error("[hub]\ntransport = https\n", "t.conf:2: [hub] transport: 'https' is not one of mqtt, mqtt-ws");
  expect_error("[onboarding]\nkind = password\n", "[onboarding] kind: 'password'");
}

static void test_cpa_config_parse_repeated_key_fails(void **state) {
  (void)state;
  expect_error(BASE "[onboarding]\nkind = x509\n", "t.conf:10: [onboarding] kind: key given twice");
}

static void test_cpa_config_parse_syntax_error_reports_line(void **state) {
  (void)state;
  expect_error(BASE "this line has no equals sign\n", "t.conf:9: syntax error");
}

static void test_cpa_config_parse_missing_required_fails_naming_key(void **state) {
  (void)state;
  expect_error("[provisioning]\nendpoint = h\n", "[provisioning] id_scope: required key missing");
  expect_error("[provisioning]\nendpoint = h\nid_scope = s\nregistration_id = r\ntrust_bundle = /t\n"
               "[onboarding]\nkind = x509\ncert_file = /c\n",
               "[onboarding] key_file: required key missing for kind x509");
}

static void test_cpa_config_parse_bad_registration_id_fails(void **state) {
  (void)state;
  expect_error("[provisioning]\nendpoint = h\nid_scope = s\nregistration_id = bad/id\ntrust_bundle = /t\n"
               "[onboarding]\nsymmetric_key_file = /k\n",
               "[provisioning] registration_id: 'bad/id'");
}

static void test_cpa_config_parse_tpm_over_mqtt_fails(void **state) {
  (void)state;
  expect_error("[provisioning]\nendpoint = h\nid_scope = s\nregistration_id = r\ntrust_bundle = /t\n"
               "[onboarding]\nkind = tpm\n",
               "[onboarding] kind: tpm needs [provisioning] transport = https");
}

static void test_cpa_config_parse_fraction_plus_jitter_at_one_fails(void **state) {
  (void)state;
  expect_error(BASE "[renewal]\nfraction = 0.9\njitter = 0.1\n", "[renewal] jitter");
}

static void test_cpa_config_load_missing_file_fails_with_io(void **state) {
  (void)state;
  cpa_config cfg;
  char err[256];
  cpa_config_defaults(&cfg);
  assert_int_equal(cpa_config_load("/nonexistent/certpilotd.conf", &cfg, err, sizeof err), CP_ERR_IO);
  assert_non_null(strstr(err, "/nonexistent/certpilotd.conf: cannot open"));
}

static void test_cpa_config_load_file_reports_path_and_line(void **state) {
  (void)state;
  char path[] = "/tmp/cpa-config-XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  const char *text = BASE "[hooks]\ntimeout = forever\n";
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  cpa_config cfg;
  char err[512], want[600];
  cpa_config_defaults(&cfg);
  assert_int_equal(cpa_config_load(path, &cfg, err, sizeof err), CP_ERR_CONFIG);
  snprintf(want, sizeof want, "%s:10: [hooks] timeout:", path);
  assert_non_null(strstr(err, want));
  unlink(path);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpa_config_parse_minimal_gets_documented_defaults),
      cmocka_unit_test(test_cpa_config_parse_all_keys_sets_each_field),
      cmocka_unit_test(test_cpa_config_parse_unknown_key_fails_with_line_and_name),
      cmocka_unit_test(test_cpa_config_parse_unknown_section_fails_with_line),
      cmocka_unit_test(test_cpa_config_parse_bad_values_fail_naming_key),
      cmocka_unit_test(test_cpa_config_parse_repeated_key_fails),
      cmocka_unit_test(test_cpa_config_parse_syntax_error_reports_line),
      cmocka_unit_test(test_cpa_config_parse_missing_required_fails_naming_key),
      cmocka_unit_test(test_cpa_config_parse_bad_registration_id_fails),
      cmocka_unit_test(test_cpa_config_parse_tpm_over_mqtt_fails),
      cmocka_unit_test(test_cpa_config_parse_fraction_plus_jitter_at_one_fails),
      cmocka_unit_test(test_cpa_config_load_missing_file_fails_with_io),
      cmocka_unit_test(test_cpa_config_load_file_reports_path_and_line),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
