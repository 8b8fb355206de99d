/* bridge-status: writes what the switch sees back to the database:
 * Interface status (ofport, ifindex, MAC, MTU, link and admin state,
 * error) and statistics, and Open_vSwitch.statistics.  Only changed values
 * are written. */
#include "bridge-private.h"

#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>

#include "bond.h"
#include "daemon.h"
#include "ovsdb.h"
#include "replica.h"
#include "sysstats.h"
#include "util.h"

/* --- Status write-back --- */

static bool
nullable_string_is_equal(const char *a, const char *b)
{
    return a ? b && !strcmp(a, b) : !b;
}

/* Reads device NAME's index, MAC, MTU and flags into *S. */
static void
netdev_info(struct bridges *b, const char *name, struct iface_state *s)
{
    struct ifreq ifr;
    if (b->sock < 0 || strlen(name) >= IFNAMSIZ) {
        return;
    }
    /* SIOCGIFINDEX on our socket rather than if_nametoindex(), which opens
     * a socket per call (this runs for every port every 5 s). */
    memset(&ifr, 0, sizeof ifr);
    strcpy(ifr.ifr_name, name);
    if (ioctl(b->sock, SIOCGIFINDEX, &ifr) || ifr.ifr_ifindex <= 0) {
        return;
    }
    s->have_dev = true;
    s->ifindex = ifr.ifr_ifindex;
    if (!ioctl(b->sock, SIOCGIFHWADDR, &ifr)) {
        s->have_mac = true;
        memcpy(s->mac, ifr.ifr_hwaddr.sa_data, 6);
    }
    if (!ioctl(b->sock, SIOCGIFMTU, &ifr)) {
        s->have_mtu = true;
        s->mtu = ifr.ifr_mtu;
    }
    if (!ioctl(b->sock, SIOCGIFFLAGS, &ifr)) {
        s->have_flags = true;
        s->flags = ifr.ifr_flags;
    }
}

static void
netdev_info_to_json(const struct iface_state *s, json_t *row)
{
    if (!s->have_dev) {
        json_object_set_new(row, "ifindex", json_pack("[s,[]]", "set"));
        json_object_set_new(row, "mac_in_use", json_pack("[s,[]]", "set"));
        return;
    }
    json_object_set_new(row, "ifindex", json_integer(s->ifindex));
    if (s->have_mac) {
        char mac[18];
        snprintf(mac, sizeof mac, "%02x:%02x:%02x:%02x:%02x:%02x",
                 s->mac[0], s->mac[1], s->mac[2], s->mac[3], s->mac[4],
                 s->mac[5]);
        json_object_set_new(row, "mac_in_use", json_string(mac));
    }
    if (s->have_mtu) {
        json_object_set_new(row, "mtu", json_integer(s->mtu));
    }
    if (s->have_flags) {
        json_object_set_new(row, "admin_state",
                            json_string(s->flags & IFF_UP ? "up" : "down"));
        json_object_set_new(row, "link_state",
                            json_string(s->flags & IFF_RUNNING ? "up" : "down"));
    }
}

json_t *
update_op(const char *table, const struct uuid *uuid, json_t *row)
{
    char buf[UUID_LEN + 1];
    uuid_to_string(uuid, buf);
    return json_pack("{s:s,s:s,s:[[s,s,[s,s]]],s:o}", "op", "update",
                     "table", table, "where", "_uuid", "==", "uuid", buf,
                     "row", row);
}

static json_t *
empty_set(void)
{
    return json_pack("[s,[]]", "set");
}

/* Appends to OPS an update of I's status if it differs from what we last
 * wrote. */
