/* Fuzz target over the frame parsers of netdev-dummy/receive (switchd's
 * dummy-frame.c): hex frames and OVS datapath flows.
 *
 * Input layout: byte 0 selects the parser (bit 0: hex, else flow) and, for
 * flows, whether byte 1 asks for --len (bit 1: --len 60 + 4 * byte 1); the
 * rest is the argument text.  Checks what callers rely on: a frame comes
 * back exactly when no error does, its size is within the limits (exactly
 * --len when given), and a hex frame printed back as hex parses to the
 * same bytes. */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dummy-frame.h"

static void
check_hex_round_trip(const uint8_t *frame, size_t size)
{
    char *hex = malloc(2 * size + 1);
    for (size_t i = 0; i < size; i++) {
        snprintf(hex + 2 * i, 3, "%02x", frame[i]);
    }
    uint8_t *again;
    size_t again_size;
    char *error = dummy_frame_from_hex(hex, &again, &again_size);
    if (error || again_size != size || memcmp(again, frame, size)) {
        abort();
    }
    free(again);
    free(hex);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2) {
        return 0;
    }
    bool hex = data[0] & 1;
    size_t len = !hex && data[0] & 2 ? 60 + 4 * (size_t) data[1] : 0;
    char *text = malloc(size - 1);
    memcpy(text, data + 2, size - 2);
    text[size - 2] = '\0';

    uint8_t *frame = NULL;
    size_t frame_size = 0;
    char *error = (hex ? dummy_frame_from_hex(text, &frame, &frame_size)
                   : dummy_frame_from_flow(text, len, &frame, &frame_size));
    if (!error == !frame) {
        abort();
    }
    if (frame) {
        if (frame_size < DUMMY_FRAME_MIN || frame_size > DUMMY_FRAME_MAX
            || (len && frame_size != len)
            || (!hex && frame_size < DUMMY_FRAME_ETH_MIN)) {
            abort();
        }
        check_hex_round_trip(frame, frame_size);
    } else if (!error[0]) {
        abort();
    }
    free(frame);
    free(error);
    free(text);
    return 0;
}
