/**
 * @file cps_tpm.h
 * @brief Server side of DPS TPM attestation (protocol.md §5): build the 401
 *        challenge for a device's EK/SRK and verify its later SAS tokens.
 *
 * Library `certpilot_server_tpm` (OpenSSL 3 + tss2-mu; no TPM or simulator).
 * The challenge (`authenticationKey`) is, marshalled with tss2-mu in this order:
 *   TPM2B_ID_OBJECT credentialBlob ‖ TPM2B_ENCRYPTED_SECRET secret ‖
 *   TPM2B_PRIVATE dupBlob ‖ TPM2B_ENCRYPTED_SECRET encWrapKey ‖
 *   TPM2B_PUBLIC idKeyPub ‖ UINT16 0 (no encrypted data).
 * - credentialBlob/secret: TPM2_MakeCredential to the EK (RSA-OAEP seed with
 *   label "IDENTITY", KDFa, AES-128-CFB, HMAC-SHA256 integrity) of a fresh
 *   16-byte inner wrap key, bound to the SRK's Name (the activation object).
 * - dupBlob/encWrapKey/idKeyPub: a fresh HMAC-SHA256 identity key duplicated
 *   to the SRK with an inner wrapper (AES-128-CFB under the inner wrap key,
 *   SHA-256 integrity) and an outer wrapper (RSA-OAEP seed, label "DUPLICATE").
 * Only a TPM holding both the EK and SRK private keys can import the key.
 */
#ifndef CPS_TPM_H
#define CPS_TPM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a cps_tpm call; detail goes into a cps_tpm_error. */
typedef enum cps_tpm_result {
  CPS_TPM_OK = 0,               /**< success */
  CPS_TPM_ERR_INVALID = -1,     /**< bad input, e.g. EK not RSA-2048 (HTTP 400) */
  CPS_TPM_ERR_UNAUTHORIZED = -2, /**< signature does not verify (HTTP 401) */
  CPS_TPM_ERR_CRYPTO = -3,      /**< OpenSSL or tss2-mu failed (HTTP 500) */
  CPS_TPM_ERR_NOMEM = -4,       /**< allocation failed (HTTP 500) */
} cps_tpm_result;

/** Caller-owned detail buffer: a message naming the problem on failure. */
typedef struct cps_tpm_error {
  char msg[256]; /**< NUL-terminated; empty on success */
} cps_tpm_error;

/** Length of the generated identity (HMAC-SHA256) key. */
#define CPS_TPM_IDENTITY_KEY_LEN 32
/** Length of an EK id: hex SHA-256 of the EK Name, plus NUL. */
#define CPS_TPM_EK_ID_LEN 65

/** A built challenge. Free with cps_tpm_challenge_free(). */
typedef struct cps_tpm_challenge {
  /** The identity key the device will hold; secret: store it, never log it. */
  uint8_t identity_key[CPS_TPM_IDENTITY_KEY_LEN];
  uint8_t *blob;       /**< authenticationKey bytes (malloc'd) */
  size_t blob_len;     /**< length of @ref blob */
  char *blob_b64;      /**< base64 of @ref blob, NUL-terminated (malloc'd) */
} cps_tpm_challenge;

/**
 * @brief Check a marshalled TPM2B_PUBLIC of an EK or SRK: RSA-2048, SHA-256
 *        name, restricted decryption key, AES-128-CFB, nothing trailing.
 * @param[out] ek_id optional: hex SHA-256 of the key's Name, a stable id to
 *             key TPM enrollments by (CPS_TPM_EK_ID_LEN bytes).
 * @return CPS_TPM_OK; CPS_TPM_ERR_INVALID (detail in @p err); CPS_TPM_ERR_CRYPTO.
 */
cps_tpm_result cps_tpm_public_check(const uint8_t *pub, size_t pub_len,
                                    char ek_id[CPS_TPM_EK_ID_LEN],
                                    cps_tpm_error *err);

/**
 * @brief Build the authenticationKey challenge for a device (see file comment).
 * @param ek_pub, srk_pub marshalled TPM2B_PUBLIC as the device sent them
 *        (base64-decoded `tpm.endorsementKey` / `tpm.storageRootKey`); borrowed.
 * @param[out] out filled on success (free with cps_tpm_challenge_free());
 *             zeroed on failure.
 * @return CPS_TPM_OK; CPS_TPM_ERR_INVALID (a key is malformed or of the wrong
 *         type); CPS_TPM_ERR_CRYPTO; CPS_TPM_ERR_NOMEM. @p err names the problem.
 */
cps_tpm_result cps_tpm_challenge_build(const uint8_t *ek_pub, size_t ek_len,
                                       const uint8_t *srk_pub, size_t srk_len,
                                       cps_tpm_challenge *out, cps_tpm_error *err);

/** @brief Wipe the key and free the blobs of @p c (NULL or zeroed is fine). */
void cps_tpm_challenge_free(cps_tpm_challenge *c);

/**
 * @brief Verify a SAS signature made with the identity key: constant-time
 *        compare of HMAC-SHA256(@p key, @p string_to_sign) with @p sig.
 * @param string_to_sign the §4 string ("<urlenc resource>\n<expiry>"), @p sts_len bytes.
 * @param sig raw signature bytes (base64-decoded `sig`), @p sig_len bytes.
 * @return CPS_TPM_OK; CPS_TPM_ERR_UNAUTHORIZED (mismatch or wrong length);
 *         CPS_TPM_ERR_INVALID (NULL or empty key); CPS_TPM_ERR_CRYPTO.
 */
cps_tpm_result cps_tpm_sas_verify(const uint8_t *key, size_t key_len,
                                  const char *string_to_sign, size_t sts_len,
                                  const uint8_t *sig, size_t sig_len,
                                  cps_tpm_error *err);

/** @brief Static name of @p r ("CPS_TPM_ERR_INVALID", …); never NULL. */
const char *cps_tpm_result_str(cps_tpm_result r);

#ifdef __cplusplus
}
#endif
#endif
