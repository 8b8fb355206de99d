/* dp-packet: a received frame as the forwarding code sees it.
 *
 * 'data' points into memory owned by the port backend that produced it
 * (an mmap'd ring block, a reused buffer); it stays valid until the next
 * rx_batch() or close() on that port.  'vnet' carries the virtio-net
 * offload header (checksum-partial, GSO) when the backend delivered one, so
 * offloaded frames cross the switch without being segmented. */
#ifndef LANYARD_DP_PACKET_H
#define LANYARD_DP_PACKET_H 1

#include <linux/virtio_net.h>
#include <stdbool.h>
#include <stdint.h>

struct dp_packet {
    uint8_t *data;
    uint32_t size;
    bool has_vnet;
    struct virtio_net_hdr vnet;
};

/* One frame to transmit: HDR (the rewritten Ethernet header, possibly empty)
 * followed by the received frame from byte REST_OFS on.  'vnet_delta' is
 * how many bytes the header grew (negative: shrank), to be added to a
 * checksum-partial frame's csum_start. */
struct dp_txd {
    const struct dp_packet *pkt;
    uint8_t hdr_len;
    uint16_t rest_ofs;
    int8_t vnet_delta;
    uint8_t hdr[12 + 2 * 4];
};

#endif
