/* docs/agent.md's configuration reference against the real parser.
 *
 * The key tables ("| `key` | Type | Meaning | Default | Example |" under
 * "### `[section]`") must list exactly the keys of the parser's table in
 * agent/src/agent_config.c; each documented default must give the parser's
 * default, each example and each range end must be accepted, values just
 * outside a documented range refused, and the documented required keys
 * required. The messages the page quotes must be the parser's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent_config.h"

#define MAX_KEYS 64
#define CELL_MAX 512
#define TEXT_MAX 16384

typedef struct doc_key {
  char section[32];
  char name[64];
  char type[CELL_MAX];
  char meaning[CELL_MAX * 2];
  char def[CELL_MAX];
  int has_def; /* 0: "—" (no default; the example goes into the base config) */
  char example[CELL_MAX];
} doc_key;

static char *doc;                 /* docs/agent.md */
static char *parser_src;          /* agent/src/agent_config.c */
static doc_key keys[MAX_KEYS];
static size_t nkeys;
static cpa_config cfg_base;       /* the base config parsed */
static char err[1024];

static char *slurp(const char *rel) {
  const char *root = getenv("CP_SOURCE_DIR");
  char path[1024];
  snprintf(path, sizeof path, "%s/%s", root ? root : ".", rel);
  FILE *f = fopen(path, "rb");
  if (!f) {
    print_error("cannot open %s\n", path);
    return NULL;
  }
  char *buf = calloc(1, 1 << 20);
  size_t n = buf ? fread(buf, 1, (1 << 20) - 1, f) : 0;
  (void)n;
  fclose(f);
  return buf;
}

/* The text between the line starting with @p start and the next line starting
 * with @p stop (or the end). */
static const char *section_of(const char *text, const char *start, const char *stop,
                              size_t *len) {
  const char *s = strstr(text, start);
  if (!s) return NULL;
  const char *e = strstr(s + strlen(start), stop);
  *len = e ? (size_t)(e - s) : strlen(s);
  return s;
}

static void trim_into(char *dst, size_t size, const char *s, size_t n) {
  while (n > 0 && (*s == ' ' || *s == '\t')) s++, n--;
  while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t')) n--;
  if (n >= size) n = size - 1;
  memcpy(dst, s, n);
  dst[n] = '\0';
}

/* "`x`" → x; "empty" → ""; returns 0, or -1 for "—" (no value). */
static int cell_value(const char *cell, char *out, size_t size) {
  size_t n = strlen(cell);
  if (n >= 2 && cell[0] == '`' && cell[n - 1] == '`' && memchr(cell + 1, '`', n - 2) == NULL) {
    trim_into(out, size, cell + 1, n - 2);
    return 0;
  }
  if (strcmp(cell, "empty") == 0) {
    out[0] = '\0';
    return 0;
  }
  if (strcmp(cell, "—") == 0) return -1;
  print_error("cell '%s' is neither `value`, empty nor —\n", cell);
  return -2;
}

/* The @p i-th `…` span of @p s (from 0), or -1. */
static int backticked(const char *s, int i, char *out, size_t size) {
  for (;;) {
    const char *a = strchr(s, '`');
    if (!a) return -1;
    const char *b = strchr(a + 1, '`');
    if (!b) return -1;
    if (i-- == 0) {
      trim_into(out, size, a + 1, (size_t)(b - a - 1));
      return 0;
    }
    s = b + 1;
  }
}

