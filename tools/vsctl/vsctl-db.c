/* vsctl-db: see vsctl-db.h. */
#include "vsctl-db.h"

#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ds.h"
#include "hash.h"
#include "util.h"

struct vsctl_db {
    int fd;
    char *remote;
    char *db_name;
    char *buf;                  /* Received bytes not yet parsed. */
    size_t len, cap;
    long long next_id;
    struct vsctl_table *tables;
    size_t n_tables;
    json_t *preconds;           /* "wait" operations, in order. */
    json_t *notifications;      /* "update" params received, queued. */
};

struct vsctl_query {
    struct hmap_node node;
    char *key;
};

/* ---- Connection. ---- */

static int
connect_unix(const char *path)
{
    struct sockaddr_un sun;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        return errno;
    }
    char *proc_path = NULL;
    if (strlen(path) >= sizeof sun.sun_path) {
        /* Reach long paths through the directory's file descriptor. */
        const char *slash = strrchr(path, '/');
        char *dir = xstrndup(path, slash - path);
        int dfd = open(dir, O_PATH_OR_RDONLY);
        free(dir);
        if (dfd < 0) {
            int error = errno;
            close(fd);
            return error;
        }
        proc_path = xasprintf("/proc/self/fd/%d/%s", dfd, slash + 1);
        path = proc_path;
    }
    memset(&sun, 0, sizeof sun);
    sun.sun_family = AF_UNIX;
    snprintf(sun.sun_path, sizeof sun.sun_path, "%s", path);
    free(proc_path);
    if (connect(fd, (struct sockaddr *) &sun, sizeof sun) < 0) {
        int error = errno;
        close(fd);
        return error;
    }
    return -fd - 1;
}

static int
connect_tcp(const char *target)
{
    char *host, *port;
    const char *colon;
    if (target[0] == '[') {
        const char *rb = strchr(target, ']');
        if (!rb || rb[1] != ':') {
            return EINVAL;
        }
        host = xstrndup(target + 1, rb - target - 1);
        port = xstrdup(rb + 2);
    } else if ((colon = strrchr(target, ':')) != NULL) {
        host = xstrndup(target, colon - target);
        port = xstrdup(colon + 1);
    } else {
        return EINVAL;
    }
    struct addrinfo hints = { .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV };
    struct addrinfo *ai;
    int rc = getaddrinfo(host, port, &hints, &ai);
    free(host);
    free(port);
    if (rc) {
        return EINVAL;
    }
    int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int error = 0;
    if (fd < 0 || connect(fd, ai->ai_addr, ai->ai_addrlen) < 0) {
        error = errno;
        if (fd >= 0) {
            close(fd);
        }
    }
    freeaddrinfo(ai);
    return error ? error : -fd - 1;
}

/* Returns a connected fd (>= 0) or a positive errno as a negative-free
 * encoding: callers get *ERRORP. */
static int
connect_remote(const char *name, int *errorp)
{
    int rc;
    if (str_starts_with(name, "unix:")) {
        rc = connect_unix(name + 5);
    } else if (str_starts_with(name, "tcp:")) {
        rc = connect_tcp(name + 4);
    } else {
        rc = EAFNOSUPPORT;
    }
    if (rc < 0) {
        *errorp = 0;
        return -rc - 1;
    }
    *errorp = rc;
    return -1;
}

static void
send_json(struct vsctl_db *db, json_t *msg)
{
    char *txt = json_dumps(msg, JSON_COMPACT);
    size_t len = strlen(txt), off = 0;
    while (off < len) {
        ssize_t n = write(db->fd, txt + off, len - off);
        if (n < 0 && errno == EINTR) {
            continue;
        } else if (n <= 0) {
            fatal("%s: send failed (%s)", db->remote, strerror(errno));
        }
        off += n;
    }
    free(txt);
}

/* Length of the first complete JSON object at the start of BUF, or 0. */
static size_t
frame_length(const char *buf, size_t len)
{
    int depth = 0;
    bool in_str = false, esc = false;
    for (size_t i = 0; i < len; i++) {
        char c = buf[i];
        if (in_str) {
            if (esc) {
                esc = false;
            } else if (c == '\\') {
                esc = true;
            } else if (c == '"') {
                in_str = false;
            }
        } else if (c == '"') {
            in_str = true;
        } else if (c == '{' || c == '[') {
            depth++;
        } else if (c == '}' || c == ']') {
            if (--depth == 0) {
                return i + 1;
            }
        }
    }
    return 0;
}

