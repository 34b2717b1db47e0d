/* Helpers shared by the TPM integration tests (not part of any library). */
#ifndef CP_TPM_TEST_UTIL_H
#define CP_TPM_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

#include "certpilot/cp_posix_tpm.h"

/**
 * Persist an HMAC-SHA256 key with the known secret @p key at
 * CP_TPM_IDENTITY_HANDLE, created under the SRK with TPM2_Create (no
 * duplication involved). Returns 0 or -1.
 */
int tpm_test_persist_known_hmac_key(cp_posix_tpm *t, const uint8_t *key,
                                    size_t key_len);

/** 1 when @p handle is listed by GetCapability(HANDLES), 0 when not, -1 on error. */
int tpm_test_handle_present(cp_posix_tpm *t, uint32_t handle);

#endif
