/* vsctl-br: bridge, port and interface commands of lanyard-vsctl.
 *
 * Semantics, messages and output follow ovs-vsctl 3.1.  The difference is in
 * how the database is used (see vsctl-br.h): a command fetches the rows it
 * names and changes set columns by mutation, so adding a port to a bridge
 * with 10,000 ports costs what it costs with 10. */
#include "vsctl-br.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"
#include "vsctl.h"

/* Above this many references, reading the whole table is cheaper than one
 * select per row. */
#define LOAD_WHOLE_TABLE_MIN 32

/* The columns that listing and deleting read, when they read many rows. */
static const char *const port_columns[] = {
    "name", "tag", "fake_bridge", "interfaces", NULL
};
static const char *const name_column[] = { "name", NULL };

/* ---- Rows, columns and values. ---- */

struct vsctl_table *
vsctl_table_of(struct vsctl_ctx *ctx, const char *name)
{
    struct vsctl_table *t = vsctl_db_get_table(ctx->db, name);
    if (!t) {
        fatal("database has no %s table", name);
    }
    return t;
}

const struct vsctl_column *
vsctl_column_of(const struct vsctl_table *t, const char *name)
{
    const struct vsctl_column *c = vsctl_table_get_column(t, name);
    if (!c) {
        fatal("%s does not contain a column whose name matches \"%s\"",
              t->name, name);
    }
    return c;
}

static void
verify(struct vsctl_ctx *ctx, struct vsctl_row *row, const char *column)
{
    vsctl_row_verify(ctx->db, row, vsctl_column_of(row->table, column));
}

static const char *
row_name(struct vsctl_ctx *ctx, struct vsctl_row *row)
{
    const char *name = vsctl_row_get_string(ctx->db, row, "name");
    return name ? name : "";
}

const struct vsctl_datum *
vsctl_read_verified(struct vsctl_ctx *ctx, struct vsctl_row *row,
              const char *column)
{
    verify(ctx, row, column);
    return vsctl_row_get_by_name(ctx->db, row, column);
}

void
vsctl_write_if_changed(struct vsctl_ctx *ctx, struct vsctl_row *row,
                       const struct vsctl_column *c, struct vsctl_datum *d)
{
    if (!row->inserted
        && vsctl_datum_equals(vsctl_row_get(ctx->db, row, c), d, &c->type)) {
        vsctl_datum_destroy(d, &c->type);
        free(d);
        return;
    }
    vsctl_row_write(ctx->db, row, c, d);
}

void
vsctl_write_atom(struct vsctl_ctx *ctx, struct vsctl_row *row,
                 const char *column, const union vsctl_atom *atom)
{
    const struct vsctl_column *c = vsctl_column_of(row->table, column);
    struct vsctl_datum *d = xmalloc(sizeof *d);
    union vsctl_atom copy;
    vsctl_datum_init_empty(d);
    vsctl_atom_clone(&copy, atom, c->type.key.type);
    vsctl_datum_put(d, &c->type, &copy, NULL, false);
    vsctl_write_if_changed(ctx, row, c, d);
}

void
vsctl_write_string(struct vsctl_ctx *ctx, struct vsctl_row *row,
                   const char *column, const char *s)
{
    union vsctl_atom a = { .string = (char *) s };
    vsctl_write_atom(ctx, row, column, &a);
}

static void
add_ref(struct vsctl_ctx *ctx, struct vsctl_row *row, const char *column,
        const struct vsctl_row *target)
{
    union vsctl_atom a = { .uuid = target->uuid };
    vsctl_row_add_element(ctx->db, row, column, &a, NULL);
}

static void
remove_ref(struct vsctl_ctx *ctx, struct vsctl_row *row, const char *column,
           const struct vsctl_row *target)
{
    union vsctl_atom a = { .uuid = target->uuid };
    vsctl_row_remove_element(ctx->db, row, column, &a);
}

bool
vsctl_is_bulk(const struct vsctl_datum *uuids)
{
    return uuids->n >= LOAD_WHOLE_TABLE_MIN;
}

struct vsctl_row **
vsctl_load_rows(struct vsctl_ctx *ctx, struct vsctl_table *t,
                const struct vsctl_datum *uuids, const char *const *columns,
                size_t *n)
{
    if (vsctl_is_bulk(uuids)) {
        size_t n_all;
        free(columns ? vsctl_db_load_columns(ctx->db, t, columns, &n_all)
                     : vsctl_db_all_rows(ctx->db, t, &n_all));
    }
    struct vsctl_row **rows = xcalloc(uuids->n + 1, sizeof *rows);
    *n = 0;
    for (size_t i = 0; i < uuids->n; i++) {
        struct vsctl_row *row = vsctl_db_get_row(ctx->db, t,
                                                 &uuids->keys[i].uuid);
        if (row) {
            rows[(*n)++] = row;
        }
    }
    return rows;
}

int
vsctl_compare_strings(const void *a_, const void *b_)
{
    const char *const *a = a_, *const *b = b_;
    return strcmp(*a, *b);
}

/* Prints NAMES sorted, one per line, as ovs-vsctl's list commands do. */
static void
output_sorted(struct ds *out, const char **names, size_t n)
{
    qsort(names, n, sizeof *names, vsctl_compare_strings);
    for (size_t i = 0; i < n; i++) {
        ds_put_format(out, "%s\n", names[i]);
    }
}

/* The command as ovs-vsctl quotes it in "--may-exist" mismatch messages: its
 * options in the command's own order, then its words, quoted where a shell
 * would need it. */
