/* Post-renewal hook runner (see agent_hook.h). */
#include "agent_hook.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <systemd/sd-daemon.h>

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait for pid until deadline (monotonic ms); 1 when reaped. */
static int wait_until(pid_t pid, int64_t deadline, int *status) {
  for (unsigned i = 1;; i++) {
    pid_t r = waitpid(pid, status, WNOHANG);
    if (r == pid) return 1;
    if (r < 0 && errno != EINTR) return 1;
    if (mono_ms() >= deadline) return 0;
    if (i % 50 == 0) sd_notify(0, "WATCHDOG=1"); /* each second: a long hook is not a hung daemon */
    struct timespec ts = {0, 20 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
}

int cpa_hook_run(const char *command, const cpa_hook_env *env, size_t n_env, int64_t timeout_s,
                 char *result, size_t result_size) {
  pid_t pid = fork();
  if (pid < 0) {
    snprintf(result, result_size, "spawn failed: %s", strerror(errno));
    return -1;
  }
  if (pid == 0) {
    setpgid(0, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, NULL); /* the daemon blocks signals for signalfd */
    for (size_t i = 0; i < n_env; i++)
      if (env[i].value) setenv(env[i].name, env[i].value, 1);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
      dup2(devnull, STDIN_FILENO);
      close(devnull);
    }
    execl("/bin/sh", "sh", "-c", command, (char *)NULL);
    _exit(127);
  }
  setpgid(pid, pid);
  int status = 0;
  if (!wait_until(pid, mono_ms() + timeout_s * 1000, &status)) {
    kill(-pid, SIGTERM);
    if (!wait_until(pid, mono_ms() + 2000, &status)) {
      kill(-pid, SIGKILL);
      waitpid(pid, &status, 0);
    }
    snprintf(result, result_size, "timeout");
    return -1;
  }
  if (WIFEXITED(status)) {
    if (WEXITSTATUS(status) == 0) {
      snprintf(result, result_size, "ok");
      return 0;
    }
    snprintf(result, result_size, "exit %d", WEXITSTATUS(status));
    return -1;
  }
  if (WIFSIGNALED(status)) snprintf(result, result_size, "signal %d", WTERMSIG(status));
  else snprintf(result, result_size, "unknown");
  return -1;
}
