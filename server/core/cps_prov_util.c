/* Time, random identifiers and id validation helpers. */
#include "cps_prov_util.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

#include "cps_pki.h"

void cps_time_iso(time_t t, char *out, size_t size) {
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(out, size, "%Y-%m-%dT%H:%M:%S.000Z", &tm);
}

cps_result cps_random_hex(char *out, size_t hex_len) {
  unsigned char raw[64];
  size_t n = (hex_len + 1) / 2;
  if (n > sizeof raw) return CPS_ERR_INVALID;
  cps_result r = cps_pki_random(raw, n);
  if (r != CPS_OK) return r;
  static const char hex[] = "0123456789abcdef";
  for (size_t i = 0; i < hex_len; i++) out[i] = hex[(raw[i / 2] >> ((i % 2) ? 0 : 4)) & 15];
  out[hex_len] = '\0';
  return CPS_OK;
}

cps_result cps_uuid(char out[37]) {
  unsigned char b[16];
  cps_result r = cps_pki_random(b, sizeof b);
  if (r != CPS_OK) return r;
  b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
  b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
  snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", b[0],
           b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12], b[13], b[14],
           b[15]);
  return CPS_OK;
}

bool cps_registration_id_valid(const char *id) {
  size_t n = id ? strlen(id) : 0;
  if (n == 0 || n > 128) return false;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)id[i];
    if (!isalnum(c) && c != '-' && c != '.' && c != '_' && c != ':') return false;
  }
  unsigned char last = (unsigned char)id[n - 1];
  return isalnum(last) || last == '-';
}

double cps_monotonic(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}
