/* Trust bundle for the broker's certificate listener, read from the core. */
#include "hub_trust_core.h"

#include <openssl/x509.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cps_hub.h"
#include "cps_pki.h"
#include "cps_service.h"
#include "cps_store.h"

static int append(char **buf, size_t *len, const char *s) {
  size_t n = strlen(s);
  char *nb = realloc(*buf, *len + n + 1);
  if (!nb) return -1;
  memcpy(nb + *len, s, n + 1);
  *buf = nb;
  *len += n;
  return 0;
}

int hub_trust_from_core(void *ctx, char **pem) {
  cps_service *svc = ctx;
  if (!svc || !pem) return -1;
  char *out = NULL;
  size_t len = 0;
  char *bundle = NULL;
  if (cps_hub_trust_bundle_pem(svc, &bundle) != CPS_OK) {
    fprintf(stderr, "<3>certpilot-server: broker: cannot read the hub trust bundle\n");
    return -1;
  }
  int rc = append(&out, &len, bundle ? bundle : "");
  free(bundle);
  if (rc != 0) goto fail;
  sqlite3 *db = cps_store_db(cps_service_store(svc));
  sqlite3_stmt *st = NULL;
  if (sqlite3_prepare_v2(db,
                         "SELECT x509_cert FROM enrollment WHERE x509=1 AND x509_cert IS NOT NULL",
                         -1, &st, NULL) != SQLITE_OK) {
    fprintf(stderr, "<3>certpilot-server: broker: cannot list X.509 enrollments: %s\n",
            sqlite3_errmsg(db));
    goto fail;
  }
  int step;
  while ((step = sqlite3_step(st)) == SQLITE_ROW) {
    const unsigned char *der = sqlite3_column_blob(st, 0);
    int n = sqlite3_column_bytes(st, 0);
    X509 *x = NULL;
    char *p = NULL;
    if (!der || n <= 0 || cps_pki_cert_from_der(der, (size_t)n, &x) != CPS_OK) continue;
    rc = cps_pki_cert_to_pem(x, &p) == CPS_OK ? append(&out, &len, p) : -1;
    free(p);
    X509_free(x);
    if (rc != 0) {
      sqlite3_finalize(st);
      goto fail;
    }
  }
  sqlite3_finalize(st);
  if (step != SQLITE_DONE) goto fail;
  if (!out && append(&out, &len, "") != 0) goto fail;
  *pem = out;
  return 0;
fail:
  free(out);
  return -1;
}
