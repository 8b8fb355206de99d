/* dpif-ctl: appctl views of the datapath as a whole, in ovs-vswitchd's
 * layouts:
 *
 *   dpctl/show [-s] [DP...]   each datapath and its ports (with -s, their
 *                             counters in OVS's "RX packets:..." layout)
 *   dpctl/dump-dps            the datapaths' names
 *   dpif/dump-dps             the same, as the bridges see them
 *   ofproto/list              the bridges
 *   memory/show               object counts ("name:count" pairs)
 *
 * Lanyard numbers ports per bridge (the OpenFlow port numbers of OVS), so
 * each bridge is one datapath, named "netdev@BRIDGE"; DP arguments may be
 * given with or without the "netdev@".  There is no flow table, so
 * dpctl/show has no "lookups:" and "flows:" lines.  Control thread only. */
#ifndef LANYARD_SWITCHD_DPIF_CTL_H
#define LANYARD_SWITCHD_DPIF_CTL_H 1

struct dp;
struct replica;

/* Registers the commands above.  DP and REPLICA must outlive every unixctl
 * server. */
void dpif_ctl_register(struct dp *, const struct replica *);

#endif
