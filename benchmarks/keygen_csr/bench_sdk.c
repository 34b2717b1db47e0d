/* The certpilot side of the benchmark: public SDK API only. */
#include "bench.h"

#include <certpilot/cp_csr.h>
#include <certpilot/cp_key.h>

#include <wolfssl/options.h>
#include <wolfssl/version.h>

static cp_key fixed_key;
static int have_fixed_key;

int bench_sdk_keygen_csr(const char *id, uint8_t *der, size_t der_size, size_t *der_len)
{
  cp_key key;
  int rc;

  if (cp_key_generate_p384(&key) != CP_OK)
    return -1;
  rc = cp_csr_build(&key, id, der, der_size, der_len) == CP_OK ? 0 : -1;
  cp_key_wipe(&key);
  return rc;
}

int bench_sdk_keygen(void)
{
  cp_key key;
  int rc = cp_key_generate_p384(&key) == CP_OK ? 0 : -1;

  cp_key_wipe(&key);
  return rc;
}

int bench_sdk_csr(const char *id, uint8_t *der, size_t der_size, size_t *der_len)
{
  if (!have_fixed_key) {
    if (cp_key_generate_p384(&fixed_key) != CP_OK)
      return -1;
    have_fixed_key = 1;
  }
  return cp_csr_build(&fixed_key, id, der, der_size, der_len) == CP_OK ? 0 : -1;
}

void bench_sdk_done(void)
{
  cp_key_wipe(&fixed_key);
  have_fixed_key = 0;
}

const char *bench_sdk_version(void)
{
  return "libcertpilot on wolfSSL " LIBWOLFSSL_VERSION_STRING;
}
