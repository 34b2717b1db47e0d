/* Unit tests: SAS parsing, derivation and verification (cps_sas.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "cps_sas.h"

#define KEY "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static void test_cps_sas_derive_device_key_docs_vector_matches(void **state) {
  (void)state;
  char out[64];
  assert_int_equal(cps_sas_derive_device_key(
                       "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw==",
                       "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6", out, sizeof out),
                   CPS_OK);
  assert_string_equal(out, "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=");
}

static cps_result verify(const char *tok, const char *regid, const char *key, time_t now, cps_error *err) {
  cps_sas_token t;
  cps_result r = cps_sas_parse(tok, &t, err);
  if (r != CPS_OK) return r;
  return cps_sas_verify(&t, "0ne001", regid, key, now, 86400, err);
}

static void test_cps_sas_verify_valid_token_accepted(void **state) {
  (void)state;
  char tok[512];
  time_t now = time(NULL);
  assert_int_equal(cps_sas_build("0ne001", "dev-1", KEY, now + 600, tok, sizeof tok), CPS_OK);
  assert_non_null(strstr(tok, "sr=0ne001%2fregistrations%2fdev-1&"));
  cps_error err = {{0}};
  assert_int_equal(verify(tok, "dev-1", KEY, now, &err), CPS_OK);
  /* registration ids are case-insensitive */
  assert_int_equal(verify(tok, "DEV-1", KEY, now, &err), CPS_OK);
}

static void test_cps_sas_verify_expired_token_rejected(void **state) {
  (void)state;
  char tok[512];
  time_t now = time(NULL);
  assert_int_equal(cps_sas_build("0ne001", "dev-1", KEY, now - 1, tok, sizeof tok), CPS_OK);
  cps_error err = {{0}};
  assert_int_equal(verify(tok, "dev-1", KEY, now, &err), CPS_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "expired"));
}

static void test_cps_sas_verify_too_long_lifetime_rejected(void **state) {
  (void)state;
  char tok[512];
  time_t now = time(NULL);
  assert_int_equal(cps_sas_build("0ne001", "dev-1", KEY, now + 2 * 86400, tok, sizeof tok), CPS_OK);
  cps_error err = {{0}};
  assert_int_equal(verify(tok, "dev-1", KEY, now, &err), CPS_ERR_UNAUTHORIZED);
}

static void test_cps_sas_verify_wrong_key_rejected(void **state) {
  (void)state;
  char tok[512];
  time_t now = time(NULL);
  assert_int_equal(cps_sas_build("0ne001", "dev-1", "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk=", now + 600,
                                 tok, sizeof tok), CPS_OK);
  cps_error err = {{0}};
  assert_int_equal(verify(tok, "dev-1", KEY, now, &err), CPS_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "signature"));
}

static void test_cps_sas_verify_other_registration_rejected(void **state) {
  (void)state;
  char tok[512];
  time_t now = time(NULL);
  assert_int_equal(cps_sas_build("0ne001", "dev-2", KEY, now + 600, tok, sizeof tok), CPS_OK);
  cps_error err = {{0}};
  assert_int_equal(verify(tok, "dev-1", KEY, now, &err), CPS_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "sr"));
}

static void test_cps_sas_verify_tampered_expiry_rejected(void **state) {
  (void)state;
  char tok[512], forged[600];
  time_t now = time(NULL);
  assert_int_equal(cps_sas_build("0ne001", "dev-1", KEY, now + 600, tok, sizeof tok), CPS_OK);
  char *se = strstr(tok, "&se=");
  assert_non_null(se);
  *se = '\0';
  snprintf(forged, sizeof forged, "%s&se=%lld&skn=registration", tok, (long long)now + 700);
  cps_error err = {{0}};
  assert_int_equal(verify(forged, "dev-1", KEY, now, &err), CPS_ERR_UNAUTHORIZED);
}

