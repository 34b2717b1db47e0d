/* DPS, twin and telemetry message handling of the mosquitto plugin. */
#include <mosquitto.h>
#include <mosquitto_broker.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cps_prov.h"
#include "hub_plugin_ctx.h"

int hub_reply_qos = 0;

/* Queue @p body to @p client_id alone (QoS hub_reply_qos; mosquitto delivers a
 * message addressed to one client at that QoS whatever the subscription's).
 * mosquitto copies the payload. */
static void reply(const char *client_id, const char *topic, const char *body) {
  size_t len = body ? strlen(body) : 0;
  int rc = mosquitto_broker_publish_copy(client_id, topic, (int)len, len ? body : NULL, hub_reply_qos, false,
                                         NULL);
  if (rc != MOSQ_ERR_SUCCESS)
    mosquitto_log_printf(MOSQ_LOG_WARNING, "certpilot: cannot queue reply to '%s' on %s (%d)",
                         client_id, topic, rc);
}

static void dps_reply(const char *client_id, const char *rid, int status, int retry_after,
                      const char *body) {
  char topic[256];
  if (hub_topic_build_dps_response(topic, sizeof topic, status, rid, retry_after) != CP_OK) return;
  reply(client_id, topic, body);
}

static void twin_reply(const char *client_id, const char *rid, int status, long long version,
                       const char *body) {
  char topic[256];
  if (hub_topic_build_twin_response(topic, sizeof topic, status, rid, version) != CP_OK) return;
  reply(client_id, topic, body);
}

/* Error reply with Azure's error body shape. */
static void dps_error(const char *client_id, const char *rid, int status, int code,
                      const char *message) {
  char *body = cps_prov_error_body(code, message);
  dps_reply(client_id, rid, status, status >= 429 ? 1 : -1, body ? body : "");
  free(body);
}

static void twin_error(const char *client_id, const char *rid, int status, int code,
                       const char *message) {
  char *body = cps_prov_error_body(code, message);
  twin_reply(client_id, rid, status, -1, body ? body : "");
  free(body);
}

static void handle_dps(hub_plugin *p, hub_conn *c, const hub_message *m, const hub_topic *t) {
  if (t->kind == HUB_TOPIC_DPS_REGISTER && m->len > CPS_PROV_MAX_BODY) {
    dps_error(m->client_id, t->rid, 413, 413001, "registration body is larger than 16384 bytes");
    return;
  }
  cps_prov_request req = {.id_scope = c->who.scope,
                          .registration_id = c->who.id,
                          .api_version = c->who.api_version,
                          .authorization = c->password,
                          .client_cert = c->cert};
  cps_prov_response resp;
  memset(&resp, 0, sizeof resp);
  cps_result r;
  if (t->kind == HUB_TOPIC_DPS_REGISTER) {
    req.body = m->payload ? m->payload : "";
    req.body_len = m->len;
    r = cps_prov_register(p->svc, &req, &resp);
  } else {
    req.operation_id = t->operation_id;
    r = cps_prov_operation_status(p->svc, &req, &resp);
  }
  if (r != CPS_OK) {
    dps_error(m->client_id, t->rid, 500, 500000, "internal error");
  } else {
    dps_reply(m->client_id, t->rid, resp.status, resp.retry_after, resp.body);
    mosquitto_log_printf(MOSQ_LOG_INFO, "certpilot: DPS %s for '%s' -> %d",
                         t->kind == HUB_TOPIC_DPS_REGISTER ? "register" : "status", c->who.id,
                         resp.status);
  }
  cps_prov_response_free(&resp);
}

static void handle_twin(hub_plugin *p, hub_conn *c, const hub_message *m, const hub_topic *t) {
  if (t->kind == HUB_TOPIC_TWIN_GET) {
    char *json = NULL;
    if (hub_twin_get(p->twins, c->who.id, &json) != CP_OK) {
      twin_error(m->client_id, t->rid, 500, 500000, "twin store error");
      return;
    }
    twin_reply(m->client_id, t->rid, 200, -1, json);
    free(json);
    return;
  }
  long long v = 0;
  cp_result r = hub_twin_patch_reported(p->twins, c->who.id, m->payload ? m->payload : "", m->len, &v);
  switch (r) {
  case CP_OK: twin_reply(m->client_id, t->rid, 204, v, NULL); break;
  case CP_ERR_PARSE:
    twin_error(m->client_id, t->rid, 400, 400006,
               "reported patch must be a JSON object without '$' names, at most 10 levels deep");
    break;
  case CP_ERR_BUFFER_TOO_SMALL:
    twin_error(m->client_id, t->rid, 413, 413001, "reported properties larger than 32 KiB");
    break;
  default: twin_error(m->client_id, t->rid, 500, 500000, "twin store error"); break;
  }
}

void hub_handle_message(hub_plugin *p, hub_conn *c, const hub_message *m) {
  hub_topic t;
  if (!m->client_id || hub_topic_parse(m->topic, &t) != CP_OK) return; /* ACL let nothing else in */
  switch (t.kind) {
  case HUB_TOPIC_DPS_REGISTER:
  case HUB_TOPIC_DPS_OPERATION_STATUS:
    if (c->who.kind == HUB_CLIENT_DPS) handle_dps(p, c, m, &t);
    break;
  case HUB_TOPIC_TWIN_GET:
  case HUB_TOPIC_TWIN_PATCH_REPORTED:
    if (c->who.kind == HUB_CLIENT_HUB) handle_twin(p, c, m, &t);
    break;
  case HUB_TOPIC_TELEMETRY:
    if (c->who.kind == HUB_CLIENT_HUB && strcmp(t.device_id, c->who.id) == 0)
      hub_telemetry_record(p->twins, c->who.id, m->len);
    break;
  default: break;
  }
}

void hub_poll(hub_plugin *p) {
  /* Collect the ids to kick first: kicking fires the disconnect event, which
   * edits the table we are walking. */
  char (*kick)[HUB_ID_MAX + 1] = NULL;
  size_t nkick = 0;
  for (size_t i = 0; i < p->conns.count; i++) {
    hub_conn *c = &p->conns.items[i];
    if (c->who.kind != HUB_CLIENT_HUB) continue;
    char why[300];
    if (hub_accept_device(p, &c->who, c->cert, why, sizeof why) != 0) {
      void *n = realloc(kick, (nkick + 1) * sizeof *kick);
      if (!n) break;
      kick = n;
      memcpy(kick[nkick++], c->who.id, sizeof kick[0]);
      mosquitto_log_printf(MOSQ_LOG_NOTICE, "certpilot: disconnecting '%s': %s", c->who.id, why);
      continue;
    }
    char *json = NULL;
    long long v = 0;
    /* One notification per poll per device keeps the loop short. */
    if (hub_twin_desired_after(p->twins, c->who.id, c->desired_sent, &json, &v) == CP_OK) {
      char topic[128];
      if (hub_topic_build_twin_desired(topic, sizeof topic, v) == CP_OK) {
        const char *client_id = c->who.id; /* hub client id = device id */
        reply(client_id, topic, json);
        c->desired_sent = v;
      }
      free(json);
    }
  }
  for (size_t i = 0; i < nkick; i++) mosquitto_kick_client_by_clientid(kick[i], false);
  free(kick);
}
