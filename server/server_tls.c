/* First-start creation of the server CA and the endpoints' TLS certificate. */
#include "server_tls.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cps_pki.h"

static int write_file(const char *path, const char *data, mode_t mode) {
  char tmp[4200];
  snprintf(tmp, sizeof tmp, "%s.tmp", path);
  int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
  if (fd < 0) return -1;
  size_t len = strlen(data), off = 0;
  while (off < len) {
    ssize_t n = write(fd, data + off, len - off);
    if (n <= 0) {
      close(fd);
      unlink(tmp);
      return -1;
    }
    off += (size_t)n;
  }
  if (fsync(fd) != 0 || close(fd) != 0 || rename(tmp, path) != 0) {
    unlink(tmp);
    return -1;
  }
  return 0;
}

int server_tls_ensure(const char *data_dir, const char *hostnames, char *cert_path,
                      char *key_path, char *ca_path, size_t size) {
  char dir[4096], ca_key_path[4200];
  snprintf(dir, sizeof dir, "%s/tls", data_dir);
  if (mkdir(dir, 0700) != 0 && access(dir, W_OK) != 0) {
    fprintf(stderr, "certpilot-server: cannot create %s\n", dir);
    return -1;
  }
  snprintf(cert_path, size, "%s/server.pem", dir);
  snprintf(key_path, size, "%s/server.key", dir);
  snprintf(ca_path, size, "%s/server-ca.pem", dir);
  snprintf(ca_key_path, sizeof ca_key_path, "%s/server-ca.key", dir);
  if (access(cert_path, R_OK) == 0 && access(key_path, R_OK) == 0 && access(ca_path, R_OK) == 0)
    return 0;
  char san[2048] = "DNS:localhost,IP:127.0.0.1,IP:::1";
  if (hostnames && *hostnames) {
    char *copy = strdup(hostnames), *save = NULL;
    for (char *h = strtok_r(copy, ",", &save); h; h = strtok_r(NULL, ",", &save)) {
      if (strlen(san) + strlen(h) + 6 >= sizeof san) break;
      strcat(san, ",DNS:");
      strcat(san, h);
    }
    free(copy);
  }
  EVP_PKEY *ca_key = NULL, *key = NULL;
  X509 *ca = NULL, *leaf = NULL;
  char *ca_pem = NULL, *ca_key_pem = NULL, *leaf_pem = NULL, *key_pem = NULL;
  int rc = -1;
  if (cps_pki_key_generate(&ca_key) == CPS_OK && cps_pki_key_generate(&key) == CPS_OK &&
      cps_pki_root_create(ca_key, "certpilot-server TLS CA", 10L * 365 * 86400, &ca) == CPS_OK &&
      cps_pki_server_cert_issue(ca, ca_key, key, "certpilot-server", san, 5L * 365 * 86400, &leaf) == CPS_OK &&
      cps_pki_cert_to_pem(ca, &ca_pem) == CPS_OK && cps_pki_key_to_pem(ca_key, &ca_key_pem) == CPS_OK &&
      cps_pki_cert_to_pem(leaf, &leaf_pem) == CPS_OK && cps_pki_key_to_pem(key, &key_pem) == CPS_OK) {
    size_t n = strlen(leaf_pem) + strlen(ca_pem) + 1;
    char *chain = malloc(n);
    if (chain) {
      snprintf(chain, n, "%s%s", leaf_pem, ca_pem);
      if (write_file(ca_key_path, ca_key_pem, 0600) == 0 && write_file(key_path, key_pem, 0600) == 0 &&
          write_file(cert_path, chain, 0644) == 0 && write_file(ca_path, ca_pem, 0644) == 0)
        rc = 0;
      free(chain);
    }
  }
  if (rc != 0) fprintf(stderr, "certpilot-server: cannot create TLS files in %s\n", dir);
  if (ca_key_pem) OPENSSL_cleanse(ca_key_pem, strlen(ca_key_pem));
  if (key_pem) OPENSSL_cleanse(key_pem, strlen(key_pem));
  free(ca_pem);
  free(ca_key_pem);
  free(leaf_pem);
  free(key_pem);
  X509_free(ca);
  X509_free(leaf);
  EVP_PKEY_free(ca_key);
  EVP_PKEY_free(key);
  return rc;
}
