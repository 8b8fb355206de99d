/* vsctl-misc: lanyard-vsctl's init, show and emer-reset commands and its
 * controller, fail-mode, manager and SSL commands, with ovs-vsctl 3.1's
 * semantics and output.
 *
 * Controller, Manager and SSL rows are not root rows: a command that replaces
 * them only drops the references and the server collects the old rows. */
#include "vsctl.h"

#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"
#include "vsctl-br.h"

/* ---- Helpers. ---- */

/* Writes COLUMN's default value (empty set, 0, false) unless it has it. */
static void
write_default(struct vsctl_ctx *ctx, struct vsctl_row *row,
              const char *column)
{
    const struct vsctl_column *c = vsctl_table_get_column(row->table, column);
    if (!c || vsctl_datum_is_default(vsctl_row_get(ctx->db, row, c),
                                     &c->type)) {
        return;
    }
    struct vsctl_datum *d = xmalloc(sizeof *d);
    vsctl_datum_init_default(d, &c->type);
    vsctl_row_write(ctx->db, row, c, d);
}

/* Writes the references to ROWS as the whole of COLUMN. */
static void
write_refs(struct vsctl_ctx *ctx, struct vsctl_row *row, const char *column,
           struct vsctl_row **rows, size_t n)
{
    const struct vsctl_column *c = vsctl_column_of(row->table, column);
    struct vsctl_datum *d = xmalloc(sizeof *d);
    vsctl_datum_init_empty(d);
    for (size_t i = 0; i < n; i++) {
        union vsctl_atom a = { .uuid = rows[i]->uuid };
        vsctl_datum_put(d, &c->type, &a, NULL, false);
    }
    vsctl_write_if_changed(ctx, row, c, d);
}

/* The TABLE rows that COLUMN of ROW references (all their columns). */
static struct vsctl_row **
referenced_rows(struct vsctl_ctx *ctx, struct vsctl_row *row,
                const char *column, const char *table, size_t *n)
{
    return vsctl_load_rows(ctx, vsctl_table_of(ctx, table),
                           vsctl_read_verified(ctx, row, column), NULL, n);
}

static void
delete_rows(struct vsctl_ctx *ctx, struct vsctl_row **rows, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        vsctl_row_delete(ctx->db, rows[i]);
    }
}

/* Prints the "target" of each of ROWS, sorted, one per line; UNIQUE drops
 * repeats (get-manager does, get-controller does not). */
static void
print_targets(struct vsctl_ctx *ctx, struct vsctl_row **rows, size_t n,
              bool unique)
{
    const char **targets = xcalloc(n + 1, sizeof *targets);
    size_t n_targets = 0;
    for (size_t i = 0; i < n; i++) {
        const struct vsctl_datum *d = vsctl_read_verified(ctx, rows[i],
                                                          "target");
        if (d->n) {
            targets[n_targets++] = d->keys[0].string;
        }
    }
    qsort(targets, n_targets, sizeof *targets, vsctl_compare_strings);
    for (size_t i = 0; i < n_targets; i++) {
        if (!unique || !i || strcmp(targets[i], targets[i - 1])) {
            ds_put_format(ctx->output, "%s\n", targets[i]);
        }
    }
    free(targets);
}

/* Warns, as ovs-vsctl does, about a controller or manager target whose
 * connection method it does not know (it is stored anyway). */
static void
check_target(const char *target)
{
    static const char *const methods[] = {
        "tcp", "ssl", "unix", "ptcp", "pssl", "punix"
    };
    size_t len = strcspn(target, ":");
    if (target[len] == ':') {
        for (size_t i = 0; i < ARRAY_SIZE(methods); i++) {
            if (strlen(methods[i]) == len
                && !memcmp(methods[i], target, len)) {
                return;
            }
        }
    }
    vsctl_warn("vsctl", "target type \"%s\" is possibly erroneous", target);
}

/* Inserts one TABLE row per target, with --inactivity-probe if given. */
static struct vsctl_row **
insert_targets(struct vsctl_ctx *ctx, const char *table, char **targets,
               size_t n)
{
    const char *probe = vsctl_get_option(ctx, "--inactivity-probe");
    struct vsctl_row **rows = xcalloc(n + 1, sizeof *rows);
    for (size_t i = 0; i < n; i++) {
        check_target(targets[i]);
        rows[i] = vsctl_db_insert_row(ctx->db, vsctl_table_of(ctx, table),
                                      NULL);
        vsctl_write_string(ctx, rows[i], "target", targets[i]);
        if (probe) {
            vsctl_write_atom(ctx, rows[i], "inactivity_probe",
                       &(union vsctl_atom) { .integer = atoll(probe) });
        }
    }
    return rows;
}

