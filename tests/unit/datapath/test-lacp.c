/* LACP (datapath/lacp.h) with a fake clock: two LACP objects wired
 * back to back negotiate, expire and default; passive against passive stays
 * silent; fallback-ab; a looped-back bond; marker responses; PDU parsing.
 * Then two "bond" ports over dummy members exchanging their frames, which
 * runs LACP inside the port class (port-bond.c).  Real OVS as a partner:
 * tests/scenarios/test_bond_lacp.py. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <string.h>
#include <time.h>

#include "ds.h"
#include "lacp.h"
#include "port-bond.h"
#include "port.h"

/* Two bonds whose member I is cabled to the other's member I. */
struct wire {
    struct lacp *side[2];
    uint8_t queue[2][16][LACP_PDU_SIZE];   /* Towards side S. */
    size_t idx[2][16], n[2];
    int sent[2];
    bool cut[2];                            /* Member I's cable is cut. */
};

struct sender {
    struct wire *w;
    int from;
};

static void
wire_send(void *aux, size_t idx, const uint8_t *pdu)
{
    struct sender *s = aux;
    struct wire *w = s->w;
    int to = !s->from;
    w->sent[s->from]++;
    if (!w->cut[idx] && w->n[to] < 16) {
        memcpy(w->queue[to][w->n[to]], pdu, LACP_PDU_SIZE);
        w->idx[to][w->n[to]++] = idx;
    }
}

/* Runs both sides at NOW and delivers what they sent. */
static void
wire_step(struct wire *w, long long now)
{
    for (int side = 0; side < 2; side++) {
        struct sender s = { w, side };
        lacp_run(w->side[side], now, wire_send, &s);
    }
    for (int side = 0; side < 2; side++) {
        for (size_t i = 0; i < w->n[side]; i++) {
            uint8_t reply[LACP_PDU_SIZE];
            assert_int_equal(lacp_process(w->side[side], w->idx[side][i],
                                          w->queue[side][i], LACP_PDU_SIZE,
                                          now, reply), LACP_PDU_LACP);
        }
        w->n[side] = 0;
    }
}

static struct lacp *
make(const char *name, uint8_t id, bool active, bool fast, bool fallback)
{
    struct lacp_settings s = {
        .name = name, .sys_id = { 0x02, 0, 0, 0, 0, id },
        .sys_priority = 65534, .active = active, .fast = fast,
        .fallback_ab = fallback,
    };
    struct lacp_member_settings ms[2] = {
        { .name = "p1", .port_id = 1, .port_priority = 65535 },
        { .name = "p0", .port_id = 2, .port_priority = 65535 },
    };
    return lacp_create(&s, ms, 2, 0);
}

static long long
run_until(struct wire *w, long long now, long long end)
{
    for (; now <= end; now += 100) {
        wire_step(w, now);
    }
    return now;
}

