/* lanyard-dbd: the OVSDB server for the Open_vSwitch database. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "daemon.h"
#include "dbd-db.h"
#include "ds.h"
#include "ovsdb-error.h"
#include "ovsdb-schema.h"
#include "ovsdb-txn.h"
#include "ovsdb.h"
#include "poll-loop.h"
#include "remotes.h"
#include "replication.h"
#include "schemas.h"
#include "server.h"
#include "unixctl.h"
#include "util.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(dbd);

struct dbd_ctx {
    struct dbd_server *server;
    struct dbd_remotes *remotes;
    struct dbd_replication *repl;
    bool exiting;
};

struct dbd_options {
    size_t max_backlog;
    const char *sync_from;
    const char *sync_exclude;
    bool active;
};

static void
usage(void)
{
    printf("%s: Open vSwitch-compatible database server (Lanyard)\n"
           "usage: %s [OPTIONS] [DBFILE]\n"
           "DBFILE defaults to %s/conf.db and is created with the built-in\n"
           "Open_vSwitch schema if it does not exist.\n\n"
           "Remotes:\n"
           "  --remote=REMOTE         punix:PATH, ptcp:PORT[:IP], pssl:PORT[:IP],\n"
           "                          unix:PATH, tcp:IP:PORT, ssl:IP:PORT, or\n"
           "                          db:DB,TABLE,COLUMN (may be repeated)\n"
           "SSL:\n"
           "  -p, --private-key=FILE  private key (file or db:DB,TABLE,COLUMN)\n"
           "  -c, --certificate=FILE  certificate for the private key\n"
           "  -C, --ca-cert=FILE      CA certificate to verify peers\n"
           "  --bootstrap-ca-cert=FILE  same as --ca-cert\n"
           "Replication:\n"
           "  --sync-from=SERVER      start as a backup of the active SERVER\n"
           "  --sync-exclude-tables=DB:TABLE[,DB:TABLE...]  do not replicate\n"
           "  --active                with --sync-from, start active anyway\n"
           "Limits:\n"
           "  --max-client-backlog=BYTES  disconnect a client that lets more\n"
           "                          than BYTES of replies and updates queue\n"
           "                          up (default 256 MiB)\n\n"
           "Daemon:\n",
           program_name(), program_name(), LANYARD_DBDIR);
    daemon_usage();
    printf("\nOther:\n"
           "  -h, --help              display this help message\n"
           "  -V, --version           display version information\n");
    exit(0);
}

static char *
parse_options(int argc, char *argv[], struct dbd_remotes *remotes,
              struct dbd_options *opts)
{
    enum {
        OPT_REMOTE = 0x2000,
        OPT_BOOTSTRAP_CA_CERT,
        OPT_MAX_BACKLOG,
        OPT_SYNC_FROM,
        OPT_SYNC_EXCLUDE,
        OPT_ACTIVE,
    };
    static const struct option long_options[] = {
        DAEMON_LONG_OPTIONS,
        {"remote", required_argument, NULL, OPT_REMOTE},
        {"private-key", required_argument, NULL, 'p'},
        {"certificate", required_argument, NULL, 'c'},
        {"ca-cert", required_argument, NULL, 'C'},
        {"bootstrap-ca-cert", required_argument, NULL, OPT_BOOTSTRAP_CA_CERT},
        {"max-client-backlog", required_argument, NULL, OPT_MAX_BACKLOG},
        {"sync-from", required_argument, NULL, OPT_SYNC_FROM},
        {"sync-exclude-tables", required_argument, NULL, OPT_SYNC_EXCLUDE},
        {"active", no_argument, NULL, OPT_ACTIVE},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, 'V'},
        {NULL, 0, NULL, 0},
    };
    const char *key = NULL, *cert = NULL, *ca = NULL;

    for (;;) {
        int c = getopt_long(argc, argv, DAEMON_SHORT_OPTIONS "p:c:C:hV",
                            long_options, NULL);
        if (c == -1) {
            break;
        }
        if (daemon_handle_option(c, optarg)) {
            continue;
        }
        switch (c) {
        case OPT_REMOTE: {
            char *error = dbd_remotes_add(remotes, optarg);
            if (error) {
                fatal("%s", error);
            }
            break;
        }
        case 'p':
            key = optarg;
            break;
        case 'c':
            cert = optarg;
            break;
        case 'C':
        case OPT_BOOTSTRAP_CA_CERT:
            ca = optarg;
            break;
        case OPT_SYNC_FROM:
            opts->sync_from = optarg;
            break;
        case OPT_SYNC_EXCLUDE:
            opts->sync_exclude = optarg;
            break;
        case OPT_ACTIVE:
            opts->active = true;
            break;
        case OPT_MAX_BACKLOG: {
            long long n;
            if (!str_to_llong(optarg, 10, &n) || n < 1) {
                fatal("--max-client-backlog: \"%s\" is not a positive number "
                      "of bytes", optarg);
            }
            opts->max_backlog = (size_t) n;
            break;
        }
        case 'h':
            usage();
            break;
        case 'V':
            printf("%s (Lanyard) %s\n", program_name(), LANYARD_VERSION);
            exit(0);
        default:
            fprintf(stderr, "Try `%s --help' for more information.\n",
                    program_name());
            exit(1);
        }
    }
    dbd_remotes_set_ssl(remotes, key, cert, ca);

    if (argc - optind > 1) {
        fatal("only one database file may be served (got %d)", argc - optind);
    }
    return optind < argc ? xstrdup(argv[optind])
                         : xasprintf("%s/conf.db", LANYARD_DBDIR);
}

/* --- The _Server database --- */

