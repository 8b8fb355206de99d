/* Tests for ovsdb-update2: <table-updates2> applied in place to a client's
 * copy (what lanyard-switchd's replica does with monitor_cond updates). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "ds.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-update2.h"
#include "ovsdb.h"
#include "test-exec-util.h"
#include "util.h"

#define ROOT "11111111-1111-4111-8111-111111111111"
#define KID_A "22222222-2222-4222-8222-222222222222"
#define KID_B "33333333-3333-4333-8333-333333333333"

/* Records what the callback saw, one "KIND table uuid" line each. */
static void
record_cb(const struct ovsdb_table *t, const struct uuid *uuid,
          enum ovsdb_update2_kind kind, const json_t *row_json, void *ds_)
{
    struct ds *ds = ds_;
    char id[UUID_LEN + 1];
    uuid_to_string(uuid, id);
    ds_put_format(ds, "%s %s %.8s%s\n",
                  kind == OVSDB_UPDATE2_INSERT ? "insert"
                  : kind == OVSDB_UPDATE2_MODIFY ? "modify" : "delete",
                  t->schema->name, id, row_json ? " +row" : "");
}

static struct ovsdb_error *
apply(struct ovsdb *db, const char *text, struct ds *seen)
{
    json_error_t jerr;
    json_t *j = json_loads(text, 0, &jerr);
    if (!j) {
        fail_msg("bad test JSON: %s", jerr.text);
    }
    struct ovsdb_error *error = ovsdb_update2_apply(db, j, seen ? record_cb
                                                                : NULL, seen);
    json_decref(j);
    return error;
}

static void
apply_ok(struct ovsdb *db, const char *text, struct ds *seen)
{
    struct ovsdb_error *error = apply(db, text, seen);
    if (error) {
        fail_msg("apply: %s", ovsdb_error_to_string(error));
    }
}

static const struct ovsdb_row *
row_of(struct ovsdb *db, const char *table, const char *id)
{
    struct uuid uuid;
    assert_true(uuid_from_string(&uuid, id));
    return ovsdb_table_find_row(ovsdb_find_table(db, table), &uuid);
}

/* COLUMN of ROW as text, e.g. {"x"="1"} or [uuid, uuid]. */
static char *
text_of(const struct ovsdb_row *row, const char *column)
{
    const struct ovsdb_type *type;
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, column, &type);
    struct ds ds = DS_EMPTY_INITIALIZER;
    ovsdb_datum_to_string(d, type, &ds);
    return ds_steal_cstr(&ds);
}

static void
assert_column(const struct ovsdb_row *row, const char *column,
              const char *want)
{
    char *s = text_of(row, column);
    assert_string_equal(s, want);
    free(s);
}

static void
test_insert_modify_delete(void **state)
{
    (void) state;
    struct ovsdb *db = test_db_create(test_schema_json);
    struct ds seen = DS_EMPTY_INITIALIZER;
    apply_ok(db, "{\"Kid\":{\"" KID_A "\":{\"initial\":{\"name\":\"a\"}},"
             "\"" KID_B "\":{\"insert\":{\"name\":\"b\",\"tag\":7}}},"
             "\"Root\":{\"" ROOT "\":{\"initial\":{\"name\":\"r\","
             "\"kids\":[\"set\",[[\"uuid\",\"" KID_A "\"]]],"
             "\"m\":[\"map\",[[\"x\",\"1\"],[\"y\",\"2\"]]]}}}}", &seen);
    const struct ovsdb_row *root = row_of(db, "Root", ROOT);
    assert_non_null(root);
    assert_column(root, "kids", "[" KID_A "]");
    assert_column(root, "m", "{x=\"1\", y=\"2\"}");

    /* A set difference toggles: KID_B joins; a map difference changes x,
     * removes y (same value) and adds z; a scalar is replaced. */
    apply_ok(db, "{\"Root\":{\"" ROOT "\":{\"modify\":{"
             "\"kids\":[\"uuid\",\"" KID_B "\"],"
             "\"m\":[\"map\",[[\"x\",\"10\"],[\"y\",\"2\"],[\"z\",\"3\"]]],"
             "\"n\":5}}}}", &seen);
    assert_column(root, "kids", "[" KID_A ", " KID_B "]");
    assert_column(root, "m", "{x=\"10\", z=\"3\"}");
    assert_column(root, "n", "5");
    /* ...and toggling KID_A again removes it. */
    apply_ok(db, "{\"Root\":{\"" ROOT "\":{\"modify\":{"
             "\"kids\":[\"set\",[[\"uuid\",\"" KID_A "\"]]]}}}}", &seen);
    assert_column(root, "kids", "[" KID_B "]");

    apply_ok(db, "{\"Kid\":{\"" KID_A "\":{\"delete\":null}}}", &seen);
    assert_null(row_of(db, "Kid", KID_A));
    assert_string_equal(ds_cstr(&seen),
                        "insert Kid 22222222\n"
                        "insert Kid 33333333\n"
                        "insert Root 11111111\n"
                        "modify Root 11111111 +row\n"
                        "modify Root 11111111 +row\n"
                        "delete Kid 22222222\n");
    ds_destroy(&seen);
    ovsdb_destroy(db);
}

