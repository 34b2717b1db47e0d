/* Unit tests for cp_key.h: P-384 keys, cross-checked with the openssl CLI. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certpilot/cp_key.h"
#include "certpilot/cp_log.h"
#include "test_util.h"

/* Keys made once by openssl in the temp dir (see setup()). */
static const char *const openssl_keygen[] = {
    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-384 -out p384.p8.pem",
    "openssl pkcs8 -topk8 -nocrypt -in p384.p8.pem -outform DER -out p384.p8.der",
    "openssl ec -in p384.p8.pem -out p384.sec1.pem",
    "openssl ec -in p384.p8.pem -outform DER -out p384.sec1.der",
    "openssl ec -in p384.p8.pem -no_public -outform DER -out p384.nopub.der",
    "openssl pkey -in p384.p8.pem -pubout -outform DER -out p384.pub.der",
    "openssl ecparam -name secp384r1 -genkey -out p384.ecparam.pem",
    "openssl pkey -in p384.ecparam.pem -pubout -outform DER -out p384.ecparam.pub.der",
    "openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out p256.p8.pem",
    "openssl ec -in p256.p8.pem -out p256.sec1.pem",
    "openssl ec -in p256.p8.pem -outform DER -out p256.sec1.der",
    "openssl pkcs8 -topk8 -nocrypt -in p256.p8.pem -outform DER -out p256.p8.der",
    "openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out rsa.p8.pem",
    "openssl pkcs8 -topk8 -nocrypt -in rsa.p8.pem -outform DER -out rsa.p8.der",
    "openssl rsa -in rsa.p8.pem -traditional -out rsa.pkcs1.pem",
    "openssl rsa -in rsa.p8.pem -traditional -outform DER -out rsa.pkcs1.der",
    "openssl pkcs8 -topk8 -in p384.p8.pem -passout pass:secret -out p384.enc.pem",
    "openssl genpkey -algorithm ED25519 -outform DER -out ed25519.p8.der",
};

static uint8_t *read_tmp(const char *name, size_t *len)
{
  uint8_t *b = tu_read(tu_path(name), len);
  assert_non_null(b);
  return b;
}

static cp_key fresh_key(void)
{
  cp_key k;
  assert_int_equal(cp_key_generate_p384(&k), CP_OK);
  return k;
}

/* The public key openssl derives from the key file @p name, as DER. */
static uint8_t *openssl_pub(const char *name, size_t *len)
{
  assert_int_equal(tu_run("openssl pkey -in '%s' -pubout -outform DER -out '%s' 2>/dev/null",
                          tu_path(name), tu_path("derived.pub.der")),
                   0);
  return read_tmp("derived.pub.der", len);
}

static void assert_pub_equals(const cp_key *k, const uint8_t *want, size_t want_len)
{
  uint8_t pub[CP_PUBKEY_DER_MAX];
  size_t len = 0;

  assert_int_equal(cp_key_public_der(k, pub, sizeof pub, &len), CP_OK);
  assert_int_equal(len, want_len);
  assert_memory_equal(pub, want, len);
}

static void test_cp_key_generate_p384_openssl_reports_p384(void **state)
{
  cp_key k = fresh_key();
  char pem[CP_KEY_PEM_MAX], text[4096];
  size_t len;

  (void)state;
  assert_int_equal(cp_key_to_pem(&k, CP_KEY_FORMAT_SEC1, pem, sizeof pem, &len), CP_OK);
  assert_int_equal(tu_write(tu_path("gen.pem"), pem, len), 0);
  assert_int_equal(tu_capture(text, sizeof text, "openssl ec -in '%s' -check -noout -text 2>&1",
                              tu_path("gen.pem")),
                   0);
  assert_non_null(strstr(text, "NIST CURVE: P-384"));
  assert_non_null(strstr(text, "EC Key valid."));
  cp_key_wipe(&k);
}

static void test_cp_key_generate_p384_two_keys_differ(void **state)
{
  cp_key a = fresh_key(), b = fresh_key();
  uint8_t pa[CP_PUBKEY_DER_MAX], pb[CP_PUBKEY_DER_MAX];
  size_t la, lb;

  (void)state;
  assert_int_equal(cp_key_public_der(&a, pa, sizeof pa, &la), CP_OK);
  assert_int_equal(cp_key_public_der(&b, pb, sizeof pb, &lb), CP_OK);
  assert_int_equal(la, lb);
  assert_memory_not_equal(pa, pb, la);
}

