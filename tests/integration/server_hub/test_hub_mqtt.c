/*
 * Integration: certpilot-server's supervised mosquitto + plugin, driven with
 * Paho MQTT C over TLS and WebSockets on free loopback ports.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_it_env.h"
#include "cps_mgmt.h"
#include "cps_rbac.h"
#include "hub_mgmt_twin.h"
#include "hub_twin.h"

/* base64 of 32 fixed bytes: test-only group keys */
#define GROUP_KEY "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
#define GROUP_KEY_P2 "cDJwMnAycDJwMnAycDJwMnAycDJwMnAycDJwMnAycDI="
#define GROUP_KEY_SHORT "c2hvcnRzaG9ydHNob3J0c2hvcnRzaG9ydHNob3J0c2g="

static it_env env;

static char *path(const char *name) {
  static char buf[8][400];
  static int i;
  i = (i + 1) % 8;
  snprintf(buf[i], sizeof buf[i], "%s/%s", env.dir, name);
  return buf[i];
}

static int group_setup(void **state) {
  (void)state;
  if (it_env_start(&env) != 0) return -1;
  char *ca = NULL;
  if (it_mgmt(&env, "POST", "/credential", "{}", NULL) >= 300) return -1;
  if (it_mgmt(&env, "POST", "/policies", "{\"name\":\"p1\",\"validityDays\":30}", NULL) >= 300) return -1;
  if (it_mgmt(&env, "POST", "/policies", "{\"name\":\"p2\",\"validityDays\":30}", NULL) >= 300) return -1;
  if (it_mgmt(&env, "POST", "/policies", "{\"name\":\"short\",\"validitySeconds\":2}", NULL) >= 300)
    return -1;
  if (it_mgmt(&env, "POST", "/enrollments",
              "{\"id\":\"grp-sas\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
              "\"primaryKey\":\"" GROUP_KEY "\",\"policy\":\"p1\",\"hub\":\"" IT_HUB "\"}",
              NULL) >= 300)
    return -1;
  if (it_mgmt(&env, "POST", "/enrollments",
              "{\"id\":\"grp-p2\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
              "\"primaryKey\":\"" GROUP_KEY_P2 "\",\"policy\":\"p2\",\"hub\":\"" IT_HUB "\"}",
              NULL) >= 300)
    return -1;
  if (it_mgmt(&env, "POST", "/enrollments",
              "{\"id\":\"grp-short\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
              "\"primaryKey\":\"" GROUP_KEY_SHORT "\",\"policy\":\"short\",\"hub\":\"" IT_HUB "\"}",
              NULL) >= 300)
    return -1;
  /* X.509 group enrollment: an external onboarding CA */
  if (it_sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes "
            "-keyout onbca.key -out onbca.pem -subj /CN=onboarding-ca -days 2 "
            "-addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign && "
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout onb-x1.key "
            "-out onb-x1.csr -subj /CN=x509-dev-1 && "
            "openssl x509 -req -in onb-x1.csr -CA onbca.pem -CAkey onbca.key -CAcreateserial -days 1 "
            "-out onb-x1.pem && "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout rogue.key "
            "-out rogue.pem -subj /CN=rogue-ca -days 2 && chmod 600 *.key",
            env.dir) != 0)
    return -1;
  FILE *f = fopen(path("onbca.pem"), "r");
  if (!f) return -1;
  char pem[8192];
  size_t n = fread(pem, 1, sizeof pem - 1, f);
  fclose(f);
  pem[n] = '\0';
  cJSON *en = cJSON_CreateObject();
  cJSON_AddStringToObject(en, "id", "grp-x509");
  cJSON_AddStringToObject(en, "kind", "group");
  cJSON_AddStringToObject(en, "attestation", "x509");
  cJSON_AddStringToObject(en, "certificate", pem);
  cJSON_AddStringToObject(en, "policy", "p1");
  cJSON_AddStringToObject(en, "hub", IT_HUB);
  char *body = cJSON_PrintUnformatted(en);
  cJSON_Delete(en);
  int st = it_mgmt(&env, "POST", "/enrollments", body, NULL);
  free(body);
  free(ca);
  if (st >= 300) return -1;
  /* let the supervisor pick up the new trust (ICAs, onboarding CA) */
  if (hub_broker_sync_trust(env.broker) != CP_OK) return -1;
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  it_env_stop(&env);
  return 0;
}

