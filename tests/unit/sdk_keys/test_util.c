/* Helpers shared by the sdk_keys unit tests. */
#include "test_util.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "certpilot/cp_log.h"

static char tmpdir[256];

const char *tu_tmpdir(void)
{
  const char *base = getenv("TMPDIR");

  snprintf(tmpdir, sizeof tmpdir, "%s/cp-sdk-keys-XXXXXX",
           base != NULL && base[0] != '\0' ? base : "/tmp");
  if (mkdtemp(tmpdir) == NULL) {
    perror("mkdtemp");
    abort();
  }
  return tmpdir;
}

void tu_tmpdir_remove(void)
{
  if (tmpdir[0] != '\0')
    tu_run("rm -rf '%s'", tmpdir);
  tmpdir[0] = '\0';
}

const char *tu_path(const char *name)
{
  static char paths[8][512];
  static unsigned next;
  char *p = paths[next++ % 8];

  snprintf(p, sizeof paths[0], "%s/%s", tmpdir, name);
  return p;
}

static int status_of(int st)
{
  if (st == -1)
    return -1;
  return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int tu_run(const char *fmt, ...)
{
  char cmd[4096];
  va_list ap;

  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  return status_of(system(cmd));
}

int tu_capture(char *out, size_t out_size, const char *fmt, ...)
{
  char cmd[4096];
  size_t n = 0, got;
  va_list ap;
  FILE *p;

  va_start(ap, fmt);
  vsnprintf(cmd, sizeof cmd, fmt, ap);
  va_end(ap);
  p = popen(cmd, "r");
  if (p == NULL)
    return -1;
  while (n + 1 < out_size && (got = fread(out + n, 1, out_size - 1 - n, p)) > 0)
    n += got;
  out[n] = '\0';
  {
    char sink[256];
    while (fread(sink, 1, sizeof sink, p) > 0) {
    }
  }
  return status_of(pclose(p));
}

int tu_write(const char *path, const void *data, size_t len)
{
  FILE *f = fopen(path, "wb");
  int ok;

  if (f == NULL)
    return -1;
  ok = fwrite(data, 1, len, f) == len;
  return (fclose(f) == 0 && ok) ? 0 : -1;
}

uint8_t *tu_read(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long sz;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) != 0 || (sz = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
    fclose(f);
    return NULL;
  }
  buf = malloc((size_t)sz + 1);
  if (buf != NULL && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  if (buf != NULL) {
    buf[sz] = '\0';
    *len = (size_t)sz;
  }
  return buf;
}

void tu_hex(const uint8_t *in, size_t len, char *out)
{
  static const char digits[] = "0123456789abcdef";
  size_t i;

  for (i = 0; i < len; i++) {
    out[2 * i] = digits[in[i] >> 4];
    out[2 * i + 1] = digits[in[i] & 15];
  }
  out[2 * len] = '\0';
}

static char last_log[512];

static void capture(void *ctx, cp_log_level level, const char *message)
{
  (void)ctx;
  (void)level;
  snprintf(last_log, sizeof last_log, "%s", message);
}

void tu_log_capture(void)
{
  last_log[0] = '\0';
  cp_log_set_callback(capture, NULL, CP_LOG_DEBUG);
}

const char *tu_last_log(void)
{
  return last_log;
}
