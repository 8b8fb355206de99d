#include "bond.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#include "dp.h"
#include "ds.h"
#include "fdb.h"
#include "hash.h"
#include "hmap.h"
#include "netdev-ctl.h"
#include "ovsdb-data.h"
#include "ovsdb.h"
#include "packet.h"
#include "poll-loop.h"
#include "unixctl.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(bond);

#define BOND_RUN_MSEC 100

/* --- Reading the Port row --- */

static const char *
row_string(const struct ovsdb_row *row, const char *name)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, name, NULL);
    return d && d->n ? d->keys[0].string : "";
}

static long long
row_int(const struct ovsdb_row *row, const char *name, long long dflt)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, name, NULL);
    return d && d->n ? d->keys[0].integer : dflt;
}

static const char *
row_map_get(const struct ovsdb_row *row, const char *name, const char *key)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, name, NULL);
    for (unsigned int i = 0; d && i < d->n; i++) {
        if (!strcmp(d->keys[i].string, key)) {
            return d->values[i].string;
        }
    }
    return NULL;
}

static int
member_cmp(const void *a_, const void *b_)
{
    const struct dp_bond_member_config *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

static const char *
mode_name(enum dp_bond_mode mode)
{
    return mode == DP_BOND_BALANCE_SLB ? "balance-slb"
           : mode == DP_BOND_BALANCE_TCP ? "balance-tcp" : "active-backup";
}

/* An LACP number setting (priority, port id, key): 1..65535, or 0 when
 * unset or out of range (the default then applies, as in OVS). */
static uint16_t
lacp_number(const char *s, const char *what, const char *owner)
{
    int v;
    if (!s) {
        return 0;
    }
    if (!str_to_int(s, 10, &v) || v <= 0 || v > 65535) {
        VLOG_WARN("%s: ignoring %s \"%s\" (expected 1 to 65535)", owner,
                  what, s);
        return 0;
    }
    return (uint16_t) v;
}

/* As OVS reads a MAC in bond/hash and lacp-system-id: one or two hex
 * digits per byte (netdev_ctl_parse_mac() wants exactly two). */
static bool
parse_mac(const char *s, uint8_t mac[6])
{
    unsigned int b[6];
    char extra;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &b[0], &b[1], &b[2], &b[3], &b[4],
               &b[5], &extra) != 6) {
        return false;
    }
    for (int i = 0; i < 6; i++) {
        if (b[i] > 255) {
            return false;
        }
        mac[i] = (uint8_t) b[i];
    }
    return true;
}

/* Not created yet (e.g. switchd is starting and reconciles this bond
 * first): the local Interface's mac_in_use as the last switchd wrote it. */
static void
local_mac_in_use(struct ovsdb *db, const char *bridge, uint8_t mac[6])
{
    const struct ovsdb_table *t = ovsdb_find_table(db, "Interface");
    const struct ovsdb_row *row;
    if (!t) {
        return;
    }
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        if (!strcmp(row_string(row, "name"), bridge)) {
            const char *s = row_string(row, "mac_in_use");
            if (!parse_mac(s, mac)) {
                memset(mac, 0, 6);
            }
            return;
        }
    }
}

/* The MAC of the bridge that holds Port PORT (its local device), which is
 * LACP's default system id, as in OVS; stays zero if unknown (the bond then
 * uses its first member's MAC). */
static void
bridge_mac(struct ovsdb *db, const struct ovsdb_row *port, uint8_t mac[6])
{
    const struct ovsdb_table *t = ovsdb_find_table(db, "Bridge");
    const union ovsdb_atom port_uuid = { .uuid = port->uuid };
    const struct ovsdb_row *br;
    if (!t) {
        return;
    }
    OVSDB_TABLE_FOR_EACH_ROW (br, t) {
        const struct ovsdb_datum *ports;
        ports = ovsdb_row_find_column(br, "ports", NULL);
        if (!ports || ovsdb_datum_find_key(ports, &port_uuid, OVSDB_TYPE_UUID)
                      == UINT_MAX) {
            continue;
        }
        const char *name = row_string(br, "name");
        int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        int error = netdev_ctl_get_mac(sock, name, mac);
        if (sock >= 0) {
            close(sock);
        }
        if (error) {
            local_mac_in_use(db, name, mac);
        }
        return;
    }
}

