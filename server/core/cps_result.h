/**
 * @file cps_result.h
 * @brief Result codes of the certpilot reference server core.
 *
 * Every fallible core function returns a ::cps_result. Detail (which field,
 * which check) travels in a caller-supplied ::cps_error buffer where the
 * function takes one, never in ad-hoc return values.
 */
#ifndef CPS_RESULT_H
#define CPS_RESULT_H

#include <stddef.h>

/** Result of a core call. Values map naturally onto HTTP statuses (see cps_result_http_status()). */
typedef enum cps_result {
  CPS_OK = 0,            /**< success */
  CPS_ERR_INVALID,       /**< bad input (maps to 400) */
  CPS_ERR_UNAUTHORIZED,  /**< missing or bad credentials (401) */
  CPS_ERR_FORBIDDEN,     /**< authenticated but not allowed (403) */
  CPS_ERR_NOT_FOUND,     /**< object does not exist (404) */
  CPS_ERR_CONFLICT,      /**< object exists / state forbids the operation (409) */
  CPS_ERR_TOO_LARGE,     /**< input over a size cap (413) */
  CPS_ERR_RATE_LIMITED,  /**< too many requests (429) */
  CPS_ERR_CRYPTO,        /**< an OpenSSL operation failed (500) */
  CPS_ERR_STORE,         /**< SQLite failed (500) */
  CPS_ERR_NOMEM,         /**< allocation failed (500) */
  CPS_ERR_IO             /**< file or socket error (500) */
} cps_result;

/**
 * @brief Human-readable detail for a failed call: a fixed buffer owned by the caller.
 * Functions that take a `cps_error *` write a message naming the problem on failure
 * (e.g. "csr: key is not EC P-384"). A NULL pointer is allowed and means "no detail wanted".
 */
typedef struct cps_error {
  char msg[256]; /**< NUL-terminated message; empty on success */
} cps_error;

/** @brief Static name of @p r (e.g. "CPS_ERR_INVALID"); never NULL. */
const char *cps_result_str(cps_result r);

/** @brief HTTP status that a front end should answer for @p r (200 for CPS_OK). */
int cps_result_http_status(cps_result r);

/**
 * @brief Store a printf-style message in @p err (if non-NULL) and return @p r.
 * Convenience for `return cps_fail(err, CPS_ERR_INVALID, "csr: %s", why);`.
 */
cps_result cps_fail(cps_error *err, cps_result r, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
