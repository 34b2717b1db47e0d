/* certpilot-server: the reference DPS server (HTTPS + management API), and its admin CLI. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/thread.h>
#include <openssl/crypto.h>

#include "admin_cli.h"
#include "cps_ca_keys.h"
#include "cps_http.h"
#include "cps_rbac.h"
#include "cps_service.h"
#include "hub_server.h"
#include "server_config.h"
#include "server_tls.h"

static void usage(FILE *out) {
  fprintf(out,
          "usage: certpilot-server [--config FILE] [--data-dir DIR] [--dps-listen ADDR]\n"
          "                        [--dps-port N] [--mgmt-listen ADDR] [--mgmt-port N] [--dev]\n"
          "                        [--id-scope S] [--namespace NAME] [--hostnames a,b]\n"
          "                        [--retry-after S] [--rate-limit R] [--rate-burst N]\n"
          "                        [--crl-next-update S] [--max-lifetime S] [--threads N]\n"
          "                        [--ready-file PATH] [--admin-token-file PATH]\n"
          "                        [--ca-key-passphrase-file FILE]\n"
          "                        [--mqtt true|false] [--mqtt-listen ADDR] [--mqtt-port N]\n"
          "                        [--mqtt-sas-port N] [--mqtt-wss-port N] [--mqtt-wss-cert-port N]\n"
          "                        [--hub-name HOST]\n"
          "                        [--mosquitto PATH] [--mqtt-plugin PATH] [--mqtt-reply-qos 0|1]\n"
          "       certpilot-server admin --help\n"
          "Listens on 127.0.0.1:8443 (DPS) and 127.0.0.1:8444 (management) by default;\n"
          "MQTT (mosquitto child) on 8883 (client cert), 8884 (SAS), 8885 (WebSockets).\n"
          "Flags override the config file (same names, 'key = value' lines).\n");
}

static void on_signal(evutil_socket_t sig, short what, void *arg) {
  (void)what;
  fprintf(stderr, "certpilot-server: signal %d, shutting down\n", (int)sig);
  event_base_loopexit(arg, NULL);
}

static void on_lifetime(evutil_socket_t fd, short what, void *arg) {
  (void)fd;
  (void)what;
  fprintf(stderr, "certpilot-server: max-lifetime reached, shutting down\n");
  event_base_loopexit(arg, NULL);
}

static int write_private(const char *path, const char *text, mode_t mode) {
  char tmp[PATH_MAX + 8];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  size_t len = strlen(text);
  int ok = write(fd, text, len) == (ssize_t)len;
  ok = close(fd) == 0 && ok;
  if (!ok || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

/* First start: create the "admin" credentials-contributor token and show it once. */
static int first_admin_token(cps_service *svc, const server_config *cfg) {
  sqlite3_stmt *s = NULL;
  int count = 0;
  if (sqlite3_prepare_v2(cps_store_db(cps_service_store(svc)), "SELECT COUNT(*) FROM token", -1,
                         &s, NULL) == SQLITE_OK && sqlite3_step(s) == SQLITE_ROW)
    count = sqlite3_column_int(s, 0);
  sqlite3_finalize(s);
  if (count > 0) return 0;
  char secret[80];
  cps_error err = {{0}};
  if (cps_token_create(svc, "admin", CPS_ROLE_CONTRIBUTOR, secret, sizeof secret, &err) != CPS_OK) {
    fprintf(stderr, "certpilot-server: cannot create the admin token: %s\n", err.msg);
    return -1;
  }
  printf("certpilot-server: admin token (credentials-contributor, shown once): %s\n", secret);
  int rc = 0;
  if (cfg->admin_token_file) {
    char line[100];
    snprintf(line, sizeof line, "%s\n", secret);
    if (write_private(cfg->admin_token_file, line, 0600) != 0) {
      fprintf(stderr, "certpilot-server: cannot write %s\n", cfg->admin_token_file);
      rc = -1;
    }
    OPENSSL_cleanse(line, sizeof line);
  }
  OPENSSL_cleanse(secret, sizeof secret);
  return rc;
}

