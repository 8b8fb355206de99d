#include "ovsdb-test-schema.h"

#include <limits.h>

#include "ovsdb-mutation.h"
#include "uuid.h"

static struct ovsdb_mutation_set *
parse_mut(const struct test_row *r, const char *text)
{
    struct ovsdb_mutation_set *m;
    json_t *j = J(text);

    expect_ok(ovsdb_mutation_set_from_json(r->table, j, NULL, &m));
    json_decref(j);
    return m;
}

/* Applies TEXT to R and expects success. */
static void
mutate(struct test_row *r, const char *text)
{
    struct ovsdb_mutation_set *m = parse_mut(r, text);

    expect_ok(ovsdb_mutation_set_execute(m, r->cols));
    ovsdb_mutation_set_destroy(m);
}

/* Applies TEXT to R, expects an execution error, and checks R unchanged. */
static void
mutate_fails(struct test_row *r, const char *text, const char *tag,
             const char *details)
{
    struct ovsdb_mutation_set *m = parse_mut(r, text);
    struct ovsdb_datum *before = xcalloc(r->table->n_columns, sizeof *before);

    for (unsigned int i = 0; i < r->table->n_columns; i++) {
        ovsdb_datum_clone(&before[i], &r->cols[i], &r->table->columns[i]->type);
    }
    expect_error(ovsdb_mutation_set_execute(m, r->cols), tag, details);
    for (unsigned int i = 0; i < r->table->n_columns; i++) {
        const struct ovsdb_type *t = &r->table->columns[i]->type;

        assert_true(ovsdb_datum_equals(&before[i], &r->cols[i], t));
        ovsdb_datum_destroy(&before[i], t);
    }
    free(before);
    ovsdb_mutation_set_destroy(m);
}

