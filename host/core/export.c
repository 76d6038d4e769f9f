/* Evidence export: see include/bantrail/export.h and docs/EVIDENCE.md. */
#include "bantrail/export.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <sodium.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bantrail/cases.h"
#include "bantrail/version.h"
#include "bantrail/words.h"
#include "util/file.h"
#include "util/json.h"
#include "util/utf8.h"

/* ---- a growing buffer ---- */

typedef struct {
    char *p;
    size_t len, cap;
    int oom;
} buf;

static void reserve(buf *b, size_t more)
{
    if (b->oom) return;
    if (more > SIZE_MAX / 2 - b->len) { b->oom = 1; return; }
    if (b->len + more + 1 <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more + 1) cap *= 2;
    char *bigger = malloc(cap);
    if (bigger == NULL) { b->oom = 1; return; }
    if (b->p != NULL) { /* never leave decrypted text behind in a freed block */
        memcpy(bigger, b->p, b->len);
        sodium_memzero(b->p, b->cap);
        free(b->p);
    }
    b->p = bigger;
    b->cap = cap;
}

static void put_n(buf *b, const char *s, size_t n)
{
    reserve(b, n);
    if (b->oom) return;
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void put(buf *b, const char *s)
{
    put_n(b, s, strlen(s));
}

static void putf(buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void putf(buf *b, const char *fmt, ...)
{
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof tmp) { b->oom = 1; return; }
    put_n(b, tmp, (size_t)n);
}

/* Text from outside as HTML: markup characters escaped, what
 * bt_utf8_next calls bad and control characters (but newline and tab)
 * replaced by U+FFFD. */
static void put_esc_n(buf *b, const char *s, size_t len)
{
    const unsigned char *p = (const unsigned char *)s, *end = p + len;
    while (p < end) {
        size_t n;
        bt_utf8_class k = bt_utf8_next(p, &n);
        if (k == BT_UTF8_BAD || (k == BT_UTF8_CONTROL && *p != '\n' && *p != '\t')) {
            put(b, "\xEF\xBF\xBD");
            p += n;
            continue;
        }
        switch (*p) {
        case '&': put(b, "&amp;"); break;
        case '<': put(b, "&lt;"); break;
        case '>': put(b, "&gt;"); break;
        case '"': put(b, "&quot;"); break;
        case '\'': put(b, "&#39;"); break;
        default: put_n(b, (const char *)p, n);
        }
        p += n;
    }
}

static void put_esc(buf *b, const char *s)
{
    if (s != NULL) put_esc_n(b, s, strlen(s));
}

/* ---- small helpers ---- */

static void when(char *out, size_t cap, int64_t t, int seconds)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (t < 0 || gmtime_r(&tt, &tm) == NULL) {
        snprintf(out, cap, "-");
        return;
    }
    strftime(out, cap, seconds ? "%Y-%m-%d %H:%M:%S UTC" : "%Y-%m-%d %H:%M UTC", &tm);
}

