/* Blocking TPM onboarding over HTTPS (cp_provision_tpm.h). */
#include "certpilot/cp_provision_tpm.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_csr.h"
#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "certpilot/cp_platform.h"
#include "certpilot/cp_posix_transport.h"
#include "certpilot/cp_protocol.h"

#define DEFAULT_TIMEOUT_MS 60000u

/* Buffers of the challenge leg (too big for small stacks). */
typedef struct challenge_leg {
  char path[CP_PROV_HTTP_PATH_MAX];
  char body[CP_PROV_BODY_MAX];
  char reply[CP_TPM_AUTH_KEY_B64_MAX + 1024];
  char auth_key[CP_TPM_AUTH_KEY_B64_MAX];
  char csr_b64[CP_PROV_CSR_B64_MAX];
  uint8_t csr[CP_CSR_DER_MAX];
} challenge_leg;

static cp_result tpm_signer(void *ctx, const uint8_t *msg, size_t msg_len, uint8_t mac[32])
{
  return cp_tpm_hmac_sha256(ctx, msg, msg_len, mac);
}

/* base64 of the EK's or SRK's marshalled TPM2B_PUBLIC (created if needed). */
static cp_result public_b64(const cp_tpm *tpm, cp_tpm_key which,
                            char out[CP_TPM_PUBLIC_B64_MAX])
{
  uint8_t pub[CP_TPM_PUBLIC_MAX];
  size_t len = 0, b64_len = 0;
  cp_result r = cp_tpm_get_public(tpm, which, pub, sizeof pub, &len);

  if (r == CP_OK)
    r = cp_base64_encode(pub, len, out, CP_TPM_PUBLIC_B64_MAX, &b64_len);
  return r;
}

/* 1 when the TPM holds an identity key, 0 when not, <0 (a cp_result) on error. */
static int has_identity(const cp_tpm *tpm)
{
  uint8_t mac[CP_TPM_HMAC_LEN];
  cp_result r = cp_tpm_hmac_sha256(tpm, (const uint8_t *)"", 0, mac);

  if (r == CP_OK)
    return 1;
  return r == CP_ERR_NOT_FOUND ? 0 : (int)r;
}

/* PUT register without Authorization (body with c's tpm keys); import the 401
 * challenge. */
static cp_result run_challenge(const cp_provision_config *c, const cp_tpm *tpm,
                               const cp_key *key, const cp_http_transport *given,
                               uint32_t timeout_ms, char key_name[CP_TPM_KEY_NAME_MAX],
                               cp_provision_result *res)
{
  challenge_leg *leg = calloc(1, sizeof *leg);
  cp_http_transport t;
  cp_http_header h[2] = {{"Accept", CP_HTTP_ACCEPT_JSON},
                         {"Content-Type", CP_HTTP_CONTENT_TYPE_JSON}};
  cp_http_request rq;
  cp_http_response resp;
  size_t len = 0, blen = 0;
  cp_result r;

  if (leg == NULL)
    return CP_ERR_NO_MEMORY;
  r = cp_csr_build(key, c->registration_id, leg->csr, sizeof leg->csr, &len);
  if (r == CP_OK)
    r = cp_csr_to_base64(leg->csr, len, leg->csr_b64, sizeof leg->csr_b64, &blen);
  if (r == CP_OK)
    r = cp_prov_register_body_tpm(c->registration_id, c->tpm_endorsement_key_b64,
                                  c->tpm_storage_root_key_b64, leg->csr_b64,
                                  c->payload_json, leg->body, sizeof leg->body, &blen);
  if (r == CP_OK)
    r = cp_prov_http_register_path(c->id_scope, c->registration_id, leg->path,
                                   sizeof leg->path, &len);
  if (r != CP_OK) {
    cp_error_detail_set(&res->error, "tpm", "building the TPM registration failed (%s)",
                        cp_result_str(r));
    free(leg);
    return r;
  }
  if (given != NULL)
    t = *given;
  else if ((r = cp_posix_http_transport_init(&t)) != CP_OK) {
    free(leg);
    return r;
  }
  memset(&rq, 0, sizeof rq);
  rq.method = "PUT";
  rq.host = c->host;
  rq.port = c->port;
  rq.path = leg->path;
  rq.headers = h;
  rq.header_count = 2;
  rq.body = leg->body;
  rq.body_len = blen;
  rq.tls.trust_bundle_path = c->trust_bundle_path;
  rq.timeout_ms = timeout_ms;
  memset(&resp, 0, sizeof resp);
  resp.body = leg->reply;
  resp.body_size = sizeof leg->reply;
  res->requests++;
  r = t.vtable->request(t.ctx, &rq, &resp, &res->error);
  if (r == CP_ERR_BUFFER_TOO_SMALL)
    r = CP_ERR_BAD_RESPONSE;
  if (r == CP_OK && resp.status != 401) {
    /* only a 401 carries a challenge; anything else is the server's answer */
    r = resp.status / 100 == 2 ? CP_ERR_BAD_RESPONSE
                               : cp_prov_error_parse(resp.status, leg->reply, resp.body_len,
                                                     &res->error);
    if (resp.status / 100 == 2)
      cp_error_detail_set(&res->error, "tpm", "expected a 401 TPM challenge, got %d",
                          resp.status);
  } else if (r == CP_OK) {
    r = cp_tpm_challenge_parse(leg->reply, resp.body_len, leg->auth_key,
                               sizeof leg->auth_key, key_name);
    if (r == CP_ERR_BAD_RESPONSE) {
      /* a plain 401: the EK is not enrolled (or not for this registration id) */
      r = cp_prov_error_parse(401, leg->reply, resp.body_len, &res->error);
    } else if (r == CP_OK) {
      r = cp_tpm_import_identity_b64(tpm, leg->auth_key);
      if (r != CP_OK)
        cp_error_detail_set(&res->error, "authenticationKey",
                            "the TPM refused the challenge (%s)", cp_result_str(r));
    }
  }
  explicit_bzero(leg, sizeof *leg);
  free(leg);
  return r;
}

