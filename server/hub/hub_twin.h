/**
 * @file hub_twin.h
 * @brief Device twins (desired + reported, each with its own `$version`)
 *        persisted in the server's SQLite file, in tables owned by the hub
 *        (`hub_twin`, `hub_twin_desired_log`, `hub_telemetry`).
 *
 * Both the server process (management API) and the mosquitto plugin open the
 * same file; every read-modify-write runs in a `BEGIN IMMEDIATE` transaction
 * and the connection waits up to 5 s for a lock.
 *
 * A twin springs into being (empty sections, versions 1) the first time it
 * is read or patched; callers check that the device exists.
 */
#ifndef CERTPILOT_SERVER_HUB_TWIN_H
#define CERTPILOT_SERVER_HUB_TWIN_H

#include <stddef.h>

#include "certpilot/cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Largest accepted patch body, bytes (IoT Hub's per-section twin limit). */
#define HUB_TWIN_MAX_PATCH 32768
/** Largest stored section (desired or reported), bytes. */
#define HUB_TWIN_MAX_SECTION 32768
/** Deepest accepted nesting of a patch (IoT Hub allows 10 levels). */
#define HUB_TWIN_MAX_DEPTH 10
/** How many desired patches are kept per device for notification. */
#define HUB_TWIN_DESIRED_LOG_KEEP 32

/** An open twin store (opaque). */
typedef struct hub_twin_store hub_twin_store;

/**
 * @brief Open (creating tables if needed) the twin store in @p db_path.
 * @param db_path SQLite file, borrowed; the core store's file.
 * @param out     receives the store; free with hub_twin_store_close().
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_IO when SQLite cannot open the
 *         file or create the tables (logged to stderr with SQLite's message).
 */
cp_result hub_twin_store_open(const char *db_path, hub_twin_store **out);

/** Close a store; NULL is fine. */
void hub_twin_store_close(hub_twin_store *store);

/**
 * @brief The twin document as the device sees it:
 *        `{"desired":{…,"$version":n},"reported":{…,"$version":m}}`.
 * @param json_out receives a malloc'd NUL-terminated string the caller
 *                 free()s; untouched on failure.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULLs, invalid device id); CP_ERR_IO;
 *         CP_ERR_NO_MEMORY.
 */
cp_result hub_twin_get(hub_twin_store *store, const char *device_id, char **json_out);

/**
 * @brief Merge a reported-properties patch (a JSON object; `null` members
 *        delete, objects merge recursively, anything else replaces) and bump
 *        the reported `$version`.
 * @param patch,len    the body as received (need not be NUL-terminated).
 * @param version_out  receives the new reported version; may be NULL.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULLs, invalid id); CP_ERR_PARSE (not
 *         JSON, not an object, member names starting with `$`, deeper than
 *         HUB_TWIN_MAX_DEPTH); CP_ERR_BUFFER_TOO_SMALL (patch or result
 *         larger than the limits). On any error nothing is stored.
 */
cp_result hub_twin_patch_reported(hub_twin_store *store, const char *device_id,
                                  const char *patch, size_t len, long long *version_out);

/**
 * @brief Same as hub_twin_patch_reported() for the desired section (what the
 *        management API calls). The patch is also logged so that a connected
 *        device gets it on `$iothub/twin/PATCH/properties/desired/?$version=`.
 */
cp_result hub_twin_patch_desired(hub_twin_store *store, const char *device_id,
                                 const char *patch, size_t len, long long *version_out);

/**
 * @brief The oldest desired patch with a version above @p after_version, as
 *        the notification body (the patch plus `"$version":n`).
 * @param json_out    malloc'd body, caller free()s.
 * @param version_out its version.
 * @return CP_OK; CP_ERR_NOT_FOUND when the device has nothing newer;
 *         CP_ERR_INVALID_ARG; CP_ERR_IO; CP_ERR_NO_MEMORY. When older patches
 *         were pruned from the log, the whole desired section is returned
 *         with the current version.
 */
cp_result hub_twin_desired_after(hub_twin_store *store, const char *device_id,
                                 long long after_version, char **json_out,
                                 long long *version_out);

/**
 * @brief Current desired `$version` (1 for a twin never patched).
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_IO.
 */
cp_result hub_twin_desired_version(hub_twin_store *store, const char *device_id,
                                   long long *version_out);

/**
 * @brief Count one telemetry message of @p bytes for the device.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_IO.
 */
cp_result hub_telemetry_record(hub_twin_store *store, const char *device_id, size_t bytes);

/**
 * @brief Telemetry messages counted so far for the device (0 if none).
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_IO.
 */
cp_result hub_telemetry_count(hub_twin_store *store, const char *device_id,
                              long long *count_out);

/** Telemetry counters of one device. */
typedef struct hub_telemetry_stats {
  long long messages; /**< messages accepted */
  long long bytes;    /**< payload bytes accepted */
  long long last_utc; /**< time of the last one, seconds since the epoch (0: none) */
} hub_telemetry_stats;

/**
 * @brief Telemetry counters of the device (all 0 if it never sent any).
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_IO.
 */
cp_result hub_telemetry_get(hub_twin_store *store, const char *device_id,
                            hub_telemetry_stats *out);

#ifdef __cplusplus
}
#endif
#endif
