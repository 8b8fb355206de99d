/* bond: Port rows with several Interfaces, realised as one datapath "bond"
 * port (datapath/port-bond.h).
 *
 * bridge.c keeps one 'struct iface' per member Interface.  The member whose
 * name sorts first (the "lead") owns the datapath port, which is named
 * after it; the others are not datapath ports themselves: each holds a
 * port number of its own, reserved as a datapath alias of the bond's port
 * (dp_add_port_alias()), and reports its own device status and
 * statistics.  As OVS, LACP's port id of a member is its port number.
 * bond_want_init() validates the Port's bond columns (bond_mode, LACP and
 * its other_config keys, the members' lacp-port-id/-priority/aggregation-
 * key); a bad value is an error naming it, written to every member's
 * Interface.error.
 *
 * 'struct bonds' tracks the bonds in the datapath: bonds_run() writes
 * Port.bond_active_slave and Interface.lacp_current and sends learning
 * packets after the active member changes; it also serves the bond/ and
 * lacp/ appctl commands. */
#ifndef LANYARD_SWITCHD_BOND_H
#define LANYARD_SWITCHD_BOND_H 1

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "port-bond.h"
#include "uuid.h"

struct dp;
struct dp_port_stats;
struct ovsdb;
struct ovsdb_row;

struct bond_want {
    bool is_member;             /* The Port has several interfaces. */
    bool is_lead;               /* This interface owns the datapath port. */
    char *lead;                 /* The lead member's name. */
    char *port_name;
    struct uuid port_uuid;
    int access_tag;             /* Port.tag, -1: none (learning packets). */
    char *saved_active_mac;     /* Port.bond_active_slave, or NULL. */
    char *text;                 /* Everything the datapath port depends on. */
    struct dp_bond_config dp;
    struct dp_bond_member_config *members;
    struct uuid *member_uuids;  /* Interface rows, in members' order. */
};

/* Fills W for interface IFACE of PORT.  Returns NULL or an error message
 * (malloc'd) for a bond this datapath cannot realise. */
char *bond_want_init(struct bond_want *w, struct ovsdb *,
                     const struct ovsdb_row *port,
                     const struct ovsdb_row *iface);
void bond_want_destroy(struct bond_want *);

struct bonds *bonds_create(struct dp *);
void bonds_destroy(struct bonds *);

/* The lead of W was added to the datapath as BRIDGE's port OFPORT.  As
 * OVS, the member whose MAC Port.bond_active_slave names becomes active
 * again (after a restart or a reconfiguration) if it is up. */
void bonds_added(struct bonds *, const struct bond_want *w,
                 const char *bridge, uint32_t ofport);
/* Datapath port NAME was removed (no-op unless it was a bond). */
void bonds_removed(struct bonds *, const char *name);

/* Statistics of member MEMBER of the bond led by LEAD.  0 or ENOENT. */
int bonds_member_stats(struct bonds *, const char *lead, const char *member,
                       struct dp_port_stats *);

/* Writes Port.bond_active_slave (into the OPS transaction) and sends
 * learning packets for bonds whose active member changed. */
void bonds_run(struct bonds *, long long now, json_t *ops);
void bonds_wait(struct bonds *);

/* bond/show, bond/list, bond/set-active-member, bond/enable-member,
 * bond/disable-member (and their OVS "slave" aliases), lacp/show,
 * lacp/show-stats. */
void bonds_register_unixctl(struct bonds *);

#endif
