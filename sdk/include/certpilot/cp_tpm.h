/**
 * @file cp_tpm.h
 * @brief The TPM interface used by TPM onboarding (protocol.md §5).
 *
 * The SDK core never talks to a TPM itself. A port supplies a cp_tpm: a table
 * of functions (cp_tpm_ops) plus an opaque context pointer that the port owns.
 * platform/posix provides one on tpm2-tss (cp_posix_tpm.h); firmware can
 * supply its own by filling a cp_tpm_ops with functions over its TPM stack.
 *
 * What a port must do:
 *  - get_public: return the marshalled TPM2B_PUBLIC (big-endian TPM wire
 *    format, 2-byte size prefix included) of the endorsement key (EK,
 *    persistent 0x81010001) or the storage root key (SRK, 0x81000001),
 *    creating and persisting them with the standard templates when absent.
 *  - import_identity: take the decoded `authenticationKey` blob of the DPS 401
 *    challenge (§5 step 4), ActivateCredential + Import + Load it, and persist
 *    the identity key at 0x81000100 (replacing an older one). On failure
 *    nothing may be persisted and an earlier identity key must stay usable.
 *  - hmac_sha256: HMAC-SHA256 of arbitrary-length data with the persisted
 *    identity key (TPM2_HMAC, or a sequence when the data is long).
 *
 * Example:
 * @code
 *   cp_posix_tpm ptpm;                      // caller-owned, e.g. on the stack
 *   cp_tpm tpm;
 *   if (cp_posix_tpm_open(&ptpm, "swtpm:host=127.0.0.1,port=2321") == CP_OK) {
 *     cp_posix_tpm_interface(&ptpm, &tpm);
 *     uint8_t ek[CP_TPM_PUBLIC_MAX]; size_t ek_len;
 *     cp_tpm_get_public(&tpm, CP_TPM_KEY_EK, ek, sizeof ek, &ek_len);
 *     ...
 *     cp_posix_tpm_close(&ptpm);
 *   }
 * @endcode
 */
#ifndef CERTPILOT_CP_TPM_H
#define CERTPILOT_CP_TPM_H

#include <stddef.h>
#include <stdint.h>

#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Persistent handle of the endorsement key (protocol.md §5 step 1). */
#define CP_TPM_EK_HANDLE 0x81010001u
/** Persistent handle of the storage root key (protocol.md §5 step 1). */
#define CP_TPM_SRK_HANDLE 0x81000001u
/** Persistent handle of the imported HMAC identity key (protocol.md §5 step 5). */
#define CP_TPM_IDENTITY_HANDLE 0x81000100u
/** Upper bound of a marshalled TPM2B_PUBLIC (size prefix + TPMT_PUBLIC). */
#define CP_TPM_PUBLIC_MAX 1024
/** Upper bound of a decoded authenticationKey blob (§5 step 4). */
#define CP_TPM_AUTH_KEY_MAX 4096
/** Length of an HMAC-SHA256 result. */
#define CP_TPM_HMAC_LEN 32

/** Which onboarding key cp_tpm_get_public() returns. */
typedef enum cp_tpm_key {
  CP_TPM_KEY_EK = 0,  /**< endorsement key, RSA-2048, standard EK template */
  CP_TPM_KEY_SRK = 1, /**< storage root key, RSA-2048, AES-128-CFB */
} cp_tpm_key;

/**
 * @brief The functions a TPM port provides. Every function gets the port's
 *        context pointer (cp_tpm.ctx) first. The SDK checks arguments before
 *        calling them, so a port may assume non-NULL pointers.
 */
typedef struct cp_tpm_ops {
  /**
   * Marshalled TPM2B_PUBLIC of @p which into @p out (@p out_size bytes).
   * @return CP_OK; CP_ERR_BUFFER_TOO_SMALL (out untouched); CP_ERR_TPM.
   */
  cp_result (*get_public)(void *ctx, cp_tpm_key which, uint8_t *out,
                          size_t out_size, size_t *out_len);
  /**
   * Activate and import the identity key from the decoded authenticationKey.
   * @return CP_OK; CP_ERR_PARSE (blob malformed); CP_ERR_TPM (TPM refused,
   *         e.g. integrity check failed or wrong EK). Nothing persisted on error.
   */
  cp_result (*import_identity)(void *ctx, const uint8_t *blob, size_t blob_len);
  /**
   * HMAC-SHA256 over @p data with the persisted identity key.
   * @return CP_OK; CP_ERR_NOT_FOUND (no identity key imported yet); CP_ERR_TPM.
   */
  cp_result (*hmac_sha256)(void *ctx, const uint8_t *data, size_t data_len,
                           uint8_t out[CP_TPM_HMAC_LEN]);
} cp_tpm_ops;

/**
 * @brief A TPM as the SDK sees it: the port's function table and context.
 *        Both pointers are borrowed: the caller keeps them alive while the
 *        cp_tpm is used.
 */
typedef struct cp_tpm {
  const cp_tpm_ops *ops; /**< the port's functions; all three must be set */
  void *ctx;             /**< the port's context, passed back to each op */
} cp_tpm;

