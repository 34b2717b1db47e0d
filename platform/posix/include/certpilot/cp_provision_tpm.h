/**
 * @file cp_provision_tpm.h
 * @brief Blocking TPM onboarding (protocol.md §5) over HTTPS: the challenge
 *        leg, then cp_provision_with() with the TPM as the SAS signer.
 *
 * Flow:
 *  1. If the TPM holds no identity key yet: PUT register **without**
 *     Authorization, body {"registrationId","tpm":{"endorsementKey",
 *     "storageRootKey"},"csr"}; the server answers 401 with
 *     `authenticationKey`, which is activated and imported into the TPM.
 *  2. cp_provision_with() with onboarding CP_ONBOARDING_TPM: the SAS of every
 *     request is signed by TPM2_HMAC with the identity key, and the register
 *     PUT resends the same "tpm" member (EK and SRK read once, at the start);
 *     202 → poll → assigned; the issued chain is verified against the
 *     operational key.
 *  3. Renewal: a TPM that already holds an identity key skips step 1. If the
 *     server refuses it (401), step 1 runs once and step 2 is retried.
 * The same operational key is certified in both legs (config->key, or one
 * fresh P-384 key generated here and returned in result->key).
 */
#ifndef CERTPILOT_CP_PROVISION_TPM_H
#define CERTPILOT_CP_PROVISION_TPM_H

#include "certpilot/cp_provision.h"
#include "certpilot/cp_tpm.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Provision with TPM attestation (blocking).
 * @param config as for cp_provision(); transport must be CP_PROVISION_HTTPS
 *        (DPS offers TPM only there); onboarding, signer, signer_ctx,
 *        signer_key_name, tpm_endorsement_key_b64 and tpm_storage_root_key_b64
 *        are set here from @p tpm (the caller's values are ignored).
 * @param tpm the TPM port (e.g. cp_posix_tpm_interface()); borrowed.
 * @param transports optional (NULL: libcurl), as cp_provision_with().
 * @param[out] result as cp_provision(); `requests` counts the challenge too.
 * @return as cp_provision(), plus: CP_ERR_CONFIG (not HTTPS; error.field
 *         "transport"); CP_ERR_UNAUTHORIZED (the EK is not enrolled: 401
 *         without a challenge; error.message has the server's message);
 *         CP_ERR_BAD_RESPONSE (the challenge is malformed); CP_ERR_PARSE /
 *         CP_ERR_TPM (the TPM refused the challenge: nothing persisted).
 */
cp_result cp_provision_tpm(const cp_provision_config *config, const cp_tpm *tpm,
                           const cp_provision_transports *transports,
                           cp_provision_result *result);

#ifdef __cplusplus
}
#endif
#endif
