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

/* A chart label for people: the DSA prefixes dropped, underscores as spaces,
 * lower case (the table under the chart keeps the exact keys). */
static void html_label(FILE *f, const char *s)
{
    if (strncmp(s, "STATEMENT_CATEGORY_", 19) == 0) s += 19;
    else if (strncmp(s, "KEYWORD_", 8) == 0) s += 8;
    for (; *s; s++) {
        char c = *s == '_' ? ' ' : (*s >= 'A' && *s <= 'Z') ? (char)(*s - 'A' + 'a') : *s;
        char one[2] = {c, '\0'};
        html_text(f, one);
    }
}

/* A horizontal bar chart with its numbers written beside the bars, so it
 * reads without JavaScript and without colour; a table follows it. */
static void svg_bars(FILE *f, const char *id, const char *title, const char *const *labels,
                     const int64_t *values, int n, int highlight)
{
    int64_t max = 1, sum = 0;
    int rows = 0;
    for (int i = 0; i < n; i++) {
        if (values[i] > max) max = values[i];
        sum += values[i];
        rows++;
    }
    fprintf(f, "<section><h2 id=\"%s\">", id);
    html_text(f, title);
    fprintf(f, "</h2>\n");
    if (rows == 0 || sum == 0) {
        fputs("<p>No reports.</p></section>\n", f);
        return;
    }
    fprintf(f,
            "<svg role=\"img\" aria-labelledby=\"%s\" width=\"720\" height=\"%d\" viewBox=\"0 0 720 %d\" "
            "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"13\">\n<title>",
            id, rows * 24 + 8, rows * 24 + 8);
    html_text(f, title);
    fputs("</title>\n", f);
    for (int i = 0, y = 4; i < n; i++, y += 24) {
        double w = 330.0 * (double)values[i] / (double)max;
        fprintf(f, "<text x=\"250\" y=\"%d\" text-anchor=\"end\">", y + 15);
        html_label(f, labels[i]);
        fprintf(f, "</text><rect x=\"258\" y=\"%d\" width=\"%.1f\" height=\"18\" fill=\"%s\"/>"
                   "<text x=\"%.1f\" y=\"%d\">%lld (%.1f%%)</text>\n",
                y + 2, w, i == highlight ? "#b3261e" : "#3b5b92", 262 + w, y + 15, (long long)values[i],
                100.0 * (double)values[i] / (double)sum);
    }
    fputs("</svg>\n<table><tr><th>value</th><th>reports</th></tr>\n", f);
    for (int i = 0; i < n; i++) {
        fputs("<tr><td>", f);
        html_text(f, labels[i]);
        fprintf(f, "</td><td>%lld</td></tr>\n", (long long)values[i]);
    }
    fputs("</table></section>\n", f);
}

static void svg_field(FILE *f, const agg *a, const char *id, const char *title, bt_report_field fl,
                      const char *absent, int zeros, int highlight_value)
{
    const char *labels[MAXV];
    int64_t values[MAXV];
    int n = 0, hl = -1;
    if (absent != NULL && (zeros || a->v[fl][0])) labels[n] = absent, values[n++] = a->v[fl][0];
    for (int v = 1; v <= bt_report_enum_count(fl) && n < MAXV; v++) {
        if (!zeros && !a->v[fl][v]) continue;
        if (v == highlight_value) hl = n;
        labels[n] = bt_report_enum_name(fl, v);
        values[n++] = a->v[fl][v];
    }
    svg_bars(f, id, title, labels, values, n, hl);
}

