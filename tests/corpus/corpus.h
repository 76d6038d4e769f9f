/* The recognition corpus (the JSONL files in tests/corpus, docs/RULES.md "The corpus")
 * as the corpus test and the model's trainer read it: each entry classified
 * once with the built-in rules, its features and n-grams kept, and the
 * logistic model fitted on any subset of entries. */
#ifndef BT_TESTS_CORPUS_H
#define BT_TESTS_CORPUS_H

#include <stddef.h>
#include <stdint.h>

#include "bantrail/classify.h"

typedef struct {
    char id[48], lang[16], platform[24], kind[32], group[96], counter[24];
    int notice;          /* what the corpus says */
    int file;            /* which of the files given to corpus_load it came from (0, 1, ...) */
    int line;            /* and its line there */
    uint64_t same;       /* a hash of its url, title and text as normalised, letters only: equal for
                            the same wording however it is spaced, punctuated or numbered */
    bt_classification c; /* what the classifier says, with the built-in rules */
    uint32_t *grams;     /* the entry's distinct n-grams (vocabulary ids) */
    size_t n_grams;
} corpus_entry;

typedef struct {
    corpus_entry *e;
    size_t n;
    char **vocab;        /* every n-gram of the corpus, by id */
    uint32_t *df;        /* in how many entries each occurs */
    size_t n_vocab, cap_vocab;
    uint32_t *table;     /* vocabulary lookup: open addressing of id + 1 */
    size_t table_mask;
    char kinds[16][32];  /* the rules' kind_priority (ties go to the first) */
    size_t n_kinds;
} corpus;

/* A fitted model: the dense weights (w[ngrams] is 1), and a weight per
 * vocabulary n-gram (0 for those it leaves out). */
typedef struct {
    bt_classify_model m;
    float *grams;
    uint8_t *kinds;      /* the kind each n-gram points to (index in corpus.kinds + 1), 0 none */
} corpus_model;

/* Reads and classifies every entry of the JSONL files. Returns 0, or -1
 * after printing which file and line is wrong; also when two entries hold
 * the same wording (the same url, title and text, spacing, punctuation and
 * digits aside) and disagree on whether it is a notice or on its kind: a
 * label is the wording's, not the source's. */
int corpus_load(corpus *c, char **paths, size_t n_paths);
void corpus_free(corpus *c);

/* Fits the model (L2-regularised logistic regression by AdaGrad, in a fixed
 * order: deterministic) on the entries for which use[i] is nonzero (all if
 * use is NULL); n-grams of fewer than two entries or small weights are left
 * out, as the rules file leaves them out. Each n-gram also points to the
 * kind of most notices holding it, when most of them (and two at least)
 * are of one kind. The caller frees m->grams and m->kinds. */
void corpus_train(corpus_model *m, const corpus *c, const unsigned char *use);

/* The model's decision on entry i: 1 a notice, 0 not (and, if percent is
 * given, its probability in percent); and its kind (as the classifier
 * decides it, with this model's n-grams). */
int corpus_decide(const corpus_model *m, const corpus *c, size_t i, int *percent);
const char *corpus_kind(const corpus_model *m, const corpus *c, size_t i);

/* The model as the rules file's "model" member, on one line. */
void corpus_print_model(const corpus_model *m, const corpus *c);

#endif
