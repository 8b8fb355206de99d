#include "bridge-private.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bond.h"
#include "mirror-config.h"
#include "coverage.h"
#include "dp.h"
#include "dummy-pcap.h"
#include "ds.h"
#include "hash.h"
#include "hmap.h"
#include "ovsdb-data.h"
#include "ovsdb-schema.h"
#include "ovsdb.h"
#include "poll-loop.h"
#include "netdev-ctl.h"
#include "ofport.h"
#include "qos.h"
#include "replica.h"
#include "tunnel.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(bridge);

#define STATS_INTERVAL_MSEC 5000

/* Where a Port row belongs (from the Bridge rows' "ports" sets). */
struct port_home {
    struct hmap_node node;          /* In bridges.homes, by port uuid. */
    struct uuid uuid;
    char *bridge;
};

struct bridge {
    struct hmap_node node;          /* In bridges.bridges, by uuid. */
    struct uuid uuid;
    char *name;
    /* Its ports are the port_homes that name it. */
    char *settings;                 /* flood_vlans and MAC table settings. */
    char *hwaddr_applied;           /* other_config:hwaddr last set. */
    char *datapath_id;              /* Last datapath_id written. */
    /* The MTUs of its ports that internal ports follow, distinct and
     * sorted (a count each), and the minimum last given to followers. */
    struct mtu_count {
        int mtu;
        unsigned int n;
    } *mtus;
    size_t n_mtus;
    int min_mtu;
    /* The candidate with the smallest MAC (see "Bridge MAC"); mac_dirty:
     * the bridge MAC may have to change. */
    struct iface *best_iface;
    bool mac_dirty;
};


/* --- Reading rows --- */

static const char *
col_string(const struct ovsdb_row *row, const char *name)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, name, NULL);
    return d && d->n ? d->keys[0].string : "";
}

static long long
col_int(const struct ovsdb_row *row, const char *name, long long dflt)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, name, NULL);
    return d && d->n ? d->keys[0].integer : dflt;
}

static const char *
col_map_get(const struct ovsdb_row *row, const char *name, const char *key)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, name, NULL);
    for (unsigned int i = 0; d && i < d->n; i++) {
        if (!strcmp(d->keys[i].string, key)) {
            return d->values[i].string;
        }
    }
    return NULL;
}

static const struct ovsdb_row *
find_row(const struct bridges *b, const char *table, const struct uuid *uuid)
{
    struct ovsdb *db = replica_get_db(b->replica);
    const struct ovsdb_table *t = db ? ovsdb_find_table(db, table) : NULL;
    return t ? ovsdb_table_find_row(t, uuid) : NULL;
}

/* --- Bookkeeping --- */

static struct bridge *
bridge_find(const struct bridges *b, const struct uuid *uuid)
{
    struct bridge *br;
    HMAP_FOR_EACH_WITH_HASH (br, node, uuid_hash(uuid), &b->bridges) {
        if (uuid_equals(&br->uuid, uuid)) {
            return br;
        }
    }
    return NULL;
}

static struct port_home *
home_find(const struct bridges *b, const struct uuid *uuid)
{
    struct port_home *h;
    HMAP_FOR_EACH_WITH_HASH (h, node, uuid_hash(uuid), &b->homes) {
        if (uuid_equals(&h->uuid, uuid)) {
            return h;
        }
    }
    return NULL;
}

struct iface *
iface_find_name(const struct bridges *b, const char *name)
{
    struct iface *i;
    HMAP_FOR_EACH_WITH_HASH (i, name_node, hash_string(name, 0), &b->ifaces) {
        if (!strcmp(i->name, name)) {
            return i;
        }
    }
    return NULL;
}

static struct iface *
iface_find_uuid(const struct bridges *b, const struct uuid *uuid)
{
    struct iface *i;
    HMAP_FOR_EACH_WITH_HASH (i, uuid_node, uuid_hash(uuid), &b->by_uuid) {
        if (uuid_equals(&i->uuid, uuid)) {
            return i;
        }
    }
    return NULL;
}

/* A set of uuids to look at in this round. */
struct uuid_set {
    struct hmap map;
};

struct uuid_node {
    struct hmap_node node;
    struct uuid uuid;
};

static void
uuid_set_add(struct uuid_set *s, const struct uuid *uuid)
{
    struct uuid_node *n;
    HMAP_FOR_EACH_WITH_HASH (n, node, uuid_hash(uuid), &s->map) {
        if (uuid_equals(&n->uuid, uuid)) {
            return;
        }
    }
    n = xmalloc(sizeof *n);
    n->uuid = *uuid;
    hmap_insert(&s->map, &n->node, uuid_hash(uuid));
}

static void
uuid_set_destroy(struct uuid_set *s)
{
    struct uuid_node *n;
    HMAP_FOR_EACH_POP (n, node, &s->map) {
        free(n);
    }
    hmap_destroy(&s->map);
}

/* --- Bridges --- */

static char *
bridge_settings(const struct ovsdb_row *row)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    const struct ovsdb_datum *fv = ovsdb_row_find_column(row, "flood_vlans", NULL);
    for (unsigned int i = 0; fv && i < fv->n; i++) {
        ds_put_format(&s, "%lld,", fv->keys[i].integer);
    }
    const char *size = col_map_get(row, "other_config", "mac-table-size");
    const char *aging = col_map_get(row, "other_config", "mac-aging-time");
    ds_put_format(&s, "|%s|%s", size ? size : "", aging ? aging : "");
    const char *bpdu = col_map_get(row, "other_config", "forward-bpdu");
    ds_put_format(&s, "|%s", bpdu ? bpdu : "");
    return ds_steal_cstr(&s);
}

static void
bridge_apply_settings(struct bridges *b, struct bridge *br,
                      const struct ovsdb_row *row)
{
    char *settings = bridge_settings(row);
    if (br->settings && !strcmp(settings, br->settings)) {
        free(settings);
        return;
    }
    free(br->settings);
    br->settings = settings;

    const struct ovsdb_datum *fv = ovsdb_row_find_column(row, "flood_vlans", NULL);
    uint16_t *vids = xcalloc(fv ? fv->n + 1 : 1, sizeof *vids);
    for (unsigned int i = 0; fv && i < fv->n; i++) {
        vids[i] = (uint16_t) fv->keys[i].integer;
    }
    dp_bridge_set_flood_vlans(b->dp, br->name, vids, fv ? fv->n : 0);
    free(vids);

    /* OVS's defaults: 8192 entries, 300 s. */
    const char *size = col_map_get(row, "other_config", "mac-table-size");
    const char *aging = col_map_get(row, "other_config", "mac-aging-time");
    int n = 8192, idle = 300;
    if (size && (!str_to_int(size, 10, &n) || n <= 0)) {
        VLOG_WARN("%s: ignoring invalid mac-table-size \"%s\"", br->name, size);
        n = 8192;
    }
    if (aging && (!str_to_int(aging, 10, &idle) || idle <= 0)) {
        VLOG_WARN("%s: ignoring invalid mac-aging-time \"%s\"", br->name, aging);
        idle = 300;
    }
    dp_bridge_set_mac_table(b->dp, br->name, (size_t) n, (unsigned int) idle);

    /* As OVS's smap_get_bool(..., false): only "true" (any case) is true. */
    const char *bpdu = col_map_get(row, "other_config", "forward-bpdu");
    dp_bridge_set_forward_bpdu(b->dp, br->name,
                               bpdu && !strcasecmp(bpdu, "true"));
}

