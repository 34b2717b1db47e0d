/* X.509 Name (DER) to a one-line string, RFC 4514 style, and the CN. */
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>

#include "certpilot/cp_log.h"
#include "cp_x509_internal.h"

#define MAX_RDNS 32
#define MAX_AVAS 8 /* per RDN */
#define VALUE_MAX 1024

/* ASN.1 string tags found in names. */
#define T_UTF8 0x0c
#define T_NUMERIC 0x12
#define T_PRINTABLE 0x13
#define T_T61 0x14
#define T_IA5 0x16
#define T_VISIBLE 0x1a
#define T_UNIVERSAL 0x1c
#define T_BMP 0x1e

typedef struct attr_name {
  uint8_t oid[10];
  uint8_t oid_len;
  const char *name;
} attr_name;

/* Short names as OpenSSL prints them. */
static const attr_name k_names[] = {
  {{0x55, 0x04, 0x03}, 3, "CN"},
  {{0x55, 0x04, 0x04}, 3, "SN"},
  {{0x55, 0x04, 0x05}, 3, "serialNumber"},
  {{0x55, 0x04, 0x06}, 3, "C"},
  {{0x55, 0x04, 0x07}, 3, "L"},
  {{0x55, 0x04, 0x08}, 3, "ST"},
  {{0x55, 0x04, 0x09}, 3, "street"},
  {{0x55, 0x04, 0x0a}, 3, "O"},
  {{0x55, 0x04, 0x0b}, 3, "OU"},
  {{0x55, 0x04, 0x0c}, 3, "title"},
  {{0x55, 0x04, 0x0f}, 3, "businessCategory"},
  {{0x55, 0x04, 0x11}, 3, "postalCode"},
  {{0x55, 0x04, 0x2a}, 3, "GN"},
  {{0x55, 0x04, 0x2b}, 3, "initials"},
  {{0x55, 0x04, 0x2c}, 3, "generationQualifier"},
  {{0x55, 0x04, 0x2e}, 3, "dnQualifier"},
  {{0x55, 0x04, 0x41}, 3, "pseudonym"},
  {{0x55, 0x04, 0x61}, 3, "organizationIdentifier"},
  {{0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x09, 0x01}, 9, "emailAddress"},
  {{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x19}, 10, "DC"},
  {{0x09, 0x92, 0x26, 0x89, 0x93, 0xf2, 0x2c, 0x64, 0x01, 0x01}, 10, "UID"},
};

typedef cp_x509_tlv tlv;

typedef struct writer {
  char *buf;
  size_t size;
  size_t pos;
  int full;
} writer;

static void put(writer *w, const char *s, size_t n)
{
  if (w->full || w->size - w->pos <= n) {
    w->full = 1;
    return;
  }
  memcpy(w->buf + w->pos, s, n);
  w->pos += n;
  w->buf[w->pos] = '\0';
}

static void put_str(writer *w, const char *s)
{
  put(w, s, strlen(s));
}

static void put_hex(writer *w, const uint8_t *p, size_t n)
{
  char h[3];
  size_t i;

  for (i = 0; i < n; i++) {
    snprintf(h, sizeof h, "%02x", p[i]);
    put(w, h, 2);
  }
}

/* Append code point @p cp as UTF-8; 0 when @p cp is not a scalar value. */
static int utf8_put(uint32_t cp, uint8_t *out, size_t *pos, size_t size)
{
  uint8_t b[4];
  size_t n;

  if (cp < 0x80) {
    b[0] = (uint8_t)cp;
    n = 1;
  } else if (cp < 0x800) {
    b[0] = (uint8_t)(0xc0 | (cp >> 6));
    b[1] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 2;
  } else if (cp < 0x10000) {
    if (cp >= 0xd800 && cp <= 0xdfff)
      return 0;
    b[0] = (uint8_t)(0xe0 | (cp >> 12));
    b[1] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    b[2] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 3;
  } else if (cp <= 0x10ffff) {
    b[0] = (uint8_t)(0xf0 | (cp >> 18));
    b[1] = (uint8_t)(0x80 | ((cp >> 12) & 0x3f));
    b[2] = (uint8_t)(0x80 | ((cp >> 6) & 0x3f));
    b[3] = (uint8_t)(0x80 | (cp & 0x3f));
    n = 4;
  } else {
    return 0;
  }
  if (size - *pos < n)
    return 0;
  memcpy(out + *pos, b, n);
  *pos += n;
  return 1;
}

/* Decode a directory string to UTF-8. Returns 1 on success, 0 for a type
 * that is not a string (caller prints it as #hex), -1 for a bad value. */
static int decode_string(const tlv *v, uint8_t *out, size_t size, size_t *out_len)
{
  size_t i, pos = 0, unit;

  switch (v->tag) {
  case T_UTF8: case T_NUMERIC: case T_PRINTABLE: case T_IA5: case T_VISIBLE:
    if (v->len > size)
      return -1;
    memcpy(out, v->val, v->len);
    pos = v->len;
    break;
  case T_T61: /* treated as Latin-1, as OpenSSL does */
    for (i = 0; i < v->len; i++)
      if (!utf8_put(v->val[i], out, &pos, size))
        return -1;
    break;
  case T_BMP:
  case T_UNIVERSAL:
    unit = v->tag == T_BMP ? 2 : 4;
    if (v->len % unit != 0)
      return -1;
    for (i = 0; i < v->len; i += unit) {
      uint32_t cp = unit == 2 ? (uint32_t)(v->val[i] << 8 | v->val[i + 1])
                              : (uint32_t)v->val[i] << 24 | (uint32_t)v->val[i + 1] << 16 |
                                    (uint32_t)v->val[i + 2] << 8 | v->val[i + 3];
      if (!utf8_put(cp, out, &pos, size))
        return -1;
    }
    break;
  default:
    return 0;
  }
  if (memchr(out, 0, pos) != NULL)
    return -1; /* would truncate a C string: refuse rather than mislead */
  *out_len = pos;
  return 1;
}

