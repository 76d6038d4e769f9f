/* Cases (include/bantrail/cases.h): linking by handle and by time window,
 * per platform; the person's merges and splits; derived times and the
 * 10-minute flag. And the evidence export (include/bantrail/export.h): what
 * it holds, how it escapes, and how it writes files. */
#include <errno.h>
#include <sodium.h>
#include <unistd.h>

#include "check.h"
#include "bantrail/cases.h"
#include "bantrail/export.h"
#include "bantrail/vault.h"

#define T0 1772532000 /* 2026-03-03T10:00:00Z */
#define DAY 86400
#define NOW (T0 + 10 * DAY)

static const char PNG[] = "\x89PNG\r\n\x1a\n\0\0\0\rIHDR";

/* A notice header: platform, kind, handle (NULL: none), captured_at. */
static json_object *notice(const char *platform, const char *kind, const char *handle, int64_t at)
{
    char buf[1024];
    snprintf(buf, sizeof buf,
             "{\"type\":\"notice\",\"url\":\"https://example.org/\",\"text\":\"t\",\"captured_at\":%lld,"
             "\"classification\":{\"notice\":true,\"platform\":\"%s\",\"kind\":\"%s\",\"facts\":{\"dates\":[],"
             "\"handle\":%s%s%s}}}",
             (long long)at, platform, kind, handle ? "\"" : "", handle ? handle : "null", handle ? "\"" : "");
    json_object *o = json_tokener_parse(buf);
    if (o == NULL) abort();
    return o;
}

static json_object *parse(const char *s)
{
    json_object *o = json_tokener_parse(s);
    if (o == NULL) abort();
    return o;
}

/* Feeds the headers (consumed) as entries 1..n and finishes at NOW. */
static bt_cases *build(json_object **heads, size_t n)
{
    bt_cases *cs = NULL;
    if (bt_cases_new(&cs) != BT_OK) abort();
    for (size_t i = 0; i < n; i++) {
        CHECK_EQ(bt_cases_add(cs, (int64_t)i + 1, heads[i]), BT_OK);
        json_object_put(heads[i]);
    }
    CHECK_EQ(bt_cases_finish(cs, NOW), BT_OK);
    return cs;
}

#define BUILD(...) build((json_object *[]){__VA_ARGS__}, sizeof((json_object *[]){__VA_ARGS__}) / sizeof(json_object *))

/* ---- linking ---- */

TEST(same_handle_links_however_far_apart)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@maria.k", T0),
                         notice("instagram", "appeal_rejected", "@Maria.K", T0 + 90 * DAY));
    CHECK_EQ(bt_cases_count(cs), 1);
    CHECK_EQ(bt_cases_at(cs, 0)->n_events, 2);
    CHECK(strcmp(bt_cases_at(cs, 0)->handle, "@maria.k") == 0);
    bt_cases_free(cs);
}

TEST(among_many_cases_a_handle_finds_its_own_and_one_without_a_handle_still_takes_the_first)
{
    /* more cases than the handle index first holds, on two platforms, each handle written two ways */
    enum { N = 300 };
    bt_cases *cs = NULL;
    char h[32];
    int64_t id = 1;
    CHECK_EQ(bt_cases_new(&cs), BT_OK);
    json_object *o = notice("x", "suspension", NULL, T0); /* a case without a handle, first */
    CHECK_EQ(bt_cases_add(cs, id++, o), BT_OK);
    json_object_put(o);
    for (int round = 0; round < 2; round++)
        for (int i = 0; i < N; i++) {
            snprintf(h, sizeof h, round == 0 ? "@user%d" : "USER%d", i);
            o = notice(i % 2 ? "instagram" : "x", "suspension", h, T0 + (int64_t)1000 * DAY + (round * N + i) * 60);
            CHECK_EQ(bt_cases_add(cs, id++, o), BT_OK);
            json_object_put(o);
        }
    /* the first handle-less record far later: no case within its window */
    o = notice("x", "suspension", NULL, T0 + (int64_t)5000 * DAY);
    CHECK_EQ(bt_cases_add(cs, id++, o), BT_OK);
    json_object_put(o);
    CHECK_EQ(bt_cases_finish(cs, NOW), BT_OK);
    /* the handles came 1000 days after the first case, outside its window: each handle a case of its
     * own, the first record one and the last (outside every window) one more */
    CHECK_EQ(bt_cases_count(cs), 1 + N + 1);
    for (size_t k = 0; k < bt_cases_count(cs); k++) {
        const bt_case *c = bt_cases_at(cs, k);
        CHECK(c->n_events == (c->handle[0] != '\0' ? 2u : 1u)); /* both spellings of each handle together */
    }
    bt_cases_free(cs);
}

