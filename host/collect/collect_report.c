/* The collector's figures and open-data export (include/bantrail/collect.h,
 * docs/REPORT.md "Figures"). The database counts: the tallies it keeps in
 * each report's transaction (collect.c), summed by GROUP BY, and the open
 * data's small cells suppressed by the statement itself, the same
 * statements in SQLite and PostgreSQL; this file adds the groups into fixed
 * arrays and writes them out, so both stores give the same bytes. Values
 * outside the schema (a store edited by hand) are skipped, never indexed. */
#include "collect/collect_int.h"

#include <json-c/json.h>
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

/* One group of the tallies (collect.c): part, k1..k6, its count. A group
 * with a value outside the schema (a store edited by hand) is skipped,
 * never indexed; the appeals part numbers them. */
static int add_group(void *ctx, const bt_cell *c, int ncols)
{
    agg *a = ctx;
    const int64_t part = c[0].i, k1 = c[1].i, k2 = c[2].i, k3 = c[3].i, k4 = c[4].i, k5 = c[5].i, k6 = c[6].i;
    const int64_t n = c[7].i;
    (void)ncols;
    if (part == TALLY_APPEALS) { /* platform, kind, offered, submitted, outcome, delay */
        if (!ok_value(BT_RF_PLATFORM, k1, 0) || !ok_value(BT_RF_KIND, k2, 0) || !ok_value(BT_RF_OFFERED, k3, 0) ||
            (k4 != 0 && k4 != 1) || !ok_value(BT_RF_OUTCOME, k5, !k4) || !ok_value(BT_RF_DELAY, k6, !k4)) {
            a->skipped += n;
            return 0;
        }
        a->total += n;
        a->v[BT_RF_PLATFORM][k1] += n;
        a->v[BT_RF_KIND][k2] += n;
        a->v[BT_RF_OFFERED][k3] += n;
        if (k4) {
            a->submitted += n;
            a->p_sub[k1] += n;
            a->v[BT_RF_OUTCOME][k5] += n;
            a->v[BT_RF_DELAY][k6] += n;
            if (k5 != bt_report_enum_value(BT_RF_OUTCOME, "pending")) {
                a->answered += n;
                a->p_ans[k1] += n;
                if (k6 == bt_report_enum_value(BT_RF_DELAY, "lt_10m")) {
                    a->within10 += n;
                    a->p_w10[k1] += n;
                }
            }
        }
    } else if (part == TALLY_WEEKS) { /* week, duration */
        int64_t wy = k1 / 100 - YEAR0, ww = k1 % 100;
        if (wy >= 0 && wy < YEARS && ww >= 1 && ww <= 53) a->week[wy * 53 + ww - 1] += n;
        if (ok_value(BT_RF_DURATION, k2, 0)) a->v[BT_RF_DURATION][k2] += n;
    } else if (part == TALLY_STATED) { /* category, keywords 1-64 and 65-128 of schema k4 + 1: both in the figures' lists */
        const uint64_t kw[BT_REPORT_KEYWORD_WORDS] = {(uint64_t)k2, (uint64_t)k3};
        uint64_t fig[BT_REPORT_KEYWORD_WORDS];
        int cat = 0;
        if (k1 < 0 || k1 > 255 || (k4 != 0 && k4 != 1) || bt_report_stated_figures((int)k4 + 1, (int)k1, kw, &cat, fig) != 0)
            return 0;
        a->v[BT_RF_CATEGORY][cat] += n;
        for (int w = 0; w < BT_REPORT_KEYWORD_WORDS; w++)
            for (uint64_t k = fig[w]; k != 0; k &= k - 1) a->v[BT_RF_KEYWORD][w * 64 + __builtin_ctzll(k) + 1] += n;
    } else if (part == TALLY_CONTEXT) { /* account_type, paid, country */
        if (ok_value(BT_RF_ACCOUNT_TYPE, k1, 1)) a->v[BT_RF_ACCOUNT_TYPE][k1] += n;
        if (ok_value(BT_RF_PAID, k2, 1)) a->v[BT_RF_PAID][k2] += n;
        if (ok_value(BT_RF_COUNTRY, k3, 1)) a->v[BT_RF_COUNTRY][k3] += n;
    }
    return 0;
}

static int add_uncounted(void *ctx, const bt_cell *c, int n)
{
    (void)n;
    ((agg *)ctx)->uncounted = c[0].i;
    return 0;
}

/* The figures, from the tallies the database keeps with every report
 * (collect.c: summed over their shards, a few thousand groups however many
 * reports) and the count of those kept apart, in one snapshot. */
