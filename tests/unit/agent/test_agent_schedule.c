/* Unit tests of the renewal arithmetic, with a fake clock (times are plain numbers). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>

#include "agent_schedule.h"

#define T0 1800000000LL /* fake "now" base: 2027-01-15 */
#define DAY 86400LL

static void test_cpa_jitter_unit_same_id_is_stable(void **state) {
  (void)state;
  double a = cpa_jitter_unit("sensor-0042");
  assert_true(a == cpa_jitter_unit("sensor-0042"));
  assert_true(a == cpa_jitter_unit("SENSOR-0042")); /* ids are case-insensitive */
  assert_true(a >= -1.0 && a < 1.0);
  assert_true(a != cpa_jitter_unit("sensor-0043"));
}

static void test_cpa_jitter_unit_fleet_spreads_evenly(void **state) {
  (void)state;
  int buckets[10] = {0};
  char id[32];
  const int n = 10000;
  for (int i = 0; i < n; i++) {
    snprintf(id, sizeof id, "device-%05d", i);
    double u = cpa_jitter_unit(id);
    assert_true(u >= -1.0 && u < 1.0);
    buckets[(int)((u + 1.0) * 5.0)]++;
  }
  for (int b = 0; b < 10; b++) /* each tenth holds 10 % ± 2 % of the fleet */
    assert_in_range(buckets[b], n / 10 - n / 50, n / 10 + n / 50);
}

static void test_cpa_renewal_time_default_fraction_is_two_thirds(void **state) {
  (void)state;
  assert_int_equal(cpa_renewal_time(T0, T0 + 90 * DAY, 2.0 / 3.0, 0.05, 0.0), T0 + 60 * DAY);
}

static void test_cpa_renewal_time_jitter_moves_within_bound(void **state) {
  (void)state;
  int64_t life = 30 * DAY;
  int64_t lo = cpa_renewal_time(T0, T0 + life, 2.0 / 3.0, 0.05, -1.0);
  int64_t hi = cpa_renewal_time(T0, T0 + life, 2.0 / 3.0, 0.05, 0.999);
  int64_t mid = T0 + life * 2 / 3;
  assert_true(mid - lo >= (int64_t)(0.049 * life) && mid - lo <= (int64_t)(0.051 * life));
  assert_true(hi - mid >= (int64_t)(0.049 * life) && hi - mid <= (int64_t)(0.051 * life));
  double u = cpa_jitter_unit("dev-a");
  assert_int_equal(cpa_renewal_time(T0, T0 + life, 2.0 / 3.0, 0.05, u),
                   cpa_renewal_time(T0, T0 + life, 2.0 / 3.0, 0.05, cpa_jitter_unit("dev-a")));
}

static void test_cpa_renewal_time_clamped_before_expiry(void **state) {
  (void)state;
  int64_t na = T0 + 100;
  int64_t r = cpa_renewal_time(T0, na, 0.95, 0.25, 0.99);
  assert_true(r <= na - 5);
  assert_true(r >= T0 + 10);
}

static void test_cpa_renewal_time_inverted_window_returns_not_before(void **state) {
  (void)state;
  assert_int_equal(cpa_renewal_time(T0, T0 - 5, 2.0 / 3.0, 0.05, 0.3), T0);
}

static cpa_backoff bo(int attempt, int64_t not_after, int64_t retry_after) {
  cpa_backoff b = {.attempt = attempt, .initial = 30, .max = 6 * 3600, .time_left_fraction = 0.25,
                   .not_after = not_after, .retry_after = retry_after};
  return b;
}

static void test_cpa_backoff_delay_ceiling_doubles_then_caps(void **state) {
  (void)state;
  cpa_backoff b = bo(0, 0, 0);
  const double top = 0.9999999;
  assert_in_range(cpa_backoff_delay(&b, T0, top), 29, 30);
  b.attempt = 1;
  assert_in_range(cpa_backoff_delay(&b, T0, top), 59, 60);
  b.attempt = 4;
  assert_in_range(cpa_backoff_delay(&b, T0, top), 479, 480);
  b.attempt = 40; /* far past the cap, no overflow */
  assert_in_range(cpa_backoff_delay(&b, T0, top), 6 * 3600 - 1, 6 * 3600);
}

static void test_cpa_backoff_delay_full_jitter_spans_zero_to_ceiling(void **state) {
  (void)state;
  cpa_backoff b = bo(3, 0, 0); /* ceiling 240 */
  assert_int_equal(cpa_backoff_delay(&b, T0, 0.0), CPA_MIN_RETRY_SECONDS);
  assert_int_equal(cpa_backoff_delay(&b, T0, 0.5), 120);
  /* many draws: all in [1, 240], mean near 120 */
  double sum = 0;
  unsigned s = 12345;
  for (int i = 0; i < 1000; i++) {
    s = s * 1103515245u + 12345u;
    int64_t d = cpa_backoff_delay(&b, T0, (double)(s >> 8) / 16777216.0);
    assert_in_range(d, 1, 240);
    sum += (double)d;
  }
  assert_in_range((int64_t)(sum / 1000), 105, 135);
}

