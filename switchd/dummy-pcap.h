/* dummy-pcap: OVS's packet capture options of "dummy" ports.
 *
 *   Interface options:tx_pcap=FILE    frames the switch sends on the port
 *   Interface options:rxq_pcap=FILE   frames injected into the port
 *                                     (netdev-dummy/receive)
 *   Interface options:pcap=FILE       both, into one file (takes precedence)
 *
 * Each FILE is opened for appending; an empty file first gets a classic
 * libpcap header (Ethernet, microsecond timestamps, host byte order), as
 * ovs-vswitchd's netdev-dummy writes, and every frame is flushed as it is
 * written, so a test can read the file at once.  As in OVS, a frame sent on
 * a port with a transmit capture goes into the file instead of staying
 * queued: netdev-dummy/pop then finds nothing.
 *
 * All file I/O happens in the control thread: dummy_pcaps_run() drains the
 * transmit queues of the capturing ports (dp_dummy_pop()) into their files,
 * dummy_pcaps_wait() wakes it when one has frames, and the receive command
 * calls dummy_pcaps_write_rx() for each frame it injects.  The forwarding
 * threads only queue frames, as for any dummy port.
 *
 * Incremental: dummy_pcaps_note_changes() takes the rows the replica
 * reported changed; only those Interface rows are read again.  A file that
 * cannot be opened is logged with the reason and not captured. */
#ifndef LANYARD_SWITCHD_DUMMY_PCAP_H
#define LANYARD_SWITCHD_DUMMY_PCAP_H 1

#include <stdbool.h>
#include <stddef.h>

struct dp;
struct replica;
struct replica_change;

struct dummy_pcaps *dummy_pcaps_create(struct dp *, struct replica *);
/* Closes every file. */
void dummy_pcaps_destroy(struct dummy_pcaps *);

/* The N rows CHANGES that changed (RESET: everything may have). */
void dummy_pcaps_note_changes(struct dummy_pcaps *,
                              const struct replica_change *changes, size_t n,
                              bool reset);
/* Opens and closes files as the noted rows ask, then writes the frames the
 * capturing ports have sent since the last call. */
void dummy_pcaps_run(struct dummy_pcaps *);
void dummy_pcaps_wait(struct dummy_pcaps *);

/* Records FRAME of SIZE bytes, just injected into dummy port PORT, in the
 * port's receive capture if it has one.  PCAPS may be NULL. */
void dummy_pcaps_write_rx(struct dummy_pcaps *, const char *port,
                          const void *frame, size_t size);

#endif