/* ---- init, show, emer-reset. ---- */

static void
cmd_init(struct vsctl_ctx *ctx)
{
    /* main() creates the Open_vSwitch row if there is none. */
    (void) ctx;
}

struct show_table {
    const char *table;
    const char *name_column;    /* NULL: the row is shown by its UUID. */
    const char *columns[4];
};

static const struct show_table show_tables[] = {
    { "Open_vSwitch", NULL, { "manager_options", "bridges", "ovs_version" } },
    { "Bridge", "name", { "controller", "fail_mode", "datapath_type",
                          "ports" } },
    { "Port", "name", { "tag", "trunks", "interfaces" } },
    { "Interface", "name", { "type", "options", "error", "bfd_status" } },
    { "Controller", "target", { "is_connected" } },
    { "Manager", "target", { "is_connected" } },
};

static const struct show_table *
find_show_table(const char *name)
{
    for (size_t i = 0; i < ARRAY_SIZE(show_tables); i++) {
        if (!strcmp(show_tables[i].table, name)) {
            return &show_tables[i];
        }
    }
    return NULL;
}

/* Prints ROW at nesting LEVEL, then its shown columns, following references
 * into other shown tables.  ON_PATH marks the tables being printed higher
 * up, whose rows are then printed only by name (no cycles). */
static void
show_row(struct vsctl_ctx *ctx, struct vsctl_row *row, int level,
         bool *on_path)
{
    const struct show_table *show = find_show_table(row->table->name);
    const struct vsctl_column *name_column = show && show->name_column
        ? vsctl_table_get_column(row->table, show->name_column) : NULL;
    ds_put_char_multiple(ctx->output, ' ', level * 4);
    if (name_column) {
        ds_put_format(ctx->output, "%s ", row->table->name);
        vsctl_datum_to_string(vsctl_row_get(ctx->db, row, name_column),
                              &name_column->type, ctx->output);
    } else {
        char buf[UUID_LEN + 1];
        uuid_to_string(&row->uuid, buf);
        ds_put_cstr(ctx->output, buf);
    }
    ds_put_char(ctx->output, '\n');
    size_t idx = show ? (size_t) (show - show_tables) : 0;
    if (!show || on_path[idx]) {
        return;
    }
    on_path[idx] = true;
    for (size_t i = 0; i < ARRAY_SIZE(show->columns) && show->columns[i];
         i++) {
        const struct vsctl_column *c = vsctl_table_get_column(
            row->table, show->columns[i]);
        if (!c) {
            continue;
        }
        const struct vsctl_datum *d = vsctl_row_get(ctx->db, row, c);
        const char *ref = c->type.key.type == VA_UUID
                          ? c->type.key.ref_table : NULL;
        struct vsctl_table *ref_table = ref && find_show_table(ref)
                                        ? vsctl_db_get_table(ctx->db, ref)
                                        : NULL;
        if (ref_table) {
            for (size_t j = 0; j < d->n; j++) {
                struct vsctl_row *target = vsctl_db_get_row(
                    ctx->db, ref_table, &d->keys[j].uuid);
                if (target) {
                    show_row(ctx, target, level + 1, on_path);
                }
            }
        } else if (!vsctl_datum_is_default(d, &c->type)) {
            ds_put_char_multiple(ctx->output, ' ', (level + 1) * 4);
            ds_put_format(ctx->output, "%s: ", c->name);
            vsctl_datum_to_string(d, &c->type, ctx->output);
            ds_put_char(ctx->output, '\n');
        }
    }
    on_path[idx] = false;
}

/* Reads the shown columns of every row of the table SHOW describes, in one
 * select. */
static void
load_show_table(struct vsctl_ctx *ctx, const struct show_table *show)
{
    struct vsctl_table *t = vsctl_db_get_table(ctx->db, show->table);
    if (!t) {
        return;
    }
    const char *columns[ARRAY_SIZE(show->columns) + 2];
    size_t n_columns = 0;
    if (show->name_column
        && vsctl_table_get_column(t, show->name_column)) {
        columns[n_columns++] = show->name_column;
    }
    for (size_t i = 0; i < ARRAY_SIZE(show->columns); i++) {
        if (show->columns[i]
            && vsctl_table_get_column(t, show->columns[i])) {
            columns[n_columns++] = show->columns[i];
        }
    }
    columns[n_columns] = NULL;
    size_t n;
    free(vsctl_db_load_columns(ctx->db, t, columns, &n));
}

