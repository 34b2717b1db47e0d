/* Private helpers shared by the cp_x509_*.c files. Not part of the API.
 *
 * Include <wolfssl/options.h> before this header: DecodedCert's layout
 * depends on the options wolfSSL was built with. */
#ifndef CERTPILOT_CP_X509_INTERNAL_H
#define CERTPILOT_CP_X509_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

#include <wolfssl/wolfcrypt/asn.h>

#include "certpilot/cp_x509.h"

/* Turn PEM (first CERTIFICATE block) or DER into DER. @p der is @p der_size
 * bytes; on success *der_out points either into @p data (DER input) or at
 * @p der (PEM input). CP_ERR_PARSE on bad armour, base64 or oversize. */
cp_result cp_x509_to_der(const uint8_t *data, size_t len, uint8_t *der,
                         size_t der_size, const uint8_t **der_out,
                         size_t *der_len);

/* Parse @p der (exactly one DER certificate, no trailing bytes) into @p dc
 * without checking dates or signatures. On CP_OK the caller must call
 * wc_FreeDecodedCert(dc); on failure nothing needs freeing. @p der must stay
 * valid while @p dc is used. */
cp_result cp_x509_decode(const uint8_t *der, size_t der_len, DecodedCert *dc);

/* The notBefore / notAfter of a decoded certificate as UTC epoch seconds. */
cp_result cp_x509_validity(const DecodedCert *dc, int64_t *not_before,
                           int64_t *not_after);

/* An ASN.1 UTCTime (tag 0x17, "YYMMDDHHMMSSZ") or GeneralizedTime
 * (tag 0x18, "YYYYMMDDHHMMSSZ") in DER form, tag and length included, as
 * UTC epoch seconds. CP_ERR_PARSE for any other form. */
cp_result cp_x509_time_to_epoch(const uint8_t *tlv, size_t len, int64_t *out);

/* Format the content of a DER Name (the SEQUENCE OF RDN without its outer
 * header, as DecodedCert's subjectRaw / issuerRaw) on one line, RFC 4514
 * style: last RDN first, ", " between RDNs, " + " inside a multi-valued RDN (OpenSSL's layout),
 * short attribute names (CN, O, OU, C, ...), special characters escaped.
 * @p cn receives the value of the most specific CN ("" if none).
 * CP_ERR_PARSE for malformed DER, a value with a NUL byte, or output that
 * does not fit (line_size / cn_size). */
cp_result cp_x509_name_format(const uint8_t *name, size_t name_len, char *line,
                              size_t line_size, char *cn, size_t cn_size);

/* One DER TLV: tag, header start, value. */
typedef struct cp_x509_tlv {
  uint8_t tag;
  const uint8_t *hdr; /* first byte of the TLV */
  const uint8_t *val;
  size_t len;         /* of the value */
} cp_x509_tlv;

/* Read one TLV from [*p, end) and advance *p past it. Definite lengths of at
 * most 3 length bytes. Returns 0 when the TLV does not fit. */
int cp_x509_der_read(const uint8_t **p, const uint8_t *end, cp_x509_tlv *t);

/* The SubjectPublicKeyInfo TLV inside certificate @p der (points into it). */
cp_result cp_x509_spki(const uint8_t *der, size_t len, const uint8_t **spki,
                       size_t *spki_len);

/* Lower-case hex of @p len bytes into @p out (2*len + 1 bytes). */
void cp_x509_hex(const uint8_t *in, size_t len, char *out);

#endif
