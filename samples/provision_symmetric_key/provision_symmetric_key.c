/*
 * provision_symmetric_key: register a device with a symmetric key (individual
 * enrollment key, or group key from which the device key is derived), get an
 * X.509 operational certificate for a fresh P-384 key, and save chain + key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "certpilot/cp_provision.h"
#include "sample_common.h"

static void usage(FILE *out)
{
  fprintf(out,
    "usage: provision_symmetric_key --host H --id-scope S --registration-id R\n"
    "                               (--key B64 | --group-key B64) [options]\n"
    "Register with the provisioning endpoint, send a CSR for a fresh P-384 key,\n"
    "verify the issued chain, and write <out-dir>/<R>.chain.pem and <R>.key.pem.\n\n"
    "  --host H              provisioning host (e.g. localhost)\n"
    "  --port P              port (default: 8883 mqtt, 443 wss/https)\n"
    "  --transport T         mqtt (default), wss or https\n"
    "  --id-scope S          id scope of the provisioning service\n"
    "  --registration-id R   registration id (also the CSR's CN)\n"
    "  --key B64             individual enrollment key\n"
    "  --group-key B64       enrollment group key (the device key is derived)\n"
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
    {"id-scope", 1, 0, 's'}, {"registration-id", 1, 0, 'r'}, {"key", 1, 0, 'k'},
    {"group-key", 1, 0, 'g'}, {"trust-bundle", 1, 0, 'c'}, {"anchor", 1, 0, 'a'},
    {"out-dir", 1, 0, 'o'}, {"timeout-ms", 1, 0, 'T'}, {"verbose", 0, 0, 'v'},
    {"help", 0, 0, 'H'}, {0, 0, 0, 0},
  };
  static cp_provision_result res; /* large */
  cp_provision_config cfg;
  const char *out_dir = ".";
  cp_result r;
  int c;

  cp_provision_config_init(&cfg);
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
    case 'k': cfg.symmetric_key = optarg; cfg.onboarding = CP_ONBOARDING_SYMMETRIC_KEY; break;
    case 'g': cfg.symmetric_key = optarg; cfg.onboarding = CP_ONBOARDING_SYMMETRIC_GROUP_KEY; break;
    case 'c': cfg.trust_bundle_path = optarg; break;
    case 'a': cfg.chain_anchor_path = optarg; break;
    case 'o': out_dir = optarg; break;
    case 'T': cfg.timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'v': cp_log_set_callback(sample_log_to_stderr, NULL, CP_LOG_DEBUG); break;
    case 'H': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (cfg.host == NULL || cfg.id_scope == NULL || cfg.registration_id == NULL ||
      cfg.symmetric_key == NULL) {
    usage(stderr);
    return 2;
  }
  printf("provisioning %s via %s:%u ...\n", cfg.registration_id, cfg.host, (unsigned)cfg.port);
  r = cp_provision(&cfg, &res);
  if (r != CP_OK) {
    sample_print_error("provisioning", r, &res.error);
    return 1;
  }
  r = sample_save_result(&res, out_dir) ? CP_OK : CP_ERR_IO;
  cp_key_wipe(&res.key);
  return r == CP_OK ? 0 : 1;
}
