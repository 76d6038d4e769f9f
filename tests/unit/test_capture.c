/* The core's capture and sealed-capture inbox, called directly over a real
 * log (SQLite in a temporary folder, libsodium): repeats folded within 24
 * hours and not after, attachments, and sealed boxes giving the same records
 * as a direct capture, once, and nothing at all when malformed. */
#define _GNU_SOURCE /* memmem */
#include <signal.h>
#include <sys/stat.h>
#include <sodium.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bantrail/capture.h"
#include "bantrail/cases.h"
#include "bantrail/inbox.h"
#include "bantrail/index.h"
#include "bantrail/records.h"
#include "check.h"
#include "test_log.h"
#include "util/json.h"

#define PASS "correct horse battery"
#define T0 ((int64_t)1764000000)
#define SUSPENDED_URL "https://www.instagram.com/accounts/suspended/"
#define SUSPENDED_TEXT "We suspended your account. You have 30 days left to disagree."
#define PNG_B64 "iVBORw0KGgo="

static bt_capture *capture_of(bt_vault *v)
{
    bt_capture *c = NULL;
    if (bt_capture_new(&c, v) != BT_OK) abort();
    return c;
}

static bt_capture_in notice(const char *text)
{
    bt_capture_in in = {0};
    in.url = SUSPENDED_URL;
    in.text = text;
    return in;
}

static bt_capture_out capture_at(bt_capture *c, const char *text, int64_t now)
{
    bt_capture_out out;
    bt_capture_in in = notice(text);
    CHECK_EQ(bt_capture_notice(c, &in, now, &out, NULL), BT_OK);
    return out;
}

/* The header of entry id as JSON text (malloc'd), or NULL. */
static char *head_text(bt_vault *v, int64_t id)
{
    json_object *head = NULL;
    char *s = NULL;
    if (bt_record_read(v, id, &head) == BT_OK) s = strdup(json_object_to_json_string_ext(head, JSON_C_TO_STRING_PLAIN));
    json_object_put(head);
    return s;
}

static int type_is(bt_vault *v, int64_t id, const char *type)
{
    char *s = head_text(v, id), want[64];
    snprintf(want, sizeof want, "\"type\":\"%s\"", type);
    int yes = s != NULL && strstr(s, want) != NULL;
    free(s);
    return yes;
}

