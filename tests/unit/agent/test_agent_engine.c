/* Unit tests of certpilotd's decision logic with fake network/crypto ops and a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_engine.h"
#include "agent_log.h"
#include "agent_status.h"

#define BUILD 1700000000LL
#define T0 1800000000LL
#define LIFE 3000LL

typedef struct fake {
  int64_t now;
  int serial;              /* next certificate number */
  int64_t life;
  int64_t backdate;        /* notBefore = now - backdate */
  cp_result prov_result;   /* what provision returns next (sticky) */
  int64_t prov_retry_after;
  int prov_calls;
  cp_result hub_result_new;     /* hub answer for a certificate not yet current */
  cp_result hub_result_current; /* hub answer for the current one */
  int hub_calls;
  cpa_twin_report last_report;
  char last_report_error[CPA_MSG_MAX];
  int last_report_had_error;
  int hook_calls;
  char hooked[8][32];
  bool stop;
  char current_serial[16];
} fake;

static fake F;
static cpa_config cfg;
static char tmpdir[64];

static cp_result f_provision(void *ctx, const cpa_config *c, cpa_generation *g, cpa_issue_result *out) {
  fake *f = ctx;
  (void)c;
  f->prov_calls++;
  if (f->prov_result != CP_OK) {
    out->retry_after = f->prov_retry_after;
    snprintf(out->message, sizeof out->message, "fake failure");
    return f->prov_result;
  }
  int n = f->serial++;
  g->key_len = (size_t)snprintf(g->key_pem, sizeof g->key_pem, "KEY %d\n", n);
  g->chain_len = (size_t)snprintf(g->chain_pem, sizeof g->chain_pem, "CHAIN %d %lld %lld\n", n,
                                  (long long)(f->now - f->backdate), (long long)(f->now + f->life));
  snprintf(out->device_id, sizeof out->device_id, "dev-1");
  snprintf(out->assigned_hub, sizeof out->assigned_hub, "hub.local");
  return CP_OK;
}

static cp_result f_match(void *ctx, const char *k, size_t kl, const char *c, size_t cl) {
  (void)ctx;
  (void)kl;
  (void)cl;
  int a = -1, b = -2;
  sscanf(k, "KEY %d", &a);
  sscanf(c, "CHAIN %d", &b);
  return a == b ? CP_OK : CP_ERR_KEY_MISMATCH;
}

static cp_result f_verify(void *ctx, const cpa_config *c, const cpa_generation *g, int64_t now,
                          char *msg, size_t n) {
  (void)c;
  (void)now;
  (void)n;
  (void)msg;
  return f_match(ctx, g->key_pem, g->key_len, g->chain_pem, g->chain_len);
}

static cp_result f_facts(void *ctx, const char *chain, size_t len, cpa_cert_facts *out) {
  (void)ctx;
  (void)len;
  int n;
  long long nb, na;
  if (sscanf(chain, "CHAIN %d %lld %lld", &n, &nb, &na) != 3) return CP_ERR_PARSE;
  memset(out, 0, sizeof *out);
  out->not_before = nb;
  out->not_after = na;
  snprintf(out->serial_hex, sizeof out->serial_hex, "%04x", n);
  snprintf(out->issuer, sizeof out->issuer, "CN=fake ICA");
  snprintf(out->subject_cn, sizeof out->subject_cn, "dev-1");
  return CP_OK;
}

