/* certpilot: status, renew and inspect for certpilotd. See docs/agent.md. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_config.h"
#include "certpilot/cp_x509.h"

static void usage(FILE *f) {
  fprintf(f,
          "usage: certpilot [-c CONFIG | -r RUN_DIR] COMMAND\n"
          "  status [--json]   show certpilotd's state (from RUN_DIR/status.json)\n"
          "  renew             ask the running certpilotd to renew now (SIGUSR1)\n"
          "  inspect FILE      print the certificates in a PEM or DER file\n"
          "  -c CONFIG  read run_dir from this configuration (default " CPA_DEFAULT_CONFIG ")\n"
          "  -r RUN_DIR use this run directory (default /run/certpilot)\n"
          "  -h, --help this text\n");
}

static char *slurp(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  size_t cap = 1 << 16;
  char *buf = malloc(cap + 1);
  *len = buf ? fread(buf, 1, cap, f) : 0;
  if (buf) buf[*len] = '\0';
  fclose(f);
  return buf;
}

static const char *jstr(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsString(v) ? v->valuestring : "-";
}

static double jnum(const cJSON *o, const char *k) {
  const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
  return cJSON_IsNumber(v) ? v->valuedouble : 0;
}

static int cmd_status(const char *run_dir, int json) {
  char p[CPA_PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/status.json", run_dir);
  size_t len;
  char *s = slurp(p, &len);
  if (!s) {
    fprintf(stderr, "certpilot: %s: %s (is certpilotd running?)\n", p, strerror(errno));
    return 1;
  }
  if (json) {
    fputs(s, stdout);
    if (len && s[len - 1] != '\n') putchar('\n');
    free(s);
    return 0;
  }
  cJSON *o = cJSON_Parse(s);
  free(s);
  if (!o) {
    fprintf(stderr, "certpilot: %s: not valid JSON\n", p);
    return 1;
  }
  printf("state:          %s\n", jstr(o, "state"));
  printf("registration:   %s\n", jstr(o, "registrationId"));
  printf("device id:      %s\n", jstr(o, "deviceId"));
  printf("hub:            %s\n", jstr(o, "assignedHub"));
  const cJSON *c = cJSON_GetObjectItemCaseSensitive(o, "certificate");
  if (cJSON_IsObject(c)) {
    printf("generation:     %s\n", jstr(c, "generation"));
    printf("serial:         %s\n", jstr(c, "serialNumber"));
    printf("issuer:         %s\n", jstr(c, "issuer"));
    printf("valid:          %s .. %s\n", jstr(c, "validFrom"), jstr(c, "validUntil"));
    printf("renew at:       %s\n", jstr(c, "renewAt"));
  } else {
    printf("certificate:    none\n");
  }
  printf("next attempt:   %s\n", jstr(o, "nextAttempt"));
  printf("renewals:       %.0f\n", jnum(o, "renewalCount"));
  printf("failures:       %.0f (%.0f in a row)\n", jnum(o, "failureCount"), jnum(o, "consecutiveFailures"));
  printf("last success:   %s\n", jstr(o, "lastSuccess"));
  printf("last error:     %s\n", jstr(o, "lastError"));
  const cJSON *h = cJSON_GetObjectItemCaseSensitive(o, "hook");
  if (cJSON_IsObject(h)) printf("hook:           %s\n", jstr(h, "lastResult"));
  printf("updated:        %s\n", jstr(o, "updatedAt"));
  cJSON_Delete(o);
  return 0;
}

static int cmd_renew(const char *run_dir) {
  char p[CPA_PATH_MAX + 32], comm[64] = "";
  snprintf(p, sizeof p, "%s/certpilotd.pid", run_dir);
  size_t len;
  char *s = slurp(p, &len);
  if (!s) {
    fprintf(stderr, "certpilot: %s: %s (is certpilotd running?)\n", p, strerror(errno));
    return 1;
  }
  long pid = strtol(s, NULL, 10);
  free(s);
  snprintf(p, sizeof p, "/proc/%ld/comm", pid);
  FILE *f = pid > 1 ? fopen(p, "r") : NULL;
  if (f) {
    if (!fgets(comm, sizeof comm, f)) comm[0] = '\0';
    fclose(f);
  }
  if (strncmp(comm, "certpilotd", 10) != 0) {
    fprintf(stderr, "certpilot: pid %ld is not a running certpilotd (stale pid file)\n", pid);
    return 1;
  }
  if (kill((pid_t)pid, SIGUSR1) != 0) {
    fprintf(stderr, "certpilot: cannot signal pid %ld: %s\n", pid, strerror(errno));
    return 1;
  }
  printf("renewal requested from certpilotd (pid %ld)\n", pid);
  return 0;
}

static void print_time(const char *label, int64_t t) {
  char buf[32];
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  printf("  %-12s %s\n", label, buf);
}

static int cmd_inspect(const char *path) {
  size_t len;
  char *s = slurp(path, &len);
  if (!s) {
    fprintf(stderr, "certpilot: %s: %s\n", path, strerror(errno));
    return 1;
  }
  static uint8_t store[CP_CERT_DER_MAX * CP_CHAIN_MAX];
  cp_der chain[CP_CHAIN_MAX];
  size_t n = CP_CHAIN_MAX;
  cp_result r = cp_pem_bundle_split(s, len, store, sizeof store, chain, &n);
  if (r == CP_ERR_NOT_FOUND) { /* not PEM: try one DER certificate */
    chain[0].data = (const uint8_t *)s;
    chain[0].len = len;
    n = 1;
    r = CP_OK;
  }
  if (r != CP_OK) {
    fprintf(stderr, "certpilot: %s: %s\n", path, cp_result_str(r));
    free(s);
    return 1;
  }
  int rc = 0;
  for (size_t i = 0; i < n; i++) {
    cp_cert_info info;
    r = cp_cert_parse(chain[i].data, chain[i].len, &info);
    if (r != CP_OK) {
      fprintf(stderr, "certpilot: %s: certificate %zu: %s\n", path, i, cp_result_str(r));
      rc = 1;
      continue;
    }
    printf("certificate %zu%s\n", i, info.is_ca ? " (CA)" : "");
    printf("  %-12s %s\n", "subject", info.subject);
    printf("  %-12s %s\n", "issuer", info.issuer);
    printf("  %-12s %s\n", "serial", info.serial_hex);
    print_time("not before", info.not_before);
    print_time("not after", info.not_after);
    printf("  %-12s %s\n", "sha256", info.thumbprint_sha256);
    for (size_t u = 0; u < info.san_uri_count && u < CP_CERT_SAN_URI_MAX; u++)
      printf("  %-12s %s\n", "uri", info.san_uris[u]);
  }
  free(s);
  return rc;
}

