/**
 * @file cp_key.h
 * @brief EC P-384 private keys: generate, export, import, public part.
 *
 * A cp_key is caller-owned (stack or static is fine) and holds the private key
 * as SEC1 DER. Call cp_key_wipe() when done: it zeroes the key material.
 */
#ifndef CERTPILOT_CP_KEY_H
#define CERTPILOT_CP_KEY_H

#include <stddef.h>
#include <stdint.h>

#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest SEC1 DER of a P-384 private key the struct can hold. */
#define CP_KEY_DER_MAX 256
/** Enough for any P-384 key PEM this SDK writes (PKCS#8 or SEC1). */
#define CP_KEY_PEM_MAX 512
/** Enough for the SubjectPublicKeyInfo DER of a P-384 key. */
#define CP_PUBKEY_DER_MAX 128

/** A P-384 private key. Treat the members as private. */
typedef struct cp_key {
  uint8_t _der[CP_KEY_DER_MAX]; /**< SEC1 DER ECPrivateKey (with public key) */
  size_t _der_len;              /**< 0 when empty */
} cp_key;

/** Private key encodings. */
typedef enum cp_key_format {
  CP_KEY_FORMAT_PKCS8 = 0, /**< PrivateKeyInfo, PEM label "PRIVATE KEY" */
  CP_KEY_FORMAT_SEC1 = 1,  /**< ECPrivateKey, PEM label "EC PRIVATE KEY" */
} cp_key_format;

/**
 * @brief Generate a fresh EC P-384 key pair into @p key, using wolfCrypt's
 *        DRBG with cp_platform_entropy() mixed in (see cp_platform.h).
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL); CP_ERR_CRYPTO (no entropy, RNG or
 *         keygen failed; @p key is then empty).
 */
cp_result cp_key_generate_p384(cp_key *key);

/**
 * @brief Import a private key from DER (unencrypted PKCS#8 or SEC1, detected).
 *        The public key is derived from the private scalar; when the input
 *        carries one too, it must match.
 * @param der borrowed; @p der_len bytes, nothing may follow the key.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL or empty input);
 *         CP_ERR_PARSE (not a private key, truncated, trailing bytes,
 *         scalar out of range, embedded public key not the key's own);
 *         CP_ERR_UNSUPPORTED_KEY (an EC key on another curve, an RSA key in
 *         PKCS#1 or PKCS#8, another PKCS#8 algorithm); CP_ERR_CRYPTO.
 *         On failure @p key is untouched.
 */
cp_result cp_key_from_der(cp_key *key, const uint8_t *der, size_t der_len);

/**
 * @brief Import a private key from PEM ("PRIVATE KEY" or "EC PRIVATE KEY";
 *        leading "EC PARAMETERS" blocks, as `openssl ecparam -genkey` writes,
 *        are skipped).
 * @param pem need not be NUL-terminated; @p pem_len bytes are read.
 * @return as cp_key_from_der(); CP_ERR_PARSE for no PEM block, bad armour or
 *         base64, or a block that is not a private key;
 *         CP_ERR_UNSUPPORTED_KEY also for "RSA PRIVATE KEY" and
 *         "ENCRYPTED PRIVATE KEY". On failure @p key is untouched.
 */
cp_result cp_key_from_pem(cp_key *key, const char *pem, size_t pem_len);

/**
 * @brief Export as DER in @p format (both include the public key).
 * @param buf caller's buffer; CP_KEY_DER_MAX bytes always suffice.
 * @param[out] out_len bytes written.
 * @return CP_OK; CP_ERR_BUFFER_TOO_SMALL (buf untouched, *out_len = size needed);
 *         CP_ERR_INVALID_ARG (NULL, empty key, unknown format);
 *         CP_ERR_PARSE (corrupt cp_key); CP_ERR_CRYPTO.
 */
cp_result cp_key_to_der(const cp_key *key, cp_key_format format, uint8_t *buf,
                        size_t buf_size, size_t *out_len);

/**
 * @brief Export as PEM in @p format, NUL-terminated, 64-column lines.
 * @param buf caller's buffer; CP_KEY_PEM_MAX bytes always suffice.
 * @param[out] out_len characters written, excluding the NUL.
 * @return as cp_key_to_der(), except that on CP_ERR_BUFFER_TOO_SMALL
 *         *out_len is the size needed including the NUL.
 */
cp_result cp_key_to_pem(const cp_key *key, cp_key_format format, char *buf,
                        size_t buf_size, size_t *out_len);

/**
 * @brief The public key as SubjectPublicKeyInfo DER (id-ecPublicKey,
 *        secp384r1, uncompressed point: 120 bytes).
 * @param buf caller's buffer; CP_PUBKEY_DER_MAX bytes always suffice.
 * @return as cp_key_to_der().
 */
cp_result cp_key_public_der(const cp_key *key, uint8_t *buf, size_t buf_size,
                            size_t *out_len);

/** @brief Zero the key material. Safe on an empty key and on NULL. */
void cp_key_wipe(cp_key *key);

#ifdef __cplusplus
}
#endif
#endif
