/**
 * @file cps_http_internal.h
 * @brief Private state and handlers of the HTTPS front ends.
 */
#ifndef CPS_HTTP_INTERNAL_H
#define CPS_HTTP_INTERNAL_H

#include <event2/http.h>
#include <openssl/ssl.h>

#include "cps_http.h"

struct cps_http {
  cps_service *svc;
  SSL_CTX *ssl;
  struct evhttp *dps;
  struct evhttp *mgmt;
  int dps_port;
  int mgmt_port;
};

/** @brief evhttp generic callback of the DPS listener (arg = cps_http *). */
void cps_http_dps_handle(struct evhttp_request *req, void *arg);
/** @brief evhttp generic callback of the management listener (arg = cps_http *). */
void cps_http_mgmt_handle(struct evhttp_request *req, void *arg);

/** @brief Copy the request body into a malloc'd NUL-terminated buffer (*len bytes, NULL if empty). */
char *cps_http_body(struct evhttp_request *req, size_t *len);

#endif