/* msg sealed to v's public key, in base64 (malloc'd). */
static char *seal_b64(bt_vault *v, const char *msg)
{
    size_t n = strlen(msg), box_len = n + crypto_box_SEALBYTES;
    unsigned char *box = malloc(box_len);
    size_t cap = sodium_base64_ENCODED_LEN(box_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(cap);
    crypto_box_seal(box, (const unsigned char *)msg, n, bt_vault_public_key(v));
    sodium_bin2base64(b64, cap, box, box_len, sodium_base64_VARIANT_ORIGINAL);
    free(box);
    return b64;
}

/* A log with a passphrase, locked, and a capture over it. */
static bt_capture *locked_log(bt_vault **v)
{
    *v = test_fresh_log();
    bt_capture *c = capture_of(*v);
    CHECK_EQ(test_set_passphrase(*v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    bt_vault_lock(*v);
    return c;
}

static bt_err put(bt_capture *c, const char *b64, int64_t now, bt_box_out *out, const char **why)
{
    return bt_inbox_put(c, b64, strlen(b64), now, out, why);
}

/* ---- the repeat memory ---- */

TEST(a_repeat_within_24_hours_is_an_occurrence_and_after_them_a_new_notice)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    bt_capture_out first = capture_at(c, SUSPENDED_TEXT, T0);
    CHECK(first.stored && !first.occurrence && first.record == first.entry);
    CHECK(type_is(v, first.record, "notice"));
    bt_capture_out again = capture_at(c, SUSPENDED_TEXT, T0 + 3600);
    CHECK(again.stored && again.occurrence);
    CHECK_EQ(again.record, first.record);
    CHECK(again.entry != first.record && type_is(v, again.entry, "occurrence"));
    /* the window runs from the last sighting */
    bt_capture_out later = capture_at(c, SUSPENDED_TEXT, T0 + 3600 + BT_REPEAT_WINDOW);
    CHECK(later.occurrence);
    bt_capture_out next_day = capture_at(c, SUSPENDED_TEXT, T0 + 3600 + 2 * BT_REPEAT_WINDOW + 1);
    CHECK(!next_day.occurrence && next_day.record != first.record);
    CHECK(type_is(v, next_day.record, "notice"));
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(a_locked_log_folds_nothing_at_capture_and_reading_folds_its_repeats)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    bt_cases *cs = NULL;
    CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    bt_capture_out first = capture_at(c, SUSPENDED_TEXT, T0);
    bt_vault_lock(v);
    bt_capture_forget(c); /* as the host does at lock */
    /* locked: the repeat is stored as a notice, and says nothing of the first */
    bt_capture_out again = capture_at(c, SUSPENDED_TEXT, T0 + 3600);
    CHECK(again.stored && !again.occurrence && again.record == again.entry && again.record != first.record);
    CHECK(type_is(v, again.record, "notice") == 0); /* unreadable while locked */
    bt_capture_out third = capture_at(c, SUSPENDED_TEXT, T0 + 7200); /* nor of what it captured locked */
    CHECK(!third.occurrence);
    int64_t att = 0;
    size_t size = 0;
    CHECK_EQ(bt_capture_attach(c, again.record, "image/png", PNG_B64, strlen(PNG_B64), T0 + 3601, &att, &size, NULL), BT_OK);
    bt_capture_in manual = notice(SUSPENDED_TEXT);
    manual.manual = 1;
    bt_capture_out kept;
    CHECK_EQ(bt_capture_notice(c, &manual, T0 + 7300, &kept, NULL), BT_OK);
    /* past the window from the last sighting (the manual one, T0 + 7300, which a repeat may fold into as
     * the host's memory would): a new record */
    bt_capture_out late = capture_at(c, SUSPENDED_TEXT, T0 + 7300 + BT_REPEAT_WINDOW + 1);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    CHECK_EQ(bt_cases_load(&cs, v, 0, T0 + 3 * BT_REPEAT_WINDOW, NULL), BT_OK);
    const bt_case *k = cs ? bt_cases_find(cs, first.record) : NULL;
    CHECK(k != NULL);
    int64_t records[8] = {0}, sightings[8] = {0};
    size_t n = 0, atts = 0;
    for (size_t i = 0; k != NULL && i < k->n_events && n < 8; i++, n++) {
        records[n] = k->events[i].record;
        sightings[n] = k->events[i].sightings;
        if (k->events[i].record == first.record) atts = k->events[i].n_attachments;
    }
    /* the first seen three times, with the screenshot of its locked repeat; the manual and the late one apart */
    CHECK_EQ(n, 3u);
    CHECK(records[0] == first.record && sightings[0] == 3 && atts == 1);
    CHECK(records[1] == kept.record && sightings[1] == 1);
    CHECK(records[2] == late.record && sightings[2] == 1);
    CHECK(k != NULL && bt_cases_find(cs, again.record) == NULL); /* folded: no record of its own in a case */
    bt_cases_free(cs);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(another_notice_within_24_hours_is_not_an_occurrence)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    bt_capture_out first = capture_at(c, SUSPENDED_TEXT, T0);
    bt_capture_out other = capture_at(c, "Action Blocked. We restrict certain activity to protect our community.",
                                      T0 + 60);
    CHECK(other.stored && !other.occurrence && other.record != first.record);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(a_new_process_remembers_repeats_from_the_log_within_24_hours_only)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    bt_capture_out first = capture_at(c, SUSPENDED_TEXT, T0);
    capture_at(c, SUSPENDED_TEXT, T0 + 600); /* an occurrence: the last sighting */
    bt_capture_free(c);
    c = capture_of(v); /* rebuilt from the log */
    bt_capture_out again = capture_at(c, SUSPENDED_TEXT, T0 + BT_REPEAT_WINDOW);
    CHECK(again.occurrence && again.record == first.record);
    bt_capture_free(c);
    c = capture_of(v);
    bt_capture_out stale = capture_at(c, SUSPENDED_TEXT, T0 + 3 * BT_REPEAT_WINDOW);
    CHECK(!stale.occurrence && stale.record != first.record);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(a_manual_capture_is_stored_and_never_folded_and_a_non_notice_is_not_stored)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    bt_capture_out out;
    bt_capture_in in = notice("Welcome back! Here is what you missed while you were away.");
    in.url = "https://example.org/news";
    CHECK_EQ(bt_capture_notice(c, &in, T0, &out, NULL), BT_OK);
    CHECK(!out.stored && !out.verdict.notice);
    CHECK_EQ(test_entries(v), 0);
    in.manual = 1;
    CHECK_EQ(bt_capture_notice(c, &in, T0, &out, NULL), BT_OK);
    CHECK(out.stored && !out.occurrence);
    CHECK_EQ(bt_capture_notice(c, &in, T0 + 1, &out, NULL), BT_OK);
    CHECK(out.stored && !out.occurrence && out.record == 2);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(capture_fields_are_checked_and_the_refused_one_named)
{
    bt_capture_in in;
    const char *why = NULL;
    json_object *o = json_tokener_parse("{\"url\":\"https://x.com/\",\"text\":\"t\",\"lang\":\"en\",\"manual\":true}");
    CHECK_EQ(bt_capture_in_parse(&in, o, &why), BT_OK);
    CHECK(in.manual && !strcmp(in.lang, "en") && in.title == NULL);
    json_object_put(o);
    o = json_tokener_parse("{\"text\":\"t\"}");
    CHECK_EQ(bt_capture_in_parse(&in, o, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && !strcmp(why, "url"));
    json_object_put(o);
    o = json_tokener_parse("{\"url\":\"https://x.com/\",\"text\":\"t\",\"manual\":1}");
    CHECK_EQ(bt_capture_in_parse(&in, o, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && !strcmp(why, "manual"));
    json_object_put(o);
}

/* ---- attachments ---- */

TEST(an_attachment_is_stored_for_a_record_and_refused_without_one)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    bt_capture_out first = capture_at(c, SUSPENDED_TEXT, T0);
    int64_t id = 0;
    size_t size = 0;
    const char *why = NULL;
    CHECK_EQ(bt_capture_attach(c, first.record, "image/png", PNG_B64, strlen(PNG_B64), T0, &id, &size, &why), BT_OK);
    CHECK(type_is(v, id, "attachment") && size == 8);
    CHECK_EQ(bt_capture_attach(c, 99, "image/png", PNG_B64, strlen(PNG_B64), T0, &id, &size, &why), BT_ERR_NOT_FOUND);
    CHECK_EQ(bt_capture_attach(c, first.record, "image/gif", PNG_B64, strlen(PNG_B64), T0, &id, &size, &why),
             BT_ERR_BAD_PARAMS);
    CHECK(!strcmp(why, "mime"));
    CHECK_EQ(bt_capture_attach(c, first.record, "image/png", "not base64!", 11, T0, &id, &size, &why),
             BT_ERR_BAD_PARAMS);
    CHECK(!strcmp(why, "data"));
    CHECK_EQ(test_entries(v), 2);
    bt_capture_free(c);
    bt_vault_close(v);
}

/* ---- the sealed-capture inbox ---- */

static const char box_msg[] = "{\"v\":1,\"capture\":{\"url\":\"" SUSPENDED_URL "\",\"text\":\"" SUSPENDED_TEXT
                              "\"},\"attachments\":[{\"mime\":\"image/png\",\"data\":\"" PNG_B64 "\"}]}";

TEST(a_sealed_box_expands_into_the_same_records_as_a_direct_capture)
{
    bt_vault *direct = test_fresh_log(), *sealed = test_fresh_log();
    bt_capture *cd = capture_of(direct), *cs = capture_of(sealed);
    bt_capture_out out = capture_at(cd, SUSPENDED_TEXT, T0);
    int64_t att = 0;
    size_t size;
    CHECK_EQ(bt_capture_attach(cd, out.record, "image/png", PNG_B64, strlen(PNG_B64), T0, &att, &size, NULL), BT_OK);
    char *b64 = seal_b64(sealed, box_msg);
    bt_box_out box;
    CHECK_EQ(put(cs, b64, T0, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_CAPTURE && box.capture.stored && box.record == out.record);
    CHECK(box.n_attachments == 1 && box.attachments[0] == att);
    CHECK_EQ(test_entries(sealed), test_entries(direct) + 1); /* and the box's sealed_done */
    for (int64_t id = 1; id <= test_entries(direct); id++) {
        char *a = head_text(direct, id), *b = head_text(sealed, id);
        CHECK(a != NULL && b != NULL && !strcmp(a, b));
        free(a);
        free(b);
    }
    CHECK(type_is(sealed, test_entries(sealed), "sealed_done"));
    bt_box_out_free(&box);
    /* the same notice in a new box: a repeat, and one screenshot per record */
    char *b64_2 = seal_b64(sealed, box_msg);
    CHECK_EQ(put(cs, b64_2, T0 + 60, &box, NULL), BT_OK);
    CHECK(box.capture.occurrence && box.n_attachments == 0);
    bt_box_out_free(&box);
    free(b64_2);
    free(b64);
    bt_capture_free(cd);
    bt_capture_free(cs);
    bt_vault_close(direct);
    bt_vault_close(sealed);
}

TEST(a_box_kept_while_locked_is_expanded_once_even_if_expand_runs_twice)
{
    bt_vault *v;
    bt_capture *c = locked_log(&v);
    char *b64 = seal_b64(v, box_msg);
    bt_box_out box;
    CHECK_EQ(put(c, b64, T0, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_PENDING && box.entry == 1 && type_is(v, 1, "sealed_capture") == 0); /* locked: unreadable */
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0, NULL), 0); /* still locked: nothing opens */
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    CHECK(type_is(v, 1, "sealed_capture"));
    int waiting = -1;
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 5, &waiting), 1);
    CHECK_EQ(waiting, 0);
    int64_t after_first = test_entries(v);
    CHECK_EQ(after_first, 4); /* the box, the notice, its attachment, sealed_done */
    CHECK(type_is(v, 2, "notice") && type_is(v, 3, "attachment") && type_is(v, 4, "sealed_done"));
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 10, NULL), 0);
    CHECK_EQ(test_entries(v), after_first);
    bt_capture_free(c); /* a new process finds nothing pending either */
    c = capture_of(v);
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 20, NULL), 0);
    CHECK_EQ(test_entries(v), after_first);
    free(b64);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(a_malformed_sealed_box_is_refused_and_leaves_the_log_intact)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    capture_at(c, SUSPENDED_TEXT, T0);
    bt_box_out box;
    const char *why = NULL;
    char *not_json = seal_b64(v, "{\"v\":1,\"capture\":");
    CHECK_EQ(put(c, not_json, T0, &box, &why), BT_ERR_BAD_PARAMS);
    CHECK(why != NULL && strstr(why, "version 1") != NULL);
    char *v2 = seal_b64(v, "{\"v\":2,\"capture\":{\"url\":\"" SUSPENDED_URL "\",\"text\":\"x\"}}");
    CHECK_EQ(put(c, v2, T0, &box, &why), BT_ERR_BAD_PARAMS);
    char *no_text = seal_b64(v, "{\"v\":1,\"capture\":{\"url\":\"" SUSPENDED_URL "\"}}");
    CHECK_EQ(put(c, no_text, T0, &box, &why), BT_ERR_BAD_PARAMS);
    CHECK(!strcmp(why, "text"));
    char *bad_event = seal_b64(v, "{\"v\":1,\"event\":{\"event\":\"no_such_event\",\"platform\":\"instagram\","
                                  "\"at\":1764000000}}");
    CHECK_EQ(put(c, bad_event, T0, &box, &why), BT_ERR_BAD_PARAMS);
    CHECK(!strcmp(why, "event"));
    CHECK_EQ(put(c, "not base64!", T0, &box, &why), BT_ERR_BAD_PARAMS);
    CHECK(!strcmp(why, "sealed"));
    /* sealed to another log */
    bt_vault *other = test_fresh_log();
    char *foreign = seal_b64(other, box_msg);
    CHECK_EQ(put(c, foreign, T0, &box, &why), BT_ERR_CORRUPT);
    CHECK_EQ(test_entries(v), 1);
    bt_vault_verify_result vr;
    CHECK(bt_vault_verify(v, &vr) == BT_OK && vr.bad_id == 0);
    free(not_json);
    free(v2);
    free(no_text);
    free(bad_event);
    free(foreign);
    bt_vault_close(other);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(a_malformed_box_kept_while_locked_stays_pending_and_is_not_stored)
{
    bt_vault *v;
    bt_capture *c = locked_log(&v);
    char *bad = seal_b64(v, "{\"v\":1,\"capture\":{\"text\":\"no address\"}}");
    bt_box_out box;
    CHECK_EQ(put(c, bad, T0, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_PENDING);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    int waiting = -1;
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0, &waiting), 0);
    CHECK_EQ(waiting, 1); /* and it says so */
    bt_err why = BT_OK;
    CHECK_EQ(bt_inbox_expand_pending_why(c, NULL, T0, &waiting, &why), 0);
    CHECK_EQ(waiting, 1);
    CHECK_EQ(why, BT_ERR_BAD_PARAMS); /* why it waits: not a full disk */
    CHECK_EQ(test_entries(v), 1); /* only the kept box */
    free(bad);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(boxes_kept_while_locked_are_delivered_in_groups_and_a_bad_one_waits_without_holding_back_the_rest)
{
    bt_vault *v;
    bt_capture *c = locked_log(&v);
    enum { N = 150 }; /* more than two groups */
    char *b64[N];
    for (int i = 0; i < N; i++) {
        char msg[512];
        if (i == 30) /* a box that opens to no capture: it waits */
            snprintf(msg, sizeof msg, "{\"v\":1,\"capture\":{\"text\":\"no address\"}}");
        else
            snprintf(msg, sizeof msg, "{\"v\":1,\"capture\":{\"url\":\"" SUSPENDED_URL "\",\"text\":\"We suspended "
                     "your account @user%d.\",\"manual\":true}}", i);
        b64[i] = i == 100 ? strdup(b64[10]) : seal_b64(v, msg); /* the same box sent twice: stored once */
    }
    bt_box_out box;
    for (int i = 0; i < N; i++) {
        CHECK_EQ(put(c, b64[i], T0, &box, NULL), BT_OK);
        CHECK(box.kind == BT_BOX_PENDING);
    }
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    int waiting = -1;
    bt_err why = BT_OK;
    CHECK_EQ(bt_inbox_expand_pending_why(c, NULL, T0 + 5, &waiting, &why), N - 2);
    CHECK_EQ(waiting, 1);
    CHECK_EQ(why, BT_ERR_BAD_PARAMS);
    /* each box kept, each stored once as a notice with its done mark, the duplicate only marked done */
    CHECK_EQ(test_entries(v), N + (N - 2) + (N - 1));
    int notices = 0, done = 0;
    for (int64_t id = N + 1; id <= test_entries(v); id++) {
        notices += type_is(v, id, "notice");
        done += type_is(v, id, "sealed_done");
    }
    CHECK_EQ(notices, N - 2);
    CHECK_EQ(done, N - 1);
    /* again: nothing more is stored, the bad one still waits */
    CHECK_EQ(bt_inbox_expand_pending_why(c, NULL, T0 + 10, &waiting, &why), 0);
    CHECK_EQ(waiting, 1);
    CHECK_EQ(test_entries(v), N + (N - 2) + (N - 1));
    for (int i = 0; i < N; i++) free(b64[i]);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(a_sealed_event_is_added_as_event_add_adds_it)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    char *b64 = seal_b64(v, "{\"v\":1,\"event\":{\"event\":\"appeal_submitted\",\"platform\":\"instagram\","
                            "\"at\":1764000000,\"manual\":false}}");
    bt_box_out box;
    CHECK_EQ(put(c, b64, T0, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_EVENT && box.event_id == 1 && box.event_at == 1764000000 && box.event_case == 1);
    char *s = head_text(v, 1);
    CHECK(s != NULL && strstr(s, "\"event\":\"appeal_submitted\"") != NULL && strstr(s, "\"manual\":false") != NULL);
    free(s);
    free(b64);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(a_box_sent_again_is_stored_once_whether_the_log_is_readable_locked_or_reopened)
{
    bt_vault *v;
    bt_capture *c = locked_log(&v);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    char *b64 = seal_b64(v, box_msg);
    bt_box_out box;
    CHECK_EQ(put(c, b64, T0, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_CAPTURE && box.capture.stored && box.n_attachments == 1);
    bt_box_out_free(&box);
    int64_t once = test_entries(v); /* the notice, its screenshot, sealed_done */
    CHECK_EQ(once, 3);
    /* sent again: the answer was lost on its way */
    CHECK_EQ(put(c, b64, T0 + 5, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_DUPLICATE);
    CHECK_EQ(test_entries(v), once);
    /* by a new process (the browser restarted): found in the log */
    bt_capture_free(c);
    c = capture_of(v);
    CHECK_EQ(put(c, b64, T0 + 10, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_DUPLICATE);
    CHECK_EQ(test_entries(v), once);
    /* while locked it cannot be told: kept, then only marked done at unlock */
    bt_vault_lock(v);
    CHECK_EQ(put(c, b64, T0 + 20, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_PENDING);
    CHECK_EQ(put(c, b64, T0 + 21, &box, NULL), BT_OK); /* twice */
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 30, NULL), 0); /* nothing stored */
    CHECK_EQ(test_entries(v), once + 4);          /* two sealed_capture, two sealed_done */
    char *mark = head_text(v, once + 3);
    CHECK(mark != NULL && strstr(mark, "\"duplicate\":true") != NULL);
    free(mark);
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 40, NULL), 0);
    CHECK_EQ(test_entries(v), once + 4);
    /* two boxes never sent before, kept while locked, the second the same box twice: two events */
    bt_vault_lock(v);
    const char *ev = "{\"v\":1,\"event\":{\"event\":\"appeal_submitted\",\"platform\":\"instagram\",\"at\":1764000000}}";
    char *e1 = seal_b64(v, ev), *e2 = seal_b64(v, ev);
    CHECK_EQ(put(c, e1, T0 + 50, &box, NULL), BT_OK);
    CHECK_EQ(put(c, e2, T0 + 51, &box, NULL), BT_OK);
    CHECK_EQ(put(c, e2, T0 + 52, &box, NULL), BT_OK);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 60, NULL), 2); /* a different box is never taken for another */
    int events = 0;
    for (int64_t id = 1; id <= test_entries(v); id++) events += type_is(v, id, "event");
    CHECK_EQ(events, 2);
    free(e1);
    free(e2);
    free(b64);
    bt_capture_free(c);
    bt_vault_close(v);
}

