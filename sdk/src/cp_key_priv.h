/* Private: hand a cp_key to wolfCrypt (used by the CSR builder). */
#ifndef CERTPILOT_CP_KEY_PRIV_H
#define CERTPILOT_CP_KEY_PRIV_H

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "certpilot/cp_key.h"

/*
 * Decode @p key's SEC1 DER into @p ecc, which this function initialises.
 * Returns CP_OK (the caller must wc_ecc_free(@p ecc)); CP_ERR_INVALID_ARG
 * (NULL or empty key; @p ecc then needs no free); CP_ERR_PARSE (corrupt struct).
 */
cp_result cp_key_load(const cp_key *key, ecc_key *ecc);

#endif
