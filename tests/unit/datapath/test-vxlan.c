/* VXLAN header, tunnel options and software segmentation (pure cores). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "gso.h"
#include "vxlan.h"

/* ---- Header. ---- */

static void
test_header_roundtrip(void **state)
{
    (void) state;
    uint8_t buf[VXLAN_HLEN + 14];
    memset(buf, 0x55, sizeof buf);
    vxlan_build(buf, 0xabcdef);
    assert_int_equal(buf[0], 0x08);
    assert_int_equal(buf[1] | buf[2] | buf[3] | buf[7], 0);
    uint32_t vni = 0;
    assert_int_equal(vxlan_parse(buf, sizeof buf, &vni), VXLAN_OK);
    assert_int_equal(vni, 0xabcdef);
    /* Reserved bits are ignored on receipt (RFC 7348). */
    buf[1] = 0xff;
    buf[7] = 0xff;
    buf[0] |= 0x80;
    assert_int_equal(vxlan_parse(buf, sizeof buf, &vni), VXLAN_OK);
    assert_int_equal(vni, 0xabcdef);
}

static void
test_header_errors(void **state)
{
    (void) state;
    uint8_t buf[VXLAN_HLEN + 14];
    uint32_t vni;
    vxlan_build(buf, 5);
    memset(buf + VXLAN_HLEN, 0, 14);
    assert_int_equal(vxlan_parse(buf, 7, &vni), VXLAN_ERR_RUNT);
    assert_int_equal(vxlan_parse(buf, 0, &vni), VXLAN_ERR_RUNT);
    assert_int_equal(vxlan_parse(buf, VXLAN_HLEN + 13, &vni),
                     VXLAN_ERR_INNER_RUNT);
    buf[0] = 0;
    assert_int_equal(vxlan_parse(buf, sizeof buf, &vni),
                     VXLAN_ERR_NO_VNI_FLAG);
    assert_string_equal(vxlan_error_name(VXLAN_ERR_NO_VNI_FLAG),
                        "no-vni-flag");
}

/* ---- Options. ---- */

static char *
parse(struct vxlan_config *cfg, int n, ...)
{
    const char *keys[16], *values[16];
    va_list ap;
    va_start(ap, n);
    for (int i = 0; i < n; i++) {
        keys[i] = va_arg(ap, const char *);
        values[i] = va_arg(ap, const char *);
    }
    va_end(ap);
    return vxlan_config_parse(keys, values, (size_t) n, cfg);
}

static void
expect_error(char *error, const char *fragment)
{
    assert_non_null(error);
    if (!strstr(error, fragment)) {
        fail_msg("\"%s\" does not contain \"%s\"", error, fragment);
    }
    free(error);
}

static void
test_options_defaults(void **state)
{
    (void) state;
    struct vxlan_config c;
    assert_null(parse(&c, 1, "remote_ip", "10.43.11.12"));
    assert_int_equal(c.remote.family, AF_INET);
    assert_int_equal(c.local.family, 0);
    assert_int_equal(c.in_key, 0);
    assert_int_equal(c.out_key, 0);
    assert_int_equal(c.dst_port, 4789);
    assert_int_equal(c.ttl, 64);
    assert_int_equal(c.tos, 0);
    assert_true(c.df);
    assert_false(c.csum);
    char text[256];
    vxlan_config_format(&c, text, sizeof text);
    assert_non_null(strstr(text, "remote=10.43.11.12"));

    assert_null(parse(&c, 1, "remote_ip", "2001:db8::1"));
    assert_int_equal(c.remote.family, AF_INET6);
    assert_true(c.csum);        /* IPv6 needs UDP checksums. */
}

