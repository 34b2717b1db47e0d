/**
 * @file cps_prov_auth.h
 * @brief Device attestation for provisioning (private): find the enrollment that vouches for a
 *        registration id given a SAS token or a TLS client certificate.
 */
#ifndef CPS_PROV_AUTH_H
#define CPS_PROV_AUTH_H

#include "cps_prov.h"
#include "cps_registry.h"

/**
 * @brief Authenticate @p req for its registration id.
 * @param out receives the matching enrollment (clear with cps_enrollment_clear()).
 * @return CPS_OK; CPS_ERR_NOT_FOUND (no individual enrollment for the id and no group of the
 *         presented attestation type); CPS_ERR_UNAUTHORIZED (credentials do not verify; reason
 *         in @p err); CPS_ERR_STORE / CPS_ERR_NOMEM.
 */
cps_result cps_prov_authenticate(cps_service *svc, const cps_prov_request *req,
                                 cps_enrollment *out, cps_error *err);

#endif
