/* The collector's figures and open-data export (include/bantrail/collect.h,
 * docs/REPORT.md "Figures"). One sequential scan of the integer columns,
 * counted in fixed arrays; rows with values outside the schema (a store
 * edited by hand) are counted as skipped, never indexed. */
#include "collect/collect_int.h"

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sodium.h>

#include "bantrail/words.h"

#define YEAR0 2020
#define YEARS 80
#define WEEK_SLOTS (YEARS * 53)
#define MAXV 256

typedef struct {
    int64_t total, skipped;
    int64_t uncounted; /* kept without a membership token under "counted": not in the figures */
    int64_t v[BT_RF_COUNT_][MAXV]; /* per field, per value (0 = absent) */
    int64_t week[WEEK_SLOTS];
    int64_t submitted, answered, within10;
    int64_t p_sub[MAXV], p_ans[MAXV], p_w10[MAXV];
} agg;

static int ok_value(bt_report_field f, int64_t x, int absent_ok)
{
    return (x >= 1 && x <= bt_report_enum_count(f)) || (absent_ok && x == 0);
}

static bt_err aggregate(bt_collect *c, agg *a)
{
    sqlite3_stmt *s = NULL;
    int rc;
    const int pending = bt_report_enum_value(BT_RF_OUTCOME, "pending");
    const int lt10 = bt_report_enum_value(BT_RF_DELAY, "lt_10m");
    const int nkw = bt_report_enum_count(BT_RF_KEYWORD);
    memset(a, 0, sizeof *a);
    if (sqlite3_prepare_v2(c->db,
                           "SELECT platform,kind,category,keywords,week,duration,offered,submitted,outcome,"
                           "delay,account_type,paid,country,counted FROM reports",
                           -1, &s, NULL) != SQLITE_OK)
        return BT_ERR_STORAGE;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t platform = sqlite3_column_int64(s, 0), kind = sqlite3_column_int64(s, 1);
        int64_t category = sqlite3_column_int64(s, 2);
        uint64_t keywords = (uint64_t)sqlite3_column_int64(s, 3);
        int64_t week = sqlite3_column_int64(s, 4), duration = sqlite3_column_int64(s, 5);
        int64_t offered = sqlite3_column_int64(s, 6), submitted = sqlite3_column_int64(s, 7);
        int64_t outcome = sqlite3_column_int64(s, 8), delay = sqlite3_column_int64(s, 9);
        int64_t account = sqlite3_column_int64(s, 10), paid = sqlite3_column_int64(s, 11);
        int64_t country = sqlite3_column_int64(s, 12);
        int64_t wy = week / 100 - YEAR0, ww = week % 100;
        if (sqlite3_column_int64(s, 13) == 0) {
            a->uncounted++;
            continue;
        }
        if (!ok_value(BT_RF_PLATFORM, platform, 0) || !ok_value(BT_RF_KIND, kind, 0) ||
            !ok_value(BT_RF_CATEGORY, category, 1) || (nkw < 64 && keywords >> nkw) ||
            wy < 0 || wy >= YEARS || ww < 1 || ww > 53 || !ok_value(BT_RF_DURATION, duration, 0) ||
            !ok_value(BT_RF_OFFERED, offered, 0) || (submitted != 0 && submitted != 1) ||
            !ok_value(BT_RF_OUTCOME, outcome, !submitted) || !ok_value(BT_RF_DELAY, delay, !submitted) ||
            !ok_value(BT_RF_ACCOUNT_TYPE, account, 1) || !ok_value(BT_RF_PAID, paid, 1) ||
            !ok_value(BT_RF_COUNTRY, country, 1)) {
            a->skipped++;
            continue;
        }
        a->total++;
        a->v[BT_RF_PLATFORM][platform]++;
        a->v[BT_RF_KIND][kind]++;
        a->v[BT_RF_CATEGORY][category]++;
        for (uint64_t k = keywords; k != 0; k &= k - 1) a->v[BT_RF_KEYWORD][__builtin_ctzll(k) + 1]++;
        a->week[wy * 53 + ww - 1]++;
        a->v[BT_RF_DURATION][duration]++;
        a->v[BT_RF_OFFERED][offered]++;
        a->v[BT_RF_ACCOUNT_TYPE][account]++;
        a->v[BT_RF_PAID][paid]++;
        a->v[BT_RF_COUNTRY][country]++;
        if (submitted) {
            a->submitted++;
            a->p_sub[platform]++;
            a->v[BT_RF_OUTCOME][outcome]++;
            a->v[BT_RF_DELAY][delay]++;
            if (outcome != pending) {
                a->answered++;
                a->p_ans[platform]++;
                if (delay == lt10) {
                    a->within10++;
                    a->p_w10[platform]++;
                }
            }
        }
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? BT_OK : BT_ERR_STORAGE;
}