static void
parse_fails(const struct test_row *r, const char *text, const char *tag,
            const char *details, const char *syntax)
{
    struct ovsdb_mutation_set *m = (struct ovsdb_mutation_set *) 1;
    json_t *j = J(text);
    struct ovsdb_error *e = ovsdb_mutation_set_from_json(r->table, j, NULL,
                                                         &m);

    assert_null(m);
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
test_integer_arithmetic(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    test_row_set(&r, "i", "7");
    mutate(&r, "[[\"i\",\"+=\",5]]");
    test_row_expect(&r, "i", "12");
    mutate(&r, "[[\"i\",\"-=\",2],[\"i\",\"*=\",3]]");   /* In order. */
    test_row_expect(&r, "i", "30");
    mutate(&r, "[[\"i\",\"/=\",-4]]");
    test_row_expect(&r, "i", "-7");
    mutate(&r, "[[\"i\",\"%=\",4]]");
    test_row_expect(&r, "i", "-3");

    /* Reference §4.5 wording. */
    mutate_fails(&r, "[[\"i\",\"/=\",0]]", "domain error",
                 "Division by zero.");
    mutate_fails(&r, "[[\"i\",\"%=\",0]]", "domain error",
                 "Division by zero.");
    test_row_set(&r, "i", "9223372036854775807");
    mutate_fails(&r, "[[\"i\",\"+=\",9223372036854775807]]", "range error",
                 "Result of \"+=\" operation is out of range.");
    mutate_fails(&r, "[[\"i\",\"*=\",2]]", "range error",
                 "Result of \"*=\" operation is out of range.");
    test_row_set(&r, "i", "-9223372036854775808");
    mutate_fails(&r, "[[\"i\",\"-=\",1]]", "range error",
                 "Result of \"-=\" operation is out of range.");
    mutate_fails(&r, "[[\"i\",\"/=\",-1]]", "range error",
                 "Result of \"/=\" operation is out of range.");
    mutate(&r, "[[\"i\",\"%=\",-1]]");
    test_row_expect(&r, "i", "0");
    /* All or nothing: the first mutation is rolled back. */
    mutate_fails(&r, "[[\"i\",\"+=\",1],[\"i\",\"/=\",0]]",
                 "domain error", "Division by zero.");
    test_row_expect(&r, "i", "0");
    test_row_destroy(&r);
}

static void
test_real_arithmetic(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    test_row_set(&r, "r", "1.5");
    mutate(&r, "[[\"r\",\"*=\",2],[\"r\",\"+=\",0.5],[\"r\",\"/=\",2]]");
    test_row_expect(&r, "r", "1.75");
    mutate_fails(&r, "[[\"r\",\"/=\",0]]", "domain error",
                 "Division by zero.");
    test_row_set(&r, "r", "1e308");
    mutate_fails(&r, "[[\"r\",\"*=\",10]]", "range error",
                 "Result of \"*=\" operation is out of range.");
    test_row_destroy(&r);
}

static void
test_set_arithmetic(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    test_row_set(&r, "set", "[\"set\",[1,2,3]]");
    mutate(&r, "[[\"set\",\"+=\",10]]");
    test_row_expect(&r, "set", "[\"set\",[11,12,13]]");
    /* A negative factor reverses the order: still sorted afterwards. */
    mutate(&r, "[[\"set\",\"*=\",-1]]");
    test_row_expect(&r, "set", "[\"set\",[-13,-12,-11]]");
    mutate_fails(&r, "[[\"set\",\"/=\",100]]", "constraint violation",
                 "Result of \"/=\" operation contains duplicates.");
    test_row_set(&r, "rset", "[\"set\",[0.5,1.5]]");
    mutate(&r, "[[\"rset\",\"-=\",1]]");
    test_row_expect(&r, "rset", "[\"set\",[-0.5,0.5]]");

    /* Results are checked against the base type's constraints. */
    test_row_set(&r, "small", "[\"set\",[1,9]]");
    mutate_fails(&r, "[[\"small\",\"+=\",2]]", "constraint violation",
                 "11 is greater than maximum allowed value 10");
    mutate(&r, "[[\"small\",\"+=\",1]]");
    test_row_expect(&r, "small", "[\"set\",[2,10]]");
    test_row_destroy(&r);
}

static void
test_insert_delete(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    mutate(&r, "[[\"set\",\"insert\",[\"set\",[5,1]]],"
               "[\"set\",\"insert\",3],[\"set\",\"insert\",1]]");
    test_row_expect(&r, "set", "[\"set\",[1,3,5]]");
    mutate(&r, "[[\"set\",\"delete\",[\"set\",[3,4]]]]");
    test_row_expect(&r, "set", "[\"set\",[1,5]]");

    /* Map insert keeps existing values. */
    test_row_set(&r, "m", "[\"map\",[[\"a\",\"1\"]]]");
    mutate(&r, "[[\"m\",\"insert\",[\"map\",[[\"a\",\"X\"],[\"b\",\"2\"]]]]]");
    test_row_expect(&r, "m", "[\"map\",[[\"a\",\"1\"],[\"b\",\"2\"]]]");
    /* Map delete by pairs (exact match only) and by keys. */
    mutate(&r, "[[\"m\",\"delete\",[\"map\",[[\"a\",\"X\"],[\"b\",\"2\"]]]]]");
    test_row_expect(&r, "m", "[\"map\",[[\"a\",\"1\"]]]");
    mutate(&r, "[[\"m\",\"delete\",[\"set\",[\"a\",\"zz\"]]]]");
    test_row_expect(&r, "m", "[\"map\",[]]");
    mutate(&r, "[[\"m\",\"insert\",[\"map\",[[\"k\",\"v\"]]]],"
               "[\"m\",\"delete\",\"k\"]]");
    test_row_expect(&r, "m", "[\"map\",[]]");

    /* Size limits after the mutation. */
    test_row_set(&r, "o", "[\"set\",[]]");
    mutate(&r, "[[\"o\",\"insert\",4]]");
    test_row_expect(&r, "o", "4");
    mutate_fails(&r, "[[\"o\",\"insert\",5]]", "constraint violation",
                 "Attempted to store 2 elements in set of up to 1 integers.");
    /* ...while delete may name any number. */
    mutate(&r, "[[\"o\",\"delete\",[\"set\",[1,2,3]]]]");
    test_row_expect(&r, "o", "4");
    test_row_set(&r, "small", "[\"set\",[1]]");
    mutate_fails(&r, "[[\"small\",\"delete\",1]]", "constraint violation",
                 "Attempted to store 0 elements in set of 1 to 2 integers.");
    mutate(&r, "[[\"e\",\"insert\",[\"set\",[\"b\",\"a\"]]]]");
    test_row_expect(&r, "e", "[\"set\",[\"a\",\"b\"]]");
    test_row_destroy(&r);
}

static void
test_large_insert(void **state)
{
    (void) state;
    enum { N = 10000 };
    struct test_row r;
    struct ovsdb_datum *u;
    char buf[UUID_LEN + 1];
    struct uuid x;

    test_row_init(&r);
    u = test_row_col(&r, "u");
    u->keys = xmalloc(N * sizeof *u->keys);
    for (unsigned int i = 0; i < N; i++) {
        uuid_generate(&u->keys[i].uuid);
    }
    u->n = N;
    expect_ok(ovsdb_datum_sort(u, test_row_type(&r, "u")));

    for (int k = 0; k < 50; k++) {
        uuid_generate(&x);
        uuid_to_string(&x, buf);
        char *text = xasprintf("[[\"u\",\"insert\",[\"uuid\",\"%s\"]]]", buf);
        mutate(&r, text);
        free(text);
    }
    assert_int_equal(u->n, N + 50);
    for (unsigned int i = 1; i < u->n; i++) {
        assert_true(ovsdb_atom_compare_3way(&u->keys[i - 1], &u->keys[i],
                                            OVSDB_TYPE_UUID) < 0);
    }
    char *text = xasprintf("[[\"u\",\"delete\",[\"uuid\",\"%s\"]]]", buf);
    mutate(&r, text);
    free(text);
    assert_int_equal(u->n, N + 49);
    assert_int_equal(ovsdb_datum_find_key(u, &(union ovsdb_atom) { .uuid = x },
                                          OVSDB_TYPE_UUID), UINT_MAX);
    test_row_destroy(&r);
}

static void
test_parse_errors(void **state)
{
    (void) state;
    struct test_row r;

    test_row_init(&r);
    /* Wording and syntax members observed from ovsdb-server 3.1. */
    parse_fails(&r, "[[\"i\",\"**=\",2]]", "unknown mutator",
                "No mutator named **=.", NULL);
    parse_fails(&r, "[[\"nope\",\"delete\",1]]", "unknown column",
                "No column nope in table A.", "[\"nope\",\"delete\",1]");
    parse_fails(&r, "[[\"name\",\"+=\",\"x\"]]", "constraint violation",
                "Cannot mutate immutable column name in table A.",
                "[\"name\",\"+=\",\"x\"]");
    parse_fails(&r, "[[\"_uuid\",\"insert\",1]]", "constraint violation",
                "Cannot mutate immutable column _uuid in table A.",
                "[\"_uuid\",\"insert\",1]");
    parse_fails(&r, "[[\"_version\",\"+=\",1]]", "constraint violation",
                "Cannot mutate immutable column _version in table A.",
                "[\"_version\",\"+=\",1]");
    parse_fails(&r, "[[\"s\",\"+=\",\"x\"]]", "syntax error",
                "Type mismatch: \"+=\" operator may not be applied to column "
                "s of type string.", "[\"s\",\"+=\",\"x\"]");
    parse_fails(&r, "[[\"i\",\"insert\",1]]", "syntax error",
                "Type mismatch: \"insert\" operator may not be applied to "
                "column i of type integer.", "[\"i\",\"insert\",1]");
    parse_fails(&r, "[[\"m\",\"+=\",1]]", "syntax error",
                "Type mismatch: \"+=\" operator may not be applied to column "
                "m of type map of (string, string) pairs.",
                "[\"m\",\"+=\",1]");
    parse_fails(&r, "[[\"r\",\"%=\",2]]", "syntax error",
                "Type mismatch: \"%=\" operator may not be applied to column "
                "r of type real.", "[\"r\",\"%=\",2]");
    parse_fails(&r, "[[\"i\"]]", "syntax error", "Parse error in mutation.",
                "[\"i\"]");
    parse_fails(&r, "{}", "syntax error", "Parse error in mutation.", "{}");
    parse_fails(&r, "[[\"i\",\"+=\",\"x\"]]", "syntax error",
                "expected integer", "\"x\"");
    parse_fails(&r, "[[\"i\",\"+=\",[\"set\",[1,2]]]]", "syntax error",
                "set must have exactly one member but 2 are present",
                "[\"set\",[1,2]]");
    /* insert/delete values must satisfy the base constraints, checked when
     * parsing (ovsdb-server reports them even when no row matches). */
    parse_fails(&r, "[[\"e\",\"insert\",\"c\"]]", "constraint violation",
                "c is not one of the allowed values ([a, b])", NULL);
    parse_fails(&r, "[[\"small\",\"delete\",[\"set\",[11]]]]",
                "constraint violation",
                "11 is greater than maximum allowed value 10", NULL);
    /* insert may not bring more than the column's maximum... */
    parse_fails(&r, "[[\"o\",\"insert\",[\"set\",[1,2]]]]", "syntax error",
                "set must have 0 to 1 members but 2 are present",
                "[\"set\",[1,2]]");
    test_row_destroy(&r);
}

static void
test_to_json_and_columns(void **state)
{
    (void) state;
    struct test_row r;
    const char *text = "[[\"i\",\"+=\",1],[\"set\",\"insert\",[\"set\","
                       "[1,2]]],[\"m\",\"delete\",[\"set\",[\"a\",\"b\"]]],"
                       "[\"m\",\"delete\",[\"map\",[[\"a\",\"b\"]]]]]";
    struct ovsdb_mutation_set *m;
    unsigned long bitmap[1] = { 0 };
    json_t *j;

    test_row_init(&r);
    m = parse_mut(&r, text);
    assert_int_equal(ovsdb_mutation_set_n(m), 4);
    j = ovsdb_mutation_set_to_json(m);
    expect_json_eq(j, text);
    json_decref(j);
    ovsdb_mutation_set_mark_columns(m, bitmap);
    assert_int_equal(bitmap[0],
                     (1UL << ovsdb_table_schema_find_column(r.table, "i")
                      ->index)
                     | (1UL << ovsdb_table_schema_find_column(r.table, "set")
                        ->index)
                     | (1UL << ovsdb_table_schema_find_column(r.table, "m")
                        ->index));
    ovsdb_mutation_set_destroy(m);
    ovsdb_mutation_set_destroy(NULL);
    assert_string_equal(ovsdb_mutator_to_string(OVSDB_M_MOD), "%=");
    test_row_destroy(&r);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_integer_arithmetic),
        cmocka_unit_test(test_real_arithmetic),
        cmocka_unit_test(test_set_arithmetic),
        cmocka_unit_test(test_insert_delete),
        cmocka_unit_test(test_large_insert),
        cmocka_unit_test(test_parse_errors),
        cmocka_unit_test(test_to_json_and_columns),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
