/* cp_prov_chain_check with real chains made by openssl at test time. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "fixtures.h"

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_key.h"
#include "certpilot/cp_provisioning.h"

static char dir[256];
static cp_prov_response resp;
static char pem[CP_PROV_CHAIN_MAX * (CP_PROV_CHAIN_B64_MAX + 128)];
static cp_key device_key, other_key;

static void read_text(const char *name, char *out, size_t size)
{
  char path[512];
  FILE *f;
  size_t n;

  snprintf(path, sizeof path, "%s/%s", dir, name);
  f = fopen(path, "rb");
  assert_non_null(f);
  n = fread(out, 1, size - 1, f);
  fclose(f);
  out[n] = '\0';
}

static void load_key(const char *name, cp_key *key)
{
  char text[1024];

  read_text(name, text, sizeof text);
  assert_int_equal(cp_key_from_pem(key, text, strlen(text)), CP_OK);
}

static int setup(void **state)
{
  char cmd[600];

  (void)state;
  snprintf(dir, sizeof dir, "/tmp/cp_prov_chain_XXXXXX");
  if (mkdtemp(dir) == NULL)
    return -1;
  snprintf(cmd, sizeof cmd, "bash '%s' '%s'", getenv("CP_FIXTURE_SCRIPT"), dir);
  if (system(cmd) != 0)
    return -1;
  load_key("device.key", &device_key);
  load_key("other-device.key", &other_key);
  return 0;
}

static int teardown(void **state)
{
  char cmd[300];

  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* resp.chain = the named fixtures, in order */
static void chain(const char *a, const char *b, const char *c)
{
  const char *names[3] = {a, b, c};
  char file[64];
  size_t i;

  memset(&resp, 0, sizeof resp);
  resp.status = CP_PROV_STATUS_ASSIGNED;
  for (i = 0; i < 3 && names[i] != NULL; i++) {
    snprintf(file, sizeof file, "%s.b64", names[i]);
    read_text(file, resp.chain_b64[i], sizeof resp.chain_b64[i]);
    resp.chain_len = i + 1;
  }
}

static cp_result check(const cp_key *key, const char *reg_id, const cp_der *anchor,
                       int64_t now, cp_error_detail *d)
{
  size_t len = 0;

  cp_error_detail_clear(d);
  return cp_prov_chain_check(&resp, key, reg_id, anchor, now, pem, sizeof pem, &len, d);
}

static void load_der(const char *name, uint8_t *der, size_t size, cp_der *out)
{
  char b64[CP_PROV_CHAIN_B64_MAX];
  size_t len;

  read_text(name, b64, sizeof b64);
  assert_int_equal(cp_base64_decode(b64, strlen(b64), der, size, &len), CP_OK);
  out->data = der;
  out->len = len;
}

static void test_cp_prov_chain_check_good_chain_ok_and_pem_leaf_first(void **state)
{
  cp_error_detail d;
  char leaf_pem[4096];
  size_t blocks = 0;
  const char *p = pem;

  (void)state;
  chain("leaf", "good-ica", "good-root");
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL), &d), CP_OK);
  while ((p = strstr(p, "-----BEGIN CERTIFICATE-----")) != NULL) {
    blocks++;
    p++;
  }
  assert_int_equal(blocks, 3);
  read_text("leaf.pem", leaf_pem, sizeof leaf_pem);
  assert_memory_equal(pem, leaf_pem, strlen(leaf_pem)); /* openssl writes the same PEM */
}

static void test_cp_prov_chain_check_configured_anchor_ok(void **state)
{
  uint8_t der[CP_CERT_DER_MAX];
  cp_der anchor;
  cp_error_detail d;

  (void)state;
  load_der("good-root.b64", der, sizeof der, &anchor);
  chain("leaf", "good-ica", "good-root");
  assert_int_equal(check(&device_key, "dev-1", &anchor, time(NULL), &d), CP_OK);
}

