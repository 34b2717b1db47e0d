/**
 * @file cp_provisioning.h
 * @brief Device provisioning protocol core (protocol.md §1–§3): builders,
 *        parsers, the registration state machine and the issued-chain check.
 *
 * Nothing here does I/O. The application (or platform/posix's blocking
 * cp_provision()) owns the MQTT or HTTP connection and moves bytes; this module
 * says what to send, parses what came back and decides what happens next.
 *
 * Buffer contract of every builder: on success @c *out_len is the length
 * written without the NUL; on CP_ERR_BUFFER_TOO_SMALL the output is untouched
 * and @c *out_len is the size needed including the NUL.
 *
 * Typical MQTT use (subscribe to CP_DPS_TOPIC_RES_FILTER first):
 * @code
 * cp_prov_client c;                      // large (holds the chain): static or heap
 * cp_prov_client_init(&c, scope, reg_id, csr_b64, NULL);
 * for (;;) {
 *   cp_prov_step s;
 *   cp_prov_client_next(&c, &s);
 *   if (s.action == CP_PROV_ACTION_SEND)        { build with cp_prov_client_mqtt_request(), publish }
 *   else if (s.action == CP_PROV_ACTION_RECEIVE) { feed messages to cp_prov_client_on_mqtt_message() }
 *   else if (s.action == CP_PROV_ACTION_WAIT)    { sleep s.wait_s seconds }
 *   else break;                                  // DONE: s.result, cp_prov_client_response()
 * }
 * @endcode
 */
#ifndef CERTPILOT_CP_PROVISIONING_H
#define CERTPILOT_CP_PROVISIONING_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cp_error.h"
#include "cp_key.h"
#include "cp_result.h"
#include "cp_x509.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CP_PROV_ID_SCOPE_MAX 65        /**< id scope incl. NUL */
#define CP_PROV_REG_ID_MAX 129         /**< registration id incl. NUL (protocol.md §4) */
#define CP_PROV_RID_MAX 37             /**< request id incl. NUL */
#define CP_PROV_OPERATION_ID_MAX 129   /**< operationId incl. NUL */
#define CP_PROV_DEVICE_ID_MAX 129      /**< deviceId incl. NUL */
#define CP_PROV_HUB_MAX 256            /**< assignedHub incl. NUL */
#define CP_PROV_SUBSTATUS_MAX 48       /**< substatus incl. NUL */
#define CP_PROV_CHAIN_MAX 4            /**< most certificates accepted in a chain */
/** base64 of the largest certificate DER (CP_CERT_DER_MAX) incl. NUL. */
#define CP_PROV_CHAIN_B64_MAX (((CP_CERT_DER_MAX + 2) / 3) * 4 + 1)
#define CP_PROV_CSR_B64_MAX 1400       /**< base64 CSR incl. NUL */
#define CP_PROV_PAYLOAD_MAX 1024       /**< custom payload JSON incl. NUL */
#define CP_PROV_TOPIC_MAX 256          /**< enough for any DPS topic we build */
#define CP_PROV_USERNAME_MAX 384       /**< enough for any DPS MQTT user name */
#define CP_PROV_HTTP_PATH_MAX 640      /**< enough for any DPS HTTP path */
/**
 * base64 of one marshalled TPM2B_PUBLIC of at most 1024 bytes (the EK or SRK
 * of a TPM register body, protocol.md §5) incl. NUL; equals CP_TPM_PUBLIC_B64_MAX.
 */
#define CP_PROV_TPM_KEY_B64_MAX (((1024 + 2) / 3) * 4 + 1)
/** Enough for the register body with the largest CSR, payload and TPM keys. */
#define CP_PROV_BODY_MAX \
  (CP_PROV_CSR_B64_MAX + CP_PROV_PAYLOAD_MAX + 2 * CP_PROV_TPM_KEY_B64_MAX + 512)
/** ClientVersion query value (URL-encoded "certpilot/0.1.0") appended to user names. */
#define CP_PROV_CLIENT_VERSION "certpilot%2F0.1.0"

/* ---------------------------------------------------------------- builders */

