/* Load benchmark of certpilot-server's DPS HTTPS endpoint.
 *
 * Registers N devices through a group symmetric-key enrollment, C at a time, each with a fresh
 * TLS connection (register + poll on that connection), a P-384 CSR and a SAS token made before
 * the clock starts. Reports registrations/s and p50/p99 latency, next to the crypto bound
 * measured in the same run, before and after the load: per registration one P-384 ECDSA sign
 * (the leaf), one verify (the CSR) and one TLS handshake (client + server, in memory, server
 * certificate P-384), run as CORES loops at once.
 *
 * Environment (as exported by tests/integration/server/harness.sh): CERTPILOT_DPS_URL,
 * CERTPILOT_MGMT_URL, CERTPILOT_ID_SCOPE, CERTPILOT_TRUST_BUNDLE, CERTPILOT_ADMIN_TOKEN.
 * Usage: bench_register [-n DEVICES] [-c CONCURRENCY] [-k CORES]
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "cps_b64.h"
#include "cps_pki.h"
#include "cps_sas.h"

typedef struct device {
  char id[32];
  char *body;
  char auth[700];
  double latency;
  int ok;
} device;

static const char *dps_url, *mgmt_url, *scope, *bundle, *token;
static device *devs;
static int n_dev = 200, n_conc = 8, n_cores = 2;
static int next_dev;
static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct buf {
  char *d;
  size_t n;
} buf;

static size_t sink(char *p, size_t s, size_t n, void *arg) {
  buf *b = arg;
  char *g = realloc(b->d, b->n + s * n + 1);
  if (!g) return 0;
  memcpy(g + b->n, p, s * n);
  b->n += s * n;
  g[b->n] = 0;
  b->d = g;
  return s * n;
}

static long http(CURL *c, const char *method, const char *url, const char *auth, const char *body,
                 buf *out) {
  struct curl_slist *h = NULL;
  h = curl_slist_append(h, "Content-Type: application/json");
  if (auth) h = curl_slist_append(h, auth);
  out->n = 0;
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_CAINFO, bundle);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, out);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  if (!body) curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
  long status = 0;
  if (curl_easy_perform(c) == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  return status;
}

static int mgmt(const char *method, const char *path, const char *body, long want) {
  CURL *c = curl_easy_init();
  char url[512], auth[200];
  snprintf(url, sizeof url, "%s%s", mgmt_url, path);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", token);
  buf b = {0};
  long st = http(c, method, url, auth, body, &b);
  curl_easy_cleanup(c);
  if (st != want) fprintf(stderr, "bench: %s %s -> %ld %s\n", method, path, st, b.d ? b.d : "");
  free(b.d);
  return st == want ? 0 : -1;
}

/* One registration on handle @p c: a fresh connection and a full TLS handshake (no session
 * resumption), PUT register, then GET the operation on that connection until 200. */
static int register_one(CURL *c, device *d) {
  char url[512];
  buf b = {0};
  int ok = 0;
  snprintf(url, sizeof url, "%s/%s/registrations/%s/register?api-version=2025-07-01-preview",
           dps_url, scope, d->id);
  curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 1L);
  long st0 = http(c, "PUT", url, d->auth, d->body, &b);
  curl_easy_setopt(c, CURLOPT_FRESH_CONNECT, 0L);
  if (st0 == 202) {
    cJSON *j = cJSON_Parse(b.d);
    const cJSON *op = cJSON_GetObjectItem(j, "operationId");
    if (cJSON_IsString(op)) {
      snprintf(url, sizeof url, "%s/%s/registrations/%s/operations/%s?api-version=2025-07-01-preview",
               dps_url, scope, d->id, op->valuestring);
      for (int i = 0; i < 50 && !ok; i++) {
        long st = http(c, "GET", url, d->auth, NULL, &b);
        if (st == 200) {
          cJSON *r = cJSON_Parse(b.d);
          const cJSON *chain = cJSON_GetObjectItem(cJSON_GetObjectItem(r, "registrationState"),
                                                   "issuedCertificateChain");
          ok = !strcmp(cJSON_GetObjectItem(r, "status")->valuestring, "assigned") &&
               cJSON_GetArraySize(chain) == 3;
          cJSON_Delete(r);
          break;
        }
        if (st != 202) break;
      }
    }
    cJSON_Delete(j);
  }
  free(b.d);
  return ok;
}

