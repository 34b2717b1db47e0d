/* Result names, HTTP mapping and the error-buffer helper. */
#include "cps_result.h"

#include <stdarg.h>
#include <stdio.h>

const char *cps_result_str(cps_result r) {
  switch (r) {
  case CPS_OK: return "CPS_OK";
  case CPS_ERR_INVALID: return "CPS_ERR_INVALID";
  case CPS_ERR_UNAUTHORIZED: return "CPS_ERR_UNAUTHORIZED";
  case CPS_ERR_FORBIDDEN: return "CPS_ERR_FORBIDDEN";
  case CPS_ERR_NOT_FOUND: return "CPS_ERR_NOT_FOUND";
  case CPS_ERR_CONFLICT: return "CPS_ERR_CONFLICT";
  case CPS_ERR_TOO_LARGE: return "CPS_ERR_TOO_LARGE";
  case CPS_ERR_RATE_LIMITED: return "CPS_ERR_RATE_LIMITED";
  case CPS_ERR_CRYPTO: return "CPS_ERR_CRYPTO";
  case CPS_ERR_STORE: return "CPS_ERR_STORE";
  case CPS_ERR_NOMEM: return "CPS_ERR_NOMEM";
  case CPS_ERR_IO: return "CPS_ERR_IO";
  }
  return "CPS_ERR_UNKNOWN";
}

int cps_result_http_status(cps_result r) {
  switch (r) {
  case CPS_OK: return 200;
  case CPS_ERR_INVALID: return 400;
  case CPS_ERR_UNAUTHORIZED: return 401;
  case CPS_ERR_FORBIDDEN: return 403;
  case CPS_ERR_NOT_FOUND: return 404;
  case CPS_ERR_CONFLICT: return 409;
  case CPS_ERR_TOO_LARGE: return 413;
  case CPS_ERR_RATE_LIMITED: return 429;
  default: return 500;
  }
}

cps_result cps_fail(cps_error *err, cps_result r, const char *fmt, ...) {
  if (err) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
  }
  return r;
}
