/* TPM2 crypto primitives on OpenSSL 3: KDFa, AES-128-CFB, HMAC, Names. */
#include "cps_tpm_internal.h"

#include <openssl/sha.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_mu.h>

cps_tpm_result cps_tpm__fail(cps_tpm_error *err, cps_tpm_result r,
                             const char *fmt, ...)
{
  va_list ap;

  if (err != NULL) {
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return r;
}

const char *cps_tpm_result_str(cps_tpm_result r)
{
  switch (r) {
  case CPS_TPM_OK: return "CPS_TPM_OK";
  case CPS_TPM_ERR_INVALID: return "CPS_TPM_ERR_INVALID";
  case CPS_TPM_ERR_UNAUTHORIZED: return "CPS_TPM_ERR_UNAUTHORIZED";
  case CPS_TPM_ERR_CRYPTO: return "CPS_TPM_ERR_CRYPTO";
  case CPS_TPM_ERR_NOMEM: return "CPS_TPM_ERR_NOMEM";
  }
  return "unknown cps_tpm_result";
}

static void put_be32(uint8_t *p, uint32_t v)
{
  p[0] = (uint8_t)(v >> 24);
  p[1] = (uint8_t)(v >> 16);
  p[2] = (uint8_t)(v >> 8);
  p[3] = (uint8_t)v;
}

cps_tpm_result cps_tpm__kdfa_sha256(const uint8_t *key, size_t key_len,
                                    const char *label, const uint8_t *ctx_u,
                                    size_t ctx_u_len, const uint8_t *ctx_v,
                                    size_t ctx_v_len, uint8_t *out, size_t out_len)
{
  uint8_t counter[4], bits[4], block[32];
  size_t done = 0;
  uint32_t i = 0;
  cps_tpm_result r = CPS_TPM_OK;

  if (out_len > 0xFFFFu / 8)
    return CPS_TPM_ERR_INVALID;
  put_be32(bits, (uint32_t)(out_len * 8));
  while (done < out_len) {
    size_t take;

    EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
    EVP_MAC_CTX *mc = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
    OSSL_PARAM params[2] = {
      OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
      OSSL_PARAM_construct_end()};
    size_t outl = 0;

    /* HMAC(key, counter ‖ label ‖ 0x00 ‖ contextU ‖ contextV ‖ bits) */
    put_be32(counter, ++i);
    if (mc == NULL || !EVP_MAC_init(mc, key, key_len, params) ||
        !EVP_MAC_update(mc, counter, 4) ||
        !EVP_MAC_update(mc, (const uint8_t *)label, strlen(label) + 1) ||
        (ctx_u_len > 0 && !EVP_MAC_update(mc, ctx_u, ctx_u_len)) ||
        (ctx_v_len > 0 && !EVP_MAC_update(mc, ctx_v, ctx_v_len)) ||
        !EVP_MAC_update(mc, bits, 4) ||
        !EVP_MAC_final(mc, block, &outl, sizeof block) || outl != sizeof block)
      r = CPS_TPM_ERR_CRYPTO;
    EVP_MAC_CTX_free(mc);
    EVP_MAC_free(mac);
    if (r != CPS_TPM_OK)
      break;
    take = out_len - done < sizeof block ? out_len - done : sizeof block;
    memcpy(out + done, block, take);
    done += take;
  }
  OPENSSL_cleanse(block, sizeof block);
  return r;
}

cps_tpm_result cps_tpm__aes128_cfb_encrypt(const uint8_t key[16], const uint8_t *in,
                                           size_t len, uint8_t *out)
{
  static const uint8_t iv[16] = {0};
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n1 = 0, n2 = 0;
  cps_tpm_result r = CPS_TPM_OK;

  if (c == NULL || len > 0x7FFFFFFF ||
      !EVP_EncryptInit_ex(c, EVP_aes_128_cfb128(), NULL, key, iv) ||
      !EVP_EncryptUpdate(c, out, &n1, in, (int)len) ||
      !EVP_EncryptFinal_ex(c, out + n1, &n2) || (size_t)(n1 + n2) != len)
    r = CPS_TPM_ERR_CRYPTO;
  EVP_CIPHER_CTX_free(c);
  return r;
}

cps_tpm_result cps_tpm__hmac_sha256(const uint8_t *key, size_t key_len,
                                    const uint8_t *a, size_t a_len,
                                    const uint8_t *b, size_t b_len, uint8_t out[32])
{
  EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
  EVP_MAC_CTX *mc = mac != NULL ? EVP_MAC_CTX_new(mac) : NULL;
  OSSL_PARAM params[2] = {
    OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
    OSSL_PARAM_construct_end()};
  size_t outl = 0;
  cps_tpm_result r = CPS_TPM_OK;

  if (mc == NULL || !EVP_MAC_init(mc, key, key_len, params) ||
      (a_len > 0 && !EVP_MAC_update(mc, a, a_len)) ||
      (b_len > 0 && !EVP_MAC_update(mc, b, b_len)) ||
      !EVP_MAC_final(mc, out, &outl, 32) || outl != 32)
    r = CPS_TPM_ERR_CRYPTO;
  EVP_MAC_CTX_free(mc);
  EVP_MAC_free(mac);
  return r;
}

cps_tpm_result cps_tpm__name(const TPMT_PUBLIC *pub, TPM2B_NAME *name)
{
  uint8_t buf[sizeof(TPMT_PUBLIC)];
  size_t len = 0;

  if (pub->nameAlg != TPM2_ALG_SHA256 ||
      Tss2_MU_TPMT_PUBLIC_Marshal(pub, buf, sizeof buf, &len) != TSS2_RC_SUCCESS)
    return CPS_TPM_ERR_CRYPTO;
  name->size = 2 + SHA256_DIGEST_LENGTH;
  name->name[0] = (uint8_t)(TPM2_ALG_SHA256 >> 8);
  name->name[1] = (uint8_t)(TPM2_ALG_SHA256 & 0xFF);
  if (EVP_Digest(buf, len, name->name + 2, NULL, EVP_sha256(), NULL) != 1)
    return CPS_TPM_ERR_CRYPTO;
  return CPS_TPM_OK;
}
