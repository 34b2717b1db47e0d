/* tpm2-tss port: ActivateCredential + Import + Load the identity key of the
 * DPS authenticationKey (protocol.md §5 step 5), persist it at
 * CP_TPM_IDENTITY_HANDLE. Nothing is persisted unless every step worked. */
#include "cp_posix_tpm_internal.h"

#include <string.h>

#include "certpilot/cp_log.h"

/* The EK's admin role needs PolicySecret(TPM_RH_ENDORSEMENT) (§5 step 5). */
static cp_result activate(cp_posix_tpm *t, const cp_posix_tpm_auth_key *p,
                          TPM2B_DIGEST **inner_wrap_key)
{
  TPMT_SYM_DEF sym = {.algorithm = TPM2_ALG_NULL};
  TPM2B_NONCE nonce_tpm = {.size = 0};
  TPM2B_DIGEST cp_hash = {.size = 0};
  TPM2B_NONCE policy_ref = {.size = 0};
  ESYS_TR session = ESYS_TR_NONE;
  TSS2_RC rc;
  cp_result r = CP_OK;

  rc = Esys_StartAuthSession(TPM_ESYS(t), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                             ESYS_TR_NONE, ESYS_TR_NONE, NULL, TPM2_SE_POLICY,
                             &sym, TPM2_ALG_SHA256, &session);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("StartAuthSession (EK policy)", rc);
  rc = Esys_PolicySecret(TPM_ESYS(t), ESYS_TR_RH_ENDORSEMENT, session,
                         ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &nonce_tpm,
                         &cp_hash, &policy_ref, 0, NULL, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    r = cp_posix_tpm__fail("PolicySecret(TPM_RH_ENDORSEMENT)", rc);
  } else {
    rc = Esys_ActivateCredential(TPM_ESYS(t), t->_internal.srk, t->_internal.ek,
                                 ESYS_TR_PASSWORD, session, ESYS_TR_NONE,
                                 &p->credential, &p->secret, inner_wrap_key);
    if (rc != TSS2_RC_SUCCESS) {
      cp_log(CP_LOG_ERROR, "tpm: the challenge was not made for this TPM's EK "
                           "and SRK, or was altered");
      r = cp_posix_tpm__fail("ActivateCredential", rc);
    }
  }
  Esys_FlushContext(TPM_ESYS(t), session);
  return r;
}

static cp_result import_and_load(cp_posix_tpm *t, const cp_posix_tpm_auth_key *p,
                                 const TPM2B_DIGEST *inner_wrap_key, ESYS_TR *key)
{
  TPM2B_DATA enc_key;
  TPMT_SYM_DEF_OBJECT sym = {.algorithm = TPM2_ALG_AES,
                             .keyBits = {.aes = 128},
                             .mode = {.aes = TPM2_ALG_CFB}};
  TPM2B_PRIVATE *priv = NULL;
  TSS2_RC rc;

  if (inner_wrap_key->size > sizeof enc_key.buffer) {
    cp_log(CP_LOG_ERROR, "tpm: activated credential is too long for a wrap key");
    return CP_ERR_TPM;
  }
  enc_key.size = inner_wrap_key->size;
  memcpy(enc_key.buffer, inner_wrap_key->buffer, inner_wrap_key->size);
  rc = Esys_Import(TPM_ESYS(t), t->_internal.srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                   ESYS_TR_NONE, &enc_key, &p->id_pub, &p->dup, &p->enc_wrap_key,
                   &sym, &priv);
  memset(&enc_key, 0, sizeof enc_key);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("Import of the identity key", rc);
  rc = Esys_Load(TPM_ESYS(t), t->_internal.srk, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                 ESYS_TR_NONE, priv, &p->id_pub, key);
  Esys_Free(priv);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("Load of the identity key", rc);
  return CP_OK;
}

/* Replace whatever is at CP_TPM_IDENTITY_HANDLE by the loaded @p key. */
static cp_result persist(cp_posix_tpm *t, ESYS_TR key)
{
  ESYS_TR old, stored = ESYS_TR_NONE;
  TSS2_RC rc;
  cp_result r = cp_posix_tpm__persistent(t, CP_TPM_IDENTITY_HANDLE, &old);

  if (r == CP_OK) {
    rc = Esys_EvictControl(TPM_ESYS(t), ESYS_TR_RH_OWNER, old, ESYS_TR_PASSWORD,
                           ESYS_TR_NONE, ESYS_TR_NONE, CP_TPM_IDENTITY_HANDLE,
                           &stored);
    /* ESAPI keeps the evicted object's record: drop it, or a later lookup of
     * the handle would compare against the old key's Name. */
    Esys_TR_Close(TPM_ESYS(t), &old);
    if (rc != TSS2_RC_SUCCESS)
      return cp_posix_tpm__fail("EvictControl (removing the old identity key)", rc);
  } else if (r != CP_ERR_NOT_FOUND) {
    return r;
  }
  rc = Esys_EvictControl(TPM_ESYS(t), ESYS_TR_RH_OWNER, key, ESYS_TR_PASSWORD,
                         ESYS_TR_NONE, ESYS_TR_NONE, CP_TPM_IDENTITY_HANDLE, &stored);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("EvictControl (persisting the identity key)", rc);
  Esys_TR_Close(TPM_ESYS(t), &stored);
  return CP_OK;
}

cp_result cp_posix_tpm__import_identity(void *ctx, const uint8_t *blob,
                                        size_t blob_len)
{
  cp_posix_tpm *t = ctx;
  cp_posix_tpm_auth_key parts;
  TPM2B_DIGEST *inner = NULL;
  ESYS_TR key = ESYS_TR_NONE;
  cp_result r;

  r = cp_posix_tpm__unpack_auth_key(blob, blob_len, &parts);
  if (r == CP_OK)
    r = cp_posix_tpm__ensure_keys(t);
  if (r == CP_OK)
    r = activate(t, &parts, &inner);
  if (r == CP_OK)
    r = import_and_load(t, &parts, inner, &key);
  if (inner != NULL) {
    memset(inner, 0, sizeof *inner);
    Esys_Free(inner);
  }
  if (r == CP_OK) {
    r = persist(t, key);
    Esys_FlushContext(TPM_ESYS(t), key);
  }
  if (r == CP_OK)
    cp_log(CP_LOG_INFO, "tpm: identity key imported at 0x%08x",
           (unsigned)CP_TPM_IDENTITY_HANDLE);
  memset(&parts, 0, sizeof parts);
  return r;
}
