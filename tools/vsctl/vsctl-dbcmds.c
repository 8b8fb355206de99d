/* vsctl-dbcmds: the generic database commands of lanyard-vsctl (list, find,
 * get, set, add, remove, clear, create, destroy, wait-until, comment) and
 * the lookups every command module shares: tables and columns by abbreviated
 * name, records by UUID, "." or a table's name column.
 *
 * Reads are targeted (a record named "br0" costs one select on Bridge.name),
 * and writes are as narrow as the command allows: "set col:key=value",
 * "add" and "remove" become mutations of the elements involved, so their cost
 * does not grow with the size of the column.  Whole tables are read only by
 * list, find, "destroy --all" and UUID-prefix lookups. */
#include "vsctl.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "util.h"

/* ---- Tables and columns by (abbreviated) name. ---- */

static int
fold(unsigned char c)
{
    return c == '-' ? '_' : tolower(c);
}

/* How well S names NAME: UINT_MAX exact, UINT_MAX - 1 equal but for case and
 * '-' vs '_', the length of S when it is a prefix of NAME, else 0. */
static unsigned int
match_score(const char *name, const char *s)
{
    if (!strcmp(name, s)) {
        return UINT_MAX;
    }
    unsigned int score = 0;
    for (; fold(*name) == fold(*s); name++, s++, score++) {
        if (!*name) {
            return UINT_MAX - 1;
        }
    }
    return *s ? 0 : score;
}

static int
compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

/* Appends ", "-separated NAMES (sorted) to OUT. */
static void
put_sorted_names(struct ds *out, const char **names, size_t n)
{
    qsort(names, n, sizeof *names, compare_strings);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(out, "%s%s", i ? ", " : "", names[i]);
    }
}

static char *
find_table(struct vsctl_db *db, const char *name, struct vsctl_table **tp)
{
    size_t n = vsctl_db_n_tables(db);
    unsigned int best_score = 0;
    struct vsctl_table *best = NULL;
    for (size_t i = 0; i < n; i++) {
        struct vsctl_table *t = vsctl_db_table_at(db, i);
        unsigned int score = match_score(t->name, name);
        if (score > best_score) {
            best = t;
            best_score = score;
        } else if (score == best_score) {
            best = NULL;
        }
    }
    *tp = best;
    if (best) {
        return NULL;
    } else if (!best_score) {
        return xasprintf("unknown table \"%s\"", name);
    }
    const char **names = xcalloc(n, sizeof *names);
    size_t n_names = 0;
    for (size_t i = 0; i < n; i++) {
        struct vsctl_table *t = vsctl_db_table_at(db, i);
        if (match_score(t->name, name) == best_score) {
            names[n_names++] = t->name;
        }
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, "\"%s\" matches multiple table names: ", name);
    put_sorted_names(&ds, names, n_names);
    free(names);
    return ds_steal_cstr(&ds);
}

struct vsctl_table *
vsctl_must_get_table(struct vsctl_ctx *ctx, const char *name)
{
    struct vsctl_table *t;
    char *error = find_table(ctx->db, name, &t);
    if (error) {
        fatal("%s", error);
    }
    return t;
}

/* Finds column NAME of T (never "_uuid", which is not a real column). */
static char *
find_column(const struct vsctl_table *t, const char *name,
            const struct vsctl_column **cp)
{
    unsigned int best_score = 0;
    const struct vsctl_column *best = NULL;
    for (size_t i = 1; i < t->n_columns; i++) {
        unsigned int score = match_score(t->columns[i].name, name);
        if (score > best_score) {
            best = &t->columns[i];
            best_score = score;
        } else if (score == best_score) {
            best = NULL;
        }
    }
    *cp = best;
    if (best) {
        return NULL;
    } else if (!best_score) {
        return xasprintf("%s does not contain a column whose name matches "
                         "\"%s\"", t->name, name);
    }
    const char **names = xcalloc(t->n_columns, sizeof *names);
    size_t n_names = 0;
    for (size_t i = 1; i < t->n_columns; i++) {
        if (match_score(t->columns[i].name, name) == best_score) {
            names[n_names++] = t->columns[i].name;
        }
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, "%s contains more than one column whose name matches "
                  "\"%s\": ", t->name, name);
    put_sorted_names(&ds, names, n_names);
    free(names);
    return ds_steal_cstr(&ds);
}

static const struct vsctl_column *
must_get_column(const struct vsctl_table *t, const char *name)
{
    const struct vsctl_column *c;
    char *error = find_column(t, name, &c);
    if (error) {
        fatal("%s", error);
    }
    return c;
}

static bool
is_uuid_column_name(const char *s)
{
    return !strcasecmp(s, "_uuid") || !strcasecmp(s, "-uuid");
}

/* ---- "COLUMN[:KEY][OP VALUE]" arguments. ---- */

struct column_arg {
    const struct vsctl_column *column;
    char *key;                  /* NULL if none. */
    int op;                     /* Index into the allowed operators. */
    char *value;                /* NULL if no operator was wanted. */
};

static void
column_arg_destroy(struct column_arg *ca)
{
    free(ca->key);
    free(ca->value);
}