static void week_name(char out[16], int slot)
{
    snprintf(out, 16, "%04d-W%02d", YEAR0 + slot / 53, slot % 53 + 1);
}

/* ---- JSON ---- */

static json_object *counts(const agg *a, bt_report_field f, const char *absent, int zeros)
{
    json_object *o = json_object_new_object();
    if (absent != NULL && (zeros || a->v[f][0]))
        json_object_object_add(o, absent, json_object_new_int64(a->v[f][0]));
    for (int v = 1; v <= bt_report_enum_count(f); v++)
        if (zeros || a->v[f][v])
            json_object_object_add(o, bt_report_enum_name(f, v), json_object_new_int64(a->v[f][v]));
    return o;
}

static json_object *share(int64_t part, int64_t whole)
{
    return whole ? json_object_new_double((double)part / (double)whole) : NULL;
}

static char *render_json(const agg *a, size_t *len)
{
    json_object *o = json_object_new_object(), *ap = json_object_new_object(), *w = json_object_new_object();
    json_object *pa = json_object_new_object(), *ctx = json_object_new_object();
    char name[16], *out;
    const char *s;
    json_object_object_add(o, "schema", json_object_new_int(BT_REPORT_SCHEMA));
    json_object_object_add(o, "total", json_object_new_int64(a->total));
    if (a->skipped) json_object_object_add(o, "skipped_invalid_rows", json_object_new_int64(a->skipped));
    if (a->uncounted) json_object_object_add(o, "not_counted_without_token", json_object_new_int64(a->uncounted));
    json_object_object_add(o, "by_platform", counts(a, BT_RF_PLATFORM, NULL, 0));
    json_object_object_add(o, "by_kind", counts(a, BT_RF_KIND, NULL, 0));
    json_object_object_add(o, "by_stated_category", counts(a, BT_RF_CATEGORY, "not_stated", 0));
    json_object_object_add(o, "by_stated_keyword", counts(a, BT_RF_KEYWORD, NULL, 0));
    for (int i = 0; i < WEEK_SLOTS; i++) {
        if (!a->week[i]) continue;
        week_name(name, i);
        json_object_object_add(w, name, json_object_new_int64(a->week[i]));
    }
    json_object_object_add(o, "by_week", w);
    json_object_object_add(o, "by_duration", counts(a, BT_RF_DURATION, NULL, 0));
    json_object_object_add(ap, "offered", counts(a, BT_RF_OFFERED, NULL, 0));
    json_object_object_add(ap, "submitted", json_object_new_int64(a->submitted));
    json_object_object_add(ap, "by_outcome", counts(a, BT_RF_OUTCOME, NULL, 1));
    json_object_object_add(ap, "response_delay", counts(a, BT_RF_DELAY, NULL, 1));
    json_object_object_add(ap, "answered", json_object_new_int64(a->answered));
    json_object_object_add(ap, "answered_within_10_minutes", json_object_new_int64(a->within10));
    json_object_object_add(ap, "share_answered_within_10_minutes", share(a->within10, a->answered));
    for (int p = 1; p <= bt_report_enum_count(BT_RF_PLATFORM); p++) {
        json_object *e;
        if (!a->p_sub[p]) continue;
        e = json_object_new_object();
        json_object_object_add(e, "submitted", json_object_new_int64(a->p_sub[p]));
        json_object_object_add(e, "answered", json_object_new_int64(a->p_ans[p]));
        json_object_object_add(e, "answered_within_10_minutes", json_object_new_int64(a->p_w10[p]));
        json_object_object_add(e, "share_answered_within_10_minutes", share(a->p_w10[p], a->p_ans[p]));
        json_object_object_add(pa, bt_report_enum_name(BT_RF_PLATFORM, p), e);
    }
    json_object_object_add(ap, "by_platform", pa);
    json_object_object_add(o, "appeals", ap);
    json_object_object_add(ctx, "account_type", counts(a, BT_RF_ACCOUNT_TYPE, "not_given", 0));
    json_object_object_add(ctx, "paid_verification", counts(a, BT_RF_PAID, "not_given", 0));
    json_object_object_add(ctx, "country", counts(a, BT_RF_COUNTRY, "not_given", 0));
    json_object_object_add(o, "context", ctx);
    s = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED);
    *len = strlen(s);
    out = malloc(*len + 2);
    if (out != NULL) {
        memcpy(out, s, *len);
        out[(*len)++] = '\n';
        out[*len] = '\0';
    }
    json_object_put(o);
    return out;
}

