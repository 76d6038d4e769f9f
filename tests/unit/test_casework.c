/* The core's case work, called directly over a real log (SQLite in a
 * temporary folder, libsodium): events checked before they are written,
 * merging and splitting cases, an export fetched in pieces, and the union
 * outbox (pinning, building, queueing only what was previewed, marking). */
#include <sodium.h>

#include "bantrail/capture.h"
#include "bantrail/cases.h"
#include "bantrail/export.h"
#include "bantrail/outbox.h"
#include "bantrail/records.h"
#include "check.h"
#include "test_log.h"

#define PASS "correct horse battery"
#define NOW ((int64_t)1764000000)


/* Adds event (params as JSON text) at NOW; returns the error, sets *id, *case_id, *why. */
static bt_err add_event(bt_vault *v, const char *json, int64_t *id, int64_t *case_id, const char **why)
{
    bt_event_in in;
    int64_t at = 0;
    json_object *o = json_tokener_parse(json);
    bt_err err = bt_event_in_parse(&in, o, why);
    if (err == BT_OK) err = bt_event_add(v, &in, NOW, id, &at, case_id, why);
    json_object_put(o);
    return err;
}

/* ---- events ---- */

TEST(a_valid_event_is_written_and_joins_its_case)
{
    bt_vault *v = test_fresh_log();
    int64_t id = 0, k = 0, id2 = 0, k2 = 0;
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"instagram\",\"at\":1763990000}", &id, &k,
                       NULL), BT_OK);
    CHECK(id == 1 && k == 1);
    CHECK_EQ(add_event(v, "{\"event\":\"decision\",\"outcome\":\"rejected\",\"case\":1,\"at\":\"2025-11-24T12:00Z\"}",
                       &id2, &k2, NULL), BT_OK);
    CHECK(id2 == 2 && k2 == 1);
    json_object *head = NULL;
    CHECK_EQ(bt_record_read(v, 2, &head), BT_OK);
    const char *platform = json_object_get_string(json_object_object_get(head, "platform"));
    CHECK(platform != NULL && !strcmp(platform, "instagram")); /* taken from the case */
    json_object_put(head);
    bt_vault_close(v);
}

TEST(an_event_that_fails_a_check_is_refused_with_why_and_not_written)
{
    bt_vault *v = test_fresh_log();
    int64_t id = 0, k = 0;
    const char *why = NULL;
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"outcome\":\"rejected\",\"platform\":\"x\",\"at\":1}", &id,
                       &k, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && !strncmp(why, "outcome", 7));
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"x\",\"at\":1864000000}", &id, &k, &why),
             BT_ERR_BAD_PARAMS);
    CHECK(!strncmp(why, "at ", 3)); /* in the future */
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"Not OK\",\"at\":1}", &id, &k, &why),
             BT_ERR_BAD_PARAMS);
    CHECK(!strcmp(why, "platform"));
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"at\":1}", &id, &k, &why), BT_ERR_BAD_PARAMS);
    CHECK(!strcmp(why, "platform (or case)"));
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"case\":7,\"at\":1}", &id, &k, &why), BT_ERR_NOT_FOUND);
    CHECK_EQ(test_entries(v), 0);
    /* naming a case needs the log readable */
    CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    bt_vault_lock(v);
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"case\":1,\"at\":1}", &id, &k, &why), BT_ERR_LOCKED);
    /* while locked an event without a case is still written; its case cannot be told */
    CHECK_EQ(add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"x\",\"at\":1}", &id, &k, &why), BT_OK);
    CHECK(id == 1 && k == 0);
    bt_vault_close(v);
}

/* ---- merge and split ---- */

TEST(two_cases_merge_and_a_case_splits_at_a_later_record)
{
    bt_vault *v = test_fresh_log();
    int64_t id, k, entry = 0, from = 0;
    add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"instagram\",\"at\":1763990000}", &id, &k, NULL);
    add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"tiktok\",\"at\":1763990000}", &id, &k, NULL);
    CHECK_EQ(bt_case_merge(v, 1, 2, NOW, &entry, NULL), BT_OK);
    CHECK_EQ(entry, 3);
    bt_cases *cs = NULL;
    CHECK_EQ(bt_cases_load_readable(&cs, v, NOW), BT_OK);
    CHECK(bt_cases_count(cs) == 1 && bt_cases_of_record(cs, 2)->id == 1);
    bt_cases_free(cs);
    CHECK_EQ(bt_case_split(v, 2, NOW, &from, &entry, NULL), BT_OK);
    CHECK(from == 1 && entry == 4);
    CHECK_EQ(bt_cases_load_readable(&cs, v, NOW), BT_OK);
    CHECK_EQ(bt_cases_count(cs), 2);
    bt_cases_free(cs);
    bt_vault_close(v);
}

