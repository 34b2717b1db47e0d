/**
 * @file agent_log.h
 * @brief certpilotd logging: one line per message on stderr, prefixed "<N>" with
 *        the syslog priority so journald files it at the right level. The SDK's
 *        cp_log callback is routed here too.
 */
#ifndef CERTPILOT_AGENT_LOG_H
#define CERTPILOT_AGENT_LOG_H

#include "certpilot/cp_log.h"

/** @brief Set the most verbose level written (3 error … 7 debug) and hook the SDK log. */
void cpa_log_init(int max_level);

/** @brief Write one message at @p level (a cp_log_level). Never pass secrets. */
void cpa_log(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
