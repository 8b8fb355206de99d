#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ds.h"
#include "fdb.h"

#define MAC(N) (0x020000000000ULL + (uint64_t) (N))

static void
test_learn_lookup_move(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(100, 300);
    uint32_t port;
    assert_false(fdb_lookup(fdb, 1, MAC(1), &port));
    assert_int_equal(fdb_learn(fdb, 1, MAC(1), 7, 1000), FDB_LEARN_NEW);
    assert_true(fdb_lookup(fdb, 1, MAC(1), &port));
    assert_int_equal(port, 7);
    /* Same MAC, other VLAN: separate entry. */
    assert_false(fdb_lookup(fdb, 2, MAC(1), &port));
    assert_int_equal(fdb_learn(fdb, 1, MAC(1), 7, 2000), FDB_LEARN_REFRESHED);
    assert_int_equal(fdb_learn(fdb, 1, MAC(1), 8, 3000), FDB_LEARN_MOVED);
    assert_true(fdb_lookup(fdb, 1, MAC(1), &port));
    assert_int_equal(port, 8);

    struct fdb_stats s;
    fdb_get_stats(fdb, &s);
    assert_int_equal(s.n_entries, 1);
    assert_int_equal(s.n_learned, 1);
    assert_int_equal(s.n_moved, 1);
    fdb_clear_stats(fdb);
    fdb_get_stats(fdb, &s);
    assert_int_equal(s.n_moved, 0);
    fdb_destroy(fdb);
    fdb_destroy(NULL);
}

static void
test_aging(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(100, 15);
    fdb_learn(fdb, 0, MAC(1), 1, 0);
    fdb_learn(fdb, 0, MAC(2), 1, 10000);
    assert_int_equal(fdb_next_expiry(fdb, 10000), 5000);
    assert_int_equal(fdb_expire(fdb, 14999), 0);
    /* Refreshing MAC(1) keeps it alive past its original deadline. */
    fdb_learn(fdb, 0, MAC(1), 1, 14000);
    assert_int_equal(fdb_expire(fdb, 25000), 1);        /* MAC(2) */
    uint32_t port;
    assert_false(fdb_lookup(fdb, 0, MAC(2), &port));
    assert_true(fdb_lookup(fdb, 0, MAC(1), &port));
    assert_int_equal(fdb_expire(fdb, 29000), 1);
    assert_int_equal(fdb_count(fdb), 0);
    assert_int_equal(fdb_next_expiry(fdb, 0), LLONG_MAX);
    struct fdb_stats s;
    fdb_get_stats(fdb, &s);
    assert_int_equal(s.n_expired, 2);
    /* Idle time is clamped to 15..3600 s. */
    fdb_set_idle_time(fdb, 1);
    fdb_learn(fdb, 0, MAC(3), 1, 0);
    assert_int_equal(fdb_expire(fdb, 14999), 0);
    assert_int_equal(fdb_expire(fdb, 15000), 1);
    fdb_destroy(fdb);
}

static void
test_fair_eviction(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(10, 300);
    assert_int_equal(fdb_max_entries(fdb), 10);
    /* Port 1 holds 2 entries, port 2 floods 8. */
    fdb_learn(fdb, 0, MAC(1), 1, 1);
    fdb_learn(fdb, 0, MAC(2), 1, 2);
    for (int i = 0; i < 8; i++) {
        fdb_learn(fdb, 0, MAC(100 + i), 2, 10 + i);
    }
    assert_int_equal(fdb_count(fdb), 10);
    /* A new MAC on port 1 evicts port 2's oldest entry, not port 1's. */
    assert_int_equal(fdb_learn(fdb, 0, MAC(3), 1, 50), FDB_LEARN_NEW);
    assert_int_equal(fdb_count(fdb), 10);
    uint32_t port;
    assert_true(fdb_lookup(fdb, 0, MAC(1), &port));
    assert_false(fdb_lookup(fdb, 0, MAC(100), &port));
    assert_true(fdb_lookup(fdb, 0, MAC(101), &port));
    struct fdb_stats s;
    fdb_get_stats(fdb, &s);
    assert_int_equal(s.n_evicted, 1);
    /* Shrinking evicts at once. */
    fdb_set_max_entries(fdb, 1);        /* Clamped to 10: no change. */
    assert_int_equal(fdb_count(fdb), 10);
    fdb_destroy(fdb);

    /* Growing past 10 and shrinking back drops the least recently used
     * entries whatever their port (as ovs-vswitchd), counted as expired:
     * port 1's two old MACs go although port 2 has more. */
    fdb = fdb_create(12, 300);
    fdb_learn(fdb, 0, MAC(1), 1, 1);
    fdb_learn(fdb, 0, MAC(2), 1, 2);
    for (int i = 0; i < 10; i++) {
        fdb_learn(fdb, 0, MAC(100 + i), 2, 10 + i);
    }
    fdb_set_max_entries(fdb, 10);
    assert_int_equal(fdb_count(fdb), 10);
    assert_false(fdb_lookup(fdb, 0, MAC(1), &port));
    assert_false(fdb_lookup(fdb, 0, MAC(2), &port));
    assert_true(fdb_lookup(fdb, 0, MAC(100), &port));
    fdb_get_stats(fdb, &s);
    assert_int_equal(s.n_expired, 2);
    assert_int_equal(s.n_evicted, 0);
    fdb_destroy(fdb);
}

