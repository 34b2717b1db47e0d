/*
 * End to end: the SDK's cp_provision() and hub client against the reference
 * server (core + supervised mosquitto with our plugin) on free loopback ports.
 * Matrix {MQTT, WSS, HTTPS} x {symmetric individual, symmetric group, X.509}:
 * provision, `openssl verify` the chain, hub connect, report the twin, read it
 * back on the server side; plus server down, wrong key, disabled enrollment,
 * retry-after honoured, desired-property callback. WSS x X.509 runs against a
 * second broker on the same store with the WebSockets client-certificate
 * listener (mqtt-wss-cert-port), which is off in it_env_start().
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_hub.h"
#include "certpilot/cp_hub_client.h"
#include "certpilot/cp_platform.h"
#include "certpilot/cp_provision.h"
#include "certpilot/cp_x509.h"
#include "hub_mgmt_twin.h"
#include "hub_it_env.h"
#include "hub_twin.h"
#include "sdk_it_https.h"

#define GROUP_KEY "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
#define IND_KEY "aW5kaXZpZHVhbC1rZXktZm9yLXRlc3RzLTAxMjM0NTY="
#define WRONG_KEY "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktMDE="

static it_env env;
static int https_port;
static cp_provision_result res; /* large */
static cp_hub_client hub;       /* large */
static hub_broker *wss_cert_broker; /* started by the WSS x X.509 test */
static cps_service *wss_cert_trust; /* its trust source (one service per watcher) */
static int wss_cert_port;           /* its mqtt-wss-cert-port; 0 when not running */

static char *path(const char *name)
{
  static char buf[8][400];
  static int i;

  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s/%s", env.dir, name);
  return buf[i];
}

static int write_text(const char *file, const char *text)
{
  FILE *f = fopen(file, "w");

  if (f == NULL)
    return -1;
  fputs(text, f);
  return fclose(f);
}

static int enroll(const char *json)
{
  return it_mgmt(&env, "POST", "/enrollments", json, NULL) < 300 ? 0 : -1;
}

static int enroll_individual(const char *id, const char *key, bool enabled)
{
  char body[512];

  snprintf(body, sizeof body,
           "{\"id\":\"%s\",\"kind\":\"individual\",\"attestation\":\"symmetricKey\","
           "\"primaryKey\":\"%s\",\"policy\":\"p1\",\"hub\":\"" IT_HUB "\",\"enabled\":%s}",
           id, key, enabled ? "true" : "false");
  return enroll(body);
}

/* root.pem from GET /credential; onboarding CA + one onboarding cert per transport */
static int setup(void **state)
{
  static const char *const x509_ids[] = {"x509-mqtt", "x509-wss", "x509-https"};
  char *out = NULL, *pem;
  cJSON *j, *en;
  char *body;
  size_t i;
  int st;

  (void)state;
  if (it_env_start(&env) != 0)
    return -1;
  if (it_mgmt(&env, "POST", "/credential", "{}", NULL) >= 300 ||
      it_mgmt(&env, "POST", "/policies", "{\"name\":\"p1\",\"validityDays\":30}", NULL) >= 300)
    return -1;
  if (it_mgmt(&env, "GET", "/credential", NULL, &out) != 200 || out == NULL)
    return -1;
  j = cJSON_Parse(out);
  free(out);
  if (!cJSON_IsString(cJSON_GetObjectItem(j, "certificate")) ||
      write_text(path("root.pem"), cJSON_GetObjectItem(j, "certificate")->valuestring) != 0)
    return -1;
  cJSON_Delete(j);
  if (enroll_individual("ind-mqtt", IND_KEY, true) || enroll_individual("ind-wss", IND_KEY, true) ||
      enroll_individual("ind-https", IND_KEY, true) || enroll_individual("ind-off", IND_KEY, false) ||
      enroll("{\"id\":\"grp-sas\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
             "\"primaryKey\":\"" GROUP_KEY "\",\"policy\":\"p1\",\"hub\":\"" IT_HUB "\"}"))
    return -1;
  if (it_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
            "-keyout onbca.key -out onbca.pem -subj /CN=onboarding-ca -days 2 "
            "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign",
            env.dir) != 0)
    return -1;
  for (i = 0; i < 3; i++) {
    if (it_sh("cd %s && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
              "-keyout %s.onb.key -out %s.onb.csr -subj /CN=%s && openssl x509 -req -in %s.onb.csr "
              "-CA onbca.pem -CAkey onbca.key -CAcreateserial -days 1 -out %s.onb.pem && "
              "chmod 600 %s.onb.key",
              env.dir, x509_ids[i], x509_ids[i], x509_ids[i], x509_ids[i], x509_ids[i],
              x509_ids[i]) != 0)
      return -1;
  }
  pem = malloc(8192);
  {
    FILE *f = fopen(path("onbca.pem"), "r");
    size_t n;
    if (f == NULL || pem == NULL)
      return -1;
    n = fread(pem, 1, 8191, f);
    fclose(f);
    pem[n] = '\0';
  }
  en = cJSON_CreateObject();
  cJSON_AddStringToObject(en, "id", "grp-x509");
  cJSON_AddStringToObject(en, "kind", "group");
  cJSON_AddStringToObject(en, "attestation", "x509");
  cJSON_AddStringToObject(en, "certificate", pem);
  cJSON_AddStringToObject(en, "policy", "p1");
  cJSON_AddStringToObject(en, "hub", IT_HUB);
  body = cJSON_PrintUnformatted(en);
  cJSON_Delete(en);
  free(pem);
  st = it_mgmt(&env, "POST", "/enrollments", body, NULL);
  free(body);
  if (st >= 300)
    return -1;
  if (hub_broker_sync_trust(env.broker) != CP_OK)
    return -1;
  return sdk_https_start(&env, 1, &https_port);
}

