/* CA private keys in the store: start-up check and encryption of unencrypted ones. */
#include "cps_ca_keys.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cps_pki.h"
#include "cps_service_internal.h"

/* The columns that hold CA private keys (PEM text). */
static const struct {
  const char *table;
  const char *select; /* id, key of every row with a key */
  const char *update; /* key=?1 WHERE id=?2 */
} KEY_COLUMNS[] = {
    {"credential", "SELECT id, root_key FROM credential WHERE root_key IS NOT NULL",
     "UPDATE credential SET root_key=?1 WHERE id=?2"},
    {"ica", "SELECT id, key FROM ica", "UPDATE ica SET key=?1 WHERE id=?2"},
};

typedef struct key_row {
  long long id;
  char *pem;
} key_row;

static void rows_free(key_row *rows, size_t n) {
  for (size_t i = 0; i < n; i++) {
    if (rows[i].pem) OPENSSL_cleanse(rows[i].pem, strlen(rows[i].pem));
    free(rows[i].pem);
  }
  free(rows);
}

/* Read every key row of column set @p c into a malloc'd array (read before any row is rewritten). */
static cps_result rows_read(cps_service *svc, size_t c, key_row **out, size_t *count) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc), KEY_COLUMNS[c].select, -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  key_row *rows = NULL;
  size_t n = 0;
  cps_result r = CPS_OK;
  int rc = SQLITE_DONE;
  while (r == CPS_OK && (rc = sqlite3_step(s)) == SQLITE_ROW) {
    key_row *grown = realloc(rows, (n + 1) * sizeof *rows);
    const char *pem = (const char *)sqlite3_column_text(s, 1);
    if (!grown) {
      r = CPS_ERR_NOMEM;
      break;
    }
    rows = grown;
    rows[n].id = sqlite3_column_int64(s, 0);
    rows[n].pem = strdup(pem ? pem : "");
    if (!rows[n++].pem) r = CPS_ERR_NOMEM;
  }
  if (r == CPS_OK && rc != SQLITE_DONE) r = CPS_ERR_STORE;
  sqlite3_finalize(s);
  if (r != CPS_OK) {
    rows_free(rows, n);
    return r;
  }
  *out = rows;
  *count = n;
  return CPS_OK;
}

/* Why row @p row of column set @p c does not load. */
static cps_result load_failure(cps_service *svc, size_t c, const key_row *row, cps_error *err) {
  const char *t = KEY_COLUMNS[c].table;
  if (!cps_pki_key_pem_encrypted(row->pem))
    return cps_fail(err, CPS_ERR_CRYPTO, "the CA key of %s %lld does not parse", t, row->id);
  if (!svc->ca_key_pass)
    return cps_fail(err, CPS_ERR_UNAUTHORIZED,
                    "the CA keys in %s are encrypted: set ca-key-passphrase-file "
                    "(--ca-key-passphrase-file FILE) to the file holding their passphrase",
                    svc->db_path);
  return cps_fail(err, CPS_ERR_UNAUTHORIZED,
                  "the passphrase in %s does not decrypt the CA keys (%s %lld); "
                  "nothing was changed",
                  svc->ca_key_passphrase_file, t, row->id);
}

/* Rewrite row @p row of column set @p c as encrypted PEM of @p key. */
static cps_result row_encrypt(cps_service *svc, size_t c, const key_row *row, EVP_PKEY *key) {
  char *pem = NULL;
  cps_result r = cps_service_key_to_pem(svc, key, &pem);
  if (r != CPS_OK) return r;
  sqlite3_stmt *s = NULL;
  r = CPS_ERR_STORE;
  if (sqlite3_prepare_v2(cps_service_db(svc), KEY_COLUMNS[c].update, -1, &s, NULL) == SQLITE_OK) {
    sqlite3_bind_text(s, 1, pem, -1, SQLITE_STATIC);
    sqlite3_bind_int64(s, 2, row->id);
    if (sqlite3_step(s) == SQLITE_DONE && sqlite3_changes(cps_service_db(svc)) == 1) r = CPS_OK;
  }
  sqlite3_finalize(s);
  OPENSSL_cleanse(pem, strlen(pem));
  free(pem);
  return r;
}

/* Check (and with a passphrase, encrypt) every key of column set @p c; *done counts rewrites. */
static cps_result column_prepare(cps_service *svc, size_t c, size_t *done, cps_error *err) {
  key_row *rows = NULL;
  size_t n = 0;
  cps_result r = rows_read(svc, c, &rows, &n);
  for (size_t i = 0; r == CPS_OK && i < n; i++) {
    EVP_PKEY *key = NULL;
    if (cps_service_key_from_pem(svc, rows[i].pem, &key) != CPS_OK) {
      r = load_failure(svc, c, &rows[i], err);
    } else if (svc->ca_key_pass && !cps_pki_key_pem_encrypted(rows[i].pem)) {
      r = row_encrypt(svc, c, &rows[i], key);
      if (r == CPS_OK) (*done)++;
    }
    EVP_PKEY_free(key);
  }
  rows_free(rows, n);
  return r;
}

cps_result cps_ca_keys_prepare(cps_service *svc, size_t *encrypted_now, cps_error *err) {
  bool migrate = svc->ca_key_pass != NULL;
  size_t done = 0;
  cps_result r = migrate ? cps_store_begin(svc->store) : CPS_OK;
  for (size_t c = 0; r == CPS_OK && c < sizeof KEY_COLUMNS / sizeof KEY_COLUMNS[0]; c++)
    r = column_prepare(svc, c, &done, err);
  if (migrate && r == CPS_OK) r = cps_store_commit(svc->store);
  else if (migrate) cps_store_rollback(svc->store);
  if (r != CPS_OK) {
    if (err && !err->msg[0]) cps_fail(err, r, "CA keys: cannot check or encrypt the stored keys");
    return r;
  }
  *encrypted_now = done;
  return CPS_OK;
}