/* Port.lacp and its other_config keys, into W->dp. */
static char *
parse_lacp(struct bond_want *w, const struct ovsdb_row *port)
{
    const char *lacp = row_string(port, "lacp");
    if (!lacp[0] || !strcmp(lacp, "off")) {
        w->dp.lacp = DP_BOND_LACP_OFF;
        return NULL;
    } else if (!strcmp(lacp, "active")) {
        w->dp.lacp = DP_BOND_LACP_ACTIVE;
    } else if (!strcmp(lacp, "passive")) {
        w->dp.lacp = DP_BOND_LACP_PASSIVE;
    } else {
        return xasprintf("bond %s: unknown lacp mode \"%s\"", w->port_name,
                         lacp);
    }
    w->dp.lacp_name = w->port_name;
    const char *time = row_map_get(port, "other_config", "lacp-time");
    if (time && strcmp(time, "fast") && strcmp(time, "slow")) {
        return xasprintf("bond %s: unknown lacp-time \"%s\" (expected fast "
                         "or slow)", w->port_name, time);
    }
    w->dp.lacp_fast = time && !strcmp(time, "fast");
    const char *fallback = row_map_get(port, "other_config",
                                       "lacp-fallback-ab");
    w->dp.lacp_fallback_ab = fallback && !strcmp(fallback, "true");
    const char *id = row_map_get(port, "other_config", "lacp-system-id");
    static const uint8_t zero[6];
    if (id && (!parse_mac(id, w->dp.lacp_sys_id)
               || !memcmp(w->dp.lacp_sys_id, zero, 6))) {
        return xasprintf("bond %s: lacp-system-id \"%s\" is not a nonzero "
                         "MAC address", w->port_name, id);
    }
    w->dp.lacp_sys_priority = lacp_number(
        row_map_get(port, "other_config", "lacp-system-priority"),
        "lacp-system-priority", w->port_name);
    return NULL;
}

/* W's members, from the Interface rows IFACES names, sorted by name. */
static void
read_members(struct bond_want *w, struct ovsdb *db,
             const struct ovsdb_datum *ifaces)
{
    const struct ovsdb_table *t = ovsdb_find_table(db, "Interface");
    w->members = xcalloc(ifaces->n, sizeof *w->members);
    for (unsigned int k = 0; k < ifaces->n; k++) {
        const struct ovsdb_row *row = t ? ovsdb_table_find_row(
            t, &ifaces->keys[k].uuid) : NULL;
        if (!row) {
            continue;
        }
        struct dp_bond_member_config *m = &w->members[w->dp.n_members++];
        const char *type = row_string(row, "type");
        const char *mac = row_string(row, "mac");
        m->name = row_string(row, "name");
        m->type = !type[0] ? "system" : type;
        m->mac = mac[0] ? mac : NULL;
        m->lacp_port_id = lacp_number(
            row_map_get(row, "other_config", "lacp-port-id"),
            "lacp-port-id", m->name);
        m->lacp_port_priority = lacp_number(
            row_map_get(row, "other_config", "lacp-port-priority"),
            "lacp-port-priority", m->name);
        m->lacp_key = lacp_number(
            row_map_get(row, "other_config", "lacp-aggregation-key"),
            "lacp-aggregation-key", m->name);
    }
    qsort(w->members, w->dp.n_members, sizeof *w->members, member_cmp);
    w->dp.members = w->members;
    /* The members' Interface rows, in the same (name) order, for
     * Interface.lacp_current. */
    w->member_uuids = xcalloc(ifaces->n, sizeof *w->member_uuids);
    for (unsigned int k = 0; t && k < ifaces->n; k++) {
        const struct ovsdb_row *row = ovsdb_table_find_row(
            t, &ifaces->keys[k].uuid);
        for (size_t i = 0; row && i < w->dp.n_members; i++) {
            if (!strcmp(w->members[i].name, row_string(row, "name"))) {
                w->member_uuids[i] = row->uuid;
            }
        }
    }
}

static char *
check_member_types(const struct bond_want *w)
{
    for (size_t i = 0; i < w->dp.n_members; i++) {
        const char *type = w->members[i].type;
        if (strcmp(type, "system") && strcmp(type, "internal")
            && strcmp(type, "dummy")) {
            return xasprintf("bond %s: member %s has type \"%s\"; bond "
                             "members must be system, internal or dummy "
                             "interfaces", w->port_name, w->members[i].name,
                             type);
        }
    }
    return NULL;
}

/* W's settings as text (caller frees): a change in it is a change of the
 * bond. */
static char *
settings_text(const struct bond_want *w, const struct ovsdb_row *port)
{
    struct ds text = DS_EMPTY_INITIALIZER;
    /* The raw columns, so that a change from one error to another is a
     * change too. */
    const char *detect = row_map_get(port, "other_config", "bond-detect-mode");
    ds_put_format(&text, "bond:%s:%s:%s:%s:%lld:%lld:%s:", w->port_name,
                  row_string(port, "bond_mode"), row_string(port, "lacp"),
                  detect ? detect : "", row_int(port, "bond_updelay", 0),
                  row_int(port, "bond_downdelay", 0),
                  w->dp.primary ? w->dp.primary : "");
    const uint8_t *id = w->dp.lacp_sys_id;
    ds_put_format(&text, "lacp:%d:%d:%d:%02x%02x%02x%02x%02x%02x:%u:%d:",
                  (int) w->dp.lacp, w->dp.lacp_fast, w->dp.lacp_fallback_ab,
                  id[0], id[1], id[2], id[3], id[4], id[5],
                  w->dp.lacp_sys_priority, w->dp.rebalance_ms);
    ds_put_format(&text, "%"PRIu32":%d:", w->dp.hash_basis,
                  w->dp.all_members_active);
    for (size_t i = 0; i < w->dp.n_members; i++) {
        const struct dp_bond_member_config *m = &w->members[i];
        ds_put_format(&text, "%s/%s/%s/%u/%u/%u,", m->name, m->type,
                      m->mac ? m->mac : "", m->lacp_port_id,
                      m->lacp_port_priority, m->lacp_key);
    }
    return ds_steal_cstr(&text);
}

