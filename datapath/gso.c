#include "gso.h"

#include <netinet/in.h>
#include <string.h>

#ifndef VIRTIO_NET_HDR_GSO_UDP_L4
#define VIRTIO_NET_HDR_GSO_UDP_L4 5    /* Newer kernels' UDP segmentation. */
#endif

#define ETH_HLEN 14
#define IPV6_HLEN 40
#define TCP_FIN 0x01
#define TCP_PSH 0x08
#define TCP_CWR 0x80

static uint16_t
get16(const uint8_t *p)
{
    return (uint16_t) ((p[0] << 8) | p[1]);
}

static uint32_t
get32(const uint8_t *p)
{
    return ((uint32_t) p[0] << 24) | ((uint32_t) p[1] << 16)
           | ((uint32_t) p[2] << 8) | p[3];
}

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t) (v >> 24);
    p[1] = (uint8_t) (v >> 16);
    p[2] = (uint8_t) (v >> 8);
    p[3] = (uint8_t) v;
}

/* Adds V to *S with the carry wrapped around, which is the one's
 * complement sum: 2^64 is 1 modulo 2^16 - 1. */
static inline void
csum_add64(uint64_t *s, uint64_t v)
{
    *s += v;
    *s += *s < v;
}

/* Sums 64-bit words in host byte order, four independent chains with
 * their carries counted apart, and swaps the folded result: RFC 1071's
 * sum is independent of byte order but for that swap.  This runs about
 * fifteen times faster than a loop over byte pairs, which dominated the
 * tunnel's software segmentation and receive coalescing. */
uint32_t
gso_csum_add(uint32_t sum, const uint8_t *p, size_t size)
{
    uint64_t a0 = 0, a1 = 0, a2 = 0, a3 = 0, c0 = 0, c1 = 0, c2 = 0, c3 = 0;
    size_t i = 0;
    for (; i + 32 <= size; i += 32) {
        uint64_t w[4];
        memcpy(w, p + i, sizeof w);
        a0 += w[0];
        c0 += a0 < w[0];
        a1 += w[1];
        c1 += a1 < w[1];
        a2 += w[2];
        c2 += a2 < w[2];
        a3 += w[3];
        c3 += a3 < w[3];
    }
    uint64_t s = 0;
    csum_add64(&s, a0);
    csum_add64(&s, a1);
    csum_add64(&s, a2);
    csum_add64(&s, a3);
    csum_add64(&s, c0 + c1 + c2 + c3);
    for (; i + 8 <= size; i += 8) {
        uint64_t w;
        memcpy(&w, p + i, sizeof w);
        csum_add64(&s, w);
    }
    if (i + 4 <= size) {
        uint32_t w;
        memcpy(&w, p + i, sizeof w);
        csum_add64(&s, w);
        i += 4;
    }
    if (i + 2 <= size) {
        uint16_t h;
        memcpy(&h, p + i, sizeof h);
        csum_add64(&s, h);
        i += 2;
    }
    if (i < size) {
        /* The odd byte is the high byte of a big-endian word. */
        uint8_t pad[2] = { p[i], 0 };
        uint16_t h;
        memcpy(&h, pad, sizeof h);
        csum_add64(&s, h);
    }
    s = (s & 0xffffffff) + (s >> 32);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
#if __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
    s = ((s & 0xff) << 8) | (s >> 8);
#endif
    /* Folded, so that callers may keep adding small values. */
    s += sum;
    s = (s & 0xffff) + (s >> 16);
    s = (s & 0xffff) + (s >> 16);
    return (uint32_t) s;
}

