/* cp_provision_with() over scripted fake transports: what goes on the wire,
 * retry-after honoured, deadlines, errors surfaced, configuration checks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "fixtures.h"

#include "certpilot/cp_platform.h"
#include "certpilot/cp_provision.h"
#include "certpilot/cp_sas.h"

/* ------------------------------------------------------------ the script */

typedef struct reply {
  int status;
  int retry_after; /* -1: none */
  const char *body;
} reply;

static struct fake {
  const reply *script;
  size_t n, next;
  /* what the device sent */
  char client_id[160], username[400], password[700];
  bool had_password, had_client_cert;
  char topics[8][256], payloads[8][2048];
  char methods[8][8], auth[8][700];
  size_t sent;
  bool disconnected;
  /* pending reply */
  bool pending;
  char reply_topic[256];
  const char *reply_body;
} fk;

static cp_provision_result res; /* large */

static void script(const reply *r, size_t n)
{
  memset(&fk, 0, sizeof fk);
  fk.script = r;
  fk.n = n;
}

static cp_result f_connect(void *ctx, const cp_mqtt_connect_options *o, cp_error_detail *d)
{
  (void)ctx;
  (void)d;
  snprintf(fk.client_id, sizeof fk.client_id, "%s", o->client_id);
  snprintf(fk.username, sizeof fk.username, "%s", o->username);
  fk.had_password = o->password != NULL;
  if (o->password)
    snprintf(fk.password, sizeof fk.password, "%s", o->password);
  fk.had_client_cert = o->tls.client_cert_path != NULL;
  return CP_OK;
}

static cp_result f_subscribe(void *ctx, const char *filter, int qos, cp_error_detail *d)
{
  (void)ctx;
  (void)qos;
  (void)d;
  assert_string_equal(filter, "$dps/registrations/res/#");
  return CP_OK;
}

static cp_result f_publish(void *ctx, const char *topic, const void *payload, size_t len, int qos,
                           cp_error_detail *d)
{
  const char *rid;
  char extra[32] = "";

  (void)ctx;
  (void)qos;
  (void)d;
  assert_true(fk.sent < 8);
  snprintf(fk.topics[fk.sent], sizeof fk.topics[0], "%s", topic);
  snprintf(fk.payloads[fk.sent], sizeof fk.payloads[0], "%.*s", (int)len, (const char *)payload);
  fk.sent++;
  if (fk.next < fk.n) {
    const reply *r = &fk.script[fk.next++];
    rid = strstr(topic, "$rid=") + 5;
    if (r->retry_after >= 0)
      snprintf(extra, sizeof extra, "&retry-after=%d", r->retry_after);
    snprintf(fk.reply_topic, sizeof fk.reply_topic, "$dps/registrations/res/%d/?$rid=%.*s%s",
             r->status, (int)strcspn(rid, "&"), rid, extra);
    fk.reply_body = r->body;
    fk.pending = true;
  }
  return CP_OK;
}

static cp_result f_receive(void *ctx, char *topic, size_t ts, char *payload, size_t ps,
                           size_t *plen, uint32_t timeout_ms, cp_error_detail *d)
{
  (void)ctx;
  (void)d;
  if (!fk.pending) {
    cp_platform_sleep_ms(timeout_ms); /* a silent server */
    return CP_ERR_TIMEOUT;
  }
  fk.pending = false;
  snprintf(topic, ts, "%s", fk.reply_topic);
  snprintf(payload, ps, "%s", fk.reply_body);
  *plen = strlen(payload);
  return CP_OK;
}

static void f_disconnect(void *ctx)
{
  (void)ctx;
  fk.disconnected = true;
}

static const cp_mqtt_transport_vtable fake_mqtt_vt = {f_connect, f_subscribe, f_publish,
                                                      f_receive, f_disconnect};
static cp_mqtt_transport fake_mqtt = {&fake_mqtt_vt, NULL};

