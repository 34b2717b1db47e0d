/* Base64 and percent-coding. */
#include "cps_b64.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

cps_result cps_b64_encode(const unsigned char *in, size_t len, char **out) {
  size_t n = 4 * ((len + 2) / 3) + 1;
  char *s = malloc(n);
  if (!s) return CPS_ERR_NOMEM;
  EVP_EncodeBlock((unsigned char *)s, in, (int)len);
  *out = s;
  return CPS_OK;
}

static int b64_char_ok(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '+' ||
         c == '/';
}

cps_result cps_b64_decode(const char *in, size_t in_len, unsigned char **out, size_t *out_len) {
  if (in_len == 0 || in_len % 4 != 0) return CPS_ERR_INVALID;
  size_t pad = 0;
  if (in[in_len - 1] == '=') pad++;
  if (in[in_len - 2] == '=') pad++;
  for (size_t i = 0; i < in_len - pad; i++)
    if (!b64_char_ok(in[i])) return CPS_ERR_INVALID;
  unsigned char *buf = malloc(in_len / 4 * 3 + 1);
  if (!buf) return CPS_ERR_NOMEM;
  int n = EVP_DecodeBlock(buf, (const unsigned char *)in, (int)in_len);
  if (n < 0 || (size_t)n < pad) {
    free(buf);
    return CPS_ERR_INVALID;
  }
  *out = buf;
  *out_len = (size_t)n - pad;
  return CPS_OK;
}

static int hexval(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

cps_result cps_url_decode(const char *in, size_t in_len, char *out, size_t out_size) {
  size_t o = 0;
  for (size_t i = 0; i < in_len; i++) {
    char c = in[i];
    if (c == '%') {
      if (i + 2 >= in_len) return CPS_ERR_INVALID;
      int h = hexval(in[i + 1]), l = hexval(in[i + 2]);
      if (h < 0 || l < 0) return CPS_ERR_INVALID;
      c = (char)(h * 16 + l);
      if (c == '\0') return CPS_ERR_INVALID;
      i += 2;
    }
    if (o + 1 >= out_size) return CPS_ERR_INVALID;
    out[o++] = c;
  }
  if (out_size == 0) return CPS_ERR_INVALID;
  out[o] = '\0';
  return CPS_OK;
}

cps_result cps_url_encode(const char *in, char *out, size_t out_size) {
  size_t o = 0;
  for (const unsigned char *p = (const unsigned char *)in; *p; p++) {
    int plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
                *p == '-' || *p == '_' || *p == '.' || *p == '~';
    if (o + (plain ? 1 : 3) >= out_size) return CPS_ERR_INVALID;
    if (plain) {
      out[o++] = (char)*p;
    } else {
      snprintf(out + o, 4, "%%%02X", *p);
      o += 3;
    }
  }
  if (out_size == 0) return CPS_ERR_INVALID;
  out[o] = '\0';
  return CPS_OK;
}
