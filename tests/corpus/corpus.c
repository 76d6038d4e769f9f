/* tests/corpus.h: reading the corpus, classifying it once, fitting the model. */
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "corpus.h"

static const char *str(json_object *o, const char *key)
{
    json_object *x = NULL;
    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string)) return NULL;
    return json_object_get_string(x);
}

static void copy(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
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

/* Whether url's host is (a subdomain of) one the built-in rules list. */
static int on_a_platform(const char *url)
{
    const bt_classify_rules *r;
    return bt_classify_rules_builtin(&r) == BT_OK && bt_classify_platform_of(r, url) != NULL;
}

/* An entry's page as the extension would send it: its "url" when that is on
 * a platform (the content scripts run nowhere else, so news and blogs are
 * judged by their text: bt_classify_platform_of decides), or https://www.HOST/PATH from an older entry's
 * "url_path" on its platform's first host (placeholders filled); 0 if none. */
static int entry_url(char *url, size_t cap, json_object *o, json_object *rules)
{
    const char *full = str(o, "url"), *path = str(o, "url_path"), *host = platform_host(rules, str(o, "platform"));
    char p[512];
    size_t n = 0;
    if (full != NULL) return on_a_platform(full) && snprintf(url, cap, "%s", full) < (int)cap;
    if (host == NULL || path == NULL || path[0] != '/' || strchr(path, ' ') != NULL) return 0;
    for (const char *s = path; *s && n + 16 < sizeof p; s++) {
        if (*s == '{') {
            const char *e = strchr(s, '}');
            if (e == NULL) break;
            n += (size_t)snprintf(p + n, sizeof p - n, "%s", strncmp(s, "{id}", 4) == 0 ? "UCabc123" : "someone");
            s = e;
        } else {
            p[n++] = *s;
        }
    }
    p[n] = '\0';
    snprintf(url, cap, "https://www.%s%s", host, p);
    return 1;
}

static int corpus_entry_grams(corpus *c, corpus_entry *e, const char *title, const char *lang, const char *text);

/* FNV-1a: the corpus's hashes (the n-gram vocabulary's, a wording's) */
#define FNV_BASIS 1469598103934665603ULL
static uint64_t fnv(uint64_t h, unsigned char b)
{
    return (h ^ b) * 1099511628211ULL;
}

/* Hashes s as the classifier normalises it, its letters only: ASCII spaces,
 * punctuation and digits and the ideographic full stop and comma left out. */
static uint64_t hash_letters(uint64_t h, const char *s, const char *lang)
{
    char *n = NULL;
    size_t len = 0;
    if (s == NULL || bt_classify_normalize(&n, &len, s, strlen(s), lang) != BT_OK) return h;
    for (size_t i = 0; i < len; i++) {
        unsigned char b = (unsigned char)n[i];
        if (b == 0xE3 && i + 2 < len && (unsigned char)n[i + 1] == 0x80 &&
            ((unsigned char)n[i + 2] == 0x81 || (unsigned char)n[i + 2] == 0x82)) {
            i += 2;
            continue;
        }
        if (b < 0x80 && !(b >= 'a' && b <= 'z')) continue;
        h = fnv(h, b);
    }
    free(n);
    return fnv(h, 0xFF); /* ends each part */
}

static int load_file(corpus *c, size_t *cap, const char *path, int file, json_object *rules)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t lcap = 0;
    int lineno = 0, rc = 0;
    if (f == NULL) {
        fprintf(stderr, "cannot read %s\n", path);
        return -1;
    }
    while (rc == 0 && getline(&line, &lcap, f) > 0) {
        lineno++;
        if (line[strspn(line, " \t\r\n")] == '\0') continue;
        json_object *o = json_tokener_parse(line), *notice = NULL;
        const char *text = str(o, "text"), *kind = str(o, "kind"), *group = str(o, "group");
        if (o == NULL || text == NULL || kind == NULL || group == NULL) {
            fprintf(stderr, "%s:%d: an entry needs \"text\", \"kind\" and \"group\"\n", path, lineno);
            rc = -1;
        } else {
            if (c->n == *cap) {
                *cap = *cap ? *cap * 2 : 1024;
                corpus_entry *more = realloc(c->e, *cap * sizeof *more);
                if (more == NULL) abort();
                c->e = more;
            }
            corpus_entry *e = &c->e[c->n++];
            char url[1024];
            memset(e, 0, sizeof *e);
            e->file = file;
            e->line = lineno;
            copy(e->id, sizeof e->id, str(o, "id"));
            copy(e->lang, sizeof e->lang, str(o, "lang"));
            copy(e->platform, sizeof e->platform, str(o, "platform"));
            copy(e->kind, sizeof e->kind, kind);
            copy(e->group, sizeof e->group, group);
            copy(e->counter, sizeof e->counter, str(o, "counter"));
            e->notice = strcmp(kind, "not_a_notice") != 0;
            if (json_object_object_get_ex(o, "notice", &notice) && json_object_get_boolean(notice) != e->notice) {
                fprintf(stderr, "%s:%d: \"notice\" and \"kind\" disagree\n", path, lineno);
                rc = -1;
            }
            const char *lang = e->lang[0] ? e->lang : NULL;
            e->same = hash_letters(hash_letters(hash_letters(FNV_BASIS, str(o, "url"), lang),
                                                str(o, "title"), lang),
                                   text, lang);
            if (bt_classify_text(&e->c, entry_url(url, sizeof url, o, rules) ? url : NULL, str(o, "title"), lang,
                                 text) != BT_OK ||
                corpus_entry_grams(c, e, str(o, "title"), lang, text) != 0) {
                fprintf(stderr, "%s:%d: the classifier failed\n", path, lineno);
                rc = -1;
            }
        }
        json_object_put(o);
    }
    free(line);
    fclose(f);
    return rc;
}

