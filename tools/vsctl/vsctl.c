/* lanyard-vsctl: an ovs-vsctl compatible configuration tool.
 *
 * main() parses the whole command line first (so that syntax errors come
 * out before any I/O), connects, then runs all commands against a lazily
 * fetched view of the database and commits them as one transaction.  If a
 * precondition fails because another client changed what we read, the whole
 * command sequence runs again from scratch, as ovs-vsctl does. */
#include "vsctl.h"

#include <getopt.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "util.h"

struct vsctl_globals {
    const char *db;
    bool wait;
    bool dry_run;
    bool oneline;
    bool retry;
    int timeout;
    struct vsctl_table_style style;
};

enum {
    OPT_DB = UCHAR_MAX + 1, OPT_NO_SYSLOG, OPT_NO_WAIT, OPT_DRY_RUN,
    OPT_ONELINE, OPT_RETRY, OPT_COMMANDS, OPT_OPTIONS, OPT_LEADER_ONLY,
    OPT_NO_LEADER_ONLY, OPT_SHUFFLE, OPT_NO_SHUFFLE, OPT_LOG_FILE,
    OPT_SYSLOG_METHOD, OPT_SYSLOG_TARGET, OPT_NO_HEADINGS, OPT_PRETTY,
    OPT_BARE, OPT_MAX_COLUMN_WIDTH, OPT_SSL_PROTOCOLS, OPT_SSL_CIPHERS,
    OPT_BOOTSTRAP_CA_CERT, OPT_PEER_CA_CERT, OPT_LOCAL
};

static const struct option global_options[] = {
    {"db", required_argument, NULL, OPT_DB},
    {"no-syslog", no_argument, NULL, OPT_NO_SYSLOG},
    {"no-wait", no_argument, NULL, OPT_NO_WAIT},
    {"dry-run", no_argument, NULL, OPT_DRY_RUN},
    {"oneline", no_argument, NULL, OPT_ONELINE},
    {"timeout", required_argument, NULL, 't'},
    {"retry", no_argument, NULL, OPT_RETRY},
    {"help", no_argument, NULL, 'h'},
    {"commands", no_argument, NULL, OPT_COMMANDS},
    {"options", no_argument, NULL, OPT_OPTIONS},
    {"leader-only", no_argument, NULL, OPT_LEADER_ONLY},
    {"no-leader-only", no_argument, NULL, OPT_NO_LEADER_ONLY},
    {"shuffle-remotes", no_argument, NULL, OPT_SHUFFLE},
    {"no-shuffle-remotes", no_argument, NULL, OPT_NO_SHUFFLE},
    {"version", no_argument, NULL, 'V'},
    {"verbose", optional_argument, NULL, 'v'},
    {"log-file", optional_argument, NULL, OPT_LOG_FILE},
    {"syslog-method", required_argument, NULL, OPT_SYSLOG_METHOD},
    {"syslog-target", required_argument, NULL, OPT_SYSLOG_TARGET},
    {"format", required_argument, NULL, 'f'},
    {"data", required_argument, NULL, 'd'},
    {"no-headings", no_argument, NULL, OPT_NO_HEADINGS},
    {"pretty", no_argument, NULL, OPT_PRETTY},
    {"bare", no_argument, NULL, OPT_BARE},
    {"max-column-width", required_argument, NULL, OPT_MAX_COLUMN_WIDTH},
    {"private-key", required_argument, NULL, 'p'},
    {"certificate", required_argument, NULL, 'c'},
    {"ca-cert", required_argument, NULL, 'C'},
    {"ssl-protocols", required_argument, NULL, OPT_SSL_PROTOCOLS},
    {"ssl-ciphers", required_argument, NULL, OPT_SSL_CIPHERS},
    {"bootstrap-ca-cert", required_argument, NULL, OPT_BOOTSTRAP_CA_CERT},
    {"peer-ca-cert", required_argument, NULL, OPT_PEER_CA_CERT},
};

/* ---- Command registry. ---- */

