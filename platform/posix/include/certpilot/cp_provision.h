/**
 * @file cp_provision.h
 * @brief Blocking provisioning for POSIX: one call registers with the
 *        provisioning endpoint, sends a fresh CSR, waits (honouring
 *        retry-after) within a total timeout, verifies the issued chain and
 *        returns device id, assigned hub, chain PEM and key.
 *
 * Thin wrapper over the cp_provisioning.h state machine and the transports of
 * cp_posix_transport.h.
 */
#ifndef CERTPILOT_CP_PROVISION_H
#define CERTPILOT_CP_PROVISION_H

#include <stddef.h>
#include <stdint.h>

#include "certpilot/cp_error.h"
#include "certpilot/cp_key.h"
#include "certpilot/cp_provisioning.h"
#include "certpilot/cp_result.h"
#include "certpilot/cp_transport.h"
#include "certpilot/cp_x509.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Which wire the registration uses. */
typedef enum cp_provision_transport {
  CP_PROVISION_MQTT = 0,    /**< MQTT over TLS (default port 8883) */
  CP_PROVISION_MQTT_WS = 1, /**< MQTT over WebSockets over TLS (443, /$iothub/websocket) */
  CP_PROVISION_HTTPS = 2,   /**< REST over HTTPS (443) */
} cp_provision_transport;

/** How the device proves who it is to the provisioning endpoint. */
typedef enum cp_onboarding_kind {
  CP_ONBOARDING_SYMMETRIC_KEY = 0,       /**< individual enrollment key (base64) */
  CP_ONBOARDING_SYMMETRIC_GROUP_KEY = 1, /**< group key: the device key is derived (protocol.md §4) */
  CP_ONBOARDING_X509 = 2,                /**< onboarding certificate + key files (TLS client auth) */
  CP_ONBOARDING_TPM = 3,                 /**< TPM: SAS signed by cp_provision_config.signer */
} cp_onboarding_kind;

/**
 * HMAC-SHA256 signer hook: compute the MAC of @p msg with a key the caller
 * holds (for CP_ONBOARDING_TPM, the TPM's identity key). Return CP_OK or
 * CP_ERR_TPM / CP_ERR_CRYPTO.
 */
typedef cp_result (*cp_hmac_signer_fn)(void *ctx, const uint8_t *msg, size_t msg_len,
                                       uint8_t mac[32]);

/** Provisioning settings. Start from cp_provision_config_init(). Strings borrowed. */
typedef struct cp_provision_config {
  cp_provision_transport transport;
  const char *host;            /**< provisioning endpoint host name */
  uint16_t port;               /**< 0: the transport's default */
  const char *id_scope;
  const char *registration_id; /**< required, except X.509: NULL takes the onboarding cert's CN */
  cp_onboarding_kind onboarding;
  const char *symmetric_key;   /**< base64 individual or group key (symmetric kinds) */
  const char *x509_cert_path;  /**< PEM onboarding certificate (chain), X.509 kind */
  const char *x509_key_path;   /**< PEM onboarding key, X.509 kind */
  cp_hmac_signer_fn signer;    /**< TPM kind: computes the SAS HMAC */
  void *signer_ctx;
  const char *signer_key_name; /**< "skn" for the signer's tokens; NULL: "registration" */
  /**
   * TPM kind only: base64 marshalled TPM2B_PUBLIC of the EK and of the SRK.
   * When set (both or neither), every register request carries
   * "tpm":{"endorsementKey":…,"storageRootKey":…} (protocol.md §5 step 7);
   * NULL: no "tpm" member. cp_provision_tpm() sets them from the TPM.
   */
  const char *tpm_endorsement_key_b64;
  const char *tpm_storage_root_key_b64; /**< see tpm_endorsement_key_b64 */
  const char *trust_bundle_path; /**< PEM CAs for the server's TLS certificate; NULL: system */
  const char *chain_anchor_path; /**< optional PEM root the issued chain must lead to */
  const cp_key *key;           /**< operational key to certify; NULL: a fresh P-384 key */
  const char *payload_json;    /**< optional custom payload (JSON object) */
  uint32_t timeout_ms;         /**< total, from call to return (default 60000) */
  uint32_t sas_lifetime_s;     /**< SAS token lifetime (default CP_SAS_DEFAULT_LIFETIME_S) */
} cp_provision_config;

/** @brief Defaults: MQTT, symmetric key, timeout 60 s, SAS lifetime 2400 s. */
void cp_provision_config_init(cp_provision_config *config);

/** Enough for a PEM chain of CP_PROV_CHAIN_MAX largest certificates. */
#define CP_PROVISION_CHAIN_PEM_MAX (CP_PROV_CHAIN_MAX * (CP_PROV_CHAIN_B64_MAX + 128))

/** What provisioning returns. Caller-owned (about 25 KB). */
typedef struct cp_provision_result {
  char registration_id[CP_PROV_REG_ID_MAX];
  char device_id[CP_PROV_DEVICE_ID_MAX];
  char assigned_hub[CP_PROV_HUB_MAX];      /**< as sent: host, or host:port */
  char chain_pem[CP_PROVISION_CHAIN_PEM_MAX]; /**< verified chain, leaf first */
  size_t chain_pem_len;
  cp_key key;                              /**< the key the leaf certifies; cp_key_wipe() it */
  cp_prov_status status;                   /**< last registration status seen */
  uint32_t requests;                       /**< requests sent (register + polls + retries) */
  cp_error_detail error;                   /**< filled on failure */
} cp_provision_result;

/**
 * @brief Provision the device (blocking).
 * @param[out] result filled; on failure only status, requests and error are meaningful
 *             (the key and chain are wiped).
 * @return CP_OK (assigned, chain verified);
 *         CP_ERR_CONFIG (a missing or inconsistent setting, e.g. only one TPM
 *         key, or TPM keys without TPM onboarding; error.field names it);
 *         CP_ERR_UNSUPPORTED (TPM without a signer);
 *         CP_ERR_TRANSPORT, CP_ERR_TLS (error.message has the verify reason);
 *         CP_ERR_UNAUTHORIZED (401 or CONNACK not authorized); CP_ERR_REFUSED
 *         (status failed, or an error status; error.status/error_code/message);
 *         CP_ERR_DISABLED; CP_ERR_TIMEOUT; CP_ERR_BAD_RESPONSE (error.field);
 *         chain check results (see cp_prov_chain_check()); CP_ERR_IO (files);
 *         CP_ERR_CRYPTO; CP_ERR_NO_MEMORY.
 */
cp_result cp_provision(const cp_provision_config *config, cp_provision_result *result);

/** Transports to run over instead of the built-in Paho / libcurl ones. Borrowed. */
typedef struct cp_provision_transports {
  cp_mqtt_transport *mqtt; /**< used for CP_PROVISION_MQTT / _MQTT_WS; NULL: Paho */
  cp_http_transport *http; /**< used for CP_PROVISION_HTTPS; NULL: libcurl */
} cp_provision_transports;

/**
 * @brief cp_provision() over caller-supplied transports (another MQTT/HTTP
 *        stack, or a scripted one in tests). @p transports may be NULL.
 * @return as cp_provision().
 */
cp_result cp_provision_with(const cp_provision_config *config,
                            const cp_provision_transports *transports,
                            cp_provision_result *result);

#ifdef __cplusplus
}
#endif
#endif
