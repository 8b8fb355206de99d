#include "ovsdb-test-schema.h"

#include "ovsdb-condition.h"

static struct ovsdb_condition *
parse_cond(const struct test_row *r, const char *text)
{
    struct ovsdb_condition *c;
    json_t *j = J(text);

    expect_ok(ovsdb_condition_from_json(r->table, j, NULL, &c));
    json_decref(j);
    return c;
}

static bool
eval(struct test_row *r, const char *text)
{
    struct ovsdb_condition *c = parse_cond(r, text);
    bool result = ovsdb_condition_evaluate(c, r->cols);

    ovsdb_condition_destroy(c);
    return result;
}

static void
cond_error(struct test_row *r, const char *text, const char *tag,
           const char *details, const char *syntax)
{
    struct ovsdb_condition *c = (struct ovsdb_condition *) 1;
    json_t *j = J(text);
    struct ovsdb_error *e = ovsdb_condition_from_json(r->table, j, NULL, &c);

    assert_null(c);
    assert_non_null(e);
    if (syntax) {
        assert_non_null(ovsdb_error_get_syntax(e));
        assert_string_equal(ovsdb_error_get_syntax(e), syntax);
    } else {
        assert_null(ovsdb_error_get_syntax(e));
    }
    expect_error(e, tag, details);
    json_decref(j);
}

static void
test_scalar_functions(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    test_row_set(&r, "i", "5");
    test_row_set(&r, "s", "\"br0\"");
    test_row_set(&r, "r", "2.5");

    assert_true(eval(&r, "[]"));
    assert_true(eval(&r, "[[\"i\",\"==\",5]]"));
    assert_false(eval(&r, "[[\"i\",\"==\",6]]"));
    assert_true(eval(&r, "[[\"i\",\"!=\",6]]"));
    assert_true(eval(&r, "[[\"i\",\"<\",6]]"));
    assert_false(eval(&r, "[[\"i\",\"<\",5]]"));
    assert_true(eval(&r, "[[\"i\",\"<=\",5]]"));
    assert_true(eval(&r, "[[\"i\",\">\",4]]"));
    assert_false(eval(&r, "[[\"i\",\">\",5]]"));
    assert_true(eval(&r, "[[\"i\",\">=\",5]]"));
    assert_true(eval(&r, "[[\"r\",\">\",2]]"));     /* Integer for a real. */
    assert_true(eval(&r, "[[\"r\",\"<\",2.6]]"));
    assert_true(eval(&r, "[[\"s\",\"==\",\"br0\"]]"));
    assert_true(eval(&r, "[[\"s\",\"includes\",\"br0\"]]"));
    assert_false(eval(&r, "[[\"s\",\"excludes\",\"br0\"]]"));
    /* Conjunction. */
    assert_true(eval(&r, "[[\"i\",\">\",1],[\"i\",\"<\",9]]"));
    assert_false(eval(&r, "[[\"i\",\">\",1],[\"s\",\"==\",\"x\"]]"));

    /* Optional column: ordering is false when empty. */
    assert_false(eval(&r, "[[\"o\",\"<\",100]]"));
    assert_false(eval(&r, "[[\"o\",\">=\",-100]]"));
    assert_true(eval(&r, "[[\"o\",\"==\",[\"set\",[]]]]"));
    test_row_set(&r, "o", "3");
    assert_true(eval(&r, "[[\"o\",\"<\",100]]"));
    assert_true(eval(&r, "[[\"o\",\"==\",3]]"));
    test_row_destroy(&r);
}

