/* certpilotd configuration parser: one table of keys, one parse helper per value
 * type, each naming the key and line in its error. */
#include "agent_config.h"

#include <errno.h>
#include <ini.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

typedef enum key_type {
  KT_STRING,
  KT_PATH,
  KT_PORT,
  KT_DURATION,
  KT_FRACTION,
  KT_BOOL,
  KT_TRANSPORT,
  KT_ONBOARDING,
  KT_LOGLEVEL,
  KT_HUB_TRANSPORT,
} key_type;

typedef struct key_def {
  const char *section;
  const char *name;
  key_type type;
  size_t offset;
  size_t size;      /* string capacity */
  double lo, hi;    /* numeric bounds (inclusive) */
} key_def;

#define STR(sec, key, field, kt) {sec, key, kt, offsetof(cpa_config, field), sizeof(((cpa_config *)0)->field), 0, 0}
#define NUM(sec, key, field, kt, l, h) {sec, key, kt, offsetof(cpa_config, field), 0, l, h}

static const key_def keys[] = {
    STR("provisioning", "endpoint", endpoint, KT_STRING),
    NUM("provisioning", "port", port, KT_PORT, 1, 65535),
    STR("provisioning", "id_scope", id_scope, KT_STRING),
    STR("provisioning", "registration_id", registration_id, KT_STRING),
    NUM("provisioning", "transport", transport, KT_TRANSPORT, 0, 0),
    STR("provisioning", "trust_bundle", trust_bundle, KT_PATH),
    STR("provisioning", "chain_anchor", chain_anchor, KT_PATH),
    NUM("provisioning", "timeout", timeout, KT_DURATION, 1, 120),
    NUM("hub", "port", hub_port, KT_PORT, 1, 65535),
    NUM("hub", "transport", hub_transport, KT_HUB_TRANSPORT, 0, 0),
    NUM("onboarding", "kind", onboarding, KT_ONBOARDING, 0, 0),
    STR("onboarding", "symmetric_key_file", symmetric_key_file, KT_PATH),
    NUM("onboarding", "symmetric_key_is_group", symmetric_key_is_group, KT_BOOL, 0, 0),
    STR("onboarding", "cert_file", cert_file, KT_PATH),
    STR("onboarding", "key_file", key_file, KT_PATH),
    STR("onboarding", "tpm_tcti", tpm_tcti, KT_STRING),
    NUM("renewal", "fraction", renewal_fraction, KT_FRACTION, 0.05, 0.95),
    NUM("renewal", "jitter", jitter_fraction, KT_FRACTION, 0.0, 0.25),
    NUM("renewal", "backoff_initial", backoff_initial, KT_DURATION, 1, 86400),
    NUM("renewal", "backoff_max", backoff_max, KT_DURATION, 1, 7 * 86400),
    NUM("renewal", "backoff_time_left_fraction", backoff_time_left_fraction, KT_FRACTION, 0.01, 1.0),
    NUM("renewal", "disabled_backoff", disabled_backoff, KT_DURATION, 60, 30 * 86400),
    STR("paths", "state_dir", state_dir, KT_PATH),
    STR("paths", "run_dir", run_dir, KT_PATH),
    STR("paths", "metrics_file", metrics_file, KT_PATH),
    STR("hooks", "post_renewal", post_renewal, KT_STRING),
    NUM("hooks", "timeout", hook_timeout, KT_DURATION, 1, 3600),
    NUM("twin", "report", twin_report, KT_BOOL, 0, 0),
    NUM("log", "level", log_level, KT_LOGLEVEL, 0, 0),
};
#define NKEYS (sizeof keys / sizeof keys[0])

void cpa_config_defaults(cpa_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->transport = CPA_TRANSPORT_MQTT;
  cfg->timeout = 60;
  cfg->onboarding = CPA_ONBOARDING_SYMMETRIC_KEY;
  snprintf(cfg->tpm_tcti, sizeof cfg->tpm_tcti, "%s", "device:/dev/tpmrm0");
  cfg->renewal_fraction = 2.0 / 3.0;
  cfg->jitter_fraction = 0.05;
  cfg->backoff_initial = 30;
  cfg->backoff_max = 6 * 3600;
  cfg->backoff_time_left_fraction = 0.25;
  cfg->disabled_backoff = 12 * 3600;
  snprintf(cfg->state_dir, sizeof cfg->state_dir, "%s", "/var/lib/certpilot");
  snprintf(cfg->run_dir, sizeof cfg->run_dir, "%s", "/run/certpilot");
  snprintf(cfg->metrics_file, sizeof cfg->metrics_file, "%s", "/run/certpilot/certpilot.prom");
  cfg->hook_timeout = 60;
  cfg->twin_report = true;
  cfg->log_level = 6;
}

