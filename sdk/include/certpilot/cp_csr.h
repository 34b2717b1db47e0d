/**
 * @file cp_csr.h
 * @brief Registration ids and PKCS#10 certificate signing requests.
 */
#ifndef CERTPILOT_CP_CSR_H
#define CERTPILOT_CP_CSR_H

#include <stddef.h>
#include <stdint.h>

#include "cp_key.h"
#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest registration id (protocol.md §4). */
#define CP_REGISTRATION_ID_MAX 128
/** Enough for a CSR DER with a 128-character CN. */
#define CP_CSR_DER_MAX 1024

/**
 * @brief Check a registration id against protocol.md §4: 1–128 characters,
 *        alphanumerics and "-._:", the last one alphanumeric or "-".
 * @return CP_OK; CP_ERR_BAD_REGISTRATION_ID; CP_ERR_INVALID_ARG (NULL).
 */
cp_result cp_registration_id_validate(const char *registration_id);

/**
 * @brief Build a PKCS#10 CSR signed with ecdsa-with-SHA384: subject
 *        CN=@p registration_id, keyUsage digitalSignature (critical),
 *        extendedKeyUsage clientAuth.
 * @param key borrowed; must hold a key (see cp_key_generate_p384()).
 * @param der caller's buffer; CP_CSR_DER_MAX bytes always suffice.
 * @param[out] out_len bytes written.
 * @return CP_OK; CP_ERR_BAD_REGISTRATION_ID; CP_ERR_INVALID_ARG (NULL, or
 *         empty key); CP_ERR_PARSE (corrupt cp_key);
 *         CP_ERR_BUFFER_TOO_SMALL (der untouched, *out_len = a size that fits
 *         this request with any signature: ECDSA signatures differ in length
 *         by a byte or two between calls); CP_ERR_CRYPTO.
 */
cp_result cp_csr_build(const cp_key *key, const char *registration_id,
                       uint8_t *der, size_t der_size, size_t *out_len);

/**
 * @brief Check a CSR DER the way a CA would before using it: it parses as
 *        PKCS#10, its self-signature verifies, it is signed with
 *        ecdsa-with-SHA384 over a P-384 key, its subject CN is a valid
 *        registration id, and (each optional) its public key is @p key's and
 *        its CN equals @p registration_id.
 * @param key optional (NULL: skip the key comparison); borrowed.
 * @param registration_id optional (NULL: skip the CN comparison).
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL @p der, zero length);
 *         CP_ERR_PARSE (not a PKCS#10 request, trailing data, or longer
 *         than any CSR this SDK makes, CP_CSR_DER_MAX + 256 bytes);
 *         CP_ERR_BAD_SIGNATURE (self-signature does not verify);
 *         CP_ERR_UNSUPPORTED_KEY (not P-384 / ecdsa-with-SHA384);
 *         CP_ERR_BAD_REGISTRATION_ID (CN missing or breaks protocol.md §4);
 *         CP_ERR_KEY_MISMATCH; CP_ERR_NAME_MISMATCH.
 */
cp_result cp_csr_check(const uint8_t *der, size_t der_len, const cp_key *key,
                       const char *registration_id);

/** @brief CSR DER → PEM ("CERTIFICATE REQUEST"). Same contract as cp_pem_encode(). */
cp_result cp_csr_to_pem(const uint8_t *der, size_t der_len, char *out,
                        size_t out_size, size_t *out_len);

/**
 * @brief CSR DER → the one-line base64 that the provisioning request's "csr"
 *        field carries (protocol.md §2). Same contract as cp_base64_encode().
 */
cp_result cp_csr_to_base64(const uint8_t *der, size_t der_len, char *out,
                           size_t out_size, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
