/*
 * bench_hub: latency of the MQTT side of the reference server, measured in one
 * run on loopback (not a ctest test; see docs/benchmarks.md).
 * For each reply QoS (1, then 0) a fresh server + broker is started and we time:
 *   1. DPS registration with a CSR (SAS): MQTT over TLS vs MQTT over WebSockets
 *   2. hub CONNECT with the issued chain (TLS handshake + acceptance check)
 *   3. twin GET vs reported PATCH round trips on one connection
 * Usage: bench_hub [N]   (N devices per transport, default 20; 10*N twin ops)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hub_it_env.h"

#define GROUP_KEY "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="

static double now_ms(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec * 1000.0 + (double)t.tv_nsec / 1e6;
}

static int cmp(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static void report(int qos, const char *what, double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp);
  double sum = 0;
  for (int i = 0; i < n; i++) sum += v[i];
  int p95 = (n * 95) / 100;
  if (p95 >= n) p95 = n - 1;
  printf("| %d | %-43s | %5d | %9.2f | %8.2f | %8.2f |\n", qos, what, n, v[n / 2], v[p95], sum / n);
}

/* One twin request; waits for the response carrying the same $rid. */
static int twin_rt(MQTTClient c, const char *topic_prefix, int rid, const char *body) {
  char topic[128], want[64];
  snprintf(topic, sizeof topic, "%s%d", topic_prefix, rid);
  snprintf(want, sizeof want, "?$rid=%d", rid);
  MQTTClient_deliveryToken tok;
  if (MQTTClient_publish(c, topic, (int)strlen(body), body, 0, 0, &tok) != MQTTCLIENT_SUCCESS) return -1;
  for (;;) {
    char *t = NULL, *p = NULL;
    if (!it_wait_msg(c, "$iothub/twin/res/", 5000, &t, &p)) return -1;
    const char *q = strchr(t, '?');
    int mine = q && strncmp(q, want, strlen(want)) == 0 && (q[strlen(want)] == '\0' || q[strlen(want)] == '&');
    int ok = strncmp(t, "$iothub/twin/res/2", 18) == 0;
    free(t);
    free(p);
    if (mine) return ok ? 0 : -1;
  }
}

static int suite(int qos, int n) {
  it_env env;
  it_reply_qos = qos;
  if (it_env_start(&env) != 0) return 1;
  int rc = 0;
  if (it_mgmt(&env, "POST", "/credential", "{}", NULL) >= 300 ||
      it_mgmt(&env, "POST", "/policies", "{\"name\":\"p1\",\"validityDays\":30}", NULL) >= 300 ||
      it_mgmt(&env, "POST", "/enrollments",
              "{\"id\":\"g\",\"kind\":\"group\",\"attestation\":\"symmetricKey\",\"primaryKey\":\"" GROUP_KEY
              "\",\"policy\":\"p1\",\"hub\":\"" IT_HUB "\"}",
              NULL) >= 300 ||
      hub_broker_sync_trust(env.broker) != CP_OK) {
    it_env_stop(&env);
    return 1;
  }
  double *mq = calloc((size_t)n, sizeof *mq), *ws = calloc((size_t)n, sizeof *ws),
         *cn = calloc((size_t)n, sizeof *cn);
  double *get = calloc((size_t)n * 10, sizeof *get), *pat = calloc((size_t)n * 10, sizeof *pat);
  char id[64], key[512], chain[512], tok[1024];
  for (int i = 0; i < n && rc == 0; i++) {
    for (int w = 0; w < 2 && rc == 0; w++) {
      snprintf(id, sizeof id, "bench-%s-%d", w ? "wss" : "mqtt", i);
      snprintf(key, sizeof key, "%s/%s.key", env.dir, id);
      snprintf(chain, sizeof chain, "%s/%s.pem", env.dir, id);
      snprintf(tok, sizeof tok, "%s", it_group_sas(&env, GROUP_KEY, id));
      double t0 = now_ms();
      if (it_provision(&env, w ? "wss" : "ssl-sas", id, tok, NULL, NULL, key, chain) != 0) rc = 1;
      (w ? ws : mq)[i] = now_ms() - t0;
    }
    snprintf(id, sizeof id, "bench-mqtt-%d", i);
    snprintf(key, sizeof key, "%s/%s.key", env.dir, id);
    snprintf(chain, sizeof chain, "%s/%s.pem", env.dir, id);
    int crc;
    double t0 = now_ms();
    MQTTClient c = it_hub_connect(&env, id, chain, key, &crc);
    cn[i] = now_ms() - t0;
    if (!c) rc = 1;
    it_hub_close(c);
  }
  if (rc == 0) {
    int crc;
    snprintf(key, sizeof key, "%s/bench-mqtt-0.key", env.dir);
    snprintf(chain, sizeof chain, "%s/bench-mqtt-0.pem", env.dir);
    MQTTClient c = it_hub_connect(&env, "bench-mqtt-0", chain, key, &crc);
    if (!c || MQTTClient_subscribe(c, "$iothub/twin/res/#", 1) != MQTTCLIENT_SUCCESS) rc = 1;
    char body[128];
    for (int i = 0; i < n * 10 && rc == 0; i++) {
      double t0 = now_ms();
      if (twin_rt(c, "$iothub/twin/GET/?$rid=", 2 * i, "") != 0) rc = 1;
      get[i] = now_ms() - t0;
      snprintf(body, sizeof body, "{\"counter\":%d,\"nested\":{\"v\":%d}}", i, i);
      t0 = now_ms();
      if (twin_rt(c, "$iothub/twin/PATCH/properties/reported/?$rid=", 2 * i + 1, body) != 0) rc = 1;
      pat[i] = now_ms() - t0;
    }
    it_hub_close(c);
  }
  if (rc == 0) {
    report(qos, "DPS register + CSR + poll, MQTT/TLS (SAS)", mq, n);
    report(qos, "DPS register + CSR + poll, MQTT/WSS (SAS)", ws, n);
    report(qos, "hub CONNECT with issued chain (TLS + check)", cn, n);
    report(qos, "twin GET round trip", get, n * 10);
    report(qos, "twin reported PATCH round trip", pat, n * 10);
  } else {
    fprintf(stderr, "bench_hub: a step failed (reply QoS %d)\n", qos);
  }
  free(mq);
  free(ws);
  free(cn);
  free(get);
  free(pat);
  it_env_stop(&env);
  return rc;
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 20;
  if (n < 1 || n > 1000) n = 20;
  it_retry_after_s = 0; /* measure service time, not the advised wait */
  printf("| reply QoS | operation (loopback, one client at a time) | n | median ms | p95 ms | mean ms |\n");
  printf("|---:|---|---:|---:|---:|---:|\n");
  int rc = suite(1, n);
  if (rc == 0) rc = suite(0, n);
  return rc;
}
