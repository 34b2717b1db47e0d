/* TPM device end to end with the real hub: reference server core + supervised
 * mosquitto with our plugin (tests/integration/server_hub harness). The DPS
 * leg runs cp_provision_tpm() over an in-process bridge to the core (the HTTPS
 * leg is test_tpm_https); then the device connects to the hub over mqtts with
 * the issued chain and reads its twin; a renewal's chain connects as well. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_hub_client.h"
#include "certpilot/cp_posix_tpm.h"
#include "certpilot/cp_provision_tpm.h"
#include "cp_swtpm.h"
#include "hub_it_env.h"
#include "tpm_bridge.h"

#define REG_ID "tpm-hub-1"

static it_env env;
static cp_swtpm sw;
static cp_posix_tpm ptpm;
static cp_tpm tpm;
static cp_provision_result res; /* large */
static cp_hub_client hub;       /* large */

static int write_file(const char *path, const char *text, mode_t mode)
{
  FILE *f = fopen(path, "w");

  if (f == NULL)
    return -1;
  fputs(text, f);
  if (fclose(f) != 0)
    return -1;
  return chmod(path, mode);
}

static int setup(void **state)
{
  uint8_t ek[CP_TPM_PUBLIC_MAX];
  char ek_b64[CP_TPM_PUBLIC_B64_MAX], body[2048];
  size_t len = 0;

  (void)state;
  if (it_env_start(&env) != 0 || cp_swtpm_start(&sw) != 0 ||
      cp_posix_tpm_open(&ptpm, sw.tcti) != CP_OK || cp_posix_tpm_interface(&ptpm, &tpm) != CP_OK ||
      cp_tpm_get_public(&tpm, CP_TPM_KEY_EK, ek, sizeof ek, &len) != CP_OK ||
      cp_base64_encode(ek, len, ek_b64, sizeof ek_b64, &len) != CP_OK)
    return -1;
  snprintf(body, sizeof body,
           "{\"id\":\"" REG_ID "\",\"kind\":\"individual\",\"attestation\":\"tpm\","
           "\"endorsementKey\":\"%s\",\"policy\":\"p1\",\"hub\":\"" IT_HUB "\"}", ek_b64);
  if (it_mgmt(&env, "POST", "/credential", "{}", NULL) >= 300 ||
      it_mgmt(&env, "POST", "/policies", "{\"name\":\"p1\",\"validityDays\":30}", NULL) >= 300 ||
      it_mgmt(&env, "POST", "/enrollments", body, NULL) >= 300)
    return -1;
  return hub_broker_sync_trust(env.broker) == CP_OK ? 0 : -1;
}

static int teardown(void **state)
{
  (void)state;
  cp_posix_tpm_close(&ptpm);
  cp_swtpm_stop(&sw);
  it_env_stop(&env);
  return 0;
}

/* Provision through the bridge; write chain and key; connect to the hub. */
static void provision_and_connect(int *challenges)
{
  bridge br = {0};
  cp_http_transport http;
  cp_provision_transports tr = {NULL, &http};
  cp_provision_config cfg;
  cp_hub_client_config hc;
  cp_error_detail err;
  char chain[400], key[400], key_pem[CP_KEY_PEM_MAX];
  static char twin[16384];
  size_t len = 0;
  cp_result r;

  br.svc = env.svc;
  bridge_transport(&br, &http);
  cp_provision_config_init(&cfg);
  cfg.transport = CP_PROVISION_HTTPS;
  cfg.host = "dps.invalid"; /* the bridge answers */
  cfg.id_scope = env.id_scope;
  cfg.registration_id = REG_ID;
  cfg.timeout_ms = 30000;
  r = cp_provision_tpm(&cfg, &tpm, &tr, &res);
  if (r != CP_OK)
    fprintf(stderr, "provision: %s: %s\n", cp_result_str(r), res.error.message);
  assert_int_equal(r, CP_OK);
  assert_string_equal(res.assigned_hub, IT_HUB);
  *challenges = br.challenges;
  snprintf(chain, sizeof chain, "%s/tpm.chain.pem", env.dir);
  snprintf(key, sizeof key, "%s/tpm.key.pem", env.dir);
  assert_int_equal(write_file(chain, res.chain_pem, 0644), 0);
  assert_int_equal(cp_key_to_pem(&res.key, CP_KEY_FORMAT_PKCS8, key_pem, sizeof key_pem, &len),
                   CP_OK);
  assert_int_equal(write_file(key, key_pem, 0600), 0);
  cp_key_wipe(&res.key);
  memset(&hc, 0, sizeof hc);
  hc.host = res.assigned_hub;
  hc.connect_host = "localhost";
  hc.port = (uint16_t)env.port_cert;
  hc.wire = CP_MQTT_WIRE_TLS;
  hc.device_id = res.device_id;
  hc.cert_chain_path = chain;
  hc.key_path = key;
  hc.trust_bundle_path = env.server_ca;
  hc.timeout_ms = 10000;
  cp_error_detail_clear(&err);
  r = cp_hub_client_connect(&hub, &hc, &err);
  if (r != CP_OK)
    fprintf(stderr, "hub connect: %s: %s\n", cp_result_str(r), err.message);
  assert_int_equal(r, CP_OK);
  assert_int_equal(cp_hub_client_get_twin(&hub, twin, sizeof twin, &len, &err), CP_OK);
  assert_non_null(strstr(twin, "desired"));
  cp_hub_client_disconnect(&hub);
}

static void test_tpm_device_provisions_then_connects_to_hub_and_renews(void **state)
{
  int challenges = -1;

  (void)state;
  provision_and_connect(&challenges);
  assert_int_equal(challenges, 1);
  /* renewal: no new challenge, the new chain connects too */
  provision_and_connect(&challenges);
  assert_int_equal(challenges, 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_tpm_device_provisions_then_connects_to_hub_and_renews),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
