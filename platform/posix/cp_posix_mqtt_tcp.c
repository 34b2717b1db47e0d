/* The TCP connect of Paho's socket, done before Paho's own (see the header). */
#include "cp_posix_mqtt_tcp.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <MQTTClient.h>

static _Thread_local cp_posix_mqtt_tcp *active; /* this thread's connect, if any */

static int64_t now_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void on_paho_trace(enum MQTTCLIENT_TRACE_LEVELS level, char *message)
{
  (void)level;
  cp_posix_mqtt_tcp_trace_line(message);
}

void cp_posix_mqtt_tcp_begin(cp_posix_mqtt_tcp *t)
{
  const char *off;

  t->fd = -1;
  t->connect_errno = 0;
  t->nodelay = false;
  t->paho_waited = false;
  t->uncorked = false;
  t->corked = false;
  t->deadline_ms = now_ms() + (t->timeout_ms ? t->timeout_ms : 30000);
  t->armed = false;
  if ((off = getenv("CERTPILOT_PAHO_EARLY_CONNECT")) != NULL && strcmp(off, "0") == 0)
    return;
  t->armed = true;
  /* Set again each time (an application may have set its own since) and never
   * cleared: Paho reads the pointer twice without a lock, so clearing it while
   * another thread logs could make Paho call NULL. Outside our connects the
   * callback returns at once. */
  MQTTClient_setTraceCallback(on_paho_trace);
  active = t;
}

static void cork(cp_posix_mqtt_tcp *t, int on)
{
  (void)setsockopt(t->fd, IPPROTO_TCP, TCP_CORK, &on, sizeof on);
  t->corked = on != 0;
}

void cp_posix_mqtt_tcp_end(cp_posix_mqtt_tcp *t)
{
  if (!t->armed)
    return;
  t->armed = false;
  if (active == t)
    active = NULL;
  if (t->corked) /* the uncork line never came; the socket may still be open */
    cork(t, 0);
}

/* A TCP socket Paho has just made: blocking (Paho sets O_NONBLOCK right before
 * its connect()), of @p family, connected to nothing yet. */
static int fresh_tcp_socket(int fd, int *family)
{
  struct sockaddr_storage peer;
  socklen_t len = sizeof peer, il = sizeof(int);
  int fl = fcntl(fd, F_GETFL), type = 0;

  if (fl < 0 || (fl & O_NONBLOCK) != 0)
    return -1;
  if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &il) != 0 || type != SOCK_STREAM)
    return -1;
  il = sizeof(int);
  if (getsockopt(fd, SOL_SOCKET, SO_DOMAIN, family, &il) != 0 ||
      (*family != AF_INET && *family != AF_INET6))
    return -1;
  if (getpeername(fd, (struct sockaddr *)&peer, &len) == 0 || errno != ENOTCONN)
    return -1;
  return fl;
}

/* The broker's address in the socket's family, as Paho resolves it. */
static struct addrinfo *resolve(const char *host, uint16_t port, int family)
{
  struct addrinfo hints, *res = NULL;
  char name[256], svc[8];
  size_t n;

  if (host[0] == '[')
    host++;
  n = strcspn(host, "]");
  if (n == 0 || n >= sizeof name)
    return NULL;
  memcpy(name, host, n);
  name[n] = '\0';
  snprintf(svc, sizeof svc, "%u", (unsigned)port);
  memset(&hints, 0, sizeof hints);
  hints.ai_family = family;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_protocol = IPPROTO_TCP;
  if (getaddrinfo(name, svc, &hints, &res) != 0)
    return NULL;
  return res;
}

/* Connects @p fd to @p ai before the deadline; returns 0 or an errno value. */
static int connect_by(int fd, int flags, const struct addrinfo *ai, int64_t deadline)
{
  int err = 0;
  socklen_t el = sizeof err;

  if (fcntl(fd, F_SETFL, flags | O_NONBLOCK) != 0)
    return errno;
  if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
    err = errno;
    while (err == EINPROGRESS || err == EINTR) {
      struct pollfd p = { .fd = fd, .events = POLLOUT };
      int64_t left = deadline - now_ms();
      int n;
      if (left <= 0) {
        err = ETIMEDOUT;
        break;
      }
      n = poll(&p, 1, left > 60000 ? 60000 : (int)left);
      if (n < 0 && errno == EINTR)
        continue;
      if (n < 0) {
        err = errno;
        break;
      }
      if (n == 0)
        continue; /* the deadline check above ends it */
      err = 0;
      el = sizeof err;
      if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) != 0)
        err = errno;
      break;
    }
  }
  (void)fcntl(fd, F_SETFL, flags); /* Paho sets O_NONBLOCK itself next */
  return err;
}

void cp_posix_mqtt_tcp_trace_line(const char *message)
{
  cp_posix_mqtt_tcp *t = active;
  const char *p, *q, *last = NULL;
  struct addrinfo *ai;
  int fd, port, flags, family = 0, one = 1;

  if (t == NULL || message == NULL)
    return;
  if (t->fd >= 0) {
    if (strstr(message, "Connect pending") != NULL)
      t->paho_waited = true;
    else if (t->tls && t->connect_errno == 0 && !t->uncorked && !t->corked &&
             strstr(message, "> SSLSocket_connect:") != NULL)
      cork(t, 1);
    else if (t->corked && strstr(message, "< SSLSocket_connect:") != NULL) {
      cork(t, 0);
      t->uncorked = true;
    }
    return;
  }
  if ((p = strstr(message, "New socket ")) == NULL || sscanf(p, "New socket %d", &fd) != 1)
    return;
  for (q = p; (q = strstr(q, ", port ")) != NULL; q++)
    last = q;
  if (last == NULL || sscanf(last, ", port %d", &port) != 1 || port != (int)t->port)
    return;
  if (fd < 0 || (flags = fresh_tcp_socket(fd, &family)) < 0)
    return;
  if ((ai = resolve(t->host, t->port, family)) == NULL)
    return;
  t->fd = fd;
  t->nodelay = setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0;
  t->connect_errno = connect_by(fd, flags, ai, t->deadline_ms);
  freeaddrinfo(ai);
}