/* other_config:bond-hash-basis and all-members-active.  ovs-vswitchd reads
 * a bad value as the default (0, false); so does this, with a warning. */
static void
parse_balancing(struct bond_want *w, const struct ovsdb_row *port)
{
    const char *basis = row_map_get(port, "other_config", "bond-hash-basis");
    unsigned int b = 0;
    if (basis && !str_to_uint(basis, 10, &b)) {
        VLOG_WARN("bond %s: ignoring invalid bond-hash-basis \"%s\" (not a "
                  "32-bit unsigned integer), using 0", w->port_name, basis);
        b = 0;
    }
    w->dp.hash_basis = b;
    const char *all = row_map_get(port, "other_config", "all-members-active");
    w->dp.all_members_active = all && !strcasecmp(all, "true");
    if (all && strcasecmp(all, "true") && strcasecmp(all, "false")) {
        VLOG_WARN("bond %s: ignoring invalid all-members-active \"%s\" "
                  "(true or false), using false", w->port_name, all);
    }
}

/* The Port's bond settings, validated into W->dp (members aside). */
static char *
parse_settings(struct bond_want *w, const struct ovsdb_row *port)
{
    char *error = parse_lacp(w, port);
    if (error) {
        return error;
    }
    const char *mode = row_string(port, "bond_mode");
    if (!mode[0] || !strcmp(mode, "active-backup")) {
        w->dp.mode = DP_BOND_ACTIVE_BACKUP;     /* OVS's default. */
    } else if (!strcmp(mode, "balance-slb")) {
        w->dp.mode = DP_BOND_BALANCE_SLB;
    } else if (!strcmp(mode, "balance-tcp")) {
        w->dp.mode = DP_BOND_BALANCE_TCP;
        if (w->dp.lacp == DP_BOND_LACP_OFF) {
            VLOG_WARN("bond %s: balance-tcp needs LACP; with lacp=off the "
                      "bond carries no traffic", w->port_name);
        }
    } else {
        return xasprintf("bond %s: unknown bond_mode \"%s\"",
                         w->port_name, mode);
    }
    /* miimon is polled link state too; both sample the carrier here. */
    const char *detect = row_map_get(port, "other_config", "bond-detect-mode");
    if (detect && strcmp(detect, "carrier") && strcmp(detect, "miimon")) {
        return xasprintf("bond %s: unknown bond-detect-mode \"%s\" (expected "
                         "carrier or miimon)", w->port_name, detect);
    }
    long long up = row_int(port, "bond_updelay", 0);
    long long down = row_int(port, "bond_downdelay", 0);
    if (up < 0 || down < 0 || up > INT_MAX || down > INT_MAX) {
        return xasprintf("bond %s: bond_updelay and bond_downdelay must be "
                         "between 0 and %d ms", w->port_name, INT_MAX);
    }
    w->dp.updelay_ms = (int) up;
    w->dp.downdelay_ms = (int) down;
    w->dp.primary = row_map_get(port, "other_config", "bond-primary");
    /* OVS's default: every 10 s; 0 disables rebalancing. */
    const char *interval = row_map_get(port, "other_config",
                                       "bond-rebalance-interval");
    int ms = 10000;
    if (interval && (!str_to_int(interval, 10, &ms) || ms < 0)) {
        return xasprintf("bond %s: bond-rebalance-interval \"%s\" is not a "
                         "number of milliseconds", w->port_name, interval);
    }
    w->dp.rebalance_ms = ms;
    parse_balancing(w, port);
    return NULL;
}

char *
bond_want_init(struct bond_want *w, struct ovsdb *db,
               const struct ovsdb_row *port, const struct ovsdb_row *iface)
{
    memset(w, 0, sizeof *w);
    w->access_tag = -1;
    const struct ovsdb_datum *ifaces;
    ifaces = ovsdb_row_find_column(port, "interfaces", NULL);
    if (!ifaces || ifaces->n < 2) {
        return NULL;
    }
    w->is_member = true;
    w->port_name = xstrdup(row_string(port, "name"));
    w->port_uuid = port->uuid;
    w->access_tag = (int) row_int(port, "tag", -1);
    const char *saved = row_string(port, "bond_active_slave");
    w->saved_active_mac = saved[0] ? xstrdup(saved) : NULL;
    if (ifaces->n > DP_BOND_MAX_MEMBERS) {
        return xasprintf("bond %s has %u interfaces, more than the %d "
                         "supported", w->port_name, ifaces->n,
                         DP_BOND_MAX_MEMBERS);
    }

    read_members(w, db, ifaces);
    const char *name = row_string(iface, "name");
    w->lead = xstrdup(w->dp.n_members ? w->members[0].name : name);
    w->is_lead = !strcmp(w->lead, name);

    char *error = parse_settings(w, port);
    if (!error && w->dp.lacp != DP_BOND_LACP_OFF
        && !row_map_get(port, "other_config", "lacp-system-id")) {
        bridge_mac(db, port, w->dp.lacp_sys_id);
    }
    if (!error) {
        error = check_member_types(w);
    }

    w->text = settings_text(w, port);
    return error;
}

