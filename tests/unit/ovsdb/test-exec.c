/* Tests for the transaction executor: every operation, every error path,
 * the commit-time rules (references, garbage collection, weak references,
 * indexes, maxRows) and rollback atomicity. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "ovsdb-data.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "test-exec-util.h"
#include "util.h"

static int
setup(void **state)
{
    *state = test_db_create(test_schema_json);
    return 0;
}

static int
teardown(void **state)
{
    ovsdb_destroy(*state);
    return 0;
}

static size_t
n_rows(struct ovsdb *db, const char *table)
{
    return ovsdb_table_n_rows(ovsdb_find_table(db, table));
}

/* Runs OPS and checks the result text against EXPECTED (a JSON array whose
 * "uuid" values are not compared when given as "*"). */
static json_t *
run(struct ovsdb *db, const char *fmt, ...) PRINTF_FORMAT(2, 3);
static json_t *
run(struct ovsdb *db, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    char *ops = xvasprintf(fmt, args);
    va_end(args);
    json_t *r = test_exec(db, ops, NULL, NULL);
    free(ops);
    return r;
}

static const char *
kid_row(struct ovsdb *db, const char *name)
{
    static char buf[UUID_LEN + 1];
    const struct ovsdb_table *t = ovsdb_find_table(db, "Kid");
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, t) {
        const struct ovsdb_datum *d = ovsdb_row_get_column(
            row, ovsdb_table_schema_find_column(t->schema, "name")->index);
        if (!strcmp(d->keys[0].string, name)) {
            uuid_to_string(&row->uuid, buf);
            return buf;
        }
    }
    return NULL;
}

/* Root "r" with kids a and b (b has a grand). */
static void
populate(struct ovsdb *db)
{
    json_t *r = run(db, "["
        "{\"op\":\"insert\",\"table\":\"Grand\",\"row\":{\"v\":7},"
        " \"uuid-name\":\"g\"},"
        "{\"op\":\"insert\",\"table\":\"Kid\",\"row\":{\"name\":\"a\"},"
        " \"uuid-name\":\"ka\"},"
        "{\"op\":\"insert\",\"table\":\"Kid\",\"row\":{\"name\":\"b\","
        " \"grand\":[\"named-uuid\",\"g\"]}, \"uuid-name\":\"kb\"},"
        "{\"op\":\"insert\",\"table\":\"Root\",\"row\":{\"name\":\"r\","
        " \"kids\":[\"set\",[[\"named-uuid\",\"ka\"],[\"named-uuid\",\"kb\"]]]}}]");
    assert_int_equal(json_array_size(r), 4);
    for (size_t i = 0; i < 4; i++) {
        assert_null(test_result_error(r, i));
    }
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 2);
    assert_int_equal(n_rows(db, "Grand"), 1);
}

static void
test_insert_select(void **state)
{
    struct ovsdb *db = *state;
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"Root\","
                    "\"row\":{\"name\":\"x\",\"n\":5,"
                    "\"m\":[\"map\",[[\"k\",\"v\"]]]}}]");
    assert_int_equal(json_array_size(r), 1);
    char uuid[UUID_LEN + 1];
    snprintf(uuid, sizeof uuid, "%s", test_result_uuid(r, 0));
    json_decref(r);

    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":"
            "[[\"_uuid\",\"==\",[\"uuid\",\"%s\"]]]}]", uuid);
    json_t *rows = json_object_get(json_array_get(r, 0), "rows");
    assert_int_equal(json_array_size(rows), 1);
    json_t *row = json_array_get(rows, 0);
    assert_string_equal(json_string_value(json_object_get(row, "name")), "x");
    assert_int_equal(json_integer_value(json_object_get(row, "n")), 5);
    assert_non_null(json_object_get(row, "_uuid"));
    assert_non_null(json_object_get(row, "_version"));
    assert_non_null(json_object_get(row, "m"));
    json_decref(r);

    /* "columns" restricts the result. */
    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":[],"
            "\"columns\":[\"n\"]}]");
    row = json_array_get(json_object_get(json_array_get(r, 0), "rows"), 0);
    assert_int_equal(json_object_size(row), 1);
    assert_non_null(json_object_get(row, "n"));
    json_decref(r);

    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":[],"
            "\"columns\":[\"nocol\"]}]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    assert_string_equal(test_result_details(r, 0),
                        "nocol is not a valid column name");
    json_decref(r);
}

