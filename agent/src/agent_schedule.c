/* Renewal arithmetic (see agent_schedule.h). Pure functions only. */
#include "agent_schedule.h"

#include <math.h>

double cpa_jitter_unit(const char *registration_id) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (const char *p = registration_id ? registration_id : ""; *p; p++) {
    unsigned char c = (unsigned char)*p;
    if (c >= 'A' && c <= 'Z') c = (unsigned char)(c - 'A' + 'a'); /* ids are case-insensitive */
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  /* FNV's low bits mix poorly for short inputs: finish with a 64-bit avalanche. */
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return (double)(h >> 11) / 4503599627370496.0 - 1.0; /* 2^52: [0,2) - 1 */
}

int64_t cpa_renewal_time(int64_t not_before, int64_t not_after, double fraction,
                         double jitter, double jitter_unit) {
  if (not_after <= not_before) return not_before;
  double life = (double)(not_after - not_before);
  double f = fraction + jitter_unit * jitter;
  double lo = 0.10, hi = 0.95;
  if (f < lo) f = lo;
  if (f > hi) f = hi;
  return not_before + (int64_t)llround(f * life);
}

int64_t cpa_backoff_delay(const cpa_backoff *b, int64_t now, double rand01) {
  double ceiling = (double)(b->initial > 0 ? b->initial : CPA_MIN_RETRY_SECONDS);
  double cap = (double)(b->max > 0 ? b->max : ceiling);
  for (int i = 0; i < b->attempt && ceiling < cap; i++) ceiling *= 2.0;
  if (ceiling > cap) ceiling = cap;
  if (b->not_after > now) {
    double left_cap = b->time_left_fraction * (double)(b->not_after - now);
    if (ceiling > left_cap) ceiling = left_cap;
  }
  if (rand01 < 0.0) rand01 = 0.0;
  if (rand01 >= 1.0) rand01 = 0.999999;
  int64_t d = (int64_t)floor(rand01 * ceiling);
  if (d < CPA_MIN_RETRY_SECONDS) d = CPA_MIN_RETRY_SECONDS;
  if (b->retry_after > d) d = b->retry_after < (int64_t)cap ? b->retry_after : (int64_t)cap;
  return d;
}

cpa_cert_phase cpa_cert_phase_at(int64_t now, int64_t build_time, int64_t not_before,
                                 int64_t not_after, int64_t renew_at) {
  if (now < build_time || now < not_before) return CPA_PHASE_CLOCK_SUSPECT;
  if (now >= not_after) return CPA_PHASE_EXPIRED;
  if (now >= renew_at) return CPA_PHASE_RENEW_DUE;
  return CPA_PHASE_VALID;
}

const char *cpa_cert_phase_name(cpa_cert_phase p) {
  switch (p) {
  case CPA_PHASE_VALID: return "valid";
  case CPA_PHASE_RENEW_DUE: return "renew-due";
  case CPA_PHASE_EXPIRED: return "expired";
  case CPA_PHASE_CLOCK_SUSPECT: return "clock-suspect";
  }
  return "?";
}
