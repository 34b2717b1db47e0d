/**
 * @file agent_hook.h
 * @brief Run the post-renewal command: /bin/sh -c COMMAND in its own process
 *        group, with CERTPILOT_* environment variables, killed after a timeout.
 */
#ifndef CERTPILOT_AGENT_HOOK_H
#define CERTPILOT_AGENT_HOOK_H

#include <stddef.h>
#include <stdint.h>

/** One environment variable for the hook. */
typedef struct cpa_hook_env {
  const char *name;
  const char *value;
} cpa_hook_env;

/**
 * @brief Run @p command with the agent's environment plus @p env; wait at most
 *        @p timeout_s seconds (then SIGTERM, and SIGKILL 2 s later, to the group).
 * @param[out] result "ok", "exit N", "signal N", "timeout" or "spawn failed: …".
 * @return 0 when the command exited 0, -1 otherwise.
 */
int cpa_hook_run(const char *command, const cpa_hook_env *env, size_t n_env, int64_t timeout_s,
                 char *result, size_t result_size);

#endif
