/* cp_http_transport over libcurl (HTTPS only, peer and host verification on). */
#include "certpilot/cp_posix_transport.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "certpilot/cp_protocol.h"

/* Where the write and header callbacks put what they receive. */
typedef struct sink {
  cp_http_response *resp;
  bool overflow;
} sink;

static size_t on_body(char *data, size_t size, size_t n, void *u)
{
  sink *s = u;
  size_t len = size * n;

  if (s->resp->body_len + len + 1 > s->resp->body_size) {
    s->overflow = true;
    return 0; /* makes curl stop with CURLE_WRITE_ERROR */
  }
  memcpy(s->resp->body + s->resp->body_len, data, len);
  s->resp->body_len += len;
  s->resp->body[s->resp->body_len] = '\0';
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *u)
{
  static const char name[] = CP_HTTP_HEADER_RETRY_AFTER ":";
  sink *s = u;
  size_t len = size * n, nl = sizeof name - 1;

  if (len > nl && strncasecmp(data, name, nl) == 0) {
    const char *v = data + nl;
    size_t vl = len - nl;
    while (vl > 0 && isspace((unsigned char)v[0])) {
      v++;
      vl--;
    }
    while (vl > 0 && isspace((unsigned char)v[vl - 1]))
      vl--;
    snprintf(s->resp->retry_after, sizeof s->resp->retry_after, "%.*s", (int)vl, v);
  }
  return len;
}

static cp_result map_error(CURLcode rc, const char *errbuf, const char *url,
                           cp_error_detail *detail)
{
  const char *why = errbuf[0] ? errbuf : curl_easy_strerror(rc);

  switch (rc) {
  case CURLE_OPERATION_TIMEDOUT:
    cp_error_detail_set(detail, "", "%s: timed out (%s)", url, why);
    return CP_ERR_TIMEOUT;
  case CURLE_PEER_FAILED_VERIFICATION:
  case CURLE_SSL_CONNECT_ERROR:
  case CURLE_SSL_CERTPROBLEM:
  case CURLE_SSL_CIPHER:
  case CURLE_SSL_CACERT_BADFILE:
  case CURLE_SSL_ISSUER_ERROR:
  case CURLE_SSL_CLIENTCERT:
    cp_error_detail_set(detail, "tls", "%s: TLS failed: %s", url, why);
    return CP_ERR_TLS;
  default:
    cp_error_detail_set(detail, "", "%s: %s", url, why);
    return CP_ERR_TRANSPORT;
  }
}

static cp_result http_request(void *ctx, const cp_http_request *rq, cp_http_response *resp,
                              cp_error_detail *detail)
{
  char url[1024], errbuf[CURL_ERROR_SIZE];
  struct curl_slist *headers = NULL;
  sink s = {resp, false};
  CURL *curl;
  CURLcode rc;
  long status = 0;
  size_t i;
  cp_result r = CP_OK;

  (void)ctx;
  if (rq == NULL || resp == NULL || rq->method == NULL || rq->host == NULL ||
      rq->path == NULL || rq->path[0] != '/' || resp->body == NULL || resp->body_size == 0 ||
      (rq->body == NULL && rq->body_len > 0))
    return CP_ERR_INVALID_ARG;
  if ((size_t)snprintf(url, sizeof url, "https://%s:%u%s", rq->host,
                       (unsigned)(rq->port ? rq->port : CP_DPS_HTTPS_PORT), rq->path) >=
      sizeof url) {
    cp_error_detail_set(detail, "path", "URL too long");
    return CP_ERR_INVALID_ARG;
  }
  resp->status = 0;
  resp->retry_after[0] = '\0';
  resp->body_len = 0;
  resp->body[0] = '\0';
  errbuf[0] = '\0';
  curl = curl_easy_init();
  if (curl == NULL) {
    cp_error_detail_set(detail, "", "libcurl could not create a handle");
    return CP_ERR_NO_MEMORY;
  }
  for (i = 0; i < rq->header_count; i++) {
    char line[1024];
    struct curl_slist *h;
    snprintf(line, sizeof line, "%s: %s", rq->headers[i].name, rq->headers[i].value);
    h = curl_slist_append(headers, line);
    explicit_bzero(line, sizeof line); /* may hold a SAS token */
    if (h == NULL) {
      r = CP_ERR_NO_MEMORY;
      goto out;
    }
    headers = h;
  }
  /* Without a body curl would add "Expect:"/"Content-Type" defaults we do not want. */
  if (rq->body_len > 0)
    headers = curl_slist_append(headers, "Expect:");
  curl_easy_setopt(curl, CURLOPT_URL, url);
  curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, rq->method);
  if (strcmp(rq->method, "GET") != 0 || rq->body_len > 0) {
    curl_easy_setopt(curl, CURLOPT_POSTFIELDS, rq->body ? rq->body : "");
    curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->body_len);
  }
  curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYPEER, 1L);
  curl_easy_setopt(curl, CURLOPT_SSL_VERIFYHOST, 2L);
  curl_easy_setopt(curl, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
  if (rq->tls.trust_bundle_path != NULL)
    curl_easy_setopt(curl, CURLOPT_CAINFO, rq->tls.trust_bundle_path);
  if (rq->tls.client_cert_path != NULL) {
    curl_easy_setopt(curl, CURLOPT_SSLCERT, rq->tls.client_cert_path);
    curl_easy_setopt(curl, CURLOPT_SSLCERTTYPE, "PEM");
  }
  if (rq->tls.client_key_path != NULL) {
    curl_easy_setopt(curl, CURLOPT_SSLKEY, rq->tls.client_key_path);
    curl_easy_setopt(curl, CURLOPT_SSLKEYTYPE, "PEM");
  }
  curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(rq->timeout_ms ? rq->timeout_ms : 30000));
  curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(curl, CURLOPT_WRITEDATA, &s);
  curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(curl, CURLOPT_HEADERDATA, &s);
  rc = curl_easy_perform(curl);
  if (rc == CURLE_WRITE_ERROR && s.overflow) {
    cp_error_detail_set(detail, "body", "%s: response body larger than %zu bytes", url,
                        resp->body_size - 1);
    r = CP_ERR_BUFFER_TOO_SMALL;
  } else if (rc != CURLE_OK) {
    r = map_error(rc, errbuf, url, detail);
  } else {
    curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &status);
    resp->status = (int)status;
  }
out:
  curl_slist_free_all(headers);
  curl_easy_cleanup(curl);
  return r;
}

static const cp_http_transport_vtable curl_vtable = {http_request};

cp_result cp_posix_http_transport_init(cp_http_transport *out)
{
  static bool started;

  if (out == NULL)
    return CP_ERR_INVALID_ARG;
  if (!started) {
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
      return CP_ERR_TRANSPORT;
    started = true;
  }
  out->vtable = &curl_vtable;
  out->ctx = NULL;
  return CP_OK;
}
