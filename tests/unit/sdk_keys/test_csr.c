/* Unit tests for cp_csr.h: registration ids and PKCS#10 CSRs, checked with openssl. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certpilot/cp_csr.h"
#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "test_util.h"

/* CSRs made by openssl for cp_csr_check() interop (see setup()). */
static const char *const openssl_csrs[] = {
    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -keyout p384.key "
    "-subj /CN=dev-ossl-1 -sha384 -outform DER -out p384-sha384.csr",
    "openssl req -new -key p384.key -subj /CN=dev-ossl-1 -sha256 -outform DER "
    "-out p384-sha256.csr",
    "openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout p256.key "
    "-subj /CN=dev-ossl-1 -sha384 -outform DER -out p256.csr",
    "openssl req -new -newkey rsa:2048 -nodes -keyout rsa.key -subj /CN=dev-ossl-1 "
    "-sha384 -outform DER -out rsa.csr",
    "openssl req -new -key p384.key -subj '/CN=dev ossl 1' -sha384 -outform DER "
    "-out p384-badcn.csr",
    "openssl req -new -key p384.key -subj /O=NoCommonName -sha384 -outform DER "
    "-out p384-nocn.csr",
};

static cp_key key;

static const char *id_of_len(size_t n)
{
  static char id[CP_REGISTRATION_ID_MAX + 8];
  size_t i;

  for (i = 0; i < n; i++)
    id[i] = "abcdefghijklmnopqrstuvwxyz0123456789"[i % 36];
  id[n] = '\0';
  return id;
}

static size_t build(const char *id, uint8_t der[CP_CSR_DER_MAX])
{
  size_t len = 0;

  assert_int_equal(cp_csr_build(&key, id, der, CP_CSR_DER_MAX, &len), CP_OK);
  assert_true(len > 0 && len <= CP_CSR_DER_MAX);
  return len;
}

/* Write @p der as PEM via the SDK and return openssl's text dump of it. */
static int openssl_req_text(const uint8_t *der, size_t len, char *text, size_t text_size)
{
  char pem[2048];
  size_t pem_len;

  assert_int_equal(cp_csr_to_pem(der, len, pem, sizeof pem, &pem_len), CP_OK);
  assert_int_equal(tu_write(tu_path("csr.pem"), pem, pem_len), 0);
  return tu_capture(text, text_size, "openssl req -in '%s' -verify -noout -text 2>&1",
                    tu_path("csr.pem"));
}

static void test_cp_registration_id_validate_good_ids_ok(void **state)
{
  static const char *const good[] = {"a", "Z", "0", "dev-1", "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6",
                                     "a.b_c:d-", "A:B.C_D-9", "device-"};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof good / sizeof good[0]; i++)
    assert_int_equal(cp_registration_id_validate(good[i]), CP_OK);
  assert_int_equal(cp_registration_id_validate(id_of_len(CP_REGISTRATION_ID_MAX)), CP_OK);
}

static void test_cp_registration_id_validate_bad_ids_rejected(void **state)
{
  static const char *const bad[] = {"", "dev 1", "dev/1", "dev#1", "dev\xc3\xa9", "dev+1",
                                    "dev.", "dev_", "dev:", "dev\t1", "dev%2f1", "dev=1"};
  size_t i;

  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tu_log_capture();
    assert_int_equal(cp_registration_id_validate(bad[i]), CP_ERR_BAD_REGISTRATION_ID);
    assert_true(strlen(tu_last_log()) > 0);
  }
  assert_int_equal(cp_registration_id_validate(NULL), CP_ERR_INVALID_ARG);
}

static void test_cp_registration_id_validate_oversize_rejected(void **state)
{
  (void)state;
  tu_log_capture();
  assert_int_equal(cp_registration_id_validate(id_of_len(CP_REGISTRATION_ID_MAX + 1)),
                   CP_ERR_BAD_REGISTRATION_ID);
  assert_non_null(strstr(tu_last_log(), "128"));
  assert_int_equal(cp_registration_id_validate(id_of_len(CP_REGISTRATION_ID_MAX + 7)),
                   CP_ERR_BAD_REGISTRATION_ID);
}

static void test_cp_csr_build_openssl_verifies_p384_sha384_ku_eku(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  char text[8192];
  size_t len;

  (void)state;
  len = build("dev-1", der);
  assert_int_equal(openssl_req_text(der, len, text, sizeof text), 0);
  assert_non_null(strstr(text, "verify OK"));
  assert_non_null(strstr(text, "Version: 1 (0x0)"));
  assert_non_null(strstr(text, "Subject: CN = dev-1\n"));
  assert_non_null(strstr(text, "NIST CURVE: P-384"));
  assert_non_null(strstr(text, "Signature Algorithm: ecdsa-with-SHA384"));
  assert_non_null(strstr(text, "X509v3 Key Usage: critical\n                    Digital Signature\n"));
  assert_non_null(strstr(text, "X509v3 Extended Key Usage: \n                    TLS Web Client Authentication\n"));
}