/* Reads the key tables of "## Configuration reference". */
static int load_doc_keys(void) {
  size_t len;
  const char *ref = section_of(doc, "## Configuration reference", "\n## ", &len);
  if (!ref) return -1;
  char section[32] = "";
  for (const char *l = ref; l && l < ref + len; l = strchr(l, '\n'), l = l ? l + 1 : NULL) {
    const char *end = strchr(l, '\n');
    size_t ll = end ? (size_t)(end - l) : strlen(l);
    if (strncmp(l, "### `[", 6) == 0) {
      const char *close = memchr(l + 6, ']', ll - 6);
      if (!close) return -1;
      trim_into(section, sizeof section, l + 6, (size_t)(close - l - 6));
      continue;
    }
    if (strncmp(l, "| `", 3) != 0) continue;
    char cells[5][CELL_MAX * 2];
    const char *c = l + 1;
    int n = 0;
    while (n < 6) {
      const char *bar = memchr(c, '|', ll - (size_t)(c - l));
      if (!bar) break;
      if (n < 5) trim_into(cells[n], sizeof cells[n], c, (size_t)(bar - c));
      n++;
      c = bar + 1;
    }
    if (n != 5 || nkeys == MAX_KEYS || section[0] == '\0') {
      print_error("key table row not understood (want 5 cells): %.*s\n", (int)ll, l);
      return -1;
    }
    doc_key *k = &keys[nkeys++];
    snprintf(k->section, sizeof k->section, "%s", section);
    if (cell_value(cells[0], k->name, sizeof k->name) != 0) return -1;
    trim_into(k->type, sizeof k->type, cells[1], strlen(cells[1]));
    trim_into(k->meaning, sizeof k->meaning, cells[2], strlen(cells[2]));
    int d = cell_value(cells[3], k->def, sizeof k->def);
    if (d < -1) return -1;
    k->has_def = d == 0;
    if (cell_value(cells[4], k->example, sizeof k->example) != 0) return -1;
  }
  return nkeys > 0 ? 0 : -1;
}

/* The base config: every key without a default, at its example. */
static void base_text(char *out, size_t size, const doc_key *skip) {
  size_t used = 0;
  out[0] = '\0';
  for (size_t i = 0; i < nkeys; i++) {
    if (keys[i].has_def || &keys[i] == skip) continue;
    int w = snprintf(out + used, size - used, "[%s]\n%s = %s\n", keys[i].section, keys[i].name,
                     keys[i].example);
    if (w > 0) used += (size_t)w;
  }
}

/* Parses the base config plus "[section] name = value" (which replaces the
 * base's own line for that key); @p skip leaves a base key out. */
static cp_result parse_with(const doc_key *k, const char *value, const doc_key *skip,
                            cpa_config *cfg) {
  static char text[TEXT_MAX];
  base_text(text, sizeof text, skip ? skip : k);
  if (k) {
    size_t used = strlen(text);
    snprintf(text + used, sizeof text - used, "[%s]\n%s = %s\n", k->section, k->name, value);
  }
  cpa_config_defaults(cfg);
  return cpa_config_parse_string(text, "agent.md", cfg, err, sizeof err);
}

static int group_setup(void **state) {
  (void)state;
  doc = slurp("docs/agent.md");
  parser_src = slurp("agent/src/agent_config.c");
  if (!doc || !parser_src || load_doc_keys() != 0) return -1;
  if (parse_with(NULL, NULL, NULL, &cfg_base) != CP_OK) {
    print_error("the documented required keys at their examples do not parse: %s\n", err);
    return -1;
  }
  return 0;
}

static int group_teardown(void **state) {
  (void)state;
  free(doc);
  free(parser_src);
  return 0;
}

static int doc_has_key(const char *section, const char *name) {
  for (size_t i = 0; i < nkeys; i++)
    if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0) return 1;
  return 0;
}

static void test_doc_key_tables_list_exactly_the_parser_keys(void **state) {
  (void)state;
  size_t len;
  const char *table = section_of(parser_src, "static const key_def keys[] = {", "\n};", &len);
  assert_non_null(table);
  int bad = 0;
  size_t nparser = 0;
  char seen[MAX_KEYS] = {0};
  for (const char *l = strchr(table, '\n') + 1; l < table + len; l = strchr(l, '\n') + 1) {
    char section[32], name[64];
    while (*l == ' ') l++;
    if (*l == '\n') continue;
    if (sscanf(l, "%*[A-Z](\"%31[^\"]\", \"%63[^\"]\"", section, name) != 2) {
      print_error("agent_config.c: key table line not understood: %.60s\n", l);
      bad++;
      continue;
    }
    nparser++;
    int found = 0;
    for (size_t i = 0; i < nkeys; i++)
      if (strcmp(keys[i].section, section) == 0 && strcmp(keys[i].name, name) == 0)
        seen[i] = 1, found = 1;
    if (!found) {
      print_error("parser key [%s] %s is not in docs/agent.md\n", section, name);
      bad++;
    }
  }
  for (size_t i = 0; i < nkeys; i++) {
    if (!seen[i]) {
      print_error("docs/agent.md key [%s] %s is not in the parser's table\n", keys[i].section,
                  keys[i].name);
      bad++;
    }
  }
  assert_true(nparser > 0);
  assert_int_equal(bad, 0);
}