static void iso(char *out, size_t cap, int64_t t)
{
    time_t tt = (time_t)t;
    struct tm tm;
    if (gmtime_r(&tt, &tm) == NULL) snprintf(out, cap, "1970-01-01T00:00:00Z");
    else strftime(out, cap, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

void bt_export_duration(char *out, size_t cap, int64_t s, const char *lang)
{
    char a[24], b[24];
    const char *args[] = {a, b};
    if (s < 0) {
        snprintf(out, cap, "-");
        return;
    }
    const char *key = s < 60 ? "ex_dur_s" : s < 3600 ? "ex_dur_min" : s < 86400 ? "ex_dur_h" : "ex_dur_d";
    long long big = s < 60 ? s : s < 3600 ? s / 60 : s < 86400 ? s / 3600 : s / 86400;
    long long small = s < 86400 ? s % 3600 / 60 : s % 86400 / 3600;
    snprintf(a, sizeof a, "%lld", big);
    snprintf(b, sizeof b, "%lld", small);
    bt_word(out, cap, lang, key, args, 2);
}

int bt_export_format_parse(const char *s)
{
    if (s == NULL) return -1;
    if (strcmp(s, "html") == 0) return BT_EXPORT_HTML;
    if (strcmp(s, "json") == 0) return BT_EXPORT_JSON;
    return -1;
}

const char *bt_export_format_name(bt_export_format fmt)
{
    return fmt == BT_EXPORT_JSON ? "json" : "html";
}

size_t bt_page(size_t len, int64_t *offset)
{
    if (*offset < 0 || (size_t)*offset > len) *offset = (int64_t)len;
    size_t n = len - (size_t)*offset;
    return n > BT_PAGE_BYTES ? BT_PAGE_BYTES : n;
}

bt_err bt_export_page(bt_export_piece *p, bt_vault *v, int64_t case_id, bt_export_format fmt, int64_t upto,
                      int64_t generated_at, const char *lang, int64_t offset)
{
    lang = bt_words_lang(lang);
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) {
        bt_export_piece_free(p);
        return BT_ERR_LOCKED;
    }
    if (p->doc == NULL || upto <= 0 || p->case_id != case_id || p->format != fmt || p->upto != upto ||
        p->generated_at != generated_at || p->lang != lang) {
        bt_export_piece_free(p);
        p->case_id = case_id;
        p->format = fmt;
        p->upto = upto;
        p->generated_at = generated_at;
        p->lang = lang;
        bt_err err = bt_export_case(&p->doc, &p->len, v, case_id, fmt, &p->upto, generated_at, lang);
        if (err != BT_OK) {
            bt_export_piece_free(p);
            return err;
        }
        char day[16];
        time_t t = (time_t)generated_at;
        struct tm tm;
        if (gmtime_r(&t, &tm) == NULL || strftime(day, sizeof day, "%Y-%m-%d", &tm) == 0) snprintf(day, sizeof day, "undated");
        crypto_generichash(p->digest, sizeof p->digest, (const unsigned char *)p->doc, p->len, NULL, 0);
        snprintf(p->filename, sizeof p->filename, "bantrail-case-%lld-%s.%s", (long long)case_id, day,
                 bt_export_format_name(fmt));
    }
    p->offset = offset;
    p->n = bt_page(p->len, &p->offset);
    return BT_OK;
}

void bt_export_piece_free(bt_export_piece *p)
{
    bt_export_free(p->doc, p->len);
    memset(p, 0, sizeof *p);
}

static void hex(char out[2 * BT_HASH_BYTES + 1], const unsigned char h[BT_HASH_BYTES])
{
    sodium_bin2hex(out, 2 * BT_HASH_BYTES + 1, h, BT_HASH_BYTES);
}

static json_object *parse_head(const char *s, size_t n)
{
    json_object *o;
    return bt_json_parse(s, n, 32, &o) == BT_OK ? o : NULL;
}

/* Only images whose bytes are what their type says are embedded. */
static const char *image_mime(const char *mime, const unsigned char *b, size_t n)
{
    if (mime == NULL) return NULL;
    if (!strcmp(mime, "image/png") && n >= 8 && !memcmp(b, "\x89PNG\r\n\x1a\n", 8)) return "image/png";
    if (!strcmp(mime, "image/jpeg") && n >= 3 && !memcmp(b, "\xFF\xD8\xFF", 3)) return "image/jpeg";
    if (!strcmp(mime, "image/webp") && n >= 12 && !memcmp(b, "RIFF", 4) && !memcmp(b + 8, "WEBP", 4))
        return "image/webp";
    return NULL;
}

static void put_b64(buf *b, const unsigned char *bin, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    reserve(b, cap);
    if (b->oom) return;
    sodium_bin2base64(b->p + b->len, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
    b->len += cap - 1;
}

/* The words (extension/_locales) for an event. */
static const char *event_key(const bt_case_event *e)
{
    switch (e->event) {
    case BT_EVENT_RESTRICTION: return "event_restriction";
    case BT_EVENT_APPEAL_SUBMITTED: return "event_appeal_submitted";
    case BT_EVENT_ACKNOWLEDGEMENT: return "event_acknowledgement";
    case BT_EVENT_DECISION: return e->outcome == BT_OUTCOME_REINSTATED ? "event_reinstated" : "event_rejected";
    default: return "event_other";
    }
}

/* ---- the document ---- */

static const char css[] =
    "@page{size:A4;margin:16mm 16mm 18mm}"
    "html{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
    "body{font:10.5pt/1.45 'DejaVu Serif',Georgia,serif;color:#000;margin:0}"
    "@media screen{body{max-width:190mm;margin:2em auto;padding:0 1em}}"
    "h1{font:bold 17pt/1.2 'DejaVu Sans',Arial,sans-serif;margin:0 0 2mm}"
    "h2{font:bold 13pt/1.2 'DejaVu Sans',Arial,sans-serif;margin:7mm 0 3mm;border-bottom:1px solid #444;"
    "padding-bottom:1mm;break-after:avoid}"
    "h3{font:bold 11pt 'DejaVu Sans',Arial,sans-serif;margin:5mm 0 2mm;break-after:avoid}"
    ".sub{color:#333;margin:0 0 4mm}"
    "table.summary{border-collapse:collapse;width:100%;break-inside:avoid}"
    "table.summary th{text-align:left;font-weight:normal;color:#333;width:38%;padding:1.2mm 3mm 1.2mm 0;"
    "vertical-align:top}"
    "table.summary td{padding:1.2mm 0;font-weight:bold}"
    "table.summary tr{border-bottom:1px solid #ddd}"
    "table.chain th{width:27%}"
    ".flag{border:2px solid #000;padding:2.5mm 3mm;margin:4mm 0;break-inside:avoid}"
    "ol.timeline{list-style:none;padding:0;margin:0}"
    "li.event{border-left:3px solid #444;padding:0 0 0 4mm;margin:0 0 6mm}"
    ".ev-head{break-inside:avoid;break-after:avoid}"
    ".ev-time{font:bold 10pt 'DejaVu Sans Mono',monospace}"
    ".ev-what{font:bold 12pt 'DejaVu Sans',Arial,sans-serif;margin:0.5mm 0 1.5mm}"
    "dl.facts{display:grid;grid-template-columns:32mm 1fr;gap:0.6mm 3mm;margin:0 0 2mm;font-size:9.5pt}"
    "dl.facts dt{color:#333}dl.facts dd{margin:0;overflow-wrap:anywhere}"
    ".text{white-space:pre-wrap;overflow-wrap:anywhere;unicode-bidi:isolate;border:1px solid #999;"
    "background:#f4f4f4;padding:2mm 3mm;margin:2mm 0;font-size:10pt}"
    ".label{font:8.5pt 'DejaVu Sans',Arial,sans-serif;color:#333;margin:2mm 0 0}"
    "figure{margin:3mm 0;break-inside:avoid}"
    "figure img{display:block;max-width:100%;max-height:150mm;object-fit:contain;border:1px solid #777}"
    "figcaption{font-size:8.5pt;color:#333;margin-top:1mm}"
    "code,.hash{font:8.5pt 'DejaVu Sans Mono',monospace;overflow-wrap:anywhere;word-break:break-all}"
    ".integrity{break-before:page}"
    ".warn{border:3px solid #000;padding:3mm;font-weight:bold}"
    "footer{margin-top:8mm;font-size:8.5pt;color:#333;border-top:1px solid #999;padding-top:2mm}";

typedef struct {
    bt_vault *v;
    const bt_case *c;
    int64_t upto, generated_at;
    unsigned char head_hash[BT_HASH_BYTES];
    bt_vault_verify_result vr;
    int chain_ok;
    const char *lang; /* the person's: "en", "fr" or "ko" */
} doc;

/* Message key in the document's language: its own text escaped, $1..$9
 * replaced by args as given (markup, numbers, or text escaped by the caller). */
typedef struct {
    buf *b;
    const char *const *args;
    size_t n_args;
} word_out;

static void word_text(void *ctx, const char *s, size_t n)
{
    put_esc_n(((word_out *)ctx)->b, s, n);
}

static void word_arg(void *ctx, size_t i)
{
    word_out *w = ctx;
    if (i < w->n_args && w->args[i] != NULL) put(w->b, w->args[i]);
}

static void put_word(buf *b, const doc *d, const char *key, const char *const *args, size_t n_args)
{
    word_out w = {b, args, n_args};
    bt_word_each(d->lang, key, word_text, word_arg, &w);
}

/* The same without arguments, as plain (unescaped) text in out. */
static const char *word(char *out, size_t cap, const doc *d, const char *key)
{
    return bt_word(out, cap, d->lang, key, NULL, 0);
}

/* A row of the summary: its name (a message key) and its value (text). */
static void summary_row(buf *b, const doc *d, const char *name, const char *value)
{
    put(b, "<tr><th>");
    put_word(b, d, name, NULL, 0);
    put(b, "</th><td>");
    put_esc(b, value);
    put(b, "</td></tr>\n");
}

/* A time, or the words of key when t < 0. */
static const char *when_or(char *out, size_t cap, const doc *d, int64_t t, const char *key)
{
    if (t >= 0) when(out, cap, t, 0);
    else if (key != NULL) word(out, cap, d, key);
    else snprintf(out, cap, "-");
    return out;
}

static void html_summary(buf *b, const doc *d)
{
    const bt_case *c = d->c;
    char t[64], u[64], row[256], k[64];
    const char *args[4];
    put(b, "<h2>");
    put_word(b, d, "ex_summary", NULL, 0);
    put(b, "</h2>\n<table class=\"summary\">\n");
    snprintf(k, sizeof k, "platform_%s", c->platform[0] ? c->platform : "unknown");
    summary_row(b, d, "ex_platform", bt_words_message(d->lang, k) ? word(row, sizeof row, d, k) : c->platform);
    summary_row(b, d, "ex_account", c->handle[0] ? c->handle : word(row, sizeof row, d, "ex_account_none"));
    when(t, sizeof t, c->first_at, 0);
    when(u, sizeof u, c->last_at, 0);
    args[0] = t, args[1] = u;
    summary_row(b, d, "ex_period", bt_word(row, sizeof row, d->lang, "ex_period_value", args, 2));
    summary_row(b, d, "ex_restricted", when_or(t, sizeof t, d, c->restricted_at, "ex_restricted_none"));
    summary_row(b, d, "ex_appealed", when_or(t, sizeof t, d, c->appealed_at, "ex_appealed_none"));
    summary_row(b, d, "ex_acknowledged", when_or(t, sizeof t, d, c->acknowledged_at, NULL));
    if (c->answered_at >= 0) {
        when(t, sizeof t, c->answered_at, 0);
        snprintf(k, sizeof k, "outcome_%s", bt_outcome_name(c->appeals[0].outcome));
        snprintf(row, sizeof row, "%s (%s)", t, word(u, sizeof u, d, k));
    } else if (c->appealed_at >= 0) word(row, sizeof row, d, "ex_answer_none");
    else snprintf(row, sizeof row, "-");
    summary_row(b, d, "ex_answer", row);
    bt_export_duration(t, sizeof t, c->restriction_to_appeal, d->lang);
    summary_row(b, d, "ex_restriction_to_appeal", t);
    if (c->appeal_to_answer >= 0) {
        bt_export_duration(t, sizeof t, c->appeal_to_answer, d->lang);
        snprintf(row, sizeof row, "%s (%lld s)", t, (long long)c->appeal_to_answer);
    } else snprintf(row, sizeof row, "-");
    summary_row(b, d, "ex_appeal_to_answer", row);
    bt_export_duration(t, sizeof t, c->locked_out, d->lang);
    args[0] = t;
    if (c->locked_out >= 0) bt_word(row, sizeof row, d->lang, c->locked_out_ongoing ? "ex_locked_ongoing" : "ex_locked_until", args, 1);
    else snprintf(row, sizeof row, "-");
    summary_row(b, d, "ex_locked_out", row);
    snprintf(k, sizeof k, "outcome_%s", bt_outcome_name(c->outcome));
    summary_row(b, d, "ex_outcome", word(row, sizeof row, d, k));
    put(b, "</table>\n");
    for (size_t i = 0; i < c->n_appeals; i++) {
        const bt_case_appeal *a = &c->appeals[i];
        if (a->answer_seconds < 0 || a->answer_seconds > BT_CASE_FAST_ANSWER) continue;
        char mins[24], secs[24];
        when(t, sizeof t, a->submitted_at, 1);
        when(u, sizeof u, a->answered_at, 1);
        snprintf(mins, sizeof mins, "%lld", (long long)(a->answer_seconds / 60));
        snprintf(secs, sizeof secs, "%lld", (long long)(a->answer_seconds % 60));
        const char *fast[] = {t, u, mins, secs};
        put(b, "<p class=\"flag\">");
        put_word(b, d, "ex_fast", fast, 4);
        put(b, "</p>\n");
    }
}

/* A fact of an event: its name (a message key), then the caller puts the value and "</dd>". */
static void fact(buf *b, const doc *d, const char *name)
{
    put(b, "<dt>");
    put_word(b, d, name, NULL, 0);
    put(b, "</dt><dd>");
}

static bt_err html_event(buf *b, const doc *d, const bt_case_event *e)
{
    char t[64], h[2 * BT_HASH_BYTES + 1], *text = NULL;
    unsigned char hash[BT_HASH_BYTES];
    size_t n = 0;
    bt_err err = bt_vault_read(d->v, e->record, &text, &n, NULL, NULL);
    json_object *head = err == BT_OK ? parse_head(text, n) : NULL, *cls = NULL;
    bt_vault_free(text);
    if (err != BT_OK) return err;
    if (head == NULL) return BT_ERR_CORRUPT;
    if ((err = bt_vault_entry_hash(d->v, e->record, hash)) != BT_OK) goto done;
    json_object_object_get_ex(head, "classification", &cls);

    when(t, sizeof t, e->at, 1);
    putf(b, "<li class=\"event\" id=\"r%lld\"><div class=\"ev-head\"><div class=\"ev-time\">%s</div>"
            "<div class=\"ev-what\">", (long long)e->record, t);
    put_word(b, d, event_key(e), NULL, 0);
    if (e->kind[0] && (e->event == BT_EVENT_RESTRICTION || e->event == BT_EVENT_OTHER)) {
        char k[48];
        snprintf(k, sizeof k, "kind_%s", e->kind);
        put(b, " &middot; ");
        if (bt_words_message(d->lang, k) != NULL) put_word(b, d, k, NULL, 0);
        else put_esc(b, e->kind);
    }
    put(b, "</div>\n<dl class=\"facts\">");
    char num[24];
    const char *arg[] = {num};
    snprintf(num, sizeof num, "%lld", (long long)e->record);
    fact(b, d, "ex_record");
    put_word(b, d, e->is_notice ? (e->manual ? "ex_rec_notice_manual" : "ex_rec_notice")
                                : (e->manual ? "ex_rec_event_manual" : "ex_rec_event"), arg, 1);
    put(b, "</dd>");
    fact(b, d, "ex_time");
    put_word(b, d, e->is_notice ? (e->at_stated ? "ex_time_stated" : "ex_time_captured")
                                : (e->manual ? "ex_time_person" : "ex_time_happened"), NULL, 0);
    put(b, "</dd>");
    const char *fields[][2] = {{"url", "ex_address"}, {"title", "ex_page_title"}, {"lang", "ex_language"}};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        const char *v = bt_json_str(head, fields[i][0]);
        if (v == NULL) continue;
        put(b, "<dt>");
        put_word(b, d, fields[i][1], NULL, 0);
        put(b, "</dt><dd dir=\"auto\">");
        put_esc(b, v);
        put(b, "</dd>");
    }
    const char *reason = bt_json_str(cls, "reason");
    if (reason != NULL) {
        fact(b, d, "ex_reason");
        put_esc(b, reason);
        put(b, "</dd>");
    }
    if (e->sightings > 1) {
        when(t, sizeof t, e->last_seen, 0);
        snprintf(num, sizeof num, "%lld", (long long)e->sightings);
        const char *seen[] = {num, t};
        fact(b, d, "ex_seen");
        put_word(b, d, "ex_seen_value", seen, 2);
        put(b, "</dd>");
    }
    if (!e->is_notice) {
        json_object *cap;
        if (json_object_object_get_ex(head, "captured_at", &cap) && json_object_is_type(cap, json_type_int)) {
            when(t, sizeof t, json_object_get_int64(cap), 0);
            fact(b, d, e->manual ? "ex_entered" : "ex_recorded");
            putf(b, "%s</dd>", t);
        }
    }
    hex(h, hash);
    fact(b, d, "ex_hash");
    putf(b, "<span class=\"hash\">%s</span></dd></dl></div>\n", h);
    const char *body = bt_json_str(head, e->is_notice ? "text" : "note");
    if (body != NULL) {
        put(b, "<p class=\"label\">");
        put_word(b, d, e->is_notice ? "ex_text_label" : "ex_note_label", NULL, 0);
        put(b, "</p><div class=\"text\" dir=\"auto\">");
        put_esc(b, body);
        put(b, "</div>\n");
    }
    for (size_t i = 0; i < e->n_attachments && err == BT_OK; i++) {
        int64_t aid = e->attachments[i];
        char *ah = NULL;
        unsigned char *bytes = NULL, ahash[BT_HASH_BYTES];
        size_t ahn = 0, bn = 0;
        if ((err = bt_vault_read(d->v, aid, &ah, &ahn, &bytes, &bn)) != BT_OK) break;
        json_object *ahead = parse_head(ah, ahn);
        bt_vault_free(ah);
        err = ahead == NULL ? BT_ERR_CORRUPT : bt_vault_entry_hash(d->v, aid, ahash);
        if (err == BT_OK) {
            const char *mime = bt_json_str(ahead, "mime"), *img = image_mime(mime, bytes, bn);
            char id[24], size[24], type[96], hash_html[2 * BT_HASH_BYTES + 32];
            snprintf(id, sizeof id, "%lld", (long long)aid);
            snprintf(size, sizeof size, "%zu", bn);
            hex(h, ahash);
            snprintf(hash_html, sizeof hash_html, "<span class=\"hash\">%s</span>", h);
            if (img != NULL) {
                const char *caption[] = {id, img, size};
                put(b, "<figure><img alt=\"");
                put_word(b, d, "ex_shot_alt", caption, 1);
                putf(b, "\" src=\"data:%s;base64,", img);
                put_b64(b, bytes, bn);
                put(b, "\"><figcaption>");
                put_word(b, d, "ex_shot_caption", caption, 3);
                put(b, "<br>");
                put_word(b, d, "ex_hash", NULL, 0);
                putf(b, " %s</figcaption></figure>\n", hash_html);
            } else {
                buf m = {NULL, 0, 0, 0};
                put_esc(&m, mime ? mime : word(type, sizeof type, d, "ex_unknown_type"));
                const char *kept[] = {id, m.p ? m.p : "", size};
                put(b, "<p class=\"label\">");
                put_word(b, d, "ex_kept", kept, 3);
                put(b, " ");
                put_word(b, d, "ex_hash", NULL, 0);
                putf(b, " %s</p>\n", hash_html);
                if (m.oom) b->oom = 1;
                free(m.p);
            }
        }
        json_object_put(ahead);
        if (bytes != NULL) sodium_memzero(bytes, bn);
        bt_vault_free(bytes);
    }
    put(b, "</li>\n");
done:
    json_object_put(head);
    return err;
}

/* A paragraph (or list item) of one message. */
static void para(buf *b, const doc *d, const char *tag, const char *key, const char *const *args, size_t n_args)
{
    putf(b, "<%s>", tag);
    put_word(b, d, key, args, n_args);
    putf(b, "</%s>\n", tag);
}

static void html_integrity(buf *b, const doc *d)
{
    char h[2 * BT_HASH_BYTES + 1], t[64], num[24], cmd[64];
    const char *arg[2] = {num, NULL};
    hex(h, d->head_hash);
    when(t, sizeof t, d->generated_at, 1);
    put(b, "<section class=\"integrity\">\n");
    para(b, d, "h2", "ex_check_title", NULL, 0);
    if (!d->chain_ok) {
        buf why = {NULL, 0, 0, 0};
        put_esc(&why, d->vr.reason ? d->vr.reason : "?");
        snprintf(num, sizeof num, "%lld", (long long)d->vr.bad_id);
        const char *failed[] = {num, why.p ? why.p : ""};
        put(b, "<p class=\"warn\">");
        put_word(b, d, "ex_chain_failed", failed, 2);
        put(b, "</p>\n");
        free(why.p);
    }
    para(b, d, "p", "ex_chain_explain", NULL, 0);
    put(b, "<table class=\"summary chain\">\n<tr><th>");
    put_word(b, d, "ex_head", NULL, 0);
    putf(b, "</th><td class=\"hash\">%s</td></tr>\n<tr><th>", h);
    put_word(b, d, "ex_entries", NULL, 0);
    put(b, "</th><td>");
    snprintf(num, sizeof num, "%lld", (long long)d->upto);
    put_word(b, d, "ex_entries_value", arg, 1);
    put(b, "</td></tr>\n<tr><th>");
    put_word(b, d, "ex_exported_at", NULL, 0);
    putf(b, "</th><td>%s</td></tr>\n<tr><th>", t);
    put_word(b, d, "ex_chain_check", NULL, 0);
    put(b, "</th><td>");
    put_word(b, d, d->chain_ok ? "ex_chain_held" : "ex_chain_failed_short", NULL, 0);
    put(b, "</td></tr>\n</table>\n");
    para(b, d, "h3", "ex_anyone", NULL, 0);
    put(b, "<ol>\n");
    arg[0] = "<code>bantrail verify</code>";
    para(b, d, "li", "ex_step_verify", arg, 1);
    snprintf(cmd, sizeof cmd, "<code>bantrail case show %lld</code>", (long long)d->c->id);
    arg[0] = cmd;
    para(b, d, "li", "ex_step_compare", arg, 1);
    para(b, d, "li", "ex_step_date", NULL, 0);
    put(b, "</ol>\n");
    para(b, d, "h3", "ex_proves_title", NULL, 0);
    para(b, d, "p", "ex_proves", NULL, 0);
    put(b, "</section>\n");
}

static bt_err build_html(buf *b, const doc *d)
{
    const bt_case *c = d->c;
    char t[64], k[64], plat[96], num[24];
    bt_err err = BT_OK;
    when(t, sizeof t, d->generated_at, 0);
    snprintf(k, sizeof k, "platform_%s", c->platform[0] ? c->platform : "unknown");
    if (bt_words_message(d->lang, k) != NULL) word(plat, sizeof plat, d, k);
    else snprintf(plat, sizeof plat, "%s", c->platform);
    snprintf(num, sizeof num, "%lld", (long long)c->id);
    putf(b, "<!DOCTYPE html>\n<html lang=\"%s\">\n<head>\n<meta charset=\"utf-8\">\n", d->lang);
    put(b, "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; img-src data:; "
           "style-src 'unsafe-inline'\">\n<meta name=\"referrer\" content=\"no-referrer\">\n"
           "<meta name=\"generator\" content=\"Bantrail " BT_VERSION "\">\n<title>");
    buf pe = {NULL, 0, 0, 0};
    put_esc(&pe, plat);
    const char *title[] = {num, pe.p ? pe.p : ""};
    put_word(b, d, "ex_title", title, 2);
    put(b, "</title>\n<style>");
    put(b, css);
    putf(b, "@page{@bottom-center{content:\"Bantrail \\2014  %lld \\2014  \" counter(page) \" / \" "
            "counter(pages);font:8pt sans-serif;color:#444}}", (long long)c->id);
    put(b, "</style>\n</head>\n<body>\n<header>\n");
    para(b, d, "h1", "ex_heading", NULL, 0);
    put(b, "<p class=\"sub\">");
    put_word(b, d, "ex_case", title, 1);
    put(b, " &middot; ");
    put(b, pe.p ? pe.p : "");
    if (pe.oom) b->oom = 1;
    free(pe.p);
    if (c->handle[0]) {
        put(b, " &middot; ");
        put_esc(b, c->handle);
    }
    char records[96];
    bt_word_n(records, sizeof records, d->lang, "ex_records", (long long)c->n_events, NULL, 0);
    put(b, " &middot; ");
    put_esc(b, records);
    put(b, " &middot; ");
    const char *at[] = {t};
    put_word(b, d, "ex_exported", at, 1);
    put(b, "</p>\n</header>\n");
    html_summary(b, d);
    para(b, d, "h2", "ex_timeline", NULL, 0);
    put(b, "<p class=\"sub\">");
    put_word(b, d, "ex_timeline_sub", NULL, 0);
    put(b, "</p>\n<ol class=\"timeline\">\n");
    for (size_t i = 0; i < c->n_events && err == BT_OK; i++) err = html_event(b, d, &c->events[i]);
    put(b, "</ol>\n");
    html_integrity(b, d);
    const char *version[] = {BT_VERSION};
    para(b, d, "footer", "ex_footer", version, 1);
    put(b, "</body>\n</html>\n");
    return err;
}

/* ---- JSON ---- */

static json_object *hash_json(bt_vault *v, int64_t id, bt_err *err)
{
    unsigned char hash[BT_HASH_BYTES];
    char h[2 * BT_HASH_BYTES + 1];
    *err = bt_vault_entry_hash(v, id, hash);
    if (*err != BT_OK) return NULL;
    hex(h, hash);
    return json_object_new_string(h);
}

static bt_err build_json(buf *b, const doc *d)
{
    json_object *root = json_object_new_object(), *cj = bt_case_to_json(d->c, 1), *events = NULL, *chain;
    char t[32], h[2 * BT_HASH_BYTES + 1];
    bt_err err = BT_OK;
    if (root == NULL || cj == NULL) {
        json_object_put(root);
        json_object_put(cj);
        return BT_ERR_NO_MEMORY;
    }
    iso(t, sizeof t, d->generated_at);
    json_object_object_add(root, "format", json_object_new_string("bantrail-evidence"));
    json_object_object_add(root, "version", json_object_new_int(1));
    json_object_object_add(root, "generator", json_object_new_string("bantrail " BT_VERSION));
    json_object_object_add(root, "generated_at", json_object_new_string(t));
    json_object_object_get_ex(cj, "events", &events);
    for (size_t i = 0; i < d->c->n_events && err == BT_OK; i++) {
        const bt_case_event *e = &d->c->events[i];
        json_object *ev = json_object_array_get_idx(events, i), *atts = json_object_new_array();
        char *text = NULL;
        size_t n = 0;
        json_object_object_add(ev, "hash", hash_json(d->v, e->record, &err));
        if (err != BT_OK || (err = bt_vault_read(d->v, e->record, &text, &n, NULL, NULL)) != BT_OK) {
            json_object_put(atts);
            break;
        }
        json_object *head = parse_head(text, n);
        bt_vault_free(text);
        if (head == NULL) { err = BT_ERR_CORRUPT; json_object_put(atts); break; }
        json_object_object_add(ev, "header", head);
        for (size_t k = 0; k < e->n_attachments && err == BT_OK; k++) {
            int64_t aid = e->attachments[k];
            char *ah = NULL;
            unsigned char *bytes = NULL;
            size_t ahn = 0, bn = 0;
            if ((err = bt_vault_read(d->v, aid, &ah, &ahn, &bytes, &bn)) != BT_OK) break;
            json_object *ahead = parse_head(ah, ahn), *item = json_object_new_object();
            bt_vault_free(ah);
            json_object_object_add(item, "id", json_object_new_int64(aid));
            json_object_object_add(item, "mime", json_object_new_string(bt_json_str(ahead, "mime") ? bt_json_str(ahead, "mime") : ""));
            json_object_object_add(item, "size", json_object_new_int64((int64_t)bn));
            json_object_object_add(item, "hash", hash_json(d->v, aid, &err));
            size_t cap = sodium_base64_ENCODED_LEN(bn, sodium_base64_VARIANT_ORIGINAL);
            char *b64 = malloc(cap);
            if (b64 != NULL && cap - 1 <= INT_MAX) {
                sodium_bin2base64(b64, cap, bytes, bn, sodium_base64_VARIANT_ORIGINAL);
                json_object_object_add(item, "data", json_object_new_string_len(b64, (int)(cap - 1)));
                sodium_memzero(b64, cap);
            } else if (err == BT_OK) {
                err = BT_ERR_NO_MEMORY;
            }
            free(b64);
            json_object_array_add(atts, item);
            json_object_put(ahead);
            if (bytes != NULL) sodium_memzero(bytes, bn);
            bt_vault_free(bytes);
        }
        json_object_object_add(ev, "attachments_data", atts);
    }
    json_object_object_add(root, "case", cj);
    chain = json_object_new_object();
    hex(h, d->head_hash);
    json_object_object_add(chain, "entries", json_object_new_int64(d->upto));
    json_object_object_add(chain, "head", json_object_new_string(h));
    json_object_object_add(chain, "hash", json_object_new_string("BLAKE2b-256 over the previous hash and the entry's "
                                                                 "id, session, sealed session key, nonce and "
                                                                 "ciphertexts with their lengths (docs/SECURITY.md)"));
    json_object_object_add(chain, "verified", json_object_new_boolean(d->chain_ok));
    json_object_object_add(chain, "bad_id", d->chain_ok ? NULL : json_object_new_int64(d->vr.bad_id));
    json_object_object_add(chain, "how_to_check",
        json_object_new_string("Run `bantrail verify` (no passphrase needed): it recomputes every hash. If no entry "
                               "was added since, its head equals chain.head; otherwise each record's hash shown by "
                               "`bantrail case show` must equal the hash here."));
    json_object_object_add(root, "chain", chain);
    if (err == BT_OK) {
        size_t n = 0;
        const char *s = json_object_to_json_string_length(root, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE, &n);
        if (s == NULL) err = BT_ERR_NO_MEMORY;
        else {
            put_n(b, s, n);
            put(b, "\n");
            sodium_memzero((char *)s, n);
        }
    }
    json_object_put(root);
    return err;
}

bt_err bt_export_case(char **out, size_t *out_len, bt_vault *v, int64_t case_id, bt_export_format fmt,
                      int64_t *upto, int64_t generated_at, const char *lang)
{
    bt_cases *cs = NULL;
    bt_vault_stats st;
    buf b = {NULL, 0, 0, 0};
    doc d;
    bt_err err;
    *out = NULL;
    *out_len = 0;
    memset(&d, 0, sizeof d);
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;
    if ((err = bt_vault_stats_of(v, &st)) != BT_OK) return err;
    if (*upto <= 0) *upto = st.entries;
    if (*upto > st.entries) return BT_ERR_NOT_FOUND;
    if ((err = bt_cases_load(&cs, v, *upto, generated_at, NULL)) != BT_OK) return err;
    d.v = v;
    d.lang = bt_words_lang(lang);
    d.upto = *upto;
    d.generated_at = generated_at;
    d.c = bt_cases_find(cs, case_id);
    if (d.c == NULL) { err = BT_ERR_NOT_FOUND; goto done; }
    if ((err = bt_vault_entry_hash(v, *upto, d.head_hash)) != BT_OK) goto done;
    if ((err = bt_vault_verify(v, &d.vr)) != BT_OK) goto done;
    d.chain_ok = d.vr.bad_id == 0 || d.vr.bad_id > *upto;
    err = fmt == BT_EXPORT_JSON ? build_json(&b, &d) : build_html(&b, &d);
    if (err == BT_OK && b.oom) err = BT_ERR_NO_MEMORY;
    if (err == BT_OK && b.p == NULL) err = BT_ERR_INTERNAL;
done:
    bt_cases_free(cs);
    if (err != BT_OK) {
        bt_export_free(b.p, b.cap);
        return err;
    }
    *out = b.p;
    *out_len = b.len;
    return BT_OK;
}

void bt_export_free(char *p, size_t len)
{
    if (p == NULL) return;
    sodium_memzero(p, len);
    free(p);
}

int bt_export_save(const char *path, const void *data, size_t len, int replace)
{
    struct stat sb;
    if (replace && lstat(path, &sb) == 0 && S_ISLNK(sb.st_mode)) { /* evidence goes where it was asked to */
        errno = ELOOP;
        return -1;
    }
    return bt_file_write(path, data, len, 0600, replace ? BT_FILE_REPLACE : BT_FILE_NEW);
}
