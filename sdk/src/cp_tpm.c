/* Argument checks in front of a TPM port's function table (cp_tpm.h). */
#include "certpilot/cp_tpm.h"

#include "certpilot/cp_log.h"

static int tpm_is_complete(const cp_tpm *tpm)
{
  return tpm != NULL && tpm->ops != NULL && tpm->ops->get_public != NULL &&
         tpm->ops->import_identity != NULL && tpm->ops->hmac_sha256 != NULL;
}

cp_result cp_tpm_get_public(const cp_tpm *tpm, cp_tpm_key which, uint8_t *out,
                            size_t out_size, size_t *out_len)
{
  if (!tpm_is_complete(tpm) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (which != CP_TPM_KEY_EK && which != CP_TPM_KEY_SRK)
    return CP_ERR_INVALID_ARG;
  return tpm->ops->get_public(tpm->ctx, which, out, out_size, out_len);
}

cp_result cp_tpm_import_identity(const cp_tpm *tpm, const uint8_t *blob,
                                 size_t blob_len)
{
  if (!tpm_is_complete(tpm) || blob == NULL)
    return CP_ERR_INVALID_ARG;
  if (blob_len == 0 || blob_len > CP_TPM_AUTH_KEY_MAX) {
    cp_log(CP_LOG_ERROR, "tpm: authenticationKey is %zu bytes (want 1..%d)",
           blob_len, CP_TPM_AUTH_KEY_MAX);
    return CP_ERR_INVALID_ARG;
  }
  return tpm->ops->import_identity(tpm->ctx, blob, blob_len);
}

cp_result cp_tpm_hmac_sha256(const cp_tpm *tpm, const uint8_t *data,
                             size_t data_len, uint8_t out[CP_TPM_HMAC_LEN])
{
  if (!tpm_is_complete(tpm) || out == NULL || (data == NULL && data_len > 0))
    return CP_ERR_INVALID_ARG;
  return tpm->ops->hmac_sha256(tpm->ctx, data, data_len, out);
}