/* Parses the base config with @p k at its documented @p what ("default",
 * "example"); says what the parser answered when it refuses. */
static int documented_value_accepted(const doc_key *k, const char *value, const char *what,
                                     cpa_config *cfg) {
  if (parse_with(k, value, NULL, cfg) == CP_OK) return 1;
  print_error("[%s] %s = %s (documented %s) refused: %s\n", k->section, k->name, value, what, err);
  return 0;
}

static void test_doc_defaults_are_the_parser_defaults(void **state) {
  (void)state;
  int bad = 0;
  static cpa_config cfg;
  for (size_t i = 0; i < nkeys; i++) {
    const doc_key *k = &keys[i];
    if (!k->has_def) continue;
    if (!documented_value_accepted(k, k->def, "default", &cfg)) {
      bad++;
    } else if (memcmp(&cfg, &cfg_base, sizeof cfg) != 0) {
      print_error("[%s] %s: documented default '%s' is not the parser's default\n", k->section,
                  k->name, k->def);
      bad++;
    }
  }
  assert_int_equal(bad, 0);
}

static void test_doc_examples_are_accepted(void **state) {
  (void)state;
  int bad = 0;
  static cpa_config cfg;
  for (size_t i = 0; i < nkeys; i++) /* keys without a default are in the base config */
    if (keys[i].has_def) bad += !documented_value_accepted(&keys[i], keys[i].example, "example", &cfg);
  assert_int_equal(bad, 0);
}

static void test_doc_required_keys_are_required(void **state) {
  (void)state;
  int bad = 0, nrequired = 0;
  static cpa_config cfg;
  for (size_t i = 0; i < nkeys; i++) {
    const doc_key *k = &keys[i];
    if (!strstr(k->meaning, "**Required.**")) continue;
    nrequired++;
    char want[128];
    snprintf(want, sizeof want, "[%s] %s: required key missing", k->section, k->name);
    if (k->has_def || parse_with(NULL, NULL, k, &cfg) == CP_OK || !strstr(err, want)) {
      print_error("[%s] %s is documented as required, but without it: %s\n", k->section, k->name,
                  k->has_def ? "(it has a default)" : err);
      bad++;
    }
  }
  assert_true(nrequired > 0);
  assert_int_equal(bad, 0);
}

/* "90" → 90, "15m" → 900 … (the documented duration syntax). */
static long long seconds_of(const char *v) {
  char *end = NULL;
  long long n = strtoll(v, &end, 10);
  switch (*end) {
  case 'm': return n * 60;
  case 'h': return n * 3600;
  case 'd': return n * 86400;
  default: return n;
  }
}

/* A range end: accepted, or refused only by a rule between keys. */
static int range_end_ok(const doc_key *k, const char *v) {
  static cpa_config cfg;
  if (parse_with(k, v, NULL, &cfg) == CP_OK) return 1;
  return strstr(err, "out of range") == NULL && strstr(err, " is not ") == NULL;
}

static int refused_with(const doc_key *k, const char *v, const char *problem) {
  static cpa_config cfg;
  char who[128];
  snprintf(who, sizeof who, "[%s] %s: ", k->section, k->name);
  return parse_with(k, v, NULL, &cfg) != CP_OK && strstr(err, who) && strstr(err, problem);
}

/* The backticked values of the "- **type**:" bullet of "Value types". */
static int type_bullet(const char *type, int i, char *out, size_t size) {
  char head[48];
  snprintf(head, sizeof head, "- **%s**:", type);
  size_t len;
  const char *b = section_of(doc, head, "\n", &len);
  if (!b) return -1;
  char line[CELL_MAX];
  trim_into(line, sizeof line, b, len);
  return backticked(line, i, out, size);
}

