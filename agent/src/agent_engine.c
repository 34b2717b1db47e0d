/* certpilotd decision logic (see agent_engine.h). No I/O except the state
 * directory; network and crypto through cpa_ops. */
#include "agent_engine.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "agent_log.h"

#define CLOCK_SUSPECT_RECHECK 300
#define HOOK_DONE_FILE "hook.done"

const char *cpa_run_state_name(cpa_run_state s) {
  switch (s) {
  case CPA_RUN_STARTING: return "starting";
  case CPA_RUN_NO_CERT: return "no-certificate";
  case CPA_RUN_VALID: return "valid";
  case CPA_RUN_BACKOFF: return "backoff";
  case CPA_RUN_DISABLED: return "disabled";
  case CPA_RUN_CLOCK_SUSPECT: return "clock-suspect";
  case CPA_RUN_STOPPED: return "stopped";
  }
  return "?";
}

cp_result cpa_engine_init(cpa_engine *e, const cpa_config *cfg, const cpa_ops *ops,
                          int64_t build_time) {
  memset(e, 0, sizeof *e);
  e->cfg = cfg;
  e->ops = *ops;
  e->build_time = build_time;
  e->cur = calloc(1, sizeof *e->cur);
  e->work = calloc(1, sizeof *e->work);
  if (!e->cur || !e->work) {
    free(e->cur);
    free(e->work);
    e->cur = e->work = NULL;
    return CP_ERR_NO_MEMORY;
  }
  return CP_OK;
}

static void wipe_gen(cpa_generation *g) {
  if (!g) return;
  volatile unsigned char *p = (volatile unsigned char *)g;
  for (size_t i = 0; i < sizeof *g; i++) p[i] = 0;
}

void cpa_engine_free(cpa_engine *e) {
  wipe_gen(e->cur);
  wipe_gen(e->work);
  free(e->cur);
  free(e->work);
  e->cur = e->work = NULL;
}

static void iso_time(int64_t t, char *out, size_t n) {
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* meta.json: what the agent needs to resume without the network. */
static void build_meta(const cpa_engine *e, cpa_generation *g, const cpa_issue_result *iss,
                       uint32_t count, int64_t now) {
  char when[32];
  iso_time(now, when, sizeof when);
  cJSON *o = cJSON_CreateObject();
  cJSON_AddStringToObject(o, "registrationId", e->cfg->registration_id);
  cJSON_AddStringToObject(o, "deviceId", iss->device_id);
  cJSON_AddStringToObject(o, "assignedHub", iss->assigned_hub);
  cJSON_AddStringToObject(o, "issuedAt", when);
  cJSON_AddNumberToObject(o, "issuedAtEpoch", (double)now);
  cJSON_AddNumberToObject(o, "renewalCount", count);
  char *s = o ? cJSON_PrintUnformatted(o) : NULL;
  g->meta_len = 0;
  if (s && strlen(s) + 2 <= sizeof g->meta_json) {
    g->meta_len = (size_t)snprintf(g->meta_json, sizeof g->meta_json, "%s\n", s);
  }
  free(s);
  cJSON_Delete(o);
}

static void read_meta(cpa_engine *e) {
  cJSON *o = cJSON_ParseWithLength(e->cur->meta_json, e->cur->meta_len);
  if (!o) return;
  const cJSON *v;
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "deviceId")))
    snprintf(e->device_id, sizeof e->device_id, "%s", v->valuestring);
  if (cJSON_IsString(v = cJSON_GetObjectItemCaseSensitive(o, "assignedHub")))
    snprintf(e->assigned_hub, sizeof e->assigned_hub, "%s", v->valuestring);
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "renewalCount")) && v->valuedouble >= 0)
    e->renewal_count = (uint32_t)v->valuedouble;
  if (cJSON_IsNumber(v = cJSON_GetObjectItemCaseSensitive(o, "issuedAtEpoch")))
    e->renewed_at = (int64_t)v->valuedouble;
  cJSON_Delete(o);
}

static bool is_refusal(cp_result r) {
  return r == CP_ERR_UNAUTHORIZED || r == CP_ERR_REFUSED || r == CP_ERR_TLS;
}

static void fill_report(const cpa_engine *e, const cpa_cert_facts *f, cpa_twin_report *rep) {
  memset(rep, 0, sizeof *rep);
  rep->cert = *f;
  rep->renewed_at = e->renewed_at;
  rep->renewal_count = e->renewal_count;
  rep->last_error = e->last_error[0] ? e->last_error : NULL;
}

