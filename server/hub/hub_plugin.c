/*
 * certpilot mosquitto plugin (plugin API v5, mosquitto 2.0):
 * CONNECT authentication for DPS and hub clients, per-client ACLs, and the
 * DPS / twin / telemetry topics. Loaded by the broker that certpilot-server
 * supervises (see docs/server-mqtt.md).
 */
#include <mosquitto.h>
#include <mosquitto_broker.h>
#include <mosquitto_plugin.h>

#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cps_hub.h"
#include "cps_pki.h"
#include "cps_prov.h"
#include "cps_registry.h"
#include "cps_sas.h"
#include "hub_acl.h"
#include "hub_plugin_ctx.h"

static mosquitto_plugin_id_t *plugin_id;

/* ------------------------------------------------------------ options --- */

static int parse_opts(hub_plugin_opts *o, const struct mosquitto_opt *opts, int n) {
  memset(o, 0, sizeof *o);
  o->retry_after_s = 1;
  o->recheck_ms = 500;
  o->reply_qos = 0;
  o->rate_limit = 0;
  o->rate_burst = 100;
  o->sas_max_lifetime = 0; /* 0: the core's default */
  for (int i = 0; i < n; i++) {
    const char *k = opts[i].key, *v = opts[i].value;
    if (!k || !v) continue;
    if (strcmp(k, "db_path") == 0) {
      if (strlen(v) >= sizeof o->db_path) goto too_long;
      strcpy(o->db_path, v);
    } else if (strcmp(k, "hub_name") == 0) {
      if (strlen(v) >= sizeof o->hub_name) goto too_long;
      strcpy(o->hub_name, v);
    } else if (strcmp(k, "ca_key_passphrase_file") == 0) {
      if (strlen(v) >= sizeof o->ca_key_passphrase_file) goto too_long;
      strcpy(o->ca_key_passphrase_file, v);
    } else if (strcmp(k, "retry_after") == 0) {
      char *end = NULL;
      long x = strtol(v, &end, 10);
      if (!end || *end || x < 0 || x > 300) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: plugin_opt_retry_after: '%s' is not 0..300", v);
        return -1;
      }
      o->retry_after_s = (int)x;
    } else if (strcmp(k, "recheck_ms") == 0) {
      char *end = NULL;
      long x = strtol(v, &end, 10);
      if (!end || *end || x < 50 || x > 60000) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: plugin_opt_recheck_ms: '%s' is not 50..60000", v);
        return -1;
      }
      o->recheck_ms = (int)x;
    } else if (strcmp(k, "rate_limit") == 0) {
      char *end = NULL;
      double x = strtod(v, &end);
      if (!end || *end || !(x >= 0 && x <= 1e6)) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: plugin_opt_rate_limit: '%s' is not 0..1e6", v);
        return -1;
      }
      o->rate_limit = x;
    } else if (strcmp(k, "rate_burst") == 0 || strcmp(k, "sas_max_lifetime") == 0) {
      char *end = NULL;
      long x = strtol(v, &end, 10);
      if (!end || *end || x < 1 || x > 100L * 365 * 86400) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: plugin_opt_%s: '%s' is not a positive integer", k, v);
        return -1;
      }
      if (k[0] == 'r') o->rate_burst = (int)(x > 1000000 ? 1000000 : x);
      else o->sas_max_lifetime = x;
    } else if (strcmp(k, "reply_qos") == 0) {
      if (strcmp(v, "0") != 0 && strcmp(v, "1") != 0) {
        mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: plugin_opt_reply_qos: '%s' is not 0 or 1", v);
        return -1;
      }
      o->reply_qos = v[0] - '0';
    } else {
      mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: unknown option plugin_opt_%s", k);
      return -1;
    }
    continue;
  too_long:
    mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: plugin_opt_%s is too long", k);
    return -1;
  }
  if (!o->db_path[0] || !o->hub_name[0]) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: plugin_opt_db_path and plugin_opt_hub_name are required");
    return -1;
  }
  return 0;
}

/* --------------------------------------------------------------- auth --- */

/* Does the SAS token in @p password prove @p regid under one of its
 * symmetric-key enrollments? (The provisioning service checks again, with
 * enabled flags, on every request.) */
