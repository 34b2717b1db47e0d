/* cp_posix_mqtt_nodelay: TCP_NODELAY on the sockets connected to one address (loopback only). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "cp_posix_mqtt_nodelay.h"
#include "loopback_listener.h"

static int dial(uint16_t port)
{
  struct sockaddr_in a;
  int fd = socket(AF_INET, SOCK_STREAM, 0);

  assert_true(fd >= 0);
  memset(&a, 0, sizeof a);
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(port);
  assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
  return fd;
}

static int nodelay(int fd)
{
  int on = -1;
  socklen_t len = sizeof on;

  assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &len), 0);
  return on;
}

static void test_cp_posix_mqtt_nodelay_socket_to_broker_set_other_untouched(void **state)
{
  uint16_t broker_port, other_port;
  int broker = listen_any(&broker_port, 4), other = listen_any(&other_port, 4);
  int to_broker = dial(broker_port), to_other = dial(other_port);

  (void)state;
  assert_int_equal(nodelay(to_broker), 0);
  assert_int_equal(cp_posix_mqtt_nodelay("127.0.0.1", broker_port), 1);
  assert_int_not_equal(nodelay(to_broker), 0);
  assert_int_equal(nodelay(to_other), 0);
  /* already set: nothing left to do */
  assert_int_equal(cp_posix_mqtt_nodelay("127.0.0.1", broker_port), 0);
  close(to_broker);
  close(to_other);
  close(broker);
  close(other);
}

static void test_cp_posix_mqtt_nodelay_no_host_sets_nothing(void **state)
{
  (void)state;
  assert_int_equal(cp_posix_mqtt_nodelay(NULL, 8883), 0);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cp_posix_mqtt_nodelay_socket_to_broker_set_other_untouched),
    cmocka_unit_test(test_cp_posix_mqtt_nodelay_no_host_sets_nothing),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
