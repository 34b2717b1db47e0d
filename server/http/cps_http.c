/* Listener setup: TLS context, evhttp instances, bufferevent_openssl per connection. */
#include "cps_http_internal.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/err.h>

#include "cps_prov.h"

/* Any client certificate is accepted at the TLS layer; the core verifies it against enrollments. */
static int accept_any_client_cert(int preverify, X509_STORE_CTX *ctx) {
  (void)preverify;
  (void)ctx;
  return 1;
}

static struct bufferevent *make_bev(struct event_base *base, void *arg) {
  SSL_CTX *ctx = arg;
  SSL *ssl = SSL_new(ctx);
  if (!ssl) return NULL;
  return bufferevent_openssl_socket_new(base, -1, ssl, BUFFEREVENT_SSL_ACCEPTING,
                                        BEV_OPT_CLOSE_ON_FREE);
}

char *cps_http_body(struct evhttp_request *req, size_t *len) {
  struct evbuffer *in = evhttp_request_get_input_buffer(req);
  size_t n = evbuffer_get_length(in);
  *len = n;
  if (n == 0) return NULL;
  char *b = malloc(n + 1);
  if (!b) return NULL;
  evbuffer_copyout(in, b, n);
  b[n] = '\0';
  return b;
}

static int bound_port(struct evhttp_bound_socket *s) {
  struct sockaddr_storage ss;
  socklen_t sl = sizeof ss;
  if (getsockname(evhttp_bound_socket_get_fd(s), (struct sockaddr *)&ss, &sl) != 0) return -1;
  if (ss.ss_family == AF_INET) return ntohs(((struct sockaddr_in *)&ss)->sin_port);
  if (ss.ss_family == AF_INET6) return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
  return -1;
}

static struct evhttp *listener(struct event_base *base, cps_http *h, const char *addr, int port,
                               size_t max_body, void (*cb)(struct evhttp_request *, void *),
                               int timeout_s, int *bound, int *fd_out, cps_error *err) {
  struct evhttp *http = evhttp_new(base);
  if (!http) return NULL;
  evhttp_set_bevcb(http, make_bev, h->ssl);
  evhttp_set_gencb(http, cb, h);
  evhttp_set_max_body_size(http, (ev_ssize_t)max_body);
  evhttp_set_max_headers_size(http, 16384);
  evhttp_set_timeout(http, timeout_s);
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST |
                                       EVHTTP_REQ_DELETE);
  struct evhttp_bound_socket *s = evhttp_bind_socket_with_handle(http, addr, (ev_uint16_t)port);
  if (!s) {
    cps_fail(err, CPS_ERR_IO, "cannot listen on %s:%d", addr, port);
    evhttp_free(http);
    return NULL;
  }
  *bound = bound_port(s);
  *fd_out = evhttp_bound_socket_get_fd(s);
  /* Replies go out as several TLS records; without TCP_NODELAY (inherited by accepted sockets
   * on Linux) Nagle + delayed ACK add ~40 ms per request. */
  int one = 1;
  setsockopt(*fd_out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  return http;
}

static void *worker_main(void *arg) {
  cps_http_worker *w = arg;
  event_base_dispatch(w->base);
  return NULL;
}

/* Start one extra DPS thread accepting on a dup of @p fd. */
static cps_result worker_start(cps_http *h, cps_http_worker *w, int fd, int timeout,
                               const cps_service_config *svc_cfg, cps_error *err) {
  w->base = event_base_new();
  w->http = calloc(1, sizeof *w->http);
  if (!w->base || !w->http) return CPS_ERR_NOMEM;
  w->http->ssl = h->ssl;
  w->http->owns_svc = 1;
  cps_result r = cps_service_open(svc_cfg, &w->http->svc, err);
  if (r != CPS_OK) return r;
  struct evhttp *http = evhttp_new(w->base);
  if (!http) return CPS_ERR_NOMEM;
  w->http->dps = http;
  evhttp_set_bevcb(http, make_bev, h->ssl);
  evhttp_set_gencb(http, cps_http_dps_handle, w->http);
  evhttp_set_max_body_size(http, (ev_ssize_t)(4 * CPS_PROV_MAX_BODY));
  evhttp_set_max_headers_size(http, 16384);
  evhttp_set_timeout(http, timeout);
  evhttp_set_allowed_methods(http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT | EVHTTP_REQ_POST |
                                       EVHTTP_REQ_DELETE);
  int dfd = dup(fd);
  if (dfd < 0 || evhttp_accept_socket(http, dfd) != 0) {
    if (dfd >= 0) close(dfd);
    return cps_fail(err, CPS_ERR_IO, "cannot share the DPS socket with a worker");
  }
  if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
    return cps_fail(err, CPS_ERR_IO, "cannot start a DPS worker thread");
  w->started = 1;
  return CPS_OK;
}

