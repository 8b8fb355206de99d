/* ovsdb-execute: the ten RFC 7047 transact operations.  See ovsdb-txn.h.
 *
 * Each operation is parsed and executed against the transaction's view of
 * the database; the first failure stops the request.  Result shapes and
 * error strings follow what ovsdb-server 3.1 answers (reference §4.4/4.5). */
#include "ovsdb-txn.h"

#include <limits.h>
#include <stdarg.h>
#include <string.h>

#include "ovsdb-condition.h"
#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-mutation.h"
#include "ovsdb-schema.h"
#include "util.h"

struct exec {
    struct ovsdb *db;
    struct ovsdb_txn *txn;
    struct ovsdb_symbol_table *symtab;
    const struct ovsdb_exec_ctx *ctx;
    long long now;
    long long start;
    bool blocked;
    long long deadline;
    size_t op_idx, n_ops;       /* The operation being parsed, for errors. */
};

typedef struct ovsdb_error *op_func(struct exec *, const json_t *op,
                                    struct ovsdb_table *, json_t **resultp);

struct op_class {
    const char *name;
    op_func *execute;
    bool has_table;
    bool writes;
    const char *members[6];     /* Allowed besides "op" (and "table"). */
};

/* --- Member access with OVS-style syntax errors --- */

/* M_ID: a string that is an <id> (ovsdb_string_is_id()). */
enum member_type { M_STRING, M_ID, M_ARRAY, M_OBJECT, M_BOOLEAN, M_INTEGER };

static bool
member_type_ok(const json_t *j, enum member_type type)
{
    switch (type) {
    case M_STRING: return json_is_string(j);
    case M_ID:
        return json_is_string(j) && ovsdb_string_is_id(json_string_value(j));
    case M_ARRAY: return json_is_array(j);
    case M_OBJECT: return json_is_object(j);
    case M_BOOLEAN: return json_is_boolean(j);
    case M_INTEGER: return json_is_integer(j);
    }
    return false;
}

/* A problem with the shape of operation OP, in ovsdb-server's words:
 * "Parsing ovsdb operation I of N failed: DETAILS". */
static struct ovsdb_error *op_syntax_error(const struct exec *,
                                           const json_t *op,
                                           const char *details_fmt, ...)
    PRINTF_FORMAT(3, 4);

static struct ovsdb_error *
op_syntax_error(const struct exec *x, const json_t *op,
                const char *details_fmt, ...)
{
    va_list args;
    va_start(args, details_fmt);
    char *details = xvasprintf(details_fmt, args);
    va_end(args);
    struct ovsdb_error *error = ovsdb_syntax_error(
        op, NULL, "Parsing ovsdb operation %zu of %zu failed: %s",
        x->op_idx + 1, x->n_ops, details);
    free(details);
    return error;
}

static struct ovsdb_error *
get_member(const struct exec *x, const json_t *op, const char *name,
           enum member_type type, bool optional, const json_t **valuep)
{
    const json_t *v = json_object_get(op, name);
    *valuep = NULL;
    if (!v) {
        return optional ? NULL
               : op_syntax_error(x, op, "Required '%s' member is missing.",
                                 name);
    }
    if (!member_type_ok(v, type)) {
        return op_syntax_error(x, op, "Type mismatch for member '%s'.", name);
    }
    *valuep = v;
    return NULL;
}

static bool
member_is_allowed(const char *key, const struct op_class *oc)
{
    bool ok = !strcmp(key, "op") || (oc->has_table && !strcmp(key, "table"));
    for (size_t i = 0; !ok && i < ARRAY_SIZE(oc->members) && oc->members[i];
         i++) {
        ok = !strcmp(key, oc->members[i]);
    }
    return ok;
}

/* Checked after the operation ran, as ovsdb-server does.  With several
 * unknown members it names the first in OP's order (ovsdb-server: the first
 * in its hash order) and counts the others as it does. */
