/* The swtpm harness itself: starts a TPM that answers, stops it cleanly. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cp_swtpm.h"

static int connect_port(int port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_port = htons((uint16_t)port);
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
    close(fd);
    return -1;
  }
  return fd;
}

static void test_swtpm_start_answers_getrandom(void **state)
{
  cp_swtpm s;
  /* TPM2_GetRandom(8), no sessions */
  const uint8_t cmd[] = {0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8};
  uint8_t rsp[64];
  ssize_t n = 0, got;
  int fd;

  (void)state;
  assert_int_equal(cp_swtpm_start(&s), 0);
  assert_true(s.port > 0);
  assert_non_null(strstr(s.tcti, "swtpm:host=127.0.0.1,port="));
  fd = connect_port(s.port);
  assert_true(fd >= 0);
  assert_int_equal(write(fd, cmd, sizeof cmd), (ssize_t)sizeof cmd);
  while (n < 10 && (got = read(fd, rsp + n, sizeof rsp - (size_t)n)) > 0)
    n += got;
  close(fd);
  assert_true(n >= 10);
  assert_int_equal(rsp[0], 0x80);
  /* response code at offset 6 must be TPM_RC_SUCCESS */
  assert_int_equal(rsp[6] | rsp[7] | rsp[8] | rsp[9], 0);
  cp_swtpm_stop(&s);
}

static void test_swtpm_stop_kills_process_and_removes_state(void **state)
{
  cp_swtpm s;
  char dir[256];
  struct stat st;
  int port;

  (void)state;
  assert_int_equal(cp_swtpm_start(&s), 0);
  snprintf(dir, sizeof dir, "%s", s.state_dir);
  port = s.port;
  assert_int_equal(stat(dir, &st), 0);
  cp_swtpm_stop(&s);
  assert_int_equal(s.pid, 0);
  assert_int_not_equal(stat(dir, &st), 0);
  assert_int_equal(connect_port(port), -1);
}

static void test_swtpm_two_instances_get_distinct_ports(void **state)
{
  cp_swtpm a, b;

  (void)state;
  assert_int_equal(cp_swtpm_start(&a), 0);
  assert_int_equal(cp_swtpm_start(&b), 0);
  assert_int_not_equal(a.port, b.port);
  assert_int_not_equal(a.port + 1, b.port);
  assert_int_not_equal(b.port + 1, a.port);
  assert_string_not_equal(a.state_dir, b.state_dir);
  cp_swtpm_stop(&b);
  cp_swtpm_stop(&a);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_swtpm_start_answers_getrandom),
    cmocka_unit_test(test_swtpm_stop_kills_process_and_removes_state),
    cmocka_unit_test(test_swtpm_two_instances_get_distinct_ports),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