static void *worker(void *arg) {
  (void)arg;
  CURL *c = curl_easy_init();
  curl_easy_setopt(c, CURLOPT_SSL_SESSIONID_CACHE, 0L);
  curl_easy_setopt(c, CURLOPT_MAXCONNECTS, 1L);
  for (;;) {
    pthread_mutex_lock(&mu);
    int i = next_dev < n_dev ? next_dev++ : -1;
    pthread_mutex_unlock(&mu);
    if (i < 0) break;
    double t0 = now_s();
    devs[i].ok = register_one(c, &devs[i]);
    devs[i].latency = now_s() - t0;
  }
  curl_easy_cleanup(c);
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

/* ---- crypto bound: sign + verify + one in-memory TLS handshake ---- */

static double crypto_one_core(void);

static SSL_CTX *server_ctx(void) {
  EVP_PKEY *ca_key = NULL, *key = NULL;
  X509 *ca = NULL, *leaf = NULL;
  cps_pki_key_generate(&ca_key);
  cps_pki_key_generate(&key);
  cps_pki_root_create(ca_key, "bench ca", 86400, &ca);
  cps_pki_server_cert_issue(ca, ca_key, key, "localhost", "DNS:localhost", 86400, &leaf);
  SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
  SSL_CTX_use_certificate(ctx, leaf);
  SSL_CTX_add1_chain_cert(ctx, ca);
  SSL_CTX_use_PrivateKey(ctx, key);
  X509_free(ca);
  X509_free(leaf);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(key);
  return ctx;
}

static int handshake(SSL_CTX *sctx, SSL_CTX *cctx) {
  SSL *s = SSL_new(sctx), *c = SSL_new(cctx);
  BIO *sb = NULL, *cb = NULL;
  BIO_new_bio_pair(&sb, 0, &cb, 0);
  SSL_set_bio(s, sb, sb);
  SSL_set_bio(c, cb, cb);
  SSL_set_accept_state(s);
  SSL_set_connect_state(c);
  int done_s = 0, done_c = 0;
  for (int i = 0; i < 100 && !(done_s && done_c); i++) {
    if (!done_c) done_c = SSL_do_handshake(c) == 1;
    if (!done_s) done_s = SSL_do_handshake(s) == 1;
  }
  SSL_free(s);
  SSL_free(c);
  return done_s && done_c;
}

static void *bound_thread(void *arg) {
  double *rate = arg;
  *rate = crypto_one_core();
  return NULL;
}

/* The bound on @p cores cores, measured by running that many loops at once (so it sees the
 * machine as loaded as the benchmark did). */
static double crypto_bound(int cores) {
  pthread_t th[64];
  double rates[64], sum = 0;
  if (cores > 64) cores = 64;
  for (int i = 0; i < cores; i++) pthread_create(&th[i], NULL, bound_thread, &rates[i]);
  for (int i = 0; i < cores; i++) {
    pthread_join(th[i], NULL);
    sum += rates[i];
  }
  return sum;
}

static double crypto_one_core(void) {
  EVP_PKEY *k = NULL;
  cps_pki_key_generate(&k);
  SSL_CTX *sctx = server_ctx(), *cctx = SSL_CTX_new(TLS_client_method());
  unsigned char msg[512], sig[256];
  memset(msg, 7, sizeof msg);
  int iters = 200;
  double t0 = now_s();
  for (int i = 0; i < iters; i++) {
    size_t slen = sizeof sig;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_DigestSignInit(m, NULL, EVP_sha384(), NULL, k);
    EVP_DigestSign(m, sig, &slen, msg, sizeof msg);
    EVP_MD_CTX_free(m);
    m = EVP_MD_CTX_new();
    EVP_DigestVerifyInit(m, NULL, EVP_sha384(), NULL, k);
    if (EVP_DigestVerify(m, sig, slen, msg, sizeof msg) != 1) fprintf(stderr, "bench: verify failed\n");
    EVP_MD_CTX_free(m);
    if (!handshake(sctx, cctx)) fprintf(stderr, "bench: handshake failed\n");
  }
  double per = (now_s() - t0) / iters;
  SSL_CTX_free(sctx);
  SSL_CTX_free(cctx);
  EVP_PKEY_free(k);
  return 1.0 / per;
}

int main(int argc, char **argv) {
  int opt;
  while ((opt = getopt(argc, argv, "n:c:k:")) != -1) {
    if (opt == 'n') n_dev = atoi(optarg);
    else if (opt == 'c') n_conc = atoi(optarg);
    else if (opt == 'k') n_cores = atoi(optarg);
    else return fprintf(stderr, "usage: bench_register [-n N] [-c C] [-k CORES]\n"), 2;
  }
  dps_url = getenv("CERTPILOT_DPS_URL");
  mgmt_url = getenv("CERTPILOT_MGMT_URL");
  scope = getenv("CERTPILOT_ID_SCOPE");
  bundle = getenv("CERTPILOT_TRUST_BUNDLE");
  token = getenv("CERTPILOT_ADMIN_TOKEN");
  if (!dps_url || !mgmt_url || !scope || !bundle || !token || n_dev < 1 || n_conc < 1) {
    fprintf(stderr, "bench: run under tests/integration/server/harness.sh run\n");
    return 2;
  }
  curl_global_init(CURL_GLOBAL_DEFAULT);
  unsigned char gk_raw[64];
  char *gk = NULL, body[512];
  cps_pki_random(gk_raw, sizeof gk_raw);
  cps_b64_encode(gk_raw, sizeof gk_raw, &gk);
  snprintf(body, sizeof body,
           "{\"id\":\"bench\",\"kind\":\"group\",\"attestation\":\"symmetricKey\",\"primaryKey\":\"%s\","
           "\"policy\":\"bench\",\"hub\":\"hub-bench\"}", gk);
  if (mgmt("POST", "/credential", NULL, 201) || mgmt("POST", "/policies", "{\"name\":\"bench\",\"validityDays\":30}", 201) ||
      mgmt("POST", "/enrollments", body, 201))
    return 1;
  devs = calloc((size_t)n_dev, sizeof *devs);
  for (int i = 0; i < n_dev; i++) {
    device *d = &devs[i];
    snprintf(d->id, sizeof d->id, "bench-%06d", i);
    EVP_PKEY *k = NULL;
    X509_REQ *req = X509_REQ_new();
    cps_pki_key_generate(&k);
    X509_NAME_add_entry_by_txt(X509_REQ_get_subject_name(req), "CN", MBSTRING_UTF8,
                               (const unsigned char *)d->id, -1, -1, 0);
    X509_REQ_set_pubkey(req, k);
    X509_REQ_sign(req, k, EVP_sha384());
    unsigned char *der = NULL;
    int dl = i2d_X509_REQ(req, &der);
    char *b64 = NULL;
    cps_b64_encode(der, (size_t)dl, &b64);
    size_t bl = strlen(b64) + 128;
    d->body = malloc(bl);
    snprintf(d->body, bl, "{\"registrationId\":\"%s\",\"csr\":\"%s\"}", d->id, b64);
    char dk[64], tok[600];
    cps_sas_derive_device_key(gk, d->id, dk, sizeof dk);
    cps_sas_build(scope, d->id, dk, (long long)time(NULL) + 3600, tok, sizeof tok);
    snprintf(d->auth, sizeof d->auth, "Authorization: %s", tok);
    free(b64);
    OPENSSL_free(der);
    X509_REQ_free(req);
    EVP_PKEY_free(k);
  }
  double bound = crypto_bound(n_cores);
  pthread_t *th = calloc((size_t)n_conc, sizeof *th);
  double t0 = now_s();
  for (int i = 0; i < n_conc; i++) pthread_create(&th[i], NULL, worker, NULL);
  for (int i = 0; i < n_conc; i++) pthread_join(th[i], NULL);
  double elapsed = now_s() - t0;
  double bound_after = crypto_bound(n_cores);
  int ok = 0;
  double *lat = calloc((size_t)n_dev, sizeof *lat);
  for (int i = 0; i < n_dev; i++) {
    ok += devs[i].ok;
    lat[i] = devs[i].latency;
  }
  qsort(lat, (size_t)n_dev, sizeof *lat, cmp_double);
  double rate = ok / elapsed;
  double bound_avg = (bound + bound_after) / 2;
  printf("devices            %d (%d ok), concurrency %d\n", n_dev, ok, n_conc);
  printf("elapsed            %.2f s\n", elapsed);
  printf("registrations/s    %.1f\n", rate);
  printf("latency p50        %.1f ms\n", lat[n_dev / 2] * 1000);
  printf("latency p99        %.1f ms\n", lat[(n_dev * 99) / 100 >= n_dev ? n_dev - 1 : (n_dev * 99) / 100] * 1000);
  printf("crypto bound       %.1f /s on %d cores (P-384 sign + verify + TLS handshake per registration;\n"
         "                   %d loops at once, before %.1f and after %.1f)\n",
         bound_avg, n_cores, n_cores, bound, bound_after);
  printf("ratio              %.2f of the bound\n", rate / bound_avg);
  free(lat);
  free(th);
  for (int i = 0; i < n_dev; i++) free(devs[i].body);
  free(devs);
  free(gk);
  curl_global_cleanup();
  return ok == n_dev ? 0 : 1;
}
