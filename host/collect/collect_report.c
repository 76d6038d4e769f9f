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
    const int nkw = bt_report_enum_count(BT_RF_KEYWORD);
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
    } else if (part == TALLY_STATED) { /* category, keywords */
        if (ok_value(BT_RF_CATEGORY, k1, 1)) a->v[BT_RF_CATEGORY][k1] += n;
        if (k2 >= 0 && (nkw >= 63 || ((uint64_t)k2 >> nkw) == 0))
            for (uint64_t k = (uint64_t)k2; k != 0; k &= k - 1) a->v[BT_RF_KEYWORD][__builtin_ctzll(k) + 1] += n;
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