static void hook_done_path(const cpa_engine *e, char *out, size_t n) {
  if (snprintf(out, n, "%s/%s", e->cfg->state_dir, HOOK_DONE_FILE) >= (int)n) out[0] = '\0';
}

static void run_hook_once(cpa_engine *e) {
  if (!e->ops.run_hook || e->cfg->post_renewal[0] == '\0') return;
  if (strcmp(e->hook_generation, e->cur->name) == 0) return;
  e->ops.run_hook(e->ops.ctx, e->cfg, e->device_id, e->cur, &e->facts, e->hook_result,
                  sizeof e->hook_result);
  snprintf(e->hook_generation, sizeof e->hook_generation, "%s", e->cur->name);
  char p[CPA_PATH_MAX + 16];
  hook_done_path(e, p, sizeof p);
  if (p[0]) cpa_write_file_atomic(p, e->cur->name, strlen(e->cur->name), 0644);
  cpa_log(e->hook_result[0] == 'o' ? CP_LOG_INFO : CP_LOG_WARNING, "post-renewal hook for %s: %s",
          e->cur->name, e->hook_result);
}

int64_t cpa_engine_renewal_time(const cpa_engine *e) {
  /* Issuers often backdate notBefore (clock-skew allowance): count the lifetime
   * from when we received the certificate when that is later, so a short-lived
   * certificate is not "due" the moment it arrives. */
  int64_t start = e->facts.not_before;
  if (e->renewed_at > start && e->renewed_at < e->facts.not_after) start = e->renewed_at;
  return cpa_renewal_time(start, e->facts.not_after, e->cfg->renewal_fraction,
                          e->cfg->jitter_fraction, cpa_jitter_unit(e->cfg->registration_id));
}

static int64_t schedule_valid(cpa_engine *e, int64_t now) {
  e->state = CPA_RUN_VALID;
  e->attempt = 0;
  e->next_attempt = e->renew_at > now ? e->renew_at : now + CPA_MIN_RETRY_SECONDS;
  return e->next_attempt;
}

static void try_report(cpa_engine *e) {
  if (!e->cfg->twin_report || !e->have_cert || !e->ops.hub_report) return;
  cpa_twin_report rep;
  fill_report(e, &e->facts, &rep);
  char msg[CPA_MSG_MAX] = "";
  cp_result r = e->ops.hub_report(e->ops.ctx, e->cfg, e->assigned_hub, e->device_id, e->cur, &rep,
                                  msg, sizeof msg);
  if (r == CP_OK) {
    e->report_pending = false;
  } else if (is_refusal(r)) {
    cpa_log(CP_LOG_WARNING, "hub refused the current certificate (%s: %s): re-onboarding",
            cp_result_str(r), msg);
    e->reonboard = true;
    e->report_pending = false;
  } else {
    cpa_log(CP_LOG_WARNING, "twin report failed (%s: %s); will report after the next event",
            cp_result_str(r), msg);
    e->report_pending = true;
  }
}

cp_result cpa_engine_start(cpa_engine *e, char *err, size_t err_size) {
  int64_t now = e->ops.now(e->ops.ctx);
  cp_result r = cpa_state_init(e->cfg->state_dir, err, err_size);
  if (r != CP_OK) return r;
  r = cpa_state_load(e->cfg->state_dir, e->ops.match, e->ops.ctx, e->cur, err, err_size);
  if (r == CP_ERR_NOT_FOUND) {
    e->have_cert = false;
    e->state = CPA_RUN_NO_CERT;
    e->next_attempt = now;
    cpa_log(CP_LOG_NOTICE, "no certificate in %s: provisioning with the onboarding credential",
            e->cfg->state_dir);
    return CP_OK;
  }
  if (r != CP_OK) return r;
  if (e->ops.facts(e->ops.ctx, e->cur->chain_pem, e->cur->chain_len, &e->facts) != CP_OK) {
    cpa_log(CP_LOG_ERROR, "%s: leaf does not parse; provisioning again", e->cur->name);
    e->have_cert = false;
    e->state = CPA_RUN_NO_CERT;
    e->next_attempt = now;
    return CP_OK;
  }
  e->have_cert = true;
  read_meta(e);
  char p[CPA_PATH_MAX + 16];
  hook_done_path(e, p, sizeof p);
  FILE *f = p[0] ? fopen(p, "r") : NULL;
  if (f) {
    if (!fgets(e->hook_generation, sizeof e->hook_generation, f)) e->hook_generation[0] = '\0';
    fclose(f);
  }
  e->renew_at = cpa_engine_renewal_time(e);
  char until[32], renew[32];
  iso_time(e->facts.not_after, until, sizeof until);
  iso_time(e->renew_at, renew, sizeof renew);
  cpa_log(CP_LOG_INFO, "loaded %s: serial %s, valid until %s, renewal at %s", e->cur->name,
          e->facts.serial_hex, until, renew);
  e->last_success = e->renewed_at;
  run_hook_once(e); /* a crash between commit and hook: run it now */
  /* report at start; the first step does it, and re-onboards if the hub refuses */
  e->report_pending = e->cfg->twin_report;
  schedule_valid(e, now);
  if (e->report_pending) e->next_attempt = now;
  return CP_OK;
}

