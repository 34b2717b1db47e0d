/* Registry reads shared by provisioning, issuance, the hub query and management. */
#include "cps_registry.h"

#include <stdlib.h>
#include <string.h>

#include "cps_pki.h"
#include "cps_service_internal.h"

static void copy_col(sqlite3_stmt *s, int col, char *dst, size_t size) {
  const char *v = (const char *)sqlite3_column_text(s, col);
  if (!v) v = "";
  size_t n = strlen(v);
  if (n >= size) n = size - 1;
  memcpy(dst, v, n);
  dst[n] = '\0';
}

void cps_enrollment_clear(cps_enrollment *e) {
  if (!e) return;
  free(e->x509_der);
  e->x509_der = NULL;
  e->x509_len = 0;
}

#define DEVICE_COLS "id, enrollment_id, hub, enabled, revocation_id, created, updated, etag"

static void device_row(sqlite3_stmt *s, cps_device *d) {
  memset(d, 0, sizeof *d);
  copy_col(s, 0, d->id, sizeof d->id);
  copy_col(s, 1, d->enrollment_id, sizeof d->enrollment_id);
  copy_col(s, 2, d->hub, sizeof d->hub);
  d->enabled = sqlite3_column_int(s, 3) != 0;
  copy_col(s, 4, d->revocation_id, sizeof d->revocation_id);
  d->created = sqlite3_column_int64(s, 5);
  d->updated = sqlite3_column_int64(s, 6);
  d->etag = sqlite3_column_int64(s, 7);
}

cps_result cps_device_get(cps_service *svc, const char *id, cps_device *out) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT " DEVICE_COLS " FROM device WHERE id=?", -1,
                         &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  cps_result r = CPS_ERR_NOT_FOUND;
  if (rc == SQLITE_ROW) {
    device_row(s, out);
    r = CPS_OK;
  } else if (rc != SQLITE_DONE) {
    r = CPS_ERR_STORE;
  }
  sqlite3_finalize(s);
  return r;
}

#define ENROLLMENT_COLS \
  "id, grp, x509, registration_id, primary_key, secondary_key, x509_cert, policy, hub, enabled"

static cps_result enrollment_row(sqlite3_stmt *s, cps_enrollment *e) {
  memset(e, 0, sizeof *e);
  copy_col(s, 0, e->id, sizeof e->id);
  e->group = sqlite3_column_int(s, 1) != 0;
  e->x509 = sqlite3_column_int(s, 2) != 0;
  copy_col(s, 3, e->registration_id, sizeof e->registration_id);
  copy_col(s, 4, e->primary_key, sizeof e->primary_key);
  copy_col(s, 5, e->secondary_key, sizeof e->secondary_key);
  int n = sqlite3_column_bytes(s, 6);
  if (n > 0) {
    e->x509_der = malloc((size_t)n);
    if (!e->x509_der) return CPS_ERR_NOMEM;
    memcpy(e->x509_der, sqlite3_column_blob(s, 6), (size_t)n);
    e->x509_len = (size_t)n;
  }
  copy_col(s, 7, e->policy, sizeof e->policy);
  copy_col(s, 8, e->hub, sizeof e->hub);
  e->enabled = sqlite3_column_int(s, 9) != 0;
  return CPS_OK;
}

cps_result cps_enrollment_get(cps_service *svc, const char *id, cps_enrollment *out) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT " ENROLLMENT_COLS " FROM enrollment WHERE id=?",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, id, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  cps_result r = CPS_ERR_NOT_FOUND;
  if (rc == SQLITE_ROW) {
    r = enrollment_row(s, out);
  } else if (rc != SQLITE_DONE) {
    r = CPS_ERR_STORE;
  }
  sqlite3_finalize(s);
  return r;
}

cps_result cps_enrollment_candidates(cps_service *svc, const char *registration_id,
                                     cps_enrollment **out, size_t *count) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "SELECT " ENROLLMENT_COLS " FROM enrollment WHERE (grp=0 AND "
                         "registration_id=?) OR grp=1 ORDER BY grp, id",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, registration_id, -1, SQLITE_STATIC);
  cps_enrollment *arr = NULL;
  size_t n = 0;
  cps_result r = CPS_OK;
  int rc;
  while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
    cps_enrollment *grown = realloc(arr, (n + 1) * sizeof *arr);
    if (!grown) {
      r = CPS_ERR_NOMEM;
      break;
    }
    arr = grown;
    r = enrollment_row(s, &arr[n]);
    n++;
    if (r != CPS_OK) break;
  }
  if (r == CPS_OK && rc != SQLITE_DONE) r = CPS_ERR_STORE;
  sqlite3_finalize(s);
  if (r != CPS_OK) {
    for (size_t i = 0; i < n; i++) cps_enrollment_clear(&arr[i]);
    free(arr);
    return r;
  }
  *out = arr;
  *count = n;
  return CPS_OK;
}

