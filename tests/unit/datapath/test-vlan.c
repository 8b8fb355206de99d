/* Every cell of the mode x frame matrix for VLAN input classification and
 * the mode x VLAN matrix for output tagging (ovs-vswitchd.conf.db(5)). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "packet.h"
#include "vlan.h"

enum port_cfg {
    P_TRUNK_ALL, P_TRUNK_10_20, P_ACCESS_10, P_NATIVE_TAGGED_5,
    P_NATIVE_UNTAGGED_5, P_TUNNEL_100, P_TUNNEL_100_C10, N_PORTS
};

static const uint16_t trunks_10_20[] = { 10, 20 };
static const uint16_t trunks_10[] = { 10 };

static struct vlan_port ports[N_PORTS];

static int
setup(void **state)
{
    static const struct vlan_port_config cfgs[N_PORTS] = {
        [P_TRUNK_ALL] = { .tag = -1 },
        [P_TRUNK_10_20] = { .tag = -1, .trunks = trunks_10_20, .n_trunks = 2 },
        [P_ACCESS_10] = { .tag = 10 },
        [P_NATIVE_TAGGED_5] = { .vlan_mode = "native-tagged", .tag = 5,
                                .trunks = trunks_10, .n_trunks = 1 },
        [P_NATIVE_UNTAGGED_5] = { .vlan_mode = "native-untagged", .tag = 5,
                                  .trunks = trunks_10, .n_trunks = 1 },
        [P_TUNNEL_100] = { .vlan_mode = "dot1q-tunnel", .tag = 100 },
        [P_TUNNEL_100_C10] = { .vlan_mode = "dot1q-tunnel", .tag = 100,
                               .cvlans = trunks_10, .n_cvlans = 1 },
    };
    for (int i = 0; i < N_PORTS; i++) {
        if (vlan_port_configure(&ports[i], &cfgs[i])) {
            return -1;
        }
    }
    (void) state;
    return 0;
}

enum frame { F_UNTAGGED, F_PRIO, F_T10, F_T30, F_T5, F_DOUBLE_10_7, N_FRAMES };

static struct packet_info
frame_info(enum frame f)
{
    struct packet_info info = { .eth_type = 0x0800 };
    static const uint16_t vids[N_FRAMES] = { 0, 0, 10, 30, 5, 10 };
    if (f != F_UNTAGGED) {
        info.n_tags = 1;
        info.tags[0].tpid = PACKET_TPID_8021Q;
        info.tags[0].tci = (uint16_t) (3 << 13 | vids[f]);
    }
    if (f == F_DOUBLE_10_7) {
        info.n_tags = 2;
        info.tags[1].tpid = PACKET_TPID_8021Q;
        info.tags[1].tci = 7;
    }
    info.l2_size = (uint16_t) (14 + 4 * info.n_tags);
    return info;
}

struct in_cell {
    enum vlan_drop drop;
    uint16_t vlan, cvlan;
    uint8_t n_strip;
};

#define ACC(V, C, S) { VLAN_ACCEPT, V, C, S }
#define DROP(R) { R, 0, 0, 0 }
static const struct in_cell in_expect[N_PORTS][N_FRAMES] = {
    /* untagged, priority, tag 10, tag 30, tag 5, double 10/7 */
    [P_TRUNK_ALL] = { ACC(0, 0, 0), ACC(0, 0, 1), ACC(10, 0, 1),
                      ACC(30, 0, 1), ACC(5, 0, 1), ACC(10, 7, 1) },
    [P_TRUNK_10_20] = { DROP(VLAN_DROP_NOT_TRUNKED),
                        DROP(VLAN_DROP_NOT_TRUNKED), ACC(10, 0, 1),
                        DROP(VLAN_DROP_NOT_TRUNKED),
                        DROP(VLAN_DROP_NOT_TRUNKED), ACC(10, 7, 1) },
    [P_ACCESS_10] = { ACC(10, 0, 0), ACC(10, 0, 1),
                      DROP(VLAN_DROP_TAGGED_ON_ACCESS),
                      DROP(VLAN_DROP_TAGGED_ON_ACCESS),
                      DROP(VLAN_DROP_TAGGED_ON_ACCESS),
                      DROP(VLAN_DROP_TAGGED_ON_ACCESS) },
    [P_NATIVE_TAGGED_5] = { ACC(5, 0, 0), ACC(5, 0, 1), ACC(10, 0, 1),
                            DROP(VLAN_DROP_NOT_TRUNKED), ACC(5, 0, 1),
                            ACC(10, 7, 1) },
    [P_NATIVE_UNTAGGED_5] = { ACC(5, 0, 0), ACC(5, 0, 1), ACC(10, 0, 1),
                              DROP(VLAN_DROP_NOT_TRUNKED), ACC(5, 0, 1),
                              ACC(10, 7, 1) },
    [P_TUNNEL_100] = { ACC(100, 0, 0), ACC(100, 0, 0), ACC(100, 10, 0),
                       ACC(100, 30, 0), ACC(100, 5, 0), ACC(100, 10, 0) },
    [P_TUNNEL_100_C10] = { DROP(VLAN_DROP_CVLAN_EXCLUDED),
                           DROP(VLAN_DROP_CVLAN_EXCLUDED), ACC(100, 10, 0),
                           DROP(VLAN_DROP_CVLAN_EXCLUDED),
                           DROP(VLAN_DROP_CVLAN_EXCLUDED), ACC(100, 10, 0) },
};