static void test_cp_csr_build_128_char_id_openssl_subject_matches(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  char text[8192], want[200];
  const char *id = id_of_len(CP_REGISTRATION_ID_MAX);
  size_t len;

  (void)state;
  len = build(id, der);
  assert_int_equal(openssl_req_text(der, len, text, sizeof text), 0);
  assert_non_null(strstr(text, "verify OK"));
  snprintf(want, sizeof want, "Subject: CN = %s\n", id);
  assert_non_null(strstr(text, want));
  /* the ids around the DER long-form length boundary (CN of 127/128 bytes) */
  len = build(id_of_len(127), der);
  assert_int_equal(openssl_req_text(der, len, text, sizeof text), 0);
  assert_non_null(strstr(text, "verify OK"));
  len = build("x", der);
  assert_int_equal(openssl_req_text(der, len, text, sizeof text), 0);
  assert_non_null(strstr(text, "Subject: CN = x\n"));
}

static void test_cp_csr_build_public_key_is_the_keys(void **state)
{
  uint8_t der[CP_CSR_DER_MAX], pub[CP_PUBKEY_DER_MAX], *theirs;
  size_t len, pub_len, theirs_len;

  (void)state;
  len = build("dev-1", der);
  assert_int_equal(tu_write(tu_path("k.csr"), der, len), 0);
  assert_int_equal(tu_run("openssl req -inform DER -in '%s' -pubkey -noout "
                          "| openssl pkey -pubin -outform DER -out '%s'",
                          tu_path("k.csr"), tu_path("k.pub")),
                   0);
  theirs = tu_read(tu_path("k.pub"), &theirs_len);
  assert_non_null(theirs);
  assert_int_equal(cp_key_public_der(&key, pub, sizeof pub, &pub_len), CP_OK);
  assert_int_equal(theirs_len, pub_len);
  assert_memory_equal(theirs, pub, pub_len);
  free(theirs);
}

static void test_cp_csr_build_bad_registration_id_rejected_untouched(void **state)
{
  static const char *const bad[] = {"", "dev 1", "dev.", "dev/1"};
  uint8_t der[CP_CSR_DER_MAX], poison[CP_CSR_DER_MAX];
  size_t i, len = 12345;

  (void)state;
  memset(poison, 0x77, sizeof poison);
  memset(der, 0x77, sizeof der);
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(cp_csr_build(&key, bad[i], der, sizeof der, &len),
                     CP_ERR_BAD_REGISTRATION_ID);
  assert_int_equal(cp_csr_build(&key, id_of_len(CP_REGISTRATION_ID_MAX + 1), der,
                                sizeof der, &len),
                   CP_ERR_BAD_REGISTRATION_ID);
  assert_int_equal(cp_csr_build(&key, NULL, der, sizeof der, &len), CP_ERR_INVALID_ARG);
  assert_memory_equal(der, poison, sizeof der);
  assert_int_equal(len, 12345);
}

