/* libFuzzer target: the collector's open-and-validate path (bt_report_open)
 * and the schema behind it. The first byte chooses how the rest is read:
 *   even: the rest is a POST body, opened with a fixed union key;
 *   odd:  the rest is a report's plaintext JSON, sealed here (difficulty 0)
 *         so that the fuzzer reaches the parser through a real sealed box;
 *   0xFF: the rest is a union entry (bt_report_union_parse).
 * Beside crashes it checks the module's promises:
 *   - bt_report_parse accepts => its rendering parses back to the same report;
 *   - bt_report_open accepts the sealed JSON <=> the JSON is exactly the
 *     canonical rendering of what bt_report_parse accepts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/report.h"
#include "report_forge.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static unsigned char pk[32], sk[32];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static int ready;
    static char wire[32 * BT_REPORT_BLOCK], canon[BT_REPORT_JSON_MAX + 1];
    bt_report r, back, again;
    size_t n0 = 0;
    if (!ready) {
        unsigned char seed[32] = {0}; /* fixed: seeds in tests/fuzz/report are sealed to it */
        if (sodium_init() < 0) abort();
        crypto_box_seed_keypair(pk, sk, seed);
        ready = 1;
    }
    if (size == 0) return 0;
    const char *text = (const char *)data + 1;
    size_t len = size - 1;
    if (data[0] == 0xFF) { /* a union entry, as the host imports one */
        bt_union u;
        char entry_text[4096];
        if (bt_report_union_parse(&u, text, len, NULL) == BT_OK) {
            bt_union again_u;
            if (bt_report_union_render(entry_text, sizeof entry_text, &n0, &u) != BT_OK ||
                bt_report_union_parse(&again_u, entry_text, n0, NULL) != BT_OK || memcmp(&again_u, &u, sizeof u) != 0)
                abort();
        }
        return 0;
    }
    if ((data[0] & 1) == 0) {
        if (bt_report_open(&r, NULL, text, len, pk, sk, 0, NULL) == BT_OK) {
            size_t n = 0;
            if (bt_report_check(&r, NULL) != BT_OK || bt_report_render(canon, sizeof canon, &n, &r) != BT_OK) abort();
        }
        return 0;
    }
    if (len > BT_REPORT_JSON_MAX + 16) return 0;
    int parsed = bt_report_parse(&r, text, len, NULL) == BT_OK;
    size_t n = 0;
    int canonical = 0;
    if (parsed) {
        if (bt_report_render(canon, sizeof canon, &n, &r) != BT_OK) abort();
        if (bt_report_parse(&again, canon, n, NULL) != BT_OK || memcmp(&again, &r, sizeof r) != 0) abort();
        canonical = n == len && memcmp(canon, text, n) == 0;
    }
    forge_opts o = {0};
    unsigned char id[16] = {0};
    if (parsed) memcpy(id, r.id, 16);
    size_t wlen = forge_wire(wire, sizeof wire, text, len, pk, id, &o);
    if (wlen == 0) return 0;
    int opened = bt_report_open(&back, NULL, wire, wlen, pk, sk, 0, NULL) == BT_OK;
    if (opened != canonical) abort();
    if (opened && memcmp(&back, &r, sizeof r) != 0) abort();
    return 0;
}
