/*
 * certpilot_bindfix.so: LD_PRELOAD shim for the supervised mosquitto.
 *
 * mosquitto 2.0.11 (Debian 12) hands WebSockets listeners to libwebsockets
 * without the listener's address, so `listener 8443 127.0.0.1` +
 * `protocol websockets` listens on every interface (checked with `ss -ltn`:
 * `*:8443`). When CERTPILOT_BIND_LOOPBACK=1 this shim rewrites a bind() to the
 * wildcard address into a bind() to loopback: 127.0.0.1 for IPv4, and for
 * IPv6 ::ffff:127.0.0.1 on a dual-stack socket (so IPv4 clients still reach
 * it) or ::1 on an IPv6-only one. Explicit addresses pass through untouched.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <dlfcn.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

typedef int (*bind_fn)(int, const struct sockaddr *, socklen_t);

int bind(int fd, const struct sockaddr *addr, socklen_t len);

int bind(int fd, const struct sockaddr *addr, socklen_t len) {
  static bind_fn real_bind;
  if (!real_bind) {
    real_bind = (bind_fn)dlsym(RTLD_NEXT, "bind");
    if (!real_bind) return -1;
  }
  const char *on = getenv("CERTPILOT_BIND_LOOPBACK");
  if (!on || strcmp(on, "1") != 0 || !addr) return real_bind(fd, addr, len);
  if (addr->sa_family == AF_INET && len >= (socklen_t)sizeof(struct sockaddr_in)) {
    struct sockaddr_in a;
    memcpy(&a, addr, sizeof a);
    if (a.sin_addr.s_addr == htonl(INADDR_ANY)) {
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
    }
  } else if (addr->sa_family == AF_INET6 && len >= (socklen_t)sizeof(struct sockaddr_in6)) {
    struct sockaddr_in6 a;
    memcpy(&a, addr, sizeof a);
    if (memcmp(&a.sin6_addr, &in6addr_any, sizeof a.sin6_addr) == 0) {
      int v6only = 0;
      socklen_t optlen = sizeof v6only;
      if (getsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &v6only, &optlen) != 0) v6only = 0;
      if (v6only) {
        a.sin6_addr = in6addr_loopback;
      } else {
        static const unsigned char mapped[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 127, 0, 0, 1};
        memcpy(&a.sin6_addr, mapped, sizeof mapped);
      }
      return real_bind(fd, (const struct sockaddr *)&a, sizeof a);
    }
  }
  return real_bind(fd, addr, len);
}
