#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "fdb.h"
#include "forward.h"

/* Bridge: index 0 = port 1 access 10, 1 = port 2 access 10,
 * 2 = port 3 trunk (all), 3 = port 4 access 20. */
static struct fwd_port ports[4];
static struct vlan_port vlans[4];
static int32_t index_of[5] = { -1, 0, 1, 2, 3 };
static struct fwd_bridge br;

static int
setup(void **state)
{
    (void) state;
    struct vlan_port_config acc10 = { .tag = 10 }, acc20 = { .tag = 20 };
    struct vlan_port_config trunk = { .tag = -1 };
    vlan_port_configure(&vlans[0], &acc10);
    vlan_port_configure(&vlans[1], &acc10);
    vlan_port_configure(&vlans[2], &trunk);
    vlan_port_configure(&vlans[3], &acc20);
    for (int i = 0; i < 4; i++) {
        ports[i].port_no = (uint32_t) i + 1;
        ports[i].vlan = &vlans[i];
    }
    br.local_index = -1;
    br.n_ports = 4;
    br.ports = ports;
    br.index_of = index_of;
    br.n_index = 5;
    memset(&br.flood_vlans, 0, sizeof br.flood_vlans);
    return 0;
}

static void
frame(uint8_t *buf, struct dp_packet *pkt, uint8_t dst, uint8_t src, int vid)
{
    static const uint8_t base[6] = { 0x02, 0, 0, 0, 0, 0 };
    memcpy(buf, base, 6);
    buf[5] = dst;
    memcpy(buf + 6, base, 6);
    buf[11] = src;
    size_t ofs = 12;
    if (vid >= 0) {
        buf[ofs++] = 0x81;
        buf[ofs++] = 0x00;
        buf[ofs++] = (uint8_t) (vid >> 8);
        buf[ofs++] = (uint8_t) vid;
    }
    buf[ofs++] = 0x08;
    buf[ofs++] = 0x00;
    for (size_t i = 0; i < 46; i++) {
        buf[ofs + i] = (uint8_t) i;
    }
    memset(pkt, 0, sizeof *pkt);
    pkt->data = buf;
    pkt->size = (uint32_t) (ofs + 46);
}

static void
test_flood_then_unicast(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(100, 300);
    struct fwd_stats st;
    memset(&st, 0, sizeof st);
    uint8_t b1[80], b2[80];
    struct dp_packet p[2];
    struct fwd_decision d[2];

    frame(b1, &p[0], 0xB, 0xA, -1);
    fwd_decide(&br, 0, fdb, 0, p, 1, d, &st);
    assert_int_equal(d[0].out, FWD_OUT_FLOOD);
    assert_int_equal(d[0].cls.vlan, 10);

    /* Flood egress: port 2 untagged, port 3 tagged 10, port 4 excluded. */
    struct dp_txd txd;
    uint8_t out[100];
    assert_true(fwd_egress(&ports[1], &d[0], &p[0], &txd));
    assert_int_equal(fwd_txd_copy(&txd, out, sizeof out), 60);
    assert_memory_equal(out, b1, 60);
    assert_true(fwd_egress(&ports[2], &d[0], &p[0], &txd));
    assert_int_equal(fwd_txd_size(&txd), 64);
    assert_int_equal(fwd_txd_copy(&txd, out, sizeof out), 64);
    static const uint8_t tag10[4] = { 0x81, 0x00, 0x00, 0x0a };
    assert_memory_equal(out, b1, 12);
    assert_memory_equal(out + 12, tag10, 4);
    assert_memory_equal(out + 16, b1 + 12, 48);
    assert_int_equal(txd.vnet_delta, 4);
    assert_int_equal(fwd_txd_copy(&txd, out, 63), 0);
    assert_false(fwd_egress(&ports[3], &d[0], &p[0], &txd));

    /* Reply from the trunk, tagged 10: unicast to port 1, tag popped. */
    frame(b2, &p[1], 0xA, 0xB, 10);
    fwd_decide(&br, 2, fdb, 0, &p[1], 1, &d[1], &st);
    assert_int_equal(d[1].out, 0);
    assert_true(fwd_egress(&ports[0], &d[1], &p[1], &txd));
    assert_int_equal(fwd_txd_copy(&txd, out, sizeof out), 60);
    assert_memory_equal(out, b1 + 6, 6);        /* dst A */
    assert_int_equal(out[12], 0x08);
    assert_int_equal(txd.vnet_delta, -4);

    /* And A -> B is now unicast to the trunk, same tag: untouched. */
    fwd_decide(&br, 0, fdb, 0, p, 1, d, &st);
    assert_int_equal(d[0].out, 2);
    frame(b2, &p[1], 0xA, 0xB, 10);
    fwd_decide(&br, 2, fdb, 0, &p[1], 1, &d[1], &st);
    assert_true(fwd_egress(&ports[2], &d[1], &p[1], &txd));
    frame(b2, &p[1], 0xC, 0xB, 10);     /* (only dst matters below) */
    assert_int_equal(st.n_flood, 1);
    assert_int_equal(st.n_unicast, 3);
    fdb_destroy(fdb);
}

