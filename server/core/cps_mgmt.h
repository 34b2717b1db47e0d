/**
 * @file cps_mgmt.h
 * @brief Transport-neutral management API: one dispatcher that the HTTPS management listener
 *        (and tests) call with method, path and body. RBAC and audit happen here.
 *
 * Resources (JSON in and out unless noted; errors are {"error":{"code","message"}}):
 *   POST   /credential                     create the namespace root CA (409 if one exists)
 *   GET    /credential                     root CA info {"subject","notAfter","certificate":PEM}
 *   DELETE /credential                     delete it (409 while policies exist; irreversible)
 *   POST   /policies                       {"name","validityDays"|"validitySeconds"(dev),"byor"?}
 *   GET    /policies, /policies/{name}
 *   DELETE /policies/{name}                no more issuance; ICA stays trusted by hubs
 *   DELETE /policies/{name}/trust          hubs stop trusting the policy's ICA(s)
 *   POST   /policies/{name}/revoke         old ICA onto the root CRL, new ICA, hub trust updated
 *   GET    /policies/{name}/csr            BYOR: the CA request (PEM, text/plain)
 *   PUT    /policies/{name}/certificate    BYOR: PEM bundle [ICA, …, external root] activates
 *   POST   /enrollments                    {"id","kind":"individual"|"group",
 *                                           "attestation":"symmetricKey"|"x509",
 *                                           "primaryKey"?,"secondaryKey"?,"certificate"?(PEM),
 *                                           "registrationId"?(individual; default id),
 *                                           "policy","hub","enabled"?}
 *   GET    /enrollments, /enrollments/{id}
 *   DELETE /enrollments/{id}
 *   POST   /enrollments/{id}/disable | /enable
 *   GET    /devices, /devices/{id}
 *   POST   /devices/{id}/revoke | /disable | /enable
 *   GET    /crl/root, /crl/policies/{name} DER CRL (application/pkix-crl)
 *   GET    /hub/trust                      PEM bundle trusted by hubs (application/x-pem-file)
 *   GET    /audit?after=N&limit=M          audit records
 *   POST   /tokens                         {"name","role"} → {"name","role","token"} (shown once)
 *   GET    /tokens                         names and roles
 */
#ifndef CPS_MGMT_H
#define CPS_MGMT_H

#include <stddef.h>

#include "cps_rbac.h"
#include "cps_result.h"
#include "cps_service.h"

/** Reply of the dispatcher. Free with cps_mgmt_response_free(). */
typedef struct cps_mgmt_response {
  int status;               /**< HTTP status */
  const char *content_type; /**< static string */
  unsigned char *body;      /**< malloc'd body (may be NULL when len is 0) */
  size_t len;               /**< body length */
} cps_mgmt_response;

/**
 * @brief Handle one management request.
 * @param who      authenticated principal (role CPS_ROLE_NONE → 401).
 * @param method   "GET", "POST", "PUT", "DELETE".
 * @param path     path without query, e.g. "/policies/p1/revoke".
 * @param query    query string without '?', or NULL.
 * @param body     request body (may be NULL), @p body_len bytes.
 * @param resp     always filled.
 * @return CPS_OK when a reply was produced; CPS_ERR_NOMEM otherwise.
 */
cps_result cps_mgmt_handle(cps_service *svc, const cps_principal *who, const char *method,
                           const char *path, const char *query, const char *body,
                           size_t body_len, cps_mgmt_response *resp);

/** @brief Free the body of @p resp and zero it. */
void cps_mgmt_response_free(cps_mgmt_response *resp);

#endif
