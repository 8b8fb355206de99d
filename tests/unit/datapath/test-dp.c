/* The datapath end to end over dummy and patch ports: synchronous passes
 * (dp_poll_once) for exact checks, then forwarding threads with live
 * reconfiguration. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "dp.h"
#include "ds.h"
#include "util.h"

static size_t
frame(uint8_t *buf, uint8_t dst, uint8_t src, int vid)
{
    static const uint8_t base[6] = { 0x02, 0, 0, 0, 0, 0 };
    memcpy(buf, base, 6);
    buf[5] = dst;
    memcpy(buf + 6, base, 6);
    buf[11] = src;
    size_t ofs = 12;
    if (vid >= 0) {
        buf[ofs++] = 0x81;
        buf[ofs++] = 0x00;
        buf[ofs++] = (uint8_t) (vid >> 8);
        buf[ofs++] = (uint8_t) vid;
    }
    buf[ofs++] = 0x08;
    buf[ofs++] = 0x00;
    memset(buf + ofs, 0x5a, 46);
    return ofs + 46;
}

static void
add(struct dp *dp, const char *br, const char *name, const char *type,
    const char *mode, int tag, const char *peer, uint32_t want_no)
{
    struct dp_port_config cfg = { .type = type, .peer = peer };
    struct vlan_port_config vc = { .vlan_mode = mode, .tag = tag };
    assert_int_equal(vlan_port_configure(&cfg.vlan, &vc), 0);
    uint32_t no = 0;
    assert_int_equal(dp_add_port(dp, br, name, &cfg, &no), 0);
    assert_int_equal(no, want_no);
}

static size_t
pop(struct dp *dp, const char *port, uint8_t *buf)
{
    return dp_dummy_pop(dp_find_port(dp, port), buf, 2048);
}

static void
inject(struct dp *dp, const char *port, const uint8_t *f, size_t n)
{
    assert_int_equal(dp_dummy_inject(dp_find_port(dp, port), f, n), 0);
}

static struct dp *
make_dp(void)
{
    struct dp *dp = dp_create();
    assert_int_equal(dp_add_bridge(dp, "br0"), 0);
    assert_int_equal(dp_add_bridge(dp, "br0"), EEXIST);
    add(dp, "br0", "a1", "dummy", "access", 10, NULL, 1);
    add(dp, "br0", "a2", "dummy", "access", 10, NULL, 2);
    add(dp, "br0", "t3", "dummy", NULL, -1, NULL, 3);
    add(dp, "br0", "a4", "dummy", "access", 20, NULL, 4);
    return dp;
}

static void
test_sync_forwarding(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    uint8_t f[128], out[2048];
    size_t n = frame(f, 0xB, 0xA, -1);
    inject(dp, "a1", f, n);
    assert_int_equal(dp_poll_once(dp, 1000), 1);
    assert_int_equal(pop(dp, "a2", out), 60);
    assert_memory_equal(out, f, 60);
    assert_int_equal(pop(dp, "t3", out), 64);
    assert_int_equal(out[15], 10);      /* Tagged with VLAN 10. */
    assert_int_equal(pop(dp, "a4", out), 0);
    assert_int_equal(pop(dp, "a1", out), 0);    /* No hairpin. */

    /* Reply from the trunk goes to a1 only, untagged. */
    n = frame(f, 0xA, 0xB, 10);
    inject(dp, "t3", f, n);
    assert_int_equal(dp_poll_once(dp, 1000), 1);
    assert_int_equal(pop(dp, "a1", out), 60);
    assert_int_equal(out[12], 0x08);
    assert_int_equal(pop(dp, "a2", out), 0);

    struct ds ds = DS_EMPTY_INITIALIZER;
    assert_int_equal(dp_fdb_show(dp, "br0", 3000, &ds), 0);
    assert_string_equal(ds_cstr(&ds),
                        " port  VLAN  MAC                Age\n"
                        "    1    10  02:00:00:00:00:0a    2\n"
                        "    3    10  02:00:00:00:00:0b    2\n");
    ds_clear(&ds);
    assert_int_equal(dp_fdb_show(dp, "nobr", 0, &ds), ENOENT);
    assert_int_equal(dp_fdb_stats_show(dp, "br0", &ds), 0);
    assert_non_null(strstr(ds_cstr(&ds), "table: 2/8192"));
    ds_destroy(&ds);

    struct dp_port_stats s;
    assert_int_equal(dp_get_port_stats(dp, "a1", &s), 0);
    assert_int_equal(s.rx_packets, 1);
    assert_int_equal(s.tx_packets, 1);
    assert_int_equal(s.tx_bytes, 60);
    assert_int_equal(dp_get_port_stats(dp, "zz", &s), ENOENT);

    /* Deleting a1 forgets its MACs and frees its number for reuse. */
    assert_int_equal(dp_del_port(dp, "a1"), 0);
    assert_int_equal(dp_del_port(dp, "a1"), ENOENT);
    ds_init(&ds);
    dp_fdb_show(dp, "br0", 3000, &ds);
    assert_null(strstr(ds_cstr(&ds), ":0a"));
    ds_destroy(&ds);
    add(dp, "br0", "a5", "dummy", "access", 10, NULL, 1);

    /* VLAN change is live: a4 moves to VLAN 10 and now gets the flood. */
    struct vlan_port v;
    struct vlan_port_config vc = { .tag = 10 };
    vlan_port_configure(&v, &vc);
    assert_int_equal(dp_set_port_vlan(dp, "a4", &v), 0);
    n = frame(f, 0xC, 0xD, -1);
    inject(dp, "a2", f, n);
    dp_poll_once(dp, 4000);
    assert_int_equal(pop(dp, "a4", out), 60);
    assert_int_equal(pop(dp, "a5", out), 60);

    /* Static entries and flush. */
    assert_int_equal(dp_fdb_add(dp, "br0", "a5", 10, 0x020000000099ULL), 0);
    assert_int_equal(dp_fdb_add(dp, "br0", "nope", 10, 1), ENOENT);
    assert_int_equal(dp_fdb_flush(dp, "br0"), 0);
    assert_int_equal(dp_fdb_flush(dp, NULL), 0);
    n = frame(f, 0x99, 0xD, -1);
    inject(dp, "a2", f, n);
    dp_poll_once(dp, 4000);
    assert_int_equal(pop(dp, "a5", out), 60);
    assert_int_equal(pop(dp, "a4", out), 0);
    assert_int_equal(dp_fdb_del(dp, "br0", 10, 0x020000000099ULL), 0);
    assert_int_equal(dp_fdb_del(dp, "br0", 10, 0x020000000099ULL), ENOENT);

    ds_init(&ds);
    dp_format_stats(dp, &ds);
    assert_non_null(strstr(ds_cstr(&ds), "port 2 a2 (dummy): rx_packets=2"));
    ds_destroy(&ds);
    assert_int_equal(dp_run(dp, 10000000) >= 0, 1);
    dp_destroy(dp);
    dp_destroy(NULL);
}