static void
test_options_keys(void **state)
{
    (void) state;
    struct vxlan_config c;
    assert_null(parse(&c, 2, "remote_ip", "10.0.0.1", "key", "0x10"));
    assert_int_equal(c.in_key, 16);
    assert_int_equal(c.out_key, 16);
    /* in_key/out_key win over key whatever the order. */
    assert_null(parse(&c, 3, "in_key", "7", "key", "5", "remote_ip",
                      "10.0.0.1"));
    assert_int_equal(c.in_key, 7);
    assert_int_equal(c.out_key, 5);
    assert_null(parse(&c, 5, "remote_ip", "10.0.0.1", "local_ip", "10.0.0.2",
                      "dst_port", "8472", "tos", "inherit", "ttl", "inherit"));
    assert_int_equal(c.dst_port, 8472);
    assert_int_equal(c.tos, VXLAN_TOS_INHERIT);
    assert_int_equal(c.ttl, VXLAN_TTL_INHERIT);
    assert_int_equal(c.local.family, AF_INET);
    assert_null(parse(&c, 3, "remote_ip", "10.0.0.1", "df_default", "false",
                      "csum", "true"));
    assert_false(c.df);
    assert_true(c.csum);
}

static void
test_options_errors(void **state)
{
    (void) state;
    struct vxlan_config c;
    expect_error(parse(&c, 0), "needs options:remote_ip");
    expect_error(parse(&c, 1, "remote_ip", "flow"), "remote_ip=flow");
    expect_error(parse(&c, 1, "remote_ip", "10.0.0.300"),
                 "\"10.0.0.300\" is not an IPv4 or IPv6 address");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "key", "flow"),
                 "key=flow");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "key", "16777216"),
                 "is not a VNI");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "in_key", "-1"),
                 "in_key");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "dst_port", "0"),
                 "dst_port");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "ttl", "0"), "ttl");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "tos", "256"), "tos");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "csum", "yes"),
                 "csum: \"yes\" is not true or false");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "exts", "gbp"),
                 "unknown vxlan option \"exts\"");
    expect_error(parse(&c, 2, "remote_ip", "10.0.0.1", "local_ip", "::1"),
                 "different address families");
    expect_error(parse(&c, 1, "remote_ip", "239.1.1.1"), "multicast");
    expect_error(parse(&c, 1, "remote_ip", "ff02::1"), "multicast");
    expect_error(parse(&c, 1, "remote_ip", "0.0.0.0"), "unspecified");
}

/* ---- Segmentation. ---- */

static void
put16(uint8_t *p, unsigned int v)
{
    p[0] = (uint8_t) (v >> 8);
    p[1] = (uint8_t) v;
}

static unsigned int
get16(const uint8_t *p)
{
    return (unsigned int) (p[0] << 8 | p[1]);
}

/* An Ethernet + VLAN + IPv4 + TCP frame with PAYLOAD bytes, its TCP
 * checksum left partial as a sender offloading it would. */
static size_t
build_tcp4(uint8_t *f, size_t payload, uint8_t flags)
{
    memset(f, 0, 14 + 4 + 40 + payload);
    memset(f, 0x02, 12);
    put16(f + 12, 0x8100);
    put16(f + 14, 120);
    put16(f + 16, 0x0800);
    uint8_t *ip = f + 18;
    ip[0] = 0x45;
    put16(ip + 2, (unsigned int) (40 + payload));
    put16(ip + 4, 1000);
    ip[8] = 64;
    ip[9] = 6;
    uint8_t src[] = { 10, 0, 0, 1 }, dst[] = { 10, 0, 0, 2 };
    memcpy(ip + 12, src, 4);
    memcpy(ip + 16, dst, 4);
    put16(ip + 10, gso_csum_fold(gso_csum_add(0, ip, 20)));
    uint8_t *tcp = ip + 20;
    put16(tcp, 5001);
    put16(tcp + 2, 80);
    tcp[4] = 0x10;              /* seq 0x10000000 */
    tcp[12] = 5 << 4;
    tcp[13] = flags;
    for (size_t i = 0; i < payload; i++) {
        tcp[20 + i] = (uint8_t) (i * 7);
    }
    /* Partial: folded pseudo-header sum, not complemented. */
    uint32_t ps = gso_csum_add(0, ip + 12, 8) + 6 + (uint32_t) (20 + payload);
    put16(tcp + 16, (uint16_t) ~gso_csum_fold(ps));
    return 18 + 40 + payload;
}

static bool
tcp4_valid(const uint8_t *f, size_t size)
{
    const uint8_t *ip = f + 18;
    size_t tot = get16(ip + 2);
    if (18 + tot != size || gso_csum_fold(gso_csum_add(0, ip, 20))) {
        return false;
    }
    uint32_t ps = gso_csum_add(0, ip + 12, 8) + 6 + (uint32_t) (tot - 20);
    return !gso_csum_fold(gso_csum_add(ps, ip + 20, tot - 20));
}