/**
 * @brief MQTT user name: "{idScope}/registrations/{registrationId}/api-version=…&ClientVersion=…".
 *        (The MQTT client id is the registration id itself.)
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL or empty id); CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_prov_mqtt_username(const char *id_scope, const char *registration_id,
                                char *out, size_t out_size, size_t *out_len);

/**
 * @brief Register topic "$dps/registrations/PUT/iotdps-register/?$rid={rid}".
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL/empty rid); CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_prov_mqtt_register_topic(const char *rid, char *out, size_t out_size,
                                      size_t *out_len);

/**
 * @brief Poll topic "$dps/registrations/GET/iotdps-get-operationstatus/?$rid={rid}&operationId={op}".
 *        The poll message has an empty payload.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_prov_mqtt_status_topic(const char *rid, const char *operation_id,
                                    char *out, size_t out_size, size_t *out_len);

/**
 * @brief HTTPS register path "/{idScope}/registrations/{registrationId}/register?api-version=…",
 *        path segments percent-encoded. The method is PUT.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_prov_http_register_path(const char *id_scope, const char *registration_id,
                                     char *out, size_t out_size, size_t *out_len);

/**
 * @brief HTTPS poll path "/{idScope}/registrations/{registrationId}/operations/{operationId}?api-version=…".
 *        The method is GET.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_BUFFER_TOO_SMALL.
 */
cp_result cp_prov_http_operation_path(const char *id_scope, const char *registration_id,
                                      const char *operation_id, char *out,
                                      size_t out_size, size_t *out_len);

/**
 * @brief Register body {"registrationId":…,"csr":…,"payload":…} (protocol.md §1, §3).
 * @param csr_b64 one-line base64 DER CSR, or NULL to omit "csr".
 * @param payload_json a JSON object as text, or NULL to omit "payload".
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL/empty registration id, payload not a
 *         JSON object); CP_ERR_BUFFER_TOO_SMALL; CP_ERR_NO_MEMORY.
 */
cp_result cp_prov_register_body(const char *registration_id, const char *csr_b64,
                                const char *payload_json, char *out, size_t out_size,
                                size_t *out_len);

/**
 * @brief TPM register body (protocol.md §3, §5 steps 2 and 7), members in this
 *        order: {"registrationId":…,"tpm":{"endorsementKey":…,"storageRootKey":…},
 *        "csr":…,"payload":…}. DPS expects this same body on the first PUT
 *        (no Authorization) and on every PUT signed by the TPM identity key.
 * @param endorsement_key_b64 base64 of the marshalled TPM2B_PUBLIC of the EK
 *        (shorter than CP_PROV_TPM_KEY_B64_MAX), copied into the body as given.
 * @param storage_root_key_b64 the same for the SRK.
 * @param csr_b64 one-line base64 DER CSR, or NULL to omit "csr".
 * @param payload_json a JSON object as text, or NULL to omit "payload".
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL/empty registration id, EK or SRK
 *         NULL, empty or not shorter than CP_PROV_TPM_KEY_B64_MAX, payload not
 *         a JSON object); CP_ERR_BUFFER_TOO_SMALL; CP_ERR_NO_MEMORY.
 */
cp_result cp_prov_register_body_tpm(const char *registration_id,
                                    const char *endorsement_key_b64,
                                    const char *storage_root_key_b64, const char *csr_b64,
                                    const char *payload_json, char *out, size_t out_size,
                                    size_t *out_len);

/* ----------------------------------------------------------------- parsers */

/** What a DPS response topic says. */
typedef struct cp_prov_topic_info {
  int status;                  /**< e.g. 200, 202, 401, 429 */
  char rid[CP_PROV_RID_MAX];   /**< "$rid" value; "" when absent */
  bool has_retry_after;        /**< "retry-after" was present */
  uint32_t retry_after_s;      /**< clamped to CP_RETRY_AFTER_MAX_S; 0 when absent */
} cp_prov_topic_info;

