/**
 * @file hub_trust_dir.h
 * @brief Mirror a PEM bundle of CA certificates into an OpenSSL hashed CA
 *        directory (`<subject-hash>.<n>` files), the broker's `capath`.
 */
#ifndef CERTPILOT_SERVER_HUB_TRUST_DIR_H
#define CERTPILOT_SERVER_HUB_TRUST_DIR_H

#include <stddef.h>

#include "certpilot/cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Make @p dir hold exactly the certificates of @p pem: write new or
 *        changed `<hash>.<n>` files atomically (0644: certificates are
 *        public), delete `<hash>.<n>` files no longer in the bundle. Other
 *        files are left alone. An empty bundle empties the directory.
 * @param dir existing directory.
 * @param pem,len the bundle (need not be NUL-terminated).
 * @param changed set to 1 when any file was written or removed; may be NULL.
 *        PEM blocks of other types (keys, CRLs) and text between blocks
 *        are skipped.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_PARSE (a CERTIFICATE block does
 *         not decode; nothing written); CP_ERR_NO_MEMORY; CP_ERR_IO.
 */
cp_result hub_trust_dir_sync(const char *dir, const char *pem, size_t len, int *changed);

/**
 * @brief Write @p pem (the bundle's certificates, re-encoded) to @p path
 *        atomically (0644). When the bundle holds no certificate, a throwaway
 *        self-signed certificate whose key is discarded is written instead,
 *        so that the file is a valid CA file that trusts nothing reachable.
 * @param changed set to 1 when the file's content changed; may be NULL.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_PARSE (a certificate block does
 *         not decode; file untouched); CP_ERR_NO_MEMORY; CP_ERR_CRYPTO; CP_ERR_IO.
 */
cp_result hub_trust_file_sync(const char *path, const char *pem, size_t len, int *changed);

#ifdef __cplusplus
}
#endif
#endif
