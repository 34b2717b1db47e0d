/*
 * Provisioning latency of the SDK against the reference server on loopback,
 * retry-after 0: p50 / p99 over N runs for MQTT, MQTT over WebSockets and HTTPS
 * (each run: fresh P-384 key + CSR, TLS connect, register, poll, chain check),
 * next to the device-side crypto alone (key + CSR) measured in the same run.
 * Usage: bench_sdk_provision [runs]   (default 200)
 *
 * Two modes: with CERTPILOT_ID_SCOPE in the environment (bench_sdk.sh starts
 * certpilot-server with tests/integration/server/harness.sh and exports its
 * ports, trust bundle and a group key in CP_BENCH_GROUP_KEY) it measures that
 * server; otherwise it starts the in-process harness of test_sdk_e2e.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certpilot/cp_csr.h"
#include "certpilot/cp_key.h"
#include "certpilot/cp_log.h"
#include "certpilot/cp_provision.h"
#include "hub_it_env.h"
#include "sdk_it_https.h"

#define GROUP_KEY "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="

static it_env env;
static cp_provision_result res;
/* Where to provision (filled by either mode). */
static struct {
  const char *id_scope, *trust, *group_key;
  int port_mqtt, port_wss, port_https;
} target;

static double now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static void log_line(void *ctx, cp_log_level level, const char *msg)
{
  (void)ctx;
  fprintf(stderr, "%10.1f <%d> %s\n", now_ms(), (int)level, msg);
}

static int cmp(const void *a, const void *b)
{
  double x = *(const double *)a, y = *(const double *)b;

  return x < y ? -1 : x > y;
}

static void report(const char *name, double *v, int n)
{
  double sum = 0;
  int i, p99 = (int)((n * 99 + 99) / 100) - 1;

  qsort(v, (size_t)n, sizeof v[0], cmp);
  for (i = 0; i < n; i++)
    sum += v[i];
  printf("| %-28s | %4d | %8.2f | %8.2f | %8.2f |\n", name, n, v[n / 2], v[p99 < 0 ? 0 : p99],
         sum / n);
}

static int run(const char *name, cp_provision_transport tr, int port, int n, double *v)
{
  const char *only = getenv("CP_BENCH_ONLY"); /* e.g. "https" */
  cp_provision_config c;
  char regid[64];
  int i;

  if (only != NULL && strcmp(only, name) != 0)
    return 1;
  for (i = -3; i < n; i++) { /* three warm-up runs */
    double t0;
    cp_result r;
    snprintf(regid, sizeof regid, "bench-%s-%d", name, i + 3);
    cp_provision_config_init(&c);
    c.transport = tr;
    c.host = "127.0.0.1";
    c.port = (uint16_t)port;
    c.id_scope = target.id_scope;
    c.registration_id = regid;
    c.onboarding = CP_ONBOARDING_SYMMETRIC_GROUP_KEY;
    c.symmetric_key = target.group_key;
    c.trust_bundle_path = target.trust;
    c.timeout_ms = 20000;
    t0 = now_ms();
    r = cp_provision(&c, &res);
    if (i >= 0)
      v[i] = now_ms() - t0;
    if (r != CP_OK || res.requests != 2) {
      fprintf(stderr, "%s: %s (%u requests, last status %d): %s\n", regid, cp_result_str(r),
              (unsigned)res.requests, res.error.status, res.error.message);
      return -1;
    }
    cp_key_wipe(&res.key);
  }
  return 0;
}