static struct dbd_db *
create_server_db(struct dbd_server *server)
{
    struct ovsdb_schema *schema;
    json_t *json = json_loads(lanyard_server_schema, 0, NULL);
    struct ovsdb_error *error = json ? ovsdb_schema_from_json(json, &schema)
                                     : ovsdb_error("internal error", "bad JSON");
    json_decref(json);
    if (error) {
        fatal("built-in _Server schema: %s", ovsdb_error_to_string(error));
    }
    struct dbd_db *sdb = dbd_db_create_memory(schema, true);

    json_t *ops = json_array();
    for (size_t i = 0; i < dbd_server_n_dbs(server); i++) {
        struct dbd_db *db = dbd_server_get_db(server, i);
        json_t *s = ovsdb_schema_to_json(ovsdb_get_schema(dbd_db_ovsdb(db)));
        char *text = json_dumps(s, JSON_COMPACT);
        json_decref(s);
        json_array_append_new(ops, json_pack(
            "{s:s,s:s,s:{s:s,s:s,s:b,s:b,s:s}}",
            "op", "insert", "table", "Database", "row",
            "name", dbd_db_name(db), "model", "standalone",
            "connected", 1, "leader", 1, "schema", text));
        free(text);
    }
    /* _Server describes itself too, without a schema (as ovsdb-server). */
    json_array_append_new(ops, json_pack(
        "{s:s,s:s,s:{s:s,s:s,s:b,s:b}}",
        "op", "insert", "table", "Database", "row",
        "name", "_Server", "model", "standalone", "connected", 1, "leader", 1));

    struct ovsdb_exec_ctx ctx = { 0 };
    long long deadline;
    json_t *result;
    struct ovsdb_txn *txn;
    ovsdb_execute(dbd_db_ovsdb(sdb), ops, &ctx, time_msec(), &deadline,
                  &result, &txn);
    if (!txn) {
        char *text = json_dumps(result, 0);
        fatal("could not populate _Server: %s", text);
    }
    ovsdb_txn_commit(txn);
    ovsdb_txn_destroy(txn);
    json_decref(result);
    json_decref(ops);
    return sdb;
}

/* --- Control commands --- */

static void
cmd_exit(struct unixctl_conn *conn, int argc, const char *argv[], void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    (void) argv;
    ctx->exiting = true;
    unixctl_command_reply(conn, NULL);
}

static void
cmd_compact(struct unixctl_conn *conn, int argc, const char *argv[], void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    struct ds errors = DS_EMPTY_INITIALIZER;
    bool found = false;

    for (size_t i = 0; i < dbd_server_n_dbs(ctx->server); i++) {
        struct dbd_db *db = dbd_server_get_db(ctx->server, i);
        if ((argc > 1 && strcmp(argv[1], dbd_db_name(db)))
            || !dbd_db_file_name(db)) {
            found |= argc > 1 && !strcmp(argv[1], dbd_db_name(db));
            continue;
        }
        found = true;
        VLOG_INFO("compacting %s database by user request", dbd_db_name(db));
        char *error = dbd_db_compact(db);
        if (error) {
            ds_put_format(&errors, "%s\n", error);
            free(error);
        }
    }
    if (!found) {
        unixctl_command_reply_error(conn, "no database by that name");
    } else if (errors.length) {
        unixctl_command_reply_error(conn, ds_cstr(&errors));
    } else {
        unixctl_command_reply(conn, NULL);
    }
    ds_destroy(&errors);
}

