/* Sharing a case anonymously: what reaches the union, checked by opening the
 * sealed report with the (demo) union's key. */
#define _GNU_SOURCE /* memmem */
#include <json-c/json.h>
#include <sodium.h>

#include "bantrail/classify.h"
#include "bantrail/report.h"
#include "bantrail/rpc.h"
#include "bantrail/send.h"
#include "bantrail/share.h"
#include "check.h"

/* What a person's notices may hold that must never reach a union. */
static const char *const planted[] = {"@jane.doe.1987", "jane.doe@example.org", "+33 6 12 34 56 78",
                                      "instagram.com/jane.doe.1987", "Jane Doe", "2026-03-03", "10:00"};

static json_object *ask(bt_rpc *r, const char *method, json_object *params, bt_err *err)
{
    json_object *req = json_object_new_object();
    json_object_object_add(req, "id", json_object_new_int(1));
    json_object_object_add(req, "method", json_object_new_string(method));
    if (params) json_object_object_add(req, "params", params);
    size_t n, out_len;
    char *frame = strdup(json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &n));
    char *out = bt_rpc_handle(r, frame, n, BT_OK, &out_len, NULL, err);
    json_object *rep = json_tokener_parse(out), *res = NULL;
    json_object_object_get_ex(rep, "result", &res);
    json_object_get(res);
    json_object_put(rep);
    json_object_put(req);
    free(frame);
    free(out);
    return res;
}

static int64_t capture(bt_rpc *r, const char *url, const char *text, const char *observed)
{
    bt_err err;
    json_object *p = json_object_new_object();
    json_object_object_add(p, "url", json_object_new_string(url));
    json_object_object_add(p, "text", json_object_new_string(text));
    json_object_object_add(p, "observed_at", json_object_new_string(observed));
    json_object *res = ask(r, "capture", p, &err);
    int64_t id = json_object_get_int64(json_object_object_get(res, "id"));
    CHECK_EQ(err, BT_OK);
    CHECK(json_object_get_boolean(json_object_object_get(res, "stored")));
    json_object_put(res);
    return id;
}

static json_object *preview(bt_rpc *r, int64_t case_id, const char *union_id, bt_err *err)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "case", json_object_new_int64(case_id));
    json_object_object_add(p, "union", json_object_new_string(union_id));
    return ask(r, "report_preview", p, err);
}

/* Queues the previewed report; returns the wire text (the caller frees). */
static char *queue(bt_rpc *r, int64_t case_id, const char *json, bt_err *err)
{
    json_object *p = json_object_new_object();
    json_object_object_add(p, "case", json_object_new_int64(case_id));
    json_object_object_add(p, "union", json_object_new_string("demo"));
    json_object_object_add(p, "confirm", json_object_new_boolean(1));
    json_object_object_add(p, "json", json_object_new_string(json));
    json_object *res = ask(r, "report_queue", p, err);
    char *wire = res ? strdup(json_object_get_string(json_object_object_get(res, "wire"))) : NULL;
    json_object_put(res);
    return wire;
}

static bt_rpc *log_with_two_cases(int64_t *a, int64_t *b)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 1);
    free(dir);
    *a = capture(r, "https://www.instagram.com/accounts/suspended/",
                 "Jane Doe, we suspended your account @jane.doe.1987 on 3 March 2026 at 10:00 for inauthentic "
                 "behaviour. Contact: jane.doe@example.org, +33 6 12 34 56 78, instagram.com/jane.doe.1987. "
                 "You have 180 days left to disagree with this decision.",
                 "2026-03-03T10:00:00Z");
    *b = capture(r, "https://x.com/account/suspended",
                 "Your account, @jane.doe.1987, has been suspended. After careful review, we determined your "
                 "account broke the X Rules.",
                 "2026-03-04T08:00:00Z");
    return r;
}