static int dps_sas_ok(hub_plugin *p, const char *scope, const char *regid, const char *password,
                      char *why, size_t why_len) {
  cps_sas_token tok;
  cps_error err = {{0}};
  if (cps_sas_parse(password, &tok, &err) != CPS_OK) {
    snprintf(why, why_len, "%s", err.msg);
    return -1;
  }
  cps_enrollment *c = NULL;
  size_t n = 0;
  if (cps_enrollment_candidates(p->svc, regid, &c, &n) != CPS_OK) {
    snprintf(why, why_len, "no enrollment");
    return -1;
  }
  int ok = -1;
  snprintf(why, why_len, "no symmetric-key enrollment matches");
  const cps_service_config *cfg = cps_service_config_get(p->svc);
  time_t now = time(NULL);
  for (size_t i = 0; i < n && ok != 0; i++) {
    if (c[i].x509) continue;
    const char *keys[2] = {c[i].primary_key, c[i].secondary_key};
    for (int k = 0; k < 2 && ok != 0; k++) {
      if (!keys[k][0]) continue;
      char derived[128];
      const char *key = keys[k];
      if (c[i].group) {
        if (cps_sas_derive_device_key(keys[k], regid, derived, sizeof derived) != CPS_OK) continue;
        key = derived;
      }
      memset(&err, 0, sizeof err);
      if (cps_sas_verify(&tok, scope, regid, key, now, cfg->sas_max_lifetime_s, &err) == CPS_OK)
        ok = 0;
      else
        snprintf(why, why_len, "%s", err.msg);
      memset(derived, 0, sizeof derived);
    }
  }
  for (size_t i = 0; i < n; i++) cps_enrollment_clear(&c[i]);
  free(c);
  return ok;
}

int hub_accept_device(hub_plugin *p, const hub_username *who, X509 *cert, char *why,
                      size_t why_len) {
  if (!cert) {
    snprintf(why, why_len, "no client certificate");
    return -1;
  }
  char device_id[CPS_DEVICE_ID_MAX] = {0};
  cps_error err = {{0}};
  cps_result r = cps_hub_check_device_cert(p->svc, p->opts.hub_name, cert, NULL, device_id, &err);
  if (r != CPS_OK) {
    snprintf(why, why_len, "%s (%s)", err.msg[0] ? err.msg : "refused", cps_result_str(r));
    return -1;
  }
  if (strcmp(device_id, who->id) != 0) {
    snprintf(why, why_len, "certificate CN '%s' is not the device id", device_id);
    return -1;
  }
  return 0;
}

static int on_basic_auth(int event, void *event_data, void *userdata) {
  (void)event;
  hub_plugin *p = userdata;
  struct mosquitto_evt_basic_auth *ed = event_data;
  const char *client_id = mosquitto_client_id(ed->client);
  hub_username who;
  char why[400] = "";
  X509 *cert = NULL;
  char *password = NULL;

  if (!ed->username || hub_username_parse(ed->username, &who) != CP_OK) {
    snprintf(why, sizeof why, "username is not a DPS or hub username");
    goto deny;
  }
  if (!client_id || strcmp(client_id, who.id) != 0) {
    snprintf(why, sizeof why, "client id is not the %s id in the username",
             who.kind == HUB_CLIENT_DPS ? "registration" : "device");
    goto deny;
  }
  if (who.kind == HUB_CLIENT_DPS ? !cps_prov_api_version_ok(who.api_version)
                                 : !hub_api_version_supported(who.api_version)) {
    snprintf(why, sizeof why, "unsupported api-version '%s'", who.api_version);
    goto deny;
  }
  cert = mosquitto_client_certificate(ed->client);
  if (who.kind == HUB_CLIENT_DPS) {
    if (strcmp(who.scope, cps_service_id_scope(p->svc)) != 0) {
      snprintf(why, sizeof why, "unknown id scope '%s'", who.scope);
      goto deny;
    }
    if (cert) {
      char cn[CPS_DEVICE_ID_MAX];
      if (cps_pki_cert_cn(cert, cn, sizeof cn) != CPS_OK || strcmp(cn, who.id) != 0) {
        snprintf(why, sizeof why, "certificate CN is not the registration id");
        goto deny;
      }
    } else if (ed->password && ed->password[0]) {
      if (dps_sas_ok(p, who.scope, who.id, ed->password, why, sizeof why) != 0) goto deny;
      password = strdup(ed->password);
      if (!password) goto deny;
    } else {
      snprintf(why, sizeof why, "neither SAS password nor client certificate");
      goto deny;
    }
  } else {
    if (strcmp(who.scope, p->opts.hub_name) != 0) {
      snprintf(why, sizeof why, "username addresses another hub ('%.120s')", who.scope);
      goto deny;
    }
    if (hub_accept_device(p, &who, cert, why, sizeof why) != 0) goto deny;
  }
  hub_conn *c = hub_conn_put(&p->conns, ed->client, &who, password, cert);
  if (!c) return MOSQ_ERR_NOMEM;
  if (who.kind == HUB_CLIENT_HUB) {
    /* Desired patches made before this connection are read with a twin GET. */
    long long v = 1;
    if (hub_twin_desired_version(p->twins, who.id, &v) == CP_OK) c->desired_sent = v;
  }
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "certpilot: %s client '%s' authenticated (%s)",
                       who.kind == HUB_CLIENT_DPS ? "DPS" : "hub", who.id,
                       cert ? "certificate" : "SAS");
  return MOSQ_ERR_SUCCESS;
