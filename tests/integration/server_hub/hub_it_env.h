/* Integration test environment for the hub: temp dir, core service, broker
 * child under the supervisor, Paho helpers. Test-only. */
#ifndef CERTPILOT_TEST_HUB_IT_ENV_H
#define CERTPILOT_TEST_HUB_IT_ENV_H

#include <MQTTClient.h>
#include <stdbool.h>
#include <stddef.h>

#include "cps_service.h"
#include "hub_broker.h"

#define IT_HUB "hub.local"

typedef struct it_env {
  char dir[256];
  char db[320];
  char server_ca[320];   /* trust store for clients (server TLS chain root) */
  cps_service *svc;      /* test thread's own service */
  cps_service *trust_svc;/* supervisor thread's service */
  hub_broker *broker;
  hub_broker_config cfg;
  char cert_file[320], key_file[320];
  int port_cert, port_sas, port_wss;
  int port_wss_cert; /* 0 unless a test starts a broker with that listener (set it,
                        then it_broker_restart(), to add it to this broker) */
  char id_scope[64];
} it_env;

/** Retry-After of DPS 202 replies used by it_env_start() (default 1). */
extern int it_retry_after_s;
/** QoS of the plugin's replies used by it_env_start() (default 0; CP_IT_REPLY_QOS1=1 forces 1). */
extern int it_reply_qos;

/** Hub name of the broker started by it_env_start() (default IT_HUB). */
extern const char *it_hub_name;

/** api-version in DPS usernames (default 2025-07-01-preview). */
extern const char *it_dps_api_version;

/** Free TCP port on 127.0.0.1 (bind port 0). */
int it_free_port(void);
/** Run a shell command quietly; returns its exit status. */
int it_sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/** Start everything; 0 on success. */
int it_env_start(it_env *e);
/** Start the broker again on the same ports (after hub_broker_stop()), with the
 *  WebSockets client-certificate listener when port_wss_cert is set; 0 on success. */
int it_broker_restart(it_env *e);
void it_env_stop(it_env *e);
/** Management call as a contributor; returns the HTTP status, body in *out (malloc'd, may be NULL). */
int it_mgmt(it_env *e, const char *method, const char *path, const char *body, char **out);

/** New P-384 key (PEM file, 0600) + CSR (base64 DER, malloc'd) with CN=@p cn. */
char *it_make_csr(const char *key_path, const char *cn);

/** Result of a DPS exchange. */
typedef struct it_dps {
  int connect_rc;   /* Paho connect result (0 = connected) */
  int status;       /* last response status (200 when finished) */
  char *body;       /* last response body (malloc'd) */
} it_dps;
void it_dps_free(it_dps *d);

/**
 * Register @p regid over @p uri ("ssl://" or "wss://"), with a SAS @p password
 * or a client certificate (@p cert/@p key files), sending @p body, polling
 * until 200 or an error status.
 */
void it_dps_run(it_env *e, const char *uri, const char *regid, const char *password,
                const char *cert, const char *key, const char *body, size_t body_len, it_dps *out);

/** Register with a fresh key + CSR and write the issued chain (leaf+ICA) PEM.
 *  Returns 0 when assigned with a chain. */
int it_provision(it_env *e, const char *uri, const char *regid, const char *password,
                 const char *cert, const char *key, const char *key_out, const char *chain_out);

/** SAS token for @p regid from a group key. Static buffer. */
const char *it_group_sas(it_env *e, const char *group_key, const char *regid);

/** Listener it_hub_connect() uses: "ssl-cert" (default) or "wss-cert". */
extern const char *it_hub_uri;

/** Connect to the hub as @p devid with @p chain / @p key. *rc gets the Paho result. */
MQTTClient it_hub_connect(it_env *e, const char *devid, const char *chain, const char *key, int *rc);
void it_hub_close(MQTTClient c);

/** Wait for a message whose topic starts with @p prefix; returns 1 and fills
 *  topic/payload (malloc'd) or 0 on timeout / disconnect. */
int it_wait_msg(MQTTClient c, const char *prefix, int timeout_ms, char **topic, char **payload);

/** True when the client is (still) connected after draining for @p ms. */
bool it_still_connected(MQTTClient c, int ms);

#endif