static void
test_insert_errors(void **state)
{
    struct ovsdb *db = *state;
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"Root\","
                    "\"row\":{\"nocol\":1}}]");
    assert_string_equal(test_result_error(r, 0), "unknown column");
    assert_string_equal(test_result_details(r, 0),
                        "No column nocol in table Root.");
    json_decref(r);

    r = run(db, "[{\"op\":\"insert\",\"table\":\"Root\",\"row\":{\"name\":5}}]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    json_decref(r);

    r = run(db, "[{\"op\":\"insert\",\"table\":\"Kid\",\"row\":{\"name\":\"q\","
            "\"tag\":5000}}]");
    assert_string_equal(test_result_error(r, 0), "constraint violation");
    json_decref(r);

    r = run(db, "[{\"op\":\"insert\",\"table\":\"Kid\",\"row\":{\"name\":\"q\","
            "\"color\":\"green\"}}]");
    assert_string_equal(test_result_error(r, 0), "constraint violation");
    json_decref(r);

    /* Duplicate uuid-name: the second insert fails, nothing is applied. */
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{},"
            "\"uuid-name\":\"q\"},{\"op\":\"insert\",\"table\":\"Pair\","
            "\"row\":{\"a\":1},\"uuid-name\":\"q\"}]");
    assert_int_equal(json_array_size(r), 2);
    assert_null(test_result_error(r, 0));
    assert_string_equal(test_result_error(r, 1), "duplicate uuid-name");
    assert_string_equal(test_result_details(r, 1), "This \"uuid-name\" "
                        "appeared on an earlier \"insert\" operation.");
    json_decref(r);
    assert_int_equal(n_rows(db, "Pair"), 0);

    /* Caller-chosen uuid, then a duplicate of it. */
    const char *u = "11111111-2222-3333-4444-555555555555";
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{},"
            "\"uuid\":\"%s\"}]", u);
    assert_string_equal(test_result_uuid(r, 0), u);
    json_decref(r);
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":2},"
            "\"uuid\":\"%s\"}]", u);
    assert_string_equal(test_result_error(r, 0), "duplicate uuid");
    json_decref(r);
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{},"
            "\"uuid\":\"nope\"}]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    json_decref(r);
}

static void
test_parse_errors(void **state)
{
    struct ovsdb *db = *state;
    json_t *r = run(db, "[{\"op\":\"select\",\"table\":\"Nope\","
                    "\"where\":[]}]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    assert_string_equal(test_result_details(r, 0), "Parsing ovsdb operation "
                        "1 of 1 failed: No table named Nope.");
    assert_non_null(json_object_get(json_array_get(r, 0), "syntax"));
    json_decref(r);

    r = run(db, "[{\"op\":\"comment\",\"comment\":\"x\"},"
            "{\"op\":\"frob\",\"table\":\"Root\"},{\"op\":\"abort\"}]");
    assert_int_equal(json_array_size(r), 3);
    assert_string_equal(test_result_details(r, 1), "Parsing ovsdb operation "
                        "2 of 3 failed: No operation \"frob\"");
    assert_true(json_is_null(json_array_get(r, 2)));
    json_decref(r);

    r = run(db, "[{\"op\":\"insert\",\"table\":\"Root\"}]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    json_decref(r);
    r = run(db, "[{\"op\":\"delete\",\"table\":\"Root\",\"where\":[],"
            "\"bogus\":1}]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    json_decref(r);
    r = run(db, "[7]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    json_decref(r);
    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\","
            "\"where\":[[\"nocol\",\"==\",1]]}]");
    assert_string_equal(test_result_error(r, 0), "unknown column");
    json_decref(r);
    r = run(db, "[]");
    assert_int_equal(json_array_size(r), 0);
    json_decref(r);
}

static void
test_update(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    json_t *r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":[],"
                    "\"columns\":[\"_version\"]}]");
    json_t *v0 = json_deep_copy(json_object_get(json_array_get(json_object_get(
        json_array_get(r, 0), "rows"), 0), "_version"));
    json_decref(r);

    r = run(db, "[{\"op\":\"update\",\"table\":\"Root\",\"where\":"
            "[[\"name\",\"==\",\"r\"]],\"row\":{\"n\":3}}]");
    assert_int_equal(test_result_count(r, 0), 1);
    json_decref(r);
    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":[],"
            "\"columns\":[\"_version\",\"n\"]}]");
    json_t *row = json_array_get(json_object_get(json_array_get(r, 0),
                                                 "rows"), 0);
    assert_int_equal(json_integer_value(json_object_get(row, "n")), 3);
    assert_false(json_equal(v0, json_object_get(row, "_version")));
    json_decref(r);
    json_decref(v0);

    /* Immutable column. */
    r = run(db, "[{\"op\":\"update\",\"table\":\"Kid\",\"where\":"
            "[[\"name\",\"==\",\"a\"]],\"row\":{\"name\":\"z\"}}]");
    assert_string_equal(test_result_error(r, 0), "constraint violation");
    assert_string_equal(test_result_details(r, 0),
                        "Cannot update immutable column name in table Kid.");
    json_decref(r);

    /* Update to identical values: success, but no transaction. */
    struct ovsdb_txn *txn = NULL;
    r = test_exec_txn(db, "[{\"op\":\"update\",\"table\":\"Root\","
                      "\"where\":[],\"row\":{\"n\":3}}]", &txn);
    assert_int_equal(test_result_count(r, 0), 1);
    assert_null(txn);
    json_decref(r);

    /* No match: count 0. */
    r = run(db, "[{\"op\":\"update\",\"table\":\"Root\",\"where\":"
            "[[\"name\",\"==\",\"none\"]],\"row\":{\"n\":4}}]");
    assert_int_equal(test_result_count(r, 0), 0);
    json_decref(r);
}

