/* Tests for the reconnect state machine with a fake clock. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <limits.h>
#include <stdio.h>

#include "reconnect.h"

static void
test_backoff(void **state)
{
    long long now = 1000;
    struct reconnect *r = reconnect_create("tcp:1.2.3.4:6640", now);
    reconnect_set_backoff(r, 1000, 8000);
    assert_int_equal(reconnect_run(r, now), RECONNECT_NONE);
    reconnect_enable(r, now);
    assert_int_equal(reconnect_run(r, now), RECONNECT_CONNECT);

    int expected[] = { 1000, 2000, 4000, 8000, 8000 };
    for (int i = 0; i < 5; i++) {
        reconnect_connecting(r, now);
        reconnect_connect_failed(r, now, ECONNREFUSED);
        assert_int_equal(reconnect_get_state(r), RECONNECT_S_BACKOFF);
        assert_int_equal(reconnect_get_backoff(r), expected[i]);
        assert_int_equal(reconnect_run(r, now + expected[i] - 1),
                         RECONNECT_NONE);
        assert_int_equal(reconnect_deadline(r), now + expected[i]);
        now += expected[i];
        assert_int_equal(reconnect_run(r, now), RECONNECT_CONNECT);
    }

    /* A connection that lasts long enough resets the backoff. */
    reconnect_connecting(r, now);
    unsigned int seqno = reconnect_get_seqno(r);
    reconnect_connected(r, now);
    assert_true(reconnect_is_connected(r));
    assert_int_not_equal(reconnect_get_seqno(r), seqno);
    now += 10000;
    reconnect_activity(r, now);
    reconnect_disconnected(r, now, EOF);
    assert_int_equal(reconnect_get_backoff(r), 1000);
    assert_false(reconnect_is_connected(r));
    reconnect_destroy(r);
}

static void
test_connect_timeout(void **state)
{
    long long now = 0;
    struct reconnect *r = reconnect_create("x", now);
    reconnect_enable(r, now);
    assert_int_equal(reconnect_run(r, now), RECONNECT_CONNECT);
    reconnect_connecting(r, now);
    assert_int_equal(reconnect_run(r, now + 999), RECONNECT_NONE);
    assert_int_equal(reconnect_run(r, now + 1000), RECONNECT_DISCONNECT);
    reconnect_destroy(r);
}

static void
test_probe(void **state)
{
    long long now = 0;
    struct reconnect *r = reconnect_create("x", now);
    reconnect_set_probe_interval(r, 5000);
    reconnect_enable(r, now);
    reconnect_connecting(r, now);
    reconnect_connected(r, now);
    assert_int_equal(reconnect_run(r, 4999), RECONNECT_NONE);
    reconnect_activity(r, 3000);
    assert_int_equal(reconnect_run(r, 7999), RECONNECT_NONE);
    assert_int_equal(reconnect_run(r, 8000), RECONNECT_PROBE);
    assert_int_equal(reconnect_get_state(r), RECONNECT_S_IDLE);
    assert_int_equal(reconnect_run(r, 12999), RECONNECT_NONE);
    /* Answer arrives: back to active, no disconnect. */
    reconnect_activity(r, 12000);
    assert_int_equal(reconnect_get_state(r), RECONNECT_S_ACTIVE);
    assert_int_equal(reconnect_run(r, 13000), RECONNECT_NONE);
    assert_int_equal(reconnect_run(r, 17000), RECONNECT_PROBE);
    assert_int_equal(reconnect_run(r, 21999), RECONNECT_NONE);
    assert_int_equal(reconnect_run(r, 22000), RECONNECT_DISCONNECT);
    reconnect_disconnected(r, 22000, ETIMEDOUT);
    assert_int_equal(reconnect_get_state(r), RECONNECT_S_BACKOFF);

    /* Probing disabled: never probes. */
    reconnect_set_probe_interval(r, 0);
    reconnect_connecting(r, 30000);
    reconnect_connected(r, 30000);
    assert_int_equal(reconnect_deadline(r), LLONG_MAX);
    assert_int_equal(reconnect_run(r, 1000000), RECONNECT_NONE);
    reconnect_destroy(r);
}

static void
test_max_tries_and_force(void **state)
{
    struct reconnect *r = reconnect_create("x", 0);
    reconnect_set_max_tries(r, 2);
    reconnect_enable(r, 0);
    reconnect_connecting(r, 0);
    reconnect_connect_failed(r, 0, ECONNREFUSED);
    assert_true(reconnect_is_enabled(r));
    reconnect_connecting(r, 1000);
    reconnect_connect_failed(r, 1000, ECONNREFUSED);
    assert_false(reconnect_is_enabled(r));
    assert_int_equal(reconnect_run(r, 100000), RECONNECT_NONE);

    reconnect_enable(r, 200000);
    reconnect_connecting(r, 200000);
    reconnect_connected(r, 200000);
    reconnect_force_reconnect(r, 200001);
    assert_int_equal(reconnect_run(r, 200001), RECONNECT_DISCONNECT);
    reconnect_destroy(r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_backoff),
        cmocka_unit_test(test_connect_timeout),
        cmocka_unit_test(test_probe),
        cmocka_unit_test(test_max_tries_and_force),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
