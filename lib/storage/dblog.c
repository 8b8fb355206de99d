/* dblog: OVSDB standalone log files.  See dblog.h for the format and the
 * crash-safety rules. */
#include "dblog.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <openssl/evp.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ds.h"
#include "jsonrpc-text.h"
#include "util.h"

#define DBLOG_MAGIC "OVSDB JSON "
#define DBLOG_CLUSTER_MAGIC "OVSDB CLUSTER "
#define SHA1_SIZE 20
#define SHA1_HEX_LEN (2 * SHA1_SIZE)
/* Longest header we read in one go.  The longest valid header (19 length
 * digits) is 72 bytes, so a header still incomplete after this many bytes is
 * malformed, not short. */
#define HEADER_READ_SIZE 128
#define MAX_LENGTH_DIGITS 19

struct dblog {
    char *name;                 /* As passed to dblog_open(), for messages. */
    char *path;                 /* NAME with symlinks resolved. */
    enum dblog_mode mode;
    int fd;
    int lock_fd;                /* -1 if no lock is held. */

    /* Reading. */
    bool read_done;             /* Reached a clean end or a corrupt tail. */
    char *tail_error;           /* Why reading stopped early, or NULL. */
    struct jsonrpc_text_parser *parser; /* Created on first read. */

    /* Writing.  OFFSET is the end of the last good record, where pending
     * bytes go: anything in the file beyond it is a corrupt tail. */
    off_t offset;
    bool truncate_pending;      /* The file has a corrupt tail to cut. */
    bool dir_sync_pending;      /* New file whose name is not yet durable. */
    struct ds pending;          /* Formatted records not yet written. */
    int error;                  /* Sticky write/sync error, or 0. */

    struct dblog_stats stats;
};

/* ---- Pure helpers: SHA-1, header parsing and formatting. ---- */

/* OpenSSL 3 looks the algorithm up on every EVP_sha1() digest; fetch it
 * once (an immutable object, shared read-only by every thread). */
static EVP_MD *sha1_md;

static void
sha1_md_init(void)
{
    sha1_md = EVP_MD_fetch(NULL, "SHA1", NULL);
}

static void
sha1_2(const void *a, size_t a_size, const void *b, size_t b_size,
       uint8_t digest[SHA1_SIZE])
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, sha1_md_init);
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned int n = 0;
    if (!ctx || !sha1_md
        || !EVP_DigestInit_ex(ctx, sha1_md, NULL)
        || !EVP_DigestUpdate(ctx, a, a_size)
        || !EVP_DigestUpdate(ctx, b, b_size)
        || !EVP_DigestFinal_ex(ctx, digest, &n)
        || n != SHA1_SIZE) {
        /* Only possible when OpenSSL cannot allocate: treat like OOM. */
        abort();
    }
    EVP_MD_CTX_free(ctx);
}

static void
sha1_to_hex(const uint8_t digest[SHA1_SIZE], char hex[SHA1_HEX_LEN + 1])
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < SHA1_SIZE; i++) {
        hex[2 * i] = digits[digest[i] >> 4];
        hex[2 * i + 1] = digits[digest[i] & 15];
    }
    hex[SHA1_HEX_LEN] = '\0';
}

static int
hexit_value(char c)
{
    if (c >= '0' && c <= '9') {
        return c - '0';
    } else if (c >= 'a' && c <= 'f') {
        return c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
        return c - 'A' + 10;
    }
    return -1;
}

enum header_status {
    HEADER_OK,
    HEADER_INCOMPLETE,          /* Valid so far, but the bytes ran out. */
    HEADER_BAD,
};

