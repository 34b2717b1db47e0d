/* Integration environment for certpilotd against the reference server
 * (core service in-process, mosquitto hub + DPS child on free loopback ports),
 * and helpers to run certpilotd as a child process. Test-only. */
#ifndef CERTPILOT_TEST_AGENT_IT_ENV_H
#define CERTPILOT_TEST_AGENT_IT_ENV_H

#include <cjson/cJSON.h>
#include <stdbool.h>
#include <sys/types.h>

#include "hub_it_env.h"

/** The hub name the server assigns: resolvable, and in the server cert's SAN. */
#define AIT_HUB "localhost"
#define AIT_GROUP_KEY "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVo0NTY3ODk="
#define AIT_GROUP_KEY_P2 "cDJwMnAycDJwMnAycDJwMnAycDJwMnAycDJwMnAycDI="
#define AIT_GROUP_KEY_SHORT "c2hvcnRzaG9ydHNob3J0c2hvcnRzaG9ydHNob3J0c2g="

/** Start server + broker (hub name AIT_HUB), credential, policies short (validity
 *  @p short_s seconds), p1 and p2 (30 days), and group enrollments grp-short,
 *  grp-p1, grp-p2. 0 on success. */
int ait_env_start(it_env *e, int short_s);
/** Restart the broker on the same ports after hub_broker_stop() (with the WebSockets
 *  client-certificate listener when e->port_wss_cert is set). 0 on success. */
int ait_broker_restart(it_env *e);

/** One certpilotd child. */
typedef struct ait_agent {
  char dir[400];      /* <env>/<regid> */
  char conf[480];
  char log[480];
  char status[480];
  char regid[64];
  pid_t pid;
} ait_agent;

/** Write the agent's config (and key file) for @p regid using @p group_key. */
void ait_agent_prepare(it_env *e, ait_agent *a, const char *regid, const char *group_key,
                       const char *extra_ini);
/** Start certpilotd (CP_BINARY_DIR/agent/certpilotd). */
void ait_agent_start(ait_agent *a);
/** SIGTERM and wait; returns the exit status (or -1 if it did not stop within 20 s). */
int ait_agent_stop(ait_agent *a);
/** Parsed status.json, or NULL when missing/unreadable. Caller cJSON_Delete()s. */
cJSON *ait_status(const ait_agent *a);
/** Number field of the status (0 when absent). */
double ait_status_num(const cJSON *st, const char *name);
/** String field (or "certificate.field" one level down); "" when absent. */
const char *ait_status_str(const cJSON *st, const char *name);
/** Wait until status field @p name >= @p value (number). true on success. */
bool ait_wait_num(const ait_agent *a, const char *name, double value, int timeout_ms);
/** Wait until status string field @p name equals @p value. */
bool ait_wait_str(const ait_agent *a, const char *name, const char *value, int timeout_ms);
/** Whole file into a malloc'd string ("" when missing). */
char *ait_slurp(const char *path);
/** The reported "certificate" object of @p device's twin, as a JSON string (malloc'd) or NULL. */
char *ait_twin_certificate(it_env *e, const char *device);

#endif
