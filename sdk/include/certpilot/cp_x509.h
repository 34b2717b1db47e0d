/**
 * @file cp_x509.h
 * @brief Parse X.509 certificates, verify chains, match keys, convert chains.
 */
#ifndef CERTPILOT_CP_X509_H
#define CERTPILOT_CP_X509_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cp_key.h"
#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CP_CERT_CN_MAX 129        /**< 128 chars + NUL */
#define CP_CERT_NAME_MAX 512      /**< issuer / subject as "CN=…, O=…" */
#define CP_CERT_SERIAL_HEX_MAX 65 /**< up to 32 serial bytes, lower-case hex + NUL */
#define CP_CERT_THUMBPRINT_HEX 65 /**< SHA-256, lower-case hex + NUL */
#define CP_CERT_SAN_URI_MAX 4     /**< URIs kept; more are counted, not stored */
#define CP_CERT_SAN_URI_LEN 256
#define CP_CERT_DER_MAX 4096      /**< largest certificate DER handled */

/** A borrowed DER buffer. */
typedef struct cp_der {
  const uint8_t *data;
  size_t len;
} cp_der;

/** The fields of a parsed certificate. Caller-owned; plain data. */
typedef struct cp_cert_info {
  char subject_cn[CP_CERT_CN_MAX];       /**< "" when the subject has no CN */
  char subject[CP_CERT_NAME_MAX];        /**< one-line, e.g. "CN=dev-1" */
  char issuer[CP_CERT_NAME_MAX];         /**< one-line, e.g. "CN=root, O=Contoso" */
  char issuer_cn[CP_CERT_CN_MAX];
  char serial_hex[CP_CERT_SERIAL_HEX_MAX]; /**< lower-case, no leading "00" pad byte */
  int64_t not_before;                    /**< UTC seconds since the epoch */
  int64_t not_after;
  char thumbprint_sha256[CP_CERT_THUMBPRINT_HEX]; /**< of the DER, lower-case hex */
  size_t san_uri_count;                  /**< total URIs in subjectAltName */
  char san_uris[CP_CERT_SAN_URI_MAX][CP_CERT_SAN_URI_LEN];
  bool is_ca;                            /**< basicConstraints cA=TRUE */
  uint8_t public_key_der[CP_PUBKEY_DER_MAX * 4]; /**< SubjectPublicKeyInfo */
  size_t public_key_der_len;
} cp_cert_info;

/**
 * @brief Parse one certificate, PEM (first block) or DER (detected).
 * @return CP_OK; CP_ERR_PARSE (truncated, garbage, bad armour); CP_ERR_INVALID_ARG.
 *         On failure @p out is untouched.
 */
cp_result cp_cert_parse(const uint8_t *data, size_t len, cp_cert_info *out);

/**
 * @brief Verify @p chain = [leaf, intermediates…, root-or-last] at time @p now:
 *        each element is signed by the next, every element but the leaf is a CA,
 *        every element is within its validity at @p now, and the last element
 *        either equals @p anchor or is signed by it.
 * @param anchor the trust anchor (DER). Required.
 * @param[out] failed_index optional: index of the element that failed (or n for
 *             the anchor step).
 * @return CP_OK; CP_ERR_CERT_EXPIRED; CP_ERR_CERT_NOT_YET_VALID; CP_ERR_BAD_SIGNATURE;
 *         CP_ERR_UNTRUSTED (does not lead to the anchor); CP_ERR_CHAIN_INVALID
 *         (empty, too long, issuer/subject order broken, non-CA intermediate);
 *         CP_ERR_PARSE.
 */
cp_result cp_chain_verify(const cp_der *chain, size_t n, cp_der anchor,
                          int64_t now, size_t *failed_index);

/**
 * @brief True (CP_OK) when the certificate's public key is @p key's public key.
 * @return CP_OK; CP_ERR_KEY_MISMATCH; CP_ERR_PARSE; CP_ERR_INVALID_ARG.
 */
cp_result cp_cert_matches_key(const uint8_t *cert, size_t cert_len, const cp_key *key);

/**
 * @brief Convert an array of base64-DER certificates (the issuedCertificateChain
 *        of protocol.md §2) into a PEM bundle, leaf first, NUL-terminated.
 *        Every element must decode and parse as a certificate.
 * @param[out] failed_index optional: which element was bad.
 * @return CP_OK; CP_ERR_PARSE; CP_ERR_CHAIN_INVALID (n == 0);
 *         CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_chain_b64_to_pem(const char *const *b64, size_t n, char *out,
                              size_t out_size, size_t *out_len,
                              size_t *failed_index);

/**
 * @brief Split a PEM bundle into certificate DERs, in order.
 * @param der_store one buffer the DERs are written into back to back;
 *        chain[i].data points into it.
 * @param[in,out] n in: capacity of @p chain; out: certificates found.
 * @return CP_OK; CP_ERR_NOT_FOUND (no certificate); CP_ERR_PARSE;
 *         CP_ERR_BUFFER_TOO_SMALL (more certificates than capacity, or store full).
 */
cp_result cp_pem_bundle_split(const char *pem, size_t pem_len, uint8_t *der_store,
                              size_t store_size, cp_der *chain, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