static json_t *
recv_json(struct vsctl_db *db)
{
    size_t scanned = 0;
    for (;;) {
        while (db->len && (db->buf[0] == ' ' || db->buf[0] == '\n'
                           || db->buf[0] == '\r' || db->buf[0] == '\t')) {
            memmove(db->buf, db->buf + 1, --db->len);
        }
        size_t flen = db->len > scanned ? frame_length(db->buf, db->len) : 0;
        if (flen) {
            json_error_t err;
            json_t *j = json_loadb(db->buf, flen, 0, &err);
            memmove(db->buf, db->buf + flen, db->len - flen);
            db->len -= flen;
            if (!j) {
                fatal("%s: received bad JSON (%s)", db->remote, err.text);
            }
            return j;
        }
        scanned = db->len;
        if (db->cap - db->len < 65536) {
            db->cap = db->cap * 2 + 65536;
            db->buf = xrealloc(db->buf, db->cap);
        }
        ssize_t n = read(db->fd, db->buf + db->len, db->cap - db->len);
        if (n < 0 && errno == EINTR) {
            continue;
        } else if (n < 0) {
            fatal("%s: receive failed (%s)", db->remote, strerror(errno));
        } else if (n == 0) {
            fatal("%s: connection closed by peer", db->remote);
        }
        db->len += n;
        scanned = 0;
    }
}

/* Handles a message that is not the reply being waited for. */
static void
handle_other(struct vsctl_db *db, json_t *msg)
{
    const json_t *method = json_object_get(msg, "method");
    if (!json_is_string(method)) {
        return;
    }
    const char *m = json_string_value(method);
    if (!strcmp(m, "echo")) {
        json_t *reply = json_pack("{sOsO}", "result",
                                  json_object_get(msg, "params"),
                                  "id", json_object_get(msg, "id"));
        send_json(db, reply);
        json_decref(reply);
    } else if (!strcmp(m, "update")) {
        json_array_append(db->notifications, json_object_get(msg, "params"));
    }
}

/* Sends METHOD(PARAMS) (takes ownership) and returns the "result" of the
 * reply (caller owns); a JSON-RPC error is fatal. */
static json_t *
transact(struct vsctl_db *db, const char *method, json_t *params)
{
    long long id = db->next_id++;
    json_t *req = json_pack("{sssosI}", "method", method, "params", params,
                            "id", (json_int_t) id);
    send_json(db, req);
    json_decref(req);
    for (;;) {
        json_t *msg = recv_json(db);
        const json_t *rid = json_object_get(msg, "id");
        if (json_is_integer(rid) && json_integer_value(rid) == id
            && !json_object_get(msg, "method")) {
            const json_t *error = json_object_get(msg, "error");
            if (error && !json_is_null(error)) {
                char *txt = json_dumps(error, JSON_COMPACT | JSON_SORT_KEYS
                                       | JSON_ENCODE_ANY);
                fatal("transaction error: %s", txt);
            }
            json_t *result = json_incref(json_object_get(msg, "result"));
            json_decref(msg);
            return result;
        }
        handle_other(db, msg);
        json_decref(msg);
    }
}

/* ---- Schema. ---- */

static int
compare_columns(const void *a_, const void *b_)
{
    const struct vsctl_column *a = a_, *b = b_;
    return strcmp(a->name, b->name);
}

static void
parse_table(struct vsctl_table *t, const char *name, const json_t *j)
{
    const json_t *cols = json_object_get(j, "columns");
    const char *cname;
    const json_t *cj;
    memset(t, 0, sizeof *t);
    t->name = xstrdup(name);
    t->is_root = json_is_true(json_object_get(j, "isRoot"));
    const json_t *mr = json_object_get(j, "maxRows");
    t->max_rows = json_is_integer(mr) ? (unsigned int) json_integer_value(mr)
                                      : UINT_MAX;
    t->columns = xcalloc(json_object_size(cols) + 1, sizeof *t->columns);
    t->columns[0].name = xstrdup("_uuid");
    t->columns[0].type.key.type = VA_UUID;
    t->columns[0].type.n_min = t->columns[0].type.n_max = 1;
    t->n_columns = 1;
    json_object_foreach((json_t *) cols, cname, cj) {
        struct vsctl_column *c = &t->columns[t->n_columns];
        char *err = vsctl_type_from_json(&c->type, json_object_get(cj, "type"));
        if (err) {
            fatal("schema error in %s.%s: %s", name, cname, err);
        }
        c->name = xstrdup(cname);
        const json_t *m = json_object_get(cj, "mutable");
        c->mutable = !m || json_is_true(m);
        t->n_columns++;
    }
    qsort(t->columns + 1, t->n_columns - 1, sizeof *t->columns,
          compare_columns);
    for (size_t i = 0; i < t->n_columns; i++) {
        t->columns[i].idx = i;
    }
    hmap_init(&t->rows);
    hmap_init(&t->queries);
}

static void
load_schema(struct vsctl_db *db)
{
    json_t *schema = transact(db, "get_schema", json_pack("[s]", db->db_name));
    const json_t *tables = json_object_get(schema, "tables");
    if (!json_is_object(tables)) {
        fatal("%s: server returned a schema without tables", db->remote);
    }
    db->tables = xcalloc(json_object_size(tables), sizeof *db->tables);
    const char *name;
    const json_t *tj;
    json_object_foreach((json_t *) tables, name, tj) {
        parse_table(&db->tables[db->n_tables++], name, tj);
    }
    json_decref(schema);
}

