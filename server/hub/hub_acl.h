/**
 * @file hub_acl.h
 * @brief The plugin's access rule, as a pure function: an authenticated
 *        client may publish and subscribe only to its own protocol topics.
 */
#ifndef CERTPILOT_SERVER_HUB_ACL_H
#define CERTPILOT_SERVER_HUB_ACL_H

#include <stdbool.h>

#include "hub_topic.h"

#ifdef __cplusplus
extern "C" {
#endif

/** The kind of access asked for (maps to mosquitto's MOSQ_ACL_*). */
typedef enum hub_access {
  HUB_ACCESS_READ,        /**< a message is about to be delivered to the client */
  HUB_ACCESS_WRITE,       /**< the client publishes */
  HUB_ACCESS_SUBSCRIBE,   /**< the client subscribes with a topic filter */
  HUB_ACCESS_UNSUBSCRIBE, /**< the client unsubscribes */
} hub_access;

/**
 * @brief Decide whether a client may perform @p access on @p topic.
 * @param kind   how the client authenticated (DPS registration or hub device).
 * @param id     its registration id / device id (authenticated; borrowed).
 * @param access the access asked for.
 * @param topic  topic (READ/WRITE) or topic filter (SUBSCRIBE/UNSUBSCRIBE).
 * @return true to allow. DPS clients: publish register / operation-status
 *         requests, subscribe to and receive `$dps/registrations/res/…`.
 *         Hub clients: publish twin GET, reported PATCH and telemetry on
 *         `devices/{own id}/messages/events/`; subscribe to and receive
 *         `$iothub/twin/res/…`, `$iothub/twin/PATCH/properties/desired/…`,
 *         `$iothub/methods/POST/…` and `devices/{own id}/messages/devicebound/…`.
 *         Anything else (other devices' topics, wildcards above those
 *         prefixes, NULLs) is denied.
 */
bool hub_acl_allows(hub_client_kind kind, const char *id, hub_access access,
                    const char *topic);

#ifdef __cplusplus
}
#endif
#endif
