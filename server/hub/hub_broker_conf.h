/**
 * @file hub_broker_conf.h
 * @brief Settings of the supervised mosquitto broker and the rendering of its
 *        configuration file (pure; no I/O).
 */
#ifndef CERTPILOT_SERVER_HUB_BROKER_CONF_H
#define CERTPILOT_SERVER_HUB_BROKER_CONF_H

#include <stddef.h>

#include "certpilot/cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default port: MQTT over TLS with a required client certificate. */
#define HUB_PORT_MQTTS_CERT_DEFAULT 8883
/** Default port: MQTT over TLS without client certificate (SAS onboarding). */
#define HUB_PORT_MQTTS_SAS_DEFAULT 8884
/** Default port: MQTT over WebSockets over TLS (all attestations that need no client cert). */
#define HUB_PORT_WSS_DEFAULT 8885

/**
 * @brief Trust source: fills @p pem with a malloc'd PEM bundle of the CA
 *        certificates client certificates may chain to (hub-trusted ICAs and
 *        their roots, X.509 enrollment CAs). Called from the supervisor's
 *        thread. Return 0 on success.
 */
typedef int (*hub_trust_fn)(void *ctx, char **pem);

/**
 * @brief Called from the supervisor's thread when the broker keeps dying
 *        (more than max_restarts crashes within restart_window_s) and the
 *        supervisor gives up. @p why names the last exit status.
 */
typedef void (*hub_broker_failed_fn)(void *ctx, const char *why);

/** Broker settings. Strings are borrowed for the life of the broker. */
typedef struct hub_broker_config {
  const char *mosquitto_path; /**< broker executable (default /usr/sbin/mosquitto) */
  const char *plugin_path;    /**< certpilot_mosquitto.so (required) */
  const char *bindfix_path;   /**< certpilot_bindfix.so, keeps the WebSockets listener on
                                   loopback (see docs/server-mqtt.md); NULL = do not use */
  const char *run_dir;        /**< existing private directory for mosquitto.conf and the
                                   CA directory (required) */
  const char *db_path;        /**< the server's SQLite file (required) */
  const char *ca_key_passphrase_file; /**< absolute path of the CA key passphrase file (the
                                   plugin issues certificates with the encrypted CA keys);
                                   NULL = keys stored unencrypted */
  const char *hub_name;       /**< this hub's host name, the `assignedHub` (required) */
  const char *bind_address;   /**< listener address (default 127.0.0.1) */
  const char *cert_file;      /**< TLS server certificate chain, PEM (required) */
  const char *key_file;       /**< TLS server key, PEM (required) */
  int port_mqtts_cert;        /**< TLS + required client certificate (X.509 onboarding, hub) */
  int port_mqtts_sas;         /**< TLS without client certificate (SAS onboarding) */
  int port_wss;               /**< WebSockets over TLS, 0 = no WebSockets listener */
  int port_wss_cert;          /**< WebSockets over TLS with a required client certificate
                                   (X.509 onboarding and hub over WebSockets); 0 = off (default).
                                   Its CA file is only read at broker start: trust changes
                                   restart the broker (docs/server-mqtt.md) */
  int retry_after_s;          /**< Retry-After of DPS 202 replies (default 1) */
  int recheck_ms;             /**< plugin revocation / desired poll period (default 500) */
  int reply_qos;              /**< QoS of DPS / twin responses and desired notifications, 0 or 1
                                   (default 0; see docs/server-mqtt.md "Response QoS") */
  double rate_limit_per_s;    /**< DPS requests/s over MQTT, own token bucket (0 = off, default) */
  int rate_limit_burst;       /**< its bucket size (default 100) */
  long sas_max_lifetime_s;    /**< SAS tokens expiring later are refused (0 = core default) */
  int max_restarts;           /**< crashes tolerated within restart_window_s (default 5) */
  int restart_window_s;       /**< window for max_restarts (default 60) */
  int trust_refresh_ms;       /**< how often trust_fn is polled (default 2000) */
  hub_trust_fn trust_fn;      /**< trust source (required) */
  void *trust_ctx;            /**< passed to trust_fn */
  hub_broker_failed_fn on_failed; /**< optional: supervisor gave up (see docs) */
  void *on_failed_ctx;        /**< passed to on_failed */
  const char *run_as_user;    /**< mosquitto `user` (default: the current user, so that a
                                   broker started by root keeps read access to the key) */
} hub_broker_config;

/** @brief Fill @p cfg with defaults; required members stay NULL. */
void hub_broker_config_default(hub_broker_config *cfg);

/**
 * @brief Check @p cfg: required members set, ports 1..65535 and distinct,
 *        no whitespace or control characters in any value written to the
 *        config file (mosquitto has no quoting).
 * @param err,err_len receive a message naming the bad member.
 * @return CP_OK; CP_ERR_CONFIG.
 */
cp_result hub_broker_config_check(const hub_broker_config *cfg, char *err, size_t err_len);

/**
 * @brief Render mosquitto.conf for @p cfg.
 * @param capath the CA directory the supervisor maintains; the WebSockets
 *        client-certificate listener uses the bundle `<capath>.pem`.
 * @param buf,len output; untouched on failure.
 * @return CP_OK; CP_ERR_CONFIG (cfg fails hub_broker_config_check());
 *         CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result hub_broker_conf_render(const hub_broker_config *cfg, const char *capath, char *buf,
                                 size_t len);

#ifdef __cplusplus
}
#endif
#endif