static char *
missing_operator_error(const char *arg, const char *const *ops, size_t n)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, "%s: argument does not end in \"%s\"", arg, ops[0]);
    if (n == 2) {
        ds_put_format(&ds, " or \"%s\"", ops[1]);
    } else if (n > 2) {
        for (size_t i = 1; i + 1 < n; i++) {
            ds_put_format(&ds, ", \"%s\"", ops[i]);
        }
        ds_put_format(&ds, ", or \"%s\"", ops[n - 1]);
    }
    ds_put_cstr(&ds, " followed by a value.");
    return ds_steal_cstr(&ds);
}

/* Splits ARG into column, optional key and (if OPS is nonnull) the longest
 * matching operator followed by a nonempty value.  Returns an error message
 * worded as ovs-vsctl words it, or NULL. */
static char *
parse_column_arg(const char *arg, const struct vsctl_table *t,
                 const char *const *ops, size_t n_ops, struct column_arg *ca)
{
    const char *p = arg;
    char *name;
    memset(ca, 0, sizeof *ca);
    char *error = vsctl_token_parse(&p, &name);
    if (error) {
        return error;
    }
    if (!name[0]) {
        free(name);
        return xasprintf("%s: missing column name", arg);
    }
    error = find_column(t, name, &ca->column);
    free(name);
    if (error) {
        return error;
    }
    if (*p == ':') {
        p++;
        error = vsctl_token_parse(&p, &ca->key);
        if (error) {
            goto fail;
        }
    }
    if (ops) {
        size_t best_len = 0;
        int best = -1;
        for (size_t i = 0; i < n_ops; i++) {
            size_t len = strlen(ops[i]);
            if (len > best_len && !strncmp(ops[i], p, len) && p[len]) {
                best_len = len;
                best = (int) i;
            }
        }
        if (best < 0) {
            error = missing_operator_error(arg, ops, n_ops);
            goto fail;
        }
        ca->op = best;
        ca->value = xstrdup(p + best_len);
    } else if (*p) {
        error = xasprintf("%s: trailing garbage \"%s\" in argument", arg, p);
        goto fail;
    }
    return NULL;

fail:
    column_arg_destroy(ca);
    memset(ca, 0, sizeof *ca);
    return error;
}

static const char *const equals_op[] = { "=" };

static void
must_parse_column_arg(const char *arg, const struct vsctl_table *t,
                      const char *const *ops, size_t n_ops,
                      struct column_arg *ca)
{
    char *error = parse_column_arg(arg, t, ops, n_ops, ca);
    if (error) {
        fatal("%s", error);
    }
}

/* ---- Records. ---- */

/* How a table's records may be named besides by UUID: rows of NAME_TABLE
 * whose NAME_COLUMN equals the name (NAME_COLUMN NULL: the single row of
 * NAME_TABLE, named "."), then, if UUID_COLUMN is set, the row that column
 * of theirs points to. */
struct row_id {
    const char *table;
    const char *name_table;
    const char *name_column;
    const char *uuid_column;
};

static const struct row_id row_ids[] = {
    { "AutoAttach", "Bridge", "name", "auto_attach" },
    { "Bridge", "Bridge", "name", NULL },
    { "Controller", "Bridge", "name", "controller" },
    { "Flow_Sample_Collector_Set", "Flow_Sample_Collector_Set", "id", NULL },
    { "Flow_Table", "Flow_Table", "name", NULL },
    { "IPFIX", "Bridge", "name", "ipfix" },
    { "Interface", "Interface", "name", NULL },
    { "Manager", "Manager", "target", NULL },
    { "Mirror", "Mirror", "name", NULL },
    { "NetFlow", "Bridge", "name", "netflow" },
    { "Port", "Port", "name", NULL },
    { "QoS", "Port", "name", "qos" },
    { "SSL", "Open_vSwitch", NULL, "ssl" },
    { "sFlow", "Bridge", "name", "sflow" },
};

/* The one live row of T, or NULL if it has none or several. */
static struct vsctl_row *
single_row(struct vsctl_db *db, struct vsctl_table *t)
{
    size_t n;
    struct vsctl_row **rows = vsctl_db_all_rows(db, t, &n);
    struct vsctl_row *row = n == 1 ? rows[0] : NULL;
    free(rows);
    return row;
}

static struct vsctl_row *
get_row_by_id(struct vsctl_ctx *ctx, struct vsctl_table *t,
              const struct row_id *id, const char *record_id)
{
    struct vsctl_table *nt = vsctl_db_get_table(ctx->db, id->name_table);
    const struct vsctl_column *nc = NULL, *uc = NULL;
    if (!nt || (id->name_column
                && !(nc = vsctl_table_get_column(nt, id->name_column)))
        || (id->uuid_column
            && !(uc = vsctl_table_get_column(nt, id->uuid_column)))) {
        return NULL;            /* Not this schema. */
    }
    struct vsctl_row *referrer = NULL;
    if (!nc) {
        if (strcmp(record_id, ".")) {
            return NULL;
        }
        referrer = single_row(ctx->db, nt);
    } else {
        /* Names are taken literally (never JSON-unquoted), other types
         * (Flow_Sample_Collector_Set's integer id) parsed. */
        union vsctl_atom name;
        if (nc->type.key.type == VA_STRING) {
            name.string = xstrdup(record_id);
        } else {
            char *error = vsctl_atom_from_string(&name, &nc->type.key,
                                                 record_id, NULL, NULL);
            if (error) {
                free(error);
                return NULL;
            }
        }
        size_t n;
        struct vsctl_row **rows = vsctl_db_find_rows(ctx->db, nt, nc->name,
                                                     &name, &n);
        vsctl_atom_destroy(&name, nc->type.key.type);
        if (n > 1) {
            fatal("multiple rows in %s match \"%s\"", t->name, record_id);
        }
        referrer = n ? rows[0] : NULL;
        free(rows);
    }
    if (!referrer || !uc) {
        return referrer;
    }
    vsctl_row_verify(ctx->db, referrer, uc);
    const struct vsctl_datum *d = vsctl_row_get(ctx->db, referrer, uc);
    return d->n == 1 ? vsctl_db_get_row(ctx->db, t, &d->keys[0].uuid) : NULL;
}

