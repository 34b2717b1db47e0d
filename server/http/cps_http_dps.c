/* DPS HTTPS routes: PUT /{idScope}/registrations/{id}/register, GET …/operations/{opId}. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/keyvalq_struct.h>

#include "cps_b64.h"
#include "cps_http_internal.h"
#include "cps_prov.h"

static void send_prov(struct evhttp_request *req, const cps_prov_response *resp,
                      const char *location) {
  struct evkeyvalq *h = evhttp_request_get_output_headers(req);
  evhttp_add_header(h, "Content-Type", "application/json; charset=utf-8");
  char buf[32];
  if (resp->retry_after >= 0) {
    snprintf(buf, sizeof buf, "%d", resp->retry_after);
    evhttp_add_header(h, "Retry-After", buf);
  }
  if (location) evhttp_add_header(h, "Location", location);
  if (resp->error_code) evhttp_add_header(h, "x-ms-error-code", resp->error_code);
  struct evbuffer *out = evbuffer_new();
  if (resp->body) evbuffer_add(out, resp->body, strlen(resp->body));
  evhttp_send_reply(req, resp->status, NULL, out);
  evbuffer_free(out);
}

static void send_error(struct evhttp_request *req, int code, const char *msg) {
  cps_prov_response r;
  memset(&r, 0, sizeof r);
  r.status = code / 1000;
  r.retry_after = -1;
  r.body = cps_prov_error_body(code, msg);
  char c[16];
  snprintf(c, sizeof c, "%d", code);
  r.error_code = c;
  send_prov(req, &r, NULL);
  free(r.body);
}

/* Split the path into at most 5 decoded segments; returns the count or -1. */
static int split(const char *path, char seg[5][300]) {
  int n = 0;
  const char *p = path;
  while (*p) {
    while (*p == '/') p++;
    if (!*p) break;
    const char *end = strchr(p, '/');
    size_t len = end ? (size_t)(end - p) : strlen(p);
    if (n == 5 || cps_url_decode(p, len, seg[n], sizeof seg[n]) != CPS_OK) return -1;
    n++;
    p += len;
  }
  return n;
}

void cps_http_dps_handle(struct evhttp_request *req, void *arg) {
  cps_http *h = arg;
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
  const char *path = uri ? evhttp_uri_get_path(uri) : NULL;
  const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
  char seg[5][300];
  int n = path ? split(path, seg) : -1;
  enum evhttp_cmd_type cmd = evhttp_request_get_command(req);
  int is_register = n == 4 && !strcmp(seg[1], "registrations") && !strcmp(seg[3], "register");
  int is_status = n == 5 && !strcmp(seg[1], "registrations") && !strcmp(seg[3], "operations");
  if (!is_register && !is_status) return send_error(req, 404000, "no such resource");
  if ((is_register && cmd != EVHTTP_REQ_PUT) || (is_status && cmd != EVHTTP_REQ_GET))
    return send_error(req, 405000, "method not allowed");

  struct evkeyvalq params;
  memset(&params, 0, sizeof params);
  if (query && evhttp_parse_query_str(query, &params) != 0) {
    evhttp_clear_headers(&params);
    return send_error(req, 400001, "query string does not parse");
  }
  struct evkeyvalq *in = evhttp_request_get_input_headers(req);
  struct bufferevent *bev = evhttp_connection_get_bufferevent(evhttp_request_get_connection(req));
  SSL *ssl = bev ? bufferevent_openssl_get_ssl(bev) : NULL;
  size_t body_len = 0;
  char *body = cps_http_body(req, &body_len);
  cps_prov_request pr = {
      .id_scope = seg[0],
      .registration_id = seg[2],
      .api_version = evhttp_find_header(&params, "api-version"),
      .operation_id = is_status ? seg[4] : NULL,
      .body = body,
      .body_len = body_len,
      .authorization = evhttp_find_header(in, "Authorization"),
      .client_cert = ssl ? SSL_get0_peer_certificate(ssl) : NULL,
      .client_chain = ssl ? SSL_get_peer_cert_chain(ssl) : NULL,
  };
  cps_prov_response resp;
  cps_result r = is_register ? cps_prov_register(h->svc, &pr, &resp)
                             : cps_prov_operation_status(h->svc, &pr, &resp);
  if (r != CPS_OK) {
    send_error(req, 500001, "internal error");
  } else {
    char location[1024];
    const char *loc = NULL;
    if (resp.status == 202 && resp.operation_id) {
      snprintf(location, sizeof location, "/%s/registrations/%s/operations/%s?api-version=%s",
               evhttp_uri_get_path(uri) ? seg[0] : "", seg[2], resp.operation_id,
               pr.api_version ? pr.api_version : "");
      loc = location;
    }
    send_prov(req, &resp, loc);
  }
  cps_prov_response_free(&resp);
  free(body);
  evhttp_clear_headers(&params);
}
