/* Crash safety of certpilotd: kill -9 at random points while it renews
 * certificates valid for a few seconds (so it is almost always mid-renewal);
 * after each kill the state directory must hold a key and a chain that match
 * and verify, and the restarted agent must carry on.
 * CPA_CRASH_ITERATIONS sets the number of kills (default 200). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "agent_it_env.h"

static it_env env;

static int group_setup(void **state) {
  (void)state;
  return ait_env_start(&env, 3);
}

static int group_teardown(void **state) {
  (void)state;
  it_env_stop(&env);
  return 0;
}

/* key.pem matches the leaf of chain.pem, and the chain verifies up to its
 * root (dates ignored: the leaves live 3 s). 0 when fine. */
static int check_pair(const ait_agent *a, char *why, size_t n) {
  char cmd[2048];
  snprintf(cmd, sizeof cmd,
           "cd %s/state/current && t=$(mktemp -d) && "
           "awk -v d=$t '/BEGIN CERT/{n++} {print > (d \"/c\" n \".pem\")}' chain.pem && "
           "openssl pkey -in key.pem -pubout > $t/k.pub && "
           "openssl x509 -in $t/c1.pem -noout -pubkey > $t/c.pub && cmp -s $t/k.pub $t/c.pub && "
           "openssl verify -no_check_time -CAfile $t/c3.pem -untrusted $t/c2.pem $t/c1.pem "
           ">/dev/null && test \"$(stat -c %%a key.pem)\" = 600; rc=$?; rm -rf $t; exit $rc",
           a->dir);
  int rc = system(cmd);
  if (rc != 0) snprintf(why, n, "pair check failed (%d)", rc);
  return rc;
}

static void test_certpilotd_killed_at_random_points_keeps_matching_pair(void **state) {
  (void)state;
  ait_agent a;
  ait_agent_prepare(&env, &a, "crash-dev-1", AIT_GROUP_KEY_SHORT, NULL);
  ait_agent_start(&a);
  assert_true(ait_wait_num(&a, "renewalCount", 1, 30000));
  const char *env_n = getenv("CPA_CRASH_ITERATIONS");
  int want = env_n ? atoi(env_n) : 200;
  time_t deadline = time(NULL) + 780;
  unsigned seed = (unsigned)time(NULL) ^ (unsigned)getpid();
  char gen[64] = "", why[128];
  int done = 0, switched = 0;
  for (; done < want && time(NULL) < deadline; done++) {
    if (a.pid <= 0) ait_agent_start(&a);
    usleep(50000 + rand_r(&seed) % 2500000); /* 0.05–2.55 s: renewals run every ~2 s */
    kill(a.pid, SIGKILL);
    waitpid(a.pid, NULL, 0);
    a.pid = 0;
    if (check_pair(&a, why, sizeof why) != 0) {
      char *log = ait_slurp(a.log);
      fprintf(stderr, "%s\n", log + (strlen(log) > 4000 ? strlen(log) - 4000 : 0));
      free(log);
      fail_msg("after kill %d: %s", done, why);
    }
    char p[600], target[64] = "";
    snprintf(p, sizeof p, "%s/state/current", a.dir);
    ssize_t n = readlink(p, target, sizeof target - 1);
    if (n > 0) target[n] = '\0';
    if (strcmp(target, gen) != 0) switched++;
    snprintf(gen, sizeof gen, "%s", target);
  }
  printf("crash loop: %d kills, current generation changed %d times\n", done, switched);
  assert_true(done >= want);
  assert_true(switched >= done / 10); /* the kills landed while renewals were progressing */
  /* the restarted agent carries on */
  ait_agent_start(&a);
  cJSON *st = NULL;
  double before = 0;
  for (int i = 0; i < 100 && !(st = ait_status(&a)); i++) usleep(100000);
  before = ait_status_num(st, "renewalCount");
  cJSON_Delete(st);
  assert_true(ait_wait_num(&a, "renewalCount", before + 1, 30000));
  assert_int_equal(ait_agent_stop(&a), 0);
  char why2[128];
  assert_int_equal(check_pair(&a, why2, sizeof why2), 0);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_certpilotd_killed_at_random_points_keeps_matching_pair),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