static int teardown(void **state)
{
  (void)state;
  sdk_https_stop();
  hub_broker_stop(wss_cert_broker); /* if that test failed before stopping it */
  cps_service_close(wss_cert_trust);
  it_env_stop(&env);
  return 0;
}

/* A management twin route call (hub_mgmt_twin_handle); returns the body (malloc'd). */
static char *mgmt_twin(const char *method, const char *route, const char *body, int expect)
{
  cps_principal who = {.name = "sdk-it", .role = CPS_ROLE_READER};
  hub_twin_store *ts = NULL;
  cps_mgmt_response r;
  char *out;

  if (body != NULL)
    who.role = CPS_ROLE_CONTRIBUTOR;
  assert_int_equal(hub_twin_store_open(env.db, &ts), CP_OK);
  assert_int_equal(hub_mgmt_twin_handle(env.svc, ts, &who, method, route, body,
                                        body ? strlen(body) : 0, &r), 1);
  hub_twin_store_close(ts);
  assert_int_equal(r.status, expect);
  out = calloc(1, r.len + 1);
  assert_non_null(out);
  memcpy(out, r.body, r.len);
  cps_mgmt_response_free(&r);
  return out;
}

typedef enum kind { SYM_INDIVIDUAL, SYM_GROUP, X509 } kind;

static cp_provision_config config_for(cp_provision_transport tr, kind k, const char *regid)
{
  cp_provision_config c;
  static char cert[400], key[400];

  cp_provision_config_init(&c);
  c.transport = tr;
  c.host = "localhost";
  c.id_scope = env.id_scope;
  c.trust_bundle_path = env.server_ca;
  c.chain_anchor_path = path("root.pem");
  c.timeout_ms = 20000;
  c.registration_id = regid;
  if (tr == CP_PROVISION_HTTPS)
    c.port = (uint16_t)https_port;
  else if (tr == CP_PROVISION_MQTT_WS)
    c.port = (uint16_t)(k == X509 ? wss_cert_port : env.port_wss);
  else
    c.port = (uint16_t)(k == X509 ? env.port_cert : env.port_sas);
  if (k == X509) {
    c.onboarding = CP_ONBOARDING_X509;
    c.registration_id = NULL; /* taken from the onboarding certificate's CN */
    snprintf(cert, sizeof cert, "%s/%s.onb.pem", env.dir, regid);
    snprintf(key, sizeof key, "%s/%s.onb.key", env.dir, regid);
    c.x509_cert_path = cert;
    c.x509_key_path = key;
  } else {
    c.onboarding = k == SYM_GROUP ? CP_ONBOARDING_SYMMETRIC_GROUP_KEY : CP_ONBOARDING_SYMMETRIC_KEY;
    c.symmetric_key = k == SYM_GROUP ? GROUP_KEY : IND_KEY;
  }
  return c;
}

