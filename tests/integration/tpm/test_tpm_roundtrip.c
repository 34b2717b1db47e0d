/* The decisive TPM test: the server builds the authenticationKey for the
 * device's EK/SRK, the device (swtpm) activates + imports it, HMACs a SAS
 * string-to-sign, and the server verifies with the key it generated. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_log.h"
#include "certpilot/cp_encoding.h"
#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_sas.h"
#include "certpilot/cp_tpm.h"
#include "cp_swtpm.h"
#include "cps_tpm.h"

static const char *k_sts = "0ne00000001%2fregistrations%2fdev-tpm-1\n1900000000";
static char g_log[4096];

static void capture_log(void *ctx, cp_log_level level, const char *msg)
{
  size_t n = strlen(g_log);

  (void)ctx;
  (void)level;
  snprintf(g_log + n, sizeof g_log - n, "%s\n", msg);
}

typedef struct device {
  cp_swtpm sw;
  cp_posix_tpm ptpm;
  cp_tpm tpm;
  uint8_t ek[CP_TPM_PUBLIC_MAX], srk[CP_TPM_PUBLIC_MAX];
  size_t ek_len, srk_len;
} device;

static int device_start(device *d)
{
  if (cp_swtpm_start(&d->sw) != 0 || cp_posix_tpm_open(&d->ptpm, d->sw.tcti) != CP_OK ||
      cp_posix_tpm_interface(&d->ptpm, &d->tpm) != CP_OK ||
      cp_tpm_get_public(&d->tpm, CP_TPM_KEY_EK, d->ek, sizeof d->ek, &d->ek_len) != CP_OK ||
      cp_tpm_get_public(&d->tpm, CP_TPM_KEY_SRK, d->srk, sizeof d->srk, &d->srk_len) != CP_OK)
    return -1;
  return 0;
}

static void device_stop(device *d)
{
  cp_posix_tpm_close(&d->ptpm);
  cp_swtpm_stop(&d->sw);
}

static int setup(void **state)
{
  device *d = calloc(1, sizeof *d);

  if (d == NULL || device_start(d) != 0)
    return -1;
  g_log[0] = '\0';
  cp_log_set_callback(capture_log, NULL, CP_LOG_DEBUG);
  *state = d;
  return 0;
}

static int teardown(void **state)
{
  device *d = *state;

  cp_log_set_callback(NULL, NULL, CP_LOG_ERROR);
  device_stop(d);
  free(d);
  return 0;
}

static void build(const device *d, cps_tpm_challenge *c)
{
  cps_tpm_error err;

  assert_int_equal(cps_tpm_challenge_build(d->ek, d->ek_len, d->srk, d->srk_len, c, &err),
                   CPS_TPM_OK);
}

/* Device signs @p sts with the TPM; server checks with @p key. */
static cps_tpm_result sign_and_verify(device *d, const uint8_t *key, const char *sts,
                                      size_t sts_len)
{
  uint8_t sig[CP_TPM_HMAC_LEN];

  assert_int_equal(cp_tpm_hmac_sha256(&d->tpm, (const uint8_t *)sts, sts_len, sig), CP_OK);
  return cps_tpm_sas_verify(key, CPS_TPM_IDENTITY_KEY_LEN, sts, sts_len, sig,
                            sizeof sig, NULL);
}

static int has_identity(device *d)
{
  int present = -1;

  assert_int_equal(cp_posix_tpm_has_identity(&d->ptpm, &present), CP_OK);
  return present;
}

static void test_tpm_roundtrip_server_challenge_device_hmac_verifies(void **state)
{
  device *d = *state;
  cps_tpm_challenge c;
  char *long_sts;

  build(d, &c);
  assert_int_equal(has_identity(d), 0);
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len), CP_OK);
  assert_int_equal(has_identity(d), 1);
  assert_int_equal(sign_and_verify(d, c.identity_key, k_sts, strlen(k_sts)), CPS_TPM_OK);
  /* long input goes through the HMAC sequence and still verifies */
  long_sts = malloc(3000);
  assert_non_null(long_sts);
  for (int i = 0; i < 3000; i++)
    long_sts[i] = (char)('a' + i % 26);
  assert_int_equal(sign_and_verify(d, c.identity_key, long_sts, 3000), CPS_TPM_OK);
  free(long_sts);
  cps_tpm_challenge_free(&c);
}

