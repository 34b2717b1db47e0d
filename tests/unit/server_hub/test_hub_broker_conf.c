/* Unit tests: broker settings check and mosquitto.conf rendering. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "hub_broker_conf.h"

static int trust(void *ctx, char **pem) {
  (void)ctx;
  *pem = NULL;
  return 0;
}

static hub_broker_config good(void) {
  hub_broker_config c;
  hub_broker_config_default(&c);
  c.plugin_path = "/usr/lib/certpilot/certpilot_mosquitto.so";
  c.run_dir = "/run/certpilot";
  c.db_path = "/var/lib/certpilot/server.db";
  c.hub_name = "hub.local";
  c.cert_file = "/etc/certpilot/tls.pem";
  c.key_file = "/etc/certpilot/tls.key";
  c.trust_fn = trust;
  return c;
}

static void test_hub_broker_conf_render_default_listeners(void **state) {
  (void)state;
  hub_broker_config c = good();
  char buf[8192];
  assert_int_equal(hub_broker_conf_render(&c, "/run/certpilot/ca", buf, sizeof buf), CP_OK);
  assert_non_null(strstr(buf, "allow_anonymous false\n"));
  assert_non_null(strstr(buf, "set_tcp_nodelay true\n"));
  assert_non_null(strstr(buf, "plugin /usr/lib/certpilot/certpilot_mosquitto.so\n"));
  assert_non_null(strstr(buf, "plugin_opt_db_path /var/lib/certpilot/server.db\n"));
  assert_non_null(strstr(buf, "plugin_opt_hub_name hub.local\n"));
  assert_non_null(strstr(buf, "plugin_opt_reply_qos 0\nplugin_opt_rate_limit 0\nplugin_opt_rate_burst 100\n"));
  assert_null(strstr(buf, "plugin_opt_sas_max_lifetime"));
  assert_null(strstr(buf, "plugin_opt_ca_key_passphrase_file"));
  assert_non_null(strstr(buf, "listener 8883 127.0.0.1\nprotocol mqtt\n"));
  assert_non_null(strstr(buf, "capath /run/certpilot/ca\nrequire_certificate true\n"
                              "use_identity_as_username false\n"));
  assert_non_null(strstr(buf, "listener 8884 127.0.0.1\nprotocol mqtt\n"));
  assert_non_null(strstr(buf, "listener 8885 127.0.0.1\nprotocol websockets\n"));
  /* exactly one listener requires a certificate */
  assert_null(strstr(strstr(buf, "require_certificate true") + 1, "require_certificate true"));
  assert_null(strstr(buf, "use_identity_as_username true"));
}

static void test_hub_broker_conf_render_no_wss_port_omits_listener(void **state) {
  (void)state;
  hub_broker_config c = good();
  c.port_wss = 0;
  c.bind_address = "::1";
  char buf[8192];
  assert_int_equal(hub_broker_conf_render(&c, "/ca", buf, sizeof buf), CP_OK);
  assert_null(strstr(buf, "websockets"));
  assert_non_null(strstr(buf, "listener 8883 ::1\n"));
}

static void test_hub_broker_conf_render_wss_cert_listener_uses_ca_file(void **state) {
  (void)state;
  hub_broker_config c = good();
  c.port_wss_cert = 8886;
  char buf[8192];
  assert_int_equal(hub_broker_conf_render(&c, "/run/certpilot/ca", buf, sizeof buf), CP_OK);
  const char *l = strstr(buf, "listener 8886 127.0.0.1\nprotocol websockets\n");
  assert_non_null(l);
  assert_non_null(strstr(l, "cafile /run/certpilot/ca.pem\nrequire_certificate true\n"));
  c.port_wss_cert = c.port_mqtts_sas;
  char err[128];
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "port_wss_cert"));
}

static void test_hub_broker_conf_render_passphrase_file_path_not_passphrase(void **state) {
  (void)state;
  hub_broker_config c = good();
  c.ca_key_passphrase_file = "/etc/certpilot/ca-key.pass";
  char buf[8192], err[200];
  assert_int_equal(hub_broker_conf_render(&c, "/ca", buf, sizeof buf), CP_OK);
  assert_non_null(strstr(buf, "plugin_opt_ca_key_passphrase_file /etc/certpilot/ca-key.pass\n"));
  c.ca_key_passphrase_file = "/etc/ca key.pass";
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "ca_key_passphrase_file"));
}

static void test_hub_broker_config_check_names_bad_member(void **state) {
  (void)state;
  char err[200];
  hub_broker_config c = good();
  c.plugin_path = NULL;
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "plugin_path"));
  c = good();
  c.db_path = "/tmp/x.db\nlistener 1883 0.0.0.0";
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "db_path"));
  c = good();
  c.hub_name = "hub name";
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "hub_name"));
  c = good();
  c.port_wss = c.port_mqtts_cert;
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "port_wss"));
  c = good();
  c.port_mqtts_sas = 70000;
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "port_mqtts_sas"));
  c = good();
  c.trust_fn = NULL;
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_ERR_CONFIG);
  assert_non_null(strstr(err, "trust_fn"));
  c = good();
  assert_int_equal(hub_broker_config_check(&c, err, sizeof err), CP_OK);
}

static void test_hub_broker_conf_render_small_buffer_untouched(void **state) {
  (void)state;
  hub_broker_config c = good();
  char buf[64];
  memset(buf, 'z', sizeof buf);
  assert_int_equal(hub_broker_conf_render(&c, "/ca", buf, sizeof buf), CP_ERR_BUFFER_TOO_SMALL);
  for (size_t i = 0; i < sizeof buf; i++) assert_int_equal(buf[i], 'z');
  c.key_file = "a b";
  char big[8192];
  assert_int_equal(hub_broker_conf_render(&c, "/ca", big, sizeof big), CP_ERR_CONFIG);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_broker_conf_render_default_listeners),
      cmocka_unit_test(test_hub_broker_conf_render_no_wss_port_omits_listener),
      cmocka_unit_test(test_hub_broker_conf_render_wss_cert_listener_uses_ca_file),
      cmocka_unit_test(test_hub_broker_conf_render_passphrase_file_path_not_passphrase),
      cmocka_unit_test(test_hub_broker_config_check_names_bad_member),
      cmocka_unit_test(test_hub_broker_conf_render_small_buffer_untouched),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