/* Counts the notices and sealed_done marks of a readable log, and whether
 * any notice text is there twice. */
static void count_delivered(bt_vault *v, int *notices, int *done, int *twice)
{
    bt_vault_stats st;
    char seen[64][128];
    *notices = *done = *twice = 0;
    CHECK_EQ(bt_vault_stats_of(v, &st), BT_OK);
    for (int64_t id = 1; id <= st.entries; id++) {
        json_object *head = NULL;
        if (bt_record_read(v, id, &head) != BT_OK) continue;
        const char *type = bt_json_str(head, "type"), *text = bt_json_str(head, "text");
        if (type && !strcmp(type, "sealed_done")) (*done)++;
        if (type && !strcmp(type, "notice") && text) {
            for (int i = 0; i < *notices && i < 64; i++) *twice += !strcmp(seen[i], text);
            if (*notices < 64) snprintf(seen[*notices], sizeof seen[0], "%s", text);
            (*notices)++;
        }
        json_object_put(head);
    }
}

TEST(a_kill_while_kept_boxes_are_stored_never_stores_one_twice)
{
    enum { BOXES = 30, ROUNDS = 16 };
    char *root = test_tmpdir();
    for (int round = 0; round < ROUNDS; round++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/r%d", root, round);
        bt_vault *v = NULL;
        CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
        bt_capture *c = capture_of(v);
        CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
        bt_vault_lock(v);
        for (int i = 0; i < BOXES; i++) {
            char msg[512];
            bt_box_out out;
            snprintf(msg, sizeof msg, "{\"v\":1,\"capture\":{\"url\":\"" SUSPENDED_URL "\",\"text\":\"" SUSPENDED_TEXT
                     " Reference %d-%d.\"}}", round, i);
            char *b64 = seal_b64(v, msg);
            CHECK_EQ(put(c, b64, T0, &out, NULL), BT_OK);
            free(b64);
        }
        bt_capture_free(c);
        bt_vault_close(v);
        pid_t pid = fork();
        if (pid == 0) { /* a host unlocking, killed at some moment of the delivery */
            bt_vault *w = NULL;
            bt_capture *d = NULL;
            if (bt_vault_open(&w, dir) != BT_OK || bt_vault_unlock(w, PASS, strlen(PASS)) != BT_OK ||
                bt_capture_new(&d, w) != BT_OK)
                _exit(1);
            bt_inbox_expand_pending(d, NULL, T0 + 60, NULL);
            _exit(0);
        }
        usleep((useconds_t)(500 + round * 1500));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        CHECK_EQ(bt_vault_open(&v, dir), BT_OK); /* the next unlock delivers the rest */
        CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
        c = capture_of(v);
        bt_inbox_expand_pending(c, NULL, T0 + 120, NULL);
        int notices, done, twice;
        count_delivered(v, &notices, &done, &twice);
        CHECK_EQ(notices, BOXES);
        CHECK_EQ(done, BOXES);
        CHECK_EQ(twice, 0);
        bt_capture_free(c);
        bt_vault_close(v);
    }
    free(root);
}

/* Keeps n boxes (notices "Reference tag-i.") in a locked log. */
static void keep_boxes(bt_vault *v, bt_capture *c, const char *tag, int n)
{
    for (int i = 0; i < n; i++) {
        char msg[512];
        bt_box_out out;
        snprintf(msg, sizeof msg, "{\"v\":1,\"capture\":{\"url\":\"" SUSPENDED_URL "\",\"text\":\"" SUSPENDED_TEXT
                 " Reference %s-%d.\"}}", tag, i);
        char *b64 = seal_b64(v, msg);
        CHECK_EQ(put(c, b64, T0, &out, NULL), BT_OK);
        free(b64);
    }
}