static char *
command_string(const struct vsctl_ctx *ctx)
{
    struct ds s = DS_EMPTY_INITIALIZER;
    char *options = xstrdup(ctx->cmd->syntax->options);
    char *save = NULL;
    for (char *o = strtok_r(options, ",", &save); o;
         o = strtok_r(NULL, ",", &save)) {
        o[strcspn(o, "=")] = '\0';
        if (vsctl_has_option(ctx, o)) {
            ds_put_format(&s, "%s%s", s.length ? " " : "", o);
        }
    }
    free(options);
    for (int i = 0; i < ctx->argc; i++) {
        const char *arg = ctx->argv[i];
        if (s.length) {
            ds_put_char(&s, ' ');
        }
        if (!arg[strcspn(arg, " \t\r\n\v\\'\"")]) {
            ds_put_cstr(&s, arg);
            continue;
        }
        ds_put_char(&s, '"');
        for (const char *p = arg; *p; p++) {
            if (*p == '\\' || *p == '"') {
                ds_put_char(&s, '\\');
            }
            ds_put_char(&s, *p);
        }
        ds_put_char(&s, '"');
    }
    return ds_steal_cstr(&s);
}

/* ---- The bridge/port/interface picture. ---- */

/* Whether PORT makes a fake bridge, and on which VLAN (not recorded as a
 * precondition: for listings, which ovs-vsctl does not verify either). */
static bool
fake_bridge_vlan(struct vsctl_ctx *ctx, struct vsctl_row *port, int *vlan)
{
    long long tag;
    if (!vsctl_row_get_bool(ctx->db, port, "fake_bridge")
        || !vsctl_row_get_integer(ctx->db, port, "tag", &tag)
        || tag < 0 || tag > 4095) {
        return false;
    }
    *vlan = (int) tag;
    return true;
}

/* Whether PORT makes a fake bridge, and on which VLAN. */
static bool
port_is_fake_bridge(struct vsctl_ctx *ctx, struct vsctl_row *port, int *vlan)
{
    verify(ctx, port, "fake_bridge");
    verify(ctx, port, "tag");
    return fake_bridge_vlan(ctx, port, vlan);
}

/* The Bridge whose "ports" holds PORT (the first by UUID, as ovs-vsctl
 * resolves a port listed twice), or NULL. */
static struct vsctl_row *
port_parent(struct vsctl_ctx *ctx, struct vsctl_row *port)
{
    union vsctl_atom a = { .uuid = port->uuid };
    size_t n;
    struct vsctl_row **rows = vsctl_db_find_rows(ctx->db,
                                                 vsctl_table_of(ctx, "Bridge"),
                                                 "ports", &a, &n);
    struct vsctl_row *bridge = n ? rows[0] : NULL;
    free(rows);
    return bridge;
}

/* The fake bridge of real bridge PARENT on VLAN, or NULL. */
static struct vsctl_row *
vlan_child(struct vsctl_ctx *ctx, struct vsctl_row *parent, int vlan)
{
    union vsctl_atom yes = { .boolean = true };
    size_t n;
    struct vsctl_row **fakes = vsctl_db_find_rows(ctx->db,
                                                  vsctl_table_of(ctx, "Port"),
                                                  "fake_bridge", &yes, &n);
    struct vsctl_row *child = NULL;
    for (size_t i = 0; i < n && !child; i++) {
        int v;
        if (port_is_fake_bridge(ctx, fakes[i], &v) && v == vlan
            && port_parent(ctx, fakes[i]) == parent) {
            child = fakes[i];
        }
    }
    free(fakes);
    return child;
}

static void
real_bridge_ref(struct vsctl_ctx *ctx, struct vsctl_row *br,
                struct vsctl_bridge_ref *ref)
{
    *ref = (struct vsctl_bridge_ref) { row_name(ctx, br), br, NULL, 0 };
}

/* The bridge PORT belongs to: a fake bridge if its tag names one of its real
 * bridge's fake bridges, otherwise the real bridge. */
static bool
port_bridge(struct vsctl_ctx *ctx, struct vsctl_row *port,
            struct vsctl_bridge_ref *ref)
{
    struct vsctl_row *br = port_parent(ctx, port);
    if (!br) {
        return false;
    }
    real_bridge_ref(ctx, br, ref);
    long long tag;
    verify(ctx, port, "tag");
    if (vsctl_row_get_integer(ctx->db, port, "tag", &tag)
        && tag >= 0 && tag <= 4095) {
        struct vsctl_row *child = vlan_child(ctx, br, (int) tag);
        if (child) {
            ref->name = row_name(ctx, child);
            ref->fake_port = child;
            ref->vlan = (int) tag;
        }
    }
    return true;
}

bool
vsctl_find_bridge(struct vsctl_ctx *ctx, const char *name, bool must_exist,
                  struct vsctl_bridge_ref *ref)
{
    struct vsctl_row *br = vsctl_db_find_row_by_string(
        ctx->db, vsctl_table_of(ctx, "Bridge"), "name", name);
    if (br) {
        real_bridge_ref(ctx, br, ref);
        return true;
    }
    struct vsctl_row *port = vsctl_db_find_row_by_string(
        ctx->db, vsctl_table_of(ctx, "Port"), "name", name);
    int vlan;
    if (port && port_is_fake_bridge(ctx, port, &vlan)) {
        struct vsctl_row *parent = port_parent(ctx, port);
        if (parent) {
            *ref = (struct vsctl_bridge_ref) { row_name(ctx, port), parent,
                                               port, vlan };
            return true;
        }
    }
    if (must_exist) {
        fatal("no bridge named %s", name);
    }
    return false;
}