static struct ovsdb_error *
check_members(const struct exec *x, const json_t *op,
              const struct op_class *oc)
{
    const char *key, *first = NULL;
    json_t *value;
    size_t n_unknown = 0;
    json_object_foreach ((json_t *) op, key, value) {
        if (!member_is_allowed(key, oc)) {
            first = first ? first : key;
            n_unknown++;
        }
    }
    if (n_unknown > 1) {
        return op_syntax_error(x, op, "Member '%s' and %zu other member%s "
                               "are present but not allowed here.", first,
                               n_unknown - 1, n_unknown > 2 ? "s" : "");
    } else if (n_unknown) {
        return op_syntax_error(x, op, "Member '%s' is present but not "
                               "allowed here.", first);
    }
    return NULL;
}

/* --- Rows and column lists --- */

/* Parses the <row> ROW_JSON of TABLE into a new detached row, the columns it
 * names set in *COLUMNSP (caller frees).  IS_UPDATE rejects immutable
 * columns; constraints of the named columns are checked. */
static struct ovsdb_error *
parse_row(struct exec *x, const json_t *op, const json_t *row_json,
          struct ovsdb_table *table, bool is_update, struct ovsdb_row **rowp,
          unsigned long **columnsp)
{
    const struct ovsdb_table_schema *ts = table->schema;
    struct uuid zero;
    uuid_zero(&zero);
    struct ovsdb_row *row = ovsdb_row_create(table, &zero);
    unsigned long *columns = ovsdb_bitmap_create(ts->n_columns);
    struct ovsdb_error *error = NULL;
    const char *key;
    json_t *value;

    json_object_foreach ((json_t *) row_json, key, value) {
        const struct ovsdb_column_schema *c
            = ovsdb_table_schema_find_column(ts, key);
        if (!c) {
            error = ovsdb_syntax_error(row_json, "unknown column",
                                       "No column %s in table %s.",
                                       key, ts->name);
            break;
        }
        struct ovsdb_datum d;
        error = ovsdb_datum_from_json(&d, &c->type, value, x->symtab);
        if (error) {
            break;
        }
        error = ovsdb_datum_check_constraints(&d, &c->type);
        ovsdb_datum_swap(&d, &row->columns[c->index]);
        ovsdb_datum_destroy(&d, &c->type);
        if (error) {
            break;
        }
        ovsdb_bitmap_set(columns, c->index);
    }
    if (!error && is_update) {
        /* After every value parsed, as ovsdb-server checks. */
        json_object_foreach ((json_t *) row_json, key, value) {
            const struct ovsdb_column_schema *c
                = ovsdb_table_schema_find_column(ts, key);
            if (!c->mutable_ || c->index < OVSDB_N_IMPLICIT_COLUMNS) {
                error = ovsdb_syntax_error(op, "constraint violation",
                                           "Cannot update immutable column "
                                           "%s in table %s.", c->name,
                                           ts->name);
                break;
            }
        }
    }
    if (error) {
        ovsdb_row_destroy(row);
        free(columns);
        return error;
    }
    *rowp = row;
    *columnsp = columns;
    return NULL;
}

/* Parses a list of column names into a bitmap (all columns if LIST is
 * NULL). */
static struct ovsdb_error *
parse_columns(const json_t *list, const struct ovsdb_table_schema *ts,
              unsigned long **columnsp)
{
    unsigned long *columns = ovsdb_bitmap_create(ts->n_columns);
    if (!list) {
        for (unsigned int i = 0; i < ts->n_columns; i++) {
            ovsdb_bitmap_set(columns, i);
        }
    } else {
        size_t i;
        json_t *name;
        json_array_foreach (list, i, name) {
            const struct ovsdb_column_schema *c = json_is_string(name)
                ? ovsdb_table_schema_find_column(ts, json_string_value(name))
                : NULL;
            struct ovsdb_error *error = NULL;
            if (json_is_string(name) && !c) {
                error = ovsdb_syntax_error(list, NULL, "%s is not a valid "
                                           "column name",
                                           json_string_value(name));
            } else if (!c || ovsdb_bitmap_is_set(columns, c->index)) {
                error = ovsdb_syntax_error(list, NULL, "array of distinct "
                                           "column names expected");
            }
            if (error) {
                free(columns);
                return error;
            }
            ovsdb_bitmap_set(columns, c->index);
        }
    }
    *columnsp = columns;
    return NULL;
}

