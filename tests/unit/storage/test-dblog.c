/* Unit tests for lib/storage/dblog: format, torn tails, compaction, locks. */
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>

#include "dblog.h"
#include "ds.h"
#include "util.h"

/* ---- Helpers. ---- */

struct fixture {
    char dir[64];
    char *path;                 /* dir/conf.db */
};

static int
setup(void **state)
{
    struct fixture *f = xzalloc(sizeof *f);
    strcpy(f->dir, "/tmp/lanyard-dblog-XXXXXX");
    assert_non_null(mkdtemp(f->dir));
    f->path = xasprintf("%s/conf.db", f->dir);
    *state = f;
    return 0;
}

static int
rm_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static int
teardown(void **state)
{
    struct fixture *f = *state;
    nftw(f->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free(f->path);
    free(f);
    return 0;
}

static char *
slurp(const char *path, size_t *sizep)
{
    int fd = open(path, O_RDONLY);
    assert_true(fd >= 0);
    struct stat st;
    assert_int_equal(fstat(fd, &st), 0);
    char *buf = xmalloc((size_t) st.st_size + 1);
    assert_int_equal(read(fd, buf, (size_t) st.st_size), st.st_size);
    buf[st.st_size] = '\0';
    close(fd);
    *sizep = (size_t) st.st_size;
    return buf;
}

static void
spew(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0640);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, size), (ssize_t) size);
    close(fd);
}

static void
append_bytes(const char *path, const void *data, size_t size)
{
    int fd = open(path, O_WRONLY | O_APPEND);
    assert_true(fd >= 0);
    assert_int_equal(write(fd, data, size), (ssize_t) size);
    close(fd);
}

static json_t *
record_n(int i)
{
    return json_pack("{s:i, s:{s:{s:i}}, s:b}", "_date", 1000 + i,
                     "Open_vSwitch", "4858c052-50c8-4faf-b800-8883aca0b35f",
                     "next_cfg", i, "_is_diff", 1);
}

static json_t *
schema_record(void)
{
    return json_pack("{s:s, s:s, s:{}}", "name", "Test", "version", "1.0.0",
                     "tables");
}

/* Creates PATH holding the schema record and records 1...N_TXNS; returns the
 * file offset at which each record starts in OFFSETS (N_TXNS + 2 entries,
 * the last being the file size). */
static void
make_log(const char *path, int n_txns, size_t *offsets)
{
    struct dblog *log;
    assert_int_equal(dblog_open(path, DBLOG_CREATE_EXCL, &log, NULL), 0);
    struct ds ds = DS_EMPTY_INITIALIZER;
    size_t pos = 0;
    for (int i = 0; i <= n_txns; i++) {
        json_t *r = i ? record_n(i) : schema_record();
        if (offsets) {
            offsets[i] = pos;
        }
        pos += dblog_format_record(r, &ds);
        assert_int_equal(dblog_write(log, r), 0);
        json_decref(r);
    }
    if (offsets) {
        offsets[n_txns + 1] = pos;
    }
    assert_true(dblog_has_pending(log));
    assert_int_equal(dblog_commit(log), 0);
    assert_false(dblog_has_pending(log));
    dblog_close(log);
    ds_destroy(&ds);
}

/* Reads every record of LOG, checks they are the schema and records
 * 1...N_TXNS, and returns the tail error (or NULL). */
static const char *
expect_records(struct dblog *log, int n_txns)
{
    for (int i = 0; i <= n_txns; i++) {
        json_t *r, *want = i ? record_n(i) : schema_record();
        assert_int_equal(dblog_read_next(log, &r), 0);
        assert_true(json_equal(r, want));
        json_decref(r);
        json_decref(want);
    }
    json_t *r = (json_t *) 1;
    assert_int_equal(dblog_read_next(log, &r), EOF);
    assert_null(r);
    assert_int_equal(dblog_read_next(log, &r), EOF);
    return dblog_get_tail_error(log);
}

