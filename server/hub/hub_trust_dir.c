/* Hashed CA directory (OpenSSL capath) kept in step with a PEM bundle. */
#include "hub_trust_dir.h"

#include <dirent.h>
#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define PLACEHOLDER_CN "certpilot placeholder (trusts nothing)"

typedef struct entry {
  char name[16];   /* "xxxxxxxx.n" */
  char *pem;       /* malloc'd PEM of one certificate */
} entry;

static void entries_free(entry *e, size_t n) {
  for (size_t i = 0; i < n; i++) free(e[i].pem);
  free(e);
}

/* Parse the bundle into named entries. */
static cp_result parse_bundle(const char *pem, size_t len, entry **out, size_t *count) {
  BIO *in = BIO_new_mem_buf(pem, (int)len);
  if (!in) return CP_ERR_NO_MEMORY;
  entry *e = NULL;
  size_t n = 0;
  cp_result r = CP_OK;
  for (;;) {
    X509 *x = PEM_read_bio_X509(in, NULL, NULL, NULL);
    if (!x) {
      unsigned long code = ERR_peek_last_error();
      if (ERR_GET_REASON(code) == PEM_R_NO_START_LINE) ERR_clear_error();
      else if (code) {
        ERR_clear_error();
        r = CP_ERR_PARSE;
      }
      break;
    }
    unsigned long h = X509_subject_name_hash(x);
    unsigned idx = 0;
    for (size_t i = 0; i < n; i++) {
      unsigned long hh = strtoul(e[i].name, NULL, 16);
      if (hh == h) idx++;
    }
    BIO *mem = BIO_new(BIO_s_mem());
    char *text = NULL;
    if (mem && PEM_write_bio_X509(mem, x)) {
      char *data = NULL;
      long dlen = BIO_get_mem_data(mem, &data);
      text = malloc((size_t)dlen + 1);
      if (text) {
        memcpy(text, data, (size_t)dlen);
        text[dlen] = '\0';
      }
    }
    BIO_free(mem);
    X509_free(x);
    entry *ne = text ? realloc(e, (n + 1) * sizeof *e) : NULL;
    if (!ne) {
      free(text);
      r = CP_ERR_NO_MEMORY;
      break;
    }
    e = ne;
    snprintf(e[n].name, sizeof e[n].name, "%08lx.%u", h & 0xffffffffUL, idx);
    e[n].pem = text;
    n++;
  }
  BIO_free(in);
  if (r != CP_OK) {
    entries_free(e, n);
    return r;
  }
  *out = e;
  *count = n;
  return CP_OK;
}

static int is_hash_name(const char *s) {
  if (strlen(s) < 10) return 0;
  for (int i = 0; i < 8; i++)
    if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f'))) return 0;
  if (s[8] != '.') return 0;
  for (const char *p = s + 9; *p; p++)
    if (*p < '0' || *p > '9') return 0;
  return 1;
}

/* 1 when file @p path holds exactly @p text. */
static int same_content(const char *path, const char *text) {
  FILE *f = fopen(path, "rb");
  if (!f) return 0;
  size_t want = strlen(text);
  char *buf = malloc(want + 1);
  int same = 0;
  if (buf) {
    size_t got = fread(buf, 1, want + 1, f);
    same = got == want && memcmp(buf, text, want) == 0;
  }
  free(buf);
  fclose(f);
  return same;
}

static cp_result write_atomic(const char *dir, const char *name, const char *text) {
  char tmp[4096], path[4096];
  if (snprintf(path, sizeof path, "%s/%s", dir, name) >= (int)sizeof path) return CP_ERR_IO;
  if (snprintf(tmp, sizeof tmp, "%s/.%s.tmp", dir, name) >= (int)sizeof tmp) return CP_ERR_IO;
  FILE *f = fopen(tmp, "wb");
  if (!f) return CP_ERR_IO;
  size_t n = strlen(text);
  int ok = fwrite(text, 1, n, f) == n;
  ok = (fclose(f) == 0) && ok;
  if (ok) ok = chmod(tmp, 0644) == 0;
  if (ok) ok = rename(tmp, path) == 0;
  if (!ok) {
    unlink(tmp);
    return CP_ERR_IO;
  }
  return CP_OK;
}

