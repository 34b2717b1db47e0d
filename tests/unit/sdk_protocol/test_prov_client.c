/* The registration state machine driven over MQTT and HTTPS with recorded replies. */
#include <stdio.h>
#include <string.h>

#include "fixtures.h"

#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

static cp_prov_client client; /* large: keep it off the stack */

static void start(void)
{
  assert_int_equal(cp_prov_client_init(&client, "0ne0001", "dev-1", "TUlJQg==", NULL), CP_OK);
}

static cp_prov_step next(void)
{
  cp_prov_step s;

  assert_int_equal(cp_prov_client_next(&client, &s), CP_OK);
  return s;
}

/* Send the pending MQTT request; return its $rid via the topic. */
static void mqtt_send(char *topic, size_t topic_size, char *payload, size_t *payload_len)
{
  assert_int_equal(cp_prov_client_mqtt_request(&client, topic, topic_size, payload,
                                               CP_PROV_BODY_MAX, payload_len), CP_OK);
}

static cp_result deliver(const char *topic, const char *body)
{
  return cp_prov_client_on_mqtt_message(&client, topic, strlen(topic), body, strlen(body));
}

static void test_cp_prov_client_mqtt_register_poll_assigned_done_ok(void **state)
{
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX];
  size_t plen;
  cp_prov_step s;

  (void)state;
  start();
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_SEND);
  assert_int_equal(s.request, CP_PROV_REQUEST_REGISTER);
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_string_equal(topic, "$dps/registrations/PUT/iotdps-register/?$rid=1");
  assert_string_equal(payload, "{\"registrationId\":\"dev-1\",\"csr\":\"TUlJQg==\"}");
  assert_int_equal(next().action, CP_PROV_ACTION_RECEIVE);

  assert_int_equal(deliver("$dps/registrations/res/202/?$rid=1&retry-after=2",
                           BODY_202_ASSIGNING), CP_OK);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_WAIT);
  assert_int_equal(s.wait_s, 2);
  assert_int_equal(s.status, CP_PROV_STATUS_ASSIGNING);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_SEND);
  assert_int_equal(s.request, CP_PROV_REQUEST_POLL);
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_string_equal(topic, "$dps/registrations/GET/iotdps-get-operationstatus/?$rid=2"
                             "&operationId=4.d0a6c0b1e5a2c3f4.2f3e7c9d-1b2a-4c5d-9e8f-0a1b2c3d4e5f");
  assert_int_equal(plen, 0);

  assert_int_equal(deliver("$dps/registrations/res/200/?$rid=2", BODY_200_ASSIGNED), CP_OK);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_DONE);
  assert_int_equal(s.result, CP_OK);
  assert_int_equal(s.status, CP_PROV_STATUS_ASSIGNED);
  assert_string_equal(cp_prov_client_response(&client)->assigned_hub, "hub.example.net");
  assert_int_equal(cp_prov_client_response(&client)->chain_len, 3);
}

static void test_cp_prov_client_mqtt_stale_rid_and_other_topics_ignored(void **state)
{
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX];
  size_t plen;

  (void)state;
  start();
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_int_equal(deliver("$dps/registrations/res/200/?$rid=99", BODY_200_ASSIGNED),
                   CP_ERR_NOT_FOUND);
  assert_int_equal(deliver("devices/x/messages/devicebound/", "hi"), CP_ERR_NOT_FOUND);
  assert_int_equal(next().action, CP_PROV_ACTION_RECEIVE);
}

static void test_cp_prov_client_mqtt_truncated_topic_done_bad_response(void **state)
{
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX];
  size_t plen;
  cp_prov_step s;

  (void)state;
  start();
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_int_equal(deliver("$dps/registrations/res/20", BODY_200_ASSIGNED), CP_OK);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_DONE);
  assert_int_equal(s.result, CP_ERR_BAD_RESPONSE);
  assert_string_equal(s.detail->field, "topic.status");
}

