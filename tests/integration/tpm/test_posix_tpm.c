/* The tpm2-tss port against a private swtpm: EK/SRK creation and reuse,
 * HMAC with a persisted key, and the error paths (unreachable, bad TCTI). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "certpilot/cp_log.h"
#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_tpm.h"
#include "cp_swtpm.h"
#include "tpm_test_util.h"

static char g_log[2048];

static void capture_log(void *ctx, cp_log_level level, const char *msg)
{
  (void)ctx;
  (void)level;
  size_t n = strlen(g_log);
  snprintf(g_log + n, sizeof g_log - n, "%s\n", msg);
}

typedef struct fixture {
  cp_swtpm sw;
  cp_posix_tpm ptpm;
  cp_tpm tpm;
} fixture;

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof *f);

  if (f == NULL || cp_swtpm_start(&f->sw) != 0)
    return -1;
  if (cp_posix_tpm_open(&f->ptpm, f->sw.tcti) != CP_OK)
    return -1;
  if (cp_posix_tpm_interface(&f->ptpm, &f->tpm) != CP_OK)
    return -1;
  g_log[0] = '\0';
  cp_log_set_callback(capture_log, NULL, CP_LOG_DEBUG);
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;

  cp_log_set_callback(NULL, NULL, CP_LOG_ERROR);
  cp_posix_tpm_close(&f->ptpm);
  cp_swtpm_stop(&f->sw);
  free(f);
  return 0;
}

static void unmarshal_public(const uint8_t *buf, size_t len, TPM2B_PUBLIC *pub)
{
  size_t off = 0;

  memset(pub, 0, sizeof *pub);
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(buf, len, &off, pub), 0);
  assert_int_equal(off, len);
}

static void test_cp_tpm_get_public_fresh_tpm_creates_standard_ek(void **state)
{
  fixture *f = *state;
  uint8_t buf[CP_TPM_PUBLIC_MAX];
  size_t len = 0;
  TPM2B_PUBLIC pub;
  const TPMA_OBJECT want = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                           TPMA_OBJECT_SENSITIVEDATAORIGIN |
                           TPMA_OBJECT_ADMINWITHPOLICY | TPMA_OBJECT_RESTRICTED |
                           TPMA_OBJECT_DECRYPT;

  assert_int_equal(tpm_test_handle_present(&f->ptpm, CP_TPM_EK_HANDLE), 0);
  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_EK, buf, sizeof buf, &len),
                   CP_OK);
  unmarshal_public(buf, len, &pub);
  assert_int_equal(pub.publicArea.type, TPM2_ALG_RSA);
  assert_int_equal(pub.publicArea.nameAlg, TPM2_ALG_SHA256);
  assert_int_equal(pub.publicArea.objectAttributes, want);
  assert_int_equal(pub.publicArea.parameters.rsaDetail.keyBits, 2048);
  assert_int_equal(pub.publicArea.parameters.rsaDetail.symmetric.algorithm,
                   TPM2_ALG_AES);
  assert_int_equal(pub.publicArea.authPolicy.size, 32);
  assert_int_equal(pub.publicArea.authPolicy.buffer[0], 0x83);
  assert_int_equal(pub.publicArea.unique.rsa.size, 256);
  assert_int_equal(tpm_test_handle_present(&f->ptpm, CP_TPM_EK_HANDLE), 1);
  assert_int_equal(tpm_test_handle_present(&f->ptpm, CP_TPM_SRK_HANDLE), 1);
}

/* tpm2_createek uses the TCG standard template: same seed -> same key. */
static void test_cp_tpm_get_public_ek_equals_tpm2_tools_standard_ek(void **state)
{
  fixture *f = *state;
  uint8_t buf[CP_TPM_PUBLIC_MAX], ref[CP_TPM_PUBLIC_MAX];
  size_t len = 0, ref_len;
  char cmd[1024], path[300];
  TPM2B_PUBLIC ours, theirs;
  FILE *fp;

  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_EK, buf, sizeof buf, &len),
                   CP_OK);
  snprintf(path, sizeof path, "%s/ek-ref.pub", f->sw.state_dir);
  snprintf(cmd, sizeof cmd,
           "tpm2_createek -T '%s' -G rsa -c '%s/ek.ctx' -u '%s' >/dev/null 2>&1",
           f->sw.tcti, f->sw.state_dir, path);
  assert_int_equal(system(cmd), 0);
  fp = fopen(path, "rb");
  assert_non_null(fp);
  ref_len = fread(ref, 1, sizeof ref, fp);
  fclose(fp);
  unmarshal_public(buf, len, &ours);
  unmarshal_public(ref, ref_len, &theirs);
  assert_int_equal(ours.publicArea.unique.rsa.size, theirs.publicArea.unique.rsa.size);
  assert_memory_equal(ours.publicArea.unique.rsa.buffer,
                      theirs.publicArea.unique.rsa.buffer,
                      ours.publicArea.unique.rsa.size);
}

