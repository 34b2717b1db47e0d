/* DPS over HTTPS: request paths (protocol.md §3). */
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"

#include "cp_str.h"

static bool empty(const char *s)
{
  return s == NULL || s[0] == '\0';
}

cp_result cp_prov_http_register_path(const char *id_scope, const char *registration_id,
                                     char *out, size_t out_size, size_t *out_len)
{
  char scope[3 * CP_PROV_ID_SCOPE_MAX], reg[3 * CP_PROV_REG_ID_MAX];
  size_t n;

  if (empty(id_scope) || empty(registration_id) || out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (cp_str_url_segment(id_scope, scope, sizeof scope, &n) != CP_OK ||
      cp_str_url_segment(registration_id, reg, sizeof reg, &n) != CP_OK)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len, CP_DPS_HTTP_REGISTER_FMT, scope, reg,
                       CP_DPS_API_VERSION);
}

cp_result cp_prov_http_operation_path(const char *id_scope, const char *registration_id,
                                      const char *operation_id, char *out,
                                      size_t out_size, size_t *out_len)
{
  char scope[3 * CP_PROV_ID_SCOPE_MAX], reg[3 * CP_PROV_REG_ID_MAX];
  char op[3 * CP_PROV_OPERATION_ID_MAX];
  size_t n;

  if (empty(id_scope) || empty(registration_id) || empty(operation_id) ||
      out == NULL || out_len == NULL)
    return CP_ERR_INVALID_ARG;
  if (cp_str_url_segment(id_scope, scope, sizeof scope, &n) != CP_OK ||
      cp_str_url_segment(registration_id, reg, sizeof reg, &n) != CP_OK ||
      cp_str_url_segment(operation_id, op, sizeof op, &n) != CP_OK)
    return CP_ERR_INVALID_ARG;
  return cp_str_format(out, out_size, out_len, CP_DPS_HTTP_OPERATION_FMT, scope, reg,
                       op, CP_DPS_API_VERSION);
}
