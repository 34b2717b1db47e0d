/* Unit tests for cp_x509.h: parse, chain verify, key match, chain conversion.
 * Fixtures are made fresh by make_fixtures.sh (openssl CLI) in a temp dir, and
 * every parsed field is compared with what `openssl x509` prints. */
#define _XOPEN_SOURCE 700 /* strptime */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "certpilot/cp_encoding.h"
#include "certpilot/cp_log.h"
#include "certpilot/cp_x509.h"

#define NAMEOPT "esc_2253,esc_ctrl,utf8,dump_nostr,dump_unknown,dump_der,sep_comma_plus_space,dn_rev,sname"

static char g_dir[256];

typedef struct blob {
  uint8_t data[16384];
  size_t len;
} blob;

static void fx_path(char *out, size_t size, const char *name)
{
  snprintf(out, size, "%s/%s", g_dir, name);
}

static void load(const char *name, blob *b)
{
  char path[512];
  FILE *f;

  fx_path(path, sizeof path, name);
  f = fopen(path, "rb");
  if (f == NULL)
    fail_msg("cannot open fixture %s", path);
  b->len = fread(b->data, 1, sizeof b->data, f);
  fclose(f);
  assert_true(b->len > 0 && b->len < sizeof b->data);
}

static int setup_fixtures(void **state)
{
  const char *src = getenv("CP_SOURCE_DIR");
  char cmd[1024];

  (void)state;
  snprintf(g_dir, sizeof g_dir, "/tmp/cp_x509_XXXXXX");
  if (src == NULL || mkdtemp(g_dir) == NULL)
    return -1;
  snprintf(cmd, sizeof cmd, "sh '%s/tests/unit/sdk_x509/make_fixtures.sh' '%s' >/dev/null 2>&1",
           src, g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

static int teardown_fixtures(void **state)
{
  char cmd[512];

  (void)state;
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", g_dir);
  return system(cmd) == 0 ? 0 : -1;
}

/* ---- what openssl says about a certificate ---- */

typedef struct ossl_view {
  char subject[CP_CERT_NAME_MAX];
  char issuer[CP_CERT_NAME_MAX];
  char serial[80];
  int64_t not_before, not_after;
  char fingerprint[80]; /* lower-case hex, no colons */
  char uris[16][CP_CERT_SAN_URI_LEN];
  size_t uri_count;
  int is_ca; /* -1: no basicConstraints */
} ossl_view;

static int64_t ossl_date(const char *s)
{
  struct tm tm;
  const char *end;

  memset(&tm, 0, sizeof tm);
  end = strptime(s, "%b %d %H:%M:%S %Y GMT", &tm);
  assert_non_null(end);
  return (int64_t)timegm(&tm);
}

static void strip_nl(char *s)
{
  size_t n = strlen(s);
  while (n > 0 && (s[n - 1] == '\n' || s[n - 1] == '\r'))
    s[--n] = '\0';
}

static void copy_field(char *dst, size_t size, const char *src)
{
  size_t n = strlen(src);

  assert_true(n < size);
  memcpy(dst, src, n + 1);
}

static void ossl_read(const char *name, ossl_view *v)
{
  char path[512], cmd[1024], line[2048];
  FILE *p;
  int want = 0; /* 1: next line is SAN, 2: next line is basicConstraints */

  memset(v, 0, sizeof *v);
  v->is_ca = -1;
  fx_path(path, sizeof path, name);
  snprintf(cmd, sizeof cmd,
           "openssl x509 -in '%s' -noout -subject -issuer -serial -dates -fingerprint -sha256 "
           "-ext subjectAltName,basicConstraints -nameopt " NAMEOPT,
           path);
  p = popen(cmd, "r");
  assert_non_null(p);
  while (fgets(line, sizeof line, p) != NULL) {
    strip_nl(line);
    if (want == 1) {
      char *tok = line, *next;
      while (*tok == ' ')
        tok++;
      for (; tok != NULL; tok = next) {
        next = strstr(tok, ", ");
        if (next != NULL) {
          *next = '\0';
          next += 2;
        }
        if (strncmp(tok, "URI:", 4) == 0) {
          assert_true(v->uri_count < 16);
          copy_field(v->uris[v->uri_count++], CP_CERT_SAN_URI_LEN, tok + 4);
        }
      }
      want = 0;
    } else if (want == 2) {
      v->is_ca = strstr(line, "CA:TRUE") != NULL;
      want = 0;
    } else if (strncmp(line, "subject=", 8) == 0) {
      copy_field(v->subject, sizeof v->subject, line + 8);
    } else if (strncmp(line, "issuer=", 7) == 0) {
      copy_field(v->issuer, sizeof v->issuer, line + 7);
    } else if (strncmp(line, "serial=", 7) == 0) {
      copy_field(v->serial, sizeof v->serial, line + 7);
    } else if (strncmp(line, "notBefore=", 10) == 0) {
      v->not_before = ossl_date(line + 10);
    } else if (strncmp(line, "notAfter=", 9) == 0) {
      v->not_after = ossl_date(line + 9);
    } else if (strncmp(line, "sha256 Fingerprint=", 19) == 0) {
      size_t k = 0;
      for (const char *c = line + 19; *c != '\0' && k + 1 < sizeof v->fingerprint; c++)
        if (*c != ':')
          v->fingerprint[k++] = (char)(*c >= 'A' && *c <= 'F' ? *c - 'A' + 'a' : *c);
    } else if (strstr(line, "Subject Alternative Name") != NULL) {
      want = 1;
    } else if (strstr(line, "Basic Constraints") != NULL) {
      want = 2;
    }
  }
  assert_int_equal(pclose(p), 0);
  assert_true(v->subject[0] != '\0' && v->fingerprint[0] != '\0');
}

/* The first CN openssl shows in the (most specific first) one-line name. */
static void first_cn(const char *oneline, char *cn, size_t size)
{
  const char *s = strncmp(oneline, "CN=", 3) == 0 ? oneline : strstr(oneline, ", CN=");
  size_t n;

  if (s == NULL) {
    snprintf(cn, size, "%s", "");
    return;
  }
  s = strchr(s, '=') + 1;
  n = strcspn(s, ",+"); /* ends at the next RDN or AVA */
  while (n > 0 && s[n - 1] == ' ')
    n--;
  snprintf(cn, size, "%.*s", (int)n, s);
}

static void assert_matches_openssl(const char *pem_name, const char *file_to_parse)
{
  blob b;
  ossl_view v;
  cp_cert_info info;
  char cn[CP_CERT_CN_MAX];
  size_t i;

  ossl_read(pem_name, &v);
  load(file_to_parse, &b);
  memset(&info, 0x5a, sizeof info);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  assert_string_equal(info.subject, v.subject);
  assert_string_equal(info.issuer, v.issuer);
  first_cn(v.subject, cn, sizeof cn);
  assert_string_equal(info.subject_cn, cn);
  first_cn(v.issuer, cn, sizeof cn);
  assert_string_equal(info.issuer_cn, cn);
  assert_int_equal(strcasecmp(info.serial_hex, v.serial), 0);
  for (i = 0; info.serial_hex[i] != '\0'; i++)
    assert_false(info.serial_hex[i] >= 'A' && info.serial_hex[i] <= 'F');
  assert_int_equal(info.not_before, v.not_before);
  assert_int_equal(info.not_after, v.not_after);
  assert_string_equal(info.thumbprint_sha256, v.fingerprint);
  assert_int_equal(info.san_uri_count, v.uri_count);
  for (i = 0; i < v.uri_count && i < CP_CERT_SAN_URI_MAX; i++)
    assert_string_equal(info.san_uris[i], v.uris[i]);
  assert_int_equal(info.is_ca, v.is_ca == 1);
  {
    /* public key: the SubjectPublicKeyInfo openssl extracts */
    char path[512], cmd[1200];
    blob spki;
    fx_path(path, sizeof path, pem_name);
    snprintf(cmd, sizeof cmd,
             "openssl x509 -in '%s' -noout -pubkey | openssl pkey -pubin -outform DER -out '%s.spki'",
             path, path);
    assert_int_equal(system(cmd), 0);
    snprintf(path, sizeof path, "%s.spki", pem_name);
    load(path, &spki);
    assert_int_equal(info.public_key_der_len, spki.len);
    assert_memory_equal(info.public_key_der, spki.data, spki.len);
  }
}

/* ---- cp_cert_parse ---- */

static void test_cert_parse_pem_leaf_with_sans_matches_openssl(void **state)
{
  cp_cert_info info;
  blob b;

  (void)state;
  assert_matches_openssl("leaf.pem", "leaf.pem");
  load("leaf.pem", &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  /* the fixture is known to hold these; the comparison above must not be vacuous */
  assert_string_equal(info.subject, "CN=dev-1, OU=Gerät, O=Contoso\\, Ltd, C=DE");
  assert_int_equal(info.san_uri_count, 5);
  assert_string_equal(info.san_uris[0], "urn:certpilot:rev:3f2a");
  assert_string_equal(info.san_uris[3], "urn:x:4");
  assert_false(info.is_ca);
  assert_string_equal(info.serial_hex, "c0ffee0102030405060708090a0b0c0d0e0f10");
}

static void test_cert_parse_der_ca_matches_openssl(void **state)
{
  (void)state;
  assert_matches_openssl("ica.pem", "ica.der");
}

static void test_cert_parse_generalized_time_root_matches_openssl(void **state)
{
  cp_cert_info info;
  blob b;

  (void)state;
  assert_matches_openssl("root.pem", "root.der");
  load("root.der", &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  assert_true(info.not_after > 2524608000); /* after 2050: GeneralizedTime */
  assert_true(info.is_ca);
}

static void test_cert_parse_utctime_bounds_1970_and_2049_match_openssl(void **state)
{
  cp_cert_info info;
  blob b;

  (void)state;
  assert_matches_openssl("oldroot.pem", "oldroot.der");
  load("oldroot.der", &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  assert_int_equal(info.not_before, 0);          /* 700101000000Z */
  assert_int_equal(info.not_after, 2524607999);  /* 491231235959Z is 2049, not 1949 */
}

static void test_cert_parse_generalized_time_not_before_2060_ok(void **state)
{
  cp_cert_info info;
  blob b;

  (void)state;
  assert_matches_openssl("futleaf.pem", "futleaf.der");
  load("futleaf.der", &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  assert_int_equal(info.not_before, 2840140800);             /* 2060-01-01 */
  assert_int_equal(info.not_after, 2840140800 + 366 * 86400); /* 2060 is a leap year */
}

static void test_cert_parse_p256_leaf_parses_and_matches_openssl(void **state)
{
  cp_cert_info info;
  blob b;

  (void)state;
  assert_matches_openssl("leaf256.pem", "leaf256.pem");
  load("leaf256.der", &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  assert_string_equal(info.subject, "CN=dev-256 + serialNumber=42, O=Contoso");
  assert_string_equal(info.subject_cn, "dev-256");
}

static void test_cert_parse_rsa_leaf_parses_and_matches_openssl(void **state)
{
  (void)state;
  assert_matches_openssl("leafrsa.pem", "leafrsa.der");
}

static void test_cert_parse_pem_with_leading_whitespace_ok(void **state)
{
  blob b;
  uint8_t buf[sizeof b.data + 8];
  cp_cert_info a, c;

  (void)state;
  load("leaf.pem", &b);
  memcpy(buf, "\n \r\n", 4);
  memcpy(buf + 4, b.data, b.len);
  assert_int_equal(cp_cert_parse(buf, b.len + 4, &a), CP_OK);
  load("leaf.der", &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &c), CP_OK);
  assert_string_equal(a.thumbprint_sha256, c.thumbprint_sha256);
}

static void assert_parse_fails_untouched(const uint8_t *data, size_t len, cp_result want)
{
  cp_cert_info info, before;

  memset(&info, 0xa5, sizeof info);
  memcpy(&before, &info, sizeof info);
  assert_int_equal(cp_cert_parse(data, len, &info), want);
  assert_memory_equal(&info, &before, sizeof info);
}

static void test_cert_parse_truncated_der_fails_untouched(void **state)
{
  blob b;
  size_t cut;

  (void)state;
  load("leaf.der", &b);
  for (cut = 1; cut < b.len; cut += 37)
    assert_parse_fails_untouched(b.data, cut, CP_ERR_PARSE);
  assert_parse_fails_untouched(b.data, b.len - 1, CP_ERR_PARSE);
}

static void test_cert_parse_trailing_bytes_fails(void **state)
{
  blob b;

  (void)state;
  load("leaf.der", &b);
  b.data[b.len++] = 0;
  assert_parse_fails_untouched(b.data, b.len, CP_ERR_PARSE);
}

static void test_cert_parse_garbage_fails_untouched(void **state)
{
  uint8_t junk[512];
  size_t i;
  blob b;

  (void)state;
  for (i = 0; i < sizeof junk; i++)
    junk[i] = (uint8_t)(i * 131 + 7);
  assert_parse_fails_untouched(junk, sizeof junk, CP_ERR_PARSE);
  junk[0] = 0x30; /* looks like DER, is not */
  junk[1] = 0x82;
  junk[2] = 0x01;
  junk[3] = 0xfc;
  assert_parse_fails_untouched(junk, sizeof junk, CP_ERR_PARSE);
  assert_parse_fails_untouched((const uint8_t *)"hello", 5, CP_ERR_PARSE);
  /* a corrupted byte inside the TBS structure */
  load("leaf.der", &b);
  b.data[4] ^= 0xff;
  assert_parse_fails_untouched(b.data, b.len, CP_ERR_PARSE);
}

static void test_cert_parse_truncated_pem_fails_untouched(void **state)
{
  blob b;

  (void)state;
  load("leaf.pem", &b);
  assert_parse_fails_untouched(b.data, b.len - 30, CP_ERR_PARSE); /* no END line */
  assert_parse_fails_untouched(b.data, 40, CP_ERR_PARSE);
}

static void test_cert_parse_pem_bad_base64_fails_untouched(void **state)
{
  blob b;

  (void)state;
  load("leaf.pem", &b);
  b.data[100] = '*';
  assert_parse_fails_untouched(b.data, b.len, CP_ERR_PARSE);
  load("leaf.pem", &b);
  b.data[100] = b.data[100] == 'A' ? 'B' : 'A'; /* valid base64, broken DER */
  b.data[101] = b.data[101] == 'A' ? 'B' : 'A';
  assert_parse_fails_untouched(b.data, b.len, CP_ERR_PARSE);
}

static void test_cert_parse_pem_key_block_fails_untouched(void **state)
{
  blob b;

  (void)state;
  load("leaf.key", &b);
  assert_parse_fails_untouched(b.data, b.len, CP_ERR_PARSE);
}

static char g_log[4096];

static void capture_log(void *ctx, cp_log_level level, const char *message)
{
  (void)ctx;
  (void)level;
  strncat(g_log, message, sizeof g_log - strlen(g_log) - 2);
  strcat(g_log, "\n");
}

/* Parse must fail, leave the output alone and log a line containing @p why. */
static void assert_parse_fails_saying(const char *name, const char *why)
{
  blob b;

  load(name, &b);
  g_log[0] = '\0';
  cp_log_set_callback(capture_log, NULL, CP_LOG_DEBUG);
  assert_parse_fails_untouched(b.data, b.len, CP_ERR_PARSE);
  cp_log_set_callback(NULL, NULL, CP_LOG_INFO);
  if (strstr(g_log, why) == NULL)
    fail_msg("log does not say \"%s\": %s", why, g_log);
}

static void test_cert_parse_name_over_limit_fails_untouched(void **state)
{
  (void)state;
  assert_parse_fails_saying("longname.der", "name longer than 511");
}

static void test_cert_parse_stored_uri_over_limit_fails_untouched(void **state)
{
  (void)state;
  assert_parse_fails_saying("longuri.der", "URI longer than 255");
}

static void test_cert_parse_null_args_invalid(void **state)
{
  cp_cert_info info;
  blob b;

  (void)state;
  load("leaf.der", &b);
  assert_int_equal(cp_cert_parse(NULL, 10, &info), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_cert_parse(b.data, b.len, NULL), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_cert_parse(b.data, 0, &info), CP_ERR_PARSE);
}

/* ---- cp_chain_verify ---- */

typedef struct chain_fx {
  blob certs[4];
  cp_der der[4];
  size_t n;
} chain_fx;

static void chain_load(chain_fx *c, const char *a, const char *b, const char *d, const char *e)
{
  const char *names[4] = {a, b, d, e};
  size_t i;

  c->n = 0;
  for (i = 0; i < 4 && names[i] != NULL; i++) {
    load(names[i], &c->certs[i]);
    c->der[i].data = c->certs[i].data;
    c->der[i].len = c->certs[i].len;
    c->n++;
  }
}

static cp_der anchor_of(blob *b)
{
  cp_der d = {b->data, b->len};
  return d;
}

static int64_t leaf_time(const char *name, int which)
{
  cp_cert_info info;
  blob b;

  load(name, &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  return which == 0 ? info.not_before : info.not_after;
}

#define NO_INDEX 99

/* Verify @p c against @p anchor at @p t; expect @p want and, on failure,
 * @p want_idx as the failed index (left untouched on success). */
static void expect_verify(chain_fx *c, blob *anchor, int64_t t, cp_result want,
                          size_t want_idx)
{
  size_t idx = NO_INDEX;

  assert_int_equal(cp_chain_verify(c->der, c->n, anchor_of(anchor), t, &idx), want);
  assert_int_equal(idx, want == CP_OK ? NO_INDEX : want_idx);
}

static void test_chain_verify_openssl_p384_chain_ok(void **state)
{
  chain_fx c;
  blob root;
  int64_t nb = leaf_time("leaf.der", 0), na = leaf_time("leaf.der", 1);

  (void)state;
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  load("root.der", &root);
  expect_verify(&c, &root, nb + 3600, CP_OK, NO_INDEX);
  /* both ends of the validity window are inclusive */
  assert_int_equal(cp_chain_verify(c.der, c.n, anchor_of(&root), nb, NULL), CP_OK);
  assert_int_equal(cp_chain_verify(c.der, c.n, anchor_of(&root), na, NULL), CP_OK);
}

static void test_chain_verify_uses_given_time_not_wall_clock(void **state)
{
  chain_fx c;
  blob root;

  (void)state;
  load("oldroot.der", &root);
  chain_load(&c, "oldleaf.der", "oldroot.der", NULL, NULL);
  /* 2020-01-15: valid then, long expired by the wall clock */
  expect_verify(&c, &root, 1579046400, CP_OK, NO_INDEX);
  expect_verify(&c, &root, 1580515201, CP_ERR_CERT_EXPIRED, 0);
  expect_verify(&c, &root, 1577836799, CP_ERR_CERT_NOT_YET_VALID, 0);
  /* a leaf valid only from 2060 is not yet valid now, valid in 2060 is beyond its root */
  chain_load(&c, "futleaf.der", "oldroot.der", NULL, NULL);
  expect_verify(&c, &root, (int64_t)time(NULL), CP_ERR_CERT_NOT_YET_VALID, 0);
  expect_verify(&c, &root, 2840140800 + 60, CP_ERR_CERT_EXPIRED, 1);
}

static void test_chain_verify_chain_without_root_signed_by_anchor_ok(void **state)
{
  chain_fx c;
  blob root;

  (void)state;
  chain_load(&c, "leaf.der", "ica.der", NULL, NULL);
  load("root.der", &root);
  assert_int_equal(cp_chain_verify(c.der, c.n, anchor_of(&root),
                                   leaf_time("leaf.der", 0) + 60, NULL), CP_OK);
}

static void test_chain_verify_expired_leaf_reports_expired_index0(void **state)
{
  chain_fx c;
  blob root;

  (void)state;
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  load("root.der", &root);
  expect_verify(&c, &root, leaf_time("leaf.der", 1) + 1, CP_ERR_CERT_EXPIRED, 0);
}

static void test_chain_verify_expired_intermediate_reports_index1(void **state)
{
  chain_fx c;
  blob root;
  int64_t t = leaf_time("icashort.der", 1) + 1;

  (void)state;
  chain_load(&c, "leafshort.der", "icashort.der", "root.der", NULL);
  load("root.der", &root);
  assert_true(t < leaf_time("leafshort.der", 1)); /* the leaf itself is still valid */
  expect_verify(&c, &root, t - 1, CP_OK, NO_INDEX);
  expect_verify(&c, &root, t, CP_ERR_CERT_EXPIRED, 1);
}

static void test_chain_verify_not_yet_valid_reports_index0(void **state)
{
  chain_fx c;
  blob root;

  (void)state;
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  load("root.der", &root);
  expect_verify(&c, &root, leaf_time("root.der", 0) - 1, CP_ERR_CERT_NOT_YET_VALID, 0);
}

static void test_chain_verify_wrong_root_untrusted(void **state)
{
  chain_fx c;
  blob root2;
  int64_t t = leaf_time("leaf.der", 0) + 60;

  (void)state;
  load("root2.der", &root2); /* same subject as root, other key */
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  expect_verify(&c, &root2, t, CP_ERR_UNTRUSTED, 3);
  chain_load(&c, "leaf.der", "ica.der", NULL, NULL);
  expect_verify(&c, &root2, t, CP_ERR_UNTRUSTED, 2);
  /* an anchor with another name altogether */
  load("ica2.der", &root2);
  expect_verify(&c, &root2, t, CP_ERR_UNTRUSTED, 2);
}

static void test_chain_verify_tampered_signature_bad_signature(void **state)
{
  chain_fx c;
  blob root;
  int64_t t = leaf_time("leaf.der", 0) + 60;

  (void)state;
  load("root.der", &root);
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  /* The ECDSA signature ends the DER: flip a byte inside the s integer. */
  c.certs[0].data[c.certs[0].len - 3] ^= 0x01;
  expect_verify(&c, &root, t, CP_ERR_BAD_SIGNATURE, 0);
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  c.certs[1].data[c.certs[1].len - 3] ^= 0x80;
  expect_verify(&c, &root, t, CP_ERR_BAD_SIGNATURE, 1);
}

static void test_chain_verify_swapped_order_chain_invalid(void **state)
{
  chain_fx c;
  blob root;

  (void)state;
  load("root.der", &root);
  chain_load(&c, "ica.der", "leaf.der", "root.der", NULL);
  expect_verify(&c, &root, leaf_time("leaf.der", 0) + 60, CP_ERR_CHAIN_INVALID, 0);
  chain_load(&c, "leaf.der", "root.der", "ica.der", NULL);
  expect_verify(&c, &root, leaf_time("leaf.der", 0) + 60, CP_ERR_CHAIN_INVALID, 0);
}

static void test_chain_verify_non_ca_intermediate_chain_invalid(void **state)
{
  chain_fx c;
  blob root;

  (void)state;
  load("root.der", &root);
  chain_load(&c, "leafnoca.der", "icanoca.der", "root.der", NULL);
  expect_verify(&c, &root, leaf_time("leafnoca.der", 0) + 60, CP_ERR_CHAIN_INVALID, 1);
}

static void test_chain_verify_path_length_exceeded_chain_invalid(void **state)
{
  chain_fx c;
  blob root;
  int64_t t = leaf_time("leafdeep.der", 0) + 60;

  (void)state;
  load("root.der", &root);
  chain_load(&c, "leafdeep.der", "ica2.der", "ica.der", "root.der");
  expect_verify(&c, &root, t, CP_ERR_CHAIN_INVALID, 2);
  /* ica's pathlen:0 binds it as an anchor too: ica2 below it is one CA too many */
  load("ica.der", &root);
  chain_load(&c, "leafdeep.der", "ica2.der", NULL, NULL);
  expect_verify(&c, &root, t, CP_ERR_UNTRUSTED, 2);
  chain_load(&c, "leafdeep.der", "ica2.der", "ica.der", NULL);
  expect_verify(&c, &root, t, CP_ERR_CHAIN_INVALID, 2);
  /* a leaf right below ica is within pathlen:0 */
  chain_load(&c, "leaf.der", NULL, NULL, NULL);
  expect_verify(&c, &root, leaf_time("leaf.der", 0) + 60, CP_OK, NO_INDEX);
}

static void test_chain_verify_garbage_element_parse_error(void **state)
{
  chain_fx c;
  blob root;
  size_t idx = 99;
  int64_t t = leaf_time("leaf.der", 0) + 60;

  (void)state;
  load("root.der", &root);
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  c.der[1].len -= 10;
  expect_verify(&c, &root, t, CP_ERR_PARSE, 1);
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  root.len = 20;
  assert_int_equal(cp_chain_verify(c.der, 2, anchor_of(&root), t, &idx), CP_ERR_PARSE);
  assert_int_equal(idx, 2);
}

static void test_chain_verify_bad_length_or_args_rejected(void **state)
{
  chain_fx c;
  blob root;
  cp_der many[CP_CHAIN_MAX + 1];
  cp_der none = {NULL, 0};
  size_t i;

  (void)state;
  load("root.der", &root);
  chain_load(&c, "leaf.der", "ica.der", "root.der", NULL);
  for (i = 0; i <= CP_CHAIN_MAX; i++)
    many[i] = c.der[0];
  assert_int_equal(cp_chain_verify(c.der, 0, anchor_of(&root), 0, NULL), CP_ERR_CHAIN_INVALID);
  assert_int_equal(cp_chain_verify(many, CP_CHAIN_MAX + 1, anchor_of(&root), 0, NULL),
                   CP_ERR_CHAIN_INVALID);
  assert_int_equal(cp_chain_verify(NULL, 2, anchor_of(&root), 0, NULL), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_chain_verify(c.der, c.n, none, 0, NULL), CP_ERR_INVALID_ARG);
}

/* ---- cp_cert_matches_key ---- */

static void key_from_file(const char *name, cp_key *key)
{
  blob b;

  load(name, &b);
  assert_int_equal(cp_key_from_der(key, b.data, b.len), CP_OK);
}

static void test_cert_matches_key_own_key_ok(void **state)
{
  cp_key key;
  blob b;

  (void)state;
  key_from_file("leaf.key.der", &key);
  load("leaf.der", &b);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_OK);
  load("leaf.pem", &b);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_OK);
}

static void test_cert_matches_key_compressed_point_cert_ok(void **state)
{
  cp_key key;
  blob b;
  cp_cert_info info;

  (void)state;
  key_from_file("leaf.key.der", &key);
  load("leafc.der", &b);
  assert_int_equal(cp_cert_parse(b.data, b.len, &info), CP_OK);
  /* the BIT STRING ends with a 49-byte point starting 02 or 03: compressed */
  assert_in_range(info.public_key_der[info.public_key_der_len - 49], 0x02, 0x03);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_OK);
}

static void test_cert_matches_key_other_p384_key_mismatch(void **state)
{
  cp_key key;
  blob b;

  (void)state;
  key_from_file("other.key.der", &key);
  load("leaf.der", &b);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_ERR_KEY_MISMATCH);
}

static void test_cert_matches_key_p256_and_rsa_certs_mismatch(void **state)
{
  cp_key key;
  blob b;

  (void)state;
  key_from_file("leaf.key.der", &key);
  load("leaf256.der", &b);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_ERR_KEY_MISMATCH);
  load("leafrsa.pem", &b);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_ERR_KEY_MISMATCH);
}

static void test_cert_matches_key_bad_input_rejected(void **state)
{
  cp_key key;
  blob b;

  (void)state;
  load("leaf.der", &b);
  memset(&key, 0, sizeof key);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_ERR_INVALID_ARG);
  memset(key._der, 0x42, 64);
  key._der_len = 64;
  assert_int_equal(cp_cert_matches_key(b.data, b.len, &key), CP_ERR_INVALID_ARG);
  key_from_file("leaf.key.der", &key);
  assert_int_equal(cp_cert_matches_key(b.data, b.len - 5, &key), CP_ERR_PARSE);
  assert_int_equal(cp_cert_matches_key(NULL, 5, &key), CP_ERR_INVALID_ARG);
  assert_int_equal(cp_cert_matches_key(b.data, b.len, NULL), CP_ERR_INVALID_ARG);
}

