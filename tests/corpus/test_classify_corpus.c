/* Corpus test (docs/RULES.md, "The corpus"): every entry of the JSONL
 * corpora given on the command line goes through the classifier with the
 * built-in rules, as the extension would send it (its page's URL when the
 * entry knows it, its title, its language).
 *
 * Prints, first, the figures that predict what a person meets: grouped
 * cross-validation, where the model is fitted without some sources (one
 * repository, help centre, publication is a source; SOURCE_FOLDS folds,
 * each source whole in one), or without one language at a time, and
 * measured on what was held out. Then the in-sample figures
 * of the shipped model, by language, platform, kind and counter-example
 * type, and every miss and false positive.
 *
 * Fails (exit 1) when the model in the rules file is not the one that
 * tests/corpus/train.sh fits on this corpus, when the corpus is too small
 * or narrow (docs/RULES.md), or when the held-out figures fall below the
 * floors below (what the rules reached when they were last changed: a
 * regression guard; the targets are printed beside them). Exit 2 if a
 * corpus cannot be read.
 *
 * usage: test_classify_corpus [--print-model] CORPUS.jsonl...
 *        test_classify_corpus --labellers LABELS.jsonl CORPUS.jsonl...
 *        test_classify_corpus --unseen NEW.jsonl CORPUS.jsonl...
 * --labellers also prints how far blind labelling passes agree with the
 * corpus's labels on the entries LABELS holds, beside the held-out model on
 * the same entries; exit 2 when LABELS names an entry the corpus lacks, or
 * twice, or a label the kinds' table does not have.
 * With BT_CV_DUMP=FILE, every held-out-by-source (or unseen) error goes to FILE, one a line.
 * --unseen measures a new batch the rules have never been tuned on: the model
 * is fitted on the CORPUS files only and decides NEW's entries; it prints
 * their figures, by language, platform and kind, and exits 0. Measure a batch
 * so before its words go into the lists, or the figure predicts nothing. */
#include <json-c/json.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

/* Floors of the held-out-by-source figures, and the corpus's minimum size. */
#define FLOOR_RECALL 0.65
#define FLOOR_FALSE_POS 0.14
#define FLOOR_KIND 0.70
#define MIN_ENTRIES 1500
#define MIN_LANGS 25
#define MIN_PLATFORMS 20
#define MIN_COUNTER_SHARE 0.40

#define GROUPS 8192 /* languages, platforms or sources: more is an error, not a merge */

typedef struct {
    char name[96];
    int notices, found, counters, false_pos, kind_right;
} group;

typedef struct {
    group g[GROUPS];
    size_t n;
} tally;

static group *slot(tally *t, const char *name)
{
    if (name[0] == '\0') name = "(none)"; /* a page of no platform's, a cookie banner */
    for (size_t i = 0; i < t->n; i++)
        if (strcmp(t->g[i].name, name) == 0) return &t->g[i];
    if (t->n == GROUPS) {
        fprintf(stderr, "more than %d languages, platforms or sources: raise GROUPS\n", GROUPS);
        exit(2);
    }
    snprintf(t->g[t->n].name, sizeof t->g[0].name, "%s", name);
    return &t->g[t->n++];
}

static void count(tally *t, const char *name, const corpus_entry *e, int said, const char *kind)
{
    group *g = slot(t, name);
    if (e->notice) {
        g->notices++;
        g->found += said;
        g->kind_right += said && strcmp(kind, e->kind) == 0;
    } else {
        g->counters++;
        g->false_pos += said;
    }
}

static int by_size(const void *a, const void *b)
{
    const group *x = a, *y = b;
    int d = (y->notices + y->counters) - (x->notices + x->counters);
    return d ? d : strcmp(x->name, y->name);
}

static void print_tally(const char *title, tally *t)
{
    qsort(t->g, t->n, sizeof t->g[0], by_size);
    printf("\n%-16s %18s %18s %14s\n", title, "recall", "false positives", "kind right");
    for (size_t i = 0; i < t->n; i++) {
        const group *g = &t->g[i];
        char r[40] = "-", f[40] = "-", k[40] = "-";
        if (g->notices) snprintf(r, sizeof r, "%4d/%-4d %5.2f", g->found, g->notices, (double)g->found / g->notices);
        if (g->counters)
            snprintf(f, sizeof f, "%4d/%-4d %5.3f", g->false_pos, g->counters, (double)g->false_pos / g->counters);
        if (g->found) snprintf(k, sizeof k, "%5.2f", (double)g->kind_right / g->found);
        printf("%-16.16s %18s %18s %14s\n", g->name, r, f, k);
    }
}

