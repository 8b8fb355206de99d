#include "dummy-pcap.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dp.h"
#include "dummy-frame.h"
#include "hash.h"
#include "hmap.h"
#include "ovsdb-data.h"
#include "ovsdb.h"
#include "poll-loop.h"
#include "port.h"
#include "replica.h"
#include "util.h"
#include "uuid.h"
#include "vlog.h"

VLOG_DEFINE_THIS_MODULE(dummy_pcap);

/* The classic libpcap file format: a file header, then per frame a record
 * header and the frame.  Fields in host byte order; readers tell it from
 * the magic number. */
#define PCAP_MAGIC_USEC 0xa1b2c3d4u
#define PCAP_SNAPLEN 262144u        /* libpcap's maximum: never truncate. */
#define PCAP_LINKTYPE_ETHERNET 1u

struct pcap_file_header {
    uint32_t magic;
    uint16_t version_major, version_minor;
    int32_t thiszone;
    uint32_t sigfigs;
    uint32_t snaplen;
    uint32_t linktype;
};

struct pcap_record_header {
    uint32_t ts_sec, ts_usec;
    uint32_t incl_len, orig_len;
};

/* Large enough for any frame the datapath sends, GSO frames included. */
#define TX_BUF_SIZE (DUMMY_FRAME_MAX + 1024)
/* Frames drained per port per run, one queue's worth: a port that the
 * forwarding threads keep busy cannot hold up the control thread. */
#define TX_DRAIN_MAX 256

/* The captures of one dummy Interface. */
struct capture {
    struct hmap_node uuid_node;     /* In dummy_pcaps->by_uuid. */
    struct hmap_node name_node;     /* In dummy_pcaps->by_name. */
    struct uuid uuid;
    char *name;                     /* Interface and datapath port name. */
    char *pcap, *rxq_pcap, *tx_pcap;    /* The options, as configured. */
    FILE *rx, *tx;                  /* NULL: none or not opened.  The same
                                     * stream for options:pcap. */
};

struct dummy_pcaps {
    struct dp *dp;
    struct replica *replica;
    struct hmap by_uuid, by_name;
    struct uuid *dirty;             /* Interface rows to read again. */
    size_t n_dirty, allocated_dirty;
    bool reset;
    uint8_t *tx_buf;                /* TX_BUF_SIZE bytes. */
};

static struct vlog_rate_limit write_rl = VLOG_RATE_LIMIT_INIT(5, 5);

/* Opens PATH for appending frames, with a file header if it is empty;
 * NULL (logged) on failure. */
static FILE *
pcap_open(const char *iface, const char *path)
{
    FILE *f = fopen(path, "ab");
    struct stat st;
    if (!f) {
        VLOG_WARN("%s: cannot open pcap file \"%s\" for appending (%s)",
                  iface, path, strerror(errno));
        return NULL;
    }
    if (!fstat(fileno(f), &st) && !st.st_size) {
        const struct pcap_file_header h = {
            .magic = PCAP_MAGIC_USEC, .version_major = 2, .version_minor = 4,
            .snaplen = PCAP_SNAPLEN, .linktype = PCAP_LINKTYPE_ETHERNET,
        };
        if (fwrite(&h, sizeof h, 1, f) != 1 || fflush(f)) {
            VLOG_WARN("%s: cannot write pcap file \"%s\" (%s)", iface, path,
                      strerror(errno));
            fclose(f);
            return NULL;
        }
    }
    return f;
}

/* Appends FRAME to F, stamped with the wall-clock time, and flushes it so
 * that readers see whole records at once. */
static void
pcap_write(FILE *f, const char *iface, const void *frame, size_t size)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    const struct pcap_record_header h = {
        .ts_sec = (uint32_t) ts.tv_sec,
        .ts_usec = (uint32_t) (ts.tv_nsec / 1000),
        .incl_len = (uint32_t) size,
        .orig_len = (uint32_t) size,
    };
    if (fwrite(&h, sizeof h, 1, f) != 1 || fwrite(frame, size, 1, f) != 1
        || fflush(f)) {
        VLOG_WARN_RL(&write_rl, "%s: cannot write pcap file (%s)", iface,
                     strerror(errno));
    }
}

