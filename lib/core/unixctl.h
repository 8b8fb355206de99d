/* unixctl: the control socket daemons serve and lanyard-appctl (or
 * ovs-appctl) talks to.
 *
 * Wire format (as ovs-appctl sends it): JSON-RPC over a unix socket, request
 * {"method":COMMAND,"params":["arg",...],"id":N}; success reply "result" is
 * the output text, failure is {"error":TEXT,"id":N}.  Texts that do not end
 * in a newline get one appended.
 *
 * Commands are registered process-wide (one table shared by all servers).
 * A callback gets ARGC/ARGV where ARGV[0] is the command name and
 * ARGV[1..ARGC-1] the arguments (already checked against min/max), and must
 * eventually call exactly one of unixctl_command_reply() or
 * unixctl_command_reply_error() on CONN, now or later from the main loop.
 * Built in: "list-commands" and "version". */
#ifndef LANYARD_UNIXCTL_H
#define LANYARD_UNIXCTL_H 1

struct jsonrpc;
struct unixctl_conn;
struct unixctl_server;

typedef void unixctl_cb_func(struct unixctl_conn *, int argc,
                             const char *argv[], void *aux);

/* Registers (or replaces) command NAME.  USAGE is the argument synopsis
 * shown by list-commands (may be ""); MAX_ARGS may be INT_MAX. */
void unixctl_command_register(const char *name, const char *usage,
                              int min_args, int max_args,
                              unixctl_cb_func *cb, void *aux);
/* Replies to the request on CONN; BODY may be NULL (empty output). */
void unixctl_command_reply(struct unixctl_conn *, const char *body);
void unixctl_command_reply_error(struct unixctl_conn *, const char *body);

/* The text of "list-commands" (caller frees). */
char *unixctl_list_commands(void);

/* Listens on PATH: NULL means LANYARD_RUNDIR/<program>.<pid>.ctl (rundir
 * overridable with $LANYARD_RUNDIR), a relative PATH is taken relative to
 * the run directory, "none" creates no server (*SERVERP = NULL, returns 0).
 * Returns 0 or a positive errno. */
int unixctl_server_create(const char *path, struct unixctl_server **serverp);
void unixctl_server_run(struct unixctl_server *);
void unixctl_server_wait(struct unixctl_server *);
/* Closes the listener (and removes its socket file) and all connections. */
void unixctl_server_destroy(struct unixctl_server *);
const char *unixctl_server_get_path(const struct unixctl_server *);

/* Connects to the socket at PATH (absolute, or relative to the run
 * directory).  Returns 0 or a positive errno. */
int unixctl_client_create(const char *path, struct jsonrpc **clientp);
/* Runs COMMAND with ARGC arguments ARGV (not including the command) and
 * waits for the answer.  On return 0, exactly one of *RESULT (success text)
 * and *ERROR (error text) is set, malloc'd.  Otherwise returns a positive
 * errno (EPROTO for a malformed reply) and sets both to NULL. */
int unixctl_client_transact(struct jsonrpc *client, const char *command,
                            int argc, char *argv[], char **result,
                            char **error);

#endif
