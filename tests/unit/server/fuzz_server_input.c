/* Fuzz target for the server core's parsers of untrusted input. The first byte picks the
 * parser, the rest is the input:
 *   0  SAS token (cps_sas_parse, then cps_sas_verify against a fixed key)
 *   1  CSR DER (cps_pki_csr_check)
 *   2  percent-decoding (cps_url_decode) and strict base64 (cps_b64_decode)
 *   3  DPS register body (cps_prov_register on an in-memory service with one enrollment)
 *   4  management request: "METHOD path\nbody" (cps_mgmt_handle as a contributor)
 * Built with libFuzzer under clang; with other compilers replay_server_main.c feeds the seeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cps_b64.h"
#include "cps_mgmt.h"
#include "cps_pki.h"
#include "cps_prov.h"
#include "cps_rbac.h"
#include "cps_sas.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define KEY "MDEyMzQ1Njc4OWFiY2RlZjAxMjM0NTY3ODlhYmNkZWY="

static cps_service *svc;
static const cps_principal admin = {"fuzz", CPS_ROLE_CONTRIBUTOR};

static void setup_service(void) {
  cps_service_config cfg;
  cps_service_config_default(&cfg);
  cfg.db_path = ":memory:";
  cfg.dev_mode = true;
  if (cps_service_open(&cfg, &svc, NULL) != CPS_OK) abort();
  cps_mgmt_response r;
  const char *pol = "{\"name\":\"p1\",\"validityDays\":7}";
  const char *enr = "{\"id\":\"dev-1\",\"kind\":\"individual\",\"attestation\":\"symmetricKey\","
                    "\"primaryKey\":\"" KEY "\",\"policy\":\"p1\",\"hub\":\"h\"}";
  cps_mgmt_handle(svc, &admin, "POST", "/credential", NULL, NULL, 0, &r);
  cps_mgmt_response_free(&r);
  cps_mgmt_handle(svc, &admin, "POST", "/policies", NULL, pol, strlen(pol), &r);
  cps_mgmt_response_free(&r);
  cps_mgmt_handle(svc, &admin, "POST", "/enrollments", NULL, enr, strlen(enr), &r);
  cps_mgmt_response_free(&r);
}

static char *cstr(const uint8_t *d, size_t n) {
  char *s = malloc(n + 1);
  if (!s) abort();
  memcpy(s, d, n);
  s[n] = '\0';
  return s;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  if (!svc) setup_service();
  const uint8_t *d = data + 1;
  size_t n = size - 1;
  switch (data[0] % 5) {
  case 0: {
    char *s = cstr(d, n);
    cps_sas_token t;
    cps_error err;
    if (cps_sas_parse(s, &t, &err) == CPS_OK)
      cps_sas_verify(&t, "0ne00000001", "dev-1", KEY, time(NULL), 3600, &err);
    free(s);
    break;
  }
  case 1: {
    X509_REQ *req = NULL;
    cps_error err;
    if (cps_pki_csr_check(d, n, "dev-1", &req, &err) == CPS_OK) X509_REQ_free(req);
    break;
  }
  case 2: {
    char out[512];
    cps_url_decode((const char *)d, n, out, sizeof out);
    unsigned char *raw = NULL;
    size_t rl = 0;
    if (cps_b64_decode((const char *)d, n, &raw, &rl) == CPS_OK) free(raw);
    break;
  }
  case 3: {
    char tok[600];
    cps_sas_build("0ne00000001", "dev-1", KEY, (long long)time(NULL) + 600, tok, sizeof tok);
    cps_prov_request rq = {.id_scope = "0ne00000001", .registration_id = "dev-1",
                           .api_version = "2025-07-01-preview", .body = (const char *)d,
                           .body_len = n, .authorization = tok};
    cps_prov_response resp;
    cps_prov_register(svc, &rq, &resp);
    cps_prov_response_free(&resp);
    break;
  }
  case 4: {
    char *s = cstr(d, n);
    char *nl = strchr(s, '\n');
    const char *body = NULL;
    if (nl) {
      *nl = '\0';
      body = nl + 1;
    }
    char *sp = strchr(s, ' ');
    if (sp) {
      *sp = '\0';
      /* Never wipe the fixture: skip DELETE of the credential. */
      if (strcmp(s, "DELETE") != 0 || strstr(sp + 1, "credential") == NULL) {
        cps_mgmt_response r;
        cps_mgmt_handle(svc, &admin, s, sp + 1, NULL, body, body ? strlen(body) : 0, &r);
        cps_mgmt_response_free(&r);
      }
    }
    free(s);
    break;
  }
  }
  return 0;
}
