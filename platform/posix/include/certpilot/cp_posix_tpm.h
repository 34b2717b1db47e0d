/**
 * @file cp_posix_tpm.h
 * @brief TPM port for POSIX on tpm2-tss (ESAPI): implements cp_tpm.h.
 *
 * The TCTI is chosen by a configuration string passed to tpm2-tss's TCTI
 * loader: "device:/dev/tpmrm0" (kernel resource manager, the default),
 * "tabrmd:" (the access broker on D-Bus), or "swtpm:host=127.0.0.1,port=N"
 * (a software TPM; N+1 is its control port). "mssim:" is accepted too.
 *
 * The EK (0x81010001, standard RSA-2048 EK template) and SRK (0x81000001) are
 * reused when persisted and created + persisted otherwise (needs empty owner
 * and endorsement hierarchy authorisation, as on a fresh TPM).
 */
#ifndef CERTPILOT_CP_POSIX_TPM_H
#define CERTPILOT_CP_POSIX_TPM_H

#include <stdint.h>

#include "certpilot/cp_result.h"
#include "certpilot/cp_tpm.h"

#ifdef __cplusplus
extern "C" {
#endif

/** Default TCTI when none is configured. */
#define CP_POSIX_TPM_DEFAULT_TCTI "device:/dev/tpmrm0"

/**
 * @brief Caller-owned TPM context (stack or static storage). Treat as opaque.
 */
typedef struct cp_posix_tpm {
  struct {
    void *tcti;         /* TSS2_TCTI_CONTEXT *, owned */
    void *esys;         /* ESYS_CONTEXT *, owned */
    uint32_t ek;        /* ESYS_TR of the EK, 0 until resolved */
    uint32_t srk;       /* ESYS_TR of the SRK, 0 until resolved */
    uint32_t input_max; /* TPM_PT_INPUT_BUFFER, 0 until read */
  } _internal;
} cp_posix_tpm;

/**
 * @brief Connect to a TPM through the TCTI @p tcti and make sure it is started.
 * @param tpm  caller-owned context; fully initialised on CP_OK, zeroed otherwise.
 * @param tcti "device[:path]", "tabrmd[:conf]", "swtpm[:host=H,port=N]" or
 *             "mssim[:…]"; NULL or "" means CP_POSIX_TPM_DEFAULT_TCTI. Borrowed.
 * @return CP_OK; CP_ERR_INVALID_ARG (tpm NULL); CP_ERR_CONFIG (unknown TCTI
 *         name, or a string longer than 255 characters); CP_ERR_TPM (TCTI
 *         cannot be loaded or the TPM is unreachable / not answering; the log
 *         says which).
 */
cp_result cp_posix_tpm_open(cp_posix_tpm *tpm, const char *tcti);

/** @brief Release the TPM connection. Safe on a zeroed or closed context. */
void cp_posix_tpm_close(cp_posix_tpm *tpm);

/**
 * @brief Fill @p out so the SDK can use @p tpm through cp_tpm.h.
 *        @p out borrows @p tpm: keep it open while @p out is used.
 * @return CP_OK; CP_ERR_INVALID_ARG (NULL pointer, or tpm not open).
 */
cp_result cp_posix_tpm_interface(cp_posix_tpm *tpm, cp_tpm *out);

/**
 * @brief Whether an identity key is persisted at CP_TPM_IDENTITY_HANDLE.
 * @param[out] present 1 or 0.
 * @return CP_OK; CP_ERR_INVALID_ARG; CP_ERR_TPM.
 */
cp_result cp_posix_tpm_has_identity(cp_posix_tpm *tpm, int *present);

#ifdef __cplusplus
}
#endif
#endif