/**
 * @brief Get the marshalled TPM2B_PUBLIC of the EK or SRK.
 * @param tpm      the port (borrowed).
 * @param which    CP_TPM_KEY_EK or CP_TPM_KEY_SRK.
 * @param out      caller buffer of @p out_size bytes (CP_TPM_PUBLIC_MAX is enough).
 * @param[out] out_len bytes written.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL pointer, incomplete ops, bad @p which);
 *         CP_ERR_BUFFER_TOO_SMALL (out untouched); CP_ERR_TPM.
 */
cp_result cp_tpm_get_public(const cp_tpm *tpm, cp_tpm_key which, uint8_t *out,
                            size_t out_size, size_t *out_len);

/**
 * @brief Import the identity key from the decoded `authenticationKey` of the
 *        DPS 401 challenge (protocol.md §5 steps 3–5).
 * @param blob     base64-decoded authenticationKey (borrowed).
 * @param blob_len 1..CP_TPM_AUTH_KEY_MAX bytes.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL, empty or oversized blob);
 *         CP_ERR_PARSE (malformed blob); CP_ERR_TPM (activation or import
 *         refused). Nothing is persisted on error.
 */
cp_result cp_tpm_import_identity(const cp_tpm *tpm, const uint8_t *blob,
                                 size_t blob_len);

/**
 * @brief HMAC-SHA256 of @p data with the TPM identity key.
 * @param data borrowed; may be NULL only when @p data_len is 0.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_NOT_FOUND (no identity key);
 *         CP_ERR_TPM. @p out is untouched on error.
 */
cp_result cp_tpm_hmac_sha256(const cp_tpm *tpm, const uint8_t *data,
                             size_t data_len, uint8_t out[CP_TPM_HMAC_LEN]);

/* ------------------------------------------- DPS TPM registration (§5) */

/** base64 of the largest marshalled TPM2B_PUBLIC, incl. NUL. */
#define CP_TPM_PUBLIC_B64_MAX (((CP_TPM_PUBLIC_MAX + 2) / 3) * 4 + 1)
/** base64 of the largest authenticationKey, incl. NUL. */
#define CP_TPM_AUTH_KEY_B64_MAX (((CP_TPM_AUTH_KEY_MAX + 2) / 3) * 4 + 1)
/** SAS key name from the challenge ("registration"), incl. NUL. */
#define CP_TPM_KEY_NAME_MAX 64

/**
 * @brief The TPM register body (protocol.md §3, §5 step 2):
 *        {"registrationId":…,"tpm":{"endorsementKey":b64,"storageRootKey":b64},
 *         "csr":…,"payload":…}, built by cp_prov_register_body_tpm(). The same
 *        body is sent before and after the challenge (cp_provision_tpm() passes
 *        the EK and SRK to the signed legs with cp_prov_client_set_tpm()).
 *        EK and SRK are read (created if needed) through @p tpm.
 * @param csr_b64 one-line base64 DER CSR, or NULL to omit "csr".
 * @param payload_json a JSON object as text, or NULL to omit "payload".
 * @param[out] out NUL-terminated JSON; @p out_len its length without the NUL.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL/empty registration id, payload not a
 *         JSON object); CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size
 *         needed incl. NUL); CP_ERR_TPM; CP_ERR_NO_MEMORY.
 */
cp_result cp_tpm_register_body(const cp_tpm *tpm, const char *registration_id,
                               const char *csr_b64, const char *payload_json,
                               char *out, size_t out_size, size_t *out_len);

/**
 * @brief Read the DPS 401 TPM challenge body
 *        {"message":…,"authenticationKey":"<b64>","keyName":"registration"}.
 * @param[out] auth_key_b64 the authenticationKey (NUL-terminated).
 * @param[out] key_name the SAS key name; "registration" when the body has none.
 * @return CP_OK; CP_ERR_BAD_RESPONSE (not JSON, or no string authenticationKey:
 *         a plain 401 refusal; the log names what is missing);
 *         CP_ERR_BUFFER_TOO_SMALL; CP_ERR_INVALID_ARG. Outputs untouched on error.
 */
cp_result cp_tpm_challenge_parse(const char *body, size_t body_len,
                                 char *auth_key_b64, size_t auth_key_size,
                                 char key_name[CP_TPM_KEY_NAME_MAX]);

/**
 * @brief Decode the base64 authenticationKey and import it (cp_tpm_import_identity()).
 * @return as cp_tpm_import_identity(), plus CP_ERR_PARSE when not base64.
 */
cp_result cp_tpm_import_identity_b64(const cp_tpm *tpm, const char *auth_key_b64);

/**
 * @brief A SAS token signed by the TPM identity key (protocol.md §5 step 6):
 *        sig = TPM2_HMAC(identity key, cp_sas_string_to_sign(resource_uri, expiry)),
 *        then the §4 token with skn=@p key_name.
 * @param resource_uri unencoded "{idScope}/registrations/{registrationId}".
 * @param key_name the challenge's keyName ("registration").
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_BUFFER_TOO_SMALL (out untouched,
 *         *out_len = size needed incl. NUL); CP_ERR_NOT_FOUND (no identity key
 *         in the TPM yet); CP_ERR_TPM.
 */
cp_result cp_tpm_sas_token(const cp_tpm *tpm, const char *resource_uri,
                           int64_t expiry, const char *key_name, char *out,
                           size_t out_size, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