static cp_result f_request(void *ctx, const cp_http_request *rq, cp_http_response *resp,
                           cp_error_detail *d)
{
  const reply *r;
  size_t i;

  (void)ctx;
  (void)d;
  assert_true(fk.sent < 8 && fk.next < fk.n);
  snprintf(fk.methods[fk.sent], sizeof fk.methods[0], "%s", rq->method);
  snprintf(fk.topics[fk.sent], sizeof fk.topics[0], "%s", rq->path);
  snprintf(fk.payloads[fk.sent], sizeof fk.payloads[0], "%.*s", (int)rq->body_len,
           rq->body ? rq->body : "");
  for (i = 0; i < rq->header_count; i++) {
    if (strcmp(rq->headers[i].name, "Authorization") == 0)
      snprintf(fk.auth[fk.sent], sizeof fk.auth[0], "%s", rq->headers[i].value);
  }
  fk.had_client_cert = rq->tls.client_cert_path != NULL;
  fk.sent++;
  r = &fk.script[fk.next++];
  resp->status = r->status;
  if (r->retry_after >= 0)
    snprintf(resp->retry_after, sizeof resp->retry_after, "%d", r->retry_after);
  snprintf(resp->body, resp->body_size, "%s", r->body);
  resp->body_len = strlen(resp->body);
  return CP_OK;
}

static const cp_http_transport_vtable fake_http_vt = {f_request};
static cp_http_transport fake_http = {&fake_http_vt, NULL};
static const cp_provision_transports fakes = {&fake_mqtt, &fake_http};

#define KEY_B64 "8isrFI1sGsIlvvFSSFRiMfCNzv21fjbE/+ah/lSh3lF8e2YG1Te7w1KpZhJFFXJrqYKi9yegxkqIChbqOS9Egw=="

static cp_provision_config sym_config(void)
{
  cp_provision_config c;

  cp_provision_config_init(&c);
  c.host = "dps.test";
  c.id_scope = "0ne0001";
  c.registration_id = "dev-1";
  c.symmetric_key = KEY_B64;
  c.timeout_ms = 5000;
  return c;
}

/* ----------------------------------------------------------------- tests */

static void test_cp_provision_mqtt_symmetric_connect_and_register_match_protocol(void **state)
{
  static const reply r[] = {{401, -1, BODY_401}};
  cp_provision_config c = sym_config();

  (void)state;
  script(r, 1);
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_UNAUTHORIZED);
  assert_string_equal(fk.client_id, "dev-1");
  assert_string_equal(fk.username, "0ne0001/registrations/dev-1/api-version=2025-07-01-preview"
                                   "&ClientVersion=certpilot%2F0.1.0");
  assert_true(fk.had_password);
  assert_true(strncmp(fk.password, "SharedAccessSignature sr=0ne0001%2fregistrations%2fdev-1&", 57) == 0);
  assert_false(fk.had_client_cert);
  assert_string_equal(fk.topics[0], "$dps/registrations/PUT/iotdps-register/?$rid=1");
  assert_true(strncmp(fk.payloads[0], "{\"registrationId\":\"dev-1\",\"csr\":\"MII", 36) == 0);
  assert_int_equal(res.error.status, 401);
  assert_int_equal(res.error.error_code, 401002);
  assert_string_equal(res.error.message, "Invalid certificate.");
  assert_true(fk.disconnected);
  assert_int_equal(res.chain_pem_len, 0);
}

static void test_cp_provision_group_key_password_signed_with_derived_key(void **state)
{
  static const reply r[] = {{401, -1, BODY_401}};
  cp_provision_config c = sym_config();
  char derived[CP_SAS_KEY_B64_MAX], expected[CP_SAS_TOKEN_MAX];
  const char *se;
  size_t len;

  (void)state;
  c.onboarding = CP_ONBOARDING_SYMMETRIC_GROUP_KEY;
  c.registration_id = "sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6";
  script(r, 1);
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_UNAUTHORIZED);
  se = strstr(fk.password, "&se=");
  assert_non_null(se);
  assert_int_equal(cp_sas_derive_device_key(KEY_B64, c.registration_id, derived, sizeof derived,
                                            &len), CP_OK);
  assert_string_equal(derived, "Jsm0lyGpjaVYVP2g3FnmnmG9dI/9qU24wNoykUmermc=");
  assert_int_equal(cp_sas_token_build("0ne0001/registrations/sn-007-888-abc-mac-a1-b2-c3-d4-e5-f6",
                                      derived, strtoll(se + 4, NULL, 10), "registration",
                                      expected, sizeof expected, &len), CP_OK);
  assert_string_equal(fk.password, expected);
}

static void test_cp_provision_retry_after_honoured_then_poll_disabled(void **state)
{
  static const reply r[] = {{202, 1, BODY_202_ASSIGNING}, {200, -1, BODY_200_DISABLED}};
  cp_provision_config c = sym_config();
  int64_t t0, elapsed;

  (void)state;
  script(r, 2);
  t0 = cp_platform_monotonic_ms();
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_DISABLED);
  elapsed = cp_platform_monotonic_ms() - t0;
  assert_true(elapsed >= 1000 && elapsed < 3000);
  assert_int_equal(res.requests, 2);
  assert_int_equal(res.status, CP_PROV_STATUS_DISABLED);
  assert_string_equal(fk.topics[1], "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2"
                                    "&operationId=4.d0a6c0b1e5a2c3f4.2f3e7c9d-1b2a-4c5d-9e8f-0a1b2c3d4e5f");
  assert_string_equal(fk.payloads[1], "");
}