static void test_cp_key_generate_p384_null_invalid_arg(void **state)
{
  (void)state;
  assert_int_equal(cp_key_generate_p384(NULL), CP_ERR_INVALID_ARG);
}

static void test_cp_key_to_pem_pkcs8_openssl_derives_same_public_key(void **state)
{
  cp_key k = fresh_key();
  char pem[CP_KEY_PEM_MAX];
  uint8_t *pub;
  size_t len, pub_len;

  (void)state;
  assert_int_equal(cp_key_to_pem(&k, CP_KEY_FORMAT_PKCS8, pem, sizeof pem, &len), CP_OK);
  assert_int_equal(len, strlen(pem));
  assert_true(strncmp(pem, "-----BEGIN PRIVATE KEY-----\n", 28) == 0);
  assert_int_equal(tu_write(tu_path("ours.p8.pem"), pem, len), 0);
  pub = openssl_pub("ours.p8.pem", &pub_len);
  assert_pub_equals(&k, pub, pub_len);
  free(pub);
}

static void test_cp_key_to_pem_sec1_openssl_derives_same_public_key(void **state)
{
  cp_key k = fresh_key();
  char pem[CP_KEY_PEM_MAX];
  uint8_t *pub;
  size_t len, pub_len;

  (void)state;
  assert_int_equal(cp_key_to_pem(&k, CP_KEY_FORMAT_SEC1, pem, sizeof pem, &len), CP_OK);
  assert_true(strncmp(pem, "-----BEGIN EC PRIVATE KEY-----\n", 31) == 0);
  assert_int_equal(tu_write(tu_path("ours.sec1.pem"), pem, len), 0);
  pub = openssl_pub("ours.sec1.pem", &pub_len);
  assert_pub_equals(&k, pub, pub_len);
  free(pub);
}

static void test_cp_key_to_der_both_formats_openssl_reads(void **state)
{
  static const struct {
    cp_key_format format;
    const char *openssl_in;
  } cases[] = {{CP_KEY_FORMAT_PKCS8, "openssl pkey -inform DER"},
               {CP_KEY_FORMAT_SEC1, "openssl ec -inform DER"}};
  cp_key k = fresh_key();
  uint8_t der[CP_KEY_DER_MAX], *pub;
  size_t i, len, pub_len;

  (void)state;
  for (i = 0; i < 2; i++) {
    assert_int_equal(cp_key_to_der(&k, cases[i].format, der, sizeof der, &len), CP_OK);
    assert_int_equal(tu_write(tu_path("ours.der"), der, len), 0);
    assert_int_equal(tu_run("%s -in '%s' -pubout -outform DER -out '%s' 2>/dev/null",
                            cases[i].openssl_in, tu_path("ours.der"), tu_path("o.pub")),
                     0);
    pub = read_tmp("o.pub", &pub_len);
    assert_pub_equals(&k, pub, pub_len);
    free(pub);
  }
}

static void test_cp_key_from_pem_openssl_pkcs8_and_sec1_same_public_key(void **state)
{
  static const char *const files[] = {"p384.p8.pem", "p384.sec1.pem"};
  uint8_t *pem, *pub;
  size_t i, len, pub_len;
  cp_key k;

  (void)state;
  pub = read_tmp("p384.pub.der", &pub_len);
  for (i = 0; i < 2; i++) {
    pem = read_tmp(files[i], &len);
    assert_int_equal(cp_key_from_pem(&k, (const char *)pem, len), CP_OK);
    assert_pub_equals(&k, pub, pub_len);
    free(pem);
  }
  free(pub);
}

static void test_cp_key_from_pem_ecparam_block_first_skipped(void **state)
{
  uint8_t *pem, *pub;
  size_t len, pub_len;
  cp_key k;

  (void)state;
  pem = read_tmp("p384.ecparam.pem", &len);
  assert_non_null(strstr((const char *)pem, "EC PARAMETERS"));
  assert_int_equal(cp_key_from_pem(&k, (const char *)pem, len), CP_OK);
  pub = read_tmp("p384.ecparam.pub.der", &pub_len);
  assert_pub_equals(&k, pub, pub_len);
  free(pub);
  free(pem);
}

