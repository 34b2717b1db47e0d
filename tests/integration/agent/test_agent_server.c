/* certpilotd against the reference server in dev mode (certificates valid for
 * seconds): provision, renew, outages, revocation, policy revocation, disable,
 * hooks, provisioning and the hub over WebSockets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_it_env.h"

#define SHORT_S 9 /* leaf validity of policy "short" */

static it_env env;

static int group_setup(void **state) {
  (void)state;
  return ait_env_start(&env, SHORT_S);
}

static int group_teardown(void **state) {
  (void)state;
  it_env_stop(&env);
  return 0;
}

/* Fails the test with the agent's log attached. */
static void dump_log(const ait_agent *a) {
  char *log = ait_slurp(a->log);
  fprintf(stderr, "---- %s log ----\n%s\n---- end ----\n", a->regid, log);
  free(log);
}

/* On failure the agent is stopped too, so that it does not outlive the test. */
#define CHECK(a, cond)                                  \
  do {                                                  \
    if (!(cond)) {                                      \
      dump_log(a);                                      \
      ait_agent_stop(a);                                \
      fail_msg("%s: %s", (a)->regid, #cond);            \
    }                                                   \
  } while (0)

static char *cert_pem_at(const ait_agent *a, const char *file) {
  char p[600];
  snprintf(p, sizeof p, "%s/state/current/%s", a->dir, file);
  return ait_slurp(p);
}

static bool contains(const char *hay, const char *needle) { return hay && strstr(hay, needle); }

/* Rewrites the agent's config, replacing each line equal to from[i] (with its
 * newline) by to[i]; keys may not repeat, so the prepared file is edited. */
static void conf_replace(const ait_agent *a, size_t n, const char *const from[],
                         const char *const to[]) {
  char *conf = ait_slurp(a->conf);
  FILE *f = fopen(a->conf, "w");
  assert_non_null(f);
  for (char *line = strtok(conf, "\n"); line; line = strtok(NULL, "\n")) {
    char l[600];
    snprintf(l, sizeof l, "%s\n", line);
    size_t i = 0;
    while (i < n && strcmp(l, from[i]) != 0) i++;
    fputs(i < n ? to[i] : l, f);
  }
  fclose(f);
  free(conf);
}

/* Waits up to 5 s for the twin of @p a to carry the agent's current serial
 * number, which it copies to @p serial. */
static bool twin_has_current_serial(const ait_agent *a, char serial[80]) {
  for (int waited = 0; waited < 5000; waited += 100) {
    cJSON *st = ait_status(a);
    char want[128];
    snprintf(serial, 80, "%s", ait_status_str(st, "certificate.serialNumber"));
    snprintf(want, sizeof want, "\"serialNumber\":\"%s\"", serial);
    cJSON_Delete(st);
    char *twin = ait_twin_certificate(&env, a->regid);
    bool ok = serial[0] && contains(twin, want);
    free(twin);
    if (ok) return true;
    usleep(100000);
  }
  return false;
}

static void test_agent_provisions_and_renews_three_times_with_new_keys(void **state) {
  (void)state;
  ait_agent a;
  char hook[700];
  snprintf(hook, sizeof hook,
           "[hooks]\npost_renewal = echo \"$CERTPILOT_GENERATION $CERTPILOT_SERIAL\" >> %s/"
           "agent-renew-1/hook.log\n",
           env.dir);
  ait_agent_prepare(&env, &a, "agent-renew-1", AIT_GROUP_KEY_SHORT, hook);
  ait_agent_start(&a);
  char *keys[8] = {0};
  char serials[8][80];
  int seen = 0;
  for (int waited = 0; seen < 4 && waited < 120000; waited += 100) {
    cJSON *st = ait_status(&a);
    double count = st ? ait_status_num(st, "renewalCount") : 0;
    if (count > seen && seen < 8) {
      /* a new certificate is in place: its key is new and the twin shows it */
      char *key = cert_pem_at(&a, "key.pem");
      for (int i = 0; i < seen; i++) CHECK(&a, strcmp(keys[i], key) != 0);
      keys[seen] = key;
      snprintf(serials[seen], sizeof serials[seen], "%s", ait_status_str(st, "certificate.serialNumber"));
      char *twin = ait_twin_certificate(&env, "agent-renew-1");
      char want[128];
      snprintf(want, sizeof want, "\"validUntil\":\"%s\"", ait_status_str(st, "certificate.validUntil"));
      CHECK(&a, contains(twin, want));
      snprintf(want, sizeof want, "\"serialNumber\":\"%s\"", serials[seen]);
      CHECK(&a, contains(twin, want));
      free(twin);
      seen++;
    }
    cJSON_Delete(st);
    usleep(100000);
  }
  CHECK(&a, seen >= 4); /* provisioned, then renewed three times */
  CHECK(&a, ait_agent_stop(&a) == 0);
  /* the hook ran once per certificate, with that certificate's serial */
  char p[600];
  snprintf(p, sizeof p, "%s/hook.log", a.dir);
  char *log = ait_slurp(p);
  int lines = 0;
  for (char *c = log; *c; c++) lines += *c == '\n';
  cJSON *st = ait_status(&a);
  CHECK(&a, lines == (int)ait_status_num(st, "renewalCount"));
  cJSON_Delete(st);
  for (int i = 0; i < seen; i++) {
    char want[128];
    snprintf(want, sizeof want, " %.80s\n", serials[i]);
    CHECK(&a, contains(log, want));
  }
  free(log);
  for (int i = 0; i < 8; i++) free(keys[i]);
}

/* Provisioning over MQTT/WebSockets; the hub over MQTT/TLS, because the
 * broker's WebSockets listener takes SAS logins only (no client certificates;
 * the next test turns on the one that does). */
static void test_agent_provisions_over_websockets(void **state) {
  (void)state;
  ait_agent a;
  char extra[256];
  ait_agent_prepare(&env, &a, "agent-wss-1", AIT_GROUP_KEY, NULL);
  char port_sas[32], port_cert[32], port_wss[32], hub_mqtt[64];
  snprintf(port_sas, sizeof port_sas, "port = %d\n", env.port_sas);
  snprintf(port_cert, sizeof port_cert, "port = %d\n", env.port_cert);
  snprintf(port_wss, sizeof port_wss, "port = %d\n", env.port_wss);
  snprintf(hub_mqtt, sizeof hub_mqtt, "%stransport = mqtt\n", port_cert);
  const char *const from[] = {"transport = mqtt\n", port_sas, port_cert};
  const char *const to[] = {"transport = mqtt-ws\n", port_wss, hub_mqtt};
  conf_replace(&a, 3, from, to);
  snprintf(extra, sizeof extra, "transport = mqtt-ws");
  char *written = ait_slurp(a.conf);
  CHECK(&a, contains(written, extra));
  free(written);
  ait_agent_start(&a);
  CHECK(&a, ait_wait_num(&a, "renewalCount", 1, 30000));
  CHECK(&a, ait_wait_str(&a, "state", "valid", 10000));
  cJSON *st = ait_status(&a);
  char want[128];
  snprintf(want, sizeof want, "\"serialNumber\":\"%s\"", ait_status_str(st, "certificate.serialNumber"));
  cJSON_Delete(st);
  char *twin = ait_twin_certificate(&env, "agent-wss-1");
  CHECK(&a, contains(twin, want));
  free(twin);
  CHECK(&a, ait_agent_stop(&a) == 0);
}

/* The hub over MQTT/WebSockets with the issued certificate. The broker is
 * restarted with the WebSockets client-certificate listener (mqtt-wss-cert-port,
 * off in the other tests); the agent provisions over MQTT and reports its twin
 * to that listener, which takes nothing but WebSockets with a client
 * certificate: the first certificate and a renewal reach the twin. */
static void test_agent_hub_over_websockets_with_certificate(void **state) {
  (void)state;
  hub_broker_stop(env.broker);
  env.broker = NULL;
  env.port_wss_cert = it_free_port();
  assert_int_equal(ait_broker_restart(&env), 0);
  ait_agent a;
  ait_agent_prepare(&env, &a, "agent-wsshub-1", AIT_GROUP_KEY_SHORT, NULL);
  char port_cert[32], hub_wss[64];
  snprintf(port_cert, sizeof port_cert, "port = %d\n", env.port_cert);
  snprintf(hub_wss, sizeof hub_wss, "port = %d\ntransport = mqtt-ws\n", env.port_wss_cert);
  const char *const from[] = {port_cert};
  const char *const to[] = {hub_wss};
  conf_replace(&a, 1, from, to);
  ait_agent_start(&a);
  char first[80], renewed[80];
  CHECK(&a, ait_wait_num(&a, "renewalCount", 1, 30000));
  CHECK(&a, twin_has_current_serial(&a, first));
  CHECK(&a, ait_wait_num(&a, "renewalCount", 2, 30000));
  CHECK(&a, twin_has_current_serial(&a, renewed));
  CHECK(&a, strcmp(first, renewed) != 0);
  CHECK(&a, ait_agent_stop(&a) == 0);
  /* back to the listeners of the other tests */
  hub_broker_stop(env.broker);
  env.broker = NULL;
  env.port_wss_cert = 0;
  assert_int_equal(ait_broker_restart(&env), 0);
}

static void test_agent_server_down_backs_off_then_recovers(void **state) {
  (void)state;
  ait_agent a;
  ait_agent_prepare(&env, &a, "agent-down-1", AIT_GROUP_KEY_SHORT, NULL);
  ait_agent_start(&a);
  CHECK(&a, ait_wait_num(&a, "renewalCount", 1, 30000));
  hub_broker_stop(env.broker); /* server down across the renewal window */
  env.broker = NULL;
  CHECK(&a, ait_wait_num(&a, "failureCount", 3, 40000));
  cJSON *st = ait_status(&a);
  CHECK(&a, strcmp(ait_status_str(st, "state"), "backoff") == 0);
  double count = ait_status_num(st, "renewalCount");
  cJSON_Delete(st);
  /* retries were spaced, not a tight loop: 3 failures took at least 2 s */
  char *log = ait_slurp(a.log);
  CHECK(&a, contains(log, "next attempt in"));
  free(log);
  assert_int_equal(ait_broker_restart(&env), 0);
  CHECK(&a, ait_wait_num(&a, "renewalCount", count + 1, 40000));
  CHECK(&a, ait_wait_str(&a, "state", "valid", 20000));
  CHECK(&a, ait_agent_stop(&a) == 0);
}

static void test_agent_revoked_device_reonboards_and_hub_accepts(void **state) {
  (void)state;
  ait_agent a;
  ait_agent_prepare(&env, &a, "agent-rev-1", AIT_GROUP_KEY, NULL);
  ait_agent_start(&a);
  CHECK(&a, ait_wait_num(&a, "renewalCount", 1, 30000));
  CHECK(&a, ait_agent_stop(&a) == 0);
  char *old_serial = cert_pem_at(&a, "chain.pem");
  assert_int_equal(it_mgmt(&env, "POST", "/devices/agent-rev-1/revoke", NULL, NULL), 200);
  ait_agent_start(&a); /* the hub refuses the current certificate at the start report */
  CHECK(&a, ait_wait_num(&a, "renewalCount", 2, 30000));
  CHECK(&a, ait_wait_str(&a, "state", "valid", 10000));
  char *log = ait_slurp(a.log);
  CHECK(&a, contains(log, "hub refused the current certificate"));
  CHECK(&a, contains(log, "re-onboarding"));
  free(log);
  char *chain = cert_pem_at(&a, "chain.pem");
  CHECK(&a, strcmp(chain, old_serial) != 0);
  /* the hub accepted the new certificate: the twin carries its serial */
  cJSON *st = ait_status(&a);
  char want[128];
  snprintf(want, sizeof want, "\"serialNumber\":\"%s\"", ait_status_str(st, "certificate.serialNumber"));
  char *twin = ait_twin_certificate(&env, "agent-rev-1");
  CHECK(&a, contains(twin, want));
  free(twin);
  cJSON_Delete(st);
  CHECK(&a, ait_agent_stop(&a) == 0);
  free(chain);
  free(old_serial);
}

/* Subject line of the second certificate (the issuing CA) in the chain. */
static char *ica_of(const ait_agent *a) {
  char cmd[800];
  snprintf(cmd, sizeof cmd,
           "awk '/BEGIN CERT/{n++} n==2' %s/state/current/chain.pem | openssl x509 -noout "
           "-fingerprint -sha256",
           a->dir);
  FILE *p = popen(cmd, "r");
  char *out = calloc(1, 256);
  if (p) {
    if (!fgets(out, 256, p)) out[0] = '\0';
    pclose(p);
  }
  return out;
}

static void test_agent_revoked_policy_reonboards_under_new_ica(void **state) {
  (void)state;
  ait_agent a;
  ait_agent_prepare(&env, &a, "agent-pol-1", AIT_GROUP_KEY_P2, NULL);
  ait_agent_start(&a);
  CHECK(&a, ait_wait_num(&a, "renewalCount", 1, 30000));
  CHECK(&a, ait_agent_stop(&a) == 0);
  char *old_ica = ica_of(&a);
  CHECK(&a, strlen(old_ica) > 20);
  assert_int_equal(it_mgmt(&env, "POST", "/policies/p2/revoke", NULL, NULL), 200);
  ait_agent_start(&a);
  CHECK(&a, ait_wait_num(&a, "renewalCount", 2, 40000));
  CHECK(&a, ait_wait_str(&a, "state", "valid", 20000));
  char *new_ica = ica_of(&a);
  CHECK(&a, strlen(new_ica) > 20);
  CHECK(&a, strcmp(old_ica, new_ica) != 0);
  cJSON *st = ait_status(&a);
  char want[128];
  snprintf(want, sizeof want, "\"serialNumber\":\"%s\"", ait_status_str(st, "certificate.serialNumber"));
  char *twin = ait_twin_certificate(&env, "agent-pol-1");
  CHECK(&a, contains(twin, want));
  free(twin);
  cJSON_Delete(st);
  CHECK(&a, ait_agent_stop(&a) == 0);
  free(old_ica);
  free(new_ica);
}

static void test_agent_disabled_device_reports_and_backs_off_long(void **state) {
  (void)state;
  ait_agent a;
  ait_agent_prepare(&env, &a, "agent-dis-1", AIT_GROUP_KEY, NULL);
  ait_agent_start(&a);
  CHECK(&a, ait_wait_num(&a, "renewalCount", 1, 30000));
  CHECK(&a, ait_agent_stop(&a) == 0);
  assert_int_equal(it_mgmt(&env, "POST", "/devices/agent-dis-1/disable", NULL, NULL), 200);
  ait_agent_start(&a);
  CHECK(&a, ait_wait_str(&a, "state", "disabled", 30000));
  cJSON *st = ait_status(&a);
  CHECK(&a, contains(ait_status_str(st, "lastError"), "disabled"));
  double failures = ait_status_num(st, "failureCount");
  cJSON_Delete(st);
  sleep(4); /* with backoff_max = 4 s a normal failure would have retried by now */
  st = ait_status(&a);
  CHECK(&a, ait_status_num(st, "failureCount") == failures);
  CHECK(&a, strcmp(ait_status_str(st, "state"), "disabled") == 0);
  cJSON_Delete(st);
  char prom[600];
  snprintf(prom, sizeof prom, "%s/run/certpilot.prom", a.dir);
  char *m = ait_slurp(prom);
  CHECK(&a, contains(m, "certpilot_failures_total{registration_id=\"agent-dis-1\"} 1\n") ||
                contains(m, "certpilot_failures_total{registration_id=\"agent-dis-1\"} 2\n"));
  free(m);
  CHECK(&a, ait_agent_stop(&a) == 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_agent_provisions_and_renews_three_times_with_new_keys),
      cmocka_unit_test(test_agent_revoked_device_reonboards_and_hub_accepts),
      cmocka_unit_test(test_agent_revoked_policy_reonboards_under_new_ica),
      cmocka_unit_test(test_agent_disabled_device_reports_and_backs_off_long),
      cmocka_unit_test(test_agent_provisions_over_websockets),
      cmocka_unit_test(test_agent_hub_over_websockets_with_certificate),
      cmocka_unit_test(test_agent_server_down_backs_off_then_recovers), /* last: stops the broker */
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
