/**
 * @file cps_http.h
 * @brief HTTPS front ends of certpilot-server on libevent's evhttp over OpenSSL:
 *        the DPS device endpoint and the management REST API, on separate listeners.
 *
 * Both listeners run TLS with the same server certificate. The DPS listener requests a
 * client certificate but does not require it (X.509 attestation is decided by the core
 * against the enrollment, not by the TLS layer).
 *
 * Threads: the management API and one DPS acceptor run on the caller's event loop with the
 * caller's service; `dps_workers` extra threads each run their own event loop and their own
 * ::cps_service (opened from `svc_cfg`, i.e. their own SQLite connection) and accept on the
 * same DPS socket. Call evthread_use_pthreads() before creating @p base when dps_workers > 0.
 */
#ifndef CPS_HTTP_H
#define CPS_HTTP_H

#include <event2/event.h>

#include "cps_result.h"
#include "cps_service.h"

/** Listener settings. */
typedef struct cps_http_config {
  const char *dps_addr;   /**< bind address of the DPS listener (e.g. "127.0.0.1") */
  int dps_port;           /**< its port; 0 = any free port */
  const char *mgmt_addr;  /**< bind address of the management listener */
  int mgmt_port;          /**< its port; 0 = any free port */
  const char *cert_file;  /**< PEM server certificate chain (leaf first) */
  const char *key_file;   /**< PEM private key */
  int timeout_s;          /**< per-connection read/write timeout (default 30 when 0) */
  int dps_workers;        /**< extra DPS threads (0 = none) */
  const cps_service_config *svc_cfg; /**< config for the workers' services (needed when dps_workers > 0) */
} cps_http_config;

/** Opaque front-end state. */
typedef struct cps_http cps_http;

/**
 * @brief Create the TLS context and both listeners on @p base.
 * @param svc service used by every request (borrowed; must outlive the front end).
 * @return CPS_OK; CPS_ERR_CRYPTO (certificate/key unusable); CPS_ERR_IO (cannot bind, message in
 *         @p err); CPS_ERR_NOMEM.
 */
cps_result cps_http_start(struct event_base *base, cps_service *svc, const cps_http_config *cfg,
                          cps_http **out, cps_error *err);

/** @brief Port the DPS listener is bound to. */
int cps_http_dps_port(const cps_http *h);
/** @brief Port the management listener is bound to. */
int cps_http_mgmt_port(const cps_http *h);

/** @brief Close the listeners and free everything (NULL allowed). */
void cps_http_free(cps_http *h);

#endif
