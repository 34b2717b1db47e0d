/* Server-side TPM challenge builder, checked in software with the private
 * keys a TPM would hold (the swtpm round trip is in tests/integration/tpm). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/rsa.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

#include "cps_tpm.h"
#include "cps_tpm_internal.h"

typedef struct keypair {
  EVP_PKEY *key;
  uint8_t pub[1024]; /* marshalled TPM2B_PUBLIC */
  size_t pub_len;
} keypair;

static keypair g_ek, g_srk;

static void make_tpm_public(EVP_PKEY *key, int is_ek, uint8_t *out, size_t *out_len)
{
  TPM2B_PUBLIC p;
  BIGNUM *n = NULL;

  memset(&p, 0, sizeof p);
  p.publicArea.type = TPM2_ALG_RSA;
  p.publicArea.nameAlg = TPM2_ALG_SHA256;
  p.publicArea.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
                                  TPMA_OBJECT_SENSITIVEDATAORIGIN |
                                  TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_DECRYPT |
                                  (is_ek ? TPMA_OBJECT_ADMINWITHPOLICY
                                         : TPMA_OBJECT_USERWITHAUTH);
  p.publicArea.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_AES;
  p.publicArea.parameters.rsaDetail.symmetric.keyBits.aes = 128;
  p.publicArea.parameters.rsaDetail.symmetric.mode.aes = TPM2_ALG_CFB;
  p.publicArea.parameters.rsaDetail.scheme.scheme = TPM2_ALG_NULL;
  p.publicArea.parameters.rsaDetail.keyBits = 2048;
  assert_int_equal(EVP_PKEY_get_bn_param(key, OSSL_PKEY_PARAM_RSA_N, &n), 1);
  assert_int_equal(BN_bn2binpad(n, p.publicArea.unique.rsa.buffer, 256), 256);
  p.publicArea.unique.rsa.size = 256;
  BN_free(n);
  *out_len = 0;
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&p, out, 1024, out_len), 0);
}

static int group_setup(void **state)
{
  (void)state;
  g_ek.key = EVP_RSA_gen(2048);
  g_srk.key = EVP_RSA_gen(2048);
  if (g_ek.key == NULL || g_srk.key == NULL)
    return -1;
  make_tpm_public(g_ek.key, 1, g_ek.pub, &g_ek.pub_len);
  make_tpm_public(g_srk.key, 0, g_srk.pub, &g_srk.pub_len);
  return 0;
}

static int group_teardown(void **state)
{
  (void)state;
  EVP_PKEY_free(g_ek.key);
  EVP_PKEY_free(g_srk.key);
  return 0;
}

typedef struct parsed {
  TPM2B_ID_OBJECT credential;
  TPM2B_ENCRYPTED_SECRET secret;
  TPM2B_PRIVATE dup;
  TPM2B_ENCRYPTED_SECRET enc_wrap_key;
  TPM2B_PUBLIC id_pub;
} parsed;

static void parse_blob(const cps_tpm_challenge *c, parsed *p)
{
  size_t off = 0;
  UINT16 tail = 0xFFFF;

  memset(p, 0, sizeof *p);
  assert_int_equal(Tss2_MU_TPM2B_ID_OBJECT_Unmarshal(c->blob, c->blob_len, &off, &p->credential), 0);
  assert_int_equal(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(c->blob, c->blob_len, &off, &p->secret), 0);
  assert_int_equal(Tss2_MU_TPM2B_PRIVATE_Unmarshal(c->blob, c->blob_len, &off, &p->dup), 0);
  assert_int_equal(Tss2_MU_TPM2B_ENCRYPTED_SECRET_Unmarshal(c->blob, c->blob_len, &off, &p->enc_wrap_key), 0);
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(c->blob, c->blob_len, &off, &p->id_pub), 0);
  assert_int_equal(Tss2_MU_UINT16_Unmarshal(c->blob, c->blob_len, &off, &tail), 0);
  assert_int_equal(tail, 0);
  assert_int_equal(off, c->blob_len);
}

