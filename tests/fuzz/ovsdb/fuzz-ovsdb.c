/* Fuzz target: transact operations against a small database.
 *
 * The input is parsed as JSON and executed twice as the operations of one
 * transact request (the second run sees what the first committed).  Every
 * committed transaction is also written as a file record and replayed into a
 * mirror database; the two must stay identical, which checks the executor,
 * the commit-time rules and the file translation against each other. */
#include <jansson.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "ovsdb-error.h"
#include "ovsdb-file.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char schema_json[] =
    "{\"name\": \"F\", \"tables\": {"
    " \"Top\": {\"isRoot\": true, \"maxRows\": 3, \"columns\": {"
    "   \"name\": {\"type\": \"string\"},"
    "   \"kids\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Kid\"},"
    "                       \"min\": 0, \"max\": \"unlimited\"}},"
    "   \"n\": {\"type\": {\"key\": {\"type\": \"integer\", \"minInteger\": -100,"
    "                             \"maxInteger\": 100}}},"
    "   \"r\": {\"type\": \"real\"}, \"b\": {\"type\": \"boolean\"},"
    "   \"m\": {\"type\": {\"key\": \"string\", \"value\": \"integer\","
    "                    \"min\": 0, \"max\": \"unlimited\"}},"
    "   \"w\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Kid\","
    "                             \"refType\": \"weak\"},"
    "                    \"min\": 0, \"max\": 4}},"
    "   \"e\": {\"type\": \"string\", \"ephemeral\": true}}},"
    " \"Kid\": {\"indexes\": [[\"name\"]], \"columns\": {"
    "   \"name\": {\"type\": \"string\", \"mutable\": false},"
    "   \"sub\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Sub\"},"
    "                      \"min\": 0, \"max\": 1}},"
    "   \"color\": {\"type\": {\"key\": {\"type\": \"string\","
    "                               \"enum\": [\"set\", [\"red\", \"blue\"]]},"
    "                        \"min\": 0, \"max\": 1}},"
    "   \"tags\": {\"type\": {\"key\": \"integer\", \"min\": 0, \"max\": 8}}}},"
    " \"Sub\": {\"columns\": {\"v\": {\"type\": \"integer\"},"
    "   \"back\": {\"type\": {\"key\": {\"type\": \"uuid\", \"refTable\": \"Kid\","
    "                              \"refType\": \"weak\"},"
    "                       \"min\": 1, \"max\": 1}}}},"
    " \"Pair\": {\"isRoot\": true, \"indexes\": [[\"a\", \"b\"]], \"columns\": {"
    "   \"a\": {\"type\": \"integer\"}, \"b\": {\"type\": \"string\"}}}"
    "}}";

static struct ovsdb *
create_db(void)
{
    json_t *j = json_loads(schema_json, 0, NULL);
    struct ovsdb_schema *schema = NULL;
    struct ovsdb_error *error = ovsdb_schema_from_json(j, &schema);
    json_decref(j);
    if (error) {
        abort();
    }
    return ovsdb_create(schema);
}

static char *
dump(const struct ovsdb *db)
{
    json_t *j = ovsdb_to_file_json(db, 0);
    char *s = json_dumps(j, JSON_SORT_KEYS | JSON_COMPACT);
    json_decref(j);
    return s;
}

static bool
has_lock(const char *name, void *aux)
{
    return !strcmp(name, "held");
}

static void
run_once(struct ovsdb *db, struct ovsdb *mirror, const json_t *ops,
         bool read_only)
{
    struct ovsdb_exec_ctx ctx = { .has_lock = has_lock, .read_only = read_only,
                                  .start_msec = 1 };
    long long deadline;
    json_t *result = NULL;
    struct ovsdb_txn *txn = NULL;
    enum ovsdb_exec_status st = ovsdb_execute(db, ops, &ctx, 1000, &deadline,
                                              &result, &txn);
    if (st == OVSDB_EXEC_BLOCKED) {
        if (result || txn || deadline < 1000) {
            abort();
        }
        return;
    }
    if (!json_is_array(result)) {
        abort();
    }
    if (txn) {
        json_t *record = ovsdb_txn_to_file_json(txn, 1);
        /* The log's direct text must be the record's exact text. */
        struct ds text = DS_EMPTY_INITIALIZER;
        int n = ovsdb_txn_to_file_text(txn, 1, &text);
        char *want = record ? json_dumps(record, JSON_COMPACT) : NULL;
        if (n >= 0 && (!record != !n || (want && strcmp(want, ds_cstr(&text))))) {
            abort();
        }
        free(want);
        ds_destroy(&text);
        ovsdb_txn_commit(txn);
        ovsdb_txn_destroy(txn);
        if (record) {
            struct ovsdb_error *error = ovsdb_file_replay(mirror, record);
            if (error) {
                abort();
            }
            json_decref(record);
        }
        char *a = dump(db), *b = dump(mirror);
        if (strcmp(a, b)) {
            abort();
        }
        free(a);
        free(b);
    }
    json_decref(result);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    json_t *ops = json_loadb((const char *) data, size,
                             JSON_DECODE_ANY, NULL);
    if (!ops) {
        return 0;
    }
    struct ovsdb *db = create_db(), *mirror = create_db();
    run_once(db, mirror, ops, false);
    run_once(db, mirror, ops, false);
    run_once(db, mirror, ops, true);
    ovsdb_destroy(db);
    ovsdb_destroy(mirror);
    json_decref(ops);
    return 0;
}
