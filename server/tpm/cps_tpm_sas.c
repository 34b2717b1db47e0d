/* Verify a SAS signature made by the device's TPM with the identity key. */
#include "cps_tpm_internal.h"

#include <openssl/crypto.h>

cps_tpm_result cps_tpm_sas_verify(const uint8_t *key, size_t key_len,
                                  const char *string_to_sign, size_t sts_len,
                                  const uint8_t *sig, size_t sig_len,
                                  cps_tpm_error *err)
{
  uint8_t mac[32];
  cps_tpm_result r;

  if (err != NULL)
    err->msg[0] = '\0';
  if (key == NULL || key_len == 0 || (string_to_sign == NULL && sts_len > 0))
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID, "tpm: no identity key");
  if (sig == NULL || sig_len != sizeof mac)
    return cps_tpm__fail(err, CPS_TPM_ERR_UNAUTHORIZED,
                         "tpm: signature is %zu bytes, want 32", sig_len);
  r = cps_tpm__hmac_sha256(key, key_len, (const uint8_t *)string_to_sign, sts_len,
                           NULL, 0, mac);
  if (r != CPS_TPM_OK)
    return cps_tpm__fail(err, r, "tpm: HMAC failed");
  r = CRYPTO_memcmp(mac, sig, sizeof mac) == 0 ? CPS_TPM_OK : CPS_TPM_ERR_UNAUTHORIZED;
  OPENSSL_cleanse(mac, sizeof mac);
  if (r != CPS_TPM_OK)
    return cps_tpm__fail(err, r, "tpm: SAS signature does not match the identity key");
  return CPS_TPM_OK;
}
