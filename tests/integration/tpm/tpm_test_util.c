/* Helpers shared by the TPM integration tests (see tpm_test_util.h). */
#include "tpm_test_util.h"

#include <string.h>
#include <tss2/tss2_esys.h>

int tpm_test_persist_known_hmac_key(cp_posix_tpm *t, const uint8_t *key,
                                    size_t key_len)
{
  ESYS_CONTEXT *esys = t->_internal.esys;
  TPM2B_SENSITIVE_CREATE sens;
  TPM2B_PUBLIC tmpl;
  TPM2B_DATA outside = {.size = 0};
  TPML_PCR_SELECTION pcrs = {.count = 0};
  TPM2B_PRIVATE *priv = NULL;
  TPM2B_PUBLIC *pub = NULL;
  ESYS_TR srk, obj, old, stored;
  int ret = -1;

  if (key_len > sizeof sens.sensitive.data.buffer)
    return -1;
  if (Esys_TR_FromTPMPublic(esys, CP_TPM_SRK_HANDLE, ESYS_TR_NONE, ESYS_TR_NONE,
                            ESYS_TR_NONE, &srk) != TSS2_RC_SUCCESS)
    return -1;
  memset(&sens, 0, sizeof sens);
  sens.sensitive.data.size = (UINT16)key_len;
  memcpy(sens.sensitive.data.buffer, key, key_len);
  memset(&tmpl, 0, sizeof tmpl);
  tmpl.publicArea.type = TPM2_ALG_KEYEDHASH;
  tmpl.publicArea.nameAlg = TPM2_ALG_SHA256;
  tmpl.publicArea.objectAttributes =
      TPMA_OBJECT_USERWITHAUTH | TPMA_OBJECT_NODA | TPMA_OBJECT_SIGN_ENCRYPT;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.scheme = TPM2_ALG_HMAC;
  tmpl.publicArea.parameters.keyedHashDetail.scheme.details.hmac.hashAlg =
      TPM2_ALG_SHA256;
  if (Esys_Create(esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, &sens,
                  &tmpl, &outside, &pcrs, &priv, &pub, NULL, NULL,
                  NULL) != TSS2_RC_SUCCESS)
    goto out;
  if (Esys_Load(esys, srk, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE, priv, pub,
                &obj) != TSS2_RC_SUCCESS)
    goto out;
  if (tpm_test_handle_present(t, CP_TPM_IDENTITY_HANDLE) == 1 &&
      Esys_TR_FromTPMPublic(esys, CP_TPM_IDENTITY_HANDLE, ESYS_TR_NONE,
                            ESYS_TR_NONE, ESYS_TR_NONE, &old) == TSS2_RC_SUCCESS)
    Esys_EvictControl(esys, ESYS_TR_RH_OWNER, old, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                      ESYS_TR_NONE, CP_TPM_IDENTITY_HANDLE, &stored);
  if (Esys_EvictControl(esys, ESYS_TR_RH_OWNER, obj, ESYS_TR_PASSWORD,
                        ESYS_TR_NONE, ESYS_TR_NONE, CP_TPM_IDENTITY_HANDLE,
                        &stored) == TSS2_RC_SUCCESS)
    ret = 0;
  Esys_FlushContext(esys, obj);
out:
  Esys_Free(priv);
  Esys_Free(pub);
  Esys_TR_Close(esys, &srk);
  return ret;
}

int tpm_test_handle_present(cp_posix_tpm *t, uint32_t handle)
{
  TPMS_CAPABILITY_DATA *cap = NULL;
  int found = 0;

  if (Esys_GetCapability(t->_internal.esys, ESYS_TR_NONE, ESYS_TR_NONE,
                         ESYS_TR_NONE, TPM2_CAP_HANDLES, 0x81000000u /* persistent handles; the tss2 macro shifts a signed int */,
                         TPM2_MAX_CAP_HANDLES, NULL, &cap) != TSS2_RC_SUCCESS)
    return -1;
  for (UINT32 i = 0; i < cap->data.handles.count; i++)
    if (cap->data.handles.handle[i] == handle)
      found = 1;
  Esys_Free(cap);
  return found;
}
