/**
 * @file cp_protocol.h
 * @brief Wire names and constants of the DPS / IoT Hub protocol, shared by the
 *        SDK and the reference server (see docs/protocol.md).
 */
#ifndef CERTPILOT_CP_PROTOCOL_H
#define CERTPILOT_CP_PROTOCOL_H

#ifdef __cplusplus
extern "C" {
#endif

/* §0 api-versions */
#define CP_DPS_API_VERSION "2025-07-01-preview"
#define CP_HUB_API_VERSION "2025-08-01-preview"

/* §1 DPS over MQTT */
#define CP_DPS_MQTT_PORT 8883
#define CP_MQTT_WS_PATH "/$iothub/websocket"
#define CP_DPS_TOPIC_RES_PREFIX "$dps/registrations/res/"
#define CP_DPS_TOPIC_RES_FILTER "$dps/registrations/res/#"
#define CP_DPS_TOPIC_REGISTER "$dps/registrations/PUT/iotdps-register/?$rid="
#define CP_DPS_TOPIC_OPERATION_STATUS \
  "$dps/registrations/GET/iotdps-get-operationstatus/?$rid="
#define CP_DPS_USERNAME_FMT "%s/registrations/%s/api-version=%s"

/* §3 DPS over HTTPS */
#define CP_DPS_HTTP_REGISTER_FMT "/%s/registrations/%s/register?api-version=%s"
#define CP_DPS_HTTP_OPERATION_FMT "/%s/registrations/%s/operations/%s?api-version=%s"

/* JSON member names (§1, §2, §5) */
#define CP_JSON_REGISTRATION_ID "registrationId"
#define CP_JSON_CSR "csr"
#define CP_JSON_PAYLOAD "payload"
#define CP_JSON_TPM "tpm"
#define CP_JSON_OPERATION_ID "operationId"
#define CP_JSON_STATUS "status"
#define CP_JSON_REGISTRATION_STATE "registrationState"
#define CP_JSON_ASSIGNED_HUB "assignedHub"
#define CP_JSON_DEVICE_ID "deviceId"
#define CP_JSON_SUBSTATUS "substatus"
#define CP_JSON_ISSUED_CHAIN "issuedCertificateChain"
#define CP_JSON_ERROR_CODE "errorCode"
#define CP_JSON_ERROR_MESSAGE "errorMessage"
#define CP_JSON_TRACKING_ID "trackingId"
#define CP_JSON_MESSAGE "message"
#define CP_JSON_TIMESTAMP_UTC "timestampUtc"

/* §1 status values */
#define CP_STATUS_UNASSIGNED "unassigned"
#define CP_STATUS_ASSIGNING "assigning"
#define CP_STATUS_ASSIGNED "assigned"
#define CP_STATUS_FAILED "failed"
#define CP_STATUS_DISABLED "disabled"

/* §4 SAS */
#define CP_SAS_KEY_NAME "registration"
#define CP_SAS_DEFAULT_LIFETIME_S 2400

/* §7 IoT Hub over MQTT */
#define CP_HUB_USERNAME_FMT "%s/%s/?api-version=%s"
#define CP_HUB_TOPIC_TWIN_RES_PREFIX "$iothub/twin/res/"
#define CP_HUB_TOPIC_TWIN_RES_FILTER "$iothub/twin/res/#"
#define CP_HUB_TOPIC_TWIN_GET "$iothub/twin/GET/?$rid="
#define CP_HUB_TOPIC_TWIN_PATCH_REPORTED "$iothub/twin/PATCH/properties/reported/?$rid="
#define CP_HUB_TOPIC_TWIN_DESIRED_PREFIX "$iothub/twin/PATCH/properties/desired/"
#define CP_HUB_TOPIC_TWIN_DESIRED_FILTER "$iothub/twin/PATCH/properties/desired/#"
#define CP_HUB_TOPIC_TELEMETRY_FMT "devices/%s/messages/events/"

/* §13.7 certificate reported property */
#define CP_TWIN_CERTIFICATE "certificate"

/* §1 transient statuses and retry-after bounds (seconds) */
#define CP_RETRY_AFTER_DEFAULT_S 1
#define CP_RETRY_AFTER_MAX_S 300

/* Added by the SDK protocol client (issue 5). */
#define CP_DPS_HTTPS_PORT 443
#define CP_HUB_MQTT_PORT 8883
#define CP_MQTT_WS_PORT 443
#define CP_MQTT_WS_SUBPROTOCOL "mqtt"
#define CP_DPS_QUERY_OPERATION_ID "&operationId="
#define CP_QUERY_RID "$rid="
#define CP_QUERY_RETRY_AFTER "retry-after="
#define CP_QUERY_VERSION "$version="
#define CP_HTTP_CONTENT_TYPE_JSON "application/json; charset=utf-8"
#define CP_HTTP_ACCEPT_JSON "application/json"
#define CP_HTTP_HEADER_RETRY_AFTER "Retry-After"
#define CP_JSON_ERROR_MESSAGE_TOP "message"
#define CP_JSON_TWIN_DESIRED "desired"
#define CP_JSON_TWIN_REPORTED "reported"
#define CP_JSON_TWIN_VERSION "$version"
/* §13.7 members of the "certificate" reported property */
#define CP_TWIN_CERT_VALID_FROM "validFrom"
#define CP_TWIN_CERT_VALID_UNTIL "validUntil"
#define CP_TWIN_CERT_SERIAL "serialNumber"
#define CP_TWIN_CERT_THUMBPRINT "thumbprint"
#define CP_TWIN_CERT_ISSUER "issuer"
#define CP_TWIN_CERT_RENEWED_AT "renewedAt"
#define CP_TWIN_CERT_RENEWAL_COUNT "renewalCount"
#define CP_TWIN_CERT_LAST_ERROR "lastError"

#ifdef __cplusplus
}
#endif
#endif