static void
test_drops_and_hairpin(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(100, 300);
    struct fwd_stats st;
    memset(&st, 0, sizeof st);
    uint8_t b[4][80];
    struct dp_packet p[4];
    struct fwd_decision d[4];
    frame(b[0], &p[0], 0xB, 0xA, 10);    /* tagged on access port */
    frame(b[1], &p[1], 0xB, 0xA, -1);
    p[1].size = 13;                      /* runt */
    frame(b[2], &p[2], 0xB, 0xA, -1);    /* learn A on port 1 ... */
    frame(b[3], &p[3], 0xA, 0xC, -1);    /* ... then C->A from port 1 */
    fwd_decide(&br, 0, fdb, 0, p, 4, d, &st);
    assert_int_equal(d[0].out, FWD_OUT_DROP);
    assert_int_equal(d[1].out, FWD_OUT_DROP);
    assert_int_equal(d[2].out, FWD_OUT_FLOOD);
    assert_int_equal(d[3].out, FWD_OUT_DROP);
    assert_int_equal(st.n_vlan_drops[VLAN_DROP_TAGGED_ON_ACCESS], 1);
    assert_int_equal(st.n_parse_errors[PACKET_ERR_RUNT], 1);
    assert_int_equal(st.n_hairpin_drops, 1);
    fdb_destroy(fdb);
}

static void
test_flood_vlans_and_multicast(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(100, 300);
    struct fwd_stats st;
    memset(&st, 0, sizeof st);
    uint8_t b[80];
    struct dp_packet p;
    struct fwd_decision d;
    vlan_bitmap_set(&br.flood_vlans, 10, true);
    frame(b, &p, 0xB, 0xA, -1);
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    assert_int_equal(d.out, FWD_OUT_FLOOD);
    assert_int_equal(fdb_count(fdb), 0);        /* No learning on VLAN 10. */
    vlan_bitmap_set(&br.flood_vlans, 10, false);

    /* Multicast source is never learned; multicast dst always floods. */
    frame(b, &p, 0xB, 0xA, -1);
    b[6] |= 1;
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    assert_int_equal(fdb_count(fdb), 0);
    fdb_learn(fdb, 10, 0x030000000001ULL, 2, 0);
    frame(b, &p, 0x1, 0xA, -1);
    b[0] = 0x03;
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    assert_int_equal(d.out, FWD_OUT_FLOOD);

    /* An fdb entry for a port no longer in the bridge floods. */
    fdb_learn(fdb, 10, 0x020000000077ULL, 42, 0);
    frame(b, &p, 0x77, 0xA, -1);
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    assert_int_equal(d.out, FWD_OUT_FLOOD);
    /* No fdb at all: everything floods. */
    fwd_decide(&br, 0, NULL, 0, &p, 1, &d, &st);
    assert_int_equal(d.out, FWD_OUT_FLOOD);
    fdb_destroy(fdb);
}

/* fwd_trace() reports each step and agrees with fwd_decide(), but leaves
 * the table alone. */
static void
test_trace(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(100, 300);
    uint8_t b[80];
    struct dp_packet p;
    struct fwd_decision d, dt;
    struct fwd_trace t;
    struct fwd_stats st;
    memset(&st, 0, sizeof st);

    frame(b, &p, 0xB, 0xA, -1);                 /* A -> B on port 1 */
    fwd_trace(&br, 0, fdb, &p, &dt, &t);
    assert_int_equal(t.parse, PACKET_OK);
    assert_int_equal(t.vlan_drop, VLAN_ACCEPT);
    assert_int_equal(t.learn, FWD_LEARN_NEW);
    assert_int_equal(t.lookup, FWD_LOOKUP_MISS);
    assert_int_equal(dt.out, FWD_OUT_FLOOD);
    assert_int_equal(fdb_count(fdb), 0);        /* Nothing learned. */
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    assert_int_equal(d.out, dt.out);
    assert_int_equal(fdb_count(fdb), 1);
    fwd_trace(&br, 0, fdb, &p, &dt, &t);
    assert_int_equal(t.learn, FWD_LEARN_REFRESH);

    /* B -> A from the trunk tagged 10: hit on port 1, A would not move. */
    frame(b, &p, 0xA, 0xB, 10);
    fwd_trace(&br, 2, fdb, &p, &dt, &t);
    assert_int_equal(t.lookup, FWD_LOOKUP_HIT);
    assert_int_equal(t.lookup_port, 1);
    assert_int_equal(dt.out, 0);
    assert_int_equal(t.info.n_tags, 1);

    /* A seen on the trunk: a move from port 1. */
    frame(b, &p, 0xB, 0xA, 10);
    fwd_trace(&br, 2, fdb, &p, &dt, &t);
    assert_int_equal(t.learn, FWD_LEARN_MOVE);
    assert_int_equal(t.learn_old_port, 1);

    /* Drops carry their reason. */
    frame(b, &p, 0xB, 0xA, 20);
    fwd_trace(&br, 0, fdb, &p, &dt, &t);
    assert_int_equal(t.vlan_drop, VLAN_DROP_TAGGED_ON_ACCESS);
    assert_int_equal(dt.out, FWD_OUT_DROP);
    p.size = 13;
    fwd_trace(&br, 0, fdb, &p, &dt, &t);
    assert_int_equal(t.parse, PACKET_ERR_RUNT);
    assert_int_equal(fdb_count(fdb), 1);
    fdb_destroy(fdb);
}