static void
test_mutate(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    json_t *r = run(db, "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
                    "\"mutations\":[[\"n\",\"+=\",2],"
                    "[\"m\",\"insert\",[\"map\",[[\"a\",\"1\"]]]]]}]");
    assert_int_equal(test_result_count(r, 0), 1);
    json_decref(r);
    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":"
            "[[\"n\",\"==\",2],[\"m\",\"includes\",[\"map\",[[\"a\",\"1\"]]]]]}]");
    assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0),
                                                     "rows")), 1);
    json_decref(r);

    r = run(db, "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
            "\"mutations\":[[\"n\",\"/=\",0]]},{\"op\":\"comment\","
            "\"comment\":\"x\"}]");
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(test_result_error(r, 0), "domain error");
    assert_true(json_is_null(json_array_get(r, 1)));
    json_decref(r);

    r = run(db, "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
            "\"mutations\":[[\"n\",\"**=\",2]]}]");
    assert_string_equal(test_result_error(r, 0), "unknown mutator");
    json_decref(r);

    r = run(db, "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
            "\"mutations\":[[\"n\",\"+=\",9223372036854775807]]}]");
    assert_string_equal(test_result_error(r, 0), "range error");
    json_decref(r);
}

static void
test_gc_and_refs(void **state)
{
    struct ovsdb *db = *state;

    /* An unreferenced non-root row is collected: no change at all. */
    struct ovsdb_txn *txn = NULL;
    json_t *r = test_exec_txn(db, "[{\"op\":\"insert\",\"table\":\"Kid\","
                              "\"row\":{\"name\":\"lonely\"}}]", &txn);
    assert_null(test_result_error(r, 0));
    assert_null(txn);
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 0);

    populate(db);
    const struct ovsdb_row *g = NULL;
    OVSDB_TABLE_FOR_EACH_ROW (g, ovsdb_find_table(db, "Grand")) {
        break;
    }
    assert_int_equal(g->n_refs, 1);

    /* Deleting a referenced row fails with the OVS message. */
    r = run(db, "[{\"op\":\"delete\",\"table\":\"Kid\",\"where\":"
            "[[\"name\",\"==\",\"a\"]]}]");
    assert_int_equal(json_array_size(r), 2);
    assert_int_equal(test_result_count(r, 0), 1);
    assert_string_equal(test_result_error(r, 1),
                        "referential integrity violation");
    char expect[256];
    snprintf(expect, sizeof expect, "cannot delete Kid row %s because of 1 "
             "remaining reference(s)", kid_row(db, "a"));
    assert_string_equal(test_result_details(r, 1), expect);
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 2);

    /* Dangling strong reference. */
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Root\",\"row\":{\"kids\":"
            "[\"uuid\",\"01234567-89ab-cdef-0123-456789abcdef\"]}}]");
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(test_result_error(r, 1),
                        "referential integrity violation");
    assert_non_null(strstr(test_result_details(r, 1), "references "
                           "nonexistent row 01234567-89ab-cdef-0123-"
                           "456789abcdef in table Kid."));
    json_decref(r);

    /* Undefined named-uuid in a strong reference. */
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Root\",\"row\":{\"kids\":"
            "[\"named-uuid\",\"nope\"]}}]");
    assert_string_equal(test_result_error(r, 1),
                        "referential integrity violation");
    json_decref(r);
    assert_int_equal(n_rows(db, "Root"), 1);

    /* Dropping kid b from the root collects b and, in cascade, its grand. */
    r = run(db, "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
            "\"mutations\":[[\"kids\",\"delete\",[\"uuid\",\"%s\"]]]}]",
            kid_row(db, "b"));
    assert_int_equal(test_result_count(r, 0), 1);
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 1);
    assert_int_equal(n_rows(db, "Grand"), 0);
    assert_non_null(kid_row(db, "a"));

    /* Deleting the root collects everything below it. */
    r = run(db, "[{\"op\":\"delete\",\"table\":\"Root\",\"where\":[]}]");
    assert_int_equal(test_result_count(r, 0), 1);
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 0);
}