/* Reports per ISO week as columns, first to last week with reports. */
static void svg_weeks(FILE *f, const agg *a)
{
    int first = -1, last = -1;
    int64_t max = 1;
    for (int i = 0; i < WEEK_SLOTS; i++) {
        if (!a->week[i]) continue;
        if (first < 0) first = i;
        last = i;
        if (a->week[i] > max) max = a->week[i];
    }
    fputs("<section><h2 id=\"weeks\">Reports per ISO week</h2>\n", f);
    if (first < 0) {
        fputs("<p>No reports.</p></section>\n", f);
        return;
    }
    int n = last - first + 1, step = n > 120 ? 4 : n > 40 ? 2 : 1;
    int bw = n > 0 ? (int)(660 / n) : 10;
    if (bw < 2) bw = 2;
    if (bw > 40) bw = 40;
    int width = 100 + bw * n;
    char name[16];
    fprintf(f,
            "<svg role=\"img\" aria-labelledby=\"weeks\" width=\"%d\" height=\"280\" viewBox=\"0 0 %d 280\" "
            "xmlns=\"http://www.w3.org/2000/svg\" font-family=\"sans-serif\" font-size=\"11\">\n"
            "<title>Reports per ISO week</title>\n"
            "<text x=\"0\" y=\"14\">%lld</text><text x=\"0\" y=\"200\">0</text>"
            "<line x1=\"50\" y1=\"200\" x2=\"%d\" y2=\"200\" stroke=\"#444\"/>\n",
            width, width, (long long)max, width);
    for (int i = first; i <= last; i++) {
        double h = 190.0 * (double)a->week[i] / (double)max;
        int x = 55 + (i - first) * bw;
        week_name(name, i);
        fprintf(f, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.1f\" fill=\"#3b5b92\"><title>%s: %lld</title></rect>\n",
                x, 200 - h, bw > 3 ? bw - 1 : bw, h, name, (long long)a->week[i]);
        if ((i - first) % (step * (bw < 12 ? 12 / bw + 1 : 1)) == 0)
            fprintf(f, "<text x=\"%d\" y=\"212\" transform=\"rotate(45 %d 212)\">%s</text>\n", x, x, name);
    }
    fputs("</svg>\n<table><tr><th>week</th><th>reports</th></tr>\n", f);
    for (int i = first; i <= last; i++) {
        if (!a->week[i]) continue;
        week_name(name, i);
        fprintf(f, "<tr><td>%s</td><td>%lld</td></tr>\n", name, (long long)a->week[i]);
    }
    fputs("</table></section>\n", f);
}

static void render_html(FILE *f, const agg *a)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">\n"
          "<meta name=\"viewport\" content=\"width=device-width\">\n"
          "<title>Bantrail: account restrictions reported</title>\n"
          "<style>body{font-family:sans-serif;max-width:60rem;margin:1rem auto;padding:0 1rem;color:#111}"
          "table{border-collapse:collapse;margin:.5rem 0 1.5rem}td,th{border:1px solid #ccc;padding:.15rem .5rem;"
          "text-align:left}svg{max-width:100%;height:auto;display:block}.big{font-size:2rem;font-weight:bold}"
          "</style></head><body>\n<h1>Account restrictions reported</h1>\n",
          f);
    fprintf(f, "<p>%lld anonymous reports (one per case; an updated case counts once).</p>\n", (long long)a->total);
    if (a->uncounted)
        fprintf(f, "<p>Not counted here: %lld reports that came without a membership token.</p>\n",
                (long long)a->uncounted);
    fputs("<section><h2>Appeals answered within 10 minutes</h2>\n", f);
    if (a->answered)
        fprintf(f, "<p class=\"big\">%.1f%%</p><p>%lld of %lld answered appeals were decided within 10 minutes "
                   "of being submitted (%lld appeals submitted in all).</p>\n",
                100.0 * (double)a->within10 / (double)a->answered, (long long)a->within10, (long long)a->answered,
                (long long)a->submitted);
    else
        fputs("<p>No answered appeals yet.</p>\n", f);
    fputs("</section>\n", f);
    svg_field(f, a, "platform", "Reports by platform", BT_RF_PLATFORM, NULL, 0, -1);
    svg_field(f, a, "kind", "Reports by kind of restriction", BT_RF_KIND, NULL, 0, -1);
    svg_field(f, a, "category", "Reason stated (EU DSA category)", BT_RF_CATEGORY, "not_stated", 0, -1);
    svg_field(f, a, "keyword", "Reason stated (EU DSA keyword)", BT_RF_KEYWORD, NULL, 0, -1);
    svg_weeks(f, a);
    svg_field(f, a, "duration", "Stated duration", BT_RF_DURATION, NULL, 0, -1);
    svg_field(f, a, "outcome", "Appeal outcomes", BT_RF_OUTCOME, NULL, 1, -1);
    svg_field(f, a, "delay", "Time from appeal to answer", BT_RF_DELAY, NULL, 1,
              bt_report_enum_value(BT_RF_DELAY, "lt_10m"));
    fputs("</body></html>\n", f);
}

bt_err bt_collect_report(bt_collect *c, bt_collect_format fmt, char **out, size_t *len)
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
                else render_html(f, a);
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