/* Parses "OVSDB JSON <length> <sha1>\n" at the start of the N bytes at P. */
static enum header_status
parse_header(const char *p, size_t n, size_t *header_sizep,
             uint64_t *data_sizep, uint8_t sha1[SHA1_SIZE])
{
    static const char magic[] = DBLOG_MAGIC;
    size_t i;

    for (i = 0; i < sizeof magic - 1; i++) {
        if (i >= n) {
            return HEADER_INCOMPLETE;
        } else if (p[i] != magic[i]) {
            return HEADER_BAD;
        }
    }

    uint64_t length = 0;
    size_t n_digits = 0;
    for (;; i++) {
        if (i >= n) {
            return HEADER_INCOMPLETE;
        } else if (p[i] >= '0' && p[i] <= '9' && n_digits < MAX_LENGTH_DIGITS) {
            length = length * 10 + (uint64_t) (p[i] - '0');
            n_digits++;
        } else if (p[i] == ' ' && n_digits) {
            i++;
            break;
        } else {
            return HEADER_BAD;
        }
    }

    for (size_t j = 0; j < SHA1_HEX_LEN; j++, i++) {
        if (i >= n) {
            return HEADER_INCOMPLETE;
        }
        int v = hexit_value(p[i]);
        if (v < 0) {
            return HEADER_BAD;
        }
        if (j % 2 == 0) {
            sha1[j / 2] = (uint8_t) (v << 4);
        } else {
            sha1[j / 2] |= (uint8_t) v;
        }
    }

    if (i >= n) {
        return HEADER_INCOMPLETE;
    } else if (p[i] != '\n') {
        return HEADER_BAD;
    }
    *header_sizep = i + 1;
    *data_sizep = length;
    return HEADER_OK;
}

/* Frames the SIZE bytes of record TEXT into OUT; returns the bytes added. */
static size_t
format_text(const char *text, size_t size, struct ds *out)
{
    uint8_t digest[SHA1_SIZE];
    char hex[SHA1_HEX_LEN + 1];
    sha1_2(text, size, "\n", 1, digest);
    sha1_to_hex(digest, hex);

    /* The header without printf: DBLOG_MAGIC, length + 1, ' ', sha1, '\n'. */
    char digits[24];
    size_t n_digits = 0;
    for (size_t len = size + 1; len; len /= 10) {
        digits[sizeof digits - 1 - n_digits++] = (char) ('0' + len % 10);
    }
    size_t start = out->length;
    ds_put_buffer(out, DBLOG_MAGIC, strlen(DBLOG_MAGIC));
    ds_put_buffer(out, digits + sizeof digits - n_digits, n_digits);
    ds_put_char(out, ' ');
    ds_put_buffer(out, hex, SHA1_HEX_LEN);
    ds_put_char(out, '\n');
    ds_put_buffer(out, text, size);
    ds_put_char(out, '\n');
    return out->length - start;
}

size_t
dblog_format_record(const json_t *record, struct ds *out)
{
    if (!json_is_object(record)) {
        return 0;
    }
    /* Compact and in insertion order, like ovsdb-server writes records
     * (the same bytes as json_dumps(), see jsonrpc-text.h). */
    struct ds text = DS_EMPTY_INITIALIZER;
    if (!jsonrpc_text_put(&text, record)) {
        /* Unserializable: a string that is not UTF-8, or nested too deep. */
        ds_destroy(&text);
        return 0;
    }
    size_t n = format_text(text.string, text.length, out);
    ds_destroy(&text);
    return n;
}

/* ---- Small I/O helpers. ---- */

/* Reads up to SIZE bytes at OFFSET, retrying short reads.  Returns the
 * number of bytes read (less than SIZE only at end of file) or -1. */
static ssize_t
pread_full(int fd, void *buf_, size_t size, off_t offset)
{
    char *buf = buf_;
    size_t done = 0;
    while (done < size) {
        ssize_t n = pread(fd, buf + done, size - done, offset + (off_t) done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        } else if (n == 0) {
            break;
        }
        done += (size_t) n;
    }
    return (ssize_t) done;
}

static int
pwrite_full(int fd, const void *buf_, size_t size, off_t offset)
{
    const char *buf = buf_;
    size_t done = 0;
    while (done < size) {
        ssize_t n = pwrite(fd, buf + done, size - done, offset + (off_t) done);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return errno;
        } else if (n == 0) {
            return EIO;
        }
        done += (size_t) n;
    }
    return 0;
}

/* The directory part of PATH ("." if none); caller frees. */
static char *
dir_of(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        return xstrdup(".");
    } else if (slash == path) {
        return xstrdup("/");
    }
    return xstrndup(path, (size_t) (slash - path));
}

