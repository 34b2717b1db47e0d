/*
 * cp_mqtt_transport: a small MQTT 3.1.1 client (clean session, QoS 0/1) over
 * OpenSSL, mqtts:// or wss://. Single-threaded: every call does its own I/O
 * and waits with poll() against its deadline, so a reply is handed over as
 * soon as it arrives (Paho's synchronous client stepped in 100 ms cycles and
 * left Nagle on; see docs/benchmarks/sdk.md).
 */
#include "certpilot/cp_posix_transport.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_log.h"
#include "certpilot/cp_platform.h"
#include "certpilot/cp_protocol.h"
#include "cp_posix_mqtt_link.h"

/* A message received while waiting for something else, or not yet handed out. */
typedef struct mq_msg {
  struct mq_msg *next;
  char *topic;
  size_t topic_len;
  uint8_t *payload;
  size_t payload_len;
} mq_msg;

typedef struct mq_session {
  mq_link link;
  bool open;
  uint16_t last_id;
  int64_t keepalive_ms;
  int64_t last_tx;        /* monotonic ms of the last packet sent */
  uint32_t op_timeout_ms; /* SUBACK wait */
  mq_msg *head, *tail;
  mq_buf out;             /* scratch for outgoing packets */
} mq_session;

static mq_session *session(cp_posix_mqtt *m)
{
  return m->_internal.client;
}

static void free_queue(mq_session *s)
{
  while (s->head != NULL) {
    mq_msg *n = s->head->next;
    free(s->head);
    s->head = n;
  }
  s->tail = NULL;
}

static void close_client(cp_posix_mqtt *m)
{
  mq_session *s = session(m);

  if (s != NULL) {
    if (s->open) {
      s->out.len = 0;
      if (mq_put_empty(&s->out, MQ_DISCONNECT) == 0)
        (void)mq_link_write(&s->link, s->out.p, s->out.len, cp_platform_monotonic_ms() + 1000);
    }
    mq_tls_close(&s->link);
    free_queue(s);
    mq_buf_free(&s->out);
    free(s);
  }
  m->_internal.client = NULL;
  m->_internal.connected = false;
}

static void lost(cp_posix_mqtt *m)
{
  mq_session *s = session(m);

  if (s != NULL && s->open) {
    s->open = false;
    mq_tls_close(&s->link);
  }
  m->_internal.connected = false;
}

/* Send what is in s->out. */
static cp_result flush(cp_posix_mqtt *m, const char *what, cp_error_detail *detail)
{
  mq_session *s = session(m);
  int64_t now = cp_platform_monotonic_ms();

  if (mq_link_write(&s->link, s->out.p, s->out.len, now + s->op_timeout_ms) != 0) {
    lost(m);
    cp_error_detail_set(detail, "", "MQTT connection lost while sending %s", what);
    return CP_ERR_TRANSPORT;
  }
  s->last_tx = cp_platform_monotonic_ms();
  return CP_OK;
}

static cp_result send_ack(cp_posix_mqtt *m, int type, uint16_t id, cp_error_detail *detail)
{
  mq_session *s = session(m);

  s->out.len = 0;
  if (mq_put_ack(&s->out, type, id) != 0)
    return CP_ERR_TRANSPORT;
  return flush(m, "an acknowledgement", detail);
}

static int queue_publish(mq_session *s, const mq_publish *pub)
{
  mq_msg *q = malloc(sizeof *q + pub->topic_len + 1 + pub->payload_len + 1);

  if (q == NULL)
    return -1;
  q->next = NULL;
  q->topic = (char *)(q + 1);
  memcpy(q->topic, pub->topic, pub->topic_len);
  q->topic[pub->topic_len] = '\0';
  q->topic_len = pub->topic_len;
  q->payload = (uint8_t *)q->topic + pub->topic_len + 1;
  if (pub->payload_len > 0)
    memcpy(q->payload, pub->payload, pub->payload_len);
  q->payload[pub->payload_len] = '\0';
  q->payload_len = pub->payload_len;
  if (s->tail != NULL)
    s->tail->next = q;
  else
    s->head = q;
  s->tail = q;
  return 0;
}

