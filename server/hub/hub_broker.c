/* Supervisor of the mosquitto child. */
#include "hub_broker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <pwd.h>
#include <stdarg.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "hub_trust_dir.h"

extern char **environ;

struct hub_broker {
  hub_broker_config cfg;
  char conf_path[4096];
  char ca_dir[4096];
  char ca_file[4200];        /* <ca_dir>.pem for the WebSockets client-certificate listener */
  char user[256];
  char **envp;               /* environment for the child (built before fork) */
  pthread_t thread;
  bool thread_started;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_mutex_t trust_mu;  /* serialises trust_fn + CA directory updates */
  bool stopping;             /* guarded by mu */
  pid_t pid;                 /* guarded by mu */
  hub_broker_state state;    /* guarded by mu */
  unsigned restarts;         /* guarded by mu */
  unsigned trust_restarts;   /* guarded by mu: planned restarts for a new CA file */
  bool restart_requested;    /* guarded by mu */
  time_t crashes[64];        /* crash times (ring) */
  unsigned ncrash;
};

static void logf_(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void logf_(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  fprintf(stderr, "<4>certpilot-server: broker: ");
  vfprintf(stderr, fmt, ap);
  fputc('\n', stderr);
  va_end(ap);
}

static void set_err(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void set_err(char *err, size_t len, const char *fmt, ...) {
  if (!err || !len) return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, len, fmt, ap);
  va_end(ap);
}

static bool is_loopback(const char *addr) {
  return strncmp(addr, "127.", 4) == 0 || strcmp(addr, "::1") == 0 || strcmp(addr, "localhost") == 0;
}

/* Environment of the child: ours plus the bind shim when on loopback. */
static char **build_env(const hub_broker_config *cfg) {
  size_t n = 0;
  while (environ[n]) n++;
  char **env = calloc(n + 3, sizeof *env);
  if (!env) return NULL;
  size_t k = 0;
  for (size_t i = 0; i < n; i++) {
    if (strncmp(environ[i], "LD_PRELOAD=", 11) == 0) continue;
    if (strncmp(environ[i], "CERTPILOT_BIND_LOOPBACK=", 24) == 0) continue;
    env[k++] = environ[i];
  }
  if (cfg->bindfix_path && is_loopback(cfg->bind_address)) {
    size_t len = strlen("LD_PRELOAD=") + strlen(cfg->bindfix_path) + 1;
    char *pre = malloc(len);
    if (!pre) {
      free(env);
      return NULL;
    }
    snprintf(pre, len, "LD_PRELOAD=%s", cfg->bindfix_path);
    env[k++] = pre;
    env[k++] = "CERTPILOT_BIND_LOOPBACK=1";
  }
  env[k] = NULL;
  return env;
}

static void free_env(hub_broker *b) {
  if (!b->envp) return;
  for (size_t i = 0; b->envp[i]; i++)
    if (strncmp(b->envp[i], "LD_PRELOAD=", 11) == 0) free(b->envp[i]);
  free(b->envp);
  b->envp = NULL;
}

static pid_t spawn(hub_broker *b) {
  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid != 0) return pid; /* parent (or -1) */
  /* Child: only async-signal-safe calls until exec. */
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  if (getppid() != parent) _exit(127);
  for (int fd = 3; fd < 1024; fd++) close(fd);
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, NULL);
  char *argv[] = {(char *)"mosquitto", (char *)"-c", b->conf_path, NULL};
  execve(b->cfg.mosquitto_path, argv, b->envp);
  _exit(127);
}

static bool port_open(const char *addr, int port) {
  struct sockaddr_in6 a6;
  struct sockaddr_in a4;
  int fd;
  int rc;
  memset(&a4, 0, sizeof a4);
  memset(&a6, 0, sizeof a6);
  const char *host = strcmp(addr, "localhost") == 0 ? "127.0.0.1" : addr;
  if (inet_pton(AF_INET, host, &a4.sin_addr) == 1) {
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    rc = connect(fd, (struct sockaddr *)&a4, sizeof a4);
  } else if (inet_pton(AF_INET6, host, &a6.sin6_addr) == 1) {
    a6.sin6_family = AF_INET6;
    a6.sin6_port = htons((uint16_t)port);
    fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    rc = connect(fd, (struct sockaddr *)&a6, sizeof a6);
  } else {
    /* 0.0.0.0 / :: style wildcard or a name: probe loopback. */
    a4.sin_family = AF_INET;
    a4.sin_port = htons((uint16_t)port);
    a4.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return false;
    rc = connect(fd, (struct sockaddr *)&a4, sizeof a4);
  }
  close(fd);
  return rc == 0;
}