static int check_range(const doc_key *k, const char *kind) {
  char lo[64], hi[64], below[64], above[64];
  int ok = 1;
  if (strcmp(kind, "port") == 0) {
    ok = type_bullet("port", 0, lo, sizeof lo) == 0 && type_bullet("port", 1, hi, sizeof hi) == 0;
    if (!ok) return 0;
    snprintf(below, sizeof below, "%ld", strtol(lo, NULL, 10) - 1);
    snprintf(above, sizeof above, "%ld", strtol(hi, NULL, 10) + 1);
    return range_end_ok(k, lo) && range_end_ok(k, hi) && refused_with(k, below, "not a port") &&
           refused_with(k, above, "not a port") && refused_with(k, "x", "not a port");
  }
  if (backticked(k->type, 0, lo, sizeof lo) != 0 || backticked(k->type, 1, hi, sizeof hi) != 0) {
    print_error("[%s] %s: type '%s' gives no `low`–`high` range\n", k->section, k->name, k->type);
    return 0;
  }
  if (strcmp(kind, "duration") == 0) {
    snprintf(below, sizeof below, "%lld", seconds_of(lo) - 1);
    snprintf(above, sizeof above, "%lld", seconds_of(hi) + 1);
  } else {
    snprintf(below, sizeof below, "%.6g", strtod(lo, NULL) - 0.001);
    snprintf(above, sizeof above, "%.6g", strtod(hi, NULL) + 0.001);
  }
  char junk[32];
  snprintf(junk, sizeof junk, "is not a %s", kind);
  return range_end_ok(k, lo) && range_end_ok(k, hi) && refused_with(k, below, "out of range") &&
         refused_with(k, above, "out of range") && refused_with(k, "soon", junk);
}

static int check_one_of(const doc_key *k) {
  char v[64];
  int ok = 1, n = 0;
  static cpa_config cfg;
  for (int i = 0; backticked(k->type, i, v, sizeof v) == 0; i++, n++)
    ok &= parse_with(k, v, NULL, &cfg) == CP_OK || strstr(err, "is not one of") == NULL;
  if (strstr(k->type, "or empty")) ok &= parse_with(k, "", NULL, &cfg) == CP_OK;
  return ok && n > 0 && refused_with(k, "bogus", "is not one of");
}

static int check_boolean(const doc_key *k) {
  char v[16];
  int ok = 1, n = 0;
  static cpa_config cfg;
  for (int i = 0; type_bullet("boolean", i, v, sizeof v) == 0; i++, n++)
    ok &= parse_with(k, v, NULL, &cfg) == CP_OK;
  return ok && n > 0 && refused_with(k, "maybe", "is not a boolean");
}

/* A path may be empty unless the page says it is required (always, or for
 * the default onboarding kind) or cannot be empty. */
static int check_path(const doc_key *k) {
  static cpa_config cfg;
  char for_kind[64];
  snprintf(for_kind, sizeof for_kind, "Required for `%s`", cpa_onboarding_name(cfg_base.onboarding));
  int empty_ok = parse_with(k, "", NULL, &cfg) == CP_OK;
  int must_be_set = strstr(k->meaning, "Cannot be empty") != NULL ||
                    strstr(k->meaning, "**Required.**") != NULL || strstr(k->meaning, for_kind) != NULL;
  return empty_ok == !must_be_set && refused_with(k, "relative/file", "not an absolute path");
}

static void test_doc_types_and_ranges_are_the_parser_checks(void **state) {
  (void)state;
  int bad = 0;
  static const char *numeric[] = {"duration", "fraction", "port"};
  for (size_t i = 0; i < nkeys; i++) {
    const doc_key *k = &keys[i];
    int ok = -1;
    for (size_t t = 0; t < 3; t++)
      if (strncmp(k->type, numeric[t], strlen(numeric[t])) == 0) ok = check_range(k, numeric[t]);
    if (strncmp(k->type, "one of ", 7) == 0) ok = check_one_of(k);
    else if (strcmp(k->type, "boolean") == 0) ok = check_boolean(k);
    else if (strcmp(k->type, "path") == 0) ok = check_path(k);
    else if (strcmp(k->type, "string") == 0) ok = 1;
    if (ok != 1) {
      print_error("[%s] %s: %s '%s' (last message: %s)\n", k->section, k->name,
                  ok < 0 ? "unknown type" : "the parser does not check what the Type column says",
                  k->type, err);
      bad++;
    }
  }
  assert_int_equal(bad, 0);
}