void
bond_want_destroy(struct bond_want *w)
{
    free(w->lead);
    free(w->port_name);
    free(w->saved_active_mac);
    free(w->text);
    free(w->members);
    free(w->member_uuids);
}

/* --- Bonds in the datapath --- */

struct bond_entry {
    struct hmap_node node;      /* In bonds.map, by lead name. */
    char *lead;                 /* Datapath port name. */
    char *port_name, *bridge;
    struct uuid port_uuid;
    uint32_t ofport;
    int access_tag;
    uint64_t seq_seen;
    bool status_written;
    char *active_mac;           /* Last bond_active_slave written. */
    size_t n_members;
    struct uuid *member_uuids;  /* In the bond's member order. */
    int8_t *lacp_written;       /* Last lacp_current: -2 none yet, -1 [],
                                 * 0 false, 1 true. */
    uint32_t *port_nos;         /* Members' port numbers given to LACP. */
    int lacp_status;            /* Last logged enum dp_bond_lacp_status. */
};

struct bonds {
    struct dp *dp;
    struct hmap map;
    int sock;                   /* For SIOCGIFHWADDR. */
};

struct bonds *
bonds_create(struct dp *dp)
{
    struct bonds *bonds = xzalloc(sizeof *bonds);
    bonds->dp = dp;
    hmap_init(&bonds->map);
    bonds->sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    return bonds;
}

static void
entry_free(struct bond_entry *e)
{
    free(e->lead);
    free(e->port_name);
    free(e->bridge);
    free(e->active_mac);
    free(e->member_uuids);
    free(e->lacp_written);
    free(e->port_nos);
    free(e);
}

void
bonds_destroy(struct bonds *bonds)
{
    if (!bonds) {
        return;
    }
    struct bond_entry *e;
    HMAP_FOR_EACH_POP (e, node, &bonds->map) {
        entry_free(e);
    }
    hmap_destroy(&bonds->map);
    if (bonds->sock >= 0) {
        close(bonds->sock);
    }
    free(bonds);
}

static struct bond_entry *
find_by_lead(const struct bonds *bonds, const char *lead)
{
    struct bond_entry *e;
    HMAP_FOR_EACH_WITH_HASH (e, node, hash_string(lead, 0), &bonds->map) {
        if (!strcmp(e->lead, lead)) {
            return e;
        }
    }
    return NULL;
}

static struct bond_entry *
find_by_port(const struct bonds *bonds, const char *port_name)
{
    struct bond_entry *e;
    HMAP_FOR_EACH (e, node, &bonds->map) {
        if (!strcmp(e->port_name, port_name)) {
            return e;
        }
    }
    return NULL;
}

static struct dp_port *
entry_port(const struct bonds *bonds, const struct bond_entry *e)
{
    struct dp_port *port = dp_find_port(bonds->dp, e->lead);
    return port && dp_port_is_bond(port) ? port : NULL;
}

static void device_mac(const struct bonds *, const char *name, char out[18]);

/* Makes the member whose device has MAC active, if there is one. */
static void
restore_active(struct bonds *bonds, struct dp_port *port, const char *mac)
{
    size_t n = dp_bond_n_members(port);
    for (size_t i = 0; i < n; i++) {
        struct dp_bond_member_status s;
        char member_mac[18];
        dp_bond_get_member(port, i, 0, &s);
        device_mac(bonds, s.name, member_mac);
        if (!strcasecmp(member_mac, mac)) {
            dp_bond_set_active(port, s.name, 0);    /* If it is enabled. */
            return;
        }
    }
}

void
bonds_added(struct bonds *bonds, const struct bond_want *w,
            const char *bridge, uint32_t ofport)
{
    bonds_removed(bonds, w->lead);
    struct bond_entry *e = xzalloc(sizeof *e);
    e->lead = xstrdup(w->lead);
    e->port_name = xstrdup(w->port_name);
    e->bridge = xstrdup(bridge);
    e->port_uuid = w->port_uuid;
    e->ofport = ofport;
    e->access_tag = w->access_tag;
    e->n_members = w->dp.n_members;
    e->member_uuids = xmemdup(w->member_uuids,
                              e->n_members * sizeof *e->member_uuids);
    e->lacp_written = xmalloc(e->n_members);
    memset(e->lacp_written, -2, e->n_members);
    e->port_nos = xcalloc(e->n_members, sizeof *e->port_nos);
    struct dp_port *port = entry_port(bonds, e);
    if (port && w->saved_active_mac) {
        restore_active(bonds, port, w->saved_active_mac);
    }
    e->seq_seen = port ? dp_bond_active_seq(port) : 0;
    hmap_insert(&bonds->map, &e->node, hash_string(e->lead, 0));
}

void
bonds_removed(struct bonds *bonds, const char *name)
{
    struct bond_entry *e = find_by_lead(bonds, name);
    if (e) {
        hmap_remove(&bonds->map, &e->node);
        entry_free(e);
    }
}