static void
reopen_expect(const char *path, int n_txns)
{
    struct dblog *log;
    assert_int_equal(dblog_open(path, DBLOG_READ_ONLY, &log, NULL), 0);
    assert_null(expect_records(log, n_txns));
    dblog_close(log);
}

/* ---- Format. ---- */

/* A record taken from a file written by ovsdb-server 3.1. */
static void
test_format_matches_ovsdb_server(void **state)
{
    static const char want[] =
        "OVSDB JSON 99 738875d5cf960ee5bc75046d3d86315ea671a575\n"
        "{\"_date\":1795222756964,\"Open_vSwitch\":{\"4858c052-50c8-4faf-"
        "b800-8883aca0b35f\":{}},\"_is_diff\":true}\n";
    json_t *r = json_pack("{s:I, s:{s:{}}, s:b}", "_date",
                          (json_int_t) 1795222756964LL, "Open_vSwitch",
                          "4858c052-50c8-4faf-b800-8883aca0b35f", "_is_diff",
                          1);
    struct ds ds = DS_EMPTY_INITIALIZER;
    assert_int_equal(dblog_format_record(r, &ds), sizeof want - 1);
    assert_string_equal(ds_cstr(&ds), want);

    /* Non-objects are refused. */
    json_t *a = json_array();
    assert_int_equal(dblog_format_record(a, &ds), 0);
    assert_int_equal(ds.length, sizeof want - 1);
    json_decref(a);
    json_decref(r);
    ds_destroy(&ds);

    /* And that record reads back. */
    struct fixture *f = *state;
    spew(f->path, want, sizeof want - 1);
    struct dblog *log;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_ONLY, &log, NULL), 0);
    assert_int_equal(dblog_read_next(log, &r), 0);
    assert_int_equal(json_integer_value(json_object_get(r, "_date")),
                     1795222756964LL);
    json_decref(r);
    assert_int_equal(dblog_read_next(log, &r), EOF);
    assert_null(dblog_get_tail_error(log));
    dblog_close(log);
}

/* dblog_write_text() frames pre-serialized text exactly as dblog_write()
 * frames the same record. */
static void
test_write_text_matches_write(void **state)
{
    struct fixture *f = *state;
    static const char text[] = "{\"_date\":1795222756964,\"Open_vSwitch\":"
        "{\"4858c052-50c8-4faf-b800-8883aca0b35f\":{}},\"_is_diff\":true}";
    json_t *r = json_loads(text, 0, NULL);
    assert_non_null(r);

    struct dblog *log;
    assert_int_equal(dblog_open(f->path, DBLOG_CREATE_EXCL, &log, NULL), 0);
    assert_int_equal(dblog_write(log, r), 0);
    assert_int_equal(dblog_write_text(log, text, strlen(text)), 0);
    assert_int_equal(dblog_write_text(log, "", 0), EINVAL);
    assert_int_equal(dblog_write_text(log, "[1]", 3), EINVAL);
    assert_int_equal(dblog_commit(log), 0);
    dblog_close(log);

    size_t size;
    char *data = slurp(f->path, &size);
    assert_int_equal(size % 2, 0);
    assert_memory_equal(data, data + size / 2, size / 2);
    free(data);
    json_decref(r);
}

static void
test_round_trip_and_stats(void **state)
{
    struct fixture *f = *state;
    size_t offsets[12];
    make_log(f->path, 10, offsets);

    struct dblog *log;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    assert_string_equal(dblog_name(log), f->path);
    assert_null(expect_records(log, 10));

    struct dblog_stats st;
    dblog_get_stats(log, &st);
    assert_int_equal(st.n_records, 11);
    assert_int_equal(st.size, offsets[11]);
    assert_int_equal(st.n_appended, 0);
    assert_int_equal(st.size_appended, 0);

    json_t *r = record_n(11);
    assert_int_equal(dblog_write(log, r), 0);
    json_decref(r);
    dblog_get_stats(log, &st);
    assert_int_equal(st.n_records, 12);
    assert_int_equal(st.n_appended, 1);
    assert_int_equal(st.size, offsets[11] + st.size_appended);
    assert_int_equal(dblog_commit(log), 0);
    /* Nothing pending: a no-op. */
    assert_int_equal(dblog_commit(log), 0);
    dblog_close(log);

    reopen_expect(f->path, 11);
    size_t size;
    free(slurp(f->path, &size));
    assert_int_equal(size, st.size);

    json_t *all;
    char *tail = (char *) 1;
    assert_int_equal(dblog_read_all(f->path, &all, &tail, NULL), 0);
    assert_null(tail);
    assert_int_equal(json_array_size(all), 12);
    json_decref(all);
}