void cps_ica_clear(cps_ica *ica) {
  if (!ica) return;
  X509_free(ica->cert);
  EVP_PKEY_free(ica->key);
  X509_free(ica->root);
  memset(ica, 0, sizeof *ica);
}

static X509 *blob_cert(sqlite3_stmt *s, int col) {
  int n = sqlite3_column_bytes(s, col);
  if (n <= 0) return NULL;
  X509 *c = NULL;
  if (cps_pki_cert_from_der(sqlite3_column_blob(s, col), (size_t)n, &c) != CPS_OK) return NULL;
  return c;
}

cps_result cps_ica_load_active(cps_service *svc, const char *policy_name, cps_ica *out,
                               cps_error *err) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(
          cps_service_db(svc),
          "SELECT p.id, p.validity_s, p.state, p.deleted, i.id, i.cert, i.key, "
          " COALESCE(i.root, c.root_cert) FROM policy p"
          " LEFT JOIN ica i ON i.policy_id = p.id AND i.state = 'active'"
          " LEFT JOIN credential c ON c.id = p.credential_id AND c.deleted = 0"
          " WHERE p.name = ? ORDER BY p.deleted ASC, p.id DESC LIMIT 1",
          -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, policy_name, -1, SQLITE_STATIC);
  int rc = sqlite3_step(s);
  cps_result r;
  if (rc == SQLITE_DONE) {
    r = cps_fail(err, CPS_ERR_NOT_FOUND, "policy '%s' does not exist", policy_name);
  } else if (rc != SQLITE_ROW) {
    r = CPS_ERR_STORE;
  } else if (sqlite3_column_int(s, 3)) {
    r = cps_fail(err, CPS_ERR_CONFLICT, "policy '%s' was deleted", policy_name);
  } else if (strcmp((const char *)sqlite3_column_text(s, 2), "active") != 0 ||
             sqlite3_column_type(s, 4) == SQLITE_NULL) {
    r = cps_fail(err, CPS_ERR_CONFLICT, "policy '%s' is not active (BYOR certificate pending)",
                 policy_name);
  } else if (sqlite3_column_type(s, 7) == SQLITE_NULL) {
    r = cps_fail(err, CPS_ERR_CONFLICT, "policy '%s' has no root (credential deleted)",
                 policy_name);
  } else {
    cps_ica ica;
    memset(&ica, 0, sizeof ica);
    ica.policy_id = sqlite3_column_int64(s, 0);
    ica.validity_s = (long)sqlite3_column_int64(s, 1);
    ica.id = sqlite3_column_int64(s, 4);
    if (svc->ica_cache_id == ica.id && svc->ica_cache_cert) {
      ica.cert = svc->ica_cache_cert;
      ica.key = svc->ica_cache_key;
      ica.root = svc->ica_cache_root;
      X509_up_ref(ica.cert);
      EVP_PKEY_up_ref(ica.key);
      X509_up_ref(ica.root);
    } else {
      ica.cert = blob_cert(s, 5);
      ica.root = blob_cert(s, 7);
      const char *key = (const char *)sqlite3_column_text(s, 6);
      if (key) cps_service_key_from_pem(svc, key, &ica.key);
    }
    if (!ica.cert || !ica.root || !ica.key) {
      cps_ica_clear(&ica);
      r = cps_fail(err, CPS_ERR_CRYPTO, "policy '%s': stored CA does not load", policy_name);
    } else {
      if (svc->ica_cache_id != ica.id) {
        X509_free(svc->ica_cache_cert);
        EVP_PKEY_free(svc->ica_cache_key);
        X509_free(svc->ica_cache_root);
        svc->ica_cache_id = ica.id;
        svc->ica_cache_cert = ica.cert;
        svc->ica_cache_key = ica.key;
        svc->ica_cache_root = ica.root;
        X509_up_ref(ica.cert);
        EVP_PKEY_up_ref(ica.key);
        X509_up_ref(ica.root);
      }
      *out = ica;
      r = CPS_OK;
    }
  }
  sqlite3_finalize(s);
  return r;
}

cps_result cps_issued_record(cps_service *svc, const char *serial_hex, const char *device_id,
                             long long ica_id, long long not_before, long long not_after) {
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "INSERT INTO issued(serial, device_id, ica_id, not_before, not_after)"
                         " VALUES(?, ?, ?, ?, ?)",
                         -1, &s, NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, serial_hex, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, device_id, -1, SQLITE_STATIC);
  sqlite3_bind_int64(s, 3, ica_id);
  sqlite3_bind_int64(s, 4, not_before);
  sqlite3_bind_int64(s, 5, not_after);
  cps_result r = sqlite3_step(s) == SQLITE_DONE ? CPS_OK : CPS_ERR_STORE;
  sqlite3_finalize(s);
  return r;
}