typedef struct {
    double recall, false_pos, kind;
} figures;

enum { CURVE = 9 }; /* thresholds 0.1 .. 0.9 */

static figures overall(const tally *t)
{
    int n = 0, found = 0, c = 0, fp = 0, kr = 0;
    for (size_t i = 0; i < t->n; i++) {
        n += t->g[i].notices;
        found += t->g[i].found;
        c += t->g[i].counters;
        fp += t->g[i].false_pos;
        kr += t->g[i].kind_right;
    }
    figures f = {n ? (double)found / n : 0, c ? (double)fp / c : 1, found ? (double)kr / found : 0};
    return f;
}

/* Where the entries a model was fitted without are counted: by language,
 * platform and kind (the corpus's kind for notices, the counter type for
 * the rest), all; if curve: the same at thresholds 0.1, 0.2, ... 0.9; if
 * dump: each error, one a line. */
typedef struct {
    tally *by_lang, *by_platform, *by_kind, *all;
    group *curve;
    FILE *dump;
    const unsigned char *labelled; /* if given, the entries the blind labellers saw, counted again into on_labelled */
    tally *on_labelled;
} held_out;

/* Fits the model on the entries where use[i] is nonzero and counts what it
 * decides of the others into h (marking them done, if given). */
static void decide_held_out(const corpus *c, const unsigned char *use, unsigned char *done, const held_out *h)
{
    corpus_model m;
    corpus_train(&m, c, use);
    for (size_t j = 0; j < c->n; j++) {
        if (use[j]) continue;
        const corpus_entry *e = &c->e[j];
        int percent, said = corpus_decide(&m, c, j, &percent);
        const char *kind = corpus_kind(&m, c, j);
        for (int t = 0; h->curve != NULL && t < CURVE; t++) {
            corpus_model at = m;
            at.m.threshold = 0.1 * (t + 1);
            h->curve[t].notices += e->notice;
            h->curve[t].found += e->notice && corpus_decide(&at, c, j, NULL);
            h->curve[t].counters += !e->notice;
            h->curve[t].false_pos += !e->notice && corpus_decide(&at, c, j, NULL);
        }
        if (done != NULL) done[j] = 1;
        if (h->dump != NULL && (said != e->notice || (said && strcmp(kind, e->kind) != 0)))
            fprintf(h->dump, "%s %s [%s %s] p=%d%% %s -> %s\n", said != e->notice ? (said ? "FP" : "MISS") : "KIND",
                    e->id, e->lang, e->platform, percent, e->notice ? e->kind : e->counter, said ? kind : "-");
        count(h->by_lang, e->lang, e, said, kind);
        count(h->by_platform, e->platform, e, said, kind);
        count(h->by_kind, e->notice ? e->kind : e->counter, e, said, kind);
        count(h->all, "all", e, said, kind);
        if (h->labelled != NULL && h->labelled[j]) count(h->on_labelled, "all", e, said, kind);
    }
    free(m.grams);
    free(m.kinds);
}

/* Blind labelling passes (docs/RULES.md, "The corpus"): path holds, one JSON
 * object a line, {"id": a corpus entry, "labels": [{"notice", "kind",
 * "counter", "note"}, ... one per pass]}. Marks the entries in labelled and
 * counts each pass's labels against the corpus's into by[pass]. Returns how
 * many entries, or -1 after printing what is wrong. */
