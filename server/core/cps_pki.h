/**
 * @file cps_pki.h
 * @brief X.509 work of the reference server on OpenSSL 3: keys, CA certificates,
 *        CSR checks, leaf issuance and CRLs. Pure functions: no store access.
 *
 * Every certificate made here is EC P-384 signed with ecdsa-with-SHA384, has a random
 * positive 159-bit serial, a notBefore back-dated by ::CPS_PKI_BACKDATE_S (at most a tenth of the validity), and SKI/AKI.
 * Objects returned through `out` parameters are owned by the caller (free with the
 * matching OpenSSL *_free function); outputs are untouched on failure.
 */
#ifndef CPS_PKI_H
#define CPS_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cps_result.h"

/** Seconds the notBefore of every issued certificate is moved into the past (clock skew). */
#define CPS_PKI_BACKDATE_S 300
/** Prefix of the per-device revocation identifier, a subjectAltName URI (protocol.md §13.4). */
#define CPS_REVOCATION_URI_PREFIX "urn:certpilot:device-id:"
/** Length of the random part of a revocation identifier (hex characters). */
#define CPS_REVOCATION_ID_HEX_LEN 32
/** Maximum length of a serial in hex (20 bytes) plus NUL. */
#define CPS_SERIAL_HEX_MAX 41

/** @brief Generate a fresh EC P-384 key into *out. CPS_OK or CPS_ERR_CRYPTO. */
cps_result cps_pki_key_generate(EVP_PKEY **out);

/** @brief Serialise @p key as unencrypted PKCS#8 PEM (malloc'd NUL-terminated *pem, caller frees). */
cps_result cps_pki_key_to_pem(EVP_PKEY *key, char **pem);
/** @brief Parse an unencrypted PEM private key. CPS_ERR_INVALID if it does not parse. */
cps_result cps_pki_key_from_pem(const char *pem, EVP_PKEY **out);

/**
 * @brief Serialise @p key as PKCS#8 PEM, encrypted with @p pass when it is not NULL
 *        ("ENCRYPTED PRIVATE KEY": PBES2, AES-256-CBC, key derivation as OpenSSL's default).
 * @param pass NUL-terminated passphrase, or NULL for unencrypted PEM (as cps_pki_key_to_pem()).
 * @param pem  receives a malloc'd NUL-terminated string (caller cleanses and frees).
 * @return CPS_OK, CPS_ERR_CRYPTO, CPS_ERR_NOMEM.
 */
cps_result cps_pki_key_to_pem_pass(EVP_PKEY *key, const char *pass, char **pem);
/**
 * @brief Parse a PEM private key, encrypted or not. An encrypted key needs @p pass;
 *        nothing is ever asked on a terminal.
 * @return CPS_OK; CPS_ERR_INVALID when it does not parse, is encrypted and @p pass is NULL,
 *         or @p pass does not decrypt it; CPS_ERR_NOMEM.
 */
cps_result cps_pki_key_from_pem_pass(const char *pem, const char *pass, EVP_PKEY **out);
/** @brief True when @p pem holds an encrypted private key (PKCS#8 or legacy PEM encryption). */
bool cps_pki_key_pem_encrypted(const char *pem);

/** @brief DER encoding of @p cert into a malloc'd buffer (*der, *len). */
cps_result cps_pki_cert_to_der(X509 *cert, unsigned char **der, size_t *len);
/** @brief Parse one DER certificate. CPS_ERR_INVALID if it does not parse or has trailing bytes. */
cps_result cps_pki_cert_from_der(const unsigned char *der, size_t len, X509 **out);
/** @brief PEM encoding of @p cert (malloc'd NUL-terminated, caller frees). */
cps_result cps_pki_cert_to_pem(X509 *cert, char **pem);
/**
 * @brief Parse every certificate of a PEM bundle into a new stack (*out, free with
 *        sk_X509_pop_free(…, X509_free)). CPS_ERR_INVALID when it holds no certificate.
 */
cps_result cps_pki_certs_from_pem(const char *pem, size_t len, STACK_OF(X509) **out);

/**
 * @brief Self-signed root CA: subject CN=@p cn, basicConstraints critical CA:TRUE,
 *        keyUsage critical keyCertSign+cRLSign, SKI/AKI, validity @p validity_s seconds.
 */
cps_result cps_pki_root_create(EVP_PKEY *key, const char *cn, long validity_s, X509 **out);

/**
 * @brief CA certificate for @p subject_key signed by @p issuer / @p issuer_key:
 *        CN=@p cn, CA:TRUE pathlen:0 (critical), keyUsage keyCertSign+cRLSign (critical),
 *        SKI/AKI; notAfter is capped at the issuer's notAfter.
 */
