/**
 * @file cps_http_internal.h
 * @brief Private state and handlers of the HTTPS front ends.
 */
#ifndef CPS_HTTP_INTERNAL_H
#define CPS_HTTP_INTERNAL_H

#include <pthread.h>

#include <event2/http.h>
#include <openssl/ssl.h>

#include "cps_http.h"

/** One extra DPS thread. */
typedef struct cps_http_worker {
  pthread_t thread;
  struct event_base *base;
  struct cps_http *http; /* the worker's own front-end state (svc = its own service) */
  int started;
} cps_http_worker;

struct cps_http {
  cps_service *svc;
  int owns_svc; /* workers own their service */
  cps_http_worker *workers;
  int n_workers;
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
