/* Blocking cp_provision(): drive the registration state machine over Paho or libcurl. */
#include "certpilot/cp_provision.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "certpilot/cp_csr.h"
#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "certpilot/cp_platform.h"
#include "certpilot/cp_posix_transport.h"
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_sas.h"
#include "cp_posix_file.h"

#define REPLY_MAX (64 * 1024)
#define DEFAULT_TIMEOUT_MS 60000

/* Everything one run needs; heap-allocated (large). */
typedef struct prov_run {
  const cp_provision_config *cfg;
  cp_provision_result *res;
  int64_t deadline_ms;
  char reg_id[CP_PROV_REG_ID_MAX];
  char sas[CP_SAS_TOKEN_MAX]; /* "" for X.509 */
  char csr_b64[CP_PROV_CSR_B64_MAX];
  cp_prov_client client;
  char topic[CP_PROV_TOPIC_MAX];
  char path[CP_PROV_HTTP_PATH_MAX];
  char body[CP_PROV_BODY_MAX];
  char reply_topic[512];
  char reply[REPLY_MAX];
  char file[16 * 1024];
  uint8_t der[CP_CERT_DER_MAX];
} prov_run;

void cp_provision_config_init(cp_provision_config *config)
{
  if (config == NULL)
    return;
  memset(config, 0, sizeof *config);
  config->transport = CP_PROVISION_MQTT;
  config->onboarding = CP_ONBOARDING_SYMMETRIC_KEY;
  config->timeout_ms = DEFAULT_TIMEOUT_MS;
  config->sas_lifetime_s = CP_SAS_DEFAULT_LIFETIME_S;
}

static int64_t remaining_ms(const prov_run *run)
{
  int64_t left = run->deadline_ms - cp_platform_monotonic_ms();

  return left > 0 ? left : 0;
}

static cp_result config_error(prov_run *run, const char *field, const char *why)
{
  cp_error_detail_set(&run->res->error, field, "configuration: %s", why);
  return CP_ERR_CONFIG;
}

static bool empty(const char *s)
{
  return s == NULL || s[0] == '\0';
}

/* Work out the registration id; for X.509 without one, the onboarding cert's CN. */
static cp_result resolve_registration_id(prov_run *run)
{
  const cp_provision_config *c = run->cfg;
  cp_cert_info *info;
  size_t len;
  cp_result r;

  if (!empty(c->registration_id)) {
    if (strlen(c->registration_id) >= sizeof run->reg_id)
      return config_error(run, "registration_id", "registration id is too long");
    strcpy(run->reg_id, c->registration_id);
  } else if (c->onboarding == CP_ONBOARDING_X509) {
    r = cp_posix_read_file(c->x509_cert_path, run->file, sizeof run->file, &len,
                           &run->res->error);
    if (r != CP_OK)
      return r == CP_ERR_BUFFER_TOO_SMALL ? CP_ERR_IO : r;
    info = malloc(sizeof *info);
    if (info == NULL)
      return CP_ERR_NO_MEMORY;
    r = cp_cert_parse((const uint8_t *)run->file, len, info);
    if (r == CP_OK)
      snprintf(run->reg_id, sizeof run->reg_id, "%s", info->subject_cn);
    free(info);
    if (r != CP_OK) {
      cp_error_detail_set(&run->res->error, "x509_cert_path",
                          "onboarding certificate %s does not parse", c->x509_cert_path);
      return r;
    }
  } else {
    return config_error(run, "registration_id", "a registration id is required");
  }
  if (cp_registration_id_validate(run->reg_id) != CP_OK)
    return config_error(run, "registration_id",
                        "registration id breaks the rules of protocol.md §4");
  return CP_OK;
}

static bool tpm_key_ok(const char *b64)
{
  return !empty(b64) && strlen(b64) < CP_PROV_TPM_KEY_B64_MAX;
}

