/**
 * @file cps_prov_tpm.h
 * @brief TPM attestation (protocol.md §5) for the provisioning service: TPM
 *        enrollments keyed by the EK public key, and the 401 challenge.
 *
 * Added by the TPM work (branch `tpm`); the crypto is certpilot_server_tpm
 * (server/tpm/cps_tpm.h). Model: a TPM enrollment is an individual enrollment
 * whose SAS key is the identity key generated at each challenge. Its row in
 * `enrollment` is a symmetric one (so SAS checking is shared), plus a row in
 * `tpm_enrollment(ek_id PRIMARY KEY, enrollment_id UNIQUE, ek_pub)`.
 * - PUT register without Authorization, body with `tpm.endorsementKey` /
 *   `tpm.storageRootKey`: the EK must be enrolled for the registration id;
 *   then a fresh identity key becomes the enrollment's key and the reply is
 *   401 {"message","authenticationKey","keyName":"registration"}. An EK that is
 *   not enrolled gets a plain 401 (401002) with no authenticationKey.
 * - PUT / GET with a SAS signed by the TPM: checked like any symmetric key.
 * Without CERTPILOT_WITH_TPM every call answers "TPM attestation not built".
 */
#ifndef CPS_PROV_TPM_H
#define CPS_PROV_TPM_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "cps_prov.h"
#include "cps_result.h"
#include "cps_service.h"

/** @brief True when @p body asks for a TPM challenge: a `tpm` member and no Authorization. */
bool cps_prov_tpm_wants_challenge(const cps_prov_request *req, const cJSON *body);

/**
 * @brief Answer a TPM registration without Authorization (see file comment).
 * @param tpm the body's `tpm` object (borrowed).
 * @param resp filled (401 challenge, 401 refusal, 400 bad keys, 500); caller frees it.
 * @return CPS_OK when a reply was produced; CPS_ERR_NOMEM otherwise.
 */
cps_result cps_prov_tpm_challenge(cps_service *svc, const cps_prov_request *req,
                                  const cJSON *tpm, cps_prov_response *resp);

/**
 * @brief Record that enrollment @p enrollment_id (already inserted, individual,
 *        symmetric row) is attested by the EK @p ek_b64 (base64 TPM2B_PUBLIC).
 *        Call inside the transaction that inserted the enrollment.
 * @return CPS_OK; CPS_ERR_INVALID (not an RSA-2048 EK: reason in @p err);
 *         CPS_ERR_CONFLICT (EK already enrolled); CPS_ERR_STORE.
 */
cps_result cps_prov_tpm_enroll(cps_service *svc, const char *enrollment_id,
                               const char *ek_b64, cps_error *err);

/** @brief True when @p enrollment_id is a TPM enrollment. */
bool cps_prov_tpm_is_enrollment(cps_service *svc, const char *enrollment_id);

#endif
