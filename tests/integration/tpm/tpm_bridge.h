/* Test helper: a cp_http_transport that hands each DPS request to a
 * reference server core (cps_service) in-process, and counts what it saw. */
#ifndef CP_TPM_TEST_BRIDGE_H
#define CP_TPM_TEST_BRIDGE_H

#include "certpilot/cp_transport.h"
#include "cps_service.h"

/** What the bridge saw. */
typedef struct bridge {
  cps_service *svc;    /**< the core that answers (borrowed) */
  int requests;        /**< requests handled */
  int unauthenticated; /**< requests without Authorization */
  int with_tpm_body;   /**< bodies carrying tpm.endorsementKey */
  int challenges;      /**< 401 replies with an authenticationKey */
  int authorized_registers; /**< PUT register requests with Authorization */
  int authorized_with_tpm;  /**< … whose body has tpm.endorsementKey and tpm.storageRootKey */
  char unauth_ek[2048];     /**< tpm.endorsementKey of the last PUT without Authorization */
  char auth_ek[2048];       /**< tpm.endorsementKey of the last PUT with Authorization */
} bridge;

/** Point @p t at @p b (both caller-owned). */
void bridge_transport(bridge *b, cp_http_transport *t);

#endif
