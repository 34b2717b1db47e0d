/* Service context: configuration + store + rate limiter state. */
#include "cps_service_internal.h"

#include <stdlib.h>
#include <string.h>

#include "cps_passphrase.h"
#include "cps_pki.h"

void cps_service_config_default(cps_service_config *cfg) {
  memset(cfg, 0, sizeof *cfg);
  cfg->id_scope = "0ne00000001";
  cfg->namespace_name = "certpilot";
  cfg->retry_after_s = 1;
  cfg->crl_next_update_s = 86400;
  cfg->rate_limit_burst = 100;
  cfg->sas_max_lifetime_s = 365L * 86400;
}

static cps_result init_meta(cps_service *svc, const char *key, const char *dflt, char **out) {
  cps_result r = cps_store_meta_get(svc->store, key, out);
  if (r != CPS_ERR_NOT_FOUND) return r;
  r = cps_store_meta_set(svc->store, key, dflt);
  if (r != CPS_OK) return r;
  return cps_store_meta_get(svc->store, key, out);
}

cps_result cps_service_open(const cps_service_config *cfg, cps_service **out, cps_error *err) {
  if (!cfg || !cfg->db_path) return cps_fail(err, CPS_ERR_INVALID, "service: no db_path");
  cps_service *svc = calloc(1, sizeof *svc);
  if (!svc) return CPS_ERR_NOMEM;
  svc->cfg = *cfg;
  svc->db_path = strdup(cfg->db_path);
  if (!svc->db_path) {
    free(svc);
    return CPS_ERR_NOMEM;
  }
  svc->cfg.db_path = svc->db_path;
  cps_result r = CPS_OK;
  if (cfg->ca_key_passphrase_file) {
    svc->ca_key_passphrase_file = strdup(cfg->ca_key_passphrase_file);
    svc->cfg.ca_key_passphrase_file = svc->ca_key_passphrase_file;
    r = svc->ca_key_passphrase_file ? cps_passphrase_read(cfg->ca_key_passphrase_file,
                                                          &svc->ca_key_pass, err)
                                    : CPS_ERR_NOMEM;
  }
  if (r == CPS_OK) r = cps_store_open(cfg->db_path, &svc->store, err);
  if (r == CPS_OK) r = init_meta(svc, "id_scope", cfg->id_scope ? cfg->id_scope : "0ne00000001",
                                 &svc->id_scope);
  if (r == CPS_OK)
    r = init_meta(svc, "namespace", cfg->namespace_name ? cfg->namespace_name : "certpilot",
                  &svc->namespace_name);
  if (r != CPS_OK) {
    if (err && !err->msg[0]) cps_fail(err, r, "service: cannot initialise the store");
    cps_service_close(svc);
    return r;
  }
  svc->cfg.id_scope = svc->id_scope;
  svc->cfg.namespace_name = svc->namespace_name;
  *out = svc;
  return CPS_OK;
}

void cps_service_close(cps_service *svc) {
  if (!svc) return;
  cps_store_close(svc->store);
  X509_free(svc->ica_cache_cert);
  EVP_PKEY_free(svc->ica_cache_key);
  X509_free(svc->ica_cache_root);
  free(svc->db_path);
  free(svc->id_scope);
  free(svc->namespace_name);
  free(svc->ca_key_passphrase_file);
  cps_passphrase_free(svc->ca_key_pass);
  free(svc);
}

cps_store *cps_service_store(cps_service *svc) { return svc->store; }
const cps_service_config *cps_service_config_get(const cps_service *svc) { return &svc->cfg; }
const char *cps_service_id_scope(const cps_service *svc) { return svc->id_scope; }
sqlite3 *cps_service_db(cps_service *svc) { return cps_store_db(svc->store); }

cps_result cps_service_key_to_pem(cps_service *svc, EVP_PKEY *key, char **pem) {
  return cps_pki_key_to_pem_pass(key, svc->ca_key_pass, pem);
}

cps_result cps_service_key_from_pem(cps_service *svc, const char *pem, EVP_PKEY **out) {
  return cps_pki_key_from_pem_pass(pem, svc->ca_key_pass, out);
}