/* ---- cp_chain_b64_to_pem ---- */

static void b64_of(const char *name, char *out, size_t size)
{
  blob b;
  size_t n;

  load(name, &b);
  assert_int_equal(cp_base64_encode(b.data, b.len, out, size, &n), CP_OK);
}

static char g_b64[4][8192];

static void test_chain_b64_to_pem_equals_openssl_pem_leaf_first(void **state)
{
  const char *arr[3] = {g_b64[0], g_b64[1], g_b64[2]};
  static char out[32768], want[32768];
  blob b;
  size_t n = 0, len = 0, idx = 99;

  (void)state;
  b64_of("leaf.der", g_b64[0], sizeof g_b64[0]);
  b64_of("ica.der", g_b64[1], sizeof g_b64[1]);
  b64_of("root.der", g_b64[2], sizeof g_b64[2]);
  /* openssl writes the same armour: 64 columns, "\n" line ends */
  load("leaf.pem", &b);
  memcpy(want + n, b.data, b.len);
  n += b.len;
  load("ica.pem", &b);
  memcpy(want + n, b.data, b.len);
  n += b.len;
  load("root.pem", &b);
  memcpy(want + n, b.data, b.len);
  n += b.len;
  want[n] = '\0';
  assert_int_equal(cp_chain_b64_to_pem(arr, 3, out, sizeof out, &len, &idx), CP_OK);
  assert_int_equal(len, n);
  assert_string_equal(out, want);
  assert_int_equal(idx, 99);
}

