/* SAS token parsing, derivation and constant-time verification (protocol.md §4). */
#include "cps_sas.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cps_b64.h"

#define SAS_PREFIX "SharedAccessSignature "

/* base64(HMAC-SHA256(base64decode(key_b64), msg)) into out. */
static cps_result hmac_b64(const char *key_b64, const unsigned char *msg, size_t msg_len, char *out,
                           size_t out_size) {
  unsigned char *key = NULL;
  size_t key_len = 0;
  if (cps_b64_decode(key_b64, strlen(key_b64), &key, &key_len) != CPS_OK) return CPS_ERR_INVALID;
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int mac_len = 0;
  unsigned char *ok = HMAC(EVP_sha256(), key, (int)key_len, msg, msg_len, mac, &mac_len);
  OPENSSL_cleanse(key, key_len);
  free(key);
  if (!ok) return CPS_ERR_CRYPTO;
  char *b64 = NULL;
  cps_result r = cps_b64_encode(mac, mac_len, &b64);
  if (r != CPS_OK) return r;
  if (strlen(b64) >= out_size) {
    r = CPS_ERR_INVALID;
  } else {
    strcpy(out, b64);
  }
  free(b64);
  return r;
}

cps_result cps_sas_derive_device_key(const char *group_key_b64, const char *registration_id,
                                     char *out, size_t out_size) {
  return hmac_b64(group_key_b64, (const unsigned char *)registration_id, strlen(registration_id),
                  out, out_size);
}

cps_result cps_sas_parse(const char *token, cps_sas_token *out, cps_error *err) {
  if (!token || !*token) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: no token");
  size_t plen = strlen(SAS_PREFIX);
  if (strncmp(token, SAS_PREFIX, plen) != 0)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: not a SharedAccessSignature token");
  cps_sas_token t;
  memset(&t, 0, sizeof t);
  int have_sr = 0, have_sig = 0, have_se = 0;
  const char *p = token + plen;
  while (*p) {
    const char *amp = strchr(p, '&');
    size_t flen = amp ? (size_t)(amp - p) : strlen(p);
    const char *eq = memchr(p, '=', flen);
    if (!eq) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: field without '='");
    size_t klen = (size_t)(eq - p);
    const char *v = eq + 1;
    size_t vlen = flen - klen - 1;
    if (klen == 2 && memcmp(p, "sr", 2) == 0) {
      if (vlen >= sizeof t.sr) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: sr too long");
      memcpy(t.sr, v, vlen);
      t.sr[vlen] = '\0';
      have_sr = 1;
    } else if (klen == 3 && memcmp(p, "sig", 3) == 0) {
      if (cps_url_decode(v, vlen, t.sig, sizeof t.sig) != CPS_OK)
        return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: sig is not URL-encoded base64");
      have_sig = 1;
    } else if (klen == 2 && memcmp(p, "se", 2) == 0) {
      if (vlen == 0 || vlen >= sizeof t.se_str)
        return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: bad se");
      memcpy(t.se_str, v, vlen);
      t.se_str[vlen] = '\0';
      char *end = NULL;
      t.se = strtoll(t.se_str, &end, 10);
      if (*end || t.se_str[0] == '-' || t.se_str[0] == '+')
        return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: se is not a decimal number");
      have_se = 1;
    } else if (klen == 3 && memcmp(p, "skn", 3) == 0) {
      if (cps_url_decode(v, vlen, t.skn, sizeof t.skn) != CPS_OK)
        return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: bad skn");
    }
    p += flen;
    if (*p == '&') p++;
  }
  if (!have_sr || !have_sig || !have_se)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: token needs sr, sig and se");
  *out = t;
  return CPS_OK;
}

cps_result cps_sas_verify(const cps_sas_token *token, const char *id_scope,
                          const char *registration_id, const char *key_b64, time_t now,
                          long max_lifetime_s, cps_error *err) {
  if (token->se <= (long long)now) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: expired");
  if (token->se > (long long)now + max_lifetime_s)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: expiry too far in the future");
  char sr[512], expect[400];
  if (cps_url_decode(token->sr, strlen(token->sr), sr, sizeof sr) != CPS_OK)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: sr is not URL-encoded");
  snprintf(expect, sizeof expect, "%s/registrations/%s", id_scope, registration_id);
  if (strcasecmp(sr, expect) != 0)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: sr does not match the registration");
  char msg[600];
  int n = snprintf(msg, sizeof msg, "%s\n%s", token->sr, token->se_str);
  if (n < 0 || (size_t)n >= sizeof msg) return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: too long");
  char mac[128];
  if (hmac_b64(key_b64, (const unsigned char *)msg, (size_t)n, mac, sizeof mac) != CPS_OK)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: enrollment key unusable");
  size_t ml = strlen(mac);
  if (strlen(token->sig) != ml || CRYPTO_memcmp(mac, token->sig, ml) != 0)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED, "sas: signature mismatch");
  return CPS_OK;
}

cps_result cps_sas_build(const char *id_scope, const char *registration_id, const char *key_b64,
                         long long expiry, char *out, size_t out_size) {
  char scope_enc[200], id_enc[400], sr[700], msg[800], sig[128], sig_enc[200];
  if (cps_url_encode(id_scope, scope_enc, sizeof scope_enc) != CPS_OK ||
      cps_url_encode(registration_id, id_enc, sizeof id_enc) != CPS_OK)
    return CPS_ERR_INVALID;
  snprintf(sr, sizeof sr, "%s%%2fregistrations%%2f%s", scope_enc, id_enc);
  int n = snprintf(msg, sizeof msg, "%s\n%lld", sr, expiry);
  if (n < 0 || (size_t)n >= sizeof msg) return CPS_ERR_INVALID;
  cps_result r = hmac_b64(key_b64, (const unsigned char *)msg, (size_t)n, sig, sizeof sig);
  if (r != CPS_OK) return r;
  if (cps_url_encode(sig, sig_enc, sizeof sig_enc) != CPS_OK) return CPS_ERR_INVALID;
  n = snprintf(out, out_size, "SharedAccessSignature sr=%s&sig=%s&se=%lld&skn=registration", sr,
               sig_enc, expiry);
  return (n < 0 || (size_t)n >= out_size) ? CPS_ERR_INVALID : CPS_OK;
}
