/* tunnel: an Interface row of a tunnel type ("vxlan") turned into the
 * datapath's tunnel settings.
 *
 * Reads the Interface's "options" (remote_ip, local_ip, key, in_key,
 * out_key, dst_port, tos, ttl, df_default, csum; see vxlan.h) and the
 * Port's other_config:split-horizon, validates them all before anything
 * is applied, and returns a message for Interface.error when they are
 * wrong.  'text' is a canonical form of the settings, so that bridge.c
 * re-creates the port exactly when they change. */
#ifndef LANYARD_SWITCHD_TUNNEL_H
#define LANYARD_SWITCHD_TUNNEL_H 1

#include <stdbool.h>

#include "vxlan.h"

struct ovsdb_row;

struct tunnel_want {
    struct vxlan_config vxlan;
    bool split_horizon;
    char text[256];
};

bool tunnel_is_type(const char *type);

/* Fills *W for interface NAME from its row IFACE and its Port row PORT.
 * Returns NULL, or a malloc'd message naming the bad option (*W is then
 * unusable). */
char *tunnel_want_init(struct tunnel_want *w, const char *name,
                       const struct ovsdb_row *iface,
                       const struct ovsdb_row *port);

#endif
