/* EC P-384 private keys on wolfCrypt: generate, import, export. */
#include "certpilot/cp_key.h"

#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/asn.h>
#include <wolfssl/wolfcrypt/asn_public.h>
#include <wolfssl/wolfcrypt/ecc.h>
#include <wolfssl/wolfcrypt/rsa.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "cp_key_priv.h"
#include "cp_rng.h"
#include "cp_wipe.h"

#define P384_BYTES 48
/* Largest key DER looked at, so that big RSA keys are still recognised as RSA. */
#define KEY_INPUT_MAX 4096

static const char PEM_PKCS8[] = "PRIVATE KEY";
static const char PEM_SEC1[] = "EC PRIVATE KEY";

cp_result cp_key_load(const cp_key *key, ecc_key *ecc)
{
  word32 idx = 0;

  if (key == NULL || ecc == NULL || key->_der_len == 0 ||
      key->_der_len > sizeof key->_der)
    return CP_ERR_INVALID_ARG;
  if (wc_ecc_init(ecc) != 0)
    return CP_ERR_CRYPTO;
  if (wc_EccPrivateKeyDecode(key->_der, &idx, ecc, (word32)key->_der_len) != 0 ||
      ecc->dp == NULL || ecc->dp->id != ECC_SECP384R1) {
    wc_ecc_free(ecc);
    return CP_ERR_PARSE;
  }
  return CP_OK;
}

/* Store @p ecc (a complete P-384 key pair) in @p key as SEC1 DER. */
static cp_result store_ecc(cp_key *key, ecc_key *ecc)
{
  uint8_t der[CP_KEY_DER_MAX];
  int n = wc_EccKeyToDer(ecc, der, (word32)sizeof der);

  if (n <= 0) {
    cp_wipe(der, sizeof der);
    return CP_ERR_CRYPTO;
  }
  memcpy(key->_der, der, (size_t)n);
  key->_der_len = (size_t)n;
  cp_wipe(der, sizeof der);
  return CP_OK;
}

cp_result cp_key_generate_p384(cp_key *key)
{
  WC_RNG rng;
  ecc_key ecc;
  cp_result r;
  int rc;

  if (key == NULL)
    return CP_ERR_INVALID_ARG;
  cp_key_wipe(key);
  r = cp_rng_init(&rng);
  if (r != CP_OK)
    return r == CP_ERR_IO ? CP_ERR_CRYPTO : r;
  if (wc_ecc_init(&ecc) != 0) {
    cp_rng_free(&rng);
    return CP_ERR_CRYPTO;
  }
  rc = wc_ecc_make_key_ex(&rng, P384_BYTES, &ecc, ECC_SECP384R1);
  r = rc == 0 ? store_ecc(key, &ecc) : CP_ERR_CRYPTO;
  if (rc != 0)
    cp_log(CP_LOG_ERROR, "key: P-384 key generation failed (%d)", rc);
  wc_ecc_free(&ecc);
  cp_rng_free(&rng);
  return r;
}

/* Decide why @p der is not an EC key we can use: another key type
 * (CP_ERR_UNSUPPORTED_KEY) or no private key at all (CP_ERR_PARSE). */
static cp_result classify_non_ec(const uint8_t *der, size_t der_len)
{
  uint8_t copy[KEY_INPUT_MAX];
  const uint8_t *trad = der;
  word32 trad_len = (word32)der_len, alg = 0, idx = 0;
  RsaKey rsa;
  int n, rc;

  memcpy(copy, der, der_len);
  n = ToTraditional_ex(copy, (word32)der_len, &alg);
  if (n > 0) {
    if (alg != ECDSAk) {
      cp_log(CP_LOG_WARNING, "key: PKCS#8 key is not an EC key (%s); need EC P-384",
             alg == RSAk ? "RSA" : "other algorithm");
      cp_wipe(copy, der_len);
      return CP_ERR_UNSUPPORTED_KEY;
    }
    trad = copy;
    trad_len = (word32)n;
  }
  if (wc_InitRsaKey(&rsa, NULL) != 0) {
    cp_wipe(copy, der_len);
    return CP_ERR_CRYPTO;
  }
  rc = wc_RsaPrivateKeyDecode(trad, &idx, &rsa, trad_len);
  wc_FreeRsaKey(&rsa);
  cp_wipe(copy, der_len);
  if (rc == 0) {
    cp_log(CP_LOG_WARNING, "key: RSA private key given; need EC P-384");
    return CP_ERR_UNSUPPORTED_KEY;
  }
  cp_log(CP_LOG_WARNING, "key: input is not a PKCS#8 or SEC1 private key");
  return CP_ERR_PARSE;
}