cp_result cp_provision_tpm(const cp_provision_config *config, const cp_tpm *tpm,
                           const cp_provision_transports *transports,
                           cp_provision_result *result)
{
  cp_provision_config cfg;
  char key_name[CP_TPM_KEY_NAME_MAX] = CP_SAS_KEY_NAME;
  char ek[CP_TPM_PUBLIC_B64_MAX], srk[CP_TPM_PUBLIC_B64_MAX];
  int64_t deadline, left;
  uint32_t requests = 0;
  cp_key key;
  int have, challenged = 0;
  cp_result r;

  if (config == NULL || tpm == NULL || result == NULL)
    return CP_ERR_INVALID_ARG;
  memset(result, 0, sizeof *result);
  if (config->transport != CP_PROVISION_HTTPS) {
    cp_error_detail_set(&result->error, "transport",
                        "TPM attestation is offered over HTTPS only (protocol.md §5)");
    return CP_ERR_CONFIG;
  }
  if (config->registration_id == NULL || config->registration_id[0] == '\0' ||
      config->id_scope == NULL || config->host == NULL) {
    cp_error_detail_set(&result->error, "registration_id",
                        "TPM onboarding needs host, id scope and registration id");
    return CP_ERR_CONFIG;
  }
  deadline = cp_platform_monotonic_ms() +
             (config->timeout_ms ? config->timeout_ms : DEFAULT_TIMEOUT_MS);
  cfg = *config;
  cfg.onboarding = CP_ONBOARDING_TPM;
  cfg.signer = tpm_signer;
  cfg.signer_ctx = (void *)tpm;
  /* every register body, challenge leg and signed legs, carries the same tpm
   * member (protocol.md §5 steps 2 and 7) */
  r = public_b64(tpm, CP_TPM_KEY_EK, ek);
  if (r == CP_OK)
    r = public_b64(tpm, CP_TPM_KEY_SRK, srk);
  if (r != CP_OK) {
    cp_error_detail_set(&result->error, "tpm", "reading the EK and SRK failed (%s)",
                        cp_result_str(r));
    return r;
  }
  cfg.tpm_endorsement_key_b64 = ek;
  cfg.tpm_storage_root_key_b64 = srk;
  /* one operational key for both legs */
  if (cfg.key == NULL) {
    r = cp_key_generate_p384(&key);
    if (r != CP_OK)
      return r;
    cfg.key = &key;
  }
  have = has_identity(tpm);
  r = have < 0 ? (cp_result)have : CP_OK;
  for (int attempt = 0; r == CP_OK && attempt < 2; attempt++) {
    left = deadline - cp_platform_monotonic_ms();
    if (left <= 0) {
      r = CP_ERR_TIMEOUT;
      cp_error_detail_set(&result->error, NULL, "TPM provisioning timed out");
      break;
    }
    if (!have) {
      r = run_challenge(&cfg, tpm, cfg.key, transports ? transports->http : NULL,
                        (uint32_t)left, key_name, result);
      requests = result->requests;
      if (r != CP_OK)
        break;
      have = challenged = 1;
      left = deadline - cp_platform_monotonic_ms();
      if (left <= 0) {
        r = CP_ERR_TIMEOUT;
        break;
      }
    }
    cfg.signer_key_name = key_name;
    cfg.timeout_ms = (uint32_t)left;
    r = cp_provision_with(&cfg, transports, result);
    result->requests += requests;
    requests = result->requests;
    /* renewal with an identity key the server no longer knows: one new challenge */
    if (r == CP_ERR_UNAUTHORIZED && !challenged) {
      cp_log(CP_LOG_NOTICE, "tpm: identity key refused, asking for a new challenge");
      have = 0;
      r = CP_OK;
      continue;
    }
    break;
  }
  if (config->key == NULL)
    cp_key_wipe(&key); /* result->key holds the copy on success */
  if (r != CP_OK)
    cp_key_wipe(&result->key);
  return r;
}