static bt_err aggregate(bt_collect *c, agg *a)
{
    bt_store *s = c->db;
    bt_db_rc rc;
    memset(a, 0, sizeof *a);
    if ((rc = s->ops->begin_read(s)) == BT_DB_OK) {
        rc = s->ops->run(s, Q_FIG_UNCOUNTED, NULL, 0, add_uncounted, a, NULL);
        if (rc == BT_DB_OK) rc = s->ops->run(s, Q_FIG_TALLIES, NULL, 0, add_group, a, NULL);
        s->ops->rollback(s);
    }
    return rc == BT_DB_OK ? BT_OK : rc == BT_DB_FAIL ? BT_ERR_STORAGE : BT_ERR_BUSY;
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

/* The words for value v of field fl (bt_report_words_key); a country stays
 * its ISO 3166 code; no value is "no reason stated" or "not given". */
static void value_words(char *out, size_t cap, const page *p, bt_report_field fl, int v)
{
    char key[160];
    if (fl == BT_RF_COUNTRY && v > 0) snprintf(out, cap, "%s", bt_report_enum_name(fl, v));
    else if (v == 0) bt_word(out, cap, p->lang, fl == BT_RF_CATEGORY ? "rcategory_not_stated" : "figNotGiven", NULL, 0);
    else bt_word(out, cap, p->lang, bt_report_words_key(key, sizeof key, fl, v), NULL, 0);
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

/* Starts a chart's SVG in its own buffer (*svg, *svg_len, closed by the
 * caller): width x height, its title in words. 0 when no memory. */
static int svg_begin(page *s, char **svg, size_t *svg_len, const page *p, const char *id, int width, int height,
                     int font_size, const char *title_key)
{
    *svg = NULL;
    *svg_len = 0;
    s->lang = p->lang;
    if ((s->f = open_memstream(svg, svg_len)) == NULL) return 0;
    fprintf(s->f,
            "<svg role=\"img\" aria-labelledby=\"%s-title\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"%d\">\n<title id=\"%s-title\">",
            id, width, height, width, height, font_size, id);
    say(s, title_key, NULL, 0);
    fputs("</title>\n", s->f);
    return 1;
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
    char *svg, text[96];
    size_t svg_len;
    page s;
    if (!svg_begin(&s, &svg, &svg_len, p, id, 720, n * 24 + 8, 13, title_key)) return;
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
    char name[16], *svg;
    size_t svg_len;
    page s;
    if (!svg_begin(&s, &svg, &svg_len, p, "weeks", width, 280, 11, "figByWeek")) return;
    fprintf(s.f,
            "<text x=\"0\" y=\"14\">%lld</text><text x=\"0\" y=\"200\">0</text>"
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

typedef struct {
    FILE *f;
    int weekly;
} export_job;

/* One cell of open data, suppressed by the database already. */
static int export_row(void *ctx, const bt_cell *c, int n)
{
    export_job *j = ctx;
    const int64_t a = c[0].i, b = c[1].i, k = c[2].i;
    const char *nb, *nk;
    char first[16];
    (void)n;
    if (j->weekly) {
        if (a / 100 < YEAR0 || a / 100 >= YEAR0 + YEARS || a % 100 < 1 || a % 100 > 53) return 0;
        snprintf(first, sizeof first, "%04d-W%02d", (int)(a / 100), (int)(a % 100));
        nb = bt_report_enum_name(BT_RF_PLATFORM, (int)b);
        nk = bt_report_enum_name(BT_RF_KIND, (int)k);
    } else {
        const char *np = bt_report_enum_name(BT_RF_PLATFORM, (int)a);
        if (np == NULL) return 0;
        snprintf(first, sizeof first, "%s", np);
        nb = bt_report_enum_name(BT_RF_OUTCOME, (int)b);
        nk = bt_report_enum_name(BT_RF_DELAY, (int)k);
    }
    if (nb != NULL && nk != NULL) fprintf(j->f, "%s,%s,%s,%s\n", first, nb, nk, c[3].text);
    return 0;
}

bt_err bt_collect_export(bt_collect *c, bt_collect_table table, int min_cell, char **out, size_t *len)
{
    char below[16];
    bt_err err = BT_OK;
    export_job j = {NULL, table == BT_COLLECT_WEEKLY};
    *out = NULL;
    *len = 0;
    if (min_cell < BT_COLLECT_MIN_CELL) min_cell = BT_COLLECT_MIN_CELL;
    snprintf(below, sizeof below, "<%d", min_cell);
    if ((j.f = open_memstream(out, len)) == NULL) return BT_ERR_NO_MEMORY;
    fputs(j.weekly ? "week,platform,kind,reports\n" : "platform,appeal_outcome,response_delay,appeals\n", j.f);
    bt_arg a[] = {ARG_INT(min_cell), ARG_TEXT(below)};
    bt_db_rc rc = c->db->ops->run(c->db, j.weekly ? Q_EXPORT_WEEKLY : Q_EXPORT_APPEALS, a, 2, export_row, &j, NULL);
    if (rc != BT_DB_OK) err = rc == BT_DB_FAIL ? BT_ERR_STORAGE : BT_ERR_BUSY;
    if (fclose(j.f) != 0 && err == BT_OK) err = BT_ERR_NO_MEMORY;
    if (err != BT_OK) {
        free(*out);
        *out = NULL;
        *len = 0;
    }
    return err;
}
