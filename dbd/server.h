/* server: the OVSDB protocol engine of lanyard-dbd.
 *
 * Owns the client sessions and, for each, its monitors, locks and pending
 * ("blocked") transactions; dispatches JSON-RPC methods (RFC 7047 plus the
 * OVS extensions monitor_cond, monitor_cond_change, monitor_cond_since,
 * get_server_id, set_db_change_aware); runs the commit pipeline:
 *
 *   execute -> commit in memory -> append log record -> encode monitor
 *   updates -> hold replies and updates -> one fdatasync per loop
 *   iteration for all transactions (group commit) -> release held messages
 *
 * so nobody is told about a change that a crash could still lose.
 * Listening sockets are elsewhere (remotes.c): the server is handed
 * connected sessions.  Single-threaded; follows the run/wait pattern. */
#ifndef LANYARD_DBD_SERVER_H
#define LANYARD_DBD_SERVER_H 1

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

struct dbd_db;
struct ds;
struct jsonrpc_session;
struct uuid;

struct dbd_server;

struct dbd_server *dbd_server_create(void);
/* Closes every session; the databases are not destroyed (caller owns). */
void dbd_server_destroy(struct dbd_server *);

/* Serves DB (caller keeps ownership; it must outlive the server). */
void dbd_server_add_db(struct dbd_server *, struct dbd_db *);
struct dbd_db *dbd_server_find_db(const struct dbd_server *, const char *name);
size_t dbd_server_n_dbs(const struct dbd_server *);
struct dbd_db *dbd_server_get_db(const struct dbd_server *, size_t i);

/* Takes ownership of JS, an accepted client session (PERSISTENT false: it
 * is destroyed when it disconnects) or an active remote's reconnecting
 * session (PERSISTENT true: it lives until dbd_server_remove_session()). */
void dbd_server_add_session(struct dbd_server *, struct jsonrpc_session *,
                            bool persistent);
/* Closes and forgets session JS (added with dbd_server_add_session()). */
void dbd_server_remove_session(struct dbd_server *, struct jsonrpc_session *);

/* Processes input, retries blocked transactions, syncs the logs and sends
 * what was held.  Returns true if any database changed. */
bool dbd_server_run(struct dbd_server *);
void dbd_server_wait(struct dbd_server *);

/* Appends "key:value" pairs for memory/show. */
void dbd_server_get_memory_usage(const struct dbd_server *, struct ds *);

/* In read-only mode (a replication backup) clients may read and monitor
 * but every write operation and every lock request is refused. */
void dbd_server_set_read_only(struct dbd_server *, bool read_only);
bool dbd_server_is_read_only(const struct dbd_server *);

/* Executes OPS on DB for the server itself (replication), ignoring
 * read-only mode, and commits through the normal pipeline (log, monitors,
 * group sync).  Returns NULL or the first failing result as JSON text
 * (caller frees); nothing is applied on failure. */
char *dbd_server_execute_internal(struct dbd_server *, struct dbd_db *,
                                  const json_t *ops);

/* Fresh for every process start (get_server_id). */
const struct uuid *dbd_server_get_server_id(const struct dbd_server *);

/* Clients with more than MAX_BACKLOG bytes queued for them are
 * disconnected (0: the default, 256 MiB). */
void dbd_server_set_max_backlog(struct dbd_server *, size_t max_backlog);

/* Incremented on every commit to any database. */
unsigned long long dbd_server_get_commit_seqno(const struct dbd_server *);

#endif
