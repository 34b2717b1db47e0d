/* Unit tests: authenticated-client table and hub takeover. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_conn.h"

static hub_username user(hub_client_kind kind, const char *id) {
  hub_username u;
  memset(&u, 0, sizeof u);
  u.kind = kind;
  strcpy(u.id, id);
  strcpy(u.scope, "scope");
  strcpy(u.api_version, "2021-04-12");
  return u;
}

static void test_hub_conn_put_find_remove_roundtrip(void **state) {
  (void)state;
  hub_conn_table t = {0};
  int a = 0, b = 0;
  hub_username ua = user(HUB_CLIENT_DPS, "reg-1"), ub = user(HUB_CLIENT_HUB, "dev-1");
  assert_non_null(hub_conn_put(&t, &a, &ua, strdup("SharedAccessSignature sr=x"), NULL));
  assert_non_null(hub_conn_put(&t, &b, &ub, NULL, X509_new()));
  assert_int_equal(t.count, 2);
  assert_string_equal(hub_conn_find(&t, &a)->who.id, "reg-1");
  assert_string_equal(hub_conn_find(&t, &a)->password, "SharedAccessSignature sr=x");
  assert_non_null(hub_conn_find(&t, &b)->cert);
  hub_conn_remove(&t, &a);
  assert_null(hub_conn_find(&t, &a));
  assert_non_null(hub_conn_find(&t, &b));
  hub_conn_remove(&t, &a); /* twice is harmless */
  hub_conn_table_clear(&t);
  assert_int_equal(t.count, 0);
  assert_null(hub_conn_find(&t, &b));
}

static void test_hub_conn_put_same_device_takes_over(void **state) {
  (void)state;
  hub_conn_table t = {0};
  int old_client = 0, new_client = 0, other = 0;
  hub_username u = user(HUB_CLIENT_HUB, "dev-1"), o = user(HUB_CLIENT_HUB, "dev-2");
  assert_non_null(hub_conn_put(&t, &old_client, &u, NULL, NULL));
  assert_non_null(hub_conn_put(&t, &other, &o, NULL, NULL));
  assert_non_null(hub_conn_put(&t, &new_client, &u, NULL, NULL));
  assert_null(hub_conn_find(&t, &old_client));
  assert_non_null(hub_conn_find(&t, &new_client));
  assert_non_null(hub_conn_find(&t, &other));
  assert_int_equal(t.count, 2);
  /* the old connection's disconnect event must not drop the new one */
  hub_conn_remove(&t, &old_client);
  assert_non_null(hub_conn_find(&t, &new_client));
  hub_conn_table_clear(&t);
}

static void test_hub_conn_put_many_grows(void **state) {
  (void)state;
  hub_conn_table t = {0};
  char keys[100] = {0};
  char id[16];
  for (int i = 0; i < 100; i++) {
    snprintf(id, sizeof id, "dev-%d", i);
    hub_username u = user(HUB_CLIENT_HUB, id);
    assert_non_null(hub_conn_put(&t, &keys[i], &u, NULL, NULL));
  }
  assert_int_equal(t.count, 100);
  assert_string_equal(hub_conn_find(&t, &keys[57])->who.id, "dev-57");
  hub_conn_table_clear(&t);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_hub_conn_put_find_remove_roundtrip),
      cmocka_unit_test(test_hub_conn_put_same_device_takes_over),
      cmocka_unit_test(test_hub_conn_put_many_grows),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