void
vsctl_find_real_bridge(struct vsctl_ctx *ctx, const char *name,
                       struct vsctl_bridge_ref *ref)
{
    vsctl_find_bridge(ctx, name, true, ref);
    if (ref->fake_port) {
        fatal("%s is a fake bridge", name);
    }
}

struct port_ref {
    struct vsctl_row *port;
    struct vsctl_bridge_ref br;
};

/* Port NAME with its bridge.  As in ovs-vsctl, a bridge's own port (named
 * like its bridge, real or fake) is not found as a port. */
static bool
find_port(struct vsctl_ctx *ctx, const char *name, bool must_exist,
          struct port_ref *ref)
{
    ref->port = vsctl_db_find_row_by_string(ctx->db,
                                            vsctl_table_of(ctx, "Port"),
                                            "name", name);
    if (ref->port && port_bridge(ctx, ref->port, &ref->br)
        && strcmp(ref->br.name, name)) {
        return true;
    }
    if (must_exist) {
        fatal("no port named %s", name);
    }
    return false;
}

/* The Port whose "interfaces" holds IFACE, or NULL. */
static struct vsctl_row *
iface_port(struct vsctl_ctx *ctx, struct vsctl_row *iface)
{
    union vsctl_atom a = { .uuid = iface->uuid };
    size_t n;
    struct vsctl_row **rows = vsctl_db_find_rows(ctx->db,
                                                 vsctl_table_of(ctx, "Port"),
                                                 "interfaces", &a, &n);
    struct vsctl_row *port = n ? rows[0] : NULL;
    free(rows);
    return port;
}

struct iface_ref {
    struct vsctl_row *iface;
    struct port_ref port;
};

static bool
find_iface(struct vsctl_ctx *ctx, const char *name, bool must_exist,
           struct iface_ref *ref)
{
    ref->iface = vsctl_db_find_row_by_string(
        ctx->db, vsctl_table_of(ctx, "Interface"), "name", name);
    if (ref->iface) {
        ref->port.port = iface_port(ctx, ref->iface);
        if (ref->port.port && port_bridge(ctx, ref->port.port, &ref->port.br)
            && strcmp(ref->port.br.name, name)) {
            return true;
        }
    }
    if (must_exist) {
        fatal("no interface named %s", name);
    }
    return false;
}

/* Fails with "WHAT because ..." if NAME is taken by a bridge, port or
 * interface anywhere, checked in that order. */
static void
check_conflicts(struct vsctl_ctx *ctx, const char *name, const char *what)
{
    struct vsctl_bridge_ref br;
    if (vsctl_find_bridge(ctx, name, false, &br)) {
        fatal("%s because a bridge named %s already exists", what, name);
    }
    struct vsctl_row *port = vsctl_db_find_row_by_string(
        ctx->db, vsctl_table_of(ctx, "Port"), "name", name);
    if (port && port_bridge(ctx, port, &br)) {
        fatal("%s because a port named %s already exists on bridge %s",
              what, name, br.name);
    }
    struct vsctl_row *iface = vsctl_db_find_row_by_string(
        ctx->db, vsctl_table_of(ctx, "Interface"), "name", name);
    if (iface && (port = iface_port(ctx, iface)) != NULL
        && port_bridge(ctx, port, &br)) {
        fatal("%s because an interface named %s already exists on bridge %s",
              what, name, br.name);
    }
}

static void
check_conflicts_fmt(struct vsctl_ctx *ctx, const char *name,
                    const char *kind)
{
    char *what = xasprintf("cannot create %s named %s", kind, name);
    check_conflicts(ctx, name, what);
    free(what);
}

/* ---- Creating and deleting rows. ---- */

static struct vsctl_row *
insert_iface(struct vsctl_ctx *ctx, const char *name, const char *type)
{
    struct vsctl_row *iface = vsctl_db_insert_row(
        ctx->db, vsctl_table_of(ctx, "Interface"), NULL);
    vsctl_write_string(ctx, iface, "name", name);
    if (type) {
        vsctl_write_string(ctx, iface, "type", type);
    }
    return iface;
}

static struct vsctl_row *
insert_port(struct vsctl_ctx *ctx, const char *name,
            struct vsctl_row **ifaces, size_t n_ifaces)
{
    struct vsctl_row *port = vsctl_db_insert_row(
        ctx->db, vsctl_table_of(ctx, "Port"), NULL);
    vsctl_write_string(ctx, port, "name", name);
    /* A whole write: the new row's default "interfaces" is not empty (the
     * column needs at least one element). */
    const struct vsctl_column *c = vsctl_column_of(port->table, "interfaces");
    struct vsctl_datum *d = xmalloc(sizeof *d);
    vsctl_datum_init_empty(d);
    for (size_t i = 0; i < n_ifaces; i++) {
        union vsctl_atom a = { .uuid = ifaces[i]->uuid };
        vsctl_datum_put(d, &c->type, &a, NULL, false);
    }
    vsctl_row_write(ctx->db, port, c, d);
    return port;
}

/* Marks PORT and its interfaces deleted, so that later commands of the same
 * transaction no longer see their names.  The server collects them anyway
 * once nothing references them, so the last command skips the reads. */
static void
forget_port(struct vsctl_ctx *ctx, struct vsctl_row *port)
{
    if (!ctx->last_command) {
        size_t n;
        struct vsctl_row **ifaces = vsctl_load_rows(
            ctx, vsctl_table_of(ctx, "Interface"),
            vsctl_row_get_by_name(ctx->db, port, "interfaces"), name_column,
            &n);
        for (size_t i = 0; i < n; i++) {
            vsctl_row_delete(ctx->db, ifaces[i]);
        }
        free(ifaces);
    }
    vsctl_row_delete(ctx->db, port);
}

