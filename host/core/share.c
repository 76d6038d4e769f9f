#include "bantrail/share.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bantrail/version.h"
#include "util/json.h"

/* Seconds in an ISO 8601 duration such as "P3D", "PT24H", "P1DT12H"; -1 if not one. */
static int64_t duration_seconds(const char *s)
{
    int64_t total = 0, n = -1;
    int in_time = 0;
    if (s == NULL || *s++ != 'P') return -1;
    for (; *s; s++) {
        if (*s == 'T') { in_time = 1; continue; }
        if (*s >= '0' && *s <= '9') {
            n = (n < 0 ? 0 : n) * 10 + (*s - '0');
            if (n > 100000000) return -1;
            continue;
        }
        if (n < 0) return -1;
        switch (*s) {
        case 'Y': total += n * 365 * 86400; break;
        case 'W': total += n * 7 * 86400; break;
        case 'D': total += n * 86400; break;
        case 'H': total += n * 3600; break;
        case 'M': total += in_time ? n * 60 : n * 30 * 86400; break;
        case 'S': total += n; break;
        default: return -1;
        }
        n = -1;
    }
    return n < 0 ? total : -1;
}

/* The first restriction event of c, or NULL. */
static const bt_case_event *first_restriction(const bt_case *c)
{
    for (size_t i = 0; i < c->n_events; i++)
        if (c->events[i].event == BT_EVENT_RESTRICTION && c->events[i].is_notice) return &c->events[i];
    return NULL;
}

/* A category or keyword name (either schema's) -> its value in the schema
 * reports are made in, or 0. */
static int stated_now(bt_report_field f, const char *name)
{
    int v = bt_report_list_value(BT_REPORT_SCHEMA, f, name);
    if (v == 0) v = bt_report_to_figures(1, f, bt_report_list_value(1, f, name));
    return v <= bt_report_list_count(BT_REPORT_SCHEMA, f) ? v : 0;
}

bt_err bt_share_derive(bt_report *out, const bt_case *c, json_object *notice, const bt_share_context *ctx,
                       const unsigned char id[BT_REPORT_ID_BYTES], const char **why)
{
    const bt_case_event *ev = first_restriction(c);
    json_object *cls = NULL, *facts = NULL, *x = NULL;
    memset(out, 0, sizeof *out);
    *why = NULL;
    if (ev == NULL) {
        *why = "the case has no restriction notice to report";
        return BT_ERR_NOT_FOUND;
    }
    json_object_object_get_ex(notice, "classification", &cls);
    json_object_object_get_ex(cls, "facts", &facts);
    memcpy(out->id, id, BT_REPORT_ID_BYTES);
    out->client = (uint32_t)BT_VERSION_MAJOR << 20 | (uint32_t)BT_VERSION_MINOR << 10 | (uint32_t)BT_VERSION_PATCH;
    out->platform = (uint8_t)bt_report_enum_value(BT_RF_PLATFORM, c->platform);
    if (out->platform == 0) out->platform = (uint8_t)bt_report_enum_value(BT_RF_PLATFORM, "other");
    out->kind = (uint8_t)bt_report_enum_value(BT_RF_KIND, ev->kind);

    /* what was stated, in the DSA keys of the schema reports are made in
     * (the classifier's may be schema 1's: each becomes its schema 2
     * equivalent, or nothing when it has none, docs/REPORT.md section 1) */
    out->v = BT_REPORT_SCHEMA;
    const char *reason = bt_json_str(cls, "reason"), *category = bt_json_str(cls, "category");
    int kw = stated_now(BT_RF_KEYWORD, reason);
    out->category = (uint8_t)stated_now(BT_RF_CATEGORY, category);
    if (kw > 0) out->keywords[(kw - 1) / 64] = (uint64_t)1 << ((kw - 1) % 64);
    else if (out->category == 0) out->category = (uint8_t)stated_now(BT_RF_CATEGORY, reason);

    /* the ISO week of the restriction, never the day; durations in buckets */
    out->week = bt_report_week_of(c->restricted_at >= 0 ? c->restricted_at : ev->at);
    const char *dur = bt_json_str(facts, "duration");
    out->duration = (uint8_t)bt_report_duration_bucket(duration_seconds(dur), dur != NULL && !strcmp(dur, "permanent"));

    /* the appeal: offered if the notice gave days to disagree or the person appealed */
    int days_left = json_object_object_get_ex(facts, "days_left", &x) && json_object_is_type(x, json_type_int);
    out->submitted = c->appealed_at >= 0;
    out->offered = (uint8_t)bt_report_enum_value(BT_RF_OFFERED, days_left || out->submitted ? "yes" : "unknown");
    if (out->submitted) {
        const char *outcome = c->outcome == BT_OUTCOME_REJECTED     ? "rejected"
                              : c->outcome == BT_OUTCOME_REINSTATED ? "reinstated"
                                                                    : "pending";
        out->outcome = (uint8_t)bt_report_enum_value(BT_RF_OUTCOME, outcome);
        out->delay = (uint8_t)bt_report_delay_bucket(c->outcome == BT_OUTCOME_PENDING ? -1 : c->appeal_to_answer);
    }

    /* only what the person chose to add */
    if (ctx != NULL) {
        if (ctx->account_type != NULL &&
            (out->account_type = (uint8_t)bt_report_enum_value(BT_RF_ACCOUNT_TYPE, ctx->account_type)) == 0) {
            *why = "account type must be personal, business or creator";
            return BT_ERR_BAD_PARAMS;
        }
        if (ctx->paid_verification >= 0)
            out->paid = (uint8_t)bt_report_enum_value(BT_RF_PAID, ctx->paid_verification ? "yes" : "no");
        if (ctx->country != NULL &&
            (out->country = (uint16_t)bt_report_enum_value(BT_RF_COUNTRY, ctx->country)) == 0) {
            *why = "country must be an ISO 3166-1 alpha-2 code such as DE";
            return BT_ERR_BAD_PARAMS;
        }
    }
    bt_err err = bt_report_check(out, why);
    return err == BT_OK ? BT_OK : BT_ERR_NOT_FOUND;
}