static int64_t fail(cpa_engine *e, int64_t now, cp_result r, const char *what, const char *msg,
                    int64_t retry_after) {
  e->failure_count++;
  e->attempt++;
  snprintf(e->last_error, sizeof e->last_error, "%s: %s%s%s", what, cp_result_str(r),
           msg && msg[0] ? ": " : "", msg ? msg : "");
  int64_t delay;
  if (r == CP_ERR_DISABLED) {
    e->state = CPA_RUN_DISABLED;
    delay = e->cfg->disabled_backoff > retry_after ? e->cfg->disabled_backoff : retry_after;
  } else {
    e->state = CPA_RUN_BACKOFF;
    cpa_backoff b = {
        .attempt = e->attempt - 1,
        .initial = e->cfg->backoff_initial,
        .max = e->cfg->backoff_max,
        .time_left_fraction = e->cfg->backoff_time_left_fraction,
        .not_after = e->have_cert && !e->reonboard ? e->facts.not_after : 0,
        .retry_after = retry_after,
    };
    delay = cpa_backoff_delay(&b, now, e->ops.rand01(e->ops.ctx));
  }
  e->next_attempt = now + delay;
  cpa_log(CP_LOG_WARNING, "%s; next attempt in %llds (%s, attempt %d)", e->last_error,
          (long long)delay, cpa_run_state_name(e->state), e->attempt);
  /* tell the hub what went wrong while the current certificate still works */
  if (e->have_cert && !e->reonboard && now < e->facts.not_after) try_report(e);
  return e->next_attempt;
}