/* --- Row selection --- */

struct row_vec {
    const struct ovsdb_row **rows;
    size_t n, allocated;
};

static void
row_vec_add(struct row_vec *v, const struct ovsdb_row *row)
{
    if (v->n >= v->allocated) {
        v->rows = x2nrealloc(v->rows, &v->allocated, sizeof *v->rows);
    }
    v->rows[v->n++] = row;
}

struct match_aux {
    const struct ovsdb_condition *cond;
    struct row_vec *v;
};

static void
match_cb(const struct ovsdb_row *row, void *aux_)
{
    struct match_aux *aux = aux_;
    if (ovsdb_condition_evaluate(aux->cond, row->columns)) {
        row_vec_add(aux->v, row);
    }
}

/* Uses a unique index whose every column the condition compares with "=="
 * to narrow the candidates to one database row plus the rows this
 * transaction changed.  Returns false if no index applies. */
static bool
select_by_index(struct exec *x, struct ovsdb_table *table,
                const struct ovsdb_condition *cond, struct row_vec *v)
{
    const struct ovsdb_table_schema *ts = table->schema;
    for (unsigned int i = 0; i < ts->n_indexes; i++) {
        unsigned int n = ts->index_sizes[i];
        struct ovsdb_datum *keys = xcalloc(n, sizeof *keys);
        unsigned int j;
        for (j = 0; j < n; j++) {
            const struct ovsdb_datum *d
                = ovsdb_condition_find_eq(cond, ts->indexes[i][j]);
            if (!d) {
                break;
            }
            keys[j] = *d;       /* Shallow: only read. */
        }
        if (j == n) {
            const struct ovsdb_row *row
                = ovsdb_table_find_by_index(table, i, keys);
            free(keys);
            if (row && !ovsdb_txn_row_is_changed(x->txn, table, &row->uuid)
                && ovsdb_condition_evaluate(cond, row->columns)) {
                row_vec_add(v, row);
            }
            struct match_aux aux = { cond, v };
            ovsdb_txn_for_each_changed_row(x->txn, table, match_cb, &aux);
            return true;
        }
        free(keys);
    }
    return false;
}

/* Collects the rows of TABLE (as the transaction sees them) that satisfy
 * COND: O(1) for "_uuid == X", an index probe for equality on every column
 * of an index, a scan otherwise. */
static void
select_rows(struct exec *x, struct ovsdb_table *table,
            const struct ovsdb_condition *cond, struct row_vec *v)
{
    struct uuid uuid;
    if (ovsdb_condition_get_uuid_eq(cond, &uuid)) {
        const struct ovsdb_row *row = ovsdb_txn_get_row(x->txn, table, &uuid);
        if (row && ovsdb_condition_evaluate(cond, row->columns)) {
            row_vec_add(v, row);
        }
        return;
    }
    if (ovsdb_condition_is_false(cond) || select_by_index(x, table, cond, v)) {
        return;
    }
    struct match_aux aux = { cond, v };
    ovsdb_txn_for_each_row(x->txn, table, match_cb, &aux);
}

static struct ovsdb_error *
parse_where(struct exec *x, const json_t *op, struct ovsdb_table *table,
            struct ovsdb_condition **condp)
{
    const json_t *where;
    struct ovsdb_error *error = get_member(x, op, "where", M_ARRAY, false,
                                           &where);
    if (!error) {
        error = ovsdb_condition_from_json(table->schema, where, x->symtab,
                                          condp);
    }
    return error;
}

