/* SAS tokens and symmetric device keys (protocol.md §4) on wolfCrypt HMAC. */
#include "certpilot/cp_sas.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <wolfssl/options.h>
#include <wolfssl/wolfcrypt/hmac.h>

#include "certpilot/cp_csr.h"
#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "cp_wipe.h"

#define SAS_KEY_MIN 16
#define SAS_KEY_MAX 64
#define SHA256_LEN 32
/* URLENC(resource URI) + "\n" + expiry, for resource URIs up to ~330 chars. */
#define STS_MAX 1024

static int unreserved(unsigned char c)
{
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
         c == '-' || c == '_' || c == '.' || c == '~';
}

static size_t url_encoded_len(const char *in)
{
  size_t n = 0;

  for (; *in != '\0'; in++)
    n += unreserved((unsigned char)*in) ? 1 : 3;
  return n;
}

/* Write URLENC(@p in) at @p out (room checked by the caller); returns the
 * length. With @p slash_2f, "/" becomes "%2f" (resource URIs); otherwise
 * "%2F" like any other escaped byte (the signature, protocol.md §4). */
static size_t url_encode_into(const char *in, char *out, int slash_2f)
{
  static const char hex[] = "0123456789ABCDEF";
  size_t n = 0;

  for (; *in != '\0'; in++) {
    unsigned char c = (unsigned char)*in;
    if (unreserved(c)) {
      out[n++] = (char)c;
    } else if (c == '/' && slash_2f) {
      /* protocol.md §4: the SDKs write the path separators as lower-case
       * "%2f", in sr= and in the signed string alike. */
      memcpy(out + n, "%2f", 3);
      n += 3;
    } else {
      out[n++] = '%';
      out[n++] = hex[c >> 4];
      out[n++] = hex[c & 15];
    }
  }
  out[n] = '\0';
  return n;
}

