/* port-bond: the "bond" port class, several member ports presented to the
 * switch as one (Open vSwitch's bonds, with or without LACP).
 *
 * A bond opens each member with its own class ("system", "internal", ...),
 * receives from all of them (its poll descriptor is an epoll set of the
 * members' descriptors plus a 100 ms timer) and transmits each frame on
 * one member:
 *
 *   - active-backup: always the active member;
 *   - balance-slb: the member the source MAC's hash bucket (256 buckets)
 *     is assigned to;
 *   - balance-tcp: the member the bucket of the frame's L3/L4 hash (IP
 *     addresses, protocol, TCP/UDP/SCTP ports; MACs for non-IP frames) is
 *     assigned to.  Needs LACP, as in OVS: without a negotiated partner it
 *     carries nothing (or works as active-backup under lacp-fallback-ab).
 *
 * Both balancing hashes are seeded with the bond's hash basis
 * (other_config:bond-hash-basis), so a different basis spreads the same
 * flows differently.
 *
 * Buckets of a member that goes down move to the enabled members round
 * robin, the others stay where they are; every rebalance interval the
 * balancing modes move buckets from the most to the least loaded member
 * (by bytes sent per bucket) when that narrows the gap, as OVS does.
 *
 * LACP (lacp.h) runs inside the bond: slow-protocols frames received on a
 * member are consumed (never forwarded), LACPDUs are sent from the link
 * monitor, and a member is enabled only when its carrier is up and LACP
 * lets it carry traffic (attached and in sync).
 *
 * Receive admissibility follows OVS's bond_check_admissibility(): nothing
 * is accepted from a disabled member; with LACP negotiated everything else
 * is; with LACP configured but not negotiated nothing is (unless
 * fallback-ab); active-backup accepts only from the active member;
 * balance-slb accepts broadcast and multicast only on the active member
 * (on every member with all-members-active), and drops frames whose source MAC the bond itself sent recently (a frame
 * we sent on one member that the upstream switch flooded back on another),
 * except gratuitous ARPs, which announce that a MAC really moved.
 *
 * Link monitoring: each member's carrier (IFF_RUNNING on a kernel device;
 * always up for devices without carrier) is sampled every 100 ms by the
 * forwarding thread that polls the bond; a change takes effect after
 * updelay or downdelay, exactly as OVS's bond_link_status_update(): a
 * member coming up while no member is enabled skips its updelay.
 *
 * Thread safety: the hot path reads only atomics.  State changes (link
 * monitor, LACP, control calls from switchd) are serialised by a mutex. */
#ifndef LANYARD_PORT_BOND_H
#define LANYARD_PORT_BOND_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"

enum dp_bond_mode {
    DP_BOND_ACTIVE_BACKUP,
    DP_BOND_BALANCE_SLB,
    DP_BOND_BALANCE_TCP,
};

enum dp_bond_lacp {
    DP_BOND_LACP_OFF,
    DP_BOND_LACP_ACTIVE,
    DP_BOND_LACP_PASSIVE,
};

/* LACP's outcome (bond/show's lacp_status). */
enum dp_bond_lacp_status {
    DP_BOND_LACP_STATUS_OFF,
    DP_BOND_LACP_STATUS_CONFIGURED,     /* No partner agreed. */
    DP_BOND_LACP_STATUS_NEGOTIATED,
};

struct dp_bond_member_config {
    const char *name;
    const char *type;           /* A dp_port class: "system", ... */
    const char *mac;            /* "internal": MAC to set, or NULL. */
    uint16_t lacp_port_id;      /* 0: the member's position + 1. */
    uint16_t lacp_port_priority;        /* 0: 65535 (as OVS). */
    uint16_t lacp_key;          /* 0: the key member's port id. */
};

struct dp_bond_config {
    enum dp_bond_mode mode;
    int updelay_ms, downdelay_ms;       /* >= 0. */
    const char *primary;                /* Preferred member, or NULL. */
    int rebalance_ms;                   /* 0: never (balancing modes). */
    enum dp_bond_lacp lacp;
    const char *lacp_name;              /* Name LACP reports (the Port). */
    bool lacp_fast, lacp_fallback_ab;
    bool all_members_active;            /* balance-slb: accept multicast
                                         * on every enabled member. */
    uint32_t hash_basis;                /* Seed of the balancing hashes. */
    uint8_t lacp_sys_id[6];             /* Zero: the first member's MAC. */
    uint16_t lacp_sys_priority;         /* 0: 65534 (as OVS). */
    const struct dp_bond_member_config *members;
    size_t n_members;                   /* 1..DP_BOND_MAX_MEMBERS. */
};

