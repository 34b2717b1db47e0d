/* certpilot-server admin: every management operation without writing curl. */
#include "admin_cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

typedef struct opts {
  const char *url, *token, *cacert, *out;
  /* command options */
  const char *kind, *attestation, *policy, *hub, *regid, *pkey, *skey, *cert_file, *role;
  long days, seconds, after;
  int byor, disabled;
} opts;

typedef struct buf {
  char *data;
  size_t len;
} buf;

static size_t collect(char *p, size_t sz, size_t n, void *arg) {
  buf *b = arg;
  size_t add = sz * n;
  char *g = realloc(b->data, b->len + add + 1);
  if (!g) return 0;
  memcpy(g + b->len, p, add);
  b->len += add;
  g[b->len] = '\0';
  b->data = g;
  return add;
}

static void usage(FILE *f) {
  fprintf(f,
    "usage: certpilot-server admin [--url URL] [--token T | --token-file F] [--cacert FILE]\n"
    "                              [--ready-file F] [--out FILE] COMMAND …\n"
    "  URL/token/CA default to $CERTPILOT_MGMT_URL, $CERTPILOT_ADMIN_TOKEN, $CERTPILOT_TRUST_BUNDLE\n"
    "  (or the values of a harness/--ready-file file).\n"
    "commands:\n"
    "  credential create|show|delete\n"
    "  policy create NAME (--days N | --seconds N) [--byor]\n"
    "  policy list | show NAME | delete NAME | revoke NAME | untrust NAME\n"
    "  policy csr NAME            BYOR: print the CA request (PEM)\n"
    "  policy upload NAME FILE    BYOR: upload the PEM bundle [ICA, root]\n"
    "  enrollment create ID --kind individual|group --attestation symmetricKey|x509\n"
    "             --policy P --hub H [--registration-id R] [--primary-key K]\n"
    "             [--secondary-key K] [--certificate PEMFILE] [--disabled]\n"
    "  enrollment list | show ID | delete ID | disable ID | enable ID\n"
    "  device list | show ID | revoke ID | disable ID | enable ID\n"
    "  crl root | crl policy NAME | crl ica ID   (DER; use --out FILE)\n"
    "  hub-trust                  PEM bundle of the ICAs hubs trust\n"
    "  audit [--after SEQ]\n"
    "  token create NAME reader|credentials-contributor | token list\n");
}

static char *read_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *d = n >= 0 ? malloc((size_t)n + 1) : NULL;
  if (d && fread(d, 1, (size_t)n, f) != (size_t)n) {
    free(d);
    d = NULL;
  }
  if (d) d[n] = '\0';
  fclose(f);
  return d;
}

/* Values from a ready file (KEY=value lines). */
static char *ready_value(const char *path, const char *key) {
  char *text = read_file(path);
  if (!text) return NULL;
  char *res = NULL;
  size_t kl = strlen(key);
  for (char *line = text; line && *line;) {
    char *nl = strchr(line, '\n');
    if (nl) *nl = '\0';
    if (!strncmp(line, key, kl) && line[kl] == '=') {
      res = strdup(line + kl + 1);
      break;
    }
    line = nl ? nl + 1 : NULL;
  }
  free(text);
  return res;
}

static int request(const opts *o, const char *method, const char *path, const char *body,
                   const char *ctype) {
  if (!o->url || !o->token) {
    fprintf(stderr, "certpilot-server admin: no management URL or token (see --help)\n");
    return 2;
  }
  CURL *c = curl_easy_init();
  if (!c) return 1;
  char url[2048], auth[256];
  snprintf(url, sizeof url, "%s%s", o->url, path);
  snprintf(auth, sizeof auth, "Authorization: Bearer %s", o->token);
  struct curl_slist *h = curl_slist_append(NULL, auth);
  char ct[128];
  snprintf(ct, sizeof ct, "Content-Type: %s", ctype ? ctype : "application/json");
  h = curl_slist_append(h, ct);
  buf b = {NULL, 0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 60L);
  if (o->cacert) curl_easy_setopt(c, CURLOPT_CAINFO, o->cacert);
  if (body) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(body));
  }
  CURLcode rc = curl_easy_perform(c);
  long status = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  int ret = 0;
  if (rc != CURLE_OK) {
    fprintf(stderr, "certpilot-server admin: %s: %s\n", url, curl_easy_strerror(rc));
    ret = 1;
  } else if (status < 200 || status > 299) {
    cJSON *j = b.data ? cJSON_Parse(b.data) : NULL;
    cJSON *m = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "error"), "message");
    fprintf(stderr, "certpilot-server admin: HTTP %ld: %s\n", status,
            cJSON_IsString(m) ? m->valuestring : (b.data ? b.data : ""));
    cJSON_Delete(j);
    ret = 1;
  } else if (b.len) {
    FILE *f = o->out ? fopen(o->out, "wb") : stdout;
    if (!f) {
      fprintf(stderr, "certpilot-server admin: cannot write %s\n", o->out);
      ret = 1;
    } else {
      fwrite(b.data, 1, b.len, f);
      if (!o->out && b.data[b.len - 1] != '\n') fputc('\n', f);
      if (o->out) fclose(f);
    }
  }
  free(b.data);
  return ret;
}

