/* cp_mqtt_transport over Paho MQTT C (synchronous client, OpenSSL). */
#include "certpilot/cp_posix_transport.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <MQTTClient.h>

#include "certpilot/cp_log.h"
#include "certpilot/cp_protocol.h"
#include "cp_posix_mqtt_nodelay.h"
#include "cp_posix_mqtt_tcp.h"


/* Paho hands us OpenSSL's error lines; keep the first, it names the reason. */
static int on_tls_error(const char *str, size_t len, void *u)
{
  cp_posix_mqtt *m = u;

  if (m->_internal.tls_error[0] == '\0')
    snprintf(m->_internal.tls_error, sizeof m->_internal.tls_error, "%.*s", (int)len, str);
  return 0;
}

static void close_client(cp_posix_mqtt *m)
{
  if (m->_internal.client != NULL) {
    MQTTClient client = m->_internal.client;
    if (m->_internal.connected)
      MQTTClient_disconnect(client, 0); /* in-flight PUBACKs do not matter now */
    MQTTClient_destroy(&client);
  }
  m->_internal.client = NULL;
  m->_internal.connected = false;
}

static cp_result connack_result(int rc, cp_error_detail *detail)
{
  static const char *const why[] = {
    "", "unacceptable protocol version", "client identifier rejected",
    "server unavailable", "bad user name or password", "not authorized",
  };

  if (detail != NULL)
    detail->status = rc;
  cp_error_detail_set(detail, "CONNACK", "MQTT CONNECT refused: %s (return code %d)",
                      rc >= 1 && rc <= 5 ? why[rc] : "unknown", rc);
  return rc == 4 || rc == 5 ? CP_ERR_UNAUTHORIZED : CP_ERR_REFUSED;
}

static cp_result mqtt_connect(void *ctx, const cp_mqtt_connect_options *o,
                              cp_error_detail *detail)
{
  cp_posix_mqtt *m = ctx;
  MQTTClient_connectOptions conn = MQTTClient_connectOptions_initializer;
  MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
  MQTTClient client;
  cp_posix_mqtt_tcp tcp;
  uint16_t port;
  char uri[512];
  int rc;

  if (m == NULL || o == NULL || o->host == NULL || o->client_id == NULL)
    return CP_ERR_INVALID_ARG;
  close_client(m);
  m->_internal.tls_error[0] = '\0';
  port = o->port ? o->port : o->wire == CP_MQTT_WIRE_WSS ? CP_MQTT_WS_PORT : CP_DPS_MQTT_PORT;
  if (o->wire == CP_MQTT_WIRE_WSS)
    snprintf(uri, sizeof uri, "wss://%s:%u%s", o->host, (unsigned)port, CP_MQTT_WS_PATH);
  else
    snprintf(uri, sizeof uri, "ssl://%s:%u", o->host, (unsigned)port);
  rc = MQTTClient_create(&client, uri, o->client_id, MQTTCLIENT_PERSISTENCE_NONE, NULL);
  if (rc != MQTTCLIENT_SUCCESS) {
    cp_error_detail_set(detail, "uri", "cannot create an MQTT client for %s (%s)", uri,
                        MQTTClient_strerror(rc));
    return CP_ERR_INVALID_ARG;
  }
  ssl.trustStore = o->tls.trust_bundle_path;
  ssl.keyStore = o->tls.client_cert_path;
  ssl.privateKey = o->tls.client_key_path;
  ssl.enableServerCertAuth = 1; /* always */
  ssl.verify = 1;               /* and check the host name */
  ssl.sslVersion = MQTT_SSL_VERSION_TLS_1_2;
  ssl.ssl_error_cb = on_tls_error;
  ssl.ssl_error_context = m;
  conn.ssl = &ssl;
  conn.cleansession = 1;
  conn.keepAliveInterval = o->keepalive_s ? o->keepalive_s : 60;
  conn.connectTimeout = o->timeout_ms ? (int)((o->timeout_ms + 999) / 1000) : 30;
  conn.username = o->username;
  conn.password = o->password;
  conn.MQTTVersion = MQTTVERSION_3_1_1;
  conn.retryInterval = 0;
  memset(&tcp, 0, sizeof tcp);
  tcp.host = o->host;
  tcp.port = port;
  tcp.timeout_ms = o->timeout_ms ? o->timeout_ms : 30000;
  tcp.tls = true;
  if (o->wire != CP_MQTT_WIRE_WSS) /* see cp_posix_mqtt_tcp.h */
    cp_posix_mqtt_tcp_begin(&tcp);
  rc = MQTTClient_connect(client, &conn);
  cp_posix_mqtt_tcp_end(&tcp); /* no-op when not begun */
  if (rc != MQTTCLIENT_SUCCESS) {
    cp_result r;
    if (rc > 0) {
      r = connack_result(rc, detail);
    } else if (tcp.connect_errno == ETIMEDOUT) {
      cp_error_detail_set(detail, "", "TCP connection to %s:%u timed out after %u ms", o->host,
                          (unsigned)port, (unsigned)tcp.timeout_ms);
      r = CP_ERR_TIMEOUT;
    } else if (tcp.connect_errno != 0) {
      cp_error_detail_set(detail, "", "TCP connection to %s:%u failed: %s", o->host,
                          (unsigned)port, strerror(tcp.connect_errno));
      r = CP_ERR_TRANSPORT;
    } else if (m->_internal.tls_error[0] != '\0') {
      cp_error_detail_set(detail, "tls", "TLS with %s:%u failed: %s", o->host,
                          (unsigned)port, m->_internal.tls_error);
      r = CP_ERR_TLS;
    } else {
      cp_error_detail_set(detail, "", "MQTT connection to %s failed (%s)", uri,
                          MQTTClient_strerror(rc));
      r = CP_ERR_TRANSPORT;
    }
    MQTTClient_destroy(&client);
    return r;
  }
  m->_internal.client = client;
  m->_internal.connected = true;
  if (!tcp.nodelay) /* the early connect did not run: find Paho's socket afterwards */
    (void)cp_posix_mqtt_nodelay(o->host, port);
  return CP_OK;
}