static cp_result f_hub(void *ctx, const cpa_config *c, const char *hub, const char *dev,
                       const cpa_generation *g, const cpa_twin_report *rep, char *msg, size_t n) {
  fake *f = ctx;
  (void)c;
  (void)n;
  (void)msg;
  f->hub_calls++;
  assert_string_equal(hub, "hub.local");
  assert_string_equal(dev, "dev-1");
  char serial[16];
  int num = -1;
  sscanf(g->chain_pem, "CHAIN %d", &num);
  snprintf(serial, sizeof serial, "%04x", num);
  bool is_current = strcmp(serial, f->current_serial) == 0;
  cp_result r = is_current ? f->hub_result_current : f->hub_result_new;
  if (r == CP_OK && rep) {
    f->last_report = *rep;
    f->last_report_had_error = rep->last_error != NULL;
    snprintf(f->last_report_error, sizeof f->last_report_error, "%s", rep->last_error ? rep->last_error : "");
    snprintf(f->current_serial, sizeof f->current_serial, "%s", serial);
  } else if (r == CP_OK) {
    snprintf(f->current_serial, sizeof f->current_serial, "%s", serial);
  }
  return r;
}

static void f_hook(void *ctx, const cpa_config *c, const char *dev, const cpa_generation *g,
                   const cpa_cert_facts *facts, char *result, size_t n) {
  fake *f = ctx;
  (void)c;
  (void)dev;
  (void)facts;
  if (f->hook_calls < 8) snprintf(f->hooked[f->hook_calls], sizeof f->hooked[0], "%s", g->name);
  f->hook_calls++;
  snprintf(result, n, "ok");
}

static int64_t f_now(void *ctx) { return ((fake *)ctx)->now; }
static double f_rand(void *ctx) { (void)ctx; return 0.5; }
static bool f_stop(void *ctx) { return ((fake *)ctx)->stop; }

static const cpa_ops OPS = {&F, f_provision, f_match, f_verify, f_facts, f_hub, f_hook,
                            f_now, f_rand, f_stop};

static int setup(void **state) {
  (void)state;
  memset(&F, 0, sizeof F);
  F.now = T0;
  F.serial = 1;
  F.life = LIFE;
  snprintf(tmpdir, sizeof tmpdir, "/tmp/cpa-engine-XXXXXX");
  if (!mkdtemp(tmpdir)) return -1;
  cpa_config_defaults(&cfg);
  snprintf(cfg.registration_id, sizeof cfg.registration_id, "dev-1");
  snprintf(cfg.endpoint, sizeof cfg.endpoint, "dps.local");
  snprintf(cfg.state_dir, sizeof cfg.state_dir, "%s/state", tmpdir);
  snprintf(cfg.run_dir, sizeof cfg.run_dir, "%s/run", tmpdir);
  snprintf(cfg.metrics_file, sizeof cfg.metrics_file, "%s/run/certpilot.prom", tmpdir);
  snprintf(cfg.post_renewal, sizeof cfg.post_renewal, "true");
  cfg.backoff_initial = 10;
  cfg.backoff_max = 600;
  cpa_log_init(2); /* quiet */
  return 0;
}

static int teardown(void **state) {
  (void)state;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", tmpdir);
  return system(cmd) == 0 ? 0 : -1;
}

static void start(cpa_engine *e) {
  char err[256];
  assert_int_equal(cpa_engine_init(e, &cfg, &OPS, BUILD), CP_OK);
  assert_int_equal(cpa_engine_start(e, err, sizeof err), CP_OK);
}

static void test_cpa_engine_start_empty_state_provisions_at_once(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  assert_int_equal(e.state, CPA_RUN_NO_CERT);
  assert_true(e.next_attempt <= F.now);
  int64_t next = cpa_engine_step(&e, false);
  assert_int_equal(F.prov_calls, 1);
  assert_true(e.have_cert);
  assert_int_equal(e.state, CPA_RUN_VALID);
  assert_string_equal(e.cur->name, "gen-00000001");
  /* renewal at 2/3 of the lifetime, moved by at most 5 % */
  assert_in_range(next, T0 + LIFE * 2 / 3 - LIFE / 20, T0 + LIFE * 2 / 3 + LIFE / 20);
  assert_int_equal(F.hook_calls, 1);
  assert_int_equal(F.last_report.renewal_count, 1);
  assert_int_equal(F.last_report.cert.not_after, T0 + LIFE);
  assert_false(F.last_report_had_error);
  cpa_engine_free(&e);
}