/* The scan in slices (bt_inbox_scan_*) to the end, max headers a step. */
static int scan_in_slices(bt_capture *c, int max)
{
    bt_inbox_scan *s = bt_inbox_scan_new(c);
    CHECK(s != NULL);
    while (bt_inbox_scan_step(s, c, max)) {
    }
    int n = bt_inbox_scan_finish(s, c, NULL, T0 + 60, NULL, NULL);
    bt_inbox_scan_free(s);
    return n;
}

/* A log made before the scan's mark followed appends (its mark at 0): its
 * boxes delivered at an earlier unlock (done marks far after them) and the
 * boxes kept since; the scan in slices of 3 headers, killed at some moment,
 * then done again to the end: every box stored once, each with one done
 * mark, and the mark past them all. */
TEST(a_scan_in_slices_killed_at_any_moment_stores_each_box_once)
{
    enum { EARLY = 5, BOXES = 30, ROUNDS = 12 };
    char *root = test_tmpdir();
    for (int round = 0; round < ROUNDS; round++) {
        char dir[600];
        snprintf(dir, sizeof dir, "%s/s%d", root, round);
        bt_vault *v = NULL;
        CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
        bt_capture *c = capture_of(v);
        CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
        bt_vault_lock(v);
        keep_boxes(v, c, "early", EARLY);
        CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
        CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 30, NULL), EARLY);
        bt_vault_lock(v);
        char tag[16];
        snprintf(tag, sizeof tag, "r%d", round);
        keep_boxes(v, c, tag, BOXES);
        CHECK_EQ(bt_vault_set_mark(v, BT_VAULT_MARK_SCANNED, 0), BT_OK); /* as made before the mark followed */
        bt_capture_free(c);
        bt_vault_close(v);
        pid_t pid = fork();
        if (pid == 0) { /* a host looking in slices, killed at some moment */
            bt_vault *w = NULL;
            bt_capture *d = NULL;
            if (bt_vault_open(&w, dir) != BT_OK || bt_vault_unlock(w, PASS, strlen(PASS)) != BT_OK ||
                bt_capture_new(&d, w) != BT_OK)
                _exit(1);
            bt_inbox_scan *s = bt_inbox_scan_new(d);
            while (s != NULL && bt_inbox_scan_step(s, d, 3)) {
            }
            if (s != NULL) bt_inbox_scan_finish(s, d, NULL, T0 + 60, NULL, NULL);
            _exit(0);
        }
        usleep((useconds_t)(300 + round * 1500));
        kill(pid, SIGKILL);
        waitpid(pid, NULL, 0);
        CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
        CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
        c = capture_of(v);
        scan_in_slices(c, 4);
        int notices, done, twice;
        count_delivered(v, &notices, &done, &twice);
        CHECK_EQ(notices, EARLY + BOXES);
        CHECK_EQ(done, EARLY + BOXES);
        CHECK_EQ(twice, 0);
        bt_vault_stats st;
        int64_t mark = 0;
        CHECK_EQ(bt_vault_stats_of(v, &st), BT_OK);
        CHECK_EQ(bt_vault_mark(v, BT_VAULT_MARK_SCANNED, &mark), BT_OK);
        CHECK_EQ(mark, st.entries);
        CHECK_EQ(bt_inbox_unscanned(c), 0);
        CHECK_EQ(scan_in_slices(c, 4), 0); /* nothing left */
        bt_capture_free(c);
        bt_vault_close(v);
    }
    free(root);
}

/* A scan in slices while another process keeps boxes and delivers some of
 * them between its steps: what it delivers at its end is what is still
 * pending then, once each. */
TEST(a_scan_in_slices_sees_what_is_appended_between_its_steps)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    bt_vault_lock(v);
    keep_boxes(v, c, "a", 6);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    CHECK_EQ(bt_vault_set_mark(v, BT_VAULT_MARK_SCANNED, 0), BT_OK);
    bt_inbox_scan *s = bt_inbox_scan_new(c);
    CHECK(s != NULL);
    CHECK_EQ(bt_inbox_scan_step(s, c, 4), 1); /* part of the log read */
    /* meanwhile the boxes are delivered by another scan (the whole one), and more kept */
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 30, NULL), 6);
    bt_vault_lock(v);
    keep_boxes(v, c, "b", 3);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    while (bt_inbox_scan_step(s, c, 4)) {
    }
    CHECK_EQ(bt_inbox_scan_finish(s, c, NULL, T0 + 60, NULL, NULL), 3); /* the 6 were done: only the 3 */
    bt_inbox_scan_free(s);
    int notices, done, twice;
    count_delivered(v, &notices, &done, &twice);
    CHECK_EQ(notices, 9);
    CHECK_EQ(done, 9);
    CHECK_EQ(twice, 0);
    bt_capture_free(c);
    bt_vault_close(v);
}

/* Collects the entries bt_index_related passes. */
static int collect_links(void *ctx, int64_t entry, json_object *head)
{
    int64_t *got = ctx;
    (void)head;
    got[++got[0]] = entry;
    return 0;
}

TEST(the_index_finds_what_names_a_record_written_before_or_after_it_was_built)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    bt_capture_out a = capture_at(c, SUSPENDED_TEXT, T0), b = capture_at(c, "We disabled your account.", T0 + 1);
    int64_t att = 0, got[16] = {0}, read = 0;
    size_t size;
    CHECK_EQ(bt_capture_attach(c, a.record, "image/png", PNG_B64, strlen(PNG_B64), T0, &att, &size, NULL), BT_OK);
    capture_at(c, SUSPENDED_TEXT, T0 + 60); /* an occurrence of a */
    bt_index *ix = bt_index_new();
    CHECK_EQ(bt_index_related(ix, v, a.record, collect_links, got), BT_OK);
    CHECK(got[0] == 2 && got[1] == att && got[2] == 4);
    memset(got, 0, sizeof got);
    CHECK_EQ(bt_index_related(ix, v, b.record, collect_links, got), BT_OK);
    CHECK_EQ(got[0], 0); /* nothing names b */
    CHECK_EQ(bt_index_update(ix, v, 0, &read), BT_OK);
    CHECK_EQ(read, 0); /* nothing new: nothing read again */
    /* attached later (a box delivered at unlock): only that entry is read at the next question */
    int64_t att2 = 0;
    CHECK_EQ(bt_capture_attach(c, a.record, "image/png", PNG_B64, strlen(PNG_B64), T0 + 99, &att2, &size, NULL),
             BT_OK);
    CHECK_EQ(bt_index_update(ix, v, 0, &read), BT_OK);
    CHECK_EQ(read, 1);
    CHECK_EQ(bt_index_last(ix), att2);
    memset(got, 0, sizeof got);
    CHECK_EQ(bt_index_related(ix, v, a.record, collect_links, got), BT_OK);
    CHECK(got[0] == 3 && got[3] == att2);
    /* locked: nothing is read, and what the index held is forgotten */
    CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    bt_vault_lock(v);
    memset(got, 0, sizeof got);
    CHECK_EQ(bt_index_related(ix, v, a.record, collect_links, got), BT_ERR_LOCKED);
    CHECK_EQ(got[0], 0);
    CHECK_EQ(bt_index_last(ix), 0);
    bt_index_free(ix);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(the_index_sees_entries_another_handle_appended_and_a_log_replaced_under_it)
{
    char *dir = test_tmpdir();
    bt_vault *v = NULL, *other = NULL;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    CHECK_EQ(bt_vault_open(&other, dir), BT_OK); /* the CLI beside the host */
    bt_capture *c = capture_of(v), *oc = capture_of(other);
    bt_capture_out a = capture_at(c, SUSPENDED_TEXT, T0);
    int64_t got[16] = {0}, read = 0, att = 0;
    size_t size;
    bt_index *ix = bt_index_new();
    const bt_cases *cs = NULL;
    CHECK_EQ(bt_index_cases(ix, v, T0 + 10, &cs, NULL), BT_OK);
    CHECK(bt_cases_of_record(cs, a.record) != NULL);
    /* the other handle attaches to a and captures a notice of another account */
    CHECK_EQ(bt_capture_attach(oc, a.record, "image/png", PNG_B64, strlen(PNG_B64), T0 + 5, &att, &size, NULL), BT_OK);
    bt_capture_out b = capture_at(oc, "Your account @someone_else was permanently disabled.", T0 + 6);
    CHECK_EQ(bt_index_related(ix, v, a.record, collect_links, got), BT_OK);
    CHECK(got[0] == 1 && got[1] == att);
    CHECK(bt_cases_of_record(cs, b.record) == NULL); /* not yet: derived before it was written */
    CHECK_EQ(bt_index_cases(ix, v, T0 + 10, &cs, NULL), BT_OK);
    CHECK(bt_cases_of_record(cs, a.record) != NULL && bt_cases_of_record(cs, b.record) != NULL);
    CHECK_EQ(bt_index_update(ix, v, 0, &read), BT_OK);
    CHECK_EQ(read, 0);
    bt_capture_free(oc);
    bt_vault_close(other);
    /* the log replaced by another one (a copy restored): the index starts over on it */
    bt_capture_free(c);
    bt_vault_close(v);
    char *dir2 = test_tmpdir(), from[600], to[600];
    CHECK_EQ(bt_vault_open(&v, dir2), BT_OK);
    c = capture_of(v);
    capture_at(c, "We disabled your account.", T0);
    capture_at(c, "We disabled your account.", T0 + 3);
    bt_capture_free(c);
    bt_vault_close(v);
    snprintf(from, sizeof from, "%s/" BT_VAULT_DB, dir2);
    snprintf(to, sizeof to, "%s/" BT_VAULT_DB, dir);
    CHECK_EQ(rename(from, to), 0);
    snprintf(from, sizeof from, "%s/" BT_VAULT_KEYFILE, dir2);
    snprintf(to, sizeof to, "%s/" BT_VAULT_KEYFILE, dir);
    CHECK_EQ(rename(from, to), 0);
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    CHECK_EQ(bt_index_update(ix, v, 0, &read), BT_OK);
    CHECK_EQ(read, 2);
    memset(got, 0, sizeof got);
    CHECK_EQ(bt_index_related(ix, v, 1, collect_links, got), BT_OK);
    CHECK(got[0] == 1 && got[1] == 2); /* the second notice is an occurrence of the first; no attachment */
    bt_index_free(ix);
    bt_vault_close(v);
    free(dir);
    free(dir2);
}