static cp_result not_connected(cp_posix_mqtt *m, cp_error_detail *detail)
{
  if (m->_internal.client != NULL && MQTTClient_isConnected(m->_internal.client))
    return CP_OK;
  m->_internal.connected = false;
  cp_error_detail_set(detail, "", "MQTT connection is closed");
  return CP_ERR_TRANSPORT;
}

static cp_result mqtt_subscribe(void *ctx, const char *filter, int qos,
                                cp_error_detail *detail)
{
  cp_posix_mqtt *m = ctx;
  cp_result r;
  int rc;

  if (m == NULL || filter == NULL)
    return CP_ERR_INVALID_ARG;
  if ((r = not_connected(m, detail)) != CP_OK)
    return r;
  rc = MQTTClient_subscribe(m->_internal.client, filter, qos);
  if (rc == MQTTCLIENT_SUCCESS)
    return CP_OK;
  cp_error_detail_set(detail, "SUBACK", "subscribe to %s failed (%s)", filter,
                      rc == 0x80 ? "refused by the server" : MQTTClient_strerror(rc));
  return rc == 0x80 ? CP_ERR_REFUSED : CP_ERR_TRANSPORT;
}

static cp_result mqtt_publish(void *ctx, const char *topic, const void *payload, size_t len,
                              int qos, cp_error_detail *detail)
{
  cp_posix_mqtt *m = ctx;
  MQTTClient_deliveryToken token;
  cp_result r;
  int rc;

  if (m == NULL || topic == NULL || (payload == NULL && len > 0) || len > 0x7fffffff)
    return CP_ERR_INVALID_ARG;
  if ((r = not_connected(m, detail)) != CP_OK)
    return r;
  rc = MQTTClient_publish(m->_internal.client, topic, (int)len, len ? payload : "", qos, 0,
                          &token);
  /* No MQTTClient_waitForCompletion(): it always spends a 100 ms yield. The
   * PUBACK is processed by later receive() calls, as coreMQTT's process loop does. */
  (void)token;
  if (rc == MQTTCLIENT_SUCCESS)
    return CP_OK;
  cp_error_detail_set(detail, "", "publish to %s failed (%s)", topic, MQTTClient_strerror(rc));
  return CP_ERR_TRANSPORT;
}

static cp_result mqtt_receive(void *ctx, char *topic, size_t topic_size, char *payload,
                              size_t payload_size, size_t *payload_len, uint32_t timeout_ms,
                              cp_error_detail *detail)
{
  cp_posix_mqtt *m = ctx;
  MQTTClient_message *msg = NULL;
  char *name = NULL;
  int name_len = 0, rc;
  size_t tlen;
  cp_result r;

  if (m == NULL || topic == NULL || payload == NULL || payload_len == NULL ||
      topic_size == 0 || payload_size == 0)
    return CP_ERR_INVALID_ARG;
  if ((r = not_connected(m, detail)) != CP_OK)
    return r;
  rc = MQTTClient_receive(m->_internal.client, &name, &name_len, &msg,
                          timeout_ms > 0x7fffffff ? 0x7fffffff : timeout_ms);
  if (rc != MQTTCLIENT_SUCCESS && rc != MQTTCLIENT_TOPICNAME_TRUNCATED) {
    m->_internal.connected = MQTTClient_isConnected(m->_internal.client);
    cp_error_detail_set(detail, "", "MQTT connection lost while waiting (%s)",
                        MQTTClient_strerror(rc));
    return CP_ERR_TRANSPORT;
  }
  if (msg == NULL) {
    if (name != NULL)
      MQTTClient_free(name);
    if (!MQTTClient_isConnected(m->_internal.client)) {
      cp_error_detail_set(detail, "", "MQTT connection closed by the server");
      return CP_ERR_TRANSPORT;
    }
    return CP_ERR_TIMEOUT;
  }
  tlen = name_len > 0 ? (size_t)name_len : strlen(name);
  if (tlen + 1 > topic_size || (size_t)msg->payloadlen + 1 > payload_size) {
    cp_error_detail_set(detail, "", "MQTT message on %.*s too large (%d bytes)",
                        (int)(tlen > 80 ? 80 : tlen), name, msg->payloadlen);
    r = CP_ERR_BUFFER_TOO_SMALL;
  } else {
    memcpy(topic, name, tlen);
    topic[tlen] = '\0';
    if (msg->payloadlen > 0)
      memcpy(payload, msg->payload, (size_t)msg->payloadlen);
    payload[msg->payloadlen] = '\0';
    *payload_len = (size_t)msg->payloadlen;
    r = CP_OK;
  }
  MQTTClient_freeMessage(&msg);
  MQTTClient_free(name);
  return r;
}

static void mqtt_disconnect(void *ctx)
{
  if (ctx != NULL)
    close_client(ctx);
}

static const cp_mqtt_transport_vtable paho_vtable = {
  mqtt_connect, mqtt_subscribe, mqtt_publish, mqtt_receive, mqtt_disconnect,
};

cp_result cp_posix_mqtt_transport_init(cp_posix_mqtt *state, cp_mqtt_transport *out)
{
  if (state == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  memset(state, 0, sizeof *state);
  out->vtable = &paho_vtable;
  out->ctx = state;
  return CP_OK;
}
