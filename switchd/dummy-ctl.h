/* dummy-ctl: the appctl commands that drive "dummy" ports (Interface
 * type=dummy), the port type tests use to switch frames without devices.
 *
 *   netdev-dummy/receive PORT [--qid 0] FRAME [--len N]...
 *       Queues each FRAME as if PORT had received it, in order (OVS's
 *       command and argument forms).  A FRAME is hex or an OVS datapath
 *       flow (see dummy-frame.h); "--len N" after a flow pads it to N
 *       bytes.  Every FRAME is checked before any is queued.
 *   netdev-dummy/pop PORT [N]
 *       Removes up to N (default: all) of the frames the switch sent on
 *       PORT and prints them oldest first, in hex, one per line.  A port
 *       with options:tx_pcap or options:pcap has none: its frames go into
 *       the file (dummy-pcap.h).
 *
 * Both run in the control thread; the frames are switched by the
 * forwarding threads, so a frame injected now may be sent a moment later. */
#ifndef LANYARD_SWITCHD_DUMMY_CTL_H
#define LANYARD_SWITCHD_DUMMY_CTL_H 1

struct dp;
struct dummy_pcaps;

/* Registers the commands above on the process's unixctl table.  DP and
 * PCAPS (receive captures: each injected frame is also written there) must
 * outlive every unixctl server. */
void dummy_ctl_register(struct dp *, struct dummy_pcaps *);

#endif