const char *cpa_transport_name(cpa_transport t) {
  switch (t) {
  case CPA_TRANSPORT_MQTT: return "mqtt";
  case CPA_TRANSPORT_MQTT_WS: return "mqtt-ws";
  case CPA_TRANSPORT_HTTPS: return "https";
  }
  return "?";
}

const char *cpa_onboarding_name(cpa_onboarding o) {
  switch (o) {
  case CPA_ONBOARDING_SYMMETRIC_KEY: return "symmetric-key";
  case CPA_ONBOARDING_X509: return "x509";
  case CPA_ONBOARDING_TPM: return "tpm";
  }
  return "?";
}

typedef struct parse_ctx {
  const char *text;  /* remaining input */
  const char *file;
  int line;
  cpa_config cfg;
  unsigned char seen[NKEYS];
  char *err;
  size_t err_size;
  int failed;
} parse_ctx;

static char *string_reader(char *str, int num, void *stream) {
  parse_ctx *p = stream;
  if (*p->text == '\0') return NULL;
  int i = 0;
  while (i < num - 1 && p->text[0] != '\0') {
    char c = *p->text++;
    str[i++] = c;
    if (c == '\n') break;
  }
  str[i] = '\0';
  if (i > 0 && str[i - 1] == '\n') p->line++;
  else if (p->text[0] == '\0') p->line++; /* last line without newline */
  return str;
}

__attribute__((format(printf, 4, 5))) static int fail(parse_ctx *p, const char *section,
                                                       const char *name, const char *fmt, ...) {
  if (p->failed) return 0;
  p->failed = 1;
  int n = snprintf(p->err, p->err_size, "%s:%d: [%s] %s: ", p->file, p->line, section, name);
  if (n >= 0 && (size_t)n < p->err_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->err + n, p->err_size - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return 0;
}

/* "90", "90s", "15m", "2h", "7d" → seconds. */
static int parse_duration(const char *v, int64_t *out) {
  errno = 0;
  char *end = NULL;
  long long n = strtoll(v, &end, 10);
  if (end == v || errno != 0 || n < 0) return -1;
  long long mul = 1;
  if (*end == 's') mul = 1, end++;
  else if (*end == 'm') mul = 60, end++;
  else if (*end == 'h') mul = 3600, end++;
  else if (*end == 'd') mul = 86400, end++;
  if (*end != '\0') return -1;
  if (n > INT64_MAX / mul) return -1;
  *out = n * mul;
  return 0;
}

/* "0.6667", "2/3", "66.7%" → fraction. */
static int parse_fraction(const char *v, double *out) {
  char *end = NULL;
  errno = 0;
  double a = strtod(v, &end);
  if (end == v || errno != 0 || !isfinite(a)) return -1;
  if (*end == '/') {
    const char *d = end + 1;
    double b = strtod(d, &end);
    if (end == d || b == 0.0 || !isfinite(b)) return -1;
    a /= b;
  } else if (*end == '%') {
    end++;
    a /= 100.0;
  }
  if (*end != '\0') return -1;
  *out = a;
  return 0;
}

static int parse_bool(const char *v, bool *out) {
  static const char *yes[] = {"true", "yes", "on", "1"};
  static const char *no[] = {"false", "no", "off", "0"};
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(v, yes[i]) == 0) return *out = true, 0;
    if (strcasecmp(v, no[i]) == 0) return *out = false, 0;
  }
  return -1;
}