/* --- Operations --- */

static struct ovsdb_error *
execute_insert(struct exec *x, const json_t *op, struct ovsdb_table *table,
               json_t **resultp)
{
    const json_t *row_json, *uuid_name, *uuid_json;
    struct ovsdb_error *error;
    struct uuid uuid;

    if ((error = get_member(x, op, "row", M_OBJECT, false, &row_json))
        || (error = get_member(x, op, "uuid-name", M_ID, true, &uuid_name))
        || (error = get_member(x, op, "uuid", M_STRING, true, &uuid_json))) {
        return error;
    }
    if (uuid_json) {
        if (!uuid_from_string(&uuid, json_string_value(uuid_json))) {
            return ovsdb_syntax_error(uuid_json, NULL, "bad uuid");
        }
        if (ovsdb_txn_uuid_in_use(x->txn, table, &uuid)) {
            return ovsdb_syntax_error(uuid_json, "duplicate uuid",
                                      "This UUID would duplicate a UUID "
                                      "already present within the table or "
                                      "deleted within the same transaction.");
        }
    }
    if (uuid_name) {
        const char *name = json_string_value(uuid_name);
        struct ovsdb_symbol *sym = ovsdb_symbol_table_get(x->symtab, name);
        if (sym && sym->created) {
            return ovsdb_syntax_error(uuid_name, "duplicate uuid-name",
                                      "This \"uuid-name\" appeared on an "
                                      "earlier \"insert\" operation.");
        }
        sym = ovsdb_symbol_table_insert(x->symtab, name);
        if (uuid_json) {
            sym->uuid = uuid;
        } else {
            uuid = sym->uuid;
        }
        sym->created = true;
    } else if (!uuid_json) {
        uuid_generate(&uuid);
    }

    struct ovsdb_row *parsed;
    unsigned long *columns;
    error = parse_row(x, op, row_json, table, false, &parsed, &columns);
    if (error) {
        return error;
    }
    const struct ovsdb_table_schema *ts = table->schema;
    struct ovsdb_row *row = ovsdb_txn_insert(x->txn, table, &uuid);
    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < ts->n_columns; i++) {
        if (ovsdb_bitmap_is_set(columns, i)) {
            ovsdb_datum_swap(&row->columns[i], &parsed->columns[i]);
        } else if (!error) {
            /* Defaults can violate constraints (e.g. an enum). */
            error = ovsdb_datum_check_constraints(&row->columns[i],
                                                  &ts->columns[i]->type);
        }
    }
    ovsdb_row_destroy(parsed);
    free(columns);
    if (!error) {
        union ovsdb_atom atom = { .uuid = uuid };
        *resultp = json_pack("{s:o}", "uuid",
                             ovsdb_atom_to_json(&atom, OVSDB_TYPE_UUID));
    }
    return error;
}

static struct ovsdb_error *
execute_select(struct exec *x, const json_t *op, struct ovsdb_table *table,
               json_t **resultp)
{
    const json_t *columns_json;
    struct ovsdb_condition *cond = NULL;
    unsigned long *columns = NULL;
    struct ovsdb_error *error = parse_where(x, op, table, &cond);
    if (!error) {
        error = get_member(x, op, "columns", M_ARRAY, true, &columns_json);
    }
    if (!error) {
        error = parse_columns(columns_json, table->schema, &columns);
    }
    if (!error) {
        struct row_vec v = { NULL, 0, 0 };
        select_rows(x, table, cond, &v);
        json_t *rows = json_array();
        for (size_t i = 0; i < v.n; i++) {
            json_array_append_new(rows, ovsdb_row_to_json(v.rows[i], columns));
        }
        free(v.rows);
        *resultp = json_pack("{s:o}", "rows", rows);
    }
    free(columns);
    ovsdb_condition_destroy(cond);
    return error;
}