deny:
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "certpilot: CONNECT refused for client '%s': %s",
                       client_id ? client_id : "?", why);
  X509_free(cert);
  free(password);
  return MOSQ_ERR_AUTH;
}

/* ---------------------------------------------------------------- ACL --- */

static int on_acl_check(int event, void *event_data, void *userdata) {
  (void)event;
  hub_plugin *p = userdata;
  struct mosquitto_evt_acl_check *ed = event_data;
  hub_conn *c = hub_conn_find(&p->conns, ed->client);
  if (!c) return MOSQ_ERR_ACL_DENIED;
  hub_access a;
  switch (ed->access) {
  case MOSQ_ACL_READ: a = HUB_ACCESS_READ; break;
  case MOSQ_ACL_WRITE: a = HUB_ACCESS_WRITE; break;
  case MOSQ_ACL_SUBSCRIBE: a = HUB_ACCESS_SUBSCRIBE; break;
  case MOSQ_ACL_UNSUBSCRIBE: a = HUB_ACCESS_UNSUBSCRIBE; break;
  default: return MOSQ_ERR_ACL_DENIED;
  }
  if (hub_acl_allows(c->who.kind, c->who.id, a, ed->topic)) return MOSQ_ERR_SUCCESS;
  if (a != HUB_ACCESS_READ)
    mosquitto_log_printf(MOSQ_LOG_NOTICE, "certpilot: '%s' denied %s on '%s'", c->who.id,
                         a == HUB_ACCESS_WRITE ? "publish" : "subscribe", ed->topic);
  return MOSQ_ERR_ACL_DENIED;
}

/* ------------------------------------------------------------ messages --- */

static int on_message(int event, void *event_data, void *userdata) {
  (void)event;
  hub_plugin *p = userdata;
  struct mosquitto_evt_message *ed = event_data;
  hub_conn *c = hub_conn_find(&p->conns, ed->client);
  if (!c) return MOSQ_ERR_ACL_DENIED;
  hub_message m = {.client_id = mosquitto_client_id(ed->client),
                   .topic = ed->topic,
                   .payload = ed->payload,
                   .len = ed->payloadlen};
  hub_handle_message(p, c, &m);
  return MOSQ_ERR_SUCCESS;
}

static int on_disconnect(int event, void *event_data, void *userdata) {
  (void)event;
  hub_plugin *p = userdata;
  struct mosquitto_evt_disconnect *ed = event_data;
  hub_conn_remove(&p->conns, ed->client);
  return MOSQ_ERR_SUCCESS;
}