TEST(different_handles_on_one_platform_are_two_cases)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@maria.k", T0),
                         notice("instagram", "suspension", "@other", T0 + 60));
    CHECK_EQ(bt_cases_count(cs), 2);
    bt_cases_free(cs);
}

TEST(no_handle_joins_within_the_window_only)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@maria.k", T0),
                         notice("instagram", "appeal_received", NULL, T0 + 2 * DAY),      /* joins */
                         notice("instagram", "appeal_rejected", NULL, T0 + 2 * DAY + 31 * DAY)); /* too late */
    CHECK_EQ(bt_cases_count(cs), 2);
    CHECK_EQ(bt_cases_at(cs, 0)->n_events, 2);
    CHECK_EQ(bt_cases_at(cs, 1)->id, 3);
    CHECK_EQ(bt_cases_at(cs, 1)->n_events, 1);
    bt_cases_free(cs);
}

TEST(window_is_measured_from_the_last_event)
{
    bt_cases *cs = BUILD(notice("x", "suspension", NULL, T0), notice("x", "warning", NULL, T0 + 29 * DAY),
                         notice("x", "appeal_rejected", NULL, T0 + 58 * DAY));
    CHECK_EQ(bt_cases_count(cs), 1);
    bt_cases_free(cs);
}

TEST(two_platforms_never_share_a_case)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", NULL, T0), notice("facebook", "suspension", NULL, T0 + 5),
                         notice("facebook", "appeal_received", NULL, T0 + 60));
    CHECK_EQ(bt_cases_count(cs), 2);
    CHECK(strcmp(bt_cases_at(cs, 1)->platform, "facebook") == 0);
    CHECK_EQ(bt_cases_at(cs, 1)->n_events, 2);
    bt_cases_free(cs);
}

TEST(a_case_without_handle_takes_the_first_that_joins)
{
    bt_cases *cs = BUILD(notice("instagram", "checkpoint", NULL, T0), notice("instagram", "disabled", "@maria.k", T0 + DAY),
                         notice("instagram", "disabled", "@other", T0 + DAY + 5));
    CHECK_EQ(bt_cases_count(cs), 2);
    CHECK(strcmp(bt_cases_at(cs, 0)->handle, "@maria.k") == 0);
    CHECK_EQ(bt_cases_at(cs, 0)->n_events, 2);
    bt_cases_free(cs);
}

TEST(event_naming_a_case_joins_it)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", NULL, T0),
                         parse("{\"type\":\"event\",\"event\":\"appeal_submitted\",\"platform\":\"instagram\","
                               "\"at\":1780000000,\"manual\":true,\"case\":1,\"captured_at\":1780000000}"));
    CHECK_EQ(bt_cases_count(cs), 1); /* months later, but named */
    const bt_case_event *e = bt_case_event_of(bt_cases_at(cs, 0), 2);
    CHECK(e != NULL && e->manual && !e->is_notice && e->event == BT_EVENT_APPEAL_SUBMITTED && e->at_stated);
    bt_cases_free(cs);
}

