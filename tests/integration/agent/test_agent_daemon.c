/* certpilotd as a process: sd_notify protocol, watchdog, status files, the
 * certpilot CLI, SIGUSR1 / SIGHUP / SIGTERM, and config errors at start.
 * No network: the state directory is pre-filled with an openssl-made chain. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static char dir[64];
static char bindir[512];
static pid_t daemon_pid; /* killed by teardown if a failed assertion left it running */

__attribute__((format(printf, 1, 2))) static void sh(const char *fmt, ...) {
  char cmd[4096];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  int rc = system(cmd);
  if (rc != 0) fail_msg("command failed (%d): %s", rc, cmd);
}

static void write_config(const char *extra) {
  char p[256];
  snprintf(p, sizeof p, "%s/c.conf", dir);
  FILE *f = fopen(p, "w");
  assert_non_null(f);
  fprintf(f,
          "[provisioning]\nendpoint = 127.0.0.1\nport = 9\nid_scope = scope\nregistration_id = dev-1\n"
          "trust_bundle = %s/root.pem\nchain_anchor = %s/root.pem\ntimeout = 2\n"
          "[onboarding]\nsymmetric_key_file = %s/sk\n"
          "[paths]\nstate_dir = %s/state\nrun_dir = %s/run\nmetrics_file = %s/run/m.prom\n"
          "[log]\nlevel = debug\n%s",
          dir, dir, dir, dir, dir, dir, extra);
  fclose(f);
}

static int setup(void **state) {
  (void)state;
  const char *bin = getenv("CP_BINARY_DIR");
  snprintf(bindir, sizeof bindir, "%s/agent", bin ? bin : ".");
  snprintf(dir, sizeof dir, "/tmp/cpa-daemon-XXXXXX");
  if (!mkdtemp(dir)) return -1;
  sh("cd %s && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 30 "
     "-subj /CN=root -keyout root.key -out root.pem 2>/dev/null && "
     "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj /CN=ica -keyout ica.key "
     "-out ica.csr 2>/dev/null && "
     "printf 'basicConstraints=critical,CA:TRUE\\nkeyUsage=critical,keyCertSign\\n' > ca.ext && "
     "openssl x509 -req -in ica.csr -CA root.pem -CAkey root.key -CAcreateserial -days 30 "
     "-extfile ca.ext -out ica.pem 2>/dev/null && "
     "openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -subj /CN=dev-1 -keyout leaf.key "
     "-out leaf.csr 2>/dev/null && "
     "openssl x509 -req -in leaf.csr -CA ica.pem -CAkey ica.key -CAcreateserial -days 3 "
     "-out leaf.pem 2>/dev/null && "
     "mkdir -p state/gen-00000001 && cat leaf.pem ica.pem root.pem > state/gen-00000001/chain.pem && "
     "cp leaf.key state/gen-00000001/key.pem && chmod 600 state/gen-00000001/key.pem && "
     "echo '{\"deviceId\":\"dev-1\",\"assignedHub\":\"127.0.0.1\",\"renewalCount\":1}' "
     "> state/gen-00000001/meta.json && ln -s gen-00000001 state/current && echo c2VjcmV0 > sk",
     dir);
  write_config("");
  return 0;
}

static int teardown(void **state) {
  (void)state;
  if (daemon_pid > 0 && kill(daemon_pid, SIGKILL) == 0) waitpid(daemon_pid, NULL, 0);
  daemon_pid = 0;
  char cmd[128];
  snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
  return system(cmd) == 0 ? 0 : -1;
}

static int notify_socket(char *path, size_t n) {
  snprintf(path, n, "%s/notify.sock", dir);
  int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  struct sockaddr_un sa = {.sun_family = AF_UNIX};
  assert_true(snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path) < (int)sizeof sa.sun_path);
  unlink(path);
  assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof sa), 0);
  return fd;
}

/* Wait up to ms for a notify datagram containing needle; collects all text seen.
 * A needle already in @p seen counts: certpilotd may send STATUS= before READY=1,
 * and both can arrive while the caller waits for the first. Callers clear @p seen
 * before waiting for a message that must be new. */
static int wait_notify(int fd, const char *needle, int ms, char *seen, size_t seen_size) {
  if (strstr(seen, needle)) return 1;
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (;;) {
    clock_gettime(CLOCK_MONOTONIC, &t1);
    int left = ms - (int)((t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000);
    if (left <= 0) return 0;
    struct pollfd pf = {fd, POLLIN, 0};
    if (poll(&pf, 1, left) <= 0) continue;
    char buf[1024];
    ssize_t r = recv(fd, buf, sizeof buf - 1, 0);
    if (r <= 0) continue;
    buf[r] = '\0';
    strncat(seen, buf, seen_size - strlen(seen) - 2);
    strncat(seen, "\n", seen_size - strlen(seen) - 1);
    if (strstr(buf, needle)) return 1;
  }
}

static pid_t spawn_daemon(const char *sock, const char *log) {
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    char conf[256], exe[600], wpid[32];
    snprintf(conf, sizeof conf, "%s/c.conf", dir);
    snprintf(exe, sizeof exe, "%s/certpilotd", bindir);
    snprintf(wpid, sizeof wpid, "%ld", (long)getpid());
    setenv("NOTIFY_SOCKET", sock, 1);
    setenv("WATCHDOG_USEC", "400000", 1);
    setenv("WATCHDOG_PID", wpid, 1);
    int fd = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(fd, 2);
    execl(exe, "certpilotd", "--config", conf, (char *)NULL);
    _exit(127);
  }
  daemon_pid = pid;
  return pid;
}