/*
 * Read and handle one packet, waiting until @p deadline (PINGREQ sent when
 * the keepalive is due). PUBLISHes are queued and acknowledged; anything else
 * is copied to @p got (its body pointer is only valid until the next call).
 * CP_OK with got->type set, or got->type 0 when only a PUBLISH was queued;
 * CP_ERR_TIMEOUT; CP_ERR_TRANSPORT.
 */
static cp_result step(cp_posix_mqtt *m, int64_t deadline, mq_packet *got,
                      uint8_t body_copy[8], cp_error_detail *detail)
{
  mq_session *s = session(m);
  mq_packet pk;
  long n;

  got->type = 0;
  for (;;) {
    int64_t now = cp_platform_monotonic_ms(), wait_until = deadline;
    int f;
    n = mq_packet_parse(s->link.stream.p, s->link.stream.len, &pk);
    if (n != 0)
      break;
    if (s->keepalive_ms > 0) {
      int64_t due = s->last_tx + s->keepalive_ms;
      if (now >= due) {
        cp_result r;
        s->out.len = 0;
        if (mq_put_empty(&s->out, MQ_PINGREQ) != 0)
          return CP_ERR_TRANSPORT;
        if ((r = flush(m, "PINGREQ", detail)) != CP_OK)
          return r;
        due = s->last_tx + s->keepalive_ms;
      }
      if (due < wait_until)
        wait_until = due;
    }
    f = mq_link_fill(&s->link, wait_until);
    if (f < 0) {
      lost(m);
      cp_error_detail_set(detail, "", "MQTT connection closed by the server");
      return CP_ERR_TRANSPORT;
    }
    if (f == 0 && cp_platform_monotonic_ms() >= deadline)
      return CP_ERR_TIMEOUT;
  }
  if (n < 0) {
    lost(m);
    cp_error_detail_set(detail, "", "malformed MQTT packet from the server");
    return CP_ERR_TRANSPORT;
  }
  if (pk.type == MQ_PUBLISH) {
    mq_publish pub;
    cp_result r = CP_OK;
    if (mq_publish_parse(&pk, &pub) != 0) {
      lost(m);
      cp_error_detail_set(detail, "", "malformed MQTT PUBLISH from the server");
      return CP_ERR_TRANSPORT;
    }
    if (queue_publish(s, &pub) != 0) {
      cp_error_detail_set(detail, "", "out of memory for an MQTT message");
      r = CP_ERR_TRANSPORT;
    }
    mq_buf_consume(&s->link.stream, (size_t)n);
    if (r == CP_OK && pub.qos == 1)
      r = send_ack(m, MQ_PUBACK, pub.id, detail);
    else if (r == CP_OK && pub.qos == 2)
      r = send_ack(m, MQ_PUBREC, pub.id, detail);
    return r;
  }
  *got = pk;
  got->body = NULL;
  memset(body_copy, 0, 8);
  memcpy(body_copy, pk.body, pk.body_len < 8 ? pk.body_len : 8);
  mq_buf_consume(&s->link.stream, (size_t)n);
  if (pk.type == MQ_PUBREL && pk.body_len >= 2)
    return send_ack(m, MQ_PUBCOMP, (uint16_t)(body_copy[0] << 8 | body_copy[1]), detail);
  return CP_OK;
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
  uint32_t timeout = o != NULL && o->timeout_ms ? o->timeout_ms : 30000;
  int64_t deadline = cp_platform_monotonic_ms() + timeout;
  bool wss;
  uint16_t port;
  mq_session *s;
  char why[512];
  cp_result r;

  if (m == NULL || o == NULL || o->host == NULL || o->client_id == NULL)
    return CP_ERR_INVALID_ARG;
  close_client(m);
  m->_internal.tls_error[0] = '\0';
  wss = o->wire == CP_MQTT_WIRE_WSS;
  port = o->port ? o->port : wss ? CP_MQTT_WS_PORT : CP_DPS_MQTT_PORT;
  s = calloc(1, sizeof *s);
  if (s == NULL)
    return CP_ERR_TRANSPORT;
  s->link.fd = -1;
  s->op_timeout_ms = timeout;
  s->keepalive_ms = (int64_t)(o->keepalive_s ? o->keepalive_s : 60) * 1000;
  m->_internal.client = s;
  r = mq_tls_open(&s->link, o->host, port, &o->tls, deadline, why, sizeof why);
  if (r == CP_OK && wss)
    r = mq_ws_open(&s->link, o->host, port, CP_MQTT_WS_PATH, deadline, why, sizeof why);
  if (r != CP_OK) {
    if (r == CP_ERR_TLS)
      snprintf(m->_internal.tls_error, sizeof m->_internal.tls_error, "%.*s",
               (int)sizeof m->_internal.tls_error - 1, why);
    cp_error_detail_set(detail, r == CP_ERR_TLS ? "tls" : "", "%s", why);
    close_client(m);
    return r;
  }
  s->open = true;
  m->_internal.connected = true;
  s->out.len = 0;
  if (mq_put_connect(&s->out, o->client_id, o->username, o->password,
                     (uint16_t)(s->keepalive_ms / 1000)) != 0) {
    cp_error_detail_set(detail, "", "MQTT CONNECT too large");
    close_client(m);
    return CP_ERR_INVALID_ARG;
  }
  r = flush(m, "CONNECT", detail);
  while (r == CP_OK) {
    mq_packet pk;
    uint8_t body[8];
    r = step(m, deadline, &pk, body, detail);
    if (r != CP_OK)
      break;
    if (pk.type == MQ_CONNACK) {
      int rc = pk.body_len >= 2 ? body[1] : 255;
      if (rc == 0)
        return CP_OK;
      r = connack_result(rc, detail);
    } else if (pk.type != 0) {
      cp_error_detail_set(detail, "CONNACK", "MQTT server sent packet type %d before CONNACK",
                          pk.type);
      r = CP_ERR_TRANSPORT;
    }
  }
  if (r == CP_ERR_TIMEOUT) {
    cp_error_detail_set(detail, "CONNACK", "MQTT connection to %s:%u failed (no CONNACK within "
                        "%u ms)", o->host, (unsigned)port, (unsigned)timeout);
    r = CP_ERR_TRANSPORT;
  }
  close_client(m);
  return r;
}