static void
test_input_matrix(void **state)
{
    (void) state;
    int cells = 0;
    for (int p = 0; p < N_PORTS; p++) {
        for (int f = 0; f < N_FRAMES; f++) {
            struct packet_info info = frame_info((enum frame) f);
            struct vlan_cls cls;
            const struct in_cell *want = &in_expect[p][f];
            enum vlan_drop got = vlan_input(&ports[p], &info, &cls);
            print_message("in port %d frame %d\n", p, f);
            assert_int_equal(got, want->drop);
            if (got == VLAN_ACCEPT) {
                assert_int_equal(cls.vlan, want->vlan);
                assert_int_equal(cls.cvlan, want->cvlan);
                assert_int_equal(cls.n_strip, want->n_strip);
            }
            cells++;
        }
    }
    assert_int_equal(cells, N_PORTS * N_FRAMES);
}

enum pvlan { V0, V5, V10, V30, V100, V100_C10, V100_C30, V10_C7, N_PVLANS };
static const uint16_t pv_vlan[N_PVLANS] = { 0, 5, 10, 30, 100, 100, 100, 10 };
static const uint16_t pv_cvlan[N_PVLANS] = { 0, 0, 0, 0, 0, 10, 30, 7 };

#define EX VLAN_OUT_EXCLUDE
#define UN VLAN_OUT_UNTAGGED
#define TG VLAN_OUT_TAGGED
/* Every frame has PCP 2: in VLAN 0 a trunk keeps it as a priority tag
 * (OVS does; with PCP 0 the frame leaves untagged, checked below). */
static const enum vlan_out out_expect[N_PORTS][N_PVLANS] = {
    /* 0, 5, 10, 30, 100, 100/10, 100/30, 10/7 */
    [P_TRUNK_ALL] = { TG, TG, TG, TG, TG, TG, TG, TG },
    [P_TRUNK_10_20] = { EX, EX, TG, EX, EX, EX, EX, TG },
    [P_ACCESS_10] = { EX, EX, UN, EX, EX, EX, EX, EX },
    [P_NATIVE_TAGGED_5] = { EX, TG, TG, EX, EX, EX, EX, TG },
    [P_NATIVE_UNTAGGED_5] = { EX, UN, TG, EX, EX, EX, EX, TG },
    [P_TUNNEL_100] = { EX, EX, EX, EX, UN, UN, UN, EX },
    [P_TUNNEL_100_C10] = { EX, EX, EX, EX, EX, UN, EX, EX },
};

