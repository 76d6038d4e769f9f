/* The sending policy's one table (bantrail/send.h, docs/REPORT.md
 * "Sending"). */
#include "bantrail/send.h"

#include <math.h>
#include <string.h>

const bt_send_answer bt_send_answers[] = {
    {0, 0, NULL, BT_SEND_RETRY, NULL}, /* no answer: network error or timeout */
    {200, 299, NULL, BT_SEND_SENT, NULL},
    {300, 399, NULL, BT_SEND_FAILED, "the union's address redirects elsewhere: not followed"},
    /* replayed: these very bytes were received before (an earlier try whose
     * answer was lost), so the union has the report */
    {409, 409, NULL, BT_SEND_SENT, "the union already had it"},
    {408, 408, NULL, BT_SEND_RETRY, NULL},
    {429, 429, NULL, BT_SEND_RETRY, "too many reports from this address"},
    {400, 400, "insufficient_work", BT_SEND_FAILED,
     "the union demands more proof of work: import its entry again, then share again"},
    {400, 499, NULL, BT_SEND_FAILED, "refused by the union"},
    {503, 503, NULL, BT_SEND_RETRY, "the union is busy"},
    {500, 599, NULL, BT_SEND_RETRY, NULL},
    {100, 999, NULL, BT_SEND_FAILED, "refused by the union"},
};
const size_t bt_send_answers_count = sizeof bt_send_answers / sizeof bt_send_answers[0];

static const char *const outcome_names[] = {"sent", "retry", "failed"};

const bt_send_answer *bt_send_classify(long status, const char *code)
{
    for (size_t i = 0; i < bt_send_answers_count; i++) {
        const bt_send_answer *a = &bt_send_answers[i];
        if (status >= a->from && status <= a->to && (a->code == NULL || (code != NULL && !strcmp(a->code, code))))
            return a;
    }
    return &bt_send_answers[bt_send_answers_count - 1];
}

const char *bt_send_outcome_name(bt_send_outcome o)
{
    return outcome_names[o];
}

int64_t bt_send_retry_wait(int n, int64_t retry_after, double random)
{
    double d = BT_SEND_RETRY_BASE * ldexp(1.0, n < 1 ? 0 : n > 31 ? 30 : n - 1);
    if (d > BT_SEND_RETRY_CAP) d = BT_SEND_RETRY_CAP;
    d *= 1.0 + (BT_SEND_RETRY_JITTER / 100.0) * (2.0 * random - 1.0);
    int64_t wait = (int64_t)llround(d);
    if (retry_after > BT_SEND_RETRY_CAP) retry_after = BT_SEND_RETRY_CAP;
    return retry_after > wait ? retry_after : wait;
}

json_object *bt_send_policy_json(void)
{
    json_object *p = json_object_new_object(), *delay = json_object_new_object(), *retry = json_object_new_object();
    json_object *answers = json_object_new_array();
    json_object_object_add(delay, "min", json_object_new_int(BT_SEND_DELAY_MIN));
    json_object_object_add(delay, "max", json_object_new_int(BT_SEND_DELAY_MAX));
    json_object_object_add(delay, "limit", json_object_new_int(BT_SEND_DELAY_LIMIT));
    json_object_object_add(p, "first_delay", delay);
    json_object_object_add(retry, "base", json_object_new_int(BT_SEND_RETRY_BASE));
    json_object_object_add(retry, "cap", json_object_new_int(BT_SEND_RETRY_CAP));
    json_object_object_add(retry, "jitter_percent", json_object_new_int(BT_SEND_RETRY_JITTER));
    json_object_object_add(retry, "tries", json_object_new_int(BT_SEND_TRIES));
    json_object_object_add(retry, "timeout", json_object_new_int(BT_SEND_TIMEOUT));
    json_object_object_add(p, "retry", retry);
    for (size_t i = 0; i < bt_send_answers_count; i++) {
        const bt_send_answer *a = &bt_send_answers[i];
        json_object *row = json_object_new_object();
        json_object_object_add(row, "from", json_object_new_int(a->from));
        json_object_object_add(row, "to", json_object_new_int(a->to));
        json_object_object_add(row, "code", a->code ? json_object_new_string(a->code) : NULL);
        json_object_object_add(row, "outcome", json_object_new_string(outcome_names[a->outcome]));
        json_object_object_add(row, "say", a->say ? json_object_new_string(a->say) : NULL);
        json_object_array_add(answers, row);
    }
    json_object_object_add(p, "answers", answers);
    json_object_object_add(p, "detail_max", json_object_new_int(BT_SEND_DETAIL_MAX));
    return p;
}
