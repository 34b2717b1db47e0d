/* Small helpers shared by the samples (not part of the SDK API). */
#ifndef CERTPILOT_SAMPLE_COMMON_H
#define CERTPILOT_SAMPLE_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#include "certpilot/cp_log.h"
#include "certpilot/cp_provision.h"

/* "mqtt", "wss", "https" -> transport; false for anything else. */
bool sample_parse_transport(const char *s, cp_provision_transport *out);

/* Write @p text to @p path with the given mode (0600 for keys). */
bool sample_write_file(const char *path, const char *text, unsigned mode);

/* Save chain + key of @p res into dir/<registration id>.{chain,key}.pem and print a summary. */
bool sample_save_result(const cp_provision_result *res, const char *dir);

/* Print what went wrong: result, status, errorCode, message, field. */
void sample_print_error(const char *what, cp_result r, const cp_error_detail *d);

/* Log callback that prints SDK log lines to stderr. */
void sample_log_to_stderr(void *ctx, cp_log_level level, const char *message);

#endif
