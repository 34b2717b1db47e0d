/*
 * bench_tpm: what TPM onboarding costs, on the TPM given by --tcti (swtpm in
 * the documented run). In one process, alternating rounds:
 *  - server: cps_tpm_challenge_build() for the TPM's EK/SRK (2x RSA-OAEP,
 *    KDFa, AES-CFB, HMAC, tss2-mu marshalling);
 *  - device: cp_tpm_import_identity() of such a challenge (ActivateCredential,
 *    Import, Load, EvictControl x2 in the TPM);
 *  - a SAS signature: cp_tpm_hmac_sha256() in the TPM vs HMAC-SHA256 of the
 *    same string in software (OpenSSL) with the same key.
 */
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_tpm.h"
#include "cps_tpm.h"

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct ctx {
  cp_tpm tpm;
  uint8_t ek[CP_TPM_PUBLIC_MAX], srk[CP_TPM_PUBLIC_MAX];
  size_t ek_len, srk_len;
  uint8_t key[CPS_TPM_IDENTITY_KEY_LEN];
  int failures;
} ctx;

static const char sts[] = "0ne00000001%2fregistrations%2ftpm-dev-1\n1900000000";

static void op_build(ctx *c)
{
  cps_tpm_challenge ch;

  if (cps_tpm_challenge_build(c->ek, c->ek_len, c->srk, c->srk_len, &ch, NULL) != CPS_TPM_OK)
    c->failures++;
  cps_tpm_challenge_free(&ch);
}

static void op_import(ctx *c)
{
  cps_tpm_challenge ch;

  /* the build is not timed separately here: subtract the build line */
  if (cps_tpm_challenge_build(c->ek, c->ek_len, c->srk, c->srk_len, &ch, NULL) != CPS_TPM_OK ||
      cp_tpm_import_identity(&c->tpm, ch.blob, ch.blob_len) != CP_OK)
    c->failures++;
  else
    memcpy(c->key, ch.identity_key, sizeof c->key);
  cps_tpm_challenge_free(&ch);
}

static void op_tpm_hmac(ctx *c)
{
  uint8_t mac[32];

  if (cp_tpm_hmac_sha256(&c->tpm, (const uint8_t *)sts, sizeof sts - 1, mac) != CP_OK)
    c->failures++;
}

static void op_sw_hmac(ctx *c)
{
  uint8_t mac[32];
  size_t len = 0;

  if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, c->key, sizeof c->key,
                (const uint8_t *)sts, sizeof sts - 1, mac, sizeof mac, &len) == NULL)
    c->failures++;
}

typedef struct op {
  const char *name;
  void (*fn)(ctx *);
  long count;
  double secs;
} op;

int main(int argc, char **argv)
{
  const char *tcti = NULL;
  double seconds = 1.0;
  int rounds = 3;
  cp_posix_tpm ptpm;
  static ctx c;
  op ops[] = {{"server: challenge build", op_build, 0, 0},
              {"device: build + import into the TPM", op_import, 0, 0},
              {"SAS HMAC in the TPM (TPM2_HMAC)", op_tpm_hmac, 0, 0},
              {"SAS HMAC in software (OpenSSL)", op_sw_hmac, 0, 0}};

  for (int i = 1; i < argc; i++) {
    if (!strcmp(argv[i], "--tcti") && i + 1 < argc)
      tcti = argv[++i];
    else if (!strcmp(argv[i], "--seconds") && i + 1 < argc)
      seconds = atof(argv[++i]);
    else if (!strcmp(argv[i], "--rounds") && i + 1 < argc)
      rounds = atoi(argv[++i]);
    else {
      fprintf(stderr, "usage: bench_tpm --tcti T [--seconds S] [--rounds N]\n"
                      "  (use a software TPM: the import persists keys in it)\n");
      return 2;
    }
  }
  if (tcti == NULL || cp_posix_tpm_open(&ptpm, tcti) != CP_OK ||
      cp_posix_tpm_interface(&ptpm, &c.tpm) != CP_OK ||
      cp_tpm_get_public(&c.tpm, CP_TPM_KEY_EK, c.ek, sizeof c.ek, &c.ek_len) != CP_OK ||
      cp_tpm_get_public(&c.tpm, CP_TPM_KEY_SRK, c.srk, sizeof c.srk, &c.srk_len) != CP_OK) {
    fprintf(stderr, "bench_tpm: cannot open the TPM (--tcti)\n");
    return 1;
  }
  op_import(&c); /* an identity key for the HMAC lines, and a warm-up */
  for (int r = 0; r < rounds; r++)
    for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++) {
      double t0 = now_s(), t;

      do {
        ops[k].fn(&c);
        ops[k].count++;
        t = now_s();
      } while (t - t0 < seconds);
      ops[k].secs += t - t0;
    }
  printf("%-40s %10s %12s\n", "operation", "ops/s", "ms/op");
  for (size_t k = 0; k < sizeof ops / sizeof ops[0]; k++)
    printf("%-40s %10.1f %12.3f\n", ops[k].name, ops[k].count / ops[k].secs,
           1000.0 * ops[k].secs / ops[k].count);
  cp_posix_tpm_close(&ptpm);
  if (c.failures) {
    fprintf(stderr, "bench_tpm: %d operations failed\n", c.failures);
    return 1;
  }
  return 0;
}