struct vsctl_db *
vsctl_db_open(const char *remote, const char *db_name, bool retry)
{
    struct vsctl_db *db = xzalloc(sizeof *db);
    db->remote = xstrdup(remote);
    db->db_name = xstrdup(db_name);
    db->next_id = 1;
    db->preconds = json_array();
    db->notifications = json_array();
    for (;;) {
        int error = 0;
        char *list = xstrdup(remote), *save = NULL;
        for (char *r = strtok_r(list, ",", &save); r;
             r = strtok_r(NULL, ",", &save)) {
            db->fd = connect_remote(r, &error);
            if (db->fd >= 0) {
                break;
            }
        }
        free(list);
        if (db->fd >= 0) {
            break;
        } else if (!retry) {
            fatal("%s: database connection failed (%s)", remote,
                  strerror(error));
        }
        usleep(500 * 1000);
    }
    load_schema(db);
    return db;
}

static void
row_free(struct vsctl_row *row)
{
    struct vsctl_table *t = row->table;
    for (size_t i = 0; i < t->n_columns; i++) {
        const struct vsctl_type *type = &t->columns[i].type;
        if (row->data[i]) {
            vsctl_datum_destroy(row->data[i], type);
            free(row->data[i]);
        }
        if (row->mut_ins[i]) {
            vsctl_datum_destroy(row->mut_ins[i], type);
            free(row->mut_ins[i]);
        }
        if (row->mut_del[i]) {
            vsctl_datum_destroy(row->mut_del[i], type);
            free(row->mut_del[i]);
        }
    }
    free(row->data);
    free(row->written);
    free(row->mut_ins);
    free(row->mut_del);
    json_decref(row->verify);
    free(row);
}

void
vsctl_db_reset(struct vsctl_db *db)
{
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_table *t = &db->tables[i];
        struct vsctl_row *row;
        struct vsctl_query *q;
        HMAP_FOR_EACH_POP (row, node, &t->rows) {
            row_free(row);
        }
        HMAP_FOR_EACH_POP (q, node, &t->queries) {
            free(q->key);
            free(q);
        }
        t->all_fetched = false;
    }
    json_array_clear(db->preconds);
}

void
vsctl_db_close(struct vsctl_db *db)
{
    if (!db) {
        return;
    }
    vsctl_db_reset(db);
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_table *t = &db->tables[i];
        for (size_t c = 0; c < t->n_columns; c++) {
            free(t->columns[c].name);
            vsctl_type_destroy(&t->columns[c].type);
        }
        free(t->columns);
        free(t->name);
        hmap_destroy(&t->rows);
        hmap_destroy(&t->queries);
    }
    free(db->tables);
    json_decref(db->preconds);
    json_decref(db->notifications);
    close(db->fd);
    free(db->buf);
    free(db->remote);
    free(db->db_name);
    free(db);
}

size_t
vsctl_db_n_tables(const struct vsctl_db *db)
{
    return db->n_tables;
}

struct vsctl_table *
vsctl_db_table_at(struct vsctl_db *db, size_t i)
{
    return &db->tables[i];
}

struct vsctl_table *
vsctl_db_get_table(struct vsctl_db *db, const char *name)
{
    for (size_t i = 0; i < db->n_tables; i++) {
        if (!strcmp(db->tables[i].name, name)) {
            return &db->tables[i];
        }
    }
    return NULL;
}

const struct vsctl_column *
vsctl_table_get_column(const struct vsctl_table *t, const char *name)
{
    for (size_t i = 0; i < t->n_columns; i++) {
        if (!strcmp(t->columns[i].name, name)) {
            return &t->columns[i];
        }
    }
    return NULL;
}

static const struct vsctl_column *
must_get_column(const struct vsctl_table *t, const char *name)
{
    const struct vsctl_column *c = vsctl_table_get_column(t, name);
    if (!c) {
        fatal("%s does not contain a column whose name matches \"%s\"",
              t->name, name);
    }
    return c;
}

/* ---- Row cache. ---- */

static struct vsctl_row *
cache_lookup(struct vsctl_table *t, const struct uuid *uuid)
{
    struct vsctl_row *row;
    HMAP_FOR_EACH_WITH_HASH (row, node, uuid_hash(uuid), &t->rows) {
        if (uuid_equals(&row->uuid, uuid)) {
            return row;
        }
    }
    return NULL;
}

static struct vsctl_row *
row_create(struct vsctl_table *t, const struct uuid *uuid)
{
    struct vsctl_row *row = xzalloc(sizeof *row);
    row->uuid = *uuid;
    row->table = t;
    row->data = xcalloc(t->n_columns, sizeof *row->data);
    row->written = xcalloc(t->n_columns, sizeof *row->written);
    row->mut_ins = xcalloc(t->n_columns, sizeof *row->mut_ins);
    row->mut_del = xcalloc(t->n_columns, sizeof *row->mut_del);
    row->data[0] = xmalloc(sizeof *row->data[0]);
    vsctl_datum_init_empty(row->data[0]);
    union vsctl_atom a = { .uuid = *uuid };
    vsctl_datum_put(row->data[0], &t->columns[0].type, &a, NULL, false);
    hmap_insert(&t->rows, &row->node, uuid_hash(uuid));
    return row;
}

/* Columns fetched by default: everything but large reference sets that
 * commands read only occasionally (a bridge's ports). */