/* Port U is (IN_ROW) or is not in BR's "ports" now: records where it lives
 * and marks it if that changed. */
static void
bridge_note_port(struct bridges *b, const struct bridge *br,
                 const struct uuid *u_, bool in_row, struct uuid_set *marked)
{
    const struct uuid u = *u_;      /* U_ may be the home freed below. */
    struct port_home *h = home_find(b, &u);
    if (in_row == (h && !strcmp(h->bridge, br->name))) {
        return;
    }
    if (!in_row) {                  /* Left this bridge. */
        hmap_remove(&b->homes, &h->node);
        free(h->bridge);
        free(h);
    } else {                        /* Joined (maybe from another bridge). */
        if (!h) {
            h = xzalloc(sizeof *h);
            h->uuid = u;
            hmap_insert(&b->homes, &h->node, uuid_hash(&u));
        }
        free(h->bridge);
        h->bridge = xstrdup(br->name);
    }
    uuid_set_add(marked, &u);
}

static bool
ports_include(const struct ovsdb_datum *ports, const struct uuid *u)
{
    const union ovsdb_atom atom = { .uuid = *u };
    return ports && ovsdb_datum_find_key(ports, &atom, OVSDB_TYPE_UUID)
                    != UINT_MAX;
}

/* Marks the ports that joined or left BR, whose "ports" column is now
 * PORTS (NULL: the bridge is going away), comparing it with every port's
 * home: for a new bridge, a resynchronisation or a removal. */
static void
bridge_update_ports(struct bridges *b, struct bridge *br,
                    const struct ovsdb_datum *ports, struct uuid_set *marked)
{
    struct port_home *h, *next;
    HMAP_FOR_EACH_SAFE (h, next, node, &b->homes) {
        if (!strcmp(h->bridge, br->name) && !ports_include(ports, &h->uuid)) {
            bridge_note_port(b, br, &h->uuid, false, marked);
        }
    }
    for (unsigned int j = 0; ports && j < ports->n; j++) {
        bridge_note_port(b, br, &ports->keys[j].uuid, true, marked);
    }
}

/* The same for the ports in TOUCHED only: the uuids that differences of
 * Bridge "ports" columns named (adding port 10,000 touches one port). */
static void
bridge_update_touched_ports(struct bridges *b, struct bridge *br,
                            const struct ovsdb_datum *ports,
                            const struct uuid_set *touched,
                            struct uuid_set *marked)
{
    const struct uuid_node *u;
    HMAP_FOR_EACH (u, node, &touched->map) {
        bridge_note_port(b, br, &u->uuid, ports_include(ports, &u->uuid),
                         marked);
    }
}

static void iface_remove(struct bridges *, struct iface *);
static void bridge_count_mtu(struct bridge *, int mtu, int delta);
static void bridge_rescan_mac(struct bridges *, struct bridge *);
static void bridge_follow_mtu(struct bridges *, struct bridge *, json_t *ops);

static void
bridge_destroy(struct bridges *b, struct bridge *br, struct uuid_set *marked)
{
    bridge_update_ports(b, br, NULL, marked);
    /* Interfaces of this bridge leave before the bridge itself. */
    struct iface *i, *next;
    HMAP_FOR_EACH_SAFE (i, next, name_node, &b->ifaces) {
        struct port_home *h = home_find(b, &i->port_uuid);
        if (!h && i->in_dp) {
            iface_remove(b, i);
        }
    }
    HMAP_FOR_EACH (i, name_node, &b->ifaces) {
        if (i->mtu_bridge == br) {
            i->mtu_bridge = NULL;
            i->mtu_counted = 0;
        }
        if (i->mac_bridge == br) {
            i->mac_bridge = NULL;
        }
    }
    dp_del_bridge(b->dp, br->name);
    hmap_remove(&b->bridges, &br->node);
    VLOG_INFO("removed bridge %s", br->name);
    coverage_inc(COV_BRIDGE_DEL);
    free(br->name);
    free(br->settings);
    free(br->hwaddr_applied);
    free(br->datapath_id);
    free(br->mtus);
    free(br);
}

/* Brings bridge UUID in line with its row.  Its ports are compared in
 * full if FULL, else only those in TOUCHED. */
static void
bridge_reconcile(struct bridges *b, const struct uuid *uuid, bool full,
                 const struct uuid_set *touched, struct uuid_set *marked)
{
    const struct ovsdb_row *row = find_row(b, "Bridge", uuid);
    struct bridge *br = bridge_find(b, uuid);
    if (!row) {
        if (br) {
            bridge_destroy(b, br, marked);
        }
        return;
    }
    if (!br) {
        full = true;
        br = xzalloc(sizeof *br);
        br->uuid = *uuid;
        br->name = xstrdup(col_string(row, "name"));
        hmap_insert(&b->bridges, &br->node, uuid_hash(uuid));
        int error = dp_add_bridge(b->dp, br->name);
        if (error && error != EEXIST) {
            VLOG_ERR("%s: cannot create bridge (%s)", br->name, strerror(error));
        } else {
            VLOG_INFO("added bridge %s", br->name);
            coverage_inc(COV_BRIDGE_ADD);
        }
    }
    bridge_apply_settings(b, br, row);
    const struct ovsdb_datum *ports = ovsdb_row_find_column(row, "ports", NULL);
    if (full) {
        bridge_update_ports(b, br, ports, marked);
    } else {
        bridge_update_touched_ports(b, br, ports, touched, marked);
    }
}

/* --- Interfaces --- */

/* What one Interface should be, derived from its row, its Port row and
 * the bridge the port belongs to. */
struct iface_want {
    const char *name;
    struct uuid uuid, port_uuid;
    const char *bridge;
    const char *type;               /* Datapath type. */
    char *config, *vlan_config;
    struct dp_port_config dp;
    char *error;                    /* Cannot be realised, and why. */
    long long ofport_request, db_ofport, mtu_request;
    struct tunnel_want tunnel;      /* vxlan: switchd/tunnel.c. */
    struct bond_want bond;          /* Several interfaces: switchd/bond.c. */
    /* Scratch for the VLAN lists; last, so want_init() need not clear it. */
    uint16_t trunks[4096], cvlans[4096];
};

