/* Blocking hub client: twin GET / reported PATCH / desired patches over Paho. */
#include "certpilot/cp_hub_client.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_log.h"
#include "certpilot/cp_platform.h"
#include "certpilot/cp_protocol.h"

#define C(c) (&(c)->_internal)

cp_result cp_hub_client_connect(cp_hub_client *client, const cp_hub_client_config *config,
                                cp_error_detail *detail)
{
  char host[CP_HUB_USERNAME_MAX], username[CP_HUB_USERNAME_MAX];
  cp_mqtt_connect_options o;
  const char *colon;
  uint16_t port;
  size_t len;
  cp_result r;

  if (client == NULL || config == NULL)
    return CP_ERR_INVALID_ARG;
  memset(client, 0, sizeof *client);
  if (config->host == NULL || config->host[0] == '\0' || config->device_id == NULL ||
      config->device_id[0] == '\0' || config->cert_chain_path == NULL ||
      config->key_path == NULL) {
    cp_error_detail_set(detail, "config", "hub host, device id, certificate and key are required");
    return CP_ERR_CONFIG;
  }
  snprintf(host, sizeof host, "%s", config->host);
  port = config->port;
  colon = strchr(config->host, ':');
  if (colon != NULL) {
    host[colon - config->host] = '\0';
    if (port == 0)
      port = (uint16_t)atoi(colon + 1);
  }
  if (port == 0)
    port = config->wire == CP_MQTT_WIRE_WSS ? CP_MQTT_WS_PORT : CP_HUB_MQTT_PORT;
  r = cp_hub_mqtt_username(host, config->device_id, username, sizeof username, &len);
  if (r != CP_OK) {
    cp_error_detail_set(detail, "config", "hub host or device id too long");
    return CP_ERR_CONFIG;
  }
  C(client)->on_desired = config->on_desired;
  C(client)->on_desired_ctx = config->on_desired_ctx;
  C(client)->timeout_ms = config->timeout_ms ? config->timeout_ms : 30000;
  cp_posix_mqtt_transport_init(&C(client)->mqtt, &C(client)->transport);
  memset(&o, 0, sizeof o);
  o.host = config->connect_host ? config->connect_host : host;
  o.port = port;
  o.wire = config->wire;
  o.client_id = config->device_id;
  o.username = username;
  o.tls.trust_bundle_path = config->trust_bundle_path;
  o.tls.client_cert_path = config->cert_chain_path;
  o.tls.client_key_path = config->key_path;
  o.timeout_ms = C(client)->timeout_ms;
  r = C(client)->transport.vtable->connect(C(client)->transport.ctx, &o, detail);
  if (r == CP_OK)
    r = C(client)->transport.vtable->subscribe(C(client)->transport.ctx,
                                               CP_HUB_TOPIC_TWIN_RES_FILTER, 0, detail);
  if (r == CP_OK)
    r = C(client)->transport.vtable->subscribe(C(client)->transport.ctx,
                                               CP_HUB_TOPIC_TWIN_DESIRED_FILTER, 0, detail);
  if (r != CP_OK)
    C(client)->transport.vtable->disconnect(C(client)->transport.ctx);
  return r;
}

/*
 * Receive until the twin response for @p rid arrives or @p timeout_ms passes;
 * deliver desired patches on the way. With rid NULL: just deliver for timeout_ms.
 */
