/**
 * @file cp_sas.h
 * @brief Shared access signature tokens and symmetric keys (protocol.md §4).
 */
#ifndef CERTPILOT_CP_SAS_H
#define CERTPILOT_CP_SAS_H

#include <stddef.h>
#include <stdint.h>

#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Enough for any token this SDK builds (128-char registration id, long scope). */
#define CP_SAS_TOKEN_MAX 640
/** A base64 HMAC-SHA256 key or signature: 44 characters + NUL. */
#define CP_SAS_KEY_B64_MAX 45

/**
 * @brief URL-encode as protocol.md §4 says: keep A-Za-z0-9 and "-_.~", every
 *        other byte becomes %XX with upper-case hex, except "/" which becomes "%2f".
 * @param in NUL-terminated; borrowed.
 * @param[out] out_len on CP_OK, characters written excluding the NUL.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL @p in or @p out_len);
 *         CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_url_encode(const char *in, char *out, size_t out_size, size_t *out_len);

/**
 * @brief The string to sign: URLENC(@p resource_uri) "\n" @p expiry, NUL-terminated.
 * @param resource_uri unencoded, e.g. "0ne00000001/registrations/dev-1".
 * @param expiry seconds since the Unix epoch, decimal in the output; >= 0.
 * @return CP_OK (*out_len = characters excluding the NUL); CP_ERR_INVALID_ARG
 *         (NULL or empty URI, negative expiry); CP_ERR_BUFFER_TOO_SMALL (out
 *         untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_sas_string_to_sign(const char *resource_uri, int64_t expiry,
                                char *out, size_t out_size, size_t *out_len);

/**
 * @brief Assemble a token from an already computed raw HMAC-SHA256 signature
 *        (used by the TPM path, where the TPM computes the HMAC):
 *        "SharedAccessSignature sr=URLENC(uri)&sig=…&se=expiry&skn=…". sr is
 *        encoded as cp_url_encode() does ("/" → "%2f"); sig (base64) and skn
 *        escape every reserved byte with upper-case hex, so the signature's
 *        "+", "/", "=" become "%2B", "%2F", "%3D" (protocol.md §4).
 * @param signature 32 raw bytes, the HMAC of cp_sas_string_to_sign()'s output.
 * @return CP_OK (*out_len = characters excluding the NUL); CP_ERR_INVALID_ARG
 *         (NULL, empty URI or key name, negative expiry); CP_ERR_BUFFER_TOO_SMALL
 *         (out untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_sas_token_from_signature(const char *resource_uri,
                                      const uint8_t signature[32], int64_t expiry,
                                      const char *key_name, char *out,
                                      size_t out_size, size_t *out_len);

/**
 * @brief Build a SAS token signed with the base64 symmetric @p key_b64:
 *        sig = HMAC-SHA256(base64decode(key), cp_sas_string_to_sign()).
 *        The key is wiped from the stack after use and never logged.
 * @param key_name "registration" for the device API.
 * @return CP_OK; CP_ERR_PARSE (key not strict base64, or not 16–64 bytes);
 *         CP_ERR_INVALID_ARG (as cp_sas_token_from_signature(), or a resource
 *         URI too long to sign); CP_ERR_BUFFER_TOO_SMALL (out untouched,
 *         *out_len = size needed incl. NUL); CP_ERR_CRYPTO.
 */
cp_result cp_sas_token_build(const char *resource_uri, const char *key_b64,
                             int64_t expiry, const char *key_name, char *out,
                             size_t out_size, size_t *out_len);

/**
 * @brief Group-enrollment device key:
 *        base64(HMAC-SHA256(base64decode(group_key_b64), registration_id)),
 *        44 characters + NUL (CP_SAS_KEY_B64_MAX).
 * @return CP_OK (*out_len = 44); CP_ERR_INVALID_ARG (NULL);
 *         CP_ERR_PARSE (group key not base64 or not 16–64 bytes);
 *         CP_ERR_BAD_REGISTRATION_ID; CP_ERR_BUFFER_TOO_SMALL (out untouched,
 *         *out_len = 45); CP_ERR_CRYPTO.
 */
cp_result cp_sas_derive_device_key(const char *group_key_b64,
                                   const char *registration_id, char *out,
                                   size_t out_size, size_t *out_len);

#ifdef __cplusplus
}
#endif
#endif
