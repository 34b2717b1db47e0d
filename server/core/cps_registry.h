/**
 * @file cps_registry.h
 * @brief Registry records (namespace credential, policies, ICAs, enrollments, devices,
 *        issued serials) read and written in the store. Used by provisioning, issuance,
 *        the management API and the hub front end.
 *
 * All functions take a ::cps_service; output strings are fixed-size members of the records.
 * Functions that write do not open a transaction themselves unless stated.
 */
#ifndef CPS_REGISTRY_H
#define CPS_REGISTRY_H

#include <stdbool.h>
#include <stddef.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cps_result.h"
#include "cps_service.h"

/** A device (created at first registration). */
typedef struct cps_device {
  char id[129];            /**< device id = registration id */
  char enrollment_id[129]; /**< enrollment it registered through */
  char hub[256];           /**< assigned hub name */
  bool enabled;            /**< false after disable */
  char revocation_id[65];  /**< current per-device revocation identifier */
  long long created;       /**< seconds since the epoch */
  long long updated;       /**< seconds since the epoch */
  long long etag;          /**< bumped on every change */
} cps_device;

/** An enrollment. */
typedef struct cps_enrollment {
  char id[129];              /**< enrollment id (individual: default = registration id) */
  bool group;                /**< group enrollment */
  bool x509;                 /**< x509 attestation (else symmetric key) */
  char registration_id[129]; /**< individual only */
  char primary_key[128];     /**< symmetric only (base64) */
  char secondary_key[128];   /**< symmetric only (base64), may be empty */
  unsigned char *x509_der;   /**< x509 only: the individual cert or the group CA (malloc'd) */
  size_t x509_len;           /**< bytes in x509_der */
  char policy[129];          /**< policy name */
  char hub[256];             /**< hub name */
  bool enabled;              /**< false after disable */
} cps_enrollment;

/** @brief Free the malloc'd members of @p e. */
void cps_enrollment_clear(cps_enrollment *e);

/** @brief Read device @p id. CPS_ERR_NOT_FOUND when absent. */
cps_result cps_device_get(cps_service *svc, const char *id, cps_device *out);

/** @brief Read enrollment @p id. CPS_ERR_NOT_FOUND when absent. Clear with cps_enrollment_clear(). */
cps_result cps_enrollment_get(cps_service *svc, const char *id, cps_enrollment *out);

/**
 * @brief Find the enrollments that can attest @p registration_id: the individual one whose
 *        registration id matches (case-insensitively) or all group enrollments.
 * @param out malloc'd array (*out, caller frees each with cps_enrollment_clear() then free()),
 *        individual first.
 */
cps_result cps_enrollment_candidates(cps_service *svc, const char *registration_id,
                                     cps_enrollment **out, size_t *count);

/** The active issuing CA of a policy, loaded for signing. Free with cps_ica_clear(). */
typedef struct cps_ica {
  long long id;          /**< row id */
  long long policy_id;   /**< owning policy */
  long validity_s;       /**< leaf validity of the policy */
  X509 *cert;            /**< ICA certificate */
  EVP_PKEY *key;         /**< ICA private key */
  X509 *root;            /**< its issuer (namespace root or external BYOR root) */
} cps_ica;

/** @brief Free members of @p ica. */
void cps_ica_clear(cps_ica *ica);

/**
 * @brief Load the active ICA of policy @p policy_name.
 * @return CPS_OK; CPS_ERR_NOT_FOUND (no such policy); CPS_ERR_CONFLICT (policy deleted or
 *         BYOR still pending, message in @p err); CPS_ERR_STORE; CPS_ERR_CRYPTO.
 */
cps_result cps_ica_load_active(cps_service *svc, const char *policy_name, cps_ica *out,
                               cps_error *err);

/** @brief Record issued leaf @p serial_hex for @p device_id under ICA @p ica_id. */
cps_result cps_issued_record(cps_service *svc, const char *serial_hex, const char *device_id,
                             long long ica_id, long long not_before, long long not_after);

#endif