static const struct vsctl_syntax *
find_syntax(const char *name)
{
    const struct vsctl_syntax *tables[] = { vsctl_db_commands,
                                            vsctl_br_commands,
                                            vsctl_misc_commands };
    const size_t sizes[] = { vsctl_n_db_commands, vsctl_n_br_commands,
                             vsctl_n_misc_commands };
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
        for (size_t i = 0; i < sizes[t]; i++) {
            if (!strcmp(tables[t][i].name, name)) {
                return &tables[t][i];
            }
        }
    }
    return NULL;
}

static void
for_each_syntax(void (*cb)(const struct vsctl_syntax *, void *), void *aux)
{
    const struct vsctl_syntax *tables[] = { vsctl_db_commands,
                                            vsctl_br_commands,
                                            vsctl_misc_commands };
    const size_t sizes[] = { vsctl_n_db_commands, vsctl_n_br_commands,
                             vsctl_n_misc_commands };
    for (size_t t = 0; t < ARRAY_SIZE(tables); t++) {
        for (size_t i = 0; i < sizes[t]; i++) {
            cb(&tables[t][i], aux);
        }
    }
}

/* Adds each option of SYNTAX to the getopt table in AUX (no duplicates). */
struct opt_table {
    struct option *opts;
    size_t n, allocated;
};

static void
add_command_options(const struct vsctl_syntax *s, void *aux)
{
    struct opt_table *ot = aux;
    char *list = xstrdup(s->options);
    char *save = NULL;
    for (char *o = strtok_r(list, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        size_t len = strlen(o);
        bool arg = len && o[len - 1] == '=';
        char *name = xstrndup(o + 2, len - 2 - arg);
        bool dup = false;
        for (size_t i = 0; i < ot->n; i++) {
            if (!strcmp(ot->opts[i].name, name)) {
                dup = true;
            }
        }
        if (dup) {
            free(name);
            continue;
        }
        if (ot->n + 1 >= ot->allocated) {
            ot->opts = x2nrealloc(ot->opts, &ot->allocated, sizeof *ot->opts);
        }
        ot->opts[ot->n++] = (struct option) { name, arg ? required_argument
                                                        : no_argument,
                                              NULL, OPT_LOCAL };
    }
    free(list);
}

static void
print_command(const struct vsctl_syntax *s, void *aux)
{
    char *list = xstrdup(s->options);
    char *save = NULL;
    struct ds line = DS_EMPTY_INITIALIZER;
    for (char *o = strtok_r(list, ",", &save); o; o = strtok_r(NULL, ",", &save)) {
        ds_put_format(&line, "[%s] ", o);
    }
    ds_put_format(&line, ",%s,%s", s->name, s->arguments);
    puts(ds_cstr(&line));
    ds_destroy(&line);
    free(list);
}

/* ---- Logging-style warnings (stderr, like ovs-vsctl's vlog lines). ---- */

void
vsctl_warn(const char *module, const char *fmt, ...)
{
    static int seq = 1;
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    va_list args;
    va_start(args, fmt);
    fprintf(stderr, "%s|%05d|%s|WARN|", ts, ++seq, module);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
    va_end(args);
}

/* ---- Options of the current command. ---- */

bool
vsctl_has_option(const struct vsctl_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->cmd->n_options; i++) {
        if (!strcmp(ctx->cmd->options[i].name, name)) {
            return true;
        }
    }
    return false;
}

const char *
vsctl_get_option(const struct vsctl_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->cmd->n_options; i++) {
        if (!strcmp(ctx->cmd->options[i].name, name)) {
            return ctx->cmd->options[i].value;
        }
    }
    return NULL;
}

/* ---- Symbols. ---- */

struct vsctl_symbol *
vsctl_symbol_find(struct vsctl_ctx *ctx, const char *name)
{
    for (size_t i = 0; i < ctx->n_symbols; i++) {
        if (!strcmp(ctx->symbols[i].name, name)) {
            return &ctx->symbols[i];
        }
    }
    return NULL;
}

