/**
 * @file cps_audit.h
 * @brief Append-only audit log of management operations (table `audit`; no update or delete
 *        statement exists for it anywhere in the code; a trigger refuses them).
 */
#ifndef CPS_AUDIT_H
#define CPS_AUDIT_H

#include <cjson/cJSON.h>

#include "cps_rbac.h"
#include "cps_result.h"
#include "cps_service.h"

/**
 * @brief Append one record: now, principal name and role, @p operation (e.g. "policy.revoke"),
 *        @p target (e.g. "policy/p1"), @p result (HTTP status).
 */
cps_result cps_audit_append(cps_service *svc, const cps_principal *who, const char *operation,
                            const char *target, int result);

/**
 * @brief Records with seq > @p after_seq (oldest first, at most @p limit) as a JSON array of
 *        {"seq","time","tokenName","role","operation","target","result"} (*out, caller frees
 *        with cJSON_Delete()).
 */
cps_result cps_audit_list(cps_service *svc, long long after_seq, int limit, cJSON **out);

#endif
