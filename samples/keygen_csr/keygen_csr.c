/*
 * keygen_csr: the first certpilot sample.
 *
 *   keygen_csr --registration-id ID [--out-dir DIR]
 *
 * Makes an EC P-384 key and a PKCS#10 CSR (CN = ID, ecdsa-with-SHA384) with
 * the SDK, writes DIR/ID.key.pem (PKCS#8, mode 0600) and DIR/ID.csr.pem,
 * prints the public key, the CSR PEM and the one-line base64 that a DPS
 * registration carries in "csr", then checks the result with the SDK:
 * the CSR's self-signature, key type and CN, that its public key is the
 * key's, and that the key file reads back as the same key.
 * Uses only the public SDK API (the certpilot/ headers).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <certpilot/certpilot.h>

#define PATH_MAX_LEN 4096

static void usage(FILE *to)
{
  fprintf(to, "usage: keygen_csr --registration-id ID [--out-dir DIR]\n"
              "  ID   1-128 characters: letters, digits, '-', '.', '_', ':';\n"
              "       the last one a letter, digit or '-'\n"
              "  DIR  where ID.key.pem (0600) and ID.csr.pem go (default: .)\n");
}

static void log_to_stderr(void *ctx, cp_log_level level, const char *message)
{
  (void)ctx;
  fprintf(stderr, "<%d>certpilot: %s\n", (int)level, message);
}

static int fail(const char *what, cp_result r)
{
  fprintf(stderr, "keygen_csr: %s: %s\n", what, cp_result_str(r));
  return 1;
}

/* Write @p len bytes to @p path with @p mode, replacing any old file. */
static int write_file(const char *path, const char *data, size_t len, mode_t mode)
{
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, mode);
  size_t done = 0;

  if (fd < 0) {
    fprintf(stderr, "keygen_csr: cannot create %s: %s\n", path, strerror(errno));
    return -1;
  }
  /* An existing file keeps its old mode on open(): set it explicitly. */
  if (fchmod(fd, mode) != 0) {
    fprintf(stderr, "keygen_csr: cannot chmod %s: %s\n", path, strerror(errno));
    close(fd);
    return -1;
  }
  while (done < len) {
    ssize_t n = write(fd, data + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      fprintf(stderr, "keygen_csr: cannot write %s: %s\n", path, strerror(errno));
      close(fd);
      return -1;
    }
    done += (size_t)n;
  }
  if (fsync(fd) != 0 || close(fd) != 0) {
    fprintf(stderr, "keygen_csr: cannot save %s: %s\n", path, strerror(errno));
    return -1;
  }
  return 0;
}