static void test_cp_prov_client_mqtt_429_then_retries_register_after_clamped_wait(void **state)
{
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX];
  size_t plen;
  cp_prov_step s;

  (void)state;
  start();
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_int_equal(deliver("$dps/registrations/res/429/?$rid=1&retry-after=86400",
                           "{\"errorCode\":429001,\"message\":\"throttled\"}"), CP_OK);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_WAIT);
  assert_int_equal(s.wait_s, CP_RETRY_AFTER_MAX_S);
  assert_int_equal(s.detail->error_code, 429001);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_SEND);
  assert_int_equal(s.request, CP_PROV_REQUEST_REGISTER);
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_string_equal(topic, "$dps/registrations/PUT/iotdps-register/?$rid=2");
}

static void test_cp_prov_client_mqtt_503_without_retry_after_waits_default(void **state)
{
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX];
  size_t plen;
  cp_prov_step s;

  (void)state;
  start();
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_int_equal(deliver("$dps/registrations/res/503/?$rid=1", ""), CP_OK);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_WAIT);
  assert_int_equal(s.wait_s, CP_RETRY_AFTER_DEFAULT_S);
}

static cp_prov_step mqtt_one_reply(const char *status, const char *body)
{
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX], t[128];
  size_t plen;

  start();
  mqtt_send(topic, sizeof topic, payload, &plen);
  snprintf(t, sizeof t, "$dps/registrations/res/%s/?$rid=1", status);
  assert_int_equal(deliver(t, body), CP_OK);
  return next();
}

static void test_cp_prov_client_401_done_unauthorized_with_detail(void **state)
{
  cp_prov_step s;

  (void)state;
  s = mqtt_one_reply("401", BODY_401);
  assert_int_equal(s.action, CP_PROV_ACTION_DONE);
  assert_int_equal(s.result, CP_ERR_UNAUTHORIZED);
  assert_int_equal(s.detail->status, 401);
  assert_int_equal(s.detail->error_code, 401002);
  assert_string_equal(s.detail->message, "Invalid certificate.");
}

static void test_cp_prov_client_failed_done_refused_with_error_code(void **state)
{
  cp_prov_step s;

  (void)state;
  s = mqtt_one_reply("200", BODY_200_FAILED);
  assert_int_equal(s.result, CP_ERR_REFUSED);
  assert_int_equal(s.status, CP_PROV_STATUS_FAILED);
  assert_int_equal(s.detail->error_code, 400037);
  assert_string_equal(s.detail->message, "CSR key is not EC P-384");
}

static void test_cp_prov_client_disabled_done_disabled(void **state)
{
  cp_prov_step s;

  (void)state;
  s = mqtt_one_reply("200", BODY_200_DISABLED);
  assert_int_equal(s.result, CP_ERR_DISABLED);
  assert_int_equal(s.status, CP_PROV_STATUS_DISABLED);
}

static void test_cp_prov_client_not_json_done_bad_response(void **state)
{
  cp_prov_step s;

  (void)state;
  s = mqtt_one_reply("200", "garbage");
  assert_int_equal(s.result, CP_ERR_BAD_RESPONSE);
  assert_int_equal(s.detail->status, 200);
}

static void test_cp_prov_client_assigned_without_chain_after_csr_bad_response(void **state)
{
  cp_prov_step s;

  (void)state;
  s = mqtt_one_reply("200", "{\"operationId\":\"x\",\"status\":\"assigned\",\"registrationState\":"
                            "{\"deviceId\":\"dev-1\",\"assignedHub\":\"h\"}}");
  assert_int_equal(s.result, CP_ERR_BAD_RESPONSE);
  assert_string_equal(s.detail->field, "registrationState.issuedCertificateChain");
}

static void test_cp_prov_client_assigned_for_other_registration_bad_response(void **state)
{
  cp_prov_step s;

  (void)state;
  s = mqtt_one_reply("200", "{\"operationId\":\"x\",\"status\":\"assigned\",\"registrationState\":"
                            "{\"registrationId\":\"dev-2\",\"deviceId\":\"dev-2\","
                            "\"assignedHub\":\"h\",\"issuedCertificateChain\":[\"" B64_A "\"]}}");
  assert_int_equal(s.result, CP_ERR_BAD_RESPONSE);
  assert_string_equal(s.detail->field, "registrationState.registrationId");
}

