/* Unit tests: CA keys encrypted at rest (cps_pki.h key PEM, cps_passphrase.h, cps_ca_keys.h). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "cps_ca_keys.h"
#include "cps_passphrase.h"
#include "cps_pki.h"
#include "cps_rbac.h"
#include "cps_registry.h"
#include "cps_test_util.h"

#define PASS "correct horse battery staple"

/* Temp files of one test: a database and passphrase files. */
typedef struct fx {
  char db[64];
  char pass[64];  /* PASS, mode 0600 */
  char wrong[64]; /* another passphrase, mode 0600 */
} fx;

/* Write @p text to a new temp file with @p mode; name into @p path. */
static void temp_file(char path[64], const char *text, mode_t mode) {
  snprintf(path, 64, "/tmp/cps-pass-XXXXXX");
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
  close(fd);
  assert_int_equal(chmod(path, mode), 0);
}

static int setup(void **state) {
  fx *f = calloc(1, sizeof *f);
  snprintf(f->db, sizeof f->db, "/tmp/cps-test-XXXXXX");
  int fd = mkstemp(f->db);
  assert_true(fd >= 0);
  close(fd);
  temp_file(f->pass, PASS "\nignored second line\n", 0600);
  temp_file(f->wrong, "not the passphrase\n", 0600);
  *state = f;
  return 0;
}

static int teardown(void **state) {
  fx *f = *state;
  tu_service_free(NULL, f->db);
  unlink(f->pass);
  unlink(f->wrong);
  free(f);
  return 0;
}

/* Open a service on @p db with passphrase file @p pass_file (NULL: none). */
static cps_result open_svc(const char *db, const char *pass_file, cps_service **out, cps_error *err) {
  cps_service_config cfg;
  cps_service_config_default(&cfg);
  cfg.db_path = db;
  cfg.dev_mode = true;
  cfg.retry_after_s = 0;
  cfg.ca_key_passphrase_file = pass_file;
  return cps_service_open(&cfg, out, err);
}

/* Open, then check / migrate the CA keys as certpilot-server does at start-up. */
static cps_result start_svc(const char *db, const char *pass_file, cps_service **out,
                            size_t *encrypted, cps_error *err) {
  cps_result r = open_svc(db, pass_file, out, err);
  if (r != CPS_OK) return r;
  r = cps_ca_keys_prepare(*out, encrypted, err);
  if (r != CPS_OK) {
    cps_service_close(*out);
    *out = NULL;
  }
  return r;
}

/* The CA key column of every CA row, concatenated (malloc'd). */
static char *stored_keys(cps_service *svc) {
  sqlite3_stmt *s = NULL;
  assert_int_equal(sqlite3_prepare_v2(cps_store_db(cps_service_store(svc)),
                                      "SELECT root_key FROM credential WHERE root_key IS NOT NULL"
                                      " UNION ALL SELECT key FROM ica",
                                      -1, &s, NULL),
                   SQLITE_OK);
  char *all = calloc(1, 1);
  while (sqlite3_step(s) == SQLITE_ROW) {
    const char *pem = (const char *)sqlite3_column_text(s, 0);
    char *grown = realloc(all, strlen(all) + strlen(pem) + 1);
    assert_non_null(grown);
    all = strcat(grown, pem);
  }
  sqlite3_finalize(s);
  return all;
}

/* Occurrences of @p needle in @p hay. */
static int count_of(const char *hay, const char *needle) {
  int n = 0;
  for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle)) n++;
  return n;
}

/* Every stored CA key is encrypted PKCS#8: @p n of them, no unencrypted one. */
static void assert_keys_encrypted(cps_service *svc, int n) {
  char *keys = stored_keys(svc);
  assert_int_equal(count_of(keys, "-----BEGIN ENCRYPTED PRIVATE KEY-----"), n);
  assert_null(strstr(keys, "BEGIN PRIVATE KEY"));
  free(keys);
}

