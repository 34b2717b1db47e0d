/* Does a certificate carry the public half of a cp_key? */
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>

#include "certpilot/cp_log.h"
#include "cp_key_priv.h"
#include "cp_x509_internal.h"

/* Uncompressed point (0x04 || X || Y) of the largest curve wolfSSL knows. */
#define POINT_MAX 160

/* The EC point and curve of @p key (decoded by the key module). */
static cp_result key_point(const cp_key *key, uint8_t *point, word32 *point_len, int *curve)
{
  ecc_key k;
  cp_result r = CP_ERR_INVALID_ARG;

  if (cp_key_load(key, &k) != CP_OK)
    return CP_ERR_INVALID_ARG;
  if ((k.type != ECC_PRIVATEKEY_ONLY || wc_ecc_make_pub(&k, NULL) == 0) &&
      wc_ecc_export_x963(&k, point, point_len) == 0 && k.dp != NULL) {
    *curve = k.dp->id;
    r = CP_OK;
  }
  wc_ecc_free(&k);
  return r;
}

/* The EC point and curve of a SubjectPublicKeyInfo; CP_ERR_KEY_MISMATCH when
 * it is not an EC key wolfSSL can read. */
static cp_result spki_point(const uint8_t *spki, size_t len, uint8_t *point,
                            word32 *point_len, int *curve)
{
  ecc_key k;
  word32 idx = 0;
  cp_result r = CP_ERR_KEY_MISMATCH;

  if (wc_ecc_init(&k) != 0)
    return CP_ERR_CRYPTO;
  if (wc_EccPublicKeyDecode(spki, &idx, &k, (word32)len) == 0 &&
      wc_ecc_export_x963(&k, point, point_len) == 0 && k.dp != NULL) {
    *curve = k.dp->id;
    r = CP_OK;
  }
  wc_ecc_free(&k);
  return r;
}

cp_result cp_cert_matches_key(const uint8_t *cert, size_t cert_len, const cp_key *key)
{
  uint8_t pem_der[CP_CERT_DER_MAX];
  uint8_t cert_pt[POINT_MAX], key_pt[POINT_MAX];
  const uint8_t *spki;
  size_t spki_len;
  word32 cert_pt_len = sizeof cert_pt, key_pt_len = sizeof key_pt;
  const uint8_t *der;
  size_t der_len;
  DecodedCert dc;
  int cert_curve = 0, key_curve = 0, is_ec;
  cp_result r;

  if (cert == NULL || key == NULL)
    return CP_ERR_INVALID_ARG;
  r = cp_x509_to_der(cert, cert_len, pem_der, sizeof pem_der, &der, &der_len);
  if (r != CP_OK)
    return r;
  r = cp_x509_decode(der, der_len, &dc);
  if (r != CP_OK)
    return r;
  is_ec = dc.keyOID == ECDSAk;
  wc_FreeDecodedCert(&dc);
  if (cp_x509_spki(der, der_len, &spki, &spki_len) != CP_OK)
    return CP_ERR_PARSE;
  r = key_point(key, key_pt, &key_pt_len, &key_curve);
  if (r != CP_OK) {
    cp_log(CP_LOG_WARNING, "x509: key is empty or unreadable");
    return r;
  }
  if (!is_ec) {
    cp_log(CP_LOG_NOTICE, "x509: certificate key is not an EC key");
    return CP_ERR_KEY_MISMATCH;
  }
  r = spki_point(spki, spki_len, cert_pt, &cert_pt_len, &cert_curve);
  if (r != CP_OK)
    return r;
  if (cert_curve != key_curve || cert_pt_len != key_pt_len ||
      memcmp(cert_pt, key_pt, key_pt_len) != 0) {
    cp_log(CP_LOG_NOTICE, "x509: certificate public key differs from the private key's");
    return CP_ERR_KEY_MISMATCH;
  }
  return CP_OK;
}
