/* Small helpers shared by the samples. */
#include "sample_common.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "certpilot/cp_key.h"
#include "certpilot/cp_log.h"

bool sample_parse_transport(const char *s, cp_provision_transport *out)
{
  if (strcmp(s, "mqtt") == 0)
    *out = CP_PROVISION_MQTT;
  else if (strcmp(s, "wss") == 0)
    *out = CP_PROVISION_MQTT_WS;
  else if (strcmp(s, "https") == 0)
    *out = CP_PROVISION_HTTPS;
  else
    return false;
  return true;
}

bool sample_write_file(const char *path, const char *text, unsigned mode)
{
  size_t len = strlen(text), done = 0;
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);

  if (fd < 0 || fchmod(fd, mode) != 0) {
    fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
    if (fd >= 0)
      close(fd);
    return false;
  }
  while (done < len) {
    ssize_t n = write(fd, text + done, len - done);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0) {
      fprintf(stderr, "cannot write %s: %s\n", path, strerror(errno));
      close(fd);
      return false;
    }
    done += (size_t)n;
  }
  return close(fd) == 0;
}

bool sample_save_result(const cp_provision_result *res, const char *dir)
{
  char path[1024], key_pem[CP_KEY_PEM_MAX];
  size_t len;
  bool ok;

  printf("assigned: device id %s on hub %s (%u requests)\n", res->device_id, res->assigned_hub,
         (unsigned)res->requests);
  snprintf(path, sizeof path, "%s/%s.chain.pem", dir, res->registration_id);
  if (!sample_write_file(path, res->chain_pem, 0644))
    return false;
  printf("chain (leaf first, verified): %s\n", path);
  if (cp_key_to_pem(&res->key, CP_KEY_FORMAT_PKCS8, key_pem, sizeof key_pem, &len) != CP_OK)
    return false;
  snprintf(path, sizeof path, "%s/%s.key.pem", dir, res->registration_id);
  ok = sample_write_file(path, key_pem, 0600);
  explicit_bzero(key_pem, sizeof key_pem);
  if (ok)
    printf("key (0600): %s\n", path);
  return ok;
}

void sample_print_error(const char *what, cp_result r, const cp_error_detail *d)
{
  fprintf(stderr, "%s failed: %s", what, cp_result_str(r));
  if (d->status)
    fprintf(stderr, ", status %d", d->status);
  if (d->error_code)
    fprintf(stderr, ", errorCode %ld", (long)d->error_code);
  if (d->message[0])
    fprintf(stderr, ": %s", d->message);
  if (d->field[0])
    fprintf(stderr, " [field %s]", d->field);
  fputc('\n', stderr);
}

void sample_log_to_stderr(void *ctx, cp_log_level level, const char *message)
{
  (void)ctx;
  fprintf(stderr, "<%d>%s\n", (int)level, message);
}