static void
test_weak_refs(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    char a[UUID_LEN + 1], b[UUID_LEN + 1];
    snprintf(a, sizeof a, "%s", kid_row(db, "a"));
    snprintf(b, sizeof b, "%s", kid_row(db, "b"));

    /* A weak reference to a missing row is dropped silently. */
    json_t *r = run(db, "[{\"op\":\"update\",\"table\":\"Root\",\"where\":[],"
                    "\"row\":{\"weak\":[\"set\",[[\"uuid\",\"%s\"],[\"uuid\","
                    "\"01234567-89ab-cdef-0123-456789abcdef\"]]]}},"
                    "{\"op\":\"insert\",\"table\":\"WeakMin\",\"row\":"
                    "{\"w\":[\"uuid\",\"%s\"]}}]", b, b);
    assert_null(test_result_error(r, 0));
    assert_int_equal(json_array_size(r), 2);
    json_decref(r);
    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":[],"
            "\"columns\":[\"weak\"]}]");
    json_t *w = json_object_get(json_array_get(json_object_get(
        json_array_get(r, 0), "rows"), 0), "weak");
    assert_string_equal(json_string_value(json_array_get(w, 1)), b);
    json_decref(r);

    /* Removing b would leave WeakMin.w empty, below its minimum. */
    r = run(db, "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
            "\"mutations\":[[\"kids\",\"delete\",[\"uuid\",\"%s\"]]]}]", b);
    assert_int_equal(json_array_size(r), 2);
    assert_string_equal(test_result_error(r, 1), "constraint violation");
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 2);

    /* Once WeakMin goes, removing b also empties the weak set of a row that
     * the transaction did not touch. */
    r = run(db, "[{\"op\":\"delete\",\"table\":\"WeakMin\",\"where\":[]},"
            "{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
            "\"mutations\":[[\"kids\",\"delete\",[\"uuid\",\"%s\"]]]}]", b);
    assert_null(test_result_error(r, 1));
    assert_int_equal(json_array_size(r), 2);
    json_decref(r);
    r = run(db, "[{\"op\":\"select\",\"table\":\"Root\",\"where\":"
            "[[\"weak\",\"==\",[\"set\",[]]]]}]");
    assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0),
                                                     "rows")), 1);
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 1);
}

static void
test_weak_refs_untouched_source(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    char a[UUID_LEN + 1], b[UUID_LEN + 1];
    snprintf(a, sizeof a, "%s", kid_row(db, "a"));
    snprintf(b, sizeof b, "%s", kid_row(db, "b"));
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"WeakMin\",\"row\":"
                    "{\"w\":[\"set\",[[\"uuid\",\"%s\"],[\"uuid\",\"%s\"]]]}}]",
                    a, b);
    assert_null(test_result_error(r, 0));
    json_decref(r);
    /* The WeakMin row is not named by this transaction: the weak-reference
     * index finds it when b is collected. */
    r = run(db, "[{\"op\":\"update\",\"table\":\"Root\",\"where\":[],"
            "\"row\":{\"kids\":[\"uuid\",\"%s\"]}}]", a);
    assert_int_equal(json_array_size(r), 1);
    json_decref(r);
    assert_int_equal(n_rows(db, "Kid"), 1);
    r = run(db, "[{\"op\":\"select\",\"table\":\"WeakMin\",\"where\":"
            "[[\"w\",\"==\",[\"uuid\",\"%s\"]]]}]", a);
    assert_int_equal(json_array_size(json_object_get(json_array_get(r, 0),
                                                     "rows")), 1);
    json_decref(r);
}

static void
test_index_unique(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    /* Against a row in the database. */
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"Kid\",\"row\":"
                    "{\"name\":\"a\"},\"uuid-name\":\"x\"},"
                    "{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
                    "\"mutations\":[[\"kids\",\"insert\",[\"named-uuid\","
                    "\"x\"]]]}]");
    assert_int_equal(json_array_size(r), 3);
    assert_string_equal(test_result_error(r, 2), "constraint violation");
    const char *d = test_result_details(r, 2);
    assert_true(str_starts_with(d, "Transaction causes multiple rows in "
                                "\"Kid\" table to have identical values (a) "
                                "for index on column \"name\".  First row, "
                                "with UUID "));
    assert_non_null(strstr(d, "existed in the database before this "
                           "transaction and was not modified by the "
                           "transaction.  Second row, with UUID "));
    assert_non_null(strstr(d, "was inserted by this transaction."));
    json_decref(r);

    /* Two rows of one transaction, two-column index. */
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":1,"
            "\"b\":\"x\"}},{\"op\":\"insert\",\"table\":\"Pair\",\"row\":"
            "{\"a\":1,\"b\":\"x\"}}]");
    assert_string_equal(test_result_error(r, 2), "constraint violation");
    assert_non_null(strstr(test_result_details(r, 2),
                           "identical values (1 and x) for index on "
                           "columns \"a\" and \"b\".  First row"));
    json_decref(r);
    assert_int_equal(n_rows(db, "Pair"), 0);

    /* Swapping values between two rows in one transaction is fine. */
    r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":1}},"
            "{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":2}}]");
    json_decref(r);
    r = run(db, "[{\"op\":\"update\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",1]],\"row\":{\"a\":3}},"
            "{\"op\":\"update\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",2]],\"row\":{\"a\":1}},"
            "{\"op\":\"update\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",3]],\"row\":{\"a\":2}}]");
    assert_int_equal(json_array_size(r), 3);
    assert_null(test_result_error(r, 2));
    json_decref(r);
    assert_non_null(ovsdb_find_table(db, "Pair")->indexes);

    /* The index finds rows after commit. */
    const struct ovsdb_table *kt = ovsdb_find_table(db, "Kid");
    struct ovsdb_datum key;
    union ovsdb_atom atom = { .string = (char *) "b" };
    key.n = 1;
    key.keys = &atom;
    key.values = NULL;
    const struct ovsdb_row *row = ovsdb_table_find_by_index(kt, 0, &key);
    assert_non_null(row);
    char u[UUID_LEN + 1];
    uuid_to_string(&row->uuid, u);
    assert_string_equal(u, kid_row(db, "b"));
}