/* Number of leading hex digits of S if all of S is a UUID prefix (hex
 * digits with dashes where a UUID has them), else 0. */
static size_t
uuid_prefix_len(const char *s)
{
    static const char shape[] = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
    size_t digits = 0, i;
    for (i = 0; s[i]; i++) {
        if (i >= sizeof shape - 1) {
            return 0;
        } else if (shape[i] == '-' ? s[i] != '-' : !isxdigit((unsigned char) s[i])) {
            return 0;
        }
        digits += shape[i] != '-';
    }
    return digits;
}

static bool
uuid_has_prefix(const struct uuid *uuid, const char *prefix)
{
    char buf[UUID_LEN + 1];
    uuid_to_string(uuid, buf);
    return !strncasecmp(buf, prefix, strlen(prefix));
}

static struct vsctl_row *
get_row_by_uuid_prefix(struct vsctl_ctx *ctx, struct vsctl_table *t,
                       const char *record_id)
{
    size_t n;
    struct vsctl_row **rows = vsctl_db_all_rows(ctx->db, t, &n);
    struct vsctl_row *found = NULL;
    for (size_t i = 0; i < n; i++) {
        if (!uuid_has_prefix(&rows[i]->uuid, record_id)) {
            continue;
        }
        if (found) {
            char a[UUID_LEN + 1], b[UUID_LEN + 1];
            uuid_to_string(&found->uuid, a);
            uuid_to_string(&rows[i]->uuid, b);
            fatal("%s contains 2 or more rows whose UUIDs begin with %s: "
                  "at least %s and %s", t->name, record_id, a, b);
        }
        found = rows[i];
    }
    free(rows);
    return found;
}

struct vsctl_row *
vsctl_get_row(struct vsctl_ctx *ctx, struct vsctl_table *t,
              const char *record_id, bool must_exist)
{
    struct vsctl_row *row = NULL;
    struct uuid uuid;
    if (strlen(record_id) == UUID_LEN && uuid_from_string(&uuid, record_id)) {
        row = vsctl_db_get_row(ctx->db, t, &uuid);
    }
    if (!row && !strcmp(record_id, ".")) {
        row = single_row(ctx->db, t);
    }
    for (size_t i = 0; !row && i < ARRAY_SIZE(row_ids); i++) {
        if (!strcmp(row_ids[i].table, t->name)) {
            row = get_row_by_id(ctx, t, &row_ids[i], record_id);
        }
    }
    if (!row && uuid_prefix_len(record_id) >= 4) {
        row = get_row_by_uuid_prefix(ctx, t, record_id);
    }
    if (!row && must_exist) {
        fatal("no row \"%s\" in table %s", record_id, t->name);
    }
    return row;
}

static void
check_mutable(const struct vsctl_row *row, const struct vsctl_column *c)
{
    if (!c->mutable && !row->inserted) {
        fatal("cannot modify read-only column %s in table %s",
              c->name, row->table->name);
    }
}

static void
die_if_error(char *error)
{
    if (error) {
        fatal("%s", error);
    }
}

/* ---- Validation before any command runs. ---- */

/* Checks the table and the column arguments from index FIRST on, so that a
 * misspelt name anywhere on the command line is reported before any command
 * acts (ovs-vsctl resolves them in a first pass too). */
static void
validate_columns(struct vsctl_ctx *ctx, int first, bool with_value)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    for (int i = first; i < ctx->argc; i++) {
        if (!with_value && is_uuid_column_name(ctx->argv[i])) {
            continue;
        }
        const char *p = ctx->argv[i];
        char *name;
        die_if_error(vsctl_token_parse(&p, &name));
        if (!name[0]) {
            free(name);
            fatal("%s: missing column name", ctx->argv[i]);
        }
        const struct vsctl_column *c;
        char *error = find_column(t, name, &c);
        free(name);
        die_if_error(error);
    }
}

static void
parse_column_names(const char *names, const struct vsctl_table *t,
                   const struct vsctl_column ***columnsp, size_t *np);

static void
validate_table(struct vsctl_ctx *ctx)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    const char *names = vsctl_get_option(ctx, "--columns");
    if (names) {
        const struct vsctl_column **columns;
        size_t n;
        parse_column_names(names, t, &columns, &n);
        free(columns);
    }
}

static void
validate_find(struct vsctl_ctx *ctx)
{
    validate_table(ctx);
    validate_columns(ctx, 2, true);
}

static void
validate_get(struct vsctl_ctx *ctx)
{
    /* Interactive use of "get" that can only test existence is likely a
     * mistake (ovs-vsctl warns only on a terminal, too). */
    if (!vsctl_get_option(ctx, "--id") && ctx->argc <= 3
        && isatty(STDOUT_FILENO)) {
        vsctl_warn("db_ctl_base", "\"get\" command without row arguments "
                   "or \"--id\" is possibly erroneous");
    }
    validate_columns(ctx, 3, false);
}

