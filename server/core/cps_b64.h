/**
 * @file cps_b64.h
 * @brief Base64 (standard alphabet, padded) and URL percent-coding helpers of the server core.
 */
#ifndef CPS_B64_H
#define CPS_B64_H

#include <stddef.h>

#include "cps_result.h"

/** @brief Encode @p len bytes into a malloc'd NUL-terminated string (*out). CPS_ERR_NOMEM. */
cps_result cps_b64_encode(const unsigned char *in, size_t len, char **out);

/**
 * @brief Strict decode of @p in (length @p in_len, padded, no whitespace) into a malloc'd buffer.
 * @return CPS_OK or CPS_ERR_INVALID (bad character, length or padding); outputs untouched on failure.
 */
cps_result cps_b64_decode(const char *in, size_t in_len, unsigned char **out, size_t *out_len);

/**
 * @brief Percent-decode @p in (NUL-terminated; '+' stays '+') into @p out.
 * @return CPS_OK or CPS_ERR_INVALID (bad escape, result would not fit, or decodes to NUL).
 */
cps_result cps_url_decode(const char *in, size_t in_len, char *out, size_t out_size);

/** @brief Percent-encode everything but A-Z a-z 0-9 - _ . ~ (upper-case hex). */
cps_result cps_url_encode(const char *in, char *out, size_t out_size);

#endif