static void
test_max_rows(void **state)
{
    struct ovsdb *db = *state;
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"Root\",\"row\":{}},"
                    "{\"op\":\"insert\",\"table\":\"Root\",\"row\":{}},"
                    "{\"op\":\"insert\",\"table\":\"Root\",\"row\":{}}]");
    assert_int_equal(json_array_size(r), 4);
    assert_string_equal(test_result_error(r, 3), "constraint violation");
    assert_string_equal(test_result_details(r, 3), "transaction causes "
                        "\"Root\" table to contain 3 rows, greater than the "
                        "schema-defined limit of 2 row(s)");
    json_decref(r);
    assert_int_equal(n_rows(db, "Root"), 0);
}

static json_t *
exec_at(struct ovsdb *db, const char *ops, long long start, long long now,
        enum ovsdb_exec_status expect, long long *deadlinep)
{
    struct ovsdb_exec_ctx ctx = { .start_msec = start };
    json_t *j = json_loads(ops, 0, NULL);
    json_t *result = NULL;
    struct ovsdb_txn *txn = NULL;
    assert_int_equal(ovsdb_execute(db, j, &ctx, now, deadlinep, &result,
                                   &txn), expect);
    json_decref(j);
    if (txn) {
        ovsdb_txn_commit(txn);
        ovsdb_txn_destroy(txn);
    }
    return result;
}

static void
test_wait(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    long long deadline;
    const char *ok = "[{\"op\":\"wait\",\"table\":\"Root\",\"timeout\":0,"
        "\"where\":[[\"name\",\"==\",\"r\"]],\"columns\":[\"n\"],"
        "\"until\":\"==\",\"rows\":[{\"n\":0}]}]";
    json_t *r = exec_at(db, ok, 0, 1000, OVSDB_EXEC_DONE, &deadline);
    assert_int_equal(json_object_size(json_array_get(r, 0)), 0);
    assert_null(test_result_error(r, 0));
    json_decref(r);

    const char *ne = "[{\"op\":\"wait\",\"table\":\"Root\",\"timeout\":0,"
        "\"where\":[],\"columns\":[\"n\"],\"until\":\"!=\","
        "\"rows\":[{\"n\":0}]}]";
    r = exec_at(db, ne, 0, 1000, OVSDB_EXEC_DONE, &deadline);
    assert_string_equal(test_result_error(r, 0), "timed out");
    assert_string_equal(test_result_details(r, 0),
                        "\"where\" clause test failed");
    json_decref(r);

    /* No timeout: blocks forever. */
    const char *forever = "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{}},"
        "{\"op\":\"wait\",\"table\":\"Root\",\"where\":[],\"columns\":[\"n\"],"
        "\"until\":\"==\",\"rows\":[{\"n\":5}]}]";
    r = exec_at(db, forever, 0, 1000, OVSDB_EXEC_BLOCKED, &deadline);
    assert_null(r);
    assert_true(deadline == LLONG_MAX);
    assert_int_equal(n_rows(db, "Pair"), 0);

    /* Timeout 2000 from start 100: blocked until 2100, then fails. */
    const char *timed = "[{\"op\":\"wait\",\"table\":\"Root\",\"where\":[],"
        "\"columns\":[\"n\"],\"until\":\"==\",\"rows\":[{\"n\":5}],"
        "\"timeout\":2000}]";
    r = exec_at(db, timed, 100, 500, OVSDB_EXEC_BLOCKED, &deadline);
    assert_int_equal(deadline, 2100);
    r = exec_at(db, timed, 100, 2101, OVSDB_EXEC_DONE, &deadline);
    assert_string_equal(test_result_error(r, 0), "timed out");
    assert_string_equal(test_result_details(r, 0),
                        "\"wait\" timed out after 2001 ms");
    json_decref(r);

    /* Satisfied by an earlier op of the same transaction. */
    r = exec_at(db, "[{\"op\":\"update\",\"table\":\"Root\",\"where\":[],"
                "\"row\":{\"n\":5}},{\"op\":\"wait\",\"table\":\"Root\","
                "\"where\":[],\"columns\":[\"n\"],\"until\":\"==\","
                "\"rows\":[{\"n\":5}]}]", 0, 1000, OVSDB_EXEC_DONE,
                &deadline);
    assert_null(test_result_error(r, 1));
    json_decref(r);

    r = exec_at(db, "[{\"op\":\"wait\",\"table\":\"Root\",\"where\":[],"
                "\"until\":\"<\",\"rows\":[]}]", 0, 1000, OVSDB_EXEC_DONE,
                &deadline);
    assert_string_equal(test_result_error(r, 0), "syntax error");
    json_decref(r);
}

static bool
has_lock(const char *name, void *aux)
{
    return !strcmp(name, "mine");
}