static void
test_output_matrix(void **state)
{
    (void) state;
    for (int p = 0; p < N_PORTS; p++) {
        for (int v = 0; v < N_PVLANS; v++) {
            struct vlan_cls cls = { .vlan = pv_vlan[v], .cvlan = pv_cvlan[v],
                                    .tpid = PACKET_TPID_8021Q, .pcp = 2 };
            struct packet_tag push = { 0, 0 };
            enum vlan_out got = vlan_output(&ports[p], &cls, &push);
            print_message("out port %d vlan %d\n", p, v);
            assert_int_equal(got, out_expect[p][v]);
            assert_int_equal(vlan_port_carries(&ports[p], cls.vlan,
                                               cls.cvlan),
                             got != VLAN_OUT_EXCLUDE);
            if (got == VLAN_OUT_TAGGED) {
                assert_int_equal(push.tpid, PACKET_TPID_8021Q);
                assert_int_equal(push.tci, (2 << 13) | pv_vlan[v]);
            }
        }
    }
    struct vlan_cls untagged = { .vlan = 0, .tpid = PACKET_TPID_8021Q };
    struct packet_tag push = { 0, 0 };
    assert_int_equal(vlan_output(&ports[P_TRUNK_ALL], &untagged, &push),
                     VLAN_OUT_UNTAGGED);
}

static void
test_qinq_tpid(void **state)
{
    (void) state;
    struct vlan_port ad, q;
    struct vlan_port_config cfg = { .vlan_mode = "dot1q-tunnel", .tag = 100 };
    assert_int_equal(vlan_port_configure(&ad, &cfg), 0);
    cfg.qinq_ethtype = "802.1q";
    assert_int_equal(vlan_port_configure(&q, &cfg), 0);

    struct packet_info info = frame_info(F_T10);
    struct vlan_cls cls;
    struct packet_tag push;
    assert_int_equal(vlan_input(&ad, &info, &cls), VLAN_ACCEPT);
    assert_int_equal(vlan_output(&ports[P_TRUNK_ALL], &cls, &push), TG);
    assert_int_equal(push.tpid, PACKET_TPID_8021AD);
    assert_int_equal(push.tci, 100);
    assert_int_equal(vlan_input(&q, &info, &cls), VLAN_ACCEPT);
    assert_int_equal(vlan_output(&ports[P_TRUNK_ALL], &cls, &push), TG);
    assert_int_equal(push.tpid, PACKET_TPID_8021Q);

    /* An 802.1ad priority tag on an access port lends its TPID and
     * priority to the port's VLAN on trunks (as OVS). */
    struct packet_info prio = frame_info(F_PRIO);
    prio.tags[0].tpid = PACKET_TPID_8021AD;
    assert_int_equal(vlan_input(&ports[P_ACCESS_10], &prio, &cls),
                     VLAN_ACCEPT);
    assert_int_equal(vlan_output(&ports[P_TRUNK_ALL], &cls, &push), TG);
    assert_int_equal(push.tpid, PACKET_TPID_8021AD);
    assert_int_equal(push.tci, (3 << 13) | 10);

    /* An 802.1ad outer tag on a trunk keeps its TPID and priority. */
    info.tags[0].tpid = PACKET_TPID_8021AD;
    info.tags[0].tci = (5 << 13) | 20;
    assert_int_equal(vlan_input(&ports[P_TRUNK_ALL], &info, &cls),
                     VLAN_ACCEPT);
    assert_int_equal(vlan_output(&ports[P_TRUNK_ALL], &cls, &push), TG);
    assert_int_equal(push.tpid, PACKET_TPID_8021AD);
    assert_int_equal(push.tci, (5 << 13) | 20);
}

/* vlan-limit 1 (ovs-vswitchd's default): the inner tag of a double-tagged
 * frame is payload, so the frame is VLAN 10 with no customer VLAN and an
 * access port in VLAN 10 emits it (with the inner tag still inside). */
