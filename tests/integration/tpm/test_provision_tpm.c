/* cp_provision_tpm() end to end without a network: the SDK's blocking driver
 * over an HTTP transport that hands each request to the reference server core
 * in-process (cps_prov_register / cps_prov_operation_status); device on swtpm. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provision_tpm.h"
#include "cp_swtpm.h"
#include "cps_prov.h"
#include "cps_rbac.h"
#include "cps_test_util.h"
#include "tpm_bridge.h"

#define REG_ID "tpm-dev-9"

typedef struct fixture {
  char path[64];
  bridge br;
  cp_http_transport http;
  cp_provision_transports tr;
  cp_swtpm sw;
  cp_posix_tpm ptpm;
  cp_tpm tpm;
  cp_provision_config cfg;
  cp_provision_result res;
} fixture;

/* The device's EK as the register body carries it (base64 TPM2B_PUBLIC). */
static void own_ek(fixture *f, char ek_b64[CP_TPM_PUBLIC_B64_MAX])
{
  uint8_t ek[CP_TPM_PUBLIC_MAX];
  size_t len = 0;

  assert_int_equal(cp_tpm_get_public(&f->tpm, CP_TPM_KEY_EK, ek, sizeof ek, &len), CP_OK);
  assert_int_equal(cp_base64_encode(ek, len, ek_b64, CP_TPM_PUBLIC_B64_MAX, &len), CP_OK);
}

/* Every signed PUT register carried the device's EK (and an SRK), as the
 * unsigned challenge PUT did: Azure DPS expects the same body (protocol.md §5 step 7). */
static void assert_signed_puts_carry_tpm(const fixture *f, const char *ek_b64, int at_least)
{
  assert_true(f->br.authorized_registers >= at_least);
  assert_int_equal(f->br.authorized_with_tpm, f->br.authorized_registers);
  assert_string_equal(f->br.auth_ek, ek_b64);
}

static void reset_counts(fixture *f)
{
  f->br.requests = f->br.unauthenticated = f->br.challenges = 0;
  f->br.authorized_registers = f->br.authorized_with_tpm = 0;
  f->br.unauth_ek[0] = f->br.auth_ek[0] = '\0';
}

static void enroll(fixture *f)
{
  char ek_b64[CP_TPM_PUBLIC_B64_MAX], body[2048];

  own_ek(f, ek_b64);
  snprintf(body, sizeof body,
           "{\"id\":\"%s\",\"kind\":\"individual\",\"attestation\":\"tpm\","
           "\"endorsementKey\":\"%s\",\"policy\":\"p1\",\"hub\":\"hub1\"}", REG_ID, ek_b64);
  assert_int_equal(tu_mgmt(f->br.svc, CPS_ROLE_CONTRIBUTOR, "POST", "/enrollments", body, NULL),
                   201);
}

static int setup(void **state)
{
  fixture *f = calloc(1, sizeof *f);

  if (f == NULL || cp_swtpm_start(&f->sw) != 0 ||
      cp_posix_tpm_open(&f->ptpm, f->sw.tcti) != CP_OK ||
      cp_posix_tpm_interface(&f->ptpm, &f->tpm) != CP_OK)
    return -1;
  f->br.svc = tu_service(f->path, 1);
  tu_setup_basic(f->br.svc);
  bridge_transport(&f->br, &f->http);
  f->tr.http = &f->http;
  cp_provision_config_init(&f->cfg);
  f->cfg.transport = CP_PROVISION_HTTPS;
  f->cfg.host = "dps.invalid"; /* never resolved: the bridge answers */
  f->cfg.id_scope = cps_service_id_scope(f->br.svc);
  f->cfg.registration_id = REG_ID;
  f->cfg.timeout_ms = 30000;
  *state = f;
  return 0;
}

static int teardown(void **state)
{
  fixture *f = *state;

  cp_key_wipe(&f->res.key);
  tu_service_free(f->br.svc, f->path);
  cp_posix_tpm_close(&f->ptpm);
  cp_swtpm_stop(&f->sw);
  free(f);
  return 0;
}

