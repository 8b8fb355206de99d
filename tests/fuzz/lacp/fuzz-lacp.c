/* Fuzz target over LACP (datapath/lacp.h), which parses slow-protocols
 * frames from the wire.
 *
 * Input layout: byte 0 configures the bond (bit 0 active, bit 1 fast,
 * bit 2 fallback-ab); then records of [member (bit 0) and time step (the
 * other bits, in 100 ms)] [length] [that many payload bytes], each given
 * to lacp_process() as the bytes after a slow-protocols Ethernet header,
 * followed by lacp_run() at the advanced time.  Checked: an accepted
 * LACPDU composes back to the same actor and partner, PDUs sent are
 * parsed back as LACPDUs, and the appctl text is built without reading
 * out of bounds (the sanitizers catch that). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ds.h"
#include "lacp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
check_sent(void *aux, size_t idx, const uint8_t *pdu)
{
    struct lacp_pdu parsed;
    (void) aux;
    if (idx > 1 || lacp_pdu_parse(pdu, LACP_PDU_SIZE, &parsed)
        || parsed.type != LACP_PDU_LACP) {
        abort();
    }
}

static void
check_round_trip(const uint8_t *payload, size_t size)
{
    struct lacp_pdu a, b;
    if (lacp_pdu_parse(payload, size, &a) || a.type != LACP_PDU_LACP) {
        return;
    }
    uint8_t again[LACP_PDU_SIZE];
    lacp_pdu_compose(&a.actor, &a.partner, again);
    if (lacp_pdu_parse(again, sizeof again, &b)
        || memcmp(&a.actor, &b.actor, sizeof a.actor)
        || memcmp(&a.partner, &b.partner, sizeof a.partner)) {
        abort();
    }
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!size) {
        return 0;
    }
    struct lacp_settings s = {
        .name = "bond0",
        .sys_id = { 0x02, 0, 0, 0, 0, 0x01 },
        .sys_priority = 65534,
        .active = data[0] & 1,
        .fast = data[0] & 2,
        .fallback_ab = data[0] & 4,
    };
    struct lacp_member_settings ms[2] = {
        { .name = "m0", .port_id = 1, .port_priority = 65535 },
        { .name = "m1", .port_id = 2, .port_priority = 65535 },
    };
    long long now = 1000;
    struct lacp *lacp = lacp_create(&s, ms, 2, now);
    size_t ofs = 1;
    while (ofs + 2 <= size) {
        size_t member = data[ofs] & 1, len = data[ofs + 1];
        now += (data[ofs] >> 1) * 100LL;
        ofs += 2;
        len = len < size - ofs ? len : size - ofs;
        /* A private copy, so that reads past LEN are caught. */
        uint8_t *payload = malloc(len ? len : 1);
        memcpy(payload, data + ofs, len);
        uint8_t reply[LACP_PDU_SIZE];
        if (lacp_process(lacp, member, payload, len, now, reply)
            == LACP_PDU_MARKER_REQUEST && reply[2] != 2) {
            abort();
        }
        check_round_trip(payload, len);
        free(payload);
        ofs += len;
        lacp_run(lacp, now, check_sent, NULL);
        (void) lacp_may_enable(lacp, member);
        (void) lacp_is_current(lacp, member);
    }
    struct ds ds = DS_EMPTY_INITIALIZER;
    lacp_format_show(lacp, &ds);
    lacp_format_stats(lacp, &ds);
    ds_destroy(&ds);
    lacp_destroy(lacp);
    return 0;
}