static void
test_write_before_reading_appends_at_end(void **state)
{
    struct fixture *f = *state;
    make_log(f->path, 3, NULL);
    struct dblog *log;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    json_t *r = record_n(4);
    assert_int_equal(dblog_write(log, r), 0);
    json_decref(r);
    assert_int_equal(dblog_commit(log), 0);
    dblog_close(log);
    reopen_expect(f->path, 4);
}

static void
test_mode_errors(void **state)
{
    struct fixture *f = *state;
    struct dblog *log = (struct dblog *) 1;
    char *msg;

    assert_int_equal(dblog_open(f->path, DBLOG_READ_ONLY, &log, &msg),
                     ENOENT);
    assert_null(log);
    assert_non_null(strstr(msg, f->path));
    free(msg);
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL),
                     ENOENT);

    make_log(f->path, 1, NULL);
    assert_int_equal(dblog_open(f->path, DBLOG_CREATE_EXCL, &log, &msg),
                     EEXIST);
    free(msg);

    assert_int_equal(dblog_open(f->path, DBLOG_READ_ONLY, &log, NULL), 0);
    json_t *r = record_n(2);
    assert_int_equal(dblog_write(log, r), EBADF);
    assert_int_equal(dblog_commit(log), EBADF);
    struct dblog *new;
    assert_int_equal(dblog_replace_start(log, &new, NULL), EBADF);
    assert_null(new);
    dblog_close(log);

    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    json_t *a = json_array();
    assert_int_equal(dblog_write(log, a), EINVAL);
    assert_false(dblog_has_pending(log));
    json_decref(a);
    json_decref(r);
    dblog_close(log);
    dblog_close(NULL);
}

/* ---- Corruption. ---- */

/* Cuts the last record at every byte: the earlier records must come back
 * with a warning naming the offset, and the next append must land right
 * after them. */
static void
test_torn_tail_every_byte(void **state)
{
    struct fixture *f = *state;
    size_t offsets[5];
    make_log(f->path, 3, offsets);
    size_t size;
    char *full = slurp(f->path, &size);
    size_t start = offsets[3];
    assert_int_equal(size, offsets[4]);
    char *offset_str = xasprintf(": %zu: ", start);
    size_t header_size = (size_t) (strchr(full + start, '\n') - (full + start)) + 1;

    for (size_t cut = start; cut < size; cut++) {
        spew(f->path, full, cut);
        struct dblog *log;
        assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
        const char *err = expect_records(log, 2);
        if (cut == start) {
            assert_null(err);
        } else {
            assert_non_null(err);
            assert_true(str_starts_with(err, f->path));
            assert_non_null(strstr(err, offset_str));
            if (cut < start + header_size) {
                assert_non_null(strstr(err, "end of file inside record "
                                       "header"));
            } else {
                assert_non_null(strstr(err, "record is truncated"));
            }
        }

        /* Nothing is truncated until something is appended. */
        size_t now;
        free(slurp(f->path, &now));
        assert_int_equal(now, cut);

        json_t *r = record_n(3);
        assert_int_equal(dblog_write(log, r), 0);
        json_decref(r);
        assert_int_equal(dblog_commit(log), 0);
        dblog_close(log);

        char *after = slurp(f->path, &now);
        assert_int_equal(now, size);
        assert_memory_equal(after, full, size);
        free(after);
    }
    free(offset_str);
    free(full);
}