static struct ovsdb_error *
execute_update(struct exec *x, const json_t *op, struct ovsdb_table *table,
               json_t **resultp)
{
    const json_t *row_json;
    struct ovsdb_condition *cond = NULL;
    struct ovsdb_row *parsed = NULL;
    unsigned long *columns = NULL;
    struct ovsdb_error *error = get_member(x, op, "row", M_OBJECT, false,
                                           &row_json);
    if (!error) {
        error = parse_row(x, op, row_json, table, true, &parsed, &columns);
    }
    if (!error) {
        error = parse_where(x, op, table, &cond);
    }
    if (!error) {
        const struct ovsdb_table_schema *ts = table->schema;
        struct row_vec v = { NULL, 0, 0 };
        select_rows(x, table, cond, &v);
        for (size_t i = 0; i < v.n; i++) {
            struct ovsdb_row *w = ovsdb_txn_modify(x->txn, v.rows[i]);
            for (unsigned int c = OVSDB_N_IMPLICIT_COLUMNS;
                 c < ts->n_columns; c++) {
                if (ovsdb_bitmap_is_set(columns, c)) {
                    const struct ovsdb_type *type = &ts->columns[c]->type;
                    ovsdb_datum_destroy(&w->columns[c], type);
                    ovsdb_datum_clone(&w->columns[c], &parsed->columns[c],
                                      type);
                }
            }
        }
        *resultp = json_pack("{s:I}", "count", (json_int_t) v.n);
        free(v.rows);
    }
    ovsdb_condition_destroy(cond);
    ovsdb_row_destroy(parsed);
    free(columns);
    return error;
}

static struct ovsdb_error *
execute_mutate(struct exec *x, const json_t *op, struct ovsdb_table *table,
               json_t **resultp)
{
    const json_t *mutations_json;
    struct ovsdb_condition *cond = NULL;
    struct ovsdb_mutation_set *mutations = NULL;
    struct ovsdb_error *error = get_member(x, op, "mutations", M_ARRAY, false,
                                           &mutations_json);
    if (!error) {
        error = ovsdb_mutation_set_from_json(table->schema, mutations_json,
                                             x->symtab, &mutations);
    }
    if (!error) {
        error = parse_where(x, op, table, &cond);
    }
    if (!error) {
        struct row_vec v = { NULL, 0, 0 };
        select_rows(x, table, cond, &v);
        for (size_t i = 0; i < v.n && !error; i++) {
            struct ovsdb_row *w = ovsdb_txn_modify(x->txn, v.rows[i]);
            error = ovsdb_mutation_set_execute(mutations, w->columns);
        }
        if (!error) {
            *resultp = json_pack("{s:I}", "count", (json_int_t) v.n);
        }
        free(v.rows);
    }
    ovsdb_condition_destroy(cond);
    ovsdb_mutation_set_destroy(mutations);
    return error;
}

static struct ovsdb_error *
execute_delete(struct exec *x, const json_t *op, struct ovsdb_table *table,
               json_t **resultp)
{
    struct ovsdb_condition *cond = NULL;
    struct ovsdb_error *error = parse_where(x, op, table, &cond);
    if (!error) {
        struct row_vec v = { NULL, 0, 0 };
        select_rows(x, table, cond, &v);
        for (size_t i = 0; i < v.n; i++) {
            ovsdb_txn_delete(x->txn, v.rows[i]);
        }
        *resultp = json_pack("{s:I}", "count", (json_int_t) v.n);
        free(v.rows);
    }
    ovsdb_condition_destroy(cond);
    return error;
}

static bool
rows_equal_on(const struct ovsdb_row *a, const struct ovsdb_row *b,
              const unsigned long *columns)
{
    const struct ovsdb_table_schema *ts = a->table->schema;
    for (unsigned int i = 0; i < ts->n_columns; i++) {
        if (ovsdb_bitmap_is_set(columns, i)
            && !ovsdb_datum_equals(&a->columns[i], &b->columns[i],
                                   &ts->columns[i]->type)) {
            return false;
        }
    }
    return true;
}

