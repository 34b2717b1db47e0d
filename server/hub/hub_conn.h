/**
 * @file hub_conn.h
 * @brief Table of authenticated clients inside the mosquitto plugin: who a
 *        client is (DPS registration or hub device), how it proved it (SAS
 *        password or client certificate), and for hub devices the twin
 *        desired version it has been sent.
 *
 * Entries are keyed by the broker's client pointer (used as an opaque key,
 * never dereferenced here). Single-threaded, like mosquitto.
 */
#ifndef CERTPILOT_SERVER_HUB_CONN_H
#define CERTPILOT_SERVER_HUB_CONN_H

#include <stddef.h>

#include <openssl/x509.h>

#include "hub_topic.h"

#ifdef __cplusplus
extern "C" {
#endif

/** One authenticated client. */
typedef struct hub_conn {
  const void *client;          /**< broker client pointer (key) */
  hub_username who;            /**< parsed username: kind, scope, id, api-version */
  char *password;              /**< malloc'd SAS token (DPS symmetric key), or NULL; never logged */
  X509 *cert;                  /**< client certificate (owned reference) or NULL */
  long long desired_sent;      /**< hub devices: last desired $version sent (or seen at connect) */
} hub_conn;

/** The table. Zero-initialise, free with hub_conn_table_clear(). */
typedef struct hub_conn_table {
  hub_conn *items; /**< malloc'd array */
  size_t count;    /**< used entries */
  size_t cap;      /**< allocated entries */
} hub_conn_table;

/**
 * @brief Add (or replace) the entry for @p client. Takes ownership of
 *        @p password (malloc'd) and of the @p cert reference, also on failure
 *        (they are freed then). Entries of other clients with the same hub
 *        device id are removed: the broker is taking the device's old
 *        connection over.
 * @return the stored entry, or NULL when out of memory.
 */
hub_conn *hub_conn_put(hub_conn_table *t, const void *client, const hub_username *who,
                       char *password, X509 *cert);

/** @brief The entry for @p client, or NULL. */
hub_conn *hub_conn_find(hub_conn_table *t, const void *client);

/** @brief Remove (and free) the entry for @p client, if any. */
void hub_conn_remove(hub_conn_table *t, const void *client);

/** @brief Remove and free everything. */
void hub_conn_table_clear(hub_conn_table *t);

#ifdef __cplusplus
}
#endif
#endif
