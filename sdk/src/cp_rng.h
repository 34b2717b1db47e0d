/* Private: the one place the SDK creates a wolfCrypt RNG. */
#ifndef CERTPILOT_CP_RNG_H
#define CERTPILOT_CP_RNG_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/random.h>

#include "certpilot/cp_result.h"

/*
 * Initialise @p rng, a Hash-DRBG that wolfCrypt seeds from the OS, with 32
 * bytes of cp_platform_entropy() mixed in as the DRBG nonce (see cp_platform.h).
 * Returns CP_OK; CP_ERR_IO (no platform entropy); CP_ERR_CRYPTO (DRBG failed).
 * On success the caller frees it with cp_rng_free().
 */
cp_result cp_rng_init(WC_RNG *rng);

/* Release an RNG set up by cp_rng_init(). */
void cp_rng_free(WC_RNG *rng);

#endif
