#include "ovsdb-test-util.h"

#include <stdio.h>
#include <unistd.h>

#include "ovsdb-data.h"
#include "ovsdb-schema.h"
#include "util.h"

static const char test_schema[] =
    "{\"name\":\"Test\",\"version\":\"1.2.3\",\"cksum\":\"1 2\","
    " \"tables\":{"
    "  \"Root\":{\"isRoot\":true,\"maxRows\":1,\"columns\":{"
    "     \"kids\":{\"type\":{\"key\":{\"type\":\"uuid\",\"refTable\":\"Kid\"},"
    "               \"min\":0,\"max\":\"unlimited\"}},"
    "     \"cfg\":{\"type\":\"integer\"}}},"
    "  \"Kid\":{\"indexes\":[[\"name\"],[\"name\",\"n\"]],\"columns\":{"
    "     \"name\":{\"type\":\"string\",\"mutable\":false},"
    "     \"n\":{\"type\":{\"key\":\"integer\",\"min\":0,\"max\":1}},"
    "     \"peer\":{\"type\":{\"key\":{\"type\":\"uuid\",\"refTable\":\"Kid\","
    "               \"refType\":\"weak\"},\"min\":0,\"max\":1},"
    "               \"mutable\":false},"
    "     \"status\":{\"type\":{\"key\":\"string\",\"value\":\"string\","
    "               \"min\":0,\"max\":\"unlimited\"},\"ephemeral\":true}}}}}";

static struct ovsdb_schema *
parse_schema(const char *text)
{
    struct ovsdb_schema *s;
    json_t *j = J(text);

    expect_ok(ovsdb_schema_from_json(j, &s));
    json_decref(j);
    return s;
}

static void
test_parse(void **state)
{
    (void) state;
    struct ovsdb_schema *s = parse_schema(test_schema);
    const struct ovsdb_table_schema *root, *kid;
    const struct ovsdb_column_schema *c;

    assert_string_equal(s->name, "Test");
    assert_string_equal(s->version, "1.2.3");
    assert_string_equal(s->cksum, "1 2");
    assert_int_equal(s->n_tables, 2);
    assert_string_equal(s->tables[0]->name, "Root");   /* JSON order. */
    root = ovsdb_schema_find_table(s, "Root");
    kid = ovsdb_schema_find_table(s, "Kid");
    assert_ptr_equal(root, s->tables[0]);
    assert_ptr_equal(kid, s->tables[1]);
    assert_null(ovsdb_schema_find_table(s, "Nope"));
    assert_true(root->is_root);
    assert_false(kid->is_root);
    assert_int_equal(root->max_rows, 1);
    assert_int_equal(kid->max_rows, UINT_MAX);

    /* Implicit columns first, then declared ones in order. */
    assert_int_equal(kid->n_columns, 6);
    assert_string_equal(kid->columns[OVSDB_COL_UUID]->name, "_uuid");
    assert_string_equal(kid->columns[OVSDB_COL_VERSION]->name, "_version");
    assert_int_equal(kid->columns[0]->type.key.type, OVSDB_TYPE_UUID);
    assert_false(kid->columns[0]->mutable_);
    assert_string_equal(kid->columns[2]->name, "name");
    for (unsigned int i = 0; i < kid->n_columns; i++) {
        assert_int_equal(kid->columns[i]->index, i);
        assert_ptr_equal(ovsdb_table_schema_find_column(
                             kid, kid->columns[i]->name), kid->columns[i]);
    }
    assert_null(ovsdb_table_schema_find_column(kid, "nope"));

    c = ovsdb_table_schema_find_column(kid, "name");
    assert_false(c->mutable_);
    c = ovsdb_table_schema_find_column(kid, "status");
    assert_true(c->ephemeral);
    /* Weak references are always mutable. */
    c = ovsdb_table_schema_find_column(kid, "peer");
    assert_true(c->mutable_);
    assert_ptr_equal(c->type.key.u.uuid.ref_table, kid);
    c = ovsdb_table_schema_find_column(root, "kids");
    assert_ptr_equal(c->type.key.u.uuid.ref_table, kid);

    assert_int_equal(kid->n_indexes, 2);
    assert_int_equal(kid->index_sizes[0], 1);
    assert_int_equal(kid->indexes[0][0], 2);
    assert_int_equal(kid->index_sizes[1], 2);
    assert_int_equal(kid->indexes[1][1], 3);
    ovsdb_schema_destroy(s);
}