static void test_cps_sas_parse_malformed_tokens_rejected(void **state) {
  (void)state;
  cps_sas_token t;
  cps_error err = {{0}};
  assert_int_equal(cps_sas_parse(NULL, &t, &err), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_sas_parse("Bearer x", &t, &err), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_sas_parse("SharedAccessSignature sr=a&sig=b", &t, &err), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_sas_parse("SharedAccessSignature sr=a&sig=b&se=12x", &t, &err), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_sas_parse("SharedAccessSignature sr=a&sig=%zz&se=12", &t, &err), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_sas_parse("SharedAccessSignature sr=a&novalue&se=12", &t, &err), CPS_ERR_UNAUTHORIZED);
  assert_int_equal(cps_sas_parse("SharedAccessSignature sr=a&sig=b&se=12&skn=registration", &t, &err), CPS_OK);
  assert_int_equal(t.se, 12);
}

static void test_cps_sas_verify_uppercase_escapes_accepted(void **state) {
  (void)state;
  /* Python's quote_plus writes %2F: the signed string is sr exactly as sent. */
  time_t now = time(NULL);
  char msg[200], tok[600], sig_b64[80], sig_enc[120];
  long long se = (long long)now + 600;
  snprintf(msg, sizeof msg, "0ne001%%2Fregistrations%%2Fdev-1\n%lld", se);
  unsigned char key[64], mac[32];
  int klen = EVP_DecodeBlock(key, (const unsigned char *)KEY, (int)strlen(KEY)) - 1; /* one '=' */
  unsigned int mlen = 0;
  HMAC(EVP_sha256(), key, klen, (const unsigned char *)msg, strlen(msg), mac, &mlen);
  EVP_EncodeBlock((unsigned char *)sig_b64, mac, (int)mlen);
  size_t o = 0;
  for (const char *c = sig_b64; *c; c++) {
    if (*c == '+') o += (size_t)sprintf(sig_enc + o, "%%2B");
    else if (*c == '/') o += (size_t)sprintf(sig_enc + o, "%%2F");
    else if (*c == '=') o += (size_t)sprintf(sig_enc + o, "%%3D");
    else sig_enc[o++] = *c;
  }
  sig_enc[o] = '\0';
  snprintf(tok, sizeof tok, "SharedAccessSignature sr=0ne001%%2Fregistrations%%2Fdev-1&sig=%s&se=%lld&skn=registration",
           sig_enc, se);
  cps_error err = {{0}};
  assert_int_equal(verify(tok, "dev-1", KEY, now, &err), CPS_OK);
}

static void test_cps_sas_verify_sr_changed_after_signing_rejected(void **state) {
  (void)state;
  char tok[512];
  time_t now = time(NULL);
  assert_int_equal(cps_sas_build("0ne001", "dev-1", KEY, now + 600, tok, sizeof tok), CPS_OK);
  cps_sas_token t;
  cps_error err = {{0}};
  assert_int_equal(cps_sas_parse(tok, &t, &err), CPS_OK);
  char *p;
  while ((p = strstr(t.sr, "%2f")) != NULL) p[2] = 'F';
  assert_int_equal(cps_sas_verify(&t, "0ne001", "dev-1", KEY, now, 86400, &err), CPS_ERR_UNAUTHORIZED);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cps_sas_derive_device_key_docs_vector_matches),
      cmocka_unit_test(test_cps_sas_verify_valid_token_accepted),
      cmocka_unit_test(test_cps_sas_verify_expired_token_rejected),
      cmocka_unit_test(test_cps_sas_verify_too_long_lifetime_rejected),
      cmocka_unit_test(test_cps_sas_verify_wrong_key_rejected),
      cmocka_unit_test(test_cps_sas_verify_other_registration_rejected),
      cmocka_unit_test(test_cps_sas_verify_tampered_expiry_rejected),
      cmocka_unit_test(test_cps_sas_parse_malformed_tokens_rejected),
      cmocka_unit_test(test_cps_sas_verify_uppercase_escapes_accepted),
      cmocka_unit_test(test_cps_sas_verify_sr_changed_after_signing_rejected),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