static int
member_index(struct dp_port *port, const char *member)
{
    size_t n = dp_bond_n_members(port);
    for (size_t i = 0; i < n; i++) {
        struct dp_bond_member_status s;
        dp_bond_get_member(port, i, 0, &s);
        if (!strcmp(s.name, member)) {
            return (int) i;
        }
    }
    return -1;
}

int
bonds_member_stats(struct bonds *bonds, const char *lead, const char *member,
                   struct dp_port_stats *stats)
{
    struct dp_port *port = dp_find_port(bonds->dp, lead);
    int idx = port && dp_port_is_bond(port) ? member_index(port, member) : -1;
    if (idx < 0) {
        return ENOENT;
    }
    struct dp_bond_member_status s;
    dp_bond_get_member(port, (size_t) idx, 0, &s);
    *stats = s.stats;
    return 0;
}

/* The MAC of device NAME as "xx:xx:...", or all zeros if unknown. */
static void
device_mac(const struct bonds *bonds, const char *name, char out[18])
{
    uint8_t mac[6] = { 0 };
    (void) netdev_ctl_get_mac(bonds->sock, name, mac);  /* Zero: unknown. */
    snprintf(out, 18, "%02x:%02x:%02x:%02x:%02x:%02x",
             mac[0], mac[1], mac[2], mac[3], mac[4], mac[5]);
}

static const char *
active_name(struct dp_port *port, struct dp_bond_member_status *s)
{
    int active = dp_bond_active(port);
    if (active < 0) {
        return NULL;
    }
    dp_bond_get_member(port, (size_t) active, 0, s);
    return s->name;
}

struct learned {
    uint32_t exclude_port;
    size_t n, allocated;
    struct fdb_entry_info *entries;
};

static void
collect_learned(const struct fdb_entry_info *info, void *aux)
{
    struct learned *l = aux;
    if (info->port == l->exclude_port) {
        return;
    }
    if (l->n >= l->allocated) {
        l->allocated = l->allocated ? 2 * l->allocated : 64;
        l->entries = xrealloc(l->entries, l->allocated * sizeof *l->entries);
    }
    l->entries[l->n++] = *info;
}

/* As OVS after a failover: one RARP per MAC learned elsewhere, so that the
 * upstream switch sends their traffic to the member now in use. */
static void
send_learning_packets(struct bonds *bonds, struct bond_entry *e,
                      struct dp_port *port, long long now)
{
    struct learned l = { .exclude_port = e->ofport };
    dp_fdb_foreach(bonds->dp, e->bridge, now, collect_learned, &l);
    size_t sent = 0;
    for (size_t i = 0; i < l.n; i++) {
        uint16_t vlan = e->access_tag >= 0 ? 0 : l.entries[i].vlan;
        sent += !dp_bond_send_learning_packet(port, l.entries[i].mac, vlan);
    }
    if (sent) {
        VLOG_INFO("bond %s: sent %zu gratuitous learning packets",
                  e->port_name, sent);
    }
    free(l.entries);
}

/* As OVS, a member's LACP port id is its OpenFlow port number (unless
 * other_config:lacp-port-id says otherwise); the others' numbers are
 * datapath aliases, known once bridge.c has added them. */
static void
set_lacp_port_ids(struct bonds *bonds, struct bond_entry *e,
                  struct dp_port *port)
{
    size_t n = MIN(e->n_members, dp_bond_n_members(port));
    for (size_t i = 0; i < n; i++) {
        struct dp_bond_member_status s;
        uint32_t no = 0;
        dp_bond_get_member(port, i, 0, &s);
        if (!strcmp(s.name, e->lead)) {
            no = e->ofport;
        } else if (dp_port_alias_no(bonds->dp, s.name, &no)) {
            continue;
        }
        if (no != e->port_nos[i] && no && no <= UINT16_MAX) {
            e->port_nos[i] = no;
            dp_bond_set_lacp_port_id(port, i, (uint16_t) no);
        }
    }
}

/* Interface.lacp_current of E's members: true/false under LACP, empty
 * without (as OVS). */
static void
write_lacp_current(struct bond_entry *e, struct dp_port *port, json_t *ops)
{
    size_t n = MIN(e->n_members, dp_bond_n_members(port));
    for (size_t i = 0; i < n; i++) {
        struct dp_bond_member_status s;
        dp_bond_get_member(port, i, 0, &s);
        if (e->lacp_written[i] == s.lacp_current) {
            continue;
        }
        e->lacp_written[i] = (int8_t) s.lacp_current;
        char uuid[UUID_LEN + 1];
        uuid_to_string(&e->member_uuids[i], uuid);
        json_t *value = s.lacp_current < 0 ? json_pack("[s,[]]", "set")
                        : json_boolean(s.lacp_current);
        json_array_append_new(ops, json_pack(
            "{s:s,s:s,s:[[s,s,[s,s]]],s:{s:o}}", "op", "update",
            "table", "Interface", "where", "_uuid", "==", "uuid", uuid,
            "row", "lacp_current", value));
    }
}

