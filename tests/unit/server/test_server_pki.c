/* Unit tests: CA issuance, CSR checks, CRL contents (cps_pki.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <openssl/x509v3.h>

#include "cps_pki.h"
#include "cps_test_util.h"

typedef struct ca_fixture {
  EVP_PKEY *root_key, *ica_key;
  X509 *root, *ica;
} ca_fixture;

static int ca_setup(void **state) {
  ca_fixture *f = calloc(1, sizeof *f);
  assert_int_equal(cps_pki_key_generate(&f->root_key), CPS_OK);
  assert_int_equal(cps_pki_key_generate(&f->ica_key), CPS_OK);
  assert_int_equal(cps_pki_root_create(f->root_key, "test root", 3600 * 24 * 365, &f->root), CPS_OK);
  assert_int_equal(cps_pki_ca_issue(f->root, f->root_key, f->ica_key, "test ica", 3600 * 24 * 30, &f->ica),
                   CPS_OK);
  *state = f;
  return 0;
}

static int ca_teardown(void **state) {
  ca_fixture *f = *state;
  X509_free(f->root);
  X509_free(f->ica);
  EVP_PKEY_free(f->root_key);
  EVP_PKEY_free(f->ica_key);
  free(f);
  return 0;
}

static X509_REQ *parse_req(const unsigned char *der, size_t len) {
  const unsigned char *p = der;
  return d2i_X509_REQ(NULL, &p, (long)len);
}

static X509 *issue(ca_fixture *f, const char *cn, long validity, char serial[CPS_SERIAL_HEX_MAX],
                   EVP_PKEY **key) {
  size_t len = 0;
  unsigned char *der = tu_csr(cn, "P-384", &len, key);
  X509_REQ *req = parse_req(der, len);
  free(der);
  X509 *leaf = NULL;
  assert_int_equal(cps_pki_leaf_issue(f->ica, f->ica_key, req, cn, "00112233445566778899aabbccddeeff",
                                      validity, &leaf, serial),
                   CPS_OK);
  X509_REQ_free(req);
  return leaf;
}

static void test_cps_pki_leaf_issue_valid_csr_has_device_profile(void **state) {
  ca_fixture *f = *state;
  char serial[CPS_SERIAL_HEX_MAX];
  EVP_PKEY *key = NULL;
  time_t now = time(NULL);
  X509 *leaf = issue(f, "dev-1", 7 * 86400, serial, &key);
  char cn[64];
  assert_int_equal(cps_pki_cert_cn(leaf, cn, sizeof cn), CPS_OK);
  assert_string_equal(cn, "dev-1");
  assert_int_equal(EVP_PKEY_eq(X509_get0_pubkey(leaf), key), 1);
  /* keyUsage digitalSignature only, EKU clientAuth, not a CA, SKI and AKI */
  assert_true(X509_get_key_usage(leaf) == KU_DIGITAL_SIGNATURE);
  assert_true(X509_get_extended_key_usage(leaf) & XKU_SSL_CLIENT);
  assert_int_equal(X509_check_ca(leaf), 0);
  assert_non_null(X509_get0_subject_key_id(leaf));
  assert_non_null(X509_get0_authority_key_id(leaf));
  assert_int_equal(ASN1_OCTET_STRING_cmp(X509_get0_authority_key_id(leaf), X509_get0_subject_key_id(f->ica)), 0);
  /* SAN is non-critical and carries the revocation identifier */
  int idx = X509_get_ext_by_NID(leaf, NID_subject_alt_name, -1);
  assert_true(idx >= 0);
  assert_int_equal(X509_EXTENSION_get_critical(X509_get_ext(leaf, idx)), 0);
  char rid[80];
  assert_int_equal(cps_pki_revocation_id_get(leaf, rid, sizeof rid), CPS_OK);
  assert_string_equal(rid, "00112233445566778899aabbccddeeff");
  /* back-dated notBefore, notAfter = now + validity */
  int days = 0, secs = 0;
  ASN1_TIME *t_now = ASN1_TIME_set(NULL, now);
  assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), t_now), 1);
  assert_true(days * 86400 + secs >= CPS_PKI_BACKDATE_S - 2);
  assert_int_equal(ASN1_TIME_diff(&days, &secs, t_now, X509_get0_notAfter(leaf)), 1);
  long after = days * 86400L + secs;
  assert_true(after >= 7 * 86400 - 5 && after <= 7 * 86400 + 5);
  ASN1_TIME_free(t_now);
  /* serial matches and the chain verifies */
  char s2[CPS_SERIAL_HEX_MAX];
  assert_int_equal(cps_pki_cert_serial_hex(leaf, s2), CPS_OK);
  assert_string_equal(serial, s2);
  X509_STORE *st = X509_STORE_new();
  X509_STORE_add_cert(st, f->root);
  STACK_OF(X509) *untrusted = sk_X509_new_null();
  sk_X509_push(untrusted, f->ica);
  X509_STORE_CTX *ctx = X509_STORE_CTX_new();
  X509_STORE_CTX_init(ctx, st, leaf, untrusted);
  X509_STORE_CTX_set_purpose(ctx, X509_PURPOSE_SSL_CLIENT);
  assert_int_equal(X509_verify_cert(ctx), 1);
  X509_STORE_CTX_free(ctx);
  sk_X509_free(untrusted);
  X509_STORE_free(st);
  /* the signature is ecdsa-with-SHA384 */
  assert_int_equal(X509_get_signature_nid(leaf), NID_ecdsa_with_SHA384);
  X509_free(leaf);
  EVP_PKEY_free(key);
}