static int need(int argc, int n) {
  if (argc < n) {
    fprintf(stderr, "certpilot-server admin: missing argument (see --help)\n");
    return 0;
  }
  return 1;
}

static int with_json(const opts *o, const char *method, const char *path, cJSON *j) {
  char *s = cJSON_PrintUnformatted(j);
  cJSON_Delete(j);
  int rc = request(o, method, path, s, NULL);
  free(s);
  return rc;
}

/* args: positional words after global options, options already extracted into o. */
static int dispatch(opts *o, int argc, char **argv) {
  if (!need(argc, 1)) return 2;
  const char *res = argv[0], *verb = argc > 1 ? argv[1] : "";
  char path[1024];
  char *e1 = argc > 2 ? curl_easy_escape(NULL, argv[2], 0) : NULL;
  const char *id = e1 ? e1 : "";
  int rc = -1;
  if (!strcmp(res, "credential")) {
    if (!strcmp(verb, "create")) rc = request(o, "POST", "/credential", NULL, NULL);
    else if (!strcmp(verb, "show")) rc = request(o, "GET", "/credential", NULL, NULL);
    else if (!strcmp(verb, "delete")) rc = request(o, "DELETE", "/credential", NULL, NULL);
  } else if (!strcmp(res, "policy")) {
    if (!strcmp(verb, "list")) rc = request(o, "GET", "/policies", NULL, NULL);
    else if (!strcmp(verb, "create") && need(argc, 3)) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "name", argv[2]);
      if (o->seconds) cJSON_AddNumberToObject(j, "validitySeconds", (double)o->seconds);
      else cJSON_AddNumberToObject(j, "validityDays", (double)o->days);
      if (o->byor) cJSON_AddTrueToObject(j, "byor");
      rc = with_json(o, "POST", "/policies", j);
    } else if (argc >= 3) {
      snprintf(path, sizeof path, "/policies/%s", id);
      if (!strcmp(verb, "show")) rc = request(o, "GET", path, NULL, NULL);
      else if (!strcmp(verb, "delete")) rc = request(o, "DELETE", path, NULL, NULL);
      else if (!strcmp(verb, "revoke")) rc = request(o, "POST", strcat(path, "/revoke"), NULL, NULL);
      else if (!strcmp(verb, "untrust")) rc = request(o, "DELETE", strcat(path, "/trust"), NULL, NULL);
      else if (!strcmp(verb, "csr")) rc = request(o, "GET", strcat(path, "/csr"), NULL, NULL);
      else if (!strcmp(verb, "upload") && need(argc, 4)) {
        char *pem = read_file(argv[3]);
        if (!pem) {
          fprintf(stderr, "certpilot-server admin: cannot read %s\n", argv[3]);
          rc = 1;
        } else {
          rc = request(o, "PUT", strcat(path, "/certificate"), pem, "application/x-pem-file");
          free(pem);
        }
      }
    }
  } else if (!strcmp(res, "enrollment")) {
    if (!strcmp(verb, "list")) rc = request(o, "GET", "/enrollments", NULL, NULL);
    else if (!strcmp(verb, "create") && need(argc, 3)) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "id", argv[2]);
      cJSON_AddStringToObject(j, "kind", o->kind ? o->kind : "individual");
      cJSON_AddStringToObject(j, "attestation", o->attestation ? o->attestation : "symmetricKey");
      if (o->policy) cJSON_AddStringToObject(j, "policy", o->policy);
      if (o->hub) cJSON_AddStringToObject(j, "hub", o->hub);
      if (o->regid) cJSON_AddStringToObject(j, "registrationId", o->regid);
      if (o->pkey) cJSON_AddStringToObject(j, "primaryKey", o->pkey);
      if (o->skey) cJSON_AddStringToObject(j, "secondaryKey", o->skey);
      if (o->disabled) cJSON_AddFalseToObject(j, "enabled");
      if (o->cert_file) {
        char *pem = read_file(o->cert_file);
        if (!pem) {
          fprintf(stderr, "certpilot-server admin: cannot read %s\n", o->cert_file);
          cJSON_Delete(j);
          curl_free(e1);
          return 1;
        }
        cJSON_AddStringToObject(j, "certificate", pem);
        free(pem);
      }
      rc = with_json(o, "POST", "/enrollments", j);
    } else if (argc >= 3) {
      snprintf(path, sizeof path, "/enrollments/%s", id);
      if (!strcmp(verb, "show")) rc = request(o, "GET", path, NULL, NULL);
      else if (!strcmp(verb, "delete")) rc = request(o, "DELETE", path, NULL, NULL);
      else if (!strcmp(verb, "disable")) rc = request(o, "POST", strcat(path, "/disable"), NULL, NULL);
      else if (!strcmp(verb, "enable")) rc = request(o, "POST", strcat(path, "/enable"), NULL, NULL);
    }
  } else if (!strcmp(res, "device")) {
    if (!strcmp(verb, "list")) rc = request(o, "GET", "/devices", NULL, NULL);
    else if (argc >= 3) {
      snprintf(path, sizeof path, "/devices/%s", id);
      if (!strcmp(verb, "show")) rc = request(o, "GET", path, NULL, NULL);
      else if (!strcmp(verb, "revoke")) rc = request(o, "POST", strcat(path, "/revoke"), NULL, NULL);
      else if (!strcmp(verb, "disable")) rc = request(o, "POST", strcat(path, "/disable"), NULL, NULL);
      else if (!strcmp(verb, "enable")) rc = request(o, "POST", strcat(path, "/enable"), NULL, NULL);
    }
  } else if (!strcmp(res, "crl")) {
    if (!strcmp(verb, "root")) rc = request(o, "GET", "/crl/root", NULL, NULL);
    else if (!strcmp(verb, "policy") && argc >= 3) {
      snprintf(path, sizeof path, "/crl/policies/%s", id);
      rc = request(o, "GET", path, NULL, NULL);
    } else if (!strcmp(verb, "ica") && argc >= 3) {
      snprintf(path, sizeof path, "/crl/icas/%s", id);
      rc = request(o, "GET", path, NULL, NULL);
    }
  } else if (!strcmp(res, "hub-trust")) {
    rc = request(o, "GET", "/hub/trust", NULL, NULL);
  } else if (!strcmp(res, "audit")) {
    snprintf(path, sizeof path, "/audit?after=%ld", o->after);
    rc = request(o, "GET", path, NULL, NULL);
  } else if (!strcmp(res, "token")) {
    if (!strcmp(verb, "list")) rc = request(o, "GET", "/tokens", NULL, NULL);
    else if (!strcmp(verb, "create") && need(argc, 4)) {
      cJSON *j = cJSON_CreateObject();
      cJSON_AddStringToObject(j, "name", argv[2]);
      cJSON_AddStringToObject(j, "role", argv[3]);
      rc = with_json(o, "POST", "/tokens", j);
    }
  }
  curl_free(e1);
  if (rc < 0) {
    fprintf(stderr, "certpilot-server admin: unknown command '%s %s'\n", res, verb);
    usage(stderr);
    return 2;
  }
  return rc;
}