static bool
column_is_lazy(const struct vsctl_table *t, const struct vsctl_column *c)
{
    return !strcmp(t->name, "Bridge") && !strcmp(c->name, "ports");
}

static json_t *
default_columns(const struct vsctl_table *t, bool all)
{
    json_t *cols = json_array();
    for (size_t i = 0; i < t->n_columns; i++) {
        if (all || !column_is_lazy(t, &t->columns[i])) {
            json_array_append_new(cols, json_string(t->columns[i].name));
        }
    }
    return cols;
}

/* Merges the rows of a select result into the cache.  Columns already
 * loaded (possibly modified locally) are left alone. */
static void
merge_rows(struct vsctl_table *t, const json_t *rows, size_t *n_out,
           struct vsctl_row ***out)
{
    size_t i;
    const json_t *rj;
    if (out) {
        *out = xcalloc(json_array_size(rows) + 1, sizeof **out);
        *n_out = 0;
    }
    json_array_foreach(rows, i, rj) {
        const json_t *uj = json_object_get(rj, "_uuid");
        struct uuid uuid;
        if (!json_is_array(uj)
            || !uuid_from_string(&uuid, json_string_value(json_array_get(uj, 1))
                                        ? json_string_value(json_array_get(uj, 1))
                                        : "")) {
            continue;
        }
        struct vsctl_row *row = cache_lookup(t, &uuid);
        if (!row) {
            row = row_create(t, &uuid);
        }
        const char *cname;
        const json_t *vj;
        json_object_foreach((json_t *) rj, cname, vj) {
            const struct vsctl_column *c = vsctl_table_get_column(t, cname);
            if (!c || c->idx == 0 || row->data[c->idx]) {
                continue;
            }
            struct vsctl_datum *d = xmalloc(sizeof *d);
            char *err = vsctl_datum_from_json(d, &c->type, vj);
            if (err) {
                free(err);
                vsctl_datum_init_default(d, &c->type);
            }
            row->data[c->idx] = d;
        }
        if (out && !row->deleted) {
            (*out)[(*n_out)++] = row;
        }
    }
}

static json_t *
select_op(const struct vsctl_table *t, json_t *where, json_t *columns)
{
    return json_pack("{sssssoso}", "op", "select", "table", t->name,
                     "where", where, "columns", columns);
}

/* Runs one select and returns its "rows" (caller owns). */
static json_t *
run_select(struct vsctl_db *db, const struct vsctl_table *t, json_t *where,
           json_t *columns)
{
    json_t *params = json_pack("[so]", db->db_name,
                               select_op(t, where, columns));
    json_t *result = transact(db, "transact", params);
    const json_t *r0 = json_array_get(result, 0);
    const json_t *rows = json_object_get(r0, "rows");
    if (!json_is_array(rows)) {
        char *txt = json_dumps(r0 ? r0 : result, JSON_COMPACT | JSON_SORT_KEYS
                               | JSON_ENCODE_ANY);
        fatal("transaction error: %s", txt);
    }
    json_incref((json_t *) rows);
    json_decref(result);
    return (json_t *) rows;
}

static json_t *
uuid_where(const struct uuid *uuid)
{
    return json_pack("[[sso]]", "_uuid", "==",
                     vsctl_atom_to_json((const union vsctl_atom *) uuid,
                                        VA_UUID, NULL, NULL));
}

struct vsctl_row *
vsctl_db_get_row(struct vsctl_db *db, struct vsctl_table *t,
                 const struct uuid *uuid)
{
    struct vsctl_row *row = cache_lookup(t, uuid);
    if (!row && !t->all_fetched) {
        json_t *rows = run_select(db, t, uuid_where(uuid),
                                  default_columns(t, false));
        merge_rows(t, rows, NULL, NULL);
        json_decref(rows);
        row = cache_lookup(t, uuid);
        if (!row) {
            /* Remember the absence (a row may appear only by our insert). */
            json_t *w = json_pack("{sssssos[s]sss[]}", "op", "wait",
                                  "table", t->name, "where", uuid_where(uuid),
                                  "columns", "_uuid", "until", "==", "rows");
            json_array_append_new(db->preconds, w);
        }
    }
    return row && !row->deleted ? row : NULL;
}

const struct vsctl_datum *
vsctl_row_get(struct vsctl_db *db, struct vsctl_row *row,
              const struct vsctl_column *c)
{
    if (!row->data[c->idx]) {
        struct vsctl_table *t = row->table;
        json_t *rows = run_select(db, t, uuid_where(&row->uuid),
                                  json_pack("[ss]", "_uuid", c->name));
        merge_rows(t, rows, NULL, NULL);
        json_decref(rows);
        if (!row->data[c->idx]) {
            row->data[c->idx] = xmalloc(sizeof *row->data[c->idx]);
            vsctl_datum_init_default(row->data[c->idx], &c->type);
        }
        /* Fold in mutations recorded before the column was loaded. */
        if (row->mut_del[c->idx]) {
            vsctl_datum_subtract(row->data[c->idx], &c->type,
                                 row->mut_del[c->idx], &c->type);
        }
        if (row->mut_ins[c->idx]) {
            vsctl_datum_union(row->data[c->idx], row->mut_ins[c->idx],
                              &c->type, true);
        }
    }
    return row->data[c->idx];
}

