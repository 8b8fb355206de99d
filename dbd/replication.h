/* replication: the backup role of an active/backup pair of lanyard-dbd
 * (or ovsdb-server) instances, as Open vSwitch's ovsdb-server does it.
 *
 * A backup is an ordinary OVSDB client of the active server: it checks the
 * active is not itself (get_server_id), fetches the schema, monitors every
 * table that is not excluded, and on the monitor reply makes its own copy
 * identical to the active's (one local transaction that deletes, inserts
 * and updates rows as needed).  Each later "update" is applied as one local
 * transaction through the normal commit pipeline, so the backup's log,
 * monitors and clients see exactly what the active committed.  While
 * backup, clients may read and monitor but every write is refused
 * ("... not allowed when database server is in read only mode").
 * Failover is manual (ovsdb-server/disconnect-active-ovsdb-server), as in
 * OVS: a backup whose active died keeps retrying and stays read-only. */
#ifndef LANYARD_DBD_REPLICATION_H
#define LANYARD_DBD_REPLICATION_H 1

#include <stdbool.h>

struct dbd_db;
struct dbd_server;
struct ds;

struct dbd_replication;

struct dbd_replication *dbd_replication_create(struct dbd_server *,
                                               struct dbd_db *);
void dbd_replication_destroy(struct dbd_replication *);

/* The active server to follow ("tcp:IP:PORT", "unix:PATH", ...). */
void dbd_replication_set_remote(struct dbd_replication *, const char *);
const char *dbd_replication_get_remote(const struct dbd_replication *);
/* "DB:TABLE[,DB:TABLE...]"; returns NULL or an error (caller frees). */
char *dbd_replication_set_exclude(struct dbd_replication *, const char *);
/* The exclusion list in the same syntax (caller frees). */
char *dbd_replication_get_exclude(const struct dbd_replication *);
void dbd_replication_set_probe_interval(struct dbd_replication *, int msec);

/* Becomes backup (connects to the remote) or active (disconnects).
 * Returns false when asked to become backup without a remote. */
bool dbd_replication_connect(struct dbd_replication *);
void dbd_replication_disconnect(struct dbd_replication *);
bool dbd_replication_is_backup(const struct dbd_replication *);

void dbd_replication_run(struct dbd_replication *);
/* While replicating, waits until every update the active sent so far is
 * applied (or the active is gone, or silent for TIMEOUT_MS), so that
 * becoming active right after (a Pacemaker promote after the active was
 * demoted) keeps all it committed. */
void dbd_replication_drain(struct dbd_replication *, int timeout_ms);
void dbd_replication_wait(struct dbd_replication *);

/* ovsdb-server/sync-status text. */
void dbd_replication_status(const struct dbd_replication *, struct ds *);

#endif
