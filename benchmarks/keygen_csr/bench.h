/* The two contenders of bench_keygen_csr. Neither header leaks into main.c. */
#ifndef CP_BENCH_KEYGEN_CSR_H
#define CP_BENCH_KEYGEN_CSR_H

#include <stddef.h>
#include <stdint.h>

/* Each returns 0 on success and writes the CSR DER into der. */

/* certpilot SDK (wolfCrypt): fresh P-384 key, then CSR signed with it. */
int bench_sdk_keygen_csr(const char *id, uint8_t *der, size_t der_size, size_t *der_len);
/* Phases alone: keygen only; CSR only, with a key made once. */
int bench_sdk_keygen(void);
int bench_sdk_csr(const char *id, uint8_t *der, size_t der_size, size_t *der_len);
void bench_sdk_done(void);
/* "wolfSSL 5.5.4" */
const char *bench_sdk_version(void);

/* OpenSSL 3 EVP: EVP_PKEY keygen (EC, P-384) + X509_REQ with the same
 * subject and extensions, signed with SHA-384. Its keygen context and the
 * extension objects are made once and reused (OpenSSL's best case); the
 * SDK side sets everything up on every call. */
int bench_openssl_keygen_csr(const char *id, uint8_t *der, size_t der_size,
                             size_t *der_len);
int bench_openssl_keygen(void);
int bench_openssl_csr(const char *id, uint8_t *der, size_t der_size, size_t *der_len);
void bench_openssl_done(void);
/* "OpenSSL 3.0.x ..." */
const char *bench_openssl_version(void);

#endif