static char *read_file(const char *path, size_t *len)
{
  FILE *f = fopen(path, "rb");
  char *buf = NULL;
  long sz;

  if (f == NULL)
    return NULL;
  if (fseek(f, 0, SEEK_END) == 0 && (sz = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
    buf = malloc((size_t)sz + 1);
    if (buf != NULL && fread(buf, 1, (size_t)sz, f) != (size_t)sz) {
      free(buf);
      buf = NULL;
    } else if (buf != NULL) {
      buf[sz] = '\0';
      *len = (size_t)sz;
    }
  }
  fclose(f);
  return buf;
}

int main(int argc, char **argv)
{
  const char *id = NULL, *dir = ".";
  char key_path[PATH_MAX_LEN], csr_path[PATH_MAX_LEN];
  char key_pem[CP_KEY_PEM_MAX], pub_pem[512], csr_pem[2048], csr_b64[2048], *file;
  uint8_t pub[CP_PUBKEY_DER_MAX], csr[CP_CSR_DER_MAX];
  size_t key_pem_len, pub_len, pub_pem_len, csr_len, csr_pem_len, csr_b64_len, file_len;
  cp_key key, reread;
  cp_result r;
  int i, rc = 1;

  for (i = 1; i < argc; i++) {
    if (strcmp(argv[i], "--registration-id") == 0 && i + 1 < argc) {
      id = argv[++i];
    } else if (strcmp(argv[i], "--out-dir") == 0 && i + 1 < argc) {
      dir = argv[++i];
    } else if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
      usage(stdout);
      return 0;
    } else {
      fprintf(stderr, "keygen_csr: unexpected argument \"%s\"\n", argv[i]);
      usage(stderr);
      return 2;
    }
  }
  if (id == NULL) {
    usage(stderr);
    return 2;
  }
  cp_log_set_callback(log_to_stderr, NULL, CP_LOG_WARNING);
  r = cp_registration_id_validate(id);
  if (r != CP_OK)
    return fail("registration id rejected", r);
  if ((size_t)snprintf(key_path, sizeof key_path, "%s/%s.key.pem", dir, id) >= sizeof key_path ||
      (size_t)snprintf(csr_path, sizeof csr_path, "%s/%s.csr.pem", dir, id) >= sizeof csr_path) {
    fprintf(stderr, "keygen_csr: --out-dir is too long\n");
    return 2;
  }

  /* 1. Key pair. */
  r = cp_key_generate_p384(&key);
  if (r != CP_OK)
    return fail("key generation failed", r);
  r = cp_key_to_pem(&key, CP_KEY_FORMAT_PKCS8, key_pem, sizeof key_pem, &key_pem_len);
  if (r != CP_OK) {
    fail("key export failed", r);
    goto out;
  }
  if (write_file(key_path, key_pem, key_pem_len, 0600) != 0)
    goto out;
  r = cp_key_public_der(&key, pub, sizeof pub, &pub_len);
  if (r == CP_OK)
    r = cp_pem_encode("PUBLIC KEY", pub, pub_len, pub_pem, sizeof pub_pem, &pub_pem_len);
  if (r != CP_OK) {
    fail("public key export failed", r);
    goto out;
  }

  /* 2. CSR: DER, PEM, one-line base64. */
  r = cp_csr_build(&key, id, csr, sizeof csr, &csr_len);
  if (r == CP_OK)
    r = cp_csr_to_pem(csr, csr_len, csr_pem, sizeof csr_pem, &csr_pem_len);
  if (r == CP_OK)
    r = cp_csr_to_base64(csr, csr_len, csr_b64, sizeof csr_b64, &csr_b64_len);
  if (r != CP_OK) {
    fail("CSR build failed", r);
    goto out;
  }
  if (write_file(csr_path, csr_pem, csr_pem_len, 0644) != 0)
    goto out;

  printf("registration id: %s\n", id);
  printf("private key:     %s (PKCS#8, mode 0600; not printed)\n", key_path);
  printf("public key (EC P-384, SubjectPublicKeyInfo):\n%s", pub_pem);
  printf("CSR (%zu bytes DER): %s\n%s", csr_len, csr_path, csr_pem);
  printf("CSR one-line base64 (DPS \"csr\" field):\n%s\n", csr_b64);

  /* 3. Check with the SDK. */
  printf("checks:\n");
  r = cp_csr_check(csr, csr_len, &key, id);
  printf("  CSR self-signature, P-384/ecdsa-with-SHA384, CN = \"%s\", key matches: %s\n", id,
         cp_result_str(r));
  if (r != CP_OK)
    goto out;
  file = read_file(key_path, &file_len);
  r = file != NULL ? cp_key_from_pem(&reread, file, file_len) : CP_ERR_IO;
  if (file != NULL) {
    memset(file, 0, file_len);
    free(file);
  }
  if (r == CP_OK)
    r = cp_csr_check(csr, csr_len, &reread, id);
  cp_key_wipe(&reread);
  printf("  key file reads back as the CSR's key: %s\n", cp_result_str(r));
  if (r != CP_OK)
    goto out;
  {
    struct stat st;
    int ok = stat(key_path, &st) == 0 && (st.st_mode & 0777) == 0600;
    printf("  key file mode 0600: %s\n", ok ? "ok" : "NO");
    if (!ok)
      goto out;
  }
  printf("result: OK\n");
  rc = 0;
out:
  memset(key_pem, 0, sizeof key_pem);
  cp_key_wipe(&key);
  return rc;
}