TEST(observed_at_is_the_time_else_captured_at)
{
    json_object *a = notice("instagram", "suspension", NULL, T0 + 500), *b = notice("instagram", "warning", NULL, T0 + 900);
    json_object_object_add(a, "observed_at", json_object_new_string("2026-03-03T12:00:00+02:00"));
    json_object_object_add(b, "observed_at", json_object_new_string("yesterday"));
    bt_cases *cs = BUILD(a, b);
    const bt_case *c = bt_cases_at(cs, 0);
    CHECK_EQ(bt_case_event_of(c, 1)->at, T0);
    CHECK(bt_case_event_of(c, 1)->at_stated);
    CHECK_EQ(bt_case_event_of(c, 2)->at, T0 + 900);
    CHECK(!bt_case_event_of(c, 2)->at_stated);
    bt_cases_free(cs);
}

TEST(attachments_and_occurrences_follow_their_record)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", NULL, T0),
                         parse("{\"type\":\"attachment\",\"of\":1,\"mime\":\"image/png\",\"size\":3,\"captured_at\":1772532001}"),
                         parse("{\"type\":\"occurrence\",\"of\":1,\"captured_at\":1775000000}"),
                         parse("{\"type\":\"attachment\",\"of\":99,\"mime\":\"image/png\",\"size\":3}"));
    const bt_case_event *e = bt_case_event_of(bt_cases_at(cs, 0), 1);
    CHECK_EQ(bt_cases_count(cs), 1);
    CHECK(e != NULL && e->n_attachments == 1 && e->attachments[0] == 2);
    CHECK(e != NULL && e->sightings == 2 && e->last_seen == 1775000000);
    CHECK_EQ(bt_cases_at(cs, 0)->n_events, 1); /* neither is an event */
    bt_cases_free(cs);
}

TEST(ids_must_increase)
{
    bt_cases *cs = NULL;
    json_object *h = notice("x", "warning", NULL, T0);
    CHECK_EQ(bt_cases_new(&cs), BT_OK);
    CHECK_EQ(bt_cases_add(cs, 5, h), BT_OK);
    CHECK_EQ(bt_cases_add(cs, 5, h), BT_ERR_BAD_PARAMS);
    CHECK_EQ(bt_cases_add(cs, 3, h), BT_ERR_BAD_PARAMS);
    CHECK_EQ(bt_cases_finish(cs, NOW), BT_OK);
    CHECK_EQ(bt_cases_add(cs, 4, h), BT_ERR_BAD_PARAMS); /* after finishing too */
    json_object_put(h);
    h = notice("y", "warning", NULL, T0 + 60);
    CHECK_EQ(bt_cases_add(cs, 9, h), BT_OK); /* later ones are added, and derived at the next finish */
    CHECK(bt_cases_of_record(cs, 9) == NULL);
    CHECK_EQ(bt_cases_finish(cs, NOW), BT_OK);
    CHECK(bt_cases_of_record(cs, 9) != NULL && bt_cases_of_record(cs, 5) != NULL);
    json_object_put(h);
    bt_cases_free(cs);
}

/* ---- merge and split ---- */

TEST(merge_joins_two_cases_and_later_records_follow)
{
    /* 40 days apart and no handle on the second: two cases until the person merges them */
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@a", T0), notice("instagram", "disabled", NULL, T0 + 40 * DAY),
                         parse("{\"type\":\"case_merge\",\"cases\":[2,1]}"),
                         notice("instagram", "appeal_rejected", NULL, T0 + 41 * DAY));
    CHECK_EQ(bt_cases_count(cs), 1);
    const bt_case *c = bt_cases_at(cs, 0);
    CHECK_EQ(c->id, 1);
    CHECK_EQ(c->n_events, 3);
    CHECK(strcmp(c->handle, "@a") == 0);
    bt_cases_free(cs);
}

TEST(merge_naming_an_unknown_case_changes_nothing)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@a", T0), notice("facebook", "suspension", NULL, T0),
                         parse("{\"type\":\"case_merge\",\"cases\":[1,7]}"),
                         parse("{\"type\":\"case_merge\",\"cases\":[1,1]}"));
    CHECK_EQ(bt_cases_count(cs), 2);
    bt_cases_free(cs);
}

