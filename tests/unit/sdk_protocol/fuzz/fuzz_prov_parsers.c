/* Fuzz the DPS parsers of untrusted input. The first byte picks the parser:
 * 0 response body, 1 error body, 2 response topic, 3 Retry-After value,
 * 4 the state machine fed "topic\0payload" after a register request. */
#include <stdlib.h>
#include <string.h>

#include "fuzz.h"

#include "certpilot/cp_provisioning.h"

static cp_prov_response resp;
static cp_prov_client client;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
  cp_error_detail d;
  cp_prov_topic_info info;
  cp_prov_step step;
  char topic[CP_PROV_TOPIC_MAX], payload[CP_PROV_BODY_MAX];
  const char *in;
  const char *nul;
  uint32_t s;
  size_t n, len;

  if (size < 1)
    return 0;
  in = (const char *)data + 1;
  n = size - 1;
  switch (data[0] % 5) {
  case 0:
    (void)cp_prov_response_parse(in, n, &resp, &d);
    break;
  case 1:
    (void)cp_prov_error_parse(401, in, n, &d);
    break;
  case 2:
    (void)cp_prov_topic_parse(in, n, &info, &d);
    break;
  case 3:
    (void)cp_prov_retry_after_parse(in, n, &s);
    break;
  default:
    if (cp_prov_client_init(&client, "0ne0001", "dev-1", "TUlJQg==", NULL) != CP_OK ||
        cp_prov_client_mqtt_request(&client, topic, sizeof topic, payload, sizeof payload,
                                    &len) != CP_OK)
      abort();
    nul = memchr(in, '\0', n);
    if (nul != NULL)
      (void)cp_prov_client_on_mqtt_message(&client, in, (size_t)(nul - in), nul + 1,
                                           n - (size_t)(nul - in) - 1);
    (void)cp_prov_client_next(&client, &step);
    break;
  }
  return 0;
}
