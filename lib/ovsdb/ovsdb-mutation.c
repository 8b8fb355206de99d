#include "ovsdb-mutation.h"

#include <math.h>
#include <string.h>

#include "ovsdb-data.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "util.h"

struct ovsdb_mutation {
    const struct ovsdb_column_schema *column;
    enum ovsdb_mutator mutator;
    struct ovsdb_type arg_type;     /* Owned. */
    struct ovsdb_datum arg;
};

struct ovsdb_mutation_set {
    const struct ovsdb_table_schema *table;
    struct ovsdb_mutation *mutations;
    size_t n;
};

static const char *const mutator_names[] = {
    [OVSDB_M_ADD] = "+=",
    [OVSDB_M_SUB] = "-=",
    [OVSDB_M_MUL] = "*=",
    [OVSDB_M_DIV] = "/=",
    [OVSDB_M_MOD] = "%=",
    [OVSDB_M_INSERT] = "insert",
    [OVSDB_M_DELETE] = "delete",
};

const char *
ovsdb_mutator_to_string(enum ovsdb_mutator m)
{
    return (size_t) m < ARRAY_SIZE(mutator_names) ? mutator_names[m] : NULL;
}

static bool
mutator_from_string(const char *s, enum ovsdb_mutator *m)
{
    for (size_t i = 0; i < ARRAY_SIZE(mutator_names); i++) {
        if (!strcmp(s, mutator_names[i])) {
            *m = i;
            return true;
        }
    }
    return false;
}

static struct ovsdb_error *
type_mismatch(const json_t *json, const struct ovsdb_mutation *m)
{
    char *english = ovsdb_type_to_english(&m->column->type);
    struct ovsdb_error *error = ovsdb_syntax_error(
        json, NULL, "Type mismatch: \"%s\" operator may not be applied to "
        "column %s of type %s.", mutator_names[m->mutator], m->column->name,
        english);

    free(english);
    return error;
}

static bool
is_tagged(const json_t *json, const char *tag)
{
    const json_t *first = json_array_get(json, 0);

    return json_is_array(json) && json_is_string(first)
           && !strcmp(json_string_value(first), tag);
}

/* Works out the type of M's argument from its column and, for "delete" on a
 * map, from the shape of VALUE. */
static struct ovsdb_error *
mutation_arg_type(struct ovsdb_mutation *m, const json_t *json,
                  const json_t *value)
{
    const struct ovsdb_type *ct = &m->column->type;
    enum ovsdb_atomic_type kt = ct->key.type;

    switch (m->mutator) {
    case OVSDB_M_ADD:
    case OVSDB_M_SUB:
    case OVSDB_M_MUL:
    case OVSDB_M_DIV:
    case OVSDB_M_MOD:
        if (ovsdb_type_is_map(ct)
            || (kt != OVSDB_TYPE_INTEGER
                && (kt != OVSDB_TYPE_REAL || m->mutator == OVSDB_M_MOD))) {
            return type_mismatch(json, m);
        }
        /* One plain number: the column's range applies to results only. */
        ovsdb_type_init(&m->arg_type);
        ovsdb_base_type_init(&m->arg_type.key, kt);
        return NULL;
    case OVSDB_M_INSERT:
    case OVSDB_M_DELETE:
        if (ovsdb_type_is_scalar(ct)) {
            return type_mismatch(json, m);
        }
        /* As ovsdb-server: "insert" may not bring more elements than the
         * column could ever hold; "delete" may name any number. */
        ovsdb_type_clone(&m->arg_type, ct);
        m->arg_type.n_min = 0;
        if (m->mutator == OVSDB_M_DELETE) {
            m->arg_type.n_max = OVSDB_UNLIMITED;
        }
        if (m->mutator == OVSDB_M_DELETE && ovsdb_type_is_map(ct)
            && !is_tagged(value, "map")) {
            ovsdb_base_type_destroy(&m->arg_type.value);
            ovsdb_base_type_init(&m->arg_type.value, OVSDB_TYPE_VOID);
        }
        return NULL;
    }
    return NULL;
}

static struct ovsdb_error *
mutation_from_json(const struct ovsdb_table_schema *table, const json_t *json,
                   struct ovsdb_symbol_table *symtab, struct ovsdb_mutation *m)
{
    const json_t *cj = json_array_get(json, 0), *mj = json_array_get(json, 1);
    struct ovsdb_error *error;