cp_result cp_url_encode(const char *in, char *out, size_t out_size, size_t *out_len)
{
  size_t need;

  if (in == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  need = url_encoded_len(in) + 1;
  if (out == NULL || out_size < need) {
    *out_len = need;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  *out_len = url_encode_into(in, out, 1);
  return CP_OK;
}

cp_result cp_sas_string_to_sign(const char *resource_uri, int64_t expiry, char *out,
                                size_t out_size, size_t *out_len)
{
  char se[24];
  size_t enc, se_len;

  if (resource_uri == NULL || resource_uri[0] == '\0' || expiry < 0 || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  se_len = (size_t)snprintf(se, sizeof se, "%" PRId64, expiry);
  enc = url_encoded_len(resource_uri);
  if (out == NULL || out_size < enc + 1 + se_len + 1) {
    *out_len = enc + 1 + se_len + 1;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  url_encode_into(resource_uri, out, 1);
  out[enc] = '\n';
  memcpy(out + enc + 1, se, se_len + 1);
  *out_len = enc + 1 + se_len;
  return CP_OK;
}

cp_result cp_sas_token_from_signature(const char *resource_uri,
                                      const uint8_t signature[32], int64_t expiry,
                                      const char *key_name, char *out,
                                      size_t out_size, size_t *out_len)
{
  static const char prefix[] = "SharedAccessSignature sr=";
  char sig_b64[CP_SAS_KEY_B64_MAX], se[24];
  size_t b64_len, se_len, need, pos;

  if (resource_uri == NULL || resource_uri[0] == '\0' || signature == NULL ||
      expiry < 0 || key_name == NULL || key_name[0] == '\0' || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (cp_base64_encode(signature, SHA256_LEN, sig_b64, sizeof sig_b64, &b64_len) != CP_OK)
    return CP_ERR_CRYPTO;
  se_len = (size_t)snprintf(se, sizeof se, "%" PRId64, expiry);
  need = sizeof prefix - 1 + url_encoded_len(resource_uri) + 5 /* &sig= */ +
         url_encoded_len(sig_b64) + 4 /* &se= */ + se_len + 5 /* &skn= */ +
         url_encoded_len(key_name) + 1;
  if (out == NULL || out_size < need) {
    *out_len = need;
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  memcpy(out, prefix, sizeof prefix - 1);
  pos = sizeof prefix - 1;
  pos += url_encode_into(resource_uri, out + pos, 1);
  memcpy(out + pos, "&sig=", 5);
  pos += 5;
  pos += url_encode_into(sig_b64, out + pos, 0);
  memcpy(out + pos, "&se=", 4);
  pos += 4;
  memcpy(out + pos, se, se_len);
  pos += se_len;
  memcpy(out + pos, "&skn=", 5);
  pos += 5;
  pos += url_encode_into(key_name, out + pos, 0);
  *out_len = pos;
  return CP_OK;
}

/* Decode a base64 symmetric key that must be 16–64 bytes. */
static cp_result decode_key(const char *key_b64, uint8_t key[SAS_KEY_MAX], size_t *len)
{
  uint8_t tmp[SAS_KEY_MAX + 3];
  cp_result r;

  r = cp_base64_decode(key_b64, strlen(key_b64), tmp, sizeof tmp, len);
  if (r == CP_OK && (*len < SAS_KEY_MIN || *len > SAS_KEY_MAX))
    r = CP_ERR_BUFFER_TOO_SMALL;
  if (r != CP_OK) {
    cp_log(CP_LOG_WARNING, "sas: symmetric key is %s",
           r == CP_ERR_BUFFER_TOO_SMALL ? "not 16-64 bytes long" : "not valid base64");
    cp_wipe(tmp, sizeof tmp);
    return CP_ERR_PARSE;
  }
  memcpy(key, tmp, *len);
  cp_wipe(tmp, sizeof tmp);
  return CP_OK;
}

static cp_result hmac_sha256(const uint8_t *key, size_t key_len, const char *msg,
                             size_t msg_len, uint8_t mac[SHA256_LEN])
{
  Hmac hmac;
  int rc;

  if (wc_HmacInit(&hmac, NULL, INVALID_DEVID) != 0)
    return CP_ERR_CRYPTO;
  rc = wc_HmacSetKey(&hmac, WC_SHA256, key, (word32)key_len);
  if (rc == 0)
    rc = wc_HmacUpdate(&hmac, (const byte *)msg, (word32)msg_len);
  if (rc == 0)
    rc = wc_HmacFinal(&hmac, mac);
  wc_HmacFree(&hmac);
  if (rc != 0) {
    cp_log(CP_LOG_ERROR, "sas: HMAC-SHA256 failed (%d)", rc);
    return CP_ERR_CRYPTO;
  }
  return CP_OK;
}

cp_result cp_sas_token_build(const char *resource_uri, const char *key_b64,
                             int64_t expiry, const char *key_name, char *out,
                             size_t out_size, size_t *out_len)
{
  uint8_t key[SAS_KEY_MAX], mac[SHA256_LEN];
  char sts[STS_MAX];
  size_t key_len = 0, sts_len = 0;
  cp_result r;

  if (resource_uri == NULL || key_b64 == NULL || key_name == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  r = cp_sas_string_to_sign(resource_uri, expiry, sts, sizeof sts, &sts_len);
  if (r == CP_ERR_BUFFER_TOO_SMALL) {
    cp_log(CP_LOG_WARNING, "sas: resource URI is too long");
    return CP_ERR_INVALID_ARG;
  }
  if (r != CP_OK)
    return r;
  r = decode_key(key_b64, key, &key_len);
  if (r != CP_OK)
    return r;
  r = hmac_sha256(key, key_len, sts, sts_len, mac);
  cp_wipe(key, sizeof key);
  if (r == CP_OK)
    r = cp_sas_token_from_signature(resource_uri, mac, expiry, key_name, out, out_size,
                                    out_len);
  cp_wipe(mac, sizeof mac);
  return r;
}

cp_result cp_sas_derive_device_key(const char *group_key_b64,
                                   const char *registration_id, char *out,
                                   size_t out_size, size_t *out_len)
{
  uint8_t key[SAS_KEY_MAX], mac[SHA256_LEN];
  size_t key_len = 0;
  cp_result r;

  if (group_key_b64 == NULL || registration_id == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  r = cp_registration_id_validate(registration_id);
  if (r != CP_OK)
    return r;
  r = decode_key(group_key_b64, key, &key_len);
  if (r != CP_OK)
    return r;
  r = hmac_sha256(key, key_len, registration_id, strlen(registration_id), mac);
  cp_wipe(key, sizeof key);
  if (r == CP_OK)
    r = cp_base64_encode(mac, sizeof mac, out, out_size, out_len);
  cp_wipe(mac, sizeof mac);
  return r;
}
