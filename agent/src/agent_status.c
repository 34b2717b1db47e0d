/* status.json, Prometheus textfile and the STATUS= line (see agent_status.h). */
#include "agent_status.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static void add_time(cJSON *o, const char *name, int64_t t) {
  if (t <= 0) {
    cJSON_AddNullToObject(o, name);
    return;
  }
  char buf[32];
  time_t tt = (time_t)t;
  struct tm tm;
  gmtime_r(&tt, &tm);
  strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  cJSON_AddStringToObject(o, name, buf);
}

static void add_str_or_null(cJSON *o, const char *name, const char *v) {
  if (v && v[0]) cJSON_AddStringToObject(o, name, v);
  else cJSON_AddNullToObject(o, name);
}

char *cpa_status_json(const cpa_engine *e, int64_t now) {
  cJSON *o = cJSON_CreateObject();
  if (!o) return NULL;
  cJSON_AddStringToObject(o, "state", cpa_run_state_name(e->state));
  cJSON_AddNumberToObject(o, "pid", (double)getpid());
  add_time(o, "updatedAt", now);
  cJSON_AddStringToObject(o, "registrationId", e->cfg->registration_id);
  add_str_or_null(o, "deviceId", e->device_id);
  add_str_or_null(o, "assignedHub", e->assigned_hub);
  cJSON_AddStringToObject(o, "stateDir", e->cfg->state_dir);
  if (e->have_cert) {
    cJSON *c = cJSON_AddObjectToObject(o, "certificate");
    cJSON_AddStringToObject(c, "generation", e->cur->name);
    cJSON_AddStringToObject(c, "subject", e->facts.subject_cn);
    cJSON_AddStringToObject(c, "issuer", e->facts.issuer);
    cJSON_AddStringToObject(c, "serialNumber", e->facts.serial_hex);
    cJSON_AddStringToObject(c, "thumbprint", e->facts.thumbprint_sha256);
    add_time(c, "validFrom", e->facts.not_before);
    add_time(c, "validUntil", e->facts.not_after);
    cJSON_AddNumberToObject(c, "secondsToExpiry", (double)(e->facts.not_after - now));
    add_time(c, "renewAt", e->renew_at);
  } else {
    cJSON_AddNullToObject(o, "certificate");
  }
  add_time(o, "nextAttempt", e->next_attempt);
  cJSON_AddNumberToObject(o, "renewalCount", e->renewal_count);
  cJSON_AddNumberToObject(o, "failureCount", (double)e->failure_count);
  cJSON_AddNumberToObject(o, "consecutiveFailures", e->attempt);
  add_time(o, "lastAttempt", e->last_attempt);
  add_time(o, "lastSuccess", e->last_success);
  add_str_or_null(o, "lastError", e->last_error);
  cJSON_AddBoolToObject(o, "reportPending", e->report_pending);
  cJSON *h = cJSON_AddObjectToObject(o, "hook");
  add_str_or_null(h, "command", e->cfg->post_renewal);
  add_str_or_null(h, "lastResult", e->hook_result);
  add_str_or_null(h, "lastGeneration", e->hook_generation);
  char *s = cJSON_Print(o);
  cJSON_Delete(o);
  return s;
}

cp_result cpa_status_prometheus(const cpa_engine *e, int64_t now, char *out, size_t out_size) {
  const char *id = e->cfg->registration_id; /* validated: no quotes or backslashes */
  int n = snprintf(out, out_size,
      "# HELP certpilot_certificate_expiry_seconds Seconds until the current certificate expires.\n"
      "# TYPE certpilot_certificate_expiry_seconds gauge\n"
      "certpilot_certificate_expiry_seconds{registration_id=\"%s\"} %lld\n"
      "# HELP certpilot_certificate_not_after_timestamp_seconds notAfter of the current certificate.\n"
      "# TYPE certpilot_certificate_not_after_timestamp_seconds gauge\n"
      "certpilot_certificate_not_after_timestamp_seconds{registration_id=\"%s\"} %lld\n"
      "# HELP certpilot_renewals_total Certificates issued and committed.\n"
      "# TYPE certpilot_renewals_total counter\n"
      "certpilot_renewals_total{registration_id=\"%s\"} %u\n"
      "# HELP certpilot_failures_total Failed provisioning or renewal attempts since start.\n"
      "# TYPE certpilot_failures_total counter\n"
      "certpilot_failures_total{registration_id=\"%s\"} %llu\n"
      "# HELP certpilot_last_success_timestamp_seconds Time of the last successful issuance.\n"
      "# TYPE certpilot_last_success_timestamp_seconds gauge\n"
      "certpilot_last_success_timestamp_seconds{registration_id=\"%s\"} %lld\n"
      "# HELP certpilot_up 1 when certpilotd holds a certificate that is not expired.\n"
      "# TYPE certpilot_up gauge\n"
      "certpilot_up{registration_id=\"%s\",state=\"%s\"} %d\n",
      id, (long long)(e->have_cert ? e->facts.not_after - now : 0), id,
      (long long)(e->have_cert ? e->facts.not_after : 0), id, e->renewal_count, id,
      (unsigned long long)e->failure_count, id, (long long)e->last_success, id,
      cpa_run_state_name(e->state), e->have_cert && now < e->facts.not_after ? 1 : 0);
  if (n < 0 || (size_t)n >= out_size) return CP_ERR_BUFFER_TOO_SMALL;
  return CP_OK;
}

static void human_duration(int64_t s, char *out, size_t n) {
  if (s < 0) s = 0;
  if (s >= 2 * 86400) snprintf(out, n, "%lldd", (long long)(s / 86400));
  else if (s >= 2 * 3600) snprintf(out, n, "%lldh", (long long)(s / 3600));
  else if (s >= 120) snprintf(out, n, "%lldm", (long long)(s / 60));
  else snprintf(out, n, "%llds", (long long)s);
}

void cpa_status_line(const cpa_engine *e, int64_t now, char *out, size_t out_size) {
  char next[32], exp[32];
  human_duration(e->next_attempt - now, next, sizeof next);
  if (e->have_cert) human_duration(e->facts.not_after - now, exp, sizeof exp);
  switch (e->state) {
  case CPA_RUN_VALID:
    snprintf(out, out_size, "valid: serial %.16s, expires in %s, renews in %s", e->facts.serial_hex,
             exp, next);
    break;
  case CPA_RUN_BACKOFF:
  case CPA_RUN_DISABLED:
    snprintf(out, out_size, "%s: retry in %s after %d failure(s): %.120s", cpa_run_state_name(e->state),
             next, e->attempt, e->last_error);
    break;
  default:
    snprintf(out, out_size, "%s", cpa_run_state_name(e->state));
  }
}

cp_result cpa_status_write(const cpa_engine *e, int64_t now) {
  char path[CPA_PATH_MAX + 32];
  if (mkdir(e->cfg->run_dir, 0755) != 0 && errno != EEXIST) return CP_ERR_IO;
  char *json = cpa_status_json(e, now);
  if (!json) return CP_ERR_NO_MEMORY;
  cp_result r = CP_ERR_IO;
  if (snprintf(path, sizeof path, "%s/status.json", e->cfg->run_dir) < (int)sizeof path)
    r = cpa_write_file_atomic(path, json, strlen(json), 0644);
  free(json);
  if (r != CP_OK || e->cfg->metrics_file[0] == '\0') return r;
  char prom[4096];
  r = cpa_status_prometheus(e, now, prom, sizeof prom);
  if (r == CP_OK) r = cpa_write_file_atomic(e->cfg->metrics_file, prom, strlen(prom), 0644);
  return r;
}
