/**
 * @file cp_log.h
 * @brief Logging through one callback; cheap when off.
 *
 * The SDK never prints. It hands each message to the callback set here.
 * Messages never contain private keys, SAS tokens or passwords.
 */
#ifndef CERTPILOT_CP_LOG_H
#define CERTPILOT_CP_LOG_H

#ifdef __cplusplus
extern "C" {
#endif

/** Severity, numbered like syslog priorities. */
typedef enum cp_log_level {
  CP_LOG_ERROR = 3,
  CP_LOG_WARNING = 4,
  CP_LOG_NOTICE = 5,
  CP_LOG_INFO = 6,
  CP_LOG_DEBUG = 7,
} cp_log_level;

/**
 * @brief Log sink. @p message is NUL-terminated and valid only during the call.
 * @param ctx the pointer given to cp_log_set_callback().
 */
typedef void (*cp_log_fn)(void *ctx, cp_log_level level, const char *message);

/**
 * @brief Set the sink (NULL: logging off, the default) and the most verbose
 *        level delivered. Not thread-safe: call once at start-up.
 */
void cp_log_set_callback(cp_log_fn fn, void *ctx, cp_log_level max_level);

/** @brief True when a message of @p level would reach the sink. */
int cp_log_enabled(cp_log_level level);

/** @brief Format and deliver a message (printf-style). Used by the SDK and ports. */
void cp_log(cp_log_level level, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#ifdef __cplusplus
}
#endif
#endif