/* ---- the index's snapshot ---- */

/* Copies file name from folder a to folder b (0600). */
static void copy_file(const char *a, const char *b, const char *name)
{
    char from[600], to[600], buf[65536];
    snprintf(from, sizeof from, "%s/%s", a, name);
    snprintf(to, sizeof to, "%s/%s", b, name);
    FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
    CHECK(in != NULL && out != NULL);
    size_t n;
    while (in != NULL && out != NULL && (n = fread(buf, 1, sizeof buf, in)) > 0) CHECK_EQ(fwrite(buf, 1, n, out), n);
    if (in) fclose(in);
    if (out) fclose(out);
}

/* The log's first captures in dir: 1 a notice, 2 its screenshot, 3 a sighting of it again, 4 a notice of
 * another account. */
static void snapshot_log(const char *dir)
{
    bt_vault *v = NULL;
    int64_t att = 0;
    size_t size;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    bt_capture *c = capture_of(v);
    bt_capture_out a = capture_at(c, SUSPENDED_TEXT, T0);
    CHECK_EQ(bt_capture_attach(c, a.record, "image/png", PNG_B64, strlen(PNG_B64), T0, &att, &size, NULL), BT_OK);
    capture_at(c, SUSPENDED_TEXT, T0 + 60);
    capture_at(c, "Your account @someone_else was permanently disabled.", T0 + 90);
    bt_capture_free(c);
    bt_vault_close(v);
}

/* Appends to the log in dir as another process would: a screenshot of record 1 and a notice (text). */
static void append_more(const char *dir, const char *text)
{
    bt_vault *v = NULL;
    int64_t att = 0;
    size_t size;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    bt_capture *c = capture_of(v);
    CHECK_EQ(bt_capture_attach(c, 1, "image/png", PNG_B64, strlen(PNG_B64), T0 + 100, &att, &size, NULL), BT_OK);
    capture_at(c, text, T0 + 200);
    bt_capture_free(c);
    bt_vault_close(v);
}

/* Everything ix answers of the log v, as text (malloc'd): what names record 1, the cases with their
 * records, each entry's summary. */
static char *answers_of(bt_vault *v, bt_index *ix)
{
    char *out = calloc(1, 65536);
    size_t n = 0;
    int64_t got[16] = {0};
    const bt_cases *cs = NULL;
    CHECK_EQ(bt_index_related(ix, v, 1, collect_links, got), BT_OK);
    for (int64_t i = 1; i <= got[0]; i++) n += (size_t)snprintf(out + n, 65536 - n, "names 1: %lld\n", (long long)got[i]);
    CHECK_EQ(bt_index_cases(ix, v, T0 + 1000, &cs, NULL), BT_OK);
    for (size_t i = 0; cs != NULL && i < bt_cases_count(cs); i++) {
        const bt_case *k = bt_cases_at(cs, i);
        n += (size_t)snprintf(out + n, 65536 - n, "case %lld %s %s:", (long long)k->id, k->platform, k->handle);
        for (size_t e = 0; e < k->n_events; e++)
            n += (size_t)snprintf(out + n, 65536 - n, " %lld(%lld seen, %zu attached)", (long long)k->events[e].record,
                                  (long long)k->events[e].sightings, k->events[e].n_attachments);
        n += (size_t)snprintf(out + n, 65536 - n, "\n");
    }
    for (int64_t id = 1; id <= bt_index_last(ix); id++) {
        const char *t = NULL;
        size_t len = 0;
        if (bt_index_header(ix, id, &t, &len) == BT_OK) n += (size_t)snprintf(out + n, 65536 - n, "%lld %.*s\n",
                                                                              (long long)id, (int)len, t);
    }
    return out;
}

/* Everything an index answers of the log in dir (answers_of); *decrypted: how many entries it read from
 * the log to answer. */
static char *answers(const char *dir, int64_t *decrypted)
{
    bt_vault *v = NULL;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    bt_index *ix = bt_index_new();
    char *out = answers_of(v, ix);
    *decrypted = bt_index_decrypted(ix);
    CHECK_EQ(bt_index_save(ix, v, 0), BT_OK); /* as the host does at lock and exit */
    bt_index_free(ix);
    bt_vault_close(v);
    return out;
}

static void remove_snapshot(const char *dir)
{
    char path[600];
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index", dir);
    unlink(path);
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    unlink(path);
}

/* What an index built from the log alone answers (its snapshot set aside, then written anew). */
static char *answers_from_log(const char *dir)
{
    int64_t decrypted = 0;
    remove_snapshot(dir);
    return answers(dir, &decrypted);
}

/* Whether the index answers what the log read from scratch answers; how many
 * entries it decrypted from the log to do so in *decrypted. */
static int answers_agree(const char *dir, int64_t *decrypted)
{
    char *got = answers(dir, decrypted), *expected = answers_from_log(dir);
    int same = strcmp(got, expected) == 0;
    free(got);
    free(expected);
    return same;
}

static int file_holds(const char *path, const char *needle)
{
    FILE *f = fopen(path, "rb");
    static char buf[1 << 20];
    size_t n = f ? fread(buf, 1, sizeof buf, f) : 0;
    if (f) fclose(f);
    return memmem(buf, n, needle, strlen(needle)) != NULL;
}

TEST(the_index_is_taken_from_its_snapshot_and_says_what_the_log_says)
{
    char *dir = test_tmpdir(), path[600];
    int64_t decrypted = 0;
    struct stat sb;
    snapshot_log(dir);
    char *expected = answers_from_log(dir), *got = answers(dir, &decrypted);
    CHECK(strstr(expected, "names 1: 2\nnames 1: 3\n") != NULL && strstr(expected, "case 1 instagram") != NULL);
    CHECK_EQ(strcmp(got, expected), 0);
    CHECK_EQ(decrypted, 0); /* nothing read from the log: all from the snapshot */
    /* on disk: 0600, and nothing of what it holds in clear */
    for (int part = 0; part < 2; part++) {
        snprintf(path, sizeof path, "%s/" BT_VAULT_DB "%s", dir, part == 0 ? "-index" : "-index-entries");
        CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
        CHECK(!file_holds(path, "instagram") && !file_holds(path, "someone_else") && !file_holds(path, "notice"));
    }
    free(expected);
    free(got);
    free(dir);
}

TEST(a_snapshot_older_than_the_log_reads_only_what_another_process_appended)
{
    char *dir = test_tmpdir();
    int64_t decrypted = 0;
    snapshot_log(dir);
    free(answers_from_log(dir)); /* the snapshot: entries 1-4 */
    append_more(dir, "Your account @third_one was permanently disabled.");
    char *got = answers(dir, &decrypted), *expected = answers_from_log(dir);
    CHECK(strstr(got, "names 1: 2\nnames 1: 3\nnames 1: 5\n") != NULL && strstr(got, "third_one") != NULL);
    CHECK_EQ(strcmp(got, expected), 0);
    CHECK_EQ(decrypted, 2); /* entries 5 and 6 only */
    free(expected);
    free(got);
    free(dir);
}

/* Damages the snapshot in dir one way (what) and checks that the index built over it answers what the log
 * says, having set it aside and read the whole log again. */
static void set_aside(const char *dir, const char *what, void (*damage)(const char *dir))
{
    int64_t decrypted = 0;
    free(answers_from_log(dir)); /* a good snapshot */
    damage(dir);
    char *got = answers(dir, &decrypted), *expected = answers_from_log(dir);
    if (strcmp(got, expected) != 0 || decrypted < 4) fprintf(stderr, "  %s: not set aside\n%s", what, got);
    CHECK_EQ(strcmp(got, expected), 0);
    CHECK(decrypted >= 4);
    free(expected);
    free(got);
}