TEST(a_merge_or_split_naming_no_case_is_refused_and_not_written)
{
    bt_vault *v = test_fresh_log();
    int64_t id, k, entry = 0, from = 0;
    const char *why = NULL;
    add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"instagram\",\"at\":1763990000}", &id, &k, NULL);
    CHECK_EQ(bt_case_merge(v, 1, 1, NOW, &entry, &why), BT_ERR_BAD_PARAMS);
    CHECK_EQ(bt_case_merge(v, 1, 9, NOW, &entry, &why), BT_ERR_NOT_FOUND);
    CHECK_EQ(bt_case_split(v, 1, NOW, &from, &entry, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && strstr(why, "first of its case") != NULL);
    CHECK_EQ(bt_case_split(v, 9, NOW, &from, &entry, &why), BT_ERR_NOT_FOUND);
    CHECK_EQ(test_entries(v), 1);
    bt_vault_close(v);
}

/* ---- the export in pieces ---- */

TEST(pieces_cover_a_document_and_an_offset_past_the_end_gives_none)
{
    int64_t off = 0;
    CHECK_EQ(bt_page(2 * BT_PAGE_BYTES + 1, &off), BT_PAGE_BYTES);
    off = (int64_t)(2 * BT_PAGE_BYTES);
    CHECK_EQ(bt_page(2 * BT_PAGE_BYTES + 1, &off), 1);
    off = 50;
    CHECK_EQ(bt_page(10, &off), 0);
    CHECK_EQ(off, 10);
}

TEST(an_export_piece_carries_the_whole_documents_digest_and_an_unknown_case_none)
{
    bt_vault *v = test_fresh_log();
    int64_t id, k;
    add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"instagram\",\"at\":1763990000}", &id, &k, NULL);
    bt_export_piece p = {0}, q = {0};
    unsigned char digest[BT_HASH_BYTES];
    CHECK_EQ(bt_export_page(&p, v, 1, BT_EXPORT_JSON, 0, NOW, NULL, 10), BT_OK);
    crypto_generichash(digest, sizeof digest, (const unsigned char *)p.doc, p.len, NULL, 0);
    CHECK(!memcmp(digest, p.digest, sizeof digest));
    CHECK(p.upto == 1 && p.offset == 10 && p.n == p.len - 10);
    CHECK(!strcmp(p.filename, "bantrail-case-1-2025-11-24.json")); /* dated: the day generated, UTC */
    /* the same (upto, generated_at): the same document */
    CHECK_EQ(bt_export_page(&q, v, 1, BT_EXPORT_JSON, p.upto, NOW, NULL, 0), BT_OK);
    CHECK(q.len == p.len && !memcmp(q.doc, p.doc, p.len));
    bt_export_piece_free(&q);
    /* the next piece of the same export is cut from the document p keeps
     * (not built again), even after the log grew; another generated_at or
     * format is a new build */
    const char *kept = p.doc;
    add_event(v, "{\"event\":\"appeal_submitted\",\"platform\":\"instagram\",\"at\":1763990100}", &id, &k, NULL);
    CHECK_EQ(bt_export_page(&p, v, 1, BT_EXPORT_JSON, 1, NOW, NULL, 0), BT_OK);
    CHECK(p.doc == kept && p.offset == 0 && p.n == p.len && !memcmp(p.digest, digest, sizeof digest));
    CHECK_EQ(bt_export_page(&p, v, 1, BT_EXPORT_JSON, 1, NOW + 1, NULL, 0), BT_OK);
    CHECK(memcmp(p.digest, digest, sizeof digest) != 0);
    CHECK_EQ(bt_export_page(&p, v, 1, BT_EXPORT_HTML, 1, NOW + 1, NULL, 0), BT_OK);
    CHECK(!strcmp(p.filename, "bantrail-case-1-2025-11-24.html"));
    /* an error releases what was kept */
    CHECK_EQ(bt_export_page(&p, v, 7, BT_EXPORT_HTML, 0, NOW, NULL, 0), BT_ERR_NOT_FOUND);
    CHECK(p.doc == NULL && p.len == 0);
    bt_vault_close(v);
}

