/* Check an issued certificate chain before use (protocol.md §13.3). */
#include "certpilot/cp_encoding.h"
#include "certpilot/cp_protocol.h"
#include "certpilot/cp_provisioning.h"
#include "certpilot/cp_x509.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define FIELD "issuedCertificateChain"

/* Scratch for the decoded chain: kept off the stack (about 17 KB). */
typedef struct chain_work {
  uint8_t der[CP_PROV_CHAIN_MAX][CP_CERT_DER_MAX];
  cp_der chain[CP_PROV_CHAIN_MAX];
  cp_cert_info info;
} chain_work;

static cp_result fail(cp_error_detail *d, cp_result r, size_t index, const char *what)
{
  char field[CP_ERROR_FIELD_MAX];

  snprintf(field, sizeof field, FIELD "[%zu]", index);
  cp_error_detail_set(d, field, "issued chain element %zu: %s (%s)", index, what,
                      cp_result_str(r));
  return r;
}

static cp_result check(const cp_prov_response *resp, const cp_key *key, const char *reg_id,
                       const cp_der *anchor, int64_t now, chain_work *w, cp_error_detail *d)
{
  size_t n = resp->chain_len, i, len, failed = 0;
  cp_der root;
  cp_result r;

  if (n < 2 || n > CP_PROV_CHAIN_MAX) {
    cp_error_detail_set(d, FIELD, "issued chain has %zu elements, expected 2..%d", n,
                        CP_PROV_CHAIN_MAX);
    return CP_ERR_CHAIN_INVALID;
  }
  for (i = 0; i < n; i++) {
    r = cp_base64_decode(resp->chain_b64[i], strlen(resp->chain_b64[i]), w->der[i],
                         sizeof w->der[i], &len);
    if (r != CP_OK)
      return fail(d, r == CP_ERR_BUFFER_TOO_SMALL ? CP_ERR_PARSE : r, i, "not base64 DER");
    w->chain[i].data = w->der[i];
    w->chain[i].len = len;
  }
  r = cp_cert_parse(w->chain[0].data, w->chain[0].len, &w->info);
  if (r != CP_OK)
    return fail(d, r, 0, "leaf does not parse as a certificate");
  if (strcmp(w->info.subject_cn, reg_id) != 0) {
    cp_error_detail_set(d, FIELD "[0]", "leaf CN \"%s\" is not the registration id \"%s\"",
                        w->info.subject_cn, reg_id);
    return CP_ERR_NAME_MISMATCH;
  }
  if (w->info.not_after <= w->info.not_before)
    return fail(d, CP_ERR_CHAIN_INVALID, 0, "leaf notAfter is not after notBefore");
  r = cp_cert_matches_key(w->chain[0].data, w->chain[0].len, key);
  if (r != CP_OK)
    return fail(d, r, 0, "leaf public key is not the key of our CSR");
  root = anchor != NULL ? *anchor : w->chain[n - 1];
  r = cp_chain_verify(w->chain, n, root, now, &failed);
  if (r != CP_OK) {
    if (failed >= n) {
      cp_error_detail_set(d, FIELD, "issued chain does not lead to the %s (%s)",
                          anchor != NULL ? "configured trust anchor" : "self-signed root",
                          cp_result_str(r));
      return r;
    }
    return fail(d, r, failed, "chain verification failed");
  }
  return CP_OK;
}

cp_result cp_prov_chain_check(const cp_prov_response *response, const cp_key *key,
                              const char *registration_id, const cp_der *anchor,
                              int64_t now, char *pem, size_t pem_size, size_t *pem_len,
                              cp_error_detail *detail)
{
  const char *b64[CP_PROV_CHAIN_MAX];
  size_t i, failed = 0;
  chain_work *w;
  cp_result r;

  if (response == NULL || key == NULL || registration_id == NULL || pem == NULL ||
      pem_len == NULL)
    return CP_ERR_INVALID_ARG;
  w = malloc(sizeof *w);
  if (w == NULL)
    return CP_ERR_NO_MEMORY;
  r = check(response, key, registration_id, anchor, now, w, detail);
  free(w);
  if (r != CP_OK)
    return r;
  for (i = 0; i < response->chain_len; i++)
    b64[i] = response->chain_b64[i];
  r = cp_chain_b64_to_pem(b64, response->chain_len, pem, pem_size, pem_len, &failed);
  if (r == CP_ERR_PARSE)
    return fail(detail, r, failed, "does not convert to PEM");
  return r;
}
