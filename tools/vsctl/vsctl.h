/* vsctl: shared definitions of lanyard-vsctl's command modules.
 *
 * A command line is parsed completely (struct vsctl_command for each
 * command) before the database is contacted.  Each command then runs against
 * a struct vsctl_ctx: the database view (vsctl-db.h), its parsed options and
 * arguments, and an output buffer or output table that main() prints only
 * once the transaction has committed.  Errors end the process through
 * fatal(), as ovs-vsctl's do, so nothing half-done is ever committed. */
#ifndef LANYARD_VSCTL_H
#define LANYARD_VSCTL_H 1

#include <stdbool.h>
#include <stddef.h>

#include "ds.h"
#include "vsctl-data.h"
#include "vsctl-db.h"

struct vsctl_ctx;

struct vsctl_syntax {
    const char *name;
    int min_args;
    int max_args;               /* INT_MAX for unlimited. */
    const char *arguments;      /* As printed by --commands. */
    void (*run)(struct vsctl_ctx *);
    const char *options;        /* Comma-separated, "=" suffix takes value. */
    bool read_write;
    /* Optional.  'validate' runs for every command of the line, in order,
     * after the schema is known and before any command runs, to report bad
     * table or column names first, as ovs-vsctl does.  'postprocess' runs
     * after a successful commit (e.g. to print server-assigned UUIDs). */
    void (*validate)(struct vsctl_ctx *);
    void (*postprocess)(struct vsctl_ctx *);
};

struct vsctl_option {
    char *name;                 /* With leading "--". */
    char *value;                /* NULL if none. */
};

struct vsctl_command {
    const struct vsctl_syntax *syntax;
    int argc;
    char **argv;                /* argv[0] is the command name. */
    struct vsctl_option *options;
    size_t n_options;
    struct ds output;
    struct vsctl_out_table *table;  /* For list/find, else NULL. */
};

struct vsctl_symbol {
    char *name;
    struct uuid uuid;
    bool created;               /* Bound by --id on create or get. */
    bool strong_ref;            /* Referenced by a value. */
};

struct vsctl_ctx {
    struct vsctl_db *db;
    struct vsctl_command *cmd;
    int argc;
    char **argv;
    struct ds *output;
    struct vsctl_row *ovs;      /* The Open_vSwitch row. */
    bool last_command;
    bool dry_run;
    /* Symbols (@name) shared by all commands of one attempt. */
    struct vsctl_symbol *symbols;
    size_t n_symbols, allocated_symbols;
    int exit_code;              /* br-exists sets 2. */
    /* Set by a command that found the database not yet as it must be
     * (wait-until): the attempt stops uncommitted and starts over after
     * the next change to this table. */
    struct vsctl_table *try_again;
};

/* Output tables (vsctl-table.c). */
enum vsctl_format { VF_LIST, VF_TABLE, VF_HTML, VF_CSV, VF_JSON };
enum vsctl_cell_format { VC_STRING, VC_BARE, VC_JSON };
struct vsctl_table_style {
    enum vsctl_format format;
    enum vsctl_cell_format cell_format;
    bool headings;
    bool pretty;
    int max_column_width;       /* 0 for unlimited. */
};
struct vsctl_out_table *vsctl_out_table_create(void);
void vsctl_out_table_destroy(struct vsctl_out_table *);
void vsctl_out_table_add_column(struct vsctl_out_table *, const char *heading);
void vsctl_out_table_add_row(struct vsctl_out_table *);
/* Adds a cell to the last row; copies DATUM. */
void vsctl_out_table_add_cell(struct vsctl_out_table *,
                              const struct vsctl_datum *,
                              const struct vsctl_type *);
void vsctl_out_table_print(const struct vsctl_out_table *,
                           const struct vsctl_table_style *, struct ds *);

/* Helpers (vsctl.c). */
bool vsctl_has_option(const struct vsctl_ctx *, const char *name);
const char *vsctl_get_option(const struct vsctl_ctx *, const char *name);
void vsctl_warn(const char *module, const char *fmt, ...) PRINTF_FORMAT(2, 3);
bool vsctl_symbol_cb(const char *name, struct uuid *, void *ctx);
struct vsctl_symbol *vsctl_symbol_find(struct vsctl_ctx *, const char *name);
struct vsctl_symbol *vsctl_symbol_insert(struct vsctl_ctx *, const char *name);

/* Database commands (vsctl-dbcmds.c). */
extern const struct vsctl_syntax vsctl_db_commands[];
extern const size_t vsctl_n_db_commands;
struct vsctl_table *vsctl_must_get_table(struct vsctl_ctx *, const char *);
struct vsctl_row *vsctl_get_row(struct vsctl_ctx *, struct vsctl_table *,
                                const char *record_id, bool must_exist);
/* Applies "COLUMN[:KEY]=VALUE" to ROW as the "set" command does. */
void vsctl_set_column(struct vsctl_ctx *, struct vsctl_row *,
                      const char *arg);

/* Bridge, port and interface commands (vsctl-br.c) and controller, manager,
 * SSL commands (vsctl-misc.c). */
extern const struct vsctl_syntax vsctl_br_commands[];
extern const size_t vsctl_n_br_commands;
extern const struct vsctl_syntax vsctl_misc_commands[];
extern const size_t vsctl_n_misc_commands;
void vsctl_show(struct vsctl_ctx *);

#endif
