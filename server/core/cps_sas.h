/**
 * @file cps_sas.h
 * @brief Verification of DPS SAS tokens (protocol.md §4), constant-time.
 */
#ifndef CPS_SAS_H
#define CPS_SAS_H

#include <stddef.h>
#include <time.h>

#include "cps_result.h"

/** Parsed fields of a `SharedAccessSignature sr=…&sig=…&se=…&skn=…` token (copies). */
typedef struct cps_sas_token {
  char sr[512];   /**< sr exactly as sent (URL-encoded) */
  char sig[128];  /**< sig, URL-decoded (base64) */
  long long se;   /**< expiry, seconds since the epoch */
  char se_str[24]; /**< expiry exactly as sent (it is part of the signed string) */
  char skn[64];   /**< key name, URL-decoded (may be empty) */
} cps_sas_token;

/**
 * @brief Parse an Authorization value / MQTT password.
 * @return CPS_OK or CPS_ERR_UNAUTHORIZED (malformed: missing prefix or field, bad number).
 */
cps_result cps_sas_parse(const char *token, cps_sas_token *out, cps_error *err);

/**
 * @brief Derive a group-enrollment device key:
 *        base64(HMAC-SHA256(base64decode(group_key_b64), registration_id)).
 * @param out receives the base64 key (at least 45 bytes).
 * @return CPS_OK, CPS_ERR_INVALID (group key not base64), CPS_ERR_CRYPTO.
 */
cps_result cps_sas_derive_device_key(const char *group_key_b64, const char *registration_id,
                                     char *out, size_t out_size);

/**
 * @brief Verify @p token for {id_scope}/registrations/{registration_id} with the base64
 *        device key @p key_b64 at time @p now:
 *        sr decodes (case-insensitively for %xx) to that resource URI, se > now and
 *        se <= now + max_lifetime_s, and sig == base64(HMAC-SHA256(key, sr + "\n" + se))
 *        compared in constant time.
 * @return CPS_OK or CPS_ERR_UNAUTHORIZED with the failed check in @p err
 *         ("sas: expired", "sas: sr does not match", "sas: signature mismatch", …).
 */
cps_result cps_sas_verify(const cps_sas_token *token, const char *id_scope,
                          const char *registration_id, const char *key_b64, time_t now,
                          long max_lifetime_s, cps_error *err);

/**
 * @brief Build a token (test and tool helper): sr uses the SDK encoding (`%2f`).
 * @param out receives "SharedAccessSignature sr=…&sig=…&se=…&skn=registration".
 */
cps_result cps_sas_build(const char *id_scope, const char *registration_id, const char *key_b64,
                         long long expiry, char *out, size_t out_size);

#endif
