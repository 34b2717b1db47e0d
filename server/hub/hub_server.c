/* certpilot-server's MQTT side: options, supervised broker, twin store. */
#include "hub_server.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hub_broker.h"
#include "hub_trust_core.h"

struct hub_server {
  hub_broker *broker;
  hub_broker_config cfg;
  cps_service *trust_svc; /* used by the supervisor thread only */
  hub_twin_store *twins;  /* main thread */
  char run_dir[PATH_MAX];
  char plugin[PATH_MAX];
  char bindfix[PATH_MAX];
  atomic_int failed;
  char why[256];
};

static int set_str(char **dst, const char *v) {
  char *c = strdup(v);
  if (!c) return -1;
  free(*dst);
  *dst = c;
  return 1;
}

void hub_server_options_default(hub_server_options *o) {
  memset(o, 0, sizeof *o);
  o->enabled = true;
  o->port_cert = HUB_PORT_MQTTS_CERT_DEFAULT;
  o->port_sas = HUB_PORT_MQTTS_SAS_DEFAULT;
  o->port_wss = HUB_PORT_WSS_DEFAULT;
  o->port_wss_cert = -1;
  set_str(&o->listen, "127.0.0.1");
  set_str(&o->hub_name, "localhost");
  set_str(&o->mosquitto, "/usr/sbin/mosquitto");
}

void hub_server_options_free(hub_server_options *o) {
  free(o->listen);
  free(o->hub_name);
  free(o->mosquitto);
  free(o->plugin);
  memset(o, 0, sizeof *o);
}

static int port_value(const char *key, const char *v, int min, int *out, const char *where) {
  char *end = NULL;
  errno = 0;
  long x = strtol(v, &end, 10);
  if (errno || !end || *end || end == v || x < min || x > 65535) {
    fprintf(stderr, "certpilot-server: %s: %s must be an integer from %d to 65535 (got '%s')\n",
            where, key, min, v);
    return -1;
  }
  *out = (int)x;
  return 1;
}

int hub_server_options_set(hub_server_options *o, const char *key, const char *v,
                           const char *where) {
  if (!strcmp(key, "mqtt")) {
    if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) o->enabled = true;
    else if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) o->enabled = false;
    else {
      fprintf(stderr, "certpilot-server: %s: mqtt must be true or false (got '%s')\n", where, v);
      return -1;
    }
    return 1;
  }
  if (!strcmp(key, "mqtt-listen")) return set_str(&o->listen, v);
  if (!strcmp(key, "hub-name")) return set_str(&o->hub_name, v);
  if (!strcmp(key, "mosquitto")) return set_str(&o->mosquitto, v);
  if (!strcmp(key, "mqtt-plugin")) return set_str(&o->plugin, v);
  if (!strcmp(key, "mqtt-port")) return port_value(key, v, 0, &o->port_cert, where);
  if (!strcmp(key, "mqtt-sas-port")) return port_value(key, v, 0, &o->port_sas, where);
  if (!strcmp(key, "mqtt-wss-port")) return port_value(key, v, -1, &o->port_wss, where);
  if (!strcmp(key, "mqtt-wss-cert-port")) return port_value(key, v, -1, &o->port_wss_cert, where);
  if (!strcmp(key, "mqtt-reply-qos")) {
    if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
      fprintf(stderr, "certpilot-server: %s: mqtt-reply-qos must be 0 or 1 (got '%s')\n", where, v);
      return -1;
    }
    o->reply_qos = v[0] - '0';
    return 1;
  }
  return 0;
}

/* Port 0: pick a free one on @p addr (a small race with other processes). */
static int free_port(const char *addr) {
  struct sockaddr_in a;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  if (inet_pton(AF_INET, addr, &a.sin_addr) != 1) a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  socklen_t len = sizeof a;
  int port = -1;
  if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
      getsockname(fd, (struct sockaddr *)&a, &len) == 0)
    port = ntohs(a.sin_port);
  if (fd >= 0) close(fd);
  return port;
}

/* First existing file among: explicit, <exe dir>/hub/<name>, <exe dir>/../<libdir>/certpilot/<name>,
 * the install directory. */
static int find_module(const char *explicit_path, const char *name, char *out, size_t len) {
  if (explicit_path) {
    snprintf(out, len, "%s", explicit_path);
    return access(out, R_OK) == 0 ? 0 : -1;
  }
  char exe[PATH_MAX / 2];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n > 0) {
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    const char *rel[] = {"hub", "../" CERTPILOT_HUB_LIBDIR "/certpilot", NULL};
    for (int i = 0; rel[i]; i++) {
      int w = snprintf(out, len, "%s/%s/%s", exe, rel[i], name);
      if (w > 0 && (size_t)w < len && access(out, R_OK) == 0) return 0;
    }
  }
  snprintf(out, len, "%s/%s", CERTPILOT_HUB_INSTALL_DIR, name);
  return access(out, R_OK) == 0 ? 0 : -1;
}

static void on_failed(void *ctx, const char *why) {
  hub_server *h = ctx;
  snprintf(h->why, sizeof h->why, "%s", why);
  atomic_store(&h->failed, 1);
  kill(getpid(), SIGTERM); /* ends the main loop; main reports hub_server_failed() */
}

