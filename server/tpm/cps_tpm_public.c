/* Parse and check the EK / SRK public parts a device sends; RSA-OAEP to them. */
#include "cps_tpm_internal.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <stdio.h>
#include <string.h>
#include <tss2/tss2_mu.h>

cps_tpm_result cps_tpm__parse_storage_key(const uint8_t *buf, size_t len,
                                          const char *what, TPM2B_PUBLIC *pub,
                                          cps_tpm_error *err)
{
  const TPMT_PUBLIC *p = &pub->publicArea;
  const TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  size_t off = 0;

  memset(pub, 0, sizeof *pub);
  if (buf == NULL || len == 0)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID, "tpm: %s is empty", what);
  if (Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, pub) != TSS2_RC_SUCCESS)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID,
                         "tpm: %s is not a marshalled TPM2B_PUBLIC", what);
  if (off != len)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID,
                         "tpm: %s has %zu trailing bytes", what, len - off);
  if (p->type != TPM2_ALG_RSA || p->parameters.rsaDetail.keyBits != 2048 ||
      p->unique.rsa.size != 256)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID, "tpm: %s is not RSA-2048", what);
  if (p->nameAlg != TPM2_ALG_SHA256)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID,
                         "tpm: %s name algorithm is not SHA-256", what);
  if ((p->objectAttributes & need) != need)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID,
                         "tpm: %s is not a restricted decryption key", what);
  if (p->parameters.rsaDetail.symmetric.algorithm != TPM2_ALG_AES ||
      p->parameters.rsaDetail.symmetric.keyBits.aes != 128 ||
      p->parameters.rsaDetail.symmetric.mode.aes != TPM2_ALG_CFB)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID,
                         "tpm: %s symmetric algorithm is not AES-128-CFB", what);
  return CPS_TPM_OK;
}

cps_tpm_result cps_tpm_public_check(const uint8_t *pub, size_t pub_len,
                                    char ek_id[CPS_TPM_EK_ID_LEN],
                                    cps_tpm_error *err)
{
  TPM2B_PUBLIC p;
  TPM2B_NAME name;
  cps_tpm_result r;

  if (err != NULL)
    err->msg[0] = '\0';
  r = cps_tpm__parse_storage_key(pub, pub_len, "key", &p, err);
  if (r != CPS_TPM_OK)
    return r;
  if (ek_id == NULL)
    return CPS_TPM_OK;
  if (cps_tpm__name(&p.publicArea, &name) != CPS_TPM_OK)
    return cps_tpm__fail(err, CPS_TPM_ERR_CRYPTO, "tpm: cannot hash the key's Name");
  for (int i = 0; i < 32; i++)
    snprintf(ek_id + 2 * i, 3, "%02x", name.name[2 + i]);
  return CPS_TPM_OK;
}

static EVP_PKEY *rsa_from_public(const TPMT_PUBLIC *pub)
{
  uint32_t e = pub->parameters.rsaDetail.exponent ? pub->parameters.rsaDetail.exponent
                                                  : 65537u;
  BIGNUM *n = BN_bin2bn(pub->unique.rsa.buffer, pub->unique.rsa.size, NULL);
  BIGNUM *bn_e = BN_new();
  OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
  OSSL_PARAM *params = NULL;
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
  EVP_PKEY *key = NULL;

  if (n != NULL && bn_e != NULL && bld != NULL && ctx != NULL &&
      BN_set_word(bn_e, e) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n) &&
      OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, bn_e) &&
      (params = OSSL_PARAM_BLD_to_param(bld)) != NULL &&
      EVP_PKEY_fromdata_init(ctx) == 1)
    if (EVP_PKEY_fromdata(ctx, &key, EVP_PKEY_PUBLIC_KEY, params) != 1)
      key = NULL;
  OSSL_PARAM_free(params);
  OSSL_PARAM_BLD_free(bld);
  EVP_PKEY_CTX_free(ctx);
  BN_free(n);
  BN_free(bn_e);
  return key;
}

cps_tpm_result cps_tpm__oaep_seed(const TPMT_PUBLIC *pub, const char *label,
                                  const uint8_t *seed, size_t seed_len,
                                  TPM2B_ENCRYPTED_SECRET *out, cps_tpm_error *err)
{
  EVP_PKEY *key = rsa_from_public(pub);
  EVP_PKEY_CTX *ctx = key != NULL ? EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL) : NULL;
  /* The TPM's OAEP label includes the terminating NUL. */
  void *lab = OPENSSL_memdup(label, strlen(label) + 1);
  size_t outl = sizeof out->secret;
  cps_tpm_result r = CPS_TPM_OK;

  if (ctx == NULL || lab == NULL || EVP_PKEY_encrypt_init(ctx) != 1 ||
      EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) != 1 ||
      EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) != 1 ||
      EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, (int)(strlen(label) + 1)) != 1) {
    OPENSSL_free(lab);
    r = cps_tpm__fail(err, CPS_TPM_ERR_CRYPTO, "tpm: RSA-OAEP setup failed");
  } else if (EVP_PKEY_encrypt(ctx, out->secret, &outl, seed, seed_len) != 1) {
    r = cps_tpm__fail(err, CPS_TPM_ERR_CRYPTO, "tpm: RSA-OAEP encryption failed");
  } else {
    out->size = (UINT16)outl;
  }
  EVP_PKEY_CTX_free(ctx);
  EVP_PKEY_free(key);
  return r;
}