static cp_result pump(cp_hub_client *client, const char *rid, uint32_t timeout_ms,
                      cp_hub_topic_info *reply, size_t *reply_len, cp_error_detail *detail)
{
  int64_t deadline = cp_platform_monotonic_ms() + timeout_ms;
  cp_hub_topic_info info;
  size_t len;
  cp_result r;

  for (;;) {
    int64_t left = deadline - cp_platform_monotonic_ms();
    if (left <= 0)
      break;
    r = C(client)->transport.vtable->receive(C(client)->transport.ctx, C(client)->topic,
                                             sizeof C(client)->topic, C(client)->payload,
                                             sizeof C(client)->payload, &len,
                                             (uint32_t)left, detail);
    if (r == CP_ERR_TIMEOUT)
      break;
    if (r == CP_ERR_BUFFER_TOO_SMALL)
      continue; /* dropped; logged by the transport's detail */
    if (r != CP_OK)
      return r;
    if (cp_hub_topic_parse(C(client)->topic, strlen(C(client)->topic), &info, NULL) != CP_OK)
      continue;
    if (info.kind == CP_HUB_TOPIC_DESIRED_PATCH) {
      if (C(client)->on_desired != NULL)
        C(client)->on_desired(C(client)->on_desired_ctx, info.version, C(client)->payload, len);
    } else if (rid != NULL && strcmp(info.rid, rid) == 0) {
      *reply = info;
      *reply_len = len;
      return CP_OK;
    }
  }
  if (rid == NULL)
    return CP_OK;
  cp_error_detail_set(detail, "", "no twin response to $rid=%s within %u ms", rid,
                      (unsigned)timeout_ms);
  return CP_ERR_TIMEOUT;
}

static cp_result request(cp_hub_client *client, bool patch, const char *body,
                         cp_hub_topic_info *reply, size_t *reply_len, cp_error_detail *detail)
{
  char rid[16], topic[CP_HUB_TOPIC_MAX];
  size_t len;
  cp_result r;

  snprintf(rid, sizeof rid, "%u", (unsigned)++C(client)->rid);
  r = patch ? cp_hub_twin_patch_topic(rid, topic, sizeof topic, &len)
            : cp_hub_twin_get_topic(rid, topic, sizeof topic, &len);
  if (r != CP_OK)
    return r;
  r = C(client)->transport.vtable->publish(C(client)->transport.ctx, topic, body,
                                           body ? strlen(body) : 0, 0, detail);
  if (r != CP_OK)
    return r;
  return pump(client, rid, C(client)->timeout_ms, reply, reply_len, detail);
}

static cp_result refused(const cp_hub_topic_info *info, const char *body, cp_error_detail *d)
{
  if (d != NULL)
    d->status = info->status;
  cp_error_detail_set(d, "status", "hub answered %d: %.160s", info->status, body);
  return info->status == 401 ? CP_ERR_UNAUTHORIZED : CP_ERR_REFUSED;
}

cp_result cp_hub_client_get_twin(cp_hub_client *client, char *json, size_t json_size,
                                 size_t *json_len, cp_error_detail *detail)
{
  cp_hub_topic_info info;
  size_t len;
  cp_result r;

  if (client == NULL || json == NULL || json_len == NULL)
    return CP_ERR_INVALID_ARG;
  r = request(client, false, NULL, &info, &len, detail);
  if (r != CP_OK)
    return r;
  if (info.status != 200)
    return refused(&info, C(client)->payload, detail);
  if (len + 1 > json_size) {
    *json_len = len + 1;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  memcpy(json, C(client)->payload, len + 1);
  *json_len = len;
  return CP_OK;
}

cp_result cp_hub_client_report(cp_hub_client *client, const char *patch_json,
                               int64_t *version, cp_error_detail *detail)
{
  cp_hub_topic_info info;
  size_t len;
  cp_result r;

  if (client == NULL || patch_json == NULL)
    return CP_ERR_INVALID_ARG;
  r = request(client, true, patch_json, &info, &len, detail);
  if (r != CP_OK)
    return r;
  if (info.status != 204 && info.status != 200)
    return refused(&info, C(client)->payload, detail);
  if (version != NULL)
    *version = info.has_version ? info.version : 0;
  return CP_OK;
}

cp_result cp_hub_client_poll(cp_hub_client *client, uint32_t timeout_ms,
                             cp_error_detail *detail)
{
  if (client == NULL)
    return CP_ERR_INVALID_ARG;
  return pump(client, NULL, timeout_ms, NULL, NULL, detail);
}

void cp_hub_client_disconnect(cp_hub_client *client)
{
  if (client != NULL && C(client)->transport.vtable != NULL)
    C(client)->transport.vtable->disconnect(C(client)->transport.ctx);
}
