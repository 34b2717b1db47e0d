/* certpilotd: keeps the device's operational certificate fresh. See docs/agent.md. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"
#include "agent_daemon.h"
#include "agent_ops_sdk.h"

#ifndef CPA_BUILD_TIME
#define CPA_BUILD_TIME 0
#endif

/* A count of issuances for --exit-after-renewals: a whole number 1..INT_MAX. */
static int parse_count(const char *v, int *out) {
  char *end = NULL;
  errno = 0;
  long n = strtol(v, &end, 10);
  if (end == v || *end != '\0' || errno != 0 || n < 1 || n > INT_MAX) return -1;
  *out = (int)n;
  return 0;
}

static void usage(FILE *f) {
  fprintf(f,
          "usage: certpilotd [--config FILE] [--check-config] [--exit-after-renewals N]\n"
          "  -c, --config FILE          configuration (default " CPA_DEFAULT_CONFIG ")\n"
          "  -t, --check-config         parse the configuration, report, and exit\n"
          "      --exit-after-renewals N  stop cleanly after N issuances (demo, tests)\n"
          "  -h, --help                 this text\n"
          "Signals: SIGHUP reloads the configuration, SIGUSR1 renews now, SIGTERM stops.\n");
}

int main(int argc, char **argv) {
  static const struct option opts[] = {
      {"config", required_argument, NULL, 'c'},
      {"check-config", no_argument, NULL, 't'},
      {"exit-after-renewals", required_argument, NULL, 'x'},
      {"help", no_argument, NULL, 'h'},
      {NULL, 0, NULL, 0},
  };
  cpa_daemon_options o = {.config_path = CPA_DEFAULT_CONFIG,
                          .build_time = (int64_t)CPA_BUILD_TIME,
                          .make_ops = cpa_ops_sdk_make};
  int check = 0, c;
  while ((c = getopt_long(argc, argv, "c:th", opts, NULL)) != -1) {
    switch (c) {
    case 'c': o.config_path = optarg; break;
    case 't': check = 1; break;
    case 'x':
      if (parse_count(optarg, &o.exit_after_renewals) != 0) {
        fprintf(stderr, "certpilotd: --exit-after-renewals: '%s' is not a whole number of 1 or more\n",
                optarg);
        return 2;
      }
      break;
    case 'h': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (optind != argc) {
    usage(stderr);
    return 2;
  }
  if (check) {
    cpa_config cfg;
    char err[1024];
    cpa_config_defaults(&cfg);
    if (cpa_config_load(o.config_path, &cfg, err, sizeof err) != CP_OK) {
      fprintf(stderr, "%s\n", err);
      return 1;
    }
    printf("%s: OK\n", o.config_path);
    return 0;
  }
  return cpa_daemon_run(&o);
}