static void
test_patch_and_errors(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    assert_int_equal(dp_add_bridge(dp, "br1"), 0);
    add(dp, "br0", "p0", "patch", NULL, -1, "p1", 5);
    add(dp, "br1", "p1", "patch", NULL, -1, "p0", 1);
    add(dp, "br1", "b1", "dummy", "access", 10, NULL, 2);
    struct dp_port_config cfg = { .type = "dummy" };
    assert_int_equal(dp_add_port(dp, "br1", "b1", &cfg, NULL), EEXIST);
    assert_int_equal(dp_add_port(dp, "brX", "q", &cfg, NULL), ENOENT);
    cfg.type = "bogus";
    assert_int_equal(dp_add_port(dp, "br0", "q", &cfg, NULL), EAFNOSUPPORT);
    cfg.type = "system";
    int error = dp_add_port(dp, "br0", "ldpnonexist0", &cfg, NULL);
    assert_true(error == ENODEV || error == EPERM);   /* EPERM: no root. */

    uint8_t f[128], out[2048];
    size_t n = frame(f, 0xB, 0xA, -1);
    inject(dp, "a1", f, n);
    dp_poll_once(dp, 0);        /* br0: a1 -> p0 (tagged 10) ... */
    dp_poll_once(dp, 0);        /* br1: p1 -> b1 (access 10). */
    assert_int_equal(pop(dp, "b1", out), 60);
    assert_memory_equal(out, f, 60);
    assert_string_equal(dp_port_patch_peer(dp_find_port(dp, "p0")), "p1");
    assert_int_equal(dp_del_bridge(dp, "br1"), 0);
    assert_int_equal(dp_del_bridge(dp, "br1"), ENOENT);
    assert_null(dp_port_patch_peer(dp_find_port(dp, "p0")));
    uint16_t fv[] = { 10 };
    assert_int_equal(dp_bridge_set_flood_vlans(dp, "br0", fv, 1), 0);
    uint16_t bad[] = { 5000 };
    assert_int_equal(dp_bridge_set_flood_vlans(dp, "br0", bad, 1), EINVAL);
    assert_int_equal(dp_bridge_set_mac_table(dp, "br0", 100, 60), 0);
    assert_int_equal(dp_bridge_set_mac_table(dp, "x", 100, 60), ENOENT);
    dp_destroy(dp);
}