static void save_result(const char *regid)
{
  char file[128], key_pem[CP_KEY_PEM_MAX];
  size_t len;

  snprintf(file, sizeof file, "%s.chain.pem", regid);
  assert_int_equal(write_text(path(file), res.chain_pem), 0);
  assert_int_equal(cp_key_to_pem(&res.key, CP_KEY_FORMAT_PKCS8, key_pem, sizeof key_pem, &len),
                   CP_OK);
  snprintf(file, sizeof file, "%s.key.pem", regid);
  assert_int_equal(write_text(path(file), key_pem), 0);
  assert_int_equal(it_sh("chmod 600 %s", path(file)), 0);
}

/* Hub: connect with the issued chain, GET, PATCH the certificate report, read back. */
static void hub_roundtrip(const char *devid, cp_mqtt_wire wire)
{
  static char twin[16384];
  char chain_file[400], key_file[400], body[CP_HUB_REPORT_BODY_MAX], *server_view = NULL;
  static cp_cert_info leaf;
  cp_hub_certificate_report rep;
  cp_hub_client_config hc;
  cp_error_detail err;
  int64_t version = 0;
  size_t len;

  snprintf(chain_file, sizeof chain_file, "%s", path(devid));
  strcat(chain_file, ".chain.pem");
  snprintf(key_file, sizeof key_file, "%s", path(devid));
  strcat(key_file, ".key.pem");
  memset(&hc, 0, sizeof hc);
  hc.host = res.assigned_hub;
  hc.connect_host = "localhost";
  hc.port = (uint16_t)(wire == CP_MQTT_WIRE_WSS ? wss_cert_port : env.port_cert);
  hc.wire = wire;
  hc.device_id = devid;
  hc.cert_chain_path = chain_file;
  hc.key_path = key_file;
  hc.trust_bundle_path = env.server_ca;
  hc.timeout_ms = 10000;
  cp_error_detail_clear(&err);
  assert_int_equal(cp_hub_client_connect(&hub, &hc, &err), CP_OK);
  assert_int_equal(cp_hub_client_get_twin(&hub, twin, sizeof twin, &len, &err), CP_OK);
  assert_int_equal(cp_cert_parse((const uint8_t *)res.chain_pem, res.chain_pem_len, &leaf), CP_OK);
  assert_int_equal(cp_hub_certificate_report_from_cert(&leaf, cp_platform_time_now(), 0, NULL, &rep),
                   CP_OK);
  assert_int_equal(cp_hub_certificate_report_body(&rep, body, sizeof body, &len), CP_OK);
  assert_int_equal(cp_hub_client_report(&hub, body, &version, &err), CP_OK);
  assert_true(version >= 1);
  cp_hub_client_disconnect(&hub);
  /* read it back through the management API's twin route (as a reader) */
  snprintf(chain_file, sizeof chain_file, "/devices/%s/twin", devid);
  server_view = mgmt_twin("GET", chain_file, NULL, 200);
  assert_non_null(strstr(server_view, leaf.serial_hex));
  assert_non_null(strstr(server_view, rep.valid_until));
  free(server_view);
}

static void provision_and_use(cp_provision_transport tr, kind k, const char *regid)
{
  cp_provision_config c = config_for(tr, k, regid);
  cp_result r;

  r = cp_provision(&c, &res);
  if (r != CP_OK)
    fprintf(stderr, "provision %s: %s: %s [%s]\n", regid, cp_result_str(r), res.error.message,
            res.error.field);
  assert_int_equal(r, CP_OK);
  assert_string_equal(res.registration_id, regid);
  assert_string_equal(res.device_id, regid);
  assert_string_equal(res.assigned_hub, IT_HUB);
  save_result(regid);
  assert_int_equal(it_sh("openssl verify -CAfile %s -untrusted %s.chain.pem %s.chain.pem",
                         path("root.pem"), path(regid), path(regid)), 0);
  /* The hub authenticates certificates on its MQTT/TLS listener and on the
   * WebSockets client-certificate listener (the plain WebSockets one is
   * SAS-only): X.509 over WebSockets stays on WebSockets, the rest uses TLS. */
  hub_roundtrip(regid, tr == CP_PROVISION_MQTT_WS && k == X509 ? CP_MQTT_WIRE_WSS
                                                                 : CP_MQTT_WIRE_TLS);
  cp_key_wipe(&res.key);
}

static void test_mqtt_symmetric_individual_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_MQTT, SYM_INDIVIDUAL, "ind-mqtt");
}

static void test_mqtt_symmetric_group_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_MQTT, SYM_GROUP, "grp-mqtt-1");
}

static void test_mqtt_x509_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_MQTT, X509, "x509-mqtt");
}