__attribute__((format(printf, 2, 3))) static void line(json_object *arr, const char *fmt, ...)
{
    char buf[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    json_object_array_add(arr, json_object_new_string(buf));
}

json_object *bt_share_words(const bt_report *r)
{
    json_object *arr = json_object_new_array();
    char week[16];
    const char *name;
    if (arr == NULL) return NULL;
    snprintf(week, sizeof week, "%04d-W%02d", r->week / 100, r->week % 100);
    line(arr, "Platform: %s. What happened: %s, in ISO week %s (the week only, never the day).",
         bt_report_enum_name(BT_RF_PLATFORM, r->platform), bt_report_enum_name(BT_RF_KIND, r->kind), week);
    if (r->category != 0)
        line(arr, "Stated reason (EU DSA category): %s.", bt_report_list_name(r->v, BT_RF_CATEGORY, r->category));
    int any_kw = 0;
    for (int k = 0; k < 64 * BT_REPORT_KEYWORD_WORDS; k++)
        if (r->keywords[k / 64] >> (k % 64) & 1) {
            line(arr, "Stated reason (EU DSA keyword): %s.", bt_report_list_name(r->v, BT_RF_KEYWORD, k + 1));
            any_kw = 1;
        }
    if (r->category == 0 && !any_kw) line(arr, "No reason was stated.");
    line(arr, "Stated duration: %s.", bt_report_enum_name(BT_RF_DURATION, r->duration));
    line(arr, "Appeal offered: %s.", bt_report_enum_name(BT_RF_OFFERED, r->offered));
    if (r->submitted) {
        line(arr, "An appeal was made; outcome: %s; answered after: %s.", bt_report_enum_name(BT_RF_OUTCOME, r->outcome),
             bt_report_enum_name(BT_RF_DELAY, r->delay));
    } else {
        line(arr, "No appeal is known.");
    }
    if ((name = bt_report_enum_name(BT_RF_ACCOUNT_TYPE, r->account_type)) != NULL) line(arr, "Account type: %s.", name);
    if ((name = bt_report_enum_name(BT_RF_PAID, r->paid)) != NULL) line(arr, "Paid verification: %s.", name);
    if ((name = bt_report_enum_name(BT_RF_COUNTRY, r->country)) != NULL) line(arr, "Country: %s.", name);
    line(arr, "Not included: your handle, name, account, the notice's text and address, screenshots, "
              "exact dates and anything about your device.");
    return arr;
}