TEST(nothing_identifying_reaches_the_union)
{
    int64_t a, b;
    bt_err err;
    bt_rpc *r = log_with_two_cases(&a, &b);
    unsigned char pk[crypto_box_PUBLICKEYBYTES], sk[crypto_box_SECRETKEYBYTES];
    bt_share_demo_keypair(pk, sk);
    for (int64_t id = a; id <= b; id += b - a) {
        json_object *pv = preview(r, id, "demo", &err);
        CHECK_EQ(err, BT_OK);
        const char *json = json_object_get_string(json_object_object_get(pv, "json"));
        const char *words = json_object_to_json_string(json_object_object_get(pv, "words"));
        char *wire = queue(r, id, json, &err);
        CHECK_EQ(err, BT_OK);
        bt_report opened;
        char back[BT_REPORT_JSON_MAX + 1];
        size_t n = 0;
        const char *why = NULL;
        CHECK_EQ(bt_report_open(&opened, NULL, wire, strlen(wire), pk, sk, BT_REPORT_POW_DEFAULT, &why), BT_OK);
        CHECK_EQ(bt_report_render(back, sizeof back, &n, &opened), BT_OK);
        CHECK(strcmp(back, json) == 0); /* the union gets exactly the preview */
        CHECK(strncmp(json, "{\"v\":2,", 7) == 0); /* made in schema 2 */
        for (size_t i = 0; i < sizeof planted / sizeof planted[0]; i++) {
            CHECK(strstr(json, planted[i]) == NULL);
            CHECK(strstr(back, planted[i]) == NULL);
            CHECK(strstr(words, planted[i]) == NULL);
        }
        CHECK(strstr(back, "\"week\":\"2026-W10\"") != NULL);
        /* the envelope is whole blocks: header, sealed 1 KiB blocks, nonce */
        unsigned char env[BT_REPORT_ENVELOPE_MAX];
        size_t env_len = 0;
        CHECK_EQ(sodium_base642bin(env, sizeof env, wire, strlen(wire), NULL, &env_len, NULL,
                                   sodium_base64_VARIANT_ORIGINAL), 0);
        CHECK_EQ(env_len, BT_REPORT_ENVELOPE_BYTES(1));
        free(wire);
        json_object_put(pv);
    }
    sodium_memzero(sk, sizeof sk);
    bt_rpc_free(r);
}

TEST(the_planted_data_is_in_the_log_the_reports_come_from)
{
    /* the negative side of the test above: the data was there to leak */
    int64_t a, b;
    bt_err err;
    bt_rpc *r = log_with_two_cases(&a, &b);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "id", json_object_new_int64(a));
    json_object *res = ask(r, "get", p, &err);
    json_object *record = json_object_object_get(res, "record");
    const char *text = json_object_get_string(json_object_object_get(record, "text"));
    const char *observed = json_object_get_string(json_object_object_get(record, "observed_at"));
    CHECK_EQ(err, BT_OK);
    for (size_t i = 0; i < 5; i++) CHECK(text != NULL && strstr(text, planted[i]) != NULL); /* handle .. name */
    CHECK(observed != NULL && strcmp(observed, "2026-03-03T10:00:00Z") == 0); /* the exact time */
    json_object_put(res);
    bt_rpc_free(r);
}

TEST(reports_of_different_cases_share_no_identifier)
{
    int64_t a, b;
    bt_err err;
    bt_rpc *r = log_with_two_cases(&a, &b);
    json_object *pa = preview(r, a, "demo", &err), *pb = preview(r, b, "demo", &err);
    const char *ida = json_object_get_string(json_object_object_get(json_object_object_get(pa, "report"), "report_id"));
    const char *idb = json_object_get_string(json_object_object_get(json_object_object_get(pb, "report"), "report_id"));
    CHECK(ida != NULL && idb != NULL && strcmp(ida, idb) != 0);
    /* the same case for the same union keeps its id once queued: the union updates it */
    char *wire = queue(r, a, json_object_get_string(json_object_object_get(pa, "json")), &err);
    CHECK_EQ(err, BT_OK);
    json_object *again = preview(r, a, "demo", &err);
    CHECK(strcmp(json_object_get_string(json_object_object_get(json_object_object_get(again, "report"), "report_id")),
                 ida) == 0);
    free(wire);
    json_object_put(pa);
    json_object_put(pb);
    json_object_put(again);
    bt_rpc_free(r);
}