void
bonds_run(struct bonds *bonds, long long now, json_t *ops)
{
    struct bond_entry *e;
    HMAP_FOR_EACH (e, node, &bonds->map) {
        struct dp_port *port = entry_port(bonds, e);
        if (!port) {
            continue;
        }
        set_lacp_port_ids(bonds, e, port);
        write_lacp_current(e, port, ops);
        int lacp = dp_bond_lacp_status(port);
        if (lacp != e->lacp_status) {
            if (lacp != DP_BOND_LACP_STATUS_OFF) {
                VLOG_INFO("bond %s: LACP %s", e->port_name,
                          lacp == DP_BOND_LACP_STATUS_NEGOTIATED
                          ? "negotiated"
                          : dp_bond_lacp_fallback_ab(port)
                          ? "not negotiated: active-backup fallback"
                          : "not negotiated: the bond carries no traffic");
            }
            e->lacp_status = lacp;
        }
        struct dp_bond_member_status s;
        const char *active = active_name(port, &s);
        uint64_t seq = dp_bond_active_seq(port);
        if (seq != e->seq_seen) {
            e->seq_seen = seq;
            VLOG_INFO("bond %s: active member is now %s", e->port_name,
                      active ? active : "none");
            /* As OVS: a LACP partner knows the bond and needs none. */
            if (active && dp_bond_lacp_status(port)
                          != DP_BOND_LACP_STATUS_NEGOTIATED) {
                send_learning_packets(bonds, e, port, now);
            }
        }
        char mac[18];
        if (active) {
            device_mac(bonds, active, mac);
        }
        /* As OVS: empty until a member was active, then all zeros while
         * none is. */
        const char *want = active ? mac
                           : e->active_mac ? "00:00:00:00:00:00" : NULL;
        if (e->status_written
            && (want ? e->active_mac && !strcmp(want, e->active_mac)
                     : !e->active_mac)) {
            continue;
        }
        e->status_written = true;
        free(e->active_mac);
        e->active_mac = want ? xstrdup(want) : NULL;
        char uuid[UUID_LEN + 1];
        uuid_to_string(&e->port_uuid, uuid);
        json_t *value = want ? json_string(want) : json_pack("[s,[]]", "set");
        json_array_append_new(ops, json_pack(
            "{s:s,s:s,s:[[s,s,[s,s]]],s:{s:o}}", "op", "update",
            "table", "Port", "where", "_uuid", "==", "uuid", uuid,
            "row", "bond_active_slave", value));
    }
}

void
bonds_wait(struct bonds *bonds)
{
    if (!hmap_is_empty(&bonds->map)) {
        poll_timer_wait(BOND_RUN_MSEC);
    }
}

/* --- appctl --- */

/* bond/show's per-hash lines (only hashes with at least 1 kB, as OVS). */
static void
put_bucket_load(unsigned int bucket, uint64_t bytes, void *ds)
{
    if (bytes >= 1024) {
        ds_put_format(ds, "  hash %u: %llu kB load\n", bucket,
                      (unsigned long long) (bytes / 1024));
    }
}

static void
format_bond(struct bonds *bonds, const struct bond_entry *e,
            struct dp_port *port, struct ds *ds)
{
    long long now = time_msec();
    int updelay, downdelay;
    dp_bond_get_delays(port, &updelay, &downdelay);
    ds_put_format(ds, "---- %s ----\n", e->port_name);
    ds_put_format(ds, "bond_mode: %s\n", mode_name(dp_bond_get_mode(port)));
    ds_put_cstr(ds, "bond may use recirculation: no, Recirc-ID : -1\n");
    ds_put_format(ds, "bond-hash-basis: %"PRIu32"\n",
                  dp_bond_get_hash_basis(port));
    ds_put_cstr(ds, "lb_output action: disabled, bond-id: -1\n");
    ds_put_format(ds, "updelay: %d ms\n", updelay);
    ds_put_format(ds, "downdelay: %d ms\n", downdelay);
    long long rebalance = dp_bond_next_rebalance(port, now);
    if (rebalance >= 0) {
        ds_put_format(ds, "next rebalance: %lld ms\n", rebalance);
    }
    static const char *const lacp_status[] = {
        [DP_BOND_LACP_STATUS_OFF] = "off",
        [DP_BOND_LACP_STATUS_CONFIGURED] = "configured",
        [DP_BOND_LACP_STATUS_NEGOTIATED] = "negotiated",
    };
    ds_put_format(ds, "lacp_status: %s\n",
                  lacp_status[dp_bond_lacp_status(port)]);
    ds_put_format(ds, "lacp_fallback_ab: %s\n",
                  dp_bond_lacp_fallback_ab(port) ? "true" : "false");

    const char *primary = dp_bond_get_primary(port);
    ds_put_format(ds, "active-backup primary: %s%s\n",
                  primary ? primary : "<none>",
                  primary && member_index(port, primary) < 0
                  ? " (no such member)" : "");
    struct dp_bond_member_status as;
    const char *active = active_name(port, &as);
    char mac[18] = "00:00:00:00:00:00";
    if (active) {
        device_mac(bonds, active, mac);
    }
    ds_put_format(ds, "active member mac: %s(%s)\n", mac,
                  active ? active : "none");

