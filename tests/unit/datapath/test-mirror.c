/* Port mirroring in the datapath (datapath/mirror.h) over dummy ports, one
 * synchronous pass at a time: configuration errors, which copies leave
 * where and how they are tagged, reserved output ports, deduplication,
 * snaplen, statistics across reconfiguration, and ofproto/trace. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "mirror.h"
#include "util.h"

/* Ports of bridge br0: a1, a2 access 10; t3 trunk; a4 access 20; m5
 * trunk (the mirror output in most tests); x6 access 99. */
static const struct {
    const char *name, *mode;
    int tag;
} PORTS[] = {
    { "a1", "access", 10 }, { "a2", "access", 10 }, { "t3", NULL, -1 },
    { "a4", "access", 20 }, { "m5", NULL, -1 }, { "x6", "access", 99 },
};
#define N_PORTS 6

static struct dp *
make_dp(void)
{
    struct dp *dp = dp_create();
    assert_int_equal(dp_add_bridge(dp, "br0"), 0);
    for (size_t i = 0; i < N_PORTS; i++) {
        struct dp_port_config cfg = { .type = "dummy" };
        struct vlan_port_config vc = { .vlan_mode = PORTS[i].mode,
                                       .tag = PORTS[i].tag };
        assert_int_equal(vlan_port_configure(&cfg.vlan, &vc), 0);
        uint32_t no;
        assert_int_equal(dp_add_port(dp, "br0", PORTS[i].name, &cfg, &no), 0);
        assert_int_equal(no, i + 1);
    }
    return dp;
}

/* frame()'s DST for LLDP's 01:80:c2:00:00:0e, which RSPAN never copies. */
#define LLDP 0xfe

static size_t
frame(uint8_t *buf, uint8_t dst, uint8_t src, int vid, size_t payload)
{
    memset(buf, 0, 6);
    buf[0] = dst == 0xff ? 0xff : 0x02;
    memset(buf + 1, dst == 0xff ? 0xff : 0, 4);
    buf[5] = dst;
    if (dst == LLDP) {
        memcpy(buf, "\x01\x80\xc2\x00\x00\x0e", 6);
    }
    memcpy(buf + 6, "\x02\0\0\0\0", 5);
    buf[11] = src;
    size_t ofs = 12;
    if (vid >= 0) {
        memcpy(buf + ofs, "\x81\x00", 2);
        buf[ofs + 2] = (uint8_t) (vid >> 8);
        buf[ofs + 3] = (uint8_t) vid;
        ofs += 4;
    }
    memcpy(buf + ofs, "\x08\x00", 2);
    memset(buf + ofs + 2, 0x5a, payload);
    return ofs + 2 + payload;
}

/* Injects a frame from SRC to DST (0xff: broadcast) tagged VID (-1: none)
 * into port IN, runs one pass, and writes into OUT[i] what left port i:
 * "u" (untagged) or the VID of each frame, sorted, comma-separated ("" for
 * nothing), and into LENS[i] the length of the last one. */
static void
run(struct dp *dp, const char *in, uint8_t src, uint8_t dst, int vid,
    char out[N_PORTS][32], size_t lens[N_PORTS])
{
    uint8_t f[200], buf[2048];
    size_t n = frame(f, dst, src, vid, 60);
    assert_int_equal(dp_dummy_inject(dp_find_port(dp, in), f, n), 0);
    dp_poll_once(dp, 0);
    for (size_t i = 0; i < N_PORTS; i++) {
        char got[4][8];
        size_t k = 0, len;
        while (k < 4 && (len = dp_dummy_pop(dp_find_port(dp, PORTS[i].name),
                                            buf, sizeof buf))) {
            if (buf[12] == 0x81) {
                snprintf(got[k++], 8, "%d", (buf[14] << 8 | buf[15]) & 0xfff);
            } else {
                snprintf(got[k++], 8, "u");
            }
            lens[i] = len;
        }
        qsort(got, k, sizeof got[0], (int (*)(const void *, const void *))
              strcmp);
        out[i][0] = '\0';
        for (size_t j = 0; j < k; j++) {
            strcat(out[i], j ? "," : "");
            strcat(out[i], got[j]);
        }
    }
}