static cp_result not_connected(cp_posix_mqtt *m, cp_error_detail *detail)
{
  if (session(m) != NULL && session(m)->open)
    return CP_OK;
  m->_internal.connected = false;
  cp_error_detail_set(detail, "", "MQTT connection is closed");
  return CP_ERR_TRANSPORT;
}

static uint16_t next_id(mq_session *s)
{
  if (++s->last_id == 0)
    s->last_id = 1;
  return s->last_id;
}

static cp_result mqtt_subscribe(void *ctx, const char *filter, int qos,
                                cp_error_detail *detail)
{
  cp_posix_mqtt *m = ctx;
  mq_session *s;
  int64_t deadline;
  uint16_t id;
  cp_result r;

  if (m == NULL || filter == NULL || qos < 0 || qos > 2)
    return CP_ERR_INVALID_ARG;
  if ((r = not_connected(m, detail)) != CP_OK)
    return r;
  s = session(m);
  id = next_id(s);
  s->out.len = 0;
  if (mq_put_subscribe(&s->out, id, filter, qos) != 0)
    return CP_ERR_INVALID_ARG;
  if ((r = flush(m, "SUBSCRIBE", detail)) != CP_OK)
    return r;
  deadline = cp_platform_monotonic_ms() + s->op_timeout_ms;
  for (;;) {
    mq_packet pk;
    uint8_t body[8];
    r = step(m, deadline, &pk, body, detail);
    if (r == CP_ERR_TIMEOUT) {
      cp_error_detail_set(detail, "SUBACK", "subscribe to %s failed (no SUBACK within %u ms)",
                          filter, (unsigned)s->op_timeout_ms);
      return CP_ERR_TRANSPORT;
    }
    if (r != CP_OK)
      return r;
    if (pk.type == MQ_SUBACK && pk.body_len >= 3 && (body[0] << 8 | body[1]) == id) {
      if (body[2] != 0x80)
        return CP_OK;
      cp_error_detail_set(detail, "SUBACK", "subscribe to %s failed (refused by the server)",
                          filter);
      return CP_ERR_REFUSED;
    }
  }
}

