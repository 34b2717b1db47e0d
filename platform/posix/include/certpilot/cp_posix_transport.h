/**
 * @file cp_posix_transport.h
 * @brief POSIX implementations of cp_transport.h: Paho MQTT C (mqtts:// and
 *        wss://) and libcurl (HTTPS). Server verification is always on.
 */
#ifndef CERTPILOT_CP_POSIX_TRANSPORT_H
#define CERTPILOT_CP_POSIX_TRANSPORT_H

#include <stdbool.h>

#include "certpilot/cp_transport.h"

#ifdef __cplusplus
extern "C" {
#endif

/** State of one Paho connection. Caller-owned; members are private. */
typedef struct cp_posix_mqtt {
  struct {
    void *client;       /* MQTTClient */
    bool connected;
    char tls_error[256]; /* first TLS error reported by OpenSSL during connect */
  } _internal;
} cp_posix_mqtt;

/**
 * @brief Bind @p state to @p out. Nothing is connected yet; call
 *        out->vtable->connect(out->ctx, …). Call disconnect when done: it
 *        also frees the Paho client.
 * @return CP_OK; CP_ERR_INVALID_ARG.
 */
cp_result cp_posix_mqtt_transport_init(cp_posix_mqtt *state, cp_mqtt_transport *out);

/**
 * @brief The libcurl HTTPS transport (one easy handle per request; no state).
 *        Calls curl_global_init() once, thread-unsafely: call it before
 *        starting threads.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_TRANSPORT (libcurl failed to start).
 */
cp_result cp_posix_http_transport_init(cp_http_transport *out);

#ifdef __cplusplus
}
#endif
#endif