struct dummy_pcaps *
dummy_pcaps_create(struct dp *dp, struct replica *replica)
{
    struct dummy_pcaps *p = xzalloc(sizeof *p);
    p->dp = dp;
    p->replica = replica;
    hmap_init(&p->by_uuid);
    hmap_init(&p->by_name);
    p->tx_buf = xmalloc(TX_BUF_SIZE);
    return p;
}

static void
capture_destroy(struct dummy_pcaps *p, struct capture *c)
{
    if (!c) {
        return;
    }
    hmap_remove(&p->by_uuid, &c->uuid_node);
    hmap_remove(&p->by_name, &c->name_node);
    if (c->rx) {
        fclose(c->rx);
    }
    if (c->tx && c->tx != c->rx) {
        fclose(c->tx);
    }
    free(c->name);
    free(c->pcap);
    free(c->rxq_pcap);
    free(c->tx_pcap);
    free(c);
}

void
dummy_pcaps_destroy(struct dummy_pcaps *p)
{
    if (!p) {
        return;
    }
    struct capture *c, *next;
    HMAP_FOR_EACH_SAFE (c, next, uuid_node, &p->by_uuid) {
        capture_destroy(p, c);
    }
    hmap_destroy(&p->by_uuid);
    hmap_destroy(&p->by_name);
    free(p->dirty);
    free(p->tx_buf);
    free(p);
}

static void
note_dirty(struct dummy_pcaps *p, const struct uuid *uuid)
{
    if (p->n_dirty >= p->allocated_dirty) {
        p->dirty = x2nrealloc(p->dirty, &p->allocated_dirty, sizeof *p->dirty);
    }
    p->dirty[p->n_dirty++] = *uuid;
}

void
dummy_pcaps_note_changes(struct dummy_pcaps *p,
                         const struct replica_change *changes, size_t n,
                         bool reset)
{
    for (size_t k = 0; k < n; k++) {
        if (!strcmp(changes[k].table, "Interface")) {
            note_dirty(p, &changes[k].uuid);
        }
    }
    p->reset |= reset;
}

static struct capture *
capture_find(const struct dummy_pcaps *p, const struct uuid *uuid)
{
    struct capture *c;
    HMAP_FOR_EACH_WITH_HASH (c, uuid_node, uuid_hash(uuid), &p->by_uuid) {
        if (uuid_equals(&c->uuid, uuid)) {
            return c;
        }
    }
    return NULL;
}

static struct capture *
capture_find_name(const struct dummy_pcaps *p, const char *name)
{
    struct capture *c;
    HMAP_FOR_EACH_WITH_HASH (c, name_node, hash_string(name, 0),
                             &p->by_name) {
        if (!strcmp(c->name, name)) {
            return c;
        }
    }
    return NULL;
}

static const char *
options_get(const struct ovsdb_row *row, const char *key)
{
    const struct ovsdb_datum *d = ovsdb_row_find_column(row, "options", NULL);
    for (unsigned int k = 0; d && k < d->n; k++) {
        if (!strcmp(d->keys[k].string, key)) {
            return d->values[k].string;
        }
    }
    return NULL;
}

static bool
nullable_streq(const char *a, const char *b)
{
    return a == b || (a && b && !strcmp(a, b));
}

static char *
nullable_xstrdup(const char *s)
{
    return s ? xstrdup(s) : NULL;
}