static void
expect_tail_error(const char *path, int n_good, size_t offset,
                  const char *reason)
{
    struct dblog *log;
    assert_int_equal(dblog_open(path, DBLOG_READ_WRITE, &log, NULL), 0);
    const char *err = expect_records(log, n_good);
    assert_non_null(err);
    char *where = xasprintf("%s: %zu: ", path, offset);
    assert_true(str_starts_with(err, where));
    assert_non_null(strstr(err, reason));
    free(where);

    /* Appending drops the bad tail. */
    json_t *r = record_n(n_good + 1);
    assert_int_equal(dblog_write(log, r), 0);
    json_decref(r);
    assert_int_equal(dblog_commit(log), 0);
    dblog_close(log);
    reopen_expect(path, n_good + 1);
}

static void
test_sha1_mismatch(void **state)
{
    struct fixture *f = *state;
    size_t offsets[5];
    make_log(f->path, 3, offsets);
    size_t size;
    char *buf = slurp(f->path, &size);
    /* Change "next_cfg":2 to "next_cfg":7 in record 2: still valid JSON. */
    char *p = strstr(buf + offsets[2], "\"next_cfg\":2");
    assert_non_null(p);
    p[strlen("\"next_cfg\":")] = '7';
    spew(f->path, buf, size);
    free(buf);
    /* Records after a bad one are not trusted either. */
    expect_tail_error(f->path, 1, offsets[2], "SHA-1 mismatch");
}

static void
test_garbage_appended(void **state)
{
    struct fixture *f = *state;
    size_t offsets[4];
    make_log(f->path, 2, offsets);
    append_bytes(f->path, "garbage\n", 8);
    expect_tail_error(f->path, 2, offsets[3], "syntax error in record header");

    /* Zero-filled blocks, as a crash can leave on some filesystems. */
    static const char zeros[4096];
    append_bytes(f->path, zeros, sizeof zeros);
    free(slurp(f->path, &offsets[0]));
    expect_tail_error(f->path, 3, offsets[0] - sizeof zeros,
                      "syntax error in record header");

    /* A header line that never ends. */
    free(slurp(f->path, &offsets[0]));
    char longhdr[300];
    memset(longhdr, '1', sizeof longhdr);
    memcpy(longhdr, "OVSDB JSON ", 11);
    append_bytes(f->path, longhdr, sizeof longhdr);
    expect_tail_error(f->path, 4, offsets[0], "syntax error in record header");
}

static void
test_bad_header_fields(void **state)
{
    struct fixture *f = *state;
    size_t offsets[3];
    static const char *bad[] = {
        "OVSDB JSON x 0000000000000000000000000000000000000000\n",
        "OVSDB JSON  5 0000000000000000000000000000000000000000\n",
        "OVSDB JSON -5 0000000000000000000000000000000000000000\n",
        "OVSDB JSON 5 000000000000000000000000000000000000000g\n",
        "OVSDB JSON 5 00000000000000000000000000000000000000000\n",
        "OVSDB JSON 5 000000000000000000000000000000000000000\n",
        ("OVSDB JSON 12345678901234567890 "
         "0000000000000000000000000000000000000000\n"),
        "OVSDB CLUSTER 5 0000000000000000000000000000000000000000\n",
        "ovsdb json 5 0000000000000000000000000000000000000000\n",
    };
    for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
        unlink(f->path);
        make_log(f->path, 1, offsets);
        append_bytes(f->path, bad[i], strlen(bad[i]));
        append_bytes(f->path, "{}\n\n", 4);
        expect_tail_error(f->path, 1, offsets[2],
                          "syntax error in record header");
    }
}

/* Appends DATA framed with its correct length and SHA-1, so only the JSON
 * can be wrong. */
