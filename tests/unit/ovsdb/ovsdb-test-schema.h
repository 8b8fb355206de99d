/* A small schema shared by the condition and mutation tests (header-only). */
#ifndef LANYARD_OVSDB_TEST_SCHEMA_H
#define LANYARD_OVSDB_TEST_SCHEMA_H 1

#include "ovsdb-data.h"
#include "ovsdb-schema.h"
#include "ovsdb-test-util.h"

static const char test_schema_json[] =
    "{\"name\":\"T\",\"version\":\"1.0.0\",\"tables\":{\"A\":{\"columns\":{"
    " \"s\":{\"type\":\"string\"},"
    " \"i\":{\"type\":\"integer\"},"
    " \"o\":{\"type\":{\"key\":\"integer\",\"min\":0,\"max\":1}},"
    " \"r\":{\"type\":\"real\"},"
    " \"set\":{\"type\":{\"key\":\"integer\",\"min\":0,\"max\":\"unlimited\"}},"
    " \"small\":{\"type\":{\"key\":{\"type\":\"integer\",\"maxInteger\":10},"
    "           \"min\":1,\"max\":2}},"
    " \"rset\":{\"type\":{\"key\":\"real\",\"min\":0,\"max\":\"unlimited\"}},"
    " \"u\":{\"type\":{\"key\":{\"type\":\"uuid\",\"refTable\":\"A\"},"
    "       \"min\":0,\"max\":\"unlimited\"}},"
    " \"m\":{\"type\":{\"key\":\"string\",\"value\":\"string\",\"min\":0,"
    "       \"max\":\"unlimited\"}},"
    " \"e\":{\"type\":{\"key\":{\"type\":\"string\",\"enum\":[\"set\","
    "       [\"a\",\"b\"]]},\"min\":0,\"max\":\"unlimited\"}},"
    " \"name\":{\"type\":\"string\",\"mutable\":false}}}}}";

struct test_row {
    struct ovsdb_schema *schema;
    const struct ovsdb_table_schema *table;
    struct ovsdb_datum *cols;
};

/* A row of table A with every column at its default. */
static inline void
test_row_init(struct test_row *r)
{
    json_t *j = J(test_schema_json);

    expect_ok(ovsdb_schema_from_json(j, &r->schema));
    json_decref(j);
    r->table = ovsdb_schema_find_table(r->schema, "A");
    r->cols = xcalloc(r->table->n_columns, sizeof *r->cols);
    for (unsigned int i = 0; i < r->table->n_columns; i++) {
        ovsdb_datum_init_default(&r->cols[i], &r->table->columns[i]->type);
    }
}

static inline struct ovsdb_datum *
test_row_col(struct test_row *r, const char *name)
{
    const struct ovsdb_column_schema *c
        = ovsdb_table_schema_find_column(r->table, name);

    assert_non_null(c);
    return &r->cols[c->index];
}

static inline const struct ovsdb_type *
test_row_type(struct test_row *r, const char *name)
{
    return &ovsdb_table_schema_find_column(r->table, name)->type;
}

/* Sets column NAME from JSON text. */
static inline void
test_row_set(struct test_row *r, const char *name, const char *value)
{
    struct ovsdb_datum *d = test_row_col(r, name);
    const struct ovsdb_type *t = test_row_type(r, name);
    json_t *j = J(value);

    ovsdb_datum_destroy(d, t);
    expect_ok(ovsdb_datum_from_json(d, t, j, NULL));
    json_decref(j);
}

/* Asserts column NAME serialises to EXPECTED. */
static inline void
test_row_expect(struct test_row *r, const char *name, const char *expected)
{
    json_t *j = ovsdb_datum_to_json(test_row_col(r, name),
                                    test_row_type(r, name));

    expect_json_eq(j, expected);
    json_decref(j);
}

static inline void
test_row_destroy(struct test_row *r)
{
    for (unsigned int i = 0; i < r->table->n_columns; i++) {
        ovsdb_datum_destroy(&r->cols[i], &r->table->columns[i]->type);
    }
    free(r->cols);
    ovsdb_schema_destroy(r->schema);
}

#endif
