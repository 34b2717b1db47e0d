/*
 * TCP + TLS for the MQTT transport (OpenSSL). Non-blocking socket driven
 * with poll() against the caller's deadline: no fixed polling cycles, and
 * TCP_NODELAY so that small MQTT packets leave at once.
 */
#include "cp_posix_mqtt_link.h"

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "certpilot/cp_platform.h"

/* 1 ready, 0 deadline passed, -1 poll failed or the socket reports an error. */
static int wait_fd(int fd, short events, int64_t deadline)
{
  for (;;) {
    int64_t left = deadline - cp_platform_monotonic_ms();
    struct pollfd p = {fd, events, 0};
    int n = poll(&p, 1, left <= 0 ? 0 : left > INT_MAX ? INT_MAX : (int)left);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return -1;
    if (n == 0)
      return 0;
    if ((p.revents & events) == 0 && (p.revents & (POLLERR | POLLNVAL)))
      return -1;
    return 1; /* POLLHUP included: the read or write that follows reports it */
  }
}

static int tcp_connect(const char *host, uint16_t port, int64_t deadline, char *why,
                       size_t why_size)
{
  struct addrinfo hints, *res = NULL, *ai;
  char svc[8];
  int fd = -1, err = 0, rc, one = 1;

  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(svc, sizeof svc, "%u", (unsigned)port);
  rc = getaddrinfo(host, svc, &hints, &res);
  if (rc != 0) {
    snprintf(why, why_size, "MQTT connection to %s:%u failed (cannot resolve: %s)", host,
             (unsigned)port, gai_strerror(rc));
    return -1;
  }
  for (ai = res; ai != NULL; ai = ai->ai_next) {
    fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) {
      err = errno;
      continue;
    }
    if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
      break;
    err = errno;
    if (err == EINPROGRESS) {
      int w = wait_fd(fd, POLLOUT, deadline);
      socklen_t sl = sizeof err;
      if (w > 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &sl) == 0 && err == 0)
        break;
      if (w == 0)
        err = ETIMEDOUT;
    }
    close(fd);
    fd = -1;
  }
  freeaddrinfo(res);
  if (fd < 0) {
    snprintf(why, why_size, "MQTT connection to %s:%u failed (%s)", host, (unsigned)port,
             strerror(err ? err : ECONNREFUSED));
    return -1;
  }
  (void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return fd;
}

/* The first queued OpenSSL error as text (reason only), or "" when none. */
static void ssl_reason(char *out, size_t size)
{
  unsigned long e = ERR_get_error();
  const char *r = e ? ERR_reason_error_string(e) : NULL;

  if (r != NULL)
    snprintf(out, size, "%s", r);
  else if (e != 0)
    ERR_error_string_n(e, out, size);
  else
    snprintf(out, size, "%s", "");
  ERR_clear_error();
}

