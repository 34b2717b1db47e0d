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
#define CP_CERT_SAN_URI_LEN 256   /**< longest stored URI: 255 chars + NUL */
#define CP_CERT_DER_MAX 4096      /**< largest certificate DER handled */
/** Largest SubjectPublicKeyInfo kept: any EC key, RSA up to 4096 bits. */
#define CP_CERT_PUBKEY_DER_MAX 600
#define CP_CHAIN_MAX 8            /**< most certificates cp_chain_verify() accepts */

/** A borrowed DER buffer. */
typedef struct cp_der {
  const uint8_t *data;
  size_t len;
} cp_der;

/** The fields of a parsed certificate. Caller-owned; plain data. */
typedef struct cp_cert_info {
  char subject_cn[CP_CERT_CN_MAX];       /**< most specific CN, unescaped; "" if none */
  char subject[CP_CERT_NAME_MAX];        /**< one-line, e.g. "CN=dev-1" */
  char issuer[CP_CERT_NAME_MAX];         /**< one-line, e.g. "CN=root, O=Contoso" */
  char issuer_cn[CP_CERT_CN_MAX];        /**< as subject_cn, for the issuer */
  char serial_hex[CP_CERT_SERIAL_HEX_MAX]; /**< lower-case, no leading "00" pad byte */
  int64_t not_before;                    /**< UTC seconds since the epoch */
  int64_t not_after;                     /**< UTC seconds since the epoch */
  char thumbprint_sha256[CP_CERT_THUMBPRINT_HEX]; /**< of the DER, lower-case hex */
  size_t san_uri_count;                  /**< total URIs in subjectAltName */
  /** the first min(san_uri_count, CP_CERT_SAN_URI_MAX) URIs, in certificate order */
  char san_uris[CP_CERT_SAN_URI_MAX][CP_CERT_SAN_URI_LEN];
  bool is_ca;                            /**< basicConstraints cA=TRUE (false if absent) */
  uint8_t public_key_der[CP_CERT_PUBKEY_DER_MAX]; /**< SubjectPublicKeyInfo DER, as in the cert */
  size_t public_key_der_len;             /**< bytes used in public_key_der */
} cp_cert_info;

/**
 * @brief Parse one certificate, PEM or DER (detected from the first byte).
 *
 * DER: exactly one certificate of at most CP_CERT_DER_MAX bytes, no trailing
 * bytes. PEM: the input (after leading whitespace) must start with a
 * "-----BEGIN CERTIFICATE-----" block; only that first block is read.
 * No date, signature or key-type checks: any key type wolfSSL decodes parses.
 * Names are written RFC 4514 style, most specific RDN first
 * ("CN=dev-1, OU=Devices, O=Contoso"), special characters escaped;
 * subject_cn / issuer_cn hold the unescaped UTF-8 value of the most specific CN.
 *
 * @param data the certificate; borrowed, need not be NUL-terminated.
 * @param[out] out caller-owned; filled only on CP_OK.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL pointer); CP_ERR_PARSE (truncated,
 *         garbage, bad armour, malformed field, a name over CP_CERT_NAME_MAX - 1
 *         or CN over CP_CERT_CN_MAX - 1 characters, a NUL inside a name, a stored
 *         URI over CP_CERT_SAN_URI_LEN - 1); CP_ERR_UNSUPPORTED_KEY (public key
 *         over CP_CERT_PUBKEY_DER_MAX bytes); CP_ERR_NO_MEMORY.
 *         On failure @p out is untouched.
 */
cp_result cp_cert_parse(const uint8_t *data, size_t len, cp_cert_info *out);

