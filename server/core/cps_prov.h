/**
 * @file cps_prov.h
 * @brief Transport-neutral DPS provisioning service (protocol.md §1–§6, §13).
 *
 * The HTTPS front end and the MQTT (mosquitto plugin) front end both parse their
 * transport, fill a ::cps_prov_request and call cps_prov_register() or
 * cps_prov_operation_status(). The reply is a status code (HTTP semantics; MQTT puts it
 * in `$dps/registrations/res/{status}/`), a JSON body and a Retry-After.
 *
 * Behaviour:
 * - api-version: accepted values are listed by cps_prov_api_version_ok(); missing or
 *   unknown → 400 (errorCode 400001). `csr` is honoured from 2025-07-01-preview on.
 * - id scope unknown → 404 (404001). Body not JSON object / registrationId mismatch → 400 (400004).
 * - rate limit exceeded → 429 (429001) with retry_after.
 * - no enrollment for the registration id → 404 (404002).
 * - authentication failed (SAS, TLS client certificate) → 401 (401002).
 * - otherwise 202 {"operationId","status":"assigning"} with Retry-After; the work (device
 *   record, certificate issuance, operation record) is done in one store transaction, and
 *   cps_prov_operation_status() then answers 200 with the final RegistrationOperationStatus:
 *   `assigned` (with `issuedCertificateChain` when a CSR was sent), `failed` (bad CSR:
 *   errorCode 400037 + errorMessage, policy unusable: 409xxx) or `disabled` (enrollment or
 *   device disabled).
 * Error bodies are Azure's: {"errorCode","trackingId","message","timestampUtc"}.
 */
#ifndef CPS_PROV_H
#define CPS_PROV_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/x509.h>

#include "cps_result.h"
#include "cps_service.h"

/** Seconds an operation's result stays available to status lookups. */
#define CPS_PROV_OPERATION_TTL_S 86400

/** Largest register body accepted by front ends (bytes); larger → 413 (413001). */
#define CPS_PROV_MAX_BODY 16384

/** One request, already separated from its transport. All pointers are borrowed. */
typedef struct cps_prov_request {
  const char *id_scope;        /**< from the URL path or MQTT username */
  const char *registration_id; /**< from the URL path or MQTT username (URL-decoded) */
  const char *api_version;     /**< query / username parameter; NULL when absent */
  const char *operation_id;    /**< status lookups only */
  const char *body;            /**< register JSON (not NUL-terminated); NULL for status lookups */
  size_t body_len;             /**< bytes in @ref body */
  const char *authorization;   /**< `Authorization` header / MQTT password; NULL when absent */
  X509 *client_cert;           /**< verified-by-TLS-or-not peer certificate; NULL when none */
  STACK_OF(X509) *client_chain; /**< extra certificates the peer sent (may be NULL) */
} cps_prov_request;

/** Reply to send. Free the members with cps_prov_response_free(). */
typedef struct cps_prov_response {
  int status;          /**< 200, 202, 400, 401, 404, 413, 429, 500 */
  char *body;          /**< malloc'd JSON text */
  int retry_after;     /**< seconds for a Retry-After header / retry-after topic param; -1 = none */
  char *operation_id;  /**< malloc'd operation id on 202 (for the Location header), else NULL */
  char *error_code;    /**< malloc'd decimal errorCode for x-ms-error-code on errors, else NULL */
} cps_prov_response;

/** @brief True when @p api_version is one the service accepts (§13.6). */
bool cps_prov_api_version_ok(const char *api_version);

/** @brief True when @p api_version supports `csr` (2025-07-01-preview or later). */
bool cps_prov_api_version_has_csr(const char *api_version);

/**
 * @brief Handle `PUT {idScope}/registrations/{id}/register` / `$dps/…/iotdps-register`.
 * @param resp always filled (also on internal errors: 500 body); caller frees it.
 * @return CPS_OK when a reply was produced (whatever its status), CPS_ERR_NOMEM otherwise.
 */
cps_result cps_prov_register(cps_service *svc, const cps_prov_request *req,
                             cps_prov_response *resp);

/**
 * @brief Handle `GET …/operations/{operationId}` / `iotdps-get-operationstatus`. The caller must
 *        authenticate the same way as for register (SAS or client certificate).
 * @return as cps_prov_register().
 */
cps_result cps_prov_operation_status(cps_service *svc, const cps_prov_request *req,
                                     cps_prov_response *resp);

/**
 * @brief Handle the status lookup `POST {idScope}/registrations/{id}` (protocol.md §3): same
 *        authentication as register; 200 with a DeviceRegistrationResult (registrationId,
 *        createdDateTimeUtc, assignedHub, deviceId, status, substatus, etag,
 *        lastUpdatedDateTimeUtc; never a certificate chain), 404 (404004) when the device has
 *        not registered, 400 when the body carries a `csr`.
 * @return as cps_prov_register().
 */
cps_result cps_prov_status_lookup(cps_service *svc, const cps_prov_request *req,
                                  cps_prov_response *resp);

/** @brief Free the members of @p resp and zero it. */
void cps_prov_response_free(cps_prov_response *resp);

/**
 * @brief Azure-style error body {"errorCode":code,"trackingId","message","timestampUtc"}
 *        (malloc'd; NULL on allocation failure). Exposed so front ends answer transport
 *        errors (413, 404 route) with the same shape.
 */
char *cps_prov_error_body(int error_code, const char *message);

#endif
