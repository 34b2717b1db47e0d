/**
 * @file agent_engine.h
 * @brief certpilotd's decision logic: when to provision, renew or re-onboard,
 *        how to react to each failure, when to commit. All network and crypto
 *        work goes through the small cpa_ops interface, so the logic is unit-
 *        tested with fakes and a fake clock; the daemon plugs in the SDK.
 */
#ifndef CERTPILOT_AGENT_ENGINE_H
#define CERTPILOT_AGENT_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "agent_config.h"
#include "agent_schedule.h"
#include "agent_state.h"
#include "certpilot/cp_result.h"

#define CPA_MSG_MAX 256
#define CPA_HUB_MAX 256

/** What the agent knows about a leaf certificate. */
typedef struct cpa_cert_facts {
  int64_t not_before;
  int64_t not_after;
  char serial_hex[65];
  char thumbprint_sha256[65];
  char issuer[512];
  char subject_cn[129];
} cpa_cert_facts;

/** The reported twin `certificate` object (protocol.md §13.7). */
typedef struct cpa_twin_report {
  cpa_cert_facts cert;
  int64_t renewed_at;
  uint32_t renewal_count;
  const char *last_error; /**< NULL: "lastError": null */
} cpa_twin_report;

/** Outcome of a provisioning call. */
typedef struct cpa_issue_result {
  char device_id[CPA_ID_MAX];
  char assigned_hub[CPA_HUB_MAX];
  int64_t retry_after; /**< seconds the server asked to wait; 0 = none */
  char message[CPA_MSG_MAX]; /**< detail on failure (never secrets) */
} cpa_issue_result;

/**
 * The network and crypto steps. Every function returns a cp_result; detail goes
 * in the message buffers. ctx is passed back unchanged.
 */
typedef struct cpa_ops {
  void *ctx;
  /** Provision with the onboarding credential, a fresh key and CSR; on CP_OK
   *  fills gen->key_pem/chain_pem and out->device_id/assigned_hub. CP_ERR_DISABLED
   *  for a "disabled" answer; CP_ERR_REFUSED / CP_ERR_UNAUTHORIZED for refusals. */
  cp_result (*provision)(void *ctx, const cpa_config *cfg, cpa_generation *gen,
                         cpa_issue_result *out);
  /** Does the key belong to the chain's leaf? (used when loading the state dir) */
  cpa_pair_check_fn match;
  /** Check a key + chain at @p now before use (key match, CN, signatures, dates, anchor). */
  cp_result (*verify)(void *ctx, const cpa_config *cfg, const cpa_generation *gen, int64_t now,
                      char *msg, size_t msg_size);
  /** Facts of the chain's leaf. */
  cp_result (*facts)(void *ctx, const char *chain_pem, size_t chain_len, cpa_cert_facts *out);
  /** Connect to the hub with @p gen's key + chain, report @p report (NULL: none),
   *  disconnect. CP_ERR_UNAUTHORIZED / CP_ERR_REFUSED / CP_ERR_TLS when the hub
   *  refuses the certificate; CP_ERR_TRANSPORT / CP_ERR_TIMEOUT when unreachable. */
  cp_result (*hub_report)(void *ctx, const cpa_config *cfg, const char *hub, const char *device_id,
                          const cpa_generation *gen, const cpa_twin_report *report, char *msg,
                          size_t msg_size);
  /** Run the post-renewal hook for the new current generation; @p result gets a
   *  one-word outcome ("ok", "exit 3", "timeout", …). NULL: no hooks. */
  void (*run_hook)(void *ctx, const cpa_config *cfg, const char *device_id,
                   const cpa_generation *gen, const cpa_cert_facts *facts, char *result,
                   size_t result_size);
  /** Wall clock, seconds (fake in tests). */
  int64_t (*now)(void *ctx);
  /** Uniform [0,1) (fixed in tests). */
  double (*rand01)(void *ctx);
  /** True when SIGTERM is pending: abandon before switching generations. */
  bool (*stop_requested)(void *ctx);
} cpa_ops;

/** High-level state shown in status and STATUS=. */
typedef enum cpa_run_state {
  CPA_RUN_STARTING = 0,
  CPA_RUN_NO_CERT,        /**< nothing issued yet; provisioning */
  CPA_RUN_VALID,          /**< waiting for the renewal time */
  CPA_RUN_BACKOFF,        /**< last attempt failed; waiting to retry */
  CPA_RUN_DISABLED,       /**< server said disabled; long back-off */
  CPA_RUN_CLOCK_SUSPECT,  /**< wall clock before build time / notBefore */
  CPA_RUN_STOPPED,
} cpa_run_state;

/** @brief "starting", "no-certificate", "valid", "backoff", "disabled", "clock-suspect", "stopped". */
const char *cpa_run_state_name(cpa_run_state s);

/** The engine. Caller-owned; init with cpa_engine_init(), free with cpa_engine_free(). */
typedef struct cpa_engine {
  const cpa_config *cfg;
  cpa_ops ops;
  int64_t build_time;
  cpa_run_state state;
  bool have_cert;
  cpa_generation *cur;     /**< heap: the current generation */
  cpa_generation *work;    /**< heap: scratch for a new one */
  cpa_cert_facts facts;
  char device_id[CPA_ID_MAX];
  char assigned_hub[CPA_HUB_MAX];
  int64_t renew_at;
  int64_t next_attempt;    /**< absolute time of the next action */
  int attempt;             /**< failures in this episode */
  bool reonboard;          /**< the hub refused the current certificate */
  bool report_pending;     /**< committed but the twin report did not get through */
  uint32_t renewal_count;  /**< issuances so far (persisted in meta.json) */
  uint64_t failure_count;  /**< since start */
  int64_t last_success;
  int64_t last_attempt;
  int64_t renewed_at;
  char last_error[CPA_MSG_MAX]; /**< "" when the last attempt succeeded */
  char hook_result[64];         /**< "" when no hook has run */
  char hook_generation[CPA_GEN_NAME_MAX]; /**< generation the hook last ran for */
} cpa_engine;

/**
 * @brief Set up @p e. @p cfg and the ops' ctx must outlive the engine.
 * @return CP_OK; CP_ERR_NO_MEMORY.
 */
cp_result cpa_engine_init(cpa_engine *e, const cpa_config *cfg, const cpa_ops *ops,
                          int64_t build_time);

/** @brief Release the engine's buffers (wipes key material). */
void cpa_engine_free(cpa_engine *e);

/**
 * @brief Load the state directory (current generation, else previous, else the
 *        newest that verifies), compute the renewal time, and, when twin
 *        reporting is on, report at start. A refusal by the hub marks the
 *        certificate for re-onboarding.
 * @return CP_OK (with or without a certificate); CP_ERR_IO.
 */
cp_result cpa_engine_start(cpa_engine *e, char *err, size_t err_size);

/**
 * @brief Renewal time of the current certificate: start + fraction × (notAfter − start)
 *        ± jitter, where start is notBefore, or the time the certificate was
 *        received when that is later (issuers backdate notBefore).
 */
int64_t cpa_engine_renewal_time(const cpa_engine *e);

/**
 * @brief Do what is due at the current time: provision when there is no
 *        certificate, renew in the window or when @p force, re-onboard when the
 *        hub refused the certificate, retry after failures; otherwise nothing.
 * @return the absolute time (seconds) at which to call again.
 */
int64_t cpa_engine_step(cpa_engine *e, bool force);

#endif
