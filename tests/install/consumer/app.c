/* A tiny program built against the installed SDK. It exits 0 only when the
 * installed library really works: a base64 round trip and a platform call. */
#include <certpilot/certpilot.h>
#include <stdio.h>
#include <string.h>

int main(void)
{
  const uint8_t msg[] = "certpilot";
  char b64[32];
  uint8_t back[16];
  size_t n, m;

  if (cp_base64_encode(msg, 9, b64, sizeof b64, &n) != CP_OK || strcmp(b64, "Y2VydHBpbG90") != 0) {
    fprintf(stderr, "base64 encode gave %s\n", b64);
    return 1;
  }
  if (cp_base64_decode(b64, n, back, sizeof back, &m) != CP_OK || m != 9 || memcmp(back, msg, 9) != 0) {
    fprintf(stderr, "base64 round trip failed\n");
    return 1;
  }
  if (cp_platform_time_now() < 1700000000) {
    fprintf(stderr, "platform clock not linked\n");
    return 1;
  }
  printf("installed SDK works: %s\n", cp_result_str(CP_OK));
  return 0;
}
