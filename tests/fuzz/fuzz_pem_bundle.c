/* Fuzz target: an untrusted PEM bundle split into DERs and verified against
 * its own last element; the same bytes as a base64 chain array (one element
 * per line) converted to a PEM bundle. */
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_x509.h"
#include "fuzz.h"

#define MAX_INPUT 65536

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  static uint8_t store[CP_CHAIN_MAX * CP_CERT_DER_MAX];
  static char lines[MAX_INPUT + 1];
  static char out[CP_CHAIN_MAX * CP_CERT_DER_MAX * 2];
  cp_der chain[CP_CHAIN_MAX];
  const char *elems[CP_CHAIN_MAX];
  size_t n = CP_CHAIN_MAX, k = 0, len, idx, i;

  if (size > MAX_INPUT)
    return 0;
  if (cp_pem_bundle_split((const char *)data, size, store, sizeof store, chain, &n) == CP_OK) {
    if (n == 0 || n > CP_CHAIN_MAX)
      __builtin_trap();
    (void)cp_chain_verify(chain, n, chain[n - 1], 1700000000, &idx);
  }
  memcpy(lines, data, size);
  lines[size] = '\0';
  elems[k++] = lines;
  for (i = 0; i < size && k < CP_CHAIN_MAX; i++) {
    if (lines[i] == '\n') {
      lines[i] = '\0';
      elems[k++] = lines + i + 1;
    }
  }
  if (cp_chain_b64_to_pem(elems, k, out, sizeof out, &len, &idx) == CP_OK &&
      (len >= sizeof out || out[len] != '\0'))
    __builtin_trap();
  return 0;
}
