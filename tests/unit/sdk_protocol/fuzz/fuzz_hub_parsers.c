/* Fuzz the hub parsers of untrusted input. The first byte picks the parser:
 * 0 twin document, 1 desired patch, 2 hub topic. */
#include "fuzz.h"

#include "certpilot/cp_hub.h"

static cp_hub_twin twin;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cp_error_detail d;
  cp_hub_topic_info info;
  int64_t version;
  const char *in;
  size_t n;

  if (size < 1)
    return 0;
  in = (const char *)data + 1;
  n = size - 1;
  switch (data[0] % 3) {
  case 0:
    (void)cp_hub_twin_parse(in, n, &twin, &d);
    break;
  case 1:
    (void)cp_hub_desired_parse(in, n, &version, &d);
    break;
  default:
    (void)cp_hub_topic_parse(in, n, &info, &d);
    break;
  }
  return 0;
}
