/* Private cJSON helpers: typed member access that names the member in errors. */
#ifndef CERTPILOT_SRC_CP_JSON_UTIL_H
#define CERTPILOT_SRC_CP_JSON_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "certpilot/cp_error.h"
#include "certpilot/cp_result.h"

/* Parse @p len bytes as JSON; NULL (and detail set) when not JSON or not an object. */
cJSON *cp_json_parse_object(const char *text, size_t len, cp_error_detail *detail);

/*
 * Copy string member @p name of @p obj into @p out (size @p out_size).
 * @p path is the member's full name for error messages ("registrationState.deviceId").
 * Missing and @p required: CP_ERR_BAD_RESPONSE; missing and optional: CP_OK with out = "".
 * Not a string, empty when required, or too long: CP_ERR_BAD_RESPONSE.
 */
cp_result cp_json_get_string(const cJSON *obj, const char *name, const char *path,
                             bool required, char *out, size_t out_size,
                             cp_error_detail *detail);

/* Integer member (JSON number with no fraction, within int64). Same rules. */
cp_result cp_json_get_int(const cJSON *obj, const char *name, const char *path,
                          bool required, int64_t *out, bool *present,
                          cp_error_detail *detail);

/* Serialise @p item compactly into @p out with the SDK buffer contract. */
cp_result cp_json_print(const cJSON *item, char *out, size_t out_size, size_t *out_len);

#endif
