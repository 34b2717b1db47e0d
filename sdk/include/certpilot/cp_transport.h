/**
 * @file cp_transport.h
 * @brief The small transport interface the provisioning and hub clients run
 *        over (coreMQTT-style): an MQTT vtable and an HTTP vtable.
 *
 * The SDK core never calls these itself; the blocking helpers of a port do
 * (platform/posix implements them with Paho MQTT C and libcurl). A firmware
 * port implements the same vtables on its own stack.
 *
 * Every function fills the optional @c cp_error_detail and returns:
 * CP_ERR_TRANSPORT (connection failed or dropped; message says where),
 * CP_ERR_TLS (handshake or peer verification failed; message carries the
 * verify reason), CP_ERR_UNAUTHORIZED / CP_ERR_REFUSED (the peer said no;
 * status and message filled), CP_ERR_TIMEOUT, or CP_ERR_BUFFER_TOO_SMALL.
 * Server verification is always on: there is deliberately no option to turn it off.
 */
#ifndef CERTPILOT_CP_TRANSPORT_H
#define CERTPILOT_CP_TRANSPORT_H

#include <stddef.h>
#include <stdint.h>

#include "cp_error.h"
#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** TLS material, as file paths (Paho takes keys from files only). Borrowed. */
typedef struct cp_tls_options {
  const char *trust_bundle_path; /**< PEM CA bundle to verify the server; NULL: system store */
  const char *client_cert_path;  /**< PEM client certificate chain, leaf first; NULL: none */
  const char *client_key_path;   /**< PEM private key of the client certificate; NULL: none */
} cp_tls_options;

/** How MQTT travels. */
typedef enum cp_mqtt_wire {
  CP_MQTT_WIRE_TLS = 0, /**< mqtts:// (port 8883 by default) */
  CP_MQTT_WIRE_WSS = 1, /**< wss://host:port/$iothub/websocket, subprotocol "mqtt" (443) */
} cp_mqtt_wire;

/** MQTT CONNECT parameters. All strings borrowed for the duration of connect(). */
typedef struct cp_mqtt_connect_options {
  const char *host;
  uint16_t port;
  cp_mqtt_wire wire;
  const char *client_id;
  const char *username;
  const char *password;   /**< SAS token, or NULL (X.509) */
  cp_tls_options tls;
  uint16_t keepalive_s;   /**< 0: the port's default */
  uint32_t timeout_ms;    /**< connect timeout */
} cp_mqtt_connect_options;

/** MQTT operations. @p ctx is the transport's own state. */
typedef struct cp_mqtt_transport_vtable {
  /** Open the network connection and send CONNECT (clean session). */
  cp_result (*connect)(void *ctx, const cp_mqtt_connect_options *options,
                       cp_error_detail *detail);
  /** Subscribe and wait for SUBACK. */
  cp_result (*subscribe)(void *ctx, const char *filter, int qos, cp_error_detail *detail);
  /** Publish (QoS 0 or 1; QoS 1 waits for PUBACK). */
  cp_result (*publish)(void *ctx, const char *topic, const void *payload, size_t len,
                       int qos, cp_error_detail *detail);
  /**
   * Wait up to @p timeout_ms for one message. Topic and payload are copied and
   * NUL-terminated. CP_ERR_TIMEOUT when nothing arrived; CP_ERR_BUFFER_TOO_SMALL
   * when the message did not fit (it is dropped).
   */
  cp_result (*receive)(void *ctx, char *topic, size_t topic_size, char *payload,
                       size_t payload_size, size_t *payload_len, uint32_t timeout_ms,
                       cp_error_detail *detail);
  /** Send DISCONNECT (if connected) and close. Safe to call twice. */
  void (*disconnect)(void *ctx);
} cp_mqtt_transport_vtable;

/** An MQTT transport: a vtable and its context. */
typedef struct cp_mqtt_transport {
  const cp_mqtt_transport_vtable *vtable;
  void *ctx;
} cp_mqtt_transport;

/** One HTTP header. Borrowed. */
typedef struct cp_http_header {
  const char *name;
  const char *value;
} cp_http_header;

/** An HTTPS request. Everything borrowed for the duration of the call. */
typedef struct cp_http_request {
  const char *method;            /**< "PUT", "GET", "POST" */
  const char *host;
  uint16_t port;
  const char *path;              /**< starts with '/', query included */
  const cp_http_header *headers;
  size_t header_count;
  const char *body;              /**< may be NULL when body_len is 0 */
  size_t body_len;
  cp_tls_options tls;
  uint32_t timeout_ms;           /**< whole request */
} cp_http_request;

#define CP_HTTP_RETRY_AFTER_MAX 32 /**< Retry-After value kept, incl. NUL */

/** An HTTP response; the body goes into a caller buffer. */
typedef struct cp_http_response {
  int status;                                  /**< out: HTTP status */
  char retry_after[CP_HTTP_RETRY_AFTER_MAX];   /**< out: Retry-After value, "" when absent */
  char *body;                                  /**< in: caller buffer (NUL-terminated on return) */
  size_t body_size;                            /**< in: its size */
  size_t body_len;                             /**< out: bytes of body */
} cp_http_response;

/** HTTP operations. */
typedef struct cp_http_transport_vtable {
  /**
   * Perform one request. Any HTTP status is CP_OK (the caller interprets it);
   * errors are for failures to get one. CP_ERR_BUFFER_TOO_SMALL when the body
   * did not fit.
   */
  cp_result (*request)(void *ctx, const cp_http_request *request,
                       cp_http_response *response, cp_error_detail *detail);
} cp_http_transport_vtable;

/** An HTTP transport: a vtable and its context. */
typedef struct cp_http_transport {
  const cp_http_transport_vtable *vtable;
  void *ctx;
} cp_http_transport;

#ifdef __cplusplus
}
#endif
#endif