static int by_wording(const void *a, const void *b)
{
    const corpus_entry *x = *(const corpus_entry *const *)a, *y = *(const corpus_entry *const *)b;
    if (x->same != y->same) return (x->same > y->same) - (x->same < y->same);
    return (x > y) - (x < y); /* in the corpus's order */
}

/* Whether every wording the corpus holds twice or more has one label. */
static int same_wording_same_label(const corpus *c, char **paths)
{
    const corpus_entry **by = malloc(c->n * sizeof *by);
    int rc = 0;
    if (by == NULL) abort();
    for (size_t i = 0; i < c->n; i++) by[i] = &c->e[i];
    qsort(by, c->n, sizeof *by, by_wording);
    for (size_t i = 1; i < c->n; i++)
        if (by[i]->same == by[i - 1]->same && strcmp(by[i]->kind, by[i - 1]->kind) != 0) {
            fprintf(stderr, "%s:%d (%s) and %s:%d (%s): the same wording, labelled %s and %s\n", paths[by[i - 1]->file],
                    by[i - 1]->line, by[i - 1]->id, paths[by[i]->file], by[i]->line, by[i]->id, by[i - 1]->kind,
                    by[i]->kind);
            rc = -1;
        }
    free(by);
    return rc;
}

int corpus_load(corpus *c, char **paths, size_t n_paths)
{
    size_t len, cap = 0;
    json_object *rules = json_tokener_parse(bt_classify_rules_json(&len));
    int rc = rules == NULL ? -1 : 0;
    json_object *priority = NULL;
    memset(c, 0, sizeof *c);
    json_object_object_get_ex(rules, "kind_priority", &priority);
    for (size_t k = 0; k < json_object_array_length(priority) && k < sizeof c->kinds / sizeof c->kinds[0]; k++)
        copy(c->kinds[c->n_kinds++], sizeof c->kinds[0], json_object_get_string(json_object_array_get_idx(priority, k)));
    for (size_t i = 0; i < n_paths && rc == 0; i++) rc = load_file(c, &cap, paths[i], (int)i, rules);
    json_object_put(rules);
    if (rc == 0) rc = same_wording_same_label(c, paths);
    return rc;
}

void corpus_free(corpus *c)
{
    for (size_t i = 0; i < c->n; i++) free(c->e[i].grams);
    for (size_t i = 0; i < c->n_vocab; i++) free(c->vocab[i]);
    free(c->e);
    free(c->vocab);
    free(c->df);
    free(c->table);
    memset(c, 0, sizeof *c);
}

/* ---- the vocabulary of n-grams ---- */

static uint64_t hash_of(const char *s, size_t n)
{
    uint64_t h = FNV_BASIS;
    for (size_t i = 0; i < n; i++) h = fnv(h, (unsigned char)s[i]);
    return h;
}

static void table_grow(corpus *c)
{
    size_t cap = c->table_mask ? 2 * (c->table_mask + 1) : 1 << 16;
    free(c->table);
    c->table = calloc(cap, sizeof *c->table);
    if (c->table == NULL) abort();
    c->table_mask = cap - 1;
    for (size_t id = 0; id < c->n_vocab; id++) {
        size_t i = hash_of(c->vocab[id], strlen(c->vocab[id])) & c->table_mask;
        while (c->table[i]) i = (i + 1) & c->table_mask;
        c->table[i] = (uint32_t)id + 1;
    }
}

