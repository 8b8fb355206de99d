#include "ovsdb-schema.h"

#include <ctype.h>
#include <string.h>

#include "hash.h"
#include "ovsdb-error.h"
#include "util.h"

/* Identifiers as RFC 7047 defines <id>: a letter or '_', then letters,
 * digits and '_'. */
static bool
is_id(const char *s)
{
    if (!isalpha((unsigned char) s[0]) && s[0] != '_') {
        return false;
    }
    for (s++; *s; s++) {
        if (!isalnum((unsigned char) *s) && *s != '_') {
            return false;
        }
    }
    return true;
}

/* Rejects members of OBJ not listed in ALLOWED (NULL-terminated). */
static struct ovsdb_error *
check_members(const json_t *obj, const char *const *allowed)
{
    const char *name;
    json_t *member;

    json_object_foreach ((json_t *) obj, name, member) {
        const char *const *p;

        for (p = allowed; *p && strcmp(*p, name); p++) {
            continue;
        }
        if (!*p) {
            return ovsdb_syntax_error(obj, NULL, "Member '%s' is present but "
                                      "not allowed here.", name);
        }
    }
    return NULL;
}

static struct ovsdb_error *
get_bool_member(const json_t *obj, const char *name, bool *out)
{
    const json_t *j = json_object_get(obj, name);

    if (j) {
        if (!json_is_boolean(j)) {
            return ovsdb_syntax_error(obj, NULL,
                                      "Type mismatch for member '%s'.", name);
        }
        *out = json_is_true(j);
    }
    return NULL;
}

/* --- Columns --- */

static struct ovsdb_column_schema *
column_create(const char *name, unsigned int index)
{
    struct ovsdb_column_schema *c = xzalloc(sizeof *c);

    c->name = xstrdup(name);
    c->index = index;
    c->mutable_ = true;
    ovsdb_type_init(&c->type);
    return c;
}

static void
column_destroy(struct ovsdb_column_schema *c)
{
    if (c) {
        free(c->name);
        ovsdb_type_destroy(&c->type);
        json_decref(c->persistent_json);
        free(c);
    }
}

static struct ovsdb_error *
column_from_json(struct ovsdb_column_schema *c, const json_t *json)
{
    static const char *const members[] = { "type", "ephemeral", "mutable",
                                           NULL };
    struct ovsdb_error *error;
    const json_t *type;

    if (!json_is_object(json)) {
        return ovsdb_syntax_error(json, NULL, "Parsing schema for column %s "
                                  "failed: Object expected.", c->name);
    }
    error = check_members(json, members);
    if (!error) {
        error = get_bool_member(json, "ephemeral", &c->ephemeral);
    }
    if (!error) {
        error = get_bool_member(json, "mutable", &c->mutable_);
    }
    if (error) {
        return ovsdb_error_wrap(error, "Parsing schema for column %s failed",
                                c->name);
    }
    type = json_object_get(json, "type");
    if (!type) {
        return ovsdb_syntax_error(json, NULL, "Parsing schema for column %s "
                                  "failed: Required 'type' member is "
                                  "missing.", c->name);
    }
    error = ovsdb_type_from_json(&c->type, type);
    if (error) {
        return error;
    }
    /* A weak reference is removed when its target goes away, which is a
     * change to the column; such columns are always mutable. */
    if (ovsdb_base_type_is_weak_ref(&c->type.key)
        || ovsdb_base_type_is_weak_ref(&c->type.value)) {
        c->mutable_ = true;
    }
    return NULL;
}

static json_t *
column_to_json(const struct ovsdb_column_schema *c)
{
    json_t *j = json_object();

    json_object_set_new(j, "type", ovsdb_type_to_json(&c->type));
    if (c->ephemeral) {
        json_object_set_new(j, "ephemeral", json_true());
    }
    if (!c->mutable_) {
        json_object_set_new(j, "mutable", json_false());
    }
    if (c->persistent_json) {
        json_object_update_missing(j, c->persistent_json);
    }
    return j;
}

/* --- Tables --- */

static void
table_add_column(struct ovsdb_table_schema *t, struct ovsdb_column_schema *c)
{
    t->columns = xrealloc(t->columns, (t->n_columns + 1) * sizeof *t->columns);
    t->columns[t->n_columns++] = c;
    hmap_insert(&t->columns_by_name, &c->node, hash_string(c->name, 0));
}