static void test_cps_pki_leaf_issue_short_validity_backdates_a_tenth(void **state) {
  ca_fixture *f = *state;
  char serial[CPS_SERIAL_HEX_MAX];
  EVP_PKEY *key = NULL;
  X509 *leaf = issue(f, "dev-short", 30, serial, &key);
  /* 30 s of validity: notBefore at most 3 s back, so the lifetime a device measures from
   * notBefore stays ~33 s instead of 330 s (a renewal due before issuance). */
  int days = 0, secs = 0;
  assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_get0_notBefore(leaf), X509_get0_notAfter(leaf)), 1);
  assert_int_equal(days, 0);
  assert_true(secs >= 30 && secs <= 33);
  X509_free(leaf);
  EVP_PKEY_free(key);
}

static void test_cps_pki_leaf_issue_two_leaves_have_distinct_serials(void **state) {
  ca_fixture *f = *state;
  char s1[CPS_SERIAL_HEX_MAX], s2[CPS_SERIAL_HEX_MAX];
  X509 *a = issue(f, "dev-a", 3600, s1, NULL);
  X509 *b = issue(f, "dev-a", 3600, s2, NULL);
  assert_string_not_equal(s1, s2);
  assert_true(strlen(s1) >= 30);
  X509_free(a);
  X509_free(b);
}

static void test_cps_pki_leaf_issue_validity_beyond_ica_is_capped(void **state) {
  ca_fixture *f = *state;
  char s[CPS_SERIAL_HEX_MAX];
  X509 *leaf = issue(f, "dev-cap", 90L * 86400, s, NULL);
  assert_true(ASN1_TIME_compare(X509_get0_notAfter(leaf), X509_get0_notAfter(f->ica)) <= 0);
  X509_free(leaf);
}

static void test_cps_pki_ca_issue_ica_is_pathlen0_ca(void **state) {
  ca_fixture *f = *state;
  assert_int_equal(X509_check_ca(f->ica), 1);
  assert_int_equal(X509_get_pathlen(f->ica), 0);
  assert_int_equal(X509_check_issued(f->root, f->ica), X509_V_OK);
  assert_int_equal(X509_get_signature_nid(f->ica), NID_ecdsa_with_SHA384);
}

