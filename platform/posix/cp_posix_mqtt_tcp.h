/* Private to the POSIX MQTT transport: the TCP connect of Paho's socket, done early. */
#ifndef CERTPILOT_CP_POSIX_MQTT_TCP_H
#define CERTPILOT_CP_POSIX_MQTT_TCP_H

#include <stdbool.h>
#include <stdint.h>

/*
 * Why: Paho MQTT C 1.3.12 (Debian 12) connects its socket non-blocking, then
 * waits in poll() for the socket to become *readable*, with a 100 ms timeout,
 * before it looks at whether the connect finished. A TLS server says nothing
 * until the client's hello, so every connect costs a full 100 ms (Paho issue
 * #1430, fixed upstream by pull request #1642 in 2026; not in Debian 12).
 *
 * What: between creating its socket and calling connect(), Paho announces the
 * socket through its trace callback ("New socket <fd> for <host>, port
 * <port>", level TRACE_MINIMUM, Paho's default). While a connect of ours is
 * running, that callback connects the still-blocking socket itself (and sets
 * TCP_NODELAY, which Paho never does), waiting at most until the deadline.
 * Paho's own connect() on an already connected socket then returns 0 at once
 * (Linux: a second connect() after an asynchronous one completed reports
 * success), so Paho goes straight to TLS and never enters that 100 ms wait.
 *
 * Paho 1.3.12 has a second flaw on that path: when the TLS handshake finishes
 * inside its first SSL_connect() call (a fast server on loopback answers before
 * OpenSSL's first read), Paho fails the connect. So with @c tls set, the hook
 * corks the socket (TCP_CORK) when Paho enters SSLSocket_connect and uncorks it
 * when that call returns: the ClientHello leaves only once SSL_connect() has
 * asked to wait, and Paho takes its normal read-driven path from there. Should
 * the uncork line never come, the kernel sends corked data after 200 ms.
 *
 * CERTPILOT_PAHO_EARLY_CONNECT=0 in the environment turns all of this off.
 *
 * Safe when anything is off: a line that does not match, a socket that is not
 * a fresh blocking TCP socket, another port, another thread, a trace level set
 * above TRACE_MINIMUM by MQTT_C_CLIENT_TRACE_LEVEL, or a Paho that changed its
 * wording - each leaves Paho to connect on its own, only slower. If our connect
 * fails, Paho's connect() fails too and the reason is kept here.
 *
 * Cost: Paho's trace callback is process-wide; ours is set at each connect of
 * ours and left in place (it returns at once outside them; clearing it could
 * race with Paho's unlocked reads), so an application's own Paho trace
 * callback is replaced. Paho holds its log and client locks while the callback
 * waits, so other Paho clients in the process wait out the TCP handshake, as
 * they already wait out Paho's name lookup.
 */
typedef struct cp_posix_mqtt_tcp {
  /* in */
  const char *host;   /**< host as written in Paho's URI ("[::1]" allowed) */
  uint16_t port;      /**< port in Paho's URI */
  uint32_t timeout_ms; /**< the TCP connect's deadline, from cp_posix_mqtt_tcp_begin() */
  bool tls;           /**< ssl:// (not for wss://: Paho 1.3.12 starts the WebSocket
                           upgrade before TLS is up on that path) */
  /* out */
  int fd;             /**< Paho's socket, or -1 when the hook did not take it */
  int connect_errno;  /**< 0, or why the TCP connect failed (ETIMEDOUT at the deadline) */
  bool nodelay;       /**< TCP_NODELAY was set on fd */
  bool paho_waited;   /**< Paho still reported a pending connect (the hook had no effect) */
  bool uncorked;      /**< tls: corked for Paho's first SSL_connect() and uncorked after */
  /* private */
  int64_t deadline_ms;
  bool corked;
  bool armed;
} cp_posix_mqtt_tcp;

/* Arms the hook for the calling thread; call right before MQTTClient_connect().
 * CERTPILOT_PAHO_EARLY_CONNECT=0 in the environment leaves it unarmed (Paho
 * then connects on its own, fd stays -1). */
void cp_posix_mqtt_tcp_begin(cp_posix_mqtt_tcp *t);

/* Disarms it; call right after MQTTClient_connect() returns. Does nothing for
 * a zeroed @p t that was never begun, or one begun while switched off. */
void cp_posix_mqtt_tcp_end(cp_posix_mqtt_tcp *t);

/* One Paho trace line (what the installed callback calls); for tests. */
void cp_posix_mqtt_tcp_trace_line(const char *message);

#endif
