/* POSIX implementation of cp_platform.h. */
#include "certpilot/cp_platform.h"

#include <errno.h>
#include <sys/random.h>
#include <time.h>

cp_result cp_platform_entropy(uint8_t *buf, size_t len)
{
  size_t done = 0;

  if (buf == NULL && len > 0)
    return CP_ERR_INVALID_ARG;
  while (done < len) {
    ssize_t n = getrandom(buf + done, len - done, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return CP_ERR_IO;
    }
    done += (size_t)n;
  }
  return CP_OK;
}

int64_t cp_platform_time_now(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec;
}

int64_t cp_platform_monotonic_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void cp_platform_sleep_ms(uint32_t ms)
{
  struct timespec ts = {(time_t)(ms / 1000), (long)(ms % 1000) * 1000000L};

  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}
