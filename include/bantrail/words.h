/* The person's words (docs/DESIGN.md section 11): the extension's locale
 * files (extension/_locales/LANG/messages.json), built into the host, so that
 * what the host writes for a person (the evidence export) says things as the
 * extension's pages do, in the same languages, from one source. */
#ifndef BANTRAIL_WORDS_H
#define BANTRAIL_WORDS_H

#include <stddef.h>

/* The supported language for a BCP 47 tag or a POSIX locale ("fr-CA",
 * "ko_KR.UTF-8", "FR"): "en", "fr" or "ko"; anything else, NULL or empty is
 * "en". */
const char *bt_words_lang(const char *tag);

/* The message key in lang as the locale file holds it ($1..$9 not replaced),
 * else in English, else NULL. */
const char *bt_words_message(const char *lang, const char *key);

/* Walks the message key in lang (else English, else the key itself): text
 * calls for each run of its own text (n bytes, not NUL-terminated), arg for
 * each $1..$9 it names (i from 0). For writers that treat the two
 * differently (the evidence escapes the text, not the markup it passes). */
void bt_word_each(const char *lang, const char *key, void (*text)(void *ctx, const char *s, size_t n),
                  void (*arg)(void *ctx, size_t i), void *ctx);

/* The message key in lang (a value bt_words_lang returned), with $1..$9
 * replaced by args[0..n_args) as given, written to out (cap bytes, always
 * NUL-terminated, cut at a character's start if it does not fit). Falls back
 * to English, then to the key itself. Returns out. */
char *bt_word(char *out, size_t cap, const char *lang, const char *key, const char *const *args, size_t n_args);

/* key_one or key_other as lang's plural rules choose for n (English: 1 is
 * one; French: 0 and 1; Korean: always other), $1 = n, $2.. = args. */
char *bt_word_n(char *out, size_t cap, const char *lang, const char *key, long long n, const char *const *args,
                size_t n_args);

#endif
