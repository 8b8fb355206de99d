/* fdb-ctl: the appctl commands that change a bridge's MAC learning table
 * by hand, as ovs-vswitchd 3.x has them:
 *
 *   fdb/add BRIDGE PORT VLAN MAC   a static entry: frames to MAC in VLAN go
 *                                  to PORT only; it never ages, moves or
 *                                  goes with fdb/flush
 *   fdb/del BRIDGE VLAN MAC        removes a static entry
 *   fdb/stats-clear [BRIDGE]       zeroes the fdb/stats-show totals
 *
 * Output and error texts are OVS's where OVS has them; where OVS accepts
 * nonsense (a VLAN of "x", an unknown port) the error names the problem.
 * Everything runs in the control thread. */
#ifndef LANYARD_SWITCHD_FDB_CTL_H
#define LANYARD_SWITCHD_FDB_CTL_H 1

struct bridges;
struct dp;

/* Registers the commands above.  DP and BRIDGES must outlive every unixctl
 * server. */
void fdb_ctl_register(struct dp *, const struct bridges *);

#endif