static int
fsync_dir(const char *path)
{
    char *dir = dir_of(path);
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    int error = fd < 0 ? errno : 0;
    free(dir);
    if (!error && fsync(fd) < 0) {
        error = errno;
        /* Some filesystems cannot sync a directory; nothing more to do. */
        if (error == EINVAL) {
            error = 0;
        }
    }
    if (fd >= 0) {
        close(fd);
    }
    return error;
}

/* NAME, or its target if it is a symbolic link, so the lock and the
 * compaction rename act on the real file (as Open vSwitch does). */
static char *
resolve_path(const char *name)
{
    struct stat st;
    if (!lstat(name, &st) && S_ISLNK(st.st_mode)) {
        char *real = realpath(name, NULL);
        if (real) {
            char *copy = xstrdup(real);
            free(real);
            return copy;
        }
    }
    return xstrdup(name);
}

/* "<dir>/.<base>.~lock~", the lock file name Open vSwitch uses. */
static char *
lock_file_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    if (!slash) {
        return xasprintf(".%s.~lock~", path);
    }
    return xasprintf("%.*s/.%s.~lock~", (int) (slash - path), path, slash + 1);
}

/* The pid of the process holding a lock that conflicts with ours on FD, or
 * 0 if unknown.  Open vSwitch holds classic fcntl() locks, which report the
 * pid; an open-file-description lock (ours) does not, so Lanyard also writes
 * its pid into the lock file. */
static long
lock_holder(int fd)
{
    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (!fcntl(fd, F_OFD_GETLK, &fl) && fl.l_type != F_UNLCK
        && fl.l_pid > 0) {
        return fl.l_pid;
    }
    char buf[32];
    ssize_t n = pread_full(fd, buf, sizeof buf - 1, 0);
    if (n > 0) {
        buf[n] = '\0';
        char *end;
        long pid = strtol(buf, &end, 10);
        if (pid > 0 && (*end == '\n' || *end == '\0')) {
            return pid;
        }
    }
    return 0;
}

/* Takes the lock for PATH.  Uses open-file-description locks: they conflict
 * with the classic fcntl() locks of ovsdb-server/ovsdb-tool, and unlike those
 * also between two opens within one process. */