struct vsctl_symbol *
vsctl_symbol_insert(struct vsctl_ctx *ctx, const char *name)
{
    struct vsctl_symbol *s = vsctl_symbol_find(ctx, name);
    if (!s) {
        if (ctx->n_symbols >= ctx->allocated_symbols) {
            ctx->symbols = x2nrealloc(ctx->symbols, &ctx->allocated_symbols,
                                      sizeof *ctx->symbols);
        }
        s = &ctx->symbols[ctx->n_symbols++];
        memset(s, 0, sizeof *s);
        s->name = xstrdup(name);
        uuid_generate(&s->uuid);
    }
    return s;
}

bool
vsctl_symbol_cb(const char *name, struct uuid *uuid, void *ctx_)
{
    struct vsctl_symbol *s = vsctl_symbol_insert(ctx_, name);
    s->strong_ref = true;
    *uuid = s->uuid;
    return true;
}

/* ---- Parsing the command line. ---- */

static void
add_option(struct vsctl_option **opts, size_t *n, const char *name,
           const char *value, bool dup_is_error)
{
    for (size_t i = 0; i < *n; i++) {
        if (!strcmp((*opts)[i].name, name)) {
            if (dup_is_error) {
                fatal("'%s' option specified multiple times", name);
            }
            return;
        }
    }
    *opts = xrealloc(*opts, (*n + 1) * sizeof **opts);
    (*opts)[*n].name = xstrdup(name);
    (*opts)[*n].value = value ? xstrdup(value) : NULL;
    (*n)++;
}

/* Checks OPTS against the options that SYNTAX accepts. */
static void
check_options(const struct vsctl_syntax *s, const struct vsctl_option *opts,
              size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *name = opts[i].name;
        size_t len = strlen(name);
        const char *p = s->options;
        bool found = false, takes_arg = false;
        while ((p = strstr(p, name)) != NULL) {
            if ((p == s->options || p[-1] == ',')
                && (p[len] == '\0' || p[len] == ',' || p[len] == '=')) {
                found = true;
                takes_arg = p[len] == '=';
                break;
            }
            p += len;
        }
        if (!found) {
            fatal("'%s' command has no '%s' option", s->name, name);
        } else if (takes_arg && !opts[i].value) {
            fatal("missing argument to '%s' option on '%s' command",
                  name, s->name);
        } else if (!takes_arg && opts[i].value) {
            fatal("'%s' option on '%s' does not accept an argument",
                  name, s->name);
        }
    }
}

static void
parse_one_command(struct vsctl_command *cmd, int argc, char **argv,
                  struct vsctl_option *local, size_t n_local)
{
    int i;
    cmd->options = local;
    cmd->n_options = n_local;
    for (i = 0; i < argc; i++) {
        if (argv[i][0] != '-') {
            break;
        }
        const char *eq = strchr(argv[i], '=');
        char *name = eq ? xstrndup(argv[i], eq - argv[i]) : xstrdup(argv[i]);
        add_option(&cmd->options, &cmd->n_options, name, eq ? eq + 1 : NULL,
                   true);
        free(name);
    }
    if (i == argc) {
        fatal("missing command name (use --help for help)");
    }
    const struct vsctl_syntax *s = find_syntax(argv[i]);
    if (!s) {
        fatal("unknown command '%s'; use --help for help", argv[i]);
    }
    check_options(s, cmd->options, cmd->n_options);
    int n_arg = argc - i - 1;
    if (n_arg < s->min_args) {
        fatal("'%s' command requires at least %d arguments",
              s->name, s->min_args);
    } else if (n_arg > s->max_args) {
        for (int j = i + 1; j < argc; j++) {
            if (argv[j][0] == '-') {
                fatal("'%s' command takes at most %d arguments (note that "
                      "options must precede command names and follow a "
                      "\"--\" argument)", s->name, s->max_args);
            }
        }
        fatal("'%s' command takes at most %d arguments", s->name, s->max_args);
    }
    cmd->syntax = s;
    cmd->argc = n_arg + 1;
    cmd->argv = &argv[i];
    ds_init(&cmd->output);
}