static struct ovsdb_table_schema *
table_create(const char *name)
{
    struct ovsdb_table_schema *t = xzalloc(sizeof *t);
    struct ovsdb_column_schema *c;

    t->name = xstrdup(name);
    t->max_rows = UINT_MAX;
    hmap_init(&t->columns_by_name);

    c = column_create("_uuid", OVSDB_COL_UUID);
    ovsdb_base_type_init(&c->type.key, OVSDB_TYPE_UUID);
    c->mutable_ = false;
    table_add_column(t, c);

    c = column_create("_version", OVSDB_COL_VERSION);
    ovsdb_base_type_init(&c->type.key, OVSDB_TYPE_UUID);
    c->mutable_ = false;
    table_add_column(t, c);
    return t;
}

static void
table_destroy(struct ovsdb_table_schema *t)
{
    if (!t) {
        return;
    }
    for (unsigned int i = 0; i < t->n_columns; i++) {
        column_destroy(t->columns[i]);
    }
    free(t->columns);
    hmap_destroy(&t->columns_by_name);
    for (unsigned int i = 0; i < t->n_indexes; i++) {
        free(t->indexes[i]);
    }
    free(t->indexes);
    free(t->index_sizes);
    free(t->name);
    free(t);
}

const struct ovsdb_column_schema *
ovsdb_table_schema_find_column(const struct ovsdb_table_schema *t,
                               const char *name)
{
    struct ovsdb_column_schema *c;

    HMAP_FOR_EACH_WITH_HASH (c, node, hash_string(name, 0),
                             &t->columns_by_name) {
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

static struct ovsdb_error *
check_name(const char *name, const json_t *json)
{
    if (!is_id(name)) {
        return ovsdb_syntax_error(json, NULL, "name must be a valid id");
    }
    if (name[0] == '_') {
        return ovsdb_syntax_error(json, NULL,
                                  "names beginning with \"_\" are reserved");
    }
    return NULL;
}

static struct ovsdb_error *
parse_columns(struct ovsdb_table_schema *t, const json_t *json,
              const json_t *columns)
{
    const char *name;
    json_t *cj;

    if (!columns) {
        return ovsdb_syntax_error(json, NULL, "Parsing table schema for "
                                  "table %s failed: Required 'columns' "
                                  "member is missing.", t->name);
    }
    if (!json_is_object(columns)) {
        return ovsdb_syntax_error(json, NULL, "Parsing table schema for "
                                  "table %s failed: Type mismatch for member "
                                  "'columns'.", t->name);
    }
    if (!json_object_size(columns)) {
        return ovsdb_syntax_error(json, NULL,
                                  "table must have at least one column");
    }
    json_object_foreach ((json_t *) columns, name, cj) {
        struct ovsdb_column_schema *c;
        struct ovsdb_error *error = check_name(name, json);

        if (error) {
            return error;
        }
        c = column_create(name, t->n_columns);
        error = column_from_json(c, cj);
        if (error) {
            column_destroy(c);
            return error;
        }
        table_add_column(t, c);
    }
    return NULL;
}

static struct ovsdb_error *
parse_index(struct ovsdb_table_schema *t, const json_t *ij)
{
    size_t n = json_is_array(ij) ? json_array_size(ij) : 0;
    unsigned int *cols;

    if (!json_is_array(ij)) {
        return ovsdb_syntax_error(ij, NULL,
                                  "array of distinct column names expected");
    }
    if (!n) {
        return ovsdb_syntax_error(ij, NULL,
                                  "index must have at least one column");
    }
    cols = xmalloc(n * sizeof *cols);
    for (size_t i = 0; i < n; i++) {
        const json_t *cn = json_array_get(ij, i);
        const struct ovsdb_column_schema *c;
        struct ovsdb_error *error = NULL;

        if (!json_is_string(cn)) {
            error = ovsdb_syntax_error(ij, NULL, "array of distinct column "
                                       "names expected");
        } else if (!(c = ovsdb_table_schema_find_column(
                         t, json_string_value(cn)))) {
            error = ovsdb_syntax_error(ij, NULL, "%s is not a valid column "
                                       "name", json_string_value(cn));
        } else if (c->ephemeral) {
            error = ovsdb_syntax_error(ij, NULL, "ephemeral columns (such as "
                                       "%s) may not be indexed", c->name);
        } else {
            for (size_t k = 0; k < i && !error; k++) {
                if (cols[k] == c->index) {
                    error = ovsdb_syntax_error(ij, NULL, "array of distinct "
                                               "column names expected");
                }
            }
            cols[i] = c->index;
        }
        if (error) {
            free(cols);
            return error;
        }
    }
    t->indexes = xrealloc(t->indexes, (t->n_indexes + 1) * sizeof *t->indexes);
    t->index_sizes = xrealloc(t->index_sizes,
                              (t->n_indexes + 1) * sizeof *t->index_sizes);
    t->indexes[t->n_indexes] = cols;
    t->index_sizes[t->n_indexes] = (unsigned int) n;
    t->n_indexes++;
    return NULL;
}

static struct ovsdb_error *
parse_table_options(struct ovsdb_table_schema *t, const json_t *json,
                    bool *root_set)
{
    const json_t *max_rows = json_object_get(json, "maxRows");
    const json_t *indexes = json_object_get(json, "indexes");
    struct ovsdb_error *error;

    error = get_bool_member(json, "isRoot", &t->is_root);
    if (error) {
        return ovsdb_error_wrap(error, "Parsing table schema for table %s "
                                "failed", t->name);
    }
    *root_set |= t->is_root;
    if (max_rows) {
        if (!json_is_integer(max_rows)) {
            return ovsdb_syntax_error(json, NULL, "Parsing table schema for "
                                      "table %s failed: Type mismatch for "
                                      "member 'maxRows'.", t->name);
        }
        if (json_integer_value(max_rows) < 1) {
            return ovsdb_syntax_error(json, NULL,
                                      "maxRows must be at least 1");
        }
        t->max_rows = (json_integer_value(max_rows) >= UINT_MAX
                       ? UINT_MAX
                       : (unsigned int) json_integer_value(max_rows));
    }
    if (indexes) {
        if (!json_is_array(indexes)) {
            return ovsdb_syntax_error(json, NULL, "Parsing table schema for "
                                      "table %s failed: Type mismatch for "
                                      "member 'indexes'.", t->name);
        }
        for (size_t i = 0; i < json_array_size(indexes); i++) {
            error = parse_index(t, json_array_get(indexes, i));
            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

static struct ovsdb_error *
table_from_json(const char *name, const json_t *json,
                struct ovsdb_table_schema **tp, bool *root_set)
{
    static const char *const members[] = { "columns", "maxRows", "isRoot",
                                           "indexes", NULL };
    struct ovsdb_table_schema *t;
    struct ovsdb_error *error;

    *tp = NULL;
    if (!json_is_object(json)) {
        return ovsdb_syntax_error(json, NULL, "Parsing table schema for "
                                  "table %s failed: Object expected.", name);
    }
    error = check_members(json, members);
    if (error) {
        return ovsdb_error_wrap(error, "Parsing table schema for table %s "
                                "failed", name);
    }
    error = check_name(name, json);
    if (error) {
        return error;
    }
    t = table_create(name);
    error = parse_columns(t, json, json_object_get(json, "columns"));
    if (!error) {
        error = parse_table_options(t, json, root_set);
    }
    if (error) {
        table_destroy(t);
        return error;
    }
    *tp = t;
    return NULL;
}

static json_t *
table_to_json(const struct ovsdb_table_schema *t, bool default_is_root)
{
    json_t *j = json_object();
    json_t *columns = json_object();

    for (unsigned int i = OVSDB_N_IMPLICIT_COLUMNS; i < t->n_columns; i++) {
        json_object_set_new(columns, t->columns[i]->name,
                            column_to_json(t->columns[i]));
    }
    json_object_set_new(j, "columns", columns);
    if (t->max_rows != UINT_MAX) {
        json_object_set_new(j, "maxRows", json_integer(t->max_rows));
    }
    if (t->is_root != default_is_root) {
        json_object_set_new(j, "isRoot", json_boolean(t->is_root));
    }
    if (t->n_indexes) {
        json_t *indexes = json_array();

        for (unsigned int i = 0; i < t->n_indexes; i++) {
            json_t *index = json_array();

            for (unsigned int k = 0; k < t->index_sizes[i]; k++) {
                unsigned int ci = t->indexes[i][k];

                json_array_append_new(index,
                                      json_string(t->columns[ci]->name));
            }
            json_array_append_new(indexes, index);
        }
        json_object_set_new(j, "indexes", indexes);
    }
    return j;
}

/* --- Database schemas --- */

const struct ovsdb_table_schema *
ovsdb_schema_find_table(const struct ovsdb_schema *s, const char *name)
{
    struct ovsdb_table_schema *t;

    HMAP_FOR_EACH_WITH_HASH (t, node, hash_string(name, 0),
                             &s->tables_by_name) {
        if (!strcmp(t->name, name)) {
            return t;
        }
    }
    return NULL;
}

static bool
is_version_string(const char *s)
{
    unsigned int a, b, c;
    int len = 0;

    return (strspn(s, "0123456789.") == strlen(s)
            && sscanf(s, "%u.%u.%u%n", &a, &b, &c, &len) == 3
            && (size_t) len == strlen(s));
}

static struct ovsdb_error *
resolve_ref(const struct ovsdb_schema *s, const struct ovsdb_column_schema *c,
            struct ovsdb_base_type *base, const char *which)
{
    const struct ovsdb_table_schema *ref;

    if (!ovsdb_base_type_is_ref(base)) {
        return NULL;
    }
    ref = ovsdb_schema_find_table(s, base->u.uuid.ref_table_name);
    if (!ref) {
        return ovsdb_error("syntax error", "column %s %s refers to undefined "
                           "table %s", c->name, which,
                           base->u.uuid.ref_table_name);
    }
    base->u.uuid.ref_table = ref;
    return NULL;
}

static struct ovsdb_error *
resolve_refs(struct ovsdb_schema *s)
{
    for (unsigned int i = 0; i < s->n_tables; i++) {
        struct ovsdb_table_schema *t = s->tables[i];

        for (unsigned int k = 0; k < t->n_columns; k++) {
            struct ovsdb_column_schema *c = t->columns[k];
            struct ovsdb_error *error;

            error = resolve_ref(s, c, &c->type.key, "key");
            if (!error) {
                error = resolve_ref(s, c, &c->type.value, "value");
            }
            if (error) {
                return error;
            }
        }
    }
    return NULL;
}

static struct ovsdb_error *
parse_header(struct ovsdb_schema *s, const json_t *json)
{
    static const char *const members[] = { "name", "version", "cksum",
                                           "tables", NULL };
    const json_t *name = json_object_get(json, "name");
    const json_t *version = json_object_get(json, "version");
    const json_t *cksum = json_object_get(json, "cksum");
    struct ovsdb_error *error = check_members(json, members);

    if (error) {
        return ovsdb_error_wrap(error, "Parsing database schema failed");
    }
    if (!name) {
        return ovsdb_syntax_error(json, NULL, "Parsing database schema "
                                  "failed: Required 'name' member is "
                                  "missing.");
    }
    if (!json_is_string(name) || !is_id(json_string_value(name))) {
        return ovsdb_syntax_error(json, NULL, "Parsing database schema "
                                  "failed: Type mismatch for member 'name'.");
    }
    s->name = xstrdup(json_string_value(name));
    if (version) {
        if (!json_is_string(version)) {
            return ovsdb_syntax_error(json, NULL, "Parsing database schema "
                                      "failed: Type mismatch for member "
                                      "'version'.");
        }
        if (!is_version_string(json_string_value(version))) {
            return ovsdb_syntax_error(json, NULL, "schema version \"%s\" not "
                                      "in format x.y.z",
                                      json_string_value(version));
        }
        s->version = xstrdup(json_string_value(version));
    }
    if (cksum) {
        if (!json_is_string(cksum)) {
            return ovsdb_syntax_error(json, NULL, "Parsing database schema "
                                      "failed: Type mismatch for member "
                                      "'cksum'.");
        }
        s->cksum = xstrdup(json_string_value(cksum));
    }
    return NULL;
}

static struct ovsdb_error *
parse_tables(struct ovsdb_schema *s, const json_t *json)
{
    const json_t *tables = json_object_get(json, "tables");
    bool root_set = false;
    const char *name;
    json_t *tj;

    if (!tables) {
        return ovsdb_syntax_error(json, NULL, "Parsing database schema "
                                  "failed: Required 'tables' member is "
                                  "missing.");
    }
    if (!json_is_object(tables)) {
        return ovsdb_syntax_error(json, NULL, "Parsing database schema "
                                  "failed: Type mismatch for member "
                                  "'tables'.");
    }
    s->tables = xcalloc(json_object_size(tables) + 1, sizeof *s->tables);
    json_object_foreach ((json_t *) tables, name, tj) {
        struct ovsdb_table_schema *t;
        struct ovsdb_error *error = table_from_json(name, tj, &t, &root_set);

        if (error) {
            return error;
        }
        s->tables[s->n_tables++] = t;
        hmap_insert(&s->tables_by_name, &t->node, hash_string(name, 0));
    }
    /* RFC 7047: when no table is marked root, every table is a root table
     * (schemas written before "isRoot" existed). */
    if (!root_set) {
        for (unsigned int i = 0; i < s->n_tables; i++) {
            s->tables[i]->is_root = true;
        }
    }
    return NULL;
}

struct ovsdb_error *
ovsdb_schema_from_json(const json_t *json, struct ovsdb_schema **schemap)
{
    struct ovsdb_schema *s;
    struct ovsdb_error *error;

    *schemap = NULL;
    if (!json_is_object(json)) {
        return ovsdb_syntax_error(json, NULL, "Parsing database schema "
                                  "failed: Object expected.");
    }
    s = xzalloc(sizeof *s);
    hmap_init(&s->tables_by_name);
    error = parse_header(s, json);
    if (!error) {
        error = parse_tables(s, json);
    }
    if (!error) {
        error = resolve_refs(s);
    }
    if (error) {
        ovsdb_schema_destroy(s);
        return error;
    }
    *schemap = s;
    return NULL;
}

struct ovsdb_error *
ovsdb_schema_from_file(const char *path, struct ovsdb_schema **schemap)
{
    struct ovsdb_error *error;
    json_error_t jerr;
    json_t *json;

    *schemap = NULL;
    json = json_load_file(path, 0, &jerr);
    if (!json) {
        if (json_error_code(&jerr) == json_error_cannot_open_file) {
            return ovsdb_error("I/O error", "%s", jerr.text);
        }
        return ovsdb_error("syntax error", "%s: line %d, column %d: %s",
                           path, jerr.line, jerr.column, jerr.text);
    }
    error = ovsdb_schema_from_json(json, schemap);
    json_decref(json);
    if (error) {
        return ovsdb_error_wrap(error, "failed to parse \"%s\" as ovsdb "
                                "schema", path);
    }
    return NULL;
}

static bool
all_tables_root(const struct ovsdb_schema *s)
{
    for (unsigned int i = 0; i < s->n_tables; i++) {
        if (!s->tables[i]->is_root) {
            return false;
        }
    }
    return true;
}

json_t *
ovsdb_schema_to_json(const struct ovsdb_schema *s)
{
    bool default_is_root = all_tables_root(s);
    json_t *j = json_object();
    json_t *tables = json_object();

    json_object_set_new(j, "name", json_string(s->name));
    if (s->version) {
        json_object_set_new(j, "version", json_string(s->version));
    }
    if (s->cksum) {
        json_object_set_new(j, "cksum", json_string(s->cksum));
    }
    for (unsigned int i = 0; i < s->n_tables; i++) {
        json_object_set_new(tables, s->tables[i]->name,
                            table_to_json(s->tables[i], default_is_root));
    }
    json_object_set_new(j, "tables", tables);
    return j;
}

struct ovsdb_schema *
ovsdb_schema_clone(const struct ovsdb_schema *old)
{
    json_t *json = ovsdb_schema_to_json(old);
    struct ovsdb_schema *s;
    struct ovsdb_error *error = ovsdb_schema_from_json(json, &s);

    /* The JSON came from a valid schema, so it parses. */
    if (error) {
        char *msg = ovsdb_error_to_string(error);

        fatal("cloning schema %s: %s", old->name, msg);
    }
    json_decref(json);
    return s;
}

void
ovsdb_schema_destroy(struct ovsdb_schema *s)
{
    if (!s) {
        return;
    }
    for (unsigned int i = 0; i < s->n_tables; i++) {
        table_destroy(s->tables[i]);
    }
    free(s->tables);
    hmap_destroy(&s->tables_by_name);
    free(s->name);
    free(s->version);
    free(s->cksum);
    free(s);
}

bool
ovsdb_schema_equal(const struct ovsdb_schema *a, const struct ovsdb_schema *b)
{
    json_t *ja = ovsdb_schema_to_json(a);
    json_t *jb = ovsdb_schema_to_json(b);
    bool equal = json_equal(ja, jb);

    json_decref(ja);
    json_decref(jb);
    return equal;
}

int
ovsdb_schema_version_compare(const char *a, const char *b)
{
    unsigned int va[3] = { 0, 0, 0 }, vb[3] = { 0, 0, 0 };

    if (a) {
        sscanf(a, "%u.%u.%u", &va[0], &va[1], &va[2]);
    }
    if (b) {
        sscanf(b, "%u.%u.%u", &vb[0], &vb[1], &vb[2]);
    }
    for (int i = 0; i < 3; i++) {
        if (va[i] != vb[i]) {
            return va[i] < vb[i] ? -1 : 1;
        }
    }
    return 0;
}