/* The id of gram (added if new). */
static uint32_t vocab_id(corpus *c, const char *gram, size_t len)
{
    if (2 * (c->n_vocab + 1) > c->table_mask) table_grow(c);
    size_t i = hash_of(gram, len) & c->table_mask;
    for (; c->table[i]; i = (i + 1) & c->table_mask) {
        const char *v = c->vocab[c->table[i] - 1];
        if (strlen(v) == len && memcmp(v, gram, len) == 0) return c->table[i] - 1;
    }
    if (c->n_vocab == c->cap_vocab) {
        c->cap_vocab = c->cap_vocab ? 2 * c->cap_vocab : 1 << 15;
        c->vocab = realloc(c->vocab, c->cap_vocab * sizeof *c->vocab);
        c->df = realloc(c->df, c->cap_vocab * sizeof *c->df);
        if (c->vocab == NULL || c->df == NULL) abort();
    }
    if ((c->vocab[c->n_vocab] = strndup(gram, len)) == NULL) abort();
    c->df[c->n_vocab] = 0;
    c->table[i] = (uint32_t)c->n_vocab + 1;
    return (uint32_t)c->n_vocab++;
}

typedef struct {
    corpus *c;
    corpus_entry *e;
    size_t cap;
} gram_ctx;

/* The neutral values the corpus fills placeholders, people's names and chat
 * rooms with (docs/RULES.md, "The corpus"): the same few in every source, so
 * n-grams holding them would learn how the corpus was written, not how
 * platforms write (the model had "sam" at -0.85, "alex" at -0.62: more
 * look-alikes name them; "help" at +1.67: only notices name #help). As the
 * normaliser leaves them: lower case, no accents. */
static const char *const fillers[] = {"alex", "sam", "ravi", "amit", "guest42", "example", "book", "club", "pixel",
                                      "cafe", "hiking", "help", "general", "lounge", "203", "113", "192", "k", "r"};

/* Whether gram (a word, "w1 w2" or "stem~") holds a filler as a word, or is
 * the stem of one. */
static int holds_filler(const char *gram, size_t len)
{
    for (size_t f = 0; f < sizeof fillers / sizeof fillers[0]; f++) {
        size_t fl = strlen(fillers[f]);
        if (len > 1 && gram[len - 1] == '~' && len - 1 < fl && memcmp(gram, fillers[f], len - 1) == 0) return 1;
        for (size_t at = 0; at + fl <= len; at++)
            if (memcmp(gram + at, fillers[f], fl) == 0 && (at == 0 || gram[at - 1] == ' ') &&
                (at + fl == len || gram[at + fl] == ' '))
                return 1;
    }
    return 0;
}

static void gram_found(void *ctx, const char *gram, size_t len)
{
    gram_ctx *g = ctx;
    if (holds_filler(gram, len)) return;
    if (g->e->n_grams == g->cap) {
        g->cap = g->cap ? 2 * g->cap : 64;
        if ((g->e->grams = realloc(g->e->grams, g->cap * sizeof *g->e->grams)) == NULL) abort();
    }
    g->e->grams[g->e->n_grams++] = vocab_id(g->c, gram, len);
}