/* Requested port numbers (ofport_request), the trace view and the
 * counters coverage/show reads, over the same synchronous datapath. */
static void
test_port_numbers_trace_counters(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    struct dp_port_config cfg = { .type = "dummy", .port_no = 9 };
    uint32_t no = 0;
    assert_int_equal(dp_add_port(dp, "br0", "r9", &cfg, &no), 0);
    assert_int_equal(no, 9);
    assert_int_equal(dp_add_port(dp, "br0", "x9", &cfg, &no), EBUSY);
    assert_null(dp_find_port(dp, "x9"));
    cfg.port_no = 3;                            /* t3 holds it */
    assert_int_equal(dp_add_port(dp, "br0", "x3", &cfg, &no), EBUSY);
    cfg.port_no = DP_MAX_PORT_NO + 1;
    assert_int_equal(dp_add_port(dp, "br0", "xx", &cfg, &no), EINVAL);
    cfg.port_no = 0;                            /* any: smallest free */
    assert_int_equal(dp_add_port(dp, "br0", "a5", &cfg, &no), 0);
    assert_int_equal(no, 5);
    assert_int_equal(dp_del_port(dp, "r9"), 0);
    cfg.port_no = 9;
    assert_int_equal(dp_add_port(dp, "br0", "r9", &cfg, &no), 0);
    assert_int_equal(no, 9);

    /* Trace a broadcast from a1 (access 10): flood; a2 untagged, t3
     * tagged 10, a4 (VLAN 20) not carried.  Nothing is learned. */
    uint8_t f[128];
    size_t n = frame(f, 0xff, 0xA, -1);
    memset(f, 0xff, 6);
    struct dp_trace_result r;
    assert_int_equal(dp_trace(dp, "br0", "a1", f, n, &r), 0);
    assert_int_equal(r.in_port_no, 1);
    assert_int_equal(r.dec.out, FWD_OUT_FLOOD);
    assert_int_equal(r.trace.lookup, FWD_LOOKUP_MULTICAST);
    assert_int_equal(r.n_outs, 5);              /* a2 t3 a4 a5 r9 */
    assert_string_equal(r.outs[0].name, "a2");
    assert_true(r.outs[0].carried);
    assert_int_equal(r.outs[0].frame.n_tags, 0);
    assert_string_equal(r.outs[1].name, "t3");
    assert_int_equal(r.outs[1].frame.n_tags, 1);
    assert_int_equal(r.outs[1].frame.tags[0].tci, 10);
    assert_string_equal(r.outs[2].name, "a4");
    assert_false(r.outs[2].carried);
    dp_trace_result_destroy(&r);
    assert_int_equal(dp_trace(dp, "br0", "3", f, n, &r), 0);
    assert_string_equal(r.in_name, "t3");
    dp_trace_result_destroy(&r);
    assert_int_equal(dp_trace(dp, "br0", "nope", f, n, &r), ENODEV);
    dp_trace_result_destroy(&r);
    assert_int_equal(dp_trace(dp, "brX", "a1", f, n, &r), ENOENT);
    dp_trace_result_destroy(&r);

    struct dp_counters c;
    dp_get_counters(dp, &c);
    assert_int_equal(c.n_flood + c.n_learned, 0);
    inject(dp, "a1", f, n);
    n = frame(f, 0xB, 0xA, 20);                 /* tagged on access */
    inject(dp, "a1", f, n);
    dp_poll_once(dp, 0);
    dp_get_counters(dp, &c);
    assert_int_equal(c.n_flood, 1);
    assert_int_equal(c.n_learned, 1);
    assert_int_equal(c.n_vlan_drops[VLAN_DROP_TAGGED_ON_ACCESS], 1);
    assert_int_equal(dp_del_bridge(dp, "br0"), 0);
    dp_get_counters(dp, &c);                    /* kept after deletion */
    assert_int_equal(c.n_flood, 1);
    dp_destroy(dp);
}

