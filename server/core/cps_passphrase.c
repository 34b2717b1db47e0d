/* The CA key passphrase file: private regular file, first line. */
#include "cps_passphrase.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/crypto.h>

#define WHAT "ca-key-passphrase-file"

/* Refuse anything but a regular file that only its owner may access. */
static cps_result check_mode(int fd, const char *path, cps_error *err) {
  struct stat st;
  if (fstat(fd, &st) != 0)
    return cps_fail(err, CPS_ERR_IO, WHAT " %s: %s", path, strerror(errno));
  if (!S_ISREG(st.st_mode))
    return cps_fail(err, CPS_ERR_FORBIDDEN, WHAT " %s: not a regular file", path);
  if (st.st_mode & (S_IRWXG | S_IRWXO))
    return cps_fail(err, CPS_ERR_FORBIDDEN,
                    WHAT " %s: group or others may access it (mode %03o); chmod 600 it", path,
                    (unsigned)(st.st_mode & 0777));
  return CPS_OK;
}

/* Read up to @p size - 1 bytes; *len gets the count. */
static cps_result read_all(int fd, const char *path, char *buf, size_t size, size_t *len,
                           cps_error *err) {
  size_t n = 0;
  while (n < size - 1) {
    ssize_t k = read(fd, buf + n, size - 1 - n);
    if (k < 0 && errno == EINTR) continue;
    if (k < 0) return cps_fail(err, CPS_ERR_IO, WHAT " %s: %s", path, strerror(errno));
    if (k == 0) break;
    n += (size_t)k;
  }
  buf[n] = '\0';
  *len = n;
  return CPS_OK;
}

/* Cut @p buf (@p len bytes) at its first line ending; CPS_ERR_INVALID when empty or too long. */
static cps_result first_line(char *buf, size_t len, const char *path, cps_error *err) {
  char *nl = memchr(buf, '\n', len);
  size_t n = nl ? (size_t)(nl - buf) : len;
  if (n > CPS_PASSPHRASE_MAX)
    return cps_fail(err, CPS_ERR_INVALID, WHAT " %s: first line is longer than %d bytes", path,
                    CPS_PASSPHRASE_MAX);
  if (memchr(buf, '\0', n))
    return cps_fail(err, CPS_ERR_INVALID, WHAT " %s: first line holds a NUL byte", path);
  if (n > 0 && buf[n - 1] == '\r') n--;
  buf[n] = '\0';
  if (n == 0)
    return cps_fail(err, CPS_ERR_INVALID, WHAT " %s: is empty (the passphrase is its first line)",
                    path);
  return CPS_OK;
}

cps_result cps_passphrase_read(const char *path, char **out, cps_error *err) {
  if (!path || !*path) return cps_fail(err, CPS_ERR_INVALID, WHAT ": no file name");
  int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0) return cps_fail(err, CPS_ERR_IO, WHAT " %s: %s", path, strerror(errno));
  char buf[CPS_PASSPHRASE_MAX + 2];
  size_t len = 0;
  cps_result r = check_mode(fd, path, err);
  if (r == CPS_OK) r = read_all(fd, path, buf, sizeof buf, &len, err);
  close(fd);
  if (r == CPS_OK) r = first_line(buf, len, path, err);
  if (r == CPS_OK) {
    char *copy = strdup(buf);
    if (copy) *out = copy;
    else r = CPS_ERR_NOMEM;
  }
  OPENSSL_cleanse(buf, sizeof buf);
  return r;
}

void cps_passphrase_free(char *pass) {
  if (!pass) return;
  OPENSSL_cleanse(pass, strlen(pass));
  free(pass);
}