static int handler(void *user, const char *section, const char *name, const char *value) {
  parse_ctx *p = user;
  size_t i;
  for (i = 0; i < NKEYS; i++)
    if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) break;
  if (i == NKEYS) {
    int known_section = 0;
    for (size_t j = 0; j < NKEYS; j++)
      if (strcmp(keys[j].section, section) == 0) known_section = 1;
    return known_section ? fail(p, section, name, "unknown key")
                         : fail(p, section, name, "unknown section [%s]", section);
  }
  const key_def *k = &keys[i];
  if (p->seen[i]) return fail(p, section, name, "key given twice");
  p->seen[i] = 1;
  char *field = (char *)&p->cfg + k->offset;
  switch (k->type) {
  case KT_STRING:
  case KT_PATH: {
    size_t len = strlen(value);
    if (len >= k->size) return fail(p, section, name, "value too long (max %zu characters)", k->size - 1);
    if (k->type == KT_PATH && len > 0 && value[0] != '/')
      return fail(p, section, name, "'%s' is not an absolute path", value);
    memcpy(field, value, len + 1);
    return 1;
  }
  case KT_PORT: {
    if (value[0] == '\0') { /* empty: the transport's default */
      *(int *)(void *)field = 0;
      return 1;
    }
    char *end = NULL;
    errno = 0;
    long n = strtol(value, &end, 10);
    if (end == value || *end != '\0' || errno != 0 || n < k->lo || n > k->hi)
      return fail(p, section, name, "'%s' is not a port number (1-65535)", value);
    *(int *)(void *)field = (int)n;
    return 1;
  }
  case KT_DURATION: {
    int64_t d;
    if (parse_duration(value, &d) != 0)
      return fail(p, section, name, "'%s' is not a duration (e.g. 90, 90s, 15m, 2h, 7d)", value);
    if (d < (int64_t)k->lo || d > (int64_t)k->hi)
      return fail(p, section, name, "%s is out of range (%.0f-%.0f seconds)", value, k->lo, k->hi);
    *(int64_t *)(void *)field = d;
    return 1;
  }
  case KT_FRACTION: {
    double f;
    if (parse_fraction(value, &f) != 0)
      return fail(p, section, name, "'%s' is not a fraction (e.g. 0.5, 2/3, 66%%)", value);
    if (f < k->lo || f > k->hi)
      return fail(p, section, name, "%s is out of range (%g-%g)", value, k->lo, k->hi);
    *(double *)(void *)field = f;
    return 1;
  }
  case KT_BOOL:
    if (parse_bool(value, (bool *)(void *)field) != 0)
      return fail(p, section, name, "'%s' is not a boolean (true/false, yes/no, on/off, 1/0)", value);
    return 1;
  case KT_TRANSPORT: {
    static const char *names[] = {"mqtt", "mqtt-ws", "https"};
    for (int t = 0; t < 3; t++)
      if (strcmp(value, names[t]) == 0) return *(cpa_transport *)(void *)field = (cpa_transport)t, 1;
    return fail(p, section, name, "'%s' is not one of mqtt, mqtt-ws, https", value);
  }
  case KT_ONBOARDING: {
    static const char *names[] = {"symmetric-key", "x509", "tpm"};
    for (int t = 0; t < 3; t++)
      if (strcmp(value, names[t]) == 0) return *(cpa_onboarding *)(void *)field = (cpa_onboarding)t, 1;
    return fail(p, section, name, "'%s' is not one of symmetric-key, x509, tpm", value);
  }
  case KT_HUB_TRANSPORT: {
    if (value[0] == '\0') return *(int *)(void *)field = 0, 1;
    if (strcmp(value, "mqtt") == 0) return *(int *)(void *)field = CPA_TRANSPORT_MQTT + 1, 1;
    if (strcmp(value, "mqtt-ws") == 0) return *(int *)(void *)field = CPA_TRANSPORT_MQTT_WS + 1, 1;
    return fail(p, section, name, "'%s' is not one of mqtt, mqtt-ws (or empty)", value);
  }
  case KT_LOGLEVEL: {
    static const char *names[] = {"error", "warning", "notice", "info", "debug"};
    for (int t = 0; t < 5; t++)
      if (strcmp(value, names[t]) == 0) return *(int *)(void *)field = 3 + t, 1;
    return fail(p, section, name, "'%s' is not one of error, warning, notice, info, debug", value);
  }
  }
  return fail(p, section, name, "internal: unhandled type");
}

/* Registration id rule of protocol.md §4 (the SDK applies the same rule again). */
static int registration_id_ok(const char *id) {
  size_t n = strlen(id);
  if (n == 0 || n > 128) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = id[i];
    int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    if (!alnum && c != '-' && c != '.' && c != '_' && c != ':') return 0;
    if (i == n - 1 && !alnum && c != '-') return 0;
  }
  return 1;
}

