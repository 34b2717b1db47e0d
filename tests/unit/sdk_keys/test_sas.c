/* Unit tests for cp_sas.h: URL encoding, SAS tokens, group key derivation. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "certpilot/cp_sas.h"
#include "test_util.h"

/* protocol.md §4 test vector [SYMK]. */
#define GROUP_KEY "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="
#define VECTOR_ID "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6"
#define VECTOR_DEVICE_KEY "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc="

#define URI "0ne00000A0A/registrations/dev-1"
#define URI_ENC "0ne00000A0A%2fregistrations%2fdev-1"
#define EXPIRY 1700000000

/* Independent of the SDK: the three base64 characters that need escaping. */
static void escape_b64(const char *in, char *out)
{
  for (; *in != '\0'; in++) {
    if (*in == '+')
      out += sprintf(out, "%%2B");
    else if (*in == '/')
      out += sprintf(out, "%%2F");
    else if (*in == '=')
      out += sprintf(out, "%%3D");
    else
      *out++ = *in;
  }
  *out = '\0';
}

/* base64(HMAC-SHA256(base64decode(key_b64), msg)) computed by the openssl CLI. */
static void openssl_hmac_b64(const char *key_b64, const char *msg, size_t msg_len,
                             char out[64])
{
  uint8_t key[64];
  char hex[129];
  size_t key_len;

  assert_int_equal(cp_base64_decode(key_b64, strlen(key_b64), key, sizeof key, &key_len),
                   CP_OK);
  tu_hex(key, key_len, hex);
  assert_int_equal(tu_write(tu_path("msg"), msg, msg_len), 0);
  assert_int_equal(tu_capture(out, 64,
                              "openssl dgst -sha256 -mac HMAC -macopt hexkey:%s -binary '%s' "
                              "| openssl base64 -A",
                              hex, tu_path("msg")),
                   0);
  assert_int_equal(strlen(out), 44);
}

static void test_cp_url_encode_unreserved_kept(void **state)
{
  const char *in = "AZaz09-_.~";
  char out[64];
  size_t len;

  (void)state;
  assert_int_equal(cp_url_encode(in, out, sizeof out, &len), CP_OK);
  assert_string_equal(out, in);
  assert_int_equal(len, strlen(in));
}

static void test_cp_url_encode_slash_lower_case_2f(void **state)
{
  char out[128];
  size_t len;

  (void)state;
  assert_int_equal(cp_url_encode(URI, out, sizeof out, &len), CP_OK);
  assert_string_equal(out, URI_ENC);
  assert_int_equal(len, strlen(URI_ENC));
}

static void test_cp_url_encode_other_bytes_upper_case_hex(void **state)
{
  char out[128];
  size_t len;

  (void)state;
  assert_int_equal(cp_url_encode("a+b=c d:e?f&g%h\n\xc3\xa9\xff", out, sizeof out, &len),
                   CP_OK);
  assert_string_equal(out, "a%2Bb%3Dc%20d%3Ae%3Ff%26g%25h%0A%C3%A9%FF");
  assert_int_equal(cp_url_encode("", out, sizeof out, &len), CP_OK);
  assert_string_equal(out, "");
  assert_int_equal(len, 0);
}

static void test_cp_url_encode_small_buffer_reports_size_untouched(void **state)
{
  char out[64];
  size_t len = 0;

  (void)state;
  memset(out, '#', sizeof out);
  /* "a/b" -> "a%2fb": 5 chars + NUL */
  assert_int_equal(cp_url_encode("a/b", out, 5, &len), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 6);
  assert_int_equal(out[0], '#');
  assert_int_equal(out[5], '#');
  assert_int_equal(cp_url_encode("a/b", out, 6, &len), CP_OK);
  assert_string_equal(out, "a%2fb");
  assert_int_equal(cp_url_encode(NULL, out, 6, &len), CP_ERR_INVALID_ARG);
}