static uint64_t
publish_bytes(struct dp *dp)
{
    struct dp_counters c;
    dp_get_counters(dp, &c);
    return c.n_publish_bytes;
}

/* What one configuration change costs the control plane, counted in bytes
 * copied into the forwarding snapshots (no timing): a few elements per
 * snapshot, whatever the number of ports of the bridge (it was tens of
 * bytes per port, and ~1 kB per port when every port's VLAN bitmaps were
 * copied).  And the local port, number 65534 (OFPP_LOCAL), which must not
 * grow the port-number index. */
static void
test_change_cost_and_local_port(void **state)
{
    (void) state;
    enum { N = 1000 };
    struct dp *dp = make_dp();
    struct dp_port_config cfg = { .type = "dummy", .port_no = DP_PORT_LOCAL };
    struct vlan_port_config untagged = { .tag = -1 };
    assert_int_equal(vlan_port_configure(&cfg.vlan, &untagged), 0);
    uint32_t no = 0;
    assert_int_equal(dp_add_port(dp, "br0", "br0", &cfg, &no), 0);
    assert_int_equal(no, DP_PORT_LOCAL);
    assert_int_equal(dp_add_port(dp, "br0", "l2", &cfg, &no), EBUSY);
    cfg.port_no = 0;
    char name[16];
    for (int i = 0; i < N; i++) {
        snprintf(name, sizeof name, "p%d", i);
        assert_int_equal(dp_add_port(dp, "br0", name, &cfg, &no), 0);
        assert_int_equal(no, (uint32_t) i + 5);     /* After a1 a2 t3 a4. */
    }
    /* Two snapshots, each: the port (24 bytes), its index entries (4 each)
     * and its rxq (16), for up to two ports (a removal moves one). */
    uint64_t limit = 2 * 2 * (24 + 2 * 4 + 16);
    uint64_t b0 = publish_bytes(dp);
    assert_int_equal(dp_add_port(dp, "br0", "new", &cfg, &no), 0);
    uint64_t b1 = publish_bytes(dp);
    assert_true(b1 - b0 <= limit);
    assert_true(b1 - b0 >= 2 * 24);                 /* It is counted. */
    struct vlan_port v;
    struct vlan_port_config trunk = { .tag = -1 };
    assert_int_equal(vlan_port_configure(&v, &trunk), 0);
    assert_int_equal(dp_set_port_vlan(dp, "p7", &v), 0);
    uint64_t b2 = publish_bytes(dp);
    assert_true(b2 - b1 <= limit);
    assert_int_equal(dp_del_port(dp, "p3"), 0);     /* Number 8 is free. */
    assert_true(publish_bytes(dp) - b2 <= limit);
    assert_int_equal(dp_add_port(dp, "br0", "again", &cfg, &no), 0);
    assert_int_equal(no, 8);

    /* The local port forwards and is learned like any other: a broadcast
     * from it floods, and its MAC is then reached by unicast alone. */
    uint8_t f[128], out[2048];
    size_t n = frame(f, 0xff, 0x1C, -1);
    memset(f, 0xff, 6);
    inject(dp, "br0", f, n);
    dp_poll_once(dp, 0);
    assert_int_equal(pop(dp, "p0", out), n);
    assert_int_equal(pop(dp, "p1", out), n);
    n = frame(f, 0x1C, 0x2D, -1);
    inject(dp, "p0", f, n);
    dp_poll_once(dp, 0);
    assert_int_equal(pop(dp, "br0", out), n);
    assert_int_equal(pop(dp, "p1", out), 0);
    struct ds ds = DS_EMPTY_INITIALIZER;
    assert_int_equal(dp_fdb_show(dp, "br0", 0, &ds), 0);
    assert_non_null(strstr(ds_cstr(&ds), "LOCAL"));
    ds_destroy(&ds);
    struct dp_trace_result r;
    assert_int_equal(dp_trace(dp, "br0", "65534", f, n, &r), 0);
    assert_string_equal(r.in_name, "br0");
    dp_trace_result_destroy(&r);
    dp_destroy(dp);
}