static void test_cpa_engine_backdated_not_before_counts_lifetime_from_receipt(void **state) {
  (void)state;
  cpa_engine e;
  F.backdate = 300; /* issuer backdates notBefore by 5 minutes */
  F.life = 12;      /* dev-mode certificate valid for 12 s after issuance */
  start(&e);
  int64_t next = cpa_engine_step(&e, false);
  assert_int_equal(e.facts.not_before, T0 - 300);
  assert_int_equal(next, T0 + 8); /* 2/3 of the 12 s held, not of 312 s (already past) */
  F.now = T0 + 4;
  assert_int_equal(cpa_engine_step(&e, false), T0 + 8);
  assert_int_equal(F.prov_calls, 1); /* no renewal storm */
  cpa_engine_free(&e);
  /* after a restart the receipt time comes from meta.json */
  start(&e);
  assert_int_equal(e.renew_at, T0 + 8);
  cpa_engine_free(&e);
}

static void test_cpa_engine_step_before_window_does_nothing(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  int64_t next = cpa_engine_step(&e, false);
  F.now = next - 1;
  assert_int_equal(cpa_engine_step(&e, false), next);
  assert_int_equal(F.prov_calls, 1);
  cpa_engine_free(&e);
}

static void test_cpa_engine_step_in_window_renews_three_times_new_key_each(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  int64_t next = cpa_engine_step(&e, false);
  char keys[4][32];
  snprintf(keys[0], sizeof keys[0], "%.30s", e.cur->key_pem);
  for (int i = 1; i <= 3; i++) {
    F.now = next;
    next = cpa_engine_step(&e, false);
    snprintf(keys[i], sizeof keys[i], "%.30s", e.cur->key_pem);
    for (int j = 0; j < i; j++) assert_string_not_equal(keys[i], keys[j]);
    assert_int_equal(F.last_report.cert.not_after, F.now + LIFE); /* twin shows the new validUntil */
  }
  assert_int_equal(F.prov_calls, 4);
  assert_int_equal(e.renewal_count, 4);
  assert_int_equal(F.hook_calls, 4); /* once per new certificate */
  for (int i = 0; i < 4; i++) {
    char want[32];
    snprintf(want, sizeof want, "gen-%08d", i + 1);
    assert_string_equal(F.hooked[i], want);
  }
  cpa_engine_free(&e);
}

static void test_cpa_engine_provision_failure_backs_off_then_recovers(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  int64_t next = cpa_engine_step(&e, false);
  F.now = next;
  F.prov_result = CP_ERR_TRANSPORT; /* server down during the renewal window */
  int64_t retry = cpa_engine_step(&e, false);
  assert_int_equal(e.state, CPA_RUN_BACKOFF);
  assert_in_range(retry, F.now + 1, F.now + 10);
  assert_non_null(strstr(e.last_error, cp_result_str(CP_ERR_TRANSPORT)));
  /* the failure was reported through the still-valid certificate */
  assert_true(F.last_report_had_error);
  assert_non_null(strstr(F.last_report_error, "provisioning failed"));
  F.now = retry - 1;
  assert_int_equal(cpa_engine_step(&e, false), retry); /* no tight loop */
  assert_int_equal(F.prov_calls, 2);
  F.now = retry;
  int64_t retry2 = cpa_engine_step(&e, false);
  assert_in_range(retry2 - F.now, 1, 20); /* second ceiling: 20 s */
  F.prov_result = CP_OK;
  F.now = retry2;
  cpa_engine_step(&e, false);
  assert_int_equal(e.state, CPA_RUN_VALID);
  assert_int_equal(e.attempt, 0);
  assert_string_equal(e.last_error, "");
  assert_int_equal(e.failure_count, 2);
  cpa_engine_free(&e);
}

