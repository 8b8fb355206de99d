#include "mirror-config.h"

#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "ds.h"
#include "hash.h"
#include "hmap.h"
#include "mirror.h"
#include "ovsdb-data.h"
#include "ovsdb.h"
#include "util.h"
#include "uuid.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(mirror);

/* One Mirror row that is live in the datapath. */
struct live_mirror {
    struct uuid uuid;
    struct mirror_stats written;    /* Last statistics written. */
    bool stats_written;
};

/* What was last applied to one bridge. */
struct bridge_mirrors {
    struct hmap_node node;          /* In mirrors.bridges, by name. */
    char *bridge;
    struct uuid bridge_uuid;        /* A new row is a new datapath bridge. */
    char *applied;                  /* Canonical text of the configuration. */
    size_t n_live;
    struct live_mirror *live;
    bool seen;                      /* Scratch for mirrors_reconfigure(). */
};

struct mirrors {
    struct dp *dp;
    struct hmap bridges;
};

/* One bridge's mirrors being derived from the database. */
struct want {
    struct mirror_config cfgs[MIRROR_MAX];
    struct uuid uuids[MIRROR_MAX];
    char ids[MIRROR_MAX][UUID_LEN + 1];
    size_t n;
    /* Owned arrays the configs point to, freed by want_clear(). */
    uint32_t *src[MIRROR_MAX], *dst[MIRROR_MAX];
    uint16_t *vlans[MIRROR_MAX];
    struct ds text;                 /* Canonical form, to detect change. */
    struct ds log;                  /* Messages, one per line: "E text". */
};

struct mirrors *
mirrors_create(struct dp *dp)
{
    struct mirrors *m = xzalloc(sizeof *m);
    m->dp = dp;
    hmap_init(&m->bridges);
    return m;
}

static void
bridge_mirrors_free(struct bridge_mirrors *bm)
{
    free(bm->bridge);
    free(bm->applied);
    free(bm->live);
    free(bm);
}

void
mirrors_destroy(struct mirrors *m)
{
    if (!m) {
        return;
    }
    struct bridge_mirrors *bm;
    HMAP_FOR_EACH_POP (bm, node, &m->bridges) {
        bridge_mirrors_free(bm);
    }
    hmap_destroy(&m->bridges);
    free(m);
}

static struct bridge_mirrors *
find_bridge(const struct mirrors *m, const char *name)
{
    struct bridge_mirrors *bm;
    HMAP_FOR_EACH_WITH_HASH (bm, node, hash_string(name, 0), &m->bridges) {
        if (!strcmp(bm->bridge, name)) {
            return bm;
        }
    }
    return NULL;
}

static const struct ovsdb_datum *
column(const struct ovsdb_row *row, const char *name)
{
    return ovsdb_row_find_column(row, name, NULL);
}

static const char *
row_name(const struct ovsdb *db, const char *table, const struct uuid *uuid)
{
    const struct ovsdb_table *t = ovsdb_find_table(db, table);
    const struct ovsdb_row *row = t ? ovsdb_table_find_row(t, uuid) : NULL;
    const struct ovsdb_datum *d = row ? column(row, "name") : NULL;
    return d && d->n ? d->keys[0].string : "?";
}

static bool
datum_has_uuid(const struct ovsdb_datum *d, const struct uuid *uuid)
{
    const union ovsdb_atom atom = { .uuid = *uuid };
    return d && ovsdb_datum_find_key(d, &atom, OVSDB_TYPE_UUID) != UINT_MAX;
}

static void
want_clear(struct want *w)
{
    for (size_t i = 0; i < w->n; i++) {
        free(w->src[i]);
        free(w->dst[i]);
        free(w->vlans[i]);
    }
    w->n = 0;
    ds_clear(&w->text);
    ds_clear(&w->log);
}

/* Resolves the Port uuids in SEL (a select_*_port column) to port numbers
 * (*N of them, returned in an array the caller frees). */
static uint32_t *
collect_ports(struct want *w, const struct ovsdb *db, const char *bridge,
              const char *mirror, const struct ovsdb_datum *sel,
              const struct ovsdb_datum *bridge_ports,
              mirrors_port_no_fn *port_no, void *aux, size_t *n)
{
    uint32_t *ports = xcalloc(sel && sel->n ? sel->n : 1, sizeof *ports);
    *n = 0;
    for (unsigned int k = 0; sel && k < sel->n; k++) {
        const struct uuid *u = &sel->keys[k].uuid;
        if (!datum_has_uuid(bridge_ports, u)) {
            ds_put_format(&w->log, "W bridge %s: mirror %s cannot match on "
                          "nonexistent port %s\n", bridge, mirror,
                          row_name(db, "Port", u));
        } else if (port_no(aux, u, &ports[*n])) {
            ++*n;
        }
    }
    return ports;
}

/* Fills the output of mirror row ROW into *C; false (and a message) if
 * ovs-vswitchd would ignore the row. */
