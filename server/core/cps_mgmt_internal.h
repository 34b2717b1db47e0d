/**
 * @file cps_mgmt_internal.h
 * @brief Private pieces of the management dispatcher: the parsed request, reply helpers and
 *        the per-resource handlers (cps_mgmt_ca.c, cps_mgmt_enroll.c).
 */
#ifndef CPS_MGMT_INTERNAL_H
#define CPS_MGMT_INTERNAL_H

#include <cjson/cJSON.h>
#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cps_mgmt.h"
#include "cps_service_internal.h"

/** Maximum path segments. */
#define MGMT_MAX_SEG 6

/** A request split into path segments, with the JSON body parsed when there is one. */
typedef struct mgmt_req {
  cps_service *svc;
  const cps_principal *who;
  const char *method;
  char *seg[MGMT_MAX_SEG]; /* URL-decoded path segments */
  int nseg;
  const char *query;
  const char *body;
  size_t body_len;
  cJSON *json; /* parsed body or NULL */
} mgmt_req;

/** @brief Reply with a JSON document (takes ownership of @p doc). */
void mgmt_json(cps_mgmt_response *resp, int status, cJSON *doc);
/** @brief Reply with {"error":{"code":status,"message":…}}. */
void mgmt_error(cps_mgmt_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/** @brief Reply with raw bytes (copied). */
void mgmt_raw(cps_mgmt_response *resp, int status, const char *ctype, const void *data,
              size_t len);
/** @brief Reply for a core failure @p r with message @p msg (status from cps_result_http_status()). */
void mgmt_fail(cps_mgmt_response *resp, cps_result r, const char *msg);

/** @brief Run one SQL statement with text parameters (NULL-terminated varargs). */
cps_result mgmt_exec(cps_service *svc, const char *sql, ...);

/** @brief Object names: 1–64 of [A-Za-z0-9._-]. */
int mgmt_name_ok(const char *name);

/** The live namespace credential, loaded for signing. */
typedef struct mgmt_cred {
  long long id;
  X509 *cert;
  EVP_PKEY *key;
} mgmt_cred;

/** @brief Load the live credential; CPS_ERR_NOT_FOUND when there is none. Clear with mgmt_cred_clear(). */
cps_result mgmt_cred_load(cps_service *svc, mgmt_cred *out);
/** @brief Free and zero @p c. */
void mgmt_cred_clear(mgmt_cred *c);
/** @brief Add subject, serial, notBefore, notAfter of @p c to object @p o. */
void mgmt_add_cert_info(cJSON *o, X509 *c);

/** A policy row. */
typedef struct mgmt_policy_row {
  long long id;
  char name[80];
  long validity_s;
  int byor, deleted;
  char state[16];
  long long cred_id;
} mgmt_policy_row;

/** @brief The live policy called @p name, else its newest deleted one; CPS_ERR_NOT_FOUND. */
cps_result mgmt_policy_find(cps_service *svc, const char *name, mgmt_policy_row *p);

/* Handlers: each fills @p resp. */
void mgmt_credential(mgmt_req *rq, cps_mgmt_response *resp);
void mgmt_policy(mgmt_req *rq, cps_mgmt_response *resp);
void mgmt_crl(mgmt_req *rq, cps_mgmt_response *resp);
void mgmt_hub_trust(mgmt_req *rq, cps_mgmt_response *resp);
void mgmt_enrollment(mgmt_req *rq, cps_mgmt_response *resp);
void mgmt_device(mgmt_req *rq, cps_mgmt_response *resp);

#endif