static cp_result check_config(prov_run *run)
{
  const cp_provision_config *c = run->cfg;

  if (empty(c->host))
    return config_error(run, "host", "the provisioning host is required");
  if (empty(c->id_scope))
    return config_error(run, "id_scope", "the id scope is required");
  if (c->transport != CP_PROVISION_MQTT && c->transport != CP_PROVISION_MQTT_WS &&
      c->transport != CP_PROVISION_HTTPS)
    return config_error(run, "transport", "unknown transport");
  switch (c->onboarding) {
  case CP_ONBOARDING_SYMMETRIC_KEY:
  case CP_ONBOARDING_SYMMETRIC_GROUP_KEY:
    if (empty(c->symmetric_key))
      return config_error(run, "symmetric_key", "a symmetric key is required");
    break;
  case CP_ONBOARDING_X509:
    if (empty(c->x509_cert_path) || empty(c->x509_key_path))
      return config_error(run, "x509_cert_path",
                          "X.509 onboarding needs a certificate file and a key file");
    break;
  case CP_ONBOARDING_TPM:
    if (c->signer == NULL) {
      cp_error_detail_set(&run->res->error, "signer",
                          "TPM onboarding needs a signer (built with CERTPILOT_WITH_TPM)");
      return CP_ERR_UNSUPPORTED;
    }
    break;
  default:
    return config_error(run, "onboarding", "unknown onboarding kind");
  }
  if (c->tpm_endorsement_key_b64 != NULL || c->tpm_storage_root_key_b64 != NULL) {
    if (c->onboarding != CP_ONBOARDING_TPM)
      return config_error(run, "tpm_endorsement_key_b64",
                          "TPM keys are only sent with TPM onboarding");
    if (!tpm_key_ok(c->tpm_endorsement_key_b64))
      return config_error(run, "tpm_endorsement_key_b64",
                          "the TPM register body needs the EK (base64 TPM2B_PUBLIC)");
    if (!tpm_key_ok(c->tpm_storage_root_key_b64))
      return config_error(run, "tpm_storage_root_key_b64",
                          "the TPM register body needs the SRK (base64 TPM2B_PUBLIC)");
  }
  return resolve_registration_id(run);
}

/* The SAS token for the symmetric kinds and the TPM signer (protocol.md §4). */
static cp_result make_sas(prov_run *run)
{
  const cp_provision_config *c = run->cfg;
  char resource[CP_PROV_ID_SCOPE_MAX + CP_PROV_REG_ID_MAX + 16];
  char derived[CP_SAS_KEY_B64_MAX];
  int64_t expiry;
  size_t len;
  cp_result r;

  run->sas[0] = '\0';
  if (c->onboarding == CP_ONBOARDING_X509)
    return CP_OK;
  snprintf(resource, sizeof resource, "%s/registrations/%s", c->id_scope, run->reg_id);
  expiry = cp_platform_time_now() +
           (c->sas_lifetime_s ? c->sas_lifetime_s : CP_SAS_DEFAULT_LIFETIME_S);
  if (c->onboarding == CP_ONBOARDING_TPM) {
    char sts[sizeof resource * 3 + 32];
    uint8_t mac[32];
    r = cp_sas_string_to_sign(resource, expiry, sts, sizeof sts, &len);
    if (r == CP_OK)
      r = c->signer(c->signer_ctx, (const uint8_t *)sts, len, mac);
    if (r == CP_OK)
      r = cp_sas_token_from_signature(resource, mac, expiry,
                                      c->signer_key_name ? c->signer_key_name
                                                         : CP_SAS_KEY_NAME,
                                      run->sas, sizeof run->sas, &len);
    explicit_bzero(mac, sizeof mac);
    if (r != CP_OK)
      cp_error_detail_set(&run->res->error, "signer", "signing the SAS token failed");
    return r;
  }
  if (c->onboarding == CP_ONBOARDING_SYMMETRIC_GROUP_KEY) {
    r = cp_sas_derive_device_key(c->symmetric_key, run->reg_id, derived, sizeof derived, &len);
    if (r != CP_OK)
      return config_error(run, "symmetric_key", "group key is not base64 of 16-64 bytes");
  }
  r = cp_sas_token_build(resource,
                         c->onboarding == CP_ONBOARDING_SYMMETRIC_GROUP_KEY ? derived
                                                                           : c->symmetric_key,
                         expiry, CP_SAS_KEY_NAME, run->sas, sizeof run->sas, &len);
  explicit_bzero(derived, sizeof derived);
  if (r == CP_ERR_PARSE)
    return config_error(run, "symmetric_key", "symmetric key is not base64 of 16-64 bytes");
  return r;
}