void
iface_status(struct bridges *b, struct iface *i, json_t *ops)
{
    struct iface_state s;
    memset(&s, 0, sizeof s);
    /* A bond member reports the bond's port number (bond.h). */
    const struct iface *lead = i->bond_lead && !i->in_dp
                               ? iface_find_name(b, i->bond_lead) : NULL;
    s.in_dp = i->in_dp || (lead && lead->in_dp);
    const char *error = NULL;
    if (s.in_dp) {
        s.ofport = i->in_dp || i->is_alias ? i->ofport : lead->ofport;
        netdev_info(b, i->name, &s);
    } else {
        error = i->error ? i->error
                : lead && lead->error ? lead->error : "not configured";
    }
    iface_count_mtu(b, i, s.in_dp && s.have_mtu ? s.mtu : 0, ops);
    iface_note_mac(b, i, &s);
    if (i->status_written && !memcmp(&s, &i->state, sizeof s)
        && nullable_string_is_equal(error, i->state_error)) {
        return;
    }
    i->status_written = true;
    i->state = s;
    free(i->state_error);
    i->state_error = error ? xstrdup(error) : NULL;

    json_t *row = json_object();
    if (s.in_dp) {
        json_object_set_new(row, "ofport", json_integer(s.ofport));
        json_object_set_new(row, "error", empty_set());
        netdev_info_to_json(&s, row);
    } else {
        json_object_set_new(row, "ofport", json_integer(-1));
        json_object_set_new(row, "error", json_string(error));
    }
    json_array_append_new(ops, update_op("Interface", &i->uuid, row));
}

void
iface_stats(struct bridges *b, struct iface *i, json_t *ops)
{
    struct dp_port_stats st;
    if (i->bond_lead
        ? bonds_member_stats(b->bonds, i->bond_lead, i->name, &st)
        : !i->in_dp || dp_get_port_stats(b->dp, i->name, &st)) {
        return;
    }
    if (i->stats_written && !memcmp(&st, &i->stats, sizeof st)) {
        return;
    }
    i->stats_written = true;
    i->stats = st;
    json_t *map = json_pack(
        "[s,[[s,I],[s,I],[s,I],[s,I],[s,I],[s,I],[s,I],[s,I]]]", "map",
        "rx_bytes", (json_int_t) st.rx_bytes, "rx_dropped", (json_int_t) st.rx_dropped,
        "rx_errors", (json_int_t) st.rx_errors, "rx_packets", (json_int_t) st.rx_packets,
        "tx_bytes", (json_int_t) st.tx_bytes, "tx_dropped", (json_int_t) st.tx_dropped,
        "tx_errors", (json_int_t) st.tx_errors, "tx_packets", (json_int_t) st.tx_packets);
    json_array_append_new(ops, update_op("Interface", &i->uuid,
                                         json_pack("{s:o}", "statistics", map)));
}

const struct ovsdb_row *
ovs_row(const struct bridges *b)
{
    struct ovsdb *db = replica_get_db(b->replica);
    const struct ovsdb_table *t = db ? ovsdb_find_table(db, "Open_vSwitch") : NULL;
    const struct ovsdb_row *row = NULL;
    if (t) {
        OVSDB_TABLE_FOR_EACH_ROW (row, t) {
            break;
        }
    }
    return row;
}

/* Open_vSwitch.statistics, when other_config:enable-statistics=true; an
 * empty map once it is turned off. */
void
ovs_sys_stats(struct bridges *b, const struct ovsdb_row *ovs, long long now,
              json_t *ops)
{
    if (b->sys_stats && now >= b->next_sys_stats) {
        b->next_sys_stats = now + SYSSTATS_INTERVAL_MSEC;
        char *dir = NULL;
        const char *pidfile = daemon_get_pidfile();
        if (pidfile && strrchr(pidfile, '/')) {
            dir = xasprintf("%.*s", (int) (strrchr(pidfile, '/') - pidfile),
                            pidfile);
        }
        const char *dirs[] = { daemon_rundir(), dir, NULL };
        json_array_append_new(ops, update_op("Open_vSwitch", &ovs->uuid,
                                             json_pack("{s:o}", "statistics",
                                                       sysstats_collect(dirs))));
        b->sys_stats_written = true;
        free(dir);
    } else if (!b->sys_stats && b->sys_stats_written) {
        json_array_append_new(ops, update_op("Open_vSwitch", &ovs->uuid,
                                             json_pack("{s:[s,[]]}", "statistics",
                                                       "map")));
        b->sys_stats_written = false;
    }
}