static void test_cp_key_from_der_pkcs8_sec1_and_no_public_same_key(void **state)
{
  static const char *const files[] = {"p384.p8.der", "p384.sec1.der", "p384.nopub.der"};
  uint8_t *der, *pub, sec1[CP_KEY_DER_MAX], first[CP_KEY_DER_MAX];
  size_t i, len, pub_len, sec1_len, first_len = 0;
  cp_key k;

  (void)state;
  pub = read_tmp("p384.pub.der", &pub_len);
  for (i = 0; i < 3; i++) {
    der = read_tmp(files[i], &len);
    assert_int_equal(cp_key_from_der(&k, der, len), CP_OK);
    assert_pub_equals(&k, pub, pub_len);
    /* All three normalise to the same SEC1 encoding (with public key). */
    assert_int_equal(cp_key_to_der(&k, CP_KEY_FORMAT_SEC1, sec1, sizeof sec1, &sec1_len),
                     CP_OK);
    if (i == 0) {
      memcpy(first, sec1, sec1_len);
      first_len = sec1_len;
    } else {
      assert_int_equal(sec1_len, first_len);
      assert_memory_equal(sec1, first, sec1_len);
    }
    free(der);
  }
  free(pub);
}

static void test_cp_key_to_der_roundtrip_both_formats_same_key(void **state)
{
  cp_key k = fresh_key(), back;
  uint8_t der[CP_KEY_DER_MAX];
  char pem[CP_KEY_PEM_MAX];
  size_t len;
  int f;

  (void)state;
  for (f = CP_KEY_FORMAT_PKCS8; f <= CP_KEY_FORMAT_SEC1; f++) {
    assert_int_equal(cp_key_to_der(&k, (cp_key_format)f, der, sizeof der, &len), CP_OK);
    assert_int_equal(cp_key_from_der(&back, der, len), CP_OK);
    assert_int_equal(back._der_len, k._der_len);
    assert_memory_equal(back._der, k._der, k._der_len);
    assert_int_equal(cp_key_to_pem(&k, (cp_key_format)f, pem, sizeof pem, &len), CP_OK);
    assert_int_equal(cp_key_from_pem(&back, pem, len), CP_OK);
    assert_memory_equal(back._der, k._der, k._der_len);
  }
}

/* Every rejected import must leave the destination key exactly as it was. */
static void expect_rejected(cp_result want, int pem, const uint8_t *data, size_t len)
{
  cp_key k = fresh_key(), before = k;
  cp_result r = pem ? cp_key_from_pem(&k, (const char *)data, len)
                    : cp_key_from_der(&k, data, len);

  assert_int_equal(r, want);
  assert_memory_equal(&k, &before, sizeof k);
}

static void test_cp_key_from_pem_p256_unsupported_key_untouched(void **state)
{
  static const char *const files[] = {"p256.p8.pem", "p256.sec1.pem"};
  uint8_t *pem;
  size_t i, len;

  (void)state;
  for (i = 0; i < 2; i++) {
    pem = read_tmp(files[i], &len);
    tu_log_capture();
    expect_rejected(CP_ERR_UNSUPPORTED_KEY, 1, pem, len);
    assert_non_null(strstr(tu_last_log(), "P-384"));
    free(pem);
  }
}

static void test_cp_key_from_der_p256_unsupported_key_untouched(void **state)
{
  static const char *const files[] = {"p256.p8.der", "p256.sec1.der"};
  uint8_t *der;
  size_t i, len;

  (void)state;
  for (i = 0; i < 2; i++) {
    der = read_tmp(files[i], &len);
    expect_rejected(CP_ERR_UNSUPPORTED_KEY, 0, der, len);
    free(der);
  }
}