/* ---- CSV ---- */

static void csv_counts(FILE *f, const agg *a, const char *section, bt_report_field fl, const char *absent,
                       int zeros)
{
    if (absent != NULL && (zeros || a->v[fl][0])) fprintf(f, "%s,%s,%lld\n", section, absent, (long long)a->v[fl][0]);
    for (int v = 1; v <= bt_report_enum_count(fl); v++)
        if (zeros || a->v[fl][v])
            fprintf(f, "%s,%s,%lld\n", section, bt_report_enum_name(fl, v), (long long)a->v[fl][v]);
}

static void render_csv(FILE *f, const agg *a)
{
    char name[16];
    fprintf(f, "section,key,value\n");
    fprintf(f, "total,reports,%lld\n", (long long)a->total);
    if (a->uncounted) fprintf(f, "total,not_counted_without_token,%lld\n", (long long)a->uncounted);
    csv_counts(f, a, "platform", BT_RF_PLATFORM, NULL, 0);
    csv_counts(f, a, "kind", BT_RF_KIND, NULL, 0);
    csv_counts(f, a, "stated_category", BT_RF_CATEGORY, "not_stated", 0);
    csv_counts(f, a, "stated_keyword", BT_RF_KEYWORD, NULL, 0);
    for (int i = 0; i < WEEK_SLOTS; i++) {
        if (!a->week[i]) continue;
        week_name(name, i);
        fprintf(f, "week,%s,%lld\n", name, (long long)a->week[i]);
    }
    csv_counts(f, a, "duration", BT_RF_DURATION, NULL, 0);
    csv_counts(f, a, "appeal_offered", BT_RF_OFFERED, NULL, 0);
    fprintf(f, "appeals,submitted,%lld\n", (long long)a->submitted);
    fprintf(f, "appeals,answered,%lld\n", (long long)a->answered);
    fprintf(f, "appeals,answered_within_10_minutes,%lld\n", (long long)a->within10);
    if (a->answered)
        fprintf(f, "appeals,share_answered_within_10_minutes,%.4f\n", (double)a->within10 / (double)a->answered);
    csv_counts(f, a, "appeal_outcome", BT_RF_OUTCOME, NULL, 1);
    csv_counts(f, a, "response_delay", BT_RF_DELAY, NULL, 1);
    csv_counts(f, a, "account_type", BT_RF_ACCOUNT_TYPE, "not_given", 0);
    csv_counts(f, a, "paid_verification", BT_RF_PAID, "not_given", 0);
    csv_counts(f, a, "country", BT_RF_COUNTRY, "not_given", 0);
}

/* ---- HTML with inline SVG ---- */

static void html_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        case '\'': fputs("&#39;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* The page's language and the words it says (words.h: the extension's locale
 * files, so a union's page says a kind or a reason as the person's own
 * share page does). */
typedef struct {
    FILE *f;
    const char *lang;
} page;

static void say(const page *p, const char *key, const char *const *args, size_t n)
{
    char buf[1024];
    html_text(p->f, bt_word(buf, sizeof buf, p->lang, key, args, n));
}

static void say_n(const page *p, const char *key, long long n, const char *const *args, size_t n_args)
{
    char buf[1024];
    html_text(p->f, bt_word_n(buf, sizeof buf, p->lang, key, n, args, n_args));
}

/* The words for value v of field fl ("kind_suspension", "rcategory_..."); a
 * country stays its ISO 3166 code. */
