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
#include "certpilot/cp_hub.h"
#include "certpilot/cp_hub_client.h"
#include "certpilot/cp_key.h"
#include "certpilot/cp_provision.h"
#ifdef CERTPILOT_WITH_TPM
#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_provision_tpm.h"
#endif
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

/* Read the base64 enrollment key (first line, whitespace trimmed). */
static cp_result read_symmetric_key(const char *path, char *out, size_t out_size) {
  size_t len = 0;
  cp_result r = read_small_file(path, out, out_size, &len);
  if (r != CP_OK) return r;
  size_t start = 0;
  while (start < len && (out[start] == ' ' || out[start] == '\t')) start++;
  size_t end = start;
  while (end < len && out[end] != '\n' && out[end] != '\r' && out[end] != ' ' && out[end] != '\t') end++;
  memmove(out, out + start, end - start);
  out[end - start] = '\0';
  return end > start ? CP_OK : CP_ERR_CONFIG;
}

static void wipe(void *p, size_t n) {
  volatile unsigned char *v = p;
  while (n--) *v++ = 0;
}

static void detail_text(const cp_error_detail *d, char *msg, size_t msg_size) {
  if (d->status && d->error_code)
    snprintf(msg, msg_size, "status %d, errorCode %d: %.180s", d->status, (int)d->error_code, d->message);
  else if (d->status)
    snprintf(msg, msg_size, "status %d: %.200s", d->status, d->message);
  else if (d->field[0])
    snprintf(msg, msg_size, "%.60s: %.180s", d->field, d->message);
  else
    snprintf(msg, msg_size, "%.240s", d->message);
}

/* One registration with the onboarding credential, a fresh P-384 key and CSR,
 * through the SDK's blocking client (which also checks the issued chain). */
static cp_result sdk_provision(void *ctx, const cpa_config *cfg, cpa_generation *g,
                               cpa_issue_result *out) {
  (void)ctx;
  static cp_provision_result res; /* ~25 KB; the daemon is single-threaded */
  static char sym_key[512];
  cp_provision_config pc;
  cp_provision_config_init(&pc);
  pc.transport = cfg->transport == CPA_TRANSPORT_MQTT_WS ? CP_PROVISION_MQTT_WS
                 : cfg->transport == CPA_TRANSPORT_HTTPS ? CP_PROVISION_HTTPS
                                                         : CP_PROVISION_MQTT;
  pc.host = cfg->endpoint;
  pc.port = (uint16_t)cfg->port;
  pc.id_scope = cfg->id_scope;
  pc.registration_id = cfg->registration_id;
  pc.trust_bundle_path = cfg->trust_bundle;
  pc.chain_anchor_path = cfg->chain_anchor[0] ? cfg->chain_anchor : NULL;
  pc.timeout_ms = (uint32_t)(cfg->timeout * 1000);
  switch (cfg->onboarding) {
  case CPA_ONBOARDING_SYMMETRIC_KEY:
    if (read_symmetric_key(cfg->symmetric_key_file, sym_key, sizeof sym_key) != CP_OK) {
      snprintf(out->message, sizeof out->message, "%.200s: cannot read the enrollment key",
               cfg->symmetric_key_file);
      return CP_ERR_IO;
    }
    pc.onboarding = cfg->symmetric_key_is_group ? CP_ONBOARDING_SYMMETRIC_GROUP_KEY
                                                : CP_ONBOARDING_SYMMETRIC_KEY;
    pc.symmetric_key = sym_key;
    break;
  case CPA_ONBOARDING_X509:
    pc.onboarding = CP_ONBOARDING_X509;
    pc.x509_cert_path = cfg->cert_file;
    pc.x509_key_path = cfg->key_file;
    break;
  case CPA_ONBOARDING_TPM:
    break;
  }
  memset(&res, 0, sizeof res);
  cp_result r;
  if (cfg->onboarding == CPA_ONBOARDING_TPM) {
#ifdef CERTPILOT_WITH_TPM
    /* the TPM's identity key signs every SAS; opened per attempt so a TPM
     * resource manager restart between renewals does not matter */
    static cp_posix_tpm tpm;
    cp_tpm iface;
    r = cp_posix_tpm_open(&tpm, cfg->tpm_tcti);
    if (r == CP_OK) r = cp_posix_tpm_interface(&tpm, &iface);
    if (r == CP_OK) r = cp_provision_tpm(&pc, &iface, NULL, &res);
    else snprintf(res.error.message, sizeof res.error.message, "cannot open the TPM (%.200s)", cfg->tpm_tcti);
    cp_posix_tpm_close(&tpm);
#else
    snprintf(out->message, sizeof out->message, "this certpilotd is built without TPM support");
    return CP_ERR_UNSUPPORTED;
#endif
  } else {
    r = cp_provision(&pc, &res);
  }
  wipe(sym_key, sizeof sym_key);
  if (r == CP_OK) {
    size_t klen = 0;
    if (res.chain_pem_len + 1 > sizeof g->chain_pem) {
      r = CP_ERR_BUFFER_TOO_SMALL;
      snprintf(out->message, sizeof out->message, "issued chain too large");
    } else {
      r = cp_key_to_pem(&res.key, CP_KEY_FORMAT_PKCS8, g->key_pem, sizeof g->key_pem, &klen);
    }
    if (r == CP_OK) {
      g->key_len = klen;
      memcpy(g->chain_pem, res.chain_pem, res.chain_pem_len);
      g->chain_pem[res.chain_pem_len] = '\0';
      g->chain_len = res.chain_pem_len;
      snprintf(out->device_id, sizeof out->device_id, "%s", res.device_id);
      snprintf(out->assigned_hub, sizeof out->assigned_hub, "%s", res.assigned_hub);
    }
  } else {
    detail_text(&res.error, out->message, sizeof out->message);
    if (res.status == CP_PROV_STATUS_DISABLED) r = CP_ERR_DISABLED;
  }
  cp_key_wipe(&res.key);
  return r;
}

