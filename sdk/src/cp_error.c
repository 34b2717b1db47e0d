/* cp_error_detail helpers. */
#include "certpilot/cp_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void cp_error_detail_clear(cp_error_detail *detail)
{
  if (detail != NULL)
    memset(detail, 0, sizeof *detail);
}

void cp_error_detail_set(cp_error_detail *detail, const char *field,
                         const char *fmt, ...)
{
  va_list ap;

  if (detail == NULL)
    return;
  snprintf(detail->field, sizeof detail->field, "%s", field ? field : "");
  va_start(ap, fmt);
  vsnprintf(detail->message, sizeof detail->message, fmt, ap);
  va_end(ap);
}