static cp_result mqtt_publish(void *ctx, const char *topic, const void *payload, size_t len,
                              int qos, cp_error_detail *detail)
{
  cp_posix_mqtt *m = ctx;
  mq_session *s;
  cp_result r;

  if (m == NULL || topic == NULL || (payload == NULL && len > 0) || len > 0x7fffffff ||
      qos < 0 || qos > 1)
    return CP_ERR_INVALID_ARG;
  if ((r = not_connected(m, detail)) != CP_OK)
    return r;
  s = session(m);
  s->out.len = 0;
  /* QoS 1: no wait for PUBACK; later receive() calls read and drop it (the
   * reply to a request is what confirms it, as with coreMQTT) */
  if (mq_put_publish(&s->out, topic, payload, len, qos, qos ? next_id(s) : 0) != 0) {
    cp_error_detail_set(detail, "", "publish to %s failed (message too large)", topic);
    return CP_ERR_INVALID_ARG;
  }
  return flush(m, "PUBLISH", detail);
}

static cp_result mqtt_receive(void *ctx, char *topic, size_t topic_size, char *payload,
                              size_t payload_size, size_t *payload_len, uint32_t timeout_ms,
                              cp_error_detail *detail)
{
  cp_posix_mqtt *m = ctx;
  int64_t deadline = cp_platform_monotonic_ms() + timeout_ms;
  mq_session *s;
  mq_msg *q;
  cp_result r;

  if (m == NULL || topic == NULL || payload == NULL || payload_len == NULL ||
      topic_size == 0 || payload_size == 0)
    return CP_ERR_INVALID_ARG;
  s = session(m);
  while (s == NULL || s->head == NULL) {
    mq_packet pk;
    uint8_t body[8];
    if ((r = not_connected(m, detail)) != CP_OK)
      return r;
    s = session(m);
    r = step(m, deadline, &pk, body, detail);
    if (r != CP_OK)
      return r;
  }
  q = s->head;
  s->head = q->next;
  if (s->head == NULL)
    s->tail = NULL;
  if (q->topic_len + 1 > topic_size || q->payload_len + 1 > payload_size) {
    cp_error_detail_set(detail, "", "MQTT message on %.*s too large (%zu bytes)",
                        (int)(q->topic_len > 80 ? 80 : q->topic_len), q->topic, q->payload_len);
    r = CP_ERR_BUFFER_TOO_SMALL;
  } else {
    memcpy(topic, q->topic, q->topic_len + 1);
    memcpy(payload, q->payload, q->payload_len + 1);
    *payload_len = q->payload_len;
    r = CP_OK;
  }
  free(q);
  return r;
}

static void mqtt_disconnect(void *ctx)
{
  if (ctx != NULL)
    close_client(ctx);
}

static const cp_mqtt_transport_vtable mqtt_vtable = {
  mqtt_connect, mqtt_subscribe, mqtt_publish, mqtt_receive, mqtt_disconnect,
};

cp_result cp_posix_mqtt_transport_init(cp_posix_mqtt *state, cp_mqtt_transport *out)
{
  if (state == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  memset(state, 0, sizeof *state);
  out->vtable = &mqtt_vtable;
  out->ctx = state;
  return CP_OK;
}
