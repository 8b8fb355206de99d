/* tc: Linux traffic control (qdiscs and classes) over rtnetlink, for the
 * kernel QoS types of the QoS table (linux-htb, linux-hfsc, linux-sfq,
 * linux-codel, linux-fq_codel, linux-netem).
 *
 * Each call is one request on a fresh NETLINK_ROUTE socket (libmnl) and
 * waits for the kernel's answer.  Returns 0 or a positive errno value; on
 * error, if ERRP is nonnull, *ERRP is the kernel's own explanation when it
 * gave one (netlink extended ack, e.g. "Specified qdisc kind is unknown."),
 * else NULL; the caller frees it.
 *
 * Every qdisc is the device's root qdisc with handle 1:, as Open vSwitch
 * configures them, so "tc qdisc show" reads the same after either switch.
 * Rates are in bytes per second, sizes in bytes. */
#ifndef LANYARD_SWITCHD_TC_H
#define LANYARD_SWITCHD_TC_H 1

#include <stdbool.h>
#include <stdint.h>

#define TC_HANDLE(MAJOR, MINOR) (((uint32_t) (MAJOR) << 16) | (MINOR))

/* Deletes the root qdisc, which gives the device back its default one.
 * No root qdisc of ours is not an error. */
int tc_del_root_qdisc(int ifindex, char **errp);

/* "tc qdisc add dev D root handle 1: htb default 1" (r2q 10). */
int tc_add_htb_qdisc(int ifindex, char **errp);
/* "tc class replace dev D classid HANDLE parent PARENT htb rate MIN ceil
 * MAX burst BURST prio PRIORITY", with OVS's quantum and buffer rules for
 * a device of MTU bytes. */
struct tc_htb_class {
    uint32_t min_rate, max_rate;    /* Bytes/s. */
    uint32_t burst;                 /* Bytes. */
    uint32_t priority;
};
int tc_set_htb_class(int ifindex, uint32_t handle, uint32_t parent,
                     const struct tc_htb_class *, int mtu, char **errp);

/* "tc qdisc add dev D root handle 1: hfsc default 1". */
int tc_add_hfsc_qdisc(int ifindex, char **errp);
/* An HFSC class with linear service curves: "sc rate MIN ul rate MAX". */
int tc_set_hfsc_class(int ifindex, uint32_t handle, uint32_t parent,
                      uint32_t min_rate, uint32_t max_rate, char **errp);

int tc_del_class(int ifindex, uint32_t handle, char **errp);

int tc_add_sfq_qdisc(int ifindex, uint32_t quantum, uint32_t perturb,
                     char **errp);
/* Times in microseconds. */
int tc_add_codel_qdisc(int ifindex, uint32_t target, uint32_t limit,
                       uint32_t interval, char **errp);
int tc_add_fq_codel_qdisc(int ifindex, uint32_t target, uint32_t limit,
                          uint32_t interval, uint32_t flows,
                          uint32_t quantum, char **errp);
/* LATENCY in microseconds, LOSS in percent (0..100). */
int tc_add_netem_qdisc(int ifindex, uint32_t latency, uint32_t limit,
                       uint32_t loss, char **errp);

/* Per-class transmit counters of the root qdisc 1: (RTM_GETTCLASS dump):
 * calls CB for each class 1:MINOR. */
struct tc_class_stats {
    uint64_t tx_bytes, tx_packets, tx_errors;   /* errors: qdisc drops */
};
int tc_dump_classes(int ifindex,
                    void (*cb)(uint32_t minor, const struct tc_class_stats *,
                               void *aux),
                    void *aux);

#endif
