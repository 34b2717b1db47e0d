/**
 * @file cps_issue.h
 * @brief Certificate issuance for a known device: shared by provisioning and by the hub's
 *        `$iothub/credentials` renewal (protocol.md §8).
 */
#ifndef CPS_ISSUE_H
#define CPS_ISSUE_H

#include <stddef.h>

#include "cps_result.h"
#include "cps_service.h"

/** Maximum chain length returned ([leaf, ICA, root]). */
#define CPS_CHAIN_MAX 3

/** An issued chain, leaf first; each element malloc'd base64 DER. Free with cps_chain_free(). */
typedef struct cps_chain {
  char *b64[CPS_CHAIN_MAX]; /**< base64 DER, NUL-terminated */
  size_t count;             /**< number of elements set */
  char serial_hex[41];      /**< serial of the leaf */
  long long not_after;      /**< leaf notAfter, seconds since the epoch */
} cps_chain;

/** @brief Free the members of @p chain and zero it. */
void cps_chain_free(cps_chain *chain);

/**
 * @brief Issue a leaf for existing device @p device_id from CSR @p csr_der: the device must
 *        exist and be enabled, its enrollment's policy must be active; the CSR is checked
 *        (cps_pki_csr_check(), CN = device id). The leaf carries the device's current
 *        revocation identifier; its serial is recorded in the store.
 *        Must be called inside a store transaction (cps_store_begin()) so issuance and its
 *        record commit together; the caller commits or rolls back.
 * @param out filled on success.
 * @return CPS_OK; CPS_ERR_INVALID (bad CSR: message in @p err); CPS_ERR_NOT_FOUND (device);
 *         CPS_ERR_FORBIDDEN (device disabled); CPS_ERR_CONFLICT (policy deleted / pending /
 *         no credential); CPS_ERR_CRYPTO; CPS_ERR_STORE.
 */
cps_result cps_issue_for_device(cps_service *svc, const char *device_id,
                                const unsigned char *csr_der, size_t csr_len, cps_chain *out,
                                cps_error *err);

#endif
