/* trace: `ofproto/trace [BRIDGE] FLOW`, in ovs-appctl's spelling, e.g.
 *
 *   ofproto/trace br0 in_port=1,dl_src=02:00:00:00:00:01,
 *                     dl_dst=ff:ff:ff:ff:ff:ff,dl_vlan=10,dl_type=0x0800
 *
 * Builds the frame the flow describes, hands it to dp_trace() (which runs
 * the datapath's own decision code on the live tables without changing
 * them) and explains the result in plain words: VLAN classification,
 * learning, table lookup, and per output port whether the frame leaves and
 * with which tags.
 *
 * Flow fields: in_port (number or name), dl_src/eth_src, dl_dst/eth_dst,
 * dl_vlan (0..4095, 0xffff = none), dl_vlan_pcp, vlan_tci (0x1000 bit =
 * tag present), dl_type/eth_type, and the shorthands ip, arp, ipv6. */
#ifndef LANYARD_SWITCHD_TRACE_H
#define LANYARD_SWITCHD_TRACE_H 1

struct dp;
struct ds;

/* Runs ofproto/trace with ARGC/ARGV as given to the unixctl command
 * (argv[0] is the command).  DEFAULT_BRIDGE is used when only a flow is
 * given (NULL: there is not exactly one bridge).  Returns 0 with the
 * explanation in OUT, or an errno with the error message in OUT. */
int trace_command(struct dp *, const char *default_bridge, int argc,
                  const char *argv[], struct ds *out);

#endif