/* RSA-OAEP-SHA256 decrypt with @p label (length given, so NUL can be left out). */
static int oaep_decrypt(EVP_PKEY *key, const char *label, size_t label_len,
                        const TPM2B_ENCRYPTED_SECRET *in, uint8_t *out, size_t *out_len)
{
  EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL);
  void *lab = OPENSSL_memdup(label, label_len);
  int ok = ctx != NULL && EVP_PKEY_decrypt_init(ctx) == 1 &&
           EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING) == 1 &&
           EVP_PKEY_CTX_set_rsa_oaep_md(ctx, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, EVP_sha256()) == 1 &&
           EVP_PKEY_CTX_set0_rsa_oaep_label(ctx, lab, (int)label_len) == 1;

  if (!ok)
    OPENSSL_free(lab);
  *out_len = 512;
  ok = ok && EVP_PKEY_decrypt(ctx, out, out_len, in->secret, in->size) == 1;
  EVP_PKEY_CTX_free(ctx);
  return ok;
}

static void aes_cfb_decrypt(const uint8_t key[16], const uint8_t *in, size_t len,
                            uint8_t *out)
{
  static const uint8_t iv[16] = {0};
  EVP_CIPHER_CTX *c = EVP_CIPHER_CTX_new();
  int n = 0, n2 = 0;

  assert_int_equal(EVP_DecryptInit_ex(c, EVP_aes_128_cfb128(), NULL, key, iv), 1);
  assert_int_equal(EVP_DecryptUpdate(c, out, &n, in, (int)len), 1);
  assert_int_equal(EVP_DecryptFinal_ex(c, out + n, &n2), 1);
  EVP_CIPHER_CTX_free(c);
}

/* Strip an outer wrapper (MakeCredential or duplication): check the HMAC and
 * decrypt; returns the plaintext length. */
static size_t unwrap_outer(const uint8_t seed[32], const TPM2B_NAME *name,
                           const uint8_t *wrapped, size_t wrapped_len, uint8_t *out)
{
  uint8_t sym[16], hkey[32], mac[32];
  size_t body_len = wrapped_len - 34;

  assert_int_equal(wrapped[0], 0);
  assert_int_equal(wrapped[1], 32);
  assert_int_equal(cps_tpm__kdfa_sha256(seed, 32, "INTEGRITY", NULL, 0, NULL, 0, hkey, 32), CPS_TPM_OK);
  assert_int_equal(cps_tpm__hmac_sha256(hkey, 32, wrapped + 34, body_len, name->name, name->size, mac), CPS_TPM_OK);
  assert_memory_equal(mac, wrapped + 2, 32);
  assert_int_equal(cps_tpm__kdfa_sha256(seed, 32, "STORAGE", name->name, name->size, NULL, 0, sym, 16), CPS_TPM_OK);
  aes_cfb_decrypt(sym, wrapped + 34, body_len, out);
  return body_len;
}

static void srk_name(TPM2B_NAME *name)
{
  TPM2B_PUBLIC srk;
  size_t off = 0;

  memset(&srk, 0, sizeof srk);
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(g_srk.pub, g_srk.pub_len, &off, &srk), 0);
  assert_int_equal(cps_tpm__name(&srk.publicArea, name), CPS_TPM_OK);
}

static void test_cps_tpm_challenge_build_valid_keys_blob_has_section5_layout(void **state)
{
  cps_tpm_challenge c;
  cps_tpm_error err;
  parsed p;
  const TPMT_PUBLIC *id;

  (void)state;
  assert_int_equal(cps_tpm_challenge_build(g_ek.pub, g_ek.pub_len, g_srk.pub,
                                           g_srk.pub_len, &c, &err), CPS_TPM_OK);
  assert_string_equal(err.msg, "");
  parse_blob(&c, &p);
  assert_int_equal(p.secret.size, 256);
  assert_int_equal(p.enc_wrap_key.size, 256);
  id = &p.id_pub.publicArea;
  assert_int_equal(id->type, TPM2_ALG_KEYEDHASH);
  assert_int_equal(id->nameAlg, TPM2_ALG_SHA256);
  assert_int_equal(id->parameters.keyedHashDetail.scheme.scheme, TPM2_ALG_HMAC);
  assert_int_equal(id->parameters.keyedHashDetail.scheme.details.hmac.hashAlg, TPM2_ALG_SHA256);
  assert_true(id->objectAttributes & TPMA_OBJECT_SIGN_ENCRYPT);
  /* a duplicable object: fixedTPM and fixedParent must be clear */
  assert_false(id->objectAttributes & (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT));
  /* the b64 form decodes to the blob */
  {
    uint8_t *dec = malloc(c.blob_len + 4);
    int n = EVP_DecodeBlock(dec, (const unsigned char *)c.blob_b64, (int)strlen(c.blob_b64));
    assert_true(n >= (int)c.blob_len);
    assert_memory_equal(dec, c.blob, c.blob_len);
    free(dec);
  }
  cps_tpm_challenge_free(&c);
  assert_null(c.blob);
}

