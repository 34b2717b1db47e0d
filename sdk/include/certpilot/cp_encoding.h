/**
 * @file cp_encoding.h
 * @brief Base64 and PEM helpers shared by the SDK (and usable by callers).
 */
#ifndef CERTPILOT_CP_ENCODING_H
#define CERTPILOT_CP_ENCODING_H

#include <stddef.h>
#include <stdint.h>

#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Standard base64 (RFC 4648, with padding) on one line, NUL-terminated.
 * @param[out] out_len characters written, excluding the NUL.
 * @return CP_OK; CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_base64_encode(const uint8_t *in, size_t in_len, char *out,
                           size_t out_size, size_t *out_len);

/**
 * @brief Decode standard base64. Whitespace is not allowed.
 * @return CP_OK; CP_ERR_PARSE (bad characters or padding); CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_base64_decode(const char *in, size_t in_len, uint8_t *out,
                           size_t out_size, size_t *out_len);

/**
 * @brief Wrap DER in PEM armour with @p label ("CERTIFICATE", "CERTIFICATE REQUEST"),
 *        64-column lines, "\n" line ends, NUL-terminated.
 * @return CP_OK; CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_pem_encode(const char *label, const uint8_t *der, size_t der_len,
                        char *out, size_t out_size, size_t *out_len);

/**
 * @brief Find the first PEM block at or after @p pem and decode it.
 * @param[out] label_out optional: the label found (at most 63 chars, NUL-terminated).
 * @param[out] consumed optional: bytes of @p pem up to the end of the block.
 * @return CP_OK; CP_ERR_NOT_FOUND (no block); CP_ERR_PARSE; CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_pem_decode(const char *pem, size_t pem_len, char label_out[64],
                        uint8_t *der, size_t der_size, size_t *der_len,
                        size_t *consumed);

#ifdef __cplusplus
}
#endif
#endif