static int64_t issue(cpa_engine *e, int64_t now) {
  e->last_attempt = now;
  bool reonboarding = e->reonboard || !e->have_cert;
  cpa_log(CP_LOG_NOTICE, "%s: requesting a new certificate from %s (%s)",
          !e->have_cert ? "provisioning" : e->reonboard ? "re-onboarding" : "renewing",
          e->cfg->endpoint, cpa_transport_name(e->cfg->transport));
  cpa_generation *w = e->work;
  memset(w, 0, sizeof *w);
  cpa_issue_result iss;
  memset(&iss, 0, sizeof iss);
  cp_result r = e->ops.provision(e->ops.ctx, e->cfg, w, &iss);
  if (r != CP_OK) return fail(e, now, r, "provisioning failed", iss.message, iss.retry_after);
  char msg[CPA_MSG_MAX] = "";
  r = e->ops.verify(e->ops.ctx, e->cfg, w, now, msg, sizeof msg);
  if (r != CP_OK) return fail(e, now, r, "issued chain rejected", msg, 0);
  cpa_cert_facts facts;
  r = e->ops.facts(e->ops.ctx, w->chain_pem, w->chain_len, &facts);
  if (r != CP_OK) return fail(e, now, r, "issued leaf unreadable", "", 0);
  if (e->ops.stop_requested && e->ops.stop_requested(e->ops.ctx)) return now;
  build_meta(e, w, &iss, e->renewal_count + 1, now);
  char err[CPA_MSG_MAX] = "";
  r = cpa_state_stage(e->cfg->state_dir, w, err, sizeof err);
  if (r != CP_OK) return fail(e, now, r, "cannot stage the new generation", err, 0);
  if (e->ops.stop_requested && e->ops.stop_requested(e->ops.ctx)) {
    cpa_state_discard(e->cfg->state_dir, w->name);
    return now;
  }
  /* the hub must accept the new certificate before it replaces the old one */
  uint32_t saved_count = e->renewal_count;
  int64_t saved_renewed = e->renewed_at;
  char saved_error[CPA_MSG_MAX];
  snprintf(saved_error, sizeof saved_error, "%s", e->last_error);
  e->renewal_count++;
  e->renewed_at = now;
  e->last_error[0] = '\0';
  bool reported = false;
  if (e->ops.hub_report) {
    cpa_twin_report rep;
    fill_report(e, &facts, &rep);
    r = e->ops.hub_report(e->ops.ctx, e->cfg, iss.assigned_hub, iss.device_id, w,
                          e->cfg->twin_report ? &rep : NULL, msg, sizeof msg);
    if (is_refusal(r)) {
      cpa_state_discard(e->cfg->state_dir, w->name);
      e->renewal_count = saved_count;
      e->renewed_at = saved_renewed;
      snprintf(e->last_error, sizeof e->last_error, "%s", saved_error);
      return fail(e, now, r, "hub refused the new certificate; previous one kept", msg, 0);
    }
    if (r == CP_OK) reported = true;
    else
      cpa_log(CP_LOG_WARNING, "hub not reachable to confirm the new certificate (%s: %s); "
              "committing the verified chain and reporting later", cp_result_str(r), msg);
  }
  if (e->ops.stop_requested && e->ops.stop_requested(e->ops.ctx)) {
    cpa_state_discard(e->cfg->state_dir, w->name);
    e->renewal_count = saved_count;
    e->renewed_at = saved_renewed;
    return now;
  }
  r = cpa_state_activate(e->cfg->state_dir, w->name, err, sizeof err);
  if (r != CP_OK) {
    cpa_state_discard(e->cfg->state_dir, w->name);
    e->renewal_count = saved_count;
    e->renewed_at = saved_renewed;
    return fail(e, now, r, "cannot switch to the new generation", err, 0);
  }
  cpa_generation *old = e->cur;
  e->cur = w;
  e->work = old;
  wipe_gen(old);
  e->have_cert = true;
  e->facts = facts;
  snprintf(e->device_id, sizeof e->device_id, "%s", iss.device_id);
  snprintf(e->assigned_hub, sizeof e->assigned_hub, "%s", iss.assigned_hub);
  e->last_success = now;
  e->reonboard = false;
  e->report_pending = e->cfg->twin_report && !reported;
  e->renew_at = cpa_engine_renewal_time(e);
  char until[32], renew[32];
  iso_time(facts.not_after, until, sizeof until);
  iso_time(e->renew_at, renew, sizeof renew);
  cpa_log(CP_LOG_NOTICE, "%s %s: serial %s, valid until %s, next renewal at %s",
          reonboarding ? "provisioned" : "renewed", w->name, facts.serial_hex, until, renew);
  run_hook_once(e);
  return schedule_valid(e, now);
}

int64_t cpa_engine_step(cpa_engine *e, bool force) {
  int64_t now = e->ops.now(e->ops.ctx);
  bool waiting = now < e->next_attempt;
  if (force) {
    cpa_log(CP_LOG_NOTICE, "renewal requested");
    return issue(e, now);
  }
  if (!e->have_cert || e->reonboard) {
    if (waiting) return e->next_attempt;
    return issue(e, now);
  }
  cpa_cert_phase ph = cpa_cert_phase_at(now, e->build_time, e->facts.not_before,
                                        e->facts.not_after, e->renew_at);
  if (ph == CPA_PHASE_CLOCK_SUSPECT) {
    if (e->state != CPA_RUN_CLOCK_SUSPECT)
      cpa_log(CP_LOG_WARNING, "wall clock (%lld) is before the build time or notBefore; "
              "not judging the certificate until it is set", (long long)now);
    e->state = CPA_RUN_CLOCK_SUSPECT;
    e->next_attempt = now + CLOCK_SUSPECT_RECHECK;
    return e->next_attempt;
  }
  if (e->state == CPA_RUN_CLOCK_SUSPECT) e->state = e->attempt ? CPA_RUN_BACKOFF : CPA_RUN_VALID;
  if (ph == CPA_PHASE_VALID) {
    if (e->state == CPA_RUN_DISABLED && waiting) return e->next_attempt;
    if (e->report_pending) try_report(e);
    if (e->reonboard) return issue(e, now);
    return schedule_valid(e, now);
  }
  if (ph == CPA_PHASE_EXPIRED && !e->reonboard) {
    cpa_log(CP_LOG_WARNING, "certificate %s expired at %lld: re-onboarding", e->cur->name,
            (long long)e->facts.not_after);
    e->reonboard = true;
  }
  if (waiting && e->attempt > 0) return e->next_attempt;
  if (waiting && e->state == CPA_RUN_DISABLED) return e->next_attempt;
  return issue(e, now);
}
