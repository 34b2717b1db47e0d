/**
 * @file hub_plugin_ctx.h
 * @brief State shared by the files of the mosquitto plugin (private).
 */
#ifndef CERTPILOT_SERVER_HUB_PLUGIN_CTX_H
#define CERTPILOT_SERVER_HUB_PLUGIN_CTX_H

#include <stddef.h>
#include <time.h>

#include "cps_service.h"
#include "hub_conn.h"
#include "hub_twin.h"

/** Plugin options (mosquitto `plugin_opt_<name> <value>`). */
typedef struct hub_plugin_opts {
  char db_path[1024];    /**< `db_path`: the server's SQLite file (required) */
  char hub_name[256];    /**< `hub_name`: this hub's host name (required) */
  char ca_key_passphrase_file[1024]; /**< `ca_key_passphrase_file`: CA key passphrase file, or "" */
  int retry_after_s;     /**< `retry_after`: Retry-After of 202 replies (default 1) */
  int recheck_ms;        /**< `recheck_ms`: revocation / desired-poll period (default 500) */
  int reply_qos;         /**< `reply_qos`: QoS of responses and desired notifications (default 0) */
  double rate_limit;     /**< `rate_limit`: DPS requests/s over MQTT, 0 = off (default 0) */
  int rate_burst;        /**< `rate_burst`: token bucket size (default 100) */
  long sas_max_lifetime; /**< `sas_max_lifetime`: reject SAS tokens expiring later than this (s) */
} hub_plugin_opts;

/** The plugin. One instance per broker. */
typedef struct hub_plugin {
  hub_plugin_opts opts;     /**< parsed options */
  cps_service *svc;         /**< core service (own store connection) */
  hub_twin_store *twins;    /**< twin store on the same file */
  hub_conn_table conns;     /**< authenticated clients */
  struct timespec last_poll;/**< last revocation / desired poll */
} hub_plugin;

/** One message a device published, as the handlers need it. */
typedef struct hub_message {
  const char *client_id;  /**< publishing client's id (= registration / device id) */
  const char *topic;      /**< topic */
  const void *payload;    /**< payload bytes (may be NULL when len is 0) */
  size_t len;             /**< payload length */
} hub_message;

/**
 * @brief Handle a message on one of our topics from an authenticated client
 *        (DPS register / status, twin GET / reported PATCH, telemetry) and
 *        queue the response to that client alone.
 */
void hub_handle_message(hub_plugin *p, hub_conn *conn, const hub_message *msg);

/** @brief QoS the handlers publish with (set from the options at init). */
extern int hub_reply_qos;

/**
 * @brief Periodic work: send pending desired-property patches to connected
 *        devices and disconnect devices that would no longer be accepted
 *        (revoked, disabled, policy trust removed).
 */
void hub_poll(hub_plugin *p);

/**
 * @brief The hub CONNECT decision for @p cert / username @p who.
 * @param why receives the refusal reason (for the log).
 * @return 0 to accept, -1 to refuse.
 */
int hub_accept_device(hub_plugin *p, const hub_username *who, X509 *cert, char *why,
                      size_t why_len);

#endif