#define DP_BOND_MAX_MEMBERS 32

struct dp_bond_member_status {
    const char *name;           /* Valid while the bond is open. */
    bool enabled;               /* Carries traffic. */
    bool may_enable;            /* LACP lets it carry traffic. */
    int lacp_current;           /* -1: no LACP; else has partner info. */
    bool carrier;               /* Last sampled link state. */
    long long delay_left_ms;    /* Pending updelay/downdelay, -1: none. */
    struct dp_port_stats stats; /* The member's own counters. */
};

bool dp_port_is_bond(const struct dp_port *);

/* All of these take a port for which dp_port_is_bond() is true. */
enum dp_bond_mode dp_bond_get_mode(const struct dp_port *);
void dp_bond_get_delays(const struct dp_port *, int *updelay_ms,
                        int *downdelay_ms);
const char *dp_bond_get_primary(const struct dp_port *);   /* Or NULL. */
size_t dp_bond_n_members(const struct dp_port *);
void dp_bond_get_member(struct dp_port *, size_t idx, long long now,
                        struct dp_bond_member_status *);
/* Member IDX's own port (e.g. for dp_dummy_inject() on a dummy member). */
struct dp_port *dp_bond_member_port(struct dp_port *, size_t idx);
/* Index of the active member, or -1 if no member is enabled. */
int dp_bond_active(const struct dp_port *);
/* Counts changes of the active member (failovers, set-active). */
uint64_t dp_bond_active_seq(const struct dp_port *);
/* LACP port id of member IDX when its configuration left it automatic
 * (lacp_port_id 0): OVS uses the member's OpenFlow port number. */
void dp_bond_set_lacp_port_id(struct dp_port *, size_t idx,
                              uint16_t port_id);
enum dp_bond_lacp_status dp_bond_lacp_status(const struct dp_port *);
bool dp_bond_lacp_fallback_ab(const struct dp_port *);
/* Appends lacp/show (STATS false) or lacp/show-stats text.  0, or ENOENT
 * if the bond does not run LACP. */
struct ds;
int dp_bond_format_lacp(struct dp_port *, bool stats, struct ds *);
/* Balancing modes: msec until the next rebalance (-1: none) and, for
 * bond/show, the bytes sent per hash bucket of member IDX: calls CB for
 * each bucket the member holds. */
long long dp_bond_next_rebalance(const struct dp_port *, long long now);
void dp_bond_member_buckets(const struct dp_port *, size_t idx,
                            void (*cb)(unsigned int bucket, uint64_t bytes,
                                       void *aux), void *aux);
/* The hash bucket (0..255) of source MAC MAC in balance-slb, with hash
 * basis BASIS. */
unsigned int dp_bond_mac_bucket(uint64_t mac, uint32_t basis);
uint32_t dp_bond_get_hash_basis(const struct dp_port *);
/* bond/migrate: assigns hash bucket BUCKET to MEMBER until the next
 * rebalance or failover.  0, ENOENT (no such member) or EINVAL (member
 * disabled). */
int dp_bond_migrate(struct dp_port *, unsigned int bucket,
                    const char *member);
/* Member index of the bucket of source MAC MAC (balance-slb), or -1. */
int dp_bond_member_for_mac(const struct dp_port *, uint64_t mac);

/* bond/set-active-member: 0, ENOENT (no such member), EINVAL (member is
 * disabled) or EALREADY (it already is the active member). */
int dp_bond_set_active(struct dp_port *, const char *member, long long now);
/* bond/enable-member, bond/disable-member: 0 or ENOENT.  Lasts until the
 * member's link state changes (as OVS). */
int dp_bond_set_member_enabled(struct dp_port *, const char *member,
                               bool enable, long long now);
/* Transmits an OVS-style learning packet (a RARP from MAC, with an 802.1Q
 * tag when VLAN is nonzero) on the member MAC's traffic uses, so that the
 * upstream switch learns where MAC now is.  0 or ENETDOWN. */
int dp_bond_send_learning_packet(struct dp_port *, uint64_t mac,
                                 uint16_t vlan);

#endif
