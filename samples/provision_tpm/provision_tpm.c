/*
 * provision_tpm: register a device whose onboarding identity is its TPM
 * (DPS TPM attestation over HTTPS, protocol.md §5), get an X.509 operational
 * certificate for a fresh P-384 key, and save chain + key.
 *
 * First run: the server answers 401 with a challenge that only this TPM can
 * activate; its identity key is imported at 0x81000100. Later runs (renewals)
 * sign with that key straight away. --print-ek prints the EK to enroll.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_provision_tpm.h"
#include "sample_common.h"

static void usage(FILE *out)
{
  fprintf(out,
    "usage: provision_tpm --host H --id-scope S --registration-id R [options]\n"
    "       provision_tpm --print-ek [--tcti T]\n"
    "Register over HTTPS with TPM attestation, send a CSR for a fresh P-384 key,\n"
    "verify the issued chain, and write <out-dir>/<R>.chain.pem and <R>.key.pem.\n\n"
    "  --tcti T              device:/dev/tpmrm0 (default), tabrmd:, swtpm:host=H,port=N\n"
    "  --print-ek            print the base64 EK public part (for the enrollment) and exit\n"
    "  --host H              provisioning host\n"
    "  --port P              HTTPS port (default 443)\n"
    "  --id-scope S          id scope of the provisioning service\n"
    "  --registration-id R   registration id (also the CSR's CN)\n"
    "  --trust-bundle F      PEM CA file to verify the server (default: system store)\n"
    "  --anchor F            PEM root the issued chain must lead to (optional)\n"
    "  --out-dir D           where to write chain and key (default: .)\n"
    "  --timeout-ms N        total timeout (default 60000)\n"
    "  --verbose             print SDK log lines\n"
    "  --help                this text\n");
}

static int print_ek(cp_tpm *tpm)
{
  uint8_t ek[CP_TPM_PUBLIC_MAX];
  char b64[CP_TPM_PUBLIC_B64_MAX];
  size_t len = 0, b64_len = 0;
  cp_result r = cp_tpm_get_public(tpm, CP_TPM_KEY_EK, ek, sizeof ek, &len);

  if (r == CP_OK)
    r = cp_base64_encode(ek, len, b64, sizeof b64, &b64_len);
  if (r != CP_OK) {
    fprintf(stderr, "reading the EK failed: %s\n", cp_result_str(r));
    return 1;
  }
  printf("%s\n", b64);
  return 0;
}

int main(int argc, char **argv)
{
  static const struct option opts[] = {
    {"tcti", 1, 0, 'm'}, {"print-ek", 0, 0, 'e'}, {"host", 1, 0, 'h'}, {"port", 1, 0, 'p'},
    {"id-scope", 1, 0, 's'}, {"registration-id", 1, 0, 'r'}, {"trust-bundle", 1, 0, 'c'},
    {"anchor", 1, 0, 'a'}, {"out-dir", 1, 0, 'o'}, {"timeout-ms", 1, 0, 'T'},
    {"verbose", 0, 0, 'v'}, {"help", 0, 0, 'H'}, {0, 0, 0, 0},
  };
  static cp_provision_result res; /* large */
  cp_provision_config cfg;
  cp_posix_tpm ptpm;
  cp_tpm tpm;
  const char *out_dir = ".", *tcti = NULL;
  int only_ek = 0, c, rc;
  cp_result r;

  cp_provision_config_init(&cfg);
  cfg.transport = CP_PROVISION_HTTPS;
  while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
    switch (c) {
    case 'm': tcti = optarg; break;
    case 'e': only_ek = 1; break;
    case 'h': cfg.host = optarg; break;
    case 'p': cfg.port = (uint16_t)atoi(optarg); break;
    case 's': cfg.id_scope = optarg; break;
    case 'r': cfg.registration_id = optarg; break;
    case 'c': cfg.trust_bundle_path = optarg; break;
    case 'a': cfg.chain_anchor_path = optarg; break;
    case 'o': out_dir = optarg; break;
    case 'T': cfg.timeout_ms = (uint32_t)strtoul(optarg, NULL, 10); break;
    case 'v': cp_log_set_callback(sample_log_to_stderr, NULL, CP_LOG_DEBUG); break;
    case 'H': usage(stdout); return 0;
    default: usage(stderr); return 2;
    }
  }
  if (!only_ek && (cfg.host == NULL || cfg.id_scope == NULL || cfg.registration_id == NULL)) {
    usage(stderr);
    return 2;
  }
  r = cp_posix_tpm_open(&ptpm, tcti);
  if (r != CP_OK) {
    fprintf(stderr, "opening the TPM (%s) failed: %s\n",
            tcti ? tcti : CP_POSIX_TPM_DEFAULT_TCTI, cp_result_str(r));
    return 1;
  }
  cp_posix_tpm_interface(&ptpm, &tpm);
  if (only_ek) {
    rc = print_ek(&tpm);
    cp_posix_tpm_close(&ptpm);
    return rc;
  }
  printf("provisioning %s via https://%s:%u with the TPM ...\n", cfg.registration_id, cfg.host,
         (unsigned)(cfg.port ? cfg.port : 443));
  r = cp_provision_tpm(&cfg, &tpm, NULL, &res);
  cp_posix_tpm_close(&ptpm);
  if (r != CP_OK) {
    sample_print_error("provisioning", r, &res.error);
    return 1;
  }
  rc = sample_save_result(&res, out_dir) ? 0 : 1;
  cp_key_wipe(&res.key);
  return rc;
}
