/* certpilotd's real ops (see agent_ops_sdk.h). */
#include "agent_ops_sdk.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "agent_daemon.h"
#include "agent_hook.h"
#include "agent_log.h"
#include "certpilot/cp_key.h"
#include "certpilot/cp_platform.h"
#include "certpilot/cp_x509.h"

#define STORE_SIZE (CP_CERT_DER_MAX * CP_CHAIN_MAX)

typedef struct split_chain {
  uint8_t store[STORE_SIZE];
  cp_der chain[CP_CHAIN_MAX];
  size_t n;
} split_chain;

static cp_result split(const char *pem, size_t len, split_chain *s) {
  s->n = CP_CHAIN_MAX;
  return cp_pem_bundle_split(pem, len, s->store, sizeof s->store, s->chain, &s->n);
}

static cp_result sdk_match(void *ctx, const char *key_pem, size_t key_len, const char *chain_pem,
                           size_t chain_len) {
  (void)ctx;
  split_chain *s = malloc(sizeof *s);
  if (!s) return CP_ERR_NO_MEMORY;
  cp_key key;
  cp_result r = split(chain_pem, chain_len, s);
  if (r == CP_OK) r = cp_key_from_pem(&key, key_pem, key_len);
  if (r == CP_OK) {
    r = cp_cert_matches_key(s->chain[0].data, s->chain[0].len, &key);
    cp_key_wipe(&key);
  }
  free(s);
  return r;
}

cp_result cpa_sdk_facts(void *ctx, const char *chain_pem, size_t chain_len, cpa_cert_facts *out) {
  (void)ctx;
  split_chain *s = malloc(sizeof *s);
  cp_cert_info *info = malloc(sizeof *info);
  cp_result r = (s && info) ? split(chain_pem, chain_len, s) : CP_ERR_NO_MEMORY;
  if (r == CP_OK) r = cp_cert_parse(s->chain[0].data, s->chain[0].len, info);
  if (r == CP_OK) {
    memset(out, 0, sizeof *out);
    out->not_before = info->not_before;
    out->not_after = info->not_after;
    snprintf(out->serial_hex, sizeof out->serial_hex, "%s", info->serial_hex);
    snprintf(out->thumbprint_sha256, sizeof out->thumbprint_sha256, "%s", info->thumbprint_sha256);
    snprintf(out->issuer, sizeof out->issuer, "%s", info->issuer);
    snprintf(out->subject_cn, sizeof out->subject_cn, "%s", info->subject_cn);
  }
  free(s);
  free(info);
  return r;
}

static cp_result read_small_file(const char *path, char *buf, size_t cap, size_t *len) {
  FILE *f = fopen(path, "r");
  if (!f) return CP_ERR_IO;
  *len = fread(buf, 1, cap - 1, f);
  int bad = ferror(f) || !feof(f);
  fclose(f);
  if (bad) return CP_ERR_IO;
  buf[*len] = '\0';
  return CP_OK;
}

/* Key matches the leaf, leaf CN is the registration id, the chain verifies
 * at now up to the configured anchor (or, without one, its own last element). */
static cp_result sdk_verify(void *ctx, const cpa_config *cfg, const cpa_generation *g, int64_t now,
                            char *msg, size_t msg_size) {
  cp_result r = sdk_match(ctx, g->key_pem, g->key_len, g->chain_pem, g->chain_len);
  if (r != CP_OK) {
    snprintf(msg, msg_size, "leaf key does not match our key");
    return r;
  }
  split_chain *s = malloc(sizeof *s);
  split_chain *a = malloc(sizeof *a);
  cp_cert_info *info = malloc(sizeof *info);
  char *anchor_pem = malloc(CPA_CHAIN_PEM_MAX);
  if (!s || !a || !info || !anchor_pem) {
    r = CP_ERR_NO_MEMORY;
    goto out;
  }
  r = split(g->chain_pem, g->chain_len, s);
  if (r == CP_OK) r = cp_cert_parse(s->chain[0].data, s->chain[0].len, info);
  if (r != CP_OK) {
    snprintf(msg, msg_size, "chain does not parse");
    goto out;
  }
  if (strcasecmp(info->subject_cn, cfg->registration_id) != 0) {
    snprintf(msg, msg_size, "leaf CN '%.128s' is not the registration id", info->subject_cn);
    r = CP_ERR_NAME_MISMATCH;
    goto out;
  }
  cp_der anchor = s->chain[s->n - 1];
  if (cfg->chain_anchor[0]) {
    size_t len = 0;
    r = read_small_file(cfg->chain_anchor, anchor_pem, CPA_CHAIN_PEM_MAX, &len);
    if (r == CP_OK) r = split(anchor_pem, len, a);
    if (r != CP_OK) {
      snprintf(msg, msg_size, "%s: cannot read the chain anchor", cfg->chain_anchor);
      goto out;
    }
    anchor = a->chain[0];
  }
  size_t failed = 0;
  r = cp_chain_verify(s->chain, s->n, anchor, now, &failed);
  if (r != CP_OK) snprintf(msg, msg_size, "chain element %zu: %s", failed, cp_result_str(r));
out:
  free(s);
  free(a);
  free(info);
  free(anchor_pem);
  return r;
}

