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
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "stream.h"
#include "util.h"
#include "vlog.h"

struct vsctl_globals {
    const char *db;
    const char *private_key, *certificate, *ca_cert;
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

/* The command tables, in the order --commands lists them.  The bridge and
 * miscellaneous tables are present when their modules are built. */
static const struct command_table {
    const struct vsctl_syntax *syntaxes;
    const size_t *n;
} command_tables[] = {
#ifdef VSCTL_HAVE_MISC
    { vsctl_misc_commands, &vsctl_n_misc_commands },
#endif
#ifdef VSCTL_HAVE_BR
    { vsctl_br_commands, &vsctl_n_br_commands },
#endif
    { vsctl_db_commands, &vsctl_n_db_commands },
};

static const struct vsctl_syntax *
find_syntax(const char *name)
{
    for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++) {
        const struct vsctl_syntax *syntaxes = command_tables[t].syntaxes;
        size_t n = *command_tables[t].n;
        for (size_t i = 0; i < n; i++) {
            if (!strcmp(syntaxes[i].name, name)) {
                return &syntaxes[i];
            }
        }
    }
    return NULL;
}

static void
for_each_syntax(void (*cb)(const struct vsctl_syntax *, void *), void *aux)
{
    for (size_t t = 0; t < ARRAY_SIZE(command_tables); t++) {
        const struct vsctl_syntax *syntaxes = command_tables[t].syntaxes;
        size_t n = *command_tables[t].n;
        for (size_t i = 0; i < n; i++) {
            cb(&syntaxes[i], aux);
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

/* Writes the argument synopsis ARGS in the notation bash completion reads
 * from --commands: each word prefixed by '!' (required), '?' (optional), '+'
 * (one or more) or '*' (zero or more); brackets inside a word become '?'. */
static void
put_completion_args(struct ds *out, const char *args)
{
    char *copy = xstrdup(args), *save = NULL;
    bool first = true;
    for (char *w = strtok_r(copy, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
        size_t len = strlen(w);
        bool repeated = len > 3 && !strcmp(w + len - 3, "...");
        if (repeated) {
            w[len -= 3] = '\0';
        }
        /* Is the whole word one bracketed group? */
        bool optional = false;
        if (w[0] == '[') {
            int depth = 0;
            size_t i;
            for (i = 0; i < len; i++) {
                depth += (w[i] == '[') - (w[i] == ']');
                if (!depth) {
                    break;
                }
            }
            optional = i == len - 1;
        }
        if (optional) {
            w[len - 1] = '\0';
            w++;
        }
        ds_put_format(out, "%s%c", first ? "" : " ",
                      optional ? (repeated ? '*' : '?')
                               : (repeated ? '+' : '!'));
        for (; *w; w++) {
            if (*w == '[') {
                ds_put_char(out, '?');
            } else if (*w != ']') {
                ds_put_char(out, *w);
            }
        }
        first = false;
    }
    free(copy);
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
    ds_put_format(&line, ",%s,", s->name);
    put_completion_args(&line, s->arguments);
    puts(ds_cstr(&line));
    ds_destroy(&line);
    free(list);
}

/* The order in which ovs-vsctl 3.1 lists its commands (its command table's
 * hash order), so that --commands output is identical; commands it does not
 * know follow in table order. */
static const char *const ovs_command_order[] = {
    "wait-until", "add-zone-tp", "comment", "clear", "init", "create",
    "set-fail-mode", "add-port", "del-bond-iface", "del-ssl",
    "set-controller", "list-br", "br-exists", "list-ports", "del-manager",
    "list-dp-cap", "add-bond-iface", "get-manager", "get-controller",
    "br-set-external-id", "list-ifaces", "list-zone-tp", "get-aa-mapping",
    "get", "add-aa-mapping", "del-fail-mode", "br-get-external-id",
    "del-zone-tp", "del-port", "port-to-br", "del-controller", "find", "set",
    "emer-reset", "set-ssl", "del-aa-mapping", "add-br", "br-to-parent",
    "iface-to-br", "list", "add", "set-manager", "del-br", "remove",
    "get-ssl", "get-fail-mode", "destroy", "br-to-vlan", "add-bond", "show",
};

static void
print_unlisted_command(const struct vsctl_syntax *s, void *aux)
{
    for (size_t i = 0; i < ARRAY_SIZE(ovs_command_order); i++) {
        if (!strcmp(s->name, ovs_command_order[i])) {
            return;
        }
    }
    print_command(s, aux);
}

static void
print_commands(void)
{
    for (size_t i = 0; i < ARRAY_SIZE(ovs_command_order); i++) {
        const struct vsctl_syntax *s = find_syntax(ovs_command_order[i]);
        if (s) {
            print_command(s, NULL);
        }
    }
    for_each_syntax(print_unlisted_command, NULL);
}

/* ---- Logging-style warnings (stderr, like ovs-vsctl's vlog lines). ---- */

/* Sequence number of the last log line.  ovs-vsctl logs "Called as ..." at
 * INFO level (numbered, though not shown on the console) when a command may
 * write, so its first console line is then number 2; see main(). */
static int log_seq = 0;

static void PRINTF_FORMAT(3, 0)
log_line(const char *module, const char *level, const char *fmt,
         va_list args)
{
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "%s|%05d|%s|%s|", ts, ++log_seq, module, level);
    vfprintf(stderr, fmt, args);
    fputc('\n', stderr);
}

void
vsctl_warn(const char *module, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_line(module, "WARN", fmt, args);
    va_end(args);
}

static void PRINTF_FORMAT(2, 3)
log_err(const char *module, const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    log_line(module, "ERR", fmt, args);
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
        for (size_t j = 0; j < cmd->n_options; j++) {
            if (!strcmp(cmd->options[j].name, name)) {
                fatal("'%s' option specified multiple times", argv[i]);
            }
        }
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

/* The default database: OVS's socket when invoked as ovs-vsctl (so that
 * scripts and libvirt find the server they expect), Lanyard's run directory
 * otherwise; $OVS_RUNDIR overrides either, as it does for ovs-vsctl. */
static char *
default_db(void)
{
    const char *rundir = getenv("OVS_RUNDIR");
    if (!rundir) {
        rundir = !strcmp(program_name(), "ovs-vsctl")
                 ? "/var/run/openvswitch" : LANYARD_RUNDIR;
    }
    return xasprintf("unix:%s/db.sock", rundir);
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
        case OPT_COMMANDS: print_commands(); exit(0);
        case OPT_OPTIONS:
            for (size_t i = 0; i < n_global; i++) {
                const struct option *o = &ot.opts[i];
                printf("--%s%s\n", o->name, o->has_arg ? "=ARG" : "");
                if (o->val > 0 && o->val < UCHAR_MAX) {
                    printf("-%c%s\n", o->val, o->has_arg ? " ARG" : "");
                }
            }
            exit(0);
        case 'V':
            /* Scripts read the fourth word as the OVS version they may
             * rely on; the schema is the one ovs-vsctl 3.1 ships with. */
            printf("%s (Lanyard %s) 3.1.0\nDB Schema 8.3.1\n",
                   program_name(), LANYARD_VERSION);
            exit(0);
        case 'f': format = optarg; break;
        case 'p': g->private_key = optarg; break;
        case 'c': g->certificate = optarg; break;
        case 'C': g->ca_cert = optarg; break;
        case 'd': data = optarg; break;
        case OPT_NO_HEADINGS: no_headings = true; break;
        case OPT_PRETTY: g->style.pretty = true; break;
        case OPT_BARE: bare = true; break;
        case OPT_MAX_COLUMN_WIDTH:
            g->style.max_column_width = atoi(optarg);
            break;
        case 'v':
            /* E.g. -vjsonrpc:console:dbg shows the wire traffic. */
            vlog_set_verbosity(optarg);
            break;
        case OPT_LOG_FILE:
            if (vlog_set_log_file(optarg)) {
                /* As ovs-vsctl: an unwritable log file is not fatal. */
            }
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
    for (size_t i = n_global; i < ot.n; i++) {
        free((char *) ot.opts[i].name);
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
    size_t n_tables = 0;
    for (size_t i = 0; i < n; i++) {
        struct vsctl_command *c = &cmds[i];
        if (c->table) {
            /* ovs-vsctl separates list, table and csv outputs of several
             * commands by a blank line (html and json need none). */
            enum vsctl_format f = g->style.format;
            if (n_tables++ && (f == VF_LIST || f == VF_TABLE || f == VF_CSV)) {
                ds_put_char(&out, '\n');
            }
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

/* --timeout: like ovs-vsctl, log the signal and die by it, so the exit
 * status says "killed by SIGALRM" to the caller. */
static void
alarm_handler(int sig)
{
    static const char msg[] = "|fatal_signal|WARN|terminating with signal 14 "
                              "(Alarm clock)\n";
    char ts[32];
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    size_t len = strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ|", &tm);
    int seq = log_seq + 1;
    for (int i = 4; i >= 0; i--, seq /= 10) {
        ts[len + i] = '0' + seq % 10;
    }
    len += 5;
    ssize_t ignored = write(STDERR_FILENO, ts, len);
    ignored = write(STDERR_FILENO, msg, sizeof msg - 1);
    (void) ignored;
    signal(sig, SIG_DFL);
    raise(sig);
}

/* Loads the SSL files for an ssl: or pssl: database.  What is missing or
 * unreadable is reported as ovs-vsctl's SSL layer logs it; the connection
 * attempt then fails with "Protocol not available", as there. */
static void
configure_ssl(const struct vsctl_globals *g, const char *db)
{
    if (!strstr(db, "ssl:")) {
        return;
    }
    bool key_ok = g->private_key && g->certificate
                  && !stream_ssl_set_key_and_cert(g->private_key,
                                                  g->certificate);
    bool ca_ok = g->ca_cert && !stream_ssl_set_ca_cert_file(g->ca_cert);
    if (!key_ok) {
        log_err("stream_ssl", "Private key must be configured to use SSL");
        if (!g->certificate) {
            log_err("stream_ssl", "Certificate must be configured to use "
                    "SSL");
        }
    }
    if (!ca_ok) {
        log_err("stream_ssl", "CA certificate must be configured to use "
                "SSL");
    }
}

static void
set_command(struct vsctl_ctx *ctx, struct vsctl_command *cmds, size_t i,
            size_t n)
{
    ctx->cmd = &cmds[i];
    ctx->argc = cmds[i].argc;
    ctx->argv = cmds[i].argv;
    ctx->output = &cmds[i].output;
    ctx->last_command = i == n - 1;
}

/* Runs all commands once and commits; returns false if the attempt must
 * start over: something read changed meanwhile, or a command found the
 * database not yet in the state it waits for (ctx->try_again). */
static bool
run_once(struct vsctl_ctx *ctx, struct vsctl_command *cmds, size_t n_cmds,
         struct vsctl_globals *g, const char *comment, long long *next_cfg,
         bool *changed)
{
    ctx->ovs = get_ovs_row(ctx->db);
    for (size_t i = 0; i < n_cmds; i++) {
        set_command(ctx, cmds, i, n_cmds);
        cmds[i].syntax->run(ctx);
        if (ctx->try_again) {
            return false;
        }
    }
    check_symbols(ctx);
    return vsctl_db_commit(ctx->db, g->wait ? ctx->ovs : NULL, next_cfg,
                           comment, g->dry_run, changed) == VSCTL_COMMIT_OK;
}

/* After waiting for the switch: like ovs-vsctl, report each interface this
 * invocation created that the switch could not set up (no OpenFlow port
 * number, or -1), with the error the switch recorded.  Not an exit error. */
static void
report_interface_errors(struct vsctl_db *db)
{
    struct vsctl_table *t = vsctl_db_get_table(db, "Interface");
    size_t n;
    struct uuid *uuids = t ? vsctl_db_inserted_uuids(db, t, &n) : NULL;
    if (!uuids || !n) {
        free(uuids);
        return;
    }
    json_t *results = vsctl_db_read_rows(db, t, uuids, n,
                                         json_pack("[sss]", "name", "ofport",
                                                   "error"));
    bool any = false;
    size_t i;
    const json_t *rows;
    json_array_foreach(results, i, rows) {
        const json_t *row = json_array_get(rows, 0);
        const json_t *ofport = json_object_get(row, "ofport");
        const char *name = json_string_value(json_object_get(row, "name"));
        if (!name || (json_is_integer(ofport)
                      && json_integer_value(ofport) != -1)) {
            continue;
        }
        const json_t *error = json_object_get(row, "error");
        if (json_is_string(error)) {
            fprintf(stderr, "%s: Error detected while setting up '%s': %s.  "
                    "See ovs-vswitchd log for details.\n", program_name(),
                    name, json_string_value(error));
        } else {
            fprintf(stderr, "%s: Error detected while setting up '%s'.  See "
                    "ovs-vswitchd log for details.\n", program_name(), name);
        }
        any = true;
    }
    if (any) {
        const char *logdir = getenv("OVS_LOGDIR");
        if (!logdir) {
            logdir = !strcmp(program_name(), "ovs-vsctl")
                     ? "/var/log/openvswitch" : "/var/log/lanyard";
        }
        fprintf(stderr, "%s: The default log directory is \"%s\".\n",
                program_name(), logdir);
    }
    json_decref(results);
    free(uuids);
}

static void
free_commands(struct vsctl_command *cmds, size_t n_cmds)
{
    for (size_t i = 0; i < n_cmds; i++) {
        ds_destroy(&cmds[i].output);
        for (size_t j = 0; j < cmds[i].n_options; j++) {
            free(cmds[i].options[j].name);
            free(cmds[i].options[j].value);
        }
        free(cmds[i].options);
    }
    free(cmds);
}

int
main(int argc, char **argv)
{
    set_program_name(argv[0]);
    /* The libraries' own log lines would not be ovs-vsctl's: keep the
     * console quiet unless -v asks for them. */
    free(vlog_set_levels_from_string("ANY:console:off"));
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
    for (size_t i = 0; i < n_cmds; i++) {
        if (cmds[i].syntax->read_write) {
            log_seq = 1;
        }
    }
    if (g.timeout) {
        signal(SIGALRM, alarm_handler);
        alarm(g.timeout);
    }
    char *dflt = g.db ? NULL : default_db();
    configure_ssl(&g, g.db ? g.db : dflt);
    struct vsctl_db *db = vsctl_db_open(g.db ? g.db : dflt, "Open_vSwitch",
                                        g.retry);
    char *comment = make_comment(argc, argv);
    struct vsctl_ctx ctx = { .db = db, .dry_run = g.dry_run };
    for (size_t i = 0; i < n_cmds; i++) {
        if (cmds[i].syntax->validate) {
            set_command(&ctx, cmds, i, n_cmds);
            cmds[i].syntax->validate(&ctx);
        }
    }
    long long next_cfg = 0;
    bool changed;
    while (!run_once(&ctx, cmds, n_cmds, &g, comment, &next_cfg, &changed)) {
        if (ctx.try_again) {
            vsctl_db_wait_for_change(db, ctx.try_again);
            ctx.try_again = NULL;
        }
        clear_attempt(&ctx, cmds, n_cmds);
        vsctl_db_reset(db);
    }
    g.wait = g.wait && changed && !g.dry_run;
    for (size_t i = 0; i < n_cmds; i++) {
        if (cmds[i].syntax->postprocess) {
            set_command(&ctx, cmds, i, n_cmds);
            cmds[i].syntax->postprocess(&ctx);
        }
    }
    print_output(cmds, n_cmds, &g);
    if (g.wait) {
        vsctl_db_wait_for_cur_cfg(db, next_cfg);
        report_interface_errors(db);
    }
    int exit_code = ctx.exit_code;
    clear_attempt(&ctx, cmds, n_cmds);
    free(ctx.symbols);
    free_commands(cmds, n_cmds);
    free(comment);
    free(dflt);
    vsctl_db_close(db);
    return exit_code;
}