static void test_cp_csr_build_empty_key_invalid_arg(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  cp_key empty;
  size_t len;

  (void)state;
  memset(&empty, 0, sizeof empty);
  assert_int_equal(cp_csr_build(&empty, "dev-1", der, sizeof der, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_csr_build(NULL, "dev-1", der, sizeof der, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_csr_build(&key, "dev-1", der, sizeof der, NULL), CP_ERR_INVALID_ARG);
}

static void test_cp_csr_build_small_buffer_reports_size_untouched(void **state)
{
  uint8_t der[CP_CSR_DER_MAX], poison[CP_CSR_DER_MAX];
  size_t need = 0, len = 0, i;

  (void)state;
  memset(poison, 0x42, sizeof poison);
  memset(der, 0x42, sizeof der);
  assert_int_equal(cp_csr_build(&key, "dev-1", der, 64, &need), CP_ERR_BUFFER_TOO_SMALL);
  assert_memory_equal(der, poison, sizeof der);
  assert_true(need > 64 && need <= CP_CSR_DER_MAX);
  /* ECDSA signatures vary in length; the reported size must fit every time. */
  for (i = 0; i < 20; i++) {
    assert_int_equal(cp_csr_build(&key, "dev-1", der, need, &len), CP_OK);
    assert_true(len <= need && len + 4 >= need);
  }
  assert_int_equal(cp_csr_build(&key, "dev-1", NULL, 0, &need),
                   CP_ERR_BUFFER_TOO_SMALL);
}

static void test_cp_csr_to_pem_openssl_reads_and_small_buffer_untouched(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  char pem[2048], poison[2048], text[8192];
  size_t len, pem_len, need = 0;

  (void)state;
  len = build("dev-pem", der);
  assert_int_equal(cp_csr_to_pem(der, len, pem, sizeof pem, &pem_len), CP_OK);
  assert_true(strncmp(pem, "-----BEGIN CERTIFICATE REQUEST-----\n", 36) == 0);
  assert_int_equal(openssl_req_text(der, len, text, sizeof text), 0);
  assert_non_null(strstr(text, "Subject: CN = dev-pem\n"));
  memset(pem, 'q', sizeof pem);
  memset(poison, 'q', sizeof poison);
  assert_int_equal(cp_csr_to_pem(der, len, pem, pem_len, &need), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(need, pem_len + 1);
  assert_memory_equal(pem, poison, sizeof pem);
}

static void test_cp_csr_to_base64_one_line_equals_openssl(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  char b64[2048], theirs[2048], poison[2048];
  size_t len, b64_len, need = 0;

  (void)state;
  len = build("dev-b64", der);
  assert_int_equal(cp_csr_to_base64(der, len, b64, sizeof b64, &b64_len), CP_OK);
  assert_null(strchr(b64, '\n'));
  assert_null(strchr(b64, '-'));
  assert_int_equal(b64_len, strlen(b64));
  assert_int_equal(tu_write(tu_path("b.der"), der, len), 0);
  /* the recipe of protocol.md §10: openssl req ... -outform DER | openssl base64 -A */
  assert_int_equal(tu_capture(theirs, sizeof theirs,
                              "openssl req -inform DER -in '%s' -outform DER | openssl base64 -A",
                              tu_path("b.der")),
                   0);
  assert_string_equal(b64, theirs);
  memset(b64, 'q', sizeof b64);
  memset(poison, 'q', sizeof poison);
  assert_int_equal(cp_csr_to_base64(der, len, b64, b64_len, &need), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(need, b64_len + 1);
  assert_memory_equal(b64, poison, sizeof b64);
  assert_int_equal(cp_csr_to_base64(NULL, 3, b64, sizeof b64, &need), CP_ERR_INVALID_ARG);
}

static void test_cp_csr_check_own_csr_ok(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  size_t len;

  (void)state;
  len = build("dev-check", der);
  assert_int_equal(cp_csr_check(der, len, &key, "dev-check"), CP_OK);
  assert_int_equal(cp_csr_check(der, len, NULL, NULL), CP_OK);
}

static void test_cp_csr_check_other_key_mismatch(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  cp_key other;
  size_t len;

  (void)state;
  assert_int_equal(cp_key_generate_p384(&other), CP_OK);
  len = build("dev-check", der);
  assert_int_equal(cp_csr_check(der, len, &other, "dev-check"), CP_ERR_KEY_MISMATCH);
  cp_key_wipe(&other);
}

static void test_cp_csr_check_other_id_name_mismatch(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  size_t len;

  (void)state;
  len = build("dev-check", der);
  assert_int_equal(cp_csr_check(der, len, &key, "dev-checK"), CP_ERR_NAME_MISMATCH);
  assert_int_equal(cp_csr_check(der, len, &key, "dev-chec"), CP_ERR_NAME_MISMATCH);
}

static void test_cp_csr_check_tampered_signature_bad_signature(void **state)
{
  uint8_t der[CP_CSR_DER_MAX];
  size_t len;

  (void)state;
  len = build("dev-check", der);
  der[len - 3] ^= 0x01; /* inside s */
  assert_int_equal(cp_csr_check(der, len, &key, "dev-check"), CP_ERR_BAD_SIGNATURE);
  der[len - 3] ^= 0x01;
  der[30] ^= 0x01; /* inside the CN "dev-check" (at 4+3+3 + 2+2+2+5+2 = 23) */
  assert_true(cp_csr_check(der, len, NULL, NULL) == CP_ERR_BAD_SIGNATURE);
}

static void test_cp_csr_check_truncated_and_garbage_parse(void **state)
{
  uint8_t der[CP_CSR_DER_MAX], junk[300];
  size_t len, cut, i;

  (void)state;
  len = build("dev-check", der);
  for (cut = 1; cut < len; cut++)
    assert_true(cp_csr_check(der, cut, &key, "dev-check") == CP_ERR_PARSE);
  der[len] = 0;
  assert_int_equal(cp_csr_check(der, len + 1, &key, "dev-check"), CP_ERR_PARSE);
  for (i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 73u + 5u);
  assert_int_equal(cp_csr_check(junk, sizeof junk, NULL, NULL), CP_ERR_PARSE);
  assert_int_equal(cp_csr_check(NULL, 10, NULL, NULL), CP_ERR_INVALID_ARG);
}

static uint32_t next_rand(uint32_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void test_cp_csr_check_any_flipped_bit_rejected(void **state)
{
  uint8_t der[CP_CSR_DER_MAX], buf[CP_CSR_DER_MAX];
  uint32_t seed = 0x9e3779b9u;
  size_t len, i;
  cp_result r;

  (void)state;
  len = build("dev-fuzz", der);
  for (i = 0; i < 1500; i++) {
    size_t pos = next_rand(&seed) % len;
    memcpy(buf, der, len);
    buf[pos] ^= (uint8_t)(1u << (next_rand(&seed) % 8));
    r = cp_csr_check(buf, len, &key, "dev-fuzz");
    assert_true(r == CP_OK || r == CP_ERR_PARSE || r == CP_ERR_BAD_SIGNATURE ||
                r == CP_ERR_UNSUPPORTED_KEY || r == CP_ERR_BAD_REGISTRATION_ID ||
                r == CP_ERR_KEY_MISMATCH || r == CP_ERR_NAME_MISMATCH);
    /* every bit is covered: the signature (TBS), the algorithm check, the
     * signature value, or the length checks */
    assert_int_not_equal(r, CP_OK);
  }
}

static void check_openssl_csr(const char *name, const char *id, cp_result want)
{
  uint8_t *der;
  size_t len;

  der = tu_read(tu_path(name), &len);
  assert_non_null(der);
  assert_int_equal(cp_csr_check(der, len, NULL, id), want);
  free(der);
}

static void test_cp_csr_check_openssl_p384_sha384_ok(void **state)
{
  (void)state;
  check_openssl_csr("p384-sha384.csr", "dev-ossl-1", CP_OK);
}

static void test_cp_csr_check_openssl_wrong_algorithms_unsupported_key(void **state)
{
  (void)state;
  check_openssl_csr("p384-sha256.csr", NULL, CP_ERR_UNSUPPORTED_KEY);
  check_openssl_csr("p256.csr", NULL, CP_ERR_UNSUPPORTED_KEY);
  check_openssl_csr("rsa.csr", NULL, CP_ERR_UNSUPPORTED_KEY);
}

static void test_cp_csr_check_openssl_bad_or_missing_cn_bad_registration_id(void **state)
{
  (void)state;
  check_openssl_csr("p384-badcn.csr", NULL, CP_ERR_BAD_REGISTRATION_ID);
  check_openssl_csr("p384-nocn.csr", NULL, CP_ERR_BAD_REGISTRATION_ID);
}

static int setup(void **state)
{
  size_t i;

  (void)state;
  tu_tmpdir();
  if (cp_key_generate_p384(&key) != CP_OK)
    return -1;
  for (i = 0; i < sizeof openssl_csrs / sizeof openssl_csrs[0]; i++)
    if (tu_run("cd '%s' && %s >/dev/null 2>&1", tu_path(""), openssl_csrs[i]) != 0) {
      print_error("openssl failed: %s\n", openssl_csrs[i]);
      return -1;
    }
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  cp_key_wipe(&key);
  cp_log_set_callback(NULL, NULL, CP_LOG_INFO);
  tu_tmpdir_remove();
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cp_registration_id_validate_good_ids_ok),
      cmocka_unit_test(test_cp_registration_id_validate_bad_ids_rejected),
      cmocka_unit_test(test_cp_registration_id_validate_oversize_rejected),
      cmocka_unit_test(test_cp_csr_build_openssl_verifies_p384_sha384_ku_eku),
      cmocka_unit_test(test_cp_csr_build_128_char_id_openssl_subject_matches),
      cmocka_unit_test(test_cp_csr_build_public_key_is_the_keys),
      cmocka_unit_test(test_cp_csr_build_bad_registration_id_rejected_untouched),
      cmocka_unit_test(test_cp_csr_build_empty_key_invalid_arg),
      cmocka_unit_test(test_cp_csr_build_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_csr_to_pem_openssl_reads_and_small_buffer_untouched),
      cmocka_unit_test(test_cp_csr_to_base64_one_line_equals_openssl),
      cmocka_unit_test(test_cp_csr_check_own_csr_ok),
      cmocka_unit_test(test_cp_csr_check_other_key_mismatch),
      cmocka_unit_test(test_cp_csr_check_other_id_name_mismatch),
      cmocka_unit_test(test_cp_csr_check_tampered_signature_bad_signature),
      cmocka_unit_test(test_cp_csr_check_truncated_and_garbage_parse),
      cmocka_unit_test(test_cp_csr_check_any_flipped_bit_rejected),
      cmocka_unit_test(test_cp_csr_check_openssl_p384_sha384_ok),
      cmocka_unit_test(test_cp_csr_check_openssl_wrong_algorithms_unsupported_key),
      cmocka_unit_test(test_cp_csr_check_openssl_bad_or_missing_cn_bad_registration_id),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