TEST(only_the_previewed_report_is_sealed)
{
    int64_t a, b;
    bt_err err;
    bt_rpc *r = log_with_two_cases(&a, &b);
    json_object *pv = preview(r, a, "demo", &err);
    char *json = strdup(json_object_get_string(json_object_object_get(pv, "json")));
    char *at = strstr(json, "\"instagram\"");
    memcpy(at, "\"facebook\" ", 11); /* a different platform, same length */
    char *wire = queue(r, a, json, &err);
    CHECK(wire == NULL);
    CHECK_EQ(err, BT_ERR_BAD_PARAMS);
    json_object *p = json_object_new_object();
    json_object_object_add(p, "case", json_object_new_int64(a));
    json_object_object_add(p, "union", json_object_new_string("demo"));
    json_object_object_add(p, "json", json_object_new_string(json));
    json_object_put(ask(r, "report_queue", p, &err)); /* no confirm */
    CHECK_EQ(err, BT_ERR_BAD_PARAMS);
    json_object *list = ask(r, "report_list", NULL, &err);
    CHECK_EQ(json_object_array_length(json_object_object_get(list, "reports")), 0);
    json_object_put(list);
    free(json);
    json_object_put(pv);
    bt_rpc_free(r);
}

/* The classifier's rules name schema 1's values; a new report holds their
 * schema 2 equivalents (docs/REPORT.md section 1), in the preview too. */
TEST(a_new_report_states_the_schema_2_equivalent_of_what_the_classifier_found)
{
    char *dir = test_tmpdir();
    bt_rpc *r = bt_rpc_new(dir, 1);
    bt_err err;
    free(dir);
    int64_t id = capture(r, "https://www.instagram.com/accounts/suspended/",
                         "We suspended your account for bullying and harassment. You have 30 days left to disagree.",
                         "2026-03-03T10:00:00Z");
    json_object *pv = preview(r, id, "demo", &err);
    CHECK_EQ(err, BT_OK);
    const char *json = json_object_get_string(json_object_object_get(pv, "json"));
    CHECK(json != NULL && strncmp(json, "{\"v\":2,", 7) == 0);
    CHECK(json != NULL && strstr(json, "\"stated\":{\"category\":\"STATEMENT_CATEGORY_CYBER_VIOLENCE\","
                                       "\"keywords\":[\"KEYWORD_CYBER_BULLYING_INTIMIDATION\"]}") != NULL);
    CHECK(json != NULL && strstr(json, "ONLINE_BULLYING") == NULL && strstr(json, "NON_CONSENSUAL_BEHAVIOUR") == NULL);
    json_object_put(pv);
    bt_rpc_free(r);
}

/* A reason the classifier can find but the report schemas do not know
 * would reach a union as "no reason stated": every one must be known, in
 * schema 2 or in schema 1 (whose values the host turns into their schema 2
 * equivalents, docs/REPORT.md section 1). */
TEST(every_reason_the_rules_can_find_has_its_value_in_the_report)
{
    json_object *rules = json_tokener_parse(bt_classify_rules_json(NULL)), *reasons = NULL;
    CHECK(json_object_object_get_ex(rules, "reasons", &reasons) && json_object_array_length(reasons) > 10);
    for (size_t i = 0; i < json_object_array_length(reasons); i++) {
        json_object *reason = json_object_array_get_idx(reasons, i), *k = NULL, *c = NULL;
        json_object_object_get_ex(reason, "key", &k);
        json_object_object_get_ex(reason, "category", &c);
        const char *key = json_object_get_string(k), *category = json_object_get_string(c);
        int known = key != NULL && category != NULL &&
                    (bt_report_list_value(2, BT_RF_CATEGORY, category) > 0 ||
                     bt_report_list_value(1, BT_RF_CATEGORY, category) > 0) &&
                    (bt_report_list_value(2, BT_RF_KEYWORD, key) > 0 || bt_report_list_value(1, BT_RF_KEYWORD, key) > 0 ||
                     strcmp(key, category) == 0);
        if (!known) fprintf(stderr, "  not in the report schema: %s / %s\n", key, category);
        CHECK(known);
    }
    CHECK_EQ(bt_report_enum_value(BT_RF_KEYWORD, "KEYWORD_NOT_IN_THE_SCHEMA"), 0);
    CHECK_EQ(bt_report_enum_value(BT_RF_CATEGORY, "STATEMENT_CATEGORY_NOT_IN_THE_SCHEMA"), 0);
    CHECK_EQ(bt_report_list_value(1, BT_RF_KEYWORD, "KEYWORD_NOT_IN_THE_SCHEMA"), 0);
    json_object_put(rules);
}