static struct vsctl_command *
parse_commands(int argc, char **argv, struct vsctl_option *local,
               size_t n_local, size_t *n_cmds)
{
    struct vsctl_command *cmds = NULL;
    size_t n = 0;
    int start = 0;
    for (int i = 0; i <= argc; i++) {
        if (i == argc || !strcmp(argv[i], "--")) {
            if (i > start) {
                cmds = xrealloc(cmds, (n + 1) * sizeof *cmds);
                memset(&cmds[n], 0, sizeof cmds[n]);
                parse_one_command(&cmds[n], i - start, &argv[start],
                                  n ? NULL : local, n ? 0 : n_local);
                n++;
            }
            start = i + 1;
        }
    }
    if (!n) {
        fatal("missing command name (use --help for help)");
    }
    *n_cmds = n;
    return cmds;
}

static void
usage(void)
{
    printf("%s: Open vSwitch compatible switch configuration utility\n"
           "usage: %s [OPTIONS] COMMAND [ARG...] [-- COMMAND [ARG...]]...\n"
           "\n"
           "Commands: see \"%s --commands\" and lanyard-vsctl(8).\n"
           "\n"
           "Options:\n"
           "  --db=DATABASE               connect to DATABASE\n"
           "  --no-wait                   do not wait for the switch to "
           "reconfigure\n"
           "  --retry                     keep trying to connect to the "
           "server\n"
           "  -t, --timeout=SECS          give up after SECS seconds\n"
           "  --dry-run                   do not commit changes\n"
           "  --oneline                   print one line per command\n"
           "  -f, --format=FORMAT         list, table, html, csv, json\n"
           "  -d, --data=FORMAT           string, bare, json\n"
           "  --no-headings               omit table headings\n"
           "  --bare                      --format=list --data=bare "
           "--no-headings\n"
           "  --pretty                    indent JSON output\n"
           "  -h, --help                  print this help\n"
           "  -V, --version               print the version\n",
           program_name(), program_name(), program_name());
    exit(0);
}

static char *
default_db(void)
{
    const char *rundir = getenv("OVS_RUNDIR");
    return xasprintf("unix:%s/db.sock", rundir ? rundir : "/var/run/openvswitch");
}

/* Parses the global options; returns the index of the first command
 * argument.  Command options given among them go to *LOCAL. */
static int
parse_options(int argc, char **argv, struct vsctl_globals *g,
              struct vsctl_option **local, size_t *n_local)
{
    struct opt_table ot = { NULL, 0, 0 };
    for (size_t i = 0; i < ARRAY_SIZE(global_options); i++) {
        if (ot.n + 1 >= ot.allocated) {
            ot.opts = x2nrealloc(ot.opts, &ot.allocated, sizeof *ot.opts);
        }
        ot.opts[ot.n++] = global_options[i];
    }
    size_t n_global = ot.n;
    for_each_syntax(add_command_options, &ot);
    ot.opts = xrealloc(ot.opts, (ot.n + 1) * sizeof *ot.opts);
    memset(&ot.opts[ot.n], 0, sizeof ot.opts[ot.n]);