static void test_wss_symmetric_individual_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_MQTT_WS, SYM_INDIVIDUAL, "ind-wss");
}

static void test_wss_symmetric_group_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_MQTT_WS, SYM_GROUP, "grp-wss-1");
}

/* A second broker on the same store with only the WebSockets client-certificate
 * listener; started after setup's enrollments, since it reads its CA file once. */
static void start_wss_cert_broker(void)
{
  cps_service_config sc;
  cps_error cerr = {{0}};
  hub_broker_config cfg = env.cfg;
  char run[400], why[256] = "";
  int attempt;

  cps_service_config_default(&sc);
  sc.db_path = env.db;
  sc.dev_mode = true;
  assert_int_equal(cps_service_open(&sc, &wss_cert_trust, &cerr), CPS_OK);
  snprintf(run, sizeof run, "%s", path("wsscert"));
  assert_int_equal(it_sh("mkdir -p %s", run), 0);
  cfg.run_dir = run;
  cfg.trust_ctx = wss_cert_trust;
  cfg.port_wss = 0;
  for (attempt = 0; attempt < 5 && wss_cert_broker == NULL; attempt++) {
    cfg.port_mqtts_cert = it_free_port();
    cfg.port_mqtts_sas = it_free_port();
    cfg.port_wss_cert = it_free_port();
    if (hub_broker_start(&cfg, &wss_cert_broker, why, sizeof why) != CP_OK) {
      fprintf(stderr, "wss-cert broker start attempt %d: %s\n", attempt, why);
      wss_cert_broker = NULL;
    }
  }
  assert_non_null(wss_cert_broker);
  wss_cert_port = cfg.port_wss_cert;
}

static void test_wss_x509_provision_verify_hub_twin(void **state)
{
  (void)state;
  start_wss_cert_broker();
  provision_and_use(CP_PROVISION_MQTT_WS, X509, "x509-wss");
  hub_broker_stop(wss_cert_broker);
  wss_cert_broker = NULL;
  wss_cert_port = 0;
}

static void test_https_symmetric_individual_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_HTTPS, SYM_INDIVIDUAL, "ind-https");
}

static void test_https_symmetric_group_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_HTTPS, SYM_GROUP, "grp-https-1");
}

static void test_https_x509_provision_verify_hub_twin(void **state)
{
  (void)state;
  provision_and_use(CP_PROVISION_HTTPS, X509, "x509-https");
}

static void test_https_wrong_key_401_surfaced(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_HTTPS, SYM_INDIVIDUAL, "ind-https");

  (void)state;
  c.symmetric_key = WRONG_KEY;
  assert_int_equal(cp_provision(&c, &res), CP_ERR_UNAUTHORIZED);
  assert_int_equal(res.error.status, 401);
  assert_int_equal(res.error.error_code / 1000, 401);
  fprintf(stderr, "# https wrong key: %d %d %s\n", res.error.status, (int)res.error.error_code,
          res.error.message);
}

static void test_https_disabled_enrollment_disabled(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_HTTPS, SYM_INDIVIDUAL, "ind-off");

  (void)state;
  assert_int_equal(cp_provision(&c, &res), CP_ERR_DISABLED);
}

static void test_https_server_down_transport_error(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_HTTPS, SYM_GROUP, "grp-down-2");
  int64_t t0 = cp_platform_monotonic_ms();

  (void)state;
  c.port = (uint16_t)it_free_port();
  c.timeout_ms = 5000;
  assert_int_equal(cp_provision(&c, &res), CP_ERR_TRANSPORT);
  assert_true(cp_platform_monotonic_ms() - t0 < 5000);
}

static void test_https_untrusted_server_tls_error_with_reason(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_HTTPS, SYM_GROUP, "grp-tls-1");

  (void)state;
  c.trust_bundle_path = path("onbca.pem"); /* not the server's CA */
  assert_int_equal(cp_provision(&c, &res), CP_ERR_TLS);
  assert_non_null(strstr(res.error.message, "certificate"));
}

static void test_provision_server_down_transport_error_within_timeout(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_MQTT, SYM_GROUP, "grp-down-1");
  int64_t t0 = cp_platform_monotonic_ms();

  (void)state;
  c.port = (uint16_t)it_free_port();
  c.timeout_ms = 5000;
  assert_int_equal(cp_provision(&c, &res), CP_ERR_TRANSPORT);
  assert_true(cp_platform_monotonic_ms() - t0 < 5000);
  assert_non_null(strstr(res.error.message, "failed"));
}