uint16_t
gso_csum_fold(uint32_t sum)
{
    while (sum >> 16) {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    return (uint16_t) ~sum;
}

const char *
gso_error_name(enum gso_error e)
{
    static const char *const names[] = {
        [GSO_OK] = "ok", [GSO_ERR_L2] = "l2", [GSO_ERR_L3] = "l3",
        [GSO_ERR_L4] = "l4", [GSO_ERR_CSUM] = "csum", [GSO_ERR_TYPE] = "type",
    };
    return e < GSO_N_ERRORS ? names[e] : "unknown";
}

/* Finds the IP header after the Ethernet header and up to two VLAN tags. */
static enum gso_error
find_l3(struct gso_iter *it)
{
    size_t ofs = 12;
    for (int tags = 0;; tags++) {
        if (it->size < ofs + 2) {
            return GSO_ERR_L2;
        }
        uint16_t type = get16(it->frame + ofs);
        if ((type == 0x8100 || type == 0x88a8) && tags < 2) {
            ofs += 4;
            continue;
        }
        it->l3_ofs = (uint16_t) (ofs + 2);
        if (type == 0x0800) {
            it->ipv4 = true;
        } else if (type == 0x86dd) {
            it->ipv4 = false;
        } else {
            return GSO_ERR_L3;
        }
        return GSO_OK;
    }
}

/* Checks the IP header and finds the transport header and protocol. */
static enum gso_error
find_l4(struct gso_iter *it)
{
    const uint8_t *ip = it->frame + it->l3_ofs;
    size_t room = it->size - it->l3_ofs;
    if (it->ipv4) {
        size_t ihl = room ? (size_t) (ip[0] & 0x0f) * 4 : 0;
        if (room < 20 || (ip[0] >> 4) != 4 || ihl < 20 || ihl > room) {
            return GSO_ERR_L3;
        }
        it->l4_proto = ip[9];
        it->l4_ofs = (uint16_t) (it->l3_ofs + ihl);
    } else {
        if (room < IPV6_HLEN || (ip[0] >> 4) != 6) {
            return GSO_ERR_L3;
        }
        /* Extension headers are not walked: the transport header must
         * follow the fixed header, which is what Linux emits for GSO. */
        it->l4_proto = ip[6];
        it->l4_ofs = (uint16_t) (it->l3_ofs + IPV6_HLEN);
    }
    return GSO_OK;
}

static enum gso_error
start_segmentation(struct gso_iter *it)
{
    uint8_t type = it->vnet.gso_type & (uint8_t) ~VIRTIO_NET_HDR_GSO_ECN;
    enum gso_error e = find_l3(it);
    if (!e) {
        e = find_l4(it);
    }
    if (e) {
        return e;
    }
    bool tcp = type == VIRTIO_NET_HDR_GSO_TCPV4
               || type == VIRTIO_NET_HDR_GSO_TCPV6;
    if (!tcp && type != VIRTIO_NET_HDR_GSO_UDP_L4) {
        return GSO_ERR_TYPE;
    }
    if ((type == VIRTIO_NET_HDR_GSO_TCPV4) != it->ipv4 && tcp) {
        return GSO_ERR_L3;
    }
    if (it->l4_proto != (tcp ? IPPROTO_TCP : IPPROTO_UDP)) {
        return GSO_ERR_L4;
    }
    size_t l4_len = 8;
    if (tcp) {
        if (it->size < (size_t) it->l4_ofs + 20) {
            return GSO_ERR_L4;
        }
        l4_len = (size_t) (it->frame[it->l4_ofs + 12] >> 4) * 4;
        if (l4_len < 20) {
            return GSO_ERR_L4;
        }
    }
    if (it->size < (size_t) it->l4_ofs + l4_len || !it->vnet.gso_size) {
        return GSO_ERR_L4;
    }
    it->hdr_len = (uint16_t) (it->l4_ofs + l4_len);
    it->mss = it->vnet.gso_size;
    return GSO_OK;
}

enum gso_error
gso_start(struct gso_iter *it, const uint8_t *frame, size_t size,
          const struct virtio_net_hdr *vnet)
{
    memset(it, 0, sizeof *it);
    it->frame = frame;
    it->size = size;
    it->vnet = *vnet;
    if (vnet->gso_type != VIRTIO_NET_HDR_GSO_NONE) {
        enum gso_error e = start_segmentation(it);
        if (e) {
            return e;
        }
        it->pos = it->hdr_len;
        return GSO_OK;
    }
    if (vnet->flags & VIRTIO_NET_HDR_F_NEEDS_CSUM
        && ((size_t) vnet->csum_start + vnet->csum_offset + 2 > size)) {
        return GSO_ERR_CSUM;
    }
    return GSO_OK;
}

size_t
gso_max_frame(const struct gso_iter *it)
{
    return it->mss ? (size_t) it->hdr_len + it->mss : it->size;
}

/* Sum of the IPv4 or IPv6 pseudo-header of SEG for L4_LEN bytes. */
static uint32_t
pseudo_sum(const struct gso_iter *it, const uint8_t *seg, size_t l4_len)
{
    const uint8_t *ip = seg + it->l3_ofs;
    uint32_t sum = it->ipv4 ? gso_csum_add(0, ip + 12, 8)
                            : gso_csum_add(0, ip + 8, 32);
    return sum + it->l4_proto + (uint32_t) (l4_len >> 16)
           + (uint32_t) (l4_len & 0xffff);
}

/* Fixes the IP header and transport header of one segment in SEG (its
 * headers; its PAYLOAD bytes at DATA); LAST says whether it ends the
 * super-frame. */
static void
fix_segment(const struct gso_iter *it, uint8_t *seg, const uint8_t *data,
            size_t payload, bool last)
{
    uint8_t *ip = seg + it->l3_ofs;
    uint8_t *l4 = seg + it->l4_ofs;
    size_t l4_len = it->hdr_len - it->l4_ofs + payload;
    if (it->ipv4) {
        put16(ip + 2, (uint16_t) (it->hdr_len - it->l3_ofs + payload));
        put16(ip + 4, (uint16_t) (get16(ip + 4) + it->index));
        put16(ip + 10, 0);
        put16(ip + 10, gso_csum_fold(gso_csum_add(0, ip, it->l4_ofs
                                                          - it->l3_ofs)));
    } else {
        put16(ip + 4, (uint16_t) (it->hdr_len - it->l3_ofs - IPV6_HLEN
                                  + payload));
    }
    size_t csum_field;
    if (it->l4_proto == IPPROTO_TCP) {
        put32(l4 + 4, get32(l4 + 4)
                      + (uint32_t) (it->pos - it->hdr_len));
        if (!last) {
            l4[13] &= (uint8_t) ~(TCP_FIN | TCP_PSH);
        }
        if (it->index) {
            l4[13] &= (uint8_t) ~TCP_CWR;
        }
        csum_field = 16;
    } else {
        put16(l4 + 4, (uint16_t) l4_len);
        csum_field = 6;
    }
    put16(l4 + csum_field, 0);
    /* The transport header is a whole number of 16-bit words, so the
     * payload's sum chains on. */
    uint32_t sum = gso_csum_add(pseudo_sum(it, seg, l4_len), l4,
                                (size_t) (it->hdr_len - it->l4_ofs));
    uint16_t csum = gso_csum_fold(gso_csum_add(sum, data, payload));
    if (!csum && it->l4_proto == IPPROTO_UDP) {
        csum = 0xffff;
    }
    put16(l4 + csum_field, csum);
}

/* The frame without segmentation, its partial checksum completed. */
static size_t
next_whole(struct gso_iter *it, uint8_t *buf, size_t size)
{
    if (it->index || size < it->size) {
        return 0;
    }
    memcpy(buf, it->frame, it->size);
    it->index++;
    if (it->vnet.flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) {
        /* The field holds the pseudo-header sum; summing over it and the
         * rest gives the complete checksum. */
        size_t start = it->vnet.csum_start;
        size_t field = start + it->vnet.csum_offset;
        uint16_t csum = gso_csum_fold(gso_csum_add(0, buf + start,
                                                   it->size - start));
        if (!csum && it->vnet.csum_offset == 6) {
            csum = 0xffff;      /* UDP: zero means "no checksum". */
        }
        put16(buf + field, csum);
    }
    return it->size;
}

size_t
gso_next(struct gso_iter *it, uint8_t *buf, size_t size)
{
    if (!it->mss) {
        return next_whole(it, buf, size);
    }
    if (it->pos >= it->size && it->index) {
        return 0;
    }
    size_t payload = it->size - it->pos;
    if (payload > it->mss) {
        payload = it->mss;
    }
    size_t len = it->hdr_len + payload;
    if (len > size) {
        return 0;
    }
    memcpy(buf, it->frame, it->hdr_len);
    memcpy(buf + it->hdr_len, it->frame + it->pos, payload);
    fix_segment(it, buf, buf + it->hdr_len, payload,
                it->pos + payload >= it->size);
    it->pos += payload;
    it->index++;
    return len;
}

size_t
gso_next_split(struct gso_iter *it, uint8_t *hdrs, size_t size,
               const uint8_t **data, size_t *payload)
{
    if (!it->mss || (it->pos >= it->size && it->index)
        || size < it->hdr_len) {
        return 0;
    }
    size_t n = it->size - it->pos;
    if (n > it->mss) {
        n = it->mss;
    }
    memcpy(hdrs, it->frame, it->hdr_len);
    *data = it->frame + it->pos;
    *payload = n;
    fix_segment(it, hdrs, *data, n, it->pos + n >= it->size);
    it->pos += n;
    it->index++;
    return it->hdr_len;
}

/* Finds the transport checksum of FRAME and whether it holds the partial
 * value; fills IT (l3/l4 offsets), *FIELD and *L4_LEN. */
static bool
find_partial(struct gso_iter *it, uint8_t *frame, size_t size, size_t *field,
             size_t *l4_len)
{
    memset(it, 0, sizeof *it);
    it->frame = frame;
    it->size = size;
    if (find_l3(it) || find_l4(it)) {
        return false;
    }
    const uint8_t *ip = frame + it->l3_ofs;
    size_t l3_end;
    if (it->ipv4) {
        if (get16(ip + 6) & 0x3fff) {
            return false;               /* A fragment. */
        }
        l3_end = it->l3_ofs + (size_t) get16(ip + 2);
    } else {
        l3_end = it->l3_ofs + IPV6_HLEN + (size_t) get16(ip + 4);
    }
    *field = it->l4_proto == IPPROTO_TCP ? 16
             : it->l4_proto == IPPROTO_UDP ? 6 : 0;
    if (!*field || l3_end > size || l3_end < (size_t) it->l4_ofs + *field + 2) {
        return false;
    }
    *l4_len = l3_end - it->l4_ofs;
    uint16_t partial = (uint16_t) ~gso_csum_fold(pseudo_sum(it, frame,
                                                            *l4_len));
    uint16_t have = get16(frame + it->l4_ofs + *field);
    return have == partial && (it->l4_proto == IPPROTO_TCP || have);
}

static void
complete_csum(const struct gso_iter *it, uint8_t *frame, size_t field,
              size_t l4_len)
{
    uint8_t *l4 = frame + it->l4_ofs;
    put16(l4 + field, 0);
    uint16_t csum = gso_csum_fold(gso_csum_add(pseudo_sum(it, frame, l4_len),
                                               l4, l4_len));
    if (!csum && it->l4_proto == IPPROTO_UDP) {
        csum = 0xffff;
    }
    put16(l4 + field, csum);
}

bool
gso_fix_partial_csum(uint8_t *frame, size_t size)
{
    struct gso_iter it;
    size_t field, l4_len;
    if (!find_partial(&it, frame, size, &field, &l4_len)) {
        return false;
    }
    complete_csum(&it, frame, field, l4_len);
    return true;
}

bool
gso_rx_offload(uint8_t *frame, size_t size, struct virtio_net_hdr *vnet)
{
    struct gso_iter it;
    size_t field, l4_len;
    if (!find_partial(&it, frame, size, &field, &l4_len)) {
        return false;
    }
    if (size <= GSO_MAX_PLAIN_FRAME || it.l4_proto != IPPROTO_TCP
        || l4_len < 20) {
        complete_csum(&it, frame, field, l4_len);
        return false;
    }
    size_t hdrs = (size_t) (frame[it.l4_ofs + 12] >> 4) * 4
                  + (it.l4_ofs - it.l3_ofs);
    memset(vnet, 0, sizeof *vnet);
    vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vnet->gso_type = it.ipv4 ? VIRTIO_NET_HDR_GSO_TCPV4
                             : VIRTIO_NET_HDR_GSO_TCPV6;
    vnet->gso_size = (uint16_t) (hdrs < GSO_RX_MTU - 8 ? GSO_RX_MTU - hdrs
                                                      : 8);
    vnet->hdr_len = (uint16_t) (it.l3_ofs + hdrs);
    vnet->csum_start = it.l4_ofs;
    vnet->csum_offset = 16;
    return true;
}

/* ---- Receive-side coalescing. ---- */

/* Whether FRAME is a plain TCP data segment with valid checksums; fills
 * the offsets into *IT and its payload offset into *PAYLOAD. */
static bool
coalescible(struct gso_iter *it, const uint8_t *frame, size_t size,
            size_t *payload)
{
    memset(it, 0, sizeof *it);
    it->frame = frame;
    it->size = size;
    if (find_l3(it) || find_l4(it) || it->l4_proto != IPPROTO_TCP) {
        return false;
    }
    const uint8_t *ip = frame + it->l3_ofs;
    size_t l3_end;
    if (it->ipv4) {
        if (it->l4_ofs - it->l3_ofs != 20 || (get16(ip + 6) & 0x3fff)
            || gso_csum_fold(gso_csum_add(0, ip, 20))) {
            return false;
        }
        l3_end = it->l3_ofs + (size_t) get16(ip + 2);
    } else {
        l3_end = it->l3_ofs + IPV6_HLEN + (size_t) get16(ip + 4);
    }
    if (l3_end != size || size < (size_t) it->l4_ofs + 20) {
        return false;
    }
    const uint8_t *tcp = frame + it->l4_ofs;
    size_t doff = (size_t) (tcp[12] >> 4) * 4;
    uint8_t flags = tcp[13];
    if (doff < 20 || it->l4_ofs + doff >= size
        || (flags != 0x10 && flags != 0x18)) {
        return false;
    }
    size_t l4_len = size - it->l4_ofs;
    if (gso_csum_fold(gso_csum_add(pseudo_sum(it, frame, l4_len), tcp,
                                   l4_len))) {
        return false;
    }
    it->hdr_len = (uint16_t) (it->l4_ofs + doff);
    *payload = size - it->hdr_len;
    return true;
}

bool
gso_coalesce_start(struct gso_coalescer *co, uint8_t *buf, size_t cap,
                   const uint8_t *frame, size_t size)
{
    struct gso_iter it;
    size_t payload;
    if (size > cap || !coalescible(&it, frame, size, &payload)) {
        return false;
    }
    memcpy(buf, frame, size);
    *co = (struct gso_coalescer) {
        .buf = buf, .cap = cap, .size = size, .l3_ofs = it.l3_ofs,
        .l4_ofs = it.l4_ofs, .hdr_len = it.hdr_len,
        .mss = (uint16_t) payload, .ipv4 = it.ipv4,
        .ended = (frame[it.l4_ofs + 13] & TCP_PSH) != 0,
        .next_seq = get32(frame + it.l4_ofs + 4) + (uint32_t) payload,
        .n = 1,
    };
    return true;
}

bool
gso_coalesce_add(struct gso_coalescer *co, const uint8_t *frame, size_t size)
{
    struct gso_iter it;
    size_t payload;
    if (co->ended || !coalescible(&it, frame, size, &payload)
        || it.hdr_len != co->hdr_len || it.ipv4 != co->ipv4
        || payload > co->mss || !payload
        || co->size + payload > co->cap
        || co->size - co->l3_ofs + payload > 65535) {
        return false;
    }
    const uint8_t *b = co->buf, *tcp = frame + co->l4_ofs;
    const uint8_t *btcp = b + co->l4_ofs;
    /* Same L2 header; same IP header but for length, ID and checksum
     * (IPv4) or payload length (IPv6); same TCP header but for sequence
     * number, flags and checksum. */
    if (memcmp(frame, b, co->l3_ofs)
        || (co->ipv4 ? (frame[co->l3_ofs + 1] != b[co->l3_ofs + 1]
                        || memcmp(frame + co->l3_ofs + 6, b + co->l3_ofs + 6, 4)
                        || memcmp(frame + co->l3_ofs + 12, b + co->l3_ofs + 12,
                                  8))
                     : (memcmp(frame + co->l3_ofs, b + co->l3_ofs, 4)
                        || memcmp(frame + co->l3_ofs + 6, b + co->l3_ofs + 6,
                                  34)))
        || memcmp(tcp, btcp, 4) || memcmp(tcp + 8, btcp + 8, 5)
        || memcmp(tcp + 14, btcp + 14, 2)
        || memcmp(tcp + 18, btcp + 18, co->hdr_len - co->l4_ofs - 18)
        || get32(tcp + 4) != co->next_seq) {
        return false;
    }
    memcpy(co->buf + co->size, frame + co->hdr_len, payload);
    co->size += payload;
    co->next_seq += (uint32_t) payload;
    co->n++;
    /* A short segment or PSH ends what the sender sent as one write. */
    if (payload < co->mss || (tcp[13] & TCP_PSH)) {
        co->buf[co->l4_ofs + 13] |= tcp[13] & TCP_PSH;
        co->ended = true;
    }
    return true;
}

size_t
gso_coalesce_finish(struct gso_coalescer *co, struct virtio_net_hdr *vnet)
{
    uint8_t *ip = co->buf + co->l3_ofs;
    struct gso_iter it;
    memset(&it, 0, sizeof it);
    it.l3_ofs = co->l3_ofs;
    it.l4_ofs = co->l4_ofs;
    it.ipv4 = co->ipv4;
    it.l4_proto = IPPROTO_TCP;
    if (co->ipv4) {
        put16(ip + 2, (uint16_t) (co->size - co->l3_ofs));
        put16(ip + 10, 0);
        put16(ip + 10, gso_csum_fold(gso_csum_add(0, ip, 20)));
    } else {
        put16(ip + 4, (uint16_t) (co->size - co->l3_ofs - IPV6_HLEN));
    }
    size_t l4_len = co->size - co->l4_ofs;
    uint16_t partial = (uint16_t) ~gso_csum_fold(pseudo_sum(&it, co->buf,
                                                            l4_len));
    put16(co->buf + co->l4_ofs + 16, partial);
    memset(vnet, 0, sizeof *vnet);
    vnet->flags = VIRTIO_NET_HDR_F_NEEDS_CSUM;
    vnet->csum_start = co->l4_ofs;
    vnet->csum_offset = 16;
    if (co->n > 1) {
        vnet->gso_type = co->ipv4 ? VIRTIO_NET_HDR_GSO_TCPV4
                                  : VIRTIO_NET_HDR_GSO_TCPV6;
        vnet->gso_size = co->mss;
        vnet->hdr_len = co->hdr_len;
    }
    return co->size;
}