const struct vsctl_datum *
vsctl_row_get_by_name(struct vsctl_db *db, struct vsctl_row *row,
                      const char *column)
{
    return vsctl_row_get(db, row, must_get_column(row->table, column));
}

const char *
vsctl_row_get_string(struct vsctl_db *db, struct vsctl_row *row,
                     const char *column)
{
    const struct vsctl_datum *d = vsctl_row_get_by_name(db, row, column);
    return d->n ? d->keys[0].string : NULL;
}

bool
vsctl_row_get_integer(struct vsctl_db *db, struct vsctl_row *row,
                      const char *column, long long *out)
{
    const struct vsctl_datum *d = vsctl_row_get_by_name(db, row, column);
    *out = d->n ? d->keys[0].integer : 0;
    return d->n > 0;
}

bool
vsctl_row_get_bool(struct vsctl_db *db, struct vsctl_row *row,
                   const char *column)
{
    const struct vsctl_datum *d = vsctl_row_get_by_name(db, row, column);
    return d->n && d->keys[0].boolean;
}

void
vsctl_row_verify(struct vsctl_db *db, struct vsctl_row *row,
                 const struct vsctl_column *c)
{
    if (row->inserted || row->written[c->idx] || row->mut_ins[c->idx]
        || row->mut_del[c->idx]) {
        return;
    }
    if (!row->verify) {
        row->verify = json_object();
    }
    if (!json_object_get(row->verify, c->name)) {
        const struct vsctl_datum *d = vsctl_row_get(db, row, c);
        json_object_set_new(row->verify, c->name,
                            vsctl_datum_to_json(d, &c->type, NULL, NULL));
    }
}

static bool
row_matches(struct vsctl_db *db, struct vsctl_row *row,
            const struct vsctl_column *c, const union vsctl_atom *value)
{
    const struct vsctl_datum *d = vsctl_row_get(db, row, c);
    return vsctl_datum_find_key(d, value, c->type.key.type) != SIZE_MAX;
}

static int
compare_rows(const void *a_, const void *b_)
{
    const struct vsctl_row *const *a = a_, *const *b = b_;
    return uuid_compare_3way(&(*a)->uuid, &(*b)->uuid);
}

struct vsctl_row **
vsctl_db_find_rows(struct vsctl_db *db, struct vsctl_table *t,
                   const char *column, const union vsctl_atom *value,
                   size_t *n)
{
    const struct vsctl_column *c = must_get_column(t, column);
    json_t *vj = vsctl_atom_to_json(value, c->type.key.type, NULL, NULL);
    bool is_set = c->type.n_max > 1;
    if (!t->all_fetched && !(c->type.key.type == VA_UUID
                             && vsctl_db_is_new_uuid(db, &value->uuid))) {
        char *vtxt = json_dumps(vj, JSON_COMPACT | JSON_ENCODE_ANY);
        char *key = xasprintf("%s=%s", column, vtxt);
        free(vtxt);
        uint32_t hash = hash_string(key, 0);
        struct vsctl_query *q;
        bool found = false;
        HMAP_FOR_EACH_WITH_HASH (q, node, hash, &t->queries) {
            if (!strcmp(q->key, key)) {
                found = true;
                break;
            }
        }
        if (!found) {
            json_t *where = json_pack("[[ssO]]", column,
                                      is_set ? "includes" : "==", vj);
            json_t *rows = run_select(db, t, json_incref(where),
                                      default_columns(t, false));
            struct vsctl_row **got;
            size_t n_got;
            merge_rows(t, rows, &n_got, &got);
            json_t *expect = json_array();
            for (size_t i = 0; i < json_array_size(rows); i++) {
                json_array_append_new(expect, json_pack(
                    "{sO}", "_uuid",
                    json_object_get(json_array_get(rows, i), "_uuid")));
            }
            free(got);
            json_decref(rows);
            json_array_append_new(db->preconds, json_pack(
                "{sssssos[s]ssso}", "op", "wait", "table", t->name,
                "where", where, "columns", "_uuid", "until", "==",
                "rows", expect));
            q = xmalloc(sizeof *q);
            q->key = key;
            hmap_insert(&t->queries, &q->node, hash);
        } else {
            free(key);
        }
    }
    json_decref(vj);

    size_t alloc = 4;
    struct vsctl_row **out = xmalloc(alloc * sizeof *out);
    struct vsctl_row *row;
    *n = 0;
    HMAP_FOR_EACH (row, node, &t->rows) {
        if (!row->deleted && row_matches(db, row, c, value)) {
            if (*n >= alloc) {
                out = x2nrealloc(out, &alloc, sizeof *out);
            }
            out[(*n)++] = row;
        }
    }
    qsort(out, *n, sizeof *out, compare_rows);
    return out;
}

struct vsctl_row *
vsctl_db_find_row_by_string(struct vsctl_db *db, struct vsctl_table *t,
                            const char *column, const char *value)
{
    union vsctl_atom a = { .string = (char *) value };
    size_t n;
    struct vsctl_row **rows = vsctl_db_find_rows(db, t, column, &a, &n);
    struct vsctl_row *row = n ? rows[0] : NULL;
    free(rows);
    return row;
}

