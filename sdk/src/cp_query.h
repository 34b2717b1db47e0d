/* Private: walk "name=value&name=value" query strings of MQTT topics. */
#ifndef CERTPILOT_SRC_CP_QUERY_H
#define CERTPILOT_SRC_CP_QUERY_H

#include <stdbool.h>
#include <stddef.h>

/* One "name=value" pair, borrowed from the topic. */
typedef struct cp_query_pair {
  const char *name;
  size_t name_len;
  const char *value;
  size_t value_len;
} cp_query_pair;

/*
 * Take the next pair from [*pos, end). Returns false at the end.
 * A pair without '=' has an empty value.
 */
bool cp_query_next(const char **pos, const char *end, cp_query_pair *pair);

/* True when the pair's name is @p name. */
bool cp_query_is(const cp_query_pair *pair, const char *name);

#endif