static void test_cp_provision_retry_after_beyond_deadline_times_out_at_once(void **state)
{
  static const reply r[] = {{202, 300, BODY_202_ASSIGNING}};
  cp_provision_config c = sym_config();
  int64_t t0;

  (void)state;
  c.timeout_ms = 3000;
  script(r, 1);
  t0 = cp_platform_monotonic_ms();
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_TIMEOUT);
  assert_true(cp_platform_monotonic_ms() - t0 < 1000);
  assert_string_equal(res.error.field, "retry-after");
}

static void test_cp_provision_silent_server_times_out_within_deadline(void **state)
{
  cp_provision_config c = sym_config();
  int64_t t0, elapsed;

  (void)state;
  c.timeout_ms = 600;
  script(NULL, 0);
  t0 = cp_platform_monotonic_ms();
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_TIMEOUT);
  elapsed = cp_platform_monotonic_ms() - t0;
  assert_true(elapsed >= 400 && elapsed < 2000);
  assert_non_null(strstr(res.error.message, "timeout"));
}

static void test_cp_provision_https_failed_registration_refused_with_error_code(void **state)
{
  static const reply r[] = {{202, 0, BODY_202_ASSIGNING}, {200, -1, BODY_200_FAILED}};
  cp_provision_config c = sym_config();

  (void)state;
  c.transport = CP_PROVISION_HTTPS;
  script(r, 2);
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_REFUSED);
  assert_int_equal(res.error.error_code, 400037);
  assert_string_equal(res.error.message, "CSR key is not EC P-384");
  assert_string_equal(fk.methods[0], "PUT");
  assert_string_equal(fk.topics[0], "/0ne0001/registrations/dev-1/register?api-version=2025-07-01-preview");
  assert_string_equal(fk.methods[1], "GET");
  assert_true(strncmp(fk.auth[0], "SharedAccessSignature sr=", 25) == 0);
  assert_string_equal(fk.auth[0], fk.auth[1]);
}

static cp_result fixed_signer(void *ctx, const uint8_t *msg, size_t len, uint8_t mac[32])
{
  char *seen = ctx;

  snprintf(seen, 256, "%.*s", (int)len, (const char *)msg);
  memset(mac, 0xab, 32);
  return CP_OK;
}

static void test_cp_provision_tpm_signer_signs_the_sas(void **state)
{
  static const reply r[] = {{401, -1, BODY_401}};
  cp_provision_config c = sym_config();
  char seen[256] = "";

  (void)state;
  c.onboarding = CP_ONBOARDING_TPM;
  c.symmetric_key = NULL;
  c.signer = fixed_signer;
  c.signer_ctx = seen;
  script(r, 1);
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_UNAUTHORIZED);
  assert_true(strncmp(seen, "0ne0001%2fregistrations%2fdev-1\n", 32) == 0);
  /* base64 of 32 bytes of 0xab, URL-encoded */
  assert_non_null(strstr(fk.password, "sig=q6urq6urq6urq6urq6urq6urq6urq6urq6urq6urq6s%3D"));
}

#define TPM_EK "RUtQVUI="
#define TPM_SRK "U1JLUFVC"

static void test_cp_provision_https_tpm_keys_in_every_register_body_not_in_poll(void **state)
{
  static const reply r[] = {{429, 0, "{}"}, {202, 0, BODY_202_ASSIGNING},
                            {200, -1, BODY_200_FAILED}};
  cp_provision_config c = sym_config();
  char seen[256] = "";
  const char *tpm_member = "\"tpm\":{\"endorsementKey\":\"" TPM_EK
                           "\",\"storageRootKey\":\"" TPM_SRK "\"}";

  (void)state;
  c.transport = CP_PROVISION_HTTPS;
  c.onboarding = CP_ONBOARDING_TPM;
  c.symmetric_key = NULL;
  c.signer = fixed_signer;
  c.signer_ctx = seen;
  c.tpm_endorsement_key_b64 = TPM_EK;
  c.tpm_storage_root_key_b64 = TPM_SRK;
  script(r, 3);
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_REFUSED);
  assert_int_equal(fk.sent, 3);
  /* both PUTs: signed, same body, tpm right after registrationId, then csr */
  assert_string_equal(fk.methods[0], "PUT");
  assert_string_equal(fk.methods[1], "PUT");
  assert_true(strncmp(fk.auth[1], "SharedAccessSignature sr=", 25) == 0);
  assert_true(strncmp(fk.payloads[0], "{\"registrationId\":\"dev-1\",", 26) == 0);
  assert_true(strncmp(fk.payloads[0] + 26, tpm_member, strlen(tpm_member)) == 0);
  assert_true(strncmp(fk.payloads[0] + 26 + strlen(tpm_member), ",\"csr\":\"", 8) == 0);
  assert_string_equal(fk.payloads[0], fk.payloads[1]);
  /* the poll has no body */
  assert_string_equal(fk.methods[2], "GET");
  assert_string_equal(fk.payloads[2], "");
}