static void test_cp_tpm_get_public_reopened_tpm_reuses_persisted_keys(void **state)
{
  fixture *f = *state;
  uint8_t ek1[CP_TPM_PUBLIC_MAX], ek2[CP_TPM_PUBLIC_MAX];
  uint8_t srk1[CP_TPM_PUBLIC_MAX], srk2[CP_TPM_PUBLIC_MAX];
  size_t ek1_len, ek2_len, srk1_len, srk2_len;
  TPM2B_PUBLIC srk;

  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_EK, ek1, sizeof ek1, &ek1_len), CP_OK);
  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_SRK, srk1, sizeof srk1, &srk1_len), CP_OK);
  cp_posix_tpm_close(&f->ptpm);
  assert_int_equal(cp_posix_tpm_open(&f->ptpm, f->sw.tcti), CP_OK);
  assert_int_equal(cp_posix_tpm_interface(&f->ptpm, &f->tpm), CP_OK);
  g_log[0] = '\0';
  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_EK, ek2, sizeof ek2, &ek2_len), CP_OK);
  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_SRK, srk2, sizeof srk2, &srk2_len), CP_OK);
  assert_null(strstr(g_log, "creating")); /* reused, not re-created */
  assert_int_equal(ek1_len, ek2_len);
  assert_memory_equal(ek1, ek2, ek1_len);
  assert_int_equal(srk1_len, srk2_len);
  assert_memory_equal(srk1, srk2, srk1_len);
  assert_memory_not_equal(ek1, srk1, ek1_len < srk1_len ? ek1_len : srk1_len);
  unmarshal_public(srk1, srk1_len, &srk);
  assert_true(srk.publicArea.objectAttributes & TPMA_OBJECT_USERWITHAUTH);
  assert_true(srk.publicArea.objectAttributes & TPMA_OBJECT_RESTRICTED);
  assert_int_equal(srk.publicArea.authPolicy.size, 0);
}

static void test_cp_tpm_get_public_small_buffer_leaves_output_untouched(void **state)
{
  fixture *f = *state;
  uint8_t buf[64];
  size_t len = 7;

  memset(buf, 0xA5, sizeof buf);
  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_EK, buf, sizeof buf, &len),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, 7);
  for (size_t i = 0; i < sizeof buf; i++)
    assert_int_equal(buf[i], 0xA5);
}

static void test_cp_tpm_hmac_sha256_no_identity_key_returns_not_found(void **state)
{
  fixture *f = *state;
  uint8_t mac[32];
  int present = -1;

  assert_int_equal(cp_posix_tpm_has_identity(&f->ptpm, &present), CP_OK);
  assert_int_equal(present, 0);
  assert_int_equal(cp_tpm_hmac_sha256(&f->tpm, (const uint8_t *)"x", 1, mac),
                   CP_ERR_NOT_FOUND);
  assert_non_null(strstr(g_log, "no identity key"));
}

static void check_hmac(fixture *f, const uint8_t *key, size_t key_len, size_t data_len)
{
  uint8_t *data = malloc(data_len + 1);
  uint8_t mac[32], ref[32];
  unsigned ref_len = 0;

  assert_non_null(data);
  for (size_t i = 0; i < data_len; i++)
    data[i] = (uint8_t)(i * 7 + 3);
  assert_int_equal(cp_tpm_hmac_sha256(&f->tpm, data, data_len, mac), CP_OK);
  assert_non_null(HMAC(EVP_sha256(), key, (int)key_len, data, data_len, ref, &ref_len));
  assert_int_equal(ref_len, 32);
  assert_memory_equal(mac, ref, 32);
  free(data);
}

static void test_cp_tpm_hmac_sha256_persisted_key_matches_openssl(void **state)
{
  fixture *f = *state;
  uint8_t key[32], dummy[CP_TPM_PUBLIC_MAX];
  size_t len;
  int present = 0;

  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(0x40 + i);
  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_SRK, dummy, sizeof dummy, &len), CP_OK);
  assert_int_equal(tpm_test_persist_known_hmac_key(&f->ptpm, key, sizeof key), 0);
  assert_int_equal(cp_posix_tpm_has_identity(&f->ptpm, &present), CP_OK);
  assert_int_equal(present, 1);
  check_hmac(f, key, sizeof key, 0);
  check_hmac(f, key, sizeof key, 61); /* a SAS string-to-sign's size */
  check_hmac(f, key, sizeof key, 1024);
}

