/* Fuzz target: untrusted `tpm.endorsementKey` / `tpm.storageRootKey` bytes
 * through the server's checks and challenge builder (server/tpm). */
#include <string.h>

#include "cps_tpm.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  char id[CPS_TPM_EK_ID_LEN];
  cps_tpm_error err;
  cps_tpm_challenge ch;
  size_t half = size / 2;

  if (cps_tpm_public_check(data, size, id, &err) == CPS_TPM_OK && strlen(id) != 64)
    __builtin_trap();
  if (memchr(err.msg, 0, sizeof err.msg) == NULL)
    __builtin_trap();
  /* the input as EK ‖ SRK (two halves) */
  if (cps_tpm_challenge_build(data, half, data + half, size - half, &ch, &err) == CPS_TPM_OK) {
    if (ch.blob == NULL || ch.blob_b64 == NULL || ch.blob_len == 0)
      __builtin_trap();
    cps_tpm_challenge_free(&ch);
  } else if (ch.blob != NULL) {
    __builtin_trap(); /* outputs must be empty on failure */
  }
  return 0;
}
