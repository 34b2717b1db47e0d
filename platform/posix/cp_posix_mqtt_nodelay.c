/* TCP_NODELAY on the sockets connected to the MQTT broker (see the header). */
#include "cp_posix_mqtt_nodelay.h"

#include <dirent.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

static bool same_peer(const struct sockaddr_storage *peer, const struct addrinfo *ai)
{
  if (peer->ss_family == AF_INET && ai->ai_family == AF_INET) {
    const struct sockaddr_in *a = (const void *)peer, *b = (const void *)ai->ai_addr;
    return a->sin_port == b->sin_port && a->sin_addr.s_addr == b->sin_addr.s_addr;
  }
  if (peer->ss_family == AF_INET6 && ai->ai_family == AF_INET6) {
    const struct sockaddr_in6 *a = (const void *)peer, *b = (const void *)ai->ai_addr;
    return a->sin6_port == b->sin6_port &&
           memcmp(&a->sin6_addr, &b->sin6_addr, sizeof a->sin6_addr) == 0;
  }
  return false;
}

int cp_posix_mqtt_nodelay(const char *host, uint16_t port)
{
  struct addrinfo hints, *res = NULL, *ai;
  struct dirent *e;
  char svc[8];
  DIR *d;
  int n = 0;

  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  snprintf(svc, sizeof svc, "%u", (unsigned)port);
  if (host == NULL || getaddrinfo(host[0] == '[' ? host + 1 : host, svc, &hints, &res) != 0)
    return 0;
  d = opendir("/proc/self/fd");
  while (d != NULL && (e = readdir(d)) != NULL) {
    struct sockaddr_storage peer;
    socklen_t len = sizeof peer;
    int fd, type = 0, one = 1, on = 0;
    socklen_t tl = sizeof type, ol = sizeof on;
    if (e->d_name[0] < '0' || e->d_name[0] > '9')
      continue;
    fd = atoi(e->d_name);
    if (fd == dirfd(d) || getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &tl) != 0 ||
        type != SOCK_STREAM || getpeername(fd, (struct sockaddr *)&peer, &len) != 0 ||
        getsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, &ol) != 0 || on)
      continue;
    for (ai = res; ai != NULL; ai = ai->ai_next) {
      if (same_peer(&peer, ai)) {
        if (setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
          n++;
        break;
      }
    }
  }
  if (d != NULL)
    closedir(d);
  freeaddrinfo(res);
  return n;
}