cp_result hub_trust_dir_sync(const char *dir, const char *pem, size_t len, int *changed) {
  if (!dir || (!pem && len)) return CP_ERR_INVALID_ARG;
  entry *e = NULL;
  size_t n = 0;
  cp_result r = len ? parse_bundle(pem, len, &e, &n) : CP_OK;
  if (r != CP_OK) return r;
  int did = 0;
  for (size_t i = 0; i < n && r == CP_OK; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir, e[i].name);
    if (same_content(path, e[i].pem)) continue;
    r = write_atomic(dir, e[i].name, e[i].pem);
    did = 1;
  }
  if (r == CP_OK) {
    DIR *d = opendir(dir);
    if (!d) {
      r = CP_ERR_IO;
    } else {
      struct dirent *de;
      while ((de = readdir(d)) != NULL) {
        if (!is_hash_name(de->d_name)) continue;
        int keep = 0;
        for (size_t i = 0; i < n && !keep; i++) keep = strcmp(e[i].name, de->d_name) == 0;
        if (keep) continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        if (unlink(path) != 0) r = CP_ERR_IO;
        did = 1;
      }
      closedir(d);
    }
  }
  entries_free(e, n);
  if (changed) *changed = did;
  return r;
}

/* A self-signed certificate nobody holds the key of. */
static char *placeholder_pem(void) {
  EVP_PKEY *k = EVP_EC_gen("P-256");
  X509 *x = X509_new();
  char *out = NULL;
  BIO *b = BIO_new(BIO_s_mem());
  if (!k || !x || !b) goto done;
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 1);
  X509_gmtime_adj(X509_getm_notBefore(x), 0);
  X509_gmtime_adj(X509_getm_notAfter(x), 3600L * 24 * 365);
  X509_NAME *n = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(n, "CN", MBSTRING_ASC,
                             (const unsigned char *)PLACEHOLDER_CN, -1, -1, 0);
  X509_set_issuer_name(x, n);
  if (!X509_set_pubkey(x, k) || X509_sign(x, k, EVP_sha256()) <= 0 || !PEM_write_bio_X509(b, x))
    goto done;
  char *data = NULL;
  long dlen = BIO_get_mem_data(b, &data);
  out = malloc((size_t)dlen + 1);
  if (out) {
    memcpy(out, data, (size_t)dlen);
    out[dlen] = '\0';
  }
done:
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(k);
  return out;
}

/* 1 when @p path holds a placeholder written by us. */
static int is_placeholder_file(const char *path) {
  BIO *bio = BIO_new_file(path, "r");
  X509 *x = bio ? PEM_read_bio_X509(bio, NULL, NULL, NULL) : NULL;
  char cn[128] = "";
  if (x) X509_NAME_get_text_by_NID(X509_get_subject_name(x), NID_commonName, cn, sizeof cn);
  X509_free(x);
  BIO_free(bio);
  ERR_clear_error();
  return strcmp(cn, PLACEHOLDER_CN) == 0;
}

cp_result hub_trust_file_sync(const char *path, const char *pem, size_t len, int *changed) {
  if (!path || (!pem && len)) return CP_ERR_INVALID_ARG;
  entry *e = NULL;
  size_t n = 0;
  cp_result r = len ? parse_bundle(pem, len, &e, &n) : CP_OK;
  if (r != CP_OK) return r;
  size_t total = 1;
  for (size_t i = 0; i < n; i++) total += strlen(e[i].pem);
  char *text = malloc(total);
  if (!text) {
    entries_free(e, n);
    return CP_ERR_NO_MEMORY;
  }
  text[0] = '\0';
  for (size_t i = 0; i < n; i++) strcat(text, e[i].pem);
  entries_free(e, n);
  if (n == 0) {
    free(text);
    if (is_placeholder_file(path)) { /* regenerating it would look like a change */
      if (changed) *changed = 0;
      return CP_OK;
    }
    text = placeholder_pem();
    if (!text) return CP_ERR_CRYPTO;
  }
  int did = !same_content(path, text);
  if (did) {
    const char *slash = strrchr(path, '/');
    char dir[4096];
    if (!slash) {
      snprintf(dir, sizeof dir, ".");
    } else {
      size_t dl = (size_t)(slash - path);
      if (dl >= sizeof dir) dl = sizeof dir - 1;
      memcpy(dir, path, dl);
      dir[dl] = '\0';
    }
    r = write_atomic(dir, slash ? slash + 1 : path, text);
  }
  free(text);
  if (r == CP_OK && changed) *changed = did;
  return r;
}
