/* coverage: event counters for `coverage/show`, laid out as ovs-vswitchd
 * prints them: a header, then per event its average rate over the last
 * 5 seconds, minute and hour, and its total; events never hit are only
 * counted at the end.
 *
 * Two sources: switchd's own events (coverage_inc()), and the datapath's
 * counters (drops by reason, floods, learning), which the forwarding
 * threads keep and coverage_run() samples.  Rates come from one sample of
 * every total per 5 s kept for an hour.  Single-threaded (control
 * thread); NOW is time_msec(). */
#ifndef LANYARD_SWITCHD_COVERAGE_H
#define LANYARD_SWITCHD_COVERAGE_H 1

struct dp;
struct ds;

enum coverage_event {
    COV_RECONCILE,              /* bridges_run() rounds that did work. */
    COV_BRIDGE_ADD,
    COV_BRIDGE_DEL,
    COV_PORT_ADD,
    COV_PORT_DEL,
    COV_PORT_ADD_FAILED,
    COV_PORT_RECONFIGURE,       /* VLAN change applied in place. */
    COV_OFPORT_CONFLICT,        /* Requested ofport taken. */
    COV_DB_TXN,                 /* Status transactions sent. */
    COV_DB_RESET,               /* Full re-read after (re)connection. */
    COV_N_SWITCHD_EVENTS
};

void coverage_inc(enum coverage_event);

/* Takes a sample when one is due. */
void coverage_run(struct dp *, long long now);
long long coverage_next_sample(void);
void coverage_format(struct dp *, long long now, struct ds *);

#endif
