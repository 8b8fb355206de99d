/* port-bond: the "bond" port class, several member ports presented to the
 * switch as one (Open vSwitch's bonds without LACP).
 *
 * A bond opens each member with its own class ("system", "internal", ...),
 * receives from all of them (its poll descriptor is an epoll set of the
 * members' descriptors plus a 100 ms timer) and transmits each frame on
 * one member:
 *
 *   - active-backup: always the active member;
 *   - balance-slb: the member the source MAC's hash bucket (256 buckets)
 *     is assigned to; buckets of a member that goes down move to the
 *     enabled members round robin, the others stay where they are.
 *
 * Receive admissibility follows OVS's SLB/active-backup rules: nothing is
 * accepted from a disabled member; active-backup accepts only from the
 * active member; balance-slb accepts broadcast and multicast only on the
 * active member, and drops frames whose source MAC the bond itself sent
 * recently (a frame we sent on one member that the upstream switch
 * flooded back on another), except gratuitous ARPs, which announce that a
 * MAC really moved.
 *
 * Link monitoring: each member's carrier (IFF_RUNNING on a kernel device;
 * always up for devices without carrier) is sampled every 100 ms by the
 * forwarding thread that polls the bond; a change takes effect after
 * updelay or downdelay, exactly as OVS's bond_link_status_update(): a
 * member coming up while no member is enabled skips its updelay.
 *
 * Thread safety: the hot path reads only atomics.  State changes (link
 * monitor, control calls from switchd) are serialised by a mutex. */
#ifndef LANYARD_PORT_BOND_H
#define LANYARD_PORT_BOND_H 1

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "port.h"

enum dp_bond_mode {
    DP_BOND_ACTIVE_BACKUP,
    DP_BOND_BALANCE_SLB,
};

struct dp_bond_member_config {
    const char *name;
    const char *type;           /* A dp_port class: "system", ... */
    const char *mac;            /* "internal": MAC to set, or NULL. */
};

struct dp_bond_config {
    enum dp_bond_mode mode;
    int updelay_ms, downdelay_ms;       /* >= 0. */
    const char *primary;                /* Preferred member, or NULL. */
    const struct dp_bond_member_config *members;
    size_t n_members;                   /* 1..DP_BOND_MAX_MEMBERS. */
};

#define DP_BOND_MAX_MEMBERS 32

struct dp_bond_member_status {
    const char *name;           /* Valid while the bond is open. */
    bool enabled;               /* Carries traffic. */
    bool may_enable;            /* Not disabled by bond/disable-member. */
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