/* The operations that sign with the root and the ICA keys work. */
static void assert_ca_keys_usable(cps_service *svc) {
  cps_ica ica;
  cps_error err = {{0}};
  assert_int_equal(cps_ica_load_active(svc, "p1", &ica, &err), CPS_OK);
  assert_int_equal(X509_check_private_key(ica.cert, ica.key), 1);
  cps_ica_clear(&ica);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "GET", "/crl/root", NULL, NULL), 200);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "GET", "/crl/policies/p1", NULL, NULL), 200);
}

static void test_cps_pki_key_to_pem_pass_encrypted_pkcs8_needs_the_passphrase(void **state) {
  (void)state;
  EVP_PKEY *key = NULL, *back = NULL;
  char *enc = NULL, *plain = NULL;
  assert_int_equal(cps_pki_key_generate(&key), CPS_OK);
  assert_int_equal(cps_pki_key_to_pem_pass(key, PASS, &enc), CPS_OK);
  assert_int_equal(count_of(enc, "-----BEGIN ENCRYPTED PRIVATE KEY-----"), 1);
  assert_null(strstr(enc, "BEGIN PRIVATE KEY"));
  assert_true(cps_pki_key_pem_encrypted(enc));
  assert_int_equal(cps_pki_key_from_pem_pass(enc, NULL, &back), CPS_ERR_INVALID);
  assert_int_equal(cps_pki_key_from_pem_pass(enc, "correct horse battery", &back), CPS_ERR_INVALID);
  assert_int_equal(cps_pki_key_from_pem(enc, &back), CPS_ERR_INVALID);
  assert_null(back);
  assert_int_equal(cps_pki_key_from_pem_pass(enc, PASS, &back), CPS_OK);
  assert_int_equal(EVP_PKEY_eq(key, back), 1);
  EVP_PKEY_free(back);
  /* unencrypted PEM still reads with a passphrase set */
  assert_int_equal(cps_pki_key_to_pem_pass(key, NULL, &plain), CPS_OK);
  assert_false(cps_pki_key_pem_encrypted(plain));
  assert_int_equal(cps_pki_key_from_pem_pass(plain, PASS, &back), CPS_OK);
  assert_int_equal(EVP_PKEY_eq(key, back), 1);
  EVP_PKEY_free(back);
  free(enc);
  free(plain);
  EVP_PKEY_free(key);
}

/* A passphrase file holding @p text with mode @p mode reads as @p want. */
static void assert_reads_as(const char *text, mode_t mode, const char *want) {
  char path[64];
  char *pass = NULL;
  cps_error err = {{0}};
  temp_file(path, text, mode);
  assert_int_equal(cps_passphrase_read(path, &pass, &err), CPS_OK);
  assert_string_equal(pass, want);
  cps_passphrase_free(pass);
  unlink(path);
}

static void test_cps_passphrase_read_first_line_without_line_ending(void **state) {
  (void)state;
  assert_reads_as(PASS "\nignored second line\n", 0600, PASS);
  assert_reads_as("no newline at the end", 0400, "no newline at the end");
  assert_reads_as("dos line\r\nsecond\r\n", 0600, "dos line");
  assert_reads_as(" spaces kept \n", 0600, " spaces kept ");
}

static void test_cps_passphrase_read_group_or_world_readable_refused(void **state) {
  fx *f = *state;
  const mode_t modes[] = {0644, 0640, 0604, 0660};
  for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++) {
    assert_int_equal(chmod(f->pass, modes[i]), 0);
    char *pass = NULL;
    cps_error err = {{0}};
    assert_int_equal(cps_passphrase_read(f->pass, &pass, &err), CPS_ERR_FORBIDDEN);
    assert_null(pass);
    assert_non_null(strstr(err.msg, f->pass));
    assert_non_null(strstr(err.msg, "chmod 600"));
    assert_null(strstr(err.msg, "horse"));
  }
}