static void
validate_set(struct vsctl_ctx *ctx)
{
    validate_columns(ctx, 3, true);
}

static void
validate_add_remove(struct vsctl_ctx *ctx)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    must_get_column(t, ctx->argv[3]);
}

static void
validate_clear(struct vsctl_ctx *ctx)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    for (int i = 3; i < ctx->argc; i++) {
        must_get_column(t, ctx->argv[i]);
    }
}

static void
validate_create(struct vsctl_ctx *ctx)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    if (!vsctl_get_option(ctx, "--id") && !t->is_root) {
        vsctl_warn("db_ctl_base", "applying \"create\" command to table %s "
                   "without --id option will have no effect", t->name);
    }
}

static void
validate_table_only(struct vsctl_ctx *ctx)
{
    vsctl_must_get_table(ctx, ctx->argv[1]);
}

/* ---- list and find. ---- */

/* NAMES is a ", "-separated list; "_uuid" is a NULL entry.  Without NAMES,
 * every column with "_uuid" first. */
static void
parse_column_names(const char *names, const struct vsctl_table *t,
                   const struct vsctl_column ***columnsp, size_t *np)
{
    const struct vsctl_column **columns;
    size_t n = 0;
    if (!names) {
        columns = xcalloc(t->n_columns, sizeof *columns);
        for (size_t i = 0; i < t->n_columns; i++) {
            columns[n++] = i ? &t->columns[i] : NULL;
        }
    } else {
        char *s = xstrdup(names), *save = NULL;
        size_t allocated = 0;
        columns = NULL;
        for (char *name = strtok_r(s, ", ", &save); name;
             name = strtok_r(NULL, ", ", &save)) {
            const struct vsctl_column *c = NULL;
            if (strcasecmp(name, "_uuid")) {
                char *error = find_column(t, name, &c);
                if (error) {
                    free(s);
                    fatal("%s", error);
                }
            }
            if (n >= allocated) {
                columns = x2nrealloc(columns, &allocated, sizeof *columns);
            }
            columns[n++] = c;
        }
        free(s);
        if (!n) {
            fatal("must specify at least one column name");
        }
    }
    *columnsp = columns;
    *np = n;
}

static const struct vsctl_column *
uuid_column(const struct vsctl_table *t)
{
    return &t->columns[0];
}

static struct vsctl_out_table *
make_out_table(const struct vsctl_column **columns, size_t n)
{
    struct vsctl_out_table *out = vsctl_out_table_create();
    for (size_t i = 0; i < n; i++) {
        vsctl_out_table_add_column(out, columns[i] ? columns[i]->name
                                                   : "_uuid");
    }
    return out;
}

static void
add_record(struct vsctl_ctx *ctx, struct vsctl_out_table *out,
           struct vsctl_row *row, const struct vsctl_column **columns,
           size_t n)
{
    vsctl_out_table_add_row(out);
    for (size_t i = 0; i < n; i++) {
        const struct vsctl_column *c = columns[i]
                                       ? columns[i]
                                       : uuid_column(row->table);
        vsctl_out_table_add_cell(out, vsctl_row_get(ctx->db, row, c),
                                 &c->type);
    }
}

static void
cmd_list(struct vsctl_ctx *ctx)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    const struct vsctl_column **columns;
    size_t n_columns;
    parse_column_names(vsctl_get_option(ctx, "--columns"), t, &columns,
                       &n_columns);
    struct vsctl_out_table *out = make_out_table(columns, n_columns);
    ctx->cmd->table = out;
    if (ctx->argc > 2) {
        for (int i = 2; i < ctx->argc; i++) {
            struct vsctl_row *row = vsctl_get_row(ctx, t, ctx->argv[i],
                                                  must_exist);
            if (row) {
                add_record(ctx, out, row, columns, n_columns);
            }
        }
    } else {
        size_t n;
        struct vsctl_row **rows = vsctl_db_all_rows(ctx->db, t, &n);
        for (size_t i = 0; i < n; i++) {
            add_record(ctx, out, rows[i], columns, n_columns);
        }
        free(rows);
    }
    free(columns);
}

enum relop {
    RELOP_EQ, RELOP_NE, RELOP_LT, RELOP_GT, RELOP_LE, RELOP_GE,
    RELOP_SET_EQ, RELOP_SET_NE, RELOP_SET_LT, RELOP_SET_GT, RELOP_SET_LE,
    RELOP_SET_GE, RELOP_SET_IN, RELOP_SET_NOT_IN
};

static const char *const relops[] = {
    "=", "!=", "<", ">", "<=", ">=",
    "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}", "{not-in}"
};

static bool
is_set_relop(enum relop op)
{
    return op >= RELOP_SET_EQ;
}

