/* pmd-ctl: the dpif-netdev/pmd-* appctl commands for Lanyard's forwarding
 * threads, which are what OVS's userspace datapath calls PMD threads:
 *
 *   dpif-netdev/pmd-stats-show [-pmd CORE] [DP]
 *       per thread: frames received, datapath passes, frames per output
 *       batch, idle and processing time, in OVS's layout
 *   dpif-netdev/pmd-stats-clear [-pmd CORE] [DP]
 *       starts those counters again from zero
 *   dpif-netdev/pmd-rxq-show [-pmd CORE] [-secs SECS] [DP]
 *       which ports each thread polls
 *
 * Lanyard's threads are not pinned to CPUs: "core_id" is the thread's
 * index (0..N-1, --threads=N) and "numa_id" is 0.  There are no flow
 * caches (every frame goes through the MAC table), so the cache-hit and
 * upcall lines are 0, and time is counted in nanoseconds of the thread's
 * monotonic clock rather than TSC cycles (the percentages and averages
 * compare; the absolute numbers are a different unit).  Every thread
 * serves every bridge, so DP only has to name an existing datapath
 * ("netdev@BRIDGE" or "BRIDGE").  Control thread only. */
#ifndef LANYARD_SWITCHD_PMD_CTL_H
#define LANYARD_SWITCHD_PMD_CTL_H 1

struct dp;

/* Registers the commands above.  DP must outlive every unixctl server. */
void pmd_ctl_register(struct dp *);

#endif
