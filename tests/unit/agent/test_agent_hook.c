/* Unit tests of the post-renewal hook runner. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "agent_hook.h"

static void test_cpa_hook_run_passes_environment(void **state) {
  (void)state;
  char out[] = "/tmp/cpa-hook-XXXXXX";
  int fd = mkstemp(out);
  assert_true(fd >= 0);
  close(fd);
  char cmd[256], res[64], buf[256] = "";
  snprintf(cmd, sizeof cmd, "printf '%%s|%%s' \"$CERTPILOT_SERIAL\" \"$CERTPILOT_DEVICE_ID\" > %s", out);
  cpa_hook_env env[] = {{"CERTPILOT_SERIAL", "0abc"}, {"CERTPILOT_DEVICE_ID", "dev-9"}};
  assert_int_equal(cpa_hook_run(cmd, env, 2, 10, res, sizeof res), 0);
  assert_string_equal(res, "ok");
  FILE *f = fopen(out, "r");
  assert_non_null(fgets(buf, sizeof buf, f));
  fclose(f);
  assert_string_equal(buf, "0abc|dev-9");
  unlink(out);
}

static void test_cpa_hook_run_nonzero_exit_is_reported(void **state) {
  (void)state;
  char res[64];
  assert_int_equal(cpa_hook_run("exit 3", NULL, 0, 10, res, sizeof res), -1);
  assert_string_equal(res, "exit 3");
}

static void test_cpa_hook_run_timeout_kills_the_group(void **state) {
  (void)state;
  char res[64];
  time_t t0 = time(NULL);
  assert_int_equal(cpa_hook_run("sleep 30 & sleep 30", NULL, 0, 1, res, sizeof res), -1);
  assert_string_equal(res, "timeout");
  assert_true(time(NULL) - t0 < 10);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_cpa_hook_run_passes_environment),
      cmocka_unit_test(test_cpa_hook_run_nonzero_exit_is_reported),
      cmocka_unit_test(test_cpa_hook_run_timeout_kills_the_group),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