TEST(split_moves_the_record_and_its_later_ones)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@a", T0), notice("instagram", "appeal_received", NULL, T0 + 60),
                         notice("instagram", "suspension", "@a", T0 + 5 * DAY),
                         notice("instagram", "appeal_rejected", NULL, T0 + 5 * DAY + 60),
                         parse("{\"type\":\"case_split\",\"record\":3}"),
                         parse("{\"type\":\"case_split\",\"record\":1}")); /* the first record: ignored */
    CHECK_EQ(bt_cases_count(cs), 2);
    CHECK_EQ(bt_cases_at(cs, 0)->id, 1);
    CHECK_EQ(bt_cases_at(cs, 0)->n_events, 2);
    CHECK_EQ(bt_cases_at(cs, 1)->id, 3);
    CHECK_EQ(bt_cases_at(cs, 1)->n_events, 2);
    CHECK(bt_cases_of_record(cs, 4) == bt_cases_at(cs, 1));
    bt_cases_free(cs);
}

TEST(split_then_merge_gives_the_case_back)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@a", T0), notice("instagram", "appeal_received", NULL, T0 + 60),
                         parse("{\"type\":\"case_split\",\"record\":2}"),
                         parse("{\"type\":\"case_merge\",\"cases\":[1,2]}"));
    CHECK_EQ(bt_cases_count(cs), 1);
    CHECK_EQ(bt_cases_at(cs, 0)->n_events, 2);
    bt_cases_free(cs);
}

/* ---- derived times ---- */

static json_object *event(const char *name, const char *outcome, int64_t at)
{
    char buf[512];
    snprintf(buf, sizeof buf, "{\"type\":\"event\",\"event\":\"%s\",%s%s%s\"platform\":\"instagram\",\"at\":%lld,"
             "\"manual\":false,\"captured_at\":%lld}", name, outcome ? "\"outcome\":\"" : "", outcome ? outcome : "",
             outcome ? "\"," : "", (long long)at, (long long)at);
    return parse(buf);
}

TEST(full_story_gives_the_durations_and_the_fast_flag)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@a", T0), event("appeal_submitted", NULL, T0 + 7500),
                         notice("instagram", "appeal_received", NULL, T0 + 7560),
                         notice("instagram", "appeal_rejected", NULL, T0 + 7500 + 270));
    const bt_case *c = bt_cases_at(cs, 0);
    CHECK_EQ(bt_cases_count(cs), 1);
    CHECK_EQ(c->n_events, 4);
    CHECK_EQ(c->restricted_at, T0);
    CHECK_EQ(c->appealed_at, T0 + 7500);
    CHECK_EQ(c->acknowledged_at, T0 + 7560);
    CHECK_EQ(c->answered_at, T0 + 7770);
    CHECK_EQ(c->restriction_to_appeal, 7500);
    CHECK_EQ(c->appeal_to_answer, 270);
    CHECK(c->fast_answer);
    CHECK_EQ(c->outcome, BT_OUTCOME_REJECTED);
    CHECK(c->locked_out_ongoing);
    CHECK_EQ(c->locked_out, NOW - T0);
    CHECK_EQ(c->n_appeals, 1);
    bt_cases_free(cs);
}

TEST(an_answer_after_eleven_minutes_is_not_flagged)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", NULL, T0), event("appeal_submitted", NULL, T0 + 100),
                         event("decision", "rejected", T0 + 100 + 11 * 60));
    CHECK(!bt_cases_at(cs, 0)->fast_answer);
    CHECK_EQ(bt_cases_at(cs, 0)->appeal_to_answer, 660);
    bt_cases_free(cs);
    cs = BUILD(notice("instagram", "suspension", NULL, T0), event("appeal_submitted", NULL, T0 + 100),
               event("decision", "rejected", T0 + 100 + 10 * 60));
    CHECK(bt_cases_at(cs, 0)->fast_answer); /* exactly ten minutes still is */
    bt_cases_free(cs);
}

TEST(reinstatement_ends_the_lock_out)
{
    bt_cases *cs = BUILD(notice("instagram", "disabled", NULL, T0), event("appeal_submitted", NULL, T0 + DAY),
                         notice("instagram", "appeal_reinstated", NULL, T0 + 3 * DAY));
    const bt_case *c = bt_cases_at(cs, 0);
    CHECK_EQ(c->reinstated_at, T0 + 3 * DAY);
    CHECK_EQ(c->locked_out, 3 * DAY);
    CHECK(!c->locked_out_ongoing);
    CHECK(!c->fast_answer);
    CHECK_EQ(c->outcome, BT_OUTCOME_REINSTATED);
    bt_cases_free(cs);
}

