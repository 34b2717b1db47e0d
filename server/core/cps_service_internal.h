/**
 * @file cps_service_internal.h
 * @brief Private layout of ::cps_service and helpers shared by the core's .c files.
 */
#ifndef CPS_SERVICE_INTERNAL_H
#define CPS_SERVICE_INTERNAL_H

#include <sqlite3.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "cps_service.h"

struct cps_service {
  cps_service_config cfg; /* strings point at the copies below */
  cps_store *store;
  char *db_path;
  char *id_scope;
  char *namespace_name;
  char *ca_key_passphrase_file;
  char *ca_key_pass; /* passphrase of the CA keys in the store, or NULL (unencrypted) */
  /* Last issuing CA loaded for signing: an ICA row's certificate, key and root never change
   * once it is active, so the parsed objects are reused while the row id stays the same
   * (parsing a PEM key through OpenSSL 3's decoders costs more than a signature). */
  long long ica_cache_id;
  X509 *ica_cache_cert;
  EVP_PKEY *ica_cache_key;
  X509 *ica_cache_root;
};

/** @brief The store's connection. */
sqlite3 *cps_service_db(cps_service *svc);

/**
 * @brief PEM of CA key @p key as it is kept in the store: encrypted PKCS#8 when the service
 *        has a CA key passphrase, else unencrypted (cps_pki_key_to_pem_pass()).
 */
cps_result cps_service_key_to_pem(cps_service *svc, EVP_PKEY *key, char **pem);
/** @brief Parse a CA key read from the store, encrypted or not (cps_pki_key_from_pem_pass()). */
cps_result cps_service_key_from_pem(cps_service *svc, const char *pem, EVP_PKEY **out);

#endif
