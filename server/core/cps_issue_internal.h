/**
 * @file cps_issue_internal.h
 * @brief Issuance from an already checked CSR (private; provisioning checks the CSR before it
 *        touches the device, so the expensive signature check runs once).
 */
#ifndef CPS_ISSUE_INTERNAL_H
#define CPS_ISSUE_INTERNAL_H

#include <openssl/x509.h>

#include "cps_issue.h"

/** Room for a device id / CN when comparing. */
#define CPS_DEVICE_ID_MAX_ISSUE 129

/**
 * @brief As cps_issue_for_device() for a request that already passed cps_pki_csr_check()
 *        (@p csr borrowed). Its CN is compared with the stored device id again.
 */
cps_result cps_issue_checked(cps_service *svc, const char *device_id, X509_REQ *csr,
                             cps_chain *out, cps_error *err);

#endif