enum { LABELLERS = 3 };
static int read_labellers(const char *path, const corpus *c, unsigned char *labelled, tally *by)
{
    static const char *const counters[] = {"news", "help", "policy", "moderator_tool", "other_account", "quoted",
                                           "appeal_form", "login", "cookie", "other"};
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    int n = 0, lineno = 0, bad = 0;
    if (f == NULL) {
        perror(path);
        return -1;
    }
    while (!bad && getline(&line, &cap, f) > 0) {
        lineno++;
        json_object *o = json_tokener_parse(line), *id, *labels;
        size_t i = c->n;
        if (o != NULL && json_object_object_get_ex(o, "id", &id) && json_object_object_get_ex(o, "labels", &labels) &&
            json_object_is_type(labels, json_type_array) && json_object_array_length(labels) == LABELLERS)
            for (i = 0; i < c->n && strcmp(c->e[i].id, json_object_get_string(id)) != 0; i++) continue;
        bad = i == c->n || labelled[i];
        for (size_t p = 0; !bad && p < LABELLERS; p++) {
            json_object *l = json_object_array_get_idx(labels, p), *notice, *what;
            int said = json_object_object_get_ex(l, "notice", &notice) && json_object_get_boolean(notice);
            const char *kind = json_object_object_get_ex(l, said ? "kind" : "counter", &what) ? json_object_get_string(what) : NULL;
            int known = 0;
            for (size_t k = 0; kind != NULL && k < (said ? c->n_kinds : sizeof counters / sizeof *counters); k++)
                known |= strcmp(kind, said ? c->kinds[k] : counters[k]) == 0;
            bad = !known;
            if (!bad) count(&by[p], "all", &c->e[i], said, said ? kind : "");
        }
        if (!bad) labelled[i] = 1, n++;
        else fprintf(stderr, "%s:%d: not {\"id\": an entry of the corpus, once, \"labels\": %d labels of the kinds' table}\n",
                     path, lineno, LABELLERS);
        json_object_put(o);
    }
    free(line);
    fclose(f);
    return bad ? -1 : n;
}

/* Cross-validation grouped by key(e): the model fitted without each group in
 * turn decides that group's entries, counted into h. */
static void cross_validate(const corpus *c, const char *(*key)(const corpus_entry *), const held_out *h)
{
    unsigned char *use = malloc(c->n), *done = calloc(c->n, 1);
    if (use == NULL || done == NULL) abort();
    for (size_t i = 0; i < c->n; i++) {
        if (done[i]) continue;
        const char *held = key(&c->e[i]);
        for (size_t j = 0; j < c->n; j++) use[j] = strcmp(key(&c->e[j]), held) != 0;
        decide_held_out(c, use, done, h);
    }
    free(use);
    free(done);
}

/* Sources are held out in SOURCE_FOLDS folds, each source whole in one
 * (by a hash of its name): one fit a source would take minutes. */
#define SOURCE_FOLDS 10
static const char *group_of(const corpus_entry *e)
{
    static const char *names[SOURCE_FOLDS] = {"0", "1", "2", "3", "4", "5", "6", "7", "8", "9"};
    uint32_t h = 2166136261u;
    for (const char *s = e->group; *s; s++) h = (h ^ (unsigned char)*s) * 16777619u;
    return names[h % SOURCE_FOLDS];
}

static const char *lang_of(const corpus_entry *e)
{
    return e->lang;
}

static void print_misses(const corpus *c)
{
    printf("\nMisses and false positives of the shipped model (in sample):\n");
    for (size_t i = 0; i < c->n; i++) {
        const corpus_entry *e = &c->e[i];
        if (e->notice == e->c.notice && (!e->notice || strcmp(e->kind, e->c.kind) == 0)) continue;
        const char *what = e->notice != e->c.notice ? (e->notice ? "MISS" : "FP") : "KIND";
        printf("  %-4s %-12s [%s %s] p=%d%% %s%s%s\n", what, e->id, e->lang, e->platform, e->c.score,
               e->notice ? e->kind : e->counter, e->c.kind[0] ? " -> " : "", e->c.kind);
    }
}

/* The figures of curve at each threshold, on one line after what. */
static void print_curve(const char *what, const group *curve, double threshold)
{
    printf("%s, at other thresholds (the model's is %.2f):", what, threshold);
    for (int t = 0; t < CURVE; t++)
        printf("%s %.1f: %.2f/%.3f", t ? "," : "", 0.1 * (t + 1), (double)curve[t].found / curve[t].notices,
               (double)curve[t].false_pos / curve[t].counters);
    printf("  (recall/false positives)\n");
}

/* --unseen: the model fitted on every file but the first decides the first's
 * entries (each error to dump, if given). */