TEST(no_appeal_no_answer_times)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", NULL, T0), notice("instagram", "appeal_rejected", NULL, T0 + 60));
    const bt_case *c = bt_cases_at(cs, 0);
    CHECK_EQ(c->appealed_at, -1);
    CHECK_EQ(c->appeal_to_answer, -1); /* a decision without a known submission is not timed */
    CHECK(!c->fast_answer);
    CHECK_EQ(c->outcome, BT_OUTCOME_REJECTED);
    bt_cases_free(cs);
}

TEST(a_warning_alone_locks_nobody_out)
{
    bt_cases *cs = BUILD(notice("instagram", "warning", NULL, T0));
    CHECK_EQ(bt_cases_at(cs, 0)->restricted_at, T0);
    CHECK_EQ(bt_cases_at(cs, 0)->locked_out, -1);
    CHECK_EQ(bt_cases_at(cs, 0)->outcome, BT_OUTCOME_NONE);
    bt_cases_free(cs);
}

TEST(a_second_submission_before_the_answer_keeps_the_first)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", NULL, T0), event("appeal_submitted", NULL, T0 + 100),
                         event("appeal_submitted", NULL, T0 + 500), event("decision", "rejected", T0 + 700),
                         event("appeal_submitted", NULL, T0 + DAY));
    const bt_case *c = bt_cases_at(cs, 0);
    CHECK_EQ(c->n_appeals, 2);
    CHECK_EQ(c->appeal_to_answer, 600);
    CHECK_EQ(c->outcome, BT_OUTCOME_PENDING); /* the second round waits */
    bt_cases_free(cs);
}

TEST(case_json_has_durations_and_events)
{
    bt_cases *cs = BUILD(notice("instagram", "suspension", "@a", T0), event("appeal_submitted", NULL, T0 + 60),
                         event("decision", "rejected", T0 + 240));
    json_object *o = bt_case_to_json(bt_cases_at(cs, 0), 1), *d = NULL, *ev = NULL;
    CHECK(json_object_object_get_ex(o, "durations", &d));
    CHECK_EQ(json_object_get_int64(json_object_object_get(d, "appeal_to_answer_minutes")), 3);
    CHECK(json_object_get_boolean(json_object_object_get(o, "answered_within_10_minutes")));
    CHECK(json_object_object_get_ex(o, "events", &ev) && json_object_array_length(ev) == 3);
    CHECK(strcmp(json_object_get_string(json_object_object_get(json_object_array_get_idx(ev, 2), "outcome")),
                 "rejected") == 0);
    json_object_put(o);
    bt_cases_free(cs);
}

TEST(iso_times_parse_strictly)
{
    int64_t t = 0;
    CHECK(bt_cases_parse_time("2026-03-03T10:00:00Z", &t) == 0 && t == T0);
    CHECK(bt_cases_parse_time("2026-03-03T11:30:00.250+01:30", &t) == 0 && t == T0);
    CHECK(bt_cases_parse_time("2026-03-03T05:00-0500", &t) == 0 && t == T0);
    CHECK(bt_cases_parse_time("2026-03-03", &t) == 0 && t == T0 - 10 * 3600);
    CHECK(bt_cases_parse_time("2024-02-29 00:00", &t) == 0);
    CHECK(bt_cases_parse_time("2026-02-29", &t) == -1);
    CHECK(bt_cases_parse_time("2026-02-30", &t) == -1);
    CHECK(bt_cases_parse_time("2026-03-03T24:00Z", &t) == -1);
    CHECK(bt_cases_parse_time("2026-03-03T10:00:00Zjunk", &t) == -1);
    CHECK(bt_cases_parse_time("3 March 2026", &t) == -1);
    CHECK(bt_cases_parse_time("", &t) == -1);
}

