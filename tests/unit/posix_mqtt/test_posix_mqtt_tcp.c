/*
 * cp_posix_mqtt_tcp: the early TCP connect of Paho's socket, driven by the
 * installed Paho library itself (so a Paho that changes what it announces, or
 * when, fails here), against an in-process TLS "broker" on 127.0.0.1.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/socket.h>
#include <unistd.h>

#include <MQTTClient.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include <cmocka.h>

#include "cp_posix_mqtt_tcp.h"
#include "loopback_listener.h"

#define TLS_ROUNDS 25

static char dir[64];
static char cert_path[96], key_path[96];

static int sockopt(int fd, int level, int name)
{
  int v = -1;
  socklen_t len = sizeof v;

  assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
  return v;
}

static uint16_t peer_port(int fd)
{
  struct sockaddr_in a;
  socklen_t len = sizeof a;

  if (getpeername(fd, (struct sockaddr *)&a, &len) != 0)
    return 0;
  return ntohs(a.sin_port);
}

/* A self-signed P-256 server certificate for 127.0.0.1, as PEM files in dir. */
static void make_server_cert(void)
{
  EVP_PKEY *key = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  X509V3_CTX ctx;
  X509_EXTENSION *ext;
  FILE *f;

  assert_non_null(key);
  assert_non_null(x);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), -60);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600);
  X509_set_pubkey(x, key);
  X509_NAME_add_entry_by_txt(X509_get_subject_name(x), "CN", MBSTRING_ASC,
                             (const unsigned char *)"127.0.0.1", -1, -1, 0);
  X509_set_issuer_name(x, X509_get_subject_name(x));
  X509V3_set_ctx(&ctx, x, x, NULL, NULL, 0);
  ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_subject_alt_name, "IP:127.0.0.1");
  assert_non_null(ext);
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  ext = X509V3_EXT_conf_nid(NULL, &ctx, NID_basic_constraints, "critical,CA:TRUE");
  X509_add_ext(x, ext, -1);
  X509_EXTENSION_free(ext);
  assert_true(X509_sign(x, key, EVP_sha256()) > 0);
  assert_non_null(f = fopen(cert_path, "w"));
  PEM_write_X509(f, x);
  fclose(f);
  assert_non_null(f = fopen(key_path, "w"));
  PEM_write_PrivateKey(f, key, NULL, NULL, 0, NULL, NULL);
  fclose(f);
  X509_free(x);
  EVP_PKEY_free(key);
}

/* The broker: per connection, TLS, read CONNECT, answer CONNACK, wait for the close. */
struct broker {
  int lfd;
  int rounds;
  SSL_CTX *ctx;
  pthread_t thread;
};

static void *broker_main(void *arg)
{
  struct broker *b = arg;
  int i;

  for (i = 0; i < b->rounds; i++) {
    static const unsigned char connack[] = { 0x20, 0x02, 0x00, 0x00 };
    unsigned char buf[512];
    int fd = accept(b->lfd, NULL, NULL);
    SSL *ssl;
    if (fd < 0)
      break;
    ssl = SSL_new(b->ctx);
    SSL_set_fd(ssl, fd);
    if (SSL_accept(ssl) == 1 && SSL_read(ssl, buf, sizeof buf) > 0 && buf[0] == 0x10) {
      SSL_write(ssl, connack, sizeof connack);
      while (SSL_read(ssl, buf, sizeof buf) > 0)
        ; /* DISCONNECT, then the close */
    }
    SSL_free(ssl);
    close(fd);
  }
  return NULL;
}

static void broker_start(struct broker *b, int rounds, uint16_t *port)
{
  b->lfd = listen_any(port, 8);
  b->rounds = rounds;
  assert_non_null(b->ctx = SSL_CTX_new(TLS_server_method()));
  assert_int_equal(SSL_CTX_use_certificate_file(b->ctx, cert_path, SSL_FILETYPE_PEM), 1);
  assert_int_equal(SSL_CTX_use_PrivateKey_file(b->ctx, key_path, SSL_FILETYPE_PEM), 1);
  assert_int_equal(pthread_create(&b->thread, NULL, broker_main, b), 0);
}

static void broker_stop(struct broker *b)
{
  pthread_join(b->thread, NULL);
  SSL_CTX_free(b->ctx);
  close(b->lfd);
}