static void
want_init(struct iface_want *w, const struct ovsdb_row *iface,
          const struct ovsdb_row *port, const char *bridge, struct ovsdb *db)
{
    memset(w, 0, offsetof(struct iface_want, trunks));
    w->name = col_string(iface, "name");
    w->uuid = iface->uuid;
    w->port_uuid = port->uuid;
    w->bridge = bridge;

    const char *type = col_string(iface, "type");
    if (!type[0] || !strcmp(type, "system")) {
        w->type = "system";
    } else if (!strcmp(type, "internal") || !strcmp(type, "patch")
               || !strcmp(type, "dummy")) {
        w->type = type;
    } else if (tunnel_is_type(type)) {     /* vxlan: see tunnel.c. */
        w->type = type;
        w->error = tunnel_want_init(&w->tunnel, w->name, iface, port);
        w->dp.options.vxlan = &w->tunnel.vxlan;
        w->dp.options.split_horizon = w->tunnel.split_horizon;
    } else {
        w->type = type;
        w->error = xasprintf("could not add network device %s to datapath "
                             "(interface type \"%s\" is not supported)",
                             w->name, type);
    }
    const struct ovsdb_datum *ifaces = ovsdb_row_find_column(port, "interfaces", NULL);
    /* --- Bonds (switchd/bond.c): the lead member carries a "bond"
     * datapath port; the other members are not datapath ports. --- */
    if (!w->error && ifaces && ifaces->n > 1) {
        w->error = bond_want_init(&w->bond, db, port, iface);
        if (!w->error && w->bond.is_lead) {
            w->type = "bond";
            w->dp.options.bond = &w->bond.dp;
        }
    }
    /* --- End of bonds. --- */

    const char *peer = col_map_get(iface, "options", "peer");
    const char *mac = col_string(iface, "mac");
    if (!w->error && !strcmp(w->type, "patch") && !peer) {
        w->error = xasprintf("%s: patch port has no options:peer", w->name);
    }
    w->dp.type = w->type;
    w->dp.peer = peer;
    w->dp.options.mac = mac[0] ? mac : NULL;
    /* A new ofport_request re-adds the port (as ovs-vswitchd does). */
    w->ofport_request = col_int(iface, "ofport_request", 0);
    w->db_ofport = col_int(iface, "ofport", 0);
    w->mtu_request = col_int(iface, "mtu_request", 0);
    w->config = xasprintf("%s|%s|%s|%s|%s|%lld|%s", bridge, w->type,
                          peer ? peer : "", mac, w->tunnel.text,
                          w->ofport_request, w->bond.text ? w->bond.text : "");

    /* VLANs, from the Port row. */
    const struct ovsdb_datum *trunks = ovsdb_row_find_column(port, "trunks", NULL);
    const struct ovsdb_datum *cvlans = ovsdb_row_find_column(port, "cvlans", NULL);
    struct vlan_port_config vc = {
        .vlan_mode = col_string(port, "vlan_mode")[0]
                     ? col_string(port, "vlan_mode") : NULL,
        .tag = (int) col_int(port, "tag", -1),
        .trunks = w->trunks,
        .n_trunks = trunks ? trunks->n : 0,
        .cvlans = w->cvlans,
        .n_cvlans = cvlans ? cvlans->n : 0,
        .qinq_ethtype = col_map_get(port, "other_config", "qinq-ethtype"),
    };
    const char *ptags = col_map_get(port, "other_config", "priority-tags");
    if (!vlan_priority_tags_from_string(ptags, &vc.priority_tags)) {
        VLOG_WARN("%s: ignoring invalid other_config:priority-tags \"%s\" "
                  "(never, if-nonzero or always), using never",
                  col_string(port, "name"), ptags);
    }
    struct ds vs = DS_EMPTY_INITIALIZER;
    ds_put_format(&vs, "%s|%d|", vc.vlan_mode ? vc.vlan_mode : "", vc.tag);
    for (size_t k = 0; k < vc.n_trunks && k < 4096; k++) {
        w->trunks[k] = (uint16_t) trunks->keys[k].integer;
        ds_put_format(&vs, "%u,", w->trunks[k]);
    }
    ds_put_char(&vs, '|');
    for (size_t k = 0; k < vc.n_cvlans && k < 4096; k++) {
        w->cvlans[k] = (uint16_t) cvlans->keys[k].integer;
        ds_put_format(&vs, "%u,", w->cvlans[k]);
    }
    ds_put_format(&vs, "|%s|%d", vc.qinq_ethtype ? vc.qinq_ethtype : "",
                  (int) vc.priority_tags);
    w->vlan_config = ds_steal_cstr(&vs);
    if (vlan_port_configure(&w->dp.vlan, &vc) && !w->error) {
        w->error = xasprintf("%s: invalid VLAN configuration on port %s",
                             w->name, col_string(port, "name"));
    }
}

static void
want_destroy(struct iface_want *w)
{
    free(w->config);
    free(w->vlan_config);
    free(w->error);
    bond_want_destroy(&w->bond);
}

static void
iface_remove(struct bridges *b, struct iface *i)
{
    if (i->is_alias) {
        dp_del_port_alias(b->dp, i->name);
    }
    if (i->in_dp) {
        dp_del_port(b->dp, i->name);
        bonds_removed(b->bonds, i->name);
        VLOG_INFO("removed interface %s", i->name);
        coverage_inc(COV_PORT_DEL);
    }
    hmap_remove(&b->ifaces, &i->name_node);
    hmap_remove(&b->by_uuid, &i->uuid_node);
    hmap_remove(&b->by_port, &i->port_node);
    if (i->mtu_bridge && i->mtu_counted) {
        /* The followers' new MTU reaches the database with the poll. */
        bridge_count_mtu(i->mtu_bridge, i->mtu_counted, -1);
        bridge_follow_mtu(b, i->mtu_bridge, NULL);
    }
    if (i->mac_bridge && i->mac_bridge->best_iface == i) {
        bridge_rescan_mac(b, i->mac_bridge);
    }
    free(i->name);
    free(i->config);
    free(i->vlan_config);
    free(i->error);
    free(i->bond_lead);
    free(i->state_error);
    free(i);
}

/* Adds W to the datapath with the port number ofport_pick() chooses; a
 * requested number that is taken falls back to any free one. */
static int
iface_add(struct bridges *b, struct iface *i, struct iface_want *w)
{
    uint32_t remembered = ofport_memory_get(b->ofports, w->bridge, w->name);
    /* The interface named after its bridge is the bridge's local port,
     * OpenFlow's LOCAL, whatever it asks for (as ovs-vswitchd). */
    w->dp.port_no = !strcmp(w->name, w->bridge) ? DP_PORT_LOCAL
                    : ofport_pick(w->ofport_request, w->db_ofport, remembered);
    int error = dp_add_port(b->dp, w->bridge, w->name, &w->dp, &i->ofport);
    if (error == EBUSY && w->dp.port_no) {
        uint32_t wanted = w->dp.port_no;
        w->dp.port_no = 0;
        error = dp_add_port(b->dp, w->bridge, w->name, &w->dp, &i->ofport);
        if (!error && w->ofport_request > 0) {
            coverage_inc(COV_OFPORT_CONFLICT);
            VLOG_WARN("%s: requested ofport %u is in use on %s, using %u",
                      w->name, wanted, w->bridge, i->ofport);
        }
    }
    if (!error) {
        ofport_memory_set(b->ofports, w->bridge, w->name, i->ofport);
    }
    return error;
}