static void
cmd_list_remotes(struct unixctl_conn *conn, int argc, const char *argv[],
                 void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    (void) argv;
    dbd_remotes_list(ctx->remotes, &out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
cmd_add_remote(struct unixctl_conn *conn, int argc, const char *argv[],
               void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    char *error = dbd_remotes_add(ctx->remotes, argv[1]);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }
    dbd_remotes_reconfigure(ctx->remotes);
    unixctl_command_reply(conn, NULL);
}

static void
cmd_remove_remote(struct unixctl_conn *conn, int argc, const char *argv[],
                  void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    if (!dbd_remotes_remove(ctx->remotes, argv[1])) {
        unixctl_command_reply_error(conn, "no such remote");
        return;
    }
    dbd_remotes_reconfigure(ctx->remotes);
    unixctl_command_reply(conn, NULL);
}

static void
cmd_list_dbs(struct unixctl_conn *conn, int argc, const char *argv[],
             void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    (void) argv;
    for (size_t i = 0; i < dbd_server_n_dbs(ctx->server); i++) {
        ds_put_format(&out, "%s\n", dbd_db_name(dbd_server_get_db(ctx->server, i)));
    }
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
cmd_storage_status(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    if (!dbd_server_find_db(ctx->server, argv[1])) {
        unixctl_command_reply_error(conn, "Failed to find the database.");
        return;
    }
    unixctl_command_reply(conn, "status: ok");
}

static void
cmd_memory_show(struct unixctl_conn *conn, int argc, const char *argv[],
                void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    (void) argv;
    dbd_server_get_memory_usage(ctx->server, &out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
cmd_sync_status(struct unixctl_conn *conn, int argc, const char *argv[],
                void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    struct ds out = DS_EMPTY_INITIALIZER;
    (void) argc;
    (void) argv;
    dbd_replication_status(ctx->repl, &out);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

static void
cmd_set_active(struct unixctl_conn *conn, int argc, const char *argv[],
               void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    dbd_replication_set_remote(ctx->repl, argv[1]);
    unixctl_command_reply(conn, NULL);
}

static void
cmd_get_active(struct unixctl_conn *conn, int argc, const char *argv[],
               void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    const char *remote = dbd_replication_get_remote(ctx->repl);
    (void) argc;
    (void) argv;
    unixctl_command_reply(conn, remote ? remote : "\n");
}

static void
cmd_connect_active(struct unixctl_conn *conn, int argc, const char *argv[],
                   void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    (void) argv;
    /* OVS answers success even without a remote, with this message. */
    unixctl_command_reply(conn, dbd_replication_connect(ctx->repl) ? NULL
                          : "Unable to connect: active server is not specified.");
}

static void
cmd_disconnect_active(struct unixctl_conn *conn, int argc, const char *argv[],
                      void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    (void) argv;
    dbd_replication_drain(ctx->repl, 2000);
    dbd_replication_disconnect(ctx->repl);
    unixctl_command_reply(conn, NULL);
}

static void
cmd_set_probe(struct unixctl_conn *conn, int argc, const char *argv[],
              void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    int msec;
    (void) argc;
    if (!str_to_int(argv[1], 10, &msec) || msec < 0) {
        unixctl_command_reply_error(conn, "Invalid probe interval, integer value expected");
        return;
    }
    dbd_replication_set_probe_interval(ctx->repl, msec);
    unixctl_command_reply(conn, NULL);
}

static void
cmd_set_exclude(struct unixctl_conn *conn, int argc, const char *argv[],
                void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    char *error = dbd_replication_set_exclude(ctx->repl, argv[1]);
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

static void
cmd_get_exclude(struct unixctl_conn *conn, int argc, const char *argv[],
                void *ctx_)
{
    struct dbd_ctx *ctx = ctx_;
    (void) argc;
    (void) argv;
    char *ex = dbd_replication_get_exclude(ctx->repl);
    unixctl_command_reply(conn, ex);
    free(ex);
}

static void
register_commands(struct dbd_ctx *ctx)
{
    unixctl_command_register("ovsdb-server/sync-status", "", 0, 0,
                             cmd_sync_status, ctx);
    unixctl_command_register("ovsdb-server/set-active-ovsdb-server", "", 1, 1,
                             cmd_set_active, ctx);
    unixctl_command_register("ovsdb-server/get-active-ovsdb-server", "", 0, 0,
                             cmd_get_active, ctx);
    unixctl_command_register("ovsdb-server/connect-active-ovsdb-server", "",
                             0, 0, cmd_connect_active, ctx);
    unixctl_command_register("ovsdb-server/disconnect-active-ovsdb-server", "",
                             0, 0, cmd_disconnect_active, ctx);
    unixctl_command_register("ovsdb-server/set-active-ovsdb-server-probe-interval",
                             "", 1, 1, cmd_set_probe, ctx);
    unixctl_command_register("ovsdb-server/set-sync-exclude-tables", "", 1, 1,
                             cmd_set_exclude, ctx);
    unixctl_command_register("ovsdb-server/get-sync-exclude-tables", "", 0, 0,
                             cmd_get_exclude, ctx);
    unixctl_command_register("exit", "", 0, 0, cmd_exit, ctx);
    unixctl_command_register("ovsdb-server/compact", "[DB]", 0, 1,
                             cmd_compact, ctx);
    unixctl_command_register("ovsdb-server/list-remotes", "", 0, 0,
                             cmd_list_remotes, ctx);
    unixctl_command_register("ovsdb-server/add-remote", "REMOTE", 1, 1,
                             cmd_add_remote, ctx);
    unixctl_command_register("ovsdb-server/remove-remote", "REMOTE", 1, 1,
                             cmd_remove_remote, ctx);
    unixctl_command_register("ovsdb-server/list-dbs", "", 0, 0,
                             cmd_list_dbs, ctx);
    unixctl_command_register("ovsdb-server/get-db-storage-status", "DB", 1, 1,
                             cmd_storage_status, ctx);
    unixctl_command_register("memory/show", "", 0, 0, cmd_memory_show, ctx);
    vlog_register_unixctl();
}

int
main(int argc, char *argv[])
{
    struct dbd_ctx ctx = { 0 };

    set_program_name(argv[0]);
    ctx.server = dbd_server_create();
    ctx.remotes = dbd_remotes_create(ctx.server);
    struct dbd_options opts = { 0 };
    char *file_name = parse_options(argc, argv, ctx.remotes, &opts);
    dbd_server_set_max_backlog(ctx.server, opts.max_backlog);

    daemonize_start();

    struct dbd_db *db;
    char *error = dbd_db_open(file_name, &db);
    if (error) {
        VLOG_ERR("%s", error);
        fatal("%s", error);
    }
    dbd_server_add_db(ctx.server, db);
    struct dbd_db *server_db = create_server_db(ctx.server);
    dbd_server_add_db(ctx.server, server_db);

    ctx.repl = dbd_replication_create(ctx.server, db);
    dbd_replication_set_remote(ctx.repl, opts.sync_from);
    if (opts.sync_exclude) {
        char *rerror = dbd_replication_set_exclude(ctx.repl, opts.sync_exclude);
        if (rerror) {
            fatal("--sync-exclude-tables: %s", rerror);
        }
    }
    if (opts.sync_from && !opts.active) {
        dbd_replication_connect(ctx.repl);
    }

    struct unixctl_server *unixctl;
    int retval = unixctl_server_create(daemon_get_unixctl_path(), &unixctl);
    if (retval) {
        fatal_errno(retval, "could not create control socket");
    }
    register_commands(&ctx);
    dbd_remotes_reconfigure(ctx.remotes);

    daemonize_complete();
    daemon_signals_init();
    VLOG_INFO("%s (Lanyard) %s serving %s", program_name(), LANYARD_VERSION,
              file_name);

    while (!ctx.exiting && !daemon_should_exit()) {
        unixctl_server_run(unixctl);
        dbd_remotes_run(ctx.remotes);
        dbd_replication_run(ctx.repl);
        if (dbd_server_run(ctx.server)) {
            dbd_remotes_reconfigure(ctx.remotes);
        }
        long long now = time_msec();
        if (dbd_db_should_compact(db, now)) {
            VLOG_INFO("%s: compacting automatically", file_name);
            char *cerror = dbd_db_compact(db);
            if (cerror) {
                VLOG_WARN("%s", cerror);
                free(cerror);
            }
        }
        if (ctx.exiting) {
            break;
        }
        unixctl_server_wait(unixctl);
        dbd_remotes_wait(ctx.remotes);
        dbd_replication_wait(ctx.repl);
        dbd_server_wait(ctx.server);
        poll_timer_wait(60 * 1000);     /* Periodic compaction check. */
        daemon_signals_wait();
        poll_block();
        daemon_signals_run();
    }

    /* Let the "exit" reply reach its client. */
    unixctl_server_run(unixctl);
    unixctl_server_destroy(unixctl);
    dbd_remotes_destroy(ctx.remotes);
    dbd_replication_destroy(ctx.repl);
    dbd_server_destroy(ctx.server);
    dbd_db_close(server_db);
    dbd_db_close(db);
    free(file_name);
    VLOG_INFO("exiting");
    return 0;
}