static cp_result check_required(parse_ctx *p) {
  struct {
    const char *section, *name;
    const char *value;
    int needed;
  } req[] = {
      {"provisioning", "endpoint", p->cfg.endpoint, 1},
      {"provisioning", "id_scope", p->cfg.id_scope, 1},
      {"provisioning", "registration_id", p->cfg.registration_id, 1},
      {"provisioning", "trust_bundle", p->cfg.trust_bundle, 1},
      {"onboarding", "symmetric_key_file", p->cfg.symmetric_key_file,
       p->cfg.onboarding == CPA_ONBOARDING_SYMMETRIC_KEY},
      {"onboarding", "cert_file", p->cfg.cert_file, p->cfg.onboarding == CPA_ONBOARDING_X509},
      {"onboarding", "key_file", p->cfg.key_file, p->cfg.onboarding == CPA_ONBOARDING_X509},
      {"onboarding", "tpm_tcti", p->cfg.tpm_tcti, p->cfg.onboarding == CPA_ONBOARDING_TPM},
      {"paths", "state_dir", p->cfg.state_dir, 1},
      {"paths", "run_dir", p->cfg.run_dir, 1},
  };
  for (size_t i = 0; i < sizeof req / sizeof req[0]; i++) {
    if (req[i].needed && req[i].value[0] == '\0') {
      snprintf(p->err, p->err_size, "%s: [%s] %s: required key missing%s%s", p->file,
               req[i].section, req[i].name,
               strcmp(req[i].section, "onboarding") == 0 ? " for kind " : "",
               strcmp(req[i].section, "onboarding") == 0 ? cpa_onboarding_name(p->cfg.onboarding) : "");
      return CP_ERR_CONFIG;
    }
  }
  if (!registration_id_ok(p->cfg.registration_id)) {
    snprintf(p->err, p->err_size,
             "%s: [provisioning] registration_id: '%s' breaks the rule (1-128 of A-Z a-z 0-9 - . _ :, "
             "ending alphanumeric or -)", p->file, p->cfg.registration_id);
    return CP_ERR_CONFIG;
  }
  if (p->cfg.onboarding == CPA_ONBOARDING_TPM && p->cfg.transport != CPA_TRANSPORT_HTTPS) {
    snprintf(p->err, p->err_size,
             "%s: [onboarding] kind: tpm needs [provisioning] transport = https "
             "(DPS offers TPM attestation over HTTPS only)", p->file);
    return CP_ERR_CONFIG;
  }
  if (p->cfg.backoff_initial > p->cfg.backoff_max) {
    snprintf(p->err, p->err_size, "%s: [renewal] backoff_initial: larger than backoff_max", p->file);
    return CP_ERR_CONFIG;
  }
  if (p->cfg.renewal_fraction + p->cfg.jitter_fraction >= 1.0) {
    snprintf(p->err, p->err_size, "%s: [renewal] jitter: fraction + jitter must stay below 1", p->file);
    return CP_ERR_CONFIG;
  }
  return CP_OK;
}

cp_result cpa_config_parse_string(const char *text, const char *file, cpa_config *cfg,
                                  char *err, size_t err_size) {
  if (!text || !file || !cfg || !err || err_size == 0) return CP_ERR_INVALID_ARG;
  parse_ctx *p = calloc(1, sizeof *p);
  if (!p) return CP_ERR_NO_MEMORY;
  p->text = text;
  p->file = file;
  p->cfg = *cfg;
  p->err = err;
  p->err_size = err_size;
  err[0] = '\0';
  int rc = ini_parse_stream(string_reader, p, handler, p);
  cp_result r = CP_OK;
  if (p->failed) {
    r = CP_ERR_CONFIG;
  } else if (rc > 0) {
    snprintf(err, err_size, "%s:%d: syntax error (expected [section] or key = value)", file, rc);
    r = CP_ERR_CONFIG;
  } else if (rc < 0) {
    snprintf(err, err_size, "%s: parser failed (%d)", file, rc);
    r = CP_ERR_NO_MEMORY;
  } else {
    r = check_required(p);
  }
  if (r == CP_OK) *cfg = p->cfg;
  free(p);
  return r;
}

cp_result cpa_config_load(const char *path, cpa_config *cfg, char *err, size_t err_size) {
  if (!path || !cfg || !err || err_size == 0) return CP_ERR_INVALID_ARG;
  FILE *f = fopen(path, "r");
  if (!f) {
    snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
    return CP_ERR_IO;
  }
  size_t cap = 4096, len = 0;
  char *buf = malloc(cap);
  while (buf) {
    size_t n = fread(buf + len, 1, cap - len - 1, f);
    len += n;
    if (n == 0) break;
    if (len + 1 == cap) {
      if (cap > (1u << 20)) break; /* 1 MiB is far beyond any sane config */
      char *nb = realloc(buf, cap * 2);
      if (!nb) { free(buf); buf = NULL; break; }
      buf = nb;
      cap *= 2;
    }
  }
  int rd_err = ferror(f);
  fclose(f);
  if (!buf) return CP_ERR_NO_MEMORY;
  if (rd_err) {
    free(buf);
    snprintf(err, err_size, "%s: read error", path);
    return CP_ERR_IO;
  }
  buf[len] = '\0';
  if (strlen(buf) != len) {
    free(buf);
    snprintf(err, err_size, "%s: contains a NUL byte", path);
    return CP_ERR_CONFIG;
  }
  cp_result r = cpa_config_parse_string(buf, path, cfg, err, err_size);
  free(buf);
  return r;
}