static void
expect(char got[N_PORTS][32], const char *want0, const char *want1,
       const char *want2, const char *want3, const char *want4,
       const char *want5)
{
    const char *want[N_PORTS] = { want0, want1, want2, want3, want4, want5 };
    for (size_t i = 0; i < N_PORTS; i++) {
        if (strcmp(got[i], want[i])) {
            fail_msg("port %s: got \"%s\", want \"%s\"", PORTS[i].name,
                     got[i], want[i]);
        }
    }
}

static void
test_config_errors(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    uint32_t a1 = 1;
    struct mirror_config c = { .id = "x", .src_ports = &a1, .n_src = 1 };
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c, 1), EINVAL);
    c.out_port = 5;
    c.out_vlan = 99;                /* Both: the caller must choose. */
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c, 1), EINVAL);
    c.out_vlan = 0;
    c.snaplen = 13;
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c, 1), EINVAL);
    c.snaplen = 0;
    struct mirror_config two[2] = { c, c };
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", two, 2), EINVAL);
    struct mirror_config many[MIRROR_MAX + 1];
    for (size_t i = 0; i < ARRAY_SIZE(many); i++) {
        many[i] = c;
    }
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", many, MIRROR_MAX + 1),
                     EFBIG);
    assert_int_equal(dp_bridge_set_mirrors(dp, "nope", &c, 1), ENOENT);
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c, 1), 0);
    struct mirror_stats st;
    assert_int_equal(dp_bridge_get_mirror_stats(dp, "br0", "y", &st), ENOENT);
    dp_destroy(dp);
}

static void
test_span(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    uint32_t a1 = 1;
    struct mirror_config c = { .id = "m", .src_ports = &a1, .n_src = 1,
                               .dst_ports = &a1, .n_dst = 1, .out_port = 5 };
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c, 1), 0);
    char got[N_PORTS][32];
    size_t lens[N_PORTS];
    /* From a1: flooded in VLAN 10 (not to m5, reserved), copy to m5. */
    run(dp, "a1", 0x10, 0xff, -1, got, lens);
    expect(got, "", "u", "10", "", "10", "");
    /* From t3 in VLAN 10: reaches a1, so copied; VLAN 20 does not. */
    run(dp, "t3", 0x11, 0xff, 10, got, lens);
    expect(got, "u", "u", "", "", "10", "");
    run(dp, "t3", 0x12, 0xff, 20, got, lens);
    expect(got, "", "", "", "u", "", "");
    /* From the output port: neither forwarded nor learned. */
    run(dp, "m5", 0x13, 0xff, 10, got, lens);
    expect(got, "", "", "", "", "", "");
    /* Unicast to a MAC learned on a1 is mirrored. */
    run(dp, "a2", 0x14, 0x10, -1, got, lens);
    expect(got, "u", "", "", "", "10", "");
    /* m5's MAC was not learned: flooded (and mirrored, from a1). */
    run(dp, "a1", 0x16, 0x13, -1, got, lens);
    expect(got, "", "u", "10", "", "10", "");
    struct mirror_stats st;
    assert_int_equal(dp_bridge_get_mirror_stats(dp, "br0", "m", &st), 0);
    assert_int_equal(st.tx_packets, 4);
    assert_int_equal(st.tx_bytes, 74 + 78 + 74 + 74);

    /* Access output port: copies leave untagged, whatever their VLAN. */
    uint32_t t3 = 3;
    struct mirror_config c2 = { .id = "m", .src_ports = &t3, .n_src = 1,
                                .out_port = 4 };
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c2, 1), 0);
    run(dp, "t3", 0x17, 0xff, 10, got, lens);
    expect(got, "u", "u", "", "u", "10", "");
    /* Same id: statistics carry on. */
    assert_int_equal(dp_bridge_get_mirror_stats(dp, "br0", "m", &st), 0);
    assert_int_equal(st.tx_packets, 5);
    /* No mirror: m5 forwards again. */
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", NULL, 0), 0);
    run(dp, "m5", 0x18, 0xff, 10, got, lens);
    expect(got, "u", "u", "10", "", "", "");
    dp_destroy(dp);
}

