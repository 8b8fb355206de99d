/* "bond" port class over two "dummy" members: which member transmits,
 * which received frames are admitted, control calls, learning packets.
 * (Carrier-driven failover needs kernel devices: tests/scenarios/
 * test_bond.py.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>

#include "port-bond.h"
#include "port.h"

static const struct dp_bond_member_config members[] = {
    { "m1", "dummy", NULL },
    { "m2", "dummy", NULL },
};

static struct dp_port *
open_bond(enum dp_bond_mode mode, const char *primary)
{
    struct dp_bond_config cfg = {
        .mode = mode, .primary = primary,
        .members = members, .n_members = 2,
    };
    struct dp_port_options opts = { .bond = &cfg };
    struct dp_port *port = NULL;
    assert_int_equal(dp_port_open("bond", "b0", &opts, &port), 0);
    assert_true(dp_port_is_bond(port));
    return port;
}

static void
make_frame(uint8_t *f, uint64_t dst, uint64_t src)
{
    memset(f, 0, 60);
    for (int i = 0; i < 6; i++) {
        f[i] = (uint8_t) (dst >> (40 - 8 * i));
        f[6 + i] = (uint8_t) (src >> (40 - 8 * i));
    }
    f[12] = 0x88;
    f[13] = 0xb5;
}

static void
send_frame(struct dp_port *bond, uint64_t dst, uint64_t src)
{
    uint8_t f[60];
    make_frame(f, dst, src);
    struct dp_packet pkt = { .data = f, .size = sizeof f };
    struct dp_txd txd = { .pkt = &pkt };
    dp_port_tx_batch(bond, &txd, 1);
}

/* Frames the bond sent on member IDX since the last call. */
static int
drain(struct dp_port *bond, size_t idx)
{
    uint8_t buf[2048];
    int n = 0;
    while (dp_dummy_pop(dp_bond_member_port(bond, idx), buf, sizeof buf)) {
        n++;
    }
    return n;
}

/* Injects F on member IDX; returns how many frames the bond admits. */
static int
receive(struct dp_port *bond, size_t idx, const uint8_t *f, size_t size)
{
    assert_int_equal(dp_dummy_inject(dp_bond_member_port(bond, idx), f, size),
                     0);
    struct dp_packet pkts[8];
    return dp_port_rx_batch(bond, pkts, 8);
}

#define BCAST 0xffffffffffffULL

static void
test_active_backup(void **state)
{
    (void) state;
    struct dp_port *bond = open_bond(DP_BOND_ACTIVE_BACKUP, "m2");
    assert_int_equal(dp_bond_active(bond), 1);      /* The primary. */
    send_frame(bond, BCAST, 0x020000000001ULL);
    assert_int_equal(drain(bond, 0), 0);
    assert_int_equal(drain(bond, 1), 1);

    uint8_t f[60];
    make_frame(f, 0x020000000009ULL, 0x020000000005ULL);
    assert_int_equal(receive(bond, 0, f, sizeof f), 0);     /* Backup. */
    assert_int_equal(receive(bond, 1, f, sizeof f), 1);

    uint64_t seq = dp_bond_active_seq(bond);
    assert_int_equal(dp_bond_set_active(bond, "m1", 0), 0);
    assert_int_equal(dp_bond_set_active(bond, "m1", 0), EALREADY);
    assert_int_equal(dp_bond_set_active(bond, "nope", 0), ENOENT);
    assert_true(dp_bond_active_seq(bond) == seq + 1);
    send_frame(bond, BCAST, 0x020000000001ULL);
    assert_int_equal(drain(bond, 0), 1);

    /* Disabling the active member fails over; a disabled member cannot
     * be made active and admits nothing. */
    assert_int_equal(dp_bond_set_member_enabled(bond, "m1", false, 0), 0);
    assert_int_equal(dp_bond_active(bond), 1);
    assert_int_equal(dp_bond_set_active(bond, "m1", 0), EINVAL);
    struct dp_bond_member_status s;
    dp_bond_get_member(bond, 0, 0, &s);
    assert_string_equal(s.name, "m1");
    assert_false(s.enabled);
    assert_true(s.carrier);
    assert_int_equal(receive(bond, 0, f, sizeof f), 0);

    /* Nothing enabled: frames are dropped and counted. */
    assert_int_equal(dp_bond_set_member_enabled(bond, "m2", false, 0), 0);
    assert_int_equal(dp_bond_active(bond), -1);
    send_frame(bond, BCAST, 0x020000000001ULL);
    struct dp_port_stats st;
    dp_port_get_stats(bond, &st);
    assert_true(st.tx_dropped == 1);
    dp_port_close(bond);
}

