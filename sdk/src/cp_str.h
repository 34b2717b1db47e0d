/* Private string helpers shared by the protocol builders and parsers. */
#ifndef CERTPILOT_SRC_CP_STR_H
#define CERTPILOT_SRC_CP_STR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certpilot/cp_result.h"

/*
 * printf into @p out with the SDK's buffer contract: on success *out_len is the
 * length without the NUL; when the result does not fit, @p out is untouched,
 * *out_len is the size needed including the NUL and CP_ERR_BUFFER_TOO_SMALL
 * is returned.
 */
cp_result cp_str_format(char *out, size_t out_size, size_t *out_len,
                        const char *fmt, ...) __attribute__((format(printf, 4, 5)));

/* Copy a string of @p len bytes into @p out (NUL-terminated), same contract. */
cp_result cp_str_copy(char *out, size_t out_size, size_t *out_len,
                      const char *in, size_t len);

/*
 * Percent-encode one URL path segment: RFC 3986 unreserved characters stay,
 * every other byte becomes %XX (upper-case hex). Same buffer contract.
 */
cp_result cp_str_url_segment(const char *in, char *out, size_t out_size,
                             size_t *out_len);

/* True when every character of @p s (length @p len) is in [A-Za-z0-9] or @p extra. */
bool cp_str_chars_ok(const char *s, size_t len, const char *extra);

/* Parse an unsigned decimal of @p len bytes (no sign, no spaces, at most 18 digits). */
cp_result cp_str_parse_u64(const char *s, size_t len, uint64_t *out);

/* Format @p t (UTC seconds since the epoch) as "YYYY-MM-DDThh:mm:ssZ" into out[21]. */
cp_result cp_str_time_utc(int64_t t, char out[21]);

#endif