static void test_cp_key_from_pem_rsa_unsupported_key_untouched(void **state)
{
  static const char *const files[] = {"rsa.p8.pem", "rsa.pkcs1.pem"};
  uint8_t *pem;
  size_t i, len;

  (void)state;
  for (i = 0; i < 2; i++) {
    pem = read_tmp(files[i], &len);
    tu_log_capture();
    expect_rejected(CP_ERR_UNSUPPORTED_KEY, 1, pem, len);
    assert_non_null(strstr(tu_last_log(), "RSA"));
    free(pem);
  }
}

static void test_cp_key_from_der_rsa_unsupported_key_untouched(void **state)
{
  static const char *const files[] = {"rsa.p8.der", "rsa.pkcs1.der"};
  uint8_t *der;
  size_t i, len;

  (void)state;
  for (i = 0; i < 2; i++) {
    der = read_tmp(files[i], &len);
    tu_log_capture();
    expect_rejected(CP_ERR_UNSUPPORTED_KEY, 0, der, len);
    assert_non_null(strstr(tu_last_log(), "RSA"));
    free(der);
  }
}

/* SEC1 ECPrivateKey on secp384r1 with the given 48-byte scalar, no public key. */
static size_t sec1_with_scalar(const uint8_t scalar[48], uint8_t *out)
{
  static const uint8_t head[] = {0x30, 0x3e, 0x02, 0x01, 0x01, 0x04, 0x30};
  static const uint8_t tail[] = {0xa0, 0x07, 0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};

  memcpy(out, head, sizeof head);
  memcpy(out + sizeof head, scalar, 48);
  memcpy(out + sizeof head + 48, tail, sizeof tail);
  return sizeof head + 48 + sizeof tail;
}

static void test_cp_key_from_der_scalar_out_of_range_parse(void **state)
{
  /* the order n of P-384 (SEC 2), and zero: neither is a valid private key */
  static const uint8_t order[48] = {
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff,
      0xc7, 0x63, 0x4d, 0x81, 0xf4, 0x37, 0x2d, 0xdf, 0x58, 0x1a, 0x0d, 0xb2,
      0x48, 0xb0, 0xa7, 0x7a, 0xec, 0xec, 0x19, 0x6a, 0xcc, 0xc5, 0x29, 0x73};
  uint8_t zero[48] = {0}, one[48] = {0}, der[128];
  cp_key k;
  size_t len;

  (void)state;
  tu_log_capture();
  len = sec1_with_scalar(zero, der);
  expect_rejected(CP_ERR_PARSE, 0, der, len);
  assert_non_null(strstr(tu_last_log(), "out of range"));
  tu_log_capture();
  len = sec1_with_scalar(order, der);
  expect_rejected(CP_ERR_PARSE, 0, der, len);
  assert_non_null(strstr(tu_last_log(), "out of range"));
  /* the same encoding with scalar 1 is accepted: the rejections above are
   * about the value, not the shape */
  one[47] = 1;
  len = sec1_with_scalar(one, der);
  assert_int_equal(cp_key_from_der(&k, der, len), CP_OK);
}

static void test_cp_key_from_der_ed25519_unsupported_key(void **state)
{
  uint8_t *der;
  size_t len;

  (void)state;
  der = read_tmp("ed25519.p8.der", &len);
  tu_log_capture();
  expect_rejected(CP_ERR_UNSUPPORTED_KEY, 0, der, len);
  assert_non_null(strstr(tu_last_log(), "P-384"));
  free(der);
}

static void test_cp_key_from_pem_encrypted_unsupported_key(void **state)
{
  uint8_t *pem;
  size_t len;

  (void)state;
  pem = read_tmp("p384.enc.pem", &len);
  expect_rejected(CP_ERR_UNSUPPORTED_KEY, 1, pem, len);
  free(pem);
}

static void test_cp_key_from_der_truncated_parse_untouched(void **state)
{
  static const char *const files[] = {"p384.p8.der", "p384.sec1.der"};
  uint8_t *der;
  size_t i, len, cut;

  (void)state;
  for (i = 0; i < 2; i++) {
    der = read_tmp(files[i], &len);
    for (cut = 1; cut < len; cut++)
      expect_rejected(CP_ERR_PARSE, 0, der, cut);
    free(der);
  }
}