static void test_cpa_engine_retry_after_is_honoured(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  F.prov_result = CP_ERR_REFUSED;
  F.prov_retry_after = 120;
  assert_true(cpa_engine_step(&e, false) >= T0 + 120);
  cpa_engine_free(&e);
}

static void test_cpa_engine_disabled_reports_and_backs_off_long(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  int64_t next = cpa_engine_step(&e, false);
  F.now = next;
  F.prov_result = CP_ERR_DISABLED;
  int64_t again = cpa_engine_step(&e, false);
  assert_int_equal(e.state, CPA_RUN_DISABLED);
  assert_int_equal(again, F.now + cfg.disabled_backoff);
  assert_non_null(strstr(F.last_report_error, "disabled"));
  F.now += 600; /* still inside the long back-off: nothing happens */
  assert_int_equal(cpa_engine_step(&e, false), again);
  assert_int_equal(F.prov_calls, 2);
  cpa_engine_free(&e);
}

static void test_cpa_engine_hub_refuses_new_cert_keeps_previous(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  int64_t next = cpa_engine_step(&e, false);
  F.now = next;
  F.hub_result_new = CP_ERR_UNAUTHORIZED;
  cpa_engine_step(&e, false);
  assert_int_equal(e.state, CPA_RUN_BACKOFF);
  assert_string_equal(e.cur->name, "gen-00000001");
  assert_non_null(strstr(e.last_error, "hub refused the new certificate"));
  assert_int_equal(e.renewal_count, 1);
  assert_int_equal(F.hook_calls, 1); /* no hook for a certificate not put in place */
  /* on disk, current is still the first generation */
  cpa_generation *g = calloc(1, sizeof *g);
  char err[256];
  assert_int_equal(cpa_state_load(cfg.state_dir, f_match, NULL, g, err, sizeof err), CP_OK);
  assert_string_equal(g->name, "gen-00000001");
  free(g);
  cpa_engine_free(&e);
}

static void test_cpa_engine_start_hub_refuses_current_reonboards(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  cpa_engine_step(&e, false);
  cpa_engine_free(&e);
  F.now += 60;
  F.hub_result_current = CP_ERR_UNAUTHORIZED; /* device revoked while we were down */
  start(&e);
  assert_true(e.next_attempt <= F.now); /* report at start */
  cpa_engine_step(&e, false);
  assert_int_equal(F.hub_calls, 3); /* first issuance, start report (refused), new cert */
  assert_int_equal(F.prov_calls, 2);
  assert_false(e.reonboard);
  assert_string_equal(e.cur->name, "gen-00000002");
  cpa_engine_free(&e);
}

static void test_cpa_engine_expired_cert_reonboards(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  cpa_engine_step(&e, false);
  F.now = T0 + LIFE + 10; /* asleep past expiry */
  cpa_engine_step(&e, false);
  assert_int_equal(F.prov_calls, 2);
  assert_int_equal(e.facts.not_after, F.now + LIFE);
  cpa_engine_free(&e);
}

static void test_cpa_engine_clock_before_build_time_takes_no_action(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  cpa_engine_step(&e, false);
  F.now = 86400; /* RTC reset to 1970 */
  int64_t next = cpa_engine_step(&e, false);
  assert_int_equal(e.state, CPA_RUN_CLOCK_SUSPECT);
  assert_int_equal(F.prov_calls, 1);
  assert_true(next > F.now);
  F.now = T0 + 10; /* clock fixed: back to normal */
  cpa_engine_step(&e, false);
  assert_int_equal(e.state, CPA_RUN_VALID);
  assert_int_equal(F.prov_calls, 1);
  cpa_engine_free(&e);
}

