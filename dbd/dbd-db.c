#include "dbd-db.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>

#include "dblog.h"
#include "ds.h"
#include "ovsdb-convert.h"
#include "ovsdb-error.h"
#include "ovsdb-file.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "schemas.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(dbd_db);

/* Automatic compaction, as ovsdb-server does it: only once the log is big
 * (10 MiB), has grown to 4x its size after the last compaction, and not
 * more often than every 10 minutes. */
#define COMPACT_MIN_SIZE (10u * 1024 * 1024)
#define COMPACT_GROWTH 4
#define COMPACT_MIN_INTERVAL_MSEC (10 * 60 * 1000)

struct dbd_db {
    char *name;                 /* Schema name. */
    struct ovsdb *ovsdb;
    struct dblog *log;          /* NULL for in-memory databases. */
    char *file_name;
    json_t *schema_json;        /* First record, rewritten on compaction. */
    bool reserved;
    long long last_compact;
};

static struct dbd_db *
db_wrap(struct ovsdb *ovsdb)
{
    struct dbd_db *db = xzalloc(sizeof *db);
    db->ovsdb = ovsdb;
    db->name = xstrdup(ovsdb_get_schema(ovsdb)->name);
    return db;
}

struct dbd_db *
dbd_db_create_memory(struct ovsdb_schema *schema, bool reserved)
{
    struct dbd_db *db = db_wrap(ovsdb_create(schema));
    db->reserved = reserved;
    return db;
}

static char *
error_message(const char *file_name, const char *what, struct ovsdb_error *e)
{
    char *s = ovsdb_error_to_string(e);
    char *msg = xasprintf("%s: %s: %s", file_name, what, s);
    free(s);
    ovsdb_error_destroy(e);
    return msg;
}

/* Creates FILE_NAME holding only the built-in schema. */
static char *
create_file(const char *file_name, struct dblog **logp, json_t **schema_jsonp)
{
    char *msg = NULL;
    int error = dblog_open(file_name, DBLOG_CREATE_EXCL, logp, &msg);
    if (error) {
        return msg ? msg : xasprintf("%s: cannot create (%s)", file_name,
                                     strerror(error));
    }
    json_error_t jerr;
    *schema_jsonp = json_loads(lanyard_vswitch_schema, 0, &jerr);
    if (!*schema_jsonp) {
        fatal("built-in schema: %s", jerr.text);
    }
    error = dblog_write(*logp, *schema_jsonp);
    if (!error) {
        error = dblog_commit(*logp);
    }
    if (error) {
        return xasprintf("%s: cannot write schema (%s)", file_name,
                         strerror(error));
    }
    VLOG_INFO("%s: created with the built-in Open_vSwitch schema", file_name);
    return NULL;
}

/* Replays every transaction record of DB->log into DB->ovsdb. */
static char *
replay_log(struct dbd_db *db)
{
    unsigned long long n = 0;
    for (;;) {
        json_t *record;
        int error = dblog_read_next(db->log, &record);
        if (error == EOF) {
            break;
        } else if (error) {
            return xasprintf("%s: read error (%s)", db->file_name,
                             strerror(error));
        }
        struct ovsdb_error *e = ovsdb_file_replay(db->ovsdb, record);
        json_decref(record);
        n++;
        if (e) {
            /* The record is intact but cannot be applied: stopping here
             * would make later appends unreadable, so refuse to start and
             * let the operator decide. */
            char *what = xasprintf("transaction record %llu cannot be applied",
                                   n);
            char *msg = error_message(db->file_name, what, e);
            free(what);
            return msg;
        }
    }
    const char *tail = dblog_get_tail_error(db->log);
    if (tail) {
        VLOG_WARN("%s", tail);
    }
    VLOG_INFO("%s: replayed %llu transaction records", db->file_name, n);
    return NULL;
}

char *
dbd_db_open(const char *file_name, struct dbd_db **dbp)
{
    struct dblog *log = NULL;
    json_t *schema_json = NULL;
    char *msg = NULL;
    struct stat st;

    *dbp = NULL;
    if (stat(file_name, &st) && errno == ENOENT) {
        msg = create_file(file_name, &log, &schema_json);
    } else {
        int error = dblog_open(file_name, DBLOG_READ_WRITE, &log, &msg);
        if (error) {
            return msg ? msg : xasprintf("%s: cannot open (%s)", file_name,
                                         strerror(error));
        }
        error = dblog_read_next(log, &schema_json);
        if (error) {
            const char *tail = dblog_get_tail_error(log);
            msg = tail ? xasprintf("%s: no valid schema record: %s", file_name, tail)
                       : xasprintf("%s: no schema record (%s)", file_name,
                                   error == EOF ? "empty file" : strerror(error));
        }
    }
    if (msg) {
        dblog_close(log);
        json_decref(schema_json);
        return msg;
    }

    struct ovsdb_schema *schema;
    struct ovsdb_error *e = ovsdb_schema_from_json(schema_json, &schema);
    if (e) {
        dblog_close(log);
        json_decref(schema_json);
        return error_message(file_name, "bad schema", e);
    }

    struct dbd_db *db = db_wrap(ovsdb_create(schema));
    db->log = log;
    db->file_name = xstrdup(file_name);
    db->schema_json = schema_json;
    msg = replay_log(db);
    if (msg) {
        dbd_db_close(db);
        return msg;
    }
    *dbp = db;
    return NULL;
}

void
dbd_db_close(struct dbd_db *db)
{
    if (db) {
        if (db->log && dblog_has_pending(db->log)) {
            dblog_commit(db->log);
        }
        dblog_close(db->log);
        ovsdb_destroy(db->ovsdb);
        json_decref(db->schema_json);
        free(db->file_name);
        free(db->name);
        free(db);
    }
}

