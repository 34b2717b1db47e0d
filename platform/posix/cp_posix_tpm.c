/* tpm2-tss port: open/close, TCTI selection, error mapping (cp_posix_tpm.h). */
#include "cp_posix_tpm_internal.h"

#include <string.h>
#include <tss2/tss2_rc.h>
#include <tss2/tss2_tctildr.h>

#include "certpilot/cp_log.h"

static const cp_tpm_ops posix_tpm_ops = {
  cp_posix_tpm__get_public,
  cp_posix_tpm__import_identity,
  cp_posix_tpm__hmac_sha256,
};

cp_result cp_posix_tpm__fail(const char *what, TSS2_RC rc)
{
  cp_log(CP_LOG_ERROR, "tpm: %s: %s", what, Tss2_RC_Decode(rc));
  return CP_ERR_TPM;
}

int cp_posix_tpm__rc_is_handle(TSS2_RC rc)
{
  TSS2_RC base = rc & 0xFFFFu; /* strip the layer */

  return (base & TPM2_RC_FMT1) != 0 && (base & 0xBFu) == TPM2_RC_HANDLE;
}

cp_result cp_posix_tpm__persistent(cp_posix_tpm *t, TPM2_HANDLE handle,
                                   ESYS_TR *out)
{
  TPMS_CAPABILITY_DATA *cap = NULL;
  int present;
  TSS2_RC rc;

  /* Ask first, so a missing handle is not an error logged by tpm2-tss. */
  rc = Esys_GetCapability(TPM_ESYS(t), ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                          TPM2_CAP_HANDLES, handle, 1, NULL, &cap);
  if (rc != TSS2_RC_SUCCESS)
    return cp_posix_tpm__fail("GetCapability(HANDLES)", rc);
  present = cap->data.handles.count >= 1 && cap->data.handles.handle[0] == handle;
  Esys_Free(cap);
  if (!present)
    return CP_ERR_NOT_FOUND;
  rc = Esys_TR_FromTPMPublic(TPM_ESYS(t), handle, ESYS_TR_NONE, ESYS_TR_NONE,
                             ESYS_TR_NONE, out);
  if (rc == TSS2_RC_SUCCESS)
    return CP_OK;
  if (cp_posix_tpm__rc_is_handle(rc))
    return CP_ERR_NOT_FOUND;
  return cp_posix_tpm__fail("reading a persistent handle", rc);
}

/* Only the TCTIs this port documents; anything else is a config mistake. */
static int tcti_name_known(const char *conf)
{
  static const char *const names[] = {"device", "tabrmd", "swtpm", "mssim"};
  size_t n = strcspn(conf, ":");

  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strlen(names[i]) == n && strncmp(conf, names[i], n) == 0)
      return 1;
  return 0;
}

static TSS2_RC probe(ESYS_CONTEXT *esys)
{
  TPMS_CAPABILITY_DATA *cap = NULL;
  TSS2_RC rc = Esys_GetCapability(esys, ESYS_TR_NONE, ESYS_TR_NONE, ESYS_TR_NONE,
                                  TPM2_CAP_TPM_PROPERTIES, TPM2_PT_MANUFACTURER, 1, NULL,
                                  &cap);

  Esys_Free(cap);
  return rc;
}

cp_result cp_posix_tpm_open(cp_posix_tpm *tpm, const char *tcti)
{
  TSS2_TCTI_CONTEXT *tctx = NULL;
  ESYS_CONTEXT *esys = NULL;
  TSS2_RC rc;

  if (tpm == NULL)
    return CP_ERR_INVALID_ARG;
  memset(tpm, 0, sizeof *tpm);
  if (tcti == NULL || tcti[0] == '\0')
    tcti = CP_POSIX_TPM_DEFAULT_TCTI;
  if (strlen(tcti) > 255 || !tcti_name_known(tcti)) {
    cp_log(CP_LOG_ERROR,
           "tpm: tcti '%.64s' is not device:, tabrmd:, swtpm: or mssim:", tcti);
    return CP_ERR_CONFIG;
  }
  rc = Tss2_TctiLdr_Initialize(tcti, &tctx);
  if (rc != TSS2_RC_SUCCESS) {
    cp_log(CP_LOG_ERROR, "tpm: TPM unreachable through tcti '%s': %s", tcti,
           Tss2_RC_Decode(rc));
    return CP_ERR_TPM;
  }
  rc = Esys_Initialize(&esys, tctx, NULL);
  if (rc != TSS2_RC_SUCCESS) {
    Tss2_TctiLdr_Finalize(&tctx);
    cp_log(CP_LOG_ERROR, "tpm: ESAPI init on tcti '%s': %s", tcti,
           Tss2_RC_Decode(rc));
    return CP_ERR_TPM;
  }
  /* Probe with a harmless command. A real TPM is started by firmware; a bare
   * simulator answers TPM_RC_INITIALIZE until TPM2_Startup. */
  rc = probe(esys);
  if ((rc & 0xFFFFu) == TPM2_RC_INITIALIZE) {
    rc = Esys_Startup(esys, TPM2_SU_CLEAR);
    if (rc == TSS2_RC_SUCCESS)
      rc = probe(esys);
  }
  if (rc != TSS2_RC_SUCCESS) {
    Esys_Finalize(&esys);
    Tss2_TctiLdr_Finalize(&tctx);
    cp_log(CP_LOG_ERROR, "tpm: TPM unreachable or not answering on tcti '%s': %s",
           tcti, Tss2_RC_Decode(rc));
    return CP_ERR_TPM;
  }
  tpm->_internal.tcti = tctx;
  tpm->_internal.esys = esys;
  return CP_OK;
}

void cp_posix_tpm_close(cp_posix_tpm *tpm)
{
  ESYS_CONTEXT *esys;
  TSS2_TCTI_CONTEXT *tctx;

  if (tpm == NULL)
    return;
  esys = tpm->_internal.esys;
  tctx = tpm->_internal.tcti;
  if (esys != NULL)
    Esys_Finalize(&esys);
  if (tctx != NULL)
    Tss2_TctiLdr_Finalize(&tctx);
  memset(tpm, 0, sizeof *tpm);
}

cp_result cp_posix_tpm_interface(cp_posix_tpm *tpm, cp_tpm *out)
{
  if (tpm == NULL || out == NULL || tpm->_internal.esys == NULL)
    return CP_ERR_INVALID_ARG;
  out->ops = &posix_tpm_ops;
  out->ctx = tpm;
  return CP_OK;
}

cp_result cp_posix_tpm_has_identity(cp_posix_tpm *tpm, int *present)
{
  ESYS_TR tr;
  cp_result r;

  if (tpm == NULL || present == NULL || tpm->_internal.esys == NULL)
    return CP_ERR_INVALID_ARG;
  r = cp_posix_tpm__persistent(tpm, CP_TPM_IDENTITY_HANDLE, &tr);
  if (r == CP_ERR_NOT_FOUND) {
    *present = 0;
    return CP_OK;
  }
  if (r != CP_OK)
    return r;
  Esys_TR_Close(TPM_ESYS(tpm), &tr);
  *present = 1;
  return CP_OK;
}