/* OVS's eth_addr_is_reserved() set, exactly, and the NORMAL rule: after
 * the VLAN check, before learning, unless forward-bpdu. */
static void
test_reserved_destinations(void **state)
{
    (void) state;
    static const uint64_t reserved[] = {
        0x00e02b000000, 0x00e02b000004, 0x00e02b000006, 0x01000c000000,
        0x01000ccccccc, 0x01000ccccccd, 0x01000ccdcdcd,
    };
    static const uint64_t not_reserved[] = {
        0x0180c2000010, 0x0180c2000100, 0x0180c2000020, 0x0280c2000000,
        0x01000cccccc8, 0x01000cccccce, 0x01000c000001, 0x01000ccdcdcc,
        0x00e02b000001, 0x00e02b000002, 0x00e02b000005, 0x00e02b000100,
        0xffffffffffff, 0x333300000001, 0x01005e000001, 0x020000000001,
    };
    uint8_t m[6];
    int n_reserved = 0;
    for (int i = 0; i < 16 + 8 + 7; i++) {
        uint64_t v = i < 16 ? 0x0180c2000000 + (uint64_t) i
                     : i < 24 ? 0x01000cccccc0 + (uint64_t) (i - 16)
                     : reserved[i - 24];
        for (int k = 0; k < 6; k++) {
            m[k] = (uint8_t) (v >> (40 - 8 * k));
        }
        n_reserved += fwd_mac_is_reserved(m);
    }
    assert_int_equal(n_reserved, 31);
    for (size_t i = 0; i < sizeof not_reserved / sizeof *not_reserved; i++) {
        for (int k = 0; k < 6; k++) {
            m[k] = (uint8_t) (not_reserved[i] >> (40 - 8 * k));
        }
        assert_false(fwd_mac_is_reserved(m));
    }

    struct fdb *fdb = fdb_create(100, 300);
    struct fwd_stats st;
    memset(&st, 0, sizeof st);
    uint8_t b[80];
    struct dp_packet p;
    struct fwd_decision d;
    struct fwd_trace t;
    static const uint8_t stp[6] = { 0x01, 0x80, 0xc2, 0, 0, 0 };
    frame(b, &p, 0, 0xA, -1);
    memcpy(b, stp, 6);
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    assert_int_equal(d.out, FWD_OUT_DROP);
    assert_int_equal(st.n_reserved_drops, 1);
    assert_int_equal(fdb_count(fdb), 0);        /* Sender not learned. */
    fwd_trace(&br, 0, fdb, &p, &d, &t);
    assert_true(t.reserved_drop);
    assert_int_equal(d.out, FWD_OUT_DROP);

    /* The VLAN check comes first. */
    frame(b, &p, 0, 0xA, 20);
    memcpy(b, stp, 6);
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    assert_int_equal(st.n_vlan_drops[VLAN_DROP_TAGGED_ON_ACCESS], 1);
    assert_int_equal(st.n_reserved_drops, 1);

    /* forward-bpdu: switched like other multicast, sender learned. */
    br.forward_bpdu = true;
    frame(b, &p, 0, 0xA, -1);
    memcpy(b, stp, 6);
    fwd_decide(&br, 0, fdb, 0, &p, 1, &d, &st);
    br.forward_bpdu = false;
    assert_int_equal(d.out, FWD_OUT_FLOOD);
    assert_int_equal(fdb_count(fdb), 1);
    fdb_destroy(fdb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_flood_then_unicast),
        cmocka_unit_test(test_drops_and_hairpin),
        cmocka_unit_test(test_flood_vlans_and_multicast),
        cmocka_unit_test(test_trace),
        cmocka_unit_test(test_reserved_destinations),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
