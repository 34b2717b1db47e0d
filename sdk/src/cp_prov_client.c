/* The registration state machine: register, poll while assigning, finish. */
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

#include <stdio.h>
#include <string.h>

#include "cp_str.h"

enum { ST_SEND = 1, ST_RECEIVE, ST_WAIT, ST_DONE };

#define C(client) (&(client)->_internal)

static cp_result copy_in(char *dst, size_t size, const char *src, bool required)
{
  size_t len;

  if (src == NULL || src[0] == '\0') {
    if (required)
      return CP_ERR_INVALID_ARG;
    dst[0] = '\0';
    return CP_OK;
  }
  return cp_str_copy(dst, size, &len, src, strlen(src)) == CP_OK ? CP_OK
                                                                   : CP_ERR_INVALID_ARG;
}

cp_result cp_prov_client_init(cp_prov_client *client, const char *id_scope,
                              const char *registration_id, const char *csr_b64,
                              const char *payload_json)
{
  if (client == NULL)
    return CP_ERR_INVALID_ARG;
  memset(client, 0, sizeof *client);
  if (copy_in(C(client)->id_scope, sizeof C(client)->id_scope, id_scope, true) != CP_OK ||
      copy_in(C(client)->registration_id, sizeof C(client)->registration_id,
              registration_id, true) != CP_OK ||
      copy_in(C(client)->csr_b64, sizeof C(client)->csr_b64, csr_b64, false) != CP_OK ||
      copy_in(C(client)->payload, sizeof C(client)->payload, payload_json, false) != CP_OK)
    return CP_ERR_INVALID_ARG;
  C(client)->state = ST_SEND;
  C(client)->pending = CP_PROV_REQUEST_REGISTER;
  return CP_OK;
}

cp_result cp_prov_client_set_tpm(cp_prov_client *client, const char *endorsement_key_b64,
                                 const char *storage_root_key_b64)
{
  size_t len;

  if (client == NULL || endorsement_key_b64 == NULL || endorsement_key_b64[0] == '\0' ||
      storage_root_key_b64 == NULL || storage_root_key_b64[0] == '\0' ||
      strlen(endorsement_key_b64) >= sizeof C(client)->tpm_ek ||
      strlen(storage_root_key_b64) >= sizeof C(client)->tpm_srk)
    return CP_ERR_INVALID_ARG;
  if (C(client)->state != ST_SEND || C(client)->pending != CP_PROV_REQUEST_REGISTER)
    return CP_ERR_STATE;
  cp_str_copy(C(client)->tpm_ek, sizeof C(client)->tpm_ek, &len, endorsement_key_b64,
              strlen(endorsement_key_b64));
  cp_str_copy(C(client)->tpm_srk, sizeof C(client)->tpm_srk, &len, storage_root_key_b64,
              strlen(storage_root_key_b64));
  return CP_OK;
}

/* The register body: with the "tpm" member once cp_prov_client_set_tpm() ran. */
static cp_result register_body(const cp_prov_client *client, char *out, size_t out_size,
                               size_t *out_len)
{
  const char *csr = C(client)->csr_b64[0] ? C(client)->csr_b64 : NULL;
  const char *payload = C(client)->payload[0] ? C(client)->payload : NULL;

  if (C(client)->tpm_ek[0] != '\0')
    return cp_prov_register_body_tpm(C(client)->registration_id, C(client)->tpm_ek,
                                     C(client)->tpm_srk, csr, payload, out, out_size,
                                     out_len);
  return cp_prov_register_body(C(client)->registration_id, csr, payload, out, out_size,
                               out_len);
}

cp_result cp_prov_client_next(cp_prov_client *client, cp_prov_step *step)
{
  if (client == NULL || step == NULL || C(client)->state == 0)
    return CP_ERR_INVALID_ARG;
  memset(step, 0, sizeof *step);
  step->status = C(client)->status;
  step->detail = &C(client)->detail;
  switch (C(client)->state) {
  case ST_SEND:
    step->action = CP_PROV_ACTION_SEND;
    step->request = C(client)->pending;
    break;
  case ST_RECEIVE:
    step->action = CP_PROV_ACTION_RECEIVE;
    step->request = C(client)->pending;
    break;
  case ST_WAIT:
    step->action = CP_PROV_ACTION_WAIT;
    step->wait_s = C(client)->wait_s;
    C(client)->state = ST_SEND; /* the caller waits before calling again */
    break;
  default:
    step->action = CP_PROV_ACTION_DONE;
    step->result = C(client)->result;
    break;
  }
  return CP_OK;
}