static void value_words(char *out, size_t cap, const page *p, bt_report_field fl, int v)
{
    static const char *const prefix[BT_RF_COUNT_] = {
        [BT_RF_PLATFORM] = "platform_", [BT_RF_KIND] = "kind_",        [BT_RF_CATEGORY] = "rcategory_",
        [BT_RF_KEYWORD] = "rkeyword_",  [BT_RF_DURATION] = "rduration_", [BT_RF_OFFERED] = "roffered_",
        [BT_RF_OUTCOME] = "routcome_",  [BT_RF_DELAY] = "rdelay_",      [BT_RF_ACCOUNT_TYPE] = "raccount_",
        [BT_RF_PAID] = "rpaid_"};
    char key[160];
    if (fl == BT_RF_COUNTRY) {
        snprintf(out, cap, "%s", bt_report_enum_name(fl, v));
        return;
    }
    snprintf(key, sizeof key, "%s%s", prefix[fl], v == 0 ? "not_stated" : bt_report_enum_name(fl, v));
    bt_word(out, cap, p->lang, v == 0 && fl != BT_RF_CATEGORY ? "figNotGiven" : key, NULL, 0);
}

/* One bar: its words, its count (or, below the suppression threshold, only
 * "under N"). */
typedef struct {
    char label[192];
    int64_t value;
    int hidden, highlight;
} bar;

static void count_text(char *out, size_t cap, const page *p, const bar *b, int64_t sum)
{
    if (b->hidden) {
        char n[16];
        const char *arg = n;
        snprintf(n, sizeof n, "%d", BT_COLLECT_MIN_CELL);
        bt_word(out, cap, p->lang, "figUnder", &arg, 1);
    } else {
        snprintf(out, cap, "%lld (%.1f%%)", (long long)b->value, 100.0 * (double)b->value / (double)sum);
    }
}

/* A chart's SVG, written once into a buffer: shown in the page and offered
 * as a file to paste into a press release. */
static void chart_end(const page *p, const char *id, char *svg, size_t svg_len)
{
    fwrite(svg, 1, svg_len, p->f);
    size_t b64_len = sodium_base64_ENCODED_LEN(svg_len, sodium_base64_VARIANT_ORIGINAL);
    char *b64 = malloc(b64_len);
    if (b64 != NULL) {
        sodium_bin2base64(b64, b64_len, (const unsigned char *)svg, svg_len, sodium_base64_VARIANT_ORIGINAL);
        fprintf(p->f, "<p><a download=\"bantrail-%s.svg\" href=\"data:image/svg+xml;base64,%s\">", id, b64);
        say(p, "figDownload", NULL, 0);
        fputs("</a></p>\n", p->f);
    }
    free(b64);
    free(svg);
    fputs("</section>\n", p->f);
}

/* A horizontal bar chart with each count written beside its bar, so it reads
 * without JavaScript and without colour. */
static void svg_bars(const page *p, const char *id, const char *title_key, const bar *bars, int n)
{
    int64_t max = 1, sum = 0;
    for (int i = 0; i < n; i++) {
        if (!bars[i].hidden && bars[i].value > max) max = bars[i].value;
        sum += bars[i].value;
    }
    fprintf(p->f, "<section><h2 id=\"%s\">", id);
    say(p, title_key, NULL, 0);
    fputs("</h2>\n", p->f);
    if (n == 0 || sum == 0) {
        fputs("<p>", p->f);
        say(p, "figNone", NULL, 0);
        fputs("</p></section>\n", p->f);
        return;
    }
    char *svg = NULL, text[96];
    size_t svg_len = 0;
    page s = {open_memstream(&svg, &svg_len), p->lang};
    if (s.f == NULL) return;
    fprintf(s.f,
            "<svg role=\"img\" aria-labelledby=\"%s-title\" width=\"720\" height=\"%d\" viewBox=\"0 0 720 %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"13\">\n<title id=\"%s-title\">",
            id, n * 24 + 8, n * 24 + 8, id);
    say(&s, title_key, NULL, 0);
    fputs("</title>\n", s.f);
    for (int i = 0, y = 4; i < n; i++, y += 24) {
        double w = bars[i].hidden ? 0 : 330.0 * (double)bars[i].value / (double)max;
        fprintf(s.f, "<text x=\"250\" y=\"%d\" text-anchor=\"end\">", y + 15);
        html_text(s.f, bars[i].label);
        fprintf(s.f, "</text><rect x=\"258\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/><text x=\"%.1f\" y=\"%d\">",
                y + 2, w, bars[i].highlight ? "#b3261e" : "#3b5b92", 262 + w, y + 15);
        count_text(text, sizeof text, p, &bars[i], sum);
        html_text(s.f, text);
        fputs("</text>\n", s.f);
    }
    fputs("</svg>\n", s.f);
    if (fclose(s.f) == 0) chart_end(p, id, svg, svg_len);
    else free(svg);
}

