#include "dummy-ctl.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "dp.h"
#include "ds.h"
#include "dummy-frame.h"
#include "dummy-pcap.h"
#include "unixctl.h"
#include "util.h"

/* The dummy port NAME, or NULL with an error message in *ERRORP. */
static struct dp_port *
find_dummy(struct dp *dp, const char *name, char **errorp)
{
    struct dp_port *port = dp_find_port(dp, name);
    if (!port) {
        *errorp = xasprintf("no such dummy netdev \"%s\" (no port has that "
                            "name)", name);
    } else if (strcmp(dp_port_type(port), "dummy")) {
        *errorp = xasprintf("\"%s\" is not a dummy port (its type is %s)",
                            name, dp_port_type(port));
        port = NULL;
    }
    return port;
}

struct parsed_frame {
    uint8_t *data;
    size_t size;
};

/* Parses ARGV[0..ARGC-1], the frames of netdev-dummy/receive, into FRAMES
 * (room for ARGC); returns NULL or an error message. */
static char *
parse_frames(int argc, const char *argv[], struct parsed_frame *frames,
             size_t *n_frames)
{
    for (int i = 0; i < argc; i++) {
        const char *arg = argv[i];
        struct parsed_frame *fr = &frames[*n_frames];
        char *error;
        if (!strcmp(arg, "--len")) {
            return xstrdup("--len must follow a flow");
        }
        if (strchr(arg, '(')) {
            int len = 0;
            if (i + 1 < argc && !strcmp(argv[i + 1], "--len")) {
                if (i + 2 >= argc || !str_to_int(argv[i + 2], 10, &len)
                    || len < DUMMY_FRAME_ETH_MIN || len > DUMMY_FRAME_MAX) {
                    return xasprintf("frame %zu: --len needs a frame size "
                                     "from %d to %d", *n_frames + 1,
                                     DUMMY_FRAME_ETH_MIN, DUMMY_FRAME_MAX);
                }
                i += 2;
            }
            error = dummy_frame_from_flow(arg, (size_t) len, &fr->data,
                                          &fr->size);
        } else {
            error = dummy_frame_from_hex(arg, &fr->data, &fr->size);
        }
        if (error) {
            char *msg = xasprintf("frame %zu: %s", *n_frames + 1, error);
            free(error);
            return msg;
        }
        ++*n_frames;
    }
    return NULL;
}

/* What the commands need. */
struct dummy_ctl {
    struct dp *dp;
    struct dummy_pcaps *pcaps;
};

/* Queues FRAMES on PORT, recording each in its receive capture (if any) as
 * it is queued; returns NULL or an error message. */
static char *
inject_frames(struct dummy_pcaps *pcaps, struct dp_port *port,
              const struct parsed_frame *frames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (dp_dummy_inject(port, frames[i].data, frames[i].size)) {
            return xasprintf("%s: receive queue full, queued %zu of %zu "
                             "frames", port->name, i, n);
        }
        dummy_pcaps_write_rx(pcaps, port->name, frames[i].data,
                             frames[i].size);
    }
    return NULL;
}

static void
cmd_receive(struct unixctl_conn *conn, int argc, const char *argv[],
            void *ctl_)
{
    struct dummy_ctl *ctl = ctl_;
    char *error = NULL;
    struct dp_port *port = find_dummy(ctl->dp, argv[1], &error);
    int first = 2;

    if (port && argc > first + 1 && !strcmp(argv[first], "--qid")) {
        /* OVS's dummy ports may have several queues; ours has one. */
        if (strcmp(argv[first + 1], "0")) {
            error = xasprintf("bad rx queue id \"%s\" (dummy ports have one "
                              "receive queue, 0)", argv[first + 1]);
        }
        first += 2;
    }
    if (port && !error && first >= argc) {
        error = xstrdup("no frame given");
    }
    if (port && !error) {
        struct parsed_frame *frames = xcalloc((size_t) argc, sizeof *frames);
        size_t n = 0;
        error = parse_frames(argc - first, argv + first, frames, &n);
        if (!error) {
            error = inject_frames(ctl->pcaps, port, frames, n);
        }
        for (size_t i = 0; i < n; i++) {
            free(frames[i].data);
        }
        free(frames);
    }
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
    } else {
        unixctl_command_reply(conn, NULL);
    }
}

/* Large enough for any frame the datapath sends, GSO frames included. */
#define POP_BUF_SIZE (DUMMY_FRAME_MAX + 1024)

static void
cmd_pop(struct unixctl_conn *conn, int argc, const char *argv[], void *ctl_)
{
    struct dummy_ctl *ctl = ctl_;
    char *error = NULL;
    struct dp_port *port = find_dummy(ctl->dp, argv[1], &error);
    int max = INT_MAX;

    if (port && argc > 2) {
        if (!str_to_int(argv[2], 10, &max) || max < 1) {
            error = xasprintf("\"%s\" is not a positive frame count", argv[2]);
        }
    }
    if (error) {
        unixctl_command_reply_error(conn, error);
        free(error);
        return;
    }

    struct ds out = DS_EMPTY_INITIALIZER;
    uint8_t *buf = xmalloc(POP_BUF_SIZE);
    for (int i = 0; i < max; i++) {
        size_t size = dp_dummy_pop(port, buf, POP_BUF_SIZE);
        if (!size) {
            break;
        }
        for (size_t j = 0; j < size; j++) {
            ds_put_char(&out, "0123456789abcdef"[buf[j] >> 4]);
            ds_put_char(&out, "0123456789abcdef"[buf[j] & 15]);
        }
        ds_put_char(&out, '\n');
    }
    free(buf);
    unixctl_command_reply(conn, ds_cstr(&out));
    ds_destroy(&out);
}

void
dummy_ctl_register(struct dp *dp, struct dummy_pcaps *pcaps)
{
    /* Lives as long as the process (as the unixctl table). */
    struct dummy_ctl *ctl = xmalloc(sizeof *ctl);
    *ctl = (struct dummy_ctl) { dp, pcaps };
    unixctl_command_register("netdev-dummy/receive",
                             "name [--qid 0] packet|flow [--len packet_len]...",
                             2, INT_MAX, cmd_receive, ctl);
    unixctl_command_register("netdev-dummy/pop", "name [n]", 1, 2, cmd_pop,
                             ctl);
}
