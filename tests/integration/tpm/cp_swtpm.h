/* Test harness: a private swtpm on free loopback ports, killed on exit. */
#ifndef CP_TEST_SWTPM_H
#define CP_TEST_SWTPM_H

#include <sys/types.h>

/** One running swtpm: its pid, ports, state directory and TCTI string. */
typedef struct cp_swtpm {
  pid_t pid;            /**< swtpm process, or 0 when stopped */
  int port;             /**< TPM command port; the control port is port + 1 */
  char state_dir[256];  /**< private, removed by cp_swtpm_stop() */
  char tcti[96];        /**< "swtpm:host=127.0.0.1,port=<port>" */
} cp_swtpm;

/**
 * Start swtpm with a fresh state dir on two free consecutive loopback ports
 * (retrying on a port race) and wait until it accepts connections. The process
 * dies with the test (PR_SET_PDEATHSIG) and at exit. Returns 0 or -1.
 */
int cp_swtpm_start(cp_swtpm *s);

/** As cp_swtpm_start() with swtpm's --flags @p flags (e.g. "not-need-init":
 *  a TPM that still needs TPM2_Startup). */
int cp_swtpm_start_flags(cp_swtpm *s, const char *flags);

/** Kill swtpm (SIGTERM, then SIGKILL), reap it, remove its state dir. */
void cp_swtpm_stop(cp_swtpm *s);

/** Find two consecutive free loopback ports; returns the first or -1. */
int cp_swtpm_free_port_pair(void);

#endif
