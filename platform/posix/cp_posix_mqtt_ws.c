/*
 * The MQTT byte stream over the TLS link: plain (mqtts) or inside WebSocket
 * binary frames (RFC 6455: client frames masked, server frames not; ping
 * answered with pong; close ends the stream).
 */
#include "cp_posix_mqtt_link.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/evp.h>
#include <openssl/rand.h>
#include <openssl/sha.h>

#define WS_GUID "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define WS_HEAD_MAX 8192

/* Value of header @p name (case-insensitive) in the NUL-terminated response head. */
static int header_value(const char *head, const char *name, char *out, size_t size)
{
  size_t nlen = strlen(name);
  const char *line = strstr(head, "\r\n");

  while (line != NULL && line[2] != '\r' && line[2] != '\0') {
    const char *h = line + 2, *end = strstr(h, "\r\n");
    if (end == NULL)
      break;
    if ((size_t)(end - h) > nlen && strncasecmp(h, name, nlen) == 0 && h[nlen] == ':') {
      const char *v = h + nlen + 1;
      size_t vlen;
      while (*v == ' ' || *v == '\t')
        v++;
      vlen = (size_t)(end - v);
      while (vlen > 0 && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t'))
        vlen--;
      if (vlen + 1 > size)
        return -1;
      memcpy(out, v, vlen);
      out[vlen] = '\0';
      return 0;
    }
    line = end;
  }
  return -1;
}

cp_result mq_ws_open(mq_link *l, const char *host, uint16_t port, const char *path,
                     int64_t deadline, char *why, size_t why_size)
{
  unsigned char nonce[16], digest[SHA_DIGEST_LENGTH];
  char key[32], accept_want[40], accept_got[64], proto[64], req[1024], *head, *eoh = NULL;
  int n;

  if (RAND_bytes(nonce, sizeof nonce) != 1) {
    snprintf(why, why_size, "WebSocket upgrade failed: no random bytes for the key");
    return CP_ERR_TRANSPORT;
  }
  EVP_EncodeBlock((unsigned char *)key, nonce, sizeof nonce);
  n = snprintf(req, sizeof req,
               "GET %s HTTP/1.1\r\nHost: %s%s%s:%u\r\nUpgrade: websocket\r\n"
               "Connection: Upgrade\r\nSec-WebSocket-Key: %s\r\n"
               "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: mqtt\r\n\r\n",
               path, strchr(host, ':') ? "[" : "", host, strchr(host, ':') ? "]" : "",
               (unsigned)port, key);
  if (n < 0 || (size_t)n >= sizeof req) {
    snprintf(why, why_size, "WebSocket upgrade failed: host or path too long");
    return CP_ERR_TRANSPORT;
  }
  if (mq_tls_write(l, req, (size_t)n, deadline) != 0) {
    snprintf(why, why_size, "WebSocket upgrade at %s failed: connection lost", path);
    return CP_ERR_TRANSPORT;
  }
  /* read the response head; bytes after it are already WebSocket frames */
  for (;;) {
    uint8_t tmp[2048];
    int got;
    if (l->raw.len > 0 && mq_buf_append(&l->raw, "", 1) == 0) {
      l->raw.len--; /* keep a NUL after the data for the string search */
      eoh = strstr((char *)l->raw.p, "\r\n\r\n");
      if (eoh != NULL)
        break;
    }
    if (l->raw.len > WS_HEAD_MAX) {
      snprintf(why, why_size, "WebSocket upgrade at %s failed: response head too long", path);
      return CP_ERR_TRANSPORT;
    }
    got = mq_tls_read(l, tmp, sizeof tmp, deadline);
    if (got <= 0 || mq_buf_append(&l->raw, tmp, (size_t)got) != 0) {
      snprintf(why, why_size, "WebSocket upgrade at %s failed: %s", path,
               got == 0 ? "no answer in time" : "connection closed");
      return CP_ERR_TRANSPORT;
    }
  }
  head = (char *)l->raw.p;
  eoh[2] = '\0'; /* keep the last header's CRLF */
  if (strncmp(head, "HTTP/1.1 101", 12) != 0) {
    const char *cr = strchr(head, '\r');
    snprintf(why, why_size, "WebSocket upgrade at %s refused: %.*s", path,
             (int)(cr ? cr - head : 40), head);
    return CP_ERR_TRANSPORT;
  }
  n = snprintf(req, sizeof req, "%s%s", key, WS_GUID);
  SHA1((const unsigned char *)req, (size_t)n, digest);
  EVP_EncodeBlock((unsigned char *)accept_want, digest, sizeof digest);
  if (header_value(head, "Sec-WebSocket-Accept", accept_got, sizeof accept_got) != 0 ||
      strcmp(accept_got, accept_want) != 0) {
    snprintf(why, why_size, "WebSocket upgrade at %s failed: bad Sec-WebSocket-Accept", path);
    return CP_ERR_TRANSPORT;
  }
  if (header_value(head, "Sec-WebSocket-Protocol", proto, sizeof proto) == 0 &&
      strcasecmp(proto, "mqtt") != 0) {
    snprintf(why, why_size, "WebSocket upgrade at %s failed: subprotocol %s, not mqtt", path,
             proto);
    return CP_ERR_TRANSPORT;
  }
  mq_buf_consume(&l->raw, (size_t)(eoh + 4 - head));
  l->ws = true;
  return CP_OK;
}

/* One masked client frame. */
static int ws_send(mq_link *l, int opcode, const void *payload, size_t len, int64_t deadline)
{
  uint8_t *f, mask[4];
  const uint8_t *p = payload;
  size_t h = 2, i;
  int rc;

  if (RAND_bytes(mask, sizeof mask) != 1)
    return -1;
  f = malloc(len + 14);
  if (f == NULL)
    return -1;
  f[0] = (uint8_t)(0x80 | opcode);
  if (len < 126) {
    f[1] = (uint8_t)(0x80 | len);
  } else if (len <= 0xffff) {
    f[1] = 0x80 | 126;
    f[2] = (uint8_t)(len >> 8);
    f[3] = (uint8_t)len;
    h = 4;
  } else {
    f[1] = 0x80 | 127;
    for (i = 0; i < 8; i++)
      f[2 + i] = (uint8_t)((uint64_t)len >> (56 - 8 * i));
    h = 10;
  }
  memcpy(f + h, mask, 4);
  h += 4;
  for (i = 0; i < len; i++)
    f[h + i] = p[i] ^ mask[i & 3];
  rc = mq_tls_write(l, f, h + len, deadline);
  free(f);
  return rc;
}

/* Decode the complete frames in l->raw: 1 data appended, 0 none yet, -1 closed/bad. */
static int ws_decode(mq_link *l, int64_t deadline)
{
  int got = 0;

  while (l->raw.len >= 2) {
    uint8_t *p = l->raw.p;
    int opcode = p[0] & 0x0f;
    bool masked = (p[1] & 0x80) != 0;
    uint64_t len = p[1] & 0x7f;
    size_t h = 2, i;
    if (len == 126) {
      if (l->raw.len < 4)
        break;
      len = (uint64_t)p[2] << 8 | p[3];
      h = 4;
    } else if (len == 127) {
      if (l->raw.len < 10)
        break;
      for (len = 0, i = 0; i < 8; i++)
        len = len << 8 | p[2 + i];
      h = 10;
    }
    if (len > MQ_BUF_LIMIT)
      return -1;
    if (masked)
      h += 4;
    if (l->raw.len < h + len)
      break;
    if (masked)
      for (i = 0; i < len; i++)
        p[h + i] ^= p[h - 4 + (i & 3)];
    switch (opcode) {
    case 0x0: case 0x1: case 0x2: /* continuation, text, binary: MQTT bytes */
      if (mq_buf_append(&l->stream, p + h, (size_t)len) != 0)
        return -1;
      got = got || len > 0;
      break;
    case 0x9: /* ping */
      if (ws_send(l, 0xA, p + h, (size_t)len, deadline) != 0)
        return -1;
      break;
    case 0xA: /* pong */
      break;
    default: /* close, or an opcode we do not know */
      return -1;
    }
    mq_buf_consume(&l->raw, h + (size_t)len);
  }
  return got;
}

int mq_link_fill(mq_link *l, int64_t deadline)
{
  for (;;) {
    uint8_t tmp[16384];
    int n;
    if (l->ws) {
      int d = ws_decode(l, deadline);
      if (d != 0)
        return d;
    }
    n = mq_tls_read(l, tmp, sizeof tmp, deadline);
    if (n <= 0)
      return n;
    if (mq_buf_append(l->ws ? &l->raw : &l->stream, tmp, (size_t)n) != 0)
      return -1;
    if (!l->ws)
      return 1;
  }
}

int mq_link_write(mq_link *l, const void *buf, size_t len, int64_t deadline)
{
  return l->ws ? ws_send(l, 0x2, buf, len, deadline) : mq_tls_write(l, buf, len, deadline);
}