static void
test_to_json(void **state)
{
    (void) state;
    struct ovsdb_schema *s = parse_schema(test_schema);
    struct ovsdb_schema *c;
    json_t *j = ovsdb_schema_to_json(s);

    /* Implicit columns are never listed; defaults are omitted. */
    expect_json_eq(j,
        "{\"name\":\"Test\",\"version\":\"1.2.3\",\"cksum\":\"1 2\","
        " \"tables\":{"
        "  \"Root\":{\"isRoot\":true,\"maxRows\":1,\"columns\":{"
        "     \"kids\":{\"type\":{\"key\":{\"type\":\"uuid\","
        "               \"refTable\":\"Kid\"},"
        "               \"min\":0,\"max\":\"unlimited\"}},"
        "     \"cfg\":{\"type\":\"integer\"}}},"
        "  \"Kid\":{\"indexes\":[[\"name\"],[\"name\",\"n\"]],\"columns\":{"
        "     \"name\":{\"type\":\"string\",\"mutable\":false},"
        "     \"n\":{\"type\":{\"key\":\"integer\",\"min\":0}},"
        "     \"peer\":{\"type\":{\"key\":{\"type\":\"uuid\","
        "               \"refTable\":\"Kid\",\"refType\":\"weak\"},\"min\":0}},"
        "     \"status\":{\"type\":{\"key\":\"string\",\"value\":\"string\","
        "               \"min\":0,\"max\":\"unlimited\"},"
        "               \"ephemeral\":true}}}}}");

    c = ovsdb_schema_clone(s);
    assert_true(ovsdb_schema_equal(s, c));
    assert_ptr_equal(ovsdb_table_schema_find_column(
                         ovsdb_schema_find_table(c, "Root"), "kids")
                     ->type.key.u.uuid.ref_table,
                     ovsdb_schema_find_table(c, "Kid"));
    ovsdb_schema_destroy(s);
    ovsdb_schema_destroy(c);
    json_decref(j);
    ovsdb_schema_destroy(NULL);
}

static void
test_all_root(void **state)
{
    (void) state;
    /* No table marked root: all are root, and isRoot is not written. */
    const char *text = "{\"name\":\"X\",\"tables\":{\"A\":{\"columns\":"
                       "{\"a\":{\"type\":\"integer\"}}},\"B\":{\"columns\":"
                       "{\"b\":{\"type\":\"integer\"}}}}}";
    struct ovsdb_schema *s = parse_schema(text);
    json_t *j;

    assert_true(s->tables[0]->is_root);
    assert_true(s->tables[1]->is_root);
    assert_null(s->version);
    j = ovsdb_schema_to_json(s);
    expect_json_eq(j, text);
    json_decref(j);
    ovsdb_schema_destroy(s);
}

static void
bad_schema(const char *text, const char *details)
{
    struct ovsdb_schema *s = (struct ovsdb_schema *) 1;
    json_t *j = J(text);

    expect_error(ovsdb_schema_from_json(j, &s), "syntax error", details);
    assert_null(s);
    json_decref(j);
}

#define HDR "{\"name\":\"T\",\"version\":\"1.0.0\",\"tables\":"

