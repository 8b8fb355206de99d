/* ovsdb-convert: a database's data under a new schema. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ovsdb-convert.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb.h"
#include "test-exec-util.h"

/* A schema with its two small tables; TAG_TYPE and EXTRA (a column added
 * to Kid, or "") vary. */
static struct ovsdb_schema *
schema(const char *tag_type, const char *extra, bool with_grand)
{
    char *text = xasprintf(
        "{\"name\": \"T\", \"version\": \"2.0.0\", \"tables\": {"
        " \"Root\": {\"isRoot\": true, \"columns\": {"
        "   \"name\": {\"type\": \"string\"},"
        "   \"kids\": {\"type\": {\"key\": {\"type\": \"uuid\","
        "              \"refTable\": \"Kid\"}, \"min\": 0, \"max\": 2}}}},"
        " \"Kid\": {\"columns\": {\"name\": {\"type\": \"string\"},"
        "   \"tag\": {\"type\": %s}%s}}%s}}", tag_type, extra,
        with_grand ? ", \"Grand\": {\"columns\": {\"v\": "
                     "{\"type\": \"integer\"}}}" : "");
    json_t *j = json_loads(text, 0, NULL);
    assert_non_null(j);
    struct ovsdb_schema *s;
    assert_null(ovsdb_schema_from_json(j, &s));
    json_decref(j);
    free(text);
    return s;
}

static struct ovsdb *
populated(void)
{
    struct ovsdb *db = ovsdb_create(schema("{\"key\": \"integer\", \"min\": 0,"
                                           " \"max\": 1}", "", true));
    json_decref(test_exec(db, "[{\"op\": \"insert\", \"table\": \"Kid\","
                          " \"row\": {\"name\": \"k\", \"tag\": 100},"
                          " \"uuid-name\": \"k\"},"
                          "{\"op\": \"insert\", \"table\": \"Root\","
                          " \"row\": {\"name\": \"r\","
                          " \"kids\": [\"named-uuid\", \"k\"]}}]",
                          NULL, NULL));
    return db;
}

static void
test_convert_keeps_data(void **state)
{
    (void) state;
    struct ovsdb *old = populated();
    char *before = test_db_dump(old);
    struct ovsdb *new;
    /* Tag widened into a set, a column added, table Grand dropped. */
    assert_null(ovsdb_convert(old, schema(
        "{\"key\": \"integer\", \"min\": 0, \"max\": 3}",
        ", \"note\": {\"type\": \"string\"}", false), &new));
    assert_string_equal(ovsdb_get_schema(new)->version, "2.0.0");
    assert_null(ovsdb_find_table(new, "Grand"));
    const struct ovsdb_table *kids = ovsdb_find_table(new, "Kid");
    assert_int_equal(ovsdb_table_n_rows(kids), 1);
    const struct ovsdb_table *roots = ovsdb_find_table(new, "Root");
    assert_int_equal(ovsdb_table_n_rows(roots), 1);
    char *after = test_db_dump(new);
    assert_non_null(strstr(after, "\"tag\":100"));
    /* The new column has its default, which a file record omits. */
    assert_non_null(ovsdb_table_schema_find_column(kids->schema, "note"));
    assert_null(strstr(after, "note"));
    /* The old database is untouched. */
    char *again = test_db_dump(old);
    assert_string_equal(before, again);
    free(before);
    free(after);
    free(again);
    ovsdb_destroy(new);
    ovsdb_destroy(old);
}

static void
test_convert_refuses_what_does_not_fit(void **state)
{
    (void) state;
    struct ovsdb *old = populated();
    struct ovsdb *new = (struct ovsdb *) 1;
    struct ovsdb_error *e = ovsdb_convert(old, schema(
        "{\"key\": {\"type\": \"integer\", \"maxInteger\": 10}, \"min\": 0,"
        " \"max\": 1}", "", true), &new);
    assert_null(new);
    assert_non_null(e);
    assert_string_equal(ovsdb_error_get_tag(e), "constraint violation");
    assert_string_equal(ovsdb_error_get_details(e),
                        "100 is greater than maximum allowed value 10");
    ovsdb_error_destroy(e);

    e = ovsdb_convert(old, schema("\"string\"", "", true), &new);
    assert_null(new);
    assert_string_equal(ovsdb_error_get_tag(e), "syntax error");
    assert_string_equal(ovsdb_error_get_details(e), "expected string");
    ovsdb_error_destroy(e);
    ovsdb_destroy(old);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_convert_keeps_data),
        cmocka_unit_test(test_convert_refuses_what_does_not_fit),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
