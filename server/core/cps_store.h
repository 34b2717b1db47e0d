/**
 * @file cps_store.h
 * @brief SQLite (WAL) store of the reference server: schema and transactions.
 *
 * One ::cps_store wraps one sqlite3 connection. It is NOT thread-safe: use one
 * store per thread or process (WAL lets several processes share a file; a busy
 * timeout of 5 s is set). Tables created by cps_store_open():
 *
 *   meta(key PRIMARY KEY, value)                       server-wide settings (id scope, namespace)
 *   credential(id, created, root_cert DER, root_key PEM, deleted)   at most one live row;
 *       CA keys (root_key, ica.key): PKCS#8 PEM, encrypted when a passphrase is set (cps_ca_keys.h)
 *   policy(id, name, validity_s, byor, state, deleted, created)     state: pending|active
 *   ica(id, policy_id, cert DER|NULL, key PEM, csr DER|NULL, chain DER|NULL,
 *       state active|pending|revoked|retired, trusted 0/1, revoked_at, created)
 *   enrollment(id, kind individual|group, attestation symmetric|x509, registration_id,
 *       primary_key, secondary_key, x509_cert DER, policy, hub, enabled, created)
 *   device(id, enrollment_id, hub, enabled, revocation_id, created, updated, etag)
 *   issued(serial hex, device_id, ica_id, not_before, not_after, revoked, revoked_at)
 *   operation(id, registration_id, status, result JSON, created)
 *   audit(seq, time, token_name, role, operation, target, result)   append-only
 *   token(name, role, hash)                                       management bearer tokens
 *   crl(scope, gen, number, der, this_update)                     last CRL per issuer
 *
 * Extra tables (e.g. the hub's twins) may be created by other components through
 * cps_store_db(); prefix them with the component name (`hub_twin`, ...).
 */
#ifndef CPS_STORE_H
#define CPS_STORE_H

#include <sqlite3.h>

#include "cps_result.h"

/** Opaque store handle. */
typedef struct cps_store cps_store;

/**
 * @brief Open (creating if needed, mode 0600) the database at @p path, enable WAL and
 *        foreign keys, and create the schema if missing. An existing file is opened by
 *        SQLite only (never open()/close()d here: that would drop the POSIX locks of the
 *        process's other connections; see docs/server.md, "For the hub").
 * @param path file path; ":memory:" works for unit tests.
 * @param out  receives a new store on success (free with cps_store_close()); untouched on failure.
 * @return CPS_OK, CPS_ERR_STORE (cannot open / schema error, detail in @p err), CPS_ERR_NOMEM.
 */
cps_result cps_store_open(const char *path, cps_store **out, cps_error *err);

/** @brief Close and free @p st (NULL allowed). */
void cps_store_close(cps_store *st);

/** @brief The underlying connection (owned by @p st) for component-specific tables/queries. */
sqlite3 *cps_store_db(cps_store *st);

/** @brief BEGIN IMMEDIATE. Returns CPS_ERR_STORE on failure. Transactions do not nest. */
cps_result cps_store_begin(cps_store *st);
/** @brief COMMIT. Returns CPS_ERR_STORE on failure (the transaction is then rolled back). */
cps_result cps_store_commit(cps_store *st);
/** @brief ROLLBACK (ignored when no transaction is open). */
void cps_store_rollback(cps_store *st);

/** @brief Read meta value @p key into a malloc'd string (*out, caller frees); CPS_ERR_NOT_FOUND if absent. */
cps_result cps_store_meta_get(cps_store *st, const char *key, char **out);
/** @brief Insert or replace meta value @p key. */
cps_result cps_store_meta_set(cps_store *st, const char *key, const char *value);

#endif