static cp_result make_key_and_csr(prov_run *run)
{
  uint8_t csr[CP_CSR_DER_MAX];
  size_t len, b64len;
  cp_result r;

  if (run->cfg->key != NULL)
    run->res->key = *run->cfg->key;
  else if ((r = cp_key_generate_p384(&run->res->key)) != CP_OK)
    return r;
  r = cp_csr_build(&run->res->key, run->reg_id, csr, sizeof csr, &len);
  if (r == CP_OK)
    r = cp_csr_to_base64(csr, len, run->csr_b64, sizeof run->csr_b64, &b64len);
  if (r != CP_OK)
    cp_error_detail_set(&run->res->error, "csr", "building the CSR failed");
  return r;
}

static cp_result timeout_error(prov_run *run, const char *what)
{
  cp_error_detail_set(&run->res->error, "", "%s %s:%u within the %u ms timeout", what,
                      run->cfg->host, (unsigned)run->cfg->port, (unsigned)run->cfg->timeout_ms);
  return CP_ERR_TIMEOUT;
}

/* WAIT: sleep as told, unless that would pass the deadline. */
static cp_result do_wait(prov_run *run, const cp_prov_step *step)
{
  int64_t ms = (int64_t)step->wait_s * 1000;

  if (ms >= remaining_ms(run)) {
    /* keep what the server last said (status, errorCode) */
    run->res->error.status = step->detail->status;
    run->res->error.error_code = step->detail->error_code;
    cp_error_detail_set(&run->res->error, "retry-after",
                        "server answered %d and asked to retry after %u s, beyond the %u ms "
                        "timeout (%s)",
                        step->detail->status, (unsigned)step->wait_s,
                        (unsigned)run->cfg->timeout_ms, step->detail->message);
    return CP_ERR_TIMEOUT;
  }
  if (ms > 0)
    cp_platform_sleep_ms((uint32_t)ms);
  return CP_OK;
}

static cp_result run_mqtt(prov_run *run, cp_mqtt_transport *given)
{
  const cp_provision_config *c = run->cfg;
  cp_error_detail *err = &run->res->error;
  cp_mqtt_connect_options o;
  char username[CP_PROV_USERNAME_MAX];
  cp_posix_mqtt st;
  cp_mqtt_transport t;
  cp_prov_step step;
  size_t len;
  cp_result r;

  r = cp_prov_mqtt_username(c->id_scope, run->reg_id, username, sizeof username, &len);
  if (r != CP_OK)
    return config_error(run, "id_scope", "id scope or registration id too long");
  if (given != NULL)
    t = *given;
  else
    cp_posix_mqtt_transport_init(&st, &t);
  memset(&o, 0, sizeof o);
  o.host = c->host;
  o.port = c->port;
  o.wire = c->transport == CP_PROVISION_MQTT_WS ? CP_MQTT_WIRE_WSS : CP_MQTT_WIRE_TLS;
  o.client_id = run->reg_id;
  o.username = username;
  o.password = run->sas[0] ? run->sas : NULL;
  o.tls.trust_bundle_path = c->trust_bundle_path;
  if (c->onboarding == CP_ONBOARDING_X509) {
    o.tls.client_cert_path = c->x509_cert_path;
    o.tls.client_key_path = c->x509_key_path;
  }
  o.timeout_ms = (uint32_t)remaining_ms(run);
  r = t.vtable->connect(t.ctx, &o, err);
  cp_log(CP_LOG_DEBUG, "provision: connect %s (%lld ms left)", cp_result_str(r),
         (long long)remaining_ms(run));
  if (r == CP_OK)
    r = t.vtable->subscribe(t.ctx, CP_DPS_TOPIC_RES_FILTER, 1, err);
  cp_log(CP_LOG_DEBUG, "provision: subscribed %s (%lld ms left)", cp_result_str(r),
         (long long)remaining_ms(run));
  while (r == CP_OK) {
    cp_prov_client_next(&run->client, &step);
    if (step.action == CP_PROV_ACTION_DONE) {
      r = step.result;
      if (r != CP_OK)
        *err = *step.detail;
      break;
    }
    if (step.action == CP_PROV_ACTION_SEND) {
      r = cp_prov_client_mqtt_request(&run->client, run->topic, sizeof run->topic, run->body,
                                      sizeof run->body, &len);
      if (r == CP_OK)
        r = t.vtable->publish(t.ctx, run->topic, run->body, len, 1, err);
      run->res->requests++;
      cp_log(CP_LOG_DEBUG, "provision: published %s (%lld ms left)", run->topic,
             (long long)remaining_ms(run));
    } else if (step.action == CP_PROV_ACTION_WAIT) {
      r = do_wait(run, &step);
    } else {
      int64_t left = remaining_ms(run);
      if (left == 0) {
        r = timeout_error(run, "no provisioning reply from");
        break;
      }
      r = t.vtable->receive(t.ctx, run->reply_topic, sizeof run->reply_topic, run->reply,
                            sizeof run->reply, &len, (uint32_t)left, err);
      if (r == CP_ERR_TIMEOUT) {
        r = timeout_error(run, "no provisioning reply from");
      } else if (r == CP_OK) {
        cp_log(CP_LOG_DEBUG, "provision: received %s (%lld ms left)", run->reply_topic,
               (long long)remaining_ms(run));
        cp_result fed = cp_prov_client_on_mqtt_message(&run->client, run->reply_topic,
                                                       strlen(run->reply_topic), run->reply,
                                                       len);
        if (fed == CP_ERR_NOT_FOUND)
          cp_log(CP_LOG_DEBUG, "provision: ignoring message on %s", run->reply_topic);
      } else if (r == CP_ERR_BUFFER_TOO_SMALL) {
        r = CP_ERR_BAD_RESPONSE;
      }
    }
  }
  t.vtable->disconnect(t.ctx);
  cp_log(CP_LOG_DEBUG, "provision: disconnected (%lld ms left)", (long long)remaining_ms(run));
  return r;
}

