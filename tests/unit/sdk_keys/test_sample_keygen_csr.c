/* Runs the keygen_csr sample and checks its files and output with openssl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "test_util.h"

#ifndef KEYGEN_CSR_PATH
#error "KEYGEN_CSR_PATH must name the keygen_csr binary"
#endif

static char out[16384];

static int mode_of(const char *path)
{
  struct stat st;
  return stat(path, &st) == 0 ? (int)(st.st_mode & 0777) : -1;
}

static void test_keygen_csr_valid_id_writes_key_0600_and_verifiable_csr(void **state)
{
  char text[8192], pub_csr[1024], pub_key[1024], b64[2048], *line;

  (void)state;
  assert_int_equal(tu_capture(out, sizeof out, "'%s' --registration-id dev-sample-7 --out-dir '%s' 2>&1",
                              KEYGEN_CSR_PATH, tu_path("")),
                   0);
  assert_non_null(strstr(out, "result: OK"));
  assert_null(strstr(out, "PRIVATE KEY")); /* the private key is never printed */
  assert_int_equal(mode_of(tu_path("dev-sample-7.key.pem")), 0600);
  assert_int_equal(tu_capture(text, sizeof text, "openssl req -in '%s' -verify -noout -text 2>&1",
                              tu_path("dev-sample-7.csr.pem")),
                   0);
  assert_non_null(strstr(text, "verify OK"));
  assert_non_null(strstr(text, "Subject: CN = dev-sample-7\n"));
  assert_non_null(strstr(text, "NIST CURVE: P-384"));
  assert_non_null(strstr(text, "ecdsa-with-SHA384"));
  /* the key file is the CSR's key, according to openssl */
  assert_int_equal(tu_capture(pub_csr, sizeof pub_csr, "openssl req -in '%s' -pubkey -noout",
                              tu_path("dev-sample-7.csr.pem")),
                   0);
  assert_int_equal(tu_capture(pub_key, sizeof pub_key, "openssl pkey -in '%s' -pubout",
                              tu_path("dev-sample-7.key.pem")),
                   0);
  assert_string_equal(pub_csr, pub_key);
  assert_non_null(strstr(out, pub_key)); /* and the printed public key is it too */
  /* the printed one-line base64 is the CSR DER */
  assert_int_equal(tu_capture(b64, sizeof b64, "openssl req -in '%s' -outform DER | openssl base64 -A",
                              tu_path("dev-sample-7.csr.pem")),
                   0);
  line = strstr(out, "(DPS \"csr\" field):\n");
  assert_non_null(line);
  line += strlen("(DPS \"csr\" field):\n");
  assert_true(strncmp(line, b64, strlen(b64)) == 0 && line[strlen(b64)] == '\n');
}

static void test_keygen_csr_existing_key_file_mode_reset_to_0600(void **state)
{
  (void)state;
  assert_int_equal(tu_write(tu_path("dev-old.key.pem"), "old", 3), 0);
  assert_int_equal(chmod(tu_path("dev-old.key.pem"), 0644), 0);
  assert_int_equal(tu_capture(out, sizeof out, "'%s' --registration-id dev-old --out-dir '%s' 2>&1",
                              KEYGEN_CSR_PATH, tu_path("")),
                   0);
  assert_int_equal(mode_of(tu_path("dev-old.key.pem")), 0600);
  assert_int_equal(tu_run("openssl pkey -in '%s' -noout", tu_path("dev-old.key.pem")), 0);
}

static void test_keygen_csr_bad_id_fails_without_files(void **state)
{
  (void)state;
  assert_int_equal(tu_capture(out, sizeof out, "'%s' --registration-id 'bad.' --out-dir '%s' 2>&1",
                              KEYGEN_CSR_PATH, tu_path("")),
                   1);
  assert_non_null(strstr(out, "registration id"));
  assert_int_equal(mode_of(tu_path("bad..key.pem")), -1);
  assert_int_equal(mode_of(tu_path("bad..csr.pem")), -1);
}

static void test_keygen_csr_missing_id_usage_exit_2(void **state)
{
  (void)state;
  assert_int_equal(tu_capture(out, sizeof out, "'%s' 2>&1", KEYGEN_CSR_PATH), 2);
  assert_non_null(strstr(out, "usage:"));
  assert_int_equal(tu_capture(out, sizeof out, "'%s' --bogus 2>&1", KEYGEN_CSR_PATH), 2);
}

static void test_keygen_csr_missing_out_dir_fails(void **state)
{
  (void)state;
  assert_int_equal(tu_capture(out, sizeof out, "'%s' --registration-id dev-x --out-dir '%s' 2>&1",
                              KEYGEN_CSR_PATH, tu_path("no/such/dir")),
                   1);
  assert_non_null(strstr(out, "cannot create"));
}

static int setup(void **state)
{
  (void)state;
  tu_tmpdir();
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  tu_tmpdir_remove();
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_keygen_csr_valid_id_writes_key_0600_and_verifiable_csr),
      cmocka_unit_test(test_keygen_csr_existing_key_file_mode_reset_to_0600),
      cmocka_unit_test(test_keygen_csr_bad_id_fails_without_files),
      cmocka_unit_test(test_keygen_csr_missing_id_usage_exit_2),
      cmocka_unit_test(test_keygen_csr_missing_out_dir_fails),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