struct vsctl_row **
vsctl_db_all_rows(struct vsctl_db *db, struct vsctl_table *t, size_t *n)
{
    if (!t->all_fetched) {
        json_t *rows = run_select(db, t, json_array(),
                                  default_columns(t, true));
        merge_rows(t, rows, NULL, NULL);
        json_decref(rows);
        t->all_fetched = true;
    }
    struct vsctl_row **out = xcalloc(hmap_count(&t->rows) + 1, sizeof *out);
    struct vsctl_row *row;
    *n = 0;
    HMAP_FOR_EACH (row, node, &t->rows) {
        if (!row->deleted) {
            out[(*n)++] = row;
        }
    }
    qsort(out, *n, sizeof *out, compare_rows);
    return out;
}

/* ---- Changes. ---- */

struct vsctl_row *
vsctl_db_insert_row(struct vsctl_db *db, struct vsctl_table *t,
                    const struct uuid *uuid)
{
    struct uuid fresh;
    if (!uuid) {
        uuid_generate(&fresh);
        uuid = &fresh;
    }
    struct vsctl_row *row = row_create(t, uuid);
    row->inserted = true;
    for (size_t i = 1; i < t->n_columns; i++) {
        row->data[i] = xmalloc(sizeof *row->data[i]);
        vsctl_datum_init_default(row->data[i], &t->columns[i].type);
    }
    return row;
}

static void
drop_mutations(struct vsctl_row *row, size_t idx)
{
    const struct vsctl_type *type = &row->table->columns[idx].type;
    if (row->mut_ins[idx]) {
        vsctl_datum_destroy(row->mut_ins[idx], type);
        free(row->mut_ins[idx]);
        row->mut_ins[idx] = NULL;
    }
    if (row->mut_del[idx]) {
        vsctl_datum_destroy(row->mut_del[idx], type);
        free(row->mut_del[idx]);
        row->mut_del[idx] = NULL;
    }
}

void
vsctl_row_write(struct vsctl_db *db, struct vsctl_row *row,
                const struct vsctl_column *c, struct vsctl_datum *datum)
{
    if (row->data[c->idx]) {
        vsctl_datum_destroy(row->data[c->idx], &c->type);
        free(row->data[c->idx]);
    }
    row->data[c->idx] = datum;
    row->written[c->idx] = true;
    drop_mutations(row, c->idx);
}

void
vsctl_row_write_by_name(struct vsctl_db *db, struct vsctl_row *row,
                        const char *column, struct vsctl_datum *datum)
{
    vsctl_row_write(db, row, must_get_column(row->table, column), datum);
}

static void
mutation_put(struct vsctl_datum **dp, const struct vsctl_type *t,
             const union vsctl_atom *key, const union vsctl_atom *value)
{
    if (!*dp) {
        *dp = xmalloc(sizeof **dp);
        vsctl_datum_init_empty(*dp);
    }
    union vsctl_atom k, v;
    vsctl_atom_clone(&k, key, t->key.type);
    if (value) {
        vsctl_atom_clone(&v, value, t->value.type);
    }
    vsctl_datum_put(*dp, t, &k, value ? &v : NULL, true);
}

static void
mutation_drop(struct vsctl_datum *d, const struct vsctl_type *t,
              const union vsctl_atom *key)
{
    size_t idx = d ? vsctl_datum_find_key(d, key, t->key.type) : SIZE_MAX;
    if (idx != SIZE_MAX) {
        vsctl_datum_remove_index(d, t, idx);
    }
}

void
vsctl_row_add_element(struct vsctl_db *db, struct vsctl_row *row,
                      const char *column, const union vsctl_atom *key,
                      const union vsctl_atom *value)
{
    const struct vsctl_column *c = must_get_column(row->table, column);
    size_t i = c->idx;
    if (row->data[i]) {
        union vsctl_atom k, v;
        vsctl_atom_clone(&k, key, c->type.key.type);
        if (value) {
            vsctl_atom_clone(&v, value, c->type.value.type);
        }
        vsctl_datum_put(row->data[i], &c->type, &k, value ? &v : NULL, true);
    }
    if (row->inserted || row->written[i]) {
        row->written[i] = true;
        return;
    }
    if (value) {
        /* A map key being replaced has to be deleted first. */
        mutation_put(&row->mut_del[i], &c->type, key, NULL);
        struct vsctl_type keys_only = c->type;
        keys_only.value.type = VA_VOID;
        (void) keys_only;
    } else {
        mutation_drop(row->mut_del[i], &c->type, key);
    }
    mutation_put(&row->mut_ins[i], &c->type, key, value);
}