static void
test_misc_ops(void **state)
{
    struct ovsdb *db = *state;
    struct ovsdb_txn *txn = NULL;
    json_t *r = test_exec_txn(db, "[{\"op\":\"comment\",\"comment\":\"one\"},"
                              "{\"op\":\"insert\",\"table\":\"Pair\","
                              "\"row\":{}},{\"op\":\"comment\","
                              "\"comment\":\"two\"},{\"op\":\"commit\","
                              "\"durable\":true}]", &txn);
    assert_non_null(txn);
    assert_true(ovsdb_txn_is_durable(txn));
    assert_string_equal(ovsdb_txn_get_comment(txn), "one\ntwo");
    assert_int_equal(json_object_size(json_array_get(r, 0)), 0);
    assert_int_equal(json_object_size(json_array_get(r, 3)), 0);
    ovsdb_txn_abort(txn);
    json_decref(r);
    assert_int_equal(n_rows(db, "Pair"), 0);

    r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{}},"
            "{\"op\":\"abort\"}]");
    assert_string_equal(test_result_error(r, 1), "aborted");
    assert_string_equal(test_result_details(r, 1), "aborted by request");
    json_decref(r);
    assert_int_equal(n_rows(db, "Pair"), 0);

    r = run(db, "[{\"op\":\"commit\",\"durable\":\"yes\"}]");
    assert_string_equal(test_result_error(r, 0), "syntax error");
    json_decref(r);

    struct ovsdb_exec_ctx ctx = { .has_lock = has_lock };
    r = test_exec(db, "[{\"op\":\"assert\",\"lock\":\"mine\"},"
                  "{\"op\":\"assert\",\"lock\":\"mylock\"}]", &ctx, NULL);
    assert_null(test_result_error(r, 0));
    assert_string_equal(test_result_error(r, 1), "not owner");
    assert_string_equal(test_result_details(r, 1),
                        "Asserted lock mylock not held.");
    json_decref(r);

    struct ovsdb_exec_ctx ro = { .read_only = true };
    static const char *writes[] = {
        "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{}}]",
        "[{\"op\":\"update\",\"table\":\"Pair\",\"where\":[],"
        "\"row\":{\"a\":1}}]",
        "[{\"op\":\"mutate\",\"table\":\"Pair\",\"where\":[],"
        "\"mutations\":[[\"a\",\"+=\",1]]}]",
    };
    static const char *names[] = { "insert", "update", "mutate" };
    for (size_t i = 0; i < ARRAY_SIZE(writes); i++) {
        r = test_exec(db, writes[i], &ro, NULL);
        char *expect = xasprintf("%s operation not allowed when database "
                                 "server is in read only mode", names[i]);
        assert_string_equal(test_result_error(r, 0), "not allowed");
        assert_string_equal(test_result_details(r, 0), expect);
        free(expect);
        json_decref(r);
    }
    r = test_exec(db, "[{\"op\":\"select\",\"table\":\"Pair\",\"where\":[]},"
                  "{\"op\":\"delete\",\"table\":\"Pair\",\"where\":[]}]",
                  &ro, NULL);
    assert_null(test_result_error(r, 0));
    assert_string_equal(test_result_error(r, 1), "not allowed");
    assert_string_equal(test_result_details(r, 1), "delete operation not "
                        "allowed when database server is in read only mode");
    json_decref(r);

    /* A reserved database: reads work, the first write fails with the
     * reserved-database wording and nothing after it runs. */
    struct ovsdb_exec_ctx reserved = { .reserved_db = "_Server" };
    r = test_exec(db, "[{\"op\":\"select\",\"table\":\"Pair\",\"where\":[]},"
                  "{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{}},"
                  "{\"op\":\"comment\",\"comment\":\"x\"}]", &reserved, NULL);
    assert_null(test_result_error(r, 0));
    assert_string_equal(test_result_error(r, 1), "not allowed");
    assert_string_equal(test_result_details(r, 1), "insert operation not "
                        "allowed on table in reserved database _Server");
    assert_true(json_is_null(json_array_get(r, 2)));
    json_decref(r);
}

static void
test_rollback(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    char *before = test_db_dump(db);
    /* Many changes, then a failure at commit time: nothing sticks. */
    json_t *r = run(db, "[{\"op\":\"update\",\"table\":\"Root\",\"where\":[],"
                    "\"row\":{\"n\":9,\"kids\":[\"set\",[]]}},"
                    "{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{}},"
                    "{\"op\":\"insert\",\"table\":\"Root\",\"row\":{\"kids\":"
                    "[\"uuid\",\"01234567-89ab-cdef-0123-456789abcdef\"]}}]");
    assert_string_equal(test_result_error(r, 3),
                        "referential integrity violation");
    json_decref(r);
    char *after = test_db_dump(db);
    assert_string_equal(before, after);
    free(after);

    /* A failing operation in the middle. */
    r = run(db, "[{\"op\":\"delete\",\"table\":\"Kid\",\"where\":[]},"
            "{\"op\":\"update\",\"table\":\"Root\",\"where\":[],"
            "\"row\":{\"kids\":[\"set\",[]],\"n\":4}},"
            "{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
            "\"mutations\":[[\"n\",\"/=\",0]]}]");
    assert_string_equal(test_result_error(r, 2), "domain error");
    after = test_db_dump(db);
    assert_string_equal(before, after);
    free(after);
    json_decref(r);
    free(before);
}

