/* qos: the database's QoS settings applied to the datapath and the kernel.
 *
 *   - Interface ingress_policing_rate (kbit/s) and ingress_policing_burst
 *     (kbit, 0: 8000 when a rate is set): a token-bucket policer on the
 *     port's receive side in the datapath (datapath/policer.h).
 *   - Port qos -> QoS row: type egress-policer (other_config:cir bytes/s,
 *     cbs bytes) polices the port's transmit side in the datapath; the
 *     Linux types (linux-htb, linux-hfsc, linux-sfq, linux-codel,
 *     linux-fq_codel, linux-netem, linux-noop) become the root qdisc and
 *     classes of the port's kernel device, as Open vSwitch's netdev-linux
 *     sets them up (switchd/tc.h), and the port's packet socket then
 *     transmits through that qdisc.  Clearing Port qos gives the device
 *     back its default qdisc.
 *
 * Incremental: qos_note_changes() takes the rows the replica reported
 * changed, qos_run() (after bridge reconciliation, so new datapath ports
 * exist) re-evaluates only the interfaces those rows touch plus the few
 * that have QoS at all.  A setting that cannot be applied (unknown type,
 * a value that is not a number, a qdisc the kernel lacks) is logged with
 * what is wrong and leaves the port as it was; other ports are not
 * affected.
 *
 * appctl: qos/show IFACE and qos/show-types IFACE, in ovs-vswitchd's
 * layout. */
#ifndef LANYARD_SWITCHD_QOS_H
#define LANYARD_SWITCHD_QOS_H 1

#include <stdbool.h>
#include <stddef.h>

struct dp;
struct replica;
struct replica_change;

/* Also registers the appctl commands. */
struct qos *qos_create(struct dp *, struct replica *);
/* Leaves kernel qdiscs in place, as ovs-vswitchd does on exit. */
void qos_destroy(struct qos *);

/* The N rows CHANGES that changed (RESET: everything may have). */
void qos_note_changes(struct qos *, const struct replica_change *changes,
                      size_t n, bool reset);
/* Applies what changed.  Call after the datapath ports were reconciled. */
void qos_run(struct qos *);

#endif