static void sleep_ms(long ms) {
  struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* Start a child and wait for its listeners. Returns the pid, or -1 with
 * *status set when it exited (or 0 on timeout: child killed). */
static pid_t start_child(hub_broker *b, int *exit_status) {
  pid_t pid = spawn(b);
  if (pid < 0) {
    logf_("fork failed: %s", strerror(errno));
    *exit_status = -1;
    return -1;
  }
  const int ports[4] = {b->cfg.port_mqtts_cert, b->cfg.port_mqtts_sas, b->cfg.port_wss,
                        b->cfg.port_wss_cert};
  for (int waited = 0; waited < 10000; waited += 50) {
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) == pid) {
      *exit_status = st;
      return -1;
    }
    bool all = true;
    for (int i = 0; i < 4 && all; i++)
      if (ports[i] && !port_open(b->cfg.bind_address, ports[i])) all = false;
    if (all) return pid;
    sleep_ms(50);
  }
  kill(pid, SIGKILL);
  waitpid(pid, NULL, 0);
  *exit_status = 0;
  return -1;
}

/* SIGTERM, SIGKILL after 5 s; reaps the child. */
static void stop_child(pid_t pid) {
  kill(pid, SIGTERM);
  int st;
  for (int i = 0; i < 100; i++) {
    if (waitpid(pid, &st, WNOHANG) == pid) return;
    sleep_ms(50);
  }
  logf_("mosquitto (pid %d) ignored SIGTERM for 5 s; killing it", (int)pid);
  kill(pid, SIGKILL);
  waitpid(pid, &st, 0);
}

static void describe_status(int st, char *buf, size_t len) {
  if (st == -1) snprintf(buf, len, "could not be started");
  else if (st == 0) snprintf(buf, len, "did not open its listeners within 10 s");
  else if (WIFEXITED(st)) snprintf(buf, len, "exited with status %d", WEXITSTATUS(st));
  else if (WIFSIGNALED(st)) snprintf(buf, len, "was killed by signal %d", WTERMSIG(st));
  else snprintf(buf, len, "stopped (status 0x%x)", (unsigned)st);
}

cp_result hub_broker_sync_trust(hub_broker *b) {
  if (!b) return CP_ERR_INVALID_ARG;
  char *pem = NULL;
  pthread_mutex_lock(&b->trust_mu);
  if (b->cfg.trust_fn(b->cfg.trust_ctx, &pem) != 0) {
    pthread_mutex_unlock(&b->trust_mu);
    free(pem);
    return CP_ERR_IO;
  }
  int changed = 0, file_changed = 0;
  size_t len = pem ? strlen(pem) : 0;
  cp_result r = hub_trust_dir_sync(b->ca_dir, pem ? pem : "", len, &changed);
  if (r == CP_OK && b->cfg.port_wss_cert)
    r = hub_trust_file_sync(b->ca_file, pem ? pem : "", len, &file_changed);
  pthread_mutex_unlock(&b->trust_mu);
  free(pem);
  if (r != CP_OK) {
    logf_("cannot update CA directory %s (%d)", b->ca_dir, (int)r);
    return r;
  }
  if (file_changed) {
    /* libwebsockets read the CA file at start: the broker must restart to see it. */
    pthread_mutex_lock(&b->mu);
    if (b->pid > 0) b->restart_requested = true;
    pthread_mutex_unlock(&b->mu);
  }
  return CP_OK;
}

/* Record a crash; true when the restart budget is exhausted. */
static bool too_many_crashes(hub_broker *b) {
  time_t now = time(NULL);
  b->crashes[b->ncrash % 64] = now;
  b->ncrash++;
  unsigned recent = 0;
  unsigned have = b->ncrash < 64 ? b->ncrash : 64;
  for (unsigned i = 0; i < have; i++)
    if (now - b->crashes[i] < b->cfg.restart_window_s) recent++;
  return recent > (unsigned)b->cfg.max_restarts;
}

/* Wait up to ms on the condition; true when stopping. */
static bool wait_stop(hub_broker *b, long ms) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&b->mu);
  while (!b->stopping) {
    if (pthread_cond_timedwait(&b->cv, &b->mu, &until) == ETIMEDOUT) break;
  }
  bool s = b->stopping;
  pthread_mutex_unlock(&b->mu);
  return s;
}