static cp_result run_https(prov_run *run, cp_http_transport *given)
{
  const cp_provision_config *c = run->cfg;
  cp_error_detail *err = &run->res->error;
  cp_http_transport t;
  cp_http_header h[4];
  cp_http_request rq;
  cp_http_response resp;
  cp_prov_step step;
  const char *method;
  size_t len, nh;
  cp_result r;

  if (given != NULL) {
    t = *given;
    r = CP_OK;
  } else {
    r = cp_posix_http_transport_init(&t);
  }
  while (r == CP_OK) {
    cp_prov_client_next(&run->client, &step);
    if (step.action == CP_PROV_ACTION_DONE) {
      r = step.result;
      if (r != CP_OK)
        *err = *step.detail;
      break;
    }
    if (step.action == CP_PROV_ACTION_WAIT) {
      r = do_wait(run, &step);
      continue;
    }
    /* SEND (RECEIVE cannot happen: HTTPS replies synchronously) */
    r = cp_prov_client_http_request(&run->client, &method, run->path, sizeof run->path,
                                    run->body, sizeof run->body, &len);
    if (r != CP_OK)
      break;
    nh = 0;
    h[nh++] = (cp_http_header){"Accept", CP_HTTP_ACCEPT_JSON};
    if (len > 0)
      h[nh++] = (cp_http_header){"Content-Type", CP_HTTP_CONTENT_TYPE_JSON};
    if (run->sas[0])
      h[nh++] = (cp_http_header){"Authorization", run->sas};
    memset(&rq, 0, sizeof rq);
    rq.method = method;
    rq.host = c->host;
    rq.port = c->port;
    rq.path = run->path;
    rq.headers = h;
    rq.header_count = nh;
    rq.body = run->body;
    rq.body_len = len;
    rq.tls.trust_bundle_path = c->trust_bundle_path;
    if (c->onboarding == CP_ONBOARDING_X509) {
      rq.tls.client_cert_path = c->x509_cert_path;
      rq.tls.client_key_path = c->x509_key_path;
    }
    rq.timeout_ms = (uint32_t)remaining_ms(run);
    if (rq.timeout_ms == 0) {
      r = timeout_error(run, "no provisioning reply from");
      break;
    }
    memset(&resp, 0, sizeof resp);
    resp.body = run->reply;
    resp.body_size = sizeof run->reply;
    run->res->requests++;
    r = t.vtable->request(t.ctx, &rq, &resp, err);
    if (r == CP_ERR_BUFFER_TOO_SMALL)
      r = CP_ERR_BAD_RESPONSE;
    if (r == CP_OK)
      r = cp_prov_client_on_http_response(&run->client, resp.status,
                                          resp.retry_after[0] ? resp.retry_after : NULL,
                                          run->reply, resp.body_len);
  }
  return r;
}

