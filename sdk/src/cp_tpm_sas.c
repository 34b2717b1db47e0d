/* SAS token whose signature the TPM computes with the identity key (§5 step 6). */
#include "certpilot/cp_sas.h"
#include "certpilot/cp_tpm.h"

cp_result cp_tpm_sas_token(const cp_tpm *tpm, const char *resource_uri,
                           int64_t expiry, const char *key_name, char *out,
                           size_t out_size, size_t *out_len)
{
  char sts[CP_SAS_TOKEN_MAX];
  uint8_t sig[CP_TPM_HMAC_LEN];
  size_t sts_len = 0;
  cp_result r;

  if (tpm == NULL || resource_uri == NULL || key_name == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  r = cp_sas_string_to_sign(resource_uri, expiry, sts, sizeof sts, &sts_len);
  if (r == CP_ERR_BUFFER_TOO_SMALL)
    r = CP_ERR_INVALID_ARG; /* resource URI too long to sign */
  if (r == CP_OK)
    r = cp_tpm_hmac_sha256(tpm, (const uint8_t *)sts, sts_len, sig);
  if (r == CP_OK)
    r = cp_sas_token_from_signature(resource_uri, sig, expiry, key_name, out,
                                    out_size, out_len);
  return r;
}