    if (!json_is_array(json) || json_array_size(json) != 3
        || !json_is_string(cj) || !json_is_string(mj)) {
        return ovsdb_syntax_error(json, NULL, "Parse error in mutation.");
    }
    m->column = ovsdb_table_schema_find_column(table, json_string_value(cj));
    if (!m->column) {
        return ovsdb_syntax_error(json, "unknown column",
                                  "No column %s in table %s.",
                                  json_string_value(cj), table->name);
    }
    if (!mutator_from_string(json_string_value(mj), &m->mutator)) {
        return ovsdb_error("unknown mutator", "No mutator named %s.",
                           json_string_value(mj));
    }
    if (!m->column->mutable_) {
        return ovsdb_syntax_error(json, "constraint violation",
                                  "Cannot mutate immutable column %s in "
                                  "table %s.", m->column->name, table->name);
    }
    error = mutation_arg_type(m, json, json_array_get(json, 2));
    if (!error) {
        error = ovsdb_datum_from_json(&m->arg, &m->arg_type,
                                      json_array_get(json, 2), symtab);
    }
    if (!error && (m->mutator == OVSDB_M_INSERT
                   || m->mutator == OVSDB_M_DELETE)) {
        /* Checked up front, so the error comes even if no row matches. */
        error = ovsdb_datum_check_constraints(&m->arg, &m->arg_type);
    }
    return error;
}

static void
mutation_destroy(struct ovsdb_mutation *m)
{
    ovsdb_datum_destroy(&m->arg, &m->arg_type);
    ovsdb_type_destroy(&m->arg_type);
}

struct ovsdb_error *
ovsdb_mutation_set_from_json(const struct ovsdb_table_schema *table,
                             const json_t *json,
                             struct ovsdb_symbol_table *symtab,
                             struct ovsdb_mutation_set **setp)
{
    struct ovsdb_mutation_set *set;

    *setp = NULL;
    if (!json_is_array(json)) {
        return ovsdb_syntax_error(json, NULL, "Parse error in mutation.");
    }
    set = xzalloc(sizeof *set);
    set->table = table;
    set->mutations = xcalloc(json_array_size(json) + 1,
                             sizeof *set->mutations);
    for (size_t i = 0; i < json_array_size(json); i++) {
        struct ovsdb_mutation *m = &set->mutations[i];
        struct ovsdb_error *error;

        ovsdb_type_init(&m->arg_type);
        ovsdb_datum_init_empty(&m->arg);
        error = mutation_from_json(table, json_array_get(json, i), symtab, m);
        if (error) {
            mutation_destroy(m);
            ovsdb_mutation_set_destroy(set);
            return error;
        }
        set->n++;
    }
    *setp = set;
    return NULL;
}

json_t *
ovsdb_mutation_set_to_json(const struct ovsdb_mutation_set *set)
{
    json_t *j = json_array();

    for (size_t i = 0; i < set->n; i++) {
        const struct ovsdb_mutation *m = &set->mutations[i];

        json_array_append_new(j, json_pack(
            "[s s o]", m->column->name, mutator_names[m->mutator],
            ovsdb_datum_to_json(&m->arg, &m->arg_type)));
    }
    return j;
}

void
ovsdb_mutation_set_destroy(struct ovsdb_mutation_set *set)
{
    if (!set) {
        return;
    }
    for (size_t i = 0; i < set->n; i++) {
        mutation_destroy(&set->mutations[i]);
    }
    free(set->mutations);
    free(set);
}

size_t
ovsdb_mutation_set_n(const struct ovsdb_mutation_set *set)
{
    return set->n;
}

void
ovsdb_mutation_set_mark_columns(const struct ovsdb_mutation_set *set,
                                unsigned long *bitmap)
{
    const size_t bits = sizeof *bitmap * 8;

    for (size_t i = 0; i < set->n; i++) {
        unsigned int idx = set->mutations[i].column->index;

        bitmap[idx / bits] |= 1UL << (idx % bits);
    }
}

/* --- Execution --- */

static struct ovsdb_error *
range_error(enum ovsdb_mutator m)
{
    return ovsdb_error("range error", "Result of \"%s\" operation is out of "
                       "range.", mutator_names[m]);
}

static struct ovsdb_error *
integer_op(enum ovsdb_mutator m, long long *x, long long y)
{
    long long r;

    switch (m) {
    case OVSDB_M_ADD:
        if (__builtin_add_overflow(*x, y, &r)) {
            return range_error(m);
        }
        break;
    case OVSDB_M_SUB:
        if (__builtin_sub_overflow(*x, y, &r)) {
            return range_error(m);
        }
        break;
    case OVSDB_M_MUL:
        if (__builtin_mul_overflow(*x, y, &r)) {
            return range_error(m);
        }
        break;
    case OVSDB_M_DIV:
    case OVSDB_M_MOD:
        if (!y) {
            return ovsdb_error("domain error", "Division by zero.");
        }
        if (y == -1) {
            /* LLONG_MIN / -1 overflows; LLONG_MIN % -1 is 0 but undefined
             * in C. */
            if (m == OVSDB_M_MOD) {
                r = 0;
            } else if (__builtin_mul_overflow(*x, -1LL, &r)) {
                return range_error(m);
            }
        } else {
            r = m == OVSDB_M_DIV ? *x / y : *x % y;
        }
        break;
    case OVSDB_M_INSERT:
    case OVSDB_M_DELETE:
    default:
        return NULL;
    }
    *x = r;
    return NULL;
}