struct change_count {
    int inserts, deletes, modifies;
};

static void
count_change(const struct ovsdb_row_change *c, void *aux)
{
    struct change_count *cc = aux;
    if (!c->old) {
        cc->inserts++;
    } else if (!c->new) {
        cc->deletes++;
    } else {
        cc->modifies++;
        assert_non_null(c->changed);
    }
}

static void
test_changes(void **state)
{
    struct ovsdb *db = *state;
    populate(db);
    struct ovsdb_txn *txn = NULL;
    char b[UUID_LEN + 1];
    snprintf(b, sizeof b, "%s", kid_row(db, "b"));
    json_t *r = test_exec_txn(db, "[{\"op\":\"mutate\",\"table\":\"Root\","
                              "\"where\":[],\"mutations\":[[\"kids\","
                              "\"delete\",[\"set\",[]]]]},"
                              "{\"op\":\"insert\",\"table\":\"Pair\","
                              "\"row\":{}}]", &txn);
    assert_non_null(txn);               /* The Pair insert. */
    struct change_count cc = { 0, 0, 0 };
    ovsdb_txn_for_each_change(txn, count_change, &cc);
    assert_int_equal(cc.inserts, 1);
    assert_int_equal(cc.modifies, 0);
    ovsdb_txn_commit(txn);
    ovsdb_txn_destroy(txn);
    json_decref(r);

    char *ops = xasprintf("[{\"op\":\"mutate\",\"table\":\"Root\","
                          "\"where\":[],\"mutations\":[[\"kids\",\"delete\","
                          "[\"uuid\",\"%s\"]]]}]", b);
    r = test_exec_txn(db, ops, &txn);
    free(ops);
    cc = (struct change_count) { 0, 0, 0 };
    ovsdb_txn_for_each_change(txn, count_change, &cc);
    assert_int_equal(cc.modifies, 1);   /* Root. */
    assert_int_equal(cc.deletes, 2);    /* Kid b and its Grand. */
    ovsdb_txn_commit(txn);
    cc = (struct change_count) { 0, 0, 0 };
    ovsdb_txn_for_each_change(txn, count_change, &cc);
    assert_int_equal(cc.deletes, 2);
    ovsdb_txn_destroy(txn);
    json_decref(r);
}

static size_t
n_selected(const json_t *r, size_t idx)
{
    return json_array_size(json_object_get(json_array_get(r, idx), "rows"));
}

static void
test_index_fast_path(void **state)
{
    struct ovsdb *db = *state;
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":"
                    "{\"a\":1,\"b\":\"x\"}}]");
    json_decref(r);
    /* Selections by index see the transaction's own changes. */
    r = run(db, "[{\"op\":\"update\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",1],[\"b\",\"==\",\"x\"]],\"row\":{\"a\":2}},"
            "{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",1],[\"b\",\"==\",\"x\"]]},"
            "{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"b\",\"==\",\"x\"],[\"a\",\"==\",2]]},"
            "{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":5,"
            "\"b\":\"y\"}},"
            "{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",5],[\"b\",\"==\",\"y\"]]},"
            "{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",5],[\"b\",\"==\",\"y\"],[\"a\",\"!=\",5]]}]");
    assert_int_equal(test_result_count(r, 0), 1);
    assert_int_equal(n_selected(r, 1), 0);
    assert_int_equal(n_selected(r, 2), 1);
    assert_int_equal(n_selected(r, 4), 1);
    assert_int_equal(n_selected(r, 5), 0);
    json_decref(r);
    /* And the committed result through the index. */
    r = run(db, "[{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",2],[\"b\",\"==\",\"x\"]]},"
            "{\"op\":\"delete\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",2],[\"b\",\"==\",\"x\"]]},"
            "{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"a\",\"==\",2],[\"b\",\"==\",\"x\"]]}]");
    assert_int_equal(n_selected(r, 0), 1);
    assert_int_equal(test_result_count(r, 1), 1);
    assert_int_equal(n_selected(r, 2), 0);
    json_decref(r);
    assert_int_equal(n_rows(db, "Pair"), 1);
}

