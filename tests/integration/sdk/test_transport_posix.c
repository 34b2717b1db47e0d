/* The POSIX transports against local mosquitto / openssl s_server (see transport_test.sh). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "certpilot/cp_platform.h"
#include "certpilot/cp_posix_transport.h"

static char path_buf[8][512];

static const char *file(int slot, const char *name)
{
  snprintf(path_buf[slot], sizeof path_buf[slot], "%s/%s", getenv("CP_TEST_DIR"), name);
  return path_buf[slot];
}

static uint16_t port(const char *env)
{
  const char *v = getenv(env);
  assert_non_null(v);
  return (uint16_t)atoi(v);
}

static cp_mqtt_connect_options mqtt_opts(const char *port_env, cp_mqtt_wire wire,
                                         const char *ca)
{
  cp_mqtt_connect_options o;

  memset(&o, 0, sizeof o);
  o.host = "localhost";
  o.port = port(port_env);
  o.wire = wire;
  o.client_id = "transport-test";
  o.tls.trust_bundle_path = file(0, ca);
  o.timeout_ms = 5000;
  return o;
}

static void roundtrip(cp_mqtt_connect_options o)
{
  cp_posix_mqtt st;
  cp_mqtt_transport t;
  cp_error_detail d;
  char topic[64], payload[64];
  size_t len = 0;

  cp_error_detail_clear(&d);
  assert_int_equal(cp_posix_mqtt_transport_init(&st, &t), CP_OK);
  assert_int_equal(t.vtable->connect(t.ctx, &o, &d), CP_OK);
  assert_int_equal(t.vtable->subscribe(t.ctx, "cp/test/#", 1, &d), CP_OK);
  assert_int_equal(t.vtable->publish(t.ctx, "cp/test/a", "hello", 5, 1, &d), CP_OK);
  assert_int_equal(t.vtable->receive(t.ctx, topic, sizeof topic, payload, sizeof payload, &len,
                                     5000, &d), CP_OK);
  assert_string_equal(topic, "cp/test/a");
  assert_string_equal(payload, "hello");
  assert_int_equal(len, 5);
  assert_int_equal(t.vtable->receive(t.ctx, topic, sizeof topic, payload, sizeof payload, &len,
                                     100, &d), CP_ERR_TIMEOUT);
  t.vtable->disconnect(t.ctx);
  t.vtable->disconnect(t.ctx); /* twice is safe */
  assert_int_equal(t.vtable->publish(t.ctx, "cp/test/a", "x", 1, 0, &d), CP_ERR_TRANSPORT);
}

static void test_mqtt_tls_trusted_server_roundtrip_ok(void **state)
{
  (void)state;
  roundtrip(mqtt_opts("CP_PORT_TLS", CP_MQTT_WIRE_TLS, "ca.pem"));
}

static void test_mqtt_wss_trusted_server_roundtrip_ok(void **state)
{
  (void)state;
  roundtrip(mqtt_opts("CP_PORT_WSS", CP_MQTT_WIRE_WSS, "ca.pem"));
}

static void test_mqtt_tls_client_certificate_accepted_by_mtls_listener(void **state)
{
  cp_mqtt_connect_options o = mqtt_opts("CP_PORT_MTLS", CP_MQTT_WIRE_TLS, "ca.pem");

  (void)state;
  o.tls.client_cert_path = file(1, "client.pem");
  o.tls.client_key_path = file(2, "client.key");
  roundtrip(o);
}

static void test_mqtt_tls_no_client_certificate_mtls_listener_fails(void **state)
{
  cp_mqtt_connect_options o = mqtt_opts("CP_PORT_MTLS", CP_MQTT_WIRE_TLS, "ca.pem");
  cp_posix_mqtt st;
  cp_mqtt_transport t;
  cp_error_detail d;
  cp_result r;

  (void)state;
  cp_error_detail_clear(&d);
  cp_posix_mqtt_transport_init(&st, &t);
  r = t.vtable->connect(t.ctx, &o, &d);
  assert_true(r == CP_ERR_TLS || r == CP_ERR_TRANSPORT);
  assert_true(d.message[0] != '\0');
}

static void test_mqtt_tls_untrusted_server_tls_error_with_reason(void **state)
{
  cp_mqtt_connect_options o = mqtt_opts("CP_PORT_TLS", CP_MQTT_WIRE_TLS, "other-ca.pem");
  cp_posix_mqtt st;
  cp_mqtt_transport t;
  cp_error_detail d;

  (void)state;
  cp_error_detail_clear(&d);
  cp_posix_mqtt_transport_init(&st, &t);
  assert_int_equal(t.vtable->connect(t.ctx, &o, &d), CP_ERR_TLS);
  printf("# detail: %s\n", d.message);
  assert_non_null(strstr(d.message, "certificate verify failed"));
}

/* "127.1" reaches 127.0.0.1 but is not a name in the certificate (DNS:localhost,
 * IP:127.0.0.1): the host check must refuse it even though the CA is trusted */