/* The value-type examples ("90", "15m", "2/3", "66%"…) are the parser's syntax. */
static void test_doc_value_type_examples_parse(void **state) {
  (void)state;
  int bad = 0;
  static const char *types[] = {"duration", "fraction"};
  for (size_t t = 0; t < 2; t++) {
    const doc_key *k = NULL;
    for (size_t i = 0; i < nkeys && !k; i++)
      if (strncmp(keys[i].type, types[t], strlen(types[t])) == 0) k = &keys[i];
    assert_non_null(k);
    char v[32], problem[32];
    snprintf(problem, sizeof problem, "is not a %s", types[t]);
    for (int i = 0; type_bullet(types[t], i, v, sizeof v) == 0; i++) {
      if (v[0] < '0' || v[0] > '9') continue; /* the suffix letters */
      if (refused_with(k, v, problem)) {
        print_error("%s example '%s' refused: %s\n", types[t], v, err);
        bad++;
      }
    }
  }
  assert_int_equal(bad, 0);
}

/* The quoted error messages are what the parser prints. */
static void test_doc_quoted_errors_are_the_parser_messages(void **state) {
  (void)state;
  static const char *cases[][3] = {
      {"renewal", "fractoin", "0.5"},
      {"hooks", "timeout", "soon"},
  };
  static cpa_config cfg;
  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    doc_key k;
    memset(&k, 0, sizeof k);
    snprintf(k.section, sizeof k.section, "%s", cases[i][0]);
    snprintf(k.name, sizeof k.name, "%s", cases[i][1]);
    assert_int_equal(parse_with(&k, cases[i][2], NULL, &cfg), CP_ERR_CONFIG);
    const char *tail = strstr(err, ": [");
    assert_non_null(tail);
    if (!strstr(doc, tail + 2)) print_error("docs/agent.md does not quote: %s\n", tail + 2);
    assert_non_null(strstr(doc, tail + 2));
  }
  const doc_key *endpoint = NULL;
  for (size_t i = 0; i < nkeys; i++)
    if (strcmp(keys[i].name, "endpoint") == 0) endpoint = &keys[i];
  assert_non_null(endpoint);
  assert_int_equal(parse_with(NULL, NULL, endpoint, &cfg), CP_ERR_CONFIG);
  const char *missing = strstr(err, ": [");
  assert_non_null(missing);
  if (!strstr(doc, missing + 2)) print_error("docs/agent.md does not quote: %s\n", missing + 2);
  assert_non_null(strstr(doc, missing + 2));
}

static void test_doc_undocumented_key_and_section_are_refused(void **state) {
  (void)state;
  doc_key k;
  memset(&k, 0, sizeof k);
  snprintf(k.section, sizeof k.section, "renewal");
  snprintf(k.name, sizeof k.name, "undocumented_key");
  assert_false(doc_has_key(k.section, k.name));
  assert_true(refused_with(&k, "1", "unknown key"));
  snprintf(k.section, sizeof k.section, "undocumented");
  assert_true(refused_with(&k, "1", "unknown section"));
}

/* The example configuration of "Quick start" parses. */
static void test_doc_quick_start_config_parses(void **state) {
  (void)state;
  size_t len;
  const char *q = section_of(doc, "## Quick start", "\n## ", &len);
  assert_non_null(q);
  const char *ini = strstr(q, "```ini\n");
  assert_true(ini && ini < q + len);
  ini += strlen("```ini\n");
  const char *end = strstr(ini, "```");
  assert_non_null(end);
  static char text[TEXT_MAX];
  snprintf(text, sizeof text, "%.*s", (int)(end - ini), ini);
  static cpa_config cfg;
  cpa_config_defaults(&cfg);
  if (cpa_config_parse_string(text, "quick-start", &cfg, err, sizeof err) != CP_OK)
    print_error("%s\n", err);
  assert_string_equal(err, "");
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_doc_key_tables_list_exactly_the_parser_keys),
      cmocka_unit_test(test_doc_defaults_are_the_parser_defaults),
      cmocka_unit_test(test_doc_examples_are_accepted),
      cmocka_unit_test(test_doc_required_keys_are_required),
      cmocka_unit_test(test_doc_types_and_ranges_are_the_parser_checks),
      cmocka_unit_test(test_doc_value_type_examples_parse),
      cmocka_unit_test(test_doc_quoted_errors_are_the_parser_messages),
      cmocka_unit_test(test_doc_undocumented_key_and_section_are_refused),
      cmocka_unit_test(test_doc_quick_start_config_parses),
  };
  return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