static void test_cp_provision_tpm_fresh_tpm_challenge_then_assigned(void **state)
{
  fixture *f = *state;
  char ek[CP_TPM_PUBLIC_B64_MAX];

  enroll(f);
  own_ek(f, ek);
  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_OK);
  assert_string_equal(f->res.device_id, REG_ID);
  /* the challenge PUT and the signed PUT carry the same tpm.endorsementKey */
  assert_string_equal(f->br.unauth_ek, ek);
  assert_signed_puts_carry_tpm(f, f->br.unauth_ek, 1);
  assert_string_equal(f->res.assigned_hub, "hub1");
  assert_non_null(strstr(f->res.chain_pem, "BEGIN CERTIFICATE"));
  assert_int_equal(f->br.challenges, 1);
  assert_int_equal(f->br.unauthenticated, 1); /* only the challenge leg */
  assert_true(f->br.with_tpm_body >= 1);
  assert_int_equal(f->res.requests, (uint32_t)f->br.requests);
}

static void test_cp_provision_tpm_renewal_reuses_identity_key(void **state)
{
  fixture *f = *state;
  char first_chain[512], ek[CP_TPM_PUBLIC_B64_MAX];

  enroll(f);
  own_ek(f, ek);
  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_OK);
  memcpy(first_chain, f->res.chain_pem, sizeof first_chain - 1);
  first_chain[sizeof first_chain - 1] = '\0';
  cp_key_wipe(&f->res.key);
  reset_counts(f);
  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_OK);
  assert_int_equal(f->br.challenges, 0);
  assert_int_equal(f->br.unauthenticated, 0);
  assert_signed_puts_carry_tpm(f, ek, 1); /* renewal skips the challenge, not the tpm member */
  assert_memory_not_equal(first_chain, f->res.chain_pem, sizeof first_chain - 1); /* new leaf */
  assert_int_equal(tu_count(f->br.svc, "issued"), 2);
}

static void test_cp_provision_tpm_server_rotated_key_rechallenges_once(void **state)
{
  fixture *f = *state;

  enroll(f);
  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_OK);
  cp_key_wipe(&f->res.key);
  /* the server hands out a new identity key (e.g. a challenge for this EK was
   * requested elsewhere): the TPM's key is now stale */
  {
    char body[4096];
    size_t len = 0;
    cps_prov_request rq = {0};
    cps_prov_response resp;

    assert_int_equal(cp_tpm_register_body(&f->tpm, REG_ID, NULL, NULL, body, sizeof body, &len),
                     CP_OK);
    rq.id_scope = cps_service_id_scope(f->br.svc);
    rq.registration_id = REG_ID;
    rq.api_version = CP_DPS_API_VERSION;
    rq.body = body;
    rq.body_len = len;
    assert_int_equal(cps_prov_register(f->br.svc, &rq, &resp), CPS_OK);
    assert_int_equal(resp.status, 401);
    cps_prov_response_free(&resp);
  }
  reset_counts(f);
  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_OK);
  assert_int_equal(f->br.challenges, 1);
  assert_int_equal(f->br.unauthenticated, 1);
  /* the refused signed PUT, then the one after the new challenge */
  assert_signed_puts_carry_tpm(f, f->br.unauth_ek, 2);
}

static void test_cp_provision_tpm_ek_not_enrolled_returns_unauthorized(void **state)
{
  fixture *f = *state;
  int present = 1;

  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_ERR_UNAUTHORIZED);
  assert_int_equal(f->res.error.status, 401);
  assert_non_null(strstr(f->res.error.message, "not enrolled"));
  assert_int_equal(f->br.challenges, 0);
  assert_int_equal(cp_posix_tpm_has_identity(&f->ptpm, &present), CP_OK);
  assert_int_equal(present, 0);
  assert_int_equal(tu_count(f->br.svc, "device"), 0);
}

static void test_cp_provision_tpm_not_https_returns_config_error(void **state)
{
  fixture *f = *state;

  f->cfg.transport = CP_PROVISION_MQTT;
  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_ERR_CONFIG);
  assert_string_equal(f->res.error.field, "transport");
  assert_int_equal(f->br.requests, 0);
}

static void test_cp_provision_tpm_tpm_unreachable_returns_tpm_error(void **state)
{
  fixture *f = *state;

  enroll(f);
  cp_swtpm_stop(&f->sw);
  assert_int_equal(cp_provision_tpm(&f->cfg, &f->tpm, &f->tr, &f->res), CP_ERR_TPM);
  assert_int_equal(f->br.requests, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test_setup_teardown(test_cp_provision_tpm_fresh_tpm_challenge_then_assigned, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_provision_tpm_renewal_reuses_identity_key, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_provision_tpm_server_rotated_key_rechallenges_once, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_provision_tpm_ek_not_enrolled_returns_unauthorized, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_provision_tpm_not_https_returns_config_error, setup, teardown),
    cmocka_unit_test_setup_teardown(test_cp_provision_tpm_tpm_unreachable_returns_tpm_error, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