/* In-process server: core + broker (restarted with retry-after 0) + HTTPS. */
static int start_in_process(void)
{
  char why[256] = "";
  int https_port = 0;

  if (it_env_start(&env) != 0)
    return -1;
  if (it_mgmt(&env, "POST", "/credential", "{}", NULL) >= 300 ||
      it_mgmt(&env, "POST", "/policies", "{\"name\":\"p1\",\"validityDays\":30}", NULL) >= 300 ||
      it_mgmt(&env, "POST", "/enrollments",
              "{\"id\":\"grp\",\"kind\":\"group\",\"attestation\":\"symmetricKey\",\"primaryKey\":\""
              GROUP_KEY "\",\"policy\":\"p1\",\"hub\":\"" IT_HUB "\"}", NULL) >= 300 ||
      sdk_https_start(&env, 0, &https_port) != 0)
    return -1;
  /* retry-after 0 on the MQTT side: restart the broker with it (after the
   * enrollments exist, so its plugin starts with them in view) */
  hub_broker_stop(env.broker);
  env.cfg.retry_after_s = 0;
  if (hub_broker_start(&env.cfg, &env.broker, why, sizeof why) != CP_OK ||
      hub_broker_sync_trust(env.broker) != CP_OK) {
    fprintf(stderr, "broker: %s\n", why);
    return -1;
  }
  target.id_scope = env.id_scope;
  target.trust = env.server_ca;
  target.group_key = GROUP_KEY;
  target.port_mqtt = env.port_sas;
  target.port_wss = env.port_wss;
  target.port_https = https_port;
  return 0;
}

static int env_port(const char *name)
{
  const char *v = getenv(name);

  return v != NULL ? atoi(v) : 0;
}

int main(int argc, char **argv)
{
  int n = argc > 1 ? atoi(argv[1]) : 200, i, rc = 1;
  bool external = getenv("CERTPILOT_ID_SCOPE") != NULL;
  double *v = calloc((size_t)(n > 0 ? n : 1), sizeof *v);

  if (getenv("CP_BENCH_LOG") != NULL) /* timestamped SDK debug lines */
    cp_log_set_callback(log_line, NULL, CP_LOG_DEBUG);
  if (n <= 0 || v == NULL)
    return 1;
  if (external) {
    target.id_scope = getenv("CERTPILOT_ID_SCOPE");
    target.trust = getenv("CERTPILOT_TRUST_BUNDLE");
    target.group_key = getenv("CP_BENCH_GROUP_KEY");
    target.port_mqtt = env_port("CERTPILOT_MQTT_SAS_PORT");
    target.port_wss = env_port("CERTPILOT_MQTT_WSS_PORT");
    target.port_https = env_port("CERTPILOT_DPS_PORT");
    if (target.trust == NULL || target.group_key == NULL || target.port_https == 0) {
      fprintf(stderr, "bench: CERTPILOT_TRUST_BUNDLE, CP_BENCH_GROUP_KEY, CERTPILOT_DPS_PORT needed\n");
      goto out;
    }
  } else if (start_in_process() != 0) {
    goto out;
  }
  printf("| %-28s | %4s | %8s | %8s | %8s |\n", "operation (ms)", "runs", "p50", "p99", "mean");
  printf("|------------------------------|------|----------|----------|----------|\n");
  if (target.port_mqtt && (i = run("mqtt", CP_PROVISION_MQTT, target.port_mqtt, n, v)) < 0)
    goto out;
  if (target.port_mqtt && i == 0)
    report("provision, MQTT", v, n);
  if (target.port_wss && (i = run("wss", CP_PROVISION_MQTT_WS, target.port_wss, n, v)) < 0)
    goto out;
  if (target.port_wss && i == 0)
    report("provision, MQTT over WSS", v, n);
  if ((i = run("https", CP_PROVISION_HTTPS, target.port_https, n, v)) < 0)
    goto out;
  if (i == 0)
    report("provision, HTTPS", v, n);
  for (i = 0; i < n; i++) {
    static cp_key key;
    uint8_t csr[CP_CSR_DER_MAX];
    size_t len;
    double t0 = now_ms();
    if (cp_key_generate_p384(&key) != CP_OK ||
        cp_csr_build(&key, "bench-crypto", csr, sizeof csr, &len) != CP_OK)
      goto out;
    v[i] = now_ms() - t0;
    cp_key_wipe(&key);
  }
  report("device crypto only (key+CSR)", v, n);
  rc = 0;
out:
  if (!external) {
    sdk_https_stop();
    it_env_stop(&env);
  }
  free(v);
  return rc;
}
