/**
 * @file hub_trust_core.h
 * @brief The broker's trust source backed by the server core: CAs that
 *        client certificates on the certificate listener may chain to.
 */
#ifndef CERTPILOT_SERVER_HUB_TRUST_CORE_H
#define CERTPILOT_SERVER_HUB_TRUST_CORE_H

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief ::hub_trust_fn over a core service: the hub trust bundle
 *        (cps_hub_trust_bundle_pem(): trusted policy ICAs and their roots)
 *        followed by the certificates of every X.509 enrollment (group CAs,
 *        individual device certificates).
 * @param ctx a `cps_service *` used only from the calling thread (open a
 *            dedicated one for the supervisor).
 * @param pem receives a malloc'd PEM bundle (possibly empty); caller frees.
 * @return 0 on success, -1 on a store or encoding error (logged).
 */
int hub_trust_from_core(void *ctx, char **pem);

#ifdef __cplusplus
}
#endif
#endif