/* Detaches PORT from real bridge PARENT. */
static void
delete_port(struct vsctl_ctx *ctx, struct vsctl_row *parent,
            struct vsctl_row *port)
{
    remove_ref(ctx, parent, "ports", port);
    forget_port(ctx, port);
}

/* The ports of real bridge BR, and if WITH_IFACES their interfaces loaded
 * as well. */
static struct vsctl_row **
bridge_ports(struct vsctl_ctx *ctx, struct vsctl_row *br, bool with_ifaces,
             size_t *n)
{
    const struct vsctl_datum *ports = vsctl_read_verified(ctx, br, "ports");
    if (with_ifaces && vsctl_is_bulk(ports)) {
        /* Their interfaces are wanted too: one select for all of them. */
        size_t n_ifaces;
        free(vsctl_db_load_columns(ctx->db, vsctl_table_of(ctx, "Interface"),
                                   name_column, &n_ifaces));
    }
    return vsctl_load_rows(ctx, vsctl_table_of(ctx, "Port"), ports,
                           port_columns, n);
}

static void
delete_fake_bridge(struct vsctl_ctx *ctx, const struct vsctl_bridge_ref *br)
{
    size_t n;
    struct vsctl_row **ports = bridge_ports(ctx, br->br, !ctx->last_command,
                                            &n);
    for (size_t i = 0; i < n; i++) {
        long long tag;
        verify(ctx, ports[i], "tag");
        if (vsctl_row_get_integer(ctx->db, ports[i], "tag", &tag)
            && tag == br->vlan) {
            delete_port(ctx, br->br, ports[i]);
        }
    }
    free(ports);
}

static void
delete_real_bridge(struct vsctl_ctx *ctx, struct vsctl_row *br)
{
    if (!ctx->last_command) {
        size_t n;
        struct vsctl_row **ports = bridge_ports(ctx, br, true, &n);
        for (size_t i = 0; i < n; i++) {
            forget_port(ctx, ports[i]);
        }
        free(ports);
    }
    /* Like ovs-vsctl, leave other rows that reference the bridge alone
     * (a Flow_Sample_Collector_Set keeps it alive, as with ovs-vsctl). */
    remove_ref(ctx, ctx->ovs, "bridges", br);
    vsctl_row_delete(ctx->db, br);
}

/* ---- Bridge commands. ---- */

static void
check_may_exist_bridge(const struct vsctl_bridge_ref *br, const char *name,
                       const char *parent, int vlan, const char *actual_parent)
{
    if (!parent) {
        if (br->fake_port) {
            fatal("\"--may-exist add-br %s\" but %s is a VLAN bridge for "
                  "VLAN %d", name, name, br->vlan);
        }
    } else if (!br->fake_port) {
        fatal("\"--may-exist add-br %s %s %d\" but %s is not a VLAN bridge",
              name, parent, vlan, name);
    } else if (strcmp(actual_parent, parent)) {
        fatal("\"--may-exist add-br %s %s %d\" but %s has the wrong parent "
              "%s", name, parent, vlan, name, actual_parent);
    } else if (br->vlan != vlan) {
        fatal("\"--may-exist add-br %s %s %d\" but %s is a VLAN bridge for "
              "the wrong VLAN %d", name, parent, vlan, name, br->vlan);
    }
}

static void
cmd_add_br(struct vsctl_ctx *ctx)
{
    const char *name = ctx->argv[1];
    const char *parent_name = NULL;
    int vlan = 0;
    if (!name[0]) {
        fatal("bridge name must not be empty string");
    }
    if (ctx->argc == 4) {
        parent_name = ctx->argv[2];
        /* atoi(), as ovs-vsctl: junk reads as 0. */
        vlan = (int) strtol(ctx->argv[3], NULL, 10);
        if (vlan < 0 || vlan > 4095) {
            fatal("%s: vlan must be between 0 and 4095", ctx->argv[0]);
        }
    } else if (ctx->argc != 2) {
        fatal("'%s' command takes exactly 1 or 3 arguments", ctx->argv[0]);
    }

    struct vsctl_bridge_ref br;
    if (vsctl_has_option(ctx, "--may-exist")
        && vsctl_find_bridge(ctx, name, false, &br)) {
        check_may_exist_bridge(&br, name, parent_name, vlan,
                               br.fake_port ? row_name(ctx, br.br) : NULL);
        return;
    }
    check_conflicts_fmt(ctx, name, "a bridge");

    struct vsctl_row *iface = insert_iface(ctx, name, "internal");
    struct vsctl_row *port;
    if (!parent_name) {
        port = insert_port(ctx, name, &iface, 1);
        struct vsctl_row *bridge = vsctl_db_insert_row(
            ctx->db, vsctl_table_of(ctx, "Bridge"), NULL);
        vsctl_write_string(ctx, bridge, "name", name);
        add_ref(ctx, bridge, "ports", port);
        add_ref(ctx, ctx->ovs, "bridges", bridge);
        return;
    }

    struct vsctl_bridge_ref parent;
    bool found = vsctl_find_bridge(ctx, parent_name, false, &parent);
    if (found && parent.fake_port) {
        fatal("cannot create bridge with fake bridge as parent");
    } else if (!found) {
        fatal("parent bridge %s does not exist", parent_name);
    }
    struct vsctl_row *conflict = vlan_child(ctx, parent.br, vlan);
    if (conflict) {
        fatal("bridge %s already has a child VLAN bridge %s on VLAN %d",
              parent_name, row_name(ctx, conflict), vlan);
    }
    port = insert_port(ctx, name, &iface, 1);
    vsctl_write_atom(ctx, port, "fake_bridge",
               &(union vsctl_atom) { .boolean = true });
    vsctl_write_atom(ctx, port, "tag",
                     &(union vsctl_atom) { .integer = vlan });
    add_ref(ctx, parent.br, "ports", port);
}