static void test_cp_key_from_der_trailing_bytes_parse(void **state)
{
  uint8_t *der, buf[512];
  size_t len;

  (void)state;
  der = read_tmp("p384.sec1.der", &len);
  memcpy(buf, der, len);
  buf[len] = 0;
  expect_rejected(CP_ERR_PARSE, 0, buf, len + 1);
  free(der);
}

/* xorshift32: a fixed, reproducible sequence for the mutation loops. */
static uint32_t next_rand(uint32_t *s)
{
  *s ^= *s << 13;
  *s ^= *s >> 17;
  *s ^= *s << 5;
  return *s;
}

static void test_cp_key_from_der_mutated_inputs_fail_cleanly(void **state)
{
  static const char *const files[] = {"p384.p8.der", "p384.sec1.der", "rsa.p8.der"};
  uint8_t *der, buf[4096], pub[CP_PUBKEY_DER_MAX];
  uint32_t seed = 0x2545f491u;
  size_t f, i, len, pub_len;
  cp_key k;
  cp_result r;

  (void)state;
  for (f = 0; f < 3; f++) {
    der = read_tmp(files[f], &len);
    assert_true(len <= sizeof buf);
    for (i = 0; i < 600; i++) {
      uint32_t flips = 1 + next_rand(&seed) % 4, j;
      memcpy(buf, der, len);
      for (j = 0; j < flips; j++)
        buf[next_rand(&seed) % len] ^= (uint8_t)(1u << (next_rand(&seed) % 8));
      r = cp_key_from_der(&k, buf, len);
      assert_true(r == CP_OK || r == CP_ERR_PARSE || r == CP_ERR_UNSUPPORTED_KEY);
      /* whatever is accepted is a usable, consistent P-384 key */
      if (r == CP_OK)
        assert_int_equal(cp_key_public_der(&k, pub, sizeof pub, &pub_len), CP_OK);
    }
    free(der);
  }
}

static void test_cp_key_from_der_garbage_parse(void **state)
{
  uint8_t junk[200];
  size_t i;

  (void)state;
  for (i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 37u + 11u);
  expect_rejected(CP_ERR_PARSE, 0, junk, sizeof junk);
  expect_rejected(CP_ERR_PARSE, 0, (const uint8_t *)"\x30\x00", 2);
  /* a certificate-shaped SEQUENCE of random INTEGERs */
  expect_rejected(CP_ERR_PARSE, 0, (const uint8_t *)"\x30\x06\x02\x01\x01\x02\x01\x02", 8);
}

static void test_cp_key_from_der_foreign_public_key_parse(void **state)
{
  cp_key a = fresh_key(), b = fresh_key();
  uint8_t der[CP_KEY_DER_MAX];
  size_t len = a._der_len;

  (void)state;
  /* SEC1 DER ends with the 97-byte uncompressed public point: graft b's onto a. */
  assert_int_equal(a._der_len, b._der_len);
  memcpy(der, a._der, len);
  memcpy(der + len - 97, b._der + len - 97, 97);
  tu_log_capture();
  expect_rejected(CP_ERR_PARSE, 0, der, len);
  assert_non_null(strstr(tu_last_log(), "public key"));
}

static void test_cp_key_from_pem_garbage_and_wrong_block_parse(void **state)
{
  static const char *const bad[] = {
      "no pem here",
      "-----BEGIN PRIVATE KEY-----\nnot*base64\n-----END PRIVATE KEY-----\n",
      "-----BEGIN PRIVATE KEY-----\nMIG2AgEAMBAGByqGSM49AgEGBSuBBAAiBIGeMIGbAgEBBDA\n",
      "-----BEGIN CERTIFICATE-----\nZm9vYmFy\n-----END CERTIFICATE-----\n",
      "-----BEGIN PRIVATE KEY-----\nZm9vYmFy\n-----END PRIVATE KEY-----\n",
  };
  uint8_t *pem;
  size_t i, len;

  (void)state;
  for (i = 0; i < sizeof bad / sizeof bad[0]; i++)
    expect_rejected(CP_ERR_PARSE, 1, (const uint8_t *)bad[i], strlen(bad[i]));
  /* a real key PEM cut short */
  pem = read_tmp("p384.p8.pem", &len);
  expect_rejected(CP_ERR_PARSE, 1, pem, len / 2);
  free(pem);
}