/* True if every row of A equals some row of B on COLUMNS. */
static bool
rows_contained(const struct ovsdb_row *const *a, size_t n_a,
               const struct ovsdb_row *const *b, size_t n_b,
               const unsigned long *columns)
{
    for (size_t i = 0; i < n_a; i++) {
        size_t j;
        for (j = 0; j < n_b && !rows_equal_on(a[i], b[j], columns); j++) {
            continue;
        }
        if (j == n_b) {
            return false;
        }
    }
    return true;
}

static struct ovsdb_error *
wait_parse(struct exec *x, const json_t *op, struct ovsdb_table *table,
           const json_t **rows_json, bool *until_eq, long long *timeout)
{
    const json_t *until, *timeout_json;
    struct ovsdb_error *error;
    if ((error = get_member(x, op, "timeout", M_INTEGER, true, &timeout_json))
        || (error = get_member(x, op, "rows", M_ARRAY, false, rows_json))
        || (error = get_member(x, op, "until", M_STRING, false, &until))) {
        return error;
    }
    const char *u = json_string_value(until);
    if (strcmp(u, "==") && strcmp(u, "!=")) {
        return ovsdb_syntax_error(until, NULL,
                                  "\"until\" must be \"==\" or \"!=\"");
    }
    *until_eq = !strcmp(u, "==");
    *timeout = timeout_json ? json_integer_value(timeout_json) : -1;
    if (timeout_json && *timeout < 0) {
        return ovsdb_syntax_error(timeout_json, NULL,
                                  "\"timeout\" must be nonnegative");
    }
    return NULL;
}

static struct ovsdb_error *
execute_wait(struct exec *x, const json_t *op, struct ovsdb_table *table,
             json_t **resultp)
{
    const json_t *rows_json, *columns_json;
    bool until_eq = true;
    long long timeout = -1;
    struct ovsdb_condition *cond = NULL;
    unsigned long *columns = NULL;
    struct row_vec expected = { NULL, 0, 0 }, actual = { NULL, 0, 0 };

    struct ovsdb_error *error = wait_parse(x, op, table, &rows_json,
                                           &until_eq, &timeout);
    if (!error) {
        error = parse_where(x, op, table, &cond);
    }
    if (!error) {
        error = get_member(x, op, "columns", M_ARRAY, true, &columns_json);
    }
    if (!error) {
        error = parse_columns(columns_json, table->schema, &columns);
    }
    for (size_t i = 0; !error && i < json_array_size(rows_json); i++) {
        const json_t *rj = json_array_get(rows_json, i);
        struct ovsdb_row *row;
        unsigned long *given;
        if (!json_is_object(rj)) {
            error = ovsdb_syntax_error(rj, NULL, "\"rows\" must be an array "
                                       "of <row> objects");
            break;
        }
        error = parse_row(x, op, rj, table, false, &row, &given);
        if (!error) {
            free(given);
            row_vec_add(&expected, row);
        }
    }
    if (!error) {
        select_rows(x, table, cond, &actual);
        bool eq = rows_contained(actual.rows, actual.n, expected.rows,
                                 expected.n, columns)
                  && rows_contained(expected.rows, expected.n, actual.rows,
                                    actual.n, columns);
        if (eq == until_eq) {
            *resultp = json_object();
        } else if (timeout == 0) {
            error = ovsdb_error("timed out", "\"where\" clause test failed");
        } else if (timeout > 0 && x->now >= x->start + timeout) {
            error = ovsdb_error("timed out", "\"wait\" timed out after %lld ms",
                                x->now - x->start);
        } else {
            x->blocked = true;
            x->deadline = timeout > 0 ? x->start + timeout : LLONG_MAX;
        }
    }
    for (size_t i = 0; i < expected.n; i++) {
        ovsdb_row_destroy((struct ovsdb_row *) expected.rows[i]);
    }
    free(expected.rows);
    free(actual.rows);
    free(columns);
    ovsdb_condition_destroy(cond);
    return error;
}