const char *
dbd_db_name(const struct dbd_db *db)
{
    return db->name;
}

struct ovsdb *
dbd_db_ovsdb(const struct dbd_db *db)
{
    return db->ovsdb;
}

bool
dbd_db_is_reserved(const struct dbd_db *db)
{
    return db->reserved;
}

const char *
dbd_db_file_name(const struct dbd_db *db)
{
    return db->file_name;
}

void
dbd_db_log_txn(struct dbd_db *db, const struct ovsdb_txn *txn)
{
    if (!db->log) {
        return;
    }
    /* Straight to text; through JSON only for the rare values that have
     * no text of their own (see ovsdb_txn_to_file_text()). */
    long long now = time_wall_msec();
    struct ds text = DS_EMPTY_INITIALIZER;
    int n_rows = ovsdb_txn_to_file_text(txn, now, &text);
    int error = 0;
    if (n_rows > 0) {
        error = dblog_write_text(db->log, text.string, text.length);
    } else if (n_rows < 0) {
        json_t *record = ovsdb_txn_to_file_json(txn, now);
        error = record ? dblog_write(db->log, record) : 0;
        json_decref(record);
    }
    ds_destroy(&text);
    if (error) {
        /* Sticky in the log: the next dbd_db_sync() reports it. */
        VLOG_ERR("%s: cannot append transaction (%s)", db->file_name,
                 strerror(error));
    }
}

bool
dbd_db_needs_sync(const struct dbd_db *db)
{
    return db->log && dblog_has_pending(db->log);
}

int
dbd_db_sync(struct dbd_db *db)
{
    return db->log ? dblog_commit(db->log) : 0;
}

/* Writes SCHEMA_JSON and a snapshot of OVSDB (with COMMENT) as the new
 * contents of DB's log, atomically.  Returns 0 or a positive errno (*MSGP
 * may then hold a message, caller frees); on failure the file is intact. */
static int
rewrite_log(struct dbd_db *db, const json_t *schema_json,
            const struct ovsdb *ovsdb, const char *comment, char **msgp)
{
    *msgp = NULL;
    /* Replacing drops pending records, so make them durable first. */
    int error = dblog_commit(db->log);
    if (error) {
        return error;
    }
    struct dblog *new;
    error = dblog_replace_start(db->log, &new, msgp);
    if (error) {
        return error;
    }
    json_t *snapshot = ovsdb_to_file_json(ovsdb, time_wall_msec());
    if (comment) {
        json_object_set_new(snapshot, "_comment", json_string(comment));
    }
    error = dblog_write(new, schema_json);
    if (!error) {
        error = dblog_write(new, snapshot);
    }
    json_decref(snapshot);
    if (error) {
        dblog_replace_abort(new);
        return error;
    }
    return dblog_replace_commit(db->log, new);
}

struct ovsdb_error *
dbd_db_convert(struct dbd_db *db, struct ovsdb_schema *new_schema,
               struct ovsdb **oldp)
{
    *oldp = NULL;
    if (strcmp(new_schema->name, db->name)) {
        struct ovsdb_error *e = ovsdb_error(
            "invalid parameters", "new schema name (%s) does not match "
            "database name (%s)", new_schema->name, db->name);
        ovsdb_schema_destroy(new_schema);
        return e;
    }
    json_t *schema_json = ovsdb_schema_to_json(new_schema);
    struct ovsdb *new;
    struct ovsdb_error *e = ovsdb_convert(db->ovsdb, new_schema, &new);
    if (e) {
        json_decref(schema_json);
        return e;
    }
    if (db->log) {
        char *msg;
        int error = rewrite_log(db, schema_json, new, "converted by "
                                "lanyard-dbd", &msg);
        if (error) {
            e = ovsdb_error("I/O error", "%s: writing the converted "
                            "database failed: %s", db->file_name,
                            msg ? msg : strerror(error));
            free(msg);
            json_decref(schema_json);
            ovsdb_destroy(new);
            return e;
        }
        db->last_compact = time_msec();
    }
    json_decref(db->schema_json);
    db->schema_json = schema_json;
    *oldp = db->ovsdb;
    db->ovsdb = new;
    VLOG_INFO("%s: converted to schema version %s", db->name,
              ovsdb_get_schema(new)->version ? ovsdb_get_schema(new)->version
                                             : "(none)");
    return NULL;
}

char *
dbd_db_compact(struct dbd_db *db)
{
    if (!db->log) {
        return NULL;
    }
    char *msg;
    int error = rewrite_log(db, db->schema_json, db->ovsdb, NULL, &msg);
    if (error) {
        char *full = msg ? xasprintf("compaction failed: %s", msg)
                         : xasprintf("%s: compaction failed: %s",
                                     db->file_name, strerror(error));
        free(msg);
        return full;
    }
    db->last_compact = time_msec();
    struct dblog_stats stats;
    dblog_get_stats(db->log, &stats);
    VLOG_INFO("%s: compacted to %llu bytes", db->file_name,
              (unsigned long long) stats.size);
    return NULL;
}

bool
dbd_db_should_compact(const struct dbd_db *db, long long now)
{
    if (!db->log || (db->last_compact
                     && now - db->last_compact < COMPACT_MIN_INTERVAL_MSEC)) {
        return false;
    }
    struct dblog_stats stats;
    dblog_get_stats(db->log, &stats);
    uint64_t base = stats.size - stats.size_appended;
    return stats.size >= COMPACT_MIN_SIZE && stats.size >= COMPACT_GROWTH * base;
}