static void slurp(const char *path, char *buf, size_t n) {
  buf[0] = '\0';
  FILE *f = fopen(path, "r");
  if (!f) return;
  size_t r = fread(buf, 1, n - 1, f);
  buf[r] = '\0';
  fclose(f);
}

static void run_capture(const char *cmd, char *out, size_t n) {
  FILE *p = popen(cmd, "r");
  assert_non_null(p);
  size_t r = fread(out, 1, n - 1, p);
  out[r] = '\0';
  pclose(p);
}

static void test_certpilotd_lifecycle_notify_status_signals(void **state) {
  (void)state;
  char sock[256], log[256], seen[16384] = "", buf[16384], cmd[1024], p[256];
  int fd = notify_socket(sock, sizeof sock);
  snprintf(log, sizeof log, "%s/daemon.log", dir);
  pid_t pid = spawn_daemon(sock, log);

  assert_true(wait_notify(fd, "READY=1", 10000, seen, sizeof seen));
  assert_true(wait_notify(fd, "STATUS=valid: serial", 5000, seen, sizeof seen));
  seen[0] = '\0';
  assert_true(wait_notify(fd, "WATCHDOG=1", 1500, seen, sizeof seen)); /* within WatchdogSec/2 */

  /* status files and the CLI */
  snprintf(p, sizeof p, "%s/run/status.json", dir);
  slurp(p, buf, sizeof buf);
  assert_non_null(strstr(buf, "\"state\":\t\"valid\""));
  assert_non_null(strstr(buf, "\"issuer\":\t\"CN=ica\""));
  snprintf(p, sizeof p, "%s/run/m.prom", dir);
  slurp(p, buf, sizeof buf);
  assert_non_null(strstr(buf, "certpilot_certificate_expiry_seconds{registration_id=\"dev-1\"} "));
  snprintf(cmd, sizeof cmd, "%s/certpilot -c %s/c.conf status", bindir, dir);
  run_capture(cmd, buf, sizeof buf);
  assert_non_null(strstr(buf, "state:          valid"));
  assert_non_null(strstr(buf, "issuer:         CN=ica"));
  snprintf(cmd, sizeof cmd, "%s/certpilot -r %s/run status --json", bindir, dir);
  run_capture(cmd, buf, sizeof buf);
  assert_non_null(strstr(buf, "\"lastAttempt\":\tnull"));

  /* certpilot renew → SIGUSR1 → an attempt is made now */
  snprintf(cmd, sizeof cmd, "%s/certpilot -r %s/run renew >/dev/null", bindir, dir);
  assert_int_equal(system(cmd), 0);
  seen[0] = '\0';
  assert_true(wait_notify(fd, "STATUS=", 8000, seen, sizeof seen));
  snprintf(p, sizeof p, "%s/run/status.json", dir);
  for (int i = 0; i < 50; i++) {
    slurp(p, buf, sizeof buf);
    if (!strstr(buf, "\"lastAttempt\":\tnull")) break;
    usleep(100000);
  }
  assert_null(strstr(buf, "\"lastAttempt\":\tnull"));

  /* SIGHUP with a broken file: reload refused, daemon keeps running */
  write_config("[renewal]\nfractoin = 0.5\n");
  seen[0] = '\0';
  assert_int_equal(kill(pid, SIGHUP), 0);
  assert_true(wait_notify(fd, "RELOADING=1", 5000, seen, sizeof seen));
  assert_true(wait_notify(fd, "READY=1", 5000, seen, sizeof seen));
  assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);
  write_config("");

  /* SIGTERM: clean stop */
  seen[0] = '\0';
  assert_int_equal(kill(pid, SIGTERM), 0);
  assert_true(wait_notify(fd, "STOPPING=1", 10000, seen, sizeof seen));
  int st = 0;
  pid_t reaped = waitpid(pid, &st, 0);
  daemon_pid = 0;
  assert_int_equal(reaped, pid);
  assert_true(WIFEXITED(st));
  assert_int_equal(WEXITSTATUS(st), 0);
  snprintf(p, sizeof p, "%s/run/certpilotd.pid", dir);
  assert_int_equal(access(p, F_OK), -1);
  slurp(log, buf, sizeof buf);
  assert_non_null(strstr(buf, "<3>reload refused, keeping the running configuration: "));
  assert_non_null(strstr(buf, "c.conf:18: [renewal] fractoin: unknown key"));
  assert_non_null(strstr(buf, "<6>certpilotd stopped"));
  /* every log line carries a syslog priority prefix */
  for (char *line = strtok(buf, "\n"); line; line = strtok(NULL, "\n"))
    if (!(line[0] == '<' && line[1] >= '0' && line[1] <= '7' && line[2] == '>'))
      fail_msg("log line without priority: %s", line);
  /* the committed pair is untouched */
  snprintf(cmd, sizeof cmd, "cmp %s/state/current/key.pem %s/leaf.key", dir, dir);
  assert_int_equal(system(cmd), 0);
  close(fd);
}