static void test_cps_passphrase_read_empty_missing_or_directory_refused(void **state) {
  (void)state;
  char empty[64], blank[64];
  char *pass = NULL;
  cps_error err = {{0}};
  temp_file(empty, "", 0600);
  temp_file(blank, "\nsecond line\n", 0600);
  assert_int_equal(cps_passphrase_read(empty, &pass, &err), CPS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "is empty"));
  assert_int_equal(cps_passphrase_read(blank, &pass, &err), CPS_ERR_INVALID);
  assert_non_null(strstr(err.msg, "is empty"));
  assert_int_equal(cps_passphrase_read("/nonexistent/pass", &pass, &err), CPS_ERR_IO);
  assert_non_null(strstr(err.msg, "/nonexistent/pass"));
  assert_int_equal(cps_passphrase_read("/tmp", &pass, &err), CPS_ERR_FORBIDDEN);
  assert_null(pass);
  unlink(empty);
  unlink(blank);
}

static void test_cps_service_with_passphrase_writes_ca_keys_encrypted(void **state) {
  fx *f = *state;
  cps_service *svc = NULL;
  size_t n = 99;
  cps_error err = {{0}};
  assert_int_equal(start_svc(f->db, f->pass, &svc, &n, &err), CPS_OK);
  assert_int_equal(n, 0);
  tu_setup_basic(svc);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "POST", "/policies",
                           "{\"name\":\"byor\",\"validityDays\":7,\"byor\":true}", NULL), 201);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "POST", "/policies/p1/revoke", NULL, NULL),
                   200);
  assert_keys_encrypted(svc, 4); /* root, p1's first and second ICA, byor's pending ICA */
  assert_ca_keys_usable(svc);
  cps_service_close(svc);
}

static void test_cps_ca_keys_prepare_unencrypted_db_migrated_in_place(void **state) {
  fx *f = *state;
  cps_service *svc = NULL;
  size_t n = 99;
  cps_error err = {{0}};
  assert_int_equal(start_svc(f->db, NULL, &svc, &n, &err), CPS_OK);
  assert_int_equal(n, 0);
  tu_setup_basic(svc);
  char *before = stored_keys(svc);
  assert_int_equal(count_of(before, "-----BEGIN PRIVATE KEY-----"), 2);
  free(before);
  cps_service_close(svc);
  assert_int_equal(start_svc(f->db, f->pass, &svc, &n, &err), CPS_OK);
  assert_int_equal(n, 2);
  assert_keys_encrypted(svc, 2);
  assert_ca_keys_usable(svc);
  cps_service_close(svc);
  /* a second start has nothing left to migrate */
  assert_int_equal(start_svc(f->db, f->pass, &svc, &n, &err), CPS_OK);
  assert_int_equal(n, 0);
  cps_service_close(svc);
}

/* A database whose CA keys are encrypted with PASS; its keys into *keys (caller frees). */
static void encrypted_db(fx *f, char **keys) {
  cps_service *svc = NULL;
  size_t n = 0;
  cps_error err = {{0}};
  assert_int_equal(start_svc(f->db, f->pass, &svc, &n, &err), CPS_OK);
  tu_setup_basic(svc);
  *keys = stored_keys(svc);
  cps_service_close(svc);
}

/* Keys in the database now equal @p keys. */
static void assert_keys_unchanged(fx *f, const char *keys) {
  cps_service *svc = NULL;
  cps_error err = {{0}};
  assert_int_equal(open_svc(f->db, f->pass, &svc, &err), CPS_OK);
  char *now = stored_keys(svc);
  assert_string_equal(now, keys);
  free(now);
  cps_service_close(svc);
}

/* Start on a database encrypted with PASS using @p pass_file: refused, keys unchanged. */
static void start_refused(fx *f, const char *pass_file, cps_error *err) {
  char *keys = NULL;
  encrypted_db(f, &keys);
  cps_service *svc = NULL;
  size_t n = 0;
  assert_int_equal(start_svc(f->db, pass_file, &svc, &n, err), CPS_ERR_UNAUTHORIZED);
  assert_null(svc);
  assert_keys_unchanged(f, keys);
  free(keys);
}

