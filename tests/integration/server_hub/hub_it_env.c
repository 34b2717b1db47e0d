/* Integration test environment for the hub (test-only helpers). */
#include "hub_it_env.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "cps_mgmt.h"
#include "cps_rbac.h"
#include "cps_sas.h"
#include "hub_trust_core.h"

int it_retry_after_s = 1;
int it_reply_qos = 0;
const char *it_hub_name = IT_HUB;
const char *it_dps_api_version = "2025-07-01-preview";
const char *it_hub_uri = "ssl-cert";

int it_free_port(void) {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

int it_sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  char full[4200];
  snprintf(full, sizeof full, "(%s) >/dev/null 2>&1", cmd);
  return system(full);
}

int it_mgmt(it_env *e, const char *method, const char *path, const char *body, char **out) {
  cps_principal who;
  memset(&who, 0, sizeof who);
  strcpy(who.name, "it");
  who.role = CPS_ROLE_CONTRIBUTOR;
  cps_mgmt_response r;
  memset(&r, 0, sizeof r);
  if (cps_mgmt_handle(e->svc, &who, method, path, NULL, body, body ? strlen(body) : 0, &r) != CPS_OK)
    return -1;
  if (out) {
    *out = malloc(r.len + 1);
    if (*out) {
      if (r.len) memcpy(*out, r.body, r.len);
      (*out)[r.len] = '\0';
    }
  }
  int st = r.status;
  if (st >= 300) fprintf(stderr, "mgmt %s %s -> %d %.*s\n", method, path, st, (int)r.len, (char *)r.body);
  cps_mgmt_response_free(&r);
  return st;
}

/* Start the broker with the plugin on free loopback ports (@p keep_ports: the
 * previous ones, for a restart); a few attempts in case a port was taken. */
static int start_broker(it_env *e, int keep_ports) {
  for (int attempt = 0; attempt < 5; attempt++) {
    if (!keep_ports) {
      hub_broker_config_default(&e->cfg);
      e->port_cert = it_free_port();
      e->port_sas = it_free_port();
      e->port_wss = it_free_port();
    }
    e->cfg.plugin_path = CP_IT_PLUGIN_PATH;
    /* CP_IT_NO_BINDFIX=1 shows the bare mosquitto behaviour (loopback test fails). */
    e->cfg.bindfix_path = getenv("CP_IT_NO_BINDFIX") ? NULL : CP_IT_BINDFIX_PATH;
    e->cfg.run_dir = e->dir;
    e->cfg.db_path = e->db;
    e->cfg.hub_name = it_hub_name;
    e->cfg.cert_file = e->cert_file;
    e->cfg.key_file = e->key_file;
    e->cfg.port_mqtts_cert = e->port_cert;
    e->cfg.port_mqtts_sas = e->port_sas;
    e->cfg.port_wss = getenv("CP_IT_NO_WSS") ? 0 : e->port_wss; /* bench comparison */
    e->cfg.port_wss_cert = e->port_wss_cert; /* set by a test before it_broker_restart() */
    e->cfg.recheck_ms = 200;
    e->cfg.trust_refresh_ms = 200;
    e->cfg.retry_after_s = it_retry_after_s;
    e->cfg.reply_qos = getenv("CP_IT_REPLY_QOS1") ? 1 : it_reply_qos;
    e->cfg.trust_fn = hub_trust_from_core;
    e->cfg.trust_ctx = e->trust_svc;
    char why[256] = "";
    if (hub_broker_start(&e->cfg, &e->broker, why, sizeof why) == CP_OK) return 0;
    fprintf(stderr, "broker start attempt %d: %s\n", attempt, why);
    usleep(300000);
  }
  return -1;
}