static void
test_negotiate_expire_default(void **state)
{
    (void) state;
    struct wire w = { .side = { make("a", 1, true, true, false),
                                make("b", 2, false, true, false) } };
    long long now = run_until(&w, 0, 1500);   /* One periodic PDU. */
    for (int side = 0; side < 2; side++) {
        assert_true(lacp_negotiated(w.side[side]));
        for (size_t i = 0; i < 2; i++) {
            assert_true(lacp_may_enable(w.side[side], i));
            assert_true(lacp_is_current(w.side[side], i));
        }
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    lacp_format_show(w.side[1], &ds);
    const char *text = ds_cstr(&ds);
    assert_non_null(strstr(text, "---- b ----\n  status: passive "
                                 "negotiated\n"));
    /* Members listed by name: p0 before p1. */
    assert_true(strstr(text, "member: p0: current attached")
                < strstr(text, "member: p1: current attached"));
    assert_non_null(strstr(text, "  aggregation key: 1\n"));
    assert_non_null(strstr(text, "  partner sys_id: 02:00:00:00:00:01\n"));
    assert_non_null(strstr(text, "  partner state: activity timeout "
                                 "aggregation synchronized collecting "
                                 "distributing\n"));
    ds_destroy(&ds);

    /* Member 0's cable is cut (no carrier change): 3 s later its partner
     * has expired, 3 s after that it is defaulted; member 1 carries on. */
    w.cut[0] = true;
    now = run_until(&w, now, now + 3100);
    assert_false(lacp_may_enable(w.side[0], 0));
    assert_true(lacp_is_current(w.side[0], 0));     /* Expired. */
    now = run_until(&w, now, now + 3100);
    assert_false(lacp_is_current(w.side[0], 0));    /* Defaulted. */
    assert_true(lacp_may_enable(w.side[0], 1));
    ds_init(&ds);
    lacp_format_stats(w.side[0], &ds);
    assert_non_null(strstr(ds_cstr(&ds), "member: p1:\n  TX PDUs: "));
    assert_non_null(strstr(ds_cstr(&ds), "  Link Expired: 1\n"
                                         "  Link Defaulted: 1\n"));
    ds_destroy(&ds);
    /* Recabled: the carrier comes back, so the active side speaks at once
     * (a defaulted member otherwise waits for the slow 30 s period). */
    w.cut[0] = false;
    lacp_carrier_changed(w.side[0], 0, true, now);
    lacp_carrier_changed(w.side[1], 0, true, now);
    run_until(&w, now, now + 2000);
    assert_true(lacp_may_enable(w.side[0], 0));
    lacp_destroy(w.side[0]);
    lacp_destroy(w.side[1]);
}

static void
test_passive_passive_and_fallback(void **state)
{
    (void) state;
    struct wire w = { .side = { make("a", 1, false, true, false),
                                make("b", 2, false, true, true) } };
    run_until(&w, 0, 5000);
    assert_int_equal(w.sent[0] + w.sent[1], 0);     /* Nobody starts. */
    assert_false(lacp_negotiated(w.side[0]));
    assert_false(lacp_may_enable(w.side[0], 0));
    assert_true(lacp_may_enable(w.side[1], 0));     /* Fallback-ab. */
    assert_false(lacp_is_current(w.side[1], 0));
    lacp_destroy(w.side[0]);
    lacp_destroy(w.side[1]);
}

static void
test_loopback_and_marker(void **state)
{
    (void) state;
    struct wire w = { .side = { make("a", 1, true, false, false),
                                make("b", 1, true, false, false) } };
    run_until(&w, 0, 1000);
    assert_false(lacp_may_enable(w.side[0], 0));    /* Our own system. */

    uint8_t marker[LACP_PDU_SIZE] = { 2, 1, 1, 16, 0, 3 }, reply[LACP_PDU_SIZE];
    assert_int_equal(lacp_process(w.side[0], 0, marker, sizeof marker, 0,
                                  reply), LACP_PDU_MARKER_REQUEST);
    assert_int_equal(reply[2], 2);                  /* Response TLV. */
    assert_memory_equal(reply + 3, marker + 3, sizeof marker - 3);
    lacp_destroy(w.side[0]);
    lacp_destroy(w.side[1]);
}

static void
test_parse(void **state)
{
    (void) state;
    struct lacp_info actor = {
        .sys_priority = 7, .sys_id = { 2, 0, 0, 0, 0, 9 }, .key = 5,
        .port_priority = 6, .port_id = 4, .state = 0x3d,
    }, partner = { .port_id = 1 };
    uint8_t pdu[LACP_PDU_SIZE];
    lacp_pdu_compose(&actor, &partner, pdu);
    struct lacp_pdu p;
    assert_int_equal(lacp_pdu_parse(pdu, sizeof pdu, &p), 0);
    assert_int_equal(p.type, LACP_PDU_LACP);
    assert_memory_equal(&p.actor, &actor, sizeof actor);
    assert_int_equal(p.partner.port_id, 1);
    assert_int_equal(lacp_pdu_parse(pdu, sizeof pdu - 1, &p), EINVAL);
    assert_int_equal(lacp_pdu_parse(pdu, 0, &p), EINVAL);
    pdu[3] = 19;
    assert_int_equal(lacp_pdu_parse(pdu, sizeof pdu, &p), EINVAL);
    pdu[0] = 3;                                     /* OAM. */
    assert_int_equal(lacp_pdu_parse(pdu, sizeof pdu, &p), EPROTONOSUPPORT);
}

/* --- Two bond ports over dummy members, cabled through the test. --- */

static struct dp_port *
open_lacp_bond(const char *name, const char *m0, const char *m1,
               enum dp_bond_lacp lacp, uint8_t id)
{
    const struct dp_bond_member_config members[] = {
        { m0, "dummy", NULL, 0, 0, 0 },
        { m1, "dummy", NULL, 0, 0, 0 },
    };
    struct dp_bond_config cfg = {
        .mode = DP_BOND_BALANCE_TCP, .members = members, .n_members = 2,
        .rebalance_ms = 10000, .lacp = lacp, .lacp_fast = true,
        .lacp_sys_id = { 0x02, 0, 0, 0, 1, id },
    };
    struct dp_port_options opts = { .bond = &cfg };
    struct dp_port *port = NULL;
    assert_int_equal(dp_port_open("bond", name, &opts, &port), 0);
    return port;
}

/* Moves what each bond sent on member I to the other's member I. */
static void
cable(struct dp_port *a, struct dp_port *b)
{
    struct dp_port *ends[2] = { a, b };
    uint8_t buf[2048];
    for (int s = 0; s < 2; s++) {
        for (size_t i = 0; i < 2; i++) {
            size_t n;
            while ((n = dp_dummy_pop(dp_bond_member_port(ends[s], i), buf,
                                     sizeof buf))) {
                dp_dummy_inject(dp_bond_member_port(ends[!s], i), buf, n);
            }
        }
    }
}

static void
test_bond_ports_negotiate(void **state)
{
    (void) state;
    struct dp_port *a = open_lacp_bond("ba", "a0", "a1",
                                       DP_BOND_LACP_ACTIVE, 1);
    struct dp_port *b = open_lacp_bond("bb", "b0", "b1",
                                       DP_BOND_LACP_PASSIVE, 2);
    assert_int_equal(dp_bond_lacp_status(a), DP_BOND_LACP_STATUS_NEGOTIATED);
    assert_int_equal(dp_bond_active(a), -1);       /* No partner yet. */
    struct dp_packet pkts[8];
    for (int round = 0; round < 4; round++) {
        cable(a, b);
        /* Slow-protocols frames are consumed, never handed up. */
        assert_int_equal(dp_port_rx_batch(a, pkts, 8), 0);
        assert_int_equal(dp_port_rx_batch(b, pkts, 8), 0);
    }
    for (size_t i = 0; i < 2; i++) {
        struct dp_bond_member_status s;
        dp_bond_get_member(b, i, 0, &s);
        assert_true(s.enabled);
        assert_true(s.may_enable);
        assert_int_equal(s.lacp_current, 1);
    }
    assert_int_equal(dp_bond_lacp_status(b), DP_BOND_LACP_STATUS_NEGOTIATED);

    /* balance-tcp spreads UDP flows over both members. */
    uint8_t buf[2048];
    for (size_t i = 0; i < 2; i++) {
        while (dp_dummy_pop(dp_bond_member_port(a, i), buf, sizeof buf)) {
            continue;               /* LACPDUs. */
        }
    }
    int per_member[2] = { 0, 0 };
    for (int flow = 0; flow < 32; flow++) {
        uint8_t f[60] = { 0 };
        f[12] = 0x08;               /* IPv4, UDP, ports vary. */
        f[14] = 0x45;
        f[23] = 17;
        f[34] = (uint8_t) flow;
        f[36] = 0x13;
        struct dp_packet pkt = { .data = f, .size = sizeof f };
        struct dp_txd txd = { .pkt = &pkt };
        dp_port_tx_batch(a, &txd, 1);
        for (size_t i = 0; i < 2; i++) {
            while (dp_dummy_pop(dp_bond_member_port(a, i), buf, sizeof buf)) {
                per_member[i]++;
            }
        }
    }
    assert_true(per_member[0] >= 4 && per_member[1] >= 4);
    assert_int_equal(per_member[0] + per_member[1], 32);

    struct ds ds = DS_EMPTY_INITIALIZER;
    assert_int_equal(dp_bond_format_lacp(b, false, &ds), 0);
    assert_non_null(strstr(ds_cstr(&ds), "member: b0: current attached"));
    ds_destroy(&ds);
    dp_port_close(a);
    dp_port_close(b);
}

/* balance-slb without LACP: 8 source MACs whose buckets are all on member
 * 0 carry traffic; the next rebalance moves some of them to member 1. */
static void
test_rebalance(void **state)
{
    (void) state;
    const struct dp_bond_member_config members[] = {
        { "r0", "dummy", NULL, 0, 0, 0 },
        { "r1", "dummy", NULL, 0, 0, 0 },
    };
    struct dp_bond_config cfg = {
        .mode = DP_BOND_BALANCE_SLB, .members = members, .n_members = 2,
        .rebalance_ms = 1,
    };
    struct dp_port_options opts = { .bond = &cfg };
    struct dp_port *bond = NULL;
    assert_int_equal(dp_port_open("bond", "rb", &opts, &bond), 0);
    uint64_t macs[8];
    size_t n = 0;
    for (uint64_t mac = 0x020000000001ULL; n < 8; mac++) {
        if (dp_bond_member_for_mac(bond, mac) == 0) {
            macs[n++] = mac;
        }
    }
    uint8_t f[1000] = { 0 }, buf[2048];
    f[12] = 0x88;
    f[13] = 0xb5;
    for (int round = 0; round < 4; round++) {
        for (size_t i = 0; i < n; i++) {
            for (int b = 0; b < 6; b++) {
                f[6 + b] = (uint8_t) (macs[i] >> (40 - 8 * b));
            }
            struct dp_packet pkt = { .data = f, .size = sizeof f };
            struct dp_txd txd = { .pkt = &pkt };
            dp_port_tx_batch(bond, &txd, 1);
        }
    }
    while (dp_dummy_pop(dp_bond_member_port(bond, 0), buf, sizeof buf)) {
        continue;
    }
    assert_int_equal(dp_dummy_pop(dp_bond_member_port(bond, 1), buf,
                                  sizeof buf), 0);
    /* The link monitor (every 100 ms, run from receive) rebalances. */
    struct dp_packet pkts[8];
    for (int i = 0; i < 25; i++) {
        struct timespec ts = { 0, 10 * 1000 * 1000 };
        nanosleep(&ts, NULL);
        dp_port_rx_batch(bond, pkts, 8);
    }
    size_t moved = 0;
    for (size_t i = 0; i < n; i++) {
        moved += dp_bond_member_for_mac(bond, macs[i]) == 1;
    }
    assert_true(moved >= 2 && moved <= 6);
    dp_port_close(bond);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_negotiate_expire_default),
        cmocka_unit_test(test_passive_passive_and_fallback),
        cmocka_unit_test(test_loopback_and_marker),
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_bond_ports_negotiate),
        cmocka_unit_test(test_rebalance),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