static void test_mqtt_tls_host_not_in_certificate_refused(void **state)
{
  cp_mqtt_connect_options o = mqtt_opts("CP_PORT_TLS", CP_MQTT_WIRE_TLS, "ca.pem");
  cp_posix_mqtt st;
  cp_mqtt_transport t;
  cp_error_detail d;
  cp_result r;

  (void)state;
  o.host = "127.1";
  cp_error_detail_clear(&d);
  cp_posix_mqtt_transport_init(&st, &t);
  r = t.vtable->connect(t.ctx, &o, &d);
  printf("# detail: %s\n", d.message);
  /* Paho checks the name after the handshake and reports no TLS reason for it */
  assert_true(r == CP_ERR_TLS || r == CP_ERR_TRANSPORT);
  assert_true(d.message[0] != '\0');
}

static void test_mqtt_wss_untrusted_server_tls_error(void **state)
{
  cp_mqtt_connect_options o = mqtt_opts("CP_PORT_WSS", CP_MQTT_WIRE_WSS, "other-ca.pem");
  cp_posix_mqtt st;
  cp_mqtt_transport t;
  cp_error_detail d;

  (void)state;
  cp_posix_mqtt_transport_init(&st, &t);
  assert_int_equal(t.vtable->connect(t.ctx, &o, &d), CP_ERR_TLS);
}

static void test_mqtt_closed_port_transport_error_within_timeout(void **state)
{
  cp_mqtt_connect_options o = mqtt_opts("CP_PORT_CLOSED", CP_MQTT_WIRE_TLS, "ca.pem");
  cp_posix_mqtt st;
  cp_mqtt_transport t;
  cp_error_detail d;
  int64_t t0 = cp_platform_monotonic_ms();

  (void)state;
  cp_posix_mqtt_transport_init(&st, &t);
  assert_int_equal(t.vtable->connect(t.ctx, &o, &d), CP_ERR_TRANSPORT);
  assert_true(cp_platform_monotonic_ms() - t0 < 5000);
  assert_non_null(strstr(d.message, "failed"));
}

static cp_result https_get(const char *port_env, const char *ca, const char *path, char *body,
                           size_t body_size, cp_http_response *resp, cp_error_detail *d)
{
  cp_http_transport t;
  cp_http_header h = {"Accept", "application/json"};
  cp_http_request rq;

  memset(&rq, 0, sizeof rq);
  rq.method = "GET";
  rq.host = "localhost";
  rq.port = port(port_env);
  rq.path = path;
  rq.headers = &h;
  rq.header_count = 1;
  rq.tls.trust_bundle_path = file(3, ca);
  rq.timeout_ms = 5000;
  memset(resp, 0, sizeof *resp);
  resp->body = body;
  resp->body_size = body_size;
  cp_error_detail_clear(d);
  assert_int_equal(cp_posix_http_transport_init(&t), CP_OK);
  return t.vtable->request(t.ctx, &rq, resp, d);
}

static void test_https_trusted_server_get_200_with_body(void **state)
{
  char body[256];
  cp_http_response resp;
  cp_error_detail d;

  (void)state;
  assert_int_equal(https_get("CP_PORT_HTTPS", "ca.pem", "/hello.json", body, sizeof body, &resp,
                             &d), CP_OK);
  assert_int_equal(resp.status, 200);
  assert_string_equal(body, "{\"hello\":\"world\"}\n");
}

static void test_https_untrusted_server_tls_error_with_reason(void **state)
{
  char body[256];
  cp_http_response resp;
  cp_error_detail d;

  (void)state;
  assert_int_equal(https_get("CP_PORT_HTTPS", "other-ca.pem", "/hello.json", body, sizeof body,
                             &resp, &d), CP_ERR_TLS);
  printf("# detail: %s\n", d.message);
  assert_non_null(strstr(d.message, "certificate"));
}

static void test_https_body_larger_than_buffer_buffer_too_small(void **state)
{
  char body[8];
  cp_http_response resp;
  cp_error_detail d;

  (void)state;
  assert_int_equal(https_get("CP_PORT_HTTPS", "ca.pem", "/hello.json", body, sizeof body, &resp,
                             &d), CP_ERR_BUFFER_TOO_SMALL);
  assert_string_equal(d.field, "body");
}

static void test_https_closed_port_transport_error(void **state)
{
  char body[64];
  cp_http_response resp;
  cp_error_detail d;

  (void)state;
  assert_int_equal(https_get("CP_PORT_CLOSED", "ca.pem", "/x", body, sizeof body, &resp, &d),
                   CP_ERR_TRANSPORT);
  assert_non_null(strstr(d.message, "127.0.0.1") != NULL ? d.message : strstr(d.message, "localhost"));
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_mqtt_tls_trusted_server_roundtrip_ok),
    cmocka_unit_test(test_mqtt_wss_trusted_server_roundtrip_ok),
    cmocka_unit_test(test_mqtt_tls_client_certificate_accepted_by_mtls_listener),
    cmocka_unit_test(test_mqtt_tls_no_client_certificate_mtls_listener_fails),
    cmocka_unit_test(test_mqtt_tls_untrusted_server_tls_error_with_reason),
    cmocka_unit_test(test_mqtt_tls_host_not_in_certificate_refused),
    cmocka_unit_test(test_mqtt_wss_untrusted_server_tls_error),
    cmocka_unit_test(test_mqtt_closed_port_transport_error_within_timeout),
    cmocka_unit_test(test_https_trusted_server_get_200_with_body),
    cmocka_unit_test(test_https_untrusted_server_tls_error_with_reason),
    cmocka_unit_test(test_https_body_larger_than_buffer_buffer_too_small),
    cmocka_unit_test(test_https_closed_port_transport_error),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
