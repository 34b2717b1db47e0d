/**
 * @file cp_error.h
 * @brief Error detail that travels beside a cp_result (curl's error buffer idea).
 *
 * Parsers, the provisioning state machine and the transports fill an optional,
 * caller-owned cp_error_detail so the caller can say *what* went wrong: the
 * server's status, errorCode and message, the JSON field that was missing or
 * malformed, or the TLS verify reason. Every function taking one accepts NULL.
 */
#ifndef CERTPILOT_CP_ERROR_H
#define CERTPILOT_CP_ERROR_H

#include <stdint.h>

#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CP_ERROR_MESSAGE_MAX 256 /**< message incl. NUL (longer ones are cut) */
#define CP_ERROR_FIELD_MAX 64    /**< field name incl. NUL */

/** What went wrong, beyond the cp_result. Caller-owned plain data. */
typedef struct cp_error_detail {
  int status;         /**< HTTP / MQTT-topic status of the reply; 0 when none */
  int32_t error_code; /**< server errorCode (6 digits, e.g. 401002); 0 when none */
  char message[CP_ERROR_MESSAGE_MAX]; /**< server message, TLS verify reason, or
                                           our own explanation; "" when none */
  char field[CP_ERROR_FIELD_MAX];     /**< the offending field, e.g.
                                           "registrationState.deviceId"; "" when none */
} cp_error_detail;

/** @brief Reset @p detail to "no detail". NULL is accepted and ignored. */
void cp_error_detail_clear(cp_error_detail *detail);

/**
 * @brief Record @p field and a printf-style message in @p detail (status and
 *        error_code are left as they are). NULL @p detail is ignored; @p field
 *        may be NULL. Long strings are truncated.
 */
void cp_error_detail_set(cp_error_detail *detail, const char *field,
                         const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#ifdef __cplusplus
}
#endif
#endif