static void test_cpa_engine_stop_requested_mid_renewal_keeps_current(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  cpa_engine_step(&e, false);
  F.stop = true;
  cpa_engine_step(&e, true);
  assert_string_equal(e.cur->name, "gen-00000001");
  cpa_generation *g = calloc(1, sizeof *g);
  char err[256];
  assert_int_equal(cpa_state_load(cfg.state_dir, f_match, NULL, g, err, sizeof err), CP_OK);
  assert_string_equal(g->name, "gen-00000001");
  free(g);
  cpa_engine_free(&e);
}

static void test_cpa_engine_restart_resumes_count_without_rerunning_hook(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  int64_t next = cpa_engine_step(&e, false);
  F.now = next;
  cpa_engine_step(&e, false);
  cpa_engine_free(&e);
  start(&e);
  assert_int_equal(e.renewal_count, 2);
  assert_string_equal(e.device_id, "dev-1");
  assert_int_equal(F.hook_calls, 2);
  cpa_engine_free(&e);
}

static void test_cpa_engine_failures_near_expiry_retry_denser(void **state) {
  (void)state;
  cpa_engine e;
  cfg.backoff_max = 100000;
  start(&e);
  cpa_engine_step(&e, false);
  F.prov_result = CP_ERR_TIMEOUT;
  F.now = T0 + LIFE * 2 / 3 + LIFE / 20;
  for (int i = 0; i < 30 && F.now < T0 + LIFE; i++) {
    int64_t next = cpa_engine_step(&e, false);
    int64_t left = T0 + LIFE - F.now;
    assert_true(next - F.now >= 1);
    if (left >= 4) assert_true(next - F.now <= left / 4 + 1);
    F.now = next;
  }
  cpa_engine_free(&e);
}

static void test_cpa_status_json_and_prometheus_show_certificate(void **state) {
  (void)state;
  cpa_engine e;
  start(&e);
  cpa_engine_step(&e, false);
  assert_int_equal(cpa_status_write(&e, F.now), CP_OK);
  char *json = cpa_status_json(&e, F.now);
  assert_non_null(strstr(json, "\"state\":\t\"valid\""));
  assert_non_null(strstr(json, "\"secondsToExpiry\":\t3000"));
  assert_non_null(strstr(json, "\"renewalCount\":\t1"));
  free(json);
  char prom[4096];
  assert_int_equal(cpa_status_prometheus(&e, F.now + 1000, prom, sizeof prom), CP_OK);
  assert_non_null(strstr(prom, "certpilot_certificate_expiry_seconds{registration_id=\"dev-1\"} 2000\n"));
  assert_non_null(strstr(prom, "certpilot_renewals_total{registration_id=\"dev-1\"} 1\n"));
  assert_non_null(strstr(prom, "certpilot_failures_total{registration_id=\"dev-1\"} 0\n"));
  char line[256];
  cpa_status_line(&e, F.now, line, sizeof line);
  assert_non_null(strstr(line, "valid: serial 0001"));
  char p[CPA_PATH_MAX + 32];
  snprintf(p, sizeof p, "%s/status.json", cfg.run_dir);
  assert_int_equal(access(p, R_OK), 0);
  assert_int_equal(access(cfg.metrics_file, R_OK), 0);
  assert_int_equal(cpa_status_prometheus(&e, F.now, prom, 64), CP_ERR_BUFFER_TOO_SMALL);
  cpa_engine_free(&e);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cpa_engine_start_empty_state_provisions_at_once, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_backdated_not_before_counts_lifetime_from_receipt, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_step_before_window_does_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_step_in_window_renews_three_times_new_key_each, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_provision_failure_backs_off_then_recovers, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_retry_after_is_honoured, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_disabled_reports_and_backs_off_long, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_hub_refuses_new_cert_keeps_previous, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_start_hub_refuses_current_reonboards, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_expired_cert_reonboards, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_clock_before_build_time_takes_no_action, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_stop_requested_mid_renewal_keeps_current, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_restart_resumes_count_without_rerunning_hook, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_engine_failures_near_expiry_retry_denser, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cpa_status_json_and_prometheus_show_certificate, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