static bool
want_output(struct want *w, const char *bridge,
            const char *name, const struct ovsdb_row *row,
            const struct ovsdb_datum *bridge_ports,
            mirrors_port_no_fn *port_no, void *aux, struct mirror_config *c)
{
    const struct ovsdb_datum *op = column(row, "output_port");
    const struct ovsdb_datum *ov = column(row, "output_vlan");
    if (op && op->n) {
        if (!datum_has_uuid(bridge_ports, &op->keys[0].uuid)
            || !port_no(aux, &op->keys[0].uuid, &c->out_port)) {
            ds_put_format(&w->log, "E bridge %s: mirror %s outputs to port "
                          "not on bridge\n", bridge, name);
            return false;
        }
        if (ov && ov->n) {
            ds_put_format(&w->log, "E bridge %s: mirror %s specifies both "
                          "output port and output vlan; ignoring output "
                          "vlan\n", bridge, name);
        }
        return true;
    }
    if (ov && ov->n) {
        c->out_vlan = (uint16_t) ov->keys[0].integer;
        return true;
    }
    ds_put_format(&w->log, "E bridge %s: mirror %s does not specify output; "
                  "ignoring\n", bridge, name);
    return false;
}

/* Adds Mirror row ROW of BRIDGE to W (or logs why not). */
static void
want_mirror(struct want *w, const struct ovsdb *db, const char *bridge,
            const struct ovsdb_row *row,
            const struct ovsdb_datum *bridge_ports,
            mirrors_port_no_fn *port_no, void *aux)
{
    const struct ovsdb_datum *nd = column(row, "name");
    const char *name = nd && nd->n ? nd->keys[0].string : "";
    if (w->n == MIRROR_MAX) {
        ds_put_format(&w->log, "W bridge %s: maximum of %d port mirrors "
                      "reached, cannot create %s\n", bridge, MIRROR_MAX,
                      name);
        return;
    }
    struct mirror_config *c = &w->cfgs[w->n];
    memset(c, 0, sizeof *c);
    if (!want_output(w, bridge, name, row, bridge_ports, port_no, aux, c)) {
        return;
    }
    const struct ovsdb_datum *all = column(row, "select_all");
    c->select_all = all && all->n && all->keys[0].boolean;
    /* select_all: the datapath selects every port by itself. */
    c->src_ports = w->src[w->n] = collect_ports(
        w, db, bridge, name,
        c->select_all ? NULL : column(row, "select_src_port"),
        bridge_ports, port_no, aux, &c->n_src);
    c->dst_ports = w->dst[w->n] = collect_ports(
        w, db, bridge, name,
        c->select_all ? NULL : column(row, "select_dst_port"),
        bridge_ports, port_no, aux, &c->n_dst);
    const struct ovsdb_datum *sv = column(row, "select_vlan");
    uint16_t *vlans = xcalloc(sv && sv->n ? sv->n : 1, sizeof *vlans);
    for (unsigned int k = 0; sv && k < sv->n; k++) {
        vlans[k] = (uint16_t) sv->keys[k].integer;
    }
    c->vlans = w->vlans[w->n] = vlans;
    c->n_vlans = sv ? sv->n : 0;
    const struct ovsdb_datum *sl = column(row, "snaplen");
    c->snaplen = sl && sl->n ? (uint32_t) sl->keys[0].integer : 0;
    w->uuids[w->n] = row->uuid;
    uuid_to_string(&row->uuid, w->ids[w->n]);
    c->id = w->ids[w->n];
    c->name = name;
    w->n++;
}

static void
put_ports(struct ds *s, const char *what, const uint32_t *ports, size_t n)
{
    ds_put_format(s, " %s", what);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(s, ",%u", ports[i]);
    }
}

/* Writes W's canonical text (what decides whether anything changed). */
static void
want_finish(struct want *w)
{
    for (size_t i = 0; i < w->n; i++) {
        const struct mirror_config *c = &w->cfgs[i];
        ds_put_format(&w->text, "%s %s all=%d out=%u/%u snap=%u", c->id,
                      c->name, c->select_all, c->out_port, c->out_vlan,
                      c->snaplen);
        put_ports(&w->text, "src", c->src_ports, c->n_src);
        put_ports(&w->text, "dst", c->dst_ports, c->n_dst);
        ds_put_cstr(&w->text, " vlans");
        for (size_t k = 0; k < c->n_vlans; k++) {
            ds_put_format(&w->text, ",%u", c->vlans[k]);
        }
        ds_put_char(&w->text, '\n');
    }
}

static void
emit_log(struct ds *log)
{
    char *text = xstrdup(ds_cstr(log));
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line;
         line = strtok_r(NULL, "\n", &save)) {
        if (line[0] == 'E') {
            VLOG_ERR("%s", line + 2);
        } else {
            VLOG_WARN("%s", line + 2);
        }
    }
    free(text);
}

/* Remembers which rows are live now, keeping their written statistics. */
static void
set_live(struct bridge_mirrors *bm, const struct want *w, size_t n)
{
    struct live_mirror *live = xcalloc(n + 1, sizeof *live);
    for (size_t i = 0; i < n; i++) {
        live[i].uuid = w->uuids[i];
        for (size_t k = 0; k < bm->n_live; k++) {
            if (uuid_equals(&bm->live[k].uuid, &w->uuids[i])) {
                live[i] = bm->live[k];
            }
        }
    }
    free(bm->live);
    bm->live = live;
    bm->n_live = n;
}