static void test_provision_wrong_key_unauthorized(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_MQTT, SYM_INDIVIDUAL, "ind-mqtt");

  (void)state;
  c.symmetric_key = WRONG_KEY;
  assert_int_equal(cp_provision(&c, &res), CP_ERR_UNAUTHORIZED);
  fprintf(stderr, "# wrong key: %s\n", res.error.message);
}

static void test_provision_disabled_enrollment_disabled(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_MQTT, SYM_INDIVIDUAL, "ind-off");

  (void)state;
  assert_int_equal(cp_provision(&c, &res), CP_ERR_DISABLED);
  assert_int_equal(res.status, CP_PROV_STATUS_DISABLED);
}

static void test_provision_retry_after_honoured_measured(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_MQTT, SYM_GROUP, "grp-retry-1");
  int64_t t0 = cp_platform_monotonic_ms(), elapsed;

  (void)state;
  assert_int_equal(cp_provision(&c, &res), CP_OK);
  elapsed = cp_platform_monotonic_ms() - t0;
  fprintf(stderr, "# %u requests in %lld ms (server retry-after 1 s)\n", (unsigned)res.requests,
          (long long)elapsed);
  assert_true(res.requests >= 2);
  assert_true(elapsed >= 1000 * (int64_t)(res.requests - 1));
}

static void on_desired(void *ctx, int64_t version, const char *json, size_t len)
{
  int64_t *seen = ctx;

  (void)len;
  if (strstr(json, "\"interval\":42") != NULL)
    *seen = version;
}

static void test_hub_desired_patch_reaches_callback(void **state)
{
  cp_provision_config c = config_for(CP_PROVISION_MQTT, SYM_GROUP, "grp-desired-1");
  cp_hub_client_config hc;
  cp_error_detail err;
  int64_t seen = 0;
  long long v = 0;
  char *reply;
  int i;

  (void)state;
  assert_int_equal(cp_provision(&c, &res), CP_OK);
  save_result("grp-desired-1");
  memset(&hc, 0, sizeof hc);
  hc.host = res.assigned_hub;
  hc.connect_host = "localhost";
  hc.port = (uint16_t)env.port_cert;
  hc.device_id = "grp-desired-1";
  hc.cert_chain_path = path("grp-desired-1.chain.pem");
  hc.key_path = path("grp-desired-1.key.pem");
  hc.trust_bundle_path = env.server_ca;
  hc.on_desired = on_desired;
  hc.on_desired_ctx = &seen;
  assert_int_equal(cp_hub_client_connect(&hub, &hc, &err), CP_OK);
  reply = mgmt_twin("PATCH", "/devices/grp-desired-1/twin/desired", "{\"interval\":42}", 200);
  v = strtoll(strchr(reply, ':') + 1, NULL, 10); /* {"$version":n} */
  free(reply);
  for (i = 0; i < 50 && seen == 0; i++)
    assert_int_equal(cp_hub_client_poll(&hub, 200, &err), CP_OK);
  cp_hub_client_disconnect(&hub);
  assert_int_equal(seen, (int64_t)v);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mqtt_symmetric_individual_provision_verify_hub_twin),
    cmocka_unit_test(test_mqtt_symmetric_group_provision_verify_hub_twin),
    cmocka_unit_test(test_mqtt_x509_provision_verify_hub_twin),
    cmocka_unit_test(test_wss_symmetric_individual_provision_verify_hub_twin),
    cmocka_unit_test(test_wss_symmetric_group_provision_verify_hub_twin),
    cmocka_unit_test(test_wss_x509_provision_verify_hub_twin),
    cmocka_unit_test(test_https_symmetric_individual_provision_verify_hub_twin),
    cmocka_unit_test(test_https_symmetric_group_provision_verify_hub_twin),
    cmocka_unit_test(test_https_x509_provision_verify_hub_twin),
    cmocka_unit_test(test_https_wrong_key_401_surfaced),
    cmocka_unit_test(test_https_disabled_enrollment_disabled),
    cmocka_unit_test(test_https_server_down_transport_error),
    cmocka_unit_test(test_https_untrusted_server_tls_error_with_reason),
    cmocka_unit_test(test_provision_server_down_transport_error_within_timeout),
    cmocka_unit_test(test_provision_wrong_key_unauthorized),
    cmocka_unit_test(test_provision_disabled_enrollment_disabled),
    cmocka_unit_test(test_provision_retry_after_honoured_measured),
    cmocka_unit_test(test_hub_desired_patch_reaches_callback),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
