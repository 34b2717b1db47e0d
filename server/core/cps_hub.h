/**
 * @file cps_hub.h
 * @brief Queries a hub front end (the MQTT broker plugin) asks of the core.
 *
 * Trust model: a hub trusts every policy issuing CA whose `trusted` flag is set (all hubs of
 * the namespace get the same set, as ADR credential sync would push it). Revoking a policy
 * replaces its ICA in that set; deleting a policy keeps the ICA trusted until the operator
 * removes it (management API `DELETE /policies/{name}/trust`).
 */
#ifndef CPS_HUB_H
#define CPS_HUB_H

#include <stddef.h>

#include <openssl/x509.h>

#include "cps_result.h"
#include "cps_service.h"

/** Maximum device id length (registration ids are at most 128 characters). */
#define CPS_DEVICE_ID_MAX 129

/**
 * @brief Decide whether a device may connect to hub @p hub_name with @p leaf (+ @p chain,
 *        the other certificates it presented, may be NULL):
 *        the leaf verifies (signature, validity, clientAuth) up to an ICA currently trusted
 *        by hubs (the ICA itself is the trust anchor); its CN names an existing, enabled device
 *        assigned to @p hub_name; its revocation identifier equals the device's current one.
 * @param device_id receives the device id (the CN) on success.
 * @return CPS_OK; CPS_ERR_UNAUTHORIZED with the reason in @p err ("chain: …",
 *         "device: unknown", "device: disabled", "device: assigned to another hub",
 *         "device: certificate revoked"); CPS_ERR_STORE / CPS_ERR_NOMEM.
 */
cps_result cps_hub_check_device_cert(cps_service *svc, const char *hub_name, X509 *leaf,
                                     STACK_OF(X509) *chain, char device_id[CPS_DEVICE_ID_MAX],
                                     cps_error *err);

/**
 * @brief PEM bundle of the ICAs currently trusted by hubs, followed by their roots
 *        (malloc'd *pem, caller frees; empty string when none). Suitable as a broker cafile.
 */
cps_result cps_hub_trust_bundle_pem(cps_service *svc, char **pem);

#endif