/* ---- unions and the outbox ---- */

/* A union entry of our own (the demo union's key under another id). */
static char *union_entry(const char *id)
{
    bt_union u;
    char buf[2048];
    size_t n;
    bt_share_demo_union(&u);
    snprintf(u.id, sizeof u.id, "%s", id);
    u.pow_difficulty = 1;
    if (bt_report_union_render(buf, sizeof buf, &n, &u) != BT_OK) abort();
    return strdup(buf);
}

/* A log with one restriction case (id 1): a captured Instagram suspension. */
static bt_vault *log_with_a_case(void)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = NULL;
    bt_capture_in in = {0};
    bt_capture_out out;
    in.url = "https://www.instagram.com/accounts/suspended/";
    in.text = "We suspended your account. You have 30 days left to disagree.";
    if (bt_capture_new(&c, v) != BT_OK || bt_capture_notice(c, &in, NOW, &out, NULL) != BT_OK || out.record != 1)
        abort();
    bt_capture_free(c);
    return v;
}

TEST(a_pinned_union_is_in_the_outbox_and_the_demo_id_is_refused)
{
    bt_vault *v = test_fresh_log();
    char *entry = union_entry("test-union"), *demo = union_entry("demo");
    bt_union u;
    int64_t id = 0;
    const char *why = NULL;
    CHECK_EQ(bt_outbox_pin_union(v, entry, strlen(entry), NOW, &u, &id, &why), BT_OK);
    CHECK_EQ(bt_outbox_pin_union(v, demo, strlen(demo), NOW, &u, &id, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && strstr(why, "demo") != NULL);
    CHECK_EQ(bt_outbox_pin_union(v, "{}", 2, NOW, &u, &id, &why), BT_ERR_BAD_PARAMS);
    bt_outbox o;
    int is_demo = 1;
    CHECK_EQ(bt_outbox_load(&o, v), BT_OK);
    CHECK_EQ(bt_outbox_union(&o, "test-union", &u, &is_demo, &why), BT_OK);
    CHECK(!is_demo && u.pow_difficulty == 1);
    CHECK_EQ(bt_outbox_union(&o, "other", &u, &is_demo, &why), BT_ERR_NOT_FOUND);
    bt_outbox_free(&o);
    CHECK_EQ(test_entries(v), 1);
    free(entry);
    free(demo);
    bt_vault_close(v);
}

TEST(only_the_previewed_report_is_queued_and_a_mark_needs_a_queued_report)
{
    bt_vault *v = log_with_a_case();
    char *entry = union_entry("test-union");
    bt_union u;
    int64_t id = 0;
    CHECK_EQ(bt_outbox_pin_union(v, entry, strlen(entry), NOW, &u, &id, NULL), BT_OK);
    bt_report_ask ask = {1, "test-union", {NULL, -1, NULL}};
    bt_report_built b;
    char json[BT_REPORT_JSON_MAX + 1];
    size_t n;
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &b, NULL), BT_OK);
    CHECK_EQ(bt_report_render(json, sizeof json, &n, &b.report), BT_OK);
    bt_report shown;
    CHECK_EQ(bt_report_parse(&shown, json, n, NULL), BT_OK);
    /* another context than the preview's: refused, nothing written */
    bt_report_ask other = ask;
    other.context.account_type = "business";
    bt_report_queued q;
    const char *why = NULL;
    int64_t before = test_entries(v);
    CHECK_EQ(bt_outbox_queue(v, &other, &shown, json, n, NOW, &q, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && strstr(why, "previewed") != NULL);
    CHECK_EQ(test_entries(v), before);
    CHECK_EQ(bt_outbox_queue(v, &ask, &shown, json, n, NOW, &q, &why), BT_OK);
    CHECK(q.entry == before + 1 && q.wire_len > 0 && strlen(q.report_id) == 2 * BT_REPORT_ID_BYTES);
    /* the same case for the same union keeps its report id */
    bt_report_built again;
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &again, NULL), BT_OK);
    CHECK(!memcmp(again.report.id, b.report.id, BT_REPORT_ID_BYTES));
    CHECK_EQ(bt_outbox_mark(v, q.entry, BT_FAILED, "503", NOW + 1), BT_OK);
    CHECK_EQ(bt_outbox_mark(v, q.entry, BT_SENT, NULL, NOW + 2), BT_OK);
    CHECK_EQ(bt_outbox_mark(v, 1, BT_SENT, NULL, NOW + 2), BT_ERR_NOT_FOUND); /* the notice, not a report */
    bt_outbox o;
    CHECK_EQ(bt_outbox_load(&o, v), BT_OK);
    json_object *item = bt_outbox_report(&o, q.entry);
    CHECK(item != NULL && !strcmp(json_object_get_string(json_object_object_get(item, "state")), "sent"));
    CHECK_EQ(json_object_get_int(json_object_object_get(item, "attempts")), 2);
    bt_outbox_free(&o);
    CHECK_EQ(bt_report_state_parse("withdrawn"), BT_WITHDRAWN);
    CHECK_EQ(bt_report_state_parse("lost"), -1);
    free(entry);
    bt_vault_close(v);
}

