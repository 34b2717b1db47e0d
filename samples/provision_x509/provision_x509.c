/*
 * provision_x509: register a device with an onboarding X.509 certificate
 * (TLS client authentication), get an operational certificate for a fresh
 * P-384 key, and save chain + key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "certpilot/cp_provision.h"
#include "sample_common.h"

static void usage(FILE *out)
{
  fprintf(out,
    "usage: provision_x509 --host H --id-scope S --cert F --key F [options]\n"
    "Register with an onboarding certificate, send a CSR for a fresh P-384 key,\n"
    "verify the issued chain, and write <out-dir>/<R>.chain.pem and <R>.key.pem.\n\n"
    "  --host H              provisioning host (e.g. localhost)\n"
    "  --port P              port (default: 8883 mqtt, 443 wss/https)\n"
    "  --transport T         mqtt (default), wss or https\n"
    "  --id-scope S          id scope of the provisioning service\n"
    "  --cert F              PEM onboarding certificate (chain, leaf first)\n"
    "  --key F               PEM onboarding private key\n"
    "  --registration-id R   default: the onboarding certificate's CN\n"
    "  --trust-bundle F      PEM CA file to verify the server (default: system store)\n"
    "  --anchor F            PEM root the issued chain must lead to (optional)\n"
    "  --out-dir D           where to write chain and key (default: .)\n"
    "  --timeout-ms N        total timeout (default 60000)\n"
    "  --verbose             print SDK log lines\n"
    "  --help                this text\n");
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'}, {"transport", 1, 0, 't'},
    {"id-scope", 1, 0, 's'}, {"registration-id", 1, 0, 'r'}, {"cert", 1, 0, 'C'},
    {"key", 1, 0, 'k'}, {"trust-bundle", 1, 0, 'c'}, {"anchor", 1, 0, 'a'},
    {"out-dir", 1, 0, 'o'}, {"timeout-ms", 1, 0, 'T'}, {"verbose", 0, 0, 'v'},
    {"help", 0, 0, 'H'}, {0, 0, 0, 0},
  };
  static cp_provision_result res; /* large */
  cp_provision_config cfg;
  const char *out_dir = ".";
  cp_result r;
  int c;

  cp_provision_config_init(&cfg);
  cfg.onboarding = CP_ONBOARDING_X509;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'h': cfg.host = optarg; break;
    case 'p': cfg.port = (uint16_t)atoi(optarg); break;
    case 't':
      if (!sample_parse_transport(optarg, &cfg.transport)) {
        fprintf(stderr, "unknown transport %s (mqtt, wss, https)\n", optarg);
        return 2;
      }
      break;
    case 's': cfg.id_scope = optarg; break;
    case 'r': cfg.registration_id = optarg; break;
    case 'C': cfg.x509_cert_path = optarg; break;
    case 'k': cfg.x509_key_path = optarg; break;
    case 'c': cfg.trust_bundle_path = optarg; break;
    case 'a': cfg.chain_anchor_path = optarg; break;
    case 'o': out_dir = optarg; break;
    case 'T': cfg.timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'v': cp_log_set_callback(sample_log_to_stderr, NULL, CP_LOG_DEBUG); break;
    case 'H': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (cfg.host == NULL || cfg.id_scope == NULL || cfg.x509_cert_path == NULL ||
      cfg.x509_key_path == NULL) {
    usage(stderr);
    return 2;
  }
  printf("provisioning with %s via %s:%u ...\n", cfg.x509_cert_path, cfg.host, (unsigned)cfg.port);
  r = cp_provision(&cfg, &res);
  if (r != CP_OK) {
    sample_print_error("provisioning", r, &res.error);
    return 1;
  }
  r = sample_save_result(&res, out_dir) ? CP_OK : CP_ERR_IO;
  cp_key_wipe(&res.key);
  return r == CP_OK ? 0 : 1;
}