    size_t n = dp_bond_n_members(port);
    for (size_t i = 0; i < n; i++) {
        struct dp_bond_member_status s;
        dp_bond_get_member(port, i, now, &s);
        ds_put_format(ds, "\nmember %s: %s\n", s.name,
                      s.enabled ? "enabled" : "disabled");
        if (active && !strcmp(active, s.name)) {
            ds_put_cstr(ds, "  active member\n");
        }
        if (s.delay_left_ms >= 0) {
            ds_put_format(ds, "  %s expires in %lld ms\n",
                          s.enabled ? "downdelay" : "updelay",
                          s.delay_left_ms);
        }
        ds_put_format(ds, "  may_enable: %s\n",
                      s.may_enable ? "true" : "false");
        if (rebalance >= 0) {
            dp_bond_member_buckets(port, i, put_bucket_load, ds);
        }
    }
    ds_put_cstr(ds, "\n");
}

static void
cmd_bond_show(struct unixctl_conn *conn, int argc, const char *argv[],
              void *bonds_)
{
    struct bonds *bonds = bonds_;
    struct ds ds = DS_EMPTY_INITIALIZER;
    if (argc > 1) {
        struct bond_entry *e = find_by_port(bonds, argv[1]);
        struct dp_port *port = e ? entry_port(bonds, e) : NULL;
        if (!port) {
            unixctl_command_reply_error(conn, "no such bond");
            ds_destroy(&ds);
            return;
        }
        format_bond(bonds, e, port, &ds);
    } else {
        struct bond_entry *e;
        HMAP_FOR_EACH (e, node, &bonds->map) {
            struct dp_port *port = entry_port(bonds, e);
            if (port) {
                format_bond(bonds, e, port, &ds);
            }
        }
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
cmd_bond_list(struct unixctl_conn *conn, int argc, const char *argv[],
              void *bonds_)
{
    struct bonds *bonds = bonds_;
    struct ds ds = DS_EMPTY_INITIALIZER;
    (void) argc;
    (void) argv;
    ds_put_cstr(&ds, "bond\ttype\trecircID\tmembers\n");
    struct bond_entry *e;
    HMAP_FOR_EACH (e, node, &bonds->map) {
        struct dp_port *port = entry_port(bonds, e);
        if (!port) {
            continue;
        }
        ds_put_format(&ds, "%s\t%s\t0\t", e->port_name,
                      mode_name(dp_bond_get_mode(port)));
        size_t n = dp_bond_n_members(port);
        for (size_t i = 0; i < n; i++) {
            struct dp_bond_member_status s;
            dp_bond_get_member(port, i, 0, &s);
            ds_put_format(&ds, "%s%s", i ? ", " : "", s.name);
        }
        ds_put_cstr(&ds, "\n");
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

/* Finds ARGV[1]'s bond and checks ARGV[2] is one of its members; replies
 * with the error and returns NULL otherwise. */
static struct dp_port *
lookup_member(struct bonds *bonds, struct unixctl_conn *conn,
              const char *argv[], struct bond_entry **ep)
{
    struct bond_entry *e = find_by_port(bonds, argv[1]);
    struct dp_port *port = e ? entry_port(bonds, e) : NULL;
    if (!port) {
        unixctl_command_reply_error(conn, "no such bond");
        return NULL;
    }
    if (member_index(port, argv[2]) < 0) {
        unixctl_command_reply_error(conn, "no such member");
        return NULL;
    }
    *ep = e;
    return port;
}

static void
cmd_set_active(struct unixctl_conn *conn, int argc, const char *argv[],
               void *bonds_)
{
    struct bond_entry *e;
    (void) argc;
    struct dp_port *port = lookup_member(bonds_, conn, argv, &e);
    if (!port) {
        return;
    }
    int error = dp_bond_set_active(port, argv[2], time_msec());
    if (error == EINVAL) {
        unixctl_command_reply_error(conn,
                                    "cannot make disabled member active");
    } else {
        /* bonds_run() logs the change and sends learning packets. */
        unixctl_command_reply(conn, error == EALREADY ? "no change" : "done");
    }
}

static void
enable_member(struct unixctl_conn *conn, const char *argv[], void *bonds_,
              bool enable)
{
    struct bond_entry *e;
    struct dp_port *port = lookup_member(bonds_, conn, argv, &e);
    if (port) {
        dp_bond_set_member_enabled(port, argv[2], enable, time_msec());
        VLOG_INFO("member %s: %s", argv[2], enable ? "enabled" : "disabled");
        unixctl_command_reply(conn, enable ? "enabled" : "disabled");
    }
}

static void
cmd_enable_member(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *bonds)
{
    (void) argc;
    enable_member(conn, argv, bonds, true);
}

static void
cmd_disable_member(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *bonds)
{
    (void) argc;
    enable_member(conn, argv, bonds, false);
}

/* bond/migrate PORT HASH MEMBER (balance-slb). */
static void
cmd_migrate(struct unixctl_conn *conn, int argc, const char *argv[],
            void *bonds_)
{
    struct bond_entry *e;
    (void) argc;
    const char *fake[] = { argv[0], argv[1], argv[3] };
    struct dp_port *port = lookup_member(bonds_, conn, fake, &e);
    unsigned int hash;
    if (!port) {
        return;
    }
    if (dp_bond_get_mode(port) != DP_BOND_BALANCE_SLB) {
        unixctl_command_reply_error(conn, "not an SLB bond");
    } else if (!argv[2][0] || strspn(argv[2], "0123456789") != strlen(argv[2])
               || !str_to_uint(argv[2], 10, &hash)) {
        unixctl_command_reply_error(conn, "bad hash");
    } else if (dp_bond_migrate(port, hash & 0xff, argv[3])) {
        unixctl_command_reply_error(conn,
                                    "cannot migrate to disabled member");
    } else {
        unixctl_command_reply(conn, "migrated");
    }
}

/* bond/hash MAC [VLAN] [BASIS]: the balance-slb bucket of MAC with hash
 * basis BASIS (default 0; Lanyard's bucket does not depend on the VLAN,
 * which is only checked). */
static void
cmd_hash(struct unixctl_conn *conn, int argc, const char *argv[],
         void *bonds_)
{
    uint8_t mac[6];
    unsigned int vlan, basis = 0;
    (void) bonds_;
    if (!parse_mac(argv[1], mac)) {
        unixctl_command_reply_error(conn, "invalid mac");
    } else if (argc > 2 && (!str_to_uint(argv[2], 10, &vlan)
                            || vlan > 4095)) {
        unixctl_command_reply_error(conn, "invalid vlan");
    } else if (argc > 3 && !str_to_uint(argv[3], 10, &basis)) {
        unixctl_command_reply_error(conn, "invalid basis");
    } else {
        char *reply = xasprintf("%u",
                                dp_bond_mac_bucket(packet_mac_to_u64(mac),
                                                   basis));
        unixctl_command_reply(conn, reply);
        free(reply);
    }
}

static int
entry_cmp(const void *a_, const void *b_)
{
    const struct bond_entry *const *a = a_, *const *b = b_;
    return strcmp((*a)->port_name, (*b)->port_name);
}

/* lacp/show and lacp/show-stats: one bond, or every bond running LACP
 * (by name). */
static void
lacp_show(struct unixctl_conn *conn, int argc, const char *argv[],
          struct bonds *bonds, bool stats)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    if (argc > 1) {
        struct bond_entry *e = find_by_port(bonds, argv[1]);
        struct dp_port *port = e ? entry_port(bonds, e) : NULL;
        if (!port || dp_bond_format_lacp(port, stats, &ds)) {
            unixctl_command_reply_error(conn, "no such lacp object");
            ds_destroy(&ds);
            return;
        }
    } else {
        size_t n = 0;
        struct bond_entry **v = xcalloc(hmap_count(&bonds->map) + 1,
                                        sizeof *v);
        struct bond_entry *e;
        HMAP_FOR_EACH (e, node, &bonds->map) {
            v[n++] = e;
        }
        qsort(v, n, sizeof *v, entry_cmp);
        for (size_t i = 0; i < n; i++) {
            struct dp_port *port = entry_port(bonds, v[i]);
            if (port) {
                dp_bond_format_lacp(port, stats, &ds);
            }
        }
        free(v);
    }
    unixctl_command_reply(conn, ds_cstr(&ds));
    ds_destroy(&ds);
}

static void
cmd_lacp_show(struct unixctl_conn *conn, int argc, const char *argv[],
              void *bonds)
{
    lacp_show(conn, argc, argv, bonds, false);
}

static void
cmd_lacp_show_stats(struct unixctl_conn *conn, int argc, const char *argv[],
                    void *bonds)
{
    lacp_show(conn, argc, argv, bonds, true);
}

void
bonds_register_unixctl(struct bonds *bonds)
{
    unixctl_command_register("lacp/show", "[port]", 0, 1, cmd_lacp_show,
                             bonds);
    unixctl_command_register("bond/migrate", "port hash member", 3, 3,
                             cmd_migrate, bonds);
    unixctl_command_register("bond/hash", "mac [vlan] [basis]", 1, 3,
                             cmd_hash, bonds);
    unixctl_command_register("lacp/show-stats", "[port]", 0, 1,
                             cmd_lacp_show_stats, bonds);
    unixctl_command_register("bond/list", "", 0, 0, cmd_bond_list, bonds);
    unixctl_command_register("bond/show", "[port]", 0, 1, cmd_bond_show,
                             bonds);
    unixctl_command_register("bond/set-active-member", "port member", 2, 2,
                             cmd_set_active, bonds);
    unixctl_command_register("bond/enable-member", "port member", 2, 2,
                             cmd_enable_member, bonds);
    unixctl_command_register("bond/disable-member", "port member", 2, 2,
                             cmd_disable_member, bonds);
    /* OVS's older names. */
    unixctl_command_register("bond/set-active-slave", "port member", 2, 2,
                             cmd_set_active, bonds);
    unixctl_command_register("bond/enable-slave", "port member", 2, 2,
                             cmd_enable_member, bonds);
    unixctl_command_register("bond/disable-slave", "port member", 2, 2,
                             cmd_disable_member, bonds);
}