int hub_server_start(const hub_server_options *o, const cps_service_config *sc,
                     const char *data_dir, const char *cert_file, const char *key_file,
                     hub_server **out) {
  *out = NULL;
  if (!o->enabled) return 0;
  hub_server *h = calloc(1, sizeof *h);
  if (!h) return -1;
  if (find_module(o->plugin, "certpilot_mosquitto.so", h->plugin, sizeof h->plugin) != 0) {
    fprintf(stderr, "certpilot-server: MQTT plugin not found (%s); set mqtt-plugin, or mqtt = false\n",
            h->plugin);
    goto fail;
  }
  if (find_module(NULL, "certpilot_bindfix.so", h->bindfix, sizeof h->bindfix) != 0) h->bindfix[0] = '\0';
  if (access(o->mosquitto, X_OK) != 0) {
    fprintf(stderr, "certpilot-server: mosquitto not found at %s (install Debian's 'mosquitto', "
                    "set mosquitto = PATH, or mqtt = false)\n", o->mosquitto);
    goto fail;
  }
  snprintf(h->run_dir, sizeof h->run_dir, "%s/mqtt", data_dir);
  if (mkdir(h->run_dir, 0700) != 0 && errno != EEXIST) {
    fprintf(stderr, "certpilot-server: cannot create %s: %s\n", h->run_dir, strerror(errno));
    goto fail;
  }
  cps_error err = {{0}};
  if (cps_service_open(sc, &h->trust_svc, &err) != CPS_OK) {
    fprintf(stderr, "certpilot-server: MQTT: %s\n", err.msg);
    goto fail;
  }
  if (hub_twin_store_open(sc->db_path, &h->twins) != CP_OK) goto fail;
  hub_broker_config *c = &h->cfg;
  hub_broker_config_default(c);
  c->mosquitto_path = o->mosquitto;
  c->plugin_path = h->plugin;
  c->bindfix_path = h->bindfix[0] ? h->bindfix : NULL;
  c->run_dir = h->run_dir;
  c->db_path = sc->db_path;
  c->ca_key_passphrase_file = sc->ca_key_passphrase_file;
  c->hub_name = o->hub_name;
  c->bind_address = o->listen;
  c->cert_file = cert_file;
  c->key_file = key_file;
  c->retry_after_s = sc->retry_after_s;
  c->reply_qos = o->reply_qos;
  c->rate_limit_per_s = sc->rate_limit_per_s;
  c->rate_limit_burst = sc->rate_limit_burst > 0 ? sc->rate_limit_burst : 100;
  c->sas_max_lifetime_s = sc->sas_max_lifetime_s;
  c->trust_fn = hub_trust_from_core;
  c->trust_ctx = h->trust_svc;
  c->on_failed = on_failed;
  c->on_failed_ctx = h;
  char why[512] = "";
  for (int attempt = 0; attempt < 3; attempt++) {
    c->port_mqtts_cert = o->port_cert ? o->port_cert : free_port(o->listen);
    c->port_mqtts_sas = o->port_sas ? o->port_sas : free_port(o->listen);
    c->port_wss = o->port_wss < 0 ? 0 : o->port_wss ? o->port_wss : free_port(o->listen);
    c->port_wss_cert = o->port_wss_cert < 0 ? 0 : o->port_wss_cert ? o->port_wss_cert : free_port(o->listen);
    if (hub_broker_start(c, &h->broker, why, sizeof why) == CP_OK) {
      *out = h;
      return 0;
    }
    if (o->port_cert && o->port_sas && o->port_wss && o->port_wss_cert) break; /* fixed ports */
  }
  fprintf(stderr, "certpilot-server: MQTT: %s\n", why);
fail:
  hub_twin_store_close(h->twins);
  cps_service_close(h->trust_svc);
  free(h);
  return -1;
}

bool hub_server_failed(hub_server *h, char *why, size_t why_len) {
  if (!h || !atomic_load(&h->failed)) return false;
  if (why && why_len) snprintf(why, why_len, "%s", h->why);
  return true;
}

hub_twin_store *hub_server_twins(hub_server *h) { return h ? h->twins : NULL; }

void hub_server_ready_lines(hub_server *h, char *buf, size_t len) {
  if (!buf || !len) return;
  buf[0] = '\0';
  if (!h) return;
  snprintf(buf, len,
           "CERTPILOT_MQTT_PORT=%d\nCERTPILOT_MQTT_SAS_PORT=%d\nCERTPILOT_MQTT_WSS_PORT=%d\n"
           "CERTPILOT_MQTT_WSS_CERT_PORT=%d\nCERTPILOT_HUB_NAME=%s\nCERTPILOT_MQTT_PID=%ld\n",
           h->cfg.port_mqtts_cert, h->cfg.port_mqtts_sas, h->cfg.port_wss, h->cfg.port_wss_cert,
           h->cfg.hub_name,
           (long)hub_broker_pid(h->broker));
}

void hub_server_print(hub_server *h) {
  if (!h) return;
  printf("certpilot-server: MQTT (DPS X.509 + hub, client certificate) on mqtts://%s:%d\n",
         h->cfg.bind_address, h->cfg.port_mqtts_cert);
  printf("certpilot-server: MQTT (DPS SAS) on mqtts://%s:%d\n", h->cfg.bind_address,
         h->cfg.port_mqtts_sas);
  if (h->cfg.port_wss)
    printf("certpilot-server: MQTT over WebSockets on wss://%s:%d/$iothub/websocket%s\n",
           h->cfg.bind_address, h->cfg.port_wss,
           h->cfg.bindfix_path ? "" : " (WARNING: may listen on all interfaces, see docs)");
  if (h->cfg.port_wss_cert)
    printf("certpilot-server: MQTT over WebSockets with client certificate (X.509 DPS + hub) on "
           "wss://%s:%d/$iothub/websocket%s\n",
           h->cfg.bind_address, h->cfg.port_wss_cert,
           h->cfg.bindfix_path ? "" : " (WARNING: may listen on all interfaces, see docs)");
  printf("certpilot-server: hub name %s\n", h->cfg.hub_name);
}

void hub_server_stop(hub_server *h) {
  if (!h) return;
  hub_broker_stop(h->broker);
  hub_twin_store_close(h->twins);
  cps_service_close(h->trust_svc);
  free(h);
}
