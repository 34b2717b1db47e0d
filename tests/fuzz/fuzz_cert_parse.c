/* Fuzz target: one untrusted certificate (PEM or DER) through the parser,
 * the chain verifier (as its own anchor, and against a fixed seed anchor)
 * and the key matcher. */
#include <string.h>

#include "certpilot/cp_x509.h"
#include "fuzz.h"

#include "fuzz_key.inc"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cp_cert_info info;
  static cp_key key;
  static int have_key;
  cp_der one = {data, size};
  size_t idx;

  if (cp_cert_parse(data, size, &info) == CP_OK) {
    /* the strings the parser produced must be terminated within their fields */
    if (memchr(info.subject, 0, sizeof info.subject) == NULL ||
        memchr(info.issuer, 0, sizeof info.issuer) == NULL ||
        info.public_key_der_len > sizeof info.public_key_der)
      __builtin_trap();
  }
  (void)cp_chain_verify(&one, 1, one, 0, &idx);
  /* the same bytes as leaf and as issuer: exercises name, CA and signature checks */
  {
    cp_der two[2] = {one, one};
    (void)cp_chain_verify(two, 2, one, 1700000000, &idx);
  }
  if (!have_key) {
    if (cp_key_from_der(&key, fuzz_key_der, sizeof fuzz_key_der) != CP_OK)
      __builtin_trap();
    have_key = 1;
  }
  (void)cp_cert_matches_key(data, size, &key);
  return 0;
}