static void test_tpm_roundtrip_key_survives_reopen(void **state)
{
  device *d = *state;
  cps_tpm_challenge c;

  build(d, &c);
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len), CP_OK);
  cp_posix_tpm_close(&d->ptpm);
  assert_int_equal(cp_posix_tpm_open(&d->ptpm, d->sw.tcti), CP_OK);
  assert_int_equal(cp_posix_tpm_interface(&d->ptpm, &d->tpm), CP_OK);
  assert_int_equal(sign_and_verify(d, c.identity_key, k_sts, strlen(k_sts)), CPS_TPM_OK);
  cps_tpm_challenge_free(&c);
}

static void test_tpm_roundtrip_second_import_replaces_identity_key(void **state)
{
  device *d = *state;
  cps_tpm_challenge c1, c2;

  build(d, &c1);
  build(d, &c2);
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c1.blob, c1.blob_len), CP_OK);
  assert_int_equal(sign_and_verify(d, c1.identity_key, k_sts, strlen(k_sts)), CPS_TPM_OK);
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c2.blob, c2.blob_len), CP_OK);
  assert_int_equal(sign_and_verify(d, c2.identity_key, k_sts, strlen(k_sts)), CPS_TPM_OK);
  assert_int_equal(sign_and_verify(d, c1.identity_key, k_sts, strlen(k_sts)),
                   CPS_TPM_ERR_UNAUTHORIZED);
  cps_tpm_challenge_free(&c1);
  cps_tpm_challenge_free(&c2);
}

/* Offsets of bytes to flip: inside each protected part of the blob. */
static void tamper_offsets(const cps_tpm_challenge *c, size_t out[5])
{
  size_t cred = (size_t)(c->blob[0] << 8 | c->blob[1]);
  size_t sec_at = 2 + cred;
  size_t sec = (size_t)(c->blob[sec_at] << 8 | c->blob[sec_at + 1]);
  size_t dup_at = sec_at + 2 + sec;
  size_t dup = (size_t)(c->blob[dup_at] << 8 | c->blob[dup_at + 1]);
  size_t wrap_at = dup_at + 2 + dup;

  out[0] = 2 + 2 + 5;          /* credential integrity HMAC */
  out[1] = 2 + cred - 3;       /* encrypted credential */
  out[2] = sec_at + 2 + 100;   /* EK-encrypted seed */
  out[3] = dup_at + 2 + dup - 4; /* duplicated sensitive */
  out[4] = wrap_at + 2 + 17;   /* SRK-encrypted seed */
}

static void test_tpm_import_tampered_blob_fails_and_keeps_old_key(void **state)
{
  device *d = *state;
  cps_tpm_challenge old, c;
  size_t offs[5];

  build(d, &old);
  assert_int_equal(cp_tpm_import_identity(&d->tpm, old.blob, old.blob_len), CP_OK);
  build(d, &c);
  tamper_offsets(&c, offs);
  for (int i = 0; i < 5; i++) {
    cp_result r;

    assert_true(offs[i] < c.blob_len);
    c.blob[offs[i]] ^= 0x10;
    g_log[0] = '\0';
    r = cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len);
    c.blob[offs[i]] ^= 0x10;
    assert_int_equal(r, CP_ERR_TPM);
    assert_non_null(strstr(g_log, "tpm: "));
    /* the earlier identity key is still the persisted one */
    assert_int_equal(sign_and_verify(d, old.identity_key, k_sts, strlen(k_sts)), CPS_TPM_OK);
  }
  /* untampered, it still imports: the failures were the tampering */
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len), CP_OK);
  assert_int_equal(sign_and_verify(d, c.identity_key, k_sts, strlen(k_sts)), CPS_TPM_OK);
  cps_tpm_challenge_free(&old);
  cps_tpm_challenge_free(&c);
}

static void test_tpm_import_tampered_blob_on_fresh_tpm_persists_nothing(void **state)
{
  device *d = *state;
  cps_tpm_challenge c;
  size_t offs[5];

  build(d, &c);
  tamper_offsets(&c, offs);
  c.blob[offs[3]] ^= 0x01;
  g_log[0] = '\0';
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len), CP_ERR_TPM);
  assert_non_null(strstr(g_log, "Import of the identity key"));
  assert_int_equal(has_identity(d), 0);
  cps_tpm_challenge_free(&c);
}

static void test_tpm_import_truncated_blob_returns_parse_error(void **state)
{
  device *d = *state;
  cps_tpm_challenge c;

  build(d, &c);
  g_log[0] = '\0';
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len - 10), CP_ERR_PARSE);
  assert_non_null(strstr(g_log, "authenticationKey malformed"));
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, 3), CP_ERR_PARSE);
  assert_int_equal(has_identity(d), 0);
  cps_tpm_challenge_free(&c);
}