static int setup(void **state)
{
  (void)state;
  snprintf(dir, sizeof dir, "/tmp/cp-mqtt-tcp-XXXXXX");
  assert_non_null(mkdtemp(dir));
  snprintf(cert_path, sizeof cert_path, "%s/server.pem", dir);
  snprintf(key_path, sizeof key_path, "%s/server.key", dir);
  make_server_cert();
  return 0;
}

static int teardown(void **state)
{
  (void)state;
  unlink(cert_path);
  unlink(key_path);
  rmdir(dir);
  return 0;
}

static int paho_connect(const char *uri, bool tls, int timeout_s)
{
  MQTTClient_connectOptions conn = MQTTClient_connectOptions_initializer;
  MQTTClient_SSLOptions ssl = MQTTClient_SSLOptions_initializer;
  MQTTClient c;
  int rc;

  assert_int_equal(MQTTClient_create(&c, uri, "tcp-test", MQTTCLIENT_PERSISTENCE_NONE, NULL),
                   MQTTCLIENT_SUCCESS);
  ssl.trustStore = cert_path;
  ssl.enableServerCertAuth = 1;
  ssl.verify = 1;
  if (tls)
    conn.ssl = &ssl;
  conn.cleansession = 1;
  conn.connectTimeout = timeout_s;
  conn.MQTTVersion = MQTTVERSION_3_1_1;
  rc = MQTTClient_connect(c, &conn);
  if (rc == MQTTCLIENT_SUCCESS)
    MQTTClient_disconnect(c, 0);
  MQTTClient_destroy(&c);
  return rc;
}

/* Paho connects straight to TLS: the hook connected its socket, Paho never
 * reported a pending connect, and the ClientHello was corked and released
 * around the first SSL_connect(). Many rounds: on loopback the broker often
 * answers before OpenSSL's first read, which Paho 1.3.12 cannot take. */
static void test_tls_connect_through_hook_every_round(void **state)
{
  struct broker b;
  uint16_t port;
  char uri[64];
  int i;

  (void)state;
  broker_start(&b, TLS_ROUNDS, &port);
  snprintf(uri, sizeof uri, "ssl://127.0.0.1:%u", (unsigned)port);
  for (i = 0; i < TLS_ROUNDS; i++) {
    cp_posix_mqtt_tcp t = { .host = "127.0.0.1", .port = port, .timeout_ms = 5000, .tls = true };
    int rc;
    cp_posix_mqtt_tcp_begin(&t);
    rc = paho_connect(uri, true, 5);
    cp_posix_mqtt_tcp_end(&t);
    assert_int_equal(rc, MQTTCLIENT_SUCCESS);
    assert_true(t.fd >= 0);
    assert_int_equal(t.connect_errno, 0);
    assert_true(t.nodelay);
    assert_false(t.paho_waited);
    assert_true(t.uncorked);
  }
  broker_stop(&b);
}

/* Without begin(), or switched off, Paho connects on its own: the hook takes nothing. */
static void test_without_begin_or_switched_off_paho_connects_alone(void **state)
{
  struct broker b;
  uint16_t port;
  char uri[64];

  (void)state;
  broker_start(&b, 2, &port);
  snprintf(uri, sizeof uri, "ssl://127.0.0.1:%u", (unsigned)port);
  assert_int_equal(paho_connect(uri, true, 5), MQTTCLIENT_SUCCESS);
  /* switched off by the environment: begin() arms nothing */
  {
    cp_posix_mqtt_tcp t = { .host = "127.0.0.1", .port = port, .timeout_ms = 5000, .tls = true };
    assert_int_equal(setenv("CERTPILOT_PAHO_EARLY_CONNECT", "0", 1), 0);
    cp_posix_mqtt_tcp_begin(&t);
    assert_int_equal(paho_connect(uri, true, 5), MQTTCLIENT_SUCCESS);
    cp_posix_mqtt_tcp_end(&t);
    assert_int_equal(unsetenv("CERTPILOT_PAHO_EARLY_CONNECT"), 0);
    assert_int_equal(t.fd, -1);
    assert_false(t.uncorked);
  }
  broker_stop(&b);
}

