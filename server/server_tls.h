/**
 * @file server_tls.h
 * @brief First-start TLS material of certpilot-server's own endpoints.
 *
 * Files under `<data-dir>/tls/`: `server-ca.pem` (the trust bundle clients must trust; a
 * dedicated server CA, separate from every namespace CA), `server-ca.key`, `server.pem`
 * (server leaf + server CA) and `server.key`. Keys are 0600. Existing files are kept.
 */
#ifndef CERTPILOT_SERVER_TLS_H
#define CERTPILOT_SERVER_TLS_H

#include <stddef.h>

/**
 * @brief Create the TLS files when missing. The server leaf gets SANs DNS:localhost,
 *        IP:127.0.0.1, IP:::1 plus each name of comma-separated @p hostnames.
 * @param cert_path/key_path/ca_path receive the file paths (each @p size bytes).
 * @return 0 or -1 (error printed).
 */
int server_tls_ensure(const char *data_dir, const char *hostnames, char *cert_path,
                      char *key_path, char *ca_path, size_t size);

#endif
