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
 * @param in borrowed; may be NULL when @p in_len is 0.
 * @param[out] out_len characters written, excluding the NUL.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL @p in with a length, NULL @p out_len,
 *         input over 1 GiB); CP_ERR_BUFFER_TOO_SMALL (out untouched,
 *         *out_len = size needed incl. NUL).
 */
cp_result cp_base64_encode(const uint8_t *in, size_t in_len, char *out,
                           size_t out_size, size_t *out_len);

/**
 * @brief Decode standard base64 (RFC 4648 alphabet, padded to a multiple of
 *        4). Whitespace, line breaks and the URL-safe alphabet are rejected.
 * @param[out] out_len bytes written.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL @p in with a length, NULL
 *         @p out_len); CP_ERR_PARSE (bad length, characters or padding);
 *         CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = bytes needed;
 *         an exactly sized buffer is enough).
 */
cp_result cp_base64_decode(const char *in, size_t in_len, uint8_t *out,
                           size_t out_size, size_t *out_len);

/**
 * @brief Wrap DER in PEM armour with @p label ("CERTIFICATE", "CERTIFICATE REQUEST"),
 *        64-column lines, "\n" line ends, NUL-terminated.
 * @param label 1–40 characters.
 * @param der 1 to about 6 KB.
 * @param[out] out_len on CP_OK, characters written excluding the NUL.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL, empty or over-long label or DER);
 *         CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_pem_encode(const char *label, const uint8_t *der, size_t der_len,
                        char *out, size_t out_size, size_t *out_len);

/**
 * @brief Find the first PEM block at or after @p pem and decode it. Text
 *        before the block is skipped; "\r\n" and spaces inside the body are
 *        allowed.
 * @param pem need not be NUL-terminated; @p pem_len bytes are read.
 * @param[out] label_out optional: the label found (at most 63 chars, NUL-terminated).
 * @param[out] consumed optional: bytes of @p pem up to the end of the END
 *             line's dashes (pass pem + consumed to read the next block).
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL @p pem or @p der_len);
 *         CP_ERR_NOT_FOUND (no "-----BEGIN "); CP_ERR_PARSE (no matching END
 *         line, bad or empty label, bad base64, body over about 6 KB);
 *         CP_ERR_BUFFER_TOO_SMALL (*der_len = bytes needed).
 *         On failure @p der, @p label_out and @p consumed are untouched.
 */
cp_result cp_pem_decode(const char *pem, size_t pem_len, char label_out[64],
                        uint8_t *der, size_t der_size, size_t *der_len,
                        size_t *consumed);

#ifdef __cplusplus
}
#endif
#endif
