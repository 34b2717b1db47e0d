/**
 * @file cps_passphrase.h
 * @brief Read the CA key passphrase from its file (`ca-key-passphrase-file`).
 *
 * The passphrase is the file's first line without its line ending. The file must be a
 * regular file that neither group nor others may access (mode 0600 or 0400), like an SSH
 * private key. Messages name the file and the problem, never the passphrase.
 */
#ifndef CPS_PASSPHRASE_H
#define CPS_PASSPHRASE_H

#include "cps_result.h"

/** Longest passphrase accepted (bytes, without the line ending). */
#define CPS_PASSPHRASE_MAX 1023

/**
 * @brief Read the passphrase in @p path.
 * @param out receives a malloc'd NUL-terminated copy; free it with cps_passphrase_free().
 *            Untouched on failure.
 * @return CPS_OK; CPS_ERR_IO (cannot open or read); CPS_ERR_FORBIDDEN (not a regular file,
 *         or group / others may access it); CPS_ERR_INVALID (first line empty or longer than
 *         ::CPS_PASSPHRASE_MAX); CPS_ERR_NOMEM. The message in @p err names @p path.
 */
cps_result cps_passphrase_read(const char *path, char **out, cps_error *err);

/** @brief Wipe and free a passphrase from cps_passphrase_read() (NULL allowed). */
void cps_passphrase_free(char *pass);

#endif