static void *watch(void *arg) {
  hub_broker *b = arg;
  long since_trust = 0;
  long backoff = 200;
  for (;;) {
    if (wait_stop(b, 100)) return NULL;
    since_trust += 100;
    if (since_trust >= b->cfg.trust_refresh_ms) {
      since_trust = 0;
      hub_broker_sync_trust(b);
    }
    pthread_mutex_lock(&b->mu);
    pid_t pid = b->pid;
    bool planned = b->restart_requested && pid > 0;
    b->restart_requested = false;
    pthread_mutex_unlock(&b->mu);
    if (pid <= 0) continue;
    if (planned) {
      logf_("trust changed: restarting mosquitto (pid %d) to reload the WebSockets CA file", (int)pid);
      stop_child(pid);
      int est = 0;
      pid_t np = start_child(b, &est);
      pthread_mutex_lock(&b->mu);
      b->pid = np > 0 ? np : 0;
      if (np > 0) b->trust_restarts++;
      pthread_mutex_unlock(&b->mu);
      if (np <= 0) {
        /* Start a bare child: if it dies too, the crash path below takes over
         * (back-off, give-up). */
        pid_t bare = spawn(b);
        pthread_mutex_lock(&b->mu);
        b->pid = bare > 0 ? bare : 0;
        if (bare <= 0) b->state = HUB_BROKER_FAILED;
        pthread_mutex_unlock(&b->mu);
        if (bare <= 0) {
          logf_("cannot start mosquitto after a trust change; giving up");
          if (b->cfg.on_failed) b->cfg.on_failed(b->cfg.on_failed_ctx, "mosquitto could not be restarted after a trust change");
          return NULL;
        }
      }
      continue;
    }
    int st = 0;
    if (waitpid(pid, &st, WNOHANG) != pid) {
      backoff = 200;
      continue;
    }
    char what[96];
    describe_status(st, what, sizeof what);
    pthread_mutex_lock(&b->mu);
    b->pid = 0;
    bool give_up = too_many_crashes(b);
    b->state = give_up ? HUB_BROKER_FAILED : HUB_BROKER_RESTARTING;
    pthread_mutex_unlock(&b->mu);
    if (give_up) {
      char why[256];
      snprintf(why, sizeof why,
               "mosquitto %s; it died more than %d times within %d s, giving up", what,
               b->cfg.max_restarts, b->cfg.restart_window_s);
      logf_("%s", why);
      if (b->cfg.on_failed) b->cfg.on_failed(b->cfg.on_failed_ctx, why);
      return NULL;
    }
    logf_("mosquitto (pid %d) %s; restarting in %ld ms", (int)pid, what, backoff);
    for (;;) {
      if (wait_stop(b, backoff)) return NULL;
      backoff = backoff * 2 > 5000 ? 5000 : backoff * 2;
      int est = 0;
      pid_t np = start_child(b, &est);
      if (np > 0) {
        pthread_mutex_lock(&b->mu);
        if (b->stopping) {
          pthread_mutex_unlock(&b->mu);
          kill(np, SIGTERM);
          waitpid(np, NULL, 0);
          return NULL;
        }
        b->pid = np;
        b->state = HUB_BROKER_RUNNING;
        b->restarts++;
        pthread_mutex_unlock(&b->mu);
        logf_("mosquitto restarted (pid %d)", (int)np);
        break;
      }
      describe_status(est, what, sizeof what);
      pthread_mutex_lock(&b->mu);
      give_up = too_many_crashes(b);
      if (give_up) b->state = HUB_BROKER_FAILED;
      pthread_mutex_unlock(&b->mu);
      if (give_up) {
        char why[256];
        snprintf(why, sizeof why,
                 "mosquitto %s on restart; it died more than %d times within %d s, giving up",
                 what, b->cfg.max_restarts, b->cfg.restart_window_s);
        logf_("%s", why);
        if (b->cfg.on_failed) b->cfg.on_failed(b->cfg.on_failed_ctx, why);
        return NULL;
      }
      logf_("mosquitto %s on restart; retrying in %ld ms", what, backoff);
    }
  }
}

static cp_result write_file(const char *path, const char *text, mode_t mode) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  FILE *f = fopen(tmp, "w");
  if (!f) return CP_ERR_IO;
  size_t n = strlen(text);
  bool ok = fwrite(text, 1, n, f) == n;
  ok = fclose(f) == 0 && ok;
  ok = ok && chmod(tmp, mode) == 0 && rename(tmp, path) == 0;
  if (!ok) unlink(tmp);
  return ok ? CP_OK : CP_ERR_IO;
}

