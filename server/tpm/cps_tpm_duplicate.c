/* Duplicate a fresh HMAC-SHA256 key to a TPM's SRK (TPM 2.0 Part 1,
 * "Protected Storage" and "Object Duplication"): inner wrapper under a
 * caller-chosen AES-128 key, outer wrapper from an RSA-OAEP seed. */
#include "cps_tpm_internal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>
#include <tss2/tss2_mu.h>

/* The identity key as the device's TPM will see it: an HMAC-SHA256 signing key. */
static cps_tpm_result make_object(const uint8_t key[CPS_TPM_IDENTITY_KEY_LEN],
                                  TPM2B_PUBLIC *pub, TPM2B_SENSITIVE *sens)
{
  TPMT_PUBLIC *p = &pub->publicArea;
  TPMT_SENSITIVE *s = &sens->sensitiveArea;
  EVP_MD_CTX *md = EVP_MD_CTX_new();
  unsigned len = 0;
  cps_tpm_result r = CPS_TPM_OK;

  memset(pub, 0, sizeof *pub);
  memset(sens, 0, sizeof *sens);
  s->sensitiveType = TPM2_ALG_KEYEDHASH;
  s->seedValue.size = 32;
  s->sensitive.bits.size = CPS_TPM_IDENTITY_KEY_LEN;
  memcpy(s->sensitive.bits.buffer, key, CPS_TPM_IDENTITY_KEY_LEN);
  p->type = TPM2_ALG_KEYEDHASH;
  p->nameAlg = TPM2_ALG_SHA256;
  p->objectAttributes =
      TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT;
  p->parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_HMAC;
  p->parameters.keyedHashDetail.scheme.details.hmac.hashAlg = TPM2_ALG_SHA256;
  /* unique = H(seedValue ‖ key) binds the public area to the secret */
  p->unique.keyedHash.size = 32;
  if (md == NULL || RAND_bytes(s->seedValue.buffer, 32) != 1 ||
      EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
      EVP_DigestUpdate(md, s->seedValue.buffer, 32) != 1 ||
      EVP_DigestUpdate(md, key, CPS_TPM_IDENTITY_KEY_LEN) != 1 ||
      EVP_DigestFinal_ex(md, p->unique.keyedHash.buffer, &len) != 1 || len != 32)
    r = CPS_TPM_ERR_CRYPTO;
  EVP_MD_CTX_free(md);
  return r;
}

cps_tpm_result cps_tpm__duplicate_hmac_key(const TPMT_PUBLIC *parent,
                                           const uint8_t key[CPS_TPM_IDENTITY_KEY_LEN],
                                           const uint8_t inner_key[16],
                                           TPM2B_PUBLIC *obj_pub,
                                           TPM2B_PRIVATE *dup,
                                           TPM2B_ENCRYPTED_SECRET *enc_seed,
                                           cps_tpm_error *err)
{
  TPM2B_SENSITIVE sens;
  TPM2B_NAME name;
  uint8_t plain[sizeof(TPM2B_DIGEST) + sizeof(TPM2B_SENSITIVE)];
  uint8_t inner[sizeof plain];
  uint8_t seed[32], sym_key[16], hmac_key[32], mac[32];
  size_t sens_len = 0, plain_len;
  cps_tpm_result r;

  r = make_object(key, obj_pub, &sens);
  if (r == CPS_TPM_OK)
    r = cps_tpm__name(&obj_pub->publicArea, &name);
  /* plain = TPM2B_DIGEST(innerIntegrity) ‖ TPM2B_SENSITIVE,
   * innerIntegrity = SHA-256(TPM2B_SENSITIVE ‖ Name) */
  if (r == CPS_TPM_OK &&
      Tss2_MU_TPM2B_SENSITIVE_Marshal(&sens, plain + 2 + 32, sizeof plain - 34,
                                      &sens_len) != TSS2_RC_SUCCESS)
    r = CPS_TPM_ERR_CRYPTO;
  if (r == CPS_TPM_OK) {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned len = 0;

    if (md == NULL || EVP_DigestInit_ex(md, EVP_sha256(), NULL) != 1 ||
        EVP_DigestUpdate(md, plain + 34, sens_len) != 1 ||
        EVP_DigestUpdate(md, name.name, name.size) != 1 ||
        EVP_DigestFinal_ex(md, plain + 2, &len) != 1 || len != 32)
      r = CPS_TPM_ERR_CRYPTO;
    EVP_MD_CTX_free(md);
    plain[0] = 0;
    plain[1] = 32;
  }
  plain_len = 34 + sens_len;
  if (r == CPS_TPM_OK)
    r = cps_tpm__aes128_cfb_encrypt(inner_key, plain, plain_len, inner);
  /* outer wrapper: seed to the parent, symKey/HMACkey from KDFa */
  if (r == CPS_TPM_OK && RAND_bytes(seed, sizeof seed) != 1)
    r = CPS_TPM_ERR_CRYPTO;
  if (r == CPS_TPM_OK)
    r = cps_tpm__oaep_seed(parent, "DUPLICATE", seed, sizeof seed, enc_seed, err);
  if (r == CPS_TPM_OK)
    r = cps_tpm__kdfa_sha256(seed, sizeof seed, "STORAGE", name.name, name.size,
                             NULL, 0, sym_key, sizeof sym_key);
  if (r == CPS_TPM_OK)
    r = cps_tpm__kdfa_sha256(seed, sizeof seed, "INTEGRITY", NULL, 0, NULL, 0,
                             hmac_key, sizeof hmac_key);
  if (r == CPS_TPM_OK && plain_len + 34 > sizeof dup->buffer)
    r = CPS_TPM_ERR_CRYPTO;
  if (r == CPS_TPM_OK)
    r = cps_tpm__aes128_cfb_encrypt(sym_key, inner, plain_len, dup->buffer + 34);
  /* outerHMAC = HMAC(HMACkey, dupSensitive ‖ Name) */
  if (r == CPS_TPM_OK)
    r = cps_tpm__hmac_sha256(hmac_key, sizeof hmac_key, dup->buffer + 34, plain_len,
                             name.name, name.size, mac);
  if (r == CPS_TPM_OK) {
    dup->buffer[0] = 0;
    dup->buffer[1] = 32;
    memcpy(dup->buffer + 2, mac, 32);
    dup->size = (UINT16)(34 + plain_len);
  } else if (err != NULL && err->msg[0] == '\0') {
    cps_tpm__fail(err, r, "tpm: building the duplication blob failed");
  }
  OPENSSL_cleanse(&sens, sizeof sens);
  OPENSSL_cleanse(plain, sizeof plain);
  OPENSSL_cleanse(inner, sizeof inner);
  OPENSSL_cleanse(seed, sizeof seed);
  OPENSSL_cleanse(sym_key, sizeof sym_key);
  OPENSSL_cleanse(hmac_key, sizeof hmac_key);
  return r;
}
