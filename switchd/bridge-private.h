/* bridge-private: what bridge.c (reconciling rows into the datapath) and
 * bridge-status.c (writing interface status and statistics back to the
 * database) share; nobody else includes it.  Both run in switchd's main
 * thread. */
#ifndef LANYARD_SWITCHD_BRIDGE_PRIVATE_H
#define LANYARD_SWITCHD_BRIDGE_PRIVATE_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "bridge.h"
#include "dp.h"
#include "hmap.h"
#include "uuid.h"

struct bonds;
struct dummy_pcaps;
struct mirrors;
struct ofport_memory;
struct ovsdb_row;
struct qos;

/* One datapath port, i.e. one Interface row that is configured. */
struct iface {
    struct hmap_node name_node;     /* In bridges.ifaces, by name. */
    struct hmap_node uuid_node;     /* In bridges.by_uuid, by iface uuid. */
    struct hmap_node port_node;     /* In bridges.by_port, by port uuid. */
    char *name;
    struct uuid uuid, port_uuid;
    char *config;                   /* Everything but VLANs, as text. */
    char *vlan_config;
    bool in_dp;
    bool has_netdev;                /* system/internal: a kernel device. */
    uint32_t ofport;
    int mtu_applied;                /* mtu_request last set, 0: none. */
    char *error;                    /* Why it is not in the datapath. */
    char *bond_lead;                /* Bond member: the bond's datapath port
                                     * (its lead member), see bond.h. */
    bool is_alias;                  /* Bond member other than the lead: its
                                     * own 'ofport' is a dp_add_port_alias(). */
    /* Last status and statistics written, as raw values: the 5 s poll of
     * every interface compares these and builds JSON only for a change. */
    bool status_written, stats_written;
    /* MTU following (see "MTU of internal ports" in bridge.c): */
    bool internal;                  /* An internal port... */
    bool mtu_user;                  /* ...with an mtu_request. */
    struct bridge *mtu_bridge;      /* Where mtu_counted counts, or NULL. */
    int mtu_counted;                /* Its MTU in mtu_bridge's minimum. */
    /* Its MAC as a candidate for the bridge MAC (see "Bridge MAC" in
     * bridge.c). */
    struct bridge *mac_bridge;      /* NULL: not a candidate. */
    uint8_t cand_mac[6];
    struct iface_state {
        bool in_dp, have_dev, have_mac, have_mtu, have_flags;
        uint32_t ofport;
        int ifindex, mtu;
        short flags;
        uint8_t mac[6];
    } state;                        /* Zero-padded: compared with memcmp. */
    char *state_error;
    struct dp_port_stats stats;
};

struct bridges {
    struct dp *dp;
    struct replica *replica;
    struct hmap bridges;
    struct hmap homes;
    struct hmap ifaces, by_uuid, by_port;
    long long next_stats;
    long long cur_cfg;              /* Last cur_cfg we wrote, or -1. */
    unsigned long long n_failed_seen;   /* replica_n_failed() seen last. */
    int sock;                       /* For netdev ioctls. */
    struct ofport_memory *ofports;
    struct bonds *bonds;            /* Ports with several interfaces. */
    struct mirrors *mirrors;        /* Mirror table: mirror-config.h. */
    struct qos *qos;                /* QoS and ingress policing (qos.h). */
    struct dummy_pcaps *dummy_pcaps;    /* Dummy ports' pcap options. */
    bool sys_stats;                 /* other_config:enable-statistics. */
    bool sys_stats_written;         /* Open_vSwitch.statistics non-empty. */
    long long next_sys_stats;
};

/* bridge.c. */
struct iface *iface_find_name(const struct bridges *, const char *name);
void iface_count_mtu(struct bridges *, struct iface *, int mtu, json_t *ops);
void iface_note_mac(struct bridges *, struct iface *,
                    const struct iface_state *);

/* bridge-status.c. */
json_t *update_op(const char *table, const struct uuid *, json_t *row);
void iface_status(struct bridges *, struct iface *, json_t *ops);
void iface_stats(struct bridges *, struct iface *, json_t *ops);
const struct ovsdb_row *ovs_row(const struct bridges *);
void ovs_sys_stats(struct bridges *, const struct ovsdb_row *ovs,
                   long long now, json_t *ops);

#endif /* bridge-private.h */
