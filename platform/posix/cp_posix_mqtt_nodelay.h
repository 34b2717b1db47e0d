/* Private to the POSIX MQTT transport: TCP_NODELAY on Paho's socket. */
#ifndef CERTPILOT_CP_POSIX_MQTT_NODELAY_H
#define CERTPILOT_CP_POSIX_MQTT_NODELAY_H

#include <stdint.h>

/*
 * Paho MQTT C never sets TCP_NODELAY and gives no access to its socket, so a
 * request written right after Paho's PUBACK waits in the kernel (Nagle) until
 * the broker's delayed ACK, about 40 ms. Call after a successful connect to
 * @p host:@p port: sets TCP_NODELAY on this process's TCP sockets connected to
 * that address (Paho's, and any other to the same broker: harmless, it only
 * changes when small segments leave). Returns how many sockets it set; best
 * effort, 0 where /proc/self/fd does not exist.
 */
int cp_posix_mqtt_nodelay(const char *host, uint16_t port);

#endif
