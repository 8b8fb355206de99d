#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "policer.h"

#define SEC 1000000000ULL

/* A byte-only policer, as most cases here use. */
static struct policer *
bytes_policer(uint64_t rate, uint64_t burst)
{
    struct policer_rates r = { .rate = rate, .burst = burst };
    return policer_create(&r);
}

static int
set_policer(struct dp *dp, const char *name, bool ingress, uint64_t rate,
            uint64_t burst)
{
    struct policer_rates r = { .rate = rate, .burst = burst };
    return dp_set_port_policer(dp, name, ingress, &r);
}

/* Frames of 1,014 bytes: 1,000 bytes once the Ethernet header is off. */
static size_t
offer(struct policer *p, uint64_t now, size_t n)
{
    uint32_t lens[256];
    bool pass[256];
    for (size_t i = 0; i < n; i++) {
        lens[i] = 1014;
    }
    return policer_decide(p, now, lens, n, pass);
}

static void
test_burst_then_rate(void **state)
{
    (void) state;
    /* 100,000 bytes/s, bucket of 10,000 bytes: 10 frames at once. */
    struct policer *p = bytes_policer(100000, 10000);
    assert_int_equal(offer(p, 5 * SEC, 20), 10);
    /* Nothing refilled at the same instant. */
    assert_int_equal(offer(p, 5 * SEC, 5), 0);
    /* 10 ms refill 1,000 bytes: one frame. */
    assert_int_equal(offer(p, 5 * SEC + SEC / 100, 5), 1);
    /* Over one second at a steady offer, the rate holds: 100 frames
     * (+ rounding), whatever is offered. */
    size_t passed = 0;
    for (int ms = 1; ms <= 1000; ms++) {
        passed += offer(p, 5 * SEC + SEC / 100 + (uint64_t) ms * 1000000, 3);
    }
    assert_in_range(passed, 99, 101);
    struct policer_stats s;
    policer_get_stats(p, &s);
    assert_int_equal(s.n_passed, 10 + 1 + passed);
    assert_int_equal(s.n_dropped, 10 + 5 + 4 + 3000 - passed);
    assert_int_equal(s.rates.rate, 100000);
    assert_int_equal(s.rates.pkt_rate, 0);
    free(p);
}

static void
test_idle_does_not_bank(void **state)
{
    (void) state;
    /* A long pause refills the bucket to BURST, never more. */
    struct policer *p = bytes_policer(100000, 5000);
    assert_int_equal(offer(p, SEC, 10), 5);
    assert_int_equal(offer(p, 100 * SEC, 10), 5);
    free(p);
}

static void
test_frame_bigger_than_burst(void **state)
{
    (void) state;
    struct policer *p = bytes_policer(1000000, 1000);
    uint32_t lens[2] = { 64014, 100 };
    bool pass[2];
    assert_int_equal(policer_decide(p, SEC, lens, 2, pass), 1);
    assert_false(pass[0]);
    assert_true(pass[1]);
    free(p);
}

/* Packet-rate policing (Interface ingress_policing_kpkts_*): one token
 * per frame whatever its size. */
static void
test_packet_rate(void **state)
{
    (void) state;
    /* 1,000 packets/s, bucket of 50 packets. */
    struct policer_rates r = { .pkt_rate = 1000, .pkt_burst = 50 };
    struct policer *p = policer_create(&r);
    assert_int_equal(offer(p, 3 * SEC, 200), 50);
    assert_int_equal(offer(p, 3 * SEC, 5), 0);
    /* 10 ms refill 10 packets. */
    assert_int_equal(offer(p, 3 * SEC + SEC / 100, 30), 10);
    size_t passed = 0;
    for (int ms = 1; ms <= 1000; ms++) {
        passed += offer(p, 3 * SEC + SEC / 100 + (uint64_t) ms * 1000000, 4);
    }
    assert_in_range(passed, 999, 1001);
    /* Frame size does not matter: tiny and jumbo frames cost the same. */
    uint32_t lens[3] = { 60, 9014, 60 };
    bool pass[3];
    assert_int_equal(policer_decide(p, 10 * SEC, lens, 3, pass), 3);
    struct policer_stats s;
    policer_get_stats(p, &s);
    assert_int_equal(s.rates.pkt_rate, 1000);
    assert_int_equal(s.rates.pkt_burst, 50);
    assert_int_equal(s.rates.rate, 0);
    free(p);
}

/* Both buckets: the frame must pass the byte bucket, then the packet
 * bucket; whichever is tighter decides. */