static void test_cp_key_import_null_args_invalid_arg(void **state)
{
  cp_key k;

  (void)state;
  assert_int_equal(cp_key_from_der(NULL, (const uint8_t *)"x", 1), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_from_der(&k, NULL, 1), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_from_der(&k, (const uint8_t *)"x", 0), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_from_pem(&k, NULL, 1), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_from_pem(NULL, "x", 1), CP_ERR_INVALID_ARG);
}

static void test_cp_key_to_der_small_buffer_reports_size_untouched(void **state)
{
  cp_key k = fresh_key();
  uint8_t der[CP_KEY_DER_MAX], poison[CP_KEY_DER_MAX];
  size_t need = 0, len = 0;
  int f;

  (void)state;
  memset(poison, 0xEE, sizeof poison);
  for (f = CP_KEY_FORMAT_PKCS8; f <= CP_KEY_FORMAT_SEC1; f++) {
    memset(der, 0xEE, sizeof der);
    assert_int_equal(cp_key_to_der(&k, (cp_key_format)f, der, 10, &need),
                     CP_ERR_BUFFER_TOO_SMALL);
    assert_memory_equal(der, poison, sizeof der);
    assert_int_equal(cp_key_to_der(&k, (cp_key_format)f, der, need - 1, &len),
                     CP_ERR_BUFFER_TOO_SMALL);
    assert_memory_equal(der, poison, sizeof der);
    assert_int_equal(cp_key_to_der(&k, (cp_key_format)f, der, need, &len), CP_OK);
    assert_int_equal(len, need);
  }
}

static void test_cp_key_to_pem_small_buffer_reports_size_untouched(void **state)
{
  cp_key k = fresh_key();
  char pem[CP_KEY_PEM_MAX], poison[CP_KEY_PEM_MAX];
  size_t need = 0, len = 0;
  int f;

  (void)state;
  memset(poison, 'Z', sizeof poison);
  for (f = CP_KEY_FORMAT_PKCS8; f <= CP_KEY_FORMAT_SEC1; f++) {
    memset(pem, 'Z', sizeof pem);
    assert_int_equal(cp_key_to_pem(&k, (cp_key_format)f, pem, 100, &need),
                     CP_ERR_BUFFER_TOO_SMALL);
    assert_memory_equal(pem, poison, sizeof pem);
    assert_true(need <= CP_KEY_PEM_MAX);
    assert_int_equal(cp_key_to_pem(&k, (cp_key_format)f, pem, need, &len), CP_OK);
    assert_int_equal(len + 1, need); /* need counts the NUL */
  }
}