static void test_cp_prov_client_http_register_poll_assigned(void **state)
{
  char path[CP_PROV_HTTP_PATH_MAX], body[CP_PROV_BODY_MAX];
  const char *method = NULL;
  size_t blen;
  cp_prov_step s;

  (void)state;
  start();
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_OK);
  assert_string_equal(method, "PUT");
  assert_string_equal(path, "/0ne0001/registrations/dev-1/register?api-version=2025-07-01-preview");
  assert_string_equal(body, "{\"registrationId\":\"dev-1\",\"csr\":\"TUlJQg==\"}");
  assert_int_equal(cp_prov_client_on_http_response(&client, 202, "0", BODY_202_ASSIGNING,
                                                   strlen(BODY_202_ASSIGNING)), CP_OK);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_WAIT);
  assert_int_equal(s.wait_s, 0);
  assert_int_equal(next().request, CP_PROV_REQUEST_POLL);
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_OK);
  assert_string_equal(method, "GET");
  assert_string_equal(path, "/0ne0001/registrations/dev-1/operations/"
                            "4.d0a6c0b1e5a2c3f4.2f3e7c9d-1b2a-4c5d-9e8f-0a1b2c3d4e5f"
                            "?api-version=2025-07-01-preview");
  assert_int_equal(blen, 0);
  assert_int_equal(cp_prov_client_on_http_response(&client, 200, NULL, BODY_200_ASSIGNED,
                                                   strlen(BODY_200_ASSIGNED)), CP_OK);
  s = next();
  assert_int_equal(s.action, CP_PROV_ACTION_DONE);
  assert_int_equal(s.result, CP_OK);
}

static void test_cp_prov_client_requests_out_of_order_state_error(void **state)
{
  char path[CP_PROV_HTTP_PATH_MAX], body[CP_PROV_BODY_MAX];
  const char *method;
  size_t blen;

  (void)state;
  start();
  assert_int_equal(cp_prov_client_on_http_response(&client, 200, NULL, "{}", 2), CP_ERR_STATE);
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_OK);
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_ERR_STATE);
}

static void test_cp_prov_client_request_buffer_small_state_unchanged(void **state)
{
  char topic[8], payload[CP_PROV_BODY_MAX];
  size_t plen;

  (void)state;
  start();
  assert_int_equal(cp_prov_client_mqtt_request(&client, topic, sizeof topic, payload,
                                               sizeof payload, &plen), CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(next().action, CP_PROV_ACTION_SEND);
}

#define TPM_EK "RUtQVUI="
#define TPM_SRK "U1JLUFVC"
#define TPM_BODY "{\"registrationId\":\"dev-1\",\"tpm\":{\"endorsementKey\":\"" TPM_EK \
                 "\",\"storageRootKey\":\"" TPM_SRK "\"},\"csr\":\"TUlJQg==\"}"

static void test_cp_prov_client_set_tpm_every_register_carries_tpm_poll_empty(void **state)
{
  char path[CP_PROV_HTTP_PATH_MAX], body[CP_PROV_BODY_MAX];
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX];
  const char *method = NULL;
  size_t blen, plen;

  (void)state;
  start();
  assert_int_equal(cp_prov_client_set_tpm(&client, TPM_EK, TPM_SRK), CP_OK);
  /* HTTPS: first PUT, a throttled reply, the resent PUT, then the poll */
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_OK);
  assert_string_equal(method, "PUT");
  assert_string_equal(body, TPM_BODY);
  assert_int_equal(cp_prov_client_on_http_response(&client, 429, "0", "{}", 2), CP_OK);
  assert_int_equal(next().action, CP_PROV_ACTION_WAIT);
  assert_int_equal(next().request, CP_PROV_REQUEST_REGISTER);
  memset(body, 0, sizeof body);
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_OK);
  assert_string_equal(method, "PUT");
  assert_string_equal(body, TPM_BODY);
  assert_int_equal(blen, strlen(TPM_BODY));
  assert_int_equal(cp_prov_client_on_http_response(&client, 202, "0", BODY_202_ASSIGNING,
                                                   strlen(BODY_202_ASSIGNING)), CP_OK);
  assert_int_equal(next().action, CP_PROV_ACTION_WAIT);
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_OK);
  assert_string_equal(method, "GET");
  assert_int_equal(blen, 0);
  /* MQTT register payload is the same body */
  start();
  assert_int_equal(cp_prov_client_set_tpm(&client, TPM_EK, TPM_SRK), CP_OK);
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_string_equal(payload, TPM_BODY);
  /* and without cp_prov_client_set_tpm() the body has no tpm member */
  start();
  mqtt_send(topic, sizeof topic, payload, &plen);
  assert_string_equal(payload, "{\"registrationId\":\"dev-1\",\"csr\":\"TUlJQg==\"}");
}