/* Provisioning and hub reporting go through the SDK's blocking client
 * (issue 5, branch sdk-protocol). Until it is merged the daemon says so
 * plainly on every attempt and backs off like any other failure. */
static cp_result sdk_provision(void *ctx, const cpa_config *cfg, cpa_generation *g,
                               cpa_issue_result *out) {
  (void)ctx;
  (void)cfg;
  (void)g;
  snprintf(out->message, sizeof out->message,
           "this build has no provisioning client (SDK blocking API not merged)");
  return CP_ERR_UNSUPPORTED;
}

static cp_result sdk_hub_report(void *ctx, const cpa_config *cfg, const char *hub,
                                const char *device_id, const cpa_generation *g,
                                const cpa_twin_report *report, char *msg, size_t msg_size) {
  (void)ctx;
  (void)cfg;
  (void)hub;
  (void)device_id;
  (void)g;
  (void)report;
  snprintf(msg, msg_size, "this build has no hub client (SDK blocking API not merged)");
  return CP_ERR_UNSUPPORTED;
}

static void sdk_run_hook(void *ctx, const cpa_config *cfg, const char *device_id,
                         const cpa_generation *g, const cpa_cert_facts *f, char *result,
                         size_t result_size) {
  (void)ctx;
  char key[CPA_PATH_MAX + 32], chain[CPA_PATH_MAX + 32], na[32], na_epoch[24];
  snprintf(key, sizeof key, "%s/current/key.pem", cfg->state_dir);
  snprintf(chain, sizeof chain, "%s/current/chain.pem", cfg->state_dir);
  time_t t = (time_t)f->not_after;
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(na, sizeof na, "%Y-%m-%dT%H:%M:%SZ", &tm);
  snprintf(na_epoch, sizeof na_epoch, "%lld", (long long)f->not_after);
  cpa_hook_env env[] = {
      {"CERTPILOT_KEY_FILE", key},
      {"CERTPILOT_CHAIN_FILE", chain},
      {"CERTPILOT_STATE_DIR", cfg->state_dir},
      {"CERTPILOT_GENERATION", g->name},
      {"CERTPILOT_SERIAL", f->serial_hex},
      {"CERTPILOT_THUMBPRINT", f->thumbprint_sha256},
      {"CERTPILOT_NOT_AFTER", na},
      {"CERTPILOT_NOT_AFTER_EPOCH", na_epoch},
      {"CERTPILOT_DEVICE_ID", device_id},
      {"CERTPILOT_REGISTRATION_ID", cfg->registration_id},
  };
  cpa_hook_run(cfg->post_renewal, env, sizeof env / sizeof env[0], cfg->hook_timeout, result,
               result_size);
}

static int64_t sdk_now(void *ctx) {
  (void)ctx;
  return cp_platform_time_now();
}

static double sdk_rand01(void *ctx) {
  (void)ctx;
  uint64_t v = 0;
  if (cp_platform_entropy((uint8_t *)&v, sizeof v) != CP_OK) v = (uint64_t)time(NULL) * 2654435761u;
  return (double)(v >> 11) / 9007199254740992.0; /* 2^53 */
}

static bool sdk_stop(void *ctx) {
  (void)ctx;
  return cpa_daemon_stop_pending();
}

cp_result cpa_ops_sdk_make(const cpa_config *cfg, cpa_ops *ops) {
  (void)cfg;
  memset(ops, 0, sizeof *ops);
  ops->provision = sdk_provision;
  ops->match = sdk_match;
  ops->verify = sdk_verify;
  ops->facts = cpa_sdk_facts;
  ops->hub_report = sdk_hub_report;
  ops->run_hook = sdk_run_hook;
  ops->now = sdk_now;
  ops->rand01 = sdk_rand01;
  ops->stop_requested = sdk_stop;
  return CP_OK;
}
