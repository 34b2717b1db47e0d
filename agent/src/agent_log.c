/* stderr logging with syslog priority prefixes (sd-daemon(3) convention). */
#include "agent_log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int log_max = CP_LOG_INFO;

static void write_line(int level, const char *msg) {
  char line[2048];
  int n = snprintf(line, sizeof line, "<%d>%s", level, msg);
  if (n < 0) return;
  if ((size_t)n >= sizeof line) n = (int)sizeof line - 1;
  /* one message, one line: newlines inside would split it in the journal */
  for (int i = 3; i < n; i++)
    if (line[i] == '\n' || line[i] == '\r') line[i] = ' ';
  line[n] = '\n';
  fwrite(line, 1, (size_t)n + 1, stderr);
  fflush(stderr);
}

static void sdk_sink(void *ctx, cp_log_level level, const char *message) {
  (void)ctx;
  write_line((int)level, message);
}

void cpa_log_init(int max_level) {
  log_max = max_level;
  cp_log_set_callback(sdk_sink, NULL, (cp_log_level)max_level);
}

void cpa_log(int level, const char *fmt, ...) {
  if (level > log_max) return;
  char msg[1900];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  write_line(level, msg);
}