/* ---- with a real log: hashes and the export ---- */

static void append(bt_vault *v, const char *head, const void *body, size_t body_len)
{
    int64_t id;
    CHECK_EQ(bt_vault_append(v, head, strlen(head), body, body_len, &id), BT_OK);
}

static bt_vault *story_vault(void)
{
    bt_vault *v = NULL;
    char *dir = test_tmpdir();
    if (bt_vault_open(&v, dir) != BT_OK) abort();
    free(dir);
    append(v, "{\"type\":\"notice\",\"url\":\"https://www.instagram.com/accounts/suspended/\",\"title\":\"<b>Suspended</b>\","
              "\"text\":\"We suspended your account <script>alert(1)</script> & \\\"more\\\"\",\"observed_at\":"
              "\"2026-03-03T10:00:00Z\",\"captured_at\":1772532005,\"classification\":{\"notice\":true,\"platform\":"
              "\"instagram\",\"kind\":\"suspension\",\"facts\":{\"handle\":\"@maria.k\"}}}", NULL, 0);
    append(v, "{\"type\":\"attachment\",\"of\":1,\"mime\":\"image/png\",\"size\":16,\"captured_at\":1772532006}",
           PNG, sizeof PNG - 1);
    append(v, "{\"type\":\"event\",\"event\":\"appeal_submitted\",\"platform\":\"instagram\",\"at\":1772539500,"
              "\"manual\":false,\"note\":\"<img src=x onerror=alert(2)>\",\"captured_at\":1772539500}", NULL, 0);
    append(v, "{\"type\":\"attachment\",\"of\":3,\"mime\":\"image/png\",\"size\":4,\"captured_at\":1772539501}",
           "GIF8", 4); /* not what it says it is: never embedded */
    return v;
}

TEST(entry_hash_is_the_chain_head_of_the_last_entry)
{
    bt_vault *v = story_vault();
    bt_vault_verify_result vr;
    unsigned char h[BT_HASH_BYTES], h3[BT_HASH_BYTES];
    CHECK_EQ(bt_vault_verify(v, &vr), BT_OK);
    CHECK_EQ(bt_vault_entry_hash(v, 4, h), BT_OK);
    CHECK(memcmp(h, vr.head, sizeof h) == 0);
    CHECK_EQ(bt_vault_entry_hash(v, 3, h3), BT_OK);
    CHECK(memcmp(h, h3, sizeof h) != 0);
    CHECK_EQ(bt_vault_entry_hash(v, 5, h), BT_ERR_NOT_FOUND);
    bt_vault_close(v);
}

TEST(html_export_escapes_page_text_and_embeds_true_images_only)
{
    bt_vault *v = story_vault();
    char *doc = NULL, head_hex[2 * BT_HASH_BYTES + 1];
    size_t len = 0;
    int64_t upto = 0;
    unsigned char head[BT_HASH_BYTES];
    CHECK_EQ(bt_export_case(&doc, &len, v, 1, BT_EXPORT_HTML, &upto, NOW, NULL), BT_OK);
    CHECK_EQ(upto, 4);
    CHECK(doc != NULL && strlen(doc) == len);
    CHECK(strstr(doc, "<script") == NULL);
    CHECK(strstr(doc, "&lt;script&gt;alert(1)&lt;/script&gt; &amp; &quot;more&quot;") != NULL);
    CHECK(strstr(doc, "<img src=x") == NULL && strstr(doc, "&lt;img src=x onerror=alert(2)&gt;") != NULL);
    CHECK(strstr(doc, "&lt;b&gt;Suspended&lt;/b&gt;") != NULL);
    CHECK(strstr(doc, "src=\"data:image/png;base64,iVBORw0KGgo") != NULL);
    CHECK(strstr(doc, "data:image/png;base64,R0lG") == NULL); /* the fake PNG */
    CHECK(strstr(doc, "default-src 'none'") != NULL);
    CHECK(strstr(doc, "http://") == NULL);
    CHECK_EQ(bt_vault_entry_hash(v, 4, head), BT_OK);
    sodium_bin2hex(head_hex, sizeof head_hex, head, sizeof head);
    CHECK(strstr(doc, head_hex) != NULL);
    CHECK(strstr(doc, "bantrail verify") != NULL);
    bt_export_free(doc, len);
    bt_vault_close(v);
}