/* Software ActivateCredential + Import with the private keys: the identity
 * key comes out, proving the wrappers, labels and integrity values. */
static void test_cps_tpm_challenge_build_private_keys_recover_identity_key(void **state)
{
  cps_tpm_challenge c;
  parsed p;
  TPM2B_NAME name, id_name;
  uint8_t seed[512], plain[1024], inner[1024], digest[32];
  size_t seed_len, n;
  uint8_t inner_key[16];
  TPM2B_SENSITIVE sens;
  size_t off = 0;

  (void)state;
  assert_int_equal(cps_tpm_challenge_build(g_ek.pub, g_ek.pub_len, g_srk.pub,
                                           g_srk.pub_len, &c, NULL), CPS_TPM_OK);
  parse_blob(&c, &p);
  srk_name(&name);
  /* ActivateCredential: EK decrypts the seed (label "IDENTITY" with its NUL) */
  assert_true(oaep_decrypt(g_ek.key, "IDENTITY", 9, &p.secret, seed, &seed_len));
  assert_int_equal(seed_len, 32);
  n = unwrap_outer(seed, &name, p.credential.credential, p.credential.size, plain);
  assert_int_equal(n, 2 + 16);
  assert_int_equal(plain[0] << 8 | plain[1], 16);
  memcpy(inner_key, plain + 2, 16);
  /* Import: SRK decrypts the duplication seed (label "DUPLICATE" with NUL) */
  assert_true(oaep_decrypt(g_srk.key, "DUPLICATE", 10, &p.enc_wrap_key, seed, &seed_len));
  assert_int_equal(seed_len, 32);
  assert_int_equal(cps_tpm__name(&p.id_pub.publicArea, &id_name), CPS_TPM_OK);
  n = unwrap_outer(seed, &id_name, p.dup.buffer, p.dup.size, inner);
  aes_cfb_decrypt(inner_key, inner, n, plain);
  /* inner integrity = SHA-256(TPM2B_SENSITIVE ‖ Name) */
  assert_int_equal(plain[0] << 8 | plain[1], 32);
  {
    EVP_MD_CTX *md = EVP_MD_CTX_new();
    unsigned dl = 0;
    assert_int_equal(EVP_DigestInit_ex(md, EVP_sha256(), NULL), 1);
    assert_int_equal(EVP_DigestUpdate(md, plain + 34, n - 34), 1);
    assert_int_equal(EVP_DigestUpdate(md, id_name.name, id_name.size), 1);
    assert_int_equal(EVP_DigestFinal_ex(md, digest, &dl), 1);
    EVP_MD_CTX_free(md);
  }
  assert_memory_equal(digest, plain + 2, 32);
  memset(&sens, 0, sizeof sens);
  assert_int_equal(Tss2_MU_TPM2B_SENSITIVE_Unmarshal(plain + 34, n - 34, &off, &sens), 0);
  assert_int_equal(off, n - 34);
  assert_int_equal(sens.sensitiveArea.sensitiveType, TPM2_ALG_KEYEDHASH);
  assert_int_equal(sens.sensitiveArea.sensitive.bits.size, CPS_TPM_IDENTITY_KEY_LEN);
  assert_memory_equal(sens.sensitiveArea.sensitive.bits.buffer, c.identity_key,
                      CPS_TPM_IDENTITY_KEY_LEN);
  /* unique binds public to secret: H(seedValue ‖ key) */
  {
    uint8_t both[64];
    memcpy(both, sens.sensitiveArea.seedValue.buffer, 32);
    memcpy(both + 32, c.identity_key, 32);
    assert_int_equal(EVP_Digest(both, 64, digest, NULL, EVP_sha256(), NULL), 1);
    assert_memory_equal(digest, p.id_pub.publicArea.unique.keyedHash.buffer, 32);
  }
  /* the seeds are not decryptable with the other label */
  assert_false(oaep_decrypt(g_ek.key, "IDENTITY", 8, &p.secret, seed, &seed_len));
  assert_false(oaep_decrypt(g_srk.key, "IDENTITY", 9, &p.enc_wrap_key, seed, &seed_len));
  cps_tpm_challenge_free(&c);
}