/* Make sure @p ecc holds a consistent key pair: derive the public point from
 * the private scalar and, when the input carried one, require it to match. */
static cp_result complete_pair(ecc_key *ecc)
{
  ecc_point *derived;
  cp_result r = CP_OK;
  WC_RNG rng;

  if (cp_rng_init(&rng) != CP_OK)
    return CP_ERR_CRYPTO;
  derived = wc_ecc_new_point();
  if (derived == NULL) {
    cp_rng_free(&rng);
    return CP_ERR_NO_MEMORY;
  }
  if (wc_ecc_make_pub_ex(ecc, derived, &rng) != 0) {
    cp_log(CP_LOG_WARNING, "key: private scalar is out of range");
    r = CP_ERR_PARSE;
  } else if (ecc->type == ECC_PRIVATEKEY_ONLY) {
    if (wc_ecc_copy_point(derived, &ecc->pubkey) != 0)
      r = CP_ERR_CRYPTO;
    else
      ecc->type = ECC_PRIVATEKEY;
  } else if (wc_ecc_cmp_point(derived, &ecc->pubkey) != MP_EQ) {
    cp_log(CP_LOG_WARNING, "key: embedded public key does not belong to the private key");
    r = CP_ERR_PARSE;
  }
  wc_ecc_del_point(derived);
  cp_rng_free(&rng);
  return r;
}

cp_result cp_key_from_der(cp_key *key, const uint8_t *der, size_t der_len)
{
  ecc_key ecc;
  word32 idx = 0;
  cp_result r;
  int rc;

  if (key == NULL || der == NULL || der_len == 0)
    return CP_ERR_INVALID_ARG;
  if (der_len > KEY_INPUT_MAX) {
    cp_log(CP_LOG_WARNING, "key: %zu bytes is too long for a key", der_len);
    return CP_ERR_PARSE;
  }
  if (wc_ecc_init(&ecc) != 0)
    return CP_ERR_CRYPTO;
  rc = wc_EccPrivateKeyDecode(der, &idx, &ecc, (word32)der_len);
  if (rc != 0) {
    wc_ecc_free(&ecc);
    return classify_non_ec(der, der_len);
  }
  if (idx != der_len) {
    cp_log(CP_LOG_WARNING, "key: %zu bytes of trailing data after the key",
           der_len - (size_t)idx);
    r = CP_ERR_PARSE;
  } else if (ecc.dp == NULL || ecc.dp->id != ECC_SECP384R1) {
    cp_log(CP_LOG_WARNING, "key: EC key on curve %s; need P-384",
           ecc.dp != NULL && ecc.dp->name != NULL ? ecc.dp->name : "unknown");
    r = CP_ERR_UNSUPPORTED_KEY;
  } else {
    r = complete_pair(&ecc);
    if (r == CP_OK)
      r = store_ecc(key, &ecc);
  }
  wc_ecc_free(&ecc);
  return r;
}

cp_result cp_key_from_pem(cp_key *key, const char *pem, size_t pem_len)
{
  uint8_t der[KEY_INPUT_MAX];
  char label[64];
  size_t der_len = 0, used = 0, off = 0;
  cp_result r;

  if (key == NULL || pem == NULL || pem_len == 0)
    return CP_ERR_INVALID_ARG;
  for (;;) {
    r = cp_pem_decode(pem + off, pem_len - off, label, der, sizeof der, &der_len,
                      &used);
    if (r != CP_OK) {
      cp_log(CP_LOG_WARNING, "key: %s", r == CP_ERR_NOT_FOUND
                                            ? "no PEM private key block found"
                                            : "PEM armour or base64 is malformed");
      r = r == CP_ERR_INVALID_ARG ? r : CP_ERR_PARSE;
      break;
    }
    /* `openssl ecparam -genkey` writes an EC PARAMETERS block first: skip it. */
    if (strcmp(label, "EC PARAMETERS") == 0) {
      off += used;
      continue;
    }
    if (strcmp(label, PEM_PKCS8) == 0 || strcmp(label, PEM_SEC1) == 0) {
      r = cp_key_from_der(key, der, der_len);
    } else if (strcmp(label, "RSA PRIVATE KEY") == 0) {
      cp_log(CP_LOG_WARNING, "key: RSA private key given; need EC P-384");
      r = CP_ERR_UNSUPPORTED_KEY;
    } else if (strcmp(label, "ENCRYPTED PRIVATE KEY") == 0) {
      cp_log(CP_LOG_WARNING, "key: encrypted private keys are not supported");
      r = CP_ERR_UNSUPPORTED_KEY;
    } else {
      cp_log(CP_LOG_WARNING, "key: PEM block \"%s\" is not a private key", label);
      r = CP_ERR_PARSE;
    }
    break;
  }
  cp_wipe(der, sizeof der);
  return r;
}

