/**
 * @file cp_hub_client.h
 * @brief Blocking IoT Hub client for POSIX: connect with the operational
 *        chain + key, twin GET, reported PATCH, desired-property callback.
 *
 * One client per connection; not thread-safe. Built on cp_hub.h and the Paho
 * transport of cp_posix_transport.h.
 */
#ifndef CERTPILOT_CP_HUB_CLIENT_H
#define CERTPILOT_CP_HUB_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "certpilot/cp_error.h"
#include "certpilot/cp_hub.h"
#include "certpilot/cp_posix_transport.h"
#include "certpilot/cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * Desired-properties callback: @p json is the patch (NUL-terminated, valid
 * only during the call), @p version its $version.
 */
typedef void (*cp_hub_desired_fn)(void *ctx, int64_t version, const char *json, size_t len);

/** Hub connection settings. Strings borrowed for cp_hub_client_connect() only. */
typedef struct cp_hub_client_config {
  const char *host;              /**< the assignedHub; "host:port" is split */
  uint16_t port;                 /**< 0: from host, else 8883 (TLS) / 443 (WSS) */
  const char *connect_host;      /**< optional network address to dial instead of host (the
                                      user name still names host); TLS checks this name */
  cp_mqtt_wire wire;             /**< CP_MQTT_WIRE_TLS or CP_MQTT_WIRE_WSS */
  const char *device_id;
  const char *cert_chain_path;   /**< PEM: leaf + issuing CA (cp_provision_result.chain_pem) */
  const char *key_path;          /**< PEM private key of the leaf (mode 0600) */
  const char *trust_bundle_path; /**< PEM CAs for the hub's TLS certificate; NULL: system */
  cp_hub_desired_fn on_desired;  /**< optional */
  void *on_desired_ctx;
  uint32_t timeout_ms;           /**< per operation (connect, twin GET, PATCH); 0: 30000 */
} cp_hub_client_config;

/** A hub connection. Caller-owned; members are private. */
typedef struct cp_hub_client {
  struct {
    cp_posix_mqtt mqtt;
    cp_mqtt_transport transport;
    cp_hub_desired_fn on_desired;
    void *on_desired_ctx;
    uint32_t timeout_ms;
    uint32_t rid;
    char topic[256];
    char payload[64 * 1024];
  } _internal;
} cp_hub_client;

/**
 * @brief Connect (client id = device id, user name per protocol.md §7, TLS
 *        client certificate) and subscribe to twin responses and desired patches.
 * @return CP_OK; CP_ERR_CONFIG (missing setting); CP_ERR_TRANSPORT; CP_ERR_TLS;
 *         CP_ERR_UNAUTHORIZED (the hub refused the certificate); CP_ERR_REFUSED.
 */
cp_result cp_hub_client_connect(cp_hub_client *client, const cp_hub_client_config *config,
                                cp_error_detail *detail);

/**
 * @brief Twin GET: the whole twin document into @p json (parse it with cp_hub_twin_parse()).
 *        Desired patches arriving meanwhile go to the callback.
 * @return CP_OK; CP_ERR_REFUSED (status != 200; detail.status); CP_ERR_TIMEOUT;
 *         CP_ERR_BUFFER_TOO_SMALL; CP_ERR_TRANSPORT.
 */
cp_result cp_hub_client_get_twin(cp_hub_client *client, char *json, size_t json_size,
                                 size_t *json_len, cp_error_detail *detail);

/**
 * @brief Reported PATCH with @p patch_json (a JSON object; null members delete).
 * @param[out] version optional: the new reported $version from the reply.
 * @return CP_OK (204); CP_ERR_REFUSED (other status); CP_ERR_TIMEOUT; CP_ERR_TRANSPORT.
 */
cp_result cp_hub_client_report(cp_hub_client *client, const char *patch_json,
                               int64_t *version, cp_error_detail *detail);

/**
 * @brief Wait up to @p timeout_ms for desired patches and deliver them.
 * @return CP_OK (waited); CP_ERR_TRANSPORT (connection lost).
 */
cp_result cp_hub_client_poll(cp_hub_client *client, uint32_t timeout_ms,
                             cp_error_detail *detail);

/** @brief Disconnect. Safe to call twice. */
void cp_hub_client_disconnect(cp_hub_client *client);

#ifdef __cplusplus
}
#endif
#endif
