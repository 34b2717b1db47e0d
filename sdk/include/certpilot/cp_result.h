/**
 * @file cp_result.h
 * @brief The one result type every fallible certpilot call returns.
 *
 * Detail (which field, which byte, the TLS verify reason) travels in a log
 * line or an optional caller-supplied detail buffer, never in ad-hoc codes.
 */
#ifndef CERTPILOT_CP_RESULT_H
#define CERTPILOT_CP_RESULT_H

#ifdef __cplusplus
extern "C" {
#endif

/** Result of a certpilot call. CP_OK is zero; every error is negative. */
typedef enum cp_result {
  CP_OK = 0,
  CP_ERR_INVALID_ARG = -1,      /**< a NULL pointer or an out-of-range value */
  CP_ERR_BUFFER_TOO_SMALL = -2, /**< the output buffer is too small; output untouched */
  CP_ERR_PARSE = -3,            /**< input is not well-formed (DER, PEM, base64, JSON) */
  CP_ERR_UNSUPPORTED_KEY = -4,  /**< key is not EC P-384 */
  CP_ERR_CRYPTO = -5,           /**< the crypto library failed */
  CP_ERR_NO_MEMORY = -6,        /**< an allocation failed */
  CP_ERR_BAD_REGISTRATION_ID = -7, /**< registration id breaks protocol.md §4 rules */
  CP_ERR_CERT_EXPIRED = -8,     /**< a certificate's notAfter is before the check time */
  CP_ERR_CERT_NOT_YET_VALID = -9, /**< a certificate's notBefore is after the check time */
  CP_ERR_BAD_SIGNATURE = -10,   /**< a signature does not verify */
  CP_ERR_UNTRUSTED = -11,       /**< chain does not lead to the trust anchor */
  CP_ERR_KEY_MISMATCH = -12,    /**< certificate public key is not the private key's */
  CP_ERR_NAME_MISMATCH = -13,   /**< CN / registration id / device id differ */
  CP_ERR_CHAIN_INVALID = -14,   /**< chain malformed: wrong length, issuer order, CA flags */
  CP_ERR_IO = -15,              /**< a file or platform I/O call failed */
  CP_ERR_TIMEOUT = -16,         /**< the operation did not finish within its deadline */
  CP_ERR_TRANSPORT = -17,       /**< connection failed or dropped */
  CP_ERR_TLS = -18,             /**< TLS handshake or peer verification failed */
  CP_ERR_REFUSED = -19,         /**< the server answered with an error status */
  CP_ERR_BAD_RESPONSE = -20,    /**< the server's answer is malformed or inconsistent */
  CP_ERR_NOT_FOUND = -21,       /**< the requested item does not exist */
  CP_ERR_DISABLED = -22,        /**< enrollment or device is disabled */
  CP_ERR_UNAUTHORIZED = -23,    /**< credentials rejected (401) */
  CP_ERR_STATE = -24,           /**< call not valid in the current state */
  CP_ERR_UNSUPPORTED = -25,     /**< feature not built in or not supported by the peer */
  CP_ERR_TPM = -26,             /**< the TPM failed or is unreachable */
  CP_ERR_CONFIG = -27,          /**< configuration is invalid */
} cp_result;

/**
 * @brief A short, stable, human-readable description of @p r.
 * @return a static string; never NULL (unknown values give "unknown error").
 */
const char *cp_result_str(cp_result r);

/** True when @p r is CP_OK. */
#define CP_SUCCEEDED(r) ((r) == CP_OK)
/** True when @p r is an error. */
#define CP_FAILED(r) ((r) != CP_OK)

#ifdef __cplusplus
}
#endif
#endif