static void
test_gso_tcp4(void **state)
{
    (void) state;
    static uint8_t f[18 + 40 + 5000], seg[2048];
    size_t size = build_tcp4(f, 3500, 0x18 | 0x01 | 0x80);  /* PSH FIN CWR */
    struct virtio_net_hdr vnet = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = 58, .gso_size = 1400, .csum_start = 38, .csum_offset = 16,
    };
    struct gso_iter it;
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_OK);
    assert_int_equal(gso_max_frame(&it), 58 + 1400);
    size_t lens[4], n = 0, len, total = 0;
    while ((len = gso_next(&it, seg, sizeof seg)) != 0) {
        assert_true(n < 3);
        lens[n] = len;
        assert_true(tcp4_valid(seg, len));
        const uint8_t *tcp = seg + 38;
        unsigned int seq = (unsigned int) (get16(tcp + 4) << 16
                                           | get16(tcp + 6));
        assert_int_equal(seq, 0x10000000 + total);
        assert_int_equal(get16(seg + 18 + 4), 1000 + n);
        assert_int_equal(tcp[13] & 0x09, n == 2 ? 0x09 : 0);    /* FIN PSH */
        assert_int_equal(tcp[13] & 0x80, n == 0 ? 0x80 : 0);    /* CWR */
        assert_memory_equal(seg + 58, f + 58 + total, len - 58);
        total += len - 58;
        n++;
    }
    assert_int_equal(n, 3);
    assert_int_equal(lens[0], 1458);
    assert_int_equal(lens[2], 58 + 700);
    assert_int_equal(total, 3500);
}

/* gso_next_split() gives the same segments as gso_next(), without
 * copying the payload: headers apart, payload pointing into the frame
 * (including an odd payload length, whose checksum chains on). */
static void
test_gso_split_matches_copy(void **state)
{
    (void) state;
    static uint8_t f[18 + 40 + 5000], seg[2048], hdrs[128];
    size_t size = build_tcp4(f, 3333, 0x18);
    struct virtio_net_hdr vnet = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = 58, .gso_size = 1401, .csum_start = 38, .csum_offset = 16,
    };
    struct gso_iter copy, split;
    assert_int_equal(gso_start(&copy, f, size, &vnet), GSO_OK);
    assert_int_equal(gso_start(&split, f, size, &vnet), GSO_OK);
    size_t len, n = 0;
    while ((len = gso_next(&copy, seg, sizeof seg)) != 0) {
        const uint8_t *data = NULL;
        size_t payload = 0;
        size_t hl = gso_next_split(&split, hdrs, sizeof hdrs, &data,
                                   &payload);
        assert_int_equal(hl, 58);
        assert_int_equal(hl + payload, len);
        assert_memory_equal(hdrs, seg, hl);
        assert_ptr_equal(data, f + 58 + n * 1401);
        assert_memory_equal(data, seg + hl, payload);
        n++;
    }
    assert_int_equal(n, 3);
    const uint8_t *data;
    size_t payload;
    assert_int_equal(gso_next_split(&split, hdrs, sizeof hdrs, &data,
                                    &payload), 0);
    /* Headers that do not fit, and a checksum-only iterator. */
    assert_int_equal(gso_start(&split, f, size, &vnet), GSO_OK);
    assert_int_equal(gso_next_split(&split, hdrs, 57, &data, &payload), 0);
    vnet.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    assert_int_equal(gso_start(&split, f, size, &vnet), GSO_OK);
    assert_int_equal(gso_next_split(&split, hdrs, sizeof hdrs, &data,
                                    &payload), 0);
}

