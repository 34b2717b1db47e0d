/**
 * @file hub_server.h
 * @brief What certpilot-server's main needs to run the MQTT side: settings
 *        ("mqtt-*" / "hub-name" keys of the server config), start and stop
 *        of the supervised mosquitto, and the twin store for the management
 *        API. See docs/server-mqtt.md.
 */
#ifndef CERTPILOT_SERVER_HUB_SERVER_H
#define CERTPILOT_SERVER_HUB_SERVER_H

#include <stdbool.h>
#include <stddef.h>

#include "cps_service.h"
#include "hub_twin.h"

#ifdef __cplusplus
extern "C" {
#endif

/** MQTT settings; strings malloc'd (hub_server_options_free()). */
typedef struct hub_server_options {
  bool enabled;        /**< "mqtt": run the broker (default true) */
  char *listen;        /**< "mqtt-listen": bind address (default 127.0.0.1) */
  int port_cert;       /**< "mqtt-port": TLS + client certificate (default 8883; 0 = free port) */
  int port_sas;        /**< "mqtt-sas-port": TLS, SAS onboarding (default 8884; 0 = free port) */
  int port_wss;        /**< "mqtt-wss-port": WebSockets over TLS (default 8885; 0 = free port;
                            -1 = no WebSockets listener) */
  char *hub_name;      /**< "hub-name": this hub's host name, as enrollments' "hub" (default localhost) */
  char *mosquitto;     /**< "mosquitto": broker executable (default /usr/sbin/mosquitto) */
  char *plugin;        /**< "mqtt-plugin": certpilot_mosquitto.so (default: found next to the binary) */
} hub_server_options;

/** @brief Defaults. */
void hub_server_options_default(hub_server_options *o);

/**
 * @brief Apply @p key = @p value when it is an MQTT setting.
 * @param where "file:line" or "command line", for messages.
 * @return 1 when applied; 0 when @p key is not an MQTT setting; -1 after
 *         printing an error naming the key (bad value).
 */
int hub_server_options_set(hub_server_options *o, const char *key, const char *value,
                           const char *where);

/** @brief Free the strings. */
void hub_server_options_free(hub_server_options *o);

/** The running MQTT side (opaque). */
typedef struct hub_server hub_server;

/**
 * @brief Start the broker when enabled (else succeed with *out = NULL).
 * @param sc       the core settings main opened its service with (db_path etc.).
 * @param data_dir absolute data directory; `<data_dir>/mqtt` is created (0700)
 *                 for the generated mosquitto.conf and CA directory.
 * @param cert_file,key_file the server's TLS identity (shared with HTTPS).
 * @return 0; -1 after printing an error that names the problem.
 */
int hub_server_start(const hub_server_options *o, const cps_service_config *sc,
                     const char *data_dir, const char *cert_file, const char *key_file,
                     hub_server **out);

/**
 * @brief True when the supervisor gave up on a broker that kept dying; it
 *        then has sent SIGTERM to this process so the main loop ends.
 *        @p why (if non-NULL) receives the reason.
 */
bool hub_server_failed(hub_server *h, char *why, size_t why_len);

/** @brief Twin store for the management API (main thread only). */
hub_twin_store *hub_server_twins(hub_server *h);

/**
 * @brief Shell `KEY=value` lines for the ready file: CERTPILOT_MQTT_PORT,
 *        CERTPILOT_MQTT_SAS_PORT, CERTPILOT_MQTT_WSS_PORT, CERTPILOT_HUB_NAME,
 *        CERTPILOT_MQTT_PID. Empty when @p h is NULL.
 */
void hub_server_ready_lines(hub_server *h, char *buf, size_t len);

/** @brief Print where the broker listens (one line per listener) to stdout. */
void hub_server_print(hub_server *h);

/** @brief Stop the broker and free @p h (NULL is fine). */
void hub_server_stop(hub_server *h);

#ifdef __cplusplus
}
#endif
#endif
