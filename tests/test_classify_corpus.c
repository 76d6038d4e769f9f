/* Corpus test: every entry of each JSONL corpus given on the command line
 * goes through the classifier with the built-in rules. An entry is a notice
 * unless its "kind" is "not_a_notice". When the entry names a URL path on a
 * known platform, the classifier gets that URL (as the extension would);
 * otherwise the text alone.
 *
 * Prints recall on notices and the false-positive rate on counter-examples,
 * by language and by platform, then the same for text alone (no URL), kind
 * agreement, and every miss. Fails (exit 1) below 95% recall or above 1%
 * false positives overall; exit 2 if a corpus cannot be read.
 *
 * Entries with an "example_url" and no "text" (url-paths.jsonl) are run on
 * the address alone and listed, not scored: a profile path such as /{name}
 * is no restriction screen by itself.
 *
 * usage: test_classify_corpus CORPUS.jsonl... */
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/classify.h"

#define GROUPS 64

typedef struct {
    char name[32];
    int notices, found, counters, false_pos;
} group;

typedef struct {
    group g[GROUPS];
    size_t n;
} tally;

static group *slot(tally *t, const char *name)
{
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->g[i].name, name) == 0) return &t->g[i];
    if (t->n == GROUPS) return &t->g[GROUPS - 1];
    snprintf(t->g[t->n].name, sizeof t->g[0].name, "%s", name);
    return &t->g[t->n++];
}

static void count(tally *t, const char *name, int is_notice, int said_notice)
{
    group *g = slot(t, name);
    if (is_notice) {
        g->notices++;
        g->found += said_notice;
    } else {
        g->counters++;
        g->false_pos += said_notice;
    }
}

static void print_tally(const char *title, const tally *t)
{
    printf("\n%-12s %22s %28s\n", title, "recall on notices", "false positives");
    for (size_t i = 0; i < t->n; i++) {
        const group *g = &t->g[i];
        char r[40] = "-", f[40] = "-";
        if (g->notices) snprintf(r, sizeof r, "%3d/%-3d %5.1f%%", g->found, g->notices, 100.0 * g->found / g->notices);
        if (g->counters)
            snprintf(f, sizeof f, "%3d/%-3d %5.1f%%", g->false_pos, g->counters, 100.0 * g->false_pos / g->counters);
        printf("%-12s %22s %28s\n", g->name, r, f);
    }
}

static const char *str(json_object *o, const char *key)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string)) return NULL;
    return json_object_get_string(x);
}

/* The first host of platform in the built-in rules, or NULL. */
static const char *platform_host(json_object *rules, const char *platform)
{
    json_object *plats = NULL, *p = NULL, *hosts = NULL;
    if (platform == NULL || !json_object_object_get_ex(rules, "platforms", &plats) ||
        !json_object_object_get_ex(plats, platform, &p) || !json_object_object_get_ex(p, "hosts", &hosts))
        return NULL;
    return json_object_get_string(json_object_array_get_idx(hosts, 0));
}

/* Builds https://www.HOST/PATH with placeholders filled; 0 if the entry
 * has no usable path. */
static int entry_url(char *url, size_t cap, const char *host, const char *path)
{
    char p[512];
    size_t o = 0;
    if (host == NULL || path == NULL || path[0] != '/' || strchr(path, ' ') != NULL) return 0;
    for (const char *s = path; *s && o + 16 < sizeof p; s++) {
        if (*s == '{') {
            const char *e = strchr(s, '}');
            if (e == NULL) break;
            o += (size_t)snprintf(p + o, sizeof p - o, "%s", strncmp(s, "{id}", 4) == 0 ? "UCabc123" : "someone");
            s = e;
        } else {
            p[o++] = *s;
        }
    }
    p[o] = '\0';
    snprintf(url, cap, "https://www.%s%s", host, p);
    return 1;
}