int main(int argc, char **argv) {
  const char *config = NULL, *run_dir = NULL;
  int c;
  if (argc > 1 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "help") == 0)) {
    usage(stdout);
    return 0;
  }
  while ((c = getopt(argc, argv, "+c:r:h")) != -1) {
    switch (c) {
    case 'c': config = optarg; break;
    case 'r': run_dir = optarg; break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind >= argc) {
    usage(stderr);
    return 2;
  }
  const char *cmd = argv[optind];
  static cpa_config cfg;
  if (!run_dir && (config || access(CPA_DEFAULT_CONFIG, R_OK) == 0)) {
    char err[1024];
    cpa_config_defaults(&cfg);
    if (cpa_config_load(config ? config : CPA_DEFAULT_CONFIG, &cfg, err, sizeof err) != CP_OK) {
      fprintf(stderr, "certpilot: %s\n", err);
      return 1;
    }
    run_dir = cfg.run_dir;
  }
  if (!run_dir) run_dir = "/run/certpilot";
  if (strcmp(cmd, "status") == 0) {
    int json = optind + 1 < argc && strcmp(argv[optind + 1], "--json") == 0;
    if (argc - optind > 1 + json) {
      usage(stderr);
      return 2;
    }
    return cmd_status(run_dir, json);
  }
  if (strcmp(cmd, "renew") == 0 && argc - optind == 1) return cmd_renew(run_dir);
  if (strcmp(cmd, "inspect") == 0 && argc - optind == 2) return cmd_inspect(argv[optind + 1]);
  usage(stderr);
  return 2;
}