/* A plain tcp:// Paho connect to 127.0.0.1:port through the hook; Paho must fail. */
static void hooked_connect_fails(cp_posix_mqtt_tcp *t, uint16_t port, uint32_t timeout_ms)
{
  char uri[64];

  snprintf(uri, sizeof uri, "tcp://127.0.0.1:%u", (unsigned)port);
  memset(t, 0, sizeof *t);
  t->host = "127.0.0.1";
  t->port = port;
  t->timeout_ms = timeout_ms;
  cp_posix_mqtt_tcp_begin(t);
  assert_int_not_equal(paho_connect(uri, false, 5), MQTTCLIENT_SUCCESS);
  cp_posix_mqtt_tcp_end(t);
  assert_true(t->fd >= 0);
}

/* Nothing listens: the hook's connect is refused, Paho fails, the reason is kept. */
static void test_refused_reason_kept(void **state)
{
  uint16_t port;
  int lfd = listen_any(&port, 1);
  cp_posix_mqtt_tcp t;

  (void)state;
  close(lfd); /* the port is free again: connects are refused */
  hooked_connect_fails(&t, port, 2000);
  assert_int_equal(t.connect_errno, ECONNREFUSED);
}

/* The listener's queue is full, so SYNs are dropped: the hook gives up at its
 * deadline with ETIMEDOUT and Paho's connect() fails instead of waiting. */
static void test_deadline_reason_kept(void **state)
{
  struct sockaddr_in a;
  uint16_t port;
  int lfd = listen_any(&port, 0), filler = socket(AF_INET, SOCK_STREAM, 0);
  cp_posix_mqtt_tcp t;

  (void)state;
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  assert_int_equal(connect(filler, (struct sockaddr *)&a, sizeof a), 0); /* fills the queue */
  hooked_connect_fails(&t, port, 300);
  assert_int_equal(t.connect_errno, ETIMEDOUT);
  close(filler);
  close(lfd);
}

/* Lines the hook must leave alone, then the one it takes. */
static void test_trace_lines_taken_only_when_they_fit(void **state)
{
  uint16_t port;
  int lfd = listen_any(&port, 4);
  int s = socket(AF_INET, SOCK_STREAM, 0), nb = socket(AF_INET, SOCK_STREAM, 0);
  char line[160];
  cp_posix_mqtt_tcp t;

  (void)state;
  assert_true(s >= 0 && nb >= 0);
  assert_int_equal(fcntl(nb, F_SETFL, fcntl(nb, F_GETFL) | O_NONBLOCK), 0);

  /* no connect of ours running on this thread */
  snprintf(line, sizeof line, "20261124 040822.019 New socket %d for 127.0.0.1:%u, port %u", s,
           (unsigned)port, (unsigned)port);
  cp_posix_mqtt_tcp_trace_line(line);
  assert_int_equal(peer_port(s), 0);

  memset(&t, 0, sizeof t);
  t.host = "127.0.0.1";
  t.port = port;
  t.timeout_ms = 2000;
  cp_posix_mqtt_tcp_begin(&t);
  /* another port */
  snprintf(line, sizeof line, "New socket %d for 127.0.0.1:%u, port %u", s, (unsigned)port + 1,
           (unsigned)port + 1);
  cp_posix_mqtt_tcp_trace_line(line);
  /* a socket already non-blocking: Paho is past its connect() */
  snprintf(line, sizeof line, "New socket %d for 127.0.0.1:%u, port %u", nb, (unsigned)port,
           (unsigned)port);
  cp_posix_mqtt_tcp_trace_line(line);
  /* not a socket, garbage, nothing */
  snprintf(line, sizeof line, "New socket %d for 127.0.0.1:%u, port %u", 0, (unsigned)port,
           (unsigned)port);
  cp_posix_mqtt_tcp_trace_line(line);
  cp_posix_mqtt_tcp_trace_line("New socket x for y, port z");
  cp_posix_mqtt_tcp_trace_line(NULL);
  assert_int_equal(t.fd, -1);
  assert_int_equal(peer_port(s), 0);
  assert_int_equal(peer_port(nb), 0);

  /* the real thing */
  snprintf(line, sizeof line, "New socket %d for 127.0.0.1:%u, port %u", s, (unsigned)port,
           (unsigned)port);
  cp_posix_mqtt_tcp_trace_line(line);
  assert_int_equal(t.fd, s);
  assert_int_equal(t.connect_errno, 0);
  assert_int_equal(peer_port(s), port);
  assert_int_not_equal(sockopt(s, IPPROTO_TCP, TCP_NODELAY), 0);
  assert_int_equal(fcntl(s, F_GETFL) & O_NONBLOCK, 0); /* left as Paho made it */
  /* once taken, no second socket */
  snprintf(line, sizeof line, "New socket %d for 127.0.0.1:%u, port %u", nb, (unsigned)port,
           (unsigned)port);
  assert_int_equal(fcntl(nb, F_SETFL, fcntl(nb, F_GETFL) & ~O_NONBLOCK), 0);
  cp_posix_mqtt_tcp_trace_line(line);
  assert_int_equal(t.fd, s);
  assert_int_equal(peer_port(nb), 0);
  /* tls off: Paho's SSL lines do not cork */
  cp_posix_mqtt_tcp_trace_line("(4)> SSLSocket_connect:768");
  assert_int_equal(sockopt(s, IPPROTO_TCP, TCP_CORK), 0);
  cp_posix_mqtt_tcp_end(&t);
  close(s);
  close(nb);
  close(lfd);
}