/**
 * @brief Parse "$dps/registrations/res/{status}/?$rid={rid}[&retry-after={s}]".
 *        Unknown query parameters are ignored.
 * @param topic need not be NUL-terminated.
 * @return CP_OK; CP_ERR_NOT_FOUND (not a DPS response topic); CP_ERR_PARSE
 *         (truncated or malformed: status not 3 digits, bad retry-after, over-long
 *         $rid; @p detail names the part); CP_ERR_INVALID_ARG. @p out untouched on failure.
 */
cp_result cp_prov_topic_parse(const char *topic, size_t topic_len,
                              cp_prov_topic_info *out, cp_error_detail *detail);

/**
 * @brief Parse a Retry-After value (decimal seconds) and clamp it to
 *        CP_RETRY_AFTER_MAX_S. HTTP dates are not accepted.
 * @return CP_OK; CP_ERR_PARSE (empty, not decimal); CP_ERR_INVALID_ARG.
 */
cp_result cp_prov_retry_after_parse(const char *value, size_t len, uint32_t *out_s);

/** Registration status (protocol.md §1). */
typedef enum cp_prov_status {
  CP_PROV_STATUS_UNKNOWN = 0, /**< not (yet) known */
  CP_PROV_STATUS_UNASSIGNED,
  CP_PROV_STATUS_ASSIGNING,
  CP_PROV_STATUS_ASSIGNED,    /**< terminal */
  CP_PROV_STATUS_FAILED,      /**< terminal */
  CP_PROV_STATUS_DISABLED,    /**< terminal */
} cp_prov_status;

/** @brief Wire name of @p s ("assigned", …), "unknown" for CP_PROV_STATUS_UNKNOWN. */
const char *cp_prov_status_str(cp_prov_status s);

/**
 * A parsed RegistrationOperationStatus (200/202 body). Caller-owned plain data;
 * about 22 KB because of the chain, so prefer static or heap storage on small stacks.
 */
typedef struct cp_prov_response {
  char operation_id[CP_PROV_OPERATION_ID_MAX];
  cp_prov_status status;
  char registration_id[CP_PROV_REG_ID_MAX]; /**< registrationState.registrationId or "" */
  char device_id[CP_PROV_DEVICE_ID_MAX];    /**< "" unless assigned */
  char assigned_hub[CP_PROV_HUB_MAX];       /**< "" unless assigned; may carry ":port" */
  char substatus[CP_PROV_SUBSTATUS_MAX];    /**< "" when absent */
  int32_t error_code;                       /**< registrationState.errorCode, 0 when absent */
  char error_message[CP_ERROR_MESSAGE_MAX]; /**< registrationState.errorMessage */
  size_t chain_len;                         /**< 0 when issuedCertificateChain is absent */
  char chain_b64[CP_PROV_CHAIN_MAX][CP_PROV_CHAIN_B64_MAX]; /**< leaf first, base64 DER */
} cp_prov_response;

/**
 * @brief Parse a 200/202 body. Checks: JSON object; operationId (string, safe
 *        characters); status (known value); when assigned, registrationState
 *        with deviceId and assignedHub; issuedCertificateChain, if present, an
 *        array of 1..CP_PROV_CHAIN_MAX base64 strings; errorCode an integer.
 * @return CP_OK; CP_ERR_BAD_RESPONSE (@p detail->field names the offending
 *         member, e.g. "registrationState.issuedCertificateChain[1]");
 *         CP_ERR_NO_MEMORY; CP_ERR_INVALID_ARG. @p out untouched on failure.
 */
cp_result cp_prov_response_parse(const char *body, size_t body_len,
                                 cp_prov_response *out, cp_error_detail *detail);

/**
 * @brief Read an error reply ({"errorCode","message","trackingId",…}, protocol.md
 *        §1/§3) into @p detail (status, error_code, message). A body that is not
 *        JSON leaves message naming that fact.
 * @return the result this status means: CP_ERR_UNAUTHORIZED (401),
 *         CP_ERR_REFUSED (other statuses).
 */
cp_result cp_prov_error_parse(int status, const char *body, size_t body_len,
                              cp_error_detail *detail);

/* ----------------------------------------------------------- state machine */

