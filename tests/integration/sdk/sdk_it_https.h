/* Test-only: the server's HTTPS DPS front end (cps_http) started in-process on
 * the hub harness's database, on its own service and event-loop thread, so a
 * device provisioned over HTTPS can then use the hub. */
#ifndef CERTPILOT_TEST_SDK_IT_HTTPS_H
#define CERTPILOT_TEST_SDK_IT_HTTPS_H

#include "hub_it_env.h"

/** Start on a free loopback port (written to *port). 0 on success. */
int sdk_https_start(it_env *env, int retry_after_s, int *port);
/** Stop and free everything. */
void sdk_https_stop(void);

#endif