static void
cmd_del_br(struct vsctl_ctx *ctx)
{
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    struct vsctl_bridge_ref br;
    if (!vsctl_find_bridge(ctx, ctx->argv[1], must_exist, &br)) {
        return;
    }
    if (br.fake_port) {
        delete_fake_bridge(ctx, &br);
    } else {
        delete_real_bridge(ctx, br.br);
    }
}

/* Appends the names of the fake bridges of the real bridges in BRIDGES. */
static void
add_fake_bridge_names(struct vsctl_ctx *ctx, struct vsctl_row **bridges,
                      size_t n_bridges, const char ***names, size_t *n,
                      size_t *allocated)
{
    union vsctl_atom yes = { .boolean = true };
    size_t n_fakes;
    struct vsctl_row **fakes = vsctl_db_find_rows(
        ctx->db, vsctl_table_of(ctx, "Port"), "fake_bridge", &yes, &n_fakes);
    for (size_t i = 0; i < n_fakes; i++) {
        int vlan;
        if (!port_is_fake_bridge(ctx, fakes[i], &vlan)) {
            continue;
        }
        struct vsctl_row *parent = port_parent(ctx, fakes[i]);
        const char *name = row_name(ctx, fakes[i]);
        bool known = false;
        for (size_t j = 0; j < n_bridges; j++) {
            known = known || !strcmp(row_name(ctx, bridges[j]), name);
        }
        if (!parent || known) {
            continue;
        }
        if (*n >= *allocated) {
            *names = x2nrealloc(*names, allocated, sizeof **names);
        }
        (*names)[(*n)++] = name;
    }
    free(fakes);
}

static void
cmd_list_br(struct vsctl_ctx *ctx)
{
    bool real = vsctl_has_option(ctx, "--real");
    bool fake = vsctl_has_option(ctx, "--fake");
    if (!real && !fake) {
        real = fake = true;
    }
    size_t n_bridges;
    struct vsctl_row **bridges = vsctl_load_rows(
        ctx, vsctl_table_of(ctx, "Bridge"),
        vsctl_read_verified(ctx, ctx->ovs, "bridges"), name_column,
        &n_bridges);
    size_t n = 0, allocated = n_bridges + 1;
    const char **names = xcalloc(allocated, sizeof *names);
    for (size_t i = 0; real && i < n_bridges; i++) {
        names[n++] = row_name(ctx, bridges[i]);
    }
    if (fake) {
        add_fake_bridge_names(ctx, bridges, n_bridges, &names, &n,
                              &allocated);
    }
    output_sorted(ctx->output, names, n);
    free(names);
    free(bridges);
}

static void
cmd_br_exists(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    if (!vsctl_find_bridge(ctx, ctx->argv[1], false, &br)) {
        /* As ovs-vsctl: at once, without committing or printing. */
        exit(2);
    }
}

static void
cmd_br_to_vlan(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
    ds_put_format(ctx->output, "%d\n", br.vlan);
}

static void
cmd_br_to_parent(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
    ds_put_format(ctx->output, "%s\n", row_name(ctx, br.br));
}

/* A fake bridge keeps its external IDs on its port, under "fake-bridge-". */
static struct vsctl_row *
external_ids_row(struct vsctl_ctx *ctx, const char *name,
                 const char **prefix)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, name, true, &br);
    *prefix = br.fake_port ? "fake-bridge-" : "";
    return br.fake_port ? br.fake_port : br.br;
}

static void
cmd_br_set_external_id(struct vsctl_ctx *ctx)
{
    const char *prefix;
    struct vsctl_row *row = external_ids_row(ctx, ctx->argv[1], &prefix);
    char *key = xasprintf("%s%s", prefix, ctx->argv[2]);
    union vsctl_atom k = { .string = key };
    const char *value = ctx->argc >= 4 ? ctx->argv[3] : NULL;
    const struct vsctl_datum *ids = vsctl_read_verified(ctx, row,
                                                        "external_ids");
    size_t idx = vsctl_datum_find_key(ids, &k, VA_STRING);
    const char *old = idx == SIZE_MAX ? NULL : ids->values[idx].string;
    /* As with ovs-vsctl, a change to nothing writes nothing. */
    if (value && (!old || strcmp(old, value))) {
        union vsctl_atom v = { .string = (char *) value };
        vsctl_row_add_element(ctx->db, row, "external_ids", &k, &v);
    } else if (!value && old) {
        vsctl_row_remove_element(ctx->db, row, "external_ids", &k);
    }
    free(key);
}

static void
cmd_br_get_external_id(struct vsctl_ctx *ctx)
{
    const char *prefix;
    struct vsctl_row *row = external_ids_row(ctx, ctx->argv[1], &prefix);
    const struct vsctl_datum *ids = vsctl_read_verified(ctx, row,
                                                        "external_ids");
    size_t prefix_len = strlen(prefix);
    for (size_t i = 0; i < ids->n; i++) {
        const char *key = ids->keys[i].string;
        const char *value = ids->values[i].string;
        if (strncmp(key, prefix, prefix_len)) {
            continue;
        }
        if (ctx->argc < 3) {
            ds_put_format(ctx->output, "%s=%s\n", key + prefix_len, value);
        } else if (!strcmp(key + prefix_len, ctx->argv[2])) {
            ds_put_format(ctx->output, "%s\n", value);
        }
    }
}

