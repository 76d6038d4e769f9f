/* The fit counts an n-gram's entries among those it is fitted on only
 * (docs/RULES.md, "The decision": MIN_DF): an entry held out must not lend
 * an n-gram it shares with one fitted entry the second entry it needs, or
 * a held-out figure measures a model that has seen the text it decides.
 *
 * usage: test_corpus_train tests/fixtures/corpus-train.jsonl
 * The fixture's first two entries are notices whose only sign is "qxzv";
 * no other entry holds it. Fitted on both, the model weighs it; fitted on
 * the first with the second held out, it leaves it out; and fitted on both
 * with an unrelated entry held out, it weighs it again (the count is of the
 * entries fitted, not a count that drops whatever a held-out fit sees). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "corpus.h"

static float weight_of(const corpus *c, const char *word, const unsigned char *use)
{
    size_t id = 0;
    while (id < c->n_vocab && strcmp(c->vocab[id], word) != 0) id++;
    if (id == c->n_vocab) return -1000;
    corpus_model m;
    corpus_train(&m, c, use);
    float w = m.grams[id];
    free(m.grams);
    free(m.kinds);
    return w;
}

int main(int argc, char **argv)
{
    corpus c;
    if (argc != 2 || corpus_load(&c, argv + 1, 1) != 0) return 2;
    unsigned char *use = malloc(c.n);
    if (use == NULL || c.n < 3) return 2;
    int failed = 0;

    float all = weight_of(&c, "qxzv", NULL);
    printf("fitted on all %zu entries: qxzv weighs %.2f\n", c.n, all);
    if (all <= 0) failed = printf("FAIL: two notices' only sign should be weighed\n");

    memset(use, 1, c.n);
    use[1] = 0;
    float held = weight_of(&c, "qxzv", use);
    printf("the second notice held out: qxzv weighs %.2f\n", held);
    if (held != 0) failed = printf("FAIL: an n-gram of one fitted entry was fitted; the held-out entry lent it\n");

    memset(use, 1, c.n);
    use[c.n - 1] = 0;
    float other = weight_of(&c, "qxzv", use);
    printf("a look-alike held out: qxzv weighs %.2f\n", other);
    if (other <= 0) failed = printf("FAIL: an n-gram of two fitted entries was left out\n");

    free(use);
    corpus_free(&c);
    return failed ? 1 : 0;
}
