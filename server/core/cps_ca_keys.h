/**
 * @file cps_ca_keys.h
 * @brief The CA private keys in the store (namespace root CA, policy issuing CAs) at server
 *        start: check that every one loads with the configured passphrase (or without one),
 *        and encrypt those still stored unencrypted (docs/server.md, "CA keys at rest").
 */
#ifndef CPS_CA_KEYS_H
#define CPS_CA_KEYS_H

#include <stddef.h>

#include "cps_result.h"
#include "cps_service.h"

/**
 * @brief Check and migrate the stored CA keys of @p svc; call once at start-up, before the
 *        service's front ends run.
 *
 * Every CA key row (credential.root_key, ica.key) is parsed with the service's passphrase
 * (cps_service_config::ca_key_passphrase_file). With a passphrase, the keys still stored as
 * unencrypted PEM are re-written as encrypted PKCS#8 PEM, all in one transaction; on any
 * failure nothing in the store changes. Messages name the option and the row, never a key
 * or the passphrase.
 *
 * @param encrypted_now receives the number of keys encrypted by this call (0 without a passphrase).
 * @return CPS_OK; CPS_ERR_UNAUTHORIZED (keys encrypted but no passphrase configured, or the
 *         passphrase does not decrypt them); CPS_ERR_CRYPTO (a stored key does not parse or
 *         cannot be encrypted); CPS_ERR_STORE; CPS_ERR_NOMEM.
 */
cps_result cps_ca_keys_prepare(cps_service *svc, size_t *encrypted_now, cps_error *err);

#endif
