/* ASN.1 validity times (UTCTime, GeneralizedTime) to UTC epoch seconds.
 * Only the DER forms RFC 5280 §4.1.2.5 allows: seconds present, "Z" zone. */
#include <wolfssl/options.h>

#include "cp_x509_internal.h"

#define TAG_UTC_TIME 0x17
#define TAG_GENERALIZED_TIME 0x18

static int digits(const uint8_t *p, size_t n, int *out)
{
  int v = 0;
  size_t i;

  for (i = 0; i < n; i++) {
    if (p[i] < '0' || p[i] > '9')
      return 0;
    v = v * 10 + (p[i] - '0');
  }
  *out = v;
  return 1;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int m, int d)
{
  int64_t era, yoe, doy, doe;

  y -= m <= 2;
  era = (y >= 0 ? y : y - 399) / 400;
  yoe = y - era * 400;
  doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

static int days_in_month(int y, int m)
{
  static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

  return m == 2 && leap ? 29 : dm[m - 1];
}

cp_result cp_x509_time_to_epoch(const uint8_t *tlv, size_t len, int64_t *out)
{
  const uint8_t *s;
  size_t n, ylen;
  int year, mon, day, hour, min, sec;

  if (tlv == NULL || out == NULL || len < 2)
    return CP_ERR_PARSE;
  n = tlv[1];
  if (n + 2 != len)
    return CP_ERR_PARSE;
  if (tlv[0] == TAG_UTC_TIME && n == 13)
    ylen = 2;
  else if (tlv[0] == TAG_GENERALIZED_TIME && n == 15)
    ylen = 4;
  else
    return CP_ERR_PARSE;
  s = tlv + 2;
  if (s[n - 1] != 'Z' || !digits(s, ylen, &year) || !digits(s + ylen, 2, &mon) ||
      !digits(s + ylen + 2, 2, &day) || !digits(s + ylen + 4, 2, &hour) ||
      !digits(s + ylen + 6, 2, &min) || !digits(s + ylen + 8, 2, &sec))
    return CP_ERR_PARSE;
  if (ylen == 2) /* RFC 5280: YY >= 50 is 19YY, else 20YY */
    year += year >= 50 ? 1900 : 2000;
  if (mon < 1 || mon > 12 || day < 1 || day > days_in_month(year, mon) ||
      hour > 23 || min > 59 || sec > 59)
    return CP_ERR_PARSE;
  *out = days_from_civil(year, mon, day) * 86400 + hour * 3600 + min * 60 + sec;
  return CP_OK;
}

cp_result cp_x509_validity(const DecodedCert *dc, int64_t *not_before,
                           int64_t *not_after)
{
  int64_t nb, na;

  if (dc->beforeDate == NULL || dc->afterDate == NULL ||
      dc->beforeDateLen <= 0 || dc->afterDateLen <= 0)
    return CP_ERR_PARSE;
  if (cp_x509_time_to_epoch(dc->beforeDate, (size_t)dc->beforeDateLen, &nb) != CP_OK ||
      cp_x509_time_to_epoch(dc->afterDate, (size_t)dc->afterDateLen, &na) != CP_OK)
    return CP_ERR_PARSE;
  *not_before = nb;
  *not_after = na;
  return CP_OK;
}