TEST(html_export_is_in_the_persons_language_with_words_not_keys)
{
    bt_vault *v = story_vault();
    static const struct {
        const char *lang, *html_lang, *heading, *timeline, *kind;
    } want[] = {
        {NULL, "en", "Account restriction: evidence record", "Timeline", "Suspension"},
        {"fr-FR", "fr", "Restriction de compte : dossier de preuve", "Chronologie", "Suspension"},
        {"ko_KR.UTF-8", "ko", "계정 제한: 증거 기록", "타임라인", "정지"},
        {"de", "en", "Account restriction: evidence record", "Timeline", "Suspension"}, /* not offered: English */
    };
    for (size_t i = 0; i < sizeof want / sizeof want[0]; i++) {
        char *doc = NULL, attr[32];
        size_t len = 0;
        int64_t upto = 0;
        CHECK_EQ(bt_export_case(&doc, &len, v, 1, BT_EXPORT_HTML, &upto, NOW, want[i].lang), BT_OK);
        snprintf(attr, sizeof attr, "<html lang=\"%s\">", want[i].html_lang);
        CHECK(strstr(doc, attr) != NULL);
        CHECK(strstr(doc, want[i].heading) != NULL);
        CHECK(strstr(doc, want[i].timeline) != NULL);
        CHECK(strstr(doc, want[i].kind) != NULL);
        CHECK(strstr(doc, "Instagram") != NULL);            /* the platform's name */
        CHECK(strstr(doc, "platform_") == NULL && strstr(doc, "ex_") == NULL && strstr(doc, "kind_") == NULL);
        CHECK(strstr(doc, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL); /* page text still escaped */
        CHECK(strstr(doc, "<code>bantrail verify</code>") != NULL);
        bt_export_free(doc, len);
    }
    bt_vault_close(v);
}

TEST(export_is_the_same_for_the_same_upto_and_time)
{
    bt_vault *v = story_vault();
    char *a = NULL, *b = NULL;
    size_t an = 0, bn = 0;
    int64_t upto = 0, upto2;
    CHECK_EQ(bt_export_case(&a, &an, v, 1, BT_EXPORT_JSON, &upto, NOW, NULL), BT_OK);
    append(v, "{\"type\":\"event\",\"event\":\"decision\",\"outcome\":\"rejected\",\"platform\":\"instagram\","
              "\"at\":1772539800,\"captured_at\":1772539800}", NULL, 0);
    upto2 = upto;
    CHECK_EQ(bt_export_case(&b, &bn, v, 1, BT_EXPORT_JSON, &upto2, NOW, NULL), BT_OK);
    CHECK(an == bn && memcmp(a, b, an) == 0);
    bt_export_free(b, bn);
    upto2 = 0;
    CHECK_EQ(bt_export_case(&b, &bn, v, 1, BT_EXPORT_JSON, &upto2, NOW, NULL), BT_OK);
    CHECK_EQ(upto2, 5);
    CHECK(bn != an);
    json_object *o = json_tokener_parse(b), *k = NULL;
    CHECK(json_object_object_get_ex(o, "case", &k));
    CHECK_EQ(json_object_get_int64(json_object_object_get(k, "event_count")), 3);
    json_object_put(o);
    bt_export_free(a, an);
    bt_export_free(b, bn);
    int64_t past = 9;
    CHECK_EQ(bt_export_case(&a, &an, v, 1, BT_EXPORT_JSON, &past, NOW, NULL), BT_ERR_NOT_FOUND);
    past = 0;
    CHECK_EQ(bt_export_case(&a, &an, v, 2, BT_EXPORT_JSON, &past, NOW, NULL), BT_ERR_NOT_FOUND); /* 2 is an attachment */
    bt_vault_close(v);
}

TEST(save_refuses_an_existing_file_and_a_symlink)
{
    char *dir = test_tmpdir(), path[256], link[256], target[256];
    struct stat sb;
    snprintf(path, sizeof path, "%s/out.html", dir);
    snprintf(link, sizeof link, "%s/link.html", dir);
    snprintf(target, sizeof target, "%s/target", dir);
    CHECK_EQ(bt_export_save(path, "one", 3, 0), 0);
    CHECK(stat(path, &sb) == 0 && (sb.st_mode & 0777) == 0600 && sb.st_size == 3);
    errno = 0;
    CHECK_EQ(bt_export_save(path, "two!", 4, 0), -1);
    CHECK_EQ(errno, EEXIST);
    CHECK(stat(path, &sb) == 0 && sb.st_size == 3);
    CHECK_EQ(bt_export_save(path, "two!", 4, 1), 0); /* asked for: replaced */
    CHECK(stat(path, &sb) == 0 && sb.st_size == 4);
    CHECK_EQ(symlink(target, link), 0);
    CHECK_EQ(bt_export_save(link, "x", 1, 0), -1);
    CHECK_EQ(bt_export_save(link, "x", 1, 1), -1);
    CHECK_EQ(errno, ELOOP);
    CHECK(lstat(target, &sb) != 0); /* nothing was created through the link */
    free(dir);
}

TEST(durations_read_for_people)
{
    char b[64];
    bt_export_duration(b, sizeof b, 45, NULL);
    CHECK(strcmp(b, "45 s") == 0);
    bt_export_duration(b, sizeof b, 270, NULL);
    CHECK(strcmp(b, "4 min") == 0);
    bt_export_duration(b, sizeof b, 7500, NULL);
    CHECK(strcmp(b, "2 h 5 min") == 0);
    bt_export_duration(b, sizeof b, 3 * DAY + 4 * 3600, NULL);
    CHECK(strcmp(b, "3 d 4 h") == 0);
    /* in the person's language; an unknown one is English */
    bt_export_duration(b, sizeof b, 3 * DAY + 4 * 3600, "fr-CA");
    CHECK(strcmp(b, "3 j 4 h") == 0);
    bt_export_duration(b, sizeof b, 7500, "ko");
    CHECK(strcmp(b, "2시간 5분") == 0);
    bt_export_duration(b, sizeof b, 7500, "tlh");
    CHECK(strcmp(b, "2 h 5 min") == 0);
    bt_export_duration(b, sizeof b, -1, NULL);
    CHECK(strcmp(b, "-") == 0);
}

RUN_TESTS(T(same_handle_links_however_far_apart),
          T(among_many_cases_a_handle_finds_its_own_and_one_without_a_handle_still_takes_the_first), T(different_handles_on_one_platform_are_two_cases),
          T(no_handle_joins_within_the_window_only), T(window_is_measured_from_the_last_event),
          T(two_platforms_never_share_a_case), T(a_case_without_handle_takes_the_first_that_joins),
          T(event_naming_a_case_joins_it), T(observed_at_is_the_time_else_captured_at),
          T(attachments_and_occurrences_follow_their_record), T(ids_must_increase),
          T(merge_joins_two_cases_and_later_records_follow), T(merge_naming_an_unknown_case_changes_nothing),
          T(split_moves_the_record_and_its_later_ones), T(split_then_merge_gives_the_case_back),
          T(full_story_gives_the_durations_and_the_fast_flag), T(an_answer_after_eleven_minutes_is_not_flagged),
          T(reinstatement_ends_the_lock_out), T(no_appeal_no_answer_times), T(a_warning_alone_locks_nobody_out),
          T(a_second_submission_before_the_answer_keeps_the_first), T(case_json_has_durations_and_events),
          T(iso_times_parse_strictly), T(entry_hash_is_the_chain_head_of_the_last_entry),
          T(html_export_escapes_page_text_and_embeds_true_images_only), T(html_export_is_in_the_persons_language_with_words_not_keys),
          T(export_is_the_same_for_the_same_upto_and_time), T(save_refuses_an_existing_file_and_a_symlink),
          T(durations_read_for_people))