static void
test_set_map_functions(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    test_row_set(&r, "set", "[\"set\",[1,2,3]]");
    test_row_set(&r, "m", "[\"map\",[[\"a\",\"1\"],[\"b\",\"2\"]]]");

    assert_true(eval(&r, "[[\"set\",\"==\",[\"set\",[3,2,1]]]]"));
    assert_false(eval(&r, "[[\"set\",\"==\",[\"set\",[1,2]]]]"));
    assert_true(eval(&r, "[[\"set\",\"includes\",[\"set\",[1,3]]]]"));
    assert_true(eval(&r, "[[\"set\",\"includes\",[\"set\",[]]]]"));
    assert_false(eval(&r, "[[\"set\",\"includes\",[\"set\",[1,4]]]]"));
    assert_true(eval(&r, "[[\"set\",\"excludes\",[\"set\",[4,5]]]]"));
    assert_false(eval(&r, "[[\"set\",\"excludes\",[\"set\",[4,1]]]]"));
    assert_true(eval(&r, "[[\"set\",\"includes\",2]]"));

    assert_true(eval(&r, "[[\"m\",\"includes\",[\"map\",[[\"a\",\"1\"]]]]]"));
    /* Maps match whole pairs. */
    assert_false(eval(&r, "[[\"m\",\"includes\",[\"map\",[[\"a\",\"2\"]]]]]"));
    assert_true(eval(&r, "[[\"m\",\"excludes\",[\"map\",[[\"a\",\"2\"]]]]]"));
    assert_true(eval(&r, "[[\"m\",\"!=\",[\"map\",[]]]]"));
    test_row_destroy(&r);
}

static void
test_literals_and_fast_paths(void **state)
{
    (void) state;
    struct test_row r;
    struct ovsdb_condition *c;
    struct uuid u, got;
    char buf[UUID_LEN + 1];
    unsigned long bitmap[1] = { 0 };

    test_row_init(&r);
    assert_true(eval(&r, "[true]"));
    assert_false(eval(&r, "[false]"));
    assert_false(eval(&r, "[true, false]"));

    c = parse_cond(&r, "[true, true]");
    assert_true(ovsdb_condition_is_true(c));
    assert_false(ovsdb_condition_is_false(c));
    ovsdb_condition_destroy(c);
    c = parse_cond(&r, "[[\"i\",\"==\",1], false]");
    assert_false(ovsdb_condition_is_true(c));
    assert_true(ovsdb_condition_is_false(c));
    assert_int_equal(ovsdb_condition_n_clauses(c), 2);
    ovsdb_condition_destroy(c);
    c = ovsdb_condition_create_true(r.table);
    assert_true(ovsdb_condition_is_true(c));
    assert_true(ovsdb_condition_evaluate(c, r.cols));
    ovsdb_condition_destroy(c);

    /* _uuid equality is recognisable for an O(1) lookup. */
    uuid_generate(&u);
    uuid_to_string(&u, buf);
    r.cols[OVSDB_COL_UUID].keys[0].uuid = u;
    char *text = xasprintf("[[\"_uuid\",\"==\",[\"uuid\",\"%s\"]],"
                           "[\"i\",\">=\",0],[\"s\",\"==\",\"\"]]", buf);
    c = parse_cond(&r, text);
    free(text);
    assert_true(ovsdb_condition_get_uuid_eq(c, &got));
    assert_true(uuid_equals(&got, &u));
    assert_true(ovsdb_condition_evaluate(c, r.cols));
    const struct ovsdb_datum *eq = ovsdb_condition_find_eq(
        c, ovsdb_table_schema_find_column(r.table, "s")->index);
    assert_non_null(eq);
    assert_string_equal(eq->keys[0].string, "");
    assert_null(ovsdb_condition_find_eq(
        c, ovsdb_table_schema_find_column(r.table, "i")->index));

    ovsdb_condition_mark_columns(c, bitmap);
    assert_int_equal(bitmap[0],
                     (1UL << OVSDB_COL_UUID)
                     | (1UL << ovsdb_table_schema_find_column(r.table, "i")
                        ->index)
                     | (1UL << ovsdb_table_schema_find_column(r.table, "s")
                        ->index));
    ovsdb_condition_destroy(c);

    c = parse_cond(&r, "[[\"i\",\"<\",3]]");
    assert_false(ovsdb_condition_get_uuid_eq(c, &got));
    ovsdb_condition_destroy(c);

    /* _version can be read too. */
    assert_true(eval(&r, "[[\"_version\",\"==\",[\"uuid\","
                         "\"00000000-0000-0000-0000-000000000000\"]]]"));
    test_row_destroy(&r);
}

static void
test_to_json(void **state)
{
    (void) state;
    struct test_row r;
    const char *text = "[[\"set\",\"includes\",[\"set\",[1,2]]],"
                       "[\"s\",\"!=\",\"x\"],true,[\"o\",\"<=\",4]]";
    struct ovsdb_condition *c;
    json_t *j;

    test_row_init(&r);
    c = parse_cond(&r, text);
    j = ovsdb_condition_to_json(c);
    expect_json_eq(j, text);
    json_decref(j);
    ovsdb_condition_destroy(c);
    ovsdb_condition_destroy(NULL);
    assert_string_equal(ovsdb_function_to_string(OVSDB_F_INCLUDES),
                        "includes");
    test_row_destroy(&r);
}