/** What the caller should do next. */
typedef enum cp_prov_action {
  CP_PROV_ACTION_SEND = 1, /**< build the request (…_mqtt_request / …_http_request) and send it */
  CP_PROV_ACTION_RECEIVE,  /**< wait for the reply and feed it in (…_on_mqtt_message / …_on_http_response) */
  CP_PROV_ACTION_WAIT,     /**< sleep wait_s seconds, then call cp_prov_client_next() again */
  CP_PROV_ACTION_DONE,     /**< finished: see result and cp_prov_client_response() */
} cp_prov_action;

/** Which request CP_PROV_ACTION_SEND means. */
typedef enum cp_prov_request {
  CP_PROV_REQUEST_REGISTER = 1, /**< PUT register (with CSR) */
  CP_PROV_REQUEST_POLL,         /**< GET operation status */
} cp_prov_request;

/** One instruction from the state machine. */
typedef struct cp_prov_step {
  cp_prov_action action;
  cp_prov_request request; /**< for CP_PROV_ACTION_SEND */
  uint32_t wait_s;         /**< for CP_PROV_ACTION_WAIT (already clamped) */
  /**
   * For CP_PROV_ACTION_DONE: CP_OK (assigned), CP_ERR_REFUSED (status failed,
   * or an error status), CP_ERR_DISABLED, CP_ERR_UNAUTHORIZED (401),
   * CP_ERR_BAD_RESPONSE (malformed reply; detail names the field).
   */
  cp_result result;
  cp_prov_status status;   /**< last registration status seen */
  const cp_error_detail *detail; /**< points into the client; valid until the next call */
} cp_prov_step;

/** Registration context. Caller-owned (about 28 KB); members are private. */
typedef struct cp_prov_client {
  struct {
    char id_scope[CP_PROV_ID_SCOPE_MAX];
    char registration_id[CP_PROV_REG_ID_MAX];
    char csr_b64[CP_PROV_CSR_B64_MAX];
    char payload[CP_PROV_PAYLOAD_MAX];
    char tpm_ek[CP_PROV_TPM_KEY_B64_MAX];  /* "" unless cp_prov_client_set_tpm() */
    char tpm_srk[CP_PROV_TPM_KEY_B64_MAX];
    int state;
    cp_prov_request pending;
    uint32_t rid_counter;
    char rid[CP_PROV_RID_MAX];
    uint32_t wait_s;
    cp_result result;
    cp_prov_status status;
    cp_error_detail detail;
    cp_prov_response response;
  } _internal;
} cp_prov_client;

/**
 * @brief Start a registration.
 * @param csr_b64 one-line base64 DER CSR (protocol.md §2), or NULL for a
 *        registration without certificate issuance (then no chain is required).
 * @param payload_json optional custom payload (a JSON object), or NULL.
 * All strings are copied.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL/empty id scope or registration id,
 *         a string too long for its field; @p client is then unusable).
 */
cp_result cp_prov_client_init(cp_prov_client *client, const char *id_scope,
                              const char *registration_id, const char *csr_b64,
                              const char *payload_json);

/**
 * @brief Make every register request of @p client a TPM one: its body gets the
 *        member "tpm":{"endorsementKey":…,"storageRootKey":…} (see
 *        cp_prov_register_body_tpm()), on MQTT and HTTPS, first send and any
 *        resend alike. Polls are unchanged. Call after cp_prov_client_init(),
 *        before the register request is built. Both strings are copied.
 * @param endorsement_key_b64 base64 marshalled TPM2B_PUBLIC of the EK.
 * @param storage_root_key_b64 base64 marshalled TPM2B_PUBLIC of the SRK.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL client, NULL/empty key, a key not
 *         shorter than CP_PROV_TPM_KEY_B64_MAX; the client is unchanged);
 *         CP_ERR_STATE (uninitialised client, or no register request pending).
 */
cp_result cp_prov_client_set_tpm(cp_prov_client *client, const char *endorsement_key_b64,
                                 const char *storage_root_key_b64);

/**
 * @brief What to do now. Never fails for an initialised client.
 *        After CP_PROV_ACTION_WAIT the next call returns CP_PROV_ACTION_SEND:
 *        the client keeps no clock, the caller does the waiting.
 * @return CP_OK; CP_ERR_INVALID_ARG.
 */
