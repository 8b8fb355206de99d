/* dblog-cat: prints the records of an OVSDB standalone log, one compact JSON
 * object per line, using lib/storage.  A corrupt tail is reported on stderr
 * as "dblog-cat: warning: ..." (exit status 0: the good records were read).
 * Exit status 1 if the file cannot be opened or read.  Used by
 * tests/interop/test_dblog_ovsdb_tool.py. */
#include <errno.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dblog.h"

int
main(int argc, char *argv[])
{
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }

    struct dblog *log;
    char *errmsg;
    int error = dblog_open(argv[1], DBLOG_READ_ONLY, &log, &errmsg);
    if (error) {
        fprintf(stderr, "dblog-cat: %s\n", errmsg);
        free(errmsg);
        return 1;
    }

    json_t *record;
    while (!(error = dblog_read_next(log, &record))) {
        char *s = json_dumps(record, JSON_COMPACT);
        puts(s);
        free(s);
        json_decref(record);
    }
    int status = 0;
    if (error != EOF) {
        fprintf(stderr, "dblog-cat: %s: read failed (%s)\n", argv[1],
                strerror(error));
        status = 1;
    } else if (dblog_get_tail_error(log)) {
        fprintf(stderr, "dblog-cat: warning: %s\n", dblog_get_tail_error(log));
    }
    dblog_close(log);
    return status;
}