int main(int argc, char **argv)
{
    tally by_lang = {0}, by_platform = {0}, text_only = {0}, overall = {0};
    int kind_total = 0, kind_same = 0, rc = 0;
    size_t rules_len;
    const char *rules_text = bt_classify_rules_json(&rules_len);
    json_object *rules = json_tokener_parse(rules_text);

    if (argc < 2 || rules == NULL) {
        fprintf(stderr, "usage: test_classify_corpus CORPUS.jsonl...\n");
        return 2;
    }
    printf("Misses (notice not found) and false positives:\n");
    for (int a = 1; a < argc; a++) {
        FILE *f = fopen(argv[a], "r");
        char *line = NULL;
        size_t cap = 0;
        int lineno = 0;
        if (f == NULL) {
            fprintf(stderr, "cannot read %s\n", argv[a]);
            rc = 2;
            continue;
        }
        while (getline(&line, &cap, f) > 0) {
            lineno++;
            if (line[strspn(line, " \t\r\n")] == '\0') continue;
            json_object *o = json_tokener_parse(line);
            const char *text = str(o, "text"), *kind = str(o, "kind"), *lang = str(o, "lang"),
                       *plat = str(o, "platform"), *id = str(o, "id"), *example = str(o, "example_url");
            if (text == NULL && kind != NULL && json_object_object_get_ex(o, "example_url", NULL)) {
                /* url-paths.jsonl: does the address alone say what the corpus says? (not scored) */
                bt_classification u;
                int want = strcmp(kind, "not_a_notice") != 0;
                if (example != NULL && strchr(example, '{') == NULL &&
                    bt_classify_text(&u, example, NULL, NULL, "") == BT_OK)
                    printf("  path %-9s %-8s %s: %s\n", id ? id : "?", want == u.notice ? "agrees" : "DIFFERS",
                           u.notice ? u.kind : "not a notice", example);
                json_object_put(o);
                continue;
            }
            if (o == NULL || text == NULL || kind == NULL) {
                fprintf(stderr, "%s:%d: not an entry with text and kind\n", argv[a], lineno);
                json_object_put(o);
                rc = 2;
                continue;
            }
            int is_notice = strcmp(kind, "not_a_notice") != 0;
            char url[700];
            int has_url = entry_url(url, sizeof url, platform_host(rules, plat), str(o, "url_path"));
            bt_classification c, bare;
            if (bt_classify_text(&c, has_url ? url : NULL, NULL, lang, text) != BT_OK ||
                bt_classify_text(&bare, NULL, NULL, lang, text) != BT_OK) {
                fprintf(stderr, "%s: classifier error\n", id ? id : "?");
                rc = 2;
            }
            count(&by_lang, lang ? lang : "?", is_notice, c.notice);
            count(&by_platform, plat ? plat : "?", is_notice, c.notice);
            count(&overall, "all", is_notice, c.notice);
            count(&text_only, "all", is_notice, bare.notice);
            if (is_notice && c.notice) {
                kind_total++;
                kind_same += strcmp(c.kind, kind) == 0;
            }
            if (is_notice != c.notice) {
                int cut = 0; /* at most 100 bytes, cut between characters */
                while (text[cut] != '\0' && cut < 100) cut++;
                while (cut > 0 && ((unsigned char)text[cut] & 0xC0) == 0x80) cut--;
                printf("  %-4s %-16s [%s] score %d: %.*s\n", is_notice ? "MISS" : "FP", id ? id : "?",
                       lang ? lang : "?", c.score, cut, text);
            }
            json_object_put(o);
        }
        free(line);
        fclose(f);
    }
    print_tally("language", &by_lang);
    print_tally("platform", &by_platform);
    print_tally("overall", &overall);
    print_tally("text only", &text_only);
    const group *g = &overall.g[0];
    double recall = g->notices ? 100.0 * g->found / g->notices : 0, fp = g->counters ? 100.0 * g->false_pos / g->counters : 0;
    printf("\nkind agrees with the corpus on %d of %d notices found\n", kind_same, kind_total);
    printf("RECALL %.1f%% (needs >= 95%%), FALSE POSITIVES %.1f%% (needs <= 1%%)\n", recall, fp);
    if (rc == 0 && (g->notices == 0 || g->counters == 0 || recall < 95.0 || fp > 1.0)) rc = 1;
    json_object_put(rules);
    return rc;
}