static bool
evaluate_relop(const struct vsctl_datum *a, const struct vsctl_datum *b,
               const struct vsctl_type *type, enum relop op)
{
    switch (op) {
    case RELOP_EQ:
    case RELOP_SET_EQ:
        return vsctl_datum_compare(a, b, type) == 0;
    case RELOP_NE:
    case RELOP_SET_NE:
        return vsctl_datum_compare(a, b, type) != 0;
    case RELOP_LT:
        return vsctl_datum_compare(a, b, type) < 0;
    case RELOP_GT:
        return vsctl_datum_compare(a, b, type) > 0;
    case RELOP_LE:
        return vsctl_datum_compare(a, b, type) <= 0;
    case RELOP_GE:
        return vsctl_datum_compare(a, b, type) >= 0;
    case RELOP_SET_LT:
        return b->n > a->n && vsctl_datum_includes_all(b, a, type);
    case RELOP_SET_GT:
        return a->n > b->n && vsctl_datum_includes_all(a, b, type);
    case RELOP_SET_LE:
    case RELOP_SET_IN:
        return vsctl_datum_includes_all(b, a, type);
    case RELOP_SET_GE:
        return vsctl_datum_includes_all(a, b, type);
    case RELOP_SET_NOT_IN:
        for (size_t i = 0; i < a->n; i++) {
            if (vsctl_datum_find_key(b, &a->keys[i], type->key.type)
                != SIZE_MAX) {
                return false;
            }
        }
        return true;
    }
    return false;
}

/* Whether ROW satisfies the condition ARG ("COLUMN[:KEY]OP VALUE"). */
static bool
condition_holds(struct vsctl_ctx *ctx, struct vsctl_row *row, const char *arg)
{
    const struct vsctl_table *t = row->table;
    struct column_arg ca;
    must_parse_column_arg(arg, t, relops, ARRAY_SIZE(relops), &ca);
    const struct vsctl_column *c = ca.column;
    struct vsctl_type type = c->type;
    type.n_max = UINT_MAX;
    const struct vsctl_datum *have = vsctl_row_get(ctx->db, row, c);
    bool holds;
    if (ca.key) {
        if (!vsctl_type_is_map(&c->type)) {
            fatal("cannot specify key to check for non-map column %s",
                  c->name);
        }
        union vsctl_atom key;
        die_if_error(vsctl_atom_from_string(&key, &c->type.key, ca.key,
                                            vsctl_symbol_cb, ctx));
        type.key = c->type.value;
        type.value.type = VA_VOID;
        type.n_min = 0;
        struct vsctl_datum want;
        die_if_error(vsctl_datum_from_string(&want, &type, ca.value,
                                             vsctl_symbol_cb, ctx));
        size_t idx = vsctl_datum_find_key(have, &key, c->type.key.type);
        if (idx == SIZE_MAX && !is_set_relop(ca.op)) {
            holds = false;
        } else {
            struct vsctl_datum a = { 0, NULL, NULL };
            if (idx != SIZE_MAX) {
                a.n = 1;
                a.keys = &have->values[idx];
            }
            holds = evaluate_relop(&a, &want, &type, ca.op);
        }
        vsctl_atom_destroy(&key, c->type.key.type);
        vsctl_datum_destroy(&want, &type);
    } else {
        struct vsctl_datum want;
        die_if_error(vsctl_datum_from_string(&want, &c->type, ca.value,
                                             vsctl_symbol_cb, ctx));
        holds = evaluate_relop(have, &want, &type, ca.op);
        vsctl_datum_destroy(&want, &c->type);
    }
    column_arg_destroy(&ca);
    return holds;
}

static void
cmd_find(struct vsctl_ctx *ctx)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    const struct vsctl_column **columns;
    size_t n_columns;
    parse_column_names(vsctl_get_option(ctx, "--columns"), t, &columns,
                       &n_columns);
    struct vsctl_out_table *out = make_out_table(columns, n_columns);
    ctx->cmd->table = out;
    size_t n;
    struct vsctl_row **rows = vsctl_db_all_rows(ctx->db, t, &n);
    for (size_t i = 0; i < n; i++) {
        bool match = true;
        for (int j = 2; match && j < ctx->argc; j++) {
            match = condition_holds(ctx, rows[i], ctx->argv[j]);
        }
        if (match) {
            add_record(ctx, out, rows[i], columns, n_columns);
        }
    }
    free(rows);
    free(columns);
}

/* ---- get. ---- */

/* Binds --id=@NAME to an existing or new row.  NEW_ONLY: the name must not
 * have been used before. */
static struct vsctl_symbol *
create_symbol(struct vsctl_ctx *ctx, const char *id, bool *newp)
{
    if (id[0] != '@') {
        fatal("row id \"%s\" does not begin with \"@\"", id);
    }
    if (newp) {
        *newp = vsctl_symbol_find(ctx, id) == NULL;
    }
    struct vsctl_symbol *s = vsctl_symbol_insert(ctx, id);
    if (s->created) {
        fatal("row id \"%s\" may only be specified on one --id option", id);
    }
    s->created = true;
    return s;
}

static void
get_one(struct vsctl_ctx *ctx, struct vsctl_row *row, const char *arg,
        bool must_exist)
{
    struct vsctl_table *t = row->table;
    if (is_uuid_column_name(arg)) {
        char buf[UUID_LEN + 1];
        uuid_to_string(&row->uuid, buf);
        ds_put_format(ctx->output, "%s\n", buf);
        return;
    }
    struct column_arg ca;
    must_parse_column_arg(arg, t, NULL, 0, &ca);
    const struct vsctl_column *c = ca.column;
    vsctl_row_verify(ctx->db, row, c);
    const struct vsctl_datum *d = vsctl_row_get(ctx->db, row, c);
    if (ca.key) {
        if (!vsctl_type_is_map(&c->type)) {
            fatal("cannot specify key to get for non-map column %s", c->name);
        }
        union vsctl_atom key;
        die_if_error(vsctl_atom_from_string(&key, &c->type.key, ca.key,
                                            vsctl_symbol_cb, ctx));
        size_t idx = vsctl_datum_find_key(d, &key, c->type.key.type);
        if (idx != SIZE_MAX) {
            vsctl_atom_to_string(&d->values[idx], c->type.value.type,
                                 ctx->output);
        } else if (must_exist) {
            fatal("no key \"%s\" in %s record \"%s\" column %s", ca.key,
                  t->name, ctx->argv[2], c->name);
        }
        vsctl_atom_destroy(&key, c->type.key.type);
    } else {
        vsctl_datum_to_string(d, &c->type, ctx->output);
    }
    ds_put_char(ctx->output, '\n');
    column_arg_destroy(&ca);
}

