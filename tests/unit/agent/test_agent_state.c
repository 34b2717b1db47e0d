/* Unit tests of the state directory, including a kill -9 crash loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_state.h"

#define POOL 4
static char pool_dir[256];
static char pool_key[POOL][CPA_KEY_PEM_MAX];
static char pool_cert[POOL][CPA_CHAIN_PEM_MAX];

static size_t slurp(const char *path, char *buf, size_t cap) {
  FILE *f = fopen(path, "r");
  assert_non_null(f);
  size_t n = fread(buf, 1, cap - 1, f);
  fclose(f);
  buf[n] = '\0';
  return n;
}

/* Real P-384 key + self-signed certificate pairs from the openssl CLI. */
static int make_pool(void **state) {
  (void)state;
  snprintf(pool_dir, sizeof pool_dir, "/tmp/cpa-pool-XXXXXX");
  if (!mkdtemp(pool_dir)) return -1;
  char cmd[1024], p[512];
  for (int i = 0; i < POOL; i++) {
    snprintf(cmd, sizeof cmd,
             "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 -nodes -days 2 "
             "-subj /CN=dev-%d -keyout %s/k%d.pem -out %s/c%d.pem 2>/dev/null",
             i, pool_dir, i, pool_dir, i);
    if (system(cmd) != 0) return -1;
    snprintf(p, sizeof p, "%s/k%d.pem", pool_dir, i);
    slurp(p, pool_key[i], sizeof pool_key[i]);
    snprintf(p, sizeof p, "%s/c%d.pem", pool_dir, i);
    slurp(p, pool_cert[i], sizeof pool_cert[i]);
  }
  return 0;
}

