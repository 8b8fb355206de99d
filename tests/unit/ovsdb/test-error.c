#include "ovsdb-test-util.h"

static void
test_error_to_json(void **state)
{
    (void) state;
    struct ovsdb_error *e = ovsdb_error("constraint violation", "%d is bad", 5);
    json_t *j = ovsdb_error_to_json(e);
    char *s;

    expect_json_eq(j, "{\"error\":\"constraint violation\","
                      "\"details\":\"5 is bad\"}");
    json_decref(j);
    s = ovsdb_error_to_string(e);
    assert_string_equal(s, "constraint violation: 5 is bad");
    free(s);
    assert_null(ovsdb_error_get_syntax(e));
    ovsdb_error_destroy(e);

    /* No details: the member is omitted. */
    e = ovsdb_error("canceled", NULL);
    j = ovsdb_error_to_json(e);
    expect_json_eq(j, "{\"error\":\"canceled\"}");
    json_decref(j);
    s = ovsdb_error_to_string(e);
    assert_string_equal(s, "canceled");
    free(s);
    ovsdb_error_destroy(e);
}

static void
test_syntax_error(void **state)
{
    (void) state;
    /* The syntax member is compact JSON text with sorted keys, as
     * ovsdb-server writes it (reference §4.5). */
    json_t *bad = J("{\"op\": \"update\", \"table\": \"Bridge\", "
                    "\"where\": [[\"name\", \"==\", \"br0\"]], "
                    "\"row\": {\"name\": \"brX\"}}");
    struct ovsdb_error *e = ovsdb_syntax_error(bad, NULL, "x %s", "y");
    json_t *j = ovsdb_error_to_json(e);

    assert_string_equal(ovsdb_error_get_tag(e), "syntax error");
    expect_json_eq(j, "{\"error\":\"syntax error\",\"details\":\"x y\","
                      "\"syntax\":\"{\\\"op\\\":\\\"update\\\",\\\"row\\\":"
                      "{\\\"name\\\":\\\"brX\\\"},\\\"table\\\":\\\"Bridge\\\","
                      "\\\"where\\\":[[\\\"name\\\",\\\"==\\\",\\\"br0\\\"]]}\"}");
    json_decref(j);

    /* Custom tag, scalar JSON. */
    json_t *q = json_string("q");
    struct ovsdb_error *e2 = ovsdb_syntax_error(q, "duplicate uuid-name",
                                                NULL);
    json_decref(q);
    assert_string_equal(ovsdb_error_get_tag(e2), "duplicate uuid-name");
    assert_string_equal(ovsdb_error_get_syntax(e2), "\"q\"");
    assert_null(ovsdb_error_get_details(e2));

    /* Clone is deep and equal. */
    struct ovsdb_error *c = ovsdb_error_clone(e);
    ovsdb_error_destroy(e);
    assert_string_equal(ovsdb_error_get_details(c), "x y");
    assert_non_null(ovsdb_error_get_syntax(c));
    ovsdb_error_destroy(c);
    ovsdb_error_destroy(e2);
    ovsdb_error_destroy(NULL);
    json_decref(bad);
}

static void
test_error_wrap(void **state)
{
    (void) state;
    struct ovsdb_error *e = ovsdb_error("syntax error", "expected integer");

    e = ovsdb_error_wrap(e, "Parsing operation %d failed", 1);
    assert_string_equal(ovsdb_error_get_details(e),
                        "Parsing operation 1 failed: expected integer");
    ovsdb_error_destroy(e);

    e = ovsdb_error_wrap(ovsdb_error("aborted", NULL), "ctx");
    assert_string_equal(ovsdb_error_get_details(e), "ctx");
    ovsdb_error_destroy(e);
}

static void
test_json_string(void **state)
{
    (void) state;
    json_t *j = ovsdb_json_string("ok \xc3\xa9");

    assert_string_equal(json_string_value(j), "ok \xc3\xa9");
    json_decref(j);
    /* Invalid UTF-8 never makes the member disappear. */
    j = ovsdb_json_string("bad \xff\xfe.");
    assert_string_equal(json_string_value(j), "bad ?" "?.");
    json_decref(j);

    /* Details (and syntax) that are not UTF-8 quote a peer's bytes: they
     * go back as they are, as ovsdb-server sends them. */
    json_t *culprit = json_loads("{\"b\":1,\"a\":2}", 0, NULL);
    struct ovsdb_error *e = ovsdb_syntax_error(
        culprit, NULL, "No column nam\xff in table Bridge.");
    json_decref(culprit);
    j = ovsdb_error_to_json(e);
    assert_string_equal(json_string_value(json_object_get(j, "details")),
                        "No column nam\xff in table Bridge.");
    assert_string_equal(json_string_value(json_object_get(j, "syntax")),
                        "{\"a\":2,\"b\":1}");
    json_decref(j);
    ovsdb_error_destroy(e);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_error_to_json),
        cmocka_unit_test(test_syntax_error),
        cmocka_unit_test(test_error_wrap),
        cmocka_unit_test(test_json_string),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