static void
test_bytes_and_packets(void **state)
{
    (void) state;
    /* Bytes allow 10 frames of 1,000 bytes, packets 4. */
    struct policer_rates r = { .rate = 1000, .burst = 10000,
                               .pkt_rate = 1, .pkt_burst = 4 };
    struct policer *p = policer_create(&r);
    assert_int_equal(offer(p, SEC, 20), 4);
    free(p);
    /* Bytes allow 3, packets 100: 3. */
    r = (struct policer_rates) { .rate = 1000, .burst = 3000,
                                 .pkt_rate = 1000, .pkt_burst = 100 };
    p = policer_create(&r);
    assert_int_equal(offer(p, SEC, 20), 3);
    /* Small frames: the packet bucket still holds 97. */
    uint32_t lens[100];
    bool pass[100];
    for (int k = 0; k < 100; k++) {
        lens[k] = 14;
    }
    assert_int_equal(policer_decide(p, SEC, lens, 100, pass), 97);
    struct policer_stats s;
    policer_get_stats(p, &s);
    assert_int_equal(s.n_passed, 100);
    assert_int_equal(s.n_dropped, 20);
    free(p);
}

/* Several transmitting threads share an egress policer: together they
 * never get more than the bucket holds (no refill at a fixed time). */
static void *
hammer(void *p_)
{
    size_t n = 0;
    for (int k = 0; k < 20000; k++) {
        n += offer(p_, 7 * SEC, 4);
    }
    return (void *) n;
}

static void
test_threads_share_bucket(void **state)
{
    (void) state;
    struct policer *p = bytes_policer(1000, 1000 * 1000);
    pthread_t t[4];
    for (int k = 0; k < 4; k++) {
        assert_int_equal(pthread_create(&t[k], NULL, hammer, p), 0);
    }
    size_t total = 0;
    for (int k = 0; k < 4; k++) {
        void *n;
        pthread_join(t[k], &n);
        total += (size_t) n;
    }
    assert_int_equal(total, 1000);
    struct policer_stats s;
    policer_get_stats(p, &s);
    assert_int_equal(s.n_passed + s.n_dropped, 4 * 20000 * 4);
    free(p);
}

/* Through the datapath: a dummy port's ingress and egress policers drop
 * what is over the rate and count it as rx_dropped/tx_dropped. */
static void
test_dp_hooks(void **state)
{
    (void) state;
    struct dp *dp = dp_create();
    struct dp_port_config cfg;
    memset(&cfg, 0, sizeof cfg);
    cfg.type = "dummy";
    struct vlan_port_config vc = { .vlan_mode = NULL, .tag = -1 };
    assert_int_equal(vlan_port_configure(&cfg.vlan, &vc), 0);
    assert_int_equal(dp_add_bridge(dp, "br0"), 0);
    assert_int_equal(dp_add_port(dp, "br0", "p1", &cfg, NULL), 0);
    assert_int_equal(dp_add_port(dp, "br0", "p2", &cfg, NULL), 0);
    struct policer_stats ps;
    assert_int_equal(dp_get_port_policer(dp, "p1", true, &ps), ENOTCONN);
    assert_int_equal(set_policer(dp, "nope", true, 1, 1), ENOENT);
    /* Room for 3 frames of 1,000 bytes, nearly no refill. */
    assert_int_equal(set_policer(dp, "p1", true, 10, 3000), 0);

    uint8_t frame[1014];
    memset(frame, 0, sizeof frame);
    memset(frame, 0xff, 6);                     /* broadcast */
    frame[6] = 0x02;
    frame[11] = 1;
    frame[12] = 0x08;
    struct dp_port *p1 = dp_find_port(dp, "p1");
    for (int i = 0; i < 5; i++) {
        assert_int_equal(dp_dummy_inject(p1, frame, sizeof frame), 0);
    }
    dp_poll_once(dp, 1000);
    uint8_t buf[2048];
    struct dp_port *p2 = dp_find_port(dp, "p2");
    int n = 0;
    while (dp_dummy_pop(p2, buf, sizeof buf)) {
        n++;
    }
    assert_int_equal(n, 3);
    struct dp_port_stats st;
    assert_int_equal(dp_get_port_stats(dp, "p1", &st), 0);
    assert_int_equal(st.rx_dropped, 2);
    assert_int_equal(dp_get_port_policer(dp, "p1", true, &ps), 0);
    assert_int_equal(ps.n_dropped, 2);

    /* Egress on p2: one frame's worth. */
    assert_int_equal(set_policer(dp, "p1", true, 0, 0), 0);
    assert_int_equal(set_policer(dp, "p2", false, 10, 1000), 0);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(dp_dummy_inject(p1, frame, sizeof frame), 0);
    }
    dp_poll_once(dp, 2000);
    n = 0;
    while (dp_dummy_pop(p2, buf, sizeof buf)) {
        n++;
    }
    assert_int_equal(n, 1);
    assert_int_equal(dp_get_port_stats(dp, "p2", &st), 0);
    assert_int_equal(st.tx_dropped, 3);
    dp_destroy(dp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_burst_then_rate),
        cmocka_unit_test(test_idle_does_not_bank),
        cmocka_unit_test(test_frame_bigger_than_burst),
        cmocka_unit_test(test_packet_rate),
        cmocka_unit_test(test_bytes_and_packets),
        cmocka_unit_test(test_threads_share_bucket),
        cmocka_unit_test(test_dp_hooks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
