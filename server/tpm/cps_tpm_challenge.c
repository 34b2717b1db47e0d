/* Assemble the DPS authenticationKey (protocol.md §5 step 4) for an EK/SRK. */
#include "cps_tpm_internal.h"

#include <openssl/crypto.h>
#include <openssl/rand.h>
#include <stdlib.h>
#include <string.h>
#include <tss2/tss2_mu.h>

/* Everything the blob holds, marshalled in wire order. */
typedef struct challenge_parts {
  TPM2B_ID_OBJECT credential;
  TPM2B_ENCRYPTED_SECRET secret;
  TPM2B_PRIVATE dup;
  TPM2B_ENCRYPTED_SECRET enc_wrap_key;
  TPM2B_PUBLIC id_pub;
} challenge_parts;

static cps_tpm_result marshal(const challenge_parts *p, uint8_t **out,
                              size_t *out_len)
{
  size_t cap = sizeof *p + 2, off = 0;
  uint8_t *buf = malloc(cap);
  UINT16 none = 0;
  TSS2_RC rc;

  if (buf == NULL)
    return CPS_TPM_ERR_NOMEM;
  rc = Tss2_MU_TPM2B_ID_OBJECT_Marshal(&p->credential, buf, cap, &off);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&p->secret, buf, cap, &off);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_PRIVATE_Marshal(&p->dup, buf, cap, &off);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_ENCRYPTED_SECRET_Marshal(&p->enc_wrap_key, buf, cap, &off);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_TPM2B_PUBLIC_Marshal(&p->id_pub, buf, cap, &off);
  if (rc == TSS2_RC_SUCCESS)
    rc = Tss2_MU_UINT16_Marshal(none, buf, cap, &off); /* no encrypted data */
  if (rc != TSS2_RC_SUCCESS) {
    free(buf);
    return CPS_TPM_ERR_CRYPTO;
  }
  *out = buf;
  *out_len = off;
  return CPS_TPM_OK;
}

static char *base64(const uint8_t *in, size_t len)
{
  char *out = malloc(4 * ((len + 2) / 3) + 1);

  if (out != NULL && len <= 0x7FFFFFFF)
    EVP_EncodeBlock((unsigned char *)out, in, (int)len);
  return out;
}

cps_tpm_result cps_tpm_challenge_build(const uint8_t *ek_pub, size_t ek_len,
                                       const uint8_t *srk_pub, size_t srk_len,
                                       cps_tpm_challenge *out, cps_tpm_error *err)
{
  TPM2B_PUBLIC ek, srk;
  TPM2B_NAME srk_name;
  challenge_parts *parts = NULL;
  uint8_t inner_key[16];
  cps_tpm_result r;

  if (err != NULL)
    err->msg[0] = '\0';
  if (out == NULL)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID, "tpm: no output");
  memset(out, 0, sizeof *out);
  r = cps_tpm__parse_storage_key(ek_pub, ek_len, "endorsementKey", &ek, err);
  if (r == CPS_TPM_OK)
    r = cps_tpm__parse_storage_key(srk_pub, srk_len, "storageRootKey", &srk, err);
  if (r != CPS_TPM_OK)
    return r;
  if (memcmp(ek.publicArea.unique.rsa.buffer, srk.publicArea.unique.rsa.buffer,
             256) == 0)
    return cps_tpm__fail(err, CPS_TPM_ERR_INVALID,
                         "tpm: endorsementKey and storageRootKey are the same key");
  parts = calloc(1, sizeof *parts);
  if (parts == NULL)
    return cps_tpm__fail(err, CPS_TPM_ERR_NOMEM, "tpm: out of memory");
  r = cps_tpm__name(&srk.publicArea, &srk_name);
  if (r == CPS_TPM_OK && (RAND_bytes(out->identity_key, CPS_TPM_IDENTITY_KEY_LEN) != 1 ||
                          RAND_bytes(inner_key, sizeof inner_key) != 1))
    r = CPS_TPM_ERR_CRYPTO;
  /* The credential is the inner wrap key; the SRK is the activation object. */
  if (r == CPS_TPM_OK)
    r = cps_tpm__make_credential(&ek.publicArea, inner_key, sizeof inner_key,
                                 &srk_name, &parts->credential, &parts->secret, err);
  if (r == CPS_TPM_OK)
    r = cps_tpm__duplicate_hmac_key(&srk.publicArea, out->identity_key, inner_key,
                                    &parts->id_pub, &parts->dup,
                                    &parts->enc_wrap_key, err);
  if (r == CPS_TPM_OK)
    r = marshal(parts, &out->blob, &out->blob_len);
  if (r == CPS_TPM_OK && (out->blob_b64 = base64(out->blob, out->blob_len)) == NULL)
    r = CPS_TPM_ERR_NOMEM;
  OPENSSL_cleanse(inner_key, sizeof inner_key);
  OPENSSL_cleanse(parts, sizeof *parts);
  free(parts);
  if (r != CPS_TPM_OK) {
    cps_tpm_challenge_free(out);
    if (err != NULL && err->msg[0] == '\0')
      cps_tpm__fail(err, r, "tpm: building the challenge failed (%s)",
                    cps_tpm_result_str(r));
  }
  return r;
}

void cps_tpm_challenge_free(cps_tpm_challenge *c)
{
  if (c == NULL)
    return;
  free(c->blob);
  free(c->blob_b64);
  OPENSSL_cleanse(c, sizeof *c);
}