static void test_cp_tpm_hmac_sha256_long_input_uses_sequence_and_matches(void **state)
{
  fixture *f = *state;
  uint8_t key[20], dummy[CP_TPM_PUBLIC_MAX];
  size_t len;

  for (size_t i = 0; i < sizeof key; i++)
    key[i] = (uint8_t)(0x90 ^ i);
  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_SRK, dummy, sizeof dummy, &len), CP_OK);
  assert_int_equal(tpm_test_persist_known_hmac_key(&f->ptpm, key, sizeof key), 0);
  check_hmac(f, key, sizeof key, 1025);
  check_hmac(f, key, sizeof key, 5000);
}

static void test_cp_posix_tpm_open_unreachable_returns_tpm_error(void **state)
{
  cp_posix_tpm t;
  char tcti[96];
  int port = cp_swtpm_free_port_pair(); /* nothing listens there */

  (void)state;
  assert_true(port > 0);
  snprintf(tcti, sizeof tcti, "swtpm:host=127.0.0.1,port=%d", port);
  g_log[0] = '\0';
  cp_log_set_callback(capture_log, NULL, CP_LOG_DEBUG);
  memset(&t, 0x5A, sizeof t);
  assert_int_equal(cp_posix_tpm_open(&t, tcti), CP_ERR_TPM);
  assert_null(t._internal.esys);
  assert_non_null(strstr(g_log, "unreachable"));
  assert_non_null(strstr(g_log, tcti));
  cp_log_set_callback(NULL, NULL, CP_LOG_ERROR);
}

/* A TPM nobody started yet (no firmware, bare simulator): open sends Startup. */
static void test_cp_posix_tpm_open_unstarted_tpm_sends_startup(void **state)
{
  cp_swtpm sw;
  cp_posix_tpm t;
  cp_tpm tpm;
  uint8_t buf[CP_TPM_PUBLIC_MAX];
  size_t len = 0;

  (void)state;
  assert_int_equal(cp_swtpm_start_flags(&sw, "not-need-init"), 0);
  assert_int_equal(cp_posix_tpm_open(&t, sw.tcti), CP_OK);
  assert_int_equal(cp_posix_tpm_interface(&t, &tpm), CP_OK);
  assert_int_equal(cp_tpm_get_public(&tpm, CP_TPM_KEY_SRK, buf, sizeof buf, &len), CP_OK);
  assert_true(len > 256);
  cp_posix_tpm_close(&t);
  /* reopening the now started TPM works too (no second Startup needed) */
  assert_int_equal(cp_posix_tpm_open(&t, sw.tcti), CP_OK);
  cp_posix_tpm_close(&t);
  cp_swtpm_stop(&sw);
}

static void test_cp_posix_tpm_open_unknown_tcti_returns_config_error(void **state)
{
  cp_posix_tpm t;

  (void)state;
  assert_int_equal(cp_posix_tpm_open(&t, "bogus:x"), CP_ERR_CONFIG);
  assert_int_equal(cp_posix_tpm_open(&t, "swtpmx:port=1"), CP_ERR_CONFIG);
  assert_int_equal(cp_posix_tpm_open(NULL, "swtpm:"), CP_ERR_INVALID_ARG);
}

static void test_cp_tpm_calls_null_arguments_return_invalid_arg(void **state)
{
  fixture *f = *state;
  uint8_t buf[32];
  size_t len;
  cp_tpm empty = {NULL, NULL};

  assert_int_equal(cp_tpm_get_public(NULL, CP_TPM_KEY_EK, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_tpm_get_public(&empty, CP_TPM_KEY_EK, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_tpm_get_public(&f->tpm, (cp_tpm_key)9, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_tpm_import_identity(&f->tpm, buf, 0), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_tpm_hmac_sha256(&f->tpm, NULL, 3, buf), CP_ERR_INVALID_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_cp_tpm_get_public_fresh_tpm_creates_standard_ek, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_tpm_get_public_ek_equals_tpm2_tools_standard_ek, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_tpm_get_public_reopened_tpm_reuses_persisted_keys, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_tpm_get_public_small_buffer_leaves_output_untouched, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_tpm_hmac_sha256_no_identity_key_returns_not_found, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_tpm_hmac_sha256_persisted_key_matches_openssl, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_tpm_hmac_sha256_long_input_uses_sequence_and_matches, setup, teardown),
    cmocka_unit_test(test_cp_posix_tpm_open_unreachable_returns_tpm_error),
    cmocka_unit_test(test_cp_posix_tpm_open_unstarted_tpm_sends_startup),
    cmocka_unit_test(test_cp_posix_tpm_open_unknown_tcti_returns_config_error),
    cmocka_unit_test_setup_teardown(test_cp_tpm_calls_null_arguments_return_invalid_arg, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