/* The breakdown of field fl: each value in words; values given by fewer than
 * BT_COLLECT_MIN_CELL reports added together as "others", that total hidden
 * too when under the threshold (docs/REPORT.md, "The figures page"). absent:
 * whether reports without the field get a bar; all: every value, even with
 * no report (the appeal answers' scale). */
static void svg_field(const page *p, const agg *a, const char *id, const char *title_key, bt_report_field fl,
                      int absent, int all, int highlight_value)
{
    bar *bars = calloc(MAXV + 1, sizeof *bars);
    int n = 0;
    int64_t small = 0;
    if (bars == NULL) return;
    for (int v = absent ? 0 : 1; v <= bt_report_enum_count(fl) && n < MAXV; v++) {
        int64_t x = a->v[fl][v];
        if (x > 0 && x < BT_COLLECT_MIN_CELL) {
            small += x;
            continue;
        }
        if (x == 0 && !(all && v > 0)) continue;
        value_words(bars[n].label, sizeof bars[n].label, p, fl, v);
        bars[n].value = x;
        bars[n++].highlight = v == highlight_value;
    }
    if (small > 0) {
        char k[16];
        const char *arg = k;
        snprintf(k, sizeof k, "%d", BT_COLLECT_MIN_CELL);
        bt_word(bars[n].label, sizeof bars[n].label, p->lang, "figOthers", &arg, 1);
        bars[n].value = small;
        bars[n++].hidden = small < BT_COLLECT_MIN_CELL;
    }
    svg_bars(p, id, title_key, bars, n);
    free(bars);
}

/* The first and last ISO week with reports (slots), or -1. */
static void weeks_span(const agg *a, int *first, int *last)
{
    *first = *last = -1;
    for (int i = 0; i < WEEK_SLOTS; i++)
        if (a->week[i]) {
            if (*first < 0) *first = i;
            *last = i;
        }
}

/* Reports per ISO week as columns, first to last week with reports. */
static void svg_weeks(const page *p, const agg *a)
{
    int first, last;
    int64_t max = 1;
    weeks_span(a, &first, &last);
    fputs("<section><h2 id=\"weeks\">", p->f);
    say(p, "figByWeek", NULL, 0);
    fputs("</h2>\n", p->f);
    if (first < 0) {
        fputs("<p>", p->f);
        say(p, "figNone", NULL, 0);
        fputs("</p></section>\n", p->f);
        return;
    }
    for (int i = first; i <= last; i++)
        if (a->week[i] > max) max = a->week[i];
    int n = last - first + 1, step = n > 120 ? 4 : n > 40 ? 2 : 1;
    int bw = n > 0 ? (int)(660 / n) : 10;
    if (bw < 2) bw = 2;
    if (bw > 40) bw = 40;
    int width = 100 + bw * n;
    char name[16], *svg = NULL;
    size_t svg_len = 0;
    page s = {open_memstream(&svg, &svg_len), p->lang};
    if (s.f == NULL) return;
    fprintf(s.f,
            "<svg role=\"img\" aria-labelledby=\"weeks-title\" width=\"%d\" height=\"280\" viewBox=\"0 0 %d 280\" "
            "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\">\n<title id=\"weeks-title\">",
            width, width);
    say(&s, "figByWeek", NULL, 0);
    fprintf(s.f,
            "</title>\n<text x=\"0\" y=\"14\">%lld</text><text x=\"0\" y=\"200\">0</text>"
            "<line x1=\"50\" y1=\"200\" x2=\"%d\" y2=\"200\" stroke=\"#444\"/>\n",
            (long long)max, width);
    for (int i = first; i <= last; i++) {
        double h = 190.0 * (double)a->week[i] / (double)max;
        int x = 55 + (i - first) * bw;
        week_name(name, i);
        fprintf(s.f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#3b5b92\"><title>%s: %lld</title></rect>\n",
                x, 200 - h, bw > 3 ? bw - 1 : bw, h, name, (long long)a->week[i]);
        if ((i - first) % (step * (bw < 12 ? 12 / bw + 1 : 1)) == 0)
            fprintf(s.f, "<text x=\"%d\" y=\"212\" transform=\"rotate(45 %d 212)\">%s</text>\n", x, x, name);
    }
    fputs("</svg>\n", s.f);
    if (fclose(s.f) == 0) chart_end(p, "weeks", svg, svg_len);
    else free(svg);
}