static void
test_rspan_dedup_snaplen(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    uint32_t a1 = 1, a2 = 2;
    uint16_t v10 = 10;
    struct mirror_config c[3] = {
        { .id = "m0", .src_ports = &a1, .n_src = 1, .out_port = 5,
          .snaplen = 20 },
        { .id = "m1", .dst_ports = &a2, .n_dst = 1, .out_port = 5 },
        { .id = "m2", .select_all = true, .vlans = &v10, .n_vlans = 1,
          .out_vlan = 99 },
    };
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", c, 3), 0);
    char got[N_PORTS][32];
    size_t lens[N_PORTS];
    /* m0 and m1 both select it: one copy to m5, cut to 20 bytes.  m2's
     * copy in VLAN 99 goes to t3 (tagged, besides the frame itself) and
     * to x6 (untagged). */
    run(dp, "a1", 0x20, 0xff, -1, got, lens);
    expect(got, "", "u", "10,99", "", "10", "u");
    assert_int_equal(lens[4], 20);
    /* To a reserved address: not forwarded (no forward-bpdu), still
     * copied to m5 by its source port (as OVS), not into VLAN 99. */
    run(dp, "a1", 0x23, LLDP, -1, got, lens);
    expect(got, "", "", "", "", "10", "");
    /* VLAN 20: no mirror selects it. */
    run(dp, "t3", 0x21, 0xff, 20, got, lens);
    expect(got, "", "", "", "u", "", "");
    /* A frame already in VLAN 99 is not copied into it. */
    uint16_t v99 = 99;
    c[2].vlans = &v99;
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c[2], 1), 0);
    run(dp, "x6", 0x22, 0xff, -1, got, lens);
    expect(got, "", "", "99", "", "99", "");
    struct mirror_stats st;
    assert_int_equal(dp_bridge_get_mirror_stats(dp, "br0", "m2", &st), 0);
    /* a1's two frames and x6's: selected, even when not copied. */
    assert_int_equal(st.tx_packets, 3);
    assert_int_equal(dp_bridge_get_mirror_stats(dp, "br0", "m0", &st),
                     ENOENT);
    dp_destroy(dp);
}

static void
test_trace(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    uint32_t a1 = 1;
    struct mirror_config c = { .id = "u", .name = "m0", .src_ports = &a1,
                               .n_src = 1, .out_port = 5 };
    assert_int_equal(dp_bridge_set_mirrors(dp, "br0", &c, 1), 0);
    uint8_t f[200];
    size_t n = frame(f, 0xff, 0x33, -1, 60);
    struct dp_trace_result r;
    assert_int_equal(dp_trace(dp, "br0", "a1", f, n, &r), 0);
    size_t n_mirror = 0;
    for (size_t i = 0; i < r.n_outs; i++) {
        if (r.outs[i].mirror) {
            n_mirror++;
            assert_string_equal(r.outs[i].mirror, "m0");
            assert_int_equal(r.outs[i].port_no, 5);
            assert_int_equal(r.outs[i].frame.n_tags, 1);
        } else {
            assert_int_not_equal(r.outs[i].port_no, 5);
        }
    }
    assert_int_equal(n_mirror, 1);
    dp_trace_result_destroy(&r);
    assert_int_equal(dp_trace(dp, "br0", "m5", f, n, &r), 0);
    assert_true(r.in_mirror_output);
    assert_int_equal(r.dec.out, FWD_OUT_DROP);
    dp_trace_result_destroy(&r);
    dp_destroy(dp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_config_errors),
        cmocka_unit_test(test_span),
        cmocka_unit_test(test_rspan_dedup_snaplen),
        cmocka_unit_test(test_trace),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
