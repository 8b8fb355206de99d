/* Fuzz target for lib/storage/dblog: the input is a whole database file.
 * Reads every record; then checks the invariants a torn or corrupt tail must
 * keep: reading stops cleanly (EOF, with a tail error iff bytes were left
 * over), the good records' sizes add up to the good prefix, and appending
 * after a corrupt tail yields a file whose records are exactly the good ones
 * plus the new one. */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <openssl/evp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "dblog.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char tmp_dir[] = "/tmp/fuzz-dblog-XXXXXX";

static void
remove_dir(void)
{
    rmdir(tmp_dir);
}

static char *
make_file(const uint8_t *data, size_t size)
{
    static bool have_dir;
    if (!have_dir) {
        if (!mkdtemp(tmp_dir)) {
            abort();
        }
        atexit(remove_dir);
        have_dir = true;
    }
    char *path = malloc(strlen(tmp_dir) + 16);
    if (!path) {
        abort();
    }
    sprintf(path, "%s/db", tmp_dir);
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0 || (size && write(fd, data, size) != (ssize_t) size)) {
        abort();
    }
    close(fd);
    return path;
}

static void
cleanup(char *path)
{
    unlink(path);
    free(path);
    char lock[sizeof tmp_dir + 16];
    snprintf(lock, sizeof lock, "%s/.db.~lock~", tmp_dir);
    unlink(lock);
}

/* Reads all of LOG; returns the number of good records, or -1 if not open. */
static long
read_all(struct dblog *log)
{
    long n = 0;
    json_t *record;
    int error;
    while (!(error = dblog_read_next(log, &record))) {
        if (!json_is_object(record)) {
            abort();
        }
        json_decref(record);
        n++;
    }
    if (error != EOF || dblog_read_next(log, &record) != EOF || record) {
        abort();
    }
    return n;
}

/* Frames DATA as one record with a correct header, so the fuzzer reaches
 * the JSON checks without having to find SHA-1 collisions. */
static void
check_framed(const uint8_t *data, size_t size)
{
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned int n_digest;
    if (!EVP_Digest(data, size, digest, &n_digest, EVP_sha1(), NULL)) {
        abort();
    }
    size_t cap = 128 + size;
    uint8_t *buf = malloc(cap);
    if (!buf) {
        abort();
    }
    int len = snprintf((char *) buf, cap, "OVSDB JSON %zu ", size);
    for (unsigned int i = 0; i < n_digest; i++) {
        len += snprintf((char *) buf + len, cap - (size_t) len, "%02x",
                        digest[i]);
    }
    buf[len++] = '\n';
    memcpy(buf + len, data, size);

    char *path = make_file(buf, (size_t) len + size);
    free(buf);
    struct dblog *log;
    if (dblog_open(path, DBLOG_READ_ONLY, &log, NULL)) {
        abort();
    }
    long n = read_all(log);
    if (n > 1 || (n == 1) == (dblog_get_tail_error(log) != NULL)) {
        abort();
    }
    dblog_close(log);
    cleanup(path);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    check_framed(data, size);

    char *path = make_file(data, size);
    struct dblog *log;
    if (dblog_open(path, DBLOG_READ_WRITE, &log, NULL)) {
        cleanup(path);
        return 0;
    }

    long n = read_all(log);
    struct dblog_stats st;
    dblog_get_stats(log, &st);
    if (st.n_records != (uint64_t) n || st.size > size
        || (st.size < size) != (dblog_get_tail_error(log) != NULL)) {
        abort();
    }

    /* Append one record: the file must become the good prefix plus it. */
    json_t *extra = json_pack("{s:i}", "fuzz", 1);
    if (dblog_write(log, extra) || dblog_commit(log)) {
        abort();
    }
    json_decref(extra);
    dblog_get_stats(log, &st);
    dblog_close(log);

    struct stat s;
    if (stat(path, &s) || (uint64_t) s.st_size != st.size) {
        abort();
    }
    if (dblog_open(path, DBLOG_READ_ONLY, &log, NULL)) {
        abort();
    }
    if (read_all(log) != n + 1 || dblog_get_tail_error(log)) {
        abort();
    }
    dblog_close(log);
    cleanup(path);
    return 0;
}