static cp_result load_material(mq_link *l, const cp_tls_options *tls, char *why,
                               size_t why_size)
{
  char reason[200];
  const char *what = NULL, *path = NULL;

  SSL_CTX_set_min_proto_version(l->ctx, TLS1_2_VERSION);
  SSL_CTX_set_verify(l->ctx, SSL_VERIFY_PEER, NULL); /* always */
  SSL_CTX_set_mode(l->ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
  if (tls->trust_bundle_path != NULL) {
    if (SSL_CTX_load_verify_locations(l->ctx, tls->trust_bundle_path, NULL) != 1)
      what = "cannot load the trust bundle", path = tls->trust_bundle_path;
  } else if (SSL_CTX_set_default_verify_paths(l->ctx) != 1) {
    what = "cannot load the system trust store", path = "(default)";
  }
  if (what == NULL && tls->client_cert_path != NULL &&
      SSL_CTX_use_certificate_chain_file(l->ctx, tls->client_cert_path) != 1)
    what = "cannot load the client certificate", path = tls->client_cert_path;
  if (what == NULL && tls->client_key_path != NULL &&
      (SSL_CTX_use_PrivateKey_file(l->ctx, tls->client_key_path, SSL_FILETYPE_PEM) != 1 ||
       SSL_CTX_check_private_key(l->ctx) != 1))
    what = "cannot load the client key (or it does not match the certificate)",
    path = tls->client_key_path;
  if (what == NULL)
    return CP_OK;
  ssl_reason(reason, sizeof reason);
  snprintf(why, why_size, "%s %s: %s", what, path, reason);
  return CP_ERR_TLS;
}

/* Runs an SSL call that may want I/O until it succeeds, fails or the deadline. */
static int drive(mq_link *l, int rc, int64_t deadline)
{
  int e = SSL_get_error(l->ssl, rc), w;

  if (e == SSL_ERROR_WANT_READ)
    w = wait_fd(l->fd, POLLIN, deadline);
  else if (e == SSL_ERROR_WANT_WRITE)
    w = wait_fd(l->fd, POLLOUT, deadline);
  else
    return -1;
  return w > 0 ? 1 : w == 0 ? 0 : -1; /* 1: retry */
}

cp_result mq_tls_open(mq_link *l, const char *host, uint16_t port, const cp_tls_options *tls,
                      int64_t deadline, char *why, size_t why_size)
{
  unsigned char ip[16];
  char reason[200];
  cp_result r;
  int rc, d;

  memset(l, 0, sizeof *l);
  l->fd = tcp_connect(host, port, deadline, why, why_size);
  if (l->fd < 0)
    return CP_ERR_TRANSPORT;
  ERR_clear_error();
  l->ctx = SSL_CTX_new(TLS_client_method());
  if (l->ctx == NULL) {
    snprintf(why, why_size, "TLS with %s:%u failed: out of memory", host, (unsigned)port);
    mq_tls_close(l);
    return CP_ERR_TLS;
  }
  if ((r = load_material(l, tls, why, why_size)) != CP_OK) {
    mq_tls_close(l);
    return r;
  }
  l->ssl = SSL_new(l->ctx);
  if (l->ssl == NULL || SSL_set_fd(l->ssl, l->fd) != 1) {
    snprintf(why, why_size, "TLS with %s:%u failed: out of memory", host, (unsigned)port);
    mq_tls_close(l);
    return CP_ERR_TLS;
  }
  /* the server certificate must name what we dialled: IP SAN or DNS name */
  if (inet_pton(AF_INET, host, ip) == 1 || inet_pton(AF_INET6, host, ip) == 1) {
    X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(l->ssl), host);
  } else {
    SSL_set_tlsext_host_name(l->ssl, host);
    SSL_set1_host(l->ssl, host);
  }
  for (;;) {
    rc = SSL_connect(l->ssl);
    if (rc == 1)
      return CP_OK;
    d = drive(l, rc, deadline);
    if (d == 1)
      continue;
    if (d == 0) {
      snprintf(why, why_size, "TLS with %s:%u failed: handshake timed out", host,
               (unsigned)port);
      mq_tls_close(l);
      return CP_ERR_TRANSPORT;
    }
    break;
  }
  if (SSL_get_verify_result(l->ssl) != X509_V_OK) {
    snprintf(why, why_size, "TLS with %s:%u failed: certificate verify failed (%s)", host,
             (unsigned)port, X509_verify_cert_error_string(SSL_get_verify_result(l->ssl)));
  } else {
    ssl_reason(reason, sizeof reason);
    snprintf(why, why_size, "TLS with %s:%u failed: %s", host, (unsigned)port,
             reason[0] ? reason : "connection closed during the handshake");
  }
  ERR_clear_error();
  mq_tls_close(l);
  return CP_ERR_TLS;
}

int mq_tls_read(mq_link *l, uint8_t *buf, size_t cap, int64_t deadline)
{
  if (l->ssl == NULL)
    return -1;
  for (;;) {
    int n, d;
    ERR_clear_error();
    n = SSL_read(l->ssl, buf, cap > INT_MAX ? INT_MAX : (int)cap);
    if (n > 0)
      return n;
    d = drive(l, n, deadline);
    if (d != 1)
      return d == 0 ? 0 : -1;
  }
}

/* SIGPIPE would kill the process when the peer has gone: block it around
 * writes, and swallow one raised by them. */
typedef struct pipe_guard {
  sigset_t pipe, old;
  bool pending_before;
} pipe_guard;

static void guard_on(pipe_guard *g)
{
  sigset_t pend;

  sigemptyset(&g->pipe);
  sigaddset(&g->pipe, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &g->pipe, &g->old);
  g->pending_before = sigpending(&pend) == 0 && sigismember(&pend, SIGPIPE);
}

static void guard_off(pipe_guard *g, bool failed)
{
  if (failed && !g->pending_before) {
    struct timespec zero = {0, 0};
    (void)sigtimedwait(&g->pipe, NULL, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &g->old, NULL);
}

int mq_tls_write(mq_link *l, const void *buf, size_t len, int64_t deadline)
{
  const uint8_t *p = buf;
  size_t off = 0;
  pipe_guard g;
  int rc = 0;

  if (l->ssl == NULL)
    return -1;
  guard_on(&g);
  while (off < len) {
    size_t chunk = len - off > INT_MAX ? INT_MAX : len - off;
    int n;
    ERR_clear_error();
    n = SSL_write(l->ssl, p + off, (int)chunk);
    if (n > 0) {
      off += (size_t)n;
      continue;
    }
    if (drive(l, n, deadline) != 1) {
      rc = -1;
      break;
    }
  }
  guard_off(&g, rc != 0);
  return rc;
}

void mq_tls_close(mq_link *l)
{
  if (l->ssl != NULL) {
    pipe_guard g;
    guard_on(&g);
    (void)SSL_shutdown(l->ssl); /* best effort close_notify; do not wait for the peer's */
    guard_off(&g, true);
    SSL_free(l->ssl);
    ERR_clear_error();
  }
  if (l->ctx != NULL)
    SSL_CTX_free(l->ctx);
  if (l->fd >= 0)
    close(l->fd);
  mq_buf_free(&l->raw);
  mq_buf_free(&l->stream);
  l->ssl = NULL;
  l->ctx = NULL;
  l->fd = -1;
}