/* Check the CA keys in the DB against the passphrase (if any); encrypt unencrypted ones. */
static int ca_keys_start(cps_service *svc, const char *pass_file) {
  size_t n = 0;
  cps_error err = {{0}};
  if (cps_ca_keys_prepare(svc, &n, &err) != CPS_OK) {
    fprintf(stderr, "certpilot-server: %s\n", err.msg);
    return -1;
  }
  if (n > 0)
    printf("certpilot-server: encrypted %zu CA key%s in the database with the passphrase in %s\n",
           n, n == 1 ? "" : "s", pass_file);
  return 0;
}

static const char *host_for_url(const char *addr) {
  return (!strcmp(addr, "0.0.0.0") || !strcmp(addr, "::")) ? "localhost" : addr;
}

static int run(server_config *cfg) {
  if (mkdir(cfg->data_dir, 0700) != 0 && access(cfg->data_dir, W_OK) != 0) {
    fprintf(stderr, "certpilot-server: cannot create data dir %s\n", cfg->data_dir);
    return 1;
  }
  char abs_dir[PATH_MAX];
  if (!realpath(cfg->data_dir, abs_dir)) {
    fprintf(stderr, "certpilot-server: bad data dir %s\n", cfg->data_dir);
    return 1;
  }
  char cert[PATH_MAX + 32], key[PATH_MAX + 32], ca[PATH_MAX + 32], db[PATH_MAX + 32];
  if (server_tls_ensure(abs_dir, cfg->hostnames, cert, key, ca, sizeof cert) != 0) return 1;
  snprintf(db, sizeof db, "%s/certpilot.db", abs_dir);
  char pass_file[PATH_MAX] = ""; /* absolute: the MQTT plugin reads it too, from another directory */
  if (cfg->ca_key_passphrase_file && !realpath(cfg->ca_key_passphrase_file, pass_file)) {
    fprintf(stderr, "certpilot-server: ca-key-passphrase-file %s: %s\n",
            cfg->ca_key_passphrase_file, strerror(errno));
    return 1;
  }
  cps_service_config sc;
  cps_service_config_default(&sc);
  sc.db_path = db;
  sc.id_scope = cfg->id_scope;
  sc.namespace_name = cfg->namespace_name;
  sc.dev_mode = cfg->dev;
  sc.retry_after_s = cfg->retry_after;
  sc.rate_limit_per_s = cfg->rate_limit;
  sc.rate_limit_burst = cfg->rate_burst;
  sc.crl_next_update_s = cfg->crl_next_update;
  sc.ca_key_passphrase_file = cfg->ca_key_passphrase_file ? pass_file : NULL;
  cps_service *svc = NULL;
  cps_error err = {{0}};
  if (cps_service_open(&sc, &svc, &err) != CPS_OK) {
    fprintf(stderr, "certpilot-server: %s\n", err.msg);
    return 1;
  }
  if (ca_keys_start(svc, pass_file) != 0 || first_admin_token(svc, cfg) != 0) {
    cps_service_close(svc);
    return 1;
  }
  evthread_use_pthreads();
  struct event_base *base = event_base_new();
  cps_http_config hc = {cfg->dps_listen, cfg->dps_port, cfg->mgmt_listen, cfg->mgmt_port,
                        cert, key, 30, cfg->threads - 1, &sc};
  cps_http *http = NULL;
  if (!base || cps_http_start(base, svc, &hc, &http, &err) != CPS_OK) {
    fprintf(stderr, "certpilot-server: %s\n", err.msg[0] ? err.msg : "cannot start");
    if (base) event_base_free(base);
    cps_service_close(svc);
    return 1;
  }
  hub_server *hub = NULL; /* MQTT: supervised mosquitto + plugin (server/hub) */
  if (hub_server_start(&cfg->mqtt, &sc, abs_dir, cert, key, &hub) != 0) {
    cps_http_free(http);
    event_base_free(base);
    cps_service_close(svc);
    return 1;
  }
  struct event *sigterm = evsignal_new(base, SIGTERM, on_signal, base);
  struct event *sigint = evsignal_new(base, SIGINT, on_signal, base);
  event_add(sigterm, NULL);
  event_add(sigint, NULL);
  struct event *life = NULL;
  if (cfg->max_lifetime > 0) {
    life = evtimer_new(base, on_lifetime, base);
    struct timeval tv = {cfg->max_lifetime, 0};
    evtimer_add(life, &tv);
  }
  signal(SIGPIPE, SIG_IGN);
  const char *scope = cps_service_id_scope(svc);
  printf("certpilot-server: DPS (HTTPS) listening on https://%s:%d (id scope %s)\n",
         host_for_url(cfg->dps_listen), cps_http_dps_port(http), scope);
  printf("certpilot-server: management API listening on https://%s:%d\n",
         host_for_url(cfg->mgmt_listen), cps_http_mgmt_port(http));
  printf("certpilot-server: clients must trust %s%s\n", ca, cfg->dev ? " (dev mode)" : "");
  hub_server_print(hub);
  fflush(stdout);
  int rc = 0;
  if (cfg->ready_file) {
    char text[4 * PATH_MAX];
    snprintf(text, sizeof text,
             "CERTPILOT_DPS_URL=https://%s:%d\nCERTPILOT_DPS_PORT=%d\n"
             "CERTPILOT_MGMT_URL=https://%s:%d\nCERTPILOT_MGMT_PORT=%d\n"
             "CERTPILOT_ID_SCOPE=%s\nCERTPILOT_TRUST_BUNDLE=%s\nCERTPILOT_DB=%s\n"
             "CERTPILOT_DATA_DIR=%s\nCERTPILOT_SERVER_PID=%ld\n",
             host_for_url(cfg->dps_listen), cps_http_dps_port(http), cps_http_dps_port(http),
             host_for_url(cfg->mgmt_listen), cps_http_mgmt_port(http), cps_http_mgmt_port(http),
             scope, ca, db, abs_dir, (long)getpid());
    hub_server_ready_lines(hub, text + strlen(text), sizeof text - strlen(text));
    if (write_private(cfg->ready_file, text, 0644) != 0) {
      fprintf(stderr, "certpilot-server: cannot write %s\n", cfg->ready_file);
      rc = 1;
    }
  }
  if (rc == 0) event_base_dispatch(base);
  char hub_why[256];
  if (hub_server_failed(hub, hub_why, sizeof hub_why)) {
    fprintf(stderr, "certpilot-server: MQTT broker failed: %s\n", hub_why);
    rc = 1;
  }
  hub_server_stop(hub);
  if (life) event_free(life);
  event_free(sigterm);
  event_free(sigint);
  cps_http_free(http);
  event_base_free(base);
  cps_service_close(svc);
  fprintf(stderr, "certpilot-server: stopped\n");
  return rc;
}

