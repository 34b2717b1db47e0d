/* Private to the tpm2-tss port: shared by cp_posix_tpm*.c. */
#ifndef CP_POSIX_TPM_INTERNAL_H
#define CP_POSIX_TPM_INTERNAL_H

#include <tss2/tss2_esys.h>

#include "certpilot/cp_posix_tpm.h"

/** The parts of the authenticationKey blob (§5 step 4), in wire order. */
typedef struct cp_posix_tpm_auth_key {
  TPM2B_ID_OBJECT credential;
  TPM2B_ENCRYPTED_SECRET secret;
  TPM2B_PRIVATE dup;
  TPM2B_ENCRYPTED_SECRET enc_wrap_key;
  TPM2B_PUBLIC id_pub;
} cp_posix_tpm_auth_key;

/**
 * Unmarshal an authenticationKey: the five parts, then optionally a UINT16
 * length and exactly that many trailing bytes. Needs no TPM.
 * @return CP_OK; CP_ERR_PARSE (malformed, an empty part, or an identity key
 *         that is not KEYEDHASH; the log names the part and byte offset).
 */
cp_result cp_posix_tpm__unpack_auth_key(const uint8_t *blob, size_t len,
                                        cp_posix_tpm_auth_key *out);

/** The ESAPI context of an open port. */
#define TPM_ESYS(t) ((ESYS_CONTEXT *)(t)->_internal.esys)

/** Log "tpm: <what>: <decoded rc>" and return CP_ERR_TPM. */
cp_result cp_posix_tpm__fail(const char *what, TSS2_RC rc);

/** True when @p rc says the handle does not exist (TPM_RC_HANDLE). */
int cp_posix_tpm__rc_is_handle(TSS2_RC rc);

/**
 * Resolve a persistent handle to an ESYS_TR. CP_ERR_NOT_FOUND when nothing is
 * persisted there (nothing logged), CP_ERR_TPM on other failures.
 */
cp_result cp_posix_tpm__persistent(cp_posix_tpm *t, TPM2_HANDLE handle,
                                   ESYS_TR *out);

/** Make sure EK and SRK exist (creating + persisting them); cache their TRs. */
cp_result cp_posix_tpm__ensure_keys(cp_posix_tpm *t);

/* cp_tpm_ops entries */
cp_result cp_posix_tpm__get_public(void *ctx, cp_tpm_key which, uint8_t *out,
                                   size_t out_size, size_t *out_len);
cp_result cp_posix_tpm__import_identity(void *ctx, const uint8_t *blob,
                                        size_t blob_len);
cp_result cp_posix_tpm__hmac_sha256(void *ctx, const uint8_t *data,
                                    size_t data_len, uint8_t out[CP_TPM_HMAC_LEN]);

#endif