static void flip_part(const char *dir, const char *suffix, long at)
{
    char path[600];
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "%s", dir, suffix);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL);
    if (f == NULL) return;
    fseek(f, at, SEEK_SET);
    int ch = fgetc(f);
    fseek(f, at, SEEK_SET);
    fputc(ch ^ 1, f);
    fclose(f);
}

static void flip_part0(const char *dir) { flip_part(dir, "-index", 40); }
static void flip_part1(const char *dir) { flip_part(dir, "-index-entries", 200); }

static void cut_part1(const char *dir)
{
    char path[600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    CHECK(stat(path, &sb) == 0 && truncate(path, sb.st_size / 2) == 0);
}

static char *other_dir_; /* the folder damage functions take a snapshot from */

static void put_others(const char *dir)
{
    copy_file(other_dir_, dir, BT_VAULT_DB "-index");
    copy_file(other_dir_, dir, BT_VAULT_DB "-index-entries");
}

static void old_part1(const char *dir)
{
    copy_file(dir, other_dir_, BT_VAULT_DB "-index-entries"); /* part 1 of this save... */
    append_more(dir, "Your account @fourth was permanently disabled.");
    int64_t decrypted = 0;
    free(answers(dir, &decrypted)); /* ...and a newer save */
    copy_file(other_dir_, dir, BT_VAULT_DB "-index-entries");
}

static long part1_size(const char *dir)
{
    char path[600];
    struct stat sb;
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    return stat(path, &sb) == 0 ? (long)sb.st_size : -1;
}

/* ---- the cases kept beside the snapshot ---- */

/* The cases as a list shows them (bt_case_to_json without events), at now T0 + 5000, from a new index
 * over the log in dir: through bt_index_case_list when listed, else bt_index_cases; *decrypted: the
 * entries it read from the log. Its save follows, as at the end of a process. */
static char *case_list_of(const char *dir, int listed, int64_t *decrypted)
{
    bt_vault *v = NULL;
    const bt_cases *cs = NULL;
    int64_t unreadable = -1;
    char *out = calloc(1, 65536);
    size_t n = 0;
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    bt_index *ix = bt_index_new();
    CHECK_EQ(listed ? bt_index_case_list(ix, v, T0 + 5000, &cs, &unreadable)
                    : bt_index_cases(ix, v, T0 + 5000, &cs, &unreadable), BT_OK);
    CHECK_EQ(unreadable, 0);
    for (size_t i = 0; cs != NULL && i < bt_cases_count(cs); i++) {
        json_object *o = bt_case_to_json(bt_cases_at(cs, i), 0);
        n += (size_t)snprintf(out + n, 65536 - n, "%s\n", json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
        json_object_put(o);
    }
    *decrypted = bt_index_decrypted(ix);
    CHECK_EQ(bt_index_save(ix, v, 0), BT_OK);
    bt_index_free(ix);
    bt_vault_close(v);
    return out;
}

/* The snapshot log (snapshot_log), with an appeal and its rejection for record 1's case. */
static void cases_log(const char *dir)
{
    bt_vault *v = NULL;
    int64_t id = 0, at = 0, case_id = 0;
    snapshot_log(dir);
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    const char *events[] = {"{\"event\":\"appeal_submitted\",\"case\":1,\"at\":1764000300}",
                            "{\"event\":\"decision\",\"outcome\":\"rejected\",\"case\":1,\"at\":1764000400}"};
    for (int i = 0; i < 2; i++) {
        bt_event_in in;
        json_object *o = json_tokener_parse(events[i]);
        CHECK_EQ(bt_event_in_parse(&in, o, NULL), BT_OK);
        CHECK_EQ(bt_event_add(v, &in, T0 + 1000, &id, &at, &case_id, NULL), BT_OK);
        CHECK_EQ(case_id, 1);
        json_object_put(o);
    }
    bt_vault_close(v);
}

TEST(a_list_of_cases_is_taken_from_the_cases_kept_beside_the_snapshot_and_is_what_the_log_gives)
{
    char *dir = test_tmpdir(), path[600];
    int64_t decrypted = -1;
    struct stat sb;
    cases_log(dir);
    char *expected = case_list_of(dir, 0, &decrypted); /* built from the log, then saved with its cases */
    CHECK(strstr(expected, "\"attachment_count\":1") != NULL && strstr(expected, "\"outcome\":\"rejected\"") != NULL &&
          strstr(expected, "\"locked_out_ongoing\":true") != NULL);
    CHECK_EQ(decrypted, 6);
    char *got = case_list_of(dir, 1, &decrypted);
    CHECK_EQ(strcmp(got, expected), 0);
    CHECK_EQ(decrypted, 0); /* nothing read: the cases kept beside the snapshot */
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-cases", dir);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600);
    CHECK(!file_holds(path, "instagram") && !file_holds(path, "someone_else"));
    free(expected);
    free(got);
    free(dir);
}

TEST(cases_kept_beside_the_snapshot_are_not_listed_once_the_log_has_more_or_they_do_not_open)
{
    char *dir = test_tmpdir(), path[600];
    int64_t decrypted = -1;
    cases_log(dir);
    free(case_list_of(dir, 0, &decrypted)); /* saved with its cases: entries 1-6 */
    append_more(dir, "Your account @third_one was permanently disabled.");
    char *got = case_list_of(dir, 1, &decrypted), *expected = case_list_of(dir, 0, &decrypted);
    CHECK(strstr(got, "third_one") != NULL);
    CHECK_EQ(strcmp(got, expected), 0);
    free(got);
    /* altered: not taken, the index answers from the log */
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-cases", dir);
    FILE *f = fopen(path, "r+b");
    CHECK(f != NULL && fseek(f, 40, SEEK_SET) == 0 && fputc(0x5a ^ 0xff, f) != EOF);
    if (f) fclose(f);
    got = case_list_of(dir, 1, &decrypted);
    CHECK_EQ(strcmp(got, expected), 0);
    CHECK(decrypted == 0); /* from the snapshot's own entries, not the cases beside it */
    free(got);
    free(expected);
    free(dir);
}

TEST(a_save_appends_only_the_new_entries_to_the_snapshot_and_what_it_says_is_what_the_log_says)
{
    char *dir = test_tmpdir(), path[600];
    int64_t decrypted = 0;
    size_t n_before = 0, n_after = 0;
    snapshot_log(dir);
    free(answers_from_log(dir)); /* a snapshot written anew: entries 1-4 */
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    char *before = test_file_bytes(path, &n_before);
    append_more(dir, "Your account @third_one was permanently disabled.");
    free(answers(dir, &decrypted)); /* reads 5 and 6, and saves them */
    CHECK_EQ(decrypted, 2);
    char *after = test_file_bytes(path, &n_after);
    CHECK(n_after > n_before && memcmp(before, after, n_before) == 0); /* appended: what was there is untouched */
    append_more(dir, "Your account @fourth_one was permanently disabled.");
    free(answers(dir, &decrypted)); /* and again, a third segment */
    CHECK_EQ(decrypted, 2);
    char *got = answers(dir, &decrypted); /* all from the three segments */
    CHECK_EQ(decrypted, 0);
    char *expected = answers_from_log(dir);
    CHECK(strstr(got, "third_one") != NULL && strstr(got, "fourth_one") != NULL);
    CHECK_EQ(strcmp(got, expected), 0);
    free(before);
    free(after);
    free(got);
    free(expected);
    free(dir);
}

/* Damages done to a snapshot with a segment appended (set_aside writes it anew first). */
static long appended_at_;
static void append_segment(const char *dir)
{
    int64_t decrypted = 0;
    appended_at_ = part1_size(dir);
    append_more(dir, "Your account @appended was permanently disabled.");
    free(answers(dir, &decrypted));
    CHECK(part1_size(dir) > appended_at_);
}
static void appended_cut_off(const char *dir)
{
    char path[600];
    append_segment(dir);
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    CHECK(truncate(path, appended_at_) == 0); /* part 0 names a segment that is not there */
}
static void appended_flipped(const char *dir)
{
    append_segment(dir);
    flip_part(dir, "-index-entries", appended_at_ + 60);
}
static void appended_to_another_save(const char *dir)
{
    char path[600];
    size_t n = 0, m = 0;
    append_segment(dir); /* save 1: its token, two segments */
    copy_file(dir, other_dir_, BT_VAULT_DB "-index");
    copy_file(dir, other_dir_, BT_VAULT_DB "-index-entries");
    free(answers_from_log(dir)); /* save 2, written anew: another token, one segment */
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    char *fresh = test_file_bytes(path, &n);
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", other_dir_);
    char *was = test_file_bytes(path, &m);
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    FILE *f = fopen(path, "wb"); /* save 1's token (in clear) and part 0, save 2's first segment, save 1's second */
    fwrite(was, 1, 16, f);
    fwrite(fresh + 16, 1, n - 16, f);
    fwrite(was + appended_at_, 1, m - (size_t)appended_at_, f);
    fclose(f);
    copy_file(other_dir_, dir, BT_VAULT_DB "-index");
    free(fresh);
    free(was);
}
static void appended_swapped_part0(const char *dir)
{
    copy_file(dir, other_dir_, BT_VAULT_DB "-index"); /* part 0 of the save before... */
    append_segment(dir);
    appended_at_ = part1_size(dir);
    append_segment(dir); /* ...two appends later, a part 0 naming two segments fewer than there are: */
    copy_file(other_dir_, dir, BT_VAULT_DB "-index");
}

TEST(an_appended_segment_cut_off_altered_or_of_another_save_is_set_aside)
{
    char *dir = test_tmpdir(), *spare = test_tmpdir();
    snapshot_log(dir);
    other_dir_ = spare;
    set_aside(dir, "the appended segment cut off", appended_cut_off);
    set_aside(dir, "a byte flipped in the appended segment", appended_flipped);
    set_aside(dir, "another save's segment after this one's", appended_to_another_save);
    /* and an older part 0 of the same file is no damage: its segments are there; what follows is read */
    int64_t decrypted = 0;
    free(answers_from_log(dir));
    appended_swapped_part0(dir);
    CHECK(answers_agree(dir, &decrypted));
    CHECK_EQ(decrypted, 4); /* the two appended captures (a notice and its attachment each) only */
    free(dir);
    free(spare);
}

TEST(a_save_in_slices_appends_a_segment_each_and_a_log_no_longer_the_one_read_gets_none)
{
    char *dir = test_tmpdir(), *fork_dir = test_tmpdir();
    bt_vault *v = NULL;
    snapshot_log(dir);
    append_more(dir, "Your account @third_one was permanently disabled.");
    append_more(dir, "Your account @fourth_one was permanently disabled."); /* 8 entries */
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    bt_index *ix = bt_index_new();
    CHECK_EQ(bt_index_update(ix, v, 0, NULL), BT_OK);
    CHECK_EQ(bt_index_unsaved(ix), 8);
    long size = -1;
    for (int k = 1; k <= 3; k++) { /* 3, 3, then 2 */
        CHECK_EQ(bt_index_save(ix, v, 3), BT_OK);
        CHECK(part1_size(dir) > size);
        size = part1_size(dir);
        CHECK_EQ(bt_index_unsaved(ix), k < 3 ? 8 - 3 * k : 0);
        CHECK_EQ(test_index_reads(dir), k < 3 ? 8 - 3 * k : 0); /* each slice a snapshot of its own */
    }
    CHECK_EQ(bt_index_save(ix, v, 3), BT_OK); /* nothing new: nothing written */
    CHECK_EQ(part1_size(dir), size);
    bt_index_free(ix);
    bt_vault_close(v);
    int64_t decrypted = 0;
    CHECK(answers_agree(dir, &decrypted));
    CHECK_EQ(decrypted, 0);
    /* the log replaced under the index by a copy that went another way: a slice saves nothing of it */
    remove_snapshot(dir);
    copy_file(dir, fork_dir, BT_VAULT_DB);
    copy_file(dir, fork_dir, BT_VAULT_KEYFILE);
    append_more(fork_dir, "Your account @fork_one was permanently disabled.");
    append_more(dir, "Your account @main_one was permanently disabled.");
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    ix = bt_index_new();
    CHECK_EQ(bt_index_update(ix, v, 0, NULL), BT_OK);
    char from[600], to[600]; /* replaced as recover replaces it: another file under the name */
    snprintf(from, sizeof from, "%s/" BT_VAULT_DB, fork_dir);
    snprintf(to, sizeof to, "%s/" BT_VAULT_DB, dir);
    CHECK_EQ(rename(from, to), 0);
    CHECK_EQ(bt_index_save(ix, v, 3), BT_OK);
    CHECK_EQ(part1_size(dir), -1); /* no snapshot: the entries held are not this log's */
    CHECK_EQ(bt_index_last(ix), 0);
    bt_index_free(ix);
    bt_vault_close(v);
    free(dir);
    free(fork_dir);
}

/* The token at the start of part 1 (which save wrote it anew), as hex. */
static void part1_token(const char *dir, char out[33])
{
    char path[600];
    size_t n = 0;
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB "-index-entries", dir);
    char *b = test_file_bytes(path, &n);
    for (size_t i = 0; i < 16; i++) snprintf(out + 2 * i, 3, "%02x", i < n ? (unsigned char)b[i] : 0);
    free(b);
}

/* Keeps a box of box_msg in the log v, locked for it and unlocked again. */
static void keep_one_box(bt_capture *c, bt_vault *v, int64_t now)
{
    char *b64 = seal_b64(v, box_msg);
    bt_box_out box;
    bt_vault_lock(v);
    CHECK_EQ(put(c, b64, now, &box, NULL), BT_OK);
    CHECK(box.kind == BT_BOX_PENDING);
    bt_box_out_free(&box);
    free(b64);
}

TEST(the_scan_at_unlock_reads_what_follows_the_snapshot_through_the_index_once_and_finds_every_box)
{
    char *dir = test_tmpdir();
    bt_vault *v = NULL;
    snapshot_log(dir);
    CHECK_EQ(bt_vault_open(&v, dir), BT_OK);
    bt_capture *c = capture_of(v);
    CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0, NULL), 0); /* the scan's mark: the log's end */
    /* a box kept while locked, then an index saved over it by a process that scanned nothing */
    keep_one_box(c, v, T0 + 100);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    bt_index *other = bt_index_new();
    CHECK_EQ(bt_index_update(other, v, 0, NULL), BT_OK);
    CHECK_EQ(bt_index_save(other, v, 0), BT_OK);
    int64_t snap = bt_index_last(other);
    CHECK_EQ(snap, test_entries(v));
    bt_index_free(other);
    /* past the snapshot, locked: a box and a capture */
    keep_one_box(c, v, T0 + 200);
    capture_at(c, "Your account @third_one was permanently disabled.", T0 + 300);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    bt_index *ix = bt_index_new();
    CHECK_EQ(bt_inbox_expand_pending(c, ix, T0 + 400, NULL), 2); /* the box the snapshot covers too */
    /* the index read what follows the snapshot for the scan, then what the boxes became: all of it, once */
    CHECK_EQ(bt_index_last(ix), test_entries(v));
    CHECK_EQ(bt_index_decrypted(ix), test_entries(v) - snap);
    char *got = answers_of(v, ix);
    CHECK_EQ(bt_index_decrypted(ix), test_entries(v) - snap); /* the questions decrypted nothing more */
    bt_index_free(ix);
    ix = bt_index_new(); /* and it says what the log says */
    remove_snapshot(dir);
    char *expected = answers_of(v, ix);
    CHECK(strstr(expected, "third_one") != NULL);
    CHECK_EQ(strcmp(got, expected), 0);
    bt_index_free(ix);
    /* no snapshot: the scan reads the entries itself and the index is not built at unlock */
    keep_one_box(c, v, T0 + 500);
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    ix = bt_index_new();
    CHECK_EQ(bt_inbox_expand_pending(c, ix, T0 + 600, NULL), 1);
    CHECK_EQ(bt_index_decrypted(ix), 0);
    CHECK_EQ(bt_index_last(ix), 0);
    CHECK_EQ(bt_inbox_expand_pending(c, ix, T0 + 700, NULL), 0); /* delivered once */
    bt_index_free(ix);
    free(got);
    free(expected);
    bt_capture_free(c);
    bt_vault_close(v);
    free(dir);
}

