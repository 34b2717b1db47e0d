/**
 * @file cps_prov_util.h
 * @brief Small helpers shared by the core's front-end-facing files (private).
 */
#ifndef CPS_PROV_UTIL_H
#define CPS_PROV_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include "cps_result.h"

/** @brief "YYYY-MM-DDTHH:MM:SS.000Z" for @p t into @p out (>= 32 bytes). */
void cps_time_iso(time_t t, char *out, size_t size);

/** @brief Random lower-case hex string of @p hex_len characters into @p out (size > hex_len). */
cps_result cps_random_hex(char *out, size_t hex_len);

/** @brief Random RFC 4122 v4 UUID text (37 bytes). */
cps_result cps_uuid(char out[37]);

/** @brief Registration id rule (protocol.md §4): 1–128 of [A-Za-z0-9-._:], last alnum or '-'. */
bool cps_registration_id_valid(const char *id);

/** @brief Monotonic seconds. */
double cps_monotonic(void);

#endif