static void test_cps_ca_keys_prepare_encrypted_without_passphrase_refused(void **state) {
  fx *f = *state;
  cps_error err = {{0}};
  start_refused(f, NULL, &err);
  assert_non_null(strstr(err.msg, "are encrypted"));
  assert_non_null(strstr(err.msg, "ca-key-passphrase-file"));
}

static void test_cps_ca_keys_prepare_wrong_passphrase_refused_store_unchanged(void **state) {
  fx *f = *state;
  cps_error err = {{0}};
  start_refused(f, f->wrong, &err);
  assert_non_null(strstr(err.msg, "does not decrypt the CA keys"));
  assert_non_null(strstr(err.msg, f->wrong));
  assert_null(strstr(err.msg, "not the passphrase"));
}

static void test_cps_ca_keys_prepare_mixed_db_wrong_passphrase_migrates_nothing(void **state) {
  fx *f = *state;
  cps_service *svc = NULL;
  size_t n = 0;
  cps_error err = {{0}};
  /* root and p1's ICA unencrypted, then a policy whose ICA key is encrypted with PASS */
  assert_int_equal(start_svc(f->db, NULL, &svc, &n, &err), CPS_OK);
  tu_setup_basic(svc);
  cps_service_close(svc);
  assert_int_equal(open_svc(f->db, f->pass, &svc, &err), CPS_OK);
  assert_int_equal(tu_mgmt(svc, CPS_ROLE_CONTRIBUTOR, "POST", "/policies",
                           "{\"name\":\"p2\",\"validityDays\":7}", NULL), 201);
  char *keys = stored_keys(svc);
  cps_service_close(svc);
  assert_int_equal(count_of(keys, "-----BEGIN PRIVATE KEY-----"), 2);
  assert_int_equal(count_of(keys, "-----BEGIN ENCRYPTED PRIVATE KEY-----"), 1);
  assert_int_equal(start_svc(f->db, f->wrong, &svc, &n, &err), CPS_ERR_UNAUTHORIZED);
  assert_keys_unchanged(f, keys); /* the unencrypted keys read before were not rewritten */
  assert_int_equal(start_svc(f->db, f->pass, &svc, &n, &err), CPS_OK);
  assert_int_equal(n, 2);
  assert_keys_encrypted(svc, 3);
  cps_service_close(svc);
  free(keys);
}

static void test_cps_service_open_passphrase_file_0644_refused(void **state) {
  fx *f = *state;
  assert_int_equal(chmod(f->pass, 0644), 0);
  cps_service *svc = NULL;
  cps_error err = {{0}};
  assert_int_equal(open_svc(f->db, f->pass, &svc, &err), CPS_ERR_FORBIDDEN);
  assert_null(svc);
  assert_non_null(strstr(err.msg, "ca-key-passphrase-file"));
  assert_non_null(strstr(err.msg, "mode 644"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cps_pki_key_to_pem_pass_encrypted_pkcs8_needs_the_passphrase),
      cmocka_unit_test(test_cps_passphrase_read_first_line_without_line_ending),
      cmocka_unit_test_setup_teardown(test_cps_passphrase_read_group_or_world_readable_refused, setup, teardown),
      cmocka_unit_test(test_cps_passphrase_read_empty_missing_or_directory_refused),
      cmocka_unit_test_setup_teardown(test_cps_service_with_passphrase_writes_ca_keys_encrypted, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cps_ca_keys_prepare_unencrypted_db_migrated_in_place, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cps_ca_keys_prepare_encrypted_without_passphrase_refused, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cps_ca_keys_prepare_wrong_passphrase_refused_store_unchanged, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cps_ca_keys_prepare_mixed_db_wrong_passphrase_migrates_nothing, setup, teardown),
      cmocka_unit_test_setup_teardown(test_cps_service_open_passphrase_file_0644_refused, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