static void
test_undefined_named_uuid(void **state)
{
    struct ovsdb *db = *state;
    /* Used only in a condition: it matches nothing (as ovsdb-server 3.1
     * answers). */
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{}}]");
    json_decref(r);
    r = run(db, "[{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"_uuid\",\"==\",[\"named-uuid\",\"zz\"]]]},"
            "{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"_uuid\",\"!=\",[\"named-uuid\",\"zz\"]]]}]");
    assert_int_equal(json_array_size(r), 2);
    assert_int_equal(n_selected(r, 0), 0);
    assert_int_equal(n_selected(r, 1), 1);
    assert_null(test_result_error(r, 1));
    json_decref(r);

    /* Defined later in the same request: fine. */
    r = run(db, "[{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"_uuid\",\"==\",[\"named-uuid\",\"zz\"]]]},"
            "{\"op\":\"insert\",\"table\":\"Pair\",\"row\":{\"a\":1},"
            "\"uuid-name\":\"zz\"},"
            "{\"op\":\"select\",\"table\":\"Pair\",\"where\":"
            "[[\"_uuid\",\"==\",[\"named-uuid\",\"zz\"]]]}]");
    assert_int_equal(json_array_size(r), 3);
    assert_int_equal(n_selected(r, 0), 0);
    assert_int_equal(n_selected(r, 2), 1);
    json_decref(r);
    assert_int_equal(n_rows(db, "Pair"), 2);
}

struct changed_bits {
    unsigned int kids_idx, n_idx;
    bool kids, n, version;
};

static void
record_changed(const struct ovsdb_row_change *c, void *aux)
{
    struct changed_bits *cb = aux;
    if (c->old && c->new && !strcmp(c->table->name, "Root")) {
        cb->kids = ovsdb_bitmap_is_set(c->changed, cb->kids_idx);
        cb->n = ovsdb_bitmap_is_set(c->changed, cb->n_idx);
        cb->version = ovsdb_bitmap_is_set(c->changed, OVSDB_COL_VERSION);
    }
}

static void
test_map_value_refs(void **state)
{
    struct ovsdb *db = *state;
    json_t *r = run(db, "[{\"op\":\"insert\",\"table\":\"Grand\",\"row\":"
                    "{\"v\":1},\"uuid-name\":\"g1\"},"
                    "{\"op\":\"insert\",\"table\":\"Grand\",\"row\":"
                    "{\"v\":2},\"uuid-name\":\"g2\"},"
                    "{\"op\":\"insert\",\"table\":\"Root\",\"row\":{\"grands\":"
                    "[\"map\",[[1,[\"named-uuid\",\"g1\"]],"
                    "[2,[\"named-uuid\",\"g2\"]]]]}}]");
    assert_int_equal(json_array_size(r), 3);
    json_decref(r);
    assert_int_equal(n_rows(db, "Grand"), 2);

    /* Removing key 1 collects the Grand it pointed to. */
    struct ovsdb_txn *txn = NULL;
    r = test_exec_txn(db, "[{\"op\":\"mutate\",\"table\":\"Root\",\"where\":[],"
                      "\"mutations\":[[\"grands\",\"delete\",[\"set\",[1]]]]}]",
                      &txn);
    assert_non_null(txn);
    const struct ovsdb_table_schema *ts
        = ovsdb_find_table(db, "Root")->schema;
    struct changed_bits cb = {
        .kids_idx = ovsdb_table_schema_find_column(ts, "grands")->index,
        .n_idx = ovsdb_table_schema_find_column(ts, "n")->index,
    };
    ovsdb_txn_for_each_change(txn, record_changed, &cb);
    assert_true(cb.kids);
    assert_false(cb.n);
    assert_true(cb.version);
    ovsdb_txn_commit(txn);
    ovsdb_txn_destroy(txn);
    json_decref(r);
    assert_int_equal(n_rows(db, "Grand"), 1);

    /* A column bitmap selects what ovsdb_row_to_json() writes. */
    const struct ovsdb_row *row = NULL;
    OVSDB_TABLE_FOR_EACH_ROW (row, ovsdb_find_table(db, "Root")) {
        break;
    }
    unsigned long *bits = ovsdb_bitmap_create(ts->n_columns);
    ovsdb_bitmap_set(bits, cb.n_idx);
    json_t *j = ovsdb_row_to_json(row, bits);
    assert_int_equal(json_object_size(j), 1);
    assert_int_equal(json_integer_value(json_object_get(j, "n")), 0);
    json_decref(j);
    free(bits);
    j = ovsdb_row_to_json(row, NULL);
    assert_int_equal(json_object_size(j), ts->n_columns);
    json_decref(j);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_insert_select, setup, teardown),
        cmocka_unit_test_setup_teardown(test_insert_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_parse_errors, setup, teardown),
        cmocka_unit_test_setup_teardown(test_update, setup, teardown),
        cmocka_unit_test_setup_teardown(test_mutate, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gc_and_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weak_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_weak_refs_untouched_source, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_index_unique, setup, teardown),
        cmocka_unit_test_setup_teardown(test_max_rows, setup, teardown),
        cmocka_unit_test_setup_teardown(test_wait, setup, teardown),
        cmocka_unit_test_setup_teardown(test_misc_ops, setup, teardown),
        cmocka_unit_test_setup_teardown(test_rollback, setup, teardown),
        cmocka_unit_test_setup_teardown(test_changes, setup, teardown),
        cmocka_unit_test_setup_teardown(test_map_value_refs, setup, teardown),
        cmocka_unit_test_setup_teardown(test_index_fast_path, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(test_undefined_named_uuid, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
