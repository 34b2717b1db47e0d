/* tpm2-tss port: create or reuse the EK and SRK, export their public parts. */
#include "cp_posix_tpm_internal.h"

#include <string.h>
#include <tss2/tss2_mu.h>

#include "certpilot/cp_log.h"

/* PolicySecret(TPM_RH_ENDORSEMENT) digest of the TCG EK Credential Profile. */
static const uint8_t ek_policy[32] = {
  0x83, 0x71, 0x97, 0x67, 0x44, 0x84, 0xB3, 0xF8, 0x1A, 0x90, 0xCC,
  0x8D, 0x46, 0xA5, 0xD7, 0x24, 0xFD, 0x52, 0xD7, 0x6E, 0x06, 0x52,
  0x0B, 0x64, 0xF2, 0xA1, 0xDA, 0x1B, 0x33, 0x14, 0x69, 0xAA};

/* RSA-2048 restricted decryption key with AES-128-CFB: EK and SRK share it. */
static void rsa_storage_template(TPM2B_PUBLIC *pub, TPMA_OBJECT attrs)
{
  memset(pub, 0, sizeof *pub);
  pub->publicArea.type = TPM2_ALG_RSA;
  pub->publicArea.nameAlg = TPM2_ALG_SHA256;
  pub->publicArea.objectAttributes = attrs;
  pub->publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
  pub->publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
  pub->publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  pub->publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  pub->publicArea.parameters.rsaDetail.keyBits = 2048;
  pub->publicArea.parameters.rsaDetail.exponent = 0;
  pub->publicArea.unique.rsa.size = 256; /* zeros, per the TCG templates */
}

static void ek_template(TPM2B_PUBLIC *pub)
{
  rsa_storage_template(pub, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                              TPMA_OBJECT_SENSITIVEDATAORIGIN |
                              TPMA_OBJECT_ADMINWITHPOLICY |
                              TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
  pub->publicArea.authPolicy.size = sizeof ek_policy;
  memcpy(pub->publicArea.authPolicy.buffer, ek_policy, sizeof ek_policy);
}

static void srk_template(TPM2B_PUBLIC *pub)
{
  rsa_storage_template(pub, TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                              TPMA_OBJECT_SENSITIVEDATAORIGIN |
                              TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA |
                              TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT);
}

/* A persisted key we reuse must at least be an RSA restricted decryption key. */
static cp_result check_reused(cp_posix_tpm *t, ESYS_TR tr, TPM2_HANDLE handle)
{
  TPM2B_PUBLIC *pub = NULL;
  TSS2_RC rc = Esys_ReadPublic(TPM_ESYS(t), tr, ESYS_TR_NONE, ESYS_TR_NONE,
                               ESYS_TR_NONE, &pub, NULL, NULL);
  TPMA_OBJECT need = TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT;
  int ok;

  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("ReadPublic of a persisted key", rc);
  ok = pub->publicArea.type == TPM2_ALG_RSA &&
       pub->publicArea.parameters.rsaDetail.keyBits == 2048 &&
       (pub->publicArea.objectAttributes & need) == need;
  Esys_Free(pub);
  if (!ok) {
    cp_log(CP_LOG_ERROR,
           "tpm: handle 0x%08x holds a key that is not an RSA-2048 storage key",
           (unsigned)handle);
    return CP_ERR_TPM;
  }
  return CP_OK;
}

static cp_result create_and_persist(cp_posix_tpm *t, ESYS_TR hierarchy,
                                    const TPM2B_PUBLIC *tmpl, TPM2_HANDLE handle,
                                    ESYS_TR *out)
{
  TPM2B_SENSITIVE_CREATE sens;
  TPM2B_DATA outside;
  TPML_PCR_SELECTION pcrs;
  ESYS_TR transient = ESYS_TR_NONE;
  TSS2_RC rc;

  memset(&sens, 0, sizeof sens);
  memset(&outside, 0, sizeof outside);
  memset(&pcrs, 0, sizeof pcrs);
  cp_log(CP_LOG_INFO, "tpm: creating the key for handle 0x%08x", (unsigned)handle);
  rc = Esys_CreatePrimary(TPM_ESYS(t), hierarchy, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                          ESYS_TR_NONE, &sens, tmpl, &outside, &pcrs, &transient,
                          NULL, NULL, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("CreatePrimary (is the hierarchy auth empty?)", rc);
  rc = Esys_EvictControl(TPM_ESYS(t), ESYS_TR_RH_OWNER, transient,
                         ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, handle, out);
  Esys_FlushContext(TPM_ESYS(t), transient);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("EvictControl (persisting a primary key)", rc);
  return CP_OK;
}

static cp_result ensure_one(cp_posix_tpm *t, TPM2_HANDLE handle, ESYS_TR hierarchy,
                            const TPM2B_PUBLIC *tmpl, uint32_t *cache)
{
  ESYS_TR tr;
  cp_result r;

  if (*cache != 0)
    return CP_OK;
  r = cp_posix_tpm__persistent(t, handle, &tr);
  if (r == CP_OK) {
    r = check_reused(t, tr, handle);
    if (r != CP_OK) {
      Esys_TR_Close(TPM_ESYS(t), &tr);
      return r;
    }
  } else if (r == CP_ERR_NOT_FOUND) {
    r = create_and_persist(t, hierarchy, tmpl, handle, &tr);
    if (r != CP_OK)
      return r;
  } else {
    return r;
  }
  *cache = tr;
  return CP_OK;
}

cp_result cp_posix_tpm__ensure_keys(cp_posix_tpm *t)
{
  TPM2B_PUBLIC tmpl;
  cp_result r;

  ek_template(&tmpl);
  r = ensure_one(t, CP_TPM_EK_HANDLE, ESYS_TR_RH_ENDORSEMENT, &tmpl,
                 &t->_internal.ek);
  if (r != CP_OK)
    return r;
  srk_template(&tmpl);
  return ensure_one(t, CP_TPM_SRK_HANDLE, ESYS_TR_RH_OWNER, &tmpl,
                    &t->_internal.srk);
}

cp_result cp_posix_tpm__get_public(void *ctx, cp_tpm_key which, uint8_t *out,
                                   size_t out_size, size_t *out_len)
{
  cp_posix_tpm *t = ctx;
  TPM2B_PUBLIC *pub = NULL;
  uint8_t buf[sizeof(TPM2B_PUBLIC)];
  size_t len = 0;
  cp_result r;
  TSS2_RC rc;

  r = cp_posix_tpm__ensure_keys(t);
  if (r != CP_OK)
    return r;
  rc = Esys_ReadPublic(TPM_ESYS(t),
                       which == CP_TPM_KEY_EK ? t->_internal.ek : t->_internal.srk,
                       ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE, &pub, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("ReadPublic", rc);
  rc = Tss2_MU_TPM2B_PUBLIC_Marshal(pub, buf, sizeof buf, &len);
  Esys_Free(pub);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("marshalling TPM2B_PUBLIC", rc);
  if (len > out_size)
    return CP_ERR_BUFFER_TOO_SMALL;
  memcpy(out, buf, len);
  *out_len = len;
  return CP_OK;
}
