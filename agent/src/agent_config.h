/**
 * @file agent_config.h
 * @brief certpilotd configuration: the INI file, its defaults and checks.
 *
 * Every key is described in docs/agent.md. Parsing is strict: an unknown
 * section or key, a repeated key or a bad value fails with "file:line: [section] key: problem".
 */
#ifndef CERTPILOT_AGENT_CONFIG_H
#define CERTPILOT_AGENT_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "certpilot/cp_result.h"

#define CPA_PATH_MAX 1024
#define CPA_HOST_MAX 256
#define CPA_ID_MAX 129
#define CPA_CMD_MAX 2048

/** Default configuration file. */
#define CPA_DEFAULT_CONFIG "/etc/certpilot/certpilotd.conf"

/** Provisioning transport. */
typedef enum cpa_transport {
  CPA_TRANSPORT_MQTT = 0,
  CPA_TRANSPORT_MQTT_WS = 1,
  CPA_TRANSPORT_HTTPS = 2,
} cpa_transport;

/** Onboarding credential kind. */
typedef enum cpa_onboarding {
  CPA_ONBOARDING_SYMMETRIC_KEY = 0,
  CPA_ONBOARDING_X509 = 1,
  CPA_ONBOARDING_TPM = 2,
} cpa_onboarding;

/** The whole configuration; plain data, caller-owned. */
typedef struct cpa_config {
  /* [provisioning] */
  char endpoint[CPA_HOST_MAX];      /**< host name of the provisioning service */
  int port;                         /**< 0: transport default (8883, 443, 443) */
  char id_scope[CPA_ID_MAX];
  char registration_id[CPA_ID_MAX];
  cpa_transport transport;
  char trust_bundle[CPA_PATH_MAX];  /**< CA bundle for TLS server verification */
  char chain_anchor[CPA_PATH_MAX];  /**< root the issued chain must lead to; "" = its own last element */
  int64_t timeout;                  /**< seconds per provisioning / hub operation */
  /* [hub] */
  int hub_port;                     /**< 0: from the assigned hub, else the transport default */
  int hub_transport;                /**< 0: follow [provisioning] transport (https → mqtt);
                                         else CPA_TRANSPORT_MQTT + 1 or CPA_TRANSPORT_MQTT_WS + 1 */
  /* [onboarding] */
  cpa_onboarding onboarding;
  char symmetric_key_file[CPA_PATH_MAX];
  bool symmetric_key_is_group;
  char cert_file[CPA_PATH_MAX];
  char key_file[CPA_PATH_MAX];
  char tpm_tcti[CPA_PATH_MAX];
  /* [renewal] */
  double renewal_fraction;          /**< of the lifetime; default 2/3 */
  double jitter_fraction;           /**< ± of the lifetime, per device */
  int64_t backoff_initial;          /**< seconds */
  int64_t backoff_max;              /**< seconds */
  double backoff_time_left_fraction;/**< a retry never waits more than this share of the time left */
  int64_t disabled_backoff;         /**< seconds to wait after a "disabled" answer */
  /* [paths] */
  char state_dir[CPA_PATH_MAX];
  char run_dir[CPA_PATH_MAX];
  char metrics_file[CPA_PATH_MAX];  /**< Prometheus textfile; "" = off */
  /* [hooks] */
  char post_renewal[CPA_CMD_MAX];   /**< run with /bin/sh -c; "" = none */
  int64_t hook_timeout;             /**< seconds */
  /* [twin] */
  bool twin_report;
  /* [log] */
  int log_level;                    /**< syslog priority 3..7 */
} cpa_config;

/** @brief Fill @p cfg with the documented defaults (required keys empty). */
void cpa_config_defaults(cpa_config *cfg);

/**
 * @brief Parse INI text @p text (named @p file in messages) over the defaults.
 * @param[out] err on failure: "file:line: [section] key: problem", NUL-terminated.
 * @return CP_OK; CP_ERR_CONFIG (cfg untouched); CP_ERR_INVALID_ARG.
 */
cp_result cpa_config_parse_string(const char *text, const char *file, cpa_config *cfg,
                                  char *err, size_t err_size);

/**
 * @brief Read and parse the file @p path. As cpa_config_parse_string(); CP_ERR_IO
 *        when the file cannot be read.
 */
cp_result cpa_config_load(const char *path, cpa_config *cfg, char *err, size_t err_size);

/** @brief Name of a transport ("mqtt", "mqtt-ws", "https"). */
const char *cpa_transport_name(cpa_transport t);
/** @brief Name of an onboarding kind ("symmetric-key", "x509", "tpm"). */
const char *cpa_onboarding_name(cpa_onboarding o);

#endif
