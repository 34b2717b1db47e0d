/**
 * @file hub_broker.h
 * @brief Supervisor of the mosquitto child that serves DPS and hub MQTT:
 *        writes its configuration, keeps its CA directory in step with the
 *        trust source, starts it, restarts it when it dies, stops it.
 *
 * Restart policy (docs/server-mqtt.md): a broker that exits unexpectedly is
 * restarted after a short back-off (0.2 s doubling to 5 s). When it dies more
 * than `max_restarts` times within `restart_window_s`, the supervisor gives
 * up, logs why, enters HUB_BROKER_FAILED and calls `on_failed` (the server
 * then exits with an error naming the problem).
 */
#ifndef CERTPILOT_SERVER_HUB_BROKER_H
#define CERTPILOT_SERVER_HUB_BROKER_H

#include <stddef.h>
#include <sys/types.h>

#include "hub_broker_conf.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Supervisor state. */
typedef enum hub_broker_state {
  HUB_BROKER_RUNNING = 0, /**< child up and its ports accept connections */
  HUB_BROKER_RESTARTING,  /**< child died; a new one is being started */
  HUB_BROKER_FAILED,      /**< gave up after too many crashes */
  HUB_BROKER_STOPPED,     /**< hub_broker_stop() ran */
} hub_broker_state;

/** A running supervisor (opaque). */
typedef struct hub_broker hub_broker;

/**
 * @brief Validate @p cfg, write `<run_dir>/mosquitto.conf` (0600) and the CA
 *        directory `<run_dir>/ca`, start mosquitto and wait (up to 10 s) until
 *        every listener accepts TCP connections, then start the watcher thread.
 * @param cfg  settings; strings must outlive the broker.
 * @param out  receives the supervisor; untouched on failure.
 * @param err,err_len receive the reason on failure.
 * @return CP_OK; CP_ERR_CONFIG (bad settings, message names the member);
 *         CP_ERR_IO (cannot write files, fork, or the broker exited / did not
 *         listen in time: its own log is on stderr); CP_ERR_NO_MEMORY.
 */
cp_result hub_broker_start(const hub_broker_config *cfg, hub_broker **out, char *err,
                           size_t err_len);

/** @brief Current child pid (0 when none). */
pid_t hub_broker_pid(hub_broker *b);

/** @brief Current state. */
hub_broker_state hub_broker_state_get(hub_broker *b);

/** @brief How many times the child has been restarted after dying. */
unsigned hub_broker_restarts(hub_broker *b);

/**
 * @brief How many planned restarts reloaded a changed CA file (only with the
 *        WebSockets client-certificate listener, port_wss_cert).
 */
unsigned hub_broker_trust_restarts(hub_broker *b);

/**
 * @brief Pull the trust bundle now and update the CA directory (the watcher
 *        also does this every trust_refresh_ms). New CAs are seen by the
 *        running broker at the next handshake; removed ones only after a
 *        restart, but the plugin refuses them at CONNECT anyway. With
 *        port_wss_cert, a changed bundle also rewrites `<run_dir>/ca.pem`
 *        and the watcher restarts the broker (planned, not counted as a
 *        crash) because libwebsockets reads that file only at start. Safe to
 *        call from any thread (serialised with the watcher's refresh; the
 *        trust source is only ever called under that lock).
 * @return CP_OK; CP_ERR_IO (trust source failed or files not written);
 *         CP_ERR_PARSE (bundle holds something that is not a certificate).
 */
cp_result hub_broker_sync_trust(hub_broker *b);

/**
 * @brief Stop the broker (SIGTERM, SIGKILL after 5 s), join the watcher and
 *        free @p b. NULL is fine.
 */
void hub_broker_stop(hub_broker *b);

#ifdef __cplusplus
}
#endif
#endif