int admin_cli_main(int argc, char **argv) {
  opts o;
  memset(&o, 0, sizeof o);
  o.days = 30;
  char *from_ready[3] = {NULL, NULL, NULL};
  char *token_buf = NULL;
  char **words = calloc((size_t)argc + 1, sizeof *words);
  int nw = 0, rc = 0;
  o.url = getenv("CERTPILOT_MGMT_URL");
  o.token = getenv("CERTPILOT_ADMIN_TOKEN");
  o.cacert = getenv("CERTPILOT_TRUST_BUNDLE");
  for (int i = 1; i < argc && rc == 0; i++) {
    const char *a = argv[i];
    const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(name, field) if (!strcmp(a, name)) { if (!v) { rc = 2; break; } o.field = v; i++; continue; }
#define NUM(name, field) if (!strcmp(a, name)) { if (!v) { rc = 2; break; } o.field = strtol(v, NULL, 10); i++; continue; }
    if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
      usage(stdout);
      free(words);
      return 0;
    }
    OPT("--url", url) OPT("--token", token) OPT("--cacert", cacert) OPT("--out", out)
    OPT("--kind", kind) OPT("--attestation", attestation) OPT("--policy", policy) OPT("--hub", hub)
    OPT("--registration-id", regid) OPT("--primary-key", pkey) OPT("--secondary-key", skey)
    OPT("--certificate", cert_file)
    NUM("--days", days) NUM("--seconds", seconds) NUM("--after", after)
    if (!strcmp(a, "--byor")) { o.byor = 1; continue; }
    if (!strcmp(a, "--disabled")) { o.disabled = 1; continue; }
    if (!strcmp(a, "--token-file")) {
      if (!v) { rc = 2; break; }
      free(token_buf);
      token_buf = read_file(v);
      if (!token_buf) {
        fprintf(stderr, "certpilot-server admin: cannot read %s\n", v);
        rc = 1;
        break;
      }
      token_buf[strcspn(token_buf, "\r\n")] = '\0';
      o.token = token_buf;
      i++;
      continue;
    }
    if (!strcmp(a, "--ready-file")) {
      if (!v) { rc = 2; break; }
      from_ready[0] = ready_value(v, "CERTPILOT_MGMT_URL");
      from_ready[1] = ready_value(v, "CERTPILOT_TRUST_BUNDLE");
      if (from_ready[0]) o.url = from_ready[0];
      if (from_ready[1]) o.cacert = from_ready[1];
      i++;
      continue;
    }
    if (!strncmp(a, "--", 2)) {
      fprintf(stderr, "certpilot-server admin: unknown option %s\n", a);
      rc = 2;
      break;
    }
    words[nw++] = argv[i];
  }
  if (rc == 2) usage(stderr);
  if (rc == 0) {
    curl_global_init(CURL_GLOBAL_DEFAULT);
    rc = dispatch(&o, nw, words);
    curl_global_cleanup();
  }
  free(words);
  free(token_buf);
  for (int i = 0; i < 3; i++) free(from_ready[i]);
  return rc;
}
