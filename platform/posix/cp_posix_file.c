/* Private: read small files (certificates, keys) for the blocking helpers. */
#include "cp_posix_file.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

cp_result cp_posix_read_file(const char *path, char *buf, size_t size, size_t *len,
                             cp_error_detail *detail)
{
  FILE *f;
  size_t n;

  if (path == NULL || buf == NULL || size == 0 || len == NULL)
    return CP_ERR_INVALID_ARG;
  f = fopen(path, "rb");
  if (f == NULL) {
    cp_error_detail_set(detail, "file", "cannot open %s: %s", path, strerror(errno));
    return CP_ERR_IO;
  }
  n = fread(buf, 1, size, f);
  if (ferror(f)) {
    cp_error_detail_set(detail, "file", "cannot read %s: %s", path, strerror(errno));
    fclose(f);
    return CP_ERR_IO;
  }
  fclose(f);
  if (n == size) {
    cp_error_detail_set(detail, "file", "%s is larger than %zu bytes", path, size - 1);
    return CP_ERR_BUFFER_TOO_SMALL;
  }
  buf[n] = '\0';
  *len = n;
  return CP_OK;
}