/* ---- Listing a bridge's ports and interfaces. ---- */

/* The ports of bridge BR (real or fake) other than its own port: the ports
 * of its real bridge whose tag selects (or, for the real bridge, does not
 * select) a fake bridge. */
static struct vsctl_row **
ports_of_bridge(struct vsctl_ctx *ctx, const struct vsctl_bridge_ref *br,
                bool with_ifaces, size_t *n)
{
    size_t n_all;
    struct vsctl_row **all = bridge_ports(ctx, br->br, with_ifaces, &n_all);
    /* The first fake bridge (by UUID) on each VLAN is the one that counts. */
    struct vsctl_row **children = xcalloc(4096, sizeof *children);
    for (size_t i = 0; i < n_all; i++) {
        int vlan;
        if (fake_bridge_vlan(ctx, all[i], &vlan) && !children[vlan]) {
            children[vlan] = all[i];
        }
    }
    *n = 0;
    for (size_t i = 0; i < n_all; i++) {
        long long tag;
        bool tagged = vsctl_row_get_integer(ctx->db, all[i], "tag", &tag)
                      && tag >= 0 && tag <= 4095;
        struct vsctl_row *owner = tagged ? children[tag] : NULL;
        if (owner == br->fake_port
            && strcmp(row_name(ctx, all[i]), br->name)) {
            all[(*n)++] = all[i];
        }
    }
    free(children);
    return all;
}

static void
cmd_list_ports(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
    size_t n;
    struct vsctl_row **ports = ports_of_bridge(ctx, &br, false, &n);
    const char **names = xcalloc(n + 1, sizeof *names);
    for (size_t i = 0; i < n; i++) {
        names[i] = row_name(ctx, ports[i]);
    }
    output_sorted(ctx->output, names, n);
    free(names);
    free(ports);
}

static void
cmd_list_ifaces(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
    size_t n_ports;
    struct vsctl_row **ports = ports_of_bridge(ctx, &br, true, &n_ports);
    size_t n = 0, allocated = n_ports + 1;
    const char **names = xcalloc(allocated, sizeof *names);
    struct vsctl_table *iface_table = vsctl_table_of(ctx, "Interface");
    for (size_t i = 0; i < n_ports; i++) {
        size_t n_ifaces;
        struct vsctl_row **ifaces = vsctl_load_rows(
            ctx, iface_table, vsctl_read_verified(ctx, ports[i], "interfaces"),
            name_column, &n_ifaces);
        for (size_t j = 0; j < n_ifaces; j++) {
            const char *name = row_name(ctx, ifaces[j]);
            if (strcmp(name, br.name)) {
                if (n >= allocated) {
                    names = x2nrealloc(names, &allocated, sizeof *names);
                }
                names[n++] = name;
            }
        }
        free(ifaces);
    }
    output_sorted(ctx->output, names, n);
    free(names);
    free(ports);
}

/* ---- Port commands. ---- */

/* The sorted interface names of PORT. */
static const char **
port_iface_names(struct vsctl_ctx *ctx, struct vsctl_row *port, size_t *n)
{
    struct vsctl_row **ifaces = vsctl_load_rows(
        ctx, vsctl_table_of(ctx, "Interface"),
        vsctl_read_verified(ctx, port, "interfaces"), name_column, n);
    const char **names = xcalloc(*n + 1, sizeof *names);
    for (size_t i = 0; i < *n; i++) {
        names[i] = row_name(ctx, ifaces[i]);
    }
    free(ifaces);
    qsort(names, *n, sizeof *names, vsctl_compare_strings);
    return names;
}

/* "--may-exist" on a port that exists: fine if it is on BR_NAME with exactly
 * the interfaces IFACES, otherwise an error. */
static void
check_may_exist_port(struct vsctl_ctx *ctx, const struct port_ref *port,
                     const char *br_name, char **ifaces, int n_ifaces)
{
    if (strcmp(port->br.name, br_name)) {
        char *command = command_string(ctx);
        fatal("\"%s\" but %s is actually attached to bridge %s",
              command, row_name(ctx, port->port), port->br.name);
    }
    size_t n_have;
    const char **have = port_iface_names(ctx, port->port, &n_have);
    const char **want = xcalloc(n_ifaces + 1, sizeof *want);
    for (int i = 0; i < n_ifaces; i++) {
        want[i] = ifaces[i];
    }
    qsort(want, n_ifaces, sizeof *want, vsctl_compare_strings);
    bool same = n_have == (size_t) n_ifaces;
    for (size_t i = 0; same && i < n_have; i++) {
        same = !strcmp(have[i], want[i]);
    }
    if (!same) {
        struct ds list = DS_EMPTY_INITIALIZER;
        for (size_t i = 0; i < n_have; i++) {
            ds_put_format(&list, "%s%s", i ? ", " : "", have[i]);
        }
        char *command = command_string(ctx);
        fatal("\"%s\" but %s actually has interface(s) %s",
              command, row_name(ctx, port->port), ds_cstr(&list));
    }
    free(want);
    free(have);
}

