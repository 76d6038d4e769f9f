/* Benchmark of the classifier, each figure beside its raw floor measured in
 * the same run. Prints figures; asserts nothing about time.
 *
 *   bench_classify [ITERATIONS]    (default 2000; the smoke test runs 5)
 *
 * For three texts, the median and p99 of one bt_classify_text call, and
 * beside it the same for bt_classify_normalize of the same text (the floor:
 * classifying cannot cost less than normalising the text once):
 * - a short dialog (~100 bytes, "Action Blocked");
 * - a 2 KiB notice (a suspension with a date, days left and a reason, so
 *   that facts are extracted too; typographic apostrophes, as platforms
 *   write them);
 * - a 64 KiB page of unrelated text (generated prose; not a notice), run
 *   ITERATIONS / 10 times (at least 3).
 * It also prints each verdict, so a run shows that the texts are what they
 * claim to be. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bantrail/classify.h"
#include "bench.h"


static const char dialog[] = "Action Blocked\nWe restrict certain activity to protect our community. "
                             "Tell us if you think we made a mistake.";

static const char notice_head[] =
    "Your account has been suspended\n"
    "We suspended your account on October 31, 2022 because it doesn\xE2\x80\x99t follow our Community Guidelines on "
    "hate speech or symbols. You have 30 days left to disagree with this decision. If you don\xE2\x80\x99t disagree "
    "within 30 days, your account will be permanently disabled.\n"
    "Why this happened: your account, @some.user, or activity on it doesn\xE2\x80\x99t follow our Community Guidelines. "
    "We use technology and reviewers to find and remove content and accounts that go against our rules.\n";

static const char notice_body[] =
    "What you can do: you can disagree with our decision and we\xE2\x80\x99ll review it again. We may also use your "
    "information to help us confirm it\xE2\x80\x99s you. If you think we made a mistake, let us know. "
    "Learn more about how we enforce our Community Guidelines and what happens to your posts while your "
    "account is under review. Your followers can\xE2\x80\x99t see your profile and you can't use it while it's suspended.\n";

/* A 2 KiB notice: the head, then the body repeated up to the size. */
static char *make_notice(size_t size)
{
    char *s = malloc(size + 1);
    if (s == NULL) abort();
    size_t n = strlen(notice_head), bl = strlen(notice_body);
    memcpy(s, notice_head, n);
    while (n < size) {
        size_t k = size - n < bl ? size - n : bl;
        memcpy(s + n, notice_body, k);
        n += k;
    }
    s[size] = '\0';
    return s;
}

/* size bytes of generated prose about nothing in particular (fixed seed). */
static char *make_unrelated(size_t size)
{
    static const char *const words[] = {
        "the", "garden", "weather", "of", "and", "a", "recipe", "bread", "onion", "slowly", "river", "city",
        "morning", "coffee", "train", "station", "paint", "window", "blue", "summer", "market", "cheese", "walk",
        "through", "old", "bridge", "evening", "light", "music", "festival", "photograph", "mountain", "lake",
        "children", "school", "library", "book", "chapter", "history", "museum", "painting", "kitchen", "oven",
        "minutes", "until", "golden", "serve", "with", "salad", "tomatoes", "olive", "oil", "salt", "pepper",
        "Monday", "January", "2021", "12", "about", "people", "visit", "every", "year", "is", "was", "in", "to"};
    const size_t n_words = sizeof words / sizeof words[0];
    uint32_t x = 2463534242u;
    char *s = malloc(size + 64);
    if (s == NULL) abort();
    size_t n = 0, in_sentence = 0;
    while (n < size) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        const char *w = words[x % n_words];
        size_t wl = strlen(w);
        memcpy(s + n, w, wl);
        n += wl;
        if (++in_sentence > 8 + x % 9) {
            s[n++] = '.';
            in_sentence = 0;
            if (x % 5 == 0) s[n++] = '\n';
        }
        s[n++] = ' ';
    }
    s[size] = '\0';
    return s;
}

static void run(const char *name, const char *url, const char *text, int iters)
{
    double *t = malloc((size_t)iters * sizeof *t), *f = malloc((size_t)iters * sizeof *f);
    bt_classification c;
    if (t == NULL || f == NULL) abort();
    if (bt_classify_text(&c, url, NULL, NULL, text) != BT_OK) abort(); /* warm: rules parsed */
    for (int i = 0; i < iters; i++) {
        double t0 = now_us();
        if (bt_classify_text(&c, url, NULL, NULL, text) != BT_OK) abort();
        t[i] = now_us() - t0;
    }
    for (int i = 0; i < iters; i++) {
        char *norm = NULL;
        size_t nl = 0;
        double t0 = now_us();
        if (bt_classify_normalize(&norm, &nl, text, strlen(text), NULL) != BT_OK) abort();
        f[i] = now_us() - t0;
        free(norm);
    }
    printf("%-22s %7zu B %6d  %9.1f %9.1f  %9.1f %9.1f   notice=%d kind=%s score=%d\n", name, strlen(text), iters,
           pct(t, iters, 0.5), pct(t, iters, 0.99), pct(f, iters, 0.5), pct(f, iters, 0.99), c.notice,
           c.kind[0] ? c.kind : "-", c.score);
    free(t);
    free(f);
}

int main(int argc, char **argv)
{
    int iters = argc > 1 ? atoi(argv[1]) : 2000;
    if (iters < 1) iters = 1;
    char *notice = make_notice(2048), *page = make_unrelated(64 * 1024);
    printf("%-22s %9s %6s  %9s %9s  %9s %9s\n", "", "", "", "classify", "", "normalise", "(floor)");
    printf("%-22s %9s %6s  %9s %9s  %9s %9s\n", "text", "bytes", "runs", "p50 us", "p99 us", "p50 us", "p99 us");
    run("short dialog", "https://www.instagram.com/", dialog, iters);
    run("2 KiB notice", "https://www.instagram.com/", notice, iters);
    run("64 KiB unrelated", "https://www.example.com/blog/", page, iters / 10 > 3 ? iters / 10 : 3);
    free(notice);
    free(page);
    return 0;
}