static void test_cp_key_public_der_matches_openssl_and_small_buffer_untouched(void **state)
{
  cp_key k = fresh_key();
  char pem[CP_KEY_PEM_MAX];
  uint8_t pub[CP_PUBKEY_DER_MAX], *theirs;
  size_t len, need = 0, theirs_len;

  (void)state;
  assert_int_equal(cp_key_to_pem(&k, CP_KEY_FORMAT_PKCS8, pem, sizeof pem, &len), CP_OK);
  assert_int_equal(tu_write(tu_path("pub-check.pem"), pem, len), 0);
  theirs = openssl_pub("pub-check.pem", &theirs_len);
  assert_pub_equals(&k, theirs, theirs_len);
  assert_int_equal(theirs_len, 120); /* SPKI of an uncompressed P-384 point */
  memset(pub, 0x11, sizeof pub);
  assert_int_equal(cp_key_public_der(&k, pub, 119, &need), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(need, 120);
  for (len = 0; len < sizeof pub; len++)
    assert_int_equal(pub[len], 0x11);
  free(theirs);
}

static void test_cp_key_export_empty_key_invalid_arg(void **state)
{
  cp_key k;
  uint8_t buf[CP_KEY_PEM_MAX];
  size_t len;

  (void)state;
  memset(&k, 0, sizeof k);
  assert_int_equal(cp_key_to_der(&k, CP_KEY_FORMAT_SEC1, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_to_der(&k, CP_KEY_FORMAT_PKCS8, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_to_pem(&k, CP_KEY_FORMAT_PKCS8, (char *)buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_public_der(&k, buf, sizeof buf, &len), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_key_to_der(NULL, CP_KEY_FORMAT_SEC1, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
}

static void test_cp_key_to_der_unknown_format_invalid_arg(void **state)
{
  cp_key k = fresh_key();
  uint8_t buf[CP_KEY_DER_MAX];
  size_t len;

  (void)state;
  assert_int_equal(cp_key_to_der(&k, (cp_key_format)7, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
}

static void test_cp_key_wipe_zeroes_material_and_empties(void **state)
{
  cp_key k = fresh_key();
  uint8_t zero[CP_KEY_DER_MAX] = {0}, buf[CP_KEY_DER_MAX];
  size_t len;

  (void)state;
  cp_key_wipe(&k);
  assert_int_equal(k._der_len, 0);
  assert_memory_equal(k._der, zero, sizeof zero);
  assert_int_equal(cp_key_to_der(&k, CP_KEY_FORMAT_SEC1, buf, sizeof buf, &len),
                   CP_ERR_INVALID_ARG);
  cp_key_wipe(NULL); /* must not crash */
}

static int setup(void **state)
{
  size_t i;

  (void)state;
  tu_tmpdir();
  for (i = 0; i < sizeof openssl_keygen / sizeof openssl_keygen[0]; i++)
    if (tu_run("cd '%s' && %s >/dev/null 2>&1", tu_path(""), openssl_keygen[i]) != 0) {
      print_error("openssl failed: %s\n", openssl_keygen[i]);
      return -1;
    }
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
      cmocka_unit_test(test_cp_key_generate_p384_openssl_reports_p384),
      cmocka_unit_test(test_cp_key_generate_p384_two_keys_differ),
      cmocka_unit_test(test_cp_key_generate_p384_null_invalid_arg),
      cmocka_unit_test(test_cp_key_to_pem_pkcs8_openssl_derives_same_public_key),
      cmocka_unit_test(test_cp_key_to_pem_sec1_openssl_derives_same_public_key),
      cmocka_unit_test(test_cp_key_to_der_both_formats_openssl_reads),
      cmocka_unit_test(test_cp_key_from_pem_openssl_pkcs8_and_sec1_same_public_key),
      cmocka_unit_test(test_cp_key_from_pem_ecparam_block_first_skipped),
      cmocka_unit_test(test_cp_key_from_der_pkcs8_sec1_and_no_public_same_key),
      cmocka_unit_test(test_cp_key_to_der_roundtrip_both_formats_same_key),
      cmocka_unit_test(test_cp_key_from_pem_p256_unsupported_key_untouched),
      cmocka_unit_test(test_cp_key_from_der_p256_unsupported_key_untouched),
      cmocka_unit_test(test_cp_key_from_pem_rsa_unsupported_key_untouched),
      cmocka_unit_test(test_cp_key_from_der_rsa_unsupported_key_untouched),
      cmocka_unit_test(test_cp_key_from_der_scalar_out_of_range_parse),
      cmocka_unit_test(test_cp_key_from_der_ed25519_unsupported_key),
      cmocka_unit_test(test_cp_key_from_pem_encrypted_unsupported_key),
      cmocka_unit_test(test_cp_key_from_der_truncated_parse_untouched),
      cmocka_unit_test(test_cp_key_from_der_trailing_bytes_parse),
      cmocka_unit_test(test_cp_key_from_der_garbage_parse),
      cmocka_unit_test(test_cp_key_from_der_mutated_inputs_fail_cleanly),
      cmocka_unit_test(test_cp_key_from_der_foreign_public_key_parse),
      cmocka_unit_test(test_cp_key_from_pem_garbage_and_wrong_block_parse),
      cmocka_unit_test(test_cp_key_import_null_args_invalid_arg),
      cmocka_unit_test(test_cp_key_to_der_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_key_to_pem_small_buffer_reports_size_untouched),
      cmocka_unit_test(test_cp_key_public_der_matches_openssl_and_small_buffer_untouched),
      cmocka_unit_test(test_cp_key_export_empty_key_invalid_arg),
      cmocka_unit_test(test_cp_key_to_der_unknown_format_invalid_arg),
      cmocka_unit_test(test_cp_key_wipe_zeroes_material_and_empties),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