cp_result hub_broker_start(const hub_broker_config *cfg, hub_broker **out, char *err,
                           size_t err_len) {
  if (!cfg || !out) return CP_ERR_INVALID_ARG;
  if (hub_broker_config_check(cfg, err, err_len) != CP_OK) return CP_ERR_CONFIG;
  hub_broker *b = calloc(1, sizeof *b);
  if (!b) return CP_ERR_NO_MEMORY;
  b->cfg = *cfg;
  pthread_mutex_init(&b->mu, NULL);
  pthread_cond_init(&b->cv, NULL);
  pthread_mutex_init(&b->trust_mu, NULL);
  cp_result r = CP_ERR_IO;
  if (!b->cfg.run_as_user) {
    struct passwd *pw = getpwuid(geteuid());
    if (pw && pw->pw_name) {
      snprintf(b->user, sizeof b->user, "%s", pw->pw_name);
      b->cfg.run_as_user = b->user;
    }
  }
  if ((size_t)snprintf(b->conf_path, sizeof b->conf_path, "%s/mosquitto.conf", cfg->run_dir) >=
          sizeof b->conf_path ||
      (size_t)snprintf(b->ca_dir, sizeof b->ca_dir, "%s/ca", cfg->run_dir) >= sizeof b->ca_dir ||
      (size_t)snprintf(b->ca_file, sizeof b->ca_file, "%s.pem", b->ca_dir) >= sizeof b->ca_file) {
    set_err(err, err_len, "broker: run_dir is too long");
    r = CP_ERR_CONFIG;
    goto fail;
  }
  if (mkdir(b->ca_dir, 0755) != 0 && errno != EEXIST) {
    set_err(err, err_len, "broker: cannot create %s: %s", b->ca_dir, strerror(errno));
    goto fail;
  }
  if (hub_broker_sync_trust(b) != CP_OK) {
    set_err(err, err_len, "broker: cannot fill the CA directory %s from the trust source", b->ca_dir);
    goto fail;
  }
  char *conf = malloc(16384);
  if (!conf) {
    r = CP_ERR_NO_MEMORY;
    goto fail;
  }
  r = hub_broker_conf_render(&b->cfg, b->ca_dir, conf, 16384);
  if (r == CP_OK) r = write_file(b->conf_path, conf, 0600);
  free(conf);
  if (r != CP_OK) {
    set_err(err, err_len, "broker: cannot write %s", b->conf_path);
    goto fail;
  }
  b->envp = build_env(&b->cfg);
  if (!b->envp) {
    r = CP_ERR_NO_MEMORY;
    goto fail;
  }
  int st = 0;
  pid_t pid = start_child(b, &st);
  if (pid <= 0) {
    char what[96];
    describe_status(st, what, sizeof what);
    set_err(err, err_len, "broker: mosquitto %s (config %s; its log is above)", what, b->conf_path);
    r = CP_ERR_IO;
    goto fail;
  }
  b->pid = pid;
  b->state = HUB_BROKER_RUNNING;
  if (pthread_create(&b->thread, NULL, watch, b) != 0) {
    kill(pid, SIGTERM);
    waitpid(pid, NULL, 0);
    set_err(err, err_len, "broker: cannot start the watcher thread");
    r = CP_ERR_IO;
    goto fail;
  }
  b->thread_started = true;
  *out = b;
  return CP_OK;
fail:
  free_env(b);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->trust_mu);
  free(b);
  return r;
}

pid_t hub_broker_pid(hub_broker *b) {
  if (!b) return 0;
  pthread_mutex_lock(&b->mu);
  pid_t p = b->pid;
  pthread_mutex_unlock(&b->mu);
  return p;
}

hub_broker_state hub_broker_state_get(hub_broker *b) {
  if (!b) return HUB_BROKER_STOPPED;
  pthread_mutex_lock(&b->mu);
  hub_broker_state s = b->state;
  pthread_mutex_unlock(&b->mu);
  return s;
}

unsigned hub_broker_trust_restarts(hub_broker *b) {
  if (!b) return 0;
  pthread_mutex_lock(&b->mu);
  unsigned n = b->trust_restarts;
  pthread_mutex_unlock(&b->mu);
  return n;
}

unsigned hub_broker_restarts(hub_broker *b) {
  if (!b) return 0;
  pthread_mutex_lock(&b->mu);
  unsigned n = b->restarts;
  pthread_mutex_unlock(&b->mu);
  return n;
}

void hub_broker_stop(hub_broker *b) {
  if (!b) return;
  pthread_mutex_lock(&b->mu);
  b->stopping = true;
  pthread_cond_broadcast(&b->cv);
  pthread_mutex_unlock(&b->mu);
  if (b->thread_started) pthread_join(b->thread, NULL);
  if (b->pid > 0) stop_child(b->pid);
  b->pid = 0;
  b->state = HUB_BROKER_STOPPED;
  free_env(b);
  pthread_mutex_destroy(&b->mu);
  pthread_cond_destroy(&b->cv);
  pthread_mutex_destroy(&b->trust_mu);
  free(b);
}
