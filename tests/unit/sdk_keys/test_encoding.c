/* Unit tests for cp_encoding.h: base64 and PEM. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certpilot/cp_encoding.h"
#include "test_util.h"

/* RFC 4648 §10 test vectors. */
static const char *const plain[] = {"", "f", "fo", "foo", "foob", "fooba", "foobar"};
static const char *const coded[] = {"", "Zg==", "Zm8=", "Zm9v", "Zm9vYg==", "Zm9vYmE=",
                                    "Zm9vYmFy"};

static void test_cp_base64_encode_rfc4648_vectors_match(void **state)
{
  size_t i, len;
  char out[16];

  (void)state;
  for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
    assert_int_equal(cp_base64_encode((const uint8_t *)plain[i], strlen(plain[i]), out,
                                      sizeof out, &len),
                     CP_OK);
    assert_string_equal(out, coded[i]);
    assert_int_equal(len, strlen(coded[i]));
  }
}

static void test_cp_base64_decode_rfc4648_vectors_match(void **state)
{
  size_t i, len;
  uint8_t out[16];

  (void)state;
  for (i = 0; i < sizeof plain / sizeof plain[0]; i++) {
    assert_int_equal(cp_base64_decode(coded[i], strlen(coded[i]), out, sizeof out, &len),
                     CP_OK);
    assert_int_equal(len, strlen(plain[i]));
    assert_memory_equal(out, plain[i], len);
  }
}

static void test_cp_base64_encode_small_buffer_reports_size_untouched(void **state)
{
  char out[9];
  size_t len = 0;

  (void)state;
  memset(out, 'X', sizeof out);
  /* "foobar" needs 8 characters + NUL = 9; give 8. */
  assert_int_equal(cp_base64_encode((const uint8_t *)"foobar", 6, out, 8, &len),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 9);
  assert_memory_equal(out, "XXXXXXXXX", 9);
  assert_int_equal(cp_base64_encode((const uint8_t *)"foobar", 6, out, len, &len), CP_OK);
  assert_string_equal(out, "Zm9vYmFy");
}

