#include "ovsdb-condition.h"

#include <string.h>

#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "util.h"

struct ovsdb_clause {
    enum ovsdb_function function;
    const struct ovsdb_column_schema *column;   /* NULL for literals. */
    struct ovsdb_type arg_type;     /* Shallow copy of the column type as
                                     * relaxed for this function. */
    struct ovsdb_datum arg;
};

struct ovsdb_condition {
    const struct ovsdb_table_schema *table;
    struct ovsdb_clause *clauses;
    size_t n_clauses;
};

static const char *const function_names[] = {
    [OVSDB_F_FALSE] = NULL,
    [OVSDB_F_TRUE] = NULL,
    [OVSDB_F_EQ] = "==",
    [OVSDB_F_NE] = "!=",
    [OVSDB_F_LT] = "<",
    [OVSDB_F_LE] = "<=",
    [OVSDB_F_GT] = ">",
    [OVSDB_F_GE] = ">=",
    [OVSDB_F_INCLUDES] = "includes",
    [OVSDB_F_EXCLUDES] = "excludes",
};

const char *
ovsdb_function_to_string(enum ovsdb_function f)
{
    return (size_t) f < ARRAY_SIZE(function_names) ? function_names[f] : NULL;
}

static bool
function_from_string(const char *s, enum ovsdb_function *f)
{
    for (size_t i = OVSDB_F_EQ; i < ARRAY_SIZE(function_names); i++) {
        if (!strcmp(s, function_names[i])) {
            *f = i;
            return true;
        }
    }
    return false;
}

static struct ovsdb_error *
type_mismatch(const json_t *clause, const char *op,
              const struct ovsdb_column_schema *column)
{
    char *english = ovsdb_type_to_english(&column->type);
    struct ovsdb_error *error = ovsdb_syntax_error(
        clause, NULL, "Type mismatch: \"%s\" operator may not be applied to "
        "column %s of type %s.", op, column->name, english);

    free(english);
    return error;
}

/* Works out the type the clause's value must have. */
static struct ovsdb_error *
clause_arg_type(struct ovsdb_clause *c, const json_t *json)
{
    const struct ovsdb_type *ct = &c->column->type;

    c->arg_type = *ct;
    switch (c->function) {
    case OVSDB_F_LT:
    case OVSDB_F_LE:
    case OVSDB_F_GT:
    case OVSDB_F_GE:
        if (ovsdb_type_is_map(ct) || ct->n_max != 1
            || (ct->key.type != OVSDB_TYPE_INTEGER
                && ct->key.type != OVSDB_TYPE_REAL)) {
            return type_mismatch(json, function_names[c->function],
                                 c->column);
        }
        /* The constant is always one number, even for an optional column. */
        c->arg_type.n_min = 1;
        break;
    case OVSDB_F_INCLUDES:
    case OVSDB_F_EXCLUDES:
        /* Any subset of a valid set or map is a meaningful constant here
         * (ovsdb-server keeps the bounds of scalars). */
        if (!ovsdb_type_is_scalar(ct)) {
            c->arg_type.n_min = 0;
        }
        break;
    case OVSDB_F_EQ:
    case OVSDB_F_NE:
    case OVSDB_F_FALSE:
    case OVSDB_F_TRUE:
        break;
    }
    return NULL;
}

static struct ovsdb_error *
clause_from_json(const struct ovsdb_table_schema *table, const json_t *json,
                 struct ovsdb_symbol_table *symtab, struct ovsdb_clause *c)
{
    const json_t *cj = json_array_get(json, 0), *fj = json_array_get(json, 1);
    struct ovsdb_error *error;

    memset(c, 0, sizeof *c);
    if (json_is_boolean(json)) {
        c->function = json_is_true(json) ? OVSDB_F_TRUE : OVSDB_F_FALSE;
        return NULL;
    }
    if (!json_is_array(json) || json_array_size(json) != 3
        || !json_is_string(cj) || !json_is_string(fj)) {
        return ovsdb_syntax_error(json, NULL, "Parse error in condition.");
    }
    c->column = ovsdb_table_schema_find_column(table, json_string_value(cj));
    if (!c->column) {
        return ovsdb_syntax_error(json, "unknown column",
                                  "No column %s in table %s.",
                                  json_string_value(cj), table->name);
    }
    if (!function_from_string(json_string_value(fj), &c->function)) {
        return ovsdb_error("unknown function", "No function named %s.",
                           json_string_value(fj));
    }
    error = clause_arg_type(c, json);
    if (!error) {
        error = ovsdb_datum_from_json(&c->arg, &c->arg_type,
                                      json_array_get(json, 2), symtab);
    }
    return error;
}

struct ovsdb_error *
ovsdb_condition_from_json(const struct ovsdb_table_schema *table,
                          const json_t *json,
                          struct ovsdb_symbol_table *symtab,
                          struct ovsdb_condition **condp)
{
    struct ovsdb_condition *cond;

    *condp = NULL;
    if (!json_is_array(json)) {
        return ovsdb_syntax_error(json, NULL, "Parse error in condition.");
    }
    cond = ovsdb_condition_create_true(table);
    cond->clauses = xcalloc(json_array_size(json) + 1,
                            sizeof *cond->clauses);
    for (size_t i = 0; i < json_array_size(json); i++) {
        struct ovsdb_error *error;

        error = clause_from_json(table, json_array_get(json, i), symtab,
                                 &cond->clauses[i]);
        if (error) {
            ovsdb_condition_destroy(cond);
            return error;
        }
        cond->n_clauses++;
    }
    *condp = cond;
    return NULL;
}

