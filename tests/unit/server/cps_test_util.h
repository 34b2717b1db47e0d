/**
 * @file cps_test_util.h
 * @brief Helpers for the server core unit tests: CSRs made with OpenSSL, a service on a
 *        temporary database, management calls as a given role.
 */
#ifndef CPS_TEST_UTIL_H
#define CPS_TEST_UTIL_H

#include <stddef.h>

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cps_mgmt.h"
#include "cps_service.h"

/** @brief DER CSR for @p cn with a new key on @p curve ("P-384", "P-256"); *key_out optional. */
unsigned char *tu_csr(const char *cn, const char *curve, size_t *len, EVP_PKEY **key_out);
/** @brief Base64 of a CSR made by tu_csr() (malloc'd). */
char *tu_csr_b64(const char *cn, const char *curve, EVP_PKEY **key_out);
/** @brief Open a service on a fresh temp DB (dev mode on, retry-after 0). Path written to @p path. */
cps_service *tu_service(char path[64], int dev_mode);
/** @brief Close the service and remove its files. */
void tu_service_free(cps_service *svc, const char *path);
/** @brief Management call as @p role; returns the status; *json gets the parsed body if wanted. */
int tu_mgmt(cps_service *svc, int role, const char *method, const char *path, const char *body,
            cJSON **json);
/** @brief Credential + policy "p1" (7 days) + symmetric individual enrollment "dev-1" on hub "hub1". */
void tu_setup_basic(cps_service *svc);
/** @brief Count rows of a table. */
long long tu_count(cps_service *svc, const char *table);

#endif
