/* certpilot-server settings: one parser per value type, each naming its key on error. */
#include "server_config.h"

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int set_str(char **dst, const char *v) {
  char *c = strdup(v);
  if (!c) return -1;
  free(*dst);
  *dst = c;
  return 0;
}

static int parse_long(const char *key, const char *v, long min, long max, long *out,
                      const char *where) {
  char *end = NULL;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (errno || !*v || *end || n < min || n > max) {
    fprintf(stderr, "certpilot-server: %s: %s must be an integer from %ld to %ld (got '%s')\n",
            where, key, min, max, v);
    return -1;
  }
  *out = n;
  return 0;
}

static int parse_bool(const char *key, const char *v, bool *out, const char *where) {
  if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) return *out = true, 0;
  if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) return *out = false, 0;
  fprintf(stderr, "certpilot-server: %s: %s must be true or false (got '%s')\n", where, key, v);
  return -1;
}

void server_config_default(server_config *c) {
  memset(c, 0, sizeof *c);
  set_str(&c->data_dir, "./certpilot-data");
  set_str(&c->dps_listen, "127.0.0.1");
  set_str(&c->mgmt_listen, "127.0.0.1");
  set_str(&c->id_scope, "0ne00000001");
  set_str(&c->namespace_name, "certpilot");
  long cpus = sysconf(_SC_NPROCESSORS_ONLN);
  c->threads = cpus < 1 ? 1 : (cpus > 8 ? 8 : (int)cpus);
  c->dps_port = 8443;
  c->mgmt_port = 8444;
  c->retry_after = 1;
  c->rate_burst = 100;
  c->crl_next_update = 86400;
  hub_server_options_default(&c->mqtt);
}

int server_config_set(server_config *c, const char *key, const char *v, const char *where) {
  long n = 0;
  if (!strcmp(key, "data-dir")) return set_str(&c->data_dir, v);
  if (!strcmp(key, "dps-listen")) return set_str(&c->dps_listen, v);
  if (!strcmp(key, "mgmt-listen")) return set_str(&c->mgmt_listen, v);
  if (!strcmp(key, "id-scope")) return set_str(&c->id_scope, v);
  if (!strcmp(key, "namespace")) return set_str(&c->namespace_name, v);
  if (!strcmp(key, "hostnames")) return set_str(&c->hostnames, v);
  if (!strcmp(key, "ready-file")) return set_str(&c->ready_file, v);
  if (!strcmp(key, "admin-token-file")) return set_str(&c->admin_token_file, v);
  if (!strcmp(key, "ca-key-passphrase-file")) return set_str(&c->ca_key_passphrase_file, v);
  if (!strcmp(key, "dev")) return parse_bool(key, v, &c->dev, where);
  if (!strcmp(key, "dps-port") || !strcmp(key, "mgmt-port")) {
    if (parse_long(key, v, 0, 65535, &n, where)) return -1;
    *(key[0] == 'd' ? &c->dps_port : &c->mgmt_port) = (int)n;
    return 0;
  }
  if (!strcmp(key, "retry-after")) {
    if (parse_long(key, v, 0, 300, &n, where)) return -1;
    c->retry_after = (int)n;
    return 0;
  }
  if (!strcmp(key, "threads")) {
    if (parse_long(key, v, 1, 64, &n, where)) return -1;
    c->threads = (int)n;
    return 0;
  }
  if (!strcmp(key, "rate-burst")) {
    if (parse_long(key, v, 1, 1000000, &n, where)) return -1;
    c->rate_burst = (int)n;
    return 0;
  }
  if (!strcmp(key, "crl-next-update")) return parse_long(key, v, 60, 365L * 86400, &c->crl_next_update, where);
  if (!strcmp(key, "max-lifetime")) return parse_long(key, v, 0, 100L * 365 * 86400, &c->max_lifetime, where);
  if (!strcmp(key, "rate-limit")) {
    char *end = NULL;
    double d = strtod(v, &end);
    if (!*v || *end || d < 0) {
      fprintf(stderr, "certpilot-server: %s: rate-limit must be a number >= 0 (got '%s')\n", where, v);
      return -1;
    }
    c->rate_limit = d;
    return 0;
  }
  int mqtt = hub_server_options_set(&c->mqtt, key, v, where);
  if (mqtt != 0) return mqtt < 0 ? -1 : 0;
  fprintf(stderr, "certpilot-server: %s: unknown setting '%s'\n", where, key);
  return -1;
}

static char *trim(char *s) {
  while (isspace((unsigned char)*s)) s++;
  char *e = s + strlen(s);
  while (e > s && isspace((unsigned char)e[-1])) *--e = '\0';
  return s;
}

int server_config_load_file(server_config *c, const char *path) {
  FILE *f = fopen(path, "r");
  if (!f) {
    fprintf(stderr, "certpilot-server: cannot open config file %s\n", path);
    return -1;
  }
  char line[1024], where[1100];
  int lineno = 0, rc = 0;
  while (rc == 0 && fgets(line, sizeof line, f)) {
    lineno++;
    char *hash = strchr(line, '#');
    if (hash) *hash = '\0';
    char *s = trim(line);
    if (!*s) continue;
    char *eq = strchr(s, '=');
    snprintf(where, sizeof where, "%s:%d", path, lineno);
    if (!eq) {
      fprintf(stderr, "certpilot-server: %s: expected key = value\n", where);
      rc = -1;
      break;
    }
    *eq = '\0';
    rc = server_config_set(c, trim(s), trim(eq + 1), where);
  }
  fclose(f);
  return rc;
}

void server_config_free(server_config *c) {
  free(c->data_dir);
  free(c->dps_listen);
  free(c->mgmt_listen);
  free(c->id_scope);
  free(c->namespace_name);
  free(c->hostnames);
  free(c->ready_file);
  free(c->admin_token_file);
  free(c->ca_key_passphrase_file);
  hub_server_options_free(&c->mqtt);
  memset(c, 0, sizeof *c);
}
