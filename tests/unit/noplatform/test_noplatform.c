/* The core built with the firmware template port: it links without any POSIX
 * port, and key generation refuses to run when the port has no entropy source
 * instead of producing a key from nothing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "certpilot/certpilot.h"

static void test_noplatform_entropy_unavailable_reports_io(void **state)
{
  uint8_t buf[8];
  (void)state;
  assert_int_equal(cp_platform_entropy(buf, sizeof buf), CP_ERR_IO);
}

static void test_key_generate_without_entropy_fails_and_leaves_key_empty(void **state)
{
  cp_key key = {{0}, 0};
  (void)state;
  assert_int_not_equal(cp_key_generate_p384(&key), CP_OK);
  assert_int_equal(key._der_len, 0);
}

static void test_encoding_works_without_platform(void **state)
{
  char out[16];
  size_t n;
  (void)state;
  assert_int_equal(cp_base64_encode((const uint8_t *)"hi", 2, out, sizeof out, &n), CP_OK);
  assert_string_equal(out, "aGk=");
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_noplatform_entropy_unavailable_reports_io),
    cmocka_unit_test(test_key_generate_without_entropy_fails_and_leaves_key_empty),
    cmocka_unit_test(test_encoding_works_without_platform),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