/* Queues the report of ask as previewed in log v; its wire opened with the
 * demo union's key (the test unions use it) into *r and *a. */
static bt_err queue_as_previewed(bt_vault *v, const bt_report_ask *ask, const bt_report *shown, const char *json,
                                 size_t n, bt_report_queued *q, bt_report *r, bt_report_auth *a, const char **why)
{
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    bt_err err = bt_outbox_queue(v, ask, shown, json, n, NOW, q, why);
    bt_share_demo_keypair(pk, sk);
    if (err == BT_OK) err = bt_report_open_signed(r, a, NULL, q->wire, q->wire_len, pk, sk, 0, why);
    return err;
}

TEST(a_report_id_the_log_did_not_make_is_refused_and_updates_keep_the_reports_key)
{
    bt_vault *v = log_with_a_case(), *w = log_with_a_case(); /* the person and a stranger, the same notice */
    char *entry = union_entry("test-union"), *other = union_entry("other-union");
    bt_union u;
    int64_t id = 0;
    bt_report_ask ask = {1, "test-union", {NULL, -1, NULL}}, ask2 = {1, "other-union", {NULL, -1, NULL}};
    bt_report_built b;
    bt_report shown, r1, r2, r3;
    bt_report_auth a1, a2, a3;
    bt_report_queued q1, q2, q3, qw;
    char json[BT_REPORT_JSON_MAX + 1];
    size_t n;
    const char *why = NULL;
    CHECK_EQ(bt_outbox_pin_union(v, entry, strlen(entry), NOW, &u, &id, NULL), BT_OK);
    CHECK_EQ(bt_outbox_pin_union(v, other, strlen(other), NOW, &u, &id, NULL), BT_OK);
    CHECK_EQ(bt_outbox_pin_union(w, entry, strlen(entry), NOW, &u, &id, NULL), BT_OK);
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &b, NULL), BT_OK);
    CHECK_EQ(bt_report_render(json, sizeof json, &n, &b.report), BT_OK);
    CHECK_EQ(bt_report_parse(&shown, json, n, NULL), BT_OK);
    CHECK_EQ(queue_as_previewed(v, &ask, &shown, json, n, &q1, &r1, &a1, &why), BT_OK);
    CHECK(!a1.withdrawal && !memcmp(r1.id, shown.id, BT_REPORT_ID_BYTES));

    /* the stranger's host: the person's previewed report, id and all, is not theirs to seal */
    int64_t before = test_entries(w);
    CHECK_EQ(bt_outbox_queue(w, &ask, &shown, json, n, NOW, &q2, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && strstr(why, "report_id") != NULL);
    bt_report_new_id(shown.id); /* nor is any id the host did not mint */
    CHECK_EQ(bt_report_render(json, sizeof json, &n, &shown), BT_OK);
    CHECK_EQ(bt_outbox_queue(w, &ask, &shown, json, n, NOW, &q2, &why), BT_ERR_BAD_PARAMS);
    CHECK_EQ(test_entries(w), before);
    /* nor, in the person's own log, another union's report id for this one */
    CHECK_EQ(bt_outbox_build(v, &ask2, NULL, NOW, &b, NULL), BT_OK);
    memcpy(b.report.id, r1.id, BT_REPORT_ID_BYTES);
    CHECK_EQ(bt_report_render(json, sizeof json, &n, &b.report), BT_OK);
    CHECK_EQ(bt_report_parse(&shown, json, n, NULL), BT_OK);
    CHECK_EQ(bt_outbox_queue(v, &ask2, &shown, json, n, NOW, &q2, &why), BT_ERR_BAD_PARAMS);

    /* the person's update: the same id, the same report key */
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &b, NULL), BT_OK);
    CHECK_EQ(bt_report_render(json, sizeof json, &n, &b.report), BT_OK);
    CHECK_EQ(bt_report_parse(&shown, json, n, NULL), BT_OK);
    CHECK_EQ(queue_as_previewed(v, &ask, &shown, json, n, &q2, &r2, &a2, &why), BT_OK);
    CHECK(!memcmp(r2.id, r1.id, BT_REPORT_ID_BYTES) && !memcmp(a2.key, a1.key, sizeof a1.key));
    CHECK(strcmp(q2.wire, q1.wire) != 0);
    /* another union: another id and another key, nothing shared */
    CHECK_EQ(bt_outbox_build(v, &ask2, NULL, NOW, &b, NULL), BT_OK);
    CHECK_EQ(bt_report_render(json, sizeof json, &n, &b.report), BT_OK);
    CHECK_EQ(bt_report_parse(&shown, json, n, NULL), BT_OK);
    CHECK_EQ(queue_as_previewed(v, &ask2, &shown, json, n, &q3, &r3, &a3, &why), BT_OK);
    CHECK(memcmp(r3.id, r1.id, BT_REPORT_ID_BYTES) != 0 && memcmp(a3.key, a1.key, sizeof a1.key) != 0);

    /* the withdrawal is signed by the report's key; the seed stays in the log */
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    bt_share_demo_keypair(pk, sk);
    CHECK_EQ(bt_outbox_withdrawal(v, q2.entry, &qw, &why), BT_OK);
    CHECK_EQ(bt_report_open_signed(&r3, &a3, NULL, qw.wire, qw.wire_len, pk, sk, 0, &why), BT_OK);
    CHECK(a3.withdrawal && !memcmp(r3.id, r1.id, BT_REPORT_ID_BYTES) && !memcmp(a3.key, a1.key, sizeof a1.key));
    CHECK_EQ(bt_report_open(&r3, NULL, qw.wire, qw.wire_len, pk, sk, 0, &why), BT_ERR_BAD_REPORT);
    CHECK_EQ(bt_outbox_withdrawal(v, 1, &qw, &why), BT_ERR_NOT_FOUND); /* the notice, not a report */
    bt_outbox o;
    CHECK_EQ(bt_outbox_load(&o, v), BT_OK);
    CHECK(json_object_object_get(bt_outbox_report(&o, q1.entry), "seed") == NULL);
    CHECK_EQ(json_object_object_length(o.seeds), 2);
    bt_outbox_free(&o);
    free(entry);
    free(other);
    bt_vault_close(v);
    bt_vault_close(w);
}

