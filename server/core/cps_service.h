/**
 * @file cps_service.h
 * @brief The server core context: configuration + store, shared by every front end
 *        (HTTPS, management API, the MQTT hub plugin).
 *
 * A ::cps_service owns one ::cps_store connection and is therefore used by one thread
 * at a time. Several services (threads or processes, e.g. certpilot-server and the
 * mosquitto plugin) may open the same database file.
 */
#ifndef CPS_SERVICE_H
#define CPS_SERVICE_H

#include <stdbool.h>

#include "cps_result.h"
#include "cps_store.h"

/** Settings of a service. Get defaults with cps_service_config_default(). */
typedef struct cps_service_config {
  const char *db_path;        /**< SQLite file (required) */
  const char *id_scope;       /**< DPS id scope; used only when the DB has none yet (default "0ne00000001") */
  const char *namespace_name; /**< namespace name, stored on first start (default "certpilot") */
  bool dev_mode;              /**< allow policy validity in seconds (validitySeconds) */
  int retry_after_s;          /**< Retry-After of 202 replies (default 1; 0 allowed) */
  long crl_next_update_s;     /**< CRL nextUpdate distance (default 86400) */
  double rate_limit_per_s;    /**< provisioning requests per second for all devices (0 = off);
                                   one bucket per process, shared by every service in it */
  int rate_limit_burst;       /**< token bucket size (default 100) */
  long sas_max_lifetime_s;    /**< reject SAS tokens expiring further in the future (default 1 year) */
  const char *ca_key_passphrase_file; /**< file whose first line encrypts the CA keys in the store
                                           (see cps_passphrase.h); NULL: keys stored unencrypted */
} cps_service_config;

/** Opaque service. */
typedef struct cps_service cps_service;

/** @brief Fill @p cfg with defaults (db_path NULL). */
void cps_service_config_default(cps_service_config *cfg);

/**
 * @brief Open the store named by @p cfg and remember the settings (strings are copied).
 *        On a fresh database stores the id scope and namespace name. Reads the CA key
 *        passphrase when cfg->ca_key_passphrase_file is set (whether it decrypts the stored
 *        keys is checked by cps_ca_keys_prepare()).
 * @return CPS_OK, CPS_ERR_INVALID (no db_path), CPS_ERR_STORE, CPS_ERR_NOMEM, or an error of
 *         cps_passphrase_read() (message in @p err).
 */
cps_result cps_service_open(const cps_service_config *cfg, cps_service **out, cps_error *err);

/** @brief Close @p svc (NULL allowed). */
void cps_service_close(cps_service *svc);

/** @brief The service's store (owned by @p svc). */
cps_store *cps_service_store(cps_service *svc);
/** @brief The effective configuration (owned by @p svc). */
const cps_service_config *cps_service_config_get(const cps_service *svc);
/** @brief The id scope in use (from the DB; owned by @p svc). */
const char *cps_service_id_scope(const cps_service *svc);

#endif