static void
append_framed(const char *path, const char *data)
{
    uint8_t digest[20];
    unsigned int n = 0;
    assert_true(EVP_Digest(data, strlen(data), digest, &n, EVP_sha1(), NULL));
    assert_int_equal(n, 20);
    struct ds ds = DS_EMPTY_INITIALIZER;
    ds_put_format(&ds, "OVSDB JSON %zu ", strlen(data));
    for (int i = 0; i < 20; i++) {
        ds_put_format(&ds, "%02x", digest[i]);
    }
    ds_put_format(&ds, "\n%s", data);
    append_bytes(path, ds.string, ds.length);
    ds_destroy(&ds);
}

static void
test_invalid_json_and_non_object(void **state)
{
    struct fixture *f = *state;
    size_t offsets[3];
    make_log(f->path, 1, offsets);
    append_framed(f->path, "{bad\n");
    expect_tail_error(f->path, 1, offsets[2], "not valid JSON");

    unlink(f->path);
    make_log(f->path, 1, offsets);
    append_framed(f->path, "[1]\n");
    expect_tail_error(f->path, 1, offsets[2], "not a JSON object");

    unlink(f->path);
    make_log(f->path, 1, offsets);
    append_framed(f->path, "{} {}\n");
    expect_tail_error(f->path, 1, offsets[2], "not valid JSON");

    /* Without the customary trailing newline the record is still good. */
    unlink(f->path);
    make_log(f->path, 1, offsets);
    append_framed(f->path, "{\"a\":1}");
    struct dblog *log;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_ONLY, &log, NULL), 0);
    json_t *r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(dblog_read_next(log, &r), 0);
        json_decref(r);
    }
    assert_int_equal(dblog_read_next(log, &r), EOF);
    assert_null(dblog_get_tail_error(log));
    dblog_close(log);
}

static void
test_bad_magic_refused(void **state)
{
    struct fixture *f = *state;
    struct dblog *log;
    char *msg;

    spew(f->path, "hello world\n", 12);
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, &msg),
                     EPROTO);
    assert_non_null(strstr(msg, "not an OVSDB standalone database"));
    free(msg);
    /* Refused, so never truncated. */
    size_t size;
    free(slurp(f->path, &size));
    assert_int_equal(size, 12);

    static const char cluster[] =
        "OVSDB CLUSTER 5 0000000000000000000000000000000000000000\n{}\n\n";
    spew(f->path, cluster, sizeof cluster - 1);
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, &msg),
                     EPROTO);
    assert_non_null(strstr(msg, "clustered"));
    free(msg);

    /* A torn first header is a torn tail, not a foreign file. */
    spew(f->path, "OVSD", 4);
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    const char *err = expect_records(log, -1);
    assert_non_null(strstr(err, ": 0: end of file inside record header"));
    dblog_close(log);

    /* An empty file has no records and no error. */
    spew(f->path, "", 0);
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    assert_null(expect_records(log, -1));
    dblog_close(log);
}

/* ---- Compaction. ---- */

static void
compact(struct dblog *log, int snapshot_value)
{
    struct dblog *new;
    char *msg = NULL;
    assert_int_equal(dblog_replace_start(log, &new, &msg), 0);
    assert_null(msg);
    json_t *s = schema_record(), *r = record_n(snapshot_value);
    assert_int_equal(dblog_write(new, s), 0);
    assert_int_equal(dblog_write(new, r), 0);
    json_decref(s);
    json_decref(r);
    assert_int_equal(dblog_replace_commit(log, new), 0);
}

