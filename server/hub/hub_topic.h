/**
 * @file hub_topic.h
 * @brief Pure parsing and building of the DPS / IoT Hub MQTT topics and
 *        CONNECT usernames handled by the certpilot mosquitto plugin
 *        (docs/protocol.md §1, §7). No I/O, no allocation.
 *
 * Everything here treats its input as hostile: topics and usernames come
 * straight from the network. Parsers never read past the terminating NUL,
 * reject anything they do not fully recognise, and leave @p out untouched
 * on failure.
 */
#ifndef CERTPILOT_SERVER_HUB_TOPIC_H
#define CERTPILOT_SERVER_HUB_TOPIC_H

#include <stdbool.h>
#include <stddef.h>

#include "certpilot/cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Longest accepted `$rid` value. */
#define HUB_RID_MAX 64
/** Longest accepted operation id. */
#define HUB_OPERATION_ID_MAX 128
/** Longest accepted registration / device id (protocol.md §4). */
#define HUB_ID_MAX 128
/** Longest accepted id scope or hub host name. */
#define HUB_SCOPE_MAX 253
/** Longest accepted api-version value. */
#define HUB_API_VERSION_MAX 32

/** What a device-published topic asks for. */
typedef enum hub_topic_kind {
  HUB_TOPIC_UNKNOWN = 0,           /**< not a topic this plugin serves */
  HUB_TOPIC_DPS_REGISTER,          /**< `$dps/registrations/PUT/iotdps-register/?$rid=` */
  HUB_TOPIC_DPS_OPERATION_STATUS,  /**< `$dps/registrations/GET/iotdps-get-operationstatus/?$rid=&operationId=` */
  HUB_TOPIC_TWIN_GET,              /**< `$iothub/twin/GET/?$rid=` */
  HUB_TOPIC_TWIN_PATCH_REPORTED,   /**< `$iothub/twin/PATCH/properties/reported/?$rid=` */
  HUB_TOPIC_TELEMETRY,             /**< `devices/{id}/messages/events/[props]` */
} hub_topic_kind;

/** A parsed request topic. Fields not used by @c kind are empty strings. */
typedef struct hub_topic {
  hub_topic_kind kind;                              /**< what was recognised */
  char rid[HUB_RID_MAX + 1];                        /**< request id (`$rid`) */
  char operation_id[HUB_OPERATION_ID_MAX + 1];      /**< operation status only */
  char device_id[HUB_ID_MAX + 1];                   /**< telemetry only */
} hub_topic;

/** Which service a CONNECT username addresses. */
typedef enum hub_client_kind {
  HUB_CLIENT_NONE = 0, /**< not parsed / not recognised */
  HUB_CLIENT_DPS,      /**< `{idScope}/registrations/{regId}/api-version=…` */
  HUB_CLIENT_HUB,      /**< `{hub}/{deviceId}/?api-version=…` */
} hub_client_kind;

/** A parsed CONNECT username. */
typedef struct hub_username {
  hub_client_kind kind;                     /**< DPS or hub */
  char scope[HUB_SCOPE_MAX + 1];            /**< id scope (DPS) or hub host name */
  char id[HUB_ID_MAX + 1];                  /**< registration id or device id */
  char api_version[HUB_API_VERSION_MAX + 1];/**< the `api-version` value */
} hub_username;

/**
 * @brief Recognise a topic a device published to.
 * @param topic NUL-terminated topic, borrowed. May be NULL (→ error).
 * @param out   filled on success only; borrowed.
 * @return CP_OK; CP_ERR_INVALID_ARG for NULL arguments; CP_ERR_PARSE when the
 *         topic is not one of ours, lacks a required parameter (`$rid`,
 *         `operationId`), has an over-long or badly-charactered value, or
 *         carries a parameter twice.
 */
cp_result hub_topic_parse(const char *topic, hub_topic *out);

/**
 * @brief Recognise a CONNECT username (DPS or hub form). Extra query
 *        parameters after `api-version` (ClientVersion, DeviceClientType) are
 *        accepted and ignored (protocol.md §13.6).
 * @param username NUL-terminated, borrowed; may be NULL (→ error).
 * @param out      filled on success only.
 * @return CP_OK; CP_ERR_INVALID_ARG for NULLs; CP_ERR_PARSE for anything else
 *         (missing api-version, empty segments, bad id characters, too long).
 */
cp_result hub_username_parse(const char *username, hub_username *out);

/**
 * @brief True when @p api_version is an IoT Hub api-version the reference
 *        server accepts (protocol.md §13.6). DPS api-versions are the core's
 *        (cps_prov_api_version_ok()), shared with the HTTPS endpoint.
 */
bool hub_api_version_supported(const char *api_version);

/**
 * @brief True when @p id is a valid registration / device id
 *        (protocol.md §4: 1–128 of alphanumerics and `-._:`, last one
 *        alphanumeric or `-`).
 */
bool hub_id_valid(const char *id);

/**
 * @brief Build `$dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}]`.
 * @param buf, len   caller buffer; untouched on failure.
 * @param status     HTTP-style status (100–599).
 * @param rid        request id to echo (already validated by the parser).
 * @param retry_after seconds, or a negative value to omit the parameter.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result hub_topic_build_dps_response(char *buf, size_t len, int status,
                                       const char *rid, int retry_after);

/**
 * @brief Build `$iothub/twin/res/{status}/?$rid={rid}[&$version={v}]`.
 * @param version the twin version to add, or a negative value to omit it.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result hub_topic_build_twin_response(char *buf, size_t len, int status,
                                        const char *rid, long long version);

/**
 * @brief Build `$iothub/twin/PATCH/properties/desired/?$version={v}`.
 * @return CP_OK; CP_ERR_INVALID_ARG (negative version, NULL buffer);
 *         CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result hub_topic_build_twin_desired(char *buf, size_t len, long long version);

#ifdef __cplusplus
}
#endif
#endif