static void test_chain_b64_to_pem_buffer_too_small_untouched(void **state)
{
  const char *arr[2] = {g_b64[0], g_b64[1]};
  static char out[16384];
  size_t need = 0, len = 0, i;

  (void)state;
  b64_of("leaf.der", g_b64[0], sizeof g_b64[0]);
  b64_of("ica.der", g_b64[1], sizeof g_b64[1]);
  assert_int_equal(cp_chain_b64_to_pem(arr, 2, NULL, 0, &need, NULL), CP_ERR_BUFFER_TOO_SMALL);
  memset(out, 0x7e, sizeof out);
  assert_int_equal(cp_chain_b64_to_pem(arr, 2, out, need - 1, &len, NULL),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(len, need);
  for (i = 0; i < sizeof out; i++)
    assert_int_equal((unsigned char)out[i], 0x7e);
  assert_int_equal(cp_chain_b64_to_pem(arr, 2, out, need, &len, NULL), CP_OK);
  assert_int_equal(len + 1, need);
  assert_int_equal(out[len], '\0');
}

static void test_chain_b64_to_pem_bad_element_reports_index(void **state)
{
  const char *arr[3] = {g_b64[0], g_b64[1], g_b64[2]};
  static char out[16384];
  size_t len = 0, idx = 99;

  (void)state;
  memset(out, 0x7e, sizeof out);
  b64_of("leaf.der", g_b64[0], sizeof g_b64[0]);
  b64_of("ica.der", g_b64[1], sizeof g_b64[1]);
  snprintf(g_b64[2], sizeof g_b64[2], "not base64!");
  assert_int_equal(cp_chain_b64_to_pem(arr, 3, out, sizeof out, &len, &idx), CP_ERR_PARSE);
  assert_int_equal(idx, 2);
  snprintf(g_b64[2], sizeof g_b64[2], "MIIBAAAA"); /* base64, but not a certificate */
  assert_int_equal(cp_chain_b64_to_pem(arr, 3, out, sizeof out, &len, &idx), CP_ERR_PARSE);
  assert_int_equal(idx, 2);
  g_b64[1][40] = '\n'; /* whitespace inside an element */
  assert_int_equal(cp_chain_b64_to_pem(arr, 3, out, sizeof out, &len, &idx), CP_ERR_PARSE);
  assert_int_equal(idx, 1);
  assert_int_equal((unsigned char)out[0], 0x7e);
  assert_int_equal(cp_chain_b64_to_pem(arr, 0, out, sizeof out, &len, &idx),
                   CP_ERR_CHAIN_INVALID);
  assert_int_equal(cp_chain_b64_to_pem(arr, 1, out, sizeof out, NULL, &idx),
                   CP_ERR_INVALID_ARG);
}

/* ---- cp_pem_bundle_split ---- */

static size_t bundle(char *out, size_t size, const char *const *names, size_t n)
{
  size_t pos = 0, i;
  blob b;

  for (i = 0; i < n; i++) {
    load(names[i], &b);
    assert_true(pos + b.len + 32 < size);
    memcpy(out + pos, b.data, b.len);
    pos += b.len;
    pos += (size_t)snprintf(out + pos, size - pos, "explanatory text\n");
  }
  return pos;
}

static void test_pem_bundle_split_three_certs_in_order(void **state)
{
  static const char *const pems[3] = {"leaf.pem", "ica.pem", "root.pem"};
  static const char *const ders[3] = {"leaf.der", "ica.der", "root.der"};
  static char pem[32768];
  static uint8_t store[16384];
  cp_der chain[4];
  size_t n = 4, len, i;
  blob b;

  (void)state;
  len = bundle(pem, sizeof pem, pems, 3);
  assert_int_equal(cp_pem_bundle_split(pem, len, store, sizeof store, chain, &n), CP_OK);
  assert_int_equal(n, 3);
  for (i = 0; i < 3; i++) {
    load(ders[i], &b);
    assert_int_equal(chain[i].len, b.len);
    assert_memory_equal(chain[i].data, b.data, b.len);
    assert_true(chain[i].data >= store && chain[i].data + chain[i].len <= store + sizeof store);
  }
}

static void test_pem_bundle_split_too_small_untouched(void **state)
{
  static const char *const pems[3] = {"leaf.pem", "ica.pem", "root.pem"};
  static char pem[32768];
  static uint8_t store[16384];
  cp_der chain[3];
  size_t n, len, i;

  (void)state;
  len = bundle(pem, sizeof pem, pems, 3);
  memset(store, 0x11, sizeof store);
  memset(chain, 0x22, sizeof chain);
  n = 2; /* capacity below the 3 certificates */
  assert_int_equal(cp_pem_bundle_split(pem, len, store, sizeof store, chain, &n),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 2);
  n = 3; /* store below the DER total */
  assert_int_equal(cp_pem_bundle_split(pem, len, store, 600, chain, &n),
                   CP_ERR_BUFFER_TOO_SMALL);
  assert_int_equal(n, 3);
  for (i = 0; i < sizeof store; i++)
    assert_int_equal(store[i], 0x11);
  for (i = 0; i < sizeof chain; i++)
    assert_int_equal(((uint8_t *)chain)[i], 0x22);
}

static void test_pem_bundle_split_bad_blocks_rejected(void **state)
{
  static const char *const with_key[2] = {"leaf.pem", "leaf.key"};
  static const char *const one[1] = {"leaf.pem"};
  static char pem[32768];
  static uint8_t store[16384];
  cp_der chain[3];
  size_t n = 3, len;

  (void)state;
  assert_int_equal(cp_pem_bundle_split("no pem here", 11, store, sizeof store, chain, &n),
                   CP_ERR_NOT_FOUND);
  len = bundle(pem, sizeof pem, with_key, 2);
  assert_int_equal(cp_pem_bundle_split(pem, len, store, sizeof store, chain, &n),
                   CP_ERR_PARSE);
  len = bundle(pem, sizeof pem, one, 1);
  assert_int_equal(cp_pem_bundle_split(pem, len - 40, store, sizeof store, chain, &n),
                   CP_ERR_PARSE); /* END line cut off */
  pem[70] = '%';
  assert_int_equal(cp_pem_bundle_split(pem, len, store, sizeof store, chain, &n),
                   CP_ERR_PARSE);
  assert_int_equal(n, 3);
  assert_int_equal(cp_pem_bundle_split(NULL, 0, store, sizeof store, chain, &n),
                   CP_ERR_INVALID_ARG);
}

int main(void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_cert_parse_pem_leaf_with_sans_matches_openssl),
    cmocka_unit_test(test_cert_parse_der_ca_matches_openssl),
    cmocka_unit_test(test_cert_parse_generalized_time_root_matches_openssl),
    cmocka_unit_test(test_cert_parse_utctime_bounds_1970_and_2049_match_openssl),
    cmocka_unit_test(test_cert_parse_generalized_time_not_before_2060_ok),
    cmocka_unit_test(test_cert_parse_p256_leaf_parses_and_matches_openssl),
    cmocka_unit_test(test_cert_parse_rsa_leaf_parses_and_matches_openssl),
    cmocka_unit_test(test_cert_parse_pem_with_leading_whitespace_ok),
    cmocka_unit_test(test_cert_parse_truncated_der_fails_untouched),
    cmocka_unit_test(test_cert_parse_trailing_bytes_fails),
    cmocka_unit_test(test_cert_parse_garbage_fails_untouched),
    cmocka_unit_test(test_cert_parse_truncated_pem_fails_untouched),
    cmocka_unit_test(test_cert_parse_pem_bad_base64_fails_untouched),
    cmocka_unit_test(test_cert_parse_pem_key_block_fails_untouched),
    cmocka_unit_test(test_cert_parse_name_over_limit_fails_untouched),
    cmocka_unit_test(test_cert_parse_stored_uri_over_limit_fails_untouched),
    cmocka_unit_test(test_cert_parse_null_args_invalid),
    cmocka_unit_test(test_chain_verify_openssl_p384_chain_ok),
    cmocka_unit_test(test_chain_verify_uses_given_time_not_wall_clock),
    cmocka_unit_test(test_chain_verify_chain_without_root_signed_by_anchor_ok),
    cmocka_unit_test(test_chain_verify_expired_leaf_reports_expired_index0),
    cmocka_unit_test(test_chain_verify_expired_intermediate_reports_index1),
    cmocka_unit_test(test_chain_verify_not_yet_valid_reports_index0),
    cmocka_unit_test(test_chain_verify_wrong_root_untrusted),
    cmocka_unit_test(test_chain_verify_tampered_signature_bad_signature),
    cmocka_unit_test(test_chain_verify_swapped_order_chain_invalid),
    cmocka_unit_test(test_chain_verify_non_ca_intermediate_chain_invalid),
    cmocka_unit_test(test_chain_verify_path_length_exceeded_chain_invalid),
    cmocka_unit_test(test_chain_verify_garbage_element_parse_error),
    cmocka_unit_test(test_chain_verify_bad_length_or_args_rejected),
    cmocka_unit_test(test_cert_matches_key_own_key_ok),
    cmocka_unit_test(test_cert_matches_key_compressed_point_cert_ok),
    cmocka_unit_test(test_cert_matches_key_other_p384_key_mismatch),
    cmocka_unit_test(test_cert_matches_key_p256_and_rsa_certs_mismatch),
    cmocka_unit_test(test_cert_matches_key_bad_input_rejected),
    cmocka_unit_test(test_chain_b64_to_pem_equals_openssl_pem_leaf_first),
    cmocka_unit_test(test_chain_b64_to_pem_buffer_too_small_untouched),
    cmocka_unit_test(test_chain_b64_to_pem_bad_element_reports_index),
    cmocka_unit_test(test_pem_bundle_split_three_certs_in_order),
    cmocka_unit_test(test_pem_bundle_split_too_small_untouched),
    cmocka_unit_test(test_pem_bundle_split_bad_blocks_rejected),
  };
  return cmocka_run_group_tests(tests, setup_fixtures, teardown_fixtures);
}