static struct ovsdb_error *
execute_commit(struct exec *x, const json_t *op, struct ovsdb_table *table,
               json_t **resultp)
{
    const json_t *durable;
    struct ovsdb_error *error = get_member(x, op, "durable", M_BOOLEAN, false,
                                           &durable);
    if (!error) {
        if (json_is_true(durable)) {
            ovsdb_txn_set_durable(x->txn);
        }
        *resultp = json_object();
    }
    return error;
}

static struct ovsdb_error *
execute_abort(struct exec *x, const json_t *op, struct ovsdb_table *table,
              json_t **resultp)
{
    return ovsdb_error("aborted", "aborted by request");
}

static struct ovsdb_error *
execute_comment(struct exec *x, const json_t *op, struct ovsdb_table *table,
                json_t **resultp)
{
    const json_t *comment;
    struct ovsdb_error *error = get_member(x, op, "comment", M_STRING, false,
                                           &comment);
    if (!error) {
        /* ovsdb-server logs a comment's bytes as they came; the log must
         * stay UTF-8, so bytes that are not are kept as U+FFFD. */
        char *text = ovsdb_utf8_sanitize(json_string_value(comment));
        ovsdb_txn_add_comment(x->txn, text);
        free(text);
        *resultp = json_object();
    }
    return error;
}

static struct ovsdb_error *
execute_assert(struct exec *x, const json_t *op, struct ovsdb_table *table,
               json_t **resultp)
{
    const json_t *lock;
    struct ovsdb_error *error = get_member(x, op, "lock", M_ID, false, &lock);
    if (!error) {
        const char *name = json_string_value(lock);
        if (x->ctx->has_lock && x->ctx->has_lock(name, x->ctx->aux)) {
            *resultp = json_object();
        } else {
            error = ovsdb_error("not owner", "Asserted lock %s not held.",
                                name);
        }
    }
    return error;
}

static const struct op_class op_classes[] = {
    { "insert", execute_insert, true, true, { "row", "uuid-name", "uuid" } },
    { "select", execute_select, true, false, { "where", "columns" } },
    { "update", execute_update, true, true, { "where", "row" } },
    { "mutate", execute_mutate, true, true, { "where", "mutations" } },
    { "delete", execute_delete, true, true, { "where" } },
    { "wait", execute_wait, true, false,
      { "where", "columns", "until", "rows", "timeout" } },
    { "commit", execute_commit, false, false, { "durable" } },
    { "abort", execute_abort, false, false, { NULL } },
    { "comment", execute_comment, false, false, { "comment" } },
    { "assert", execute_assert, false, false, { "lock" } },
};

/* Identifies the operation and its table. */
static struct ovsdb_error *
parse_op(struct exec *x, const json_t *op, const struct op_class **ocp,
         struct ovsdb_table **tablep)
{
    const json_t *name, *table_name;
    struct ovsdb_error *error;
    *tablep = NULL;
    if (!json_is_object(op)) {
        return op_syntax_error(x, NULL, "Object expected.");
    }
    if ((error = get_member(x, op, "op", M_ID, false, &name))) {
        return error;
    }
    const struct op_class *oc = NULL;
    for (size_t i = 0; i < ARRAY_SIZE(op_classes); i++) {
        if (!strcmp(json_string_value(name), op_classes[i].name)) {
            oc = &op_classes[i];
        }
    }
    if (!oc) {
        return op_syntax_error(x, op, "No operation \"%s\"",
                               json_string_value(name));
    }
    if (oc->has_table) {
        if ((error = get_member(x, op, "table", M_ID, false, &table_name))) {
            return error;
        }
        *tablep = ovsdb_find_table(x->db, json_string_value(table_name));
        if (!*tablep) {
            return op_syntax_error(x, op, "No table named %s.",
                                   json_string_value(table_name));
        }
    }
    *ocp = oc;
    return NULL;
}