void
vsctl_show(struct vsctl_ctx *ctx)
{
    for (size_t i = 0; i < ARRAY_SIZE(show_tables); i++) {
        load_show_table(ctx, &show_tables[i]);
    }
    bool on_path[ARRAY_SIZE(show_tables)] = { false };
    size_t n;
    struct vsctl_row **rows = vsctl_db_all_rows(
        ctx->db, vsctl_table_of(ctx, "Open_vSwitch"), &n);
    for (size_t i = 0; i < n; i++) {
        show_row(ctx, rows[i], 0, on_path);
    }
    free(rows);
}

/* Every row of TABLE with (at least) COLUMNS loaded; none if the schema has
 * no such table. */
static struct vsctl_row **
all_rows_of(struct vsctl_ctx *ctx, const char *table,
            const char *const *columns, size_t *n)
{
    struct vsctl_table *t = vsctl_db_get_table(ctx->db, table);
    if (!t) {
        *n = 0;
        return xcalloc(1, sizeof(struct vsctl_row *));
    }
    return vsctl_db_load_columns(ctx->db, t, columns, n);
}

/* Keeps only other_config:hwaddr of a bridge. */
static void
reset_bridge_other_config(struct vsctl_ctx *ctx, struct vsctl_row *br)
{
    const struct vsctl_column *c = vsctl_column_of(br->table, "other_config");
    const struct vsctl_datum *old = vsctl_row_get(ctx->db, br, c);
    union vsctl_atom key = { .string = (char *) "hwaddr" };
    size_t idx = vsctl_datum_find_key(old, &key, VA_STRING);
    if (old->n == (idx == SIZE_MAX ? 0 : 1)) {
        return;
    }
    struct vsctl_datum *d = xmalloc(sizeof *d);
    vsctl_datum_init_empty(d);
    if (idx != SIZE_MAX) {
        union vsctl_atom k, v;
        vsctl_atom_clone(&k, &old->keys[idx], VA_STRING);
        vsctl_atom_clone(&v, &old->values[idx], VA_STRING);
        vsctl_datum_put(d, &c->type, &k, &v, false);
    }
    vsctl_row_write(ctx->db, br, c, d);
}

static void
cmd_emer_reset(struct vsctl_ctx *ctx)
{
    /* What is read: the columns reset below (and a bridge's other_config,
     * of which only "hwaddr" survives). */
    static const char *const bridge_read[] = {
        "controller", "fail_mode", "mirrors", "netflow", "sflow", "ipfix",
        "flood_vlans", "other_config", NULL
    };
    static const char *const port_read[] = { "other_config", NULL };
    static const char *const iface_read[] = {
        "ingress_policing_rate", "ingress_policing_burst", NULL
    };
    static const char *const uuid_only[] = { NULL };
    /* Rows that go (non-root: the server collects them once unreferenced).
     * Flow_Sample_Collector_Set rows stay, as with ovs-vsctl, which never
     * reads that table here. */
    static const char *const dropped_tables[] = {
        "Mirror", "Controller", "Manager", "NetFlow", "SSL", "sFlow", "IPFIX"
    };
    size_t n;
    struct vsctl_row **rows;

    write_default(ctx, ctx->ovs, "manager_options");
    write_default(ctx, ctx->ovs, "ssl");

    rows = all_rows_of(ctx, "Bridge", bridge_read, &n);
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; strcmp(bridge_read[j], "other_config"); j++) {
            write_default(ctx, rows[i], bridge_read[j]);
        }
        reset_bridge_other_config(ctx, rows[i]);
    }
    free(rows);

    rows = all_rows_of(ctx, "Port", port_read, &n);
    for (size_t i = 0; i < n; i++) {
        write_default(ctx, rows[i], "other_config");
    }
    free(rows);

    rows = all_rows_of(ctx, "Interface", iface_read, &n);
    for (size_t i = 0; i < n; i++) {
        write_default(ctx, rows[i], "ingress_policing_rate");
        write_default(ctx, rows[i], "ingress_policing_burst");
    }
    free(rows);

    for (size_t i = 0; i < ARRAY_SIZE(dropped_tables); i++) {
        rows = all_rows_of(ctx, dropped_tables[i], uuid_only, &n);
        delete_rows(ctx, rows, n);
        free(rows);
    }
}

/* ---- Controllers and fail mode. ---- */

static void
cmd_get_controller(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
    size_t n;
    struct vsctl_row **rows = referenced_rows(ctx, br.br, "controller",
                                              "Controller", &n);
    print_targets(ctx, rows, n, false);
    free(rows);
}

/* Drops the controllers of real bridge BRIDGE; returns how many it had. */
static size_t
drop_controllers(struct vsctl_ctx *ctx, struct vsctl_row *bridge)
{
    size_t n;
    struct vsctl_row **rows = referenced_rows(ctx, bridge, "controller",
                                              "Controller", &n);
    delete_rows(ctx, rows, n);
    free(rows);
    return vsctl_read_verified(ctx, bridge, "controller")->n;
}