static void
test_named_uuid(void **state)
{
    (void) state;
    struct test_row r;
    struct ovsdb_symbol_table *st = ovsdb_symbol_table_create();
    struct ovsdb_condition *c;
    json_t *j = J("[[\"u\",\"includes\",[\"named-uuid\",\"x\"]]]");

    test_row_init(&r);
    cond_error(&r, "[[\"u\",\"includes\",[\"named-uuid\",\"x\"]]]",
               "syntax error", "named-uuid is not allowed here",
               "[\"named-uuid\",\"x\"]");
    expect_ok(ovsdb_condition_from_json(r.table, j, st, &c));
    assert_non_null(ovsdb_symbol_table_get(st, "x"));
    assert_false(ovsdb_condition_evaluate(c, r.cols));
    ovsdb_condition_destroy(c);
    ovsdb_symbol_table_destroy(st);
    json_decref(j);
    test_row_destroy(&r);
}

static void
test_errors(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    /* Wording and syntax members observed from ovsdb-server 3.1. */
    cond_error(&r, "[[\"nocol\",\"==\",\"x\"]]", "unknown column",
               "No column nocol in table A.", "[\"nocol\",\"==\",\"x\"]");
    cond_error(&r, "[[\"s\",\"~=\",\"x\"]]", "unknown function",
               "No function named ~=.", NULL);
    cond_error(&r, "[[\"s\",\"<\",\"x\"]]", "syntax error",
               "Type mismatch: \"<\" operator may not be applied to column s "
               "of type string.", "[\"s\",\"<\",\"x\"]");
    cond_error(&r, "[[\"set\",\"<\",1]]", "syntax error",
               "Type mismatch: \"<\" operator may not be applied to column "
               "set of type set of integers.", "[\"set\",\"<\",1]");
    cond_error(&r, "[[\"m\",\">=\",1]]", "syntax error",
               "Type mismatch: \">=\" operator may not be applied to column "
               "m of type map of (string, string) pairs.",
               "[\"m\",\">=\",1]");
    cond_error(&r, "[[\"s\",\"==\"]]", "syntax error",
               "Parse error in condition.", "[\"s\",\"==\"]");
    cond_error(&r, "[[1,\"==\",1]]", "syntax error",
               "Parse error in condition.", "[1,\"==\",1]");
    cond_error(&r, "[5]", "syntax error", "Parse error in condition.", "5");
    cond_error(&r, "{}", "syntax error", "Parse error in condition.", "{}");
    cond_error(&r, "[[\"i\",\"==\",\"ten\"]]", "syntax error",
               "expected integer", "\"ten\"");
    cond_error(&r, "[[\"o\",\"==\",[\"set\",[1,2]]]]", "syntax error",
               "set must have 0 to 1 members but 2 are present",
               "[\"set\",[1,2]]");
    /* Ordering needs exactly one number. */
    cond_error(&r, "[[\"o\",\"<\",[\"set\",[]]]]", "syntax error",
               "set must have exactly one member but 0 are present",
               "[\"set\",[]]");
    /* includes/excludes take any subset for sets, but one atom for
     * scalars; the column's maximum still applies (as ovsdb-server). */
    cond_error(&r, "[[\"s\",\"includes\",[\"set\",[]]]]", "syntax error",
               "set must have exactly one member but 0 are present",
               "[\"set\",[]]");
    cond_error(&r, "[[\"o\",\"includes\",[\"set\",[1,2]]]]", "syntax error",
               "set must have 0 to 1 members but 2 are present",
               "[\"set\",[1,2]]");
    cond_error(&r, "[[\"s\",\"==\",[\"set\",[\"a\",\"b\"]]]]",
               "syntax error",
               "set must have exactly one member but 2 are present",
               "[\"set\",[\"a\",\"b\"]]");
    test_row_destroy(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_scalar_functions),
        cmocka_unit_test(test_set_map_functions),
        cmocka_unit_test(test_literals_and_fast_paths),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_named_uuid),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
