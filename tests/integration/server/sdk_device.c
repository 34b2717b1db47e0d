/* Test tool: the device side of the integration tests, done with the certpilot SDK (wolfSSL).
 * No OpenSSL header in this file (see BRIEF: never both stacks in one translation unit).
 *   sdk_device key OUT.pem                     new P-384 key (PKCS#8 PEM, mode 0600)
 *   sdk_device csr KEY.pem REGID               one-line base64 DER CSR (the "csr" JSON value)
 *   sdk_device sas SCOPE REGID KEY_B64 SECONDS SAS token valid for SECONDS (may be negative)
 *   sdk_device derive GROUP_KEY_B64 REGID      group-enrollment device key
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "certpilot/cp_csr.h"
#include "certpilot/cp_key.h"
#include "certpilot/cp_sas.h"

static int fail(const char *what, cp_result r) {
  fprintf(stderr, "sdk_device: %s: %s\n", what, cp_result_str(r));
  return 1;
}

static int load_key(const char *path, cp_key *key) {
  char pem[CP_KEY_PEM_MAX * 2];
  FILE *f = fopen(path, "r");
  if (!f) return fprintf(stderr, "sdk_device: cannot read %s\n", path), 1;
  size_t n = fread(pem, 1, sizeof pem, f);
  fclose(f);
  cp_result r = cp_key_from_pem(key, pem, n);
  return r == CP_OK ? 0 : fail("key", r);
}

int main(int argc, char **argv) {
  cp_result r;
  if (argc == 3 && !strcmp(argv[1], "key")) {
    cp_key key;
    char pem[CP_KEY_PEM_MAX];
    size_t len = 0;
    if ((r = cp_key_generate_p384(&key)) != CP_OK) return fail("generate", r);
    if ((r = cp_key_to_pem(&key, CP_KEY_FORMAT_PKCS8, pem, sizeof pem, &len)) != CP_OK)
      return fail("pem", r);
    cp_key_wipe(&key);
    int fd = open(argv[2], O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || write(fd, pem, len) != (ssize_t)len || close(fd) != 0)
      return fprintf(stderr, "sdk_device: cannot write %s\n", argv[2]), 1;
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "csr")) {
    cp_key key;
    if (load_key(argv[2], &key)) return 1;
    uint8_t der[CP_CSR_DER_MAX];
    size_t der_len = 0, b64_len = 0;
    char b64[CP_CSR_DER_MAX * 2];
    if ((r = cp_csr_build(&key, argv[3], der, sizeof der, &der_len)) != CP_OK) return fail("csr", r);
    cp_key_wipe(&key);
    if ((r = cp_csr_to_base64(der, der_len, b64, sizeof b64, &b64_len)) != CP_OK) return fail("b64", r);
    printf("%s\n", b64);
    return 0;
  }
  if (argc == 6 && !strcmp(argv[1], "sas")) {
    char uri[512], tok[CP_SAS_TOKEN_MAX];
    size_t len = 0;
    snprintf(uri, sizeof uri, "%s/registrations/%s", argv[2], argv[3]);
    int64_t expiry = (int64_t)time(NULL) + strtoll(argv[5], NULL, 10);
    if ((r = cp_sas_token_build(uri, argv[4], expiry, "registration", tok, sizeof tok, &len)) != CP_OK)
      return fail("sas", r);
    printf("%s\n", tok);
    return 0;
  }
  if (argc == 4 && !strcmp(argv[1], "derive")) {
    char out[CP_SAS_KEY_B64_MAX];
    size_t len = 0;
    if ((r = cp_sas_derive_device_key(argv[2], argv[3], out, sizeof out, &len)) != CP_OK)
      return fail("derive", r);
    printf("%s\n", out);
    return 0;
  }
  fprintf(stderr, "usage: sdk_device key OUT | csr KEY REGID | sas SCOPE REGID KEY SECONDS | derive GROUPKEY REGID\n");
  return 2;
}