/* The one sending policy (bantrail/send.h): every answer a collector gives
 * lands where docs/REPORT.md "Sending" says, and the waits follow the table. */
TEST(each_collector_answer_has_one_outcome)
{
    static const struct { long status; const char *code; bt_send_outcome want; } cases[] = {
        {0, NULL, BT_SEND_RETRY},          {202, NULL, BT_SEND_SENT},
        {409, "replayed", BT_SEND_SENT},   {429, "too_many_reports", BT_SEND_RETRY},
        {503, "busy", BT_SEND_RETRY},      {500, NULL, BT_SEND_RETRY},
        {408, NULL, BT_SEND_RETRY},        {400, "insufficient_work", BT_SEND_FAILED},
        {400, "bad_envelope", BT_SEND_FAILED}, {413, "frame_too_large", BT_SEND_FAILED},
        {422, "bad_report", BT_SEND_FAILED}, {302, NULL, BT_SEND_FAILED},
        {101, NULL, BT_SEND_FAILED},       {404, NULL, BT_SEND_FAILED},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        const bt_send_answer *a = bt_send_classify(cases[i].status, cases[i].code);
        if (a->outcome != cases[i].want) fprintf(stderr, "  HTTP %ld %s\n", cases[i].status, cases[i].code);
        CHECK_EQ(a->outcome, cases[i].want);
    }
    CHECK(strstr(bt_send_classify(400, "insufficient_work")->say, "proof of work") != NULL);
    CHECK(strstr(bt_send_classify(400, NULL)->say, "refused") != NULL);
    CHECK(!strcmp(bt_send_outcome_name(BT_SEND_RETRY), "retry"));
    CHECK_EQ(bt_send_retry_wait(1, 0, 0.5), BT_SEND_RETRY_BASE);
    CHECK_EQ(bt_send_retry_wait(3, 0, 0.5), 4 * BT_SEND_RETRY_BASE);
    CHECK_EQ(bt_send_retry_wait(40, 0, 0.5), BT_SEND_RETRY_CAP);
    CHECK_EQ(bt_send_retry_wait(1, 0, 0.0), BT_SEND_RETRY_BASE * (100 - BT_SEND_RETRY_JITTER) / 100);
    CHECK_EQ(bt_send_retry_wait(1, 5, 0.5), BT_SEND_RETRY_BASE);   /* Retry-After 5 s: never sooner */
    CHECK_EQ(bt_send_retry_wait(1, 600, 0.5), 600);                /* nor sooner than the union asks */
    CHECK_EQ(bt_send_retry_wait(1, 999999, 0.5), BT_SEND_RETRY_CAP);
    json_object *p = bt_send_policy_json(), *answers = NULL;
    CHECK(json_object_object_get_ex(p, "answers", &answers));
    CHECK_EQ(json_object_array_length(answers), bt_send_answers_count);
    json_object_put(p);
}

RUN_TESTS(T(a_new_report_states_the_schema_2_equivalent_of_what_the_classifier_found),
          T(every_reason_the_rules_can_find_has_its_value_in_the_report), T(nothing_identifying_reaches_the_union),
          T(the_planted_data_is_in_the_log_the_reports_come_from),
          T(reports_of_different_cases_share_no_identifier), T(only_the_previewed_report_is_sealed),
          T(each_collector_answer_has_one_outcome))
