/* Tests for vlog level parsing, line format, rate limiting, log files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(test_vlog);

static void
test_levels(void **state)
{
    struct vlog_module *m = vlog_module_from_name("test_vlog");
    assert_ptr_equal(m, this_module);
    char *e = vlog_set_levels_from_string("test_vlog:file:dbg");
    assert_null(e);
    assert_int_equal(vlog_get_level(m, VLF_FILE), VLL_DBG);
    assert_int_equal(vlog_get_level(m, VLF_CONSOLE), VLL_INFO);

    assert_null(vlog_set_levels_from_string("ANY:console:off"));
    assert_int_equal(vlog_get_level(m, VLF_CONSOLE), VLL_OFF);
    assert_null(vlog_set_levels_from_string("warn"));
    assert_int_equal(vlog_get_level(m, VLF_SYSLOG), VLL_WARN);
    assert_int_equal(vlog_get_level(m, VLF_FILE), VLL_WARN);

    e = vlog_set_levels_from_string("bogus");
    assert_string_equal(e, "no destination, level, or module \"bogus\"");
    free(e);
    e = vlog_set_levels_from_string("test_vlog:file:dbg:info");
    assert_non_null(e);
    free(e);
    /* Failure changes nothing. */
    assert_int_equal(vlog_get_level(m, VLF_FILE), VLL_WARN);

    char *list = vlog_list();
    assert_true(str_starts_with(list, "                 console    syslog"
                                "    file\n"));
    assert_non_null(strstr(list, "\ntest_vlog         WARN       WARN"
                           "       WARN\n"));
    free(list);
    assert_int_equal(vlog_level_from_string("dbg"), VLL_DBG);
    assert_int_equal(vlog_level_from_string("x"), VLL_N_LEVELS);
}

static void
test_format(void **state)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    /* 2026-11-21T00:00:00.123Z */
    long long t = 1795219200000LL + 123;
    vlog_format_line(&s, "dbd", VLL_INFO, 1, t, true, "hello");
    assert_string_equal(ds_cstr(&s),
                        "2026-11-21T00:00:00.123Z|00001|dbd|INFO|hello");
    ds_clear(&s);
    vlog_format_line(&s, "jsonrpc", VLL_WARN, 123456, t, false, "x");
    assert_string_equal(ds_cstr(&s),
                        "2026-11-21T00:00:00Z|123456|jsonrpc|WARN|x");
    ds_destroy(&s);
}

static void
test_rate_limit(void **state)
{
    struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(60, 3);
    long long now = 1000;
    for (int i = 0; i < 3; i++) {
        assert_false(vlog_rate_limit_should_drop(&rl, now));
    }
    assert_true(vlog_rate_limit_should_drop(&rl, now));
    assert_true(vlog_rate_limit_should_drop(&rl, now + 500));
    assert_int_equal(rl.n_dropped, 2);
    /* 60 per minute: one token per second. */
    assert_false(vlog_rate_limit_should_drop(&rl, now + 1000));
    assert_true(vlog_rate_limit_should_drop(&rl, now + 1500));
    /* The bucket refills to the burst, not beyond. */
    for (int i = 0; i < 3; i++) {
        assert_false(vlog_rate_limit_should_drop(&rl, now + 100000));
    }
    assert_true(vlog_rate_limit_should_drop(&rl, now + 100000));
}

static void
test_file(void **state)
{
    char path[] = "/tmp/lanyard-test-vlog-XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    close(fd);
    assert_int_equal(vlog_set_log_file(path), 0);
    assert_string_equal(vlog_get_log_file(), path);
    assert_null(vlog_set_levels_from_string("test_vlog:file:info"));
    VLOG_INFO("first %d", 1);
    VLOG_DBG("not logged");
    /* Rotation: rename, reopen, log again. */
    char *rotated = xasprintf("%s.1", path);
    assert_int_equal(rename(path, rotated), 0);
    assert_int_equal(vlog_reopen_log_file(), 0);
    VLOG_WARN("second");
    /* Rate limits: a burst of 2 lets two through unless disabled. */
    static struct vlog_rate_limit rl = VLOG_RATE_LIMIT_INIT(1, 2);
    for (int i = 0; i < 4; i++) {
        VLOG_WARN_RL(&rl, "limited %d", i);
    }
    vlog_set_rate_limits_enabled(this_module, false);
    for (int i = 0; i < 3; i++) {
        VLOG_WARN_RL(&rl, "unlimited %d", i);
    }
    vlog_set_rate_limits_enabled(NULL, true);
    vlog_close_log_file();

    char buf[512];
    FILE *f = fopen(rotated, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    assert_non_null(strstr(buf, "|test_vlog|INFO|first 1\n"));
    assert_int_equal(buf[23], 'Z');
    assert_null(fgets(buf, sizeof buf, f));
    fclose(f);
    f = fopen(path, "r");
    assert_non_null(fgets(buf, sizeof buf, f));
    assert_non_null(strstr(buf, "|test_vlog|WARN|second\n"));
    int n_limited = 0, n_unlimited = 0;
    while (fgets(buf, sizeof buf, f)) {
        n_limited += strstr(buf, "|limited ") != NULL;
        n_unlimited += strstr(buf, "|unlimited ") != NULL;
    }
    assert_int_equal(n_limited, 2);
    assert_int_equal(n_unlimited, 3);
    fclose(f);
    char *pattern = vlog_list_pattern();
    assert_true(str_starts_with(pattern, "         prefix"));
    free(pattern);
    unlink(path);
    unlink(rotated);
    free(rotated);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_levels),
        cmocka_unit_test(test_format),
        cmocka_unit_test(test_rate_limit),
        cmocka_unit_test(test_file),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
