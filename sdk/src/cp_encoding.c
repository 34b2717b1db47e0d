/* Base64 and PEM helpers on top of wolfCrypt's coding functions. */
#include "certpilot/cp_encoding.h"

#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/coding.h>

#define PEM_LINE 64

static int b64_char_ok(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
         (c >= '0' && c <= '9') || c == '+' || c == '/';
}

cp_result cp_base64_encode(const uint8_t *in, size_t in_len, char *out,
                           size_t out_size, size_t *out_len)
{
  size_t need;
  word32 len;

  if ((in == NULL && in_len > 0) || out_len == NULL || in_len > 0x3fffffffu)
    return CP_ERR_INVALID_ARG;
  need = ((in_len + 2) / 3) * 4;
  if (out == NULL || out_size < need + 1) {
    *out_len = need + 1;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  if (in_len == 0) {
    out[0] = '\0';
    *out_len = 0;
    return CP_OK;
  }
  len = (word32)out_size;
  if (Base64_Encode_NoNl(in, (word32)in_len, (byte *)out, &len) != 0 || len != need)
    return CP_ERR_CRYPTO;
  out[need] = '\0';
  *out_len = need;
  return CP_OK;
}

cp_result cp_base64_decode(const char *in, size_t in_len, uint8_t *out,
                           size_t out_size, size_t *out_len)
{
  size_t pad = 0, need, i;
  word32 len;
  uint8_t tmp[3];

  if ((in == NULL && in_len > 0) || out_len == NULL || in_len > 0x3fffffffu)
    return CP_ERR_INVALID_ARG;
  if (in_len % 4 != 0)
    return CP_ERR_PARSE;
  if (in_len == 0) {
    *out_len = 0;
    return CP_OK;
  }
  if (in[in_len - 1] == '=')
    pad++;
  if (in[in_len - 2] == '=')
    pad++;
  for (i = 0; i < in_len - pad; i++)
    if (!b64_char_ok((unsigned char)in[i]))
      return CP_ERR_PARSE;
  need = in_len / 4 * 3 - pad;
  if (out == NULL || out_size < need) {
    *out_len = need;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  /* wolfCrypt wants room for whole 3-byte groups; decode the tail separately
   * so an exactly-sized caller buffer is enough. */
  len = (word32)(in_len / 4 - 1) * 3;
  if (in_len > 4) {
    if (Base64_Decode((const byte *)in, (word32)(in_len - 4), out, &len) != 0)
      return CP_ERR_PARSE;
  } else {
    len = 0;
  }
  {
    word32 tl = sizeof tmp;
    if (Base64_Decode((const byte *)in + in_len - 4, 4, tmp, &tl) != 0 ||
        tl != 3 - pad)
      return CP_ERR_PARSE;
    memcpy(out + len, tmp, tl);
    len += tl;
  }
  if (len != need)
    return CP_ERR_PARSE;
  *out_len = need;
  return CP_OK;
}

cp_result cp_pem_encode(const char *label, const uint8_t *der, size_t der_len,
                        char *out, size_t out_size, size_t *out_len)
{
  size_t b64_len, lines, need, label_len, pos = 0, i;
  char b64[8192];
  cp_result r;

  if (label == NULL || der == NULL || der_len == 0 || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  label_len = strlen(label);
  if (label_len == 0 || label_len > 40)
    return CP_ERR_INVALID_ARG;
  b64_len = ((der_len + 2) / 3) * 4;
  if (b64_len + 1 > sizeof b64)
    return CP_ERR_INVALID_ARG;
  lines = (b64_len + PEM_LINE - 1) / PEM_LINE;
  /* "-----BEGIN " label "-----\n" body+newlines "-----END " label "-----\n" NUL */
  need = 11 + label_len + 6 + b64_len + lines + 9 + label_len + 6 + 1;
  if (out == NULL || out_size < need) {
    *out_len = need;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  r = cp_base64_encode(der, der_len, b64, sizeof b64, &b64_len);
  if (r != CP_OK)
    return r;
  pos += (size_t)sprintf(out + pos, "-----BEGIN %s-----\n", label);
  for (i = 0; i < b64_len; i += PEM_LINE) {
    size_t n = b64_len - i < PEM_LINE ? b64_len - i : PEM_LINE;
    memcpy(out + pos, b64 + i, n);
    pos += n;
    out[pos++] = '\n';
  }
  pos += (size_t)sprintf(out + pos, "-----END %s-----\n", label);
  *out_len = pos;
  return CP_OK;
}

static const char *find_str(const char *hay, size_t hay_len, const char *needle)
{
  size_t n = strlen(needle), i;

  if (n > hay_len)
    return NULL;
  for (i = 0; i + n <= hay_len; i++)
    if (memcmp(hay + i, needle, n) == 0)
      return hay + i;
  return NULL;
}

cp_result cp_pem_decode(const char *pem, size_t pem_len, char label_out[64],
                        uint8_t *der, size_t der_size, size_t *der_len,
                        size_t *consumed)
{
  const char *begin, *label, *label_end, *body, *end;
  char end_marker[80], b64[8192];
  size_t label_len, b64_len = 0;
  const char *p;
  cp_result r;

  if (pem == NULL || der_len == NULL)
    return CP_ERR_INVALID_ARG;
  begin = find_str(pem, pem_len, "-----BEGIN ");
  if (begin == NULL)
    return CP_ERR_NOT_FOUND;
  label = begin + 11;
  label_end = find_str(label, pem_len - (size_t)(label - pem), "-----");
  if (label_end == NULL)
    return CP_ERR_PARSE;
  label_len = (size_t)(label_end - label);
  if (label_len == 0 || label_len > 63 || memchr(label, '\n', label_len) != NULL)
    return CP_ERR_PARSE;
  body = label_end + 5;
  snprintf(end_marker, sizeof end_marker, "-----END %.*s-----", (int)label_len, label);
  end = find_str(body, pem_len - (size_t)(body - pem), end_marker);
  if (end == NULL)
    return CP_ERR_PARSE;
  for (p = body; p < end; p++) {
    unsigned char c = (unsigned char)*p;
    if (c == '\r' || c == '\n' || c == ' ' || c == '\t')
      continue;
    if (!b64_char_ok(c) && c != '=')
      return CP_ERR_PARSE;
    if (b64_len >= sizeof b64)
      return CP_ERR_PARSE;
    b64[b64_len++] = (char)c;
  }
  if (b64_len == 0)
    return CP_ERR_PARSE;
  r = cp_base64_decode(b64, b64_len, der, der_size, der_len);
  if (r != CP_OK)
    return r;
  if (label_out != NULL) {
    memcpy(label_out, label, label_len);
    label_out[label_len] = '\0';
  }
  if (consumed != NULL)
    *consumed = (size_t)(end - pem) + strlen(end_marker);
  return CP_OK;
}