static void
test_errors(void **state)
{
    (void) state;
    /* Wording observed from ovsdb-tool 3.1. */
    bad_schema(HDR "{\"A\":{\"columns\":{\"_x\":{\"type\":\"integer\"}}}}}",
               "names beginning with \"_\" are reserved");
    bad_schema(HDR "{\"_A\":{\"columns\":{\"x\":{\"type\":\"integer\"}}}}}",
               "names beginning with \"_\" are reserved");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a b\":{\"type\":\"integer\"}}}}}",
               "name must be a valid id");
    bad_schema(HDR "{\"A\":{\"columns\":{}}}}",
               "table must have at least one column");
    bad_schema(HDR "{\"B\":{\"columns\":{\"r\":{\"type\":{\"key\":"
               "{\"type\":\"uuid\",\"refTable\":\"C\"}}}}}}}",
               "column r key refers to undefined table C");
    bad_schema(HDR "{\"B\":{\"columns\":{\"r\":{\"type\":{\"key\":\"string\","
               "\"value\":{\"type\":\"uuid\",\"refTable\":\"C\"}}}}}}}",
               "column r value refers to undefined table C");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
               "\"indexes\":[[\"b\"]]}}}", "b is not a valid column name");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
               "\"indexes\":[[]]}}}", "index must have at least one column");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
               "\"indexes\":[[\"a\",\"a\"]]}}}",
               "array of distinct column names expected");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
               "\"indexes\":[\"a\"]}}}",
               "array of distinct column names expected");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\","
               "\"ephemeral\":true}},\"indexes\":[[\"a\"]]}}}",
               "ephemeral columns (such as a) may not be indexed");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
               "\"maxRows\":0}}}", "maxRows must be at least 1");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
               "\"isRoot\":1}}}", "Parsing table schema for table A failed: "
               "Type mismatch for member 'isRoot'.");
    bad_schema(HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
               "\"bogus\":1}}}", "Parsing table schema for table A failed: "
               "Member 'bogus' is present but not allowed here.");
    bad_schema(HDR "{\"A\":{\"columns\":{\"x\":{\"type\":\"integer\","
               "\"foo\":1}}}}}", "Parsing schema for column x failed: "
               "Member 'foo' is present but not allowed here.");
    bad_schema(HDR "{\"A\":{\"columns\":{\"x\":{\"mutable\":true}}}}}",
               "Parsing schema for column x failed: Required 'type' member "
               "is missing.");
    bad_schema(HDR "{\"A\":{\"columns\":{\"x\":{\"type\":\"frob\"}}}}}",
               "\"frob\" is not an atomic-type");
    bad_schema("{\"name\":\"T\",\"version\":\"1.0\",\"tables\":{}}",
               "schema version \"1.0\" not in format x.y.z");
    bad_schema("{\"name\":\"1T\",\"tables\":{}}",
               "Parsing database schema failed: Type mismatch for member "
               "'name'.");
    bad_schema("{\"name\":\"T\"}", "Parsing database schema failed: Required "
               "'tables' member is missing.");
    bad_schema("[]", "Parsing database schema failed: Object expected.");

    /* An index on an implicit column is allowed. */
    struct ovsdb_schema *s = parse_schema(
        HDR "{\"A\":{\"columns\":{\"a\":{\"type\":\"integer\"}},"
        "\"indexes\":[[\"_uuid\"]]}}}");
    assert_int_equal(s->tables[0]->indexes[0][0], OVSDB_COL_UUID);
    ovsdb_schema_destroy(s);
}

static void
test_version_compare(void **state)
{
    (void) state;
    assert_int_equal(ovsdb_schema_version_compare("8.3.1", "8.3.1"), 0);
    assert_true(ovsdb_schema_version_compare("8.3.1", "8.10.0") < 0);
    assert_true(ovsdb_schema_version_compare("9.0.0", "8.10.0") > 0);
    assert_true(ovsdb_schema_version_compare(NULL, "0.0.1") < 0);
}

/* --- Comparing a parsed schema with its source file, semantically --- */

static int
cmp_json_text(const void *a_, const void *b_)
{
    json_t *const *a = a_, *const *b = b_;
    char *sa = json_dumps(*a, JSON_ENCODE_ANY | JSON_COMPACT);
    char *sb = json_dumps(*b, JSON_ENCODE_ANY | JSON_COMPACT);
    int c = strcmp(sa, sb);

    free(sa);
    free(sb);
    return c;
}

/* Expands a <base-type> to an object with every default explicit. */
static json_t *
norm_base(const json_t *b)
{
    json_t *n = json_is_string(b) ? json_pack("{sO}", "type", b)
                                  : json_deep_copy(b);
    json_t *e = json_object_get(n, "enum");
    const char *type = json_string_value(json_object_get(n, "type"));

    if (e) {
        json_t *elems;
        size_t k = 0;
        json_t **v;

        if (json_is_array(e) && json_is_string(json_array_get(e, 0))
            && !strcmp(json_string_value(json_array_get(e, 0)), "set")) {
            elems = json_deep_copy(json_array_get(e, 1));
        } else {
            elems = json_pack("[O]", e);
        }
        v = xcalloc(json_array_size(elems) + 1, sizeof *v);
        for (k = 0; k < json_array_size(elems); k++) {
            v[k] = json_array_get(elems, k);
        }
        qsort(v, k, sizeof *v, cmp_json_text);
        json_t *sorted = json_array();
        for (size_t i = 0; i < k; i++) {
            json_array_append(sorted, v[i]);
        }
        free(v);
        json_decref(elems);
        json_object_set_new(n, "enum", sorted);
    }
    if (!strcmp(type, "uuid") && json_object_get(n, "refTable")
        && !json_object_get(n, "refType")) {
        json_object_set_new(n, "refType", json_string("strong"));
    }
    if (!strcmp(type, "real")) {
        const char *keys[] = { "minReal", "maxReal" };
        for (int i = 0; i < 2; i++) {
            json_t *r = json_object_get(n, keys[i]);
            if (r) {
                json_object_set_new(n, keys[i], json_real(json_number_value(r)));
            }
        }
    }
    return n;
}