static void
apply_bridge(struct mirrors *m, const struct ovsdb *db,
             const struct ovsdb_row *br_row, mirrors_port_no_fn *port_no,
             void *aux, struct want *w)
{
    const struct ovsdb_datum *nd = column(br_row, "name");
    const char *bridge = nd && nd->n ? nd->keys[0].string : "";
    const struct ovsdb_datum *ms = column(br_row, "mirrors");
    const struct ovsdb_datum *ports = column(br_row, "ports");
    struct bridge_mirrors *bm = find_bridge(m, bridge);
    if (!bm && (!ms || !ms->n)) {
        return;                 /* Never had mirrors: nothing to do. */
    }
    const struct ovsdb_table *mt = ovsdb_find_table(db, "Mirror");
    want_clear(w);
    for (unsigned int k = 0; ms && mt && k < ms->n; k++) {
        const struct ovsdb_row *row = ovsdb_table_find_row(mt,
                                                           &ms->keys[k].uuid);
        if (row) {
            want_mirror(w, db, bridge, row, ports, port_no, aux);
        }
    }
    want_finish(w);
    ds_put_cstr(&w->text, ds_cstr(&w->log));
    if (!bm) {
        bm = xzalloc(sizeof *bm);
        bm->bridge = xstrdup(bridge);
        hmap_insert(&m->bridges, &bm->node, hash_string(bridge, 0));
    }
    bm->seen = true;
    if (!uuid_equals(&bm->bridge_uuid, &br_row->uuid)) {
        bm->bridge_uuid = br_row->uuid;
        free(bm->applied);
        bm->applied = NULL;
    }
    if (bm->applied && !strcmp(bm->applied, ds_cstr(&w->text))) {
        return;
    }
    emit_log(&w->log);
    int error = dp_bridge_set_mirrors(m->dp, bridge, w->cfgs, w->n);
    if (error) {
        VLOG_WARN("bridge %s: cannot configure mirrors (%s)", bridge,
                  strerror(error));
    } else if (w->n || bm->n_live) {
        VLOG_INFO("bridge %s: %zu port mirror(s) configured", bridge, w->n);
    }
    set_live(bm, w, error ? 0 : w->n);
    free(bm->applied);
    bm->applied = error ? NULL : xstrdup(ds_cstr(&w->text));
}

void
mirrors_reconfigure(struct mirrors *m, const struct ovsdb *db,
                    mirrors_port_no_fn *port_no, void *aux)
{
    const struct ovsdb_table *bt = db ? ovsdb_find_table(db, "Bridge") : NULL;
    if (!bt) {
        return;
    }
    struct bridge_mirrors *bm, *next;
    HMAP_FOR_EACH (bm, node, &m->bridges) {
        bm->seen = false;
    }
    struct want *w = xzalloc(sizeof *w);
    ds_init(&w->text);
    ds_init(&w->log);
    const struct ovsdb_row *row;
    OVSDB_TABLE_FOR_EACH_ROW (row, bt) {
        apply_bridge(m, db, row, port_no, aux, w);
    }
    want_clear(w);
    ds_destroy(&w->text);
    ds_destroy(&w->log);
    free(w);
    /* Bridges gone from the database take their mirrors with them. */
    HMAP_FOR_EACH_SAFE (bm, next, node, &m->bridges) {
        if (!bm->seen) {
            hmap_remove(&m->bridges, &bm->node);
            bridge_mirrors_free(bm);
        }
    }
}

static json_t *
stats_update(const struct uuid *uuid, const struct mirror_stats *s)
{
    char id[UUID_LEN + 1];
    uuid_to_string(uuid, id);
    return json_pack("{s:s,s:s,s:[[s,s,[s,s]]],s:{s:[s,[[s,I],[s,I]]]}}",
                     "op", "update", "table", "Mirror",
                     "where", "_uuid", "==", "uuid", id,
                     "row", "statistics", "map",
                     "tx_bytes", (json_int_t) s->tx_bytes,
                     "tx_packets", (json_int_t) s->tx_packets);
}

void
mirrors_write_stats(struct mirrors *m, json_t *ops)
{
    struct bridge_mirrors *bm;
    HMAP_FOR_EACH (bm, node, &m->bridges) {
        for (size_t i = 0; i < bm->n_live; i++) {
            struct live_mirror *lm = &bm->live[i];
            char id[UUID_LEN + 1];
            struct mirror_stats s;
            uuid_to_string(&lm->uuid, id);
            if (dp_bridge_get_mirror_stats(m->dp, bm->bridge, id, &s)
                || (lm->stats_written
                    && !memcmp(&s, &lm->written, sizeof s))) {
                continue;
            }
            json_array_append_new(ops, stats_update(&lm->uuid, &s));
            lm->written = s;
            lm->stats_written = true;
        }
    }
}