    const char *format = NULL, *data = NULL;
    bool bare = false, no_headings = false;
    for (;;) {
        int idx = -1;
        int c = getopt_long(argc, argv, "+t:hVv::f:d:p:c:C:", ot.opts, &idx);
        if (c == -1) {
            break;
        }
        switch (c) {
        case OPT_DB: g->db = optarg; break;
        case OPT_NO_WAIT: g->wait = false; break;
        case OPT_DRY_RUN: g->dry_run = true; break;
        case OPT_ONELINE: g->oneline = true; break;
        case OPT_RETRY: g->retry = true; break;
        case 't': {
            int t;
            if (!str_to_int(optarg, 10, &t) || t < 1) {
                fatal("value %s on -t or --timeout is invalid", optarg);
            }
            g->timeout = t;
            break;
        }
        case 'h': usage(); break;
        case OPT_COMMANDS: for_each_syntax(print_command, NULL); exit(0);
        case OPT_OPTIONS:
            for (size_t i = 0; i < n_global; i++) {
                printf("--%s%s\n", ot.opts[i].name,
                       ot.opts[i].has_arg ? "=ARG" : "");
            }
            exit(0);
        case 'V':
            printf("%s (Lanyard) %s\n", program_name(), LANYARD_VERSION);
            exit(0);
        case 'f': format = optarg; break;
        case 'd': data = optarg; break;
        case OPT_NO_HEADINGS: no_headings = true; break;
        case OPT_PRETTY: g->style.pretty = true; break;
        case OPT_BARE: bare = true; break;
        case OPT_MAX_COLUMN_WIDTH:
            g->style.max_column_width = atoi(optarg);
            break;
        case OPT_LOCAL: {
            char *name = xasprintf("--%s", ot.opts[idx].name);
            add_option(local, n_local, name, optarg, false);
            free(name);
            break;
        }
        case '?':
            exit(1);
        default:
            /* Accepted for compatibility; no effect on this tool. */
            break;
        }
    }
    free(ot.opts);
    if (bare) {
        g->style.format = VF_LIST;
        g->style.cell_format = VC_BARE;
        g->style.headings = false;
    }
    if (format) {
        static const char *names[] = { "list", "table", "html", "csv", "json" };
        size_t i;
        for (i = 0; i < ARRAY_SIZE(names); i++) {
            if (!strcmp(format, names[i])) {
                break;
            }
        }
        if (i == ARRAY_SIZE(names)) {
            fatal("unknown output format \"%s\"", format);
        }
        g->style.format = (enum vsctl_format) i;
    }
    if (data) {
        if (!strcmp(data, "string")) {
            g->style.cell_format = VC_STRING;
        } else if (!strcmp(data, "bare")) {
            g->style.cell_format = VC_BARE;
        } else if (!strcmp(data, "json")) {
            g->style.cell_format = VC_JSON;
        } else {
            fatal("unknown data format \"%s\"", data);
        }
    }
    if (no_headings) {
        g->style.headings = false;
    }
    if (g->style.format == VF_JSON) {
        g->style.cell_format = VC_JSON;
    }
    return optind;
}

/* ---- Running. ---- */

static struct vsctl_row *
get_ovs_row(struct vsctl_db *db)
{
    struct vsctl_table *t = vsctl_db_get_table(db, "Open_vSwitch");
    if (!t) {
        fatal("database has no Open_vSwitch table");
    }
    size_t n;
    struct vsctl_row **rows = vsctl_db_all_rows(db, t, &n);
    struct vsctl_row *row = n ? rows[0] : vsctl_db_insert_row(db, t, NULL);
    free(rows);
    return row;
}

static void
check_symbols(struct vsctl_ctx *ctx)
{
    for (size_t i = 0; i < ctx->n_symbols; i++) {
        struct vsctl_symbol *s = &ctx->symbols[i];
        if (!s->created) {
            fatal("row id \"%s\" is referenced but never created (e.g. "
                  "with \"-- --id=%s create ...\")", s->name, s->name);
        }
    }
    for (size_t i = 0; i < ctx->n_symbols; i++) {
        struct vsctl_symbol *s = &ctx->symbols[i];
        if (!s->strong_ref) {
            vsctl_warn("vsctl", "row id \"%s\" was created but no reference "
                       "to it was inserted, so it will not actually appear "
                       "in the database", s->name);
        }
    }
}

static void
clear_attempt(struct vsctl_ctx *ctx, struct vsctl_command *cmds, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        ds_clear(&cmds[i].output);
        vsctl_out_table_destroy(cmds[i].table);
        cmds[i].table = NULL;
    }
    for (size_t i = 0; i < ctx->n_symbols; i++) {
        free(ctx->symbols[i].name);
    }
    ctx->n_symbols = 0;
    ctx->exit_code = 0;
}