/* A bond member other than the lead gets a port number of its own, as in
 * OVS, reserved in the datapath as an alias of the bond's port. */
static int
iface_add_alias(struct bridges *b, struct iface *i, struct iface_want *w)
{
    uint32_t want = ofport_pick(w->ofport_request, w->db_ofport,
                                ofport_memory_get(b->ofports, w->bridge,
                                                  w->name));
    int error = dp_add_port_alias(b->dp, w->bridge, w->name, w->bond.lead,
                                  want, &i->ofport);
    if (error == EBUSY && want) {
        error = dp_add_port_alias(b->dp, w->bridge, w->name, w->bond.lead, 0,
                                  &i->ofport);
    }
    if (!error) {
        i->is_alias = true;
        ofport_memory_set(b->ofports, w->bridge, w->name, i->ofport);
    }
    return error;
}

/* Interface.mtu_request on a kernel device (system or internal port). */
static void
iface_apply_mtu(struct bridges *b, struct iface *i, const struct iface_want *w)
{
    int mtu = w->mtu_request > 0 && w->mtu_request <= 65535
              ? (int) w->mtu_request : 0;
    if (!i->in_dp || !i->has_netdev || !mtu || mtu == i->mtu_applied) {
        return;
    }
    int error = netdev_ctl_set_mtu(b->sock, i->name, mtu);
    if (error) {
        VLOG_WARN("%s: could not set MTU %d (%s)", i->name, mtu,
                  strerror(error));
    } else {
        VLOG_INFO("%s: MTU set to %d", i->name, mtu);
    }
    /* Not retried until the request changes: a rejected MTU shows as the
     * device's actual 'mtu' in the database. */
    i->mtu_applied = mtu;
}

/* --- MTU of internal ports ---
 *
 * As ovs-vswitchd: an internal port without mtu_request takes the smallest
 * MTU of the bridge's other ports (system ports, and internal ports with
 * mtu_request), 1500 if there are none.  A new follower is only lowered to
 * it; when the minimum changes every follower is set to it.  The minimum
 * is kept from counts of the ports' MTUs, updated as ports come and go and
 * as the status poll sees MTUs change, so adding a port costs no scan. */

static bool
iface_follows_mtu(const struct iface *i)
{
    return i->in_dp && i->internal && !i->mtu_user;
}

static int
bridge_min_mtu(const struct bridge *br)
{
    return br->n_mtus ? br->mtus[0].mtu : 1500;
}

static void
bridge_count_mtu(struct bridge *br, int mtu, int delta)
{
    size_t k = 0;
    while (k < br->n_mtus && br->mtus[k].mtu < mtu) {
        k++;
    }
    if (k < br->n_mtus && br->mtus[k].mtu == mtu) {
        if (delta < 0 && !--br->mtus[k].n) {
            memmove(&br->mtus[k], &br->mtus[k + 1],
                    (--br->n_mtus - k) * sizeof *br->mtus);
        } else if (delta > 0) {
            br->mtus[k].n++;
        }
    } else if (delta > 0) {
        br->mtus = xrealloc(br->mtus, (br->n_mtus + 1) * sizeof *br->mtus);
        memmove(&br->mtus[k + 1], &br->mtus[k],
                (br->n_mtus++ - k) * sizeof *br->mtus);
        br->mtus[k] = (struct mtu_count) { mtu, 1 };
    }
}

static struct bridge *
iface_bridge(const struct bridges *b, const struct iface *i)
{
    const struct port_home *h = home_find(b, &i->port_uuid);
    struct bridge *br;
    HMAP_FOR_EACH (br, node, &b->bridges) {
        if (h && !strcmp(br->name, h->bridge)) {
            return br;
        }
    }
    return NULL;
}

/* Gives follower I the MTU WANT (only if that lowers it, if LOWER_ONLY). */
static void
iface_follow_mtu(struct bridges *b, struct iface *i, int want, bool lower_only,
                 json_t *ops)
{
    int mtu;
    if (netdev_ctl_get_mtu(b->sock, i->name, &mtu)
        || mtu == want || (lower_only && mtu < want)) {
        return;
    }
    int error = netdev_ctl_set_mtu(b->sock, i->name, want);
    if (error) {
        VLOG_WARN("%s: could not set MTU %d (%s)", i->name, want,
                  strerror(error));
    } else {
        VLOG_INFO("%s: MTU set to %d (the smallest of its bridge's ports)",
                  i->name, want);
    }
    if (ops) {
        iface_status(b, i, ops);
    }
}

/* Sets every follower of BR to its minimum MTU if that changed. */
static void
bridge_follow_mtu(struct bridges *b, struct bridge *br, json_t *ops)
{
    int min = bridge_min_mtu(br);
    if (min == br->min_mtu) {
        return;
    }
    br->min_mtu = min;
    struct iface *i;
    HMAP_FOR_EACH (i, name_node, &b->ifaces) {
        if (iface_follows_mtu(i) && iface_bridge(b, i) == br) {
            iface_follow_mtu(b, i, min, false, ops);
        }
    }
}

/* Counts MTU (0: none) as I's contribution to its bridge's minimum, if I
 * is one the minimum is made of; then updates the followers. */
void
iface_count_mtu(struct bridges *b, struct iface *i, int mtu, json_t *ops)
{
    struct bridge *br = i->in_dp && i->has_netdev && !iface_follows_mtu(i)
                        ? iface_bridge(b, i) : NULL;
    if (!br) {
        mtu = 0;
    }
    if (br == i->mtu_bridge && mtu == i->mtu_counted) {
        return;
    }
    struct bridge *old = i->mtu_bridge;
    if (old && i->mtu_counted) {
        bridge_count_mtu(old, i->mtu_counted, -1);
    }
    if (br && mtu) {
        bridge_count_mtu(br, mtu, +1);
    }
    i->mtu_bridge = br;
    i->mtu_counted = mtu;
    if (old && old != br) {
        bridge_follow_mtu(b, old, ops);
    }
    if (br) {
        bridge_follow_mtu(b, br, ops);
    }
}

/* --- Bridge MAC ---
 *
 * Without other_config:hwaddr the bridge (its local port) takes, as in
 * ovs-vswitchd, the smallest globally administered unicast MAC of its
 * other ports, so that a bridge keeps its physical NIC's MAC from one run
 * to the next; failing that, a MAC made from the first bytes of the Bridge
 * row's uuid (marked locally administered), stable as well.  The smallest
 * is kept as the status poll reads each port's MAC, and looked for again
 * only when the port holding it leaves or changes its MAC. */