cp_result cp_prov_client_next(cp_prov_client *client, cp_prov_step *step);

/**
 * @brief Build the pending request for MQTT: topic and payload (empty for a poll).
 *        Allocates a fresh $rid and moves to CP_PROV_ACTION_RECEIVE.
 * @return CP_OK; CP_ERR_STATE (no request pending); CP_ERR_BUFFER_TOO_SMALL
 *         (state unchanged); CP_ERR_INVALID_ARG.
 */
cp_result cp_prov_client_mqtt_request(cp_prov_client *client, char *topic,
                                      size_t topic_size, char *payload,
                                      size_t payload_size, size_t *payload_len);

/**
 * @brief Build the pending request for HTTPS: method ("PUT"/"GET"), path (to
 *        append to "https://host:port") and body (empty for a poll).
 *        Moves to CP_PROV_ACTION_RECEIVE. The caller adds the headers
 *        (CP_HTTP_CONTENT_TYPE_JSON, Accept, Authorization for symmetric keys).
 * @return as cp_prov_client_mqtt_request().
 */
cp_result cp_prov_client_http_request(cp_prov_client *client, const char **method,
                                      char *path, size_t path_size, char *body,
                                      size_t body_size, size_t *body_len);

/**
 * @brief Feed an MQTT message received while waiting for a reply.
 * @return CP_OK (consumed: call cp_prov_client_next()); CP_ERR_NOT_FOUND (not a
 *         DPS response or not our $rid: ignored); CP_ERR_STATE (no reply
 *         expected); CP_ERR_INVALID_ARG. A malformed topic with our prefix ends
 *         the registration with CP_ERR_BAD_RESPONSE and returns CP_OK.
 */
cp_result cp_prov_client_on_mqtt_message(cp_prov_client *client, const char *topic,
                                         size_t topic_len, const char *payload,
                                         size_t payload_len);

/**
 * @brief Feed an HTTP reply.
 * @param retry_after value of the Retry-After header, or NULL.
 * @return CP_OK (consumed); CP_ERR_STATE; CP_ERR_INVALID_ARG.
 */
cp_result cp_prov_client_on_http_response(cp_prov_client *client, int status,
                                          const char *retry_after, const char *body,
                                          size_t body_len);

/** @brief The last parsed response (complete once DONE with CP_OK). Never NULL for a valid client. */
const cp_prov_response *cp_prov_client_response(const cp_prov_client *client);

/* ------------------------------------------------------------- chain check */

/**
 * @brief Check an issued chain before use (protocol.md §13.3) and return it as PEM.
 *
 * The chain must have 2..CP_PROV_CHAIN_MAX elements, every element valid base64
 * DER; the leaf's public key must be @p key's; the leaf CN must equal
 * @p registration_id; each element must be signed by the next and be within its
 * validity at @p now; the last element must be signed by @p anchor when one is
 * given, else it must be self-signed.
 *
 * @param anchor optional trust anchor (DER), NULL for "self-signed root".
 * @param[out] pem the chain, leaf first, PEM, NUL-terminated (the TLS client chain).
 * @return CP_OK; CP_ERR_CHAIN_INVALID (length, order, CA flags); CP_ERR_PARSE
 *         (base64 or DER garbage); CP_ERR_KEY_MISMATCH; CP_ERR_NAME_MISMATCH;
 *         CP_ERR_BAD_SIGNATURE; CP_ERR_UNTRUSTED; CP_ERR_CERT_EXPIRED;
 *         CP_ERR_CERT_NOT_YET_VALID; CP_ERR_BUFFER_TOO_SMALL; CP_ERR_INVALID_ARG.
 *         @p detail->field names the element, e.g. "issuedCertificateChain[2]".
 */
cp_result cp_prov_chain_check(const cp_prov_response *response, const cp_key *key,
                              const char *registration_id, const cp_der *anchor,
                              int64_t now, char *pem, size_t pem_size,
                              size_t *pem_len, cp_error_detail *detail);

#ifdef __cplusplus
}
#endif
#endif