static void test_cps_pki_csr_check_valid_p384_accepted(void **state) {
  (void)state;
  size_t len = 0;
  unsigned char *der = tu_csr("reg-1", "P-384", &len, NULL);
  cps_error err = {{0}};
  X509_REQ *req = NULL;
  assert_int_equal(cps_pki_csr_check(der, len, "reg-1", &req, &err), CPS_OK);
  assert_non_null(req);
  X509_REQ_free(req);
  free(der);
}

static void test_cps_pki_csr_check_p256_key_rejected(void **state) {
  (void)state;
  size_t len = 0;
  unsigned char *der = tu_csr("reg-1", "P-256", &len, NULL);
  cps_error err = {{0}};
  X509_REQ *req = NULL;
  assert_int_equal(cps_pki_csr_check(der, len, "reg-1", &req, &err), CPS_ERR_INVALID);
  assert_null(req);
  assert_non_null(strstr(err.msg, "P-384"));
  free(der);
}

static void test_cps_pki_csr_check_cn_mismatch_rejected(void **state) {
  (void)state;
  size_t len = 0;
  unsigned char *der = tu_csr("someone-else", "P-384", &len, NULL);
  cps_error err = {{0}};
  assert_int_equal(cps_pki_csr_check(der, len, "reg-1", NULL, &err), CPS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "CN"));
  free(der);
}

static void test_cps_pki_csr_check_tampered_signature_rejected(void **state) {
  (void)state;
  size_t len = 0;
  unsigned char *der = tu_csr("reg-1", "P-384", &len, NULL);
  /* The CN bytes are inside the signed part: change one letter of "reg-1" to "reh-1". */
  unsigned char *p = NULL;
  for (size_t i = 0; i + 5 <= len; i++)
    if (!memcmp(der + i, "reg-1", 5)) p = der + i;
  assert_non_null(p);
  p[2] = 'h';
  cps_error err = {{0}};
  assert_int_equal(cps_pki_csr_check(der, len, "reh-1", NULL, &err), CPS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "signature"));
  free(der);
}

static void test_cps_pki_csr_check_garbage_and_trailing_bytes_rejected(void **state) {
  (void)state;
  cps_error err = {{0}};
  const unsigned char junk[] = {0x30, 0x03, 0x02, 0x01, 0x01};
  assert_int_equal(cps_pki_csr_check(junk, sizeof junk, "reg-1", NULL, &err), CPS_ERR_INVALID);
  assert_int_equal(cps_pki_csr_check(NULL, 0, "reg-1", NULL, &err), CPS_ERR_INVALID);
  size_t len = 0;
  unsigned char *der = tu_csr("reg-1", "P-384", &len, NULL);
  unsigned char *longer = malloc(len + 1);
  memcpy(longer, der, len);
  longer[len] = 0;
  assert_int_equal(cps_pki_csr_check(longer, len + 1, "reg-1", NULL, &err), CPS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "trailing"));
  free(longer);
  free(der);
}

static void test_cps_pki_crl_build_lists_entries_and_verifies(void **state) {
  ca_fixture *f = *state;
  cps_crl_entry e[2] = {{"0A1B2C", 1700000000}, {"7F00FF01", 1700000100}};
  unsigned char *der = NULL;
  size_t len = 0;
  assert_int_equal(cps_pki_crl_build(f->ica, f->ica_key, e, 2, 3600, 42, &der, &len), CPS_OK);
  const unsigned char *p = der;
  X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
  assert_non_null(crl);
  assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(f->ica)), 1);
  assert_int_equal(X509_NAME_cmp(X509_CRL_get_issuer(crl), X509_get_subject_name(f->ica)), 0);
  STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
  assert_int_equal(sk_X509_REVOKED_num(revs), 2);
  int found = 0;
  for (int i = 0; i < 2; i++) {
    BIGNUM *bn = ASN1_INTEGER_to_BN(X509_REVOKED_get0_serialNumber(sk_X509_REVOKED_value(revs, i)), NULL);
    char *hex = BN_bn2hex(bn);
    if (!strcmp(hex, "0A1B2C") || !strcmp(hex, "7F00FF01")) found++;
    OPENSSL_free(hex);
    BN_free(bn);
  }
  assert_int_equal(found, 2);
  int days = 0, secs = 0;
  assert_int_equal(ASN1_TIME_diff(&days, &secs, X509_CRL_get0_lastUpdate(crl), X509_CRL_get0_nextUpdate(crl)), 1);
  assert_int_equal(days * 86400 + secs, 3600);
  ASN1_INTEGER *num = X509_CRL_get_ext_d2i(crl, NID_crl_number, NULL, NULL);
  assert_non_null(num);
  assert_int_equal(ASN1_INTEGER_get(num), 42);
  ASN1_INTEGER_free(num);
  X509_CRL_free(crl);
  free(der);
}

