/* Fuzz target over what a VXLAN tunnel does with untrusted bytes.
 *
 * Input layout: byte 0 selects the mode.
 *   mode even: the rest is a received UDP payload.  vxlan_parse() decides;
 *     an accepted inner frame goes through gso_rx_offload() (which may
 *     rewrite a checksum in place), and if that produced offload metadata
 *     the frame is segmented again as a tunnel would on output.
 *   mode odd: bytes 1..10 are a virtio-net header, the rest a frame from a
 *     local port; it is segmented with gso_start()/gso_next(), and
 *     gso_next_split() must give the same segments.
 *   mode & 2 (even): bytes 1..2 split the rest into two received frames,
 *     which the receive-side coalescer tries to merge; a merged frame is
 *     segmented again.
 * Checked: every wire frame fits gso_max_frame(), segmentation consumes
 * exactly the payload, and nothing reads or writes out of bounds (the
 * sanitizers catch that). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gso.h"
#include "vxlan.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
segment(const uint8_t *frame, size_t size, const struct virtio_net_hdr *vnet)
{
    static uint8_t out[65536 + 256], hdrs[65536 + 256];
    struct gso_iter it, split;
    if (gso_start(&it, frame, size, vnet)) {
        return;
    }
    split = it;
    size_t max = gso_max_frame(&it), len, payload = 0, n = 0;
    while ((len = gso_next(&it, out, sizeof out)) != 0) {
        if (len > max) {
            abort();
        }
        if (it.mss) {
            payload += len - it.hdr_len;
            /* The copy-free form gives the same segment. */
            const uint8_t *seg_data;
            size_t seg_payload;
            size_t hl = gso_next_split(&split, hdrs, sizeof hdrs, &seg_data,
                                       &seg_payload);
            if (hl + seg_payload != len || memcmp(hdrs, out, hl)
                || memcmp(seg_data, out + hl, seg_payload)) {
                abort();
            }
        }
        if (++n > 70000) {
            abort();            /* Must terminate. */
        }
    }
    if (it.mss && payload != size - it.hdr_len) {
        abort();
    }
}

static void
coalesce(const uint8_t *data, size_t size)
{
    static uint8_t buf[65536 + 256];
    if (size < 3) {
        return;
    }
    size_t first = (size_t) (data[1] << 8 | data[2]);
    const uint8_t *rest = data + 3;
    size_t n = size - 3;
    if (first > n) {
        first = n;
    }
    struct gso_coalescer co;
    if (gso_coalesce_start(&co, buf, sizeof buf, rest, first)) {
        gso_coalesce_add(&co, rest + first, n - first);
        struct virtio_net_hdr vnet;
        size_t merged = gso_coalesce_finish(&co, &vnet);
        if (merged > sizeof buf) {
            abort();
        }
        segment(buf, merged, &vnet);
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536) {
        return 0;
    }
    uint8_t *copy = malloc(size);
    memcpy(copy, data, size);
    if ((data[0] & 3) == 2) {
        coalesce(copy, size);
    } else if (!(data[0] & 1)) {
        uint32_t vni;
        if (!vxlan_parse(copy + 1, size - 1, &vni)) {
            uint8_t *inner = copy + 1 + VXLAN_HLEN;
            size_t inner_size = size - 1 - VXLAN_HLEN;
            struct virtio_net_hdr vnet;
            if (gso_rx_offload(inner, inner_size, &vnet)) {
                segment(inner, inner_size, &vnet);
            }
        }
    } else if (size >= 11) {
        struct virtio_net_hdr vnet;
        memcpy(&vnet, copy + 1, sizeof vnet);
        segment(copy + 11, size - 11, &vnet);
    }
    free(copy);
    return 0;
}