static void test_cp_provision_https_symmetric_body_has_no_tpm_member(void **state)
{
  static const reply r[] = {{202, 0, BODY_202_ASSIGNING}, {200, -1, BODY_200_FAILED}};
  cp_provision_config c = sym_config();

  (void)state;
  c.transport = CP_PROVISION_HTTPS;
  script(r, 2);
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_REFUSED);
  assert_true(strncmp(fk.payloads[0], "{\"registrationId\":\"dev-1\",\"csr\":\"",
                      strlen("{\"registrationId\":\"dev-1\",\"csr\":\"")) == 0);
  assert_null(strstr(fk.payloads[0], "tpm"));
}

static void test_cp_provision_tpm_keys_half_set_or_not_tpm_config_error(void **state)
{
  cp_provision_config c;
  char seen[256];

  (void)state;
  script(NULL, 0);
  c = sym_config();
  c.tpm_endorsement_key_b64 = TPM_EK;
  c.tpm_storage_root_key_b64 = TPM_SRK;
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_CONFIG);
  assert_string_equal(res.error.field, "tpm_endorsement_key_b64");
  c.onboarding = CP_ONBOARDING_TPM;
  c.symmetric_key = NULL;
  c.signer = fixed_signer;
  c.signer_ctx = seen;
  c.tpm_storage_root_key_b64 = NULL;
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_CONFIG);
  assert_string_equal(res.error.field, "tpm_storage_root_key_b64");
  c.tpm_storage_root_key_b64 = TPM_SRK;
  c.tpm_endorsement_key_b64 = "";
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_CONFIG);
  assert_string_equal(res.error.field, "tpm_endorsement_key_b64");
  assert_int_equal(fk.sent, 0);
}

static void test_cp_provision_bad_configuration_named(void **state)
{
  cp_provision_config c;

  (void)state;
  script(NULL, 0);
  c = sym_config();
  c.host = NULL;
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_CONFIG);
  assert_string_equal(res.error.field, "host");
  c = sym_config();
  c.registration_id = "bad id!";
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_CONFIG);
  assert_string_equal(res.error.field, "registration_id");
  c = sym_config();
  c.symmetric_key = "not base64 !";
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_CONFIG);
  assert_string_equal(res.error.field, "symmetric_key");
  c = sym_config();
  c.onboarding = CP_ONBOARDING_TPM;
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_UNSUPPORTED);
  assert_string_equal(res.error.field, "signer");
  c = sym_config();
  c.onboarding = CP_ONBOARDING_X509;
  assert_int_equal(cp_provision_with(&c, &fakes, &res), CP_ERR_CONFIG);
  assert_int_equal(fk.sent, 0); /* nothing went on the wire */
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_provision_mqtt_symmetric_connect_and_register_match_protocol),
    cmocka_unit_test(test_cp_provision_group_key_password_signed_with_derived_key),
    cmocka_unit_test(test_cp_provision_retry_after_honoured_then_poll_disabled),
    cmocka_unit_test(test_cp_provision_retry_after_beyond_deadline_times_out_at_once),
    cmocka_unit_test(test_cp_provision_silent_server_times_out_within_deadline),
    cmocka_unit_test(test_cp_provision_https_failed_registration_refused_with_error_code),
    cmocka_unit_test(test_cp_provision_tpm_signer_signs_the_sas),
    cmocka_unit_test(test_cp_provision_https_tpm_keys_in_every_register_body_not_in_poll),
    cmocka_unit_test(test_cp_provision_https_symmetric_body_has_no_tpm_member),
    cmocka_unit_test(test_cp_provision_tpm_keys_half_set_or_not_tpm_config_error),
    cmocka_unit_test(test_cp_provision_bad_configuration_named),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
