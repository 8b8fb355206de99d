#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "lock.h"

static int s1, s2, s3;          /* Stand-in sessions: only addresses matter. */

static void
test_lock_queue_and_handover(void **state)
{
    (void) state;
    struct dbd_lock_table *t = dbd_lock_table_create();
    void *stolen = (void *) 1;

    struct dbd_lock_waiter *a = dbd_lock_acquire(t, "L", &s1, DBD_LOCK_WAIT, &stolen);
    assert_null(stolen);
    assert_true(dbd_lock_waiter_is_owner(a));
    struct dbd_lock_waiter *b = dbd_lock_acquire(t, "L", &s2, DBD_LOCK_WAIT, NULL);
    assert_false(dbd_lock_waiter_is_owner(b));
    assert_int_equal(dbd_lock_table_count(t), 1);

    /* Owner unlocks: the next waiter owns it and must be told. */
    assert_ptr_equal(dbd_lock_release(a), &s2);
    assert_true(dbd_lock_waiter_is_owner(b));
    /* Last waiter leaves: lock disappears, nobody to notify. */
    assert_null(dbd_lock_release(b));
    assert_int_equal(dbd_lock_table_count(t), 0);
    dbd_lock_table_destroy(t);
}

static void
test_lock_steal(void **state)
{
    (void) state;
    struct dbd_lock_table *t = dbd_lock_table_create();
    void *stolen = NULL;

    struct dbd_lock_waiter *a = dbd_lock_acquire(t, "L", &s1, DBD_LOCK_WAIT, NULL);
    struct dbd_lock_waiter *c = dbd_lock_acquire(t, "L", &s3, DBD_LOCK_WAIT, NULL);
    struct dbd_lock_waiter *b = dbd_lock_acquire(t, "L", &s2, DBD_LOCK_STEAL, &stolen);
    assert_ptr_equal(stolen, &s1);
    assert_true(dbd_lock_waiter_is_owner(b));
    assert_false(dbd_lock_waiter_is_owner(a));

    /* A waiter that is not the owner leaves: no change of owner. */
    assert_null(dbd_lock_release(c));
    /* The thief unlocks: the robbed session gets it back. */
    assert_ptr_equal(dbd_lock_release(b), &s1);
    assert_true(dbd_lock_waiter_is_owner(a));
    assert_null(dbd_lock_release(a));
    dbd_lock_table_destroy(t);
}

static void
test_lock_independent_names(void **state)
{
    (void) state;
    struct dbd_lock_table *t = dbd_lock_table_create();
    struct dbd_lock_waiter *a = dbd_lock_acquire(t, "A", &s1, DBD_LOCK_WAIT, NULL);
    struct dbd_lock_waiter *b = dbd_lock_acquire(t, "B", &s2, DBD_LOCK_WAIT, NULL);
    assert_true(dbd_lock_waiter_is_owner(a));
    assert_true(dbd_lock_waiter_is_owner(b));
    assert_string_equal(dbd_lock_waiter_name(b), "B");
    assert_int_equal(dbd_lock_table_count(t), 2);
    dbd_lock_release(a);
    dbd_lock_release(b);
    dbd_lock_table_destroy(t);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lock_queue_and_handover),
        cmocka_unit_test(test_lock_steal),
        cmocka_unit_test(test_lock_independent_names),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
