/**
 * @file cps_rbac.h
 * @brief Management API bearer tokens and role decisions.
 *
 * Roles: `credentials-contributor` may do everything on credentials, policies, enrollments
 * and devices; `reader` may only read (GET). Tokens are random 32-byte values shown once
 * (base64url, 43 chars); the store keeps only their SHA-256.
 */
#ifndef CPS_RBAC_H
#define CPS_RBAC_H

#include <stdbool.h>
#include <stddef.h>

#include "cps_result.h"
#include "cps_service.h"

/** Role of a management principal. */
typedef enum cps_role {
  CPS_ROLE_NONE = 0,    /**< not authenticated */
  CPS_ROLE_READER,      /**< "reader" */
  CPS_ROLE_CONTRIBUTOR  /**< "credentials-contributor" */
} cps_role;

/** Kind of operation asked for. */
typedef enum cps_access {
  CPS_ACCESS_READ,  /**< GET */
  CPS_ACCESS_WRITE  /**< anything that changes state */
} cps_access;

/** An authenticated caller. */
typedef struct cps_principal {
  char name[64]; /**< token name */
  cps_role role; /**< its role */
} cps_principal;

/** @brief Wire name of @p role ("reader", "credentials-contributor", "none"). */
const char *cps_role_name(cps_role role);
/** @brief Parse a role name; CPS_ROLE_NONE when unknown. */
cps_role cps_role_parse(const char *name);

/**
 * @brief The RBAC decision.
 * @return CPS_OK when @p role may perform @p access; CPS_ERR_UNAUTHORIZED for CPS_ROLE_NONE;
 *         CPS_ERR_FORBIDDEN when the role is too weak.
 */
cps_result cps_rbac_check(cps_role role, cps_access access);

/**
 * @brief Create token @p name with @p role and return its secret in @p secret (>= 64 bytes).
 * @return CPS_OK, CPS_ERR_CONFLICT (name exists), CPS_ERR_INVALID (bad name/role), CPS_ERR_STORE.
 */
cps_result cps_token_create(cps_service *svc, const char *name, cps_role role, char *secret,
                            size_t secret_size, cps_error *err);

/**
 * @brief Map an `Authorization: Bearer <secret>` header value to a principal (lookup by
 *        SHA-256, compared in constant time).
 * @return CPS_OK or CPS_ERR_UNAUTHORIZED (missing / malformed / unknown token).
 */
cps_result cps_token_authenticate(cps_service *svc, const char *authorization,
                                  cps_principal *out);

#endif
