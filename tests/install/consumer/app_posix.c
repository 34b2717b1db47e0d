/* Built against the installed POSIX port: the blocking provisioning API is
 * usable from the installed headers and library. A configuration without an
 * endpoint must be refused with CP_ERR_CONFIG naming the missing field,
 * before any network I/O. */
#include <certpilot/certpilot.h>
#include <certpilot/cp_provision.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
  static cp_provision_config cfg;
  static cp_provision_result res;
  cp_result r;

  cp_provision_config_init(&cfg);
  cfg.id_scope = "0ne00000001";
  cfg.registration_id = "install-test";
  cfg.symmetric_key = "AAAAAAAAAAAAAAAAAAAAAA==";
  r = cp_provision(&cfg, &res); /* no host */
  if (r != CP_ERR_CONFIG) {
    fprintf(stderr, "cp_provision without host gave %s, want invalid configuration\n", cp_result_str(r));
    return 1;
  }
  printf("installed POSIX port works: refused config (field '%s')\n", res.error.field);
  return 0;
}
