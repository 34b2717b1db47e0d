/* Private string helpers: bounded formatting, URL segments, numbers, UTC time. */
#include "cp_str.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

cp_result cp_str_format(char *out, size_t out_size, size_t *out_len,
                        const char *fmt, ...)
{
  va_list ap;
  int n;

  if (out == NULL || out_len == NULL || fmt == NULL)
    return CP_ERR_INVALID_ARG;
  va_start(ap, fmt);
  n = vsnprintf(NULL, 0, fmt, ap);
  va_end(ap);
  if (n < 0)
    return CP_ERR_INVALID_ARG;
  if ((size_t)n + 1 > out_size) {
    *out_len = (size_t)n + 1;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  va_start(ap, fmt);
  vsnprintf(out, out_size, fmt, ap);
  va_end(ap);
  *out_len = (size_t)n;
  return CP_OK;
}

cp_result cp_str_copy(char *out, size_t out_size, size_t *out_len,
                      const char *in, size_t len)
{
  if (out == NULL || out_len == NULL || (in == NULL && len > 0))
    return CP_ERR_INVALID_ARG;
  if (len + 1 > out_size) {
    *out_len = len + 1;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  if (len > 0)
    memcpy(out, in, len);
  out[len] = '\0';
  *out_len = len;
  return CP_OK;
}

static bool is_alnum(char c)
{
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

cp_result cp_str_url_segment(const char *in, char *out, size_t out_size,
                             size_t *out_len)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t need = 0, i, o = 0;

  if (in == NULL || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  for (i = 0; in[i] != '\0'; i++)
    need += (is_alnum(in[i]) || strchr("-._~", in[i]) != NULL) ? 1 : 3;
  if (need + 1 > out_size) {
    *out_len = need + 1;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  for (i = 0; in[i] != '\0'; i++) {
    unsigned char c = (unsigned char)in[i];
    if (is_alnum(in[i]) || strchr("-._~", in[i]) != NULL) {
      out[o++] = (char)c;
    } else {
      out[o++] = '%';
      out[o++] = hex[c >> 4];
      out[o++] = hex[c & 0xf];
    }
  }
  out[o] = '\0';
  *out_len = o;
  return CP_OK;
}

bool cp_str_chars_ok(const char *s, size_t len, const char *extra)
{
  size_t i;

  for (i = 0; i < len; i++) {
    if (s[i] == '\0' || (!is_alnum(s[i]) && strchr(extra, s[i]) == NULL))
      return false;
  }
  return true;
}

cp_result cp_str_parse_u64(const char *s, size_t len, uint64_t *out)
{
  uint64_t v = 0;
  size_t i;

  if (s == NULL || out == NULL || len == 0 || len > 18)
    return CP_ERR_PARSE;
  for (i = 0; i < len; i++) {
    if (s[i] < '0' || s[i] > '9')
      return CP_ERR_PARSE;
    v = v * 10 + (uint64_t)(s[i] - '0');
  }
  *out = v;
  return CP_OK;
}

/* Days since 1970-01-01 to a proleptic Gregorian date (era-based civil calendar). */
static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
  int64_t era, yoe, doy, mp;

  z += 719468;
  era = (z >= 0 ? z : z - 146096) / 146097;
  yoe = z - era * 146097;
  yoe = (yoe - yoe / 1460 + yoe / 36524 - yoe / 146096) / 365;
  doy = (z - era * 146097) - (365 * yoe + yoe / 4 - yoe / 100);
  mp = (5 * doy + 2) / 153;
  *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
  *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
  *y = yoe + era * 400 + (*m <= 2 ? 1 : 0);
}

cp_result cp_str_time_utc(int64_t t, char out[21])
{
  int64_t days, secs, y;
  unsigned m, d;

  if (out == NULL || t < 0 || t > 253402300799LL) /* 9999-12-31T23:59:59Z */
    return CP_ERR_INVALID_ARG;
  days = t / 86400;
  secs = t % 86400;
  civil_from_days(days, &y, &m, &d);
  char tmp[64]; /* roomy, so the compiler can prove no truncation */
  snprintf(tmp, sizeof tmp, "%04d-%02u-%02uT%02d:%02d:%02dZ", (int)y, m, d,
           (int)(secs / 3600), (int)(secs / 60 % 60), (int)(secs % 60));
  memcpy(out, tmp, 21);
  out[20] = '\0';
  return CP_OK;
}