static void
cmd_del_controller(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_real_bridge(ctx, ctx->argv[1], &br);
    if (drop_controllers(ctx, br.br)) {
        write_refs(ctx, br.br, "controller", NULL, 0);
    }
}

static void
cmd_set_controller(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_real_bridge(ctx, ctx->argv[1], &br);
    drop_controllers(ctx, br.br);
    size_t n = ctx->argc - 2;
    struct vsctl_row **rows = insert_targets(ctx, "Controller",
                                             &ctx->argv[2], n);
    write_refs(ctx, br.br, "controller", rows, n);
    free(rows);
}

static void
cmd_get_fail_mode(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
    const struct vsctl_datum *d = vsctl_read_verified(ctx, br.br, "fail_mode");
    if (d->n && d->keys[0].string[0]) {
        ds_put_format(ctx->output, "%s\n", d->keys[0].string);
    }
}

static void
cmd_del_fail_mode(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_real_bridge(ctx, ctx->argv[1], &br);
    write_default(ctx, br.br, "fail_mode");
}

static void
cmd_set_fail_mode(struct vsctl_ctx *ctx)
{
    struct vsctl_bridge_ref br;
    vsctl_find_real_bridge(ctx, ctx->argv[1], &br);
    const char *mode = ctx->argv[2];
    if (strcmp(mode, "standalone") && strcmp(mode, "secure")) {
        fatal("fail-mode must be \"standalone\" or \"secure\"");
    }
    vsctl_write_string(ctx, br.br, "fail_mode", mode);
}

/* ---- Managers. ---- */

static struct vsctl_row **
managers(struct vsctl_ctx *ctx, size_t *n)
{
    return referenced_rows(ctx, ctx->ovs, "manager_options", "Manager", n);
}

static void
cmd_get_manager(struct vsctl_ctx *ctx)
{
    size_t n;
    struct vsctl_row **rows = managers(ctx, &n);
    print_targets(ctx, rows, n, true);
    free(rows);
}

static void
drop_managers(struct vsctl_ctx *ctx)
{
    size_t n;
    struct vsctl_row **rows = managers(ctx, &n);
    delete_rows(ctx, rows, n);
    free(rows);
}

static void
cmd_del_manager(struct vsctl_ctx *ctx)
{
    drop_managers(ctx);
    write_refs(ctx, ctx->ovs, "manager_options", NULL, 0);
}

static void
cmd_set_manager(struct vsctl_ctx *ctx)
{
    drop_managers(ctx);
    size_t n = ctx->argc - 1;
    struct vsctl_row **rows = insert_targets(ctx, "Manager", &ctx->argv[1],
                                             n);
    write_refs(ctx, ctx->ovs, "manager_options", rows, n);
    free(rows);
}

/* ---- SSL. ---- */

static struct vsctl_row *
current_ssl(struct vsctl_ctx *ctx)
{
    size_t n;
    struct vsctl_row **rows = referenced_rows(ctx, ctx->ovs, "ssl", "SSL",
                                              &n);
    struct vsctl_row *ssl = n ? rows[0] : NULL;
    free(rows);
    return ssl;
}

static const char *
ssl_string(struct vsctl_ctx *ctx, struct vsctl_row *ssl, const char *column)
{
    const struct vsctl_datum *d = vsctl_read_verified(ctx, ssl, column);
    return d->n ? d->keys[0].string : "";
}

static void
cmd_get_ssl(struct vsctl_ctx *ctx)
{
    struct vsctl_row *ssl = current_ssl(ctx);
    if (!ssl) {
        return;
    }
    const struct vsctl_datum *bootstrap = vsctl_read_verified(ctx, ssl,
                                                        "bootstrap_ca_cert");
    ds_put_format(ctx->output, "Private key: %s\n",
                  ssl_string(ctx, ssl, "private_key"));
    ds_put_format(ctx->output, "Certificate: %s\n",
                  ssl_string(ctx, ssl, "certificate"));
    ds_put_format(ctx->output, "CA Certificate: %s\n",
                  ssl_string(ctx, ssl, "ca_cert"));
    ds_put_format(ctx->output, "Bootstrap: %s\n",
                  bootstrap->n && bootstrap->keys[0].boolean
                  ? "true" : "false");
}

static void
cmd_del_ssl(struct vsctl_ctx *ctx)
{
    struct vsctl_row *ssl = current_ssl(ctx);
    if (ssl) {
        vsctl_row_delete(ctx->db, ssl);
        write_refs(ctx, ctx->ovs, "ssl", NULL, 0);
    }
}