/* Wait up to ms for @p needle to appear in the log after offset @p from. */
static int wait_log(const char *log, size_t from, const char *needle, int ms, char *buf, size_t n) {
  for (int waited = 0; waited <= ms; waited += 50) {
    slurp(log, buf, n);
    if (strlen(buf) > from && strstr(buf + from, needle)) return 1;
    usleep(50000);
  }
  return 0;
}

/* The renewal timer is armed with TFD_TIMER_CANCEL_ON_SET: setting the wall
 * clock wakes certpilotd, which re-evaluates and sleeps again. The clock is
 * set to the time it already shows (a step of microseconds): the kernel
 * cancels such timers on every clock_settime(), whatever the step. */
static void test_certpilotd_wakes_when_the_wall_clock_is_set(void **state) {
  (void)state;
  char sock[256], log[256], seen[8192] = "", buf[16384];
  int fd = notify_socket(sock, sizeof sock);
  snprintf(log, sizeof log, "%s/daemon-clock.log", dir);
  pid_t pid = spawn_daemon(sock, log);

  assert_true(wait_notify(fd, "READY=1", 10000, seen, sizeof seen));
  assert_true(wait_log(log, 0, "sleeping until", 5000, buf, sizeof buf));
  size_t mark = strlen(buf);
  struct timespec now;
  assert_int_equal(clock_gettime(CLOCK_REALTIME, &now), 0);
  if (clock_settime(CLOCK_REALTIME, &now) != 0) {
    int e = errno;
    kill(pid, SIGKILL);
    waitpid(pid, NULL, 0);
    daemon_pid = 0;
    close(fd);
    /* Without CAP_SYS_TIME (not root) there is no way to set the clock. */
    fprintf(stderr, "# skipped: clock_settime: %s (needs CAP_SYS_TIME)\n", strerror(e));
    skip();
  }
  assert_true(wait_log(log, mark, "wall clock changed: re-evaluating", 5000, buf, sizeof buf));
  const char *woke = strstr(buf + mark, "wall clock changed");
  assert_non_null(strstr(woke, "sleeping until")); /* re-armed after re-evaluating */
  assert_int_equal(waitpid(pid, NULL, WNOHANG), 0);

  assert_int_equal(kill(pid, SIGTERM), 0);
  int st = 0;
  assert_int_equal(waitpid(pid, &st, 0), pid);
  daemon_pid = 0;
  assert_true(WIFEXITED(st) && WEXITSTATUS(st) == 0);
  close(fd);
}

static void test_certpilotd_bad_config_fails_at_start_with_line(void **state) {
  (void)state;
  char cmd[1024], buf[2048];
  write_config("[hooks]\ntimeout = soon\n");
  snprintf(cmd, sizeof cmd, "%s/certpilotd -c %s/c.conf 2>&1; echo rc=$?", bindir, dir);
  run_capture(cmd, buf, sizeof buf);
  assert_non_null(strstr(buf, "c.conf:18: [hooks] timeout: 'soon' is not a duration"));
  assert_non_null(strstr(buf, "rc=1"));
  snprintf(cmd, sizeof cmd, "%s/certpilotd --check-config -c %s/c.conf 2>&1; echo rc=$?", bindir, dir);
  run_capture(cmd, buf, sizeof buf);
  assert_non_null(strstr(buf, "rc=1"));
  write_config("");
  run_capture(cmd, buf, sizeof buf);
  assert_non_null(strstr(buf, ": OK"));
  assert_non_null(strstr(buf, "rc=0"));
}

static void test_certpilot_inspect_prints_chain(void **state) {
  (void)state;
  char cmd[1024], buf[8192];
  snprintf(cmd, sizeof cmd, "%s/certpilot inspect %s/state/current/chain.pem", bindir, dir);
  run_capture(cmd, buf, sizeof buf);
  assert_non_null(strstr(buf, "certificate 0\n  subject      CN=dev-1\n  issuer       CN=ica"));
  assert_non_null(strstr(buf, "certificate 2 (CA)\n  subject      CN=root"));
  snprintf(cmd, sizeof cmd, "%s/certpilot inspect %s/sk 2>&1; echo rc=$?", bindir, dir);
  run_capture(cmd, buf, sizeof buf);
  assert_non_null(strstr(buf, "rc=1"));
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_certpilotd_lifecycle_notify_status_signals),
      cmocka_unit_test(test_certpilotd_wakes_when_the_wall_clock_is_set),
      cmocka_unit_test(test_certpilotd_bad_config_fails_at_start_with_line),
      cmocka_unit_test(test_certpilot_inspect_prints_chain),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