static struct ovsdb_error *
real_op(enum ovsdb_mutator m, double *x, double y)
{
    double r;

    switch (m) {
    case OVSDB_M_ADD:
        r = *x + y;
        break;
    case OVSDB_M_SUB:
        r = *x - y;
        break;
    case OVSDB_M_MUL:
        r = *x * y;
        break;
    case OVSDB_M_DIV:
        if (y == 0.0) {
            return ovsdb_error("domain error", "Division by zero.");
        }
        r = *x / y;
        break;
    case OVSDB_M_MOD:
    case OVSDB_M_INSERT:
    case OVSDB_M_DELETE:
    default:
        return NULL;
    }
    if (!isfinite(r)) {
        return range_error(m);
    }
    *x = r;
    return NULL;
}

static struct ovsdb_error *
apply_arithmetic(const struct ovsdb_mutation *m, struct ovsdb_datum *d)
{
    const struct ovsdb_type *ct = &m->column->type;
    const union ovsdb_atom *y = &m->arg.keys[0];
    struct ovsdb_error *error = NULL;

    for (unsigned int i = 0; i < d->n && !error; i++) {
        union ovsdb_atom *x = &d->keys[i];

        error = (ct->key.type == OVSDB_TYPE_INTEGER
                 ? integer_op(m->mutator, &x->integer, y->integer)
                 : real_op(m->mutator, &x->real, y->real));
        if (!error) {
            error = ovsdb_atom_check_constraints(x, &ct->key);
        }
    }
    if (!error && d->n > 1) {
        /* Elementwise arithmetic can reorder (negative factors) or merge
         * (division, zero factor) elements. */
        error = ovsdb_datum_sort(d, ct);
        if (error) {
            ovsdb_error_destroy(error);
            error = ovsdb_error("constraint violation", "Result of \"%s\" "
                                "operation contains duplicates.",
                                mutator_names[m->mutator]);
        }
    }
    return error;
}

static struct ovsdb_error *
check_count(const struct ovsdb_datum *d, const struct ovsdb_type *type)
{
    if (d->n < type->n_min || d->n > type->n_max) {
        char *english = ovsdb_type_to_english(type);
        struct ovsdb_error *error = ovsdb_error(
            "constraint violation", "Attempted to store %u elements in %s.",
            d->n, english);

        free(english);
        return error;
    }
    return NULL;
}

static struct ovsdb_error *
apply_mutation(const struct ovsdb_mutation *m, struct ovsdb_datum *d)
{
    const struct ovsdb_type *ct = &m->column->type;

    switch (m->mutator) {
    case OVSDB_M_ADD:
    case OVSDB_M_SUB:
    case OVSDB_M_MUL:
    case OVSDB_M_DIV:
    case OVSDB_M_MOD:
        return apply_arithmetic(m, d);
    case OVSDB_M_INSERT:
        ovsdb_datum_union(d, &m->arg, ct);
        return check_count(d, ct);
    case OVSDB_M_DELETE:
        ovsdb_datum_subtract(d, ct, &m->arg, &m->arg_type);
        return check_count(d, ct);
    }
    return NULL;
}

struct staged {
    unsigned int idx;           /* Column index. */
    bool live;                  /* Holds the latest value of the column. */
    struct ovsdb_datum d;
};

struct ovsdb_error *
ovsdb_mutation_set_execute(const struct ovsdb_mutation_set *set,
                           struct ovsdb_datum *row)
{
    struct staged *st = xcalloc(set->n + 1, sizeof *st);
    struct ovsdb_error *error = NULL;
    size_t i;

    /* Work on copies so that a failure part-way leaves ROW untouched; a
     * column mutated twice carries its staged value forward. */
    for (i = 0; i < set->n && !error; i++) {
        const struct ovsdb_mutation *m = &set->mutations[i];
        unsigned int idx = m->column->index;
        size_t j;

        for (j = 0; j < i && !(st[j].live && st[j].idx == idx); j++) {
            continue;
        }
        if (j < i) {
            st[i].d = st[j].d;
            st[j].live = false;
        } else {
            ovsdb_datum_clone(&st[i].d, &row[idx], &m->column->type);
        }
        st[i].idx = idx;
        st[i].live = true;
        error = apply_mutation(m, &st[i].d);
    }
    for (size_t k = 0; k < i; k++) {
        const struct ovsdb_type *type = &set->mutations[k].column->type;

        if (st[k].live) {
            if (!error) {
                ovsdb_datum_swap(&row[st[k].idx], &st[k].d);
            }
            ovsdb_datum_destroy(&st[k].d, type);
        }
    }
    free(st);
    return error;
}