static void test_cp_base64_encode_null_args_invalid(void **state)
{
  char out[8];
  size_t len;

  (void)state;
  assert_int_equal(cp_base64_encode(NULL, 3, out, sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_base64_encode((const uint8_t *)"a", 1, out, sizeof out, NULL),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_base64_decode(NULL, 4, (uint8_t *)out, sizeof out, &len),
                   CP_ERR_INVALID_ARG);
}

static void test_cp_base64_decode_bad_length_parse(void **state)
{
  uint8_t out[16];
  size_t len;

  (void)state;
  assert_int_equal(cp_base64_decode("Zm9", 3, out, sizeof out, &len), CP_ERR_PARSE);
  assert_int_equal(cp_base64_decode("Zm9vY", 5, out, sizeof out, &len), CP_ERR_PARSE);
}

static void test_cp_base64_decode_bad_characters_parse(void **state)
{
  static const char *const bad[] = {"Zm9v\nYmFy", "Zm9-", "Zm_v", "Zm 9", "Z=9v",
                                    "Zg=a", "====", "Zm9v\x80mFy"};
  uint8_t out[16];
  size_t i, len;

  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    assert_int_equal(cp_base64_decode(bad[i], strlen(bad[i]), out, sizeof out, &len),
                     CP_ERR_PARSE);
}

static void test_cp_base64_decode_small_buffer_reports_size_untouched(void **state)
{
  uint8_t out[6];
  size_t len = 0;

  (void)state;
  memset(out, 0xAA, sizeof out);
  assert_int_equal(cp_base64_decode("Zm9vYmE=", 8, out, 4, &len), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 5);
  assert_memory_equal(out, "\xAA\xAA\xAA\xAA\xAA\xAA", 6);
  /* An exactly sized buffer is enough (no whole-group slack needed). */
  assert_int_equal(cp_base64_decode("Zm9vYmE=", 8, out, 5, &len), CP_OK);
  assert_memory_equal(out, "fooba", 5);
  assert_int_equal(out[5], 0xAA);
}

static void test_cp_base64_encode_random_data_matches_openssl(void **state)
{
  uint8_t data[1000], *back;
  char ours[1400], theirs[1400];
  size_t len, blen, i;

  (void)state;
  for (i = 0; i < sizeof data; i++)
    data[i] = (uint8_t)(i * 151u + 7u);
  assert_int_equal(tu_write(tu_path("data.bin"), data, sizeof data), 0);
  assert_int_equal(cp_base64_encode(data, sizeof data, ours, sizeof ours, &len), CP_OK);
  assert_int_equal(tu_capture(theirs, sizeof theirs, "openssl base64 -A -in '%s'",
                              tu_path("data.bin")),
                   0);
  assert_string_equal(ours, theirs);
  /* and openssl decodes ours back to the same bytes */
  assert_int_equal(tu_write(tu_path("ours.b64"), ours, len), 0);
  assert_int_equal(tu_run("openssl base64 -d -A -in '%s' -out '%s'", tu_path("ours.b64"),
                          tu_path("back.bin")),
                   0);
  back = tu_read(tu_path("back.bin"), &blen);
  assert_non_null(back);
  assert_int_equal(blen, sizeof data);
  assert_memory_equal(back, data, sizeof data);
  free(back);
}

static void test_cp_pem_encode_wraps_at_64_columns(void **state)
{
  uint8_t der[200];
  char pem[512], *line, *save = NULL;
  size_t len, i, lines = 0;

  (void)state;
  for (i = 0; i < sizeof der; i++)
    der[i] = (uint8_t)i;
  assert_int_equal(cp_pem_encode("CERTIFICATE", der, sizeof der, pem, sizeof pem, &len),
                   CP_OK);
  assert_int_equal(len, strlen(pem));
  assert_true(strncmp(pem, "-----BEGIN CERTIFICATE-----\n", 28) == 0);
  assert_string_equal(pem + len - 26, "-----END CERTIFICATE-----\n");
  for (line = strtok_r(pem, "\n", &save); line != NULL; line = strtok_r(NULL, "\n", &save)) {
    if (line[0] == '-')
      continue;
    lines++;
    /* 200 bytes -> 268 base64 chars -> 64,64,64,64,12 */
    assert_int_equal(strlen(line), lines < 5 ? 64 : 12);
  }
  assert_int_equal(lines, 5);
}

static void test_cp_pem_encode_small_buffer_reports_size_untouched(void **state)
{
  uint8_t der[48] = {1, 2, 3};
  char pem[256];
  size_t len = 0, need;

  (void)state;
  memset(pem, 'X', sizeof pem);
  assert_int_equal(cp_pem_encode("CERTIFICATE", der, sizeof der, pem, 50, &len),
                   CP_ERR_BUFFER_TOO_SMALL);
  need = len;
  for (len = 0; len < sizeof pem; len++)
    assert_int_equal(pem[len], 'X');
  assert_int_equal(cp_pem_encode("CERTIFICATE", der, sizeof der, pem, need - 1, &len),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(cp_pem_encode("CERTIFICATE", der, sizeof der, pem, need, &len), CP_OK);
  assert_int_equal(len + 1, need);
}

static void test_cp_pem_encode_bad_args_invalid(void **state)
{
  uint8_t der[4] = {0};
  char pem[256];
  size_t len;

  (void)state;
  assert_int_equal(cp_pem_encode(NULL, der, 4, pem, sizeof pem, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_pem_encode("", der, 4, pem, sizeof pem, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_pem_encode("X", NULL, 4, pem, sizeof pem, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_pem_encode("X", der, 0, pem, sizeof pem, &len), CP_ERR_INVALID_ARG);
}

static void test_cp_pem_encode_openssl_reads_key(void **state)
{
  uint8_t *der, *back;
  char pem[1024];
  size_t der_len, len, blen;

  (void)state;
  assert_int_equal(tu_run("openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 "
                          "-outform DER -out '%s' 2>/dev/null",
                          tu_path("k.der")),
                   0);
  der = tu_read(tu_path("k.der"), &der_len);
  assert_non_null(der);
  assert_int_equal(cp_pem_encode("EC PRIVATE KEY", der, der_len, pem, sizeof pem, &len),
                   CP_OK);
  assert_int_equal(tu_write(tu_path("k.pem"), pem, len), 0);
  assert_int_equal(tu_run("openssl ec -in '%s' -outform DER -out '%s' 2>/dev/null",
                          tu_path("k.pem"), tu_path("k2.der")),
                   0);
  back = tu_read(tu_path("k2.der"), &blen);
  assert_non_null(back);
  assert_int_equal(blen, der_len);
  assert_memory_equal(back, der, der_len);
  free(back);
  free(der);
}

static void test_cp_pem_decode_roundtrip_label_and_consumed(void **state)
{
  uint8_t der[100], out[100];
  char pem[512], label[64];
  size_t i, len, out_len, used;

  (void)state;
  for (i = 0; i < sizeof der; i++)
    der[i] = (uint8_t)(255 - i);
  assert_int_equal(cp_pem_encode("CERTIFICATE REQUEST", der, sizeof der, pem, sizeof pem,
                                 &len),
                   CP_OK);
  assert_int_equal(cp_pem_decode(pem, len, label, out, sizeof out, &out_len, &used), CP_OK);
  assert_string_equal(label, "CERTIFICATE REQUEST");
  assert_int_equal(out_len, sizeof der);
  assert_memory_equal(out, der, sizeof der);
  assert_int_equal(used, len - 1); /* up to the END marker, before its newline */
}

static void test_cp_pem_decode_crlf_and_leading_text_accepted(void **state)
{
  const char *pem = "subject=CN=x\r\n-----BEGIN X-----\r\nZm9v\r\nYmFy\r\n-----END X-----\r\n";
  uint8_t out[16];
  size_t len;

  (void)state;
  assert_int_equal(cp_pem_decode(pem, strlen(pem), NULL, out, sizeof out, &len, NULL),
                   CP_OK);
  assert_int_equal(len, 6);
  assert_memory_equal(out, "foobar", 6);
}

static void test_cp_pem_decode_two_blocks_consumed_reaches_second(void **state)
{
  const char *pem = "-----BEGIN A-----\nZm9v\n-----END A-----\n"
                    "-----BEGIN B-----\nYmFy\n-----END B-----\n";
  uint8_t out[16];
  char label[64];
  size_t len, used;

  (void)state;
  assert_int_equal(cp_pem_decode(pem, strlen(pem), label, out, sizeof out, &len, &used),
                   CP_OK);
  assert_string_equal(label, "A");
  assert_int_equal(cp_pem_decode(pem + used, strlen(pem) - used, label, out, sizeof out,
                                 &len, NULL),
                   CP_OK);
  assert_string_equal(label, "B");
  assert_memory_equal(out, "bar", 3);
}

static void test_cp_pem_decode_no_block_not_found(void **state)
{
  const char *text = "hello, this is not PEM\n";
  uint8_t out[16];
  size_t len;

  (void)state;
  assert_int_equal(cp_pem_decode(text, strlen(text), NULL, out, sizeof out, &len, NULL),
                   CP_ERR_NOT_FOUND);
  assert_int_equal(cp_pem_decode("", 0, NULL, out, sizeof out, &len, NULL),
                   CP_ERR_NOT_FOUND);
}

static void test_cp_pem_decode_malformed_armour_parse(void **state)
{
  static const char *const bad[] = {
      "-----BEGIN X-----\nZm9v\n-----END Y-----\n",  /* label mismatch */
      "-----BEGIN X-----\nZm9v\n",                   /* no END */
      "-----BEGIN X-----\n-----END X-----\n",        /* empty body */
      "-----BEGIN X-----\nZm9v!\n-----END X-----\n", /* bad character */
      "-----BEGIN X-----\nZm9vY\n-----END X-----\n", /* bad length */
      "-----BEGIN -----\nZm9v\n-----END -----\n",    /* empty label */
      "-----BEGIN X\nY-----\nZm9v\n-----END X\nY-----\n", /* newline in label */
  };
  static const uint8_t poison[16] = {0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA,
                                     0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA};
  uint8_t out[16];
  char label[64];
  size_t i, len = 99, used = 77;

  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    memcpy(out, poison, sizeof out);
    strcpy(label, "unchanged");
    assert_int_equal(cp_pem_decode(bad[i], strlen(bad[i]), label, out, sizeof out, &len,
                                   &used),
                     CP_ERR_PARSE);
    assert_memory_equal(out, poison, sizeof out);
    assert_string_equal(label, "unchanged");
    assert_int_equal(used, 77);
  }
}

static void test_cp_pem_decode_truncated_input_fails(void **state)
{
  uint8_t der[64], out[64];
  char pem[256];
  size_t len, cut, out_len;

  (void)state;
  memset(der, 0x5a, sizeof der);
  assert_int_equal(cp_pem_encode("X", der, sizeof der, pem, sizeof pem, &len), CP_OK);
  /* Every prefix shorter than the END marker must fail. */
  for (cut = 0; cut + 1 < len; cut++) {
    cp_result r = cp_pem_decode(pem, cut, NULL, out, sizeof out, &out_len, NULL);
    assert_true(r == CP_ERR_PARSE || r == CP_ERR_NOT_FOUND);
  }
}

static void test_cp_pem_decode_small_buffer_reports_size_untouched(void **state)
{
  const char *pem = "-----BEGIN X-----\nZm9vYmFy\n-----END X-----\n";
  uint8_t out[8];
  char label[64] = "unchanged";
  size_t len = 0, used = 77;

  (void)state;
  memset(out, 0xAA, sizeof out);
  assert_int_equal(cp_pem_decode(pem, strlen(pem), label, out, 5, &len, &used),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 6);
  assert_memory_equal(out, "\xAA\xAA\xAA\xAA\xAA\xAA\xAA\xAA", 8);
  assert_string_equal(label, "unchanged");
  assert_int_equal(used, 77);
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
      cmocka_unit_test(test_cp_base64_encode_rfc4648_vectors_match),
      cmocka_unit_test(test_cp_base64_decode_rfc4648_vectors_match),
      cmocka_unit_test(test_cp_base64_encode_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_base64_encode_null_args_invalid),
      cmocka_unit_test(test_cp_base64_decode_bad_length_parse),
      cmocka_unit_test(test_cp_base64_decode_bad_characters_parse),
      cmocka_unit_test(test_cp_base64_decode_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_base64_encode_random_data_matches_openssl),
      cmocka_unit_test(test_cp_pem_encode_wraps_at_64_columns),
      cmocka_unit_test(test_cp_pem_encode_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_pem_encode_bad_args_invalid),
      cmocka_unit_test(test_cp_pem_encode_openssl_reads_key),
      cmocka_unit_test(test_cp_pem_decode_roundtrip_label_and_consumed),
      cmocka_unit_test(test_cp_pem_decode_crlf_and_leading_text_accepted),
      cmocka_unit_test(test_cp_pem_decode_two_blocks_consumed_reaches_second),
      cmocka_unit_test(test_cp_pem_decode_no_block_not_found),
      cmocka_unit_test(test_cp_pem_decode_malformed_armour_parse),
      cmocka_unit_test(test_cp_pem_decode_truncated_input_fails),
      cmocka_unit_test(test_cp_pem_decode_small_buffer_reports_size_untouched),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