static void
add_port(struct vsctl_ctx *ctx, const char *br_name, const char *port_name,
         bool fake_iface, char **iface_names, int n_ifaces,
         char **settings, int n_settings)
{
    if (!port_name[0]) {
        fatal("port name must not be empty string");
    }
    for (int i = 0; i < n_ifaces; i++) {
        if (!iface_names[i][0]) {
            fatal("interface name must not be empty string");
        }
    }
    struct port_ref existing;
    if (vsctl_has_option(ctx, "--may-exist")
        && find_port(ctx, port_name, false, &existing)) {
        check_may_exist_port(ctx, &existing, br_name, iface_names, n_ifaces);
        return;
    }
    check_conflicts_fmt(ctx, port_name, "a port");
    for (int i = 0; i < n_ifaces; i++) {
        check_conflicts_fmt(ctx, iface_names[i], "an interface");
    }
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, br_name, true, &br);

    struct vsctl_row **ifaces = xcalloc(n_ifaces, sizeof *ifaces);
    for (int i = 0; i < n_ifaces; i++) {
        ifaces[i] = insert_iface(ctx, iface_names[i], NULL);
    }
    struct vsctl_row *port = insert_port(ctx, port_name, ifaces, n_ifaces);
    free(ifaces);
    if (fake_iface) {
        vsctl_write_atom(ctx, port, "bond_fake_iface",
                   &(union vsctl_atom) { .boolean = true });
    }
    if (br.fake_port) {
        vsctl_write_atom(ctx, port, "tag",
                   &(union vsctl_atom) { .integer = br.vlan });
    }
    for (int i = 0; i < n_settings; i++) {
        vsctl_set_column(ctx, port, settings[i]);
    }
    add_ref(ctx, br.br, "ports", port);
}

static void
cmd_add_port(struct vsctl_ctx *ctx)
{
    add_port(ctx, ctx->argv[1], ctx->argv[2], false, &ctx->argv[2], 1,
             &ctx->argv[3], ctx->argc - 3);
}

static void
cmd_add_bond(struct vsctl_ctx *ctx)
{
    int n_ifaces = ctx->argc - 3;
    for (int i = 3; i < ctx->argc; i++) {
        if (strchr(ctx->argv[i], '=')) {
            n_ifaces = i - 3;
            break;
        }
    }
    if (n_ifaces < 2) {
        fatal("add-bond requires at least 2 interfaces, but only %d were "
              "specified", n_ifaces);
    }
    add_port(ctx, ctx->argv[1], ctx->argv[2],
             vsctl_has_option(ctx, "--fake-iface"), &ctx->argv[3], n_ifaces,
             &ctx->argv[3 + n_ifaces], ctx->argc - 3 - n_ifaces);
}

static void
cmd_add_bond_iface(struct vsctl_ctx *ctx)
{
    struct port_ref port;
    find_port(ctx, ctx->argv[1], true, &port);
    const char *iface_name = ctx->argv[2];
    struct iface_ref iface;
    if (vsctl_has_option(ctx, "--may-exist")
        && find_iface(ctx, iface_name, false, &iface)) {
        if (iface.port.port == port.port) {
            return;
        }
        char *command = command_string(ctx);
        fatal("\"%s\" but %s is actually attached to port %s", command,
              iface_name, row_name(ctx, iface.port.port));
    }
    check_conflicts_fmt(ctx, iface_name, "an interface");
    add_ref(ctx, port.port, "interfaces", insert_iface(ctx, iface_name, NULL));
}

static void
cmd_del_bond_iface(struct vsctl_ctx *ctx)
{
    const char *iface_name = ctx->argv[ctx->argc - 1];
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    struct iface_ref iface;
    if (!find_iface(ctx, iface_name, must_exist, &iface)) {
        return;
    }
    if (ctx->argc > 2) {
        struct port_ref port;
        find_port(ctx, ctx->argv[1], true, &port);
        if (port.port != iface.port.port) {
            fatal("port %s does not have an interface %s", ctx->argv[1],
                  iface_name);
        }
    }
    if (vsctl_read_verified(ctx, iface.port.port, "interfaces")->n <= 1) {
        fatal("cannot delete last interface from port %s",
              row_name(ctx, iface.port.port));
    }
    remove_ref(ctx, iface.port.port, "interfaces", iface.iface);
    vsctl_row_delete(ctx->db, iface.iface);
}

/* The port that "del-port" names, or NULL with --if-exists. */
static bool
del_port_target(struct vsctl_ctx *ctx, const char *target, bool must_exist,
                struct port_ref *port)
{
    struct vsctl_bridge_ref br;
    if (vsctl_find_bridge(ctx, target, false, &br)) {
        if (must_exist) {
            fatal("cannot delete port %s because it is the local port for "
                  "bridge %s (deleting this port requires deleting the "
                  "entire bridge)", target, target);
        }
        return false;
    }
    if (!vsctl_has_option(ctx, "--with-iface")) {
        return find_port(ctx, target, must_exist, port);
    }
    if (find_port(ctx, target, false, port)) {
        return true;
    }
    struct iface_ref iface;
    if (find_iface(ctx, target, false, &iface)) {
        *port = iface.port;
        return true;
    }
    if (must_exist) {
        fatal("no port or interface named %s", target);
    }
    return false;
}