int it_env_start(it_env *e) {
  memset(e, 0, sizeof *e);
  strcpy(e->dir, "/tmp/cp_hub_it_XXXXXX");
  if (!mkdtemp(e->dir)) return -1;
  snprintf(e->db, sizeof e->db, "%s/server.db", e->dir);
  snprintf(e->server_ca, sizeof e->server_ca, "%s/srvca.pem", e->dir);
  snprintf(e->cert_file, sizeof e->cert_file, "%s/srv.pem", e->dir);
  snprintf(e->key_file, sizeof e->key_file, "%s/srv.key", e->dir);
  if (it_sh("cd %s && printf 'subjectAltName=DNS:localhost,IP:127.0.0.1\\n' > srv.ext && "
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout srvca.key "
            "-out srvca.pem -subj /CN=it-server-ca -days 2 && "
            "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout srv.key "
            "-out srv.csr -subj /CN=localhost && "
            "openssl x509 -req -in srv.csr -CA srvca.pem -CAkey srvca.key -CAcreateserial -days 2 "
            "-extfile srv.ext -out srv.pem && chmod 600 srv.key srvca.key",
            e->dir) != 0)
    return -1;
  cps_service_config sc;
  cps_service_config_default(&sc);
  sc.db_path = e->db;
  sc.dev_mode = true;
  sc.retry_after_s = it_retry_after_s;
  cps_error err = {{0}};
  if (cps_service_open(&sc, &e->svc, &err) != CPS_OK) {
    fprintf(stderr, "service: %s\n", err.msg);
    return -1;
  }
  if (cps_service_open(&sc, &e->trust_svc, &err) != CPS_OK) return -1;
  snprintf(e->id_scope, sizeof e->id_scope, "%s", cps_service_id_scope(e->svc));
  return start_broker(e, 0);
}

int it_broker_restart(it_env *e) { return start_broker(e, 1); }

void it_env_stop(it_env *e) {
  hub_broker_stop(e->broker);
  e->broker = NULL;
  cps_service_close(e->svc);
  cps_service_close(e->trust_svc);
  if (e->dir[0] && !getenv("CP_IT_KEEP")) it_sh("rm -rf %s", e->dir);
}

char *it_make_csr(const char *key_path, const char *cn) {
  EVP_PKEY *k = EVP_EC_gen("P-384");
  X509_REQ *r = X509_REQ_new();
  char *b64 = NULL;
  unsigned char *der = NULL;
  if (!k || !r) goto out;
  X509_NAME *n = X509_REQ_get_subject_name(r);
  if (!X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0) ||
      !X509_REQ_set_pubkey(r, k) || !X509_REQ_sign(r, k, EVP_sha384()))
    goto out;
  int len = i2d_X509_REQ(r, &der);
  if (len <= 0) goto out;
  int fd = open(key_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
  if (!f || !PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL)) {
    if (f) fclose(f);
    goto out;
  }
  fclose(f);
  b64 = malloc((size_t)(4 * ((len + 2) / 3) + 1));
  if (b64) EVP_EncodeBlock((unsigned char *)b64, der, len);
out:
  OPENSSL_free(der);
  X509_REQ_free(r);
  EVP_PKEY_free(k);
  return b64;
}

void it_dps_free(it_dps *d) {
  free(d->body);
  memset(d, 0, sizeof *d);
}

static void ssl_opts(it_env *e, MQTTClient_SSLOptions *ssl, const char *cert, const char *key) {
  MQTTClient_SSLOptions init = MQTTClient_SSLOptions_initializer;
  *ssl = init;
  ssl->trustStore = e->server_ca;
  ssl->keyStore = cert;
  ssl->privateKey = key;
  ssl->enableServerCertAuth = 1;
  ssl->verify = 1;
  ssl->sslVersion = MQTT_SSL_VERSION_TLS_1_2;
}

static const char *client_uri(it_env *e, const char *uri, char *buf, size_t len) {
  /* "ssl-cert", "ssl-sas", "wss", "wss-cert" name the listeners. */
  if (strcmp(uri, "ssl-cert") == 0) snprintf(buf, len, "ssl://127.0.0.1:%d", e->port_cert);
  else if (strcmp(uri, "ssl-sas") == 0) snprintf(buf, len, "ssl://127.0.0.1:%d", e->port_sas);
  else if (strcmp(uri, "wss-cert") == 0)
    snprintf(buf, len, "wss://127.0.0.1:%d/$iothub/websocket", e->port_wss_cert);
  else snprintf(buf, len, "wss://127.0.0.1:%d/$iothub/websocket", e->port_wss);
  return buf;
}