/* Connect with the generation's key + chain, report, disconnect. */
static cp_result sdk_hub_report(void *ctx, const cpa_config *cfg, const char *hub,
                                const char *device_id, const cpa_generation *g,
                                const cpa_twin_report *report, char *msg, size_t msg_size) {
  (void)ctx;
  static cp_hub_client client; /* large */
  char key[CPA_PATH_MAX + 48], chain[CPA_PATH_MAX + 48];
  if (!hub || !hub[0] || !device_id || !device_id[0]) {
    snprintf(msg, msg_size, "no assigned hub or device id known");
    return CP_ERR_STATE;
  }
  snprintf(key, sizeof key, "%s/%s/key.pem", cfg->state_dir, g->name);
  snprintf(chain, sizeof chain, "%s/%s/chain.pem", cfg->state_dir, g->name);
  char body[CP_HUB_REPORT_BODY_MAX];
  size_t len = 0;
  if (report) {
    cp_hub_certificate_report rep;
    memset(&rep, 0, sizeof rep);
    time_t t;
    struct tm tm;
    t = (time_t)report->cert.not_before;
    strftime(rep.valid_from, sizeof rep.valid_from, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    t = (time_t)report->cert.not_after;
    strftime(rep.valid_until, sizeof rep.valid_until, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    t = (time_t)report->renewed_at;
    strftime(rep.renewed_at, sizeof rep.renewed_at, "%Y-%m-%dT%H:%M:%SZ", gmtime_r(&t, &tm));
    snprintf(rep.serial_number, sizeof rep.serial_number, "%s", report->cert.serial_hex);
    snprintf(rep.thumbprint, sizeof rep.thumbprint, "%s", report->cert.thumbprint_sha256);
    snprintf(rep.issuer, sizeof rep.issuer, "%s", report->cert.issuer);
    rep.renewal_count = report->renewal_count;
    rep.has_last_error = report->last_error != NULL;
    if (report->last_error) snprintf(rep.last_error, sizeof rep.last_error, "%s", report->last_error);
    cp_result br = cp_hub_certificate_report_body(&rep, body, sizeof body, &len);
    if (br != CP_OK) {
      snprintf(msg, msg_size, "cannot build the twin report");
      return br;
    }
  }
  cp_hub_client_config hc;
  memset(&hc, 0, sizeof hc);
  hc.host = hub;
  hc.port = (uint16_t)cfg->hub_port; /* 0: from "host:port" or the default */
  bool wss = cfg->hub_transport ? cfg->hub_transport == CPA_TRANSPORT_MQTT_WS + 1
                                : cfg->transport == CPA_TRANSPORT_MQTT_WS;
  hc.wire = wss ? CP_MQTT_WIRE_WSS : CP_MQTT_WIRE_TLS;
  hc.device_id = device_id;
  hc.cert_chain_path = chain;
  hc.key_path = key;
  hc.trust_bundle_path = cfg->trust_bundle;
  hc.timeout_ms = (uint32_t)(cfg->timeout * 1000);
  cp_error_detail err;
  cp_error_detail_clear(&err);
  cp_result r = cp_hub_client_connect(&client, &hc, &err);
  if (r == CP_OK && report) r = cp_hub_client_report(&client, body, NULL, &err);
  if (r != CP_OK) detail_text(&err, msg, msg_size);
  cp_hub_client_disconnect(&client);
  return r;
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