static bool
mac_is_global_unicast(const uint8_t mac[6])
{
    return !(mac[0] & 0x03) && (mac[0] | mac[1] | mac[2] | mac[3] | mac[4]
                                | mac[5]);
}

static void
bridge_rescan_mac(struct bridges *b, struct bridge *br)
{
    br->best_iface = NULL;
    struct iface *i;
    HMAP_FOR_EACH (i, name_node, &b->ifaces) {
        if (i->mac_bridge == br
            && (!br->best_iface
                || memcmp(i->cand_mac, br->best_iface->cand_mac, 6) < 0)) {
            br->best_iface = i;
        }
    }
    br->mac_dirty = true;
}

/* Takes note of I's MAC, as the status poll read it into *S. */
void
iface_note_mac(struct bridges *b, struct iface *i, const struct iface_state *s)
{
    struct bridge *br = s->in_dp && s->have_mac && i->in_dp && i->has_netdev
                        ? iface_bridge(b, i) : NULL;
    if (br && (!strcmp(i->name, br->name) || !mac_is_global_unicast(s->mac))) {
        br = NULL;                  /* The local port, or not a candidate. */
    }
    if (br == i->mac_bridge && (!br || !memcmp(s->mac, i->cand_mac, 6))) {
        return;
    }
    struct bridge *old = i->mac_bridge;
    i->mac_bridge = br;
    if (br) {
        memcpy(i->cand_mac, s->mac, 6);
    }
    if (old && old->best_iface == i) {
        bridge_rescan_mac(b, old);
    }
    if (br && br != old && br->best_iface != i
        && (!br->best_iface
            || memcmp(s->mac, br->best_iface->cand_mac, 6) < 0)) {
        br->best_iface = i;
        br->mac_dirty = true;
    }
}

/* The MAC BR should have without other_config:hwaddr, into WANT. */
static void
bridge_default_mac(const struct bridge *br, uint8_t want[6])
{
    if (br->best_iface) {
        memcpy(want, br->best_iface->cand_mac, 6);
    } else {
        memcpy(want, &br->uuid, 6);
        want[0] = (uint8_t) ((want[0] & ~0x01) | 0x02);
    }
}

/* Makes the datapath match W for interface I (new or existing). */
static void
iface_apply(struct bridges *b, struct iface *i, struct iface_want *w)
{
    bool same = i->config && !strcmp(i->config, w->config)
                && !i->error == !w->error;
    /* A bond member other than the lead is not a datapath port itself. */
    bool bond_follower = w->bond.is_member && !w->bond.is_lead;
    free(i->bond_lead);
    i->bond_lead = w->bond.is_member && !w->error ? xstrdup(w->bond.lead)
                                                  : NULL;
    if (same && i->in_dp) {
        if (strcmp(i->vlan_config, w->vlan_config)) {
            int error = dp_set_port_vlan(b->dp, i->name, &w->dp.vlan);
            if (error) {
                VLOG_WARN("%s: cannot change VLANs (%s)", i->name, strerror(error));
            } else {
                coverage_inc(COV_PORT_RECONFIGURE);
            }
        }
    } else if (!same || (!i->in_dp && !w->error && !bond_follower)) {
        if (i->is_alias) {
            dp_del_port_alias(b->dp, i->name);
            i->is_alias = false;
        }
        if (i->in_dp) {
            dp_del_port(b->dp, i->name);
            bonds_removed(b->bonds, i->name);
            coverage_inc(COV_PORT_DEL);
            i->in_dp = false;
        }
        free(i->error);
        i->error = w->error ? xstrdup(w->error) : NULL;
        i->mtu_applied = 0;
        i->has_netdev = !strcmp(w->type, "system")
                        || !strcmp(w->type, "internal");
        if (!w->error && !bond_follower) {
            int error = iface_add(b, i, w);
            if (error) {
                i->error = xasprintf("could not open network device %s (%s)",
                                     w->name, strerror(error));
                coverage_inc(COV_PORT_ADD_FAILED);
            } else {
                i->in_dp = true;
                if (w->bond.is_lead) {
                    bonds_added(b->bonds, &w->bond, w->bridge, i->ofport);
                }
                coverage_inc(COV_PORT_ADD);
                VLOG_INFO("added interface %s on port %u of %s (%s)",
                          w->name, i->ofport, w->bridge, w->type);
            }
        } else if (!w->error && iface_add_alias(b, i, w)) {
            i->error = xasprintf("%s: no port number left on %s", w->name,
                                 w->bridge);
        }
        if (i->error) {
            VLOG_WARN("%s", i->error);
        }
    }
    iface_apply_mtu(b, i, w);
    i->internal = !strcmp(w->type, "internal");
    i->mtu_user = w->mtu_request > 0;
    if (iface_follows_mtu(i)) {
        struct bridge *br = iface_bridge(b, i);
        iface_count_mtu(b, i, 0, NULL);
        if (br) {
            iface_follow_mtu(b, i, bridge_min_mtu(br), true, NULL);
        }
    }
    free(i->config);
    free(i->vlan_config);
    i->config = xstrdup(w->config);
    i->vlan_config = xstrdup(w->vlan_config);
}

static void
iface_reconcile(struct bridges *b, const struct ovsdb_row *row,
                const struct ovsdb_row *port, const char *bridge)
{
    struct iface_want w;
    want_init(&w, row, port, bridge, replica_get_db(b->replica));

    struct iface *i = iface_find_uuid(b, &row->uuid);
    struct iface *same_name = iface_find_name(b, w.name);
    if (same_name && same_name != i) {
        /* The name moved to a new row (deleted and re-created). */
        iface_remove(b, same_name);
    }
    if (!i) {
        i = xzalloc(sizeof *i);
        i->name = xstrdup(w.name);
        i->uuid = row->uuid;
        i->port_uuid = port->uuid;
        hmap_insert(&b->ifaces, &i->name_node, hash_string(i->name, 0));
        hmap_insert(&b->by_uuid, &i->uuid_node, uuid_hash(&i->uuid));
        hmap_insert(&b->by_port, &i->port_node, uuid_hash(&i->port_uuid));
    } else if (!uuid_equals(&i->port_uuid, &port->uuid)) {
        hmap_remove(&b->by_port, &i->port_node);
        i->port_uuid = port->uuid;
        hmap_insert(&b->by_port, &i->port_node, uuid_hash(&i->port_uuid));
    }
    iface_apply(b, i, &w);
    want_destroy(&w);
}

/* Re-evaluates every interface of Port UUID, and the ones it used to have. */
static void
port_reconcile(struct bridges *b, const struct uuid *uuid,
               struct uuid_set *done)
{
    const struct ovsdb_row *port = find_row(b, "Port", uuid);
    struct port_home *home = home_find(b, uuid);
    const struct ovsdb_datum *ifaces = port ? ovsdb_row_find_column(port, "interfaces", NULL) : NULL;