/* With tls on: corked from SSLSocket_connect's entry to its return, once. */
static void test_cork_around_first_ssl_connect(void **state)
{
  uint16_t port;
  int lfd = listen_any(&port, 4), s = socket(AF_INET, SOCK_STREAM, 0);
  char line[160];
  cp_posix_mqtt_tcp t;

  (void)state;
  memset(&t, 0, sizeof t);
  t.host = "127.0.0.1";
  t.port = port;
  t.timeout_ms = 2000;
  t.tls = true;
  cp_posix_mqtt_tcp_begin(&t);
  snprintf(line, sizeof line, "New socket %d for 127.0.0.1:%u, port %u", s, (unsigned)port,
           (unsigned)port);
  cp_posix_mqtt_tcp_trace_line(line);
  assert_int_equal(t.fd, s);
  cp_posix_mqtt_tcp_trace_line("20261124 040822.021 (1401)     (4)> SSLSocket_connect:768");
  assert_int_not_equal(sockopt(s, IPPROTO_TCP, TCP_CORK), 0);
  cp_posix_mqtt_tcp_trace_line("20261124 040822.021 SSL state connect:before SSL initialization");
  assert_int_not_equal(sockopt(s, IPPROTO_TCP, TCP_CORK), 0);
  cp_posix_mqtt_tcp_trace_line("20261124 040822.024 (1401)     (4)< SSLSocket_connect:826 (-1)");
  assert_int_equal(sockopt(s, IPPROTO_TCP, TCP_CORK), 0);
  assert_true(t.uncorked);
  cp_posix_mqtt_tcp_trace_line("20261124 040822.030 (1401)     (4)> SSLSocket_connect:768");
  assert_int_equal(sockopt(s, IPPROTO_TCP, TCP_CORK), 0);
  cp_posix_mqtt_tcp_trace_line("Connect pending");
  assert_true(t.paho_waited);
  cp_posix_mqtt_tcp_end(&t);

  /* a cork left on at the end (no return line) is taken off */
  close(s);
  s = socket(AF_INET, SOCK_STREAM, 0);
  memset(&t, 0, sizeof t);
  t.host = "127.0.0.1";
  t.port = port;
  t.tls = true;
  cp_posix_mqtt_tcp_begin(&t);
  snprintf(line, sizeof line, "New socket %d for 127.0.0.1:%u, port %u", s, (unsigned)port,
           (unsigned)port);
  cp_posix_mqtt_tcp_trace_line(line);
  cp_posix_mqtt_tcp_trace_line("(4)> SSLSocket_connect:768");
  assert_int_not_equal(sockopt(s, IPPROTO_TCP, TCP_CORK), 0);
  cp_posix_mqtt_tcp_end(&t);
  assert_int_equal(sockopt(s, IPPROTO_TCP, TCP_CORK), 0);
  close(s);
  close(lfd);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tls_connect_through_hook_every_round),
    cmocka_unit_test(test_without_begin_or_switched_off_paho_connects_alone),
    cmocka_unit_test(test_refused_reason_kept),
    cmocka_unit_test(test_deadline_reason_kept),
    cmocka_unit_test(test_trace_lines_taken_only_when_they_fit),
    cmocka_unit_test(test_cork_around_first_ssl_connect),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
