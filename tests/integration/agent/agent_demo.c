/* agent_demo: the whole product on one machine.
 * Starts the reference server in dev mode on free loopback ports (core +
 * mosquitto hub/DPS), creates a credential, a policy with seconds-long
 * certificates and a group enrollment, then runs certpilotd (state directory
 * under a temporary folder, not a system service). After each issuance it
 * prints `certpilot status` and the device twin's reported certificate; it
 * stops after the provisioning plus N renewals and cleans up.
 *   agent_demo [RENEWALS]   (default 2; CP_BINARY_DIR = the build tree) */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_it_env.h"

int main(int argc, char **argv) {
  int renewals = argc > 1 ? atoi(argv[1]) : 2;
  if (renewals < 1) renewals = 1;
  const char *bin = getenv("CP_BINARY_DIR");
  if (!bin) {
    fprintf(stderr, "set CP_BINARY_DIR to the build tree (it holds agent/certpilotd)\n");
    return 2;
  }
  it_env env;
  printf("== starting the reference server (dev mode, loopback, free ports)\n");
  if (ait_env_start(&env, 12) != 0) {
    fprintf(stderr, "server start failed\n");
    it_env_stop(&env);
    return 1;
  }
  printf("   id scope %s; DPS on 127.0.0.1:%d, hub '%s' on 127.0.0.1:%d\n", env.id_scope,
         env.port_sas, AIT_HUB, env.port_cert);
  printf("== created credential, policy 'short' (12 s certificates), group enrollment 'grp-short'\n");
  ait_agent a;
  ait_agent_prepare(&env, &a, "demo-device-1", AIT_GROUP_KEY_SHORT, NULL);
  printf("== running certpilotd --config %s\n", a.conf);
  ait_agent_start(&a);
  int rc = 0;
  for (int n = 1; n <= renewals + 1; n++) {
    if (!ait_wait_num(&a, "renewalCount", n, 60000)) {
      fprintf(stderr, "no issuance %d within 60 s; certpilotd log:\n", n);
      char *log = ait_slurp(a.log);
      fputs(log, stderr);
      free(log);
      rc = 1;
      break;
    }
    printf("\n== %s %d: certpilot status\n", n == 1 ? "provisioned" : "renewal", n - 1);
    fflush(stdout);
    char cmd[1200];
    snprintf(cmd, sizeof cmd, "%s/agent/certpilot -c %s status", bin, a.conf);
    if (system(cmd) != 0) rc = 1;
    char *twin = ait_twin_certificate(&env, "demo-device-1");
    printf("== twin reported.certificate: %s\n", twin ? twin : "(none)");
    free(twin);
  }
  printf("\n== stopping certpilotd (SIGTERM) and the server\n");
  if (ait_agent_stop(&a) != 0) rc = 1;
  it_env_stop(&env);
  printf("== %s\n", rc == 0 ? "done" : "FAILED");
  return rc;
}
