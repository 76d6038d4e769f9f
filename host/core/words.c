/* The person's words: the extension's locale files, built in (words.h). */
#include "bantrail/words.h"

#include <json-c/json.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

extern const unsigned char bt_embed_words_en[], bt_embed_words_fr[], bt_embed_words_ko[];
extern const size_t bt_embed_words_en_len, bt_embed_words_fr_len, bt_embed_words_ko_len;

static const char *const langs[] = {"en", "fr", "ko"};
enum { LANGS = sizeof langs / sizeof langs[0] };
static json_object *catalogue[LANGS];
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* Parsed once for the process's life; a file that does not parse (a build
 * error the extension's tests would catch first) leaves that language empty. */
static void load(void)
{
    const unsigned char *src[LANGS] = {bt_embed_words_en, bt_embed_words_fr, bt_embed_words_ko};
    for (size_t i = 0; i < LANGS; i++) catalogue[i] = json_tokener_parse((const char *)src[i]);
}

const char *bt_words_lang(const char *tag)
{
    for (size_t i = 0; tag != NULL && i < LANGS; i++)
        if (strncasecmp(tag, langs[i], 2) == 0 && (tag[2] == '\0' || tag[2] == '-' || tag[2] == '_' || tag[2] == '.'))
            return langs[i];
    return langs[0];
}

static const char *message(size_t lang, const char *key)
{
    json_object *entry, *m;
    if (catalogue[lang] != NULL && json_object_object_get_ex(catalogue[lang], key, &entry) &&
        json_object_object_get_ex(entry, "message", &m) && json_object_is_type(m, json_type_string))
        return json_object_get_string(m);
    return NULL;
}

const char *bt_words_message(const char *lang, const char *key)
{
    pthread_once(&once, load);
    size_t l = 0;
    while (l < LANGS && strcmp(langs[l], bt_words_lang(lang)) != 0) l++;
    const char *m = message(l, key);
    return m != NULL ? m : message(0, key);
}

void bt_word_each(const char *lang, const char *key, void (*text)(void *ctx, const char *s, size_t n),
                  void (*arg)(void *ctx, size_t i), void *ctx)
{
    const char *m = bt_words_message(lang, key);
    for (const char *p = m != NULL ? m : key; *p;) {
        if (p[0] == '$' && p[1] >= '1' && p[1] <= '9') {
            arg(ctx, (size_t)(p[1] - '1'));
            p += 2;
        } else {
            size_t n = strcspn(p + 1, "$") + 1;
            text(ctx, p, n);
            p += n;
        }
    }
}

typedef struct {
    char *out;
    size_t cap, len;
    const char *const *args;
    size_t n_args;
} filled;

/* Appends n bytes of s, cutting at a character's start when out is full. */
static void fill_text(void *ctx, const char *s, size_t n)
{
    filled *f = ctx;
    if (f->len + n >= f->cap) {
        n = f->cap - 1 - f->len;
        while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;
    }
    memcpy(f->out + f->len, s, n);
    f->len += n;
    f->out[f->len] = '\0';
}

static void fill_arg(void *ctx, size_t i)
{
    filled *f = ctx;
    if (i < f->n_args && f->args[i] != NULL) fill_text(f, f->args[i], strlen(f->args[i]));
}

char *bt_word(char *out, size_t cap, const char *lang, const char *key, const char *const *args, size_t n_args)
{
    filled f = {out, cap, 0, args, n_args};
    if (cap == 0) return out;
    out[0] = '\0';
    bt_word_each(lang, key, fill_text, fill_arg, &f);
    return out;
}

char *bt_word_n(char *out, size_t cap, const char *lang, const char *key, long long n, const char *const *args,
                size_t n_args)
{
    const char *l = bt_words_lang(lang);
    int one = strcmp(l, "en") == 0 ? n == 1 : strcmp(l, "fr") == 0 ? (n == 0 || n == 1) : 0;
    char k[96], num[24];
    const char *all[10] = {num};
    snprintf(k, sizeof k, "%s_%s", key, one ? "one" : "other");
    snprintf(num, sizeof num, "%lld", n);
    for (size_t i = 0; i < n_args && i < 9; i++) all[i + 1] = args[i];
    return bt_word(out, cap, l, k, all, n_args < 9 ? n_args + 1 : 10);
}