    /* Interfaces that left this port (or whose port left its bridge). */
    struct iface *i, *next;
    for (i = HMAP_NODE_TO(hmap_first_with_hash(&b->by_port, uuid_hash(uuid)),
                          i, port_node);
         i; i = next) {
        next = HMAP_NODE_TO(hmap_next_with_hash(&i->port_node), i, port_node);
        if (!uuid_equals(&i->port_uuid, uuid)) {
            continue;
        }
        const union ovsdb_atom iface_uuid = { .uuid = i->uuid };
        bool keep = home && ifaces
                    && ovsdb_datum_find_key(ifaces, &iface_uuid,
                                            OVSDB_TYPE_UUID) != UINT_MAX;
        if (!keep) {
            iface_remove(b, i);
        }
    }
    if (!port || !home) {
        return;
    }
    for (unsigned int k = 0; ifaces && k < ifaces->n; k++) {
        const struct ovsdb_row *row = find_row(b, "Interface", &ifaces->keys[k].uuid);
        if (row) {
            iface_reconcile(b, row, port, home->bridge);
            uuid_set_add(done, &row->uuid);
        }
    }
}

/* 0: Port UUID leaves its bridge; 1: it is (re)configured and one of its
 * interfaces asks for a port number; 2: any other. */
static int
port_order(const struct bridges *b, const struct uuid *uuid)
{
    const struct ovsdb_row *port = find_row(b, "Port", uuid);
    if (!port || !home_find(b, uuid)) {
        return 0;
    }
    const struct ovsdb_datum *ifaces = ovsdb_row_find_column(port, "interfaces",
                                                             NULL);
    for (unsigned int k = 0; ifaces && k < ifaces->n; k++) {
        const struct ovsdb_row *row = find_row(b, "Interface",
                                               &ifaces->keys[k].uuid);
        if (row && (col_int(row, "ofport_request", 0) > 0
                    || col_int(row, "ofport", 0) > 0)) {
            return 1;
        }
    }
    return 2;
}

/* Global settings from the Open_vSwitch row's other_config. */
static void
ovs_apply_settings(struct bridges *b, const struct ovsdb_row *ovs)
{
    const char *limit = col_map_get(ovs, "other_config", "vlan-limit");
    int n = 1;                      /* ovs-vswitchd's default. */
    if (limit && (!str_to_int(limit, 10, &n) || n < 0)) {
        VLOG_WARN("ignoring invalid other_config:vlan-limit \"%s\"", limit);
        n = 1;
    }
    dp_set_vlan_limit(b->dp, (unsigned int) MIN(n, 4096));

    const char *stats = col_map_get(ovs, "other_config", "enable-statistics");
    bool enable = stats && !strcmp(stats, "true");
    if (enable && !b->sys_stats) {
        b->next_sys_stats = LLONG_MIN;
    }
    b->sys_stats = enable;
}

/* --- Bridge local port: MAC and datapath_id --- */

static bool
mac_usable(const uint8_t mac[6])
{
    static const uint8_t zero[6];
    return !(mac[0] & 1) && memcmp(mac, zero, 6);
}

/* other_config:datapath-id: exactly 16 hex digits, not all zero. */
static bool
parse_dpid(const char *s, uint64_t *dpid)
{
    if (!s || strlen(s) != 16 || strspn(s, "0123456789abcdefABCDEF") != 16) {
        return false;
    }
    *dpid = strtoull(s, NULL, 16);
    return *dpid != 0;
}

/* Gives BR's local port (the internal interface named after the bridge)
 * the MAC from other_config:hwaddr, and writes Bridge.datapath_id: the
 * configured other_config:datapath-id, else the bridge MAC as a 64-bit
 * number (16 hex digits, as ovs-vswitchd derives it).  A bridge without a
 * local port gets a MAC hashed from its name so its id stays stable. */
static void
bridge_sync_local(struct bridges *b, struct bridge *br, json_t *ops,
                  struct uuid_set *done)
{
    const struct ovsdb_row *row = find_row(b, "Bridge", &br->uuid);
    if (!row) {
        return;
    }
    struct iface *local = iface_find_name(b, br->name);
    uint8_t mac[6], want[6] = { 0 };
    bool have_mac = local && local->in_dp && local->has_netdev
                    && !netdev_ctl_get_mac(b->sock, br->name, mac);
    const char *hwaddr = col_map_get(row, "other_config", "hwaddr");
    bool valid = hwaddr && netdev_ctl_parse_mac(hwaddr, want)
                 && mac_usable(want);
    if (hwaddr && !valid
        && (!br->hwaddr_applied || strcmp(br->hwaddr_applied, hwaddr))) {
        VLOG_WARN("%s: other_config:hwaddr \"%s\" is not a unicast MAC "
                  "address; ignored", br->name, hwaddr);
    }
    free(br->hwaddr_applied);
    br->hwaddr_applied = hwaddr ? xstrdup(hwaddr) : NULL;
    br->mac_dirty = false;
    const struct ovsdb_row *local_row = local ? find_row(b, "Interface",
                                                         &local->uuid) : NULL;
    if (!valid && !(local_row && col_string(local_row, "mac")[0])) {
        /* (Interface.mac on the local port, a Lanyard extension, wins.) */
        bridge_default_mac(br, want);
        valid = true;
    }
    char want_s[18];
    snprintf(want_s, sizeof want_s, "%02x:%02x:%02x:%02x:%02x:%02x",
             want[0], want[1], want[2], want[3], want[4], want[5]);
    if (valid && have_mac && memcmp(mac, want, 6)) {
        int error = netdev_ctl_set_mac(b->sock, br->name, want);
        if (error) {
            VLOG_WARN("%s: could not set MAC %s (%s)", br->name, want_s,
                      strerror(error));
        } else {
            VLOG_INFO("%s: bridge MAC set to %s", br->name, want_s);
            memcpy(mac, want, 6);
            uuid_set_add(done, &local->uuid);
        }
    } else if (!have_mac && valid) {
        memcpy(mac, want, 6);
        have_mac = true;
    }
    uint64_t dpid;
    if (!parse_dpid(col_map_get(row, "other_config", "datapath-id"), &dpid)) {
        if (!have_mac) {
            uint32_t h = hash_string(br->name, 0);
            uint8_t derived[6] = { 0x02, 0x1a, (uint8_t) (h >> 24),
                                   (uint8_t) (h >> 16), (uint8_t) (h >> 8),
                                   (uint8_t) h };
            memcpy(mac, derived, 6);
        }
        dpid = 0;
        for (int k = 0; k < 6; k++) {
            dpid = dpid << 8 | mac[k];
        }
    }
    char text[17];
    snprintf(text, sizeof text, "%016llx", (unsigned long long) dpid);
    if (br->datapath_id && !strcmp(br->datapath_id, text)) {
        return;
    }
    free(br->datapath_id);
    br->datapath_id = xstrdup(text);
    if (strcmp(col_string(row, "datapath_id"), text)) {
        json_array_append_new(ops, update_op("Bridge", &br->uuid,
                                             json_pack("{s:s}", "datapath_id",
                                                       text)));
    }
}