cps_result cps_http_start(struct event_base *base, cps_service *svc, const cps_http_config *cfg,
                          cps_http **out, cps_error *err) {
  cps_http *h = calloc(1, sizeof *h);
  if (!h) return CPS_ERR_NOMEM;
  h->svc = svc;
  h->ssl = SSL_CTX_new(TLS_server_method());
  if (!h->ssl) {
    free(h);
    return CPS_ERR_NOMEM;
  }
  SSL_CTX_set_min_proto_version(h->ssl, TLS1_2_VERSION);
  if (SSL_CTX_use_certificate_chain_file(h->ssl, cfg->cert_file) != 1 ||
      SSL_CTX_use_PrivateKey_file(h->ssl, cfg->key_file, SSL_FILETYPE_PEM) != 1 ||
      SSL_CTX_check_private_key(h->ssl) != 1) {
    cps_fail(err, CPS_ERR_CRYPTO, "TLS: cannot load %s / %s", cfg->cert_file, cfg->key_file);
    ERR_clear_error();
    cps_http_free(h);
    return CPS_ERR_CRYPTO;
  }
  SSL_CTX_set_verify(h->ssl, SSL_VERIFY_PEER, accept_any_client_cert);
  SSL_CTX_set_session_id_context(h->ssl, (const unsigned char *)"certpilot", 9);
  int timeout = cfg->timeout_s > 0 ? cfg->timeout_s : 30;
  /* The DPS evhttp cap is above CPS_PROV_MAX_BODY so the core answers 413 with an Azure body;
   * anything larger still gets evhttp's own 413 before it is buffered. */
  int dps_fd = -1, mgmt_fd = -1;
  h->dps = listener(base, h, cfg->dps_addr, cfg->dps_port, 4 * CPS_PROV_MAX_BODY,
                    cps_http_dps_handle, timeout, &h->dps_port, &dps_fd, err);
  if (h->dps)
    h->mgmt = listener(base, h, cfg->mgmt_addr, cfg->mgmt_port, 1024 * 1024, cps_http_mgmt_handle,
                       timeout, &h->mgmt_port, &mgmt_fd, err);
  if (!h->dps || !h->mgmt) {
    cps_http_free(h);
    return CPS_ERR_IO;
  }
  if (cfg->dps_workers > 0) {
    if (!cfg->svc_cfg) {
      cps_http_free(h);
      return cps_fail(err, CPS_ERR_INVALID, "DPS workers need a service configuration");
    }
    h->workers = calloc((size_t)cfg->dps_workers, sizeof *h->workers);
    if (!h->workers) {
      cps_http_free(h);
      return CPS_ERR_NOMEM;
    }
    h->n_workers = cfg->dps_workers;
    for (int i = 0; i < cfg->dps_workers; i++) {
      cps_result r = worker_start(h, &h->workers[i], dps_fd, timeout, cfg->svc_cfg, err);
      if (r != CPS_OK) {
        cps_http_free(h);
        return r;
      }
    }
  }
  *out = h;
  return CPS_OK;
}

int cps_http_dps_port(const cps_http *h) { return h->dps_port; }
int cps_http_mgmt_port(const cps_http *h) { return h->mgmt_port; }

void cps_http_free(cps_http *h) {
  if (!h) return;
  for (int i = 0; i < h->n_workers; i++) {
    cps_http_worker *w = &h->workers[i];
    if (w->started) {
      event_base_loopexit(w->base, NULL);
      pthread_join(w->thread, NULL);
    }
    if (w->http) {
      if (w->http->dps) evhttp_free(w->http->dps);
      cps_service_close(w->http->svc);
      free(w->http);
    }
    if (w->base) event_base_free(w->base);
  }
  free(h->workers);
  if (h->dps) evhttp_free(h->dps);
  if (h->mgmt) evhttp_free(h->mgmt);
  SSL_CTX_free(h->ssl);
  free(h);
}
