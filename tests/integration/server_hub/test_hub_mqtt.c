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

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_dps_mqtt_sas_csr_assigned_then_hub_connects),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
