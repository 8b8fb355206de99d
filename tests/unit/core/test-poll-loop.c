/* Tests for the poll loop. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <unistd.h>

#include "poll-loop.h"
#include "util.h"

static void
test_immediate_and_timer(void **state)
{
    long long start = time_msec();
    poll_timer_wait(10000);
    poll_immediate_wake();
    poll_block();
    assert_true(time_msec() - start < 1000);

    start = time_msec();
    poll_timer_wait(50);
    poll_timer_wait(500);       /* The earliest wins. */
    poll_block();
    long long elapsed = time_msec() - start;
    assert_true(elapsed >= 49 && elapsed < 450);

    start = time_msec();
    poll_timer_wait_until(start - 10);
    poll_block();
    assert_true(time_msec() - start < 100);
}

static void
test_fd_merge(void **state)
{
    int fds[2];
    assert_int_equal(pipe(fds), 0);
    assert_int_equal(write(fds[1], "x", 1), 1);

    /* Registering the same fd twice merges (POLLOUT then POLLIN): the read
     * end is only readable, so it must still wake. */
    long long start = time_msec();
    poll_fd_wait(fds[0], POLLOUT);
    poll_fd_wait(fds[0], POLLIN);
    poll_timer_wait(2000);
    poll_block();
    assert_true(time_msec() - start < 1000);
    assert_true(poll_fd_revents(fds[0]) & POLLIN);

    /* Registrations are cleared by poll_block(). */
    char c;
    assert_int_equal(read(fds[0], &c, 1), 1);
    start = time_msec();
    poll_timer_wait(30);
    poll_block();
    assert_true(time_msec() - start >= 29);
    assert_int_equal(poll_fd_revents(fds[0]), 0);
    close(fds[0]);
    close(fds[1]);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_immediate_and_timer),
        cmocka_unit_test(test_fd_merge),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
