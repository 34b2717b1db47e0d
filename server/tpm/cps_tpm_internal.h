/* Private to certpilot_server_tpm: TPM crypto primitives on OpenSSL. */
#ifndef CPS_TPM_INTERNAL_H
#define CPS_TPM_INTERNAL_H

#include <openssl/evp.h>
#include <tss2/tss2_tpm2_types.h>

#include "cps_tpm.h"

/** Store a printf-style message in @p err (if non-NULL) and return @p r. */
cps_tpm_result cps_tpm__fail(cps_tpm_error *err, cps_tpm_result r,
                             const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/** SP 800-108 counter-mode KDF with HMAC-SHA256, as TPM2 KDFa (label incl. NUL). */
cps_tpm_result cps_tpm__kdfa_sha256(const uint8_t *key, size_t key_len,
                                    const char *label, const uint8_t *ctx_u,
                                    size_t ctx_u_len, const uint8_t *ctx_v,
                                    size_t ctx_v_len, uint8_t *out, size_t out_len);

/** AES-128-CFB with a zero IV (TPM storage / credential encryption). */
cps_tpm_result cps_tpm__aes128_cfb_encrypt(const uint8_t key[16], const uint8_t *in,
                                           size_t len, uint8_t *out);

/** HMAC-SHA256 over the concatenation a ‖ b. */
cps_tpm_result cps_tpm__hmac_sha256(const uint8_t *key, size_t key_len,
                                    const uint8_t *a, size_t a_len,
                                    const uint8_t *b, size_t b_len, uint8_t out[32]);

/** Name of a public area: 0x000B ‖ SHA-256(TPMT_PUBLIC marshalled). */
cps_tpm_result cps_tpm__name(const TPMT_PUBLIC *pub, TPM2B_NAME *name);

/** Unmarshal and check an EK/SRK TPM2B_PUBLIC (see cps_tpm_public_check). */
cps_tpm_result cps_tpm__parse_storage_key(const uint8_t *buf, size_t len,
                                          const char *what, TPM2B_PUBLIC *pub,
                                          cps_tpm_error *err);

/** RSA-OAEP(SHA-256) encrypt @p seed to @p pub with @p label (NUL included). */
cps_tpm_result cps_tpm__oaep_seed(const TPMT_PUBLIC *pub, const char *label,
                                  const uint8_t *seed, size_t seed_len,
                                  TPM2B_ENCRYPTED_SECRET *out, cps_tpm_error *err);

/** TPM2_MakeCredential(ek, credential, objectName) in software. */
cps_tpm_result cps_tpm__make_credential(const TPMT_PUBLIC *ek,
                                        const uint8_t *credential, size_t cred_len,
                                        const TPM2B_NAME *object_name,
                                        TPM2B_ID_OBJECT *blob,
                                        TPM2B_ENCRYPTED_SECRET *secret,
                                        cps_tpm_error *err);

/**
 * A fresh HMAC-SHA256 key object duplicated to @p parent with an inner
 * wrapper under @p inner_key (AES-128-CFB) and an RSA outer wrapper.
 */
cps_tpm_result cps_tpm__duplicate_hmac_key(const TPMT_PUBLIC *parent,
                                           const uint8_t key[CPS_TPM_IDENTITY_KEY_LEN],
                                           const uint8_t inner_key[16],
                                           TPM2B_PUBLIC *obj_pub,
                                           TPM2B_PRIVATE *dup,
                                           TPM2B_ENCRYPTED_SECRET *enc_seed,
                                           cps_tpm_error *err);

#endif
