/* The OpenSSL side of the benchmark: EVP keygen + X509_REQ, SHA-384. */
#include "bench.h"

#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

/* Set up once and reused, to give OpenSSL its best case: the keygen context
 * (provider fetch and group lookup are not repeated) and the two extensions. */
static EVP_PKEY_CTX *keygen_ctx;
static STACK_OF(X509_EXTENSION) *exts;
static EVP_PKEY *fixed_pkey;

static int setup_once(void)
{
  X509_EXTENSION *ku, *eku;

  if (keygen_ctx != NULL)
    return 0;
  keygen_ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
  if (keygen_ctx == NULL || EVP_PKEY_keygen_init(keygen_ctx) <= 0 ||
      EVP_PKEY_CTX_set_group_name(keygen_ctx, "P-384") <= 0)
    return -1;
  exts = sk_X509_EXTENSION_new_null();
  ku = X509V3_EXT_conf_nid(NULL, NULL, NID_key_usage, "critical,digitalSignature");
  eku = X509V3_EXT_conf_nid(NULL, NULL, NID_ext_key_usage, "clientAuth");
  if (exts == NULL || ku == NULL || eku == NULL || sk_X509_EXTENSION_push(exts, ku) <= 0 ||
      sk_X509_EXTENSION_push(exts, eku) <= 0)
    return -1;
  return 0;
}

static EVP_PKEY *keygen_p384(void)
{
  EVP_PKEY *pkey = NULL;

  if (setup_once() != 0 || EVP_PKEY_keygen(keygen_ctx, &pkey) <= 0)
    return NULL;
  return pkey;
}

/* Same request as cp_csr_build(): v1, CN=id, KU digitalSignature (critical),
 * EKU clientAuth, ecdsa-with-SHA384; DER out. */
static int make_csr(EVP_PKEY *pkey, const char *id, uint8_t *der, size_t der_size,
                    size_t *der_len)
{
  X509_REQ *req = X509_REQ_new();
  unsigned char *p = der;
  int rc = -1, n;

  if (req == NULL || setup_once() != 0)
    goto out;
  if (X509_REQ_set_version(req, 0) != 1 ||
      X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                                 (const unsigned char *)id, -1, -1, 0) != 1 ||
      X509_REQ_set_pubkey(req, pkey) != 1 || X509_REQ_add_extensions(req, exts) != 1 ||
      X509_REQ_sign(req, pkey, EVP_sha384()) <= 0)
    goto out;
  n = i2d_X509_REQ(req, NULL);
  if (n <= 0 || (size_t)n > der_size || i2d_X509_REQ(req, &p) != n)
    goto out;
  *der_len = (size_t)n;
  rc = 0;
out:
  X509_REQ_free(req);
  return rc;
}

int bench_openssl_keygen_csr(const char *id, uint8_t *der, size_t der_size,
                             size_t *der_len)
{
  EVP_PKEY *pkey = keygen_p384();
  int rc;

  if (pkey == NULL)
    return -1;
  rc = make_csr(pkey, id, der, der_size, der_len);
  EVP_PKEY_free(pkey);
  return rc;
}

int bench_openssl_keygen(void)
{
  EVP_PKEY *pkey = keygen_p384();

  EVP_PKEY_free(pkey);
  return pkey != NULL ? 0 : -1;
}

int bench_openssl_csr(const char *id, uint8_t *der, size_t der_size, size_t *der_len)
{
  if (fixed_pkey == NULL && (fixed_pkey = keygen_p384()) == NULL)
    return -1;
  return make_csr(fixed_pkey, id, der, der_size, der_len);
}

void bench_openssl_done(void)
{
  EVP_PKEY_free(fixed_pkey);
  fixed_pkey = NULL;
  sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
  exts = NULL;
  EVP_PKEY_CTX_free(keygen_ctx);
  keygen_ctx = NULL;
}

const char *bench_openssl_version(void)
{
  return OpenSSL_version(OPENSSL_VERSION);
}
