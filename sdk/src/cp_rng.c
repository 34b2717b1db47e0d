/* The SDK's RNG: wolfCrypt Hash-DRBG with platform entropy as the nonce. */
#include "cp_rng.h"

#include "certpilot/cp_log.h"
#include "certpilot/cp_platform.h"
#include "cp_wipe.h"

#define CP_RNG_NONCE_LEN 32

cp_result cp_rng_init(WC_RNG *rng)
{
  byte nonce[CP_RNG_NONCE_LEN];
  int rc;

  if (cp_platform_entropy(nonce, sizeof nonce) != CP_OK) {
    cp_log(CP_LOG_ERROR, "rng: the platform has no entropy");
    return CP_ERR_IO;
  }
  rc = wc_InitRngNonce(rng, nonce, (word32)sizeof nonce);
  cp_wipe(nonce, sizeof nonce);
  if (rc != 0) {
    cp_log(CP_LOG_ERROR, "rng: wolfCrypt DRBG init failed (%d)", rc);
    return CP_ERR_CRYPTO;
  }
  return CP_OK;
}

void cp_rng_free(WC_RNG *rng)
{
  wc_FreeRng(rng);
}
