/**
 * @file agent_daemon.h
 * @brief certpilotd's main loop: systemd notification and watchdog, a wall-clock
 *        timer that wakes on clock jumps, signals through signalfd.
 */
#ifndef CERTPILOT_AGENT_DAEMON_H
#define CERTPILOT_AGENT_DAEMON_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_engine.h"

/** Options of one daemon run. */
typedef struct cpa_daemon_options {
  const char *config_path;  /**< INI file; re-read on SIGHUP */
  int64_t build_time;       /**< clock sanity floor (UTC seconds) */
  /** Fills the network/crypto ops for @p cfg (called at start and on reload). */
  cp_result (*make_ops)(const cpa_config *cfg, cpa_ops *ops);
  int exit_after_renewals;  /**< > 0: stop cleanly after this many issuances (tests, demo) */
} cpa_daemon_options;

/**
 * @brief Run until SIGTERM/SIGINT (or exit_after_renewals).
 * @return process exit status: 0 clean stop; 1 config or state error at start.
 */
int cpa_daemon_run(const cpa_daemon_options *opt);

/** @brief True when SIGTERM or SIGINT is pending (signals are blocked in the daemon). */
bool cpa_daemon_stop_pending(void);

/** @brief Tell systemd we are alive (no-op outside systemd). */
void cpa_daemon_watchdog_ping(void);

#endif