/* KDFa equals OpenSSL's independent SP 800-108 KBKDF (counter, HMAC-SHA256). */
static void test_cps_tpm_kdfa_matches_openssl_kbkdf(void **state)
{
  uint8_t key[32], ctx_u[34], ours[80], ref[80];
  EVP_KDF *kdf = EVP_KDF_fetch(NULL, "KBKDF", NULL);
  EVP_KDF_CTX *kctx = EVP_KDF_CTX_new(kdf);
  OSSL_PARAM params[6];
  int i = 0;

  (void)state;
  for (size_t k = 0; k < sizeof key; k++)
    key[k] = (uint8_t)(k * 3 + 1);
  for (size_t k = 0; k < sizeof ctx_u; k++)
    ctx_u[k] = (uint8_t)(0xC0 ^ k);
  params[i++] = OSSL_PARAM_construct_utf8_string("mac", (char *)"HMAC", 0);
  params[i++] = OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0);
  params[i++] = OSSL_PARAM_construct_octet_string("key", key, sizeof key);
  params[i++] = OSSL_PARAM_construct_octet_string("salt", (char *)"STORAGE", 7);
  params[i++] = OSSL_PARAM_construct_octet_string("info", ctx_u, sizeof ctx_u);
  params[i] = OSSL_PARAM_construct_end();
  assert_int_equal(EVP_KDF_derive(kctx, ref, sizeof ref, params), 1);
  assert_int_equal(cps_tpm__kdfa_sha256(key, sizeof key, "STORAGE", ctx_u, sizeof ctx_u,
                                        NULL, 0, ours, sizeof ours), CPS_TPM_OK);
  assert_memory_equal(ours, ref, sizeof ref);
  EVP_KDF_CTX_free(kctx);
  EVP_KDF_free(kdf);
}

static void test_cps_tpm_challenge_build_two_calls_give_fresh_keys(void **state)
{
  cps_tpm_challenge a, b;

  (void)state;
  assert_int_equal(cps_tpm_challenge_build(g_ek.pub, g_ek.pub_len, g_srk.pub, g_srk.pub_len, &a, NULL), CPS_TPM_OK);
  assert_int_equal(cps_tpm_challenge_build(g_ek.pub, g_ek.pub_len, g_srk.pub, g_srk.pub_len, &b, NULL), CPS_TPM_OK);
  assert_memory_not_equal(a.identity_key, b.identity_key, CPS_TPM_IDENTITY_KEY_LEN);
  assert_memory_not_equal(a.blob, b.blob, a.blob_len < b.blob_len ? a.blob_len : b.blob_len);
  cps_tpm_challenge_free(&a);
  cps_tpm_challenge_free(&b);
}

static void test_cps_tpm_challenge_build_bad_keys_return_invalid_with_reason(void **state)
{
  cps_tpm_challenge c;
  cps_tpm_error err;
  uint8_t bad[1024];
  TPM2B_PUBLIC p;
  size_t off = 0, len = 0;

  (void)state;
  /* truncated EK */
  memset(&c, 0x55, sizeof c);
  assert_int_equal(cps_tpm_challenge_build(g_ek.pub, g_ek.pub_len - 1, g_srk.pub, g_srk.pub_len, &c, &err), CPS_TPM_ERR_INVALID);
  assert_non_null(strstr(err.msg, "endorsementKey"));
  assert_null(c.blob);
  /* trailing garbage after the SRK */
  memcpy(bad, g_srk.pub, g_srk.pub_len);
  bad[g_srk.pub_len] = 0;
  assert_int_equal(cps_tpm_challenge_build(g_ek.pub, g_ek.pub_len, bad, g_srk.pub_len + 1, &c, &err), CPS_TPM_ERR_INVALID);
  assert_non_null(strstr(err.msg, "storageRootKey has 1 trailing"));
  /* an EK that is not RSA-2048 */
  memset(&p, 0, sizeof p);
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(g_ek.pub, g_ek.pub_len, &off, &p), 0);
  p.publicArea.parameters.rsaDetail.keyBits = 1024;
  p.publicArea.unique.rsa.size = 128;
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&p, bad, sizeof bad, &len), 0);
  assert_int_equal(cps_tpm_challenge_build(bad, len, g_srk.pub, g_srk.pub_len, &c, &err), CPS_TPM_ERR_INVALID);
  assert_string_equal(err.msg, "tpm: endorsementKey is not RSA-2048");
  /* not a decryption key */
  off = 0;
  memset(&p, 0, sizeof p);
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Unmarshal(g_ek.pub, g_ek.pub_len, &off, &p), 0);
  p.publicArea.objectAttributes &= ~TPMA_OBJECT_DECRYPT;
  len = 0;
  assert_int_equal(Tss2_MU_TPM2B_PUBLIC_Marshal(&p, bad, sizeof bad, &len), 0);
  assert_int_equal(cps_tpm_challenge_build(bad, len, g_srk.pub, g_srk.pub_len, &c, &err), CPS_TPM_ERR_INVALID);
  assert_non_null(strstr(err.msg, "restricted decryption"));
  /* same key twice */
  assert_int_equal(cps_tpm_challenge_build(g_ek.pub, g_ek.pub_len, g_ek.pub, g_ek.pub_len, &c, &err), CPS_TPM_ERR_INVALID);
  assert_non_null(strstr(err.msg, "same key"));
  assert_int_equal(cps_tpm_challenge_build(NULL, 0, g_srk.pub, g_srk.pub_len, &c, &err), CPS_TPM_ERR_INVALID);
  assert_string_equal(err.msg, "tpm: endorsementKey is empty");
}