/* Encode @p key in @p format into @p tmp (at least CP_KEY_DER_MAX bytes). */
static cp_result encode_der(const cp_key *key, cp_key_format format, uint8_t *tmp,
                            size_t *len)
{
  ecc_key ecc;
  word32 n = CP_KEY_DER_MAX;
  cp_result r;

  if (format == CP_KEY_FORMAT_SEC1) {
    if (key->_der_len == 0 || key->_der_len > CP_KEY_DER_MAX)
      return CP_ERR_INVALID_ARG;
    memcpy(tmp, key->_der, key->_der_len);
    *len = key->_der_len;
    return CP_OK;
  }
  if (format != CP_KEY_FORMAT_PKCS8)
    return CP_ERR_INVALID_ARG;
  r = cp_key_load(key, &ecc);
  if (r != CP_OK)
    return r;
  if (wc_EccKeyToPKCS8(&ecc, tmp, &n) <= 0)
    r = CP_ERR_CRYPTO;
  else
    *len = n;
  wc_ecc_free(&ecc);
  return r;
}

cp_result cp_key_to_der(const cp_key *key, cp_key_format format, uint8_t *buf,
                        size_t buf_size, size_t *out_len)
{
  uint8_t tmp[CP_KEY_DER_MAX];
  size_t len = 0;
  cp_result r;

  if (key == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  r = encode_der(key, format, tmp, &len);
  if (r == CP_OK) {
    if (buf == NULL || buf_size < len) {
      *out_len = len;
      r = CP_ERR_BUFFER_TOO_SMALL;
    } else {
      memcpy(buf, tmp, len);
      *out_len = len;
    }
  }
  cp_wipe(tmp, sizeof tmp);
  return r;
}

cp_result cp_key_to_pem(const cp_key *key, cp_key_format format, char *buf,
                        size_t buf_size, size_t *out_len)
{
  uint8_t tmp[CP_KEY_DER_MAX];
  size_t len = 0;
  cp_result r;

  if (key == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  r = encode_der(key, format, tmp, &len);
  if (r == CP_OK)
    r = cp_pem_encode(format == CP_KEY_FORMAT_SEC1 ? PEM_SEC1 : PEM_PKCS8, tmp, len,
                      buf, buf_size, out_len);
  cp_wipe(tmp, sizeof tmp);
  return r;
}

cp_result cp_key_public_der(const cp_key *key, uint8_t *buf, size_t buf_size,
                            size_t *out_len)
{
  uint8_t tmp[CP_PUBKEY_DER_MAX];
  ecc_key ecc;
  cp_result r;
  int n;

  if (key == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  r = cp_key_load(key, &ecc);
  if (r != CP_OK)
    return r;
  n = wc_EccPublicKeyToDer(&ecc, tmp, (word32)sizeof tmp, 1);
  wc_ecc_free(&ecc);
  if (n <= 0)
    return CP_ERR_CRYPTO;
  *out_len = (size_t)n;
  if (buf == NULL || buf_size < (size_t)n)
    return CP_ERR_BUFFER_TOO_SMALL;
  memcpy(buf, tmp, (size_t)n);
  return CP_OK;
}

void cp_key_wipe(cp_key *key)
{
  if (key == NULL)
    return;
  cp_wipe(key->_der, sizeof key->_der);
  key->_der_len = 0;
}
