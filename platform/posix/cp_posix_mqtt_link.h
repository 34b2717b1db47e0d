/*
 * Private to the POSIX MQTT transport: one TCP + TLS connection (OpenSSL),
 * optionally carrying WebSocket frames, and the MQTT 3.1.1 packet codec.
 * Every wait takes an absolute deadline in cp_platform_monotonic_ms() time.
 */
#ifndef CERTPILOT_CP_POSIX_MQTT_LINK_H
#define CERTPILOT_CP_POSIX_MQTT_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/ssl.h>

#include "certpilot/cp_transport.h"

/** Growable byte buffer (heap; mq_buf_free releases it). */
typedef struct mq_buf {
  uint8_t *p;
  size_t len, cap;
} mq_buf;

/** Largest buffered input (one MQTT packet plus framing) we accept. */
#define MQ_BUF_LIMIT ((size_t)1 << 20)

/** One connection. Zero-initialise, then mq_tls_open (and mq_ws_open for wss). */
typedef struct mq_link {
  int fd;          /* -1 when closed */
  SSL_CTX *ctx;
  SSL *ssl;
  bool ws;         /* WebSocket framing on top of TLS */
  mq_buf raw;      /* TLS plaintext not yet decoded (WebSocket frames) */
  mq_buf stream;   /* MQTT bytes not yet parsed */
} mq_link;

/** Append @p n bytes; 0, or -1 when out of memory or past MQ_BUF_LIMIT. */
int mq_buf_append(mq_buf *b, const void *p, size_t n);
/** Drop the first @p n bytes. */
void mq_buf_consume(mq_buf *b, size_t n);
/** Free the storage; the buffer is empty and reusable afterwards. */
void mq_buf_free(mq_buf *b);

/**
 * TCP connect (TCP_NODELAY) and TLS handshake with server verification
 * (trust bundle or system store, host name or IP checked), optional client
 * certificate. On failure @p why holds a sentence naming the reason.
 * @return CP_OK; CP_ERR_TRANSPORT (TCP, timeout); CP_ERR_TLS (handshake,
 *         verification, unreadable key material).
 */
cp_result mq_tls_open(mq_link *l, const char *host, uint16_t port, const cp_tls_options *tls,
                      int64_t deadline, char *why, size_t why_size);
/** Read TLS plaintext: bytes read (> 0), 0 on deadline, -1 closed or failed. */
int mq_tls_read(mq_link *l, uint8_t *buf, size_t cap, int64_t deadline);
/** Write everything (SIGPIPE suppressed): 0, or -1 closed, failed or deadline. */
int mq_tls_write(mq_link *l, const void *buf, size_t len, int64_t deadline);
/** Send close_notify, close the socket, free everything. Safe twice. */
void mq_tls_close(mq_link *l);

/**
 * WebSocket upgrade (RFC 6455) on an open TLS link: GET @p path with
 * subprotocol "mqtt", checks 101 and Sec-WebSocket-Accept.
 * @return CP_OK; CP_ERR_TRANSPORT (@p why says what the server answered).
 */
cp_result mq_ws_open(mq_link *l, const char *host, uint16_t port, const char *path,
                     int64_t deadline, char *why, size_t why_size);
/** Read more MQTT stream bytes into l->stream: 1 some, 0 deadline, -1 closed. */
int mq_link_fill(mq_link *l, int64_t deadline);
/** Write MQTT bytes (one binary WebSocket frame on wss): 0 or -1. */
int mq_link_write(mq_link *l, const void *buf, size_t len, int64_t deadline);

/* ---- MQTT 3.1.1 packets ---- */
enum {
  MQ_CONNECT = 1, MQ_CONNACK = 2, MQ_PUBLISH = 3, MQ_PUBACK = 4, MQ_PUBREC = 5,
  MQ_PUBREL = 6, MQ_PUBCOMP = 7, MQ_SUBSCRIBE = 8, MQ_SUBACK = 9, MQ_PINGREQ = 12,
  MQ_PINGRESP = 13, MQ_DISCONNECT = 14,
};

/** A parsed fixed header; body points into the caller's buffer. */
typedef struct mq_packet {
  int type, flags;
  const uint8_t *body;
  size_t body_len;
} mq_packet;

/** A PUBLISH body, pointing into the packet. */
typedef struct mq_publish {
  const char *topic;
  size_t topic_len;
  int qos;
  uint16_t id; /* 0 for QoS 0 */
  const uint8_t *payload;
  size_t payload_len;
} mq_publish;

/** One whole packet at @p p? Its total length (> 0), 0 incomplete, -1 malformed. */
long mq_packet_parse(const uint8_t *p, size_t len, mq_packet *out);
/** Split a PUBLISH: 0, or -1 malformed. */
int mq_publish_parse(const mq_packet *pk, mq_publish *out);
/** CONNECT, MQTT 3.1.1, clean session; username/password may be NULL. 0 or -1. */
int mq_put_connect(mq_buf *b, const char *client_id, const char *username,
                   const char *password, uint16_t keepalive_s);
/** SUBSCRIBE one filter. 0 or -1. */
int mq_put_subscribe(mq_buf *b, uint16_t id, const char *filter, int qos);
/** PUBLISH (id ignored for QoS 0). 0 or -1. */
int mq_put_publish(mq_buf *b, const char *topic, const void *payload, size_t len, int qos,
                   uint16_t id);
/** A packet of a type and a packet id only (PUBACK, PUBREC, PUBCOMP). 0 or -1. */
int mq_put_ack(mq_buf *b, int type, uint16_t id);
/** A packet without a body (PINGREQ, DISCONNECT). 0 or -1. */
int mq_put_empty(mq_buf *b, int type);

#endif