void
vsctl_row_remove_element(struct vsctl_db *db, struct vsctl_row *row,
                         const char *column, const union vsctl_atom *key)
{
    const struct vsctl_column *c = must_get_column(row->table, column);
    size_t i = c->idx;
    if (row->data[i]) {
        mutation_drop(row->data[i], &c->type, key);
    }
    if (row->inserted || row->written[i]) {
        row->written[i] = true;
        return;
    }
    mutation_drop(row->mut_ins[i], &c->type, key);
    union vsctl_atom dummy;
    memset(&dummy, 0, sizeof dummy);
    if (c->type.value.type == VA_STRING) {
        dummy.string = (char *) "";
    }
    mutation_put(&row->mut_del[i], &c->type, key,
                 vsctl_type_is_map(&c->type) ? &dummy : NULL);
}

void
vsctl_row_delete(struct vsctl_db *db, struct vsctl_row *row)
{
    row->deleted = true;
}

bool
vsctl_db_is_new_uuid(const struct vsctl_db *db, const struct uuid *uuid)
{
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_row *row = cache_lookup(&db->tables[i], uuid);
        if (row && row->inserted) {
            return true;
        }
    }
    return false;
}

static bool
named_cb(const struct uuid *uuid, void *db)
{
    return vsctl_db_is_new_uuid(db, uuid);
}

static json_t *
datum_json(struct vsctl_db *db, const struct vsctl_datum *d,
           const struct vsctl_type *t)
{
    return vsctl_datum_to_json(d, t, named_cb, db);
}

/* Keys of D as a set datum in JSON (map deletions by key). */
static json_t *
keys_json(struct vsctl_db *db, const struct vsctl_datum *d,
          const struct vsctl_type *t)
{
    json_t *elems = json_array();
    for (size_t i = 0; i < d->n; i++) {
        json_array_append_new(elems, vsctl_atom_to_json(&d->keys[i],
                                                        t->key.type,
                                                        named_cb, db));
    }
    return json_pack("[so]", "set", elems);
}

static void
row_ops(struct vsctl_db *db, struct vsctl_row *row, json_t *ops)
{
    struct vsctl_table *t = row->table;
    if (row->inserted && row->deleted) {
        return;
    }
    if (row->deleted) {
        if (t->is_root) {
            json_array_append_new(ops, json_pack(
                "{sssssO}", "op", "delete", "table", t->name,
                "where", uuid_where(&row->uuid)));
        }
        return;
    }
    json_t *cols = json_object(), *muts = json_array();
    for (size_t i = 1; i < t->n_columns; i++) {
        const struct vsctl_column *c = &t->columns[i];
        if (row->written[i]) {
            json_object_set_new(cols, c->name,
                                datum_json(db, row->data[i], &c->type));
            continue;
        }
        if (row->mut_del[i] && row->mut_del[i]->n) {
            json_array_append_new(muts, json_pack(
                "[sso]", c->name, "delete",
                vsctl_type_is_map(&c->type)
                ? keys_json(db, row->mut_del[i], &c->type)
                : datum_json(db, row->mut_del[i], &c->type)));
        }
        if (row->mut_ins[i] && row->mut_ins[i]->n) {
            json_t *v = datum_json(db, row->mut_ins[i], &c->type);
            if (!vsctl_type_is_map(&c->type) && row->mut_ins[i]->n == 1) {
                v = json_pack("[s[o]]", "set", v);
            }
            json_array_append_new(muts, json_pack("[sso]", c->name, "insert",
                                                  v));
        }
    }
    if (row->inserted) {
        char buf[UUID_LEN + 1];
        uuid_to_string(&row->uuid, buf);
        char name[UUID_LEN + 4];
        snprintf(name, sizeof name, "row%s", buf);
        for (char *p = name; *p; p++) {
            if (*p == '-') {
                *p = '_';
            }
        }
        json_array_append_new(ops, json_pack("{sssssoss}", "op", "insert",
                                             "table", t->name, "row", cols,
                                             "uuid-name", name));
        json_decref(muts);
        return;
    }
    if (json_object_size(cols)) {
        json_array_append_new(ops, json_pack("{sssssoso}", "op", "update",
                                             "table", t->name,
                                             "where", uuid_where(&row->uuid),
                                             "row", cols));
    } else {
        json_decref(cols);
    }
    if (json_array_size(muts)) {
        json_array_append_new(ops, json_pack("{sssssoso}", "op", "mutate",
                                             "table", t->name,
                                             "where", uuid_where(&row->uuid),
                                             "mutations", muts));
    } else {
        json_decref(muts);
    }
}

static json_t *
change_ops(struct vsctl_db *db)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_row *row;
        HMAP_FOR_EACH (row, node, &db->tables[i].rows) {
            row_ops(db, row, ops);
        }
    }
    return ops;
}

bool
vsctl_db_has_changes(const struct vsctl_db *db_)
{
    struct vsctl_db *db = (struct vsctl_db *) db_;
    json_t *ops = change_ops(db);
    bool any = json_array_size(ops) > 0;
    json_decref(ops);
    return any;
}

