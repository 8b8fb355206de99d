/* bridge: turns the Open_vSwitch database into datapath configuration.
 *
 * Incremental: bridge_reconcile() looks only at the rows the replica says
 * changed (Bridge, Port, Interface), follows them to the interfaces they
 * affect and adds, removes or reconfigures just those datapath ports, so
 * adding port 10,000 costs what adding port 10 did.  After a reconnection
 * the replica reports a reset and everything is compared once; ports whose
 * configuration did not change are left alone (forwarding on them never
 * stops).  Status goes back to the database in one transaction per round:
 * Interface ofport, ifindex, mac_in_use, mtu, link_state, admin_state,
 * error; Bridge datapath_id; and finally Open_vSwitch cur_cfg = next_cfg,
 * which is what `vsctl` without --no-wait waits for.
 *
 * Validate, then apply: a port whose configuration cannot be realised gets
 * a clear Interface.error and stays out of the datapath; the others are
 * unaffected. */
#ifndef LANYARD_SWITCHD_BRIDGE_H
#define LANYARD_SWITCHD_BRIDGE_H 1

#include <stdbool.h>

struct dp;
struct ds;
struct replica;

struct bridges;

struct bridges *bridges_create(struct dp *, struct replica *);
void bridges_destroy(struct bridges *);

/* Applies what changed in the replica since the last call and writes
 * status back.  NOW is time_msec(). */
void bridges_run(struct bridges *, long long now);
void bridges_wait(struct bridges *);

/* For appctl: "dpif/show"-style listing. */
void bridges_format(const struct bridges *, struct ds *);
bool bridges_exists(const struct bridges *, const char *name);
/* The bonds (switchd/bond.h), for their appctl commands. */
struct bonds;
struct bonds *bridges_bonds(struct bridges *);
/* The dummy ports' pcap captures (switchd/dummy-pcap.h), for
 * netdev-dummy/receive. */
struct dummy_pcaps;
struct dummy_pcaps *bridges_dummy_pcaps(struct bridges *);
/* The name of the only bridge, or NULL if there are none or several. */
const char *bridges_only_bridge(const struct bridges *);

#endif
