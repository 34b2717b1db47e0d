/* certpilotd main loop (see agent_daemon.h). */
#include "agent_daemon.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/timerfd.h>
#include <systemd/sd-daemon.h>
#include <time.h>
#include <unistd.h>

#include "agent_log.h"
#include "agent_status.h"

bool cpa_daemon_stop_pending(void) {
  sigset_t pending;
  if (sigpending(&pending) != 0) return false;
  return sigismember(&pending, SIGTERM) == 1 || sigismember(&pending, SIGINT) == 1;
}

void cpa_daemon_watchdog_ping(void) { sd_notify(0, "WATCHDOG=1"); }

static int64_t wall_now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec;
}

/* Arm an absolute CLOCK_REALTIME timer that is cancelled when the clock is set. */
static int arm_timer(int tfd, int64_t when) {
  struct itimerspec its;
  memset(&its, 0, sizeof its);
  its.it_value.tv_sec = (time_t)(when > 0 ? when : 1);
  return timerfd_settime(tfd, TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET, &its, NULL);
}

static void write_pid_file(const cpa_config *cfg) {
  char p[CPA_PATH_MAX + 32], buf[32];
  if (mkdir(cfg->run_dir, 0755) != 0 && errno != EEXIST) {
    cpa_log(CP_LOG_WARNING, "%s: cannot create run directory: %s", cfg->run_dir, strerror(errno));
    return;
  }
  if (snprintf(p, sizeof p, "%s/certpilotd.pid", cfg->run_dir) >= (int)sizeof p) return;
  int n = snprintf(buf, sizeof buf, "%ld\n", (long)getpid());
  if (cpa_write_file_atomic(p, buf, (size_t)n, 0644) != CP_OK)
    cpa_log(CP_LOG_WARNING, "%s: cannot write pid file", p);
}

static void remove_pid_file(const cpa_config *cfg) {
  char p[CPA_PATH_MAX + 32];
  if (snprintf(p, sizeof p, "%s/certpilotd.pid", cfg->run_dir) < (int)sizeof p) unlink(p);
}

static void publish(const cpa_engine *e) {
  int64_t now = wall_now();
  char line[256];
  cpa_status_line(e, now, line, sizeof line);
  sd_notifyf(0, "STATUS=%s", line);
  if (cpa_status_write(e, now) != CP_OK)
    cpa_log(CP_LOG_WARNING, "cannot write status files under %s", e->cfg->run_dir);
}

int cpa_daemon_run(const cpa_daemon_options *opt) {
  static cpa_config cfg; /* the engine points here; reload overwrites in place */
  char err[1024];
  /* block first: a SIGUSR1 or SIGHUP arriving during start-up must not kill us */
  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigaddset(&mask, SIGUSR1);
  if (sigprocmask(SIG_BLOCK, &mask, NULL) != 0) return 1;

  cpa_config_defaults(&cfg);
  if (cpa_config_load(opt->config_path, &cfg, err, sizeof err) != CP_OK) {
    cpa_log_init(CP_LOG_INFO);
    cpa_log(CP_LOG_ERROR, "%s", err);
    return 1;
  }
  cpa_log_init(cfg.log_level);
  umask(0022);

  int sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
  int tfd = timerfd_create(CLOCK_REALTIME, TFD_CLOEXEC | TFD_NONBLOCK);
  if (sfd < 0 || tfd < 0) {
    cpa_log(CP_LOG_ERROR, "signalfd/timerfd: %s", strerror(errno));
    return 1;
  }

  cpa_ops ops;
  if (opt->make_ops(&cfg, &ops) != CP_OK) {
    cpa_log(CP_LOG_ERROR, "cannot set up the provisioning client");
    return 1;
  }
  cpa_engine e;
  if (cpa_engine_init(&e, &cfg, &ops, opt->build_time) != CP_OK) return 1;
  if (cpa_engine_start(&e, err, sizeof err) != CP_OK) {
    cpa_log(CP_LOG_ERROR, "state directory: %s", err);
    cpa_engine_free(&e);
    return 1;
  }
  write_pid_file(&cfg);
  publish(&e);
  sd_notify(0, "READY=1");
  cpa_log(CP_LOG_INFO, "certpilotd started (pid %ld, registration id %s)", (long)getpid(),
          cfg.registration_id);

  uint64_t wd_usec = 0;
  int wd_ms = -1;
  if (sd_watchdog_enabled(0, &wd_usec) > 0 && wd_usec > 0) wd_ms = (int)(wd_usec / 2000);

  bool force = false, running = true;
  while (running) {
    int64_t next = cpa_engine_step(&e, force);
    force = false;
    if (opt->exit_after_renewals > 0 && e.renewal_count >= (uint32_t)opt->exit_after_renewals) break;
    if (cpa_daemon_stop_pending()) running = false;
    publish(&e);
    cpa_daemon_watchdog_ping();
    if (!running) break;
    if (arm_timer(tfd, next) != 0) {
      cpa_log(CP_LOG_ERROR, "timerfd_settime: %s", strerror(errno));
      break;
    }
    cpa_log(CP_LOG_DEBUG, "sleeping until %lld (%s)", (long long)next, cpa_run_state_name(e.state));
    for (;;) { /* wait for the timer, a clock jump, or a signal */
      struct pollfd pf[2] = {{sfd, POLLIN, 0}, {tfd, POLLIN, 0}};
      int n = poll(pf, 2, wd_ms);
      cpa_daemon_watchdog_ping();
      if (n < 0 && errno != EINTR) {
        cpa_log(CP_LOG_ERROR, "poll: %s", strerror(errno));
        running = false;
        break;
      }
      if (n <= 0) continue;
      if (pf[1].revents & POLLIN) {
        uint64_t ticks;
        if (read(tfd, &ticks, sizeof ticks) < 0 && errno == ECANCELED)
          cpa_log(CP_LOG_INFO, "wall clock changed: re-evaluating");
        break;
      }
      if (pf[0].revents & POLLIN) {
        struct signalfd_siginfo si;
        bool wake = false;
        while (read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
          if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            running = false;
            wake = true;
          } else if (si.ssi_signo == SIGUSR1) {
            force = true;
            wake = true;
          } else if (si.ssi_signo == SIGHUP) {
            sd_notify(0, "RELOADING=1");
            cpa_config fresh;
            cpa_config_defaults(&fresh);
            if (cpa_config_load(opt->config_path, &fresh, err, sizeof err) == CP_OK) {
              cfg = fresh;
              cpa_log_init(cfg.log_level);
              cpa_ops nops;
              if (opt->make_ops(&cfg, &nops) == CP_OK) e.ops = nops;
              if (e.have_cert) e.renew_at = cpa_engine_renewal_time(&e);
              if (e.state == CPA_RUN_VALID) e.next_attempt = e.renew_at;
              cpa_log(CP_LOG_NOTICE, "configuration reloaded from %s", opt->config_path);
            } else {
              cpa_log(CP_LOG_ERROR, "reload refused, keeping the running configuration: %s", err);
            }
            sd_notify(0, "READY=1");
            wake = true;
          }
        }
        if (wake) break;
      }
    }
  }
  sd_notify(0, "STOPPING=1");
  e.state = CPA_RUN_STOPPED;
  publish(&e);
  remove_pid_file(&cfg);
  cpa_log(CP_LOG_INFO, "certpilotd stopped");
  cpa_engine_free(&e);
  close(sfd);
  close(tfd);
  return 0;
}