static size_t
wait_pop(struct dp *dp, const char *port, uint8_t *buf)
{
    for (int i = 0; i < 2000; i++) {
        size_t n = pop(dp, port, buf);
        if (n) {
            return n;
        }
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
    return 0;
}

static void
test_threads(void **state)
{
    (void) state;
    struct dp *dp = make_dp();
    assert_int_equal(dp_start(dp, 0), EINVAL);
    assert_int_equal(dp_start(dp, 2), 0);
    assert_int_equal(dp_start(dp, 2), EBUSY);
    assert_int_equal(dp_poll_once(dp, 0), 0);
    uint8_t f[128], out[2048];
    for (int round = 0; round < 20; round++) {
        size_t n = frame(f, 0xB, 0xA, -1);
        inject(dp, "a1", f, n);
        assert_int_equal(wait_pop(dp, "a2", out), 60);
        assert_int_equal(wait_pop(dp, "t3", out), 64);
        /* Reconfigure while forwarding: add and remove a port. */
        char name[16];
        snprintf(name, sizeof name, "x%d", round);
        struct dp_port_config cfg = { .type = "dummy" };
        struct vlan_port_config vc = { .tag = 10 };
        vlan_port_configure(&cfg.vlan, &vc);
        assert_int_equal(dp_add_port(dp, "br0", name, &cfg, NULL), 0);
        inject(dp, "a2", f, n);         /* Dst 0xB: learned on a2: drop. */
        n = frame(f, 0xE, 0xA, -1);
        inject(dp, "a1", f, n);
        assert_int_equal(wait_pop(dp, name, out), 60);
        assert_int_equal(dp_del_port(dp, name), 0);
        while (pop(dp, "a2", out) || pop(dp, "t3", out)) {
            continue;
        }
    }
    dp_destroy(dp);
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sync_forwarding),
        cmocka_unit_test(test_patch_and_errors),
        cmocka_unit_test(test_port_numbers_trace_counters),
        cmocka_unit_test(test_threads),
        cmocka_unit_test(test_change_cost_and_local_port),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