static void
cmd_get(struct vsctl_ctx *ctx)
{
    const char *id = vsctl_get_option(ctx, "--id");
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    if (id && !must_exist) {
        fatal("--if-exists and --id may not be specified together");
    }
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    struct vsctl_row *row = vsctl_get_row(ctx, t, ctx->argv[2], must_exist);
    if (!row) {
        return;
    }
    if (id) {
        bool is_new;
        struct vsctl_symbol *s = create_symbol(ctx, id, &is_new);
        if (!is_new) {
            fatal("row id \"%s\" specified on \"get\" command was used "
                  "before it was defined", id);
        }
        s->uuid = row->uuid;
        /* The row exists already: no "unreferenced" warning for it. */
        s->strong_ref = true;
    }
    for (int i = 3; i < ctx->argc; i++) {
        get_one(ctx, row, ctx->argv[i], must_exist);
    }
}

/* ---- set, add, remove, clear. ---- */

/* Parses ARG "COLUMN[:KEY]=VALUE" and applies it to ROW: a whole-column
 * write, or for a map key a replacement of that one pair. */
static void
set_column(struct vsctl_ctx *ctx, struct vsctl_row *row, const char *arg)
{
    struct column_arg ca;
    must_parse_column_arg(arg, row->table, equals_op, 1, &ca);
    const struct vsctl_column *c = ca.column;
    check_mutable(row, c);
    if (ca.key) {
        if (!vsctl_type_is_map(&c->type)) {
            fatal("cannot specify key to set for non-map column %s", c->name);
        }
        union vsctl_atom key, value;
        die_if_error(vsctl_atom_from_string(&key, &c->type.key, ca.key,
                                            vsctl_symbol_cb, ctx));
        die_if_error(vsctl_atom_check_constraints(&key, &c->type.key));
        die_if_error(vsctl_atom_from_string(&value, &c->type.value, ca.value,
                                            vsctl_symbol_cb, ctx));
        die_if_error(vsctl_atom_check_constraints(&value, &c->type.value));
        vsctl_row_add_element(ctx->db, row, c->name, &key, &value);
        vsctl_atom_destroy(&key, c->type.key.type);
        vsctl_atom_destroy(&value, c->type.value.type);
    } else {
        struct vsctl_datum *d = xmalloc(sizeof *d);
        die_if_error(vsctl_datum_from_string(d, &c->type, ca.value,
                                             vsctl_symbol_cb, ctx));
        vsctl_row_write(ctx->db, row, c, d);
    }
    column_arg_destroy(&ca);
}

void
vsctl_set_column(struct vsctl_ctx *ctx, struct vsctl_row *row,
                 const char *arg)
{
    set_column(ctx, row, arg);
}

static void
cmd_set(struct vsctl_ctx *ctx)
{
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    struct vsctl_row *row = vsctl_get_row(ctx, t, ctx->argv[2], must_exist);
    if (!row) {
        return;
    }
    for (int i = 3; i < ctx->argc; i++) {
        set_column(ctx, row, ctx->argv[i]);
    }
}

/* The element type used to parse "add"/"remove" values: any number of
 * elements, at least one per argument. */
static struct vsctl_type
elements_type(const struct vsctl_type *type)
{
    struct vsctl_type t = *type;
    t.n_min = 1;
    t.n_max = UINT_MAX;
    return t;
}

static const char *
values_or_pairs(const struct vsctl_type *type)
{
    return vsctl_type_is_map(type) ? "pairs" : "values";
}

/* Locates the row and column of add/remove, or returns NULL (--if-exists
 * and no row). */
static struct vsctl_row *
get_row_and_column(struct vsctl_ctx *ctx, const struct vsctl_column **cp)
{
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    *cp = must_get_column(t, ctx->argv[3]);
    struct vsctl_row *row = vsctl_get_row(ctx, t, ctx->argv[2], must_exist);
    if (row) {
        check_mutable(row, *cp);
    }
    return row;
}