static void provision_sas(const char *uri, const char *regid, const char *gkey) {
  char k[64], c[64];
  snprintf(k, sizeof k, "%s.key", regid);
  snprintf(c, sizeof c, "%s.chain.pem", regid);
  assert_int_equal(it_provision(&env, uri, regid, it_group_sas(&env, gkey, regid), NULL, NULL,
                                path(k), path(c)),
                   0);
}

static MQTTClient connect_dev(const char *devid, int *rc) {
  char k[64], c[64];
  snprintf(k, sizeof k, "%s.key", devid);
  snprintf(c, sizeof c, "%s.chain.pem", devid);
  return it_hub_connect(&env, devid, path(c), path(k), rc);
}

/* ---------------------------------------------------------------- tests --- */

static void test_dps_mqtt_sas_csr_assigned_then_hub_connects(void **state) {
  (void)state;
  provision_sas("ssl-sas", "sas-dev-1", GROUP_KEY);
  int rc = -1;
  MQTTClient c = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  /* telemetry is accepted and counted */
  MQTTClient_deliveryToken tok;
  assert_int_equal(MQTTClient_publish(c, "devices/sas-dev-1/messages/events/", 5, "hello", 1, 0, &tok),
                   MQTTCLIENT_SUCCESS);
  assert_int_equal(MQTTClient_waitForCompletion(c, tok, 5000), MQTTCLIENT_SUCCESS);
  hub_twin_store *ts = NULL;
  assert_int_equal(hub_twin_store_open(env.db, &ts), CP_OK);
  long long count = 0;
  for (int i = 0; i < 50 && count == 0; i++) {
    usleep(100000);
    assert_int_equal(hub_telemetry_count(ts, "sas-dev-1", &count), CP_OK);
  }
  assert_int_equal(count, 1);
  hub_twin_store_close(ts);
  it_hub_close(c);
}