/* An indexed column changed in place is found under its new value only. */
static void
test_index_follows(void **state)
{
    (void) state;
    struct ovsdb *db = test_db_create(test_schema_json);
    apply_ok(db, "{\"Kid\":{\"" KID_A "\":{\"insert\":{\"name\":\"old\"}}}}",
             NULL);
    apply_ok(db, "{\"Kid\":{\"" KID_A "\":{\"modify\":{\"name\":\"new\"}}}}",
             NULL);
    const struct ovsdb_table *t = ovsdb_find_table(db, "Kid");
    struct ovsdb_datum key;
    union ovsdb_atom atom = { .string = (char *) "new" };
    key.n = 1;
    key.keys = &atom;
    key.values = NULL;
    assert_ptr_equal(ovsdb_table_find_by_index(t, 0, &key),
                     row_of(db, "Kid", KID_A));
    atom.string = (char *) "old";
    assert_null(ovsdb_table_find_by_index(t, 0, &key));
    ovsdb_destroy(db);
}

/* Small differences (element by element) and large ones (one merge) give
 * the same set as toggling each element in turn. */
static void
test_small_and_large_differences(void **state)
{
    (void) state;
    struct ovsdb *db = test_db_create(test_schema_json);
    apply_ok(db, "{\"Root\":{\"" ROOT "\":{\"insert\":{\"name\":\"r\"}}}}",
             NULL);
    const struct ovsdb_row *root = row_of(db, "Root", ROOT);
    bool want[64] = { false };
    unsigned int seed = 1;
    for (int round = 0; round < 40; round++) {
        int n = round % 2 ? 1 + round % 5 : 9 + round;   /* <= 8: small. */
        struct ds u = DS_EMPTY_INITIALIZER;
        bool used[64] = { false };
        bool first = true;
        ds_put_cstr(&u, "{\"Root\":{\"" ROOT "\":{\"modify\":{\"kids\":"
                    "[\"set\",[");
        for (int k = 0; k < n; k++) {
            seed = seed * 1103515245 + 12345;
            int e = (int) ((seed >> 16) % 64);
            if (used[e]) {
                continue;           /* A difference names each once. */
            }
            used[e] = true;
            want[e] = !want[e];
            ds_put_format(&u, "%s[\"uuid\",\"00000000-0000-4000-8000-%012d\"]",
                          first ? "" : ",", e);
            first = false;
        }
        ds_put_cstr(&u, "]]}}}}");
        apply_ok(db, ds_cstr(&u), NULL);
        ds_destroy(&u);

        struct ds w = DS_EMPTY_INITIALIZER;
        int n_want = 0;
        for (int e = 0; e < 64; e++) {
            if (want[e]) {
                ds_put_format(&w, "%s00000000-0000-4000-8000-%012d",
                              n_want++ ? ", " : "", e);
            }
        }
        char *s = xasprintf("[%s]", ds_cstr(&w));
        assert_column(root, "kids", s);
        free(s);
        ds_destroy(&w);
    }
    ovsdb_destroy(db);
}

static void
expect_error(struct ovsdb *db, const char *text, const char *substring)
{
    struct ovsdb_error *error = apply(db, text, NULL);
    assert_non_null(error);
    char *s = ovsdb_error_to_string(error);
    if (!strstr(s, substring)) {
        fail_msg("error \"%s\" lacks \"%s\"", s, substring);
    }
    free(s);
    ovsdb_error_destroy(error);
}

static void
test_errors(void **state)
{
    (void) state;
    struct ovsdb *db = test_db_create(test_schema_json);
    expect_error(db, "{\"Kid\":{\"" KID_A "\":{\"modify\":{\"name\":\"x\"}}}}",
                 "modifies row " KID_A " that does not exist in table Kid");
    expect_error(db, "{\"Kid\":{\"" KID_A "\":{\"delete\":null}}}",
                 "deletes row " KID_A " that does not exist");
    expect_error(db, "{\"Nope\":{}}", "No table named Nope.");
    expect_error(db, "{\"Kid\":{\"not-a-uuid\":{\"insert\":{}}}}",
                 "not-a-uuid is not a UUID");
    expect_error(db, "{\"Kid\":{\"" KID_A "\":{\"insert\":{\"bad\":1}}}}",
                 "No column bad in table Kid.");
    expect_error(db, "{\"Kid\":{\"" KID_A "\":{\"replace\":{}}}}",
                 "none of initial, insert, modify, delete");
    /* A row whose update does not parse is left as it was. */
    apply_ok(db, "{\"Kid\":{\"" KID_A "\":{\"insert\":{\"name\":\"a\","
             "\"tag\":3}}}}", NULL);
    expect_error(db, "{\"Kid\":{\"" KID_A "\":{\"modify\":{\"tag\":4,"
                 "\"color\":17}}}}", "");
    assert_column(row_of(db, "Kid", KID_A), "tag", "[3]");
    ovsdb_destroy(db);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_insert_modify_delete),
        cmocka_unit_test(test_index_follows),
        cmocka_unit_test(test_small_and_large_differences),
        cmocka_unit_test(test_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