static void
test_vlan_limit(void **state)
{
    (void) state;
    struct packet_info info = frame_info(F_DOUBLE_10_7);
    struct vlan_cls cls;
    struct packet_tag push;
    vlan_apply_limit(&info, 0);
    assert_int_equal(info.n_tags, 2);
    vlan_apply_limit(&info, 2);
    assert_int_equal(info.n_tags, 2);
    vlan_apply_limit(&info, 1);
    assert_int_equal(info.n_tags, 1);
    assert_int_equal(info.eth_type, PACKET_TPID_8021Q);
    assert_int_equal(info.l2_size, 18);
    assert_int_equal(vlan_input(&ports[P_TRUNK_10_20], &info, &cls),
                     VLAN_ACCEPT);
    assert_int_equal(cls.vlan, 10);
    assert_int_equal(cls.cvlan, 0);
    assert_int_equal(cls.n_strip, 1);
    assert_int_equal(vlan_output(&ports[P_ACCESS_10], &cls, &push), UN);

    info = frame_info(F_DOUBLE_10_7);
    assert_int_equal(vlan_input(&ports[P_TRUNK_10_20], &info, &cls),
                     VLAN_ACCEPT);
    assert_int_equal(vlan_output(&ports[P_ACCESS_10], &cls, &push), EX);
}

static void
test_configure(void **state)
{
    (void) state;
    struct vlan_port p;
    struct vlan_port_config cfg = { .tag = -1 };
    assert_int_equal(vlan_port_configure(&p, &cfg), 0);
    assert_int_equal(p.mode, VLAN_MODE_TRUNK);
    assert_true(p.all_trunks);

    cfg.tag = 7;
    assert_int_equal(vlan_port_configure(&p, &cfg), 0);
    assert_int_equal(p.mode, VLAN_MODE_ACCESS);
    assert_int_equal(p.tag, 7);

    /* Access without a tag is VLAN 0. */
    cfg = (struct vlan_port_config) { .vlan_mode = "access", .tag = -1 };
    assert_int_equal(vlan_port_configure(&p, &cfg), 0);
    assert_int_equal(p.tag, 0);

    /* Native ports trunk their native VLAN even if not listed, never 0. */
    static const uint16_t t[] = { 0, 10 };
    cfg = (struct vlan_port_config) { .vlan_mode = "native-untagged",
                                      .tag = 5, .trunks = t, .n_trunks = 2 };
    assert_int_equal(vlan_port_configure(&p, &cfg), 0);
    assert_true(vlan_bitmap_get(&p.trunks, 5));
    assert_true(vlan_bitmap_get(&p.trunks, 10));
    assert_false(vlan_bitmap_get(&p.trunks, 0));

    cfg.vlan_mode = "bogus";
    p.tag = 1234;
    assert_int_equal(vlan_port_configure(&p, &cfg), EINVAL);
    assert_int_equal(p.tag, 1234);
    cfg = (struct vlan_port_config) { .tag = 4096 };
    assert_int_equal(vlan_port_configure(&p, &cfg), EINVAL);
    static const uint16_t bad[] = { 4096 };
    cfg = (struct vlan_port_config) { .tag = -1, .trunks = bad,
                                      .n_trunks = 1 };
    assert_int_equal(vlan_port_configure(&p, &cfg), EINVAL);
    cfg = (struct vlan_port_config) { .tag = 1, .qinq_ethtype = "x" };
    assert_int_equal(vlan_port_configure(&p, &cfg), EINVAL);

    enum vlan_mode m;
    for (int i = 0; i < VLAN_N_MODES; i++) {
        assert_true(vlan_mode_from_string(vlan_mode_name((enum vlan_mode) i),
                                          &m));
        assert_int_equal(m, i);
    }
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_input_matrix),
        cmocka_unit_test(test_output_matrix),
        cmocka_unit_test(test_qinq_tpid),
        cmocka_unit_test(test_vlan_limit),
        cmocka_unit_test(test_configure),
    };
    return cmocka_run_group_tests(tests, setup, NULL);
}