static int cmp_id(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* Reads entry e's n-grams into the vocabulary, each once. */
static int corpus_entry_grams(corpus *c, corpus_entry *e, const char *title, const char *lang, const char *text)
{
    gram_ctx g = {c, e, 0};
    if (bt_classify_ngrams(title, lang, text, strlen(text), gram_found, &g) != BT_OK) return -1;
    if (e->n_grams > 1) qsort(e->grams, e->n_grams, sizeof *e->grams, cmp_id);
    size_t k = 0;
    for (size_t i = 0; i < e->n_grams; i++)
        if (k == 0 || e->grams[k - 1] != e->grams[i]) e->grams[k++] = e->grams[i];
    e->n_grams = k;
    for (size_t i = 0; i < k; i++) c->df[e->grams[i]]++;
    return 0;
}

/* ---- fitting ---- */

#define EPOCHS 30
#define RATE 0.1
#define L2 0.001       /* the penalty on each weight at each step it takes part in */
#define MIN_DF 2       /* n-grams of fewer entries are left out */
#define MIN_WEIGHT 0.29 /* and so are smaller weights (docs/RULES.md: the figures against the size) */

static int kind_number(const corpus *c, const char *kind)
{
    for (size_t k = 0; k < c->n_kinds; k++)
        if (strcmp(c->kinds[k], kind) == 0) return (int)k;
    return -1;
}

static size_t ngrams_feature(void)
{
    size_t j = 0;
    while (j < BT_CLASSIFY_FEATURES && strcmp(bt_classify_feature_names[j], "ngrams") != 0) j++;
    return j;
}

void corpus_train(corpus_model *out, const corpus *c, const unsigned char *use)
{
    const size_t nf = ngrams_feature();
    double w[BT_CLASSIFY_FEATURES + 1] = {0}, gw[BT_CLASSIFY_FEATURES + 1] = {0};
    double *v = calloc(c->n_vocab + 1, sizeof *v), *gv = calloc(c->n_vocab + 1, sizeof *gv);
    size_t *order = malloc((c->n + 1) * sizeof *order), n = 0;
    if (v == NULL || gv == NULL || order == NULL) abort();
    for (size_t i = 0; i < c->n; i++)
        if (use == NULL || use[i]) order[n++] = i;
    /* in how many of the entries fitted on each n-gram occurs: an entry held out
     * must not lift an n-gram it shares with one other over MIN_DF */
    uint32_t *df = c->df;
    if (use != NULL) {
        if ((df = calloc(c->n_vocab + 1, sizeof *df)) == NULL) abort();
        for (size_t q = 0; q < n; q++)
            for (size_t k = 0; k < c->e[order[q]].n_grams; k++) df[c->e[order[q]].grams[k]]++;
    }
    uint64_t seed = 0x9E3779B97F4A7C15ULL;
    for (int epoch = 0; epoch < EPOCHS; epoch++) {
        for (size_t i = n; i > 1; i--) { /* a fixed shuffle (xorshift), the same every run */
            seed ^= seed << 13, seed ^= seed >> 7, seed ^= seed << 17;
            size_t j = (size_t)(seed % i), t = order[i - 1];
            order[i - 1] = order[j];
            order[j] = t;
        }
        for (size_t q = 0; q < n; q++) {
            const corpus_entry *e = &c->e[order[q]];
            double z = w[BT_CLASSIFY_FEATURES];
            for (size_t j = 0; j < BT_CLASSIFY_FEATURES; j++)
                if (j != nf) z += w[j] * e->c.features[j];
            double ng = 0;
            for (size_t k = 0; k < e->n_grams; k++)
                if (df[e->grams[k]] >= MIN_DF) ng += v[e->grams[k]];
            double bounded = tanh(ng / BT_CLASSIFY_NGRAM_CLAMP); /* as the decision counts them */
            z += BT_CLASSIFY_NGRAM_CLAMP * bounded;
            double slope = 1 - bounded * bounded;
            double r = 1 / (1 + exp(-z)) - e->notice;
            for (size_t j = 0; j <= BT_CLASSIFY_FEATURES; j++) {
                if (j == nf) continue;
                double x = j == BT_CLASSIFY_FEATURES ? 1 : e->c.features[j];
                if (x == 0) continue;
                double g = r * x + (j == BT_CLASSIFY_FEATURES ? 0 : L2 * w[j]);
                gw[j] += g * g;
                w[j] -= RATE * g / sqrt(gw[j] + 1e-8);
            }
            for (size_t k = 0; k < e->n_grams; k++) {
                uint32_t id = e->grams[k];
                if (df[id] < MIN_DF) continue;
                double g = r * slope + L2 * v[id];
                gv[id] += g * g;
                v[id] -= RATE * g / sqrt(gv[id] + 1e-8);
            }
        }
    }
    memset(&out->m, 0, sizeof out->m);
    for (size_t j = 0; j < BT_CLASSIFY_FEATURES; j++) out->m.w[j] = j == nf ? 1 : round(w[j] * 1e4) / 1e4;
    out->m.bias = round(w[BT_CLASSIFY_FEATURES] * 1e4) / 1e4;
    out->m.threshold = 0.5;
    if ((out->grams = calloc(c->n_vocab + 1, sizeof *out->grams)) == NULL) abort();
    for (size_t id = 0; id < c->n_vocab; id++) {
        double r = round(v[id] * 1e2) / 1e2;
        if (df[id] >= MIN_DF && fabs(r) >= MIN_WEIGHT) out->grams[id] = (float)r;
    }
    /* the kind each kept n-gram points to: that of most notices holding it */
    uint16_t *per_kind = calloc((c->n_vocab + 1) * c->n_kinds, sizeof *per_kind);
    if ((out->kinds = calloc(c->n_vocab + 1, 1)) == NULL || per_kind == NULL) abort();
    for (size_t q = 0; q < n; q++) {
        const corpus_entry *e = &c->e[order[q]];
        int k = e->notice ? kind_number(c, e->kind) : -1;
        for (size_t g = 0; k >= 0 && g < e->n_grams; g++)
            if (per_kind[e->grams[g] * c->n_kinds + (size_t)k] < UINT16_MAX) per_kind[e->grams[g] * c->n_kinds + (size_t)k]++;
    }
    for (size_t id = 0; id < c->n_vocab; id++) {
        const uint16_t *pk = per_kind + id * c->n_kinds;
        unsigned total = 0, best = 0;
        for (size_t k = 0; k < c->n_kinds; k++) {
            total += pk[k];
            if (pk[k] > pk[best]) best = (unsigned)k;
        }
        if (out->grams[id] != 0 && pk[best] >= 2 && 2 * pk[best] > total) out->kinds[id] = (uint8_t)(best + 1);
    }
    free(per_kind);
    if (df != c->df) free(df);
    free(v);
    free(gv);
    free(order);
}

const char *corpus_kind(const corpus_model *m, const corpus *c, size_t i)
{
    const corpus_entry *e = &c->e[i];
    int votes[16] = {0}, best = -1;
    if (e->c.evidence_kind[0]) return e->c.evidence_kind;
    for (size_t g = 0; g < e->n_grams; g++)
        if (m->kinds[e->grams[g]]) votes[m->kinds[e->grams[g]] - 1]++;
    for (size_t k = 0; k < c->n_kinds; k++)
        if (votes[k] > 0 && (best < 0 || votes[k] > votes[best])) best = (int)k;
    return best < 0 ? "" : c->kinds[best];
}

int corpus_decide(const corpus_model *m, const corpus *c, size_t i, int *percent)
{
    float x[BT_CLASSIFY_FEATURES];
    const corpus_entry *e = &c->e[i];
    size_t nf = ngrams_feature();
    double sum = 0;
    memcpy(x, e->c.features, sizeof x);
    for (size_t k = 0; k < e->n_grams; k++) sum += m->grams[e->grams[k]];
    x[nf] = (float)sum;
    return bt_classify_model_decide(&m->m, x, percent) && corpus_kind(m, c, i)[0] != '\0'; /* as classify() */
}

/* s as a JSON string (the n-grams are valid UTF-8: the classifier's
 * normalised text). */
static void print_json_string(const char *s)
{
    putchar('"');
    for (; *s; s++) {
        if (*s == '"' || *s == '\\') printf("\\%c", *s);
        else if ((unsigned char)*s < 0x20) printf("\\u%04x", (unsigned char)*s);
        else putchar(*s);
    }
    putchar('"');
}

/* The model's n-grams pointing to kind (index + 1; 0 none), as {n-gram: weight}. */
static void print_grams(const corpus_model *m, const corpus *c, uint8_t kind)
{
    size_t k = 0;
    putchar('{');
    for (size_t id = 0; id < c->n_vocab; id++) {
        if (m->grams[id] == 0 || m->kinds[id] != kind) continue;
        printf(k++ ? "," : ""); /* no spaces: 2 bytes of each of some 30,000 n-grams */
        print_json_string(c->vocab[id]);
        printf(":%ld", lround(m->grams[id] * 100)); /* in hundredths, as the rules file writes them */
    }
    putchar('}');
}

void corpus_print_model(const corpus_model *m, const corpus *c)
{
    printf("{\"about\": \"Weights of the evidence (docs/RULES.md, 'The decision'), fitted on tests/corpus by "
           "tests/corpus/train.sh; do not edit by hand.\", \"trained_on\": %zu, \"bias\": %.4f, \"threshold\": %.2f, "
           "\"weights\": {",
           c->n, m->m.bias, m->m.threshold);
    for (size_t i = 0; i < BT_CLASSIFY_FEATURES; i++)
        printf("%s\"%s\": %.4f", i ? ", " : "", bt_classify_feature_names[i], m->m.w[i]);
    printf("}, \"ngrams\": ");
    print_grams(m, c, 0);
    printf(", \"ngram_kinds\": {");
    for (size_t k = 0; k < c->n_kinds; k++) {
        printf("%s\"%s\": ", k ? ", " : "", c->kinds[k]);
        print_grams(m, c, (uint8_t)(k + 1));
    }
    printf("}}\n");
}
