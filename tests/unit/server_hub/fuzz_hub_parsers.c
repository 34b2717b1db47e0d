/*
 * Fuzz target for the hub's parsers of untrusted input: MQTT topics, CONNECT
 * usernames, the ACL rule and twin patches (parse, check, merge).
 * clang: a libFuzzer target (run 10 s by ctest). Other compilers: built with
 * FUZZ_STANDALONE, it replays seeds plus 200000 pseudo-random mutations.
 */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hub_acl.h"
#include "hub_topic.h"
#include "hub_twin_merge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  char *s = malloc(size);
  if (!s) return 0;
  memcpy(s, data + 1, size - 1);
  s[size - 1] = '\0'; /* NUL-terminated view of the rest */
  switch (data[0] % 4) {
  case 0: {
    hub_topic t;
    if (hub_topic_parse(s, &t) == CP_OK) {
      /* whatever parsed must fit and be echoed back into a response topic */
      char buf[256];
      if (strlen(t.rid) > HUB_RID_MAX) abort();
      if (hub_topic_build_dps_response(buf, sizeof buf, 200, t.rid, 3) != CP_OK) abort();
    }
    break;
  }
  case 1: {
    hub_username u;
    if (hub_username_parse(s, &u) == CP_OK && !hub_id_valid(u.id)) abort();
    break;
  }
  case 2: {
    static const hub_access acc[4] = {HUB_ACCESS_READ, HUB_ACCESS_WRITE, HUB_ACCESS_SUBSCRIBE,
                                      HUB_ACCESS_UNSUBSCRIBE};
    for (int k = 0; k < 4; k++) {
      bool a = hub_acl_allows(HUB_CLIENT_HUB, "dev-1", acc[k], s);
      /* another device's topics are never reachable (unsubscribing is always harmless) */
      if (a && acc[k] != HUB_ACCESS_UNSUBSCRIBE && strncmp(s, "devices/", 8) == 0 &&
          strncmp(s, "devices/dev-1/", 14) != 0)
        abort();
      (void)hub_acl_allows(HUB_CLIENT_DPS, "reg-1", acc[k], s);
    }
    break;
  }
  default: {
    cJSON *p = cJSON_ParseWithLength(s, size - 1);
    if (p && hub_twin_patch_check(p, 10) == CP_OK) {
      cJSON *t = cJSON_Parse("{\"a\":{\"b\":1},\"c\":[1,2]}");
      if (t) {
        (void)hub_twin_merge(t, p);
        char *out = cJSON_PrintUnformatted(t);
        free(out);
        cJSON_Delete(t);
      }
    }
    cJSON_Delete(p);
    break;
  }
  }
  free(s);
  return 0;
}

#ifdef FUZZ_STANDALONE
static const char *const seeds[] = {
    "\x00$dps/registrations/PUT/iotdps-register/?$rid=1",
    "\x00$dps/registrations/GET/iotdps-get-operationstatus/?$rid=1&operationId=op.1",
    "\x00$iothub/twin/GET/?$rid=abc",
    "\x00$iothub/twin/PATCH/properties/reported/?$rid=9",
    "\x00" "devices/dev-1/messages/events/$.ct=application%2Fjson",
    "\x01scope/registrations/dev-1/api-version=2025-07-01-preview&ClientVersion=x",
    "\x01hub.local/dev-1/?api-version=2025-08-01-preview&DeviceClientType=y",
    "\x02" "devices/dev-1/messages/devicebound/#",
    "\x02$iothub/twin/res/#",
    "\x03{\"a\":{\"b\":null,\"x\":{\"y\":1}},\"c\":null,\"d\":\"e\"}",
};

static uint32_t rnd_state = 0x12345678u;
static uint32_t rnd(void) {
  rnd_state ^= rnd_state << 13;
  rnd_state ^= rnd_state >> 17;
  rnd_state ^= rnd_state << 5;
  return rnd_state;
}

int main(void) {
  static const char alphabet[] = "$/?&=#+.-_:{}[]\",:nul0123456789abcdefdevicesregistrations";
  uint8_t buf[300];
  size_t nseeds = sizeof seeds / sizeof seeds[0];
  for (size_t i = 0; i < nseeds; i++) {
    size_t n = 1 + strlen(seeds[i] + 1);
    LLVMFuzzerTestOneInput((const uint8_t *)seeds[i], n);
  }
  for (int it = 0; it < 200000; it++) {
    const char *seed = seeds[rnd() % nseeds];
    size_t n = 1 + strlen(seed + 1);
    if (n > sizeof buf) n = sizeof buf;
    memcpy(buf, seed, n);
    int edits = 1 + (int)(rnd() % 4);
    for (int e = 0; e < edits; e++) {
      size_t pos = 1 + rnd() % (n > 1 ? n - 1 : 1);
      switch (rnd() % 3) {
      case 0: buf[pos % sizeof buf] = (uint8_t)alphabet[rnd() % (sizeof alphabet - 1)]; break;
      case 1: n = pos; break; /* truncate */
      default: buf[pos % sizeof buf] = (uint8_t)rnd(); break;
      }
    }
    LLVMFuzzerTestOneInput(buf, n);
  }
  printf("fuzz_hub_parsers: %zu seeds + 200000 mutations, no crash\n", nseeds);
  return 0;
}
#endif