static void
test_compaction(void **state)
{
    struct fixture *f = *state;
    size_t offsets[12];
    make_log(f->path, 10, offsets);
    struct dblog *log;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    assert_null(expect_records(log, 10));
    struct stat before;
    assert_int_equal(stat(f->path, &before), 0);

    compact(log, 1);
    struct dblog_stats st;
    dblog_get_stats(log, &st);
    assert_int_equal(st.n_records, 2);
    assert_int_equal(st.n_appended, 0);
    size_t size;
    free(slurp(f->path, &size));
    assert_int_equal(st.size, size);
    reopen_expect(f->path, 1);

    /* Mode kept, temporary file gone, different inode. */
    struct stat after;
    assert_int_equal(stat(f->path, &after), 0);
    assert_int_equal(after.st_mode, before.st_mode);
    assert_true(after.st_ino != before.st_ino);
    char *tmp = xasprintf("%s.tmp", f->path);
    assert_int_equal(access(tmp, F_OK), -1);

    /* The lock is still held and appends go to the new file. */
    struct dblog *other;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &other, NULL),
                     EAGAIN);
    json_t *r = record_n(2);
    assert_int_equal(dblog_write(log, r), 0);
    json_decref(r);
    assert_int_equal(dblog_commit(log), 0);
    dblog_get_stats(log, &st);
    assert_int_equal(st.n_records, 3);
    assert_int_equal(st.n_appended, 1);
    reopen_expect(f->path, 2);
    dblog_close(log);
    free(tmp);
}

static void
test_compaction_abort_and_stale_temp(void **state)
{
    struct fixture *f = *state;
    make_log(f->path, 3, NULL);
    size_t size;
    char *orig = slurp(f->path, &size);
    char *tmp = xasprintf("%s.tmp", f->path);

    struct dblog *log, *new;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    assert_int_equal(dblog_replace_start(log, &new, NULL), 0);
    assert_int_equal(access(tmp, F_OK), 0);
    json_t *s = schema_record();
    assert_int_equal(dblog_write(new, s), 0);
    dblog_replace_abort(new);
    dblog_replace_abort(NULL);
    assert_int_equal(access(tmp, F_OK), -1);

    /* A crash in the middle of compaction leaves the original intact and a
     * stale temporary file that the next compaction replaces. */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        struct dblog *child_new;
        if (dblog_replace_start(log, &child_new, NULL)
            || dblog_write(child_new, s)) {
            _exit(1);
        }
        _exit(0);               /* "Crash" before replace_commit. */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    assert_int_equal(access(tmp, F_OK), 0);
    size_t now;
    char *cur = slurp(f->path, &now);
    assert_int_equal(now, size);
    assert_memory_equal(cur, orig, size);
    free(cur);

    /* The log still reads and appends normally, then compacts. */
    assert_null(expect_records(log, 3));
    compact(log, 1);
    assert_int_equal(access(tmp, F_OK), -1);
    reopen_expect(f->path, 1);
    dblog_close(log);
    json_decref(s);
    free(tmp);
    free(orig);
}

/* Limits the size of files this process may write, so writes really fail
 * (EFBIG) even when running as root. */
static void
limit_file_size(rlim_t limit)
{
    struct rlimit rl;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &rl), 0);
    rl.rlim_cur = limit;
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &rl), 0);
}

static void
test_compaction_failure_leaves_original(void **state)
{
    struct fixture *f = *state;
    make_log(f->path, 3, NULL);
    size_t size;
    char *orig = slurp(f->path, &size);

    struct dblog *log, *new;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    assert_null(expect_records(log, 3));
    json_t *r = record_n(4);
    assert_int_equal(dblog_write(log, r), 0);   /* Pending, uncommitted. */
    json_decref(r);

    assert_int_equal(dblog_replace_start(log, &new, NULL), 0);
    json_t *big = json_object();
    json_object_set_new(big, "pad", json_string(
                            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"));
    for (int i = 0; i < 200; i++) {
        assert_int_equal(dblog_write(new, big), 0);
    }
    json_decref(big);

    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    limit_file_size(4096);
    assert_int_equal(dblog_replace_commit(log, new), EFBIG);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);

    /* Original untouched, temporary removed, log fully usable, and the
     * record pending before the attempt is still there. */
    size_t now;
    char *cur = slurp(f->path, &now);
    assert_int_equal(now, size);
    assert_memory_equal(cur, orig, size);
    free(cur);
    char *tmp = xasprintf("%s.tmp", f->path);
    assert_int_equal(access(tmp, F_OK), -1);
    free(tmp);
    assert_true(dblog_has_pending(log));
    assert_int_equal(dblog_commit(log), 0);
    dblog_close(log);
    reopen_expect(f->path, 4);
    free(orig);
}

static void
test_commit_error_is_sticky(void **state)
{
    struct fixture *f = *state;
    make_log(f->path, 1, NULL);
    size_t size;
    free(slurp(f->path, &size));

    struct dblog *log;
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &log, NULL), 0);
    json_t *r = record_n(2);
    assert_int_equal(dblog_write(log, r), 0);

    void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
    struct rlimit saved;
    assert_int_equal(getrlimit(RLIMIT_FSIZE, &saved), 0);
    limit_file_size(size);
    assert_int_equal(dblog_commit(log), EFBIG);
    assert_int_equal(setrlimit(RLIMIT_FSIZE, &saved), 0);
    signal(SIGXFSZ, old_handler);

    assert_int_equal(dblog_write(log, r), EFBIG);
    assert_int_equal(dblog_commit(log), EFBIG);
    struct dblog *new;
    assert_int_equal(dblog_replace_start(log, &new, NULL), EFBIG);
    json_decref(r);
    dblog_close(log);
    reopen_expect(f->path, 1);
}