static void test_cps_pki_crl_build_empty_is_valid(void **state) {
  ca_fixture *f = *state;
  unsigned char *der = NULL;
  size_t len = 0;
  assert_int_equal(cps_pki_crl_build(f->root, f->root_key, NULL, 0, 60, 1, &der, &len), CPS_OK);
  const unsigned char *p = der;
  X509_CRL *crl = d2i_X509_CRL(NULL, &p, (long)len);
  assert_non_null(crl);
  STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(crl);
  assert_true(revs == NULL || sk_X509_REVOKED_num(revs) == 0);
  assert_int_equal(X509_CRL_verify(crl, X509_get0_pubkey(f->root)), 1);
  X509_CRL_free(crl);
  free(der);
}

static void test_cps_pki_ca_sign_request_byor_request_gives_ca(void **state) {
  ca_fixture *f = *state;
  EVP_PKEY *k = NULL;
  X509_REQ *req = NULL;
  X509 *ca = NULL;
  assert_int_equal(cps_pki_key_generate(&k), CPS_OK);
  assert_int_equal(cps_pki_ca_csr(k, "byor ica", &req), CPS_OK);
  cps_error err = {{0}};
  assert_int_equal(cps_pki_ca_sign_request(f->root, f->root_key, req, 86400, &ca, &err), CPS_OK);
  assert_int_equal(X509_check_ca(ca), 1);
  assert_int_equal(X509_check_private_key(ca, k), 1);
  X509_free(ca);
  X509_REQ_free(req);
  EVP_PKEY_free(k);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_cps_pki_leaf_issue_valid_csr_has_device_profile, ca_setup, ca_teardown),
      cmocka_unit_test_setup_teardown(test_cps_pki_leaf_issue_short_validity_backdates_a_tenth, ca_setup, ca_teardown),
      cmocka_unit_test_setup_teardown(test_cps_pki_leaf_issue_two_leaves_have_distinct_serials, ca_setup, ca_teardown),
      cmocka_unit_test_setup_teardown(test_cps_pki_leaf_issue_validity_beyond_ica_is_capped, ca_setup, ca_teardown),
      cmocka_unit_test_setup_teardown(test_cps_pki_ca_issue_ica_is_pathlen0_ca, ca_setup, ca_teardown),
      cmocka_unit_test(test_cps_pki_csr_check_valid_p384_accepted),
      cmocka_unit_test(test_cps_pki_csr_check_p256_key_rejected),
      cmocka_unit_test(test_cps_pki_csr_check_cn_mismatch_rejected),
      cmocka_unit_test(test_cps_pki_csr_check_tampered_signature_rejected),
      cmocka_unit_test(test_cps_pki_csr_check_garbage_and_trailing_bytes_rejected),
      cmocka_unit_test_setup_teardown(test_cps_pki_crl_build_lists_entries_and_verifies, ca_setup, ca_teardown),
      cmocka_unit_test_setup_teardown(test_cps_pki_crl_build_empty_is_valid, ca_setup, ca_teardown),
      cmocka_unit_test_setup_teardown(test_cps_pki_ca_sign_request_byor_request_gives_ca, ca_setup, ca_teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