static char *
make_comment(int argc, char **argv)
{
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, "%s:", program_name());
    for (int i = 1; i < argc; i++) {
        ds_put_format(&ds, " %s", argv[i]);
    }
    return ds_steal_cstr(&ds);
}

static void
print_output(struct vsctl_command *cmds, size_t n,
             const struct vsctl_globals *g)
{
    struct ds out = DS_EMPTY_INITIALIZER;
    for (size_t i = 0; i < n; i++) {
        struct vsctl_command *c = &cmds[i];
        if (c->table) {
            vsctl_out_table_print(c->table, &g->style, &out);
        } else if (g->oneline) {
            const char *s = ds_cstr(&c->output);
            size_t len = strlen(s);
            for (size_t j = 0; j < len; j++) {
                if (s[j] == '\n' && j + 1 < len) {
                    ds_put_cstr(&out, "\\n");
                } else if (s[j] == '\\') {
                    ds_put_cstr(&out, "\\\\");
                } else if (s[j] != '\n') {
                    ds_put_char(&out, s[j]);
                }
            }
            ds_put_char(&out, '\n');
        } else {
            ds_put_cstr(&out, ds_cstr(&c->output));
        }
    }
    fputs(ds_cstr(&out), stdout);
    fflush(stdout);
    ds_destroy(&out);
}

int
main(int argc, char **argv)
{
    set_program_name(argv[0]);
    struct vsctl_globals g = {
        .wait = true,
        .style = { .format = VF_LIST, .cell_format = VC_STRING,
                   .headings = true },
    };
    struct vsctl_option *local = NULL;
    size_t n_local = 0;
    int first = parse_options(argc, argv, &g, &local, &n_local);
    size_t n_cmds;
    struct vsctl_command *cmds = parse_commands(argc - first, argv + first,
                                                local, n_local, &n_cmds);
    if (g.timeout) {
        alarm(g.timeout);
    }
    char *dflt = g.db ? NULL : default_db();
    struct vsctl_db *db = vsctl_db_open(g.db ? g.db : dflt, "Open_vSwitch",
                                        g.retry);
    char *comment = make_comment(argc, argv);
    struct vsctl_ctx ctx = { .db = db, .dry_run = g.dry_run };
    long long next_cfg = 0;
    for (;;) {
        ctx.ovs = get_ovs_row(db);
        for (size_t i = 0; i < n_cmds; i++) {
            ctx.cmd = &cmds[i];
            ctx.argc = cmds[i].argc;
            ctx.argv = cmds[i].argv;
            ctx.output = &cmds[i].output;
            ctx.last_command = i == n_cmds - 1;
            cmds[i].syntax->run(&ctx);
        }
        check_symbols(&ctx);
        bool changed = vsctl_db_has_changes(db);
        enum vsctl_commit_status st = vsctl_db_commit(
            db, g.wait ? ctx.ovs : NULL, &next_cfg, comment, g.dry_run);
        if (st == VSCTL_COMMIT_OK) {
            g.wait = g.wait && changed && !g.dry_run;
            break;
        }
        clear_attempt(&ctx, cmds, n_cmds);
        vsctl_db_reset(db);
    }
    print_output(cmds, n_cmds, &g);
    if (g.wait) {
        vsctl_db_wait_for_cur_cfg(db, next_cfg);
    }
    int exit_code = ctx.exit_code;
    clear_attempt(&ctx, cmds, n_cmds);
    free(ctx.symbols);
    for (size_t i = 0; i < n_cmds; i++) {
        ds_destroy(&cmds[i].output);
        for (size_t j = 0; j < cmds[i].n_options; j++) {
            free(cmds[i].options[j].name);
            free(cmds[i].options[j].value);
        }
        free(cmds[i].options);
    }
    free(cmds);
    free(comment);
    free(dflt);
    vsctl_db_close(db);
    return exit_code;
}