int it_wait_msg(MQTTClient c, const char *prefix, int timeout_ms, char **topic, char **payload) {
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long el = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (el >= timeout_ms) return 0;
    char *tn = NULL;
    int tl = 0;
    MQTTClient_message *m = NULL;
    int rc = MQTTClient_receive(c, &tn, &tl, &m, (unsigned long)(timeout_ms - el));
    if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
      if (!MQTTClient_isConnected(c)) return 0;
      continue;
    }
    if (!m) continue;
    int match = strncmp(tn, prefix, strlen(prefix)) == 0;
    if (match) {
      *topic = strdup(tn);
      *payload = malloc((size_t)m->payloadlen + 1);
      memcpy(*payload, m->payload, (size_t)m->payloadlen);
      (*payload)[m->payloadlen] = '\0';
    }
    MQTTClient_freeMessage(&m);
    MQTTClient_free(tn);
    if (match) return 1;
  }
}

bool it_still_connected(MQTTClient c, int ms) {
  char *t = NULL, *p = NULL;
  if (it_wait_msg(c, "\x01never", ms, &t, &p)) {
    free(t);
    free(p);
  }
  return MQTTClient_isConnected(c);
}

void it_dps_run(it_env *e, const char *uri, const char *regid, const char *password,
                const char *cert, const char *key, const char *body, size_t body_len, it_dps *out) {
  memset(out, 0, sizeof *out);
  char ubuf[128], user[512];
  MQTTClient c = NULL;
  bool ws = strncmp(uri, "wss", 3) == 0;
  if (MQTTClient_create(&c, client_uri(e, uri, ubuf, sizeof ubuf), regid,
                        MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTCLIENT_SUCCESS) {
    out->connect_rc = -100;
    return;
  }
  MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
  MQTTClient_connectOptions ow = MQTTClient_connectOptions_initializer_ws;
  if (ws) o = ow;
  MQTTClient_SSLOptions ssl;
  ssl_opts(e, &ssl, cert, key);
  snprintf(user, sizeof user, "%s/registrations/%s/api-version=%s&ClientVersion=it", e->id_scope,
           regid, it_dps_api_version);
  o.username = user;
  o.password = password;
  o.cleansession = 1;
  o.keepAliveInterval = 30;
  o.connectTimeout = 10;
  o.ssl = &ssl;
  out->connect_rc = MQTTClient_connect(c, &o);
  if (out->connect_rc != MQTTCLIENT_SUCCESS) goto done;
  if (MQTTClient_subscribe(c, "$dps/registrations/res/#", 1) != MQTTCLIENT_SUCCESS) {
    out->connect_rc = -101;
    goto done;
  }
  char topic[512];
  snprintf(topic, sizeof topic, "$dps/registrations/PUT/iotdps-register/?$rid=1");
  MQTTClient_deliveryToken tok;
  if (MQTTClient_publish(c, topic, (int)body_len, body, 1, 0, &tok) != MQTTCLIENT_SUCCESS) goto done;
  for (int round = 0; round < 20; round++) {
    char *t = NULL, *p = NULL;
    if (!it_wait_msg(c, "$dps/registrations/res/", 10000, &t, &p)) {
      out->status = -1;
      goto done;
    }
    out->status = atoi(t + strlen("$dps/registrations/res/"));
    free(out->body);
    out->body = p;
    const char *ra = strstr(t, "retry-after=");
    int retry = ra ? atoi(ra + 12) : 0;
    free(t);
    if (out->status != 202) break;
    cJSON *j = cJSON_Parse(p);
    const cJSON *op = cJSON_GetObjectItemCaseSensitive(j, "operationId");
    if (!cJSON_IsString(op)) {
      cJSON_Delete(j);
      break;
    }
    snprintf(topic, sizeof topic,
             "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=%d&operationId=%s", round + 2,
             op->valuestring);
    cJSON_Delete(j);
    if (retry > 0) usleep((useconds_t)retry * 1000000u);
    if (MQTTClient_publish(c, topic, 0, "", 1, 0, &tok) != MQTTCLIENT_SUCCESS) break;
  }
done:
  if (MQTTClient_isConnected(c)) MQTTClient_disconnect(c, 1000);
  MQTTClient_destroy(&c);
}

int it_provision(it_env *e, const char *uri, const char *regid, const char *password,
                 const char *cert, const char *key, const char *key_out, const char *chain_out) {
  char *csr = it_make_csr(key_out, regid);
  if (!csr) return -1;
  size_t blen = strlen(csr) + strlen(regid) + 64;
  char *body = malloc(blen);
  snprintf(body, blen, "{\"registrationId\":\"%s\",\"csr\":\"%s\"}", regid, csr);
  free(csr);
  it_dps d;
  it_dps_run(e, uri, regid, password, cert, key, body, strlen(body), &d);
  free(body);
  int rc = -1;
  cJSON *j = d.status == 200 ? cJSON_Parse(d.body) : NULL;
  const cJSON *rs = cJSON_GetObjectItemCaseSensitive(j, "registrationState");
  const cJSON *st = cJSON_GetObjectItemCaseSensitive(j, "status");
  const cJSON *chain = cJSON_GetObjectItemCaseSensitive(rs, "issuedCertificateChain");
  if (cJSON_IsString(st) && strcmp(st->valuestring, "assigned") == 0 && cJSON_IsArray(chain) &&
      cJSON_GetArraySize(chain) >= 2) {
    FILE *f = fopen(chain_out, "w");
    if (f) {
      for (int i = 0; i < 2; i++) {
        const char *b = cJSON_GetArrayItem(chain, i)->valuestring;
        fprintf(f, "-----BEGIN CERTIFICATE-----\n");
        for (size_t off = 0, n = strlen(b); off < n; off += 64) fprintf(f, "%.64s\n", b + off);
        fprintf(f, "-----END CERTIFICATE-----\n");
      }
      fclose(f);
      rc = 0;
    }
  } else {
    fprintf(stderr, "provision %s: connect %d status %d body %s\n", regid, d.connect_rc, d.status,
            d.body ? d.body : "(none)");
  }
  cJSON_Delete(j);
  it_dps_free(&d);
  return rc;
}

const char *it_group_sas(it_env *e, const char *group_key, const char *regid) {
  static char tok[1024];
  char dk[128];
  if (cps_sas_derive_device_key(group_key, regid, dk, sizeof dk) != CPS_OK) return NULL;
  if (cps_sas_build(e->id_scope, regid, dk, (long long)time(NULL) + 600, tok, sizeof tok) != CPS_OK)
    return NULL;
  return tok;
}

MQTTClient it_hub_connect(it_env *e, const char *devid, const char *chain, const char *key, int *rc) {
  char ubuf[128], user[512];
  MQTTClient c = NULL;
  *rc = -100;
  if (MQTTClient_create(&c, client_uri(e, it_hub_uri, ubuf, sizeof ubuf), devid,
                        MQTTCLIENT_PERSISTENCE_NONE, NULL) != MQTTCLIENT_SUCCESS)
    return NULL;
  MQTTClient_connectOptions o = MQTTClient_connectOptions_initializer;
  MQTTClient_connectOptions ow = MQTTClient_connectOptions_initializer_ws;
  if (strncmp(it_hub_uri, "wss", 3) == 0) o = ow;
  MQTTClient_SSLOptions ssl;
  ssl_opts(e, &ssl, chain, key);
  snprintf(user, sizeof user, "%s/%s/?api-version=2025-08-01-preview&DeviceClientType=it", IT_HUB,
           devid);
  o.username = user;
  o.cleansession = 1;
  o.keepAliveInterval = 30;
  o.connectTimeout = 10;
  o.ssl = &ssl;
  *rc = MQTTClient_connect(c, &o);
  if (*rc != MQTTCLIENT_SUCCESS) {
    MQTTClient_destroy(&c);
    return NULL;
  }
  return c;
}

void it_hub_close(MQTTClient c) {
  if (!c) return;
  if (MQTTClient_isConnected(c)) MQTTClient_disconnect(c, 1000);
  MQTTClient_destroy(&c);
}
