/* Private: query-string walking for MQTT topics. */
#include "cp_query.h"

#include <string.h>

bool cp_query_next(const char **pos, const char *end, cp_query_pair *pair)
{
  const char *p = *pos, *amp, *eq;

  if (p >= end)
    return false;
  amp = memchr(p, '&', (size_t)(end - p));
  if (amp == NULL)
    amp = end;
  eq = memchr(p, '=', (size_t)(amp - p));
  pair->name = p;
  if (eq == NULL) {
    pair->name_len = (size_t)(amp - p);
    pair->value = amp;
    pair->value_len = 0;
  } else {
    pair->name_len = (size_t)(eq - p);
    pair->value = eq + 1;
    pair->value_len = (size_t)(amp - eq - 1);
  }
  *pos = amp < end ? amp + 1 : end;
  return true;
}

bool cp_query_is(const cp_query_pair *pair, const char *name)
{
  size_t n = strlen(name);

  return pair->name_len == n && memcmp(pair->name, name, n) == 0;
}