static void
cmd_set_ssl(struct vsctl_ctx *ctx)
{
    struct vsctl_row *old = current_ssl(ctx);
    if (old) {
        vsctl_row_delete(ctx->db, old);
    }
    struct vsctl_row *ssl = vsctl_db_insert_row(ctx->db,
                                                vsctl_table_of(ctx, "SSL"),
                                                NULL);
    vsctl_write_string(ctx, ssl, "private_key", ctx->argv[1]);
    vsctl_write_string(ctx, ssl, "certificate", ctx->argv[2]);
    vsctl_write_string(ctx, ssl, "ca_cert", ctx->argv[3]);
    vsctl_write_atom(ctx, ssl, "bootstrap_ca_cert", &(union vsctl_atom) {
        .boolean = vsctl_has_option(ctx, "--bootstrap") });
    write_refs(ctx, ctx->ovs, "ssl", &ssl, 1);
}

/* ---- Auto Attach mappings. ---- */

/* Parses an I-SID or VLAN argument as ovs-vsctl does (strtoull, any
 * trailing text ignored); range checks are left to the server. */
static long long
parse_aa_number(const char *s)
{
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    if (end == s) {
        fatal("Invalid argument %s", s);
    }
    return (long long) n;
}

/* The AutoAttach row of the (real) bridge named in argv[1], or NULL; CREATE
 * adds one if there is none. */
static struct vsctl_row *
aa_row(struct vsctl_ctx *ctx, bool create)
{
    struct vsctl_bridge_ref br;
    vsctl_find_bridge(ctx, ctx->argv[1], true, &br);
    size_t n;
    struct vsctl_row **rows = referenced_rows(ctx, br.br, "auto_attach",
                                              "AutoAttach", &n);
    struct vsctl_row *aa = n ? rows[0] : NULL;
    free(rows);
    if (!aa && create) {
        aa = vsctl_db_insert_row(ctx->db, vsctl_table_of(ctx, "AutoAttach"),
                                 NULL);
        write_refs(ctx, br.br, "auto_attach", &aa, 1);
    }
    return aa;
}

static void
cmd_add_aa_mapping(struct vsctl_ctx *ctx)
{
    union vsctl_atom isid = { .integer = parse_aa_number(ctx->argv[2]) };
    union vsctl_atom vlan = { .integer = parse_aa_number(ctx->argv[3]) };
    struct vsctl_row *aa = aa_row(ctx, true);
    /* An I-SID already mapped keeps its VLAN, as with ovs-vsctl. */
    if (vsctl_datum_find_key(vsctl_read_verified(ctx, aa, "mappings"), &isid,
                             VA_INTEGER) == SIZE_MAX) {
        vsctl_row_add_element(ctx->db, aa, "mappings", &isid, &vlan);
    }
}

static void
cmd_del_aa_mapping(struct vsctl_ctx *ctx)
{
    long long isid = parse_aa_number(ctx->argv[2]);
    long long vlan = parse_aa_number(ctx->argv[3]);
    struct vsctl_row *aa = aa_row(ctx, false);
    if (!aa) {
        return;
    }
    const struct vsctl_column *c = vsctl_column_of(aa->table, "mappings");
    vsctl_row_verify(ctx->db, aa, c);
    const struct vsctl_datum *old = vsctl_row_get(ctx->db, aa, c);
    bool found = false;
    for (size_t i = 0; i < old->n; i++) {
        found = found || (old->keys[i].integer == isid
                          && old->values[i].integer == vlan);
    }
    if (!found) {
        return;
    }
    /* ovs-vsctl drops every pair that shares the I-SID or the VLAN. */
    struct vsctl_datum *d = xmalloc(sizeof *d);
    vsctl_datum_init_empty(d);
    for (size_t i = 0; i < old->n; i++) {
        if (old->keys[i].integer != isid && old->values[i].integer != vlan) {
            union vsctl_atom k = old->keys[i], v = old->values[i];
            vsctl_datum_put(d, &c->type, &k, &v, false);
        }
    }
    vsctl_write_if_changed(ctx, aa, c, d);
}

static void
cmd_get_aa_mapping(struct vsctl_ctx *ctx)
{
    struct vsctl_row *aa = aa_row(ctx, false);
    const struct vsctl_datum *m = aa ? vsctl_read_verified(ctx, aa, "mappings")
                                     : NULL;
    for (size_t i = 0; m && i < m->n; i++) {
        ds_put_format(ctx->output, "%lld %lld\n", m->keys[i].integer,
                      m->values[i].integer);
    }
}

/* ---- Conntrack zone timeout policies and datapath capabilities. ---- */

