/* Roles, RBAC decisions and management bearer tokens. */
#include "cps_rbac.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "cps_pki.h"
#include "cps_service_internal.h"

const char *cps_role_name(cps_role role) {
  switch (role) {
  case CPS_ROLE_READER: return "reader";
  case CPS_ROLE_CONTRIBUTOR: return "credentials-contributor";
  default: return "none";
  }
}

cps_role cps_role_parse(const char *name) {
  if (!name) return CPS_ROLE_NONE;
  if (strcmp(name, "reader") == 0) return CPS_ROLE_READER;
  if (strcmp(name, "credentials-contributor") == 0) return CPS_ROLE_CONTRIBUTOR;
  return CPS_ROLE_NONE;
}

cps_result cps_rbac_check(cps_role role, cps_access access) {
  switch (role) {
  case CPS_ROLE_CONTRIBUTOR: return CPS_OK;
  case CPS_ROLE_READER: return access == CPS_ACCESS_READ ? CPS_OK : CPS_ERR_FORBIDDEN;
  default: return CPS_ERR_UNAUTHORIZED;
  }
}

static void sha256(const char *s, size_t len, unsigned char out[32]) {
  unsigned int n = 0;
  EVP_Digest(s, len, out, &n, EVP_sha256(), NULL);
}

static int name_ok(const char *name) {
  size_t n = name ? strlen(name) : 0;
  if (n == 0 || n >= 64) return 0;
  for (size_t i = 0; i < n; i++) {
    char c = name[i];
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_' || c == '.'))
      return 0;
  }
  return 1;
}

cps_result cps_token_create(cps_service *svc, const char *name, cps_role role, char *secret,
                            size_t secret_size, cps_error *err) {
  if (!name_ok(name))
    return cps_fail(err, CPS_ERR_INVALID, "token: name must be 1-63 of [A-Za-z0-9._-]");
  if (role == CPS_ROLE_NONE) return cps_fail(err, CPS_ERR_INVALID, "token: unknown role");
  if (secret_size < 64) return cps_fail(err, CPS_ERR_INVALID, "token: secret buffer too small");
  unsigned char raw[32];
  if (cps_pki_random(raw, sizeof raw) != CPS_OK) return CPS_ERR_CRYPTO;
  static const char alphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  char tok[64];
  size_t n = 0;
  n += (size_t)snprintf(tok, sizeof tok, "cpt_");
  for (size_t i = 0; i < sizeof raw; i++) tok[n++] = alphabet[raw[i] & 63];
  tok[n] = '\0';
  unsigned char h[32];
  sha256(tok, n, h);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc),
                         "INSERT INTO token(name, role, hash, created) VALUES(?, ?, ?, ?)", -1, &s,
                         NULL) != SQLITE_OK)
    return CPS_ERR_STORE;
  sqlite3_bind_text(s, 1, name, -1, SQLITE_STATIC);
  sqlite3_bind_text(s, 2, cps_role_name(role), -1, SQLITE_STATIC);
  sqlite3_bind_blob(s, 3, h, sizeof h, SQLITE_STATIC);
  sqlite3_bind_int64(s, 4, (long long)time(NULL));
  int rc = sqlite3_step(s);
  sqlite3_finalize(s);
  if (rc == SQLITE_CONSTRAINT) return cps_fail(err, CPS_ERR_CONFLICT, "token '%s' exists", name);
  if (rc != SQLITE_DONE) return CPS_ERR_STORE;
  memcpy(secret, tok, n + 1);
  OPENSSL_cleanse(tok, sizeof tok);
  return CPS_OK;
}

cps_result cps_token_authenticate(cps_service *svc, const char *authorization,
                                  cps_principal *out) {
  static const char prefix[] = "Bearer ";
  if (!authorization || strncmp(authorization, prefix, sizeof prefix - 1) != 0)
    return CPS_ERR_UNAUTHORIZED;
  const char *tok = authorization + sizeof prefix - 1;
  size_t len = strlen(tok);
  if (len == 0 || len > 128) return CPS_ERR_UNAUTHORIZED;
  unsigned char h[32];
  sha256(tok, len, h);
  sqlite3_stmt *s = NULL;
  if (sqlite3_prepare_v2(cps_service_db(svc), "SELECT name, role, hash FROM token", -1, &s, NULL) !=
      SQLITE_OK)
    return CPS_ERR_STORE;
  cps_result r = CPS_ERR_UNAUTHORIZED;
  while (sqlite3_step(s) == SQLITE_ROW) {
    if (sqlite3_column_bytes(s, 2) != 32) continue;
    if (CRYPTO_memcmp(sqlite3_column_blob(s, 2), h, 32) != 0) continue;
    cps_principal p;
    memset(&p, 0, sizeof p);
    snprintf(p.name, sizeof p.name, "%s", (const char *)sqlite3_column_text(s, 0));
    p.role = cps_role_parse((const char *)sqlite3_column_text(s, 1));
    if (p.role != CPS_ROLE_NONE) {
      *out = p;
      r = CPS_OK;
    }
    break;
  }
  sqlite3_finalize(s);
  return r;
}
