#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <string.h>

#include "packet.h"

static size_t
build(uint8_t *buf, const uint16_t *tpids, const uint16_t *tcis, int n,
      uint16_t type)
{
    memset(buf, 0xaa, 12);
    size_t ofs = 12;
    for (int i = 0; i < n; i++) {
        buf[ofs++] = (uint8_t) (tpids[i] >> 8);
        buf[ofs++] = (uint8_t) tpids[i];
        buf[ofs++] = (uint8_t) (tcis[i] >> 8);
        buf[ofs++] = (uint8_t) tcis[i];
    }
    buf[ofs++] = (uint8_t) (type >> 8);
    buf[ofs++] = (uint8_t) type;
    memset(buf + ofs, 0, 46);
    return ofs + 46;
}

static void
test_untagged(void **state)
{
    (void) state;
    uint8_t f[128];
    size_t n = build(f, NULL, NULL, 0, 0x0800);
    struct packet_info info;
    assert_int_equal(packet_parse(f, n, &info), PACKET_OK);
    assert_int_equal(info.n_tags, 0);
    assert_int_equal(info.eth_type, 0x0800);
    assert_int_equal(info.l2_size, 14);
    /* Exactly 14 bytes is a valid (empty) frame. */
    assert_int_equal(packet_parse(f, 14, &info), PACKET_OK);
}

static void
test_tags(void **state)
{
    (void) state;
    uint8_t f[128];
    struct packet_info info;
    uint16_t tp1[] = { 0x8100 }, tc1[] = { (3 << 13) | 100 };
    size_t n = build(f, tp1, tc1, 1, 0x86dd);
    assert_int_equal(packet_parse(f, n, &info), PACKET_OK);
    assert_int_equal(info.n_tags, 1);
    assert_int_equal(info.tags[0].tpid, 0x8100);
    assert_int_equal(packet_tci_vid(info.tags[0].tci), 100);
    assert_int_equal(packet_tci_pcp(info.tags[0].tci), 3);
    assert_int_equal(info.eth_type, 0x86dd);
    assert_int_equal(info.l2_size, 18);

    uint16_t tp2[] = { 0x88a8, 0x8100 }, tc2[] = { 200, 7 };
    n = build(f, tp2, tc2, 2, 0x0806);
    assert_int_equal(packet_parse(f, n, &info), PACKET_OK);
    assert_int_equal(info.n_tags, 2);
    assert_int_equal(info.tags[0].tpid, 0x88a8);
    assert_int_equal(packet_tci_vid(info.tags[0].tci), 200);
    assert_int_equal(packet_tci_vid(info.tags[1].tci), 7);
    assert_int_equal(info.eth_type, 0x0806);
    assert_int_equal(info.l2_size, 22);

    /* Priority tag: VID 0 is still a tag. */
    uint16_t tcp[] = { 5 << 13 };
    n = build(f, tp1, tcp, 1, 0x0800);
    assert_int_equal(packet_parse(f, n, &info), PACKET_OK);
    assert_int_equal(info.n_tags, 1);
    assert_int_equal(packet_tci_vid(info.tags[0].tci), 0);

    /* A third tag is payload: its TPID is the ethertype. */
    uint16_t tp3[] = { 0x8100, 0x8100, 0x8100 }, tc3[] = { 1, 2, 3 };
    n = build(f, tp3, tc3, 3, 0x0800);
    assert_int_equal(packet_parse(f, n, &info), PACKET_OK);
    assert_int_equal(info.n_tags, 2);
    assert_int_equal(info.eth_type, 0x8100);
}

static void
test_errors(void **state)
{
    (void) state;
    uint8_t f[128];
    struct packet_info info;
    size_t n = build(f, NULL, NULL, 0, 0x0800);
    for (size_t len = 0; len < 14; len++) {
        assert_int_equal(packet_parse(f, len, &info), PACKET_ERR_RUNT);
    }
    (void) n;
    uint16_t tp2[] = { 0x8100, 0x88a8 }, tc2[] = { 1, 2 };
    build(f, tp2, tc2, 2, 0x0800);
    for (size_t len = 14; len < 22; len++) {
        assert_int_equal(packet_parse(f, len, &info), PACKET_ERR_TRUNC_TAG);
    }
    assert_int_equal(packet_parse(f, 22, &info), PACKET_OK);
    assert_string_equal(packet_error_name(PACKET_ERR_RUNT), "runt");
    assert_string_equal(packet_error_name(PACKET_ERR_TRUNC_TAG),
                        "truncated-vlan-tag");
}

static void
test_mac(void **state)
{
    (void) state;
    const uint8_t mac[6] = { 0x01, 0x23, 0x45, 0x67, 0x89, 0xab };
    assert_true(packet_mac_to_u64(mac) == 0x0123456789abULL);
    assert_true(packet_mac_is_multicast(mac));
    const uint8_t uc[6] = { 0x02, 0, 0, 0, 0, 1 };
    assert_false(packet_mac_is_multicast(uc));
}

int
main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_untagged),
        cmocka_unit_test(test_tags),
        cmocka_unit_test(test_errors),
        cmocka_unit_test(test_mac),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