static void
cmd_del_port(struct vsctl_ctx *ctx)
{
    bool must_exist = !vsctl_has_option(ctx, "--if-exists");
    struct port_ref port;
    if (!del_port_target(ctx, ctx->argv[ctx->argc - 1], must_exist, &port)) {
        return;
    }
    if (ctx->argc == 3) {
        struct vsctl_bridge_ref br;
        vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
        if (strcmp(br.name, port.br.name)) {
            if (!br.fake_port && port.br.fake_port && port.br.br == br.br) {
                fatal("bridge %s does not have a port %s (although its "
                      "child bridge %s does)", ctx->argv[1], ctx->argv[2],
                      port.br.name);
            }
            fatal("bridge %s does not have a port %s", ctx->argv[1],
                  ctx->argv[2]);
        }
    }
    delete_port(ctx, port.br.br, port.port);
}

static void
cmd_port_to_br(struct vsctl_ctx *ctx)
{
    struct port_ref port;
    find_port(ctx, ctx->argv[1], true, &port);
    ds_put_format(ctx->output, "%s\n", port.br.name);
}

/* ---- Interface commands. ---- */

static void
cmd_iface_to_br(struct vsctl_ctx *ctx)
{
    struct iface_ref iface;
    find_iface(ctx, ctx->argv[1], true, &iface);
    ds_put_format(ctx->output, "%s\n", iface.port.br.name);
}

/* ---- Announcing lookups. ---- */

/* Runs before any command: announces the names a command will look up, so
 * that a command line with many commands (1,000 add-port, say) fetches them
 * all in one round trip (vsctl_db_hint_lookup()). */
static void
hint_name(struct vsctl_ctx *ctx, const char *table, const char *name)
{
    struct vsctl_table *t = vsctl_db_get_table(ctx->db, table);
    if (t && vsctl_table_get_column(t, "name")) {
        union vsctl_atom a = { .string = (char *) name };
        vsctl_db_hint_lookup(ctx->db, t, "name", &a);
    }
}

/* A name that must not be taken by a bridge, port or interface. */
static void
hint_new_name(struct vsctl_ctx *ctx, const char *name)
{
    hint_name(ctx, "Bridge", name);
    hint_name(ctx, "Port", name);
    hint_name(ctx, "Interface", name);
}

static void
hint_add_br(struct vsctl_ctx *ctx)
{
    hint_new_name(ctx, ctx->argv[1]);
    if (ctx->argc == 4) {
        hint_name(ctx, "Bridge", ctx->argv[2]);
    }
}

static void
hint_add_port(struct vsctl_ctx *ctx)
{
    hint_name(ctx, "Bridge", ctx->argv[1]);
    hint_new_name(ctx, ctx->argv[2]);
}

static void
hint_add_bond(struct vsctl_ctx *ctx)
{
    hint_add_port(ctx);
    for (int i = 3; i < ctx->argc && !strchr(ctx->argv[i], '='); i++) {
        hint_new_name(ctx, ctx->argv[i]);
    }
}

static void
hint_del_port(struct vsctl_ctx *ctx)
{
    const char *target = ctx->argv[ctx->argc - 1];
    hint_name(ctx, "Bridge", target);
    hint_name(ctx, "Port", target);
    if (ctx->argc == 3) {
        hint_name(ctx, "Bridge", ctx->argv[1]);
    }
}

const struct vsctl_syntax vsctl_br_commands[] = {
    { "add-br", 1, 3, "NEW-BRIDGE [PARENT] [NEW-VLAN]", cmd_add_br,
      "--may-exist", true, hint_add_br, NULL },
    { "del-br", 1, 1, "BRIDGE", cmd_del_br, "--if-exists", true, NULL, NULL },
    { "list-br", 0, 0, "", cmd_list_br, "--real,--fake", false, NULL, NULL },
    { "br-exists", 1, 1, "BRIDGE", cmd_br_exists, "", false, NULL, NULL },
    { "br-to-vlan", 1, 1, "BRIDGE", cmd_br_to_vlan, "", false, NULL, NULL },
    { "br-to-parent", 1, 1, "BRIDGE", cmd_br_to_parent, "", false, NULL,
      NULL },
    { "br-set-external-id", 2, 3, "BRIDGE KEY [VALUE]",
      cmd_br_set_external_id, "", true, NULL, NULL },
    { "br-get-external-id", 1, 2, "BRIDGE [KEY]", cmd_br_get_external_id, "",
      false, NULL, NULL },
    { "list-ports", 1, 1, "BRIDGE", cmd_list_ports, "", false, NULL, NULL },
    { "add-port", 2, INT_MAX, "BRIDGE NEW-PORT [COLUMN[:KEY]=VALUE]...",
      cmd_add_port, "--may-exist", true, hint_add_port, NULL },
    { "add-bond", 4, INT_MAX,
      "BRIDGE BOND IFACE... [COLUMN[:KEY]=VALUE]...",
      cmd_add_bond, "--may-exist,--fake-iface", true, hint_add_bond, NULL },
    { "add-bond-iface", 2, 2, "BOND IFACE", cmd_add_bond_iface,
      "--may-exist", true, NULL, NULL },
    { "del-bond-iface", 1, 2, "[BOND] IFACE", cmd_del_bond_iface,
      "--if-exists", true, NULL, NULL },
    { "del-port", 1, 2, "[BRIDGE] PORT|IFACE", cmd_del_port,
      "--if-exists,--with-iface", true, hint_del_port, NULL },
    { "port-to-br", 1, 1, "PORT", cmd_port_to_br, "", false, NULL, NULL },
    { "list-ifaces", 1, 1, "BRIDGE", cmd_list_ifaces, "", false, NULL, NULL },
    { "iface-to-br", 1, 1, "IFACE", cmd_iface_to_br, "", false, NULL, NULL },
};

const size_t vsctl_n_br_commands = ARRAY_SIZE(vsctl_br_commands);