static int on_tick(int event, void *event_data, void *userdata) {
  (void)event;
  (void)event_data;
  hub_plugin *p = userdata;
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  long long ms = (long long)(now.tv_sec - p->last_poll.tv_sec) * 1000 +
                 (now.tv_nsec - p->last_poll.tv_nsec) / 1000000;
  if (ms < p->opts.recheck_ms) return MOSQ_ERR_SUCCESS;
  p->last_poll = now;
  hub_poll(p);
  return MOSQ_ERR_SUCCESS;
}

/* ---------------------------------------------------------- lifecycle --- */

int mosquitto_plugin_version(int supported_version_count, const int *supported_versions) {
  for (int i = 0; i < supported_version_count; i++)
    if (supported_versions[i] == MOSQ_PLUGIN_VERSION) return MOSQ_PLUGIN_VERSION;
  return -1;
}

int mosquitto_plugin_init(mosquitto_plugin_id_t *identifier, void **userdata,
                          struct mosquitto_opt *options, int option_count) {
  hub_plugin *p = calloc(1, sizeof *p);
  if (!p) return MOSQ_ERR_NOMEM;
  if (parse_opts(&p->opts, options, option_count) != 0) goto fail;
  cps_service_config cfg;
  cps_service_config_default(&cfg);
  cfg.db_path = p->opts.db_path;
  if (p->opts.ca_key_passphrase_file[0]) cfg.ca_key_passphrase_file = p->opts.ca_key_passphrase_file;
  cfg.retry_after_s = p->opts.retry_after_s;
  cfg.rate_limit_per_s = p->opts.rate_limit; /* own bucket: the broker is another process */
  cfg.rate_limit_burst = p->opts.rate_burst;
  if (p->opts.sas_max_lifetime > 0) cfg.sas_max_lifetime_s = p->opts.sas_max_lifetime;
  cps_error err = {{0}};
  if (cps_service_open(&cfg, &p->svc, &err) != CPS_OK) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: cannot open %s: %s", p->opts.db_path, err.msg);
    goto fail;
  }
  if (hub_twin_store_open(p->opts.db_path, &p->twins) != CP_OK) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: cannot open twin store in %s", p->opts.db_path);
    goto fail;
  }
  plugin_id = identifier;
  if (mosquitto_callback_register(identifier, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL, p) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL, p) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_MESSAGE, on_message, NULL, p) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_DISCONNECT, on_disconnect, NULL, p) ||
      mosquitto_callback_register(identifier, MOSQ_EVT_TICK, on_tick, NULL, p)) {
    mosquitto_log_printf(MOSQ_LOG_ERR, "certpilot: cannot register plugin callbacks");
    goto fail;
  }
  clock_gettime(CLOCK_MONOTONIC, &p->last_poll);
  hub_reply_qos = p->opts.reply_qos;
  *userdata = p;
  mosquitto_log_printf(MOSQ_LOG_NOTICE, "certpilot: plugin ready (hub '%s', id scope '%s')",
                       p->opts.hub_name, cps_service_id_scope(p->svc));
  return MOSQ_ERR_SUCCESS;
fail:
  hub_twin_store_close(p->twins);
  cps_service_close(p->svc);
  free(p);
  return MOSQ_ERR_UNKNOWN;
}

int mosquitto_plugin_cleanup(void *userdata, struct mosquitto_opt *options, int option_count) {
  (void)options;
  (void)option_count;
  hub_plugin *p = userdata;
  if (!p) return MOSQ_ERR_SUCCESS;
  mosquitto_callback_unregister(plugin_id, MOSQ_EVT_BASIC_AUTH, on_basic_auth, NULL);
  mosquitto_callback_unregister(plugin_id, MOSQ_EVT_ACL_CHECK, on_acl_check, NULL);
  mosquitto_callback_unregister(plugin_id, MOSQ_EVT_MESSAGE, on_message, NULL);
  mosquitto_callback_unregister(plugin_id, MOSQ_EVT_DISCONNECT, on_disconnect, NULL);
  mosquitto_callback_unregister(plugin_id, MOSQ_EVT_TICK, on_tick, NULL);
  hub_conn_table_clear(&p->conns);
  hub_twin_store_close(p->twins);
  cps_service_close(p->svc);
  free(p);
  return MOSQ_ERR_SUCCESS;
}
