/* TPM2_MakeCredential in software (TPM 2.0 Part 1, "Credential Protection"). */
#include "cps_tpm_internal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <string.h>

cps_tpm_result cps_tpm__make_credential(const TPMT_PUBLIC *ek,
                                        const uint8_t *credential, size_t cred_len,
                                        const TPM2B_NAME *object_name,
                                        TPM2B_ID_OBJECT *blob,
                                        TPM2B_ENCRYPTED_SECRET *secret,
                                        cps_tpm_error *err)
{
  uint8_t seed[32], sym_key[16], hmac_key[32], plain[2 + 64], mac[32];
  size_t plain_len = 2 + cred_len;
  uint8_t *p = blob->credential;
  cps_tpm_result r;

  if (cred_len > 64)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID, "tpm: credential too long");
  if (RAND_bytes(seed, sizeof seed) != 1)
    return cps_tpm__fail(err, CPS_TPM_ERR_CRYPTO, "tpm: no randomness");
  r = cps_tpm__oaep_seed(ek, "IDENTITY", seed, sizeof seed, secret, err);
  /* symKey = KDFa(seed, "STORAGE", Name, -, 128); HMACkey = KDFa(seed, "INTEGRITY", -, -, 256) */
  if (r == CPS_TPM_OK)
    r = cps_tpm__kdfa_sha256(seed, sizeof seed, "STORAGE", object_name->name,
                             object_name->size, NULL, 0, sym_key, sizeof sym_key);
  if (r == CPS_TPM_OK)
    r = cps_tpm__kdfa_sha256(seed, sizeof seed, "INTEGRITY", NULL, 0, NULL, 0,
                             hmac_key, sizeof hmac_key);
  if (r == CPS_TPM_OK) {
    /* encIdentity = CFB(TPM2B_DIGEST credential) */
    plain[0] = (uint8_t)(cred_len >> 8);
    plain[1] = (uint8_t)cred_len;
    memcpy(plain + 2, credential, cred_len);
    r = cps_tpm__aes128_cfb_encrypt(sym_key, plain, plain_len, p + 2 + sizeof mac);
  }
  /* integrityHMAC = HMAC(HMACkey, encIdentity ‖ Name) */
  if (r == CPS_TPM_OK)
    r = cps_tpm__hmac_sha256(hmac_key, sizeof hmac_key, p + 2 + sizeof mac,
                             plain_len, object_name->name, object_name->size, mac);
  if (r == CPS_TPM_OK) {
    p[0] = 0;
    p[1] = (uint8_t)sizeof mac;
    memcpy(p + 2, mac, sizeof mac);
    blob->size = (UINT16)(2 + sizeof mac + plain_len);
  } else if (err != NULL && err->msg[0] == '\0') {
    cps_tpm__fail(err, r, "tpm: MakeCredential failed");
  }
  OPENSSL_cleanse(seed, sizeof seed);
  OPENSSL_cleanse(sym_key, sizeof sym_key);
  OPENSSL_cleanse(hmac_key, sizeof hmac_key);
  OPENSSL_cleanse(plain, sizeof plain);
  return r;
}
