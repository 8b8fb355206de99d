/* Helpers shared by the OVSDB data-layer unit tests (header-only). */
#ifndef LANYARD_OVSDB_TEST_UTIL_H
#define LANYARD_OVSDB_TEST_UTIL_H 1

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <jansson.h>

#include "ovsdb-error.h"

/* Parses TEXT (any JSON value) or fails the test. */
static inline json_t *
J(const char *text)
{
    json_error_t err;
    json_t *j = json_loads(text, JSON_DECODE_ANY, &err);

    if (!j) {
        fail_msg("bad test JSON %s: %s", text, err.text);
    }
    return j;
}

/* Asserts ERROR is non-NULL with TAG and (if not NULL) DETAILS, then
 * destroys it. */
static inline void
expect_error(struct ovsdb_error *error, const char *tag, const char *details)
{
    assert_non_null(error);
    assert_string_equal(ovsdb_error_get_tag(error), tag);
    if (details) {
        assert_non_null(ovsdb_error_get_details(error));
        assert_string_equal(ovsdb_error_get_details(error), details);
    }
    ovsdb_error_destroy(error);
}

/* Asserts no error, printing it if there is one. */
static inline void
expect_ok(struct ovsdb_error *error)
{
    if (error) {
        char *s = ovsdb_error_to_string(error);

        print_error("unexpected error: %s\n", s);
        free(s);
        ovsdb_error_destroy(error);
        fail();
    }
}

/* Asserts that A and B (JSON texts or values) are equal JSON. */
static inline void
expect_json_eq(json_t *actual, const char *expected_text)
{
    json_t *expected = J(expected_text);

    if (!json_equal(actual, expected)) {
        char *a = json_dumps(actual, JSON_COMPACT | JSON_SORT_KEYS
                                     | JSON_ENCODE_ANY);

        print_error("JSON mismatch:\n  got      %s\n  expected %s\n",
                    a, expected_text);
        free(a);
        fail();
    }
    json_decref(expected);
}

#endif
