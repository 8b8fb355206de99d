#include "fdb-ctl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bridge.h"
#include "dp.h"
#include "ds.h"
#include "fdb.h"
#include "netdev-ctl.h"
#include "packet.h"
#include "unixctl.h"
#include "util.h"

struct fdb_ctl {
    struct dp *dp;
    const struct bridges *bridges;
};

/* The reply for an unknown bridge, as ovs-vswitchd words it.  Fake
 * bridges are not bridges here either (as in OVS: they are not ofprotos). */
static bool
check_bridge(const struct fdb_ctl *ctl, struct unixctl_conn *conn,
             const char *name)
{
    if (!bridges_exists(ctl->bridges, name)) {
        unixctl_command_reply_error(conn, "no such bridge");
        return false;
    }
    return true;
}

/* VLAN and MAC arguments: false after replying with the error. */
static bool
parse_vlan_mac(struct unixctl_conn *conn, const char *vlan_s,
               const char *mac_s, uint16_t *vlan, uint8_t mac[6])
{
    unsigned int v;
    if (!str_to_uint(vlan_s, 10, &v) || v > 4095) {
        char *msg = xasprintf("bad VLAN \"%s\" (a number from 0 to 4095)",
                              vlan_s);
        unixctl_command_reply_error(conn, msg);
        free(msg);
        return false;
    }
    if (!netdev_ctl_parse_mac(mac_s, mac)) {
        unixctl_command_reply_error(conn, "bad MAC address");   /* OVS's. */
        return false;
    }
    *vlan = (uint16_t) v;
    return true;
}

static void
cmd_fdb_add(struct unixctl_conn *conn, int argc, const char *argv[],
            void *ctl_)
{
    struct fdb_ctl *ctl = ctl_;
    uint16_t vlan;
    uint8_t m[6];
    (void) argc;
    if (!check_bridge(ctl, conn, argv[1])
        || !parse_vlan_mac(conn, argv[3], argv[4], &vlan, m)) {
        return;
    }
    if (packet_mac_is_multicast(m)) {
        /* Frames to a multicast MAC are always flooded: such an entry
         * would be listed but steer nothing. */
        char *msg = xasprintf("%s is a multicast MAC address: frames to it "
                              "are flooded, a static entry cannot steer "
                              "them", argv[4]);
        unixctl_command_reply_error(conn, msg);
        free(msg);
        return;
    }
    uint64_t mac = packet_mac_to_u64(m);
    struct fdb_entry_info old, cur;
    bool had = !dp_fdb_find(ctl->dp, argv[1], vlan, mac, time_msec(), &old);

    int error = dp_fdb_add(ctl->dp, argv[1], argv[2], vlan, mac);
    if (error == ENOENT) {
        char *msg = xasprintf("no such port \"%s\" on bridge %s", argv[2],
                              argv[1]);
        unixctl_command_reply_error(conn, msg);
        free(msg);
        return;
    } else if (error) {
        /* ENOSPC: the table is full of static entries. */
        unixctl_command_reply_error(conn, "could not add static mac entry");
        return;
    }

    if (had && !dp_fdb_find(ctl->dp, argv[1], vlan, mac, time_msec(), &cur)
        && old.port != cur.port) {
        /* As ovs-vswitchd, say what was overridden (its old port). */
        const char *kind = old.is_static ? "static" : "dynamic";
        char *msg = old.port == DP_PORT_LOCAL
            ? xasprintf("Overriding already existing %s entry on LOCAL\n",
                        kind)
            : xasprintf("Overriding already existing %s entry on %u\n",
                        kind, old.port);
        unixctl_command_reply(conn, msg);
        free(msg);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
cmd_fdb_del(struct unixctl_conn *conn, int argc, const char *argv[],
            void *ctl_)
{
    struct fdb_ctl *ctl = ctl_;
    uint16_t vlan;
    uint8_t m[6];
    (void) argc;
    if (!check_bridge(ctl, conn, argv[1])
        || !parse_vlan_mac(conn, argv[2], argv[3], &vlan, m)) {
        return;
    }
    if (dp_fdb_del(ctl->dp, argv[1], vlan, packet_mac_to_u64(m))) {
        unixctl_command_reply_error(conn, "could not find static mac entry");
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
cmd_fdb_stats_clear(struct unixctl_conn *conn, int argc, const char *argv[],
                    void *ctl_)
{
    struct fdb_ctl *ctl = ctl_;
    const char *bridge = argc > 1 ? argv[1] : NULL;
    if (bridge && !check_bridge(ctl, conn, bridge)) {
        return;
    }
    if (dp_fdb_stats_clear(ctl->dp, bridge)) {
        unixctl_command_reply_error(conn, "no such bridge");
    } else {
        unixctl_command_reply(conn, "statistics successfully cleared");
    }
}

void
fdb_ctl_register(struct dp *dp, const struct bridges *bridges)
{
    /* Lives as long as the process (as the unixctl table). */
    struct fdb_ctl *ctl = xmalloc(sizeof *ctl);
    *ctl = (struct fdb_ctl) { dp, bridges };
    unixctl_command_register("fdb/add", "bridge port vlan mac", 4, 4,
                             cmd_fdb_add, ctl);
    unixctl_command_register("fdb/del", "bridge vlan mac", 3, 3, cmd_fdb_del,
                             ctl);
    unixctl_command_register("fdb/stats-clear", "[bridge]", 0, 1,
                             cmd_fdb_stats_clear, ctl);
}
