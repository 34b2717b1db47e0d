/**
 * @file cp_hub.h
 * @brief IoT Hub protocol core (protocol.md §7, §13.7): MQTT user name, twin
 *        topics, the reported "certificate" patch, twin and desired-patch parsing.
 *
 * No I/O, like cp_provisioning.h; the MQTT client id is the device id. Builders
 * follow the SDK buffer contract (on CP_ERR_BUFFER_TOO_SMALL the output is
 * untouched and *out_len is the size needed including the NUL).
 */
#ifndef CERTPILOT_CP_HUB_H
#define CERTPILOT_CP_HUB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cp_error.h"
#include "cp_result.h"
#include "cp_x509.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CP_HUB_RID_MAX 37        /**< $rid incl. NUL */
#define CP_HUB_TOPIC_MAX 128     /**< enough for any twin topic we build */
#define CP_HUB_USERNAME_MAX 512  /**< enough for any hub MQTT user name */
#define CP_HUB_TIME_MAX 21       /**< "YYYY-MM-DDThh:mm:ssZ" + NUL */
#define CP_HUB_REPORT_BODY_MAX 2048 /**< enough for any certificate report body */
/** DeviceClientType query value (URL-encoded "certpilot/0.1.0"). */
#define CP_HUB_CLIENT_TYPE "certpilot%2F0.1.0"

/**
 * @brief MQTT user name "{hub}/{deviceId}/?api-version=…&DeviceClientType=…".
 * @param hub_host the assignedHub host name (without ":port").
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL or empty); CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_hub_mqtt_username(const char *hub_host, const char *device_id, char *out,
                               size_t out_size, size_t *out_len);

/** @brief "$iothub/twin/GET/?$rid={rid}" (empty payload). Contract as above. */
cp_result cp_hub_twin_get_topic(const char *rid, char *out, size_t out_size,
                                size_t *out_len);

/** @brief "$iothub/twin/PATCH/properties/reported/?$rid={rid}". Contract as above. */
cp_result cp_hub_twin_patch_topic(const char *rid, char *out, size_t out_size,
                                  size_t *out_len);

/** Which hub topic a message arrived on. */
typedef enum cp_hub_topic_kind {
  CP_HUB_TOPIC_TWIN_RESPONSE = 1, /**< $iothub/twin/res/{status}/?$rid=…[&$version=…] */
  CP_HUB_TOPIC_DESIRED_PATCH,     /**< $iothub/twin/PATCH/properties/desired/?$version=… */
} cp_hub_topic_kind;

/** What a hub topic says. */
typedef struct cp_hub_topic_info {
  cp_hub_topic_kind kind;
  int status;                /**< twin responses: 200, 204, 400, 429, … */
  char rid[CP_HUB_RID_MAX];  /**< twin responses: the $rid */
  bool has_version;
  int64_t version;           /**< $version when has_version */
} cp_hub_topic_info;

/**
 * @brief Parse a twin response or desired-patch topic.
 * @return CP_OK; CP_ERR_NOT_FOUND (another topic); CP_ERR_PARSE (truncated or
 *         malformed; @p detail names the part); CP_ERR_INVALID_ARG.
 *         @p out untouched on failure.
 */
cp_result cp_hub_topic_parse(const char *topic, size_t topic_len, cp_hub_topic_info *out,
                             cp_error_detail *detail);

/** The §13.7 "certificate" reported property. Caller-owned plain data. */
typedef struct cp_hub_certificate_report {
  char valid_from[CP_HUB_TIME_MAX];   /**< "…Z" */
  char valid_until[CP_HUB_TIME_MAX];
  char serial_number[CP_CERT_SERIAL_HEX_MAX];  /**< lower-case hex */
  char thumbprint[CP_CERT_THUMBPRINT_HEX];     /**< SHA-256 of the DER, lower-case hex */
  char issuer[CP_CERT_NAME_MAX];
  char renewed_at[CP_HUB_TIME_MAX];
  uint32_t renewal_count;
  bool has_last_error;                /**< false: "lastError":null */
  char last_error[CP_ERROR_MESSAGE_MAX];
} cp_hub_certificate_report;

/**
 * @brief Fill @p out from a parsed leaf certificate.
 * @param renewed_at UTC seconds of the issuance (or renewal) time.
 * @param last_error NULL for none (reported as null).
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL, or a time out of range). @p out untouched on failure.
 */
cp_result cp_hub_certificate_report_from_cert(const cp_cert_info *leaf, int64_t renewed_at,
                                              uint32_t renewal_count,
                                              const char *last_error,
                                              cp_hub_certificate_report *out);

/**
 * @brief The reported PATCH body {"certificate":{…}} (protocol.md §13.7).
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_BUFFER_TOO_SMALL; CP_ERR_NO_MEMORY.
 */
cp_result cp_hub_certificate_report_body(const cp_hub_certificate_report *report,
                                         char *out, size_t out_size, size_t *out_len);

/** What this SDK reads from a twin document. */
typedef struct cp_hub_twin {
  int64_t desired_version;  /**< desired.$version */
  int64_t reported_version; /**< reported.$version, 0 when absent */
  bool has_certificate;     /**< reported.certificate was present and well-formed */
  cp_hub_certificate_report certificate;
} cp_hub_twin;

/**
 * @brief Parse a twin GET response {"desired":{…,"$version":n},"reported":{…}}.
 * @return CP_OK; CP_ERR_BAD_RESPONSE (@p detail names the field: not JSON,
 *         "desired" missing, "$version" not an integer, a certificate member of the
 *         wrong type); CP_ERR_INVALID_ARG. @p out untouched on failure.
 */
cp_result cp_hub_twin_parse(const char *body, size_t body_len, cp_hub_twin *out,
                            cp_error_detail *detail);

/**
 * @brief Check a desired-properties patch and read its "$version".
 * @param[out] version the patch's $version.
 * @return CP_OK; CP_ERR_BAD_RESPONSE (not a JSON object, "$version" missing or
 *         not an integer); CP_ERR_INVALID_ARG.
 */
cp_result cp_hub_desired_parse(const char *body, size_t body_len, int64_t *version,
                               cp_error_detail *detail);

#ifdef __cplusplus
}
#endif
#endif
