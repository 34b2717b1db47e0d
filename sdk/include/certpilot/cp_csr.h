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
 * @return CP_OK; CP_ERR_BAD_REGISTRATION_ID; CP_ERR_INVALID_ARG (empty key);
 *         CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size needed);
 *         CP_ERR_CRYPTO.
 */
cp_result cp_csr_build(const cp_key *key, const char *registration_id,
                       uint8_t *der, size_t der_size, size_t *out_len);

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