static void test_tpm_import_challenge_for_other_ek_fails_cleanly(void **state)
{
  device *d = *state;
  device *other = calloc(1, sizeof *other);
  cps_tpm_challenge c;
  cps_tpm_error err;

  assert_non_null(other);
  assert_int_equal(device_start(other), 0);
  /* challenge made for another TPM's EK (and SRK) */
  assert_int_equal(cps_tpm_challenge_build(other->ek, other->ek_len, other->srk,
                                           other->srk_len, &c, &err), CPS_TPM_OK);
  g_log[0] = '\0';
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len), CP_ERR_TPM);
  assert_non_null(strstr(g_log, "not made for this TPM's EK"));
  assert_int_equal(has_identity(d), 0);
  cps_tpm_challenge_free(&c);
  /* other EK but this device's SRK: still refused */
  assert_int_equal(cps_tpm_challenge_build(other->ek, other->ek_len, d->srk,
                                           d->srk_len, &c, &err), CPS_TPM_OK);
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len), CP_ERR_TPM);
  assert_int_equal(has_identity(d), 0);
  cps_tpm_challenge_free(&c);
  device_stop(other);
  free(other);
}

/* The TPM-signed token equals the SDK's software token made with the key the
 * server generated: the device's SAS is exactly what the server will check. */
static void test_cp_tpm_sas_token_equals_software_token_with_server_key(void **state)
{
  device *d = *state;
  cps_tpm_challenge c;
  char key_b64[CP_SAS_KEY_B64_MAX], tpm_tok[CP_SAS_TOKEN_MAX], sw_tok[CP_SAS_TOKEN_MAX];
  size_t len, tlen = 0, slen = 0;
  const char *uri = "0ne00000001/registrations/dev-tpm-1";

  build(d, &c);
  assert_int_equal(cp_tpm_sas_token(&d->tpm, uri, 1900000000, "registration", tpm_tok,
                                    sizeof tpm_tok, &tlen), CP_ERR_NOT_FOUND);
  assert_int_equal(cp_tpm_import_identity_b64(&d->tpm, c.blob_b64), CP_OK);
  assert_int_equal(cp_base64_encode(c.identity_key, sizeof c.identity_key, key_b64,
                                    sizeof key_b64, &len), CP_OK);
  assert_int_equal(cp_tpm_sas_token(&d->tpm, uri, 1900000000, "registration", tpm_tok,
                                    sizeof tpm_tok, &tlen), CP_OK);
  assert_int_equal(cp_sas_token_build(uri, key_b64, 1900000000, "registration", sw_tok,
                                      sizeof sw_tok, &slen), CP_OK);
  assert_string_equal(tpm_tok, sw_tok);
  assert_int_equal(tlen, slen);
  assert_int_equal(cp_tpm_sas_token(&d->tpm, uri, 1900000000, "registration", tpm_tok,
                                    10, &tlen), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(tlen, slen + 1);
  cps_tpm_challenge_free(&c);
}

static void test_tpm_unreachable_after_open_returns_tpm_error(void **state)
{
  device *d = *state;
  cps_tpm_challenge c;
  uint8_t buf[CP_TPM_PUBLIC_MAX], mac[32];
  size_t len;

  build(d, &c);
  cp_swtpm_stop(&d->sw);
  g_log[0] = '\0';
  assert_int_equal(cp_tpm_import_identity(&d->tpm, c.blob, c.blob_len), CP_ERR_TPM);
  assert_int_equal(cp_tpm_hmac_sha256(&d->tpm, (const uint8_t *)"x", 1, mac), CP_ERR_TPM);
  assert_int_equal(cp_tpm_get_public(&d->tpm, CP_TPM_KEY_EK, buf, sizeof buf, &len),
                   CP_ERR_TPM);
  assert_non_null(strstr(g_log, "tpm: "));
  cps_tpm_challenge_free(&c);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_tpm_roundtrip_server_challenge_device_hmac_verifies, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_roundtrip_key_survives_reopen, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_roundtrip_second_import_replaces_identity_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_import_tampered_blob_fails_and_keeps_old_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_import_tampered_blob_on_fresh_tpm_persists_nothing, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_import_truncated_blob_returns_parse_error, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_import_challenge_for_other_ek_fails_cleanly, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_tpm_sas_token_equals_software_token_with_server_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_tpm_unreachable_after_open_returns_tpm_error, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
