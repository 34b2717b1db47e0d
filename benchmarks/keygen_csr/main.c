/*
 * bench_keygen_csr: EC P-384 keygen + PKCS#10 CSR (ecdsa-with-SHA384) per
 * second, with the certpilot SDK (wolfCrypt) and with OpenSSL's EVP API, in
 * the same run, alternating rounds so both see the same machine load.
 *
 *   bench_keygen_csr [--seconds S] [--rounds R] [--phases]
 *
 * Every CSR produced is first checked with cp_csr_check() (self-signature,
 * P-384, ecdsa-with-SHA384, CN), so both sides do the same, correct work.
 * This file includes neither wolfSSL nor OpenSSL headers.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <certpilot/cp_csr.h>

#include "bench.h"

#define REG_ID "bench-device-0001"

typedef int (*op_fn)(void);

static double now_s(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint8_t der[CP_CSR_DER_MAX];
static size_t der_len;

static int sdk_full(void) { return bench_sdk_keygen_csr(REG_ID, der, sizeof der, &der_len); }
static int sdk_keygen(void) { return bench_sdk_keygen(); }
static int sdk_csr(void) { return bench_sdk_csr(REG_ID, der, sizeof der, &der_len); }
static int ossl_full(void)
{
  return bench_openssl_keygen_csr(REG_ID, der, sizeof der, &der_len);
}
static int ossl_keygen(void) { return bench_openssl_keygen(); }
static int ossl_csr(void) { return bench_openssl_csr(REG_ID, der, sizeof der, &der_len); }

/* Run @p fn for about @p seconds; add operations and elapsed time. */
static int run(op_fn fn, double seconds, long *ops, double *elapsed)
{
  double start = now_s(), t = start;
  long n = 0;

  do {
    if (fn() != 0)
      return -1;
    n++;
    if ((n & 3) == 0)
      t = now_s();
  } while (t - start < seconds);
  t = now_s();
  *ops += n;
  *elapsed += t - start;
  return 0;
}

static int check_output(const char *who, op_fn fn)
{
  cp_result r;

  if (fn() != 0) {
    fprintf(stderr, "bench_keygen_csr: %s failed to make a CSR\n", who);
    return -1;
  }
  r = cp_csr_check(der, der_len, NULL, REG_ID);
  if (r != CP_OK) {
    fprintf(stderr, "bench_keygen_csr: %s CSR rejected by cp_csr_check: %s\n", who,
            cp_result_str(r));
    return -1;
  }
  return 0;
}

/* Alternate the two sides for @p rounds rounds; print and return the ratio. */
static int compare(const char *what, op_fn sdk, op_fn ossl, double seconds, int rounds,
                   double *ratio)
{
  long sdk_ops = 0, ossl_ops = 0;
  double sdk_t = 0, ossl_t = 0, sdk_rate, ossl_rate;
  int i;

  for (i = 0; i < 3; i++) /* warm-up: caches, lazy tables, page faults */
    if (sdk() != 0 || ossl() != 0)
      return -1;
  for (i = 0; i < rounds; i++) {
    if (run(sdk, seconds, &sdk_ops, &sdk_t) != 0 || run(ossl, seconds, &ossl_ops, &ossl_t) != 0) {
      fprintf(stderr, "bench_keygen_csr: an operation failed during %s\n", what);
      return -1;
    }
  }
  sdk_rate = (double)sdk_ops / sdk_t;
  ossl_rate = (double)ossl_ops / ossl_t;
  *ratio = sdk_rate / ossl_rate;
  printf("%-14s SDK %8.1f/s (%6.3f ms)   OpenSSL %8.1f/s (%6.3f ms)   SDK/OpenSSL %.2f\n",
         what, sdk_rate, 1000.0 / sdk_rate, ossl_rate, 1000.0 / ossl_rate, *ratio);
  return 0;
}

int main(int argc, char **argv)
{
  double seconds = 3.0, ratio = 0, unused;
  int rounds = 3, phases = 0, i;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--seconds") == 0 && i + 1 < argc) {
      seconds = atof(argv[++i]);
    } else if (strcmp(argv[i], "--rounds") == 0 && i + 1 < argc) {
      rounds = atoi(argv[++i]);
    } else if (strcmp(argv[i], "--phases") == 0) {
      phases = 1;
    } else {
      fprintf(stderr, "usage: bench_keygen_csr [--seconds S] [--rounds R] [--phases]\n");
      return 2;
    }
  }
  if (seconds <= 0 || rounds <= 0) {
    fprintf(stderr, "bench_keygen_csr: --seconds and --rounds must be positive\n");
    return 2;
  }
  if (check_output("certpilot SDK", sdk_full) != 0 || check_output("OpenSSL", ossl_full) != 0)
    return 1;
  printf("P-384 keygen + CSR (ecdsa-with-SHA384, CN + KU + EKU), one thread,\n"
         "%d alternating rounds of %.1f s per side\n"
         "  certpilot SDK: %s\n  OpenSSL:       %s\n",
         rounds, seconds, bench_sdk_version(), bench_openssl_version());
  if (compare("keygen+CSR", sdk_full, ossl_full, seconds, rounds, &ratio) != 0)
    return 1;
  if (phases && (compare("keygen only", sdk_keygen, ossl_keygen, seconds, rounds, &unused) != 0 ||
                 compare("CSR only", sdk_csr, ossl_csr, seconds, rounds, &unused) != 0))
    return 1;
  printf("result: SDK is %.2fx OpenSSL for keygen+CSR (%s)\n", ratio,
         ratio >= 1.0 ? "target met: at least as fast" : "target NOT met: slower");
  bench_sdk_done();
  bench_openssl_done();
  return 0;
}