/* The day the figures are computed, UTC: SOURCE_DATE_EPOCH's when it is set
 * (the reproducible-builds convention: the same store gives the same page). */
static void today(char out[11])
{
    const char *e = getenv("SOURCE_DATE_EPOCH");
    char *end = NULL;
    long long t = e != NULL ? strtoll(e, &end, 10) : -1;
    time_t now = e != NULL && end != e && *end == '\0' && t >= 0 ? (time_t)t : time(NULL);
    struct tm tm;
    if (gmtime_r(&now, &tm) == NULL || strftime(out, 11, "%Y-%m-%d", &tm) != 10) snprintf(out, 11, "?");
}

static void render_html(FILE *f, const agg *a, const char *lang)
{
    const page p = {f, bt_words_lang(lang)}, *pp = &p;
    char date[11], k[16], from[16], to[16];
    const char *arg_k = k;
    int first, last;
    snprintf(k, sizeof k, "%d", BT_COLLECT_MIN_CELL);
    today(date);
    fprintf(f, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\">\n"
               "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'; img-src data:\">\n"
               "<meta name=\"viewport\" content=\"width=device-width\">\n<title>",
            p.lang);
    say(pp, "figTitle", NULL, 0);
    fputs("</title>\n<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#111}"
          "svg{max-width:100%;height:auto;display:block}.big{font-size:2rem;font-weight:bold}.note{color:#444}"
          "@media print{a{display:none}section{break-inside:avoid}}</style></head><body>\n<h1>",
          f);
    say(pp, "figTitle", NULL, 0);
    fputs("</h1>\n<p>", f);
    say_n(pp, "figReports", (long long)a->total, NULL, 0);
    weeks_span(a, &first, &last);
    if (first >= 0) {
        const char *span[] = {from, to};
        week_name(from, first);
        week_name(to, last);
        fputs(" ", f);
        say(pp, "figPeriod", span, 2);
    }
    fputs(" ", f);
    {
        const char *arg = date;
        say(pp, "figGenerated", &arg, 1);
    }
    fputs("</p>\n", f);
    if (a->uncounted) {
        fputs("<p>", f);
        say_n(pp, "figUncounted", (long long)a->uncounted, NULL, 0);
        fputs("</p>\n", f);
    }
    fputs("<p class=\"note\">", f);
    say(pp, "figSuppression", &arg_k, 1);
    fputs("</p>\n<section><h2>", f);
    say(pp, "figWithin10", NULL, 0);
    fputs("</h2>\n", f);
    if (a->answered) {
        char w10[24], ans[24], sub[24];
        const char *args[] = {w10, ans, sub};
        snprintf(w10, sizeof w10, "%lld", (long long)a->within10);
        snprintf(ans, sizeof ans, "%lld", (long long)a->answered);
        snprintf(sub, sizeof sub, "%lld", (long long)a->submitted);
        fprintf(f, "<p class=\"big\">%.1f%%</p><p>", 100.0 * (double)a->within10 / (double)a->answered);
        say(pp, "figWithin10Text", args, 3);
        fputs("</p>\n", f);
    } else {
        fputs("<p>", f);
        say(pp, "figNoAppeals", NULL, 0);
        fputs("</p>\n", f);
    }
    fputs("</section>\n", f);
    svg_field(pp, a, "platform", "figByPlatform", BT_RF_PLATFORM, 0, 0, -1);
    svg_field(pp, a, "kind", "figByKind", BT_RF_KIND, 0, 0, -1);
    svg_field(pp, a, "category", "figByCategory", BT_RF_CATEGORY, 1, 0, -1);
    svg_field(pp, a, "keyword", "figByKeyword", BT_RF_KEYWORD, 0, 0, -1);
    svg_weeks(pp, a);
    svg_field(pp, a, "duration", "figByDuration", BT_RF_DURATION, 0, 0, -1);
    svg_field(pp, a, "outcome", "figByOutcome", BT_RF_OUTCOME, 0, 1, -1);
    svg_field(pp, a, "delay", "figByDelay", BT_RF_DELAY, 0, 1, bt_report_enum_value(BT_RF_DELAY, "lt_10m"));
    svg_field(pp, a, "account-type", "figByAccountType", BT_RF_ACCOUNT_TYPE, 1, 0, -1);
    svg_field(pp, a, "paid", "figByPaid", BT_RF_PAID, 1, 0, -1);
    svg_field(pp, a, "country", "figByCountry", BT_RF_COUNTRY, 1, 0, -1);
    fputs("</body></html>\n", f);
}