static struct ovsdb_error *
execute_op(struct exec *x, const json_t *op, size_t idx, size_t n,
           json_t **resultp)
{
    const struct op_class *oc = NULL;
    struct ovsdb_table *table;
    x->op_idx = idx;
    x->n_ops = n;
    struct ovsdb_error *error = parse_op(x, op, &oc, &table);
    if (error) {
        return error;
    }
    if (oc->writes && x->ctx->reserved_db) {
        return ovsdb_error("not allowed", "%s operation not allowed on table "
                           "in reserved database %s", oc->name,
                           x->ctx->reserved_db);
    }
    if (oc->writes && x->ctx->read_only) {
        return ovsdb_error("not allowed", "%s operation not allowed when "
                           "database server is in read only mode", oc->name);
    }
    error = oc->execute(x, op, table, resultp);
    if (!error && !x->blocked) {
        error = check_members(x, op, oc);
        if (error) {
            json_decref(*resultp);
            *resultp = NULL;
        }
    }
    return error;
}

enum ovsdb_exec_status
ovsdb_execute(struct ovsdb *db, const json_t *ops,
              const struct ovsdb_exec_ctx *ctx, long long now_msec,
              long long *deadlinep, json_t **resultp, struct ovsdb_txn **txnp)
{
    static const struct ovsdb_exec_ctx default_ctx;
    if (!ctx) {
        ctx = &default_ctx;
    }
    struct exec x = {
        .db = db,
        .txn = ovsdb_txn_create(db),
        .symtab = ovsdb_symbol_table_create(),
        .ctx = ctx,
        .now = now_msec,
        .start = ctx->start_msec ? ctx->start_msec : now_msec,
        .deadline = LLONG_MAX,
    };
    size_t n = json_is_array(ops) ? json_array_size(ops) : 0;
    json_t *results = json_array();
    struct ovsdb_error *error = NULL;

    *deadlinep = LLONG_MAX;
    *resultp = NULL;
    *txnp = NULL;
    if (!json_is_array(ops)) {
        error = ovsdb_syntax_error(ops, NULL, "transact operations must be "
                                   "an array");
        json_array_append_new(results, ovsdb_error_to_json(error));
    }
    for (size_t i = 0; !error && i < n; i++) {
        json_t *result = NULL;
        error = execute_op(&x, json_array_get(ops, i), i, n, &result);
        if (x.blocked) {
            ovsdb_error_destroy(error);
            json_decref(result);
            json_decref(results);
            ovsdb_txn_abort(x.txn);
            ovsdb_symbol_table_destroy(x.symtab);
            *deadlinep = x.deadline;
            return OVSDB_EXEC_BLOCKED;
        }
        json_array_append_new(results, error ? ovsdb_error_to_json(error)
                                             : result);
    }
    if (!error) {
        /* A named-uuid that no insert defines got a fresh uuid: in a strong
         * reference the integrity check reports it, a weak one is dropped
         * and a condition matches nothing, as ovsdb-server 3.1 does. */
        error = ovsdb_txn_finish(x.txn);
        if (error) {
            json_array_append_new(results, ovsdb_error_to_json(error));
        }
    }
    while (json_array_size(results) < n) {
        json_array_append_new(results, json_null());
    }

    if (error || ovsdb_txn_is_empty(x.txn)) {
        ovsdb_txn_abort(x.txn);
    } else {
        *txnp = x.txn;
    }
    ovsdb_error_destroy(error);
    ovsdb_symbol_table_destroy(x.symtab);
    *resultp = results;
    return OVSDB_EXEC_DONE;
}
