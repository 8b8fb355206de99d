/* Helpers shared by the executor and database tests. */
#include "test-exec-util.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>
#include <unistd.h>

#include "ds.h"
#include "ovsdb-error.h"
#include "ovsdb-file.h"
#include "ovsdb-schema.h"
#include "ovsdb.h"
#include "util.h"

const char test_schema_json[] =
    "{\"name\": \"T\", \"version\": \"1.0.0\", \"tables\": {"
    " \"Root\": {\"isRoot\": true, \"maxRows\": 2, \"columns\": {"
    "   \"name\": {\"type\": \"string\"},"
    "   \"kids\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Kid\"},"
    "                       \"min\": 0, \"max\": \"unlimited\"}},"
    "   \"n\": {\"type\": \"integer\"},"
    "   \"m\": {\"type\": {\"key\": \"string\", \"value\": \"string\","
    "                    \"min\": 0, \"max\": \"unlimited\"}},"
    "   \"weak\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Kid\","
    "                                \"refType\": \"weak\"},"
    "                       \"min\": 0, \"max\": \"unlimited\"}},"
    "   \"eph\": {\"type\": \"string\", \"ephemeral\": true},"
    "   \"grands\": {\"type\": {\"key\": \"integer\","
    "                         \"value\": {\"type\": \"uuid\", \"refTable\": \"Grand\"},"
    "                         \"min\": 0, \"max\": \"unlimited\"}}}},"
    " \"Kid\": {\"indexes\": [[\"name\"]], \"columns\": {"
    "   \"name\": {\"type\": \"string\", \"mutable\": false},"
    "   \"grand\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Grand\"},"
    "                        \"min\": 0, \"max\": 1}},"
    "   \"tag\": {\"type\": {\"key\": {\"type\": \"integer\", \"minInteger\": 0,"
    "                               \"maxInteger\": 4095}, \"min\": 0, \"max\": 1}},"
    "   \"color\": {\"type\": {\"key\": {\"type\": \"string\","
    "                               \"enum\": [\"set\", [\"red\", \"blue\"]]},"
    "                        \"min\": 0, \"max\": 1}}}},"
    " \"Grand\": {\"columns\": {\"v\": {\"type\": \"integer\"}}},"
    " \"Pair\": {\"isRoot\": true, \"indexes\": [[\"a\", \"b\"]], \"columns\": {"
    "   \"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"string\"}}},"
    " \"WeakMin\": {\"isRoot\": true, \"columns\": {"
    "   \"w\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Kid\","
    "                             \"refType\": \"weak\"},"
    "                    \"min\": 1, \"max\": \"unlimited\"}}}}"
    "}}";

struct ovsdb *
test_db_create(const char *schema_json)
{
    json_error_t jerr;
    json_t *j = json_loads(schema_json, 0, &jerr);
    assert_non_null(j);
    struct ovsdb_schema *schema = NULL;
    struct ovsdb_error *error = ovsdb_schema_from_json(j, &schema);
    if (error) {
        char *s = ovsdb_error_to_string(error);
        fail_msg("schema: %s", s);
    }
    json_decref(j);
    return ovsdb_create(schema);
}

struct ovsdb *
test_db_create_vswitch(void)
{
    /* Our own copy (meson passes the source root), else Debian's. */
    static const char *paths[] = {
        "/usr/share/openvswitch/vswitch.ovsschema",
    };
    const char *src = getenv("LANYARD_SOURCE_ROOT");
    char *own = src ? xasprintf("%s/schema/vswitch.ovsschema", src) : NULL;
    const char *path = NULL;
    if (own && !access(own, R_OK)) {
        path = own;
    } else {
        for (size_t i = 0; i < ARRAY_SIZE(paths); i++) {
            if (!access(paths[i], R_OK)) {
                path = paths[i];
                break;
            }
        }
    }
    struct ovsdb *db = NULL;
    if (path) {
        struct ovsdb_schema *schema = NULL;
        struct ovsdb_error *error = ovsdb_schema_from_file(path, &schema);
        if (error) {
            fail_msg("%s: %s", path, ovsdb_error_to_string(error));
        }
        db = ovsdb_create(schema);
    }
    free(own);
    return db;
}

static bool
default_has_lock(const char *name, void *aux)
{
    return aux && !strcmp(name, aux);
}

/* The log writes records straight to text; it must be exactly the text of
 * the JSON record, as the serializer would write it. */
static void
assert_file_text_matches_json(const struct ovsdb_txn *txn)
{
    json_t *record = ovsdb_txn_to_file_json(txn, 12345);
    struct ds text = DS_EMPTY_INITIALIZER;
    int n = ovsdb_txn_to_file_text(txn, 12345, &text);
    if (!record) {
        assert_int_equal(n, 0);
        assert_int_equal(text.length, 0);
    } else {
        assert_true(n > 0);
        char *want = json_dumps(record, JSON_COMPACT);
        assert_string_equal(ds_cstr(&text), want);
        free(want);
    }
    json_decref(record);
    ds_destroy(&text);
}

json_t *
test_exec(struct ovsdb *db, const char *ops_json,
          const struct ovsdb_exec_ctx *ctx, json_t **recordp)
{
    struct ovsdb_exec_ctx def = { .has_lock = default_has_lock };
    json_error_t jerr;
    json_t *ops = json_loads(ops_json, 0, &jerr);
    if (!ops) {
        fail_msg("bad test JSON: %s: %s", jerr.text, ops_json);
    }
    long long deadline;
    json_t *result = NULL;
    struct ovsdb_txn *txn = NULL;
    enum ovsdb_exec_status st = ovsdb_execute(db, ops, ctx ? ctx : &def, 1000,
                                              &deadline, &result, &txn);
    assert_int_equal(st, OVSDB_EXEC_DONE);
    assert_non_null(result);
    if (recordp) {
        *recordp = txn ? ovsdb_txn_to_file_json(txn, 12345) : NULL;
    }
    if (txn) {
        assert_file_text_matches_json(txn);
    }
    if (txn) {
        ovsdb_txn_commit(txn);
        ovsdb_txn_destroy(txn);
    }
    json_decref(ops);
    return result;
}

json_t *
test_exec_txn(struct ovsdb *db, const char *ops_json, struct ovsdb_txn **txnp)
{
    struct ovsdb_exec_ctx def = { .has_lock = default_has_lock };
    json_t *ops = json_loads(ops_json, 0, NULL);
    assert_non_null(ops);
    long long deadline;
    json_t *result = NULL;
    assert_int_equal(ovsdb_execute(db, ops, &def, 1000, &deadline, &result,
                                   txnp), OVSDB_EXEC_DONE);
    json_decref(ops);
    return result;
}

const char *
test_result_error(const json_t *result, size_t idx)
{
    const json_t *e = json_array_get(result, idx);
    return json_string_value(json_object_get(e, "error"));
}

const char *
test_result_details(const json_t *result, size_t idx)
{
    const json_t *e = json_array_get(result, idx);
    return json_string_value(json_object_get(e, "details"));
}

long long
test_result_count(const json_t *result, size_t idx)
{
    const json_t *c = json_object_get(json_array_get(result, idx), "count");
    assert_true(json_is_integer(c));
    return json_integer_value(c);
}

const char *
test_result_uuid(const json_t *result, size_t idx)
{
    const json_t *u = json_object_get(json_array_get(result, idx), "uuid");
    assert_true(json_is_array(u));
    return json_string_value(json_array_get(u, 1));
}

char *
test_db_dump(const struct ovsdb *db)
{
    json_t *j = ovsdb_to_file_json(db, 0);
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return s;
}
