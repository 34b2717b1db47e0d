/* Test helper: DPS over an in-process reference server core (tpm_bridge.h). */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "cps_prov.h"
#include "tpm_bridge.h"

static const char *header(const cp_http_request *rq, const char *name)
{
  for (size_t i = 0; i < rq->header_count; i++)
    if (strcmp(rq->headers[i].name, name) == 0)
      return rq->headers[i].value;
  return NULL;
}

/* Copy tpm.endorsementKey of a register body into @p ek ("" when absent);
 * 1 when both tpm.endorsementKey and tpm.storageRootKey are strings. */
static int body_tpm(const char *body, size_t len, char *ek, size_t ek_size)
{
  cJSON *root = cJSON_ParseWithLength(body, len);
  const cJSON *tpm = cJSON_GetObjectItemCaseSensitive(root, "tpm");
  const cJSON *e = cJSON_GetObjectItemCaseSensitive(tpm, "endorsementKey");
  const cJSON *srk = cJSON_GetObjectItemCaseSensitive(tpm, "storageRootKey");
  int both = cJSON_IsString(e) && cJSON_IsString(srk);

  snprintf(ek, ek_size, "%s", cJSON_IsString(e) ? e->valuestring : "");
  cJSON_Delete(root);
  return both;
}

/* "/{scope}/registrations/{id}/register?api-version=V" or ".../operations/{op}?…" */
static cp_result bridge_request(void *ctx, const cp_http_request *rq, cp_http_response *resp,
                                cp_error_detail *detail)
{
  bridge *b = ctx;
  char path[512], *scope, *regs, *id, *verb, *op = NULL, *query, *api;
  cps_prov_request preq;
  cps_prov_response presp;

  (void)detail;
  b->requests++;
  snprintf(path, sizeof path, "%s", rq->path);
  query = strchr(path, '?');
  assert_non_null(query);
  *query++ = '\0';
  api = strstr(query, "api-version=");
  assert_non_null(api);
  api += strlen("api-version=");
  scope = strtok(path, "/");
  regs = strtok(NULL, "/");
  id = strtok(NULL, "/");
  verb = strtok(NULL, "/");
  assert_string_equal(regs, "registrations");
  if (strcmp(verb, "operations") == 0)
    op = strtok(NULL, "/");
  memset(&preq, 0, sizeof preq);
  preq.id_scope = scope;
  preq.registration_id = id;
  preq.api_version = api;
  preq.operation_id = op;
  preq.body = rq->body;
  preq.body_len = rq->body_len;
  preq.authorization = header(rq, "Authorization");
  if (preq.authorization == NULL)
    b->unauthenticated++;
  if (rq->body_len > 0 && strstr(rq->body, "\"endorsementKey\"") != NULL)
    b->with_tpm_body++;
  if (op == NULL && preq.authorization == NULL) {
    body_tpm(rq->body, rq->body_len, b->unauth_ek, sizeof b->unauth_ek);
  } else if (op == NULL) {
    b->authorized_registers++;
    b->authorized_with_tpm += body_tpm(rq->body, rq->body_len, b->auth_ek, sizeof b->auth_ek);
  }
  if (op != NULL)
    assert_int_equal(cps_prov_operation_status(b->svc, &preq, &presp), CPS_OK);
  else
    assert_int_equal(cps_prov_register(b->svc, &preq, &presp), CPS_OK);
  if (presp.status == 401 && strstr(presp.body, "authenticationKey") != NULL)
    b->challenges++;
  resp->status = presp.status;
  resp->retry_after[0] = '\0';
  if (presp.retry_after >= 0)
    snprintf(resp->retry_after, sizeof resp->retry_after, "%d", presp.retry_after);
  resp->body_len = strlen(presp.body);
  assert_true(resp->body_len < resp->body_size);
  memcpy(resp->body, presp.body, resp->body_len + 1);
  cps_prov_response_free(&presp);
  return CP_OK;
}

static const cp_http_transport_vtable bridge_vtable = {bridge_request};


void bridge_transport(bridge *b, cp_http_transport *t)
{
  t->vtable = &bridge_vtable;
  t->ctx = b;
}