static void test_cps_tpm_public_check_same_key_gives_stable_hex_id(void **state)
{
  char a[CPS_TPM_EK_ID_LEN], b[CPS_TPM_EK_ID_LEN], s[CPS_TPM_EK_ID_LEN];

  (void)state;
  assert_int_equal(cps_tpm_public_check(g_ek.pub, g_ek.pub_len, a, NULL), CPS_TPM_OK);
  assert_int_equal(cps_tpm_public_check(g_ek.pub, g_ek.pub_len, b, NULL), CPS_TPM_OK);
  assert_int_equal(cps_tpm_public_check(g_srk.pub, g_srk.pub_len, s, NULL), CPS_TPM_OK);
  assert_int_equal(strlen(a), 64);
  assert_string_equal(a, b);
  assert_string_not_equal(a, s);
  assert_int_equal(strspn(a, "0123456789abcdef"), 64);
}

static void test_cps_tpm_sas_verify_signature_checks(void **state)
{
  const uint8_t key[32] = {1, 2, 3};
  const char *sts = "0ne00000001%2fregistrations%2fdev-1\n1700000000";
  uint8_t sig[32];
  size_t len = sizeof sig;
  cps_tpm_error err;

  (void)state;
  assert_non_null(EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, key, sizeof key,
                            (const uint8_t *)sts, strlen(sts), sig, sizeof sig, &len));
  assert_int_equal(cps_tpm_sas_verify(key, sizeof key, sts, strlen(sts), sig, 32, &err), CPS_TPM_OK);
  sig[31] ^= 1;
  assert_int_equal(cps_tpm_sas_verify(key, sizeof key, sts, strlen(sts), sig, 32, &err), CPS_TPM_ERR_UNAUTHORIZED);
  assert_non_null(strstr(err.msg, "does not match"));
  sig[31] ^= 1;
  assert_int_equal(cps_tpm_sas_verify(key, sizeof key, sts, strlen(sts) - 1, sig, 32, &err), CPS_TPM_ERR_UNAUTHORIZED);
  assert_int_equal(cps_tpm_sas_verify(key, sizeof key, sts, strlen(sts), sig, 31, &err), CPS_TPM_ERR_UNAUTHORIZED);
  assert_int_equal(cps_tpm_sas_verify(NULL, 0, sts, strlen(sts), sig, 32, &err), CPS_TPM_ERR_INVALID);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cps_tpm_challenge_build_valid_keys_blob_has_section5_layout),
    cmocka_unit_test(test_cps_tpm_challenge_build_private_keys_recover_identity_key),
    cmocka_unit_test(test_cps_tpm_kdfa_matches_openssl_kbkdf),
    cmocka_unit_test(test_cps_tpm_challenge_build_two_calls_give_fresh_keys),
    cmocka_unit_test(test_cps_tpm_challenge_build_bad_keys_return_invalid_with_reason),
    cmocka_unit_test(test_cps_tpm_public_check_same_key_gives_stable_hex_id),
    cmocka_unit_test(test_cps_tpm_sas_verify_signature_checks),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