static void test_dps_wss_sas_csr_assigned_then_hub_connects(void **state) {
  (void)state;
  provision_sas("wss", "wss-dev-1", GROUP_KEY);
  int rc = -1;
  MQTTClient c = connect_dev("wss-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
}

static void test_dps_mqtt_x509_csr_assigned_then_hub_connects(void **state) {
  (void)state;
  assert_int_equal(it_provision(&env, "ssl-cert", "x509-dev-1", NULL, path("onb-x1.pem"),
                                path("onb-x1.key"), path("x509-dev-1.key"),
                                path("x509-dev-1.chain.pem")),
                   0);
  int rc = -1;
  MQTTClient c = connect_dev("x509-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
}

static void test_dps_connect_bad_sas_refused(void **state) {
  (void)state;
  it_dps d;
  /* a token signed with another key */
  const char *tok = it_group_sas(&env, GROUP_KEY_P2, "bad-sas-1");
  char copy[1024];
  snprintf(copy, sizeof copy, "%s", tok);
  /* p2's key does not attest through grp-sas, but it does through grp-p2:
   * use a key no enrollment has instead */
  tok = it_group_sas(&env, "bm9ib2R5a25vd3N0aGlza2V5bm9ib2R5a25vd3N0aGk=", "bad-sas-1");
  it_dps_run(&env, "ssl-sas", "bad-sas-1", tok, NULL, NULL, "{}", 2, &d);
  assert_int_not_equal(d.connect_rc, MQTTCLIENT_SUCCESS);
  it_dps_free(&d);
  /* no password and no certificate */
  it_dps_run(&env, "ssl-sas", "bad-sas-1", NULL, NULL, NULL, "{}", 2, &d);
  assert_int_not_equal(d.connect_rc, MQTTCLIENT_SUCCESS);
  it_dps_free(&d);
  /* the good token works on the same listener */
  it_dps_run(&env, "ssl-sas", "bad-sas-1", copy, NULL, NULL, "{}", 2, &d);
  assert_int_equal(d.connect_rc, MQTTCLIENT_SUCCESS);
  it_dps_free(&d);
}

static void test_dps_bad_payloads_get_error_statuses(void **state) {
  (void)state;
  const char *tok = it_group_sas(&env, GROUP_KEY, "badpay-1");
  char t[1024];
  snprintf(t, sizeof t, "%s", tok);
  it_dps d;
  it_dps_run(&env, "ssl-sas", "badpay-1", t, NULL, NULL, "not json", 8, &d);
  assert_int_equal(d.connect_rc, MQTTCLIENT_SUCCESS);
  assert_int_equal(d.status, 400);
  assert_non_null(strstr(d.body, "errorCode"));
  it_dps_free(&d);
  size_t big = 20000;
  char *b = malloc(big);
  memset(b, ' ', big);
  b[0] = '{';
  b[big - 1] = '}';
  it_dps_run(&env, "ssl-sas", "badpay-1", t, NULL, NULL, b, big, &d);
  free(b);
  assert_int_equal(d.status, 413);
  assert_non_null(strstr(d.body, "413001"));
  it_dps_free(&d);
  /* registrationId in the body differs from the username's */
  it_dps_run(&env, "ssl-sas", "badpay-1", t, NULL, NULL, "{\"registrationId\":\"other\"}", 26, &d);
  assert_int_equal(d.status, 400);
  it_dps_free(&d);
  /* CSR whose CN is not the registration id: final status failed */
  char *csr = it_make_csr(path("badpay.key"), "someone-else");
  char body[4096];
  snprintf(body, sizeof body, "{\"registrationId\":\"badpay-1\",\"csr\":\"%s\"}", csr);
  free(csr);
  it_dps_run(&env, "ssl-sas", "badpay-1", t, NULL, NULL, body, strlen(body), &d);
  assert_int_equal(d.status, 200);
  assert_non_null(strstr(d.body, "\"failed\""));
  assert_non_null(strstr(d.body, "400037"));
  assert_null(strstr(d.body, "issuedCertificateChain"));
  it_dps_free(&d);
}

/* Send a twin request and wait for its response. */
static int twin_req(MQTTClient c, const char *topic, const char *body, char **rtopic, char **rbody) {
  MQTTClient_deliveryToken tok;
  if (MQTTClient_publish(c, topic, (int)strlen(body), body, 1, 0, &tok) != MQTTCLIENT_SUCCESS)
    return -1;
  return it_wait_msg(c, "$iothub/twin/res/", 5000, rtopic, rbody) ? 0 : -1;
}

static void test_twin_get_patch_desired_roundtrip(void **state) {
  (void)state;
  int rc;
  MQTTClient c = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  assert_int_equal(MQTTClient_subscribe(c, "$iothub/twin/res/#", 1), MQTTCLIENT_SUCCESS);
  assert_int_equal(MQTTClient_subscribe(c, "$iothub/twin/PATCH/properties/desired/#", 1),
                   MQTTCLIENT_SUCCESS);
  char *t = NULL, *b = NULL;
  assert_int_equal(twin_req(c, "$iothub/twin/GET/?$rid=g1", "", &t, &b), 0);
  assert_string_equal(t, "$iothub/twin/res/200/?$rid=g1");
  assert_string_equal(b, "{\"desired\":{\"$version\":1},\"reported\":{\"$version\":1}}");
  free(t);
  free(b);
  assert_int_equal(twin_req(c, "$iothub/twin/PATCH/properties/reported/?$rid=p1",
                            "{\"certificate\":{\"validUntil\":\"2026-12-24T00:00:00Z\"},\"fw\":\"1\"}",
                            &t, &b),
                   0);
  assert_string_equal(t, "$iothub/twin/res/204/?$rid=p1&$version=2");
  free(t);
  free(b);
  assert_int_equal(twin_req(c, "$iothub/twin/PATCH/properties/reported/?$rid=p2", "{\"fw\":null}",
                            &t, &b),
                   0);
  assert_string_equal(t, "$iothub/twin/res/204/?$rid=p2&$version=3");
  free(t);
  free(b);
  /* a desired patch made through the management API reaches the connected device */
  hub_twin_store *ts = NULL;
  assert_int_equal(hub_twin_store_open(env.db, &ts), CP_OK);
  cps_principal admin = {.name = "it", .role = CPS_ROLE_CONTRIBUTOR};
  cps_mgmt_response r;
  const char *patch = "{\"renewAtPercent\":75}";
  assert_int_equal(hub_mgmt_twin_handle(env.svc, ts, &admin, "PATCH", "/devices/sas-dev-1/twin/desired",
                                        patch, strlen(patch), &r),
                   1);
  assert_int_equal(r.status, 200);
  assert_memory_equal(r.body, "{\"$version\":2}", r.len);
  cps_mgmt_response_free(&r);
  hub_twin_store_close(ts);
  assert_true(it_wait_msg(c, "$iothub/twin/PATCH/properties/desired/", 5000, &t, &b));
  assert_string_equal(t, "$iothub/twin/PATCH/properties/desired/?$version=2");
  assert_string_equal(b, "{\"renewAtPercent\":75,\"$version\":2}");
  free(t);
  free(b);
  assert_int_equal(twin_req(c, "$iothub/twin/GET/?$rid=g2", "", &t, &b), 0);
  assert_string_equal(b, "{\"desired\":{\"renewAtPercent\":75,\"$version\":2},\"reported\":{"
                         "\"certificate\":{\"validUntil\":\"2026-12-24T00:00:00Z\"},\"$version\":3}}");
  free(t);
  free(b);
  it_hub_close(c);
}

static void test_twin_bad_patch_400_changes_nothing(void **state) {
  (void)state;
  int rc;
  MQTTClient c = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  assert_int_equal(MQTTClient_subscribe(c, "$iothub/twin/res/#", 1), MQTTCLIENT_SUCCESS);
  char *t = NULL, *b = NULL;
  assert_int_equal(twin_req(c, "$iothub/twin/GET/?$rid=a", "", &t, &b), 0);
  char *before = b;
  free(t);
  assert_int_equal(twin_req(c, "$iothub/twin/PATCH/properties/reported/?$rid=b", "not json", &t, &b), 0);
  assert_string_equal(t, "$iothub/twin/res/400/?$rid=b");
  assert_non_null(strstr(b, "errorCode"));
  free(t);
  free(b);
  assert_int_equal(twin_req(c, "$iothub/twin/PATCH/properties/reported/?$rid=c", "[1,2]", &t, &b), 0);
  assert_string_equal(t, "$iothub/twin/res/400/?$rid=c");
  free(t);
  free(b);
  /* wrong topic: publishing on the desired topic is denied and changes nothing */
  MQTTClient_deliveryToken tok;
  MQTTClient_publish(c, "$iothub/twin/PATCH/properties/desired/?$rid=d", 9, "{\"x\":1}  ", 1, 0, &tok);
  MQTTClient_waitForCompletion(c, tok, 2000);
  if (!MQTTClient_isConnected(c)) { /* the broker may drop a client for a denied publish */
    it_hub_close(c);
    c = connect_dev("sas-dev-1", &rc);
    assert_int_equal(rc, MQTTCLIENT_SUCCESS);
    assert_int_equal(MQTTClient_subscribe(c, "$iothub/twin/res/#", 1), MQTTCLIENT_SUCCESS);
  }
  assert_int_equal(twin_req(c, "$iothub/twin/GET/?$rid=e", "", &t, &b), 0);
  assert_string_equal(b, before);
  free(t);
  free(b);
  free(before);
  it_hub_close(c);
}

static void test_hub_subscribe_other_device_topics_denied(void **state) {
  (void)state;
  int rc;
  MQTTClient c = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  int r1 = MQTTClient_subscribe(c, "devices/wss-dev-1/messages/devicebound/#", 1);
  assert_int_not_equal(r1, MQTTCLIENT_SUCCESS);
  if (!MQTTClient_isConnected(c)) {
    it_hub_close(c);
    c = connect_dev("sas-dev-1", &rc);
    assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  }
  assert_int_not_equal(MQTTClient_subscribe(c, "devices/+/messages/devicebound/#", 1), MQTTCLIENT_SUCCESS);
  if (!MQTTClient_isConnected(c)) {
    it_hub_close(c);
    c = connect_dev("sas-dev-1", &rc);
    assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  }
  assert_int_equal(MQTTClient_subscribe(c, "devices/sas-dev-1/messages/devicebound/#", 1),
                   MQTTCLIENT_SUCCESS);
  it_hub_close(c);
}

static void test_hub_wrong_cn_refused(void **state) {
  (void)state;
  int rc = 0;
  /* wss-dev-1's valid chain presented as sas-dev-1 */
  MQTTClient c = it_hub_connect(&env, "sas-dev-1", path("wss-dev-1.chain.pem"), path("wss-dev-1.key"), &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
}

static void test_hub_untrusted_ca_refused(void **state) {
  (void)state;
  assert_int_equal(it_sh("cd %s && openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 "
                         "-nodes -keyout rogue-dev.key -out rogue-dev.csr -subj /CN=sas-dev-1 && "
                         "openssl x509 -req -in rogue-dev.csr -CA rogue.pem -CAkey rogue.key "
                         "-CAcreateserial -days 1 -out rogue-dev.pem && chmod 600 rogue-dev.key",
                         env.dir),
                   0);
  int rc = 0;
  MQTTClient c = it_hub_connect(&env, "sas-dev-1", path("rogue-dev.pem"), path("rogue-dev.key"), &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
  /* the onboarding certificate (trusted by TLS for DPS) is no hub credential */
  c = it_hub_connect(&env, "x509-dev-1", path("onb-x1.pem"), path("onb-x1.key"), &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
}

static void test_hub_expired_cert_refused(void **state) {
  (void)state;
  provision_sas("ssl-sas", "short-dev-1", GROUP_KEY_SHORT);
  sleep(3);
  int rc = 0;
  MQTTClient c = connect_dev("short-dev-1", &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
}

static void test_hub_revoked_device_disconnected_then_reprovisioned(void **state) {
  (void)state;
  provision_sas("ssl-sas", "rev-dev-1", GROUP_KEY);
  int rc;
  MQTTClient c = connect_dev("rev-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  assert_true(it_still_connected(c, 300));
  assert_int_equal(it_mgmt(&env, "POST", "/devices/rev-dev-1/revoke", NULL, NULL), 200);
  assert_false(it_still_connected(c, 3000));
  it_hub_close(c);
  c = connect_dev("rev-dev-1", &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
  provision_sas("ssl-sas", "rev-dev-1", GROUP_KEY);
  c = connect_dev("rev-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
}

static void test_hub_disabled_device_refused_then_enabled(void **state) {
  (void)state;
  provision_sas("ssl-sas", "dis-dev-1", GROUP_KEY);
  int rc;
  MQTTClient c = connect_dev("dis-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  assert_int_equal(it_mgmt(&env, "POST", "/devices/dis-dev-1/disable", NULL, NULL), 200);
  assert_false(it_still_connected(c, 3000));
  it_hub_close(c);
  c = connect_dev("dis-dev-1", &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
  assert_int_equal(it_mgmt(&env, "POST", "/devices/dis-dev-1/enable", NULL, NULL), 200);
  c = connect_dev("dis-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
}

static void test_hub_revoked_policy_refused_then_reprovisioned(void **state) {
  (void)state;
  provision_sas("ssl-sas", "pol-dev-1", GROUP_KEY_P2);
  int rc;
  MQTTClient c = connect_dev("pol-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
  assert_int_equal(it_mgmt(&env, "POST", "/policies/p2/revoke", NULL, NULL), 200);
  c = connect_dev("pol-dev-1", &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
  provision_sas("ssl-sas", "pol-dev-1", GROUP_KEY_P2);
  usleep(600000); /* the supervisor adds the new ICA to the broker's CA directory */
  c = connect_dev("pol-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
}

static void test_hub_second_connection_takes_over(void **state) {
  (void)state;
  int rc;
  MQTTClient a = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  MQTTClient b = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  assert_false(it_still_connected(a, 1500));
  assert_true(it_still_connected(b, 500));
  /* the survivor is fully served (its table entry was not dropped) */
  assert_int_equal(MQTTClient_subscribe(b, "$iothub/twin/res/#", 1), MQTTCLIENT_SUCCESS);
  char *t = NULL, *body = NULL;
  assert_int_equal(twin_req(b, "$iothub/twin/GET/?$rid=t", "", &t, &body), 0);
  assert_string_equal(t, "$iothub/twin/res/200/?$rid=t");
  free(t);
  free(body);
  it_hub_close(a);
  it_hub_close(b);
}

/* Every listening socket on @p port is on loopback (/proc/net/tcp{,6}). */
static int listeners_on_port(int port, int *non_loopback) {
  static const char *const files[2] = {"/proc/net/tcp", "/proc/net/tcp6"};
  int found = 0;
  *non_loopback = 0;
  for (int i = 0; i < 2; i++) {
    FILE *f = fopen(files[i], "r");
    if (!f) continue;
    char line[512];
    while (fgets(line, sizeof line, f)) {
      char local[128];
      unsigned st;
      if (sscanf(line, " %*d: %127s %*s %x", local, &st) != 2 || st != 0x0A) continue;
      char *colon = strrchr(local, ':');
      if (!colon || (int)strtol(colon + 1, NULL, 16) != port) continue;
      *colon = '\0';
      found++;
      bool lo = strcmp(local, "0100007F") == 0 ||                          /* 127.0.0.1 */
                strcmp(local, "00000000000000000000000001000000") == 0 ||  /* ::1 */
                strcmp(local, "0000000000000000FFFF00000100007F") == 0;    /* ::ffff:127.0.0.1 */
      if (!lo) (*non_loopback)++;
    }
    fclose(f);
  }
  return found;
}

static void test_broker_listeners_loopback_only(void **state) {
  (void)state;
  const int ports[3] = {env.port_cert, env.port_sas, env.port_wss};
  for (int i = 0; i < 3; i++) {
    int bad = -1;
    assert_true(listeners_on_port(ports[i], &bad) >= 1);
    assert_int_equal(bad, 0);
  }
}

static void test_broker_killed_is_restarted(void **state) {
  (void)state;
  int rc;
  MQTTClient c = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  pid_t old = hub_broker_pid(env.broker);
  assert_true(old > 0);
  assert_int_equal(kill(old, SIGKILL), 0);
  assert_false(it_still_connected(c, 1000));
  it_hub_close(c);
  for (int i = 0; i < 100 && hub_broker_restarts(env.broker) == 0; i++) usleep(100000);
  assert_int_equal(hub_broker_restarts(env.broker), 1);
  assert_int_equal(hub_broker_state_get(env.broker), HUB_BROKER_RUNNING);
  assert_true(hub_broker_pid(env.broker) > 0);
  assert_int_not_equal(hub_broker_pid(env.broker), old);
  c = connect_dev("sas-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
}

static int failed_called;
static char failed_why[256];
static void on_failed(void *ctx, const char *why) {
  (void)ctx;
  snprintf(failed_why, sizeof failed_why, "%s", why);
  failed_called = 1;
}

static void test_broker_crash_loop_gives_up_with_error(void **state) {
  (void)state;
  hub_broker_config cfg = env.cfg;
  char run[400];
  snprintf(run, sizeof run, "%s/second", env.dir);
  assert_int_equal(it_sh("mkdir -p %s", run), 0);
  cfg.run_dir = run;
  cfg.port_mqtts_cert = it_free_port();
  cfg.port_mqtts_sas = it_free_port();
  cfg.port_wss = 0;
  cfg.max_restarts = 0;
  cfg.on_failed = on_failed;
  hub_broker *b = NULL;
  char why[256];
  assert_int_equal(hub_broker_start(&cfg, &b, why, sizeof why), CP_OK);
  assert_int_equal(kill(hub_broker_pid(b), SIGKILL), 0);
  for (int i = 0; i < 50 && !failed_called; i++) usleep(100000);
  assert_int_equal(failed_called, 1);
  assert_non_null(strstr(failed_why, "killed by signal 9"));
  assert_int_equal(hub_broker_state_get(b), HUB_BROKER_FAILED);
  hub_broker_stop(b);
}

static void test_broker_start_bad_config_names_member(void **state) {
  (void)state;
  hub_broker_config cfg = env.cfg;
  cfg.port_mqtts_sas = cfg.port_mqtts_cert;
  hub_broker *b = NULL;
  char why[256] = "";
  assert_int_equal(hub_broker_start(&cfg, &b, why, sizeof why), CP_ERR_CONFIG);
  assert_null(b);
  assert_non_null(strstr(why, "port_mqtts_sas"));
  cfg = env.cfg;
  cfg.key_file = "/nonexistent/key.pem";
  cfg.run_dir = env.dir;
  cfg.port_mqtts_cert = it_free_port();
  cfg.port_mqtts_sas = it_free_port();
  cfg.port_wss = 0;
  assert_int_equal(hub_broker_start(&cfg, &b, why, sizeof why), CP_ERR_IO);
  assert_null(b);
  assert_non_null(strstr(why, "exited with status"));
}

static void test_mgmt_twin_routes_rbac_and_errors(void **state) {
  (void)state;
  hub_twin_store *ts = NULL;
  assert_int_equal(hub_twin_store_open(env.db, &ts), CP_OK);
  cps_principal admin = {.name = "it", .role = CPS_ROLE_CONTRIBUTOR};
  cps_principal reader = {.name = "ro", .role = CPS_ROLE_READER};
  cps_mgmt_response r;
  /* read: the twin as stored, with the device id */
  assert_int_equal(hub_mgmt_twin_handle(env.svc, ts, &reader, "GET", "/devices/sas-dev-1/twin", NULL, 0, &r), 1);
  assert_int_equal(r.status, 200);
  cJSON *doc = cJSON_ParseWithLength((const char *)r.body, r.len);
  assert_string_equal(cJSON_GetObjectItem(doc, "deviceId")->valuestring, "sas-dev-1");
  assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "reported"), "certificate"));
  cJSON_Delete(doc);
  cps_mgmt_response_free(&r);
  /* a reader may not patch */
  assert_int_equal(hub_mgmt_twin_handle(env.svc, ts, &reader, "PATCH", "/devices/sas-dev-1/twin/desired",
                                        "{\"a\":1}", 7, &r), 1);
  assert_int_equal(r.status, 403);
  cps_mgmt_response_free(&r);
  /* unknown device, bad patch */
  assert_int_equal(hub_mgmt_twin_handle(env.svc, ts, &admin, "GET", "/devices/nobody/twin", NULL, 0, &r), 1);
  assert_int_equal(r.status, 404);
  cps_mgmt_response_free(&r);
  assert_int_equal(hub_mgmt_twin_handle(env.svc, ts, &admin, "PATCH", "/devices/sas-dev-1/twin/desired",
                                        "[1]", 3, &r), 1);
  assert_int_equal(r.status, 400);
  cps_mgmt_response_free(&r);
  long long v = 0;
  assert_int_equal(hub_twin_desired_version(ts, "sas-dev-1", &v), CP_OK);
  assert_int_equal(v, 2); /* unchanged by the refused patches */
  /* not a twin route: left to the core dispatcher */
  memset(&r, 0x5a, sizeof r);
  assert_int_equal(hub_mgmt_twin_handle(env.svc, ts, &admin, "GET", "/devices/sas-dev-1", NULL, 0, &r), 0);
  assert_int_equal(r.status, 0x5a5a5a5a);
  hub_twin_store_close(ts);
}

static void test_dps_wss_client_certificate_not_seen_refused(void **state) {
  (void)state;
  /* mosquitto hands the plugin no client certificate for WebSockets clients:
   * X.509 onboarding over WSS is refused at CONNECT (docs/server-mqtt.md). */
  it_dps d;
  it_dps_run(&env, "wss", "x509-dev-1", NULL, path("onb-x1.pem"), path("onb-x1.key"), "{}", 2, &d);
  assert_int_not_equal(d.connect_rc, MQTTCLIENT_SUCCESS);
  it_dps_free(&d);
}

static void test_hub_policy_trust_removed_refused(void **state) {
  (void)state;
  assert_true(it_mgmt(&env, "POST", "/policies", "{\"name\":\"p3\",\"validityDays\":30}", NULL) < 300);
  assert_true(it_mgmt(&env, "POST", "/enrollments",
                      "{\"id\":\"grp-p3\",\"kind\":\"group\",\"attestation\":\"symmetricKey\","
                      "\"primaryKey\":\"cDNwM3AzcDNwM3AzcDNwM3AzcDNwM3AzcDNwM3AzcDM=\",\"policy\":\"p3\","
                      "\"hub\":\"" IT_HUB "\"}",
                      NULL) < 300);
  usleep(600000); /* new ICA into the broker's CA directory */
  provision_sas("ssl-sas", "trust-dev-1", "cDNwM3AzcDNwM3AzcDNwM3AzcDNwM3AzcDNwM3AzcDM=");
  int rc;
  MQTTClient c = connect_dev("trust-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
  assert_int_equal(it_mgmt(&env, "DELETE", "/policies/p3", NULL, NULL) / 100, 2);
  /* deleting the policy keeps its ICA trusted by hubs ... */
  c = connect_dev("trust-dev-1", &rc);
  assert_int_equal(rc, MQTTCLIENT_SUCCESS);
  it_hub_close(c);
  /* ... until the operator removes it from the hub trust */
  assert_int_equal(it_mgmt(&env, "DELETE", "/policies/p3/trust", NULL, NULL) / 100, 2);
  c = connect_dev("trust-dev-1", &rc);
  assert_null(c);
  assert_int_not_equal(rc, MQTTCLIENT_SUCCESS);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dps_mqtt_sas_csr_assigned_then_hub_connects),
      cmocka_unit_test(test_dps_wss_sas_csr_assigned_then_hub_connects),
      cmocka_unit_test(test_dps_mqtt_x509_csr_assigned_then_hub_connects),
      cmocka_unit_test(test_dps_connect_bad_sas_refused),
      cmocka_unit_test(test_dps_bad_payloads_get_error_statuses),
      cmocka_unit_test(test_twin_get_patch_desired_roundtrip),
      cmocka_unit_test(test_twin_bad_patch_400_changes_nothing),
      cmocka_unit_test(test_mgmt_twin_routes_rbac_and_errors),
      cmocka_unit_test(test_hub_subscribe_other_device_topics_denied),
      cmocka_unit_test(test_hub_wrong_cn_refused),
      cmocka_unit_test(test_hub_untrusted_ca_refused),
      cmocka_unit_test(test_hub_expired_cert_refused),
      cmocka_unit_test(test_hub_revoked_device_disconnected_then_reprovisioned),
      cmocka_unit_test(test_hub_disabled_device_refused_then_enabled),
      cmocka_unit_test(test_hub_revoked_policy_refused_then_reprovisioned),
      cmocka_unit_test(test_hub_policy_trust_removed_refused),
      cmocka_unit_test(test_dps_wss_client_certificate_not_seen_refused),
      cmocka_unit_test(test_hub_second_connection_takes_over),
      cmocka_unit_test(test_broker_listeners_loopback_only),
      cmocka_unit_test(test_broker_killed_is_restarted),
      cmocka_unit_test(test_broker_crash_loop_gives_up_with_error),
      cmocka_unit_test(test_broker_start_bad_config_names_member),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