/* The Datapath row that Open_vSwitch.datapaths names NAME, or NULL. */
static struct vsctl_row *
find_datapath(struct vsctl_ctx *ctx, const char *name)
{
    const struct vsctl_datum *dps = vsctl_read_verified(ctx, ctx->ovs,
                                                        "datapaths");
    union vsctl_atom key = { .string = (char *) name };
    size_t idx = vsctl_datum_find_key(dps, &key, VA_STRING);
    return idx == SIZE_MAX ? NULL
           : vsctl_db_get_row(ctx->db, vsctl_table_of(ctx, "Datapath"),
                              &dps->values[idx].uuid);
}

/* Parses "zone=N". */
static long long
parse_zone(const char *arg)
{
    const char *digits = arg + strlen("zone=");
    char *end;
    unsigned long long zone = strncmp(arg, "zone=", 5) ? 0
                              : strtoull(digits, &end, 10);
    if (strncmp(arg, "zone=", 5) || end == digits) {
        fatal("invalid zone id \"%s\" (use zone=ZONE_ID)", arg);
    }
    return (long long) zone;
}

/* Index of ZONE in the datapath's ct_zones map, or SIZE_MAX. */
static size_t
find_zone(struct vsctl_ctx *ctx, struct vsctl_row *dp, long long zone)
{
    union vsctl_atom key = { .integer = zone };
    return vsctl_datum_find_key(vsctl_read_verified(ctx, dp, "ct_zones"), &key,
                                VA_INTEGER);
}

/* A CT_Timeout_Policy row with exactly the timeouts KEY=VALUE given in
 * ARGS: an existing one if there is one (ovs-vsctl shares them), else a new
 * one.  A value that is not a number counts as 0; a repeated key keeps its
 * first value. */
static struct vsctl_row *
timeout_policy(struct vsctl_ctx *ctx, char **args, int n_args)
{
    struct vsctl_table *t = vsctl_table_of(ctx, "CT_Timeout_Policy");
    const struct vsctl_column *c = vsctl_column_of(t, "timeouts");
    struct vsctl_datum *want = xmalloc(sizeof *want);
    vsctl_datum_init_empty(want);
    for (int i = 0; i < n_args; i++) {
        const char *eq = strchr(args[i], '=');
        union vsctl_atom k = { .string = eq ? xstrndup(args[i], eq - args[i])
                                            : xstrdup(args[i]) };
        union vsctl_atom v = { .integer = eq ? atoll(eq + 1) : 0 };
        vsctl_datum_put(want, &c->type, &k, &v, false);
    }
    size_t n;
    struct vsctl_row **rows = vsctl_db_all_rows(ctx->db, t, &n);
    struct vsctl_row *tp = NULL;
    for (size_t i = 0; i < n && !tp; i++) {
        if (vsctl_datum_equals(vsctl_row_get(ctx->db, rows[i], c), want,
                               &c->type)) {
            tp = rows[i];
        }
    }
    free(rows);
    if (tp) {
        vsctl_datum_destroy(want, &c->type);
        free(want);
    } else {
        tp = vsctl_db_insert_row(ctx->db, t, NULL);
        vsctl_row_write(ctx->db, tp, c, want);
    }
    return tp;
}

static void
cmd_add_zone_tp(struct vsctl_ctx *ctx)
{
    struct vsctl_row *dp = find_datapath(ctx, ctx->argv[1]);
    if (!dp) {
        fatal("datapath %s does not exist", ctx->argv[1]);
    }
    long long zone = parse_zone(ctx->argv[2]);
    size_t idx = find_zone(ctx, dp, zone);
    if (idx != SIZE_MAX && !vsctl_has_option(ctx, "--may-exist")) {
        fatal("zone id %lld already exists", zone);
    }
    struct vsctl_row *tp = timeout_policy(ctx, &ctx->argv[3],
                                          ctx->argc - 3);
    struct vsctl_row *zone_row = idx == SIZE_MAX ? NULL : vsctl_db_get_row(
        ctx->db, vsctl_table_of(ctx, "CT_Zone"),
        &vsctl_row_get_by_name(ctx->db, dp, "ct_zones")->values[idx].uuid);
    if (!zone_row) {
        zone_row = vsctl_db_insert_row(ctx->db, vsctl_table_of(ctx, "CT_Zone"),
                                       NULL);
        union vsctl_atom k = { .integer = zone };
        union vsctl_atom v = { .uuid = zone_row->uuid };
        vsctl_row_add_element(ctx->db, dp, "ct_zones", &k, &v);
    }
    write_refs(ctx, zone_row, "timeout_policy", &tp, 1);
}