int main(int argc, char **argv) {
  if (argc > 1 && !strcmp(argv[1], "admin")) return admin_cli_main(argc - 1, argv + 1);
  server_config cfg;
  server_config_default(&cfg);
  /* The config file first, then flags over it. */
  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--config")) {
      if (i + 1 >= argc || server_config_load_file(&cfg, argv[i + 1]) != 0) {
        if (i + 1 >= argc) fprintf(stderr, "certpilot-server: --config needs a file\n");
        server_config_free(&cfg);
        return 2;
      }
      i++;
    }
  }
  for (int i = 1; i < argc; i++) {
    const char *a = argv[i];
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      server_config_free(&cfg);
      return 0;
    }
    if (!strcmp(a, "--config")) {
      i++;
      continue;
    }
    if (!strcmp(a, "--dev")) {
      cfg.dev = true;
      continue;
    }
    if (strncmp(a, "--", 2) != 0 || i + 1 >= argc) {
      fprintf(stderr, "certpilot-server: unexpected argument '%s'\n", a);
      usage(stderr);
      server_config_free(&cfg);
      return 2;
    }
    if (server_config_set(&cfg, a + 2, argv[++i], "command line") != 0) {
      server_config_free(&cfg);
      return 2;
    }
  }
  int rc = run(&cfg);
  server_config_free(&cfg);
  return rc;
}
