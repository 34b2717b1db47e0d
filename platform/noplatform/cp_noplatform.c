/*
 * Firmware-style port: the starting point for a device without POSIX.
 * Every function reports "not available" until the integrator wires it to the
 * board's TRNG, RTC and tick counter. Building against it proves the core
 * needs nothing else from the platform.
 */
#include "certpilot/cp_platform.h"

cp_result cp_platform_entropy(uint8_t *buf, size_t len)
{
  (void)buf;
  (void)len;
  return CP_ERR_IO; /* no entropy source wired: refuse rather than fake it */
}

int64_t cp_platform_time_now(void)
{
  return 0; /* no RTC: time unknown; callers treat 0 as "clock not set" */
}

int64_t cp_platform_monotonic_ms(void)
{
  return 0;
}

void cp_platform_sleep_ms(uint32_t ms)
{
  (void)ms;
}