static int64_t scan_mark(bt_vault *v)
{
    int64_t mark = -1;
    CHECK_EQ(bt_vault_mark(v, BT_VAULT_MARK_SCANNED, &mark), BT_OK);
    return mark;
}

TEST(the_scan_mark_follows_what_a_readable_log_appends_and_stops_before_a_kept_box)
{
    bt_vault *v = test_fresh_log();
    bt_capture *c = capture_of(v);
    capture_at(c, SUSPENDED_TEXT, T0);
    capture_at(c, "Your account @other_one was permanently disabled.", T0 + 1);
    CHECK_EQ(scan_mark(v), test_entries(v)); /* unprotected: every append carries it */
    CHECK_EQ(test_set_passphrase(v, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    capture_at(c, "Your account @third_one was permanently disabled.", T0 + 2);
    CHECK_EQ(scan_mark(v), test_entries(v)); /* unlocked: too */
    keep_one_box(c, v, T0 + 3);
    int64_t box = test_entries(v);
    capture_at(c, "Your account @fourth_one was permanently disabled.", T0 + 4);
    CHECK_EQ(scan_mark(v), box - 1); /* locked: left before the box */
    CHECK_EQ(bt_vault_unlock(v, PASS, strlen(PASS)), BT_OK);
    capture_at(c, "Your account @fifth_one was permanently disabled.", T0 + 5);
    CHECK_EQ(scan_mark(v), box - 1); /* readable again, but never over the box */
    CHECK_EQ(bt_inbox_expand_pending(c, NULL, T0 + 6, NULL), 1);
    CHECK_EQ(scan_mark(v), test_entries(v)); /* past what the box became: appends carry it on */
    capture_at(c, "Your account @sixth_one was permanently disabled.", T0 + 7);
    CHECK_EQ(scan_mark(v), test_entries(v));
    /* a log made before the mark: appends do not make one, the first scan reads everything */
    char *dir = test_tmpdir(), path[600];
    bt_vault *w = NULL;
    CHECK_EQ(bt_vault_open(&w, dir), BT_OK);
    bt_capture *d = capture_of(w);
    CHECK_EQ(test_set_passphrase(w, NULL, 0, PASS, strlen(PASS), &test_fast_kdf), BT_OK);
    keep_one_box(d, w, T0);
    CHECK_EQ(bt_vault_unlock(w, PASS, strlen(PASS)), BT_OK);
    bt_capture_free(d);
    bt_vault_close(w);
    snprintf(path, sizeof path, "%s/" BT_VAULT_DB, dir);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK &&
          sqlite3_exec(db, "DELETE FROM meta WHERE key = 'mark:" BT_VAULT_MARK_SCANNED "'", NULL, NULL, NULL) == SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ(bt_vault_open(&w, dir), BT_OK);
    d = capture_of(w);
    CHECK_EQ(bt_vault_unlock(w, PASS, strlen(PASS)), BT_OK);
    capture_at(d, "Your account @late_one was permanently disabled.", T0 + 10);
    CHECK_EQ(scan_mark(w), 0);
    CHECK_EQ(bt_inbox_expand_pending(d, NULL, T0 + 20, NULL), 1); /* the box before it found */
    CHECK_EQ(scan_mark(w), test_entries(w));
    bt_capture_free(d);
    bt_vault_close(w);
    free(dir);
    bt_capture_free(c);
    bt_vault_close(v);
}

TEST(two_processes_saving_one_snapshot_append_until_one_finds_the_file_written_by_the_other)
{
    char *dir = test_tmpdir(), t0[33], t1[33], t2[33];
    bt_vault *va = NULL, *vb = NULL;
    snapshot_log(dir);
    free(answers_from_log(dir)); /* a snapshot written anew */
    part1_token(dir, t0);
    CHECK_EQ(bt_vault_open(&va, dir), BT_OK);
    CHECK_EQ(bt_vault_open(&vb, dir), BT_OK);
    bt_index *a = bt_index_new(), *b = bt_index_new();
    CHECK_EQ(bt_index_update(a, va, 0, NULL), BT_OK); /* both take it */
    CHECK_EQ(bt_index_update(b, vb, 0, NULL), BT_OK);
    append_more(dir, "Your account @third_one was permanently disabled.");
    CHECK_EQ(bt_index_update(a, va, 0, NULL), BT_OK);
    CHECK_EQ(bt_index_update(b, vb, 0, NULL), BT_OK);
    CHECK_EQ(bt_index_save(a, va, 0), BT_OK); /* appended: the same file, the same token */
    part1_token(dir, t1);
    CHECK_EQ(strcmp(t0, t1), 0);
    CHECK_EQ(test_index_reads(dir), 0);
    CHECK_EQ(bt_index_save(b, vb, 0), BT_OK); /* the file no longer ends where b left it: anew */
    part1_token(dir, t2);
    CHECK(strcmp(t1, t2) != 0);
    CHECK_EQ(test_index_reads(dir), 0);
    append_more(dir, "Your account @fourth_one was permanently disabled.");
    CHECK_EQ(bt_index_update(a, va, 0, NULL), BT_OK);
    CHECK_EQ(bt_index_save(a, va, 0), BT_OK); /* and a, in turn, finds b's file: anew again */
    part1_token(dir, t1);
    CHECK(strcmp(t1, t2) != 0);
    bt_index_free(a);
    bt_index_free(b);
    bt_vault_close(va);
    bt_vault_close(vb);
    int64_t decrypted = 0;
    CHECK(answers_agree(dir, &decrypted));
    CHECK_EQ(decrypted, 0);
    free(dir);
}

TEST(a_snapshot_that_does_not_open_or_no_longer_fits_the_log_is_set_aside_and_the_log_read_again)
{
    char *dir = test_tmpdir(), *other = test_tmpdir(), *fork_dir = test_tmpdir(), *spare = test_tmpdir();
    int64_t decrypted = 0;
    snapshot_log(dir);
    set_aside(dir, "a byte flipped in part 0", flip_part0);
    set_aside(dir, "a byte flipped in part 1", flip_part1);
    set_aside(dir, "part 1 cut in half", cut_part1);
    other_dir_ = spare;
    set_aside(dir, "part 1 of an earlier save", old_part1);
    /* another log's snapshot (another key pair) */
    snapshot_log(other);
    append_more(other, "Your account @elsewhere was permanently disabled.");
    free(answers_from_log(other));
    other_dir_ = other;
    set_aside(dir, "another log's", put_others);
    /* a copy of this log (same keys, same genesis) that went another way: it opens, but names another
     * entry at the id it covers */
    copy_file(dir, fork_dir, BT_VAULT_DB);
    copy_file(dir, fork_dir, BT_VAULT_KEYFILE);
    append_more(fork_dir, "Your account @fork_one was permanently disabled.");
    free(answers_from_log(fork_dir));
    append_more(dir, "Your account @main_one was permanently disabled.");
    other_dir_ = fork_dir;
    set_aside(dir, "a copy's that went another way", put_others);
    /* a snapshot newer than the log: the log put back as it was before its last entries */
    copy_file(dir, spare, BT_VAULT_DB);
    append_more(dir, "Your account @later was permanently disabled.");
    char *later = answers_from_log(dir);
    copy_file(spare, dir, BT_VAULT_DB);
    char *got = answers(dir, &decrypted);
    CHECK(strstr(later, "later") != NULL && strstr(got, "later") == NULL);
    CHECK(decrypted >= 4);
    free(later);
    free(got);
    free(dir);
    free(other);
    free(fork_dir);
    free(spare);
}

RUN_TESTS(T(boxes_kept_while_locked_are_delivered_in_groups_and_a_bad_one_waits_without_holding_back_the_rest),
          T(a_repeat_within_24_hours_is_an_occurrence_and_after_them_a_new_notice),
          T(a_locked_log_folds_nothing_at_capture_and_reading_folds_its_repeats),
          T(another_notice_within_24_hours_is_not_an_occurrence),
          T(a_new_process_remembers_repeats_from_the_log_within_24_hours_only),
          T(a_manual_capture_is_stored_and_never_folded_and_a_non_notice_is_not_stored),
          T(capture_fields_are_checked_and_the_refused_one_named),
          T(an_attachment_is_stored_for_a_record_and_refused_without_one),
          T(a_sealed_box_expands_into_the_same_records_as_a_direct_capture),
          T(a_box_kept_while_locked_is_expanded_once_even_if_expand_runs_twice),
          T(a_malformed_sealed_box_is_refused_and_leaves_the_log_intact),
          T(a_malformed_box_kept_while_locked_stays_pending_and_is_not_stored),
          T(a_sealed_event_is_added_as_event_add_adds_it), T(a_kill_while_kept_boxes_are_stored_never_stores_one_twice),
          T(a_scan_in_slices_killed_at_any_moment_stores_each_box_once),
          T(a_scan_in_slices_sees_what_is_appended_between_its_steps),
          T(a_box_sent_again_is_stored_once_whether_the_log_is_readable_locked_or_reopened),
          T(the_index_finds_what_names_a_record_written_before_or_after_it_was_built),
          T(the_index_sees_entries_another_handle_appended_and_a_log_replaced_under_it),
          T(the_index_is_taken_from_its_snapshot_and_says_what_the_log_says),
          T(a_snapshot_older_than_the_log_reads_only_what_another_process_appended),
          T(a_snapshot_that_does_not_open_or_no_longer_fits_the_log_is_set_aside_and_the_log_read_again),
          T(a_list_of_cases_is_taken_from_the_cases_kept_beside_the_snapshot_and_is_what_the_log_gives),
          T(cases_kept_beside_the_snapshot_are_not_listed_once_the_log_has_more_or_they_do_not_open),
          T(a_save_appends_only_the_new_entries_to_the_snapshot_and_what_it_says_is_what_the_log_says),
          T(an_appended_segment_cut_off_altered_or_of_another_save_is_set_aside),
          T(a_save_in_slices_appends_a_segment_each_and_a_log_no_longer_the_one_read_gets_none),
          T(two_processes_saving_one_snapshot_append_until_one_finds_the_file_written_by_the_other),
          T(the_scan_at_unlock_reads_what_follows_the_snapshot_through_the_index_once_and_finds_every_box),
          T(the_scan_mark_follows_what_a_readable_log_appends_and_stops_before_a_kept_box))
