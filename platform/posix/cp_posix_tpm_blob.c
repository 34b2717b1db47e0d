/* tpm2-tss port: unmarshal the DPS authenticationKey (protocol.md §5 step 4).
 * Untrusted input: fuzzed by tests/unit/tpm/fuzz_tpm_auth_key.c. */
#include <string.h>
#include <tss2/tss2_mu.h>

#include "certpilot/cp_log.h"
#include "cp_posix_tpm_internal.h"

cp_result cp_posix_tpm__unpack_auth_key(const uint8_t *blob, size_t len,
                                        cp_posix_tpm_auth_key *p)
{
  size_t off = 0;
  UINT16 tail = 0;
  const char *what;
  TSS2_RC rc;

  memset(p, 0, sizeof *p);
  what = "credentialBlob (TPM2B_ID_OBJECT)";
  rc = Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(blob, len, &off, &p->credential);
  if (rc == TSS2_RC_SUCCESS) {
    what = "secret (TPM2B_ENCRYPTED_SECRET)";
    rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(blob, len, &off, &p->secret);
  }
  if (rc == TSS2_RC_SUCCESS) {
    what = "dupBlob (TPM2B_PRIVATE)";
    rc = Tss2_MU_TPM2B_PRIVATE_Unmarshal(blob, len, &off, &p->dup);
  }
  if (rc == TSS2_RC_SUCCESS) {
    what = "encWrapKey (TPM2B_ENCRYPTED_SECRET)";
    rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(blob, len, &off,
                                                  &p->enc_wrap_key);
  }
  if (rc == TSS2_RC_SUCCESS) {
    what = "idKeyPub (TPM2B_PUBLIC)";
    rc = Tss2_MU_TPM2B_PUBLIC_Unmarshal(blob, len, &off, &p->id_pub);
  }
  if (rc == TSS2_RC_SUCCESS && off < len) {
    /* trailing UINT16-sized encrypted data: unused, but must fit exactly */
    what = "trailing encrypted data";
    rc = Tss2_MU_UINT16_Unmarshal(blob, len, &off, &tail);
    if (rc == TSS2_RC_SUCCESS && (size_t)tail != len - off)
      rc = TSS2_MU_RC_BAD_SIZE;
  }
  if (rc != TSS2_RC_SUCCESS) {
    cp_log(CP_LOG_ERROR, "tpm: authenticationKey malformed at byte %zu: bad %s",
           off, what);
    return CP_ERR_PARSE;
  }
  if (p->credential.size == 0 || p->secret.size == 0 || p->dup.size == 0 ||
      p->enc_wrap_key.size == 0) {
    cp_log(CP_LOG_ERROR, "tpm: authenticationKey has an empty part");
    return CP_ERR_PARSE;
  }
  if (p->id_pub.publicArea.type != TPM2_ALG_KEYEDHASH) {
    cp_log(CP_LOG_ERROR, "tpm: identity key in authenticationKey is not an HMAC key");
    return CP_ERR_PARSE;
  }
  return CP_OK;
}

