#include "certpilot/cp_log.h"

#include <stdarg.h>
#include <stdio.h>

static cp_log_fn log_fn;
static void *log_ctx;
static cp_log_level log_max = CP_LOG_INFO;

void cp_log_set_callback(cp_log_fn fn, void *ctx, cp_log_level max_level)
{
  log_fn = fn;
  log_ctx = ctx;
  log_max = max_level;
}

int cp_log_enabled(cp_log_level level)
{
  return log_fn != NULL && level <= log_max;
}

void cp_log(cp_log_level level, const char *fmt, ...)
{
  char line[512];
  va_list ap;

  if (!cp_log_enabled(level))
    return;
  va_start(ap, fmt);
  vsnprintf(line, sizeof line, fmt, ap);
  va_end(ap);
  log_fn(log_ctx, level, line);
}
