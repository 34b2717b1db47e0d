/**
 * @file hub_mgmt_twin.h
 * @brief Management API routes for device twins, next to the core's
 *        dispatcher (cps_mgmt_handle()): the HTTPS management front end
 *        offers each request here first.
 *
 *   GET   /devices/{id}/twin           {"deviceId","desired":{…,"$version"},"reported":{…,"$version"}}
 *   PATCH /devices/{id}/twin/desired   body: a patch object (null deletes) → 200 {"$version":n}
 *                                      (POST is accepted too: libevent's evhttp refuses PATCH
 *                                      unless told otherwise);
 *                                      a connected device gets it on
 *                                      `$iothub/twin/PATCH/properties/desired/?$version=n`
 *
 * Errors use the management shape {"error":{"code","message"}}: 400 bad patch,
 * 401/403 RBAC, 404 unknown device, 413 too large, 500 store. Every request
 * is audited (operation "GET devices/twin" / "PATCH devices/twin/desired").
 */
#ifndef CERTPILOT_SERVER_HUB_MGMT_TWIN_H
#define CERTPILOT_SERVER_HUB_MGMT_TWIN_H

#include <stddef.h>

#include "cps_mgmt.h"
#include "cps_rbac.h"
#include "cps_service.h"
#include "hub_twin.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Handle @p method @p path when it is a twin route.
 * @param svc   core service (RBAC, device lookup, audit); used from this thread only.
 * @param twins twin store on the same database.
 * @param resp  filled when the route is ours (free with cps_mgmt_response_free()).
 * @return 1 when the request was a twin route (a reply is in @p resp, also
 *         for errors); 0 when it is not (resp untouched: call cps_mgmt_handle());
 *         -1 when out of memory.
 */
int hub_mgmt_twin_handle(cps_service *svc, hub_twin_store *twins, const cps_principal *who,
                         const char *method, const char *path, const char *body,
                         size_t body_len, cps_mgmt_response *resp);

/**
 * @brief hub_mgmt_twin_handle() with a twin store opened for this request on
 *        the service's database (what the HTTPS management front end calls).
 * @return as hub_mgmt_twin_handle(); a store that cannot be opened gives a
 *         500 reply.
 */
int hub_mgmt_twin_route(cps_service *svc, const cps_principal *who, const char *method,
                        const char *path, const char *body, size_t body_len,
                        cps_mgmt_response *resp);

#ifdef __cplusplus
}
#endif
#endif