struct ovsdb_condition *
ovsdb_condition_create_true(const struct ovsdb_table_schema *table)
{
    struct ovsdb_condition *cond = xzalloc(sizeof *cond);

    cond->table = table;
    return cond;
}

json_t *
ovsdb_condition_to_json(const struct ovsdb_condition *cond)
{
    json_t *j = json_array();

    for (size_t i = 0; i < cond->n_clauses; i++) {
        const struct ovsdb_clause *c = &cond->clauses[i];

        if (!c->column) {
            json_array_append_new(j, json_boolean(c->function
                                                  == OVSDB_F_TRUE));
            continue;
        }
        json_array_append_new(j, json_pack(
            "[s s o]", c->column->name, function_names[c->function],
            ovsdb_datum_to_json(&c->arg, &c->arg_type)));
    }
    return j;
}

void
ovsdb_condition_destroy(struct ovsdb_condition *cond)
{
    if (!cond) {
        return;
    }
    for (size_t i = 0; i < cond->n_clauses; i++) {
        ovsdb_datum_destroy(&cond->clauses[i].arg, &cond->clauses[i].arg_type);
    }
    free(cond->clauses);
    free(cond);
}

/* <, <=, >, >= on a column with at most one number. */
static bool
evaluate_order(const struct ovsdb_clause *c, const struct ovsdb_datum *v)
{
    int cmp;

    if (!v->n) {
        return false;
    }
    cmp = ovsdb_atom_compare_3way(&v->keys[0], &c->arg.keys[0],
                                  c->arg_type.key.type);
    switch (c->function) {
    case OVSDB_F_LT:
        return cmp < 0;
    case OVSDB_F_LE:
        return cmp <= 0;
    case OVSDB_F_GT:
        return cmp > 0;
    case OVSDB_F_GE:
        return cmp >= 0;
    default:
        return false;
    }
}

static bool
evaluate_clause(const struct ovsdb_clause *c, const struct ovsdb_datum *row)
{
    const struct ovsdb_datum *v = c->column ? &row[c->column->index] : NULL;

    switch (c->function) {
    case OVSDB_F_FALSE:
        return false;
    case OVSDB_F_TRUE:
        return true;
    case OVSDB_F_EQ:
        return ovsdb_datum_equals(v, &c->arg, &c->arg_type);
    case OVSDB_F_NE:
        return !ovsdb_datum_equals(v, &c->arg, &c->arg_type);
    case OVSDB_F_INCLUDES:
        return ovsdb_datum_includes_all(&c->arg, v, &c->arg_type);
    case OVSDB_F_EXCLUDES:
        return ovsdb_datum_excludes_all(&c->arg, v, &c->arg_type);
    case OVSDB_F_LT:
    case OVSDB_F_LE:
    case OVSDB_F_GT:
    case OVSDB_F_GE:
        return evaluate_order(c, v);
    }
    return false;
}

bool
ovsdb_condition_evaluate(const struct ovsdb_condition *cond,
                         const struct ovsdb_datum *row_columns)
{
    for (size_t i = 0; i < cond->n_clauses; i++) {
        if (!evaluate_clause(&cond->clauses[i], row_columns)) {
            return false;
        }
    }
    return true;
}

bool
ovsdb_condition_is_true(const struct ovsdb_condition *cond)
{
    for (size_t i = 0; i < cond->n_clauses; i++) {
        if (cond->clauses[i].function != OVSDB_F_TRUE) {
            return false;
        }
    }
    return true;
}

bool
ovsdb_condition_is_false(const struct ovsdb_condition *cond)
{
    for (size_t i = 0; i < cond->n_clauses; i++) {
        if (cond->clauses[i].function == OVSDB_F_FALSE) {
            return true;
        }
    }
    return false;
}

size_t
ovsdb_condition_n_clauses(const struct ovsdb_condition *cond)
{
    return cond->n_clauses;
}

void
ovsdb_condition_mark_columns(const struct ovsdb_condition *cond,
                             unsigned long *bitmap)
{
    const size_t bits = sizeof *bitmap * 8;

    for (size_t i = 0; i < cond->n_clauses; i++) {
        const struct ovsdb_column_schema *col = cond->clauses[i].column;

        if (col) {
            bitmap[col->index / bits] |= 1UL << (col->index % bits);
        }
    }
}

const struct ovsdb_datum *
ovsdb_condition_find_eq(const struct ovsdb_condition *cond,
                        unsigned int column_idx)
{
    for (size_t i = 0; i < cond->n_clauses; i++) {
        const struct ovsdb_clause *c = &cond->clauses[i];

        if (c->function == OVSDB_F_EQ && c->column
            && c->column->index == column_idx) {
            return &c->arg;
        }
    }
    return NULL;
}

bool
ovsdb_condition_get_uuid_eq(const struct ovsdb_condition *cond,
                            struct uuid *uuid)
{
    const struct ovsdb_datum *d = ovsdb_condition_find_eq(cond,
                                                          OVSDB_COL_UUID);

    if (d && d->n == 1) {
        *uuid = d->keys[0].uuid;
        return true;
    }
    return false;
}
