/* Management API over HTTPS: bearer token → principal → cps_mgmt_handle(). */
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "cps_http_internal.h"
#include "cps_mgmt.h"
#include "cps_rbac.h"
#ifdef CERTPILOT_WITH_HUB
#include "hub_mgmt_twin.h"
#endif

static const char *method_name(enum evhttp_cmd_type t) {
  switch (t) {
  case EVHTTP_REQ_GET: return "GET";
  case EVHTTP_REQ_POST: return "POST";
  case EVHTTP_REQ_PUT: return "PUT";
  case EVHTTP_REQ_DELETE: return "DELETE";
  case EVHTTP_REQ_PATCH: return "PATCH";
  default: return "OTHER";
  }
}

void cps_http_mgmt_handle(struct evhttp_request *req, void *arg) {
  cps_http *h = arg;
  const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
  const char *path = uri ? evhttp_uri_get_path(uri) : "/";
  const char *query = uri ? evhttp_uri_get_query(uri) : NULL;
  cps_principal who;
  memset(&who, 0, sizeof who);
  const char *auth = evhttp_find_header(evhttp_request_get_input_headers(req), "Authorization");
  if (cps_token_authenticate(h->svc, auth, &who) != CPS_OK) who.role = CPS_ROLE_NONE;
  size_t len = 0;
  char *body = cps_http_body(req, &len);
  cps_mgmt_response resp;
  cps_result r;
#ifdef CERTPILOT_WITH_HUB
  /* Twin routes (/devices/{id}/twin...) belong to the hub (server/hub/hub_mgmt_twin.h). */
  int twin = hub_mgmt_twin_route(h->svc, &who, method_name(evhttp_request_get_command(req)),
                                 path ? path : "/", body, len, &resp);
  if (twin != 0) r = twin > 0 ? CPS_OK : CPS_ERR_NOMEM;
  else
#endif
  r = cps_mgmt_handle(h->svc, &who, method_name(evhttp_request_get_command(req)),
                      path ? path : "/", query, body, len, &resp);
  free(body);
  struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
  if (r != CPS_OK) {
    evhttp_send_error(req, 500, "internal error");
    return;
  }
  if (resp.content_type) evhttp_add_header(hdr, "Content-Type", resp.content_type);
  if (resp.status == 401) evhttp_add_header(hdr, "WWW-Authenticate", "Bearer");
  struct evbuffer *out = evbuffer_new();
  if (resp.len) evbuffer_add(out, resp.body, resp.len);
  evhttp_send_reply(req, resp.status, NULL, out);
  evbuffer_free(out);
  cps_mgmt_response_free(&resp);
}