static void
test_balance_slb(void **state)
{
    (void) state;
    struct dp_port *bond = open_bond(DP_BOND_BALANCE_SLB, NULL);
    int count[2] = { 0, 0 };
    for (uint64_t mac = 0x020000000100ULL; mac < 0x020000000120ULL; mac++) {
        int m = dp_bond_member_for_mac(bond, mac);
        assert_true(m == 0 || m == 1);
        send_frame(bond, BCAST, mac);
        assert_int_equal(drain(bond, (size_t) m), 1);
        assert_int_equal(drain(bond, (size_t) !m), 0);
        count[m]++;
    }
    assert_true(count[0] > 0 && count[1] > 0);

    int active = dp_bond_active(bond);
    assert_true(active >= 0);
    size_t backup = (size_t) !active;
    uint8_t f[60];
    /* Broadcast only on the active member; unicast on any. */
    make_frame(f, BCAST, 0x02000000aa01ULL);
    assert_int_equal(receive(bond, backup, f, sizeof f), 0);
    assert_int_equal(receive(bond, (size_t) active, f, sizeof f), 1);
    make_frame(f, 0x02000000aa02ULL, 0x02000000aa01ULL);
    assert_int_equal(receive(bond, backup, f, sizeof f), 1);

    /* Our own frame flooded back to us is dropped... */
    make_frame(f, BCAST, 0x020000000100ULL);
    assert_int_equal(receive(bond, (size_t) active, f, sizeof f), 0);
    /* ... unless it is a gratuitous ARP (the MAC really moved). */
    uint8_t garp[60];
    make_frame(garp, BCAST, 0x020000000100ULL);
    static const uint8_t arp[] = {
        0x08, 0x06, 0, 1, 8, 0, 6, 4, 0, 1,
        2, 0, 0, 0, 1, 0, 10, 0, 0, 7,
        0, 0, 0, 0, 0, 0, 10, 0, 0, 7,
    };
    memcpy(garp + 12, arp, sizeof arp);
    assert_int_equal(receive(bond, (size_t) active, garp, sizeof garp), 1);

    /* A disabled member's buckets move to the other member. */
    assert_int_equal(dp_bond_set_member_enabled(bond, "m1", false, 0), 0);
    for (uint64_t mac = 0x020000000100ULL; mac < 0x020000000120ULL; mac++) {
        assert_int_equal(dp_bond_member_for_mac(bond, mac), 1);
    }
    dp_port_close(bond);
}

static void
test_learning_packet(void **state)
{
    (void) state;
    struct dp_port *bond = open_bond(DP_BOND_ACTIVE_BACKUP, NULL);
    assert_int_equal(dp_bond_send_learning_packet(bond, 0x0200000000abULL, 5),
                     0);
    uint8_t buf[128];
    size_t n = dp_dummy_pop(dp_bond_member_port(bond, 0), buf, sizeof buf);
    assert_int_equal(n, 60);
    static const uint8_t head[] = {
        0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02, 0, 0, 0, 0, 0xab,
        0x81, 0x00, 0x00, 0x05, 0x80, 0x35, 0x00, 0x01, 0x08, 0x00,
        6, 4, 0x00, 0x03, 0x02, 0, 0, 0, 0, 0xab,
    };
    assert_memory_equal(buf, head, sizeof head);
    dp_port_close(bond);
}

static void
test_open_errors(void **state)
{
    (void) state;
    struct dp_port *port = NULL;
    assert_int_equal(dp_port_open("bond", "b0", NULL, &port), EINVAL);
    static const struct dp_bond_member_config bad[] = {
        { "m1", "dummy", NULL },
        { "m2", "no-such-type", NULL },
    };
    struct dp_bond_config cfg = { .members = bad, .n_members = 2 };
    struct dp_port_options opts = { .bond = &cfg };
    assert_int_equal(dp_port_open("bond", "b0", &opts, &port), EAFNOSUPPORT);
    assert_null(port);
    cfg.updelay_ms = -1;
    cfg.members = members;
    assert_int_equal(dp_port_open("bond", "b0", &opts, &port), EINVAL);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_active_backup),
        cmocka_unit_test(test_balance_slb),
        cmocka_unit_test(test_learning_packet),
        cmocka_unit_test(test_open_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
