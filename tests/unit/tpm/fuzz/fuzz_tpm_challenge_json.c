/* Fuzz target: an untrusted 401 body through the SDK's TPM challenge reader. */
#include <string.h>

#include "certpilot/cp_tpm.h"
#include "fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static char ak[CP_TPM_AUTH_KEY_B64_MAX];
  char kn[CP_TPM_KEY_NAME_MAX];

  if (cp_tpm_challenge_parse((const char *)data, size, ak, sizeof ak, kn) == CP_OK) {
    if (memchr(ak, 0, sizeof ak) == NULL || memchr(kn, 0, sizeof kn) == NULL || ak[0] == '\0')
      __builtin_trap();
  }
  return 0;
}