static void test_cp_prov_chain_check_other_anchor_untrusted(void **state)
{
  uint8_t der[CP_CERT_DER_MAX];
  cp_der anchor;
  cp_error_detail d;

  (void)state;
  load_der("forged-root.b64", der, sizeof der, &anchor);
  chain("leaf", "good-ica", "good-root");
  assert_int_equal(check(&device_key, "dev-1", &anchor, time(NULL), &d), CP_ERR_UNTRUSTED);
  assert_string_equal(d.field, "issuedCertificateChain");
  memset(pem, 0x7f, 8);
  assert_int_equal((unsigned char)pem[0], 0x7f); /* and pem was left alone */
}

static void test_cp_prov_chain_check_leaf_key_not_ours_key_mismatch(void **state)
{
  cp_error_detail d;

  (void)state;
  chain("leaf", "good-ica", "good-root");
  memset(pem, 0x55, 16);
  assert_int_equal(check(&other_key, "dev-1", NULL, time(NULL), &d), CP_ERR_KEY_MISMATCH);
  assert_string_equal(d.field, "issuedCertificateChain[0]");
  assert_int_equal((unsigned char)pem[0], 0x55);
}

static void test_cp_prov_chain_check_cn_not_registration_id_name_mismatch(void **state)
{
  cp_error_detail d;

  (void)state;
  chain("leaf", "good-ica", "good-root");
  assert_int_equal(check(&device_key, "dev-2", NULL, time(NULL), &d), CP_ERR_NAME_MISMATCH);
  assert_non_null(strstr(d.message, "dev-1"));
}

static void test_cp_prov_chain_check_signed_by_someone_else_bad_signature(void **state)
{
  cp_error_detail d;

  (void)state;
  chain("forged-leaf", "good-ica", "good-root");
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL), &d), CP_ERR_BAD_SIGNATURE);
  assert_string_equal(d.field, "issuedCertificateChain[0]");
  chain("leaf", "forged-ica", "good-root");
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL), &d), CP_ERR_BAD_SIGNATURE);
}

static void test_cp_prov_chain_check_wrong_length_chain_invalid(void **state)
{
  cp_error_detail d;

  (void)state;
  chain("leaf", NULL, NULL);
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL), &d), CP_ERR_CHAIN_INVALID);
  assert_string_equal(d.field, "issuedCertificateChain");
}

static void test_cp_prov_chain_check_base64_of_garbage_parse_error(void **state)
{
  cp_error_detail d;

  (void)state;
  chain("leaf", "good-ica", "good-root");
  strcpy(resp.chain_b64[1], "AAAAAAAAAAAA");
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL), &d), CP_ERR_PARSE);
  strcpy(resp.chain_b64[1], "QQ==QQ==");
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL), &d), CP_ERR_PARSE);
  assert_string_equal(d.field, "issuedCertificateChain[1]");
}

static void test_cp_prov_chain_check_outside_validity_dates_rejected(void **state)
{
  cp_error_detail d;

  (void)state;
  chain("leaf", "good-ica", "good-root");
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL) + 8 * 86400, &d),
                   CP_ERR_CERT_EXPIRED);
  assert_int_equal(check(&device_key, "dev-1", NULL, time(NULL) - 86400, &d),
                   CP_ERR_CERT_NOT_YET_VALID);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_prov_chain_check_good_chain_ok_and_pem_leaf_first),
    cmocka_unit_test(test_cp_prov_chain_check_configured_anchor_ok),
    cmocka_unit_test(test_cp_prov_chain_check_other_anchor_untrusted),
    cmocka_unit_test(test_cp_prov_chain_check_leaf_key_not_ours_key_mismatch),
    cmocka_unit_test(test_cp_prov_chain_check_cn_not_registration_id_name_mismatch),
    cmocka_unit_test(test_cp_prov_chain_check_signed_by_someone_else_bad_signature),
    cmocka_unit_test(test_cp_prov_chain_check_wrong_length_chain_invalid),
    cmocka_unit_test(test_cp_prov_chain_check_base64_of_garbage_parse_error),
    cmocka_unit_test(test_cp_prov_chain_check_outside_validity_dates_rejected),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
