/* Unit tests: hashed CA directory mirrors a PEM bundle. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "hub_trust_dir.h"

/* PEM of a fresh self-signed P-384 CA named @p cn (malloc'd). */
static char *make_ca(const char *cn) {
  EVP_PKEY *k = EVP_EC_gen("P-384");
  X509 *x = X509_new();
  assert_non_null(k);
  assert_non_null(x);
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_NAME *n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0);
  X509_set_issuer_name(x, n);
  X509_set_pubkey(x, k);
  assert_true(X509_sign(x, k, EVP_sha384()) > 0);
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char *data;
  long len = BIO_get_mem_data(b, &data);
  char *out = malloc((size_t)len + 1);
  memcpy(out, data, (size_t)len);
  out[len] = '\0';
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(k);
  return out;
}

static int count_hash_files(const char *dir) {
  DIR *d = opendir(dir);
  int n = 0;
  struct dirent *de;
  while ((de = readdir(d)) != NULL)
    if (strlen(de->d_name) >= 10 && de->d_name[8] == '.') n++;
  closedir(d);
  return n;
}

static void test_hub_trust_dir_sync_adds_and_removes(void **state) {
  (void)state;
  char dir[] = "/tmp/cp_hub_ca_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char *a = make_ca("ca-a"), *b = make_ca("ca-b");
  size_t la = strlen(a), lb = strlen(b);
  char *both = malloc(la + lb + 40);
  snprintf(both, la + lb + 40, "%s\nsome text\n%s", a, b);
  int changed = -1;
  assert_int_equal(hub_trust_dir_sync(dir, both, strlen(both), &changed), CP_OK);
  assert_int_equal(changed, 1);
  assert_int_equal(count_hash_files(dir), 2);
  /* same bundle again: nothing to do */
  assert_int_equal(hub_trust_dir_sync(dir, both, strlen(both), &changed), CP_OK);
  assert_int_equal(changed, 0);
  /* an unrelated file survives, a dropped CA is removed */
  char other[128];
  snprintf(other, sizeof other, "%s/README", dir);
  FILE *f = fopen(other, "w");
  fputs("x", f);
  fclose(f);
  assert_int_equal(hub_trust_dir_sync(dir, a, la, &changed), CP_OK);
  assert_int_equal(changed, 1);
  assert_int_equal(count_hash_files(dir), 1);
  assert_int_equal(access(other, F_OK), 0);
  /* the remaining file is named by the subject hash of ca-a */
  BIO *bio = BIO_new_mem_buf(a, (int)la);
  X509 *x = PEM_read_bio_X509(bio, NULL, NULL, NULL);
  char name[160];
  snprintf(name, sizeof name, "%s/%08lx.0", dir, X509_subject_name_hash(x) & 0xffffffffUL);
  X509_free(x);
  BIO_free(bio);
  assert_int_equal(access(name, R_OK), 0);
  /* empty bundle empties the directory */
  assert_int_equal(hub_trust_dir_sync(dir, "", 0, &changed), CP_OK);
  assert_int_equal(count_hash_files(dir), 0);
  unlink(other);
  rmdir(dir);
  free(a);
  free(b);
  free(both);
}

static void test_hub_trust_dir_sync_corrupt_cert_writes_nothing(void **state) {
  (void)state;
  char dir[] = "/tmp/cp_hub_ca_XXXXXX";
  assert_non_null(mkdtemp(dir));
  char *a = make_ca("ca-a");
  const char *bad = "-----BEGIN CERTIFICATE-----\nAAAAnotacert\n-----END CERTIFICATE-----\n";
  size_t n = strlen(a) + strlen(bad) + 1;
  char *both = malloc(n);
  snprintf(both, n, "%s%s", a, bad);
  int changed = -1;
  assert_int_equal(hub_trust_dir_sync(dir, both, strlen(both), &changed), CP_ERR_PARSE);
  assert_int_equal(count_hash_files(dir), 0);
  assert_int_equal(hub_trust_dir_sync(NULL, a, strlen(a), &changed), CP_ERR_INVALID_ARG);
  assert_int_equal(hub_trust_dir_sync("/nonexistent-dir-xyz", a, strlen(a), &changed), CP_ERR_IO);
  rmdir(dir);
  free(a);
  free(both);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_trust_dir_sync_adds_and_removes),
      cmocka_unit_test(test_hub_trust_dir_sync_corrupt_cert_writes_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