static json_t *
verify_ops(struct vsctl_db *db)
{
    json_t *ops = json_array();
    for (size_t i = 0; i < db->n_tables; i++) {
        struct vsctl_row *row;
        HMAP_FOR_EACH (row, node, &db->tables[i].rows) {
            if (!row->verify || row->inserted) {
                continue;
            }
            json_t *cols = json_array();
            const char *name;
            json_t *v;
            json_object_foreach(row->verify, name, v) {
                json_array_append_new(cols, json_string(name));
            }
            json_array_append_new(ops, json_pack(
                "{sssssosssos[O]}", "op", "wait", "table", db->tables[i].name,
                "where", uuid_where(&row->uuid), "until", "==",
                "columns", cols, "rows", row->verify));
        }
    }
    return ops;
}

enum vsctl_commit_status
vsctl_db_commit(struct vsctl_db *db, struct vsctl_row *bump_cfg_row,
                long long *next_cfg, const char *comment, bool dry_run)
{
    json_t *changes = change_ops(db);
    if (!json_array_size(changes) || dry_run) {
        json_decref(changes);
        return VSCTL_COMMIT_OK;
    }
    json_t *params = json_pack("[s]", db->db_name);
    json_array_extend(params, db->preconds);
    json_t *verifies = verify_ops(db);
    json_array_extend(params, verifies);
    size_t n_waits = json_array_size(params) - 1;
    json_decref(verifies);
    json_array_extend(params, changes);
    json_decref(changes);
    size_t select_idx = 0;
    if (bump_cfg_row) {
        json_t *where = bump_cfg_row->inserted
            ? json_pack("[]") : uuid_where(&bump_cfg_row->uuid);
        json_array_append_new(params, json_pack(
            "{sssssOs[[ssi]]}", "op", "mutate", "table", "Open_vSwitch",
            "where", where, "mutations", "next_cfg", "+=", 1));
        json_array_append_new(params, json_pack(
            "{sssssos[s]}", "op", "select", "table", "Open_vSwitch",
            "where", where, "columns", "next_cfg"));
        select_idx = json_array_size(params) - 2;
    }
    if (comment) {
        json_array_append_new(params, json_pack("{ssss}", "op", "comment",
                                                "comment", comment));
    }
    json_t *result = transact(db, "transact", params);
    size_t i;
    const json_t *r;
    json_array_foreach(result, i, r) {
        const json_t *err = json_object_get(r, "error");
        if (!err || json_is_null(err)) {
            continue;
        }
        if (i < n_waits && json_is_string(err)
            && !strcmp(json_string_value(err), "timed out")) {
            json_decref(result);
            return VSCTL_COMMIT_RETRY;
        }
        char *txt = json_dumps(r, JSON_COMPACT | JSON_SORT_KEYS);
        fprintf(stderr, "%s: transaction error: %s\n", program_name(), txt);
        exit(1);
    }
    if (bump_cfg_row && next_cfg) {
        const json_t *rows = json_object_get(json_array_get(result, select_idx),
                                             "rows");
        const json_t *nc = json_object_get(json_array_get(rows, 0), "next_cfg");
        *next_cfg = json_is_integer(nc) ? json_integer_value(nc) : 0;
    }
    json_decref(result);
    return VSCTL_COMMIT_OK;
}

/* Reads notifications until one arrives (queued ones first). */
static json_t *
next_update(struct vsctl_db *db)
{
    while (!json_array_size(db->notifications)) {
        json_t *msg = recv_json(db);
        handle_other(db, msg);
        json_decref(msg);
    }
    json_t *u = json_incref(json_array_get(db->notifications, 0));
    json_array_remove(db->notifications, 0);
    return u;
}

static bool
cfg_reached(const json_t *table_updates, long long next_cfg)
{
    const json_t *rows = json_object_get(table_updates, "Open_vSwitch");
    const char *uuid;
    const json_t *ru;
    json_object_foreach((json_t *) rows, uuid, ru) {
        const json_t *nc = json_object_get(json_object_get(ru, "new"),
                                           "cur_cfg");
        if (json_is_integer(nc) && json_integer_value(nc) >= next_cfg) {
            return true;
        }
    }
    return false;
}

void
vsctl_db_wait_for_cur_cfg(struct vsctl_db *db, long long next_cfg)
{
    json_t *initial = transact(db, "monitor", json_pack(
        "[sss{s{s[s]}}]", db->db_name, "cur_cfg", "Open_vSwitch",
        "columns", "cur_cfg"));
    /* The format above names the monitor "cur_cfg"; fix the id shape. */
    bool done = cfg_reached(initial, next_cfg);
    json_decref(initial);
    while (!done) {
        json_t *u = next_update(db);
        done = cfg_reached(json_array_get(u, 1), next_cfg);
        json_decref(u);
    }
}

void
vsctl_db_wait_until(struct vsctl_db *db, struct vsctl_table *t,
                    bool (*row_ok)(struct vsctl_db *, void *aux), void *aux)
{
    bool monitoring = false;
    for (;;) {
        if (row_ok(db, aux)) {
            return;
        }
        if (!monitoring) {
            json_t *r = transact(db, "monitor", json_pack(
                "[ss{s{s[s]}}]", db->db_name, "wait", t->name,
                "columns", "_uuid"));
            json_decref(r);
            /* Re-check: a change may have landed before the monitor. */
            monitoring = true;
        } else {
            json_decref(next_update(db));
        }
        vsctl_db_reset(db);
    }
}