static void
test_gso_csum_only_and_partial_fix(void **state)
{
    (void) state;
    static uint8_t f[256], out[256];
    size_t size = build_tcp4(f, 100, 0x18);
    assert_false(tcp4_valid(f, size));
    struct virtio_net_hdr vnet = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM, .csum_start = 38,
        .csum_offset = 16,
    };
    struct gso_iter it;
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_OK);
    assert_int_equal(gso_next(&it, out, sizeof out), size);
    assert_true(tcp4_valid(out, size));
    assert_int_equal(gso_next(&it, out, sizeof out), 0);

    /* The same partial frame received from a tunnel is completed... */
    assert_true(gso_fix_partial_csum(f, size));
    assert_true(tcp4_valid(f, size));
    assert_memory_equal(f, out, size);
    /* ...and a complete checksum is left alone. */
    assert_false(gso_fix_partial_csum(f, size));
    /* Truncated frames are not touched. */
    assert_false(gso_fix_partial_csum(f, 30));
}

static void
test_gso_errors(void **state)
{
    (void) state;
    static uint8_t f[256];
    size_t size = build_tcp4(f, 100, 0);
    struct virtio_net_hdr vnet = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV6, .gso_size = 50,
        .csum_start = 38, .csum_offset = 16,
    };
    struct gso_iter it;
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_ERR_L3);
    vnet.gso_type = 2;          /* Not a type we know. */
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_ERR_TYPE);
    vnet.gso_type = VIRTIO_NET_HDR_GSO_TCPV4;
    assert_int_equal(gso_start(&it, f, 30, &vnet), GSO_ERR_L3);
    assert_int_equal(gso_start(&it, f, 12, &vnet), GSO_ERR_L2);
    vnet.gso_size = 0;
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_ERR_L4);
    vnet.gso_type = VIRTIO_NET_HDR_GSO_NONE;
    vnet.csum_start = 250;
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_ERR_CSUM);
}

/* Segments of a super-frame, coalesced again, give back the super-frame
 * (with its checksum partial and GSO metadata), and re-segmenting that
 * gives the same segments. */
static void
test_coalesce_roundtrip(void **state)
{
    (void) state;
    static uint8_t f[18 + 40 + 5000], segs[4][2048], co_buf[70000];
    static uint8_t again[2048];
    size_t size = build_tcp4(f, 4000, 0x18);
    struct virtio_net_hdr vnet = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = 58, .gso_size = 1400, .csum_start = 38, .csum_offset = 16,
    };
    struct gso_iter it;
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_OK);
    size_t lens[4], n = 0;
    while (n < 4 && (lens[n] = gso_next(&it, segs[n], sizeof segs[n]))) {
        n++;
    }
    assert_int_equal(n, 3);

    struct gso_coalescer co;
    assert_true(gso_coalesce_start(&co, co_buf, sizeof co_buf, segs[0],
                                   lens[0]));
    assert_true(gso_coalesce_add(&co, segs[1], lens[1]));
    assert_true(gso_coalesce_add(&co, segs[2], lens[2]));
    /* After the short last segment (with PSH) nothing more joins. */
    assert_false(gso_coalesce_add(&co, segs[1], lens[1]));
    struct virtio_net_hdr out;
    size_t merged = gso_coalesce_finish(&co, &out);
    assert_int_equal(merged, size);
    assert_int_equal(out.gso_type, VIRTIO_NET_HDR_GSO_TCPV4);
    assert_int_equal(out.gso_size, 1400);
    assert_int_equal(out.csum_start, 38);
    assert_memory_equal(co_buf + 58, f + 58, 4000);
    assert_int_equal(co_buf[38 + 13], 0x18);

    assert_int_equal(gso_start(&it, co_buf, merged, &out), GSO_OK);
    for (size_t k = 0; k < n; k++) {
        assert_int_equal(gso_next(&it, again, sizeof again), lens[k]);
        assert_memory_equal(again, segs[k], lens[k]);
    }
}

