/* Fuzz target: an untrusted authenticationKey (the DPS 401 challenge, decoded)
 * through the device-side unmarshaller of platform/posix. No TPM needed. */
#include "cp_posix_tpm_internal.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cp_posix_tpm_auth_key parts;

  if (cp_posix_tpm__unpack_auth_key(data, size, &parts) == CP_OK) {
    /* every size the unmarshaller accepted must fit its buffer */
    if (parts.credential.size > sizeof parts.credential.credential ||
        parts.secret.size > sizeof parts.secret.secret ||
        parts.dup.size > sizeof parts.dup.buffer ||
        parts.enc_wrap_key.size > sizeof parts.enc_wrap_key.secret ||
        parts.id_pub.publicArea.type != TPM2_ALG_KEYEDHASH)
      __builtin_trap();
  }
  return 0;
}
