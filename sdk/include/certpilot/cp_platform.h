/**
 * @file cp_platform.h
 * @brief What the portable core needs from the platform, resolved at link time.
 *
 * The SDK core owns no I/O. A port (platform/posix, platform/noplatform, or a
 * customer's firmware port) defines these functions; link exactly one port.
 *
 * Randomness: the core seeds wolfCrypt's Hash-DRBG. With a stock wolfSSL build
 * (Debian's) the DRBG seeds itself from the OS and cp_platform_entropy() is
 * mixed in as the DRBG nonce; a firmware build of wolfSSL with
 * CUSTOM_RAND_GENERATE_SEED should point that macro at cp_platform_entropy().
 */
#ifndef CERTPILOT_CP_PLATFORM_H
#define CERTPILOT_CP_PLATFORM_H

#include <stddef.h>
#include <stdint.h>

#include "cp_result.h"

#ifdef __cplusplus
extern "C" {
#endif

/**
 * @brief Fill @p buf with @p len bytes from a cryptographically secure source.
 * @return CP_OK, or CP_ERR_IO when no entropy is available (buf is then unspecified).
 */
cp_result cp_platform_entropy(uint8_t *buf, size_t len);

/** @brief Wall-clock time: seconds since the Unix epoch, UTC. */
int64_t cp_platform_time_now(void);

/** @brief Monotonic milliseconds since an arbitrary start; never goes back. */
int64_t cp_platform_monotonic_ms(void);

/** @brief Sleep for @p ms milliseconds (blocking helpers only; the core never sleeps). */
void cp_platform_sleep_ms(uint32_t ms);

#ifdef __cplusplus
}
#endif
#endif
