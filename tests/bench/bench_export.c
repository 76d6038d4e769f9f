/* Benchmark of the evidence export (docs/EVIDENCE.md), beside its floor:
 * reading and decrypting the same records. Prints figures; asserts nothing
 * about time.
 *
 *   bench_export [RECORDS [SCREENSHOTS]]   (default 10000 and 100)
 *
 * Builds a log holding one case of RECORDS notices of 2 KiB (one account on
 * one platform), SCREENSHOTS of them with a 64 KiB PNG attached, then
 * times:
 * - reading every record of the case and its attachments (bt_vault_read):
 *   the floor, what any export must do;
 * - the whole export as HTML and as JSON (bt_export_case);
 * - the export fetched page by page, as the extension does (bt_export_page
 *   for each BT_PAGE_BYTES piece). */
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/capture.h"
#include "bantrail/cases.h"
#include "bantrail/export.h"
#include "bench.h"
#include "test_log.h"

#define NOTICE_BYTES 2048
#define SHOT_BYTES (64 * 1024)

static void build(bt_vault *v, int records, int shots)
{
    bt_capture *c = NULL;
    if (bt_capture_new(&c, v) != BT_OK) abort();
    char text[NOTICE_BYTES + 1];
    unsigned char png[SHOT_BYTES] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    randombytes_buf(png + 8, sizeof png - 8);
    size_t b64_cap = sodium_base64_ENCODED_LEN(sizeof png, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_cap);
    if (b64 == NULL) abort();
    sodium_bin2base64(b64, b64_cap, png, sizeof png, sodium_base64_VARIANT_ORIGINAL);
    int every = shots > 0 ? records / shots : 0;
    for (int i = 0; i < records; i++) {
        int n = snprintf(text, sizeof text,
                         "Your account @bench_person has been suspended. Notice %d. We suspended your account "
                         "because it doesn't follow our Community Standards. You have 30 days left to disagree. ",
                         i);
        for (; n < NOTICE_BYTES; n++) text[n] = "lorem ipsum dolor sit amet "[n % 27];
        text[NOTICE_BYTES] = '\0';
        bt_capture_in in = {.url = "https://www.instagram.com/accounts/suspended/", .text = text, .lang = "en"};
        bt_capture_out out;
        const char *why = NULL;
        if (bt_capture_notice(c, &in, 1700000000 + (int64_t)i * 60, &out, &why) != BT_OK || !out.stored) abort();
        if (every > 0 && i % every == 0) {
            int64_t id;
            size_t size;
            if (bt_capture_attach(c, out.record, "image/png", b64, b64_cap - 1, 1700000000 + (int64_t)i * 60, &id,
                                  &size, &why) != BT_OK)
                abort();
        }
    }
    free(b64);
    bt_capture_free(c);
}

int main(int argc, char **argv)
{
    int records = argc > 1 ? atoi(argv[1]) : 10000, shots = argc > 2 ? atoi(argv[2]) : 100;
    if (records < 1 || shots < 0 || shots > records || sodium_init() < 0) return 2;
    bt_vault *v = test_fresh_log();
    double t0 = now_us();
    build(v, records, shots);
    int64_t entries = test_entries(v);
    printf("log: %d notices of %d B, %d screenshots of %d KiB, %lld entries, built in %.1f s\n", records,
           NOTICE_BYTES, shots, SHOT_BYTES / 1024, (long long)entries, (now_us() - t0) / 1e6);

    bt_cases *cs = NULL;
    if (bt_cases_load(&cs, v, 0, 1800000000, NULL) != BT_OK) abort();
    const bt_case *k = bt_cases_find(cs, 1);
    if (k == NULL || k->n_events != (size_t)records) {
        fprintf(stderr, "bench_export: expected one case of %d records\n", records);
        return 1;
    }

    /* the floor: every record and attachment of the case, read and decrypted */
    t0 = now_us();
    size_t bytes = 0;
    for (size_t i = 0; i < k->n_events; i++) {
        const bt_case_event *e = &k->events[i];
        for (size_t a = 0; a <= e->n_attachments; a++) {
            char *head = NULL;
            unsigned char *body = NULL;
            size_t hn = 0, bn = 0;
            if (bt_vault_read(v, a == 0 ? e->record : e->attachments[a - 1], &head, &hn, &body, &bn) != BT_OK) abort();
            bytes += hn + bn;
            bt_vault_free(head);
            bt_vault_free(body);
        }
    }
    double floor_s = (now_us() - t0) / 1e6;
    bt_cases_free(cs);
    printf("\n%-34s %10s %12s %10s %8s\n", "", "seconds", "records/s", "MB out", "x floor");
    printf("%-34s %10.3f %12.0f %10.1f %8s\n", "read every record (floor)", floor_s, records / floor_s, (double)bytes / 1e6,
           "1.0");

    for (int f = 0; f < 2; f++) {
        bt_export_format fmt = f == 0 ? BT_EXPORT_HTML : BT_EXPORT_JSON;
        char *doc = NULL;
        size_t len = 0;
        int64_t upto = 0;
        t0 = now_us();
        if (bt_export_case(&doc, &len, v, 1, fmt, &upto, 1800000000, NULL) != BT_OK) abort();
        double s = (now_us() - t0) / 1e6;
        char name[64];
        snprintf(name, sizeof name, "export as %s", bt_export_format_name(fmt));
        printf("%-34s %10.3f %12.0f %10.1f %8.1f\n", name, s, records / s, (double)len / 1e6, s / floor_s);
        bt_export_free(doc, len);

        /* page by page, as the extension fetches it */
        t0 = now_us();
        int64_t offset = 0;
        size_t pages = 0, got = 0;
        upto = 0;
        bt_export_piece p = {0};
        for (;;) {
            if (bt_export_page(&p, v, 1, fmt, upto, 1800000000, NULL, offset) != BT_OK) abort();
            upto = p.upto;
            got += p.n;
            pages++;
            offset = p.offset + (int64_t)p.n;
            if ((size_t)offset >= p.len) break;
        }
        bt_export_piece_free(&p);
        s = (now_us() - t0) / 1e6;
        snprintf(name, sizeof name, "  in %zu pages (the extension)", pages);
        printf("%-34s %10.3f %12.0f %10.1f %8.1f\n", name, s, records / s, (double)got / 1e6, s / floor_s);
    }
    bt_vault_close(v);
    return 0;
}