static void
test_static_and_flush(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(10, 300);
    uint32_t port;
    fdb_learn(fdb, 5, MAC(1), 1, 0);
    assert_int_equal(fdb_add_static(fdb, 5, MAC(1), 2), 0);
    assert_true(fdb_lookup(fdb, 5, MAC(1), &port));
    assert_int_equal(port, 2);
    /* Static entries neither move nor age. */
    assert_int_equal(fdb_learn(fdb, 5, MAC(1), 3, 0), FDB_LEARN_STATIC);
    assert_int_equal(fdb_expire(fdb, 10000000), 0);
    fdb_learn(fdb, 5, MAC(2), 1, 0);
    fdb_learn(fdb, 6, MAC(3), 1, 0);
    fdb_learn(fdb, 6, MAC(4), 3, 0);
    fdb_flush_vlan(fdb, 6);
    assert_false(fdb_lookup(fdb, 6, MAC(3), &port));
    assert_true(fdb_lookup(fdb, 5, MAC(2), &port));
    fdb_flush(fdb);
    assert_int_equal(fdb_count(fdb), 1);
    assert_true(fdb_lookup(fdb, 5, MAC(1), &port));
    fdb_learn(fdb, 7, MAC(9), 2, 0);
    fdb_learn(fdb, 7, MAC(8), 1, 0);
    fdb_flush_port(fdb, 2);
    assert_int_equal(fdb_count(fdb), 1);
    assert_true(fdb_lookup(fdb, 7, MAC(8), &port));
    assert_int_equal(fdb_del_static(fdb, 5, MAC(1)), ENOENT);
    assert_int_equal(fdb_add_static(fdb, 5, MAC(1), 2), 0);
    assert_int_equal(fdb_del_static(fdb, 5, MAC(1)), 0);
    assert_int_equal(fdb_del_static(fdb, 7, MAC(8)), ENOENT);
    /* Table full of static entries: learning refuses. */
    for (int i = 0; i < 9; i++) {
        assert_int_equal(fdb_add_static(fdb, 1, MAC(50 + i), 1), 0);
    }
    assert_int_equal(fdb_add_static(fdb, 1, MAC(60), 1), 0);   /* evicts */
    assert_int_equal(fdb_add_static(fdb, 1, MAC(61), 1), ENOSPC);
    assert_int_equal(fdb_learn(fdb, 1, MAC(62), 1, 0), FDB_LEARN_FULL);
    fdb_destroy(fdb);
}

static void
port_label(uint32_t port, char *buf, size_t size, void *aux)
{
    (void) aux;
    snprintf(buf, size, "%u", port);
}

static void
test_format(void **state)
{
    (void) state;
    struct fdb *fdb = fdb_create(8192, 300);
    fdb_learn(fdb, 0, 0x505400000001ULL, 1, 0);
    fdb_learn(fdb, 10, 0x505400000003ULL, 3, 1000);
    fdb_add_static(fdb, 20, 0x505400000020ULL, 2);
    struct ds ds = DS_EMPTY_INITIALIZER;
    fdb_format(fdb, 2500, port_label, NULL, &ds);
    assert_string_equal(ds_cstr(&ds),
                        " port  VLAN  MAC                Age\n"
                        "    1     0  50:54:00:00:00:01    2\n"
                        "    3    10  50:54:00:00:00:03    1\n"
                        "    2    20  50:54:00:00:00:20  static\n");
    ds_clear(&ds);
    fdb_format_stats(fdb, "br0", &ds);
    assert_string_equal(ds_cstr(&ds),
                        "Statistics for bridge \"br0\":\n"
                        "  Current/maximum MAC entries in the table: 3/8192\n"
                        "  Current static MAC entries in the table : 1\n"
                        "  Total number of learned MAC entries     : 2\n"
                        "  Total number of expired MAC entries     : 0\n"
                        "  Total number of evicted MAC entries     : 0\n"
                        "  Total number of port moved MAC entries  : 0\n");
    ds_destroy(&ds);
    fdb_destroy(fdb);
}

/* 100,000 entries: learning, lookup, eviction and expiry stay correct (the
 * cost is what the benchmark measures; here we check behaviour at scale). */
static void
test_scale(void **state)
{
    (void) state;
    enum { N = 100000 };
    struct fdb *fdb = fdb_create(N, 300);
    for (uint32_t i = 0; i < N; i++) {
        assert_int_equal(fdb_learn(fdb, (uint16_t) (i % 4094), MAC(i),
                                   i % 64, i / 100), FDB_LEARN_NEW);
    }
    assert_int_equal(fdb_count(fdb), N);
    uint32_t port;
    for (uint32_t i = 0; i < N; i += 7) {
        assert_true(fdb_lookup(fdb, (uint16_t) (i % 4094), MAC(i), &port));
        assert_int_equal(port, i % 64);
    }
    for (uint32_t i = 0; i < 1000; i++) {
        assert_int_equal(fdb_learn(fdb, 1, MAC(N + i), 99, 1100000),
                         FDB_LEARN_NEW);
    }
    assert_int_equal(fdb_count(fdb), N);
    struct fdb_stats s;
    fdb_get_stats(fdb, &s);
    assert_int_equal(s.n_evicted, 1000);
    /* Everything but the 1,000 new entries is older than 300 s at t=1301 s. */
    assert_int_equal(fdb_expire(fdb, 1301000), N - 1000);
    fdb_flush_port(fdb, 99);
    assert_int_equal(fdb_count(fdb), 0);
    fdb_destroy(fdb);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_learn_lookup_move),
        cmocka_unit_test(test_aging),
        cmocka_unit_test(test_fair_eviction),
        cmocka_unit_test(test_static_and_flush),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_scale),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
