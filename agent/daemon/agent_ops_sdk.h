/**
 * @file agent_ops_sdk.h
 * @brief The real cpa_ops: certificate checks with the certpilot SDK, hooks with
 *        agent_hook, network through the SDK's blocking provisioning/hub client.
 */
#ifndef CERTPILOT_AGENT_OPS_SDK_H
#define CERTPILOT_AGENT_OPS_SDK_H

#include "agent_engine.h"

/** @brief Fill @p ops for @p cfg. @return CP_OK. */
cp_result cpa_ops_sdk_make(const cpa_config *cfg, cpa_ops *ops);

/** @brief Leaf facts of a PEM chain (also used by `certpilot inspect`). */
cp_result cpa_sdk_facts(void *ctx, const char *chain_pem, size_t chain_len, cpa_cert_facts *out);

#endif