bt_err bt_collect_report(bt_collect *c, bt_collect_format fmt, char **out, size_t *len)
{
    return bt_collect_report_in(c, fmt, "en", out, len);
}

bt_err bt_collect_report_in(bt_collect *c, bt_collect_format fmt, const char *lang, char **out, size_t *len)
{
    agg *a = malloc(sizeof *a);
    bt_err err;
    *out = NULL;
    *len = 0;
    if (a == NULL) return BT_ERR_NO_MEMORY;
    err = aggregate(c, a);
    if (err == BT_OK) {
        if (fmt == BT_COLLECT_JSON) {
            *out = render_json(a, len);
        } else {
            FILE *f = open_memstream(out, len);
            if (f != NULL) {
                if (fmt == BT_COLLECT_CSV) render_csv(f, a);
                else render_html(f, a, lang);
                if (fclose(f) != 0) {
                    free(*out);
                    *out = NULL;
                }
            }
        }
        if (*out == NULL) err = BT_ERR_NO_MEMORY;
    }
    free(a);
    return err;
}

/* ---- open data ---- */

bt_err bt_collect_export(bt_collect *c, bt_collect_table table, int min_cell, char **out, size_t *len)
{
    sqlite3_stmt *s = NULL;
    FILE *f;
    int rc;
    bt_err err = BT_OK;
    const int weekly = table == BT_COLLECT_WEEKLY;
    *out = NULL;
    *len = 0;
    if (min_cell < BT_COLLECT_MIN_CELL) min_cell = BT_COLLECT_MIN_CELL;
    if (sqlite3_prepare_v2(c->db,
                           weekly ? "SELECT week,platform,kind,count(*) FROM reports WHERE counted=1 GROUP BY 1,2,3 ORDER BY 1,2,3"
                                  : "SELECT platform,outcome,delay,count(*) FROM reports WHERE submitted=1 AND counted=1 "
                                    "GROUP BY 1,2,3 ORDER BY 1,2,3",
                           -1, &s, NULL) != SQLITE_OK)
        return BT_ERR_STORAGE;
    f = open_memstream(out, len);
    if (f == NULL) {
        sqlite3_finalize(s);
        return BT_ERR_NO_MEMORY;
    }
    fputs(weekly ? "week,platform,kind,reports\n" : "platform,appeal_outcome,response_delay,appeals\n", f);
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        int64_t a = sqlite3_column_int64(s, 0), b = sqlite3_column_int64(s, 1), k = sqlite3_column_int64(s, 2);
        int64_t n = sqlite3_column_int64(s, 3);
        const char *nb, *nk;
        char first[16];
        if (weekly) {
            if (a / 100 < YEAR0 || a / 100 >= YEAR0 + YEARS || a % 100 < 1 || a % 100 > 53) continue;
            snprintf(first, sizeof first, "%04d-W%02d", (int)(a / 100), (int)(a % 100));
            nb = bt_report_enum_name(BT_RF_PLATFORM, (int)b);
            nk = bt_report_enum_name(BT_RF_KIND, (int)k);
        } else {
            const char *np = bt_report_enum_name(BT_RF_PLATFORM, (int)a);
            if (np == NULL) continue;
            snprintf(first, sizeof first, "%s", np);
            nb = bt_report_enum_name(BT_RF_OUTCOME, (int)b);
            nk = bt_report_enum_name(BT_RF_DELAY, (int)k);
        }
        if (nb == NULL || nk == NULL) continue;
        if (n < min_cell) fprintf(f, "%s,%s,%s,<%d\n", first, nb, nk, min_cell);
        else fprintf(f, "%s,%s,%s,%lld\n", first, nb, nk, (long long)n);
    }
    if (rc != SQLITE_DONE) err = BT_ERR_STORAGE;
    sqlite3_finalize(s);
    if (fclose(f) != 0 && err == BT_OK) err = BT_ERR_NO_MEMORY;
    if (err != BT_OK) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return err;
}