static void test_cpa_backoff_delay_denser_as_expiry_nears(void **state) {
  (void)state;
  const double top = 0.9999999;
  cpa_backoff far = bo(20, T0 + 30 * DAY, 0);
  cpa_backoff near = bo(20, T0 + 3600, 0);
  cpa_backoff nearer = bo(20, T0 + 60, 0);
  int64_t d_far = cpa_backoff_delay(&far, T0, top);
  int64_t d_near = cpa_backoff_delay(&near, T0, top);
  int64_t d_nearer = cpa_backoff_delay(&nearer, T0, top);
  assert_true(d_far > d_near && d_near > d_nearer);
  assert_true(d_near <= 900);   /* 25 % of the hour left */
  assert_true(d_nearer <= 15);  /* 25 % of the minute left */
  assert_true(d_nearer >= CPA_MIN_RETRY_SECONDS);
}

static void test_cpa_backoff_delay_expired_uses_exponential_cap_not_tight_loop(void **state) {
  (void)state;
  cpa_backoff b = bo(10, T0 - 10, 0); /* expired: no time-left cap, still never 0 */
  assert_true(cpa_backoff_delay(&b, T0, 0.9999) > 3600);
  assert_int_equal(cpa_backoff_delay(&b, T0, 0.0), CPA_MIN_RETRY_SECONDS);
}

static void test_cpa_backoff_delay_retry_after_honoured(void **state) {
  (void)state;
  cpa_backoff b = bo(0, T0 + 30 * DAY, 120);
  assert_int_equal(cpa_backoff_delay(&b, T0, 0.0), 120);
  assert_int_equal(cpa_backoff_delay(&b, T0, 0.9999), 120); /* ceiling 30 < retry-after */
  b.attempt = 8; /* ceiling 7680 > retry-after: jitter may draw more, never less */
  assert_true(cpa_backoff_delay(&b, T0, 0.01) >= 120);
  b.retry_after = 999999; /* absurd server value: capped at backoff max */
  assert_int_equal(cpa_backoff_delay(&b, T0, 0.5), 6 * 3600);
}

static void test_cpa_cert_phase_at_classifies_window(void **state) {
  (void)state;
  int64_t build = T0 - 100 * DAY, nb = T0, na = T0 + 90 * DAY, ra = T0 + 60 * DAY;
  assert_int_equal(cpa_cert_phase_at(T0 + DAY, build, nb, na, ra), CPA_PHASE_VALID);
  assert_int_equal(cpa_cert_phase_at(ra, build, nb, na, ra), CPA_PHASE_RENEW_DUE);
  assert_int_equal(cpa_cert_phase_at(na - 1, build, nb, na, ra), CPA_PHASE_RENEW_DUE);
  assert_int_equal(cpa_cert_phase_at(na, build, nb, na, ra), CPA_PHASE_EXPIRED);
}

static void test_cpa_cert_phase_at_clock_before_build_is_suspect_not_expired(void **state) {
  (void)state;
  /* an RTC reset to 1970 must not make a valid certificate look expired or not-yet-valid */
  int64_t build = T0 - DAY, nb = T0, na = T0 + 90 * DAY;
  assert_int_equal(cpa_cert_phase_at(0, build, nb, na, na - DAY), CPA_PHASE_CLOCK_SUSPECT);
  assert_int_equal(cpa_cert_phase_at(build - 1, build, nb, na, na - DAY), CPA_PHASE_CLOCK_SUSPECT);
}

static void test_cpa_cert_phase_at_clock_before_not_before_is_suspect(void **state) {
  (void)state;
  int64_t build = T0 - 100 * DAY, nb = T0, na = T0 + 90 * DAY;
  assert_int_equal(cpa_cert_phase_at(nb - 1, build, nb, na, na - DAY), CPA_PHASE_CLOCK_SUSPECT);
  assert_string_equal(cpa_cert_phase_name(CPA_PHASE_CLOCK_SUSPECT), "clock-suspect");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpa_jitter_unit_same_id_is_stable),
      cmocka_unit_test(test_cpa_jitter_unit_fleet_spreads_evenly),
      cmocka_unit_test(test_cpa_renewal_time_default_fraction_is_two_thirds),
      cmocka_unit_test(test_cpa_renewal_time_jitter_moves_within_bound),
      cmocka_unit_test(test_cpa_renewal_time_clamped_before_expiry),
      cmocka_unit_test(test_cpa_renewal_time_inverted_window_returns_not_before),
      cmocka_unit_test(test_cpa_backoff_delay_ceiling_doubles_then_caps),
      cmocka_unit_test(test_cpa_backoff_delay_full_jitter_spans_zero_to_ceiling),
      cmocka_unit_test(test_cpa_backoff_delay_denser_as_expiry_nears),
      cmocka_unit_test(test_cpa_backoff_delay_expired_uses_exponential_cap_not_tight_loop),
      cmocka_unit_test(test_cpa_backoff_delay_retry_after_honoured),
      cmocka_unit_test(test_cpa_cert_phase_at_classifies_window),
      cmocka_unit_test(test_cpa_cert_phase_at_clock_before_build_is_suspect_not_expired),
      cmocka_unit_test(test_cpa_cert_phase_at_clock_before_not_before_is_suspect),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