static void
test_coalesce_refuses(void **state)
{
    (void) state;
    static uint8_t f[18 + 40 + 5000], segs[3][2048], co_buf[70000];
    size_t size = build_tcp4(f, 4000, 0x10);
    struct virtio_net_hdr vnet = {
        .flags = VIRTIO_NET_HDR_F_NEEDS_CSUM,
        .gso_type = VIRTIO_NET_HDR_GSO_TCPV4,
        .hdr_len = 58, .gso_size = 1400, .csum_start = 38, .csum_offset = 16,
    };
    struct gso_iter it;
    assert_int_equal(gso_start(&it, f, size, &vnet), GSO_OK);
    size_t lens[3];
    for (int k = 0; k < 3; k++) {
        lens[k] = gso_next(&it, segs[k], sizeof segs[k]);
    }
    struct gso_coalescer co;
    /* Out of order. */
    assert_true(gso_coalesce_start(&co, co_buf, sizeof co_buf, segs[0],
                                   lens[0]));
    assert_false(gso_coalesce_add(&co, segs[2], lens[2]));
    /* A corrupted checksum is never merged. */
    segs[1][100] ^= 1;
    assert_false(gso_coalesce_add(&co, segs[1], lens[1]));
    segs[1][100] ^= 1;
    assert_true(gso_coalesce_add(&co, segs[1], lens[1]));
    /* A partial checksum (as sent by a local stack) cannot start one. */
    assert_false(gso_coalesce_start(&co, co_buf, sizeof co_buf, f, 200));
    size_t small = build_tcp4(f, 100, 0x10);
    assert_false(gso_coalesce_start(&co, co_buf, sizeof co_buf, f, small));
    /* SYN is not data. */
    assert_true(gso_fix_partial_csum(f, small));
    assert_true(gso_coalesce_start(&co, co_buf, sizeof co_buf, f, small));
    f[38 + 13] = 0x12;
    assert_false(gso_coalesce_start(&co, co_buf, sizeof co_buf, f, small));
}

/* RFC 1071 over big-endian byte pairs, the definition the word-wise
 * gso_csum_add() must agree with. */
static uint32_t
csum_reference(uint32_t sum, const uint8_t *p, size_t size)
{
    uint64_t s = sum;
    for (size_t i = 0; i < size; i += 2) {
        s += (uint32_t) (p[i] << 8) | (i + 1 < size ? p[i + 1] : 0);
    }
    while (s >> 16) {
        s = (s & 0xffff) + (s >> 16);
    }
    return (uint32_t) s;
}

static void
test_csum_matches_reference(void **state)
{
    (void) state;
    static uint8_t buf[65536 + 8];
    uint32_t x = 12345;
    for (size_t i = 0; i < sizeof buf; i++) {
        x = x * 1103515245 + 12345;
        buf[i] = (uint8_t) (x >> 16);
    }
    /* Every alignment and tail length, all-zero, all-ones and random
     * data, a starting sum carried in, small values added afterwards. */
    static const size_t sizes[] = { 0, 1, 2, 3, 7, 8, 9, 31, 32, 33, 63,
                                    1448, 1449, 9001, 65535, 65536 };
    for (size_t off = 0; off < 8; off++) {
        for (size_t k = 0; k < sizeof sizes / sizeof *sizes; k++) {
            const uint8_t *p = buf + off;
            size_t n = sizes[k];
            for (uint32_t s0 = 0; s0 < 0x30000; s0 += 0x17fff) {
                assert_int_equal(
                    gso_csum_fold(gso_csum_add(s0, p, n) + 6 + 1500),
                    gso_csum_fold(csum_reference(s0, p, n) + 6 + 1500));
            }
        }
    }
    memset(buf, 0xff, sizeof buf);
    assert_int_equal(gso_csum_fold(gso_csum_add(0, buf, 65536)),
                     gso_csum_fold(csum_reference(0, buf, 65536)));
    assert_int_equal(gso_csum_fold(gso_csum_add(0, buf, 65535)),
                     gso_csum_fold(csum_reference(0, buf, 65535)));
    memset(buf, 0, sizeof buf);
    assert_int_equal(gso_csum_fold(gso_csum_add(0, buf, 1000)), 0xffff);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_header_roundtrip),
        cmocka_unit_test(test_csum_matches_reference),
        cmocka_unit_test(test_header_errors),
        cmocka_unit_test(test_options_defaults),
        cmocka_unit_test(test_options_keys),
        cmocka_unit_test(test_options_errors),
        cmocka_unit_test(test_gso_tcp4),
        cmocka_unit_test(test_gso_split_matches_copy),
        cmocka_unit_test(test_gso_csum_only_and_partial_fix),
        cmocka_unit_test(test_gso_errors),
        cmocka_unit_test(test_coalesce_roundtrip),
        cmocka_unit_test(test_coalesce_refuses),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