/* RFC 4514 §2.4 escaping. */
static void put_escaped(writer *w, const uint8_t *s, size_t n)
{
  size_t i;
  char esc[4];

  for (i = 0; i < n; i++) {
    uint8_t c = s[i];
    if (c < 0x20 || c == 0x7f) {
      snprintf(esc, sizeof esc, "\\%02X", c);
      put(w, esc, 3);
      continue;
    }
    if (strchr(",+\"\\<>;", c) != NULL || ((c == ' ' || c == '#') && i == 0) ||
        (c == ' ' && i == n - 1))
      put(w, "\\", 1);
    put(w, (const char *)&c, 1);
  }
}

/* Dotted-decimal form of a DER OID body. */
static int put_oid(writer *w, const uint8_t *oid, size_t n)
{
  char num[24];
  size_t i;
  uint64_t arc = 0;
  int first = 1;

  if (n == 0 || (oid[n - 1] & 0x80))
    return 0;
  for (i = 0; i < n; i++) {
    if (arc > (UINT64_MAX >> 7))
      return 0;
    arc = (arc << 7) | (oid[i] & 0x7f);
    if (oid[i] & 0x80)
      continue;
    if (first) {
      unsigned top = arc < 40 ? 0 : arc < 80 ? 1 : 2;
      snprintf(num, sizeof num, "%u.%llu", top, (unsigned long long)(arc - top * 40));
      first = 0;
    } else {
      snprintf(num, sizeof num, ".%llu", (unsigned long long)arc);
    }
    put_str(w, num);
    arc = 0;
  }
  return 1;
}

/* One AttributeTypeAndValue. Records the value if it is a CN. */
static cp_result put_ava(writer *w, const tlv *ava, char *cn, size_t cn_size)
{
  const uint8_t *p = ava->val, *end = ava->val + ava->len;
  const char *name = NULL;
  tlv oid, val;
  uint8_t text[VALUE_MAX];
  size_t text_len = 0, i;
  int s;

  if (ava->tag != 0x30 || !cp_x509_der_read(&p, end, &oid) || oid.tag != 0x06 ||
      !cp_x509_der_read(&p, end, &val) || p != end)
    return CP_ERR_PARSE;
  for (i = 0; i < sizeof k_names / sizeof k_names[0]; i++)
    if (oid.len == k_names[i].oid_len && memcmp(oid.val, k_names[i].oid, oid.len) == 0)
      name = k_names[i].name;
  if (name != NULL)
    put_str(w, name);
  else if (!put_oid(w, oid.val, oid.len))
    return CP_ERR_PARSE;
  put(w, "=", 1);
  s = name != NULL ? decode_string(&val, text, sizeof text, &text_len) : 0;
  if (s < 0)
    return CP_ERR_PARSE;
  if (s == 0) { /* not a known string: the DER of the value in hex */
    put(w, "#", 1);
    put_hex(w, val.hdr, (size_t)(val.val + val.len - val.hdr));
    return CP_OK;
  }
  put_escaped(w, text, text_len);
  if (name != NULL && strcmp(name, "CN") == 0 && cn != NULL && cn[0] == '\0') {
    /* RDNs are walked most specific first, so the first CN seen wins. */
    if (text_len >= cn_size)
      return CP_ERR_PARSE;
    memcpy(cn, text, text_len);
    cn[text_len] = '\0';
  }
  return CP_OK;
}

cp_result cp_x509_name_format(const uint8_t *name, size_t name_len, char *line,
                              size_t line_size, char *cn, size_t cn_size)
{
  const uint8_t *p = name, *end = name + name_len;
  tlv rdns[MAX_RDNS];
  size_t nrdn = 0, i;
  writer w = {line, line_size, 0, 0};
  cp_result r;

  if (name == NULL || line == NULL || line_size == 0 || cn == NULL || cn_size == 0)
    return CP_ERR_PARSE;
  line[0] = '\0';
  cn[0] = '\0';
  while (p < end) {
    if (nrdn == MAX_RDNS || !cp_x509_der_read(&p, end, &rdns[nrdn]) || rdns[nrdn].tag != 0x31 ||
        rdns[nrdn].len == 0)
      return CP_ERR_PARSE;
    nrdn++;
  }
  /* Last RDN first, and inside an RDN the last AVA first, as OpenSSL's
   * dn_rev does: the whole sequence of AVAs read backwards. */
  for (i = nrdn; i-- > 0;) {
    const uint8_t *q = rdns[i].val, *qend = rdns[i].val + rdns[i].len;
    tlv avas[MAX_AVAS];
    size_t navas = 0, k;
    if (i + 1 != nrdn)
      put(&w, ", ", 2);
    while (q < qend) {
      if (navas == MAX_AVAS || !cp_x509_der_read(&q, qend, &avas[navas]))
        return CP_ERR_PARSE;
      navas++;
    }
    for (k = navas; k-- > 0;) {
      if (k + 1 != navas)
        put(&w, " + ", 3);
      r = put_ava(&w, &avas[k], cn, cn_size);
      if (r != CP_OK)
        return r;
    }
  }
  if (w.full) {
    cp_log(CP_LOG_WARNING, "x509: name longer than %zu characters", line_size - 1);
    return CP_ERR_PARSE;
  }
  return CP_OK;
}
