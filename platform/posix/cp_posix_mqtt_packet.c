/* MQTT 3.1.1 packet encoding and decoding (OASIS MQTT 3.1.1, chapters 2 and 3),
 * and the growable buffer they are built in. */
#include "cp_posix_mqtt_link.h"

#include <stdlib.h>
#include <string.h>

#define MQ_REMAINING_MAX 268435455u /* four length bytes */

int mq_buf_append(mq_buf *b, const void *p, size_t n)
{
  if (n == 0)
    return 0;
  if (b->len + n > MQ_BUF_LIMIT)
    return -1;
  if (b->len + n > b->cap) {
    size_t cap = b->cap ? b->cap : 4096;
    uint8_t *q;
    while (cap < b->len + n)
      cap *= 2;
    q = realloc(b->p, cap);
    if (q == NULL)
      return -1;
    b->p = q;
    b->cap = cap;
  }
  memcpy(b->p + b->len, p, n);
  b->len += n;
  return 0;
}

void mq_buf_consume(mq_buf *b, size_t n)
{
  if (n >= b->len) {
    b->len = 0;
    return;
  }
  memmove(b->p, b->p + n, b->len - n);
  b->len -= n;
}

void mq_buf_free(mq_buf *b)
{
  free(b->p);
  b->p = NULL;
  b->len = b->cap = 0;
}

static int put_u8(mq_buf *b, unsigned v)
{
  uint8_t c = (uint8_t)v;
  return mq_buf_append(b, &c, 1);
}

static int put_u16(mq_buf *b, unsigned v)
{
  uint8_t c[2] = {(uint8_t)(v >> 8), (uint8_t)v};
  return mq_buf_append(b, c, 2);
}

static int put_str(mq_buf *b, const char *s)
{
  size_t n = strlen(s);
  if (n > 0xffff)
    return -1;
  return put_u16(b, (unsigned)n) || mq_buf_append(b, s, n) ? -1 : 0;
}

static int put_header(mq_buf *b, unsigned first, size_t remaining)
{
  if (remaining > MQ_REMAINING_MAX || put_u8(b, first) != 0)
    return -1;
  do {
    unsigned digit = remaining % 128;
    remaining /= 128;
    if (put_u8(b, remaining ? digit | 0x80 : digit) != 0)
      return -1;
  } while (remaining > 0);
  return 0;
}

long mq_packet_parse(const uint8_t *p, size_t len, mq_packet *out)
{
  size_t remaining = 0, i, mult = 1;

  if (len < 2)
    return 0;
  for (i = 1;; i++) {
    if (i > 4)
      return -1;
    if (i >= len)
      return 0;
    remaining += (size_t)(p[i] & 0x7f) * mult;
    mult *= 128;
    if ((p[i] & 0x80) == 0)
      break;
  }
  if (len < i + 1 + remaining)
    return 0;
  out->type = p[0] >> 4;
  out->flags = p[0] & 0x0f;
  out->body = p + i + 1;
  out->body_len = remaining;
  return (long)(i + 1 + remaining);
}

int mq_publish_parse(const mq_packet *pk, mq_publish *out)
{
  const uint8_t *p = pk->body;
  size_t tlen, off;

  if (pk->type != MQ_PUBLISH || pk->body_len < 2)
    return -1;
  out->qos = (pk->flags >> 1) & 3;
  if (out->qos == 3)
    return -1;
  tlen = (size_t)p[0] << 8 | p[1];
  off = 2 + tlen;
  if (off + (out->qos ? 2 : 0) > pk->body_len || memchr(p + 2, 0, tlen) != NULL)
    return -1;
  out->topic = (const char *)p + 2;
  out->topic_len = tlen;
  out->id = 0;
  if (out->qos) {
    out->id = (uint16_t)(p[off] << 8 | p[off + 1]);
    off += 2;
  }
  out->payload = p + off;
  out->payload_len = pk->body_len - off;
  return 0;
}

int mq_put_connect(mq_buf *b, const char *client_id, const char *username,
                   const char *password, uint16_t keepalive_s)
{
  size_t rem = 10 + 2 + strlen(client_id);
  unsigned flags = 0x02; /* clean session */

  if (username != NULL) {
    rem += 2 + strlen(username);
    flags |= 0x80;
    if (password != NULL) {
      rem += 2 + strlen(password);
      flags |= 0x40;
    }
  }
  if (put_header(b, MQ_CONNECT << 4, rem) || put_str(b, "MQTT") || put_u8(b, 4) ||
      put_u8(b, flags) || put_u16(b, keepalive_s) || put_str(b, client_id))
    return -1;
  if (username != NULL && put_str(b, username))
    return -1;
  if (username != NULL && password != NULL && put_str(b, password))
    return -1;
  return 0;
}

int mq_put_subscribe(mq_buf *b, uint16_t id, const char *filter, int qos)
{
  return put_header(b, MQ_SUBSCRIBE << 4 | 0x02, 2 + 2 + strlen(filter) + 1) ||
                 put_u16(b, id) || put_str(b, filter) || put_u8(b, (unsigned)qos)
             ? -1
             : 0;
}

int mq_put_publish(mq_buf *b, const char *topic, const void *payload, size_t len, int qos,
                   uint16_t id)
{
  size_t rem = 2 + strlen(topic) + (qos ? 2 : 0) + len;

  if (put_header(b, MQ_PUBLISH << 4 | (unsigned)qos << 1, rem) || put_str(b, topic))
    return -1;
  if (qos && put_u16(b, id))
    return -1;
  return mq_buf_append(b, payload, len);
}

int mq_put_ack(mq_buf *b, int type, uint16_t id)
{
  /* PUBREL would need flags 0x02; we never send it (no QoS 2 publishes) */
  return put_header(b, (unsigned)type << 4, 2) || put_u16(b, id) ? -1 : 0;
}

int mq_put_empty(mq_buf *b, int type)
{
  return put_header(b, (unsigned)type << 4, 0);
}