static json_t *
norm_type(const json_t *t)
{
    json_t *n = json_object();

    if (json_is_string(t)) {
        json_object_set_new(n, "key", norm_base(t));
        json_object_set_new(n, "min", json_integer(1));
        json_object_set_new(n, "max", json_integer(1));
        return n;
    }
    json_object_set_new(n, "key", norm_base(json_object_get(t, "key")));
    if (json_object_get(t, "value")) {
        json_object_set_new(n, "value", norm_base(json_object_get(t, "value")));
    }
    json_object_set_new(n, "min", json_object_get(t, "min")
                        ? json_copy(json_object_get(t, "min"))
                        : json_integer(1));
    json_object_set_new(n, "max", json_object_get(t, "max")
                        ? json_copy(json_object_get(t, "max"))
                        : json_integer(1));
    return n;
}

/* Tables and columns with every default explicit (weak refs mutable). */
static json_t *
norm_schema(const json_t *s)
{
    json_t *tables = json_object();
    const char *tn, *cn;
    json_t *t, *c;

    json_object_foreach (json_object_get(s, "tables"), tn, t) {
        json_t *nt = json_object(), *cols = json_object();

        json_object_foreach (json_object_get(t, "columns"), cn, c) {
            json_t *nc = json_object();
            json_t *type = norm_type(json_object_get(c, "type"));
            bool weak = false;
            const char *parts[] = { "key", "value" };

            for (int i = 0; i < 2; i++) {
                json_t *rt = json_object_get(json_object_get(type, parts[i]),
                                             "refType");
                weak |= rt && !strcmp(json_string_value(rt), "weak");
            }
            json_object_set_new(nc, "type", type);
            json_object_set_new(nc, "ephemeral", json_boolean(
                json_is_true(json_object_get(c, "ephemeral"))));
            json_object_set_new(nc, "mutable", json_boolean(
                weak || !json_is_false(json_object_get(c, "mutable"))));
            json_object_set_new(cols, cn, nc);
        }
        json_object_set_new(nt, "columns", cols);
        json_object_set_new(nt, "isRoot", json_boolean(
            json_is_true(json_object_get(t, "isRoot"))));
        json_object_set_new(nt, "maxRows", json_object_get(t, "maxRows")
                            ? json_copy(json_object_get(t, "maxRows"))
                            : json_null());
        json_object_set_new(nt, "indexes", json_object_get(t, "indexes")
                            ? json_copy(json_object_get(t, "indexes"))
                            : json_array());
        json_object_set_new(tables, tn, nt);
    }
    return json_pack("{sOsOso}", "name", json_object_get(s, "name"),
                     "version", json_object_get(s, "version"),
                     "tables", tables);
}

static void
check_schema_file(const char *path)
{
    struct ovsdb_schema *s, *c;
    json_t *file, *out, *a, *b;

    if (access(path, R_OK)) {
        print_message("skipping %s: not present\n", path);
        return;
    }
    file = json_load_file(path, 0, NULL);
    assert_non_null(file);
    expect_ok(ovsdb_schema_from_file(path, &s));
    out = ovsdb_schema_to_json(s);
    a = norm_schema(file);
    b = norm_schema(out);
    assert_true(json_equal(a, b));
    assert_true(json_equal(json_object_get(out, "cksum"),
                           json_object_get(file, "cksum")));
    /* Parsing our own output gives the same schema. */
    expect_ok(ovsdb_schema_from_json(out, &c));
    assert_true(ovsdb_schema_equal(s, c));
    assert_int_equal(s->n_tables, json_object_size(json_object_get(file,
                                                                   "tables")));
    ovsdb_schema_destroy(c);
    ovsdb_schema_destroy(s);
    json_decref(a);
    json_decref(b);
    json_decref(out);
    json_decref(file);
}