static void
cmd_add(struct vsctl_ctx *ctx)
{
    const struct vsctl_column *c;
    struct vsctl_row *row = get_row_and_column(ctx, &c);
    if (!row) {
        return;
    }
    const struct vsctl_type *type = &c->type;
    struct vsctl_type add_type = elements_type(type);
    struct vsctl_datum add;
    vsctl_datum_init_empty(&add);
    for (int i = 4; i < ctx->argc; i++) {
        struct vsctl_datum one;
        die_if_error(vsctl_datum_from_string(&one, &add_type, ctx->argv[i],
                                             vsctl_symbol_cb, ctx));
        vsctl_datum_union(&add, &one, type, false);
        vsctl_datum_destroy(&one, type);
    }
    /* ovs-vsctl checks the size itself unless "add" is the last command,
     * when it sends a partial update that lets the server do the check
     * and that replaces the values of map keys already present. */
    bool replace = ctx->last_command;
    if (!ctx->last_command || row->inserted) {
        struct vsctl_datum all;
        vsctl_datum_clone(&all, vsctl_row_get(ctx->db, row, c), type);
        vsctl_datum_union(&all, &add, type, replace);
        if (all.n > type->n_max) {
            fatal("\"add\" operation would put %zu %s in column %s of table "
                  "%s but the maximum number is %u", all.n,
                  values_or_pairs(type), c->name, row->table->name,
                  type->n_max);
        }
        vsctl_datum_destroy(&all, type);
    }
    for (size_t i = 0; i < add.n; i++) {
        const union vsctl_atom *value = add.values ? &add.values[i] : NULL;
        if (value && !replace) {
            /* An existing key keeps its value. */
            const struct vsctl_datum *have = vsctl_row_get(ctx->db, row, c);
            if (vsctl_datum_find_key(have, &add.keys[i], type->key.type)
                != SIZE_MAX) {
                vsctl_row_verify(ctx->db, row, c);
                continue;
            }
        }
        vsctl_row_add_element(ctx->db, row, c->name, &add.keys[i], value);
    }
    if (replace) {
        vsctl_row_send_always(ctx->db, row);
    }
    vsctl_datum_destroy(&add, type);
}

/* Parses one "remove" argument: values of the column's type, or for maps
 * keys alone when key=value pairs do not parse. */
static void
parse_removal(struct vsctl_ctx *ctx, const struct vsctl_type *type,
              const char *arg, struct vsctl_datum *rm,
              struct vsctl_type *rm_type)
{
    *rm_type = elements_type(type);
    char *error = vsctl_datum_from_string(rm, rm_type, arg, vsctl_symbol_cb,
                                          ctx);
    if (error && vsctl_type_is_map(rm_type)) {
        free(error);
        rm_type->value.type = VA_VOID;
        error = vsctl_datum_from_string(rm, rm_type, arg, vsctl_symbol_cb,
                                        ctx);
    }
    die_if_error(error);
}

static void
cmd_remove(struct vsctl_ctx *ctx)
{
    const struct vsctl_column *c;
    struct vsctl_row *row = get_row_and_column(ctx, &c);
    if (!row) {
        return;
    }
    const struct vsctl_type *type = &c->type;
    struct vsctl_datum old;
    vsctl_datum_clone(&old, vsctl_row_get(ctx->db, row, c), type);
    struct vsctl_datum gone;    /* Keys of OLD that the arguments remove. */
    vsctl_datum_init_empty(&gone);
    for (int i = 4; i < ctx->argc; i++) {
        struct vsctl_type rm_type;
        struct vsctl_datum rm;
        parse_removal(ctx, type, ctx->argv[i], &rm, &rm_type);
        struct vsctl_datum before;
        vsctl_datum_clone(&before, &old, type);
        vsctl_datum_subtract(&old, type, &rm, &rm_type);
        for (size_t j = 0; j < before.n; j++) {
            if (vsctl_datum_find_key(&old, &before.keys[j], type->key.type)
                == SIZE_MAX) {
                union vsctl_atom k;
                vsctl_atom_clone(&k, &before.keys[j], type->key.type);
                vsctl_datum_put(&gone, &(struct vsctl_type) {
                                    .key = type->key, .n_max = UINT_MAX },
                                &k, NULL, false);
            }
        }
        vsctl_datum_destroy(&before, type);
        vsctl_datum_destroy(&rm, &rm_type);
    }
    if (old.n < type->n_min) {
        fatal("\"remove\" operation would put %zu %s in column %s of table %s "
              "but the minimum number is %u", old.n, values_or_pairs(type),
              c->name, row->table->name, type->n_min);
    }
    if (vsctl_type_is_map(type) && gone.n) {
        /* Pairs were matched on their values too: those must not change. */
        vsctl_row_verify(ctx->db, row, c);
    }
    for (size_t i = 0; i < gone.n; i++) {
        vsctl_row_remove_element(ctx->db, row, c->name, &gone.keys[i]);
    }
    struct vsctl_type key_type = { .key = type->key, .n_max = UINT_MAX };
    key_type.value.type = VA_VOID;
    vsctl_datum_destroy(&gone, &key_type);
    vsctl_datum_destroy(&old, type);
}

static void
cmd_clear(struct vsctl_ctx *ctx)
{
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    struct vsctl_row *row = vsctl_get_row(ctx, t, ctx->argv[2], must_exist);
    if (!row) {
        return;
    }
    for (int i = 3; i < ctx->argc; i++) {
        const struct vsctl_column *c = must_get_column(t, ctx->argv[i]);
        check_mutable(row, c);
        if (c->type.n_min > 0) {
            fatal("\"clear\" operation cannot be applied to column %s of "
                  "table %s, which is not allowed to be empty",
                  c->name, t->name);
        }
        struct vsctl_datum *d = xmalloc(sizeof *d);
        vsctl_datum_init_empty(d);
        vsctl_row_write(ctx->db, row, c, d);
    }
}

/* ---- create, destroy. ---- */

