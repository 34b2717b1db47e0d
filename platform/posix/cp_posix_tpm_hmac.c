/* tpm2-tss port: HMAC-SHA256 with the persisted identity key (§5 step 6).
 * Inputs longer than the TPM's input buffer go through an HMAC sequence. */
#include "cp_posix_tpm_internal.h"

#include <string.h>

#include "certpilot/cp_log.h"

/* TPM_PT_INPUT_BUFFER, bounded by what a TPM2B_MAX_BUFFER holds. */
static cp_result input_max(cp_posix_tpm *t, size_t *out)
{
  TPMS_CAPABILITY_DATA *cap = NULL;
  uint32_t v = 0;
  TSS2_RC rc;

  if (t->_internal.input_max == 0) {
    rc = Esys_GetCapability(TPM_ESYS(t), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                            TPM2_CAP_TPM_PROPERTIES, TPM2_PT_INPUT_BUFFER, 1,
                            NULL, &cap);
    if (rc != TSS2_RC_SUCCESS)
      return cp_posix_tpm__fail("GetCapability(TPM_PT_INPUT_BUFFER)", rc);
    if (cap->data.tpmProperties.count == 1 &&
        cap->data.tpmProperties.tpmProperty[0].property == TPM2_PT_INPUT_BUFFER)
      v = cap->data.tpmProperties.tpmProperty[0].value;
    Esys_Free(cap);
    if (v == 0 || v > TPM2_MAX_DIGEST_BUFFER)
      v = TPM2_MAX_DIGEST_BUFFER;
    t->_internal.input_max = v;
  }
  *out = t->_internal.input_max;
  return CP_OK;
}

static cp_result hmac_sequence(cp_posix_tpm *t, ESYS_TR key, const uint8_t *data,
                               size_t len, size_t chunk, TPM2B_DIGEST **result)
{
  TPM2B_AUTH auth = {.size = 0};
  TPM2B_MAX_BUFFER buf;
  ESYS_TR seq = ESYS_TR_NONE;
  TSS2_RC rc;

  rc = Esys_HMAC_Start(TPM_ESYS(t), key, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                       ESYS_TR_NONE, &auth, TPM2_ALG_SHA256, &seq);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("HMAC_Start", rc);
  while (len > chunk) {
    buf.size = (UINT16)chunk;
    memcpy(buf.buffer, data, chunk);
    rc = Esys_SequenceUpdate(TPM_ESYS(t), seq, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &buf);
    if (rc != TSS2_RC_SUCCESS) {
      Esys_FlushContext(TPM_ESYS(t), seq);
      return cp_posix_tpm__fail("SequenceUpdate", rc);
    }
    data += chunk;
    len -= chunk;
  }
  buf.size = (UINT16)len;
  if (len > 0)
    memcpy(buf.buffer, data, len);
  rc = Esys_SequenceComplete(TPM_ESYS(t), seq, ESYS_TR_PASSWORD, ESYS_TR_NONE,
                             ESYS_TR_NONE, &buf, ESYS_TR_RH_NULL, result, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    Esys_FlushContext(TPM_ESYS(t), seq);
    return cp_posix_tpm__fail("SequenceComplete", rc);
  }
  return CP_OK;
}

cp_result cp_posix_tpm__hmac_sha256(void *ctx, const uint8_t *data,
                                    size_t data_len, uint8_t out[CP_TPM_HMAC_LEN])
{
  cp_posix_tpm *t = ctx;
  TPM2B_DIGEST *result = NULL;
  TPM2B_MAX_BUFFER buf;
  ESYS_TR key;
  size_t max = TPM2_MAX_DIGEST_BUFFER;
  cp_result r;
  TSS2_RC rc;

  r = cp_posix_tpm__persistent(t, CP_TPM_IDENTITY_HANDLE, &key);
  if (r == CP_ERR_NOT_FOUND) {
    cp_log(CP_LOG_ERROR, "tpm: no identity key at 0x%08x (not provisioned yet)",
           (unsigned)CP_TPM_IDENTITY_HANDLE);
    return r;
  }
  if (r != CP_OK)
    return r;
  r = input_max(t, &max);
  if (r == CP_OK && data_len <= max) {
    buf.size = (UINT16)data_len;
    if (data_len > 0)
      memcpy(buf.buffer, data, data_len);
    rc = Esys_HMAC(TPM_ESYS(t), key, ESYS_TR_PASSWORD, ESYS_TR_NONE, ESYS_TR_NONE,
                   &buf, TPM2_ALG_SHA256, &result);
    if (rc != TSS2_RC_SUCCESS)
      r = cp_posix_tpm__fail("HMAC with the identity key", rc);
  } else if (r == CP_OK) {
    r = hmac_sequence(t, key, data, data_len, max, &result);
  }
  Esys_TR_Close(TPM_ESYS(t), &key);
  if (r == CP_OK && result->size != CP_TPM_HMAC_LEN) {
    cp_log(CP_LOG_ERROR, "tpm: HMAC result is %u bytes, want 32 (not SHA-256 key?)",
           (unsigned)result->size);
    r = CP_ERR_TPM;
  }
  if (r == CP_OK)
    memcpy(out, result->buffer, CP_TPM_HMAC_LEN);
  Esys_Free(result);
  return r;
}