/**
 * @brief Verify @p chain = [leaf, intermediates…, root-or-last] at time @p now.
 *
 * Walks up the chain; for each i, element i+1 must parse (DER only), its
 * subject Name must equal element i's issuer Name byte for byte, it must be a
 * CA (basicConstraints cA, keyCertSign if keyUsage is present,
 * pathLenConstraint respected) and its key must verify element i's signature.
 * Then the last element must either equal @p anchor byte for byte or be
 * issued and signed by it (the anchor must then pass the same CA checks).
 * Only after all that are dates checked: every element must satisfy
 * notBefore <= @p now <= notAfter, first failure from the leaf up.
 * Signatures are checked without any clock; the anchor's own validity is not
 * checked unless it is itself in the chain. Detail goes to the log.
 *
 * @param chain borrowed array of @p n DER certificates, 1 <= n <= CP_CHAIN_MAX.
 * @param anchor the trust anchor (DER). Required; borrowed.
 * @param now UTC seconds since the epoch (the caller's clock).
 * @param[out] failed_index optional: index of the element that failed, or n
 *             for the anchor step. Written only on failure.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL chain/element/anchor);
 *         CP_ERR_PARSE (an element or the anchor does not parse);
 *         CP_ERR_CHAIN_INVALID (n == 0 or over CP_CHAIN_MAX, issuer/subject
 *         order broken, non-CA or non-signing intermediate, path too long);
 *         CP_ERR_BAD_SIGNATURE (element i not signed by element i+1);
 *         CP_ERR_UNTRUSTED (the last element does not lead to @p anchor);
 *         CP_ERR_CERT_NOT_YET_VALID; CP_ERR_CERT_EXPIRED.
 */
cp_result cp_chain_verify(const cp_der *chain, size_t n, cp_der anchor,
                          int64_t now, size_t *failed_index);

/**
 * @brief True (CP_OK) when the certificate's public key is @p key's public key.
 *
 * Compares curve and point, so a certificate with a compressed point still
 * matches. A certificate with a non-EC key (RSA…) never matches.
 * @param cert PEM or DER, as cp_cert_parse() takes; borrowed.
 * @param key borrowed; not modified.
 * @return CP_OK; CP_ERR_KEY_MISMATCH (other key, other curve, non-EC key);
 *         CP_ERR_PARSE (certificate does not parse);
 *         CP_ERR_INVALID_ARG (NULL, or @p key empty or unreadable); CP_ERR_CRYPTO.
 */
cp_result cp_cert_matches_key(const uint8_t *cert, size_t cert_len, const cp_key *key);

/**
 * @brief Convert an array of base64-DER certificates (the issuedCertificateChain
 *        of protocol.md §2) into a PEM bundle, leaf first, NUL-terminated.
 *        Every element must be strict base64 (no whitespace) of a DER
 *        certificate that parses. Each becomes a "-----BEGIN CERTIFICATE-----"
 *        block with 64-column lines and "\n" line ends.
 * @param b64 borrowed array of @p n NUL-terminated strings.
 * @param[out] out caller buffer of @p out_size bytes; written only on CP_OK.
 * @param[out] out_len on CP_OK the characters written, excluding the NUL.
 * @param[out] failed_index optional: which element was bad (written only then).
 * @return CP_OK; CP_ERR_PARSE (bad base64 or not a certificate);
 *         CP_ERR_INVALID_ARG (NULL pointer or element); CP_ERR_CHAIN_INVALID (n == 0);
 *         CP_ERR_BUFFER_TOO_SMALL (out untouched, *out_len = size needed incl. NUL).
 */
cp_result cp_chain_b64_to_pem(const char *const *b64, size_t n, char *out,
                              size_t out_size, size_t *out_len,
                              size_t *failed_index);

/**
 * @brief Split a PEM bundle into certificate DERs, in order.
 *
 * Text between blocks is ignored. Every block must be labelled CERTIFICATE
 * and hold base64 of a DER SEQUENCE; the DER is not parsed further (pass the
 * result to cp_chain_verify() or cp_cert_parse()).
 * @param pem borrowed; need not be NUL-terminated.
 * @param der_store one buffer the DERs are written into back to back;
 *        chain[i].data points into it.
 * @param[in,out] n in: capacity of @p chain; out: certificates found.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL pointer); CP_ERR_NOT_FOUND (no block);
 *         CP_ERR_PARSE (bad armour or base64, a block that is not a certificate,
 *         a certificate over CP_CERT_DER_MAX bytes);
 *         CP_ERR_BUFFER_TOO_SMALL (more certificates than capacity, or store full).
 *         On failure @p der_store, @p chain and @p n are untouched.
 */
cp_result cp_pem_bundle_split(const char *pem, size_t pem_len, uint8_t *der_store,
                              size_t store_size, cp_der *chain, size_t *n);

#ifdef __cplusplus
}
#endif
#endif