static int
lock_path(const char *name, const char *path, int *lock_fdp, char **errmsgp)
{
    char *lock_name = lock_file_name(path);
    int fd = open(lock_name, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    int error = 0;
    if (fd < 0) {
        error = errno;
        *errmsgp = xasprintf("%s: cannot open lock file %s (%s)",
                             name, lock_name, strerror(error));
        goto out;
    }

    struct flock fl = { .l_type = F_WRLCK, .l_whence = SEEK_SET };
    if (fcntl(fd, F_OFD_SETLK, &fl) < 0) {
        error = errno;
        if (error == EAGAIN || error == EACCES) {
            long pid = lock_holder(fd);
            error = EAGAIN;
            *errmsgp = (pid
                        ? xasprintf("%s: cannot lock database: already locked "
                                    "by pid %ld (lock file %s)",
                                    name, pid, lock_name)
                        : xasprintf("%s: cannot lock database: already locked "
                                    "by another process (lock file %s)",
                                    name, lock_name));
        } else {
            *errmsgp = xasprintf("%s: cannot lock %s (%s)",
                                 name, lock_name, strerror(error));
        }
        close(fd);
        goto out;
    }

    /* Best effort: the pid only improves the message another opener gets. */
    char pid[32];
    int len = snprintf(pid, sizeof pid, "%ld\n", (long) getpid());
    if (ftruncate(fd, 0) || pwrite(fd, pid, (size_t) len, 0) != len) {
        /* Ignored: the lock itself is held. */
    }
    *lock_fdp = fd;

out:
    free(lock_name);
    return error;
}

/* ---- Opening and closing. ---- */

static struct dblog *
dblog_alloc(const char *name, char *path, enum dblog_mode mode)
{
    struct dblog *log = xzalloc(sizeof *log);
    log->name = xstrdup(name);
    log->path = path;
    log->mode = mode;
    log->fd = -1;
    log->lock_fd = -1;
    ds_init(&log->pending);
    return log;
}

/* Refuses a nonempty file that does not begin with a standalone header.  A
 * file shorter than the magic that matches it so far is a torn first
 * record, which reading reports like any other torn tail. */
static int
check_magic(struct dblog *log, char **errmsgp)
{
    char buf[sizeof DBLOG_CLUSTER_MAGIC];
    ssize_t n = pread_full(log->fd, buf, sizeof buf - 1, 0);
    if (n < 0) {
        int error = errno;
        *errmsgp = xasprintf("%s: read failed (%s)", log->name,
                             strerror(error));
        return error;
    }
    size_t cmp = MIN((size_t) n, sizeof DBLOG_MAGIC - 1);
    if (!memcmp(buf, DBLOG_MAGIC, cmp)) {
        return 0;
    }
    buf[n] = '\0';
    if (str_starts_with(buf, DBLOG_CLUSTER_MAGIC)) {
        *errmsgp = xasprintf("%s: clustered databases are not supported "
                             "(only standalone)", log->name);
    } else {
        *errmsgp = xasprintf("%s: not an OVSDB standalone database file",
                             log->name);
    }
    return EPROTO;
}

static int
dblog_open__(struct dblog *log, char **errmsgp)
{
    enum dblog_mode mode = log->mode;
    if (mode != DBLOG_READ_ONLY) {
        int error = lock_path(log->name, log->path, &log->lock_fd, errmsgp);
        if (error) {
            return error;
        }
    }

    int flags = O_CLOEXEC | (mode == DBLOG_READ_ONLY ? O_RDONLY : O_RDWR);
    if (mode == DBLOG_CREATE_EXCL) {
        flags |= O_CREAT | O_EXCL;
    }
    log->fd = open(log->path, flags, 0640);
    if (log->fd < 0) {
        int error = errno;
        *errmsgp = xasprintf("%s: %s failed (%s)", log->name,
                             mode == DBLOG_CREATE_EXCL ? "create" : "open",
                             strerror(error));
        return error;
    }
    if (mode == DBLOG_CREATE_EXCL) {
        log->read_done = true;
        log->dir_sync_pending = true;
        return 0;
    }
    return check_magic(log, errmsgp);
}

int
dblog_open(const char *name, enum dblog_mode mode, struct dblog **logp,
           char **errmsgp)
{
    struct dblog *log = dblog_alloc(name, resolve_path(name), mode);
    char *errmsg = NULL;
    int error = dblog_open__(log, &errmsg);
    if (error) {
        dblog_close(log);
        log = NULL;
    }
    *logp = log;
    if (errmsgp) {
        *errmsgp = errmsg;
    } else {
        free(errmsg);
    }
    return error;
}

void
dblog_close(struct dblog *log)
{
    if (!log) {
        return;
    }
    if (log->fd >= 0) {
        close(log->fd);
    }
    if (log->lock_fd >= 0) {
        close(log->lock_fd);    /* Releases the lock. */
    }
    ds_destroy(&log->pending);
    free(log->tail_error);
    jsonrpc_text_parser_destroy(log->parser);
    free(log->path);
    free(log->name);
    free(log);
}

const char *
dblog_name(const struct dblog *log)
{
    return log->name;
}

/* ---- Reading. ---- */

/* Reads and parses the header of the record at LOG->offset.  Returns 0 on
 * success; otherwise like read_record(). */
static int
read_header(struct dblog *log, size_t *header_sizep, uint64_t *data_sizep,
            uint8_t sha1[SHA1_SIZE], char **reasonp)
{
    char header[HEADER_READ_SIZE];
    ssize_t n = pread_full(log->fd, header, sizeof header, log->offset);
    if (n < 0) {
        return errno;
    } else if (n == 0) {
        return EOF;
    }

    enum header_status status = parse_header(header, (size_t) n, header_sizep,
                                             data_sizep, sha1);
    if (status == HEADER_INCOMPLETE && (size_t) n < sizeof header) {
        *reasonp = xstrdup("end of file inside record header");
        return EOF;
    } else if (status != HEADER_OK) {
        /* Malformed, or too long to be a header. */
        *reasonp = xstrdup("syntax error in record header");
        return EOF;
    }
    return 0;
}

/* Reads the DATA_SIZE bytes of record data that start at OFFSET into a new
 * buffer *DATAP.  Checks the size against the file first, so a corrupt
 * length never causes a huge allocation.  Returns 0 on success; otherwise
 * like read_record(). */
static int
read_data(struct dblog *log, off_t offset, uint64_t data_size, char **datap,
          char **reasonp)
{
    struct stat st;
    if (fstat(log->fd, &st) < 0) {
        return errno;
    }
    uint64_t avail = ((uint64_t) st.st_size > (uint64_t) offset
                      ? (uint64_t) st.st_size - (uint64_t) offset : 0);
    if (data_size > avail) {
        *reasonp = xasprintf("record is truncated: header announces %"PRIu64
                             " bytes of data but the file ends after %"PRIu64,
                             data_size, avail);
        return EOF;
    }

    char *data = xmalloc(data_size ? data_size : 1);
    ssize_t n = pread_full(log->fd, data, data_size, offset);
    if (n < 0) {
        int error = errno;
        free(data);
        return error;
    } else if ((uint64_t) n < data_size) {
        /* The file shrank under us (only possible read-only). */
        *reasonp = xasprintf("record is truncated: header announces %"PRIu64
                             " bytes of data but the file ends after %zd",
                             data_size, n);
        free(data);
        return EOF;
    }
    *datap = data;
    return 0;
}

/* Reads the record at LOG->offset.  Returns 0 with *RECORDP and
 * *RECORD_SIZEP; EOF at a clean end of file; EOF with *REASONP (caller
 * frees) at a corrupt record; or a positive errno value on I/O error. */
static int
read_record(struct dblog *log, json_t **recordp, size_t *record_sizep,
            char **reasonp)
{
    size_t header_size = 0;
    uint64_t data_size = 0;
    uint8_t expected[SHA1_SIZE];
    int error = read_header(log, &header_size, &data_size, expected, reasonp);
    if (error) {
        return error;
    }
    char *data = NULL;
    error = read_data(log, log->offset + (off_t) header_size, data_size,
                      &data, reasonp);
    if (error) {
        return error;
    }

    uint8_t actual[SHA1_SIZE];
    sha1_2(data, data_size, "", 0, actual);
    if (memcmp(actual, expected, SHA1_SIZE)) {
        char want[SHA1_HEX_LEN + 1], got[SHA1_HEX_LEN + 1];
        sha1_to_hex(expected, want);
        sha1_to_hex(actual, got);
        *reasonp = xasprintf("SHA-1 mismatch: %"PRIu64" bytes of record data "
                             "hash to %s but the header says %s",
                             data_size, got, want);
        free(data);
        return EOF;
    }

    /* ovsdb-server writes a transaction's comment with the client's bytes,
     * UTF-8 or not: read them as it does (see jsonrpc-text.h), so that its
     * files open here without losing those records. */
    if (!log->parser) {
        log->parser = jsonrpc_text_parser_create();
        jsonrpc_text_parser_set_ovs_strings(log->parser, true);
    }
    char *parse_error;
    json_t *json = jsonrpc_text_parse(log->parser, data, data_size,
                                      &parse_error);
    if (!json) {
        /* jansson rejects it too (the parser asked it): its line, column
         * and words make the message. */
        free(parse_error);
        json_error_t jerr;
        json_decref(json_loadb(data, data_size, 0, &jerr));
        free(data);
        *reasonp = xasprintf("record data is not valid JSON (line %d, "
                             "column %d: %s)", jerr.line, jerr.column,
                             jerr.text);
        return EOF;
    }
    free(data);
    if (!json_is_object(json)) {
        json_decref(json);
        *reasonp = xstrdup("record data is not a JSON object");
        return EOF;
    }
    *recordp = json;
    *record_sizep = header_size + data_size;
    return 0;
}

static void
set_tail_error(struct dblog *log, char *reason)
{
    struct stat st;
    long long rest = (!fstat(log->fd, &st) && st.st_size >= log->offset
                      ? (long long) (st.st_size - log->offset) : -1);
    free(log->tail_error);
    if (rest >= 0) {
        log->tail_error = xasprintf("%s: %lld: %s; ignoring the %lld bytes "
                                    "from there to the end of the file",
                                    log->name, (long long) log->offset,
                                    reason, rest);
    } else {
        log->tail_error = xasprintf("%s: %lld: %s; ignoring the rest of the "
                                    "file", log->name,
                                    (long long) log->offset, reason);
    }
    free(reason);
}

int
dblog_read_next(struct dblog *log, json_t **recordp)
{
    *recordp = NULL;
    if (log->read_done) {
        return EOF;
    }

    char *reason = NULL;
    size_t record_size = 0;
    int error = read_record(log, recordp, &record_size, &reason);
    if (!error) {
        log->offset += (off_t) record_size;
        log->stats.n_records++;
        log->stats.size += record_size;
        return 0;
    } else if (error == EOF) {
        log->read_done = true;
        if (reason) {
            set_tail_error(log, reason);
            log->truncate_pending = true;
        }
    }
    return error;
}

const char *
dblog_get_tail_error(const struct dblog *log)
{
    return log->tail_error;
}

/* Reads and discards the records not yet read, so that LOG->offset is the
 * end of the last good record. */
static int
skip_rest(struct dblog *log)
{
    for (;;) {
        json_t *record;
        int error = dblog_read_next(log, &record);
        if (error) {
            return error == EOF ? 0 : error;
        }
        json_decref(record);
    }
}

/* ---- Writing. ---- */

static int append_record(struct dblog *, size_t size);

/* Checks that LOG can be appended to, after reading what is left of it. */
static int
write_check(struct dblog *log)
{
    if (log->mode == DBLOG_READ_ONLY) {
        return EBADF;
    } else if (log->error) {
        return log->error;
    }
    return skip_rest(log);
}

int
dblog_write(struct dblog *log, const json_t *record)
{
    if (log->mode != DBLOG_READ_ONLY && !log->error
        && !json_is_object(record)) {
        return EINVAL;
    }
    int error = write_check(log);
    if (error) {
        return error;
    }
    return append_record(log, dblog_format_record(record, &log->pending));
}

int
dblog_write_text(struct dblog *log, const char *text, size_t size)
{
    int error = write_check(log);
    if (error) {
        return error;
    } else if (!size || text[0] != '{' || text[size - 1] != '}') {
        return EINVAL;
    }
    return append_record(log, format_text(text, size, &log->pending));
}

/* Accounts for a record of SIZE bytes just appended to the pending buffer
 * (0: it could not be formatted). */
static int
append_record(struct dblog *log, size_t size)
{
    if (!size) {
        return EINVAL;
    }
    log->stats.n_records++;
    log->stats.size += size;
    log->stats.n_appended++;
    log->stats.size_appended += size;
    return 0;
}

bool
dblog_has_pending(const struct dblog *log)
{
    return log->pending.length > 0;
}

static int
commit__(struct dblog *log)
{
    if (log->pending.length) {
        if (log->truncate_pending) {
            if (ftruncate(log->fd, log->offset) < 0) {
                return errno;
            }
            log->truncate_pending = false;
        }
        int error = pwrite_full(log->fd, log->pending.string,
                                log->pending.length, log->offset);
        if (error) {
            return error;
        }
    }
    if (fdatasync(log->fd) < 0) {
        return errno;
    }
    log->offset += (off_t) log->pending.length;
    ds_clear(&log->pending);
    if (log->dir_sync_pending) {
        int error = fsync_dir(log->path);
        if (error) {
            return error;
        }
        log->dir_sync_pending = false;
    }
    return 0;
}

int
dblog_commit(struct dblog *log)
{
    if (log->mode == DBLOG_READ_ONLY) {
        return EBADF;
    } else if (log->error) {
        return log->error;
    } else if (!log->pending.length && !log->dir_sync_pending) {
        return 0;
    }
    int error = commit__(log);
    if (error) {
        log->error = error;
    }
    return error;
}

/* ---- Compaction. ---- */

int
dblog_replace_start(struct dblog *log, struct dblog **newp, char **errmsgp)
{
    char *errmsg = NULL;
    int error = 0;
    struct dblog *new = NULL;

    if (log->mode == DBLOG_READ_ONLY) {
        error = EBADF;
        errmsg = xasprintf("%s: cannot compact a read-only log", log->name);
        goto out;
    } else if (log->error) {
        error = log->error;
        errmsg = xasprintf("%s: cannot compact after a write error (%s)",
                           log->name, strerror(error));
        goto out;
    }

    new = dblog_alloc("", xasprintf("%s.tmp", log->path), DBLOG_READ_WRITE);
    free(new->name);
    new->name = xasprintf("%s.tmp", log->name);
    new->read_done = true;

    /* We hold LOG's lock, so a leftover temporary file is stale (from a
     * crash during compaction).  Unlinking first, then O_EXCL, also avoids
     * following a symlink planted at that name. */
    if (unlink(new->path) < 0 && errno != ENOENT) {
        error = errno;
    } else {
        new->fd = open(new->path, O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0640);
        error = new->fd < 0 ? errno : 0;
    }
    struct stat st;
    if (!error && !fstat(log->fd, &st)
        && fchmod(new->fd, st.st_mode & 07777) < 0) {
        error = errno;
        unlink(new->path);
    }
    if (error) {
        errmsg = xasprintf("%s: cannot create %s (%s)", log->name, new->path,
                           strerror(error));
        dblog_close(new);
        new = NULL;
    }

out:
    *newp = new;
    if (errmsgp) {
        *errmsgp = errmsg;
    } else {
        free(errmsg);
    }
    return error;
}

void
dblog_replace_abort(struct dblog *new)
{
    if (new) {
        unlink(new->path);
        dblog_close(new);
    }
}

int
dblog_replace_commit(struct dblog *log, struct dblog *new)
{
    int error = log->error ? log->error : new->error;
    if (!error) {
        error = commit__(new);
    }
    if (!error && rename(new->path, log->path) < 0) {
        error = errno;
    }
    if (error) {
        dblog_replace_abort(new);
        return error;
    }

    /* The new file is now the database: switch to it whatever happens. */
    close(log->fd);
    log->fd = new->fd;
    new->fd = -1;
    log->offset = new->offset;
    log->read_done = true;
    log->truncate_pending = false;
    log->dir_sync_pending = false;      /* Done just below. */
    free(log->tail_error);
    log->tail_error = NULL;
    ds_clear(&log->pending);
    log->stats.n_records = new->stats.n_records;
    log->stats.size = new->stats.size;
    log->stats.n_appended = 0;
    log->stats.size_appended = 0;
    dblog_close(new);

    /* Without this the rename may not survive a crash while later appends
     * to the new file do, so a failure here is sticky. */
    error = fsync_dir(log->path);
    if (error) {
        log->error = error;
    }
    return error;
}

void
dblog_get_stats(const struct dblog *log, struct dblog_stats *stats)
{
    *stats = log->stats;
}

int
dblog_read_all(const char *name, json_t **recordsp, char **tail_errorp,
               char **errmsgp)
{
    struct dblog *log;
    *recordsp = NULL;
    if (tail_errorp) {
        *tail_errorp = NULL;
    }
    int error = dblog_open(name, DBLOG_READ_ONLY, &log, errmsgp);
    if (error) {
        return error;
    }

    json_t *records = json_array();
    for (;;) {
        json_t *record;
        error = dblog_read_next(log, &record);
        if (error) {
            break;
        }
        json_array_append_new(records, record);
    }
    if (error == EOF) {
        error = 0;
        *recordsp = records;
        if (tail_errorp && dblog_get_tail_error(log)) {
            *tail_errorp = xstrdup(dblog_get_tail_error(log));
        }
    } else {
        json_decref(records);
        if (errmsgp) {
            *errmsgp = xasprintf("%s: read failed (%s)", name,
                                 strerror(error));
        }
    }
    dblog_close(log);
    return error;
}
