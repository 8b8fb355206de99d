/* tnl-ctl: `tnl/ports/show [-v]`, the UDP ports the switch listens on for
 * tunnels, in ovs-vswitchd's layout:
 *
 *   Listening ports:
 *   vxlan_sys_4789 (udp4) ref_cnt=2
 *
 * One line per shared VXLAN receive socket (address family and UDP port)
 * and the number of tunnel ports using it.  OVS puts the datapath port
 * number of its "vxlan_sys_PORT" port in the parentheses; Lanyard's
 * sockets are not datapath ports, so the family is there instead.  With
 * -v, each socket's receive counters follow (OVS prints the flows that
 * steer packets to it).  Control thread only. */
#ifndef LANYARD_SWITCHD_TNL_CTL_H
#define LANYARD_SWITCHD_TNL_CTL_H 1

/* Registers the command on the process's unixctl table. */
void tnl_ctl_register(void);

#endif
