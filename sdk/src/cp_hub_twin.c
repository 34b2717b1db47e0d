/* Twin documents: the §13.7 certificate report, twin GET and desired patches. */
#include "certpilot/cp_hub.h"
#include "certpilot/cp_protocol.h"

#include <stdio.h>
#include <string.h>

#include "cp_json_util.h"
#include "cp_str.h"

cp_result cp_hub_certificate_report_from_cert(const cp_cert_info *leaf, int64_t renewed_at,
                                              uint32_t renewal_count,
                                              const char *last_error,
                                              cp_hub_certificate_report *out)
{
  cp_hub_certificate_report rep;

  if (leaf == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  memset(&rep, 0, sizeof rep);
  if (cp_str_time_utc(leaf->not_before, rep.valid_from) != CP_OK ||
      cp_str_time_utc(leaf->not_after, rep.valid_until) != CP_OK ||
      cp_str_time_utc(renewed_at, rep.renewed_at) != CP_OK)
    return CP_ERR_INVALID_ARG;
  snprintf(rep.serial_number, sizeof rep.serial_number, "%s", leaf->serial_hex);
  snprintf(rep.thumbprint, sizeof rep.thumbprint, "%s", leaf->thumbprint_sha256);
  snprintf(rep.issuer, sizeof rep.issuer, "%s", leaf->issuer);
  rep.renewal_count = renewal_count;
  if (last_error != NULL) {
    rep.has_last_error = true;
    snprintf(rep.last_error, sizeof rep.last_error, "%s", last_error);
  }
  *out = rep;
  return CP_OK;
}

cp_result cp_hub_certificate_report_body(const cp_hub_certificate_report *report,
                                         char *out, size_t out_size, size_t *out_len)
{
  cJSON *root, *cert;
  bool ok;
  cp_result r;

  if (report == NULL || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  root = cJSON_CreateObject();
  cert = cJSON_AddObjectToObject(root, CP_TWIN_CERTIFICATE);
  ok = cert != NULL &&
       cJSON_AddStringToObject(cert, CP_TWIN_CERT_VALID_FROM, report->valid_from) &&
       cJSON_AddStringToObject(cert, CP_TWIN_CERT_VALID_UNTIL, report->valid_until) &&
       cJSON_AddStringToObject(cert, CP_TWIN_CERT_SERIAL, report->serial_number) &&
       cJSON_AddStringToObject(cert, CP_TWIN_CERT_THUMBPRINT, report->thumbprint) &&
       cJSON_AddStringToObject(cert, CP_TWIN_CERT_ISSUER, report->issuer) &&
       cJSON_AddStringToObject(cert, CP_TWIN_CERT_RENEWED_AT, report->renewed_at) &&
       cJSON_AddNumberToObject(cert, CP_TWIN_CERT_RENEWAL_COUNT,
                               (double)report->renewal_count) &&
       (report->has_last_error
            ? cJSON_AddStringToObject(cert, CP_TWIN_CERT_LAST_ERROR, report->last_error) != NULL
            : cJSON_AddNullToObject(cert, CP_TWIN_CERT_LAST_ERROR) != NULL);
  r = ok ? cp_json_print(root, out, out_size, out_len) : CP_ERR_NO_MEMORY;
  cJSON_Delete(root);
  return r;
}

static cp_result parse_certificate(const cJSON *cert, cp_hub_certificate_report *rep,
                                   cp_error_detail *detail)
{
#define P "reported.certificate."
  const cJSON *le;
  int64_t count = 0;
  cp_result r;

  r = cp_json_get_string(cert, CP_TWIN_CERT_VALID_FROM, P "validFrom", false,
                         rep->valid_from, sizeof rep->valid_from, detail);
  if (r == CP_OK)
    r = cp_json_get_string(cert, CP_TWIN_CERT_VALID_UNTIL, P "validUntil", false,
                           rep->valid_until, sizeof rep->valid_until, detail);
  if (r == CP_OK)
    r = cp_json_get_string(cert, CP_TWIN_CERT_SERIAL, P "serialNumber", false,
                           rep->serial_number, sizeof rep->serial_number, detail);
  if (r == CP_OK)
    r = cp_json_get_string(cert, CP_TWIN_CERT_THUMBPRINT, P "thumbprint", false,
                           rep->thumbprint, sizeof rep->thumbprint, detail);
  if (r == CP_OK)
    r = cp_json_get_string(cert, CP_TWIN_CERT_ISSUER, P "issuer", false, rep->issuer,
                           sizeof rep->issuer, detail);
  if (r == CP_OK)
    r = cp_json_get_string(cert, CP_TWIN_CERT_RENEWED_AT, P "renewedAt", false,
                           rep->renewed_at, sizeof rep->renewed_at, detail);
  if (r == CP_OK)
    r = cp_json_get_int(cert, CP_TWIN_CERT_RENEWAL_COUNT, P "renewalCount", false, &count,
                        NULL, detail);
  if (r != CP_OK)
    return r;
  if (count < 0 || count > UINT32_MAX) {
    cp_error_detail_set(detail, P "renewalCount", "renewalCount is out of range");
    return CP_ERR_BAD_RESPONSE;
  }
  rep->renewal_count = (uint32_t)count;
  le = cJSON_GetObjectItemCaseSensitive(cert, CP_TWIN_CERT_LAST_ERROR);
  if (le != NULL && !cJSON_IsNull(le)) {
    if (!cJSON_IsString(le)) {
      cp_error_detail_set(detail, P "lastError", "lastError is neither null nor a string");
      return CP_ERR_BAD_RESPONSE;
    }
    rep->has_last_error = true;
    snprintf(rep->last_error, sizeof rep->last_error, "%s", le->valuestring);
  }
  return CP_OK;
#undef P
}

cp_result cp_hub_twin_parse(const char *body, size_t body_len, cp_hub_twin *out,
                            cp_error_detail *detail)
{
  const cJSON *desired, *reported, *cert;
  cp_hub_twin *twin;
  cJSON *root;
  cp_result r = CP_OK;

  if (body == NULL || out == NULL)
    return CP_ERR_INVALID_ARG;
  root = cp_json_parse_object(body, body_len, detail);
  if (root == NULL)
    return CP_ERR_BAD_RESPONSE;
  twin = cJSON_malloc(sizeof *twin);
  if (twin == NULL) {
    cJSON_Delete(root);
    return CP_ERR_NO_MEMORY;
  }
  memset(twin, 0, sizeof *twin);
  desired = cJSON_GetObjectItemCaseSensitive(root, CP_JSON_TWIN_DESIRED);
  reported = cJSON_GetObjectItemCaseSensitive(root, CP_JSON_TWIN_REPORTED);
  if (!cJSON_IsObject(desired)) {
    cp_error_detail_set(detail, CP_JSON_TWIN_DESIRED,
                        "twin member \"desired\" is missing or not an object");
    r = CP_ERR_BAD_RESPONSE;
  } else {
    r = cp_json_get_int(desired, CP_JSON_TWIN_VERSION, "desired.$version", true,
                        &twin->desired_version, NULL, detail);
  }
  if (r == CP_OK && reported != NULL) {
    if (!cJSON_IsObject(reported)) {
      cp_error_detail_set(detail, CP_JSON_TWIN_REPORTED,
                          "twin member \"reported\" is not an object");
      r = CP_ERR_BAD_RESPONSE;
    } else {
      r = cp_json_get_int(reported, CP_JSON_TWIN_VERSION, "reported.$version", false,
                          &twin->reported_version, NULL, detail);
      cert = cJSON_GetObjectItemCaseSensitive(reported, CP_TWIN_CERTIFICATE);
      if (r == CP_OK && cert != NULL && !cJSON_IsNull(cert)) {
        if (!cJSON_IsObject(cert)) {
          cp_error_detail_set(detail, "reported.certificate",
                              "reported.certificate is not an object");
          r = CP_ERR_BAD_RESPONSE;
        } else {
          r = parse_certificate(cert, &twin->certificate, detail);
          twin->has_certificate = r == CP_OK;
        }
      }
    }
  }
  if (r == CP_OK)
    *out = *twin;
  cJSON_free(twin);
  cJSON_Delete(root);
  return r;
}

cp_result cp_hub_desired_parse(const char *body, size_t body_len, int64_t *version,
                               cp_error_detail *detail)
{
  int64_t v = 0;
  cJSON *root;
  cp_result r;

  if (body == NULL || version == NULL)
    return CP_ERR_INVALID_ARG;
  root = cp_json_parse_object(body, body_len, detail);
  if (root == NULL)
    return CP_ERR_BAD_RESPONSE;
  r = cp_json_get_int(root, CP_JSON_TWIN_VERSION, "$version", true, &v, NULL, detail);
  cJSON_Delete(root);
  if (r == CP_OK)
    *version = v;
  return r;
}
