/**
 * @file agent_schedule.h
 * @brief Pure renewal arithmetic: when to renew, how long to back off, and
 *        whether the wall clock can be trusted. No I/O, no clock reads: every
 *        function takes "now" (and randomness) as arguments.
 */
#ifndef CERTPILOT_AGENT_SCHEDULE_H
#define CERTPILOT_AGENT_SCHEDULE_H

#include <stdint.h>

/** Shortest wait the agent ever schedules after a failure (no tight loop). */
#define CPA_MIN_RETRY_SECONDS 1

/**
 * @brief A stable per-device number in [-1, 1), derived from the registration
 *        id (FNV-1a 64 of its lower-case form). Same id → same value on every
 *        start; different ids spread evenly.
 */
double cpa_jitter_unit(const char *registration_id);

/**
 * @brief When to renew a certificate valid [@p not_before, @p not_after]:
 *        not_before + (fraction + jitter_unit × jitter) × lifetime, kept inside
 *        [not_before + lifetime/10, not_after - lifetime/20].
 * @return a UTC time in seconds; not_before when the window is empty or inverted.
 */
int64_t cpa_renewal_time(int64_t not_before, int64_t not_after, double fraction,
                         double jitter, double jitter_unit);

/** Inputs of cpa_backoff_delay(). */
typedef struct cpa_backoff {
  int attempt;             /**< failures so far in this episode, starting at 0 */
  int64_t initial;         /**< first ceiling, seconds */
  int64_t max;             /**< ceiling cap, seconds */
  double time_left_fraction; /**< ceiling ≤ this share of (not_after - now) */
  int64_t not_after;       /**< expiry of the current certificate; 0 = none */
  int64_t retry_after;     /**< server's retry-after, seconds; 0 = none */
} cpa_backoff;

/**
 * @brief Delay before the next attempt: exponential ceiling
 *        min(max, initial × 2^attempt), lowered to time_left_fraction × time
 *        left while the certificate is still valid, then "full jitter":
 *        a uniform draw in [0, ceiling] from @p rand01 ∈ [0,1). Never below
 *        CPA_MIN_RETRY_SECONDS and never below retry_after (the server's word wins,
 *        up to max).
 * @return seconds to wait.
 */
int64_t cpa_backoff_delay(const cpa_backoff *b, int64_t now, double rand01);

/** Verdict on a certificate at a given time. */
typedef enum cpa_cert_phase {
  CPA_PHASE_VALID = 0,      /**< before the renewal time */
  CPA_PHASE_RENEW_DUE = 1,  /**< at or past the renewal time, not expired */
  CPA_PHASE_EXPIRED = 2,    /**< past notAfter and the clock is believable */
  CPA_PHASE_CLOCK_SUSPECT = 3, /**< now < build time or now < notBefore: no verdict */
} cpa_cert_phase;

/**
 * @brief Classify a certificate at @p now. The clock is suspect when
 *        now < @p build_time or now < @p not_before: then the agent neither
 *        declares the certificate expired nor re-onboards.
 */
cpa_cert_phase cpa_cert_phase_at(int64_t now, int64_t build_time, int64_t not_before,
                                 int64_t not_after, int64_t renew_at);

/** @brief Name of a phase, for logs and status ("valid", "renew-due", …). */
const char *cpa_cert_phase_name(cpa_cert_phase p);

#endif