cps_result cps_pki_ca_issue(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *subject_key,
                            const char *cn, long validity_s, X509 **out);

/** @brief PKCS#10 request CN=@p cn signed by @p key (used for BYOR policy CAs). */
cps_result cps_pki_ca_csr(EVP_PKEY *key, const char *cn, X509_REQ **out);

/**
 * @brief Sign a CA request (BYOR helper for tests and tools): like cps_pki_ca_issue() with the
 *        request's public key and CN after checking the request's signature.
 */
cps_result cps_pki_ca_sign_request(X509 *issuer, EVP_PKEY *issuer_key, X509_REQ *req,
                                   long validity_s, X509 **out, cps_error *err);

/**
 * @brief Check a device CSR (DER PKCS#10, as decoded from the `csr` JSON member):
 *        it parses with no trailing bytes, its self-signature verifies, the key is EC P-384,
 *        and the subject CN equals @p registration_id exactly.
 * @param out receives the parsed request on success (may be NULL when not wanted).
 * @return CPS_OK or CPS_ERR_INVALID with a message naming the failed check in @p err.
 */
cps_result cps_pki_csr_check(const unsigned char *der, size_t len, const char *registration_id,
                             X509_REQ **out, cps_error *err);

/**
 * @brief Issue a device leaf: subject CN=@p device_id, the CSR's public key, keyUsage critical
 *        digitalSignature, EKU clientAuth, basicConstraints CA:FALSE, SKI/AKI,
 *        subjectAltName URI `urn:certpilot:device-id:<revocation_id>` (non-critical),
 *        random serial, notBefore = now - min(::CPS_PKI_BACKDATE_S, validity/10), notAfter = now + @p validity_s
 *        capped at the issuer's notAfter.
 * @param serial_hex receives the serial in upper-case hex (size ::CPS_SERIAL_HEX_MAX).
 */
cps_result cps_pki_leaf_issue(X509 *ica, EVP_PKEY *ica_key, X509_REQ *csr, const char *device_id,
                              const char *revocation_id, long validity_s, X509 **out,
                              char serial_hex[CPS_SERIAL_HEX_MAX]);

/**
 * @brief TLS server certificate for the server's own endpoints: CN=@p cn, keyUsage
 *        digitalSignature, EKU serverAuth, subjectAltName from @p san (OpenSSL syntax,
 *        e.g. "DNS:localhost,IP:127.0.0.1"), signed by @p issuer / @p issuer_key.
 */
cps_result cps_pki_server_cert_issue(X509 *issuer, EVP_PKEY *issuer_key, EVP_PKEY *key,
                                     const char *cn, const char *san, long validity_s, X509 **out);

/** @brief New random revocation identifier: ::CPS_REVOCATION_ID_HEX_LEN lower-case hex chars + NUL. */
cps_result cps_pki_revocation_id_new(char out[CPS_REVOCATION_ID_HEX_LEN + 1]);

/**
 * @brief Extract the revocation identifier (the part after ::CPS_REVOCATION_URI_PREFIX) from
 *        @p cert's subjectAltName. CPS_ERR_NOT_FOUND when the certificate has none.
 */
cps_result cps_pki_revocation_id_get(X509 *cert, char *out, size_t out_size);

/** @brief Subject CN of request @p req into @p out. CPS_ERR_INVALID when absent, repeated or too long. */
cps_result cps_pki_req_cn(X509_REQ *req, char *out, size_t out_size);

/** @brief Subject CN of @p cert into @p out. CPS_ERR_INVALID when absent or too long. */
cps_result cps_pki_cert_cn(X509 *cert, char *out, size_t out_size);

/** @brief Serial of @p cert in upper-case hex. */
cps_result cps_pki_cert_serial_hex(X509 *cert, char out[CPS_SERIAL_HEX_MAX]);

/** One revoked entry for cps_pki_crl_build(). */
typedef struct cps_crl_entry {
  const char *serial_hex; /**< serial, hex */
  time_t revoked_at;      /**< revocation time */
} cps_crl_entry;

/**
 * @brief Build a DER CRL (v2, CRL number @p crl_number, AKI) signed by @p issuer / @p key,
 *        thisUpdate=now, nextUpdate=now+@p next_update_s, listing @p entries.
 * @param der receives a malloc'd buffer (caller frees), *len its size.
 */
cps_result cps_pki_crl_build(X509 *issuer, EVP_PKEY *key, const cps_crl_entry *entries,
                             size_t count, long next_update_s, long crl_number,
                             unsigned char **der, size_t *len);

/** @brief Uniformly random bytes from OpenSSL's DRBG. CPS_ERR_CRYPTO on failure. */
cps_result cps_pki_random(unsigned char *buf, size_t len);

#endif