static cp_result finish(prov_run *run)
{
  const cp_provision_config *c = run->cfg;
  const cp_prov_response *resp = cp_prov_client_response(&run->client);
  cp_der anchor, *anchor_p = NULL;
  size_t len, der_len, consumed;
  cp_result r;

  if (!empty(c->chain_anchor_path)) {
    r = cp_posix_read_file(c->chain_anchor_path, run->file, sizeof run->file, &len,
                           &run->res->error);
    if (r != CP_OK)
      return r == CP_ERR_BUFFER_TOO_SMALL ? CP_ERR_IO : r;
    r = cp_pem_decode(run->file, len, NULL, run->der, sizeof run->der, &der_len, &consumed);
    if (r != CP_OK)
      return config_error(run, "chain_anchor_path", "the chain anchor is not a PEM certificate");
    anchor.data = run->der;
    anchor.len = der_len;
    anchor_p = &anchor;
  }
  r = cp_prov_chain_check(resp, &run->res->key, run->reg_id, anchor_p, cp_platform_time_now(),
                          run->res->chain_pem, sizeof run->res->chain_pem,
                          &run->res->chain_pem_len, &run->res->error);
  if (r != CP_OK)
    return r;
  snprintf(run->res->device_id, sizeof run->res->device_id, "%s", resp->device_id);
  snprintf(run->res->assigned_hub, sizeof run->res->assigned_hub, "%s", resp->assigned_hub);
  return CP_OK;
}

cp_result cp_provision(const cp_provision_config *config, cp_provision_result *result)
{
  return cp_provision_with(config, NULL, result);
}

cp_result cp_provision_with(const cp_provision_config *config,
                            const cp_provision_transports *transports,
                            cp_provision_result *result)
{
  prov_run *run;
  cp_result r;

  if (config == NULL || result == NULL)
    return CP_ERR_INVALID_ARG;
  memset(result, 0, sizeof *result);
  run = calloc(1, sizeof *run);
  if (run == NULL)
    return CP_ERR_NO_MEMORY;
  run->cfg = config;
  run->res = result;
  run->deadline_ms = cp_platform_monotonic_ms() +
                     (config->timeout_ms ? config->timeout_ms : DEFAULT_TIMEOUT_MS);
  r = check_config(run);
  if (r == CP_OK)
    r = make_sas(run);
  if (r == CP_OK)
    r = make_key_and_csr(run);
  if (r == CP_OK)
    r = cp_prov_client_init(&run->client, config->id_scope, run->reg_id, run->csr_b64,
                            config->payload_json);
  if (r == CP_OK && config->tpm_endorsement_key_b64 != NULL)
    r = cp_prov_client_set_tpm(&run->client, config->tpm_endorsement_key_b64,
                               config->tpm_storage_root_key_b64);
  if (r == CP_OK)
    r = config->transport == CP_PROVISION_HTTPS
            ? run_https(run, transports ? transports->http : NULL)
            : run_mqtt(run, transports ? transports->mqtt : NULL);
  result->status = cp_prov_client_response(&run->client)->status;
  if (r == CP_OK)
    r = finish(run);
  snprintf(result->registration_id, sizeof result->registration_id, "%s", run->reg_id);
  if (r != CP_OK) {
    cp_key_wipe(&result->key);
    explicit_bzero(result->chain_pem, sizeof result->chain_pem);
    result->chain_pem_len = 0;
    result->device_id[0] = result->assigned_hub[0] = '\0';
    cp_log(CP_LOG_WARNING, "provision: %s: %s%s%s", cp_result_str(r), result->error.message,
           result->error.field[0] ? " field " : "", result->error.field);
  }
  explicit_bzero(run->sas, sizeof run->sas);
  free(run);
  return r;
}
