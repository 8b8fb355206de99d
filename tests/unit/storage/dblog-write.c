/* dblog-write: appends records to an OVSDB standalone log with lib/storage.
 *
 *   dblog-write create FILE JSON...   creates FILE (must not exist)
 *   dblog-write append FILE JSON...   appends to existing FILE
 *
 * Each JSON argument (an object) becomes one record; all are committed with
 * one dblog_commit().  Used by tests/interop/test_dblog_ovsdb_tool.py. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dblog.h"

int
main(int argc, char *argv[])
{
    enum dblog_mode mode;
    if (argc < 3) {
        goto usage;
    } else if (!strcmp(argv[1], "create")) {
        mode = DBLOG_CREATE_EXCL;
    } else if (!strcmp(argv[1], "append")) {
        mode = DBLOG_READ_WRITE;
    } else {
        goto usage;
    }

    struct dblog *log;
    char *errmsg;
    int error = dblog_open(argv[2], mode, &log, &errmsg);
    if (error) {
        fprintf(stderr, "dblog-write: %s\n", errmsg);
        free(errmsg);
        return 1;
    }

    int status = 0;
    for (int i = 3; i < argc && !status; i++) {
        json_error_t jerr;
        json_t *record = json_loads(argv[i], 0, &jerr);
        if (!record) {
            fprintf(stderr, "dblog-write: argument %d: %s\n", i - 2,
                    jerr.text);
            status = 1;
        } else if ((error = dblog_write(log, record))) {
            fprintf(stderr, "dblog-write: argument %d: %s\n", i - 2,
                    strerror(error));
            status = 1;
        }
        json_decref(record);
    }
    if (!status && (error = dblog_commit(log))) {
        fprintf(stderr, "dblog-write: %s: commit failed (%s)\n", argv[2],
                strerror(error));
        status = 1;
    }
    if (!status && dblog_get_tail_error(log)) {
        fprintf(stderr, "dblog-write: warning: %s\n",
                dblog_get_tail_error(log));
    }
    dblog_close(log);
    return status;

usage:
    fprintf(stderr, "usage: %s create|append FILE JSON...\n", argv[0]);
    return 2;
}