static void measure_unseen(const corpus *c, double threshold, FILE *dump)
{
    static tally lang, plat, kind, all;
    static group curve[CURVE];
    unsigned char *use = malloc(c->n);
    if (use == NULL) abort();
    for (size_t i = 0; i < c->n; i++) use[i] = c->e[i].file != 0;
    decide_held_out(c, use, NULL, &(held_out){&lang, &plat, &kind, &all, curve, dump, NULL, NULL});
    free(use);
    figures f = overall(&all);
    printf("UNSEEN (%d notices, %d counter-examples; the model fitted without them): recall %.3f   false positives "
           "%.3f   kind right %.3f\n",
           all.g[0].notices, all.g[0].counters, f.recall, f.false_pos, f.kind);
    print_curve("unseen", curve, threshold);
    print_tally("unseen: lang", &lang);
    print_tally("unseen: plat.", &plat);
    print_tally("unseen: kind", &kind);
}

int main(int argc, char **argv)
{
    const char *labellers = NULL;
    if (argc > 2 && strcmp(argv[1], "--labellers") == 0) {
        labellers = argv[2];
        argv += 2;
        argc -= 2;
    }
    int print_model = argc > 1 && strcmp(argv[1], "--print-model") == 0, rc = 0;
    int unseen = argc > 1 && strcmp(argv[1], "--unseen") == 0, skip = print_model || unseen;
    corpus c;
    if (argc < 2 + skip + unseen) {
        fprintf(stderr, "usage: test_classify_corpus [--print-model] CORPUS.jsonl...\n"
                        "       test_classify_corpus --labellers LABELS.jsonl CORPUS.jsonl...\n"
                        "       test_classify_corpus --unseen NEW.jsonl CORPUS.jsonl...\n");
        return 2;
    }
    const bt_classify_rules *rules = NULL;
    if (bt_classify_rules_builtin(&rules) != BT_OK || corpus_load(&c, argv + 1 + skip, (size_t)(argc - 1 - skip)) != 0)
        return 2;
    /* BT_CV_DUMP=FILE: every held-out (by source, or unseen) miss, false positive and wrong kind, one a line */
    FILE *dump = getenv("BT_CV_DUMP") ? fopen(getenv("BT_CV_DUMP"), "w") : NULL;
    if (unseen) {
        measure_unseen(&c, bt_classify_rules_model(rules)->threshold, dump);
        if (dump != NULL) fclose(dump);
        corpus_free(&c);
        return 0;
    }

    corpus_model fitted;
    corpus_train(&fitted, &c, NULL);
    if (print_model) {
        corpus_print_model(&fitted, &c);
        free(fitted.grams);
        free(fitted.kinds);
        corpus_free(&c);
        return 0;
    }

    /* the corpus: size and breadth */
    static tally langs, platforms, groups;
    int counters = 0;
    for (size_t i = 0; i < c.n; i++) {
        slot(&langs, c.e[i].lang);
        slot(&platforms, c.e[i].platform);
        slot(&groups, c.e[i].group);
        counters += !c.e[i].notice;
    }
    printf("Corpus: %zu entries (%zu notices, %d counter-examples = %.0f%%), %zu languages, %zu platforms, "
           "%zu sources\n",
           c.n, c.n - (size_t)counters, counters, 100.0 * counters / (double)c.n, langs.n, platforms.n, groups.n);
    if (c.n < MIN_ENTRIES || langs.n < MIN_LANGS || platforms.n < MIN_PLATFORMS ||
        counters < MIN_COUNTER_SHARE * (double)c.n) {
        printf("FAIL: the corpus needs %d entries, %d languages, %d platforms, %.0f%% counter-examples\n", MIN_ENTRIES,
               MIN_LANGS, MIN_PLATFORMS, 100 * MIN_COUNTER_SHARE);
        rc = 1;
    }

    /* held out: by source, then by language */
    static tally s_lang, s_plat, s_kind, s_all, l_lang, l_plat, l_kind, l_all;
    static group curve[CURVE];
    static tally by_labeller[LABELLERS], s_labelled;
    unsigned char *labelled = calloc(c.n, 1);
    if (labelled == NULL) abort();
    int n_labelled = labellers != NULL ? read_labellers(labellers, &c, labelled, by_labeller) : 0;
    if (n_labelled < 0) {
        if (dump != NULL) fclose(dump);
        free(labelled);
        corpus_free(&c);
        return 2;
    }
    cross_validate(&c, group_of, &(held_out){&s_lang, &s_plat, &s_kind, &s_all, curve, dump, labelled, &s_labelled});
    cross_validate(&c, lang_of, &(held_out){&l_lang, &l_plat, &l_kind, &l_all, NULL, NULL, NULL, NULL});
    if (dump != NULL) fclose(dump);
    figures src = overall(&s_all), lng = overall(&l_all);
    printf("\nHELD OUT BY SOURCE   (%3zu sources, %d folds): recall %.3f   false positives %.3f   kind right %.3f\n", groups.n,
           SOURCE_FOLDS, src.recall, src.false_pos, src.kind);
    printf("HELD OUT BY LANGUAGE (%3zu languages, one at a time): recall %.3f   false positives %.3f   kind right %.3f\n", langs.n,
           lng.recall, lng.false_pos, lng.kind);
    printf("targets: recall >= 0.95 (>= 0.90 in each language with 20+ notices), false positives <= 0.01, "
           "kind right >= 0.90\n");
    if (n_labelled > 0) {
        printf("BLIND LABELLERS (%d passes, %d entries drawn at random), each against the corpus's labels:", LABELLERS,
               n_labelled);
        for (int p = 0; p < LABELLERS; p++) {
            figures f = overall(&by_labeller[p]);
            printf("%s %.3f/%.3f/%.3f", p ? "," : "", f.recall, f.false_pos, f.kind);
        }
        figures m = overall(&s_labelled);
        printf("\n  the model held out by source, on the same entries: recall %.3f   false positives %.3f   kind right "
               "%.3f\n",
               m.recall, m.false_pos, m.kind);
    }
    print_curve("held out by source", curve, bt_classify_rules_model(rules)->threshold);
    printf("languages with 20+ notices under 0.90 recall held out by source:");
    for (size_t i = 0; i < s_lang.n; i++)
        if (s_lang.g[i].notices >= 20 && s_lang.g[i].found < 0.9 * s_lang.g[i].notices)
            printf(" %s %.2f", s_lang.g[i].name, (double)s_lang.g[i].found / s_lang.g[i].notices);
    printf("\n");
    print_tally("by source: lang", &s_lang);
    print_tally("by source: plat.", &s_plat);
    print_tally("by source: kind", &s_kind);
    print_tally("by lang: lang", &l_lang);

    /* in sample: the shipped model */
    static tally i_lang, i_plat, i_kind, i_all;
    for (size_t i = 0; i < c.n; i++) {
        const corpus_entry *e = &c.e[i];
        count(&i_lang, e->lang, e, e->c.notice, e->c.kind);
        count(&i_plat, e->platform, e, e->c.notice, e->c.kind);
        count(&i_kind, e->notice ? e->kind : e->counter, e, e->c.notice, e->c.kind);
        count(&i_all, "all", e, e->c.notice, e->c.kind);
    }
    figures in = overall(&i_all);
    printf("\nIN SAMPLE (the shipped model, fitted on all of it): recall %.3f   false positives %.3f   kind right "
           "%.3f\n",
           in.recall, in.false_pos, in.kind);
    print_tally("in sample: kind", &i_kind);
    print_misses(&c);

    /* the shipped model is the one this corpus gives */
    const bt_classify_model *shipped = bt_classify_rules_model(rules);
    int same = fabs(shipped->bias - fitted.m.bias) < 2e-4;
    for (size_t i = 0; i < BT_CLASSIFY_FEATURES; i++) same &= fabs(shipped->w[i] - fitted.m.w[i]) < 2e-4;
    for (size_t i = 0; i < c.n; i++) /* the shipped n-gram weights: the same decisions and kinds */
        same &= corpus_decide(&fitted, &c, i, NULL) == c.e[i].c.notice &&
                (!c.e[i].c.notice || strcmp(corpus_kind(&fitted, &c, i), c.e[i].c.kind) == 0);
    free(fitted.grams);
    free(fitted.kinds);
    if (!same) {
        printf("FAIL: the model in extension/rules/rules.json is not the one fitted on this corpus: run "
               "tests/corpus/train.sh\n");
        rc = 1;
    }
    if (src.recall < FLOOR_RECALL || src.false_pos > FLOOR_FALSE_POS || src.kind < FLOOR_KIND) {
        printf("FAIL: held out by source below the floors (recall %.2f, false positives %.2f, kind %.2f)\n",
               FLOOR_RECALL, FLOOR_FALSE_POS, FLOOR_KIND);
        rc = 1;
    }
    free(labelled);
    corpus_free(&c);
    return rc;
}
