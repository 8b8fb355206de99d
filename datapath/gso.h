/* gso: software segmentation and checksum completion (pure core).
 *
 * Frames from TAP and AF_PACKET ports carry virtio-net offload metadata: a
 * TCP (or UDP) "super-frame" of up to 64 KB with a segment size (GSO),
 * and/or a transport checksum left partial (NEEDS_CSUM).  A path that does
 * no offloads, such as a VXLAN tunnel's UDP socket, must first turn such a
 * frame into wire frames: segments of at most gso_size payload bytes, each
 * with its own IP length and ID, TCP sequence number and flags, and
 * complete IP and transport checksums.
 *
 * Usage: gso_start() checks the frame against its metadata, then
 * gso_next() writes one wire frame at a time into a caller's buffer.  The
 * frame may carry up to two VLAN tags.  Nothing is allocated, no I/O. */
#ifndef LANYARD_GSO_H
#define LANYARD_GSO_H 1

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gso_error {
    GSO_OK = 0,
    GSO_ERR_L2,                 /* Truncated Ethernet/VLAN header. */
    GSO_ERR_L3,                 /* Not IPv4/IPv6, or a bad IP header. */
    GSO_ERR_L4,                 /* Transport header does not match. */
    GSO_ERR_CSUM,               /* csum_start/offset outside the frame. */
    GSO_ERR_TYPE,               /* Unsupported gso_type. */
    GSO_N_ERRORS
};

struct gso_iter {
    const uint8_t *frame;
    size_t size;
    struct virtio_net_hdr vnet;
    uint16_t l3_ofs, l4_ofs, hdr_len;  /* hdr_len: all headers. */
    uint16_t mss;               /* 0: no segmentation, checksum only. */
    uint8_t l4_proto;           /* IPPROTO_TCP or IPPROTO_UDP. */
    bool ipv4;
    size_t pos;                 /* Next payload byte to emit. */
    unsigned int index;         /* Segments emitted so far. */
};

/* Prepares to emit FRAME (SIZE bytes) described by VNET.  FRAME must stay
 * valid while the iterator is used. */
enum gso_error gso_start(struct gso_iter *, const uint8_t *frame, size_t size,
                         const struct virtio_net_hdr *vnet);

/* Writes the next wire frame into BUF (SIZE bytes).  Returns its length, or
 * 0 when every frame has been written (or the next one does not fit). */
size_t gso_next(struct gso_iter *, uint8_t *buf, size_t size);

/* Like gso_next(), but for a segmenting iterator (mss != 0) only, and
 * without copying the payload: writes the next segment's headers (with
 * lengths, IDs, sequence numbers, flags and checksums complete) into HDRS
 * (SIZE bytes) and points *DATA at its *PAYLOAD bytes inside the frame,
 * which must stay valid until they are sent.  Returns the headers' length,
 * or 0 when every segment has been made (or the headers do not fit). */
size_t gso_next_split(struct gso_iter *, uint8_t *hdrs, size_t size,
                      const uint8_t **data, size_t *payload);

/* The largest frame gso_next() will write (headers + one segment). */
size_t gso_max_frame(const struct gso_iter *);

const char *gso_error_name(enum gso_error);

/* Completes a transport checksum that a sender on the same machine left
 * partial.  A frame that crossed a veth inside a UDP tunnel may still
 * carry the checksum its sender meant to offload (the folded pseudo-header
 * sum) and nothing in a UDP socket says so.  If FRAME (SIZE bytes: Ethernet,
 * up to two VLAN tags, unfragmented IPv4 or IPv6, TCP or UDP) has exactly
 * that value in its checksum field, recomputes the checksum in place (which
 * leaves a genuine checksum that happens to have the same value unchanged)
 * and returns true. */
bool gso_fix_partial_csum(uint8_t *frame, size_t size);

/* Frames longer than this (Ethernet with two VLAN tags and a 1500-byte
 * payload) that arrive from a tunnel with a partial TCP checksum are
 * segmentation offload "super-frames" from a sender on the same machine. */
#define GSO_MAX_PLAIN_FRAME 1522

/* The MTU whose segment size is given to such super-frames: the sender's
 * is not known, and 1450 (a VXLAN inner MTU over a 1500-byte underlay)
 * fits every common inner MTU; smaller segments are always deliverable. */
#define GSO_RX_MTU 1450

/* What a frame received from a tunnel needs.  Like gso_fix_partial_csum(),
 * but a TCP frame longer than GSO_MAX_PLAIN_FRAME with a partial checksum
 * is a super-frame that the sender meant to have segmented: its checksum
 * is left partial and *VNET is filled in (NEEDS_CSUM, GSO for segments
 * that fit GSO_RX_MTU) so that output ports can segment it or pass it on.
 * Returns true if *VNET was filled. */
bool gso_rx_offload(uint8_t *frame, size_t size, struct virtio_net_hdr *vnet);

/* Internet checksum helpers (RFC 1071), exposed for tests. */
uint32_t gso_csum_add(uint32_t sum, const uint8_t *p, size_t size);
uint16_t gso_csum_fold(uint32_t sum);

/* Receive-side coalescing: consecutive in-order TCP segments of one flow
 * that arrived as separate frames (a tunnel carries no segmentation
 * metadata) are merged back into one super-frame with GSO metadata, so
 * that output ports move one frame instead of dozens.  Only plain data
 * segments qualify (ACK, optionally PSH on the last), each with a valid
 * checksum: the merged frame's checksum is left partial, which receivers
 * trust, so nothing unchecked may go into it. */
struct gso_coalescer {
    uint8_t *buf;               /* The super-frame being built. */
    size_t cap, size;
    uint16_t l3_ofs, l4_ofs, hdr_len, mss;
    bool ipv4, ended;
    uint32_t next_seq;
    unsigned int n;             /* Segments merged. */
};

/* Starts a super-frame in BUF (CAP bytes) from FRAME (SIZE bytes).
 * Returns false if FRAME cannot start one (then BUF is untouched). */
bool gso_coalesce_start(struct gso_coalescer *, uint8_t *buf, size_t cap,
                        const uint8_t *frame, size_t size);

/* Appends FRAME if it continues the super-frame.  Returns false if it does
 * not (the super-frame is unchanged). */
bool gso_coalesce_add(struct gso_coalescer *, const uint8_t *frame,
                      size_t size);

/* Finishes the super-frame: fixes its headers and fills *VNET.  Returns
 * its size. */
size_t gso_coalesce_finish(struct gso_coalescer *,
                           struct virtio_net_hdr *vnet);

#endif
