/* dblog: the durable append-only log of an OVSDB "standalone" database, in
 * Open vSwitch's on-disk format, so files move freely between Lanyard and
 * ovsdb-server/ovsdb-tool.
 *
 * A file is a sequence of records, each
 *
 *     "OVSDB JSON " <length> " " <sha1> "\n" <data>
 *
 * where <data> is <length> bytes (decimal) made of one JSON object in compact
 * form followed by "\n", and <sha1> is the 40-hex-digit SHA-1 of exactly those
 * <length> bytes.  The first record is the schema; the others are
 * transactions or, after compaction, one snapshot.  This module only frames
 * records; what the JSON means is the caller's business (lib/ovsdb).
 *
 * Crash safety.  A crash can leave a torn or garbled tail (short header,
 * short data, bad checksum, unparseable JSON, trailing garbage).  Reading
 * stops at the first bad record: every earlier good record is returned, the
 * problem is reported by dblog_get_tail_error(), and the file is truncated
 * back to the end of the last good record before anything new is appended.
 *
 * Locking.  Read-write and create modes take an exclusive lock on the lock
 * file "<dir>/.<name>.~lock~" with fcntl(), the same file and lock kind that
 * ovsdb-server and ovsdb-tool use, so neither two Lanyard servers nor Lanyard
 * and Open vSwitch can write one database at once.  Read-only mode takes no
 * lock (for inspection tools).
 *
 * Writing.  dblog_write() only formats the record into memory; dblog_commit()
 * write()s everything pending and fdatasync()s once (group commit).  After a
 * write or sync error the state of the file is unknown, so the error is
 * sticky: every later write/commit/replace returns it.
 *
 * Not thread-safe; one thread uses a log at a time. */
#ifndef LANYARD_DBLOG_H
#define LANYARD_DBLOG_H 1

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct dblog;
struct ds;

enum dblog_mode {
    DBLOG_READ_ONLY,        /* Existing file; no lock; dblog_write() fails. */
    DBLOG_READ_WRITE,       /* Existing file; locked. */
    DBLOG_CREATE_EXCL,      /* New empty file (EEXIST if present); locked. */
};

/* Opens the log NAME.  Returns 0 and sets *LOGP, or returns a positive errno
 * value, sets *LOGP to NULL and, if ERRMSGP is nonnull, sets *ERRMSGP to a
 * message naming the file and the problem (caller frees), e.g.
 * "conf.db: cannot lock database: already locked by pid 1234 (lock file
 * ./.conf.db.~lock~)" (EAGAIN).  A nonempty file whose first bytes are not a
 * standalone record header is refused (EPROTO) rather than treated as a
 * corrupt tail, so a clustered database or a stray file is never truncated.
 * Symbolic links are followed: the lock and compaction act on the target. */
int dblog_open(const char *name, enum dblog_mode, struct dblog **logp,
               char **errmsgp);

/* Closes LOG and releases its lock.  Records written but not committed are
 * discarded.  Accepts NULL. */
void dblog_close(struct dblog *);

/* NAME as passed to dblog_open(). */
const char *dblog_name(const struct dblog *);

/* Reads the next record.  Returns 0 and sets *RECORDP to a JSON object the
 * caller owns; or returns EOF (*RECORDP NULL) once there are no more good
 * records, both at a clean end of file and at a corrupt tail, which is then
 * described by dblog_get_tail_error(); or returns a positive errno value for
 * an I/O error from the system (not corruption), which the caller should
 * treat as fatal.  After EOF every call returns EOF again. */
int dblog_read_next(struct dblog *, json_t **recordp);

/* After dblog_read_next() returned EOF: NULL if the file ended cleanly, else
 * a message "NAME: OFFSET: REASON; ..." naming the byte offset of the first
 * bad record and why it is bad, e.g. "conf.db: 14817: syntax error in record
 * header; ignoring the 25 bytes from there to the end of the file".  Those
 * bytes are truncated away before the next append (or on compaction).  The
 * string belongs to LOG. */
const char *dblog_get_tail_error(const struct dblog *);

/* Appends RECORD (a JSON object; not consumed) to the pending buffer.  No
 * I/O.  If the log has not been read to the end yet, first reads (and
 * discards) the remaining records so the append goes after the last good
 * one.  Returns 0, EINVAL if RECORD is not an object, EBADF for a read-only
 * log, or a sticky error from an earlier failure. */
int dblog_write(struct dblog *, const json_t *record);
/* As dblog_write() for a record already serialized: the SIZE bytes at TEXT
 * must be one compact JSON object (as jsonrpc_text_put() writes it); they
 * are framed, not parsed.  Returns 0, EINVAL if TEXT is empty or does not
 * look like an object, EBADF, or a sticky error. */
int dblog_write_text(struct dblog *, const char *text, size_t size);

/* True if dblog_write() has buffered records that are not yet committed. */
bool dblog_has_pending(const struct dblog *);

/* Makes every record written so far durable: truncates a corrupt tail if
 * there is one, write()s the pending bytes and fdatasync()s (plus, for a
 * newly created file, fsync()s its directory).  Returns 0 or a positive errno
 * value (sticky). */
int dblog_commit(struct dblog *);

/* Compaction.  dblog_replace_start() creates a temporary file "NAME.tmp" and
 * returns it as *NEWP, an empty log in which the caller writes the schema and
 * a snapshot with dblog_write().  dblog_replace_commit() then commits NEW
 * (write + fdatasync), renames it over LOG's file, fsync()s the directory,
 * and makes LOG continue appending to the new file, keeping its lock.  It
 * always takes ownership of NEW.  On failure before the rename the original
 * file and LOG (including its pending records) are untouched and the
 * temporary file is removed; if only the final directory fsync fails, LOG
 * already uses the new file and the error is sticky.  Records pending in LOG
 * when the replacement succeeds are dropped: the snapshot must cover them.
 * dblog_replace_abort() discards NEW and removes the temporary file.
 * Both start and commit return 0 or a positive errno value; start sets
 * *ERRMSGP like dblog_open() if ERRMSGP is nonnull. */
int dblog_replace_start(struct dblog *, struct dblog **newp, char **errmsgp);
int dblog_replace_commit(struct dblog *, struct dblog *new);
void dblog_replace_abort(struct dblog *new);

/* Sizes, for deciding when to compact.  "Appended" counts what was written
 * since the log was opened or last replaced, so "size - size_appended" is the
 * size of the file just after opening or compacting it. */
struct dblog_stats {
    uint64_t n_records;         /* Good records, incl. schema and pending. */
    uint64_t size;              /* Bytes they take in the file. */
    uint64_t n_appended;        /* Records written since open/replace. */
    uint64_t size_appended;     /* Bytes of those records. */
};
void dblog_get_stats(const struct dblog *, struct dblog_stats *);

/* Reads every good record of NAME (read-only, no lock).  Returns 0 and sets
 * *RECORDSP to a JSON array of the records (caller owns) and *TAIL_ERRORP to
 * the tail error or NULL (caller frees; TAIL_ERRORP may be NULL).  On failure
 * returns a positive errno value like dblog_open() and sets *RECORDSP NULL. */
int dblog_read_all(const char *name, json_t **recordsp, char **tail_errorp,
                   char **errmsgp);

/* Formats RECORD as one complete framed record ("OVSDB JSON ..." header,
 * data, trailing newline) and appends it to OUT; returns the bytes added,
 * or 0 (OUT unchanged) if RECORD is not a JSON object or cannot be
 * serialized.  Pure; used by dblog_write() and tests. */
size_t dblog_format_record(const json_t *record, struct ds *out);

#endif /* dblog.h */
