/* remotes: where lanyard-dbd accepts (or makes) client connections.
 *
 * A remote is configured by name: passive "punix:PATH", "ptcp:PORT[:IP]",
 * "pssl:PORT[:IP]" (listen), active "unix:PATH", "tcp:IP:PORT",
 * "ssl:IP:PORT" (connect out and serve, reconnecting, as for an OVSDB
 * manager), or "db:DB,TABLE,COLUMN", which stands for the targets named in
 * that column of every row of TABLE: either strings, or references to rows
 * with a "target" column (and optionally "inactivity_probe"), as the
 * Open_vSwitch.manager_options -> Manager rows are.  Database-derived
 * remotes are recomputed by dbd_remotes_reconfigure() after each change.
 * SSL key, certificate and CA certificate may also name a
 * "db:DB,TABLE,COLUMN" (first non-empty value). */
#ifndef LANYARD_DBD_REMOTES_H
#define LANYARD_DBD_REMOTES_H 1

#include <stdbool.h>

struct dbd_server;
struct ds;

struct dbd_remotes;

struct dbd_remotes *dbd_remotes_create(struct dbd_server *);
void dbd_remotes_destroy(struct dbd_remotes *);

/* Adds a configured remote; returns NULL or an error message (caller frees)
 * for a name that is not a valid remote. */
char *dbd_remotes_add(struct dbd_remotes *, const char *name);
/* Returns false if NAME is not a configured remote. */
bool dbd_remotes_remove(struct dbd_remotes *, const char *name);
/* The configured remote names, sorted, one per line. */
void dbd_remotes_list(const struct dbd_remotes *, struct ds *);

/* SSL settings, each a file name or a "db:" reference (may be NULL). */
void dbd_remotes_set_ssl(struct dbd_remotes *, const char *private_key,
                         const char *certificate, const char *ca_cert);

/* Resolves "db:" remotes and SSL settings against the current database
 * contents and opens/closes listeners and connections to match. */
void dbd_remotes_reconfigure(struct dbd_remotes *);

void dbd_remotes_run(struct dbd_remotes *);
void dbd_remotes_wait(struct dbd_remotes *);

#endif
