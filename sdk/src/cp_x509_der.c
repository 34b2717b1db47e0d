/* A minimal DER reader: enough to walk Names and find the SubjectPublicKeyInfo. */
#include <wolfssl/options.h>

#include "cp_x509_internal.h"

int cp_x509_der_read(const uint8_t **p, const uint8_t *end, cp_x509_tlv *t)
{
  const uint8_t *q = *p;
  size_t len, n, i;

  if (q > end || end - q < 2)
    return 0;
  t->tag = *q++;
  len = *q++;
  if (len & 0x80) {
    n = len & 0x7f;
    if (n == 0 || n > 3 || (size_t)(end - q) < n)
      return 0;
    for (len = 0, i = 0; i < n; i++)
      len = (len << 8) | *q++;
  }
  if ((size_t)(end - q) < len)
    return 0;
  t->hdr = *p;
  t->val = q;
  t->len = len;
  *p = q + len;
  return 1;
}

cp_result cp_x509_spki(const uint8_t *der, size_t len, const uint8_t **spki,
                       size_t *spki_len)
{
  const uint8_t *p = der, *end = der + len;
  cp_x509_tlv t;
  int i;

  /* Certificate ::= SEQUENCE { tbsCertificate SEQUENCE { ... } ... } */
  if (!cp_x509_der_read(&p, end, &t) || t.tag != 0x30)
    return CP_ERR_PARSE;
  p = t.val;
  end = t.val + t.len;
  if (!cp_x509_der_read(&p, end, &t) || t.tag != 0x30)
    return CP_ERR_PARSE;
  p = t.val;
  end = t.val + t.len;
  if (!cp_x509_der_read(&p, end, &t))
    return CP_ERR_PARSE;
  if (t.tag == 0xa0 && !cp_x509_der_read(&p, end, &t)) /* [0] version */
    return CP_ERR_PARSE;
  /* t is the serial; skip signature, issuer, validity, subject */
  for (i = 0; i < 4; i++)
    if (!cp_x509_der_read(&p, end, &t) || t.tag != 0x30)
      return CP_ERR_PARSE;
  if (!cp_x509_der_read(&p, end, &t) || t.tag != 0x30)
    return CP_ERR_PARSE;
  *spki = t.hdr;
  *spki_len = (size_t)(t.val + t.len - t.hdr);
  return CP_OK;
}