static void
test_real_schemas(void **state)
{
    (void) state;
    const char *src = getenv("LANYARD_SRCDIR");
    char *path = xasprintf("%s/schema/vswitch.ovsschema", src ? src : ".");
    struct ovsdb_schema *s;

    check_schema_file("/usr/share/openvswitch/vswitch.ovsschema");
    check_schema_file(path);
    free(path);
    /* The database name may begin with '_' (table names may not). */
    path = xasprintf("%s/schema/_server.ovsschema", src ? src : ".");
    check_schema_file(path);
    if (!access(path, R_OK)) {
        expect_ok(ovsdb_schema_from_file(path, &s));
        assert_string_equal(s->name, "_Server");
        assert_non_null(ovsdb_schema_find_table(s, "Database"));
        ovsdb_schema_destroy(s);
    }
    free(path);

    /* Spot checks on the Debian schema (reference §1.2). */
    if (!access("/usr/share/openvswitch/vswitch.ovsschema", R_OK)) {
        const struct ovsdb_table_schema *t;

        expect_ok(ovsdb_schema_from_file(
                      "/usr/share/openvswitch/vswitch.ovsschema", &s));
        assert_int_equal(s->n_tables, 19);
        t = ovsdb_schema_find_table(s, "Open_vSwitch");
        assert_true(t->is_root);
        assert_int_equal(t->max_rows, 1);
        assert_int_equal(t->n_columns, 17 + OVSDB_N_IMPLICIT_COLUMNS);
        t = ovsdb_schema_find_table(s, "Bridge");
        assert_false(t->is_root);
        assert_int_equal(t->n_indexes, 1);
        assert_false(ovsdb_table_schema_find_column(t, "name")->mutable_);
        t = ovsdb_schema_find_table(s, "Interface");
        assert_int_equal(t->n_columns, 35 + OVSDB_N_IMPLICIT_COLUMNS);
        ovsdb_schema_destroy(s);
    }
}

/* vswitch-get-schema.json is what ovsdb-server 3.1 answered to get_schema
 * for Debian's vswitch.ovsschema (captured with ovsdb-client get-schema):
 * our to_json() must give the same JSON for any file with that checksum. */
static void
test_matches_ovsdb_server(void **state)
{
    (void) state;
    const char *src = getenv("LANYARD_SRCDIR");
    char *fixture = xasprintf("%s/tests/unit/ovsdb/vswitch-get-schema.json",
                              src ? src : ".");
    char *ours = xasprintf("%s/schema/vswitch.ovsschema", src ? src : ".");
    const char *files[] = { "/usr/share/openvswitch/vswitch.ovsschema", ours };
    json_t *expected = json_load_file(fixture, 0, NULL);
    int checked = 0;

    assert_non_null(expected);
    for (size_t i = 0; i < 2; i++) {
        struct ovsdb_schema *s;
        json_t *out;

        if (access(files[i], R_OK)) {
            continue;
        }
        expect_ok(ovsdb_schema_from_file(files[i], &s));
        if (s->cksum && !strcmp(s->cksum, json_string_value(
                                    json_object_get(expected, "cksum")))) {
            out = ovsdb_schema_to_json(s);
            assert_true(json_equal(out, expected));
            json_decref(out);
            checked++;
        }
        ovsdb_schema_destroy(s);
    }
    if (!checked) {
        print_message("no schema file with the fixture's checksum\n");
    }
    json_decref(expected);
    free(fixture);
    free(ours);
}

static void
test_from_file_errors(void **state)
{
    (void) state;
    struct ovsdb_schema *s;
    char path[] = "/tmp/lanyard-test-schema-XXXXXX";
    int fd = mkstemp(path);
    FILE *f;

    expect_error(ovsdb_schema_from_file("/nonexistent/x.ovsschema", &s),
                 "I/O error", NULL);
    assert_null(s);

    assert_true(fd >= 0);
    f = fdopen(fd, "w");
    fputs("{\"name\": \"T\", \"tables\": {", f);
    fclose(f);
    expect_error(ovsdb_schema_from_file(path, &s), "syntax error", NULL);

    f = fopen(path, "w");
    fputs(HDR "{\"A\":{\"columns\":{}}}}", f);
    fclose(f);
    struct ovsdb_error *e = ovsdb_schema_from_file(path, &s);
    char *want = xasprintf("failed to parse \"%s\" as ovsdb schema: table "
                           "must have at least one column", path);
    expect_error(e, "syntax error", want);
    free(want);
    unlink(path);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_parse),
        cmocka_unit_test(test_to_json),
        cmocka_unit_test(test_all_root),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_version_compare),
        cmocka_unit_test(test_real_schemas),
        cmocka_unit_test(test_matches_ovsdb_server),
        cmocka_unit_test(test_from_file_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