static void
cmd_del_zone_tp(struct vsctl_ctx *ctx)
{
    struct vsctl_row *dp = find_datapath(ctx, ctx->argv[1]);
    if (!dp) {
        fatal("datapath %s does not exist", ctx->argv[1]);
    }
    long long zone = parse_zone(ctx->argv[2]);
    if (find_zone(ctx, dp, zone) == SIZE_MAX) {
        if (!vsctl_has_option(ctx, "--if-exists")) {
            fatal("zone id %lld does not exist", zone);
        }
        return;
    }
    union vsctl_atom k = { .integer = zone };
    vsctl_row_remove_element(ctx->db, dp, "ct_zones", &k);
}

static void
cmd_list_zone_tp(struct vsctl_ctx *ctx)
{
    struct vsctl_row *dp = find_datapath(ctx, ctx->argv[1]);
    if (!dp) {
        fatal("datapath: %s record not found", ctx->argv[1]);
    }
    const struct vsctl_datum *zones = vsctl_read_verified(ctx, dp, "ct_zones");
    struct vsctl_table *zone_table = vsctl_table_of(ctx, "CT_Zone");
    struct vsctl_table *tp_table = vsctl_table_of(ctx, "CT_Timeout_Policy");
    for (size_t i = 0; i < zones->n; i++) {
        struct vsctl_row *z = vsctl_db_get_row(ctx->db, zone_table,
                                               &zones->values[i].uuid);
        const struct vsctl_datum *ref = z ? vsctl_read_verified(
            ctx, z, "timeout_policy") : NULL;
        struct vsctl_row *tp = ref && ref->n ? vsctl_db_get_row(
            ctx->db, tp_table, &ref->keys[0].uuid) : NULL;
        ds_put_format(ctx->output, "Zone:%lld, Timeout Policies: ",
                      zones->keys[i].integer);
        if (!tp) {
            ds_put_cstr(ctx->output, "system default");
        } else {
            const struct vsctl_datum *t = vsctl_read_verified(ctx, tp,
                                                              "timeouts");
            for (size_t j = 0; j < t->n; j++) {
                ds_put_format(ctx->output, "%s%s=%lld", j ? " " : "",
                              t->keys[j].string, t->values[j].integer);
            }
        }
        ds_put_char(ctx->output, '\n');
    }
}

/* ovs-vsctl prints a string map in the iteration order of its hash table
 * ("smap"), which scripts may have come to expect: that order is rebuilt
 * here from Open vSwitch's string hash (a 32-bit Murmur3 variant) and its
 * hash table's bucket layout. */
static uint32_t
ovs_hash_add(uint32_t hash, uint32_t data)
{
    /* Unlike lib/core's hash_add(), OVS's skips zero words. */
    if (data) {
        data *= 0xcc9e2d51;
        data = hash_rot(data, 15);
        data *= 0x1b873593;
        hash ^= data;
    }
    return hash_rot(hash, 13) * 5 + 0xe6546b64;
}

static uint32_t
ovs_hash_string(const char *s)
{
    size_t n = strlen(s);
    uint32_t hash = 0;
    size_t i;
    for (i = 0; i + 4 <= n; i += 4) {
        uint32_t word = (uint32_t) (unsigned char) s[i]
                        | (uint32_t) (unsigned char) s[i + 1] << 8
                        | (uint32_t) (unsigned char) s[i + 2] << 16
                        | (uint32_t) (unsigned char) s[i + 3] << 24;
        hash = ovs_hash_add(hash, word);
    }
    if (i < n) {
        uint32_t word = 0;
        for (size_t j = 0; i + j < n; j++) {
            word |= (uint32_t) (unsigned char) s[i + j] << (8 * j);
        }
        hash = ovs_hash_add(hash, word);
    }
    return hash_finish(hash, (uint32_t) n);
}

/* Bucket mask of Open vSwitch's hmap after growing to hold N entries. */
static size_t
ovs_hmap_mask(size_t n)
{
    size_t mask = n / 2;
    for (int shift = 1; shift < 64; shift *= 2) {
        mask |= mask >> shift;
    }
    return mask | (mask & 1) << 1;
}

/* Fills ORDER with the indexes 0...N-1 of KEYS (inserted in this order) in
 * the order an Open vSwitch hmap iterates them. */