static cp_result new_rid(cp_prov_client *client, char *rid, size_t size)
{
  size_t len;

  return cp_str_format(rid, size, &len, "%u", (unsigned)(C(client)->rid_counter + 1));
}

cp_result cp_prov_client_mqtt_request(cp_prov_client *client, char *topic,
                                      size_t topic_size, char *payload,
                                      size_t payload_size, size_t *payload_len)
{
  char rid[CP_PROV_RID_MAX];
  size_t len;
  cp_result r;

  if (client == NULL || topic == NULL || payload == NULL || payload_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (C(client)->state != ST_SEND)
    return CP_ERR_STATE;
  r = new_rid(client, rid, sizeof rid);
  if (r != CP_OK)
    return r;
  if (C(client)->pending == CP_PROV_REQUEST_REGISTER) {
    char t[CP_PROV_TOPIC_MAX];
    r = cp_prov_mqtt_register_topic(rid, t, sizeof t, &len);
    if (r == CP_OK)
      r = register_body(client, payload, payload_size, payload_len);
    if (r == CP_OK)
      r = cp_str_copy(topic, topic_size, &len, t, strlen(t));
  } else {
    r = cp_prov_mqtt_status_topic(rid, C(client)->response.operation_id, topic,
                                  topic_size, &len);
    if (r == CP_OK) {
      if (payload_size < 1)
        return CP_ERR_BUFFER_TOO_SMALL;
      payload[0] = '\0';
      *payload_len = 0;
    }
  }
  if (r != CP_OK)
    return r;
  C(client)->rid_counter++;
  memcpy(C(client)->rid, rid, sizeof rid);
  C(client)->state = ST_RECEIVE;
  return CP_OK;
}

cp_result cp_prov_client_http_request(cp_prov_client *client, const char **method,
                                      char *path, size_t path_size, char *body,
                                      size_t body_size, size_t *body_len)
{
  cp_result r;
  size_t len;

  if (client == NULL || method == NULL || path == NULL || body == NULL || body_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (C(client)->state != ST_SEND)
    return CP_ERR_STATE;
  if (C(client)->pending == CP_PROV_REQUEST_REGISTER) {
    char b[CP_PROV_BODY_MAX];
    size_t blen;
    r = register_body(client, b, sizeof b, &blen);
    if (r == CP_OK)
      r = cp_prov_http_register_path(C(client)->id_scope, C(client)->registration_id,
                                     path, path_size, &len);
    if (r == CP_OK)
      r = cp_str_copy(body, body_size, body_len, b, blen);
    if (r != CP_OK)
      return r;
    *method = "PUT";
  } else {
    if (body_size < 1)
      return CP_ERR_BUFFER_TOO_SMALL;
    r = cp_prov_http_operation_path(C(client)->id_scope, C(client)->registration_id,
                                    C(client)->response.operation_id, path, path_size,
                                    &len);
    if (r != CP_OK)
      return r;
    body[0] = '\0';
    *body_len = 0;
    *method = "GET";
  }
  C(client)->state = ST_RECEIVE;
  return CP_OK;
}

static void finish(cp_prov_client *client, cp_result result)
{
  C(client)->result = result;
  C(client)->state = ST_DONE;
}

static void schedule(cp_prov_client *client, cp_prov_request next, bool has_retry,
                     uint32_t retry_s)
{
  C(client)->pending = next;
  C(client)->wait_s = has_retry ? retry_s : CP_RETRY_AFTER_DEFAULT_S;
  C(client)->state = ST_WAIT;
}

/* Handle one reply, whatever the transport. */
static void on_reply(cp_prov_client *client, int status, bool has_retry, uint32_t retry_s,
                     const char *body, size_t body_len)
{
  cp_error_detail *d = &C(client)->detail;
  cp_prov_response *resp = &C(client)->response;
  cp_result r;

  cp_error_detail_clear(d);
  d->status = status;
  if (status == 429 || status >= 500) {
    /* Transient (protocol.md §1): retry the same kind of request. */
    cp_prov_error_parse(status, body, body_len, d);
    schedule(client, resp->operation_id[0] ? CP_PROV_REQUEST_POLL : CP_PROV_REQUEST_REGISTER,
             has_retry, retry_s);
    return;
  }
  if (status != 200 && status != 202) {
    finish(client, cp_prov_error_parse(status, body, body_len, d));
    return;
  }
  r = cp_prov_response_parse(body, body_len, resp, d);
  d->status = status;
  if (r != CP_OK) {
    finish(client, r == CP_ERR_NO_MEMORY ? r : CP_ERR_BAD_RESPONSE);
    return;
  }
  C(client)->status = resp->status;
  switch (resp->status) {
  case CP_PROV_STATUS_ASSIGNED:
    if (resp->registration_id[0] != '\0' &&
        strcmp(resp->registration_id, C(client)->registration_id) != 0) {
      cp_error_detail_set(d, "registrationState.registrationId",
                          "response is for registration id \"%s\", not ours",
                          resp->registration_id);
      finish(client, CP_ERR_BAD_RESPONSE);
    } else if (C(client)->csr_b64[0] != '\0' && resp->chain_len == 0) {
      cp_error_detail_set(d, "registrationState." CP_JSON_ISSUED_CHAIN,
                          "assigned without an issued certificate chain although a CSR was sent");
      finish(client, CP_ERR_BAD_RESPONSE);
    } else {
      finish(client, CP_OK);
    }
    break;
  case CP_PROV_STATUS_FAILED:
    d->error_code = resp->error_code;
    cp_error_detail_set(d, "", "%s", resp->error_message[0] ? resp->error_message
                                                            : "registration failed");
    finish(client, CP_ERR_REFUSED);
    break;
  case CP_PROV_STATUS_DISABLED:
    cp_error_detail_set(d, "", "enrollment is disabled");
    finish(client, CP_ERR_DISABLED);
    break;
  default: /* unassigned, assigning: poll after retry-after */
    schedule(client, CP_PROV_REQUEST_POLL, has_retry, retry_s);
    break;
  }
}

cp_result cp_prov_client_on_mqtt_message(cp_prov_client *client, const char *topic,
                                         size_t topic_len, const char *payload,
                                         size_t payload_len)
{
  cp_prov_topic_info info;
  cp_error_detail d;
  cp_result r;

  if (client == NULL || topic == NULL || (payload == NULL && payload_len > 0))
    return CP_ERR_INVALID_ARG;
  if (C(client)->state != ST_RECEIVE)
    return CP_ERR_STATE;
  cp_error_detail_clear(&d);
  r = cp_prov_topic_parse(topic, topic_len, &info, &d);
  if (r == CP_ERR_NOT_FOUND)
    return r;
  if (r != CP_OK) {
    C(client)->detail = d;
    finish(client, CP_ERR_BAD_RESPONSE);
    return CP_OK;
  }
  if (strcmp(info.rid, C(client)->rid) != 0)
    return CP_ERR_NOT_FOUND; /* a stale reply to an earlier request */
  on_reply(client, info.status, info.has_retry_after, info.retry_after_s, payload,
           payload_len);
  return CP_OK;
}

cp_result cp_prov_client_on_http_response(cp_prov_client *client, int status,
                                          const char *retry_after, const char *body,
                                          size_t body_len)
{
  uint32_t retry_s = 0;
  bool has_retry = false;

  if (client == NULL || (body == NULL && body_len > 0))
    return CP_ERR_INVALID_ARG;
  if (C(client)->state != ST_RECEIVE)
    return CP_ERR_STATE;
  if (retry_after != NULL &&
      cp_prov_retry_after_parse(retry_after, strlen(retry_after), &retry_s) == CP_OK)
    has_retry = true;
  on_reply(client, status, has_retry, retry_s, body, body_len);
  return CP_OK;
}

const cp_prov_response *cp_prov_client_response(const cp_prov_client *client)
{
  return client == NULL ? NULL : &client->_internal.response;
}