/* --- Main entry points --- */

struct bridges *
bridges_create(struct dp *dp, struct replica *replica)
{
    struct bridges *b = xzalloc(sizeof *b);
    b->dp = dp;
    b->replica = replica;
    hmap_init(&b->bridges);
    hmap_init(&b->homes);
    hmap_init(&b->ifaces);
    hmap_init(&b->by_uuid);
    hmap_init(&b->by_port);
    b->cur_cfg = -1;
    b->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    b->ofports = ofport_memory_create();
    b->bonds = bonds_create(dp);
    b->mirrors = mirrors_create(dp);
    b->qos = qos_create(dp, replica);
    b->dummy_pcaps = dummy_pcaps_create(dp, replica);
    return b;
}

void
bridges_destroy(struct bridges *b)
{
    if (!b) {
        return;
    }
    struct uuid_set scratch;
    hmap_init(&scratch.map);
    while (!hmap_is_empty(&b->bridges)) {
        bridge_destroy(b, OBJECT_CONTAINING(hmap_first(&b->bridges),
                                            (struct bridge *) NULL, node),
                       &scratch);
    }
    struct iface *i, *next;
    HMAP_FOR_EACH_SAFE (i, next, name_node, &b->ifaces) {
        iface_remove(b, i);
    }
    struct port_home *h;
    HMAP_FOR_EACH_POP (h, node, &b->homes) {
        free(h->bridge);
        free(h);
    }
    uuid_set_destroy(&scratch);
    hmap_destroy(&b->bridges);
    hmap_destroy(&b->homes);
    hmap_destroy(&b->ifaces);
    hmap_destroy(&b->by_uuid);
    hmap_destroy(&b->by_port);
    if (b->sock >= 0) {
        close(b->sock);
    }
    ofport_memory_destroy(b->ofports);
    bonds_destroy(b->bonds);
    mirrors_destroy(b->mirrors);
    qos_destroy(b->qos);
    dummy_pcaps_destroy(b->dummy_pcaps);
    free(b);
}

/* mirrors_port_no_fn: the datapath port number of Port row PORT (a
 * bond's is its lead member's). */
static bool
port_number(void *b_, const struct uuid *port, uint32_t *port_no)
{
    struct bridges *b = b_;
    struct iface *i;
    HMAP_FOR_EACH_WITH_HASH (i, port_node, uuid_hash(port), &b->by_port) {
        if (uuid_equals(&i->port_uuid, port) && i->in_dp) {
            *port_no = i->ofport;
            return true;
        }
    }
    return false;
}

static void
mark_all(struct bridges *b, struct uuid_set *bridges)
{
    struct ovsdb *db = replica_get_db(b->replica);
    const struct ovsdb_table *t = ovsdb_find_table(db, "Bridge");
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        uuid_set_add(bridges, &row->uuid);
    }
    struct bridge *br;
    HMAP_FOR_EACH (br, node, &b->bridges) {
        uuid_set_add(bridges, &br->uuid);
    }
}

/* What change C of a Bridge row means for the bridge's ports: the ports its
 * "ports" difference names go into TOUCHED; a row inserted or deleted puts
 * the bridge into FULL (compare all its ports). */
static void
note_bridge_change(const struct bridges *b, const struct replica_change *c,
                   struct uuid_set *full, struct uuid_set *touched)
{
    struct ovsdb_datum diff;
    const struct ovsdb_type *type;
    if (!c->modify) {
        uuid_set_add(full, &c->uuid);
    } else if (replica_change_get_diff(b->replica, c, "ports", &diff,
                                       &type)) {
        for (unsigned int k = 0; k < diff.n; k++) {
            uuid_set_add(touched, &diff.keys[k].uuid);
        }
        ovsdb_datum_destroy(&diff, type);
    }
}

/* Drops what we remember having written, so that this round writes again
 * whatever the database does not hold. */
static void
forget_written(struct bridges *b)
{
    b->cur_cfg = -1;
    struct iface *i;
    HMAP_FOR_EACH (i, name_node, &b->ifaces) {
        i->status_written = i->stats_written = false;
    }
    struct bridge *br;
    HMAP_FOR_EACH (br, node, &b->bridges) {
        free(br->datapath_id);  /* Compared with the row before a write. */
        br->datapath_id = NULL;
    }
}

