/* Test harness: start and stop a private swtpm (see cp_swtpm.h). */
#include "cp_swtpm.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define SWTPM_MAX 8
static cp_swtpm *g_running[SWTPM_MAX];
static int g_atexit_done;

static void kill_all_at_exit(void)
{
  for (int i = 0; i < SWTPM_MAX; i++)
    if (g_running[i] != NULL)
      cp_swtpm_stop(g_running[i]);
}

static int bind_loopback(int port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  if (fd < 0)
    return -1;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (bind(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

int cp_swtpm_free_port_pair(void)
{
  for (int attempt = 0; attempt < 50; attempt++) {
    struct sockaddr_in a;
    socklen_t alen = sizeof a;
    int fd = bind_loopback(0);
    int port, fd2;

    if (fd < 0)
      return -1;
    if (getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
      close(fd);
      return -1;
    }
    port = ntohs(a.sin_port);
    fd2 = port < 65535 ? bind_loopback(port + 1) : -1;
    close(fd);
    if (fd2 >= 0) {
      close(fd2);
      return port;
    }
  }
  return -1;
}

static int port_accepts(int port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  int ok;

  if (fd < 0)
    return 0;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ok = connect(fd, (struct sockaddr *)&a, sizeof a) == 0;
  close(fd);
  return ok;
}

static void remove_dir(const char *dir)
{
  DIR *d = opendir(dir);
  struct dirent *e;
  char path[512];

  if (d == NULL)
    return;
  while ((e = readdir(d)) != NULL) {
    if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
      continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    unlink(path);
  }
  closedir(d);
  rmdir(dir);
}

static pid_t spawn_swtpm(const cp_swtpm *s, const char *flags)
{
  char server[96], ctrl[96], state[300];
  pid_t parent = getpid();
  pid_t pid;

  snprintf(server, sizeof server, "type=tcp,port=%d,bindaddr=127.0.0.1", s->port);
  snprintf(ctrl, sizeof ctrl, "type=tcp,port=%d,bindaddr=127.0.0.1", s->port + 1);
  snprintf(state, sizeof state, "dir=%s", s->state_dir);
  pid = fork();
  if (pid != 0)
    return pid;
  /* child: die with the test process, keep quiet */
  prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (getppid() != parent)
    _exit(127);
  int devnull = open("/dev/null", O_RDWR);
  if (devnull >= 0) {
    dup2(devnull, STDIN_FILENO);
    dup2(devnull, STDOUT_FILENO);
  }
  execlp("swtpm", "swtpm", "socket", "--tpm2", "--server", server, "--ctrl", ctrl,
         "--tpmstate", state, "--flags", flags,
         (char *)NULL);
  _exit(127);
}

int cp_swtpm_start(cp_swtpm *s)
{
  return cp_swtpm_start_flags(s, "not-need-init,startup-clear");
}

int cp_swtpm_start_flags(cp_swtpm *s, const char *flags)
{
  char tmpl[] = "/tmp/cp-swtpm-XXXXXX";
  const char *tmpdir = getenv("TMPDIR");

  memset(s, 0, sizeof *s);
  if (tmpdir != NULL && strlen(tmpdir) < 200)
    snprintf(s->state_dir, sizeof s->state_dir, "%s/cp-swtpm-XXXXXX", tmpdir);
  else
    snprintf(s->state_dir, sizeof s->state_dir, "%s", tmpl);
  if (mkdtemp(s->state_dir) == NULL) {
    fprintf(stderr, "swtpm harness: mkdtemp: %s\n", strerror(errno));
    return -1;
  }
  for (int attempt = 0; attempt < 5; attempt++) {
    int status;

    s->port = cp_swtpm_free_port_pair();
    if (s->port < 0)
      break;
    s->pid = spawn_swtpm(s, flags);
    if (s->pid < 0)
      break;
    /* wait up to 5 s for both ports to accept */
    for (int i = 0; i < 500; i++) {
      struct timespec ts = {0, 10 * 1000 * 1000};

      if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        s->pid = 0;
        break; /* exited: probably lost a port race, retry */
      }
      if (port_accepts(s->port + 1) && port_accepts(s->port)) {
        snprintf(s->tcti, sizeof s->tcti, "swtpm:host=127.0.0.1,port=%d", s->port);
        if (!g_atexit_done) {
          atexit(kill_all_at_exit);
          g_atexit_done = 1;
        }
        for (int k = 0; k < SWTPM_MAX; k++)
          if (g_running[k] == NULL) {
            g_running[k] = s;
            break;
          }
        return 0;
      }
      nanosleep(&ts, NULL);
    }
    if (s->pid > 0) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
      s->pid = 0;
    }
  }
  fprintf(stderr, "swtpm harness: could not start swtpm (is it installed?)\n");
  remove_dir(s->state_dir);
  return -1;
}

void cp_swtpm_stop(cp_swtpm *s)
{
  for (int k = 0; k < SWTPM_MAX; k++)
    if (g_running[k] == s)
      g_running[k] = NULL;
  if (s->pid > 0) {
    int status;

    kill(s->pid, SIGTERM);
    for (int i = 0; i < 200; i++) {
      struct timespec ts = {0, 10 * 1000 * 1000};

      if (waitpid(s->pid, &status, WNOHANG) == s->pid) {
        s->pid = 0;
        break;
      }
      nanosleep(&ts, NULL);
    }
    if (s->pid > 0) {
      kill(s->pid, SIGKILL);
      waitpid(s->pid, &status, 0);
      s->pid = 0;
    }
  }
  if (s->state_dir[0] != '\0') {
    remove_dir(s->state_dir);
    s->state_dir[0] = '\0';
  }
}