static void test_cp_prov_client_set_tpm_bad_key_or_late_call_fails_body_unchanged(void **state)
{
  static char big[CP_PROV_TPM_KEY_B64_MAX + 1];
  char path[CP_PROV_HTTP_PATH_MAX], body[CP_PROV_BODY_MAX];
  const char *method;
  size_t blen;

  (void)state;
  memset(big, 'A', CP_PROV_TPM_KEY_B64_MAX);
  big[CP_PROV_TPM_KEY_B64_MAX] = '\0';
  start();
  assert_int_equal(cp_prov_client_set_tpm(NULL, TPM_EK, TPM_SRK), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_client_set_tpm(&client, NULL, TPM_SRK), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_client_set_tpm(&client, TPM_EK, ""), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_client_set_tpm(&client, TPM_EK, big), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_client_http_request(&client, &method, path, sizeof path, body,
                                               sizeof body, &blen), CP_OK);
  assert_null(strstr(body, "\"tpm\""));
  /* the register request is out: too late */
  assert_int_equal(cp_prov_client_set_tpm(&client, TPM_EK, TPM_SRK), CP_ERR_STATE);
}

static void test_cp_prov_client_init_bad_args_invalid_arg(void **state)
{
  char long_id[CP_PROV_REG_ID_MAX + 8];

  (void)state;
  memset(long_id, 'a', sizeof long_id - 1);
  long_id[sizeof long_id - 1] = '\0';
  assert_int_equal(cp_prov_client_init(&client, "", "dev-1", NULL, NULL), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_client_init(&client, "s", NULL, NULL, NULL), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_prov_client_init(&client, "s", long_id, NULL, NULL), CP_ERR_INVALID_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_prov_client_mqtt_register_poll_assigned_done_ok),
    cmocka_unit_test(test_cp_prov_client_mqtt_stale_rid_and_other_topics_ignored),
    cmocka_unit_test(test_cp_prov_client_mqtt_truncated_topic_done_bad_response),
    cmocka_unit_test(test_cp_prov_client_mqtt_429_then_retries_register_after_clamped_wait),
    cmocka_unit_test(test_cp_prov_client_mqtt_503_without_retry_after_waits_default),
    cmocka_unit_test(test_cp_prov_client_401_done_unauthorized_with_detail),
    cmocka_unit_test(test_cp_prov_client_failed_done_refused_with_error_code),
    cmocka_unit_test(test_cp_prov_client_disabled_done_disabled),
    cmocka_unit_test(test_cp_prov_client_not_json_done_bad_response),
    cmocka_unit_test(test_cp_prov_client_assigned_without_chain_after_csr_bad_response),
    cmocka_unit_test(test_cp_prov_client_assigned_for_other_registration_bad_response),
    cmocka_unit_test(test_cp_prov_client_http_register_poll_assigned),
    cmocka_unit_test(test_cp_prov_client_requests_out_of_order_state_error),
    cmocka_unit_test(test_cp_prov_client_request_buffer_small_state_unchanged),
    cmocka_unit_test(test_cp_prov_client_set_tpm_every_register_carries_tpm_poll_empty),
    cmocka_unit_test(test_cp_prov_client_set_tpm_bad_key_or_late_call_fails_body_unchanged),
    cmocka_unit_test(test_cp_prov_client_init_bad_args_invalid_arg),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