/* Brings the captures of Interface UUID in line with ROW (NULL: deleted). */
static void
iface_update(struct dummy_pcaps *p, const struct uuid *uuid,
             const struct ovsdb_row *row)
{
    const struct ovsdb_datum *type = row
        ? ovsdb_row_find_column(row, "type", NULL) : NULL;
    const struct ovsdb_datum *name = row
        ? ovsdb_row_find_column(row, "name", NULL) : NULL;
    bool dummy = type && type->n && !strcmp(type->keys[0].string, "dummy")
                 && name && name->n;
    const char *pcap = dummy ? options_get(row, "pcap") : NULL;
    const char *rxq_pcap = dummy ? options_get(row, "rxq_pcap") : NULL;
    const char *tx_pcap = dummy ? options_get(row, "tx_pcap") : NULL;

    struct capture *c = capture_find(p, uuid);
    if (c && !strcmp(c->name, name && name->n ? name->keys[0].string : "")
        && nullable_streq(c->pcap, pcap)
        && nullable_streq(c->rxq_pcap, rxq_pcap)
        && nullable_streq(c->tx_pcap, tx_pcap)) {
        return;                 /* Unchanged: keep the files open. */
    }
    capture_destroy(p, c);
    if (!pcap && !rxq_pcap && !tx_pcap) {
        return;
    }

    c = xzalloc(sizeof *c);
    c->uuid = *uuid;
    c->name = xstrdup(name->keys[0].string);
    c->pcap = nullable_xstrdup(pcap);
    c->rxq_pcap = nullable_xstrdup(rxq_pcap);
    c->tx_pcap = nullable_xstrdup(tx_pcap);
    if (pcap) {                 /* Both directions, as OVS: one file. */
        c->rx = c->tx = pcap_open(c->name, pcap);
    } else {
        c->rx = rxq_pcap ? pcap_open(c->name, rxq_pcap) : NULL;
        c->tx = tx_pcap ? pcap_open(c->name, tx_pcap) : NULL;
    }
    hmap_insert(&p->by_uuid, &c->uuid_node, uuid_hash(uuid));
    hmap_insert(&p->by_name, &c->name_node, hash_string(c->name, 0));
}

static void
reconfigure(struct dummy_pcaps *p)
{
    struct ovsdb *db = replica_get_db(p->replica);
    const struct ovsdb_table *t = db ? ovsdb_find_table(db, "Interface")
                                     : NULL;
    if (p->reset) {
        /* Every capture we have and every row there is (updating one may
         * change the maps, so not while walking them). */
        p->reset = false;
        struct capture *c;
        HMAP_FOR_EACH (c, uuid_node, &p->by_uuid) {
            note_dirty(p, &c->uuid);
        }
        const struct ovsdb_row *row;
        if (t) {
            OVSDB_TABLE_FOR_EACH_ROW (row, t) {
                note_dirty(p, &row->uuid);
            }
        }
    }
    for (size_t k = 0; k < p->n_dirty; k++) {
        const struct uuid *u = &p->dirty[k];
        iface_update(p, u, t ? ovsdb_table_find_row(t, u) : NULL);
    }
    p->n_dirty = 0;
}

/* The datapath's dummy port for C, or NULL (not added yet, or its add
 * failed, or it has another type while the bridge catches up). */
static struct dp_port *
capture_port(const struct dummy_pcaps *p, const struct capture *c)
{
    struct dp_port *port = dp_find_port(p->dp, c->name);
    return port && !strcmp(dp_port_type(port), "dummy") ? port : NULL;
}

void
dummy_pcaps_run(struct dummy_pcaps *p)
{
    if (p->reset || p->n_dirty) {
        reconfigure(p);
    }
    struct capture *c;
    HMAP_FOR_EACH (c, uuid_node, &p->by_uuid) {
        struct dp_port *port = c->tx ? capture_port(p, c) : NULL;
        for (int i = 0; port && i < TX_DRAIN_MAX; i++) {
            size_t size = dp_dummy_pop(port, p->tx_buf, TX_BUF_SIZE);
            if (!size) {
                break;
            }
            pcap_write(c->tx, c->name, p->tx_buf, size);
        }
    }
}

void
dummy_pcaps_wait(struct dummy_pcaps *p)
{
    if (p->reset || p->n_dirty) {
        poll_immediate_wake();
    }
    struct capture *c;
    HMAP_FOR_EACH (c, uuid_node, &p->by_uuid) {
        struct dp_port *port = c->tx ? capture_port(p, c) : NULL;
        if (port) {
            poll_fd_wait(dp_dummy_tx_fd(port), POLLIN);
        }
    }
}

void
dummy_pcaps_write_rx(struct dummy_pcaps *p, const char *port,
                     const void *frame, size_t size)
{
    struct capture *c = p ? capture_find_name(p, port) : NULL;
    if (c && c->rx) {
        pcap_write(c->rx, c->name, frame, size);
    }
}
