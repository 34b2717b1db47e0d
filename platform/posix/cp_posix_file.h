/* Private helpers of the POSIX port: read small files. */
#ifndef CERTPILOT_POSIX_CP_POSIX_FILE_H
#define CERTPILOT_POSIX_CP_POSIX_FILE_H

#include <stddef.h>

#include "certpilot/cp_error.h"
#include "certpilot/cp_result.h"

/*
 * Read all of @p path into @p buf (NUL-terminated; at most size - 1 bytes).
 * CP_ERR_IO (cannot open/read; detail names the file and errno text),
 * CP_ERR_BUFFER_TOO_SMALL (file larger).
 */
cp_result cp_posix_read_file(const char *path, char *buf, size_t size, size_t *len,
                             cp_error_detail *detail);

#endif