TEST(no_report_is_built_for_a_missing_case_or_union_or_while_locked)
{
    bt_vault *v = log_with_a_case();
    bt_report_built b;
    bt_report_ask ask = {9, "demo", {NULL, -1, NULL}};
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &b, NULL), BT_ERR_NOT_FOUND);
    ask.case_id = 1;
    ask.union_id = "nobody";
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &b, NULL), BT_ERR_NOT_FOUND);
    ask.union_id = "demo";
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &b, NULL), BT_OK);
    CHECK(b.demo && b.case_id == 1);
    CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    bt_vault_lock(v);
    CHECK_EQ(bt_outbox_build(v, &ask, NULL, NOW, &b, NULL), BT_ERR_LOCKED);
    bt_vault_close(v);
}

RUN_TESTS(T(a_valid_event_is_written_and_joins_its_case),
          T(an_event_that_fails_a_check_is_refused_with_why_and_not_written),
          T(two_cases_merge_and_a_case_splits_at_a_later_record),
          T(a_merge_or_split_naming_no_case_is_refused_and_not_written),
          T(pieces_cover_a_document_and_an_offset_past_the_end_gives_none),
          T(an_export_piece_carries_the_whole_documents_digest_and_an_unknown_case_none),
          T(a_pinned_union_is_in_the_outbox_and_the_demo_id_is_refused),
          T(only_the_previewed_report_is_queued_and_a_mark_needs_a_queued_report),
          T(a_report_id_the_log_did_not_make_is_refused_and_updates_keep_the_reports_key),
          T(no_report_is_built_for_a_missing_case_or_union_or_while_locked))
