/* Helpers shared by the sdk_keys unit tests: temp dirs, files, openssl CLI. */
#ifndef CP_TEST_UTIL_H
#define CP_TEST_UTIL_H

#include <stddef.h>
#include <stdint.h>

/* Make a fresh private temp directory; returns its path (static storage). */
const char *tu_tmpdir(void);
/* Remove the directory made by tu_tmpdir() and everything in it. */
void tu_tmpdir_remove(void);
/* "<tmpdir>/<name>" in a rotating static buffer (valid for 8 later calls). */
const char *tu_path(const char *name);

/* Run a shell command (printf-style); returns its exit status, -1 on failure. */
int tu_run(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Run a command and capture its stdout (NUL-terminated, truncated to size-1). */
int tu_capture(char *out, size_t out_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Write / read a whole file. tu_read returns a malloc'd, NUL-terminated
 * buffer (caller frees) or NULL. */
int tu_write(const char *path, const void *data, size_t len);
uint8_t *tu_read(const char *path, size_t *len);

/* Hex-encode @p len bytes into @p out (2*len+1 bytes). */
void tu_hex(const uint8_t *in, size_t len, char *out);

/* Keep the last SDK log line (for asserting that errors name the problem). */
void tu_log_capture(void);
const char *tu_last_log(void);

#endif