static void test_cp_sas_string_to_sign_encoded_uri_newline_expiry(void **state)
{
  char out[128], poison[128];
  size_t len = 0, need = 0;

  (void)state;
  assert_int_equal(cp_sas_string_to_sign(URI, EXPIRY, out, sizeof out, &len), CP_OK);
  assert_string_equal(out, URI_ENC "\n1700000000");
  assert_int_equal(len, strlen(URI_ENC "\n1700000000"));
  memset(out, '#', sizeof out);
  memset(poison, '#', sizeof poison);
  assert_int_equal(cp_sas_string_to_sign(URI, EXPIRY, out, len, &need),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(need, len + 1);
  assert_memory_equal(out, poison, sizeof out);
  assert_int_equal(cp_sas_string_to_sign(URI, -1, out, sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_sas_string_to_sign("", 1, out, sizeof out, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_sas_string_to_sign(URI, 0, out, sizeof out, &len), CP_OK);
  assert_string_equal(out, URI_ENC "\n0");
}

static void test_cp_sas_derive_device_key_protocol_vector_matches(void **state)
{
  char out[CP_SAS_KEY_B64_MAX];
  size_t len = 0;

  (void)state;
  assert_int_equal(cp_sas_derive_device_key(GROUP_KEY, VECTOR_ID, out, sizeof out, &len),
                   CP_OK);
  assert_string_equal(out, VECTOR_DEVICE_KEY);
  assert_int_equal(len, 44);
}

static void test_cp_sas_derive_device_key_matches_openssl_hmac(void **state)
{
  char out[CP_SAS_KEY_B64_MAX], theirs[64];
  size_t len;

  (void)state;
  assert_int_equal(cp_sas_derive_device_key(GROUP_KEY, "dev-openssl-42", out, sizeof out,
                                            &len),
                   CP_OK);
  openssl_hmac_b64(GROUP_KEY, "dev-openssl-42", strlen("dev-openssl-42"), theirs);
  assert_string_equal(out, theirs);
}

static void test_cp_sas_derive_device_key_bad_registration_id_rejected(void **state)
{
  char out[CP_SAS_KEY_B64_MAX] = "untouched";
  size_t len;

  (void)state;
  assert_int_equal(cp_sas_derive_device_key(GROUP_KEY, "bad id", out, sizeof out, &len),
                   CP_ERR_BAD_REGISTRATION_ID);
  assert_int_equal(cp_sas_derive_device_key(GROUP_KEY, "", out, sizeof out, &len),
                   CP_ERR_BAD_REGISTRATION_ID);
  assert_string_equal(out, "untouched");
  assert_int_equal(cp_sas_derive_device_key(NULL, "dev", out, sizeof out, &len),
                   CP_ERR_INVALID_ARG);
}

static void test_cp_sas_derive_device_key_bad_key_parse(void **state)
{
  /* 15 and 65 bytes, not base64, base64 with whitespace */
  static const char *const bad[] = {
      "AAAAAAAAAAAAAAAAAAAA",
      "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
      "not*base64==", "AAAAAAAAAAAAAAAA AAAAAAAAAAA", ""};
  char out[CP_SAS_KEY_B64_MAX] = "untouched";
  size_t i, len;

  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    tu_log_capture();
    assert_int_equal(cp_sas_derive_device_key(bad[i], "dev-1", out, sizeof out, &len),
                     CP_ERR_PARSE);
    assert_non_null(strstr(tu_last_log(), "key"));
  }
  assert_string_equal(out, "untouched");
}

static void test_cp_sas_derive_device_key_key_length_bounds_accepted(void **state)
{
  /* exactly 16 and exactly 64 bytes */
  static const char *const ok[] = {
      "AAECAwQFBgcICQoLDA0ODw==",
      "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8gISIjJCUmJygpKissLS4vMDEyMzQ1Njc4OTo7PD0+Pw=="};
  char out[CP_SAS_KEY_B64_MAX], theirs[64];
  size_t i, len;

  (void)state;
  for (i = 0; i < 2; i++) {
    assert_int_equal(cp_sas_derive_device_key(ok[i], "dev-1", out, sizeof out, &len), CP_OK);
    openssl_hmac_b64(ok[i], "dev-1", 5, theirs);
    assert_string_equal(out, theirs);
  }
}

static void test_cp_sas_derive_device_key_small_buffer_reports_size_untouched(void **state)
{
  char out[CP_SAS_KEY_B64_MAX];
  size_t len = 0;

  (void)state;
  memset(out, '#', sizeof out);
  assert_int_equal(cp_sas_derive_device_key(GROUP_KEY, VECTOR_ID, out, 44, &len),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 45);
  for (len = 0; len < sizeof out; len++)
    assert_int_equal(out[len], '#');
}

static void test_cp_sas_token_build_matches_openssl_hmac(void **state)
{
  char token[CP_SAS_TOKEN_MAX], want[CP_SAS_TOKEN_MAX], sig[64], sig_enc[160];
  const char *sts = URI_ENC "\n1700000000";
  size_t len;

  (void)state;
  assert_int_equal(cp_sas_token_build(URI, VECTOR_DEVICE_KEY, EXPIRY, "registration", token,
                                      sizeof token, &len),
                   CP_OK);
  openssl_hmac_b64(VECTOR_DEVICE_KEY, sts, strlen(sts), sig);
  escape_b64(sig, sig_enc);
  snprintf(want, sizeof want,
           "SharedAccessSignature sr=%s&sig=%s&se=1700000000&skn=registration", URI_ENC,
           sig_enc);
  assert_string_equal(token, want);
  assert_int_equal(len, strlen(want));
}

static void test_cp_sas_token_build_different_expiry_different_sig(void **state)
{
  char a[CP_SAS_TOKEN_MAX], b[CP_SAS_TOKEN_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_sas_token_build(URI, VECTOR_DEVICE_KEY, EXPIRY, "registration", a,
                                      sizeof a, &len),
                   CP_OK);
  assert_int_equal(cp_sas_token_build(URI, VECTOR_DEVICE_KEY, EXPIRY + 1, "registration", b,
                                      sizeof b, &len),
                   CP_OK);
  assert_string_not_equal(a, b);
  assert_true(strstr(a, "&sig=") != NULL && strstr(b, "&se=1700000001&") != NULL);
}

static void test_cp_sas_token_build_bad_key_parse_untouched(void **state)
{
  char token[CP_SAS_TOKEN_MAX] = "untouched";
  size_t len;

  (void)state;
  assert_int_equal(cp_sas_token_build(URI, "AAAA", EXPIRY, "registration", token,
                                      sizeof token, &len),
                   CP_ERR_PARSE);
  assert_int_equal(cp_sas_token_build(URI, "%%%%", EXPIRY, "registration", token,
                                      sizeof token, &len),
                   CP_ERR_PARSE);
  assert_string_equal(token, "untouched");
}

static void test_cp_sas_token_build_bad_args_invalid_arg(void **state)
{
  char token[CP_SAS_TOKEN_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_sas_token_build(NULL, GROUP_KEY, EXPIRY, "registration", token,
                                      sizeof token, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_sas_token_build(URI, GROUP_KEY, -5, "registration", token,
                                      sizeof token, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_sas_token_build(URI, GROUP_KEY, EXPIRY, "", token, sizeof token, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_sas_token_build(URI, GROUP_KEY, EXPIRY, NULL, token, sizeof token, &len),
                   CP_ERR_INVALID_ARG);
}

static void test_cp_sas_token_build_small_buffer_reports_size_untouched(void **state)
{
  char token[CP_SAS_TOKEN_MAX], poison[CP_SAS_TOKEN_MAX];
  size_t len = 0, need = 0;

  (void)state;
  assert_int_equal(cp_sas_token_build(URI, GROUP_KEY, EXPIRY, "registration", token,
                                      sizeof token, &len),
                   CP_OK);
  memset(token, '#', sizeof token);
  memset(poison, '#', sizeof poison);
  assert_int_equal(cp_sas_token_build(URI, GROUP_KEY, EXPIRY, "registration", token, len,
                                      &need),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(need, len + 1);
  assert_memory_equal(token, poison, sizeof token);
}

static void test_cp_sas_token_build_longest_id_fits_token_max(void **state)
{
  char uri[200], token[CP_SAS_TOKEN_MAX];
  size_t len;

  (void)state;
  memset(uri, 0, sizeof uri);
  memcpy(uri, "0ne00000A0A/registrations/", 26);
  memset(uri + 26, 'x', 128);
  assert_int_equal(cp_sas_token_build(uri, GROUP_KEY, EXPIRY, "registration", token,
                                      sizeof token, &len),
                   CP_OK);
  assert_true(len < CP_SAS_TOKEN_MAX);
}

static void test_cp_sas_token_from_signature_encodes_fields(void **state)
{
  uint8_t sig[32];
  char token[CP_SAS_TOKEN_MAX], b64[64], enc[160], want[CP_SAS_TOKEN_MAX], poison[64];
  size_t i, len, need;

  (void)state;
  for (i = 0; i < sizeof sig; i++)
    sig[i] = (uint8_t)(0xfb + i * 4); /* base64 with '+' and '/' */
  assert_int_equal(cp_base64_encode(sig, sizeof sig, b64, sizeof b64, &len), CP_OK);
  assert_true(strchr(b64, '+') != NULL || strchr(b64, '/') != NULL);
  escape_b64(b64, enc);
  snprintf(want, sizeof want,
           "SharedAccessSignature sr=%s&sig=%s&se=42&skn=my%%20key", URI_ENC, enc);
  assert_int_equal(cp_sas_token_from_signature(URI, sig, 42, "my key", token, sizeof token,
                                               &len),
                   CP_OK);
  assert_string_equal(token, want);
  memset(poison, '#', sizeof poison);
  memcpy(token, poison, sizeof poison);
  assert_int_equal(cp_sas_token_from_signature(URI, sig, 42, "my key", token, 20, &need),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(need, len + 1);
  assert_memory_equal(token, poison, sizeof poison);
  assert_int_equal(cp_sas_token_from_signature(URI, NULL, 42, "k", token, sizeof token, &len),
                   CP_ERR_INVALID_ARG);
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
  cp_log_set_callback(NULL, NULL, CP_LOG_INFO);
  tu_tmpdir_remove();
  return 0;
}

int main(void)
{
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cp_url_encode_unreserved_kept),
      cmocka_unit_test(test_cp_url_encode_slash_lower_case_2f),
      cmocka_unit_test(test_cp_url_encode_other_bytes_upper_case_hex),
      cmocka_unit_test(test_cp_url_encode_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_sas_string_to_sign_encoded_uri_newline_expiry),
      cmocka_unit_test(test_cp_sas_derive_device_key_protocol_vector_matches),
      cmocka_unit_test(test_cp_sas_derive_device_key_matches_openssl_hmac),
      cmocka_unit_test(test_cp_sas_derive_device_key_bad_registration_id_rejected),
      cmocka_unit_test(test_cp_sas_derive_device_key_bad_key_parse),
      cmocka_unit_test(test_cp_sas_derive_device_key_key_length_bounds_accepted),
      cmocka_unit_test(test_cp_sas_derive_device_key_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_sas_token_build_matches_openssl_hmac),
      cmocka_unit_test(test_cp_sas_token_build_different_expiry_different_sig),
      cmocka_unit_test(test_cp_sas_token_build_bad_key_parse_untouched),
      cmocka_unit_test(test_cp_sas_token_build_bad_args_invalid_arg),
      cmocka_unit_test(test_cp_sas_token_build_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_sas_token_build_longest_id_fits_token_max),
      cmocka_unit_test(test_cp_sas_token_from_signature_encodes_fields),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