/* ---- Locking. ---- */

static void
test_lock_contention(void **state)
{
    struct fixture *f = *state;
    struct dblog *log, *other;
    char *msg;

    assert_int_equal(dblog_open(f->path, DBLOG_CREATE_EXCL, &log, NULL), 0);
    char *lock = xasprintf("%s/.conf.db.~lock~", f->dir);
    assert_int_equal(access(lock, F_OK), 0);

    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &other, &msg),
                     EAGAIN);
    assert_null(other);
    char *want = xasprintf("%s: cannot lock database: already locked by pid "
                           "%ld (lock file %s)", f->path, (long) getpid(),
                           lock);
    assert_string_equal(msg, want);
    free(want);
    free(msg);

    /* A different process is refused too (classic fcntl() semantics). */
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (!pid) {
        struct dblog *child;
        int error = dblog_open(f->path, DBLOG_READ_WRITE, &child, NULL);
        _exit(error == EAGAIN ? 0 : 1);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    /* Readers need no lock. */
    assert_int_equal(dblog_open(f->path, DBLOG_READ_ONLY, &other, NULL), 0);
    dblog_close(other);

    dblog_close(log);
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &other, NULL), 0);
    dblog_close(other);
    free(lock);
}

static void
test_symlink_followed(void **state)
{
    struct fixture *f = *state;
    make_log(f->path, 2, NULL);
    char *link = xasprintf("%s/link.db", f->dir);
    assert_int_equal(symlink("conf.db", link), 0);

    struct dblog *log, *other;
    assert_int_equal(dblog_open(link, DBLOG_READ_WRITE, &log, NULL), 0);
    /* Same lock as the target. */
    assert_int_equal(dblog_open(f->path, DBLOG_READ_WRITE, &other, NULL),
                     EAGAIN);
    assert_null(expect_records(log, 2));
    compact(log, 1);
    dblog_close(log);

    struct stat st;
    assert_int_equal(lstat(link, &st), 0);
    assert_true(S_ISLNK(st.st_mode));
    reopen_expect(f->path, 1);
    free(link);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
#define T(NAME) cmocka_unit_test_setup_teardown(NAME, setup, teardown)
        T(test_format_matches_ovsdb_server),
        T(test_round_trip_and_stats),
        T(test_write_text_matches_write),
        T(test_write_before_reading_appends_at_end),
        T(test_mode_errors),
        T(test_torn_tail_every_byte),
        T(test_sha1_mismatch),
        T(test_garbage_appended),
        T(test_bad_header_fields),
        T(test_invalid_json_and_non_object),
        T(test_bad_magic_refused),
        T(test_compaction),
        T(test_compaction_abort_and_stale_temp),
        T(test_compaction_failure_leaves_original),
        T(test_commit_error_is_sticky),
        T(test_lock_contention),
        T(test_symlink_followed),
#undef T
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
