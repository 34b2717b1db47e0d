/**
 * @file server_config.h
 * @brief certpilot-server settings from a config file and command-line flags.
 */
#ifndef CERTPILOT_SERVER_CONFIG_H
#define CERTPILOT_SERVER_CONFIG_H

#include <stdbool.h>

#include "hub_server.h"

/** Every setting; strings are malloc'd (server_config_free()). */
typedef struct server_config {
  char *data_dir;         /**< "data-dir": DB + TLS files (default ./certpilot-data) */
  char *dps_listen;       /**< "dps-listen": bind address (default 127.0.0.1) */
  int dps_port;           /**< "dps-port": default 8443; 0 = any free port */
  char *mgmt_listen;      /**< "mgmt-listen": default 127.0.0.1 */
  int mgmt_port;          /**< "mgmt-port": default 8444; 0 = any free port */
  char *id_scope;         /**< "id-scope": used on first start (default 0ne00000001) */
  char *namespace_name;   /**< "namespace": used on first start (default certpilot) */
  char *hostnames;        /**< "hostnames": extra TLS SAN DNS names, comma separated */
  bool dev;               /**< "dev": allow validitySeconds in policies */
  int retry_after;        /**< "retry-after": seconds in 202 replies (default 1) */
  double rate_limit;      /**< "rate-limit": provisioning requests/s (0 = off) */
  int rate_burst;         /**< "rate-burst": bucket size (default 100) */
  long crl_next_update;   /**< "crl-next-update": seconds (default 86400) */
  long max_lifetime;      /**< "max-lifetime": exit after this many seconds (0 = never) */
  int threads;            /**< "threads": DPS threads (default: online CPUs, at most 8) */
  char *ready_file;       /**< "ready-file": write endpoints here (shell KEY=value) once listening */
  char *admin_token_file; /**< "admin-token-file": also write the first-start admin token here (0600) */
  char *ca_key_passphrase_file; /**< "ca-key-passphrase-file": encrypt the CA keys in the DB with
                                     this file's first line (file mode 0600) */
  hub_server_options mqtt; /**< "mqtt", "mqtt-*", "hub-name", "mosquitto": see server/hub/hub_server.h */
} server_config;

/** @brief Defaults. */
void server_config_default(server_config *c);
/**
 * @brief Apply one setting @p key = @p value. Returns 0, or -1 after printing an error that
 *        names the key (unknown key, bad number).
 */
int server_config_set(server_config *c, const char *key, const char *value, const char *where);
/** @brief Read "key = value" lines ('#' comments). Returns 0 or -1 (error printed). */
int server_config_load_file(server_config *c, const char *path);
/** @brief Free the strings. */
void server_config_free(server_config *c);

#endif