static void
ovs_smap_order(const union vsctl_atom *keys, size_t n, size_t *order)
{
    size_t mask = 0, n_in = 0;
    size_t *heads = xcalloc(1, sizeof *heads);      /* Bucket chains... */
    size_t *next = xcalloc(n + 1, sizeof *next);    /* ...linked by index. */
    uint32_t *hashes = xcalloc(n + 1, sizeof *hashes);
    heads[0] = SIZE_MAX;
    for (size_t i = 0; i < n; i++) {
        hashes[i] = ovs_hash_string(keys[i].string);
        next[i] = heads[hashes[i] & mask];
        heads[hashes[i] & mask] = i;
        if (++n_in / 2 > mask) {
            /* Rehash: old buckets in order, each chain from its head, each
             * node pushed onto the front of its new bucket. */
            size_t new_mask = ovs_hmap_mask(n_in);
            size_t *new_heads = xmalloc((new_mask + 1) * sizeof *new_heads);
            for (size_t b = 0; b <= new_mask; b++) {
                new_heads[b] = SIZE_MAX;
            }
            for (size_t b = 0; b <= mask; b++) {
                for (size_t j = heads[b], nx; j != SIZE_MAX; j = nx) {
                    nx = next[j];
                    next[j] = new_heads[hashes[j] & new_mask];
                    new_heads[hashes[j] & new_mask] = j;
                }
            }
            free(heads);
            heads = new_heads;
            mask = new_mask;
        }
    }
    size_t k = 0;
    for (size_t b = 0; b <= mask; b++) {
        for (size_t j = heads[b]; j != SIZE_MAX; j = next[j]) {
            order[k++] = j;
        }
    }
    free(heads);
    free(next);
    free(hashes);
}

static void
cmd_list_dp_cap(struct vsctl_ctx *ctx)
{
    struct vsctl_row *dp = find_datapath(ctx, ctx->argv[1]);
    if (!dp) {
        fatal("datapath \"%s\" record not found", ctx->argv[1]);
    }
    const struct vsctl_datum *caps = vsctl_read_verified(ctx, dp,
                                                         "capabilities");
    size_t *order = xcalloc(caps->n + 1, sizeof *order);
    ovs_smap_order(caps->keys, caps->n, order);
    for (size_t i = 0; i < caps->n; i++) {
        ds_put_format(ctx->output, "%s%s=%s", i ? " " : "",
                      caps->keys[order[i]].string,
                      caps->values[order[i]].string);
    }
    ds_put_char(ctx->output, '\n');
    free(order);
}

const struct vsctl_syntax vsctl_misc_commands[] = {
    { "init", 0, 0, "", cmd_init, "", true, NULL, NULL },
    { "show", 0, 0, "", vsctl_show, "", false, NULL, NULL },
    { "emer-reset", 0, 0, "", cmd_emer_reset, "", true, NULL, NULL },
    { "get-controller", 1, 1, "BRIDGE", cmd_get_controller, "", false, NULL,
      NULL },
    { "del-controller", 1, 1, "BRIDGE", cmd_del_controller, "", true, NULL,
      NULL },
    { "set-controller", 1, INT_MAX, "BRIDGE TARGET...", cmd_set_controller,
      "--inactivity-probe=", true, NULL, NULL },
    { "get-fail-mode", 1, 1, "BRIDGE", cmd_get_fail_mode, "", false, NULL,
      NULL },
    { "del-fail-mode", 1, 1, "BRIDGE", cmd_del_fail_mode, "", true, NULL,
      NULL },
    { "set-fail-mode", 2, 2, "BRIDGE MODE", cmd_set_fail_mode, "", true, NULL,
      NULL },
    { "get-manager", 0, 0, "", cmd_get_manager, "", false, NULL, NULL },
    { "del-manager", 0, 0, "", cmd_del_manager, "", true, NULL, NULL },
    { "set-manager", 1, INT_MAX, "TARGET...", cmd_set_manager,
      "--inactivity-probe=", true, NULL, NULL },
    { "get-ssl", 0, 0, "", cmd_get_ssl, "", false, NULL, NULL },
    { "del-ssl", 0, 0, "", cmd_del_ssl, "", true, NULL, NULL },
    { "set-ssl", 3, 3, "PRIVATE-KEY CERTIFICATE CA-CERT", cmd_set_ssl,
      "--bootstrap", true, NULL, NULL },
    { "add-aa-mapping", 3, 3, "BRIDGE ARG ARG", cmd_add_aa_mapping, "", true,
      NULL, NULL },
    { "del-aa-mapping", 3, 3, "BRIDGE ARG ARG", cmd_del_aa_mapping, "", true,
      NULL, NULL },
    { "get-aa-mapping", 1, 1, "BRIDGE", cmd_get_aa_mapping, "", false, NULL,
      NULL },
    { "add-zone-tp", 3, INT_MAX, "", cmd_add_zone_tp, "--may-exist", true,
      NULL, NULL },
    { "del-zone-tp", 2, 2, "", cmd_del_zone_tp, "--if-exists", true, NULL,
      NULL },
    { "list-zone-tp", 1, 1, "", cmd_list_zone_tp, "", false, NULL, NULL },
    { "list-dp-cap", 1, 1, "", cmd_list_dp_cap, "", false, NULL, NULL },
};

const size_t vsctl_n_misc_commands = ARRAY_SIZE(vsctl_misc_commands);