static int drop_pool(void **state) {
  (void)state;
  char cmd[512];
  snprintf(cmd, sizeof cmd, "rm -rf %s", pool_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* The pair check the daemon does with the SDK, done here with OpenSSL. */
static cp_result openssl_pair_check(void *ctx, const char *key_pem, size_t key_len,
                                    const char *chain_pem, size_t chain_len) {
  (void)ctx;
  cp_result r = CP_ERR_KEY_MISMATCH;
  BIO *kb = BIO_new_mem_buf(key_pem, (int)key_len);
  BIO *cb = BIO_new_mem_buf(chain_pem, (int)chain_len);
  EVP_PKEY *k = kb ? PEM_read_bio_PrivateKey(kb, NULL, NULL, NULL) : NULL;
  X509 *c = cb ? PEM_read_bio_X509(cb, NULL, NULL, NULL) : NULL;
  if (!k || !c) r = CP_ERR_PARSE;
  else if (EVP_PKEY_eq(X509_get0_pubkey(c), k) == 1) r = CP_OK;
  EVP_PKEY_free(k);
  X509_free(c);
  BIO_free(kb);
  BIO_free(cb);
  return r;
}

static void fill(cpa_generation *g, int i) {
  memset(g, 0, sizeof *g);
  g->key_len = strlen(pool_key[i]);
  memcpy(g->key_pem, pool_key[i], g->key_len);
  g->chain_len = strlen(pool_cert[i]);
  memcpy(g->chain_pem, pool_cert[i], g->chain_len);
  g->meta_len = (size_t)snprintf(g->meta_json, sizeof g->meta_json, "{\"pair\":%d}\n", i);
}

static void new_state_dir(char *dir, size_t n) {
  snprintf(dir, n, "/tmp/cpa-state-XXXXXX");
  assert_non_null(mkdtemp(dir));
  strncat(dir, "/state", n - strlen(dir) - 1);
  char err[256];
  assert_int_equal(cpa_state_init(dir, err, sizeof err), CP_OK);
}

static void rm_rf(const char *dir) {
  char cmd[600], parent[256];
  snprintf(parent, sizeof parent, "%s", dir);
  *strrchr(parent, '/') = '\0'; /* the mkdtemp parent */
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", parent);
  assert_int_equal(system(cmd), 0);
}

static int pair_index(const cpa_generation *g) {
  for (int i = 0; i < POOL; i++)
    if (g->key_len == strlen(pool_key[i]) && memcmp(g->key_pem, pool_key[i], g->key_len) == 0) return i;
  return -1;
}

static void test_cpa_state_load_empty_dir_is_not_found(void **state) {
  (void)state;
  char dir[256], err[256];
  new_state_dir(dir, sizeof dir);
  cpa_generation *g = calloc(1, sizeof *g);
  assert_int_equal(cpa_state_load(dir, openssl_pair_check, NULL, g, err, sizeof err), CP_ERR_NOT_FOUND);
  free(g);
  rm_rf(dir);
}

static void test_cpa_state_commit_then_load_returns_same_pair(void **state) {
  (void)state;
  char dir[256], err[256], p[512];
  new_state_dir(dir, sizeof dir);
  cpa_generation *g = calloc(1, sizeof *g), *l = calloc(1, sizeof *l);
  fill(g, 1);
  assert_int_equal(cpa_state_commit(dir, g, err, sizeof err), CP_OK);
  assert_string_equal(g->name, "gen-00000001");
  assert_int_equal(cpa_state_load(dir, openssl_pair_check, NULL, l, err, sizeof err), CP_OK);
  assert_string_equal(l->name, "gen-00000001");
  assert_int_equal(pair_index(l), 1);
  assert_string_equal(l->chain_pem, pool_cert[1]);
  assert_string_equal(l->meta_json, "{\"pair\":1}\n");
  struct stat st;
  snprintf(p, sizeof p, "%s/current/key.pem", dir);
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  free(g);
  free(l);
  rm_rf(dir);
}

static void test_cpa_state_commit_keeps_previous_and_prunes_older(void **state) {
  (void)state;
  char dir[256], err[256], p[512], target[64];
  new_state_dir(dir, sizeof dir);
  cpa_generation *g = calloc(1, sizeof *g);
  for (int i = 0; i < 3; i++) {
    fill(g, i);
    assert_int_equal(cpa_state_commit(dir, g, err, sizeof err), CP_OK);
  }
  snprintf(p, sizeof p, "%s/previous", dir);
  ssize_t n = readlink(p, target, sizeof target - 1);
  assert_true(n > 0);
  target[n] = '\0';
  assert_string_equal(target, "gen-00000002");
  snprintf(p, sizeof p, "%s/gen-00000001", dir);
  assert_int_equal(access(p, F_OK), -1); /* older than previous: removed */
  free(g);
  rm_rf(dir);
}

static void test_cpa_state_stage_without_activate_leaves_current(void **state) {
  (void)state;
  char dir[256], err[256];
  new_state_dir(dir, sizeof dir);
  cpa_generation *g = calloc(1, sizeof *g), *l = calloc(1, sizeof *l);
  fill(g, 0);
  assert_int_equal(cpa_state_commit(dir, g, err, sizeof err), CP_OK);
  fill(g, 2);
  assert_int_equal(cpa_state_stage(dir, g, err, sizeof err), CP_OK); /* e.g. hub refuses it */
  assert_int_equal(cpa_state_load(dir, openssl_pair_check, NULL, l, err, sizeof err), CP_OK);
  assert_int_equal(pair_index(l), 0);
  assert_int_equal(cpa_state_discard(dir, g->name), CP_OK);
  assert_int_equal(cpa_state_discard(dir, l->name), CP_ERR_STATE); /* never the current one */
  free(g);
  free(l);
  rm_rf(dir);
}

static void test_cpa_state_load_mismatched_current_falls_back_to_previous(void **state) {
  (void)state;
  char dir[256], err[256], p[512];
  new_state_dir(dir, sizeof dir);
  cpa_generation *g = calloc(1, sizeof *g), *l = calloc(1, sizeof *l);
  fill(g, 0);
  assert_int_equal(cpa_state_commit(dir, g, err, sizeof err), CP_OK);
  fill(g, 1);
  assert_int_equal(cpa_state_commit(dir, g, err, sizeof err), CP_OK);
  /* corrupt current: its key now belongs to another certificate */
  snprintf(p, sizeof p, "%s/current/key.pem", dir);
  assert_int_equal(unlink(p), 0);
  FILE *f = fopen(p, "w");
  fputs(pool_key[3], f);
  fclose(f);
  assert_int_equal(cpa_state_load(dir, openssl_pair_check, NULL, l, err, sizeof err), CP_OK);
  assert_int_equal(pair_index(l), 0);
  assert_string_equal(l->name, "gen-00000001");
  free(g);
  free(l);
  rm_rf(dir);
}

static void test_cpa_write_file_atomic_replaces_with_mode(void **state) {
  (void)state;
  char dir[256], p[512], buf[64];
  new_state_dir(dir, sizeof dir);
  snprintf(p, sizeof p, "%s/status.json", dir);
  assert_int_equal(cpa_write_file_atomic(p, "one", 3, 0644), CP_OK);
  assert_int_equal(cpa_write_file_atomic(p, "second", 6, 0600), CP_OK);
  assert_int_equal(slurp(p, buf, sizeof buf), 6);
  assert_string_equal(buf, "second");
  struct stat st;
  assert_int_equal(stat(p, &st), 0);
  assert_int_equal(st.st_mode & 0777, 0600);
  rm_rf(dir);
}

/* Child: commit generations forever, cycling through the pool. */
static void __attribute__((noreturn)) commit_forever(const char *dir) {
  cpa_generation *g = calloc(1, sizeof *g);
  char err[256];
  for (unsigned i = 0;; i++) {
    fill(g, (int)(i % POOL));
    if (cpa_state_commit(dir, g, err, sizeof err) != CP_OK) _exit(3);
  }
}

static void test_cpa_state_commit_killed_at_random_points_leaves_matching_pair(void **state) {
  (void)state;
  char dir[256], err[256];
  new_state_dir(dir, sizeof dir);
  cpa_generation *g = calloc(1, sizeof *g);
  fill(g, 0);
  assert_int_equal(cpa_state_commit(dir, g, err, sizeof err), CP_OK);
  /* time a few commits so kills land anywhere within several commits */
  struct timespec t0, t1;
  clock_gettime(CLOCK_MONOTONIC, &t0);
  for (int i = 1; i <= 4; i++) {
    fill(g, i % POOL);
    assert_int_equal(cpa_state_commit(dir, g, err, sizeof err), CP_OK);
  }
  clock_gettime(CLOCK_MONOTONIC, &t1);
  long commit_us = ((t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000) / 4;
  long window_us = 3 * commit_us + 2000; /* + fork/exec start-up */
  printf("crash loop: one commit takes %ld us; kill window %ld us\n", commit_us, window_us);
  const char *env = getenv("CPA_CRASH_ITERATIONS");
  int want = env ? atoi(env) : 200;
  time_t deadline = time(NULL) + 90;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  int done = 0, changed = 0, last = 0; /* the timing loop ended on pair 0 */
  for (; done < want && time(NULL) < deadline; done++) {
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) commit_forever(dir);
    usleep((useconds_t)(rand_r(&seed) % (unsigned)window_us));
    assert_int_equal(kill(pid, SIGKILL), 0);
    int st = 0;
    assert_int_equal(waitpid(pid, &st, 0), pid);
    assert_true(WIFSIGNALED(st)); /* it was killed mid-loop, not failing on its own */
    /* restart: clean staging, then the state must hold a matching, complete pair */
    assert_int_equal(cpa_state_init(dir, err, sizeof err), CP_OK);
    memset(g, 0, sizeof *g);
    cp_result r = cpa_state_load(dir, openssl_pair_check, NULL, g, err, sizeof err);
    if (r != CP_OK) fail_msg("iteration %d: no usable generation (%d)", done, r);
    int idx = pair_index(g);
    assert_true(idx >= 0);
    assert_string_equal(g->chain_pem, pool_cert[idx]);
    if (idx != last) changed++;
    last = idx;
  }
  printf("crash loop: %d kills, current pair changed %d times\n", done, changed);
  assert_true(done >= (env ? want : 200));
  assert_true(changed > 0); /* the kills did land while commits were progressing */
  free(g);
  rm_rf(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpa_state_load_empty_dir_is_not_found),
      cmocka_unit_test(test_cpa_state_commit_then_load_returns_same_pair),
      cmocka_unit_test(test_cpa_state_commit_keeps_previous_and_prunes_older),
      cmocka_unit_test(test_cpa_state_stage_without_activate_leaves_current),
      cmocka_unit_test(test_cpa_state_load_mismatched_current_falls_back_to_previous),
      cmocka_unit_test(test_cpa_write_file_atomic_replaces_with_mode),
      cmocka_unit_test(test_cpa_state_commit_killed_at_random_points_leaves_matching_pair),
  };
  return cmocka_run_group_tests(tests, make_pool, drop_pool);
}