static void
cmd_create(struct vsctl_ctx *ctx)
{
    const char *id = vsctl_get_option(ctx, "--id");
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    struct uuid fixed;
    const struct uuid *uuid = NULL;
    bool fixed_uuid = false;
    if (id && strlen(id) == UUID_LEN && uuid_from_string(&fixed, id)) {
        /* --id=UUID: the row gets exactly that UUID. */
        uuid = &fixed;
        fixed_uuid = true;
    } else if (id) {
        struct vsctl_symbol *s = create_symbol(ctx, id, NULL);
        if (t->is_root) {
            /* Root rows persist unreferenced: no warning for them. */
            s->strong_ref = true;
        }
        uuid = &s->uuid;
    }
    struct vsctl_row *row = vsctl_db_insert_row(ctx->db, t, uuid);
    if (fixed_uuid) {
        vsctl_db_set_persistent_uuid(ctx->db, row);
    }
    for (int i = 2; i < ctx->argc; i++) {
        set_column(ctx, row, ctx->argv[i]);
    }
    char buf[UUID_LEN + 1];
    uuid_to_string(&row->uuid, buf);
    ds_put_cstr(ctx->output, buf);
}

/* After commit: the UUID the server gave the row, and the newline. */
static void
post_create(struct vsctl_ctx *ctx)
{
    struct uuid provisional, real;
    if (uuid_from_string(&provisional, ds_cstr(ctx->output))
        && vsctl_db_get_real_uuid(ctx->db, &provisional, &real)) {
        char buf[UUID_LEN + 1];
        uuid_to_string(&real, buf);
        ds_clear(ctx->output);
        ds_put_cstr(ctx->output, buf);
    }
    ds_put_char(ctx->output, '\n');
}

static void
cmd_destroy(struct vsctl_ctx *ctx)
{
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    bool all = vsctl_has_option(ctx, "--all");
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    if (all && ctx->argc > 2) {
        fatal("--all and records argument should not be specified together");
    }
    if (all && !must_exist) {
        fatal("--all and --if-exists should not be specified together");
    }
    if (!all && ctx->argc < 3) {
        vsctl_warn("db_ctl_base",
                   "either --all or records argument should be specified");
    }
    if (all) {
        size_t n;
        struct vsctl_row **rows = vsctl_db_all_rows(ctx->db, t, &n);
        for (size_t i = 0; i < n; i++) {
            vsctl_row_delete(ctx->db, rows[i]);
        }
        free(rows);
        return;
    }
    for (int i = 2; i < ctx->argc; i++) {
        struct vsctl_row *row = vsctl_get_row(ctx, t, ctx->argv[i],
                                              must_exist);
        if (row) {
            vsctl_row_delete(ctx->db, row);
        }
    }
}

/* ---- wait-until, comment. ---- */

static void
cmd_wait_until(struct vsctl_ctx *ctx)
{
    struct vsctl_table *t = vsctl_must_get_table(ctx, ctx->argv[1]);
    struct vsctl_row *row = vsctl_get_row(ctx, t, ctx->argv[2], false);
    for (int i = 3; row && i < ctx->argc; i++) {
        if (!condition_holds(ctx, row, ctx->argv[i])) {
            row = NULL;
        }
    }
    if (!row) {
        ctx->try_again = t;
    }
}

static void
validate_wait_until(struct vsctl_ctx *ctx)
{
    validate_columns(ctx, 3, true);
}

/* The whole command line goes into the transaction's comment already. */
static void
cmd_comment(struct vsctl_ctx *ctx)
{
    (void) ctx;
}

const struct vsctl_syntax vsctl_db_commands[] = {
    { "comment", 0, INT_MAX, "[ARG]...", cmd_comment, "", false },
    { "get", 2, INT_MAX, "TABLE RECORD [COLUMN[:KEY]]...", cmd_get,
      "--if-exists,--id=", false, .validate = validate_get },
    { "list", 1, INT_MAX, "TABLE [RECORD]...", cmd_list,
      "--if-exists,--columns=", false, .validate = validate_table },
    { "find", 1, INT_MAX, "TABLE [COLUMN[:KEY]=VALUE]...", cmd_find,
      "--columns=", false, .validate = validate_find },
    { "set", 3, INT_MAX, "TABLE RECORD COLUMN[:KEY]=VALUE...", cmd_set,
      "--if-exists", true, .validate = validate_set },
    { "add", 4, INT_MAX, "TABLE RECORD COLUMN [KEY=]VALUE...", cmd_add,
      "--if-exists", true, .validate = validate_add_remove },
    { "remove", 4, INT_MAX, "TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...",
      cmd_remove, "--if-exists", true, .validate = validate_add_remove },
    { "clear", 3, INT_MAX, "TABLE RECORD COLUMN...", cmd_clear,
      "--if-exists", true, .validate = validate_clear },
    { "create", 2, INT_MAX, "TABLE COLUMN[:KEY]=VALUE...", cmd_create,
      "--id=", true, .validate = validate_create,
      .postprocess = post_create },
    { "destroy", 1, INT_MAX, "TABLE [RECORD]...", cmd_destroy,
      "--if-exists,--all", true, .validate = validate_table_only },
    { "wait-until", 2, INT_MAX, "TABLE RECORD [COLUMN[:KEY]=VALUE]...",
      cmd_wait_until, "", false, .validate = validate_wait_until },
};

const size_t vsctl_n_db_commands = ARRAY_SIZE(vsctl_db_commands);