void
bridges_run(struct bridges *b, long long now)
{
    if (!replica_is_ready(b->replica)) {
        return;
    }
    struct replica_change *changes;
    bool reset;
    size_t n = replica_take_changes(b->replica, &changes, &reset);
    /* What a transaction that failed, or was lost with the connection (the
     * database died before committing it), wrote is written again (cur_cfg
     * if the database still lacks it): otherwise cur_cfg stays behind
     * next_cfg and a client waiting for it (ovs-vsctl reconnects) waits
     * forever. */
    bool rewrite = replica_n_failed(b->replica) != b->n_failed_seen;
    if (rewrite) {
        b->n_failed_seen = replica_n_failed(b->replica);
        forget_written(b);
        if (reset) {
            /* Lost with the connection: every status now.  A write the
             * database refused waits for the 5 s round, so one it keeps
             * refusing costs a round per 5 s, not a loop. */
            b->next_stats = 0;
        }
    }

    struct uuid_set bridges, ports, ifaces, done;
    struct uuid_set full_bridges, touched_ports;
    hmap_init(&bridges.map);
    hmap_init(&ports.map);
    hmap_init(&ifaces.map);
    hmap_init(&done.map);
    hmap_init(&full_bridges.map);
    hmap_init(&touched_ports.map);
    if (reset) {
        mark_all(b, &bridges);
        mark_all(b, &full_bridges);
    }
    bool ovs_changed = reset;
    for (size_t k = 0; k < n; k++) {
        const char *t = changes[k].table;
        struct uuid_set *s = !strcmp(t, "Bridge") ? &bridges
                             : !strcmp(t, "Port") ? &ports
                             : !strcmp(t, "Interface") ? &ifaces : NULL;
        if (s) {
            uuid_set_add(s, &changes[k].uuid);
            if (s == &bridges) {
                note_bridge_change(b, &changes[k], &full_bridges,
                                   &touched_ports);
            }
        } else if (!strcmp(t, "Open_vSwitch")) {
            ovs_changed = true;
        }
    }
    qos_note_changes(b->qos, changes, n, reset);
    dummy_pcaps_note_changes(b->dummy_pcaps, changes, n, reset);
    replica_changes_free(changes, n);

    json_t *ops = json_array();
    struct uuid_node *u;
    HMAP_FOR_EACH (u, node, &bridges.map) {
        bool full = false;
        struct uuid_node *f;
        HMAP_FOR_EACH_WITH_HASH (f, node, uuid_hash(&u->uuid),
                                 &full_bridges.map) {
            full |= uuid_equals(&f->uuid, &u->uuid);
        }
        bridge_reconcile(b, &u->uuid, full, &touched_ports, &ports);
    }
    /* Removals first, then ports asking for a port number, then the rest,
     * so that a port added without a request cannot take a number another
     * one asks for (after a restart every port asks for the one it had). */
    for (int pass = 0; pass < 3; pass++) {
        HMAP_FOR_EACH (u, node, &ports.map) {
            if (port_order(b, &u->uuid) == pass) {
                port_reconcile(b, &u->uuid, &done);
            }
        }
    }
    /* Interfaces changed on their own (e.g. type or options). */
    HMAP_FOR_EACH (u, node, &ifaces.map) {
        struct iface *i = iface_find_uuid(b, &u->uuid);
        const struct ovsdb_row *row = find_row(b, "Interface", &u->uuid);
        if (!row) {
            if (i) {
                iface_remove(b, i);
            }
            continue;
        }
        struct uuid_node *d;
        bool already = false;
        HMAP_FOR_EACH_WITH_HASH (d, node, uuid_hash(&u->uuid), &done.map) {
            already |= uuid_equals(&d->uuid, &u->uuid);
        }
        if (i && !already) {
            const struct ovsdb_row *port = find_row(b, "Port", &i->port_uuid);
            struct port_home *home = home_find(b, &i->port_uuid);
            if (port && home) {
                iface_reconcile(b, row, port, home->bridge);
            }
        }
    }

    if (n || reset) {
        coverage_inc(COV_RECONCILE);
        if (reset) {
            coverage_inc(COV_DB_RESET);
        }
        struct bridge *br;
        HMAP_FOR_EACH (br, node, &b->bridges) {
            bridge_sync_local(b, br, ops, &done);
        }
        /* After the ports, whose numbers mirrors refer to. */
        mirrors_reconfigure(b->mirrors, replica_get_db(b->replica),
                            port_number, b);
    }

    /* Status of every interface we looked at (once each), then the
     * handshake. */
    HMAP_FOR_EACH (u, node, &ifaces.map) {
        uuid_set_add(&done, &u->uuid);
    }
    HMAP_FOR_EACH (u, node, &done.map) {
        struct iface *i = iface_find_uuid(b, &u->uuid);
        if (i) {
            iface_status(b, i, ops);
        }
    }
    if (now >= b->next_stats) {
        b->next_stats = now + STATS_INTERVAL_MSEC;
        struct iface *i;
        HMAP_FOR_EACH (i, name_node, &b->ifaces) {
            /* Devices go up and down (and change MAC or MTU) without any
             * database change, so their status is polled with the stats;
             * iface_status() writes only what changed. */
            iface_status(b, i, ops);
            iface_stats(b, i, ops);
        }
        mirrors_write_stats(b->mirrors, ops);
    }
    /* A port's MAC seen above may make a bridge MAC change. */
    struct bridge *br;
    HMAP_FOR_EACH (br, node, &b->bridges) {
        if (br->mac_dirty) {
            struct uuid_set local;
            hmap_init(&local.map);
            bridge_sync_local(b, br, ops, &local);
            HMAP_FOR_EACH (u, node, &local.map) {
                struct iface *i = iface_find_uuid(b, &u->uuid);
                if (i) {
                    iface_status(b, i, ops);
                }
            }
            uuid_set_destroy(&local);
        }
    }
    bonds_run(b->bonds, now, ops);      /* Port.bond_active_slave. */
    qos_run(b->qos);                    /* After the ports are in place. */
    dummy_pcaps_run(b->dummy_pcaps);    /* Likewise. */
    const struct ovsdb_row *ovs = ovs_row(b);
    if (ovs && ovs_changed) {
        ovs_apply_settings(b, ovs);
    }
    if (ovs) {
        ovs_sys_stats(b, ovs, now, ops);
    }
    if (ovs && (ovs_changed || rewrite || json_array_size(ops))) {
        long long next_cfg = col_int(ovs, "next_cfg", 0);
        if (next_cfg != col_int(ovs, "cur_cfg", 0) && next_cfg != b->cur_cfg) {
            json_array_append_new(ops, update_op("Open_vSwitch", &ovs->uuid,
                                                 json_pack("{s:I}", "cur_cfg",
                                                           (json_int_t) next_cfg)));
            b->cur_cfg = next_cfg;
        }
    }
    if (json_array_size(ops)) {
        coverage_inc(COV_DB_TXN);
        replica_transact(b->replica, ops);
    } else {
        json_decref(ops);
    }
    uuid_set_destroy(&bridges);
    uuid_set_destroy(&ports);
    uuid_set_destroy(&ifaces);
    uuid_set_destroy(&done);
    uuid_set_destroy(&full_bridges);
    uuid_set_destroy(&touched_ports);
}

void
bridges_wait(struct bridges *b)
{
    if (replica_is_ready(b->replica)) {
        poll_timer_wait_until(b->next_stats);
        bonds_wait(b->bonds);
        dummy_pcaps_wait(b->dummy_pcaps);
        if (b->sys_stats) {
            poll_timer_wait_until(b->next_sys_stats);
        }
    }
}

void
bridges_format(const struct bridges *b, struct ds *out)
{
    struct bridge *br;
    HMAP_FOR_EACH (br, node, &b->bridges) {
        ds_put_format(out, "%s:\n", br->name);
        struct iface *i;
        HMAP_FOR_EACH (i, name_node, &b->ifaces) {
            struct port_home *h = home_find(b, &i->port_uuid);
            if (!h || strcmp(h->bridge, br->name)) {
                continue;
            }
            if (i->in_dp || i->is_alias) {
                ds_put_format(out, "  %s %u\n", i->name, i->ofport);
            } else {
                ds_put_format(out, "  %s (error: %s)\n", i->name,
                              i->error ? i->error : "not configured");
            }
        }
    }
}

const char *
bridges_only_bridge(const struct bridges *b)
{
    if (hmap_count(&b->bridges) != 1) {
        return NULL;
    }
    const struct bridge *br = OBJECT_CONTAINING(hmap_first(&b->bridges),
                                                (struct bridge *) NULL, node);
    return br->name;
}

struct bonds *
bridges_bonds(struct bridges *b)
{
    return b->bonds;
}

struct dummy_pcaps *
bridges_dummy_pcaps(struct bridges *b)
{
    return b->dummy_pcaps;
}

bool
bridges_exists(const struct bridges *b, const char *name)
{
    struct bridge *br;
    HMAP_FOR_EACH (br, node, &b->bridges) {
        if (!strcmp(br->name, name)) {
            return true;
        }
    }
    return false;
}
