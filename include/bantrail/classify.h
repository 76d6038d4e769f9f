/* The classifier: is this text an account-restriction notice, from which
 * platform, of which kind, for which stated reason, and what does it state
 * (docs/DESIGN.md section 6)? What counts is data, not code: the rules file
 * extension/rules/rules.json (format in docs/RULES.md), built into the
 * library at compile time. The classifier only reads; it never prints, never
 * exits and keeps no copy of the text. */
#ifndef BANTRAIL_CLASSIFY_H
#define BANTRAIL_CLASSIFY_H

#include <stddef.h>
#include <json-c/json.h>
#include "bantrail/error.h"

/* Only the first BT_CLASSIFY_TEXT_MAX bytes of title + text are read: a
 * notice is short, and the cost stays bounded whatever a page holds. */
#define BT_CLASSIFY_TEXT_MAX ((size_t)256 * 1024)
#define BT_CLASSIFY_DATES_MAX 4
#define BT_CLASSIFY_FP_BYTES 16

typedef struct bt_classify_rules bt_classify_rules;

/* The evidence a decision is made from, one number each (docs/RULES.md, "The
 * decision"): the rules' phrases and labels, the URL, negative cues, and the
 * concepts found together in one sentence (a state such as "suspended",
 * the object "account", the person addressed "your" or the platform
 * speaking "we"), and for each kind the best level of a sentence stating it
 * ("level_<kind>", 0 to 1) and which of "you", "we", the object and an
 * "other" cue came with it in some sentence ("<kind>_you_object": 1 when a
 * sentence stated that kind with "you" and the object, neither "we" nor an
 * "other" cue; "<kind>_alone": the state alone). A kind of the rules file
 * without these features here has none. The rules file's "model" weighs
 * them; X(name) lists them in their fixed order. */
#define BT_CLASSIFY_FEATURE_LIST(X)                                                                  \
    X(phrase) X(label) X(path) X(named) X(negative) X(quoted) X(short_text) X(long_text)           \
    X(concept_full) X(concept_addressed) X(concept_object) X(concept_bare) X(full_sentences)       \
    X(other_account) X(addressed) X(reason) X(appeal_state) X(state_kinds) X(state_first_line)    \
    X(negative_full) X(hypothetical) X(negated) X(own_action) X(contact) X(failure) X(ngrams)    \
    X(level_suspension) X(level_disabled) X(level_temporary_restriction) X(level_action_blocked)  \
    X(level_checkpoint) X(level_warning) X(level_appeal_received) X(level_appeal_rejected)       \
    X(level_appeal_reinstated)                                                                     \
    BT_CLASSIFY_WHO(X, suspension) BT_CLASSIFY_WHO(X, disabled) BT_CLASSIFY_WHO(X, temporary_restriction) \
    BT_CLASSIFY_WHO(X, action_blocked) BT_CLASSIFY_WHO(X, checkpoint) BT_CLASSIFY_WHO(X, warning)     \
    BT_CLASSIFY_WHO(X, appeal_received) BT_CLASSIFY_WHO(X, appeal_rejected)                          \
    BT_CLASSIFY_WHO(X, appeal_reinstated)
/* The sixteen companies a kind's state keeps in a sentence, in the order of
 * their bits: "you" 1, "we" 2, the object 4, an "other" cue 8. */
#define BT_CLASSIFY_WHO(X, k)                                                                       \
    X(k##_alone) X(k##_you) X(k##_we) X(k##_you_we) X(k##_object) X(k##_you_object) X(k##_we_object) \
    X(k##_you_we_object) X(k##_other) X(k##_you_other) X(k##_we_other) X(k##_you_we_other)         \
    X(k##_object_other) X(k##_you_object_other) X(k##_we_object_other) X(k##_you_we_object_other)
#define BT_CLASSIFY_COUNT_FEATURE(name) +1
enum { BT_CLASSIFY_FEATURES = 0 BT_CLASSIFY_FEATURE_LIST(BT_CLASSIFY_COUNT_FEATURE) };

/* The feature names, in order ("phrase", "label", ...). */
extern const char *const bt_classify_feature_names[BT_CLASSIFY_FEATURES];

/* A logistic model over the features: a text is a notice when some evidence
 * was seen (a phrase, a label, a restriction path or a state word; or
 * n-gram weights summing to 2 or more, in a text that names no reason or
 * addresses someone) and 1 / (1 + exp(-(bias + w . features))) >= threshold. The feature "ngrams"
 * is the sum of the rules' weights of the words, word pairs and (in
 * scripts written without spaces) character pairs of the text's first
 * BT_CLASSIFY_NGRAM_BYTES (see bt_classify_ngrams); the concepts too are
 * looked for there only (a notice is short). */
#define BT_CLASSIFY_NGRAM_BYTES ((size_t)8 * 1024)
/* The n-grams' sum counts at most this much either way in the model's sum
 * (logits), smoothly: as CLAMP * tanh(sum / CLAMP). Words that lean one way
 * may shift a decision, never outvote what the rules' phrases and concepts
 * say (docs/RULES.md, "The decision"). */
#define BT_CLASSIFY_NGRAM_CLAMP 1.5
typedef struct {
    double w[BT_CLASSIFY_FEATURES];
    double bias, threshold;
} bt_classify_model;

/* The decision of model m on features x: 1 a notice, 0 not; *percent (if
 * given) receives the model's probability in percent, rounded. A
 * platform's restriction screen (the path feature) is a notice whatever the
 * probability; otherwise it takes some evidence (a phrase, a label, a state
 * word, or n-grams weighing enough) and the threshold (docs/RULES.md, "The
 * decision"). */
int bt_classify_model_decide(const bt_classify_model *m, const float *x, int *percent);

/* Calls fn once for each word, word pair and character pair of title and
 * text (normalised and joined as the classifier does; only the first
 * BT_CLASSIFY_NGRAM_BYTES), in text order, repeats included: what the
 * model's "ngrams" weighs. For fitting the model (tests/corpus). */
bt_err bt_classify_ngrams(const char *title, const char *lang, const char *text, size_t text_len,
                          void (*fn)(void *ctx, const char *gram, size_t len), void *ctx);

/* The built-in model (from the rules' "model"; all zero if they have none). */
const bt_classify_model *bt_classify_rules_model(const bt_classify_rules *rules);

/* What the notice itself states. Empty strings and -1 mean "not stated". */
typedef struct {
    char dates[BT_CLASSIFY_DATES_MAX][11]; /* ISO 8601 "YYYY-MM-DD", in text order */
    size_t n_dates;
    long days_left;     /* "N days left to disagree / to appeal", or -1 */
    char duration[24];  /* ISO 8601 duration of a restriction ("PT24H", "P3D"), or "" */
    char handle[72];    /* the account handle ("@name", "@name@server"), or "" */
} bt_classify_facts;

typedef struct {
    int notice;         /* 1 a restriction notice, 0 not */
    int score;          /* the model's probability that this is a notice, in percent */
    char platform[24];  /* platform id from the rules, or "" if unknown */
    char kind[32];      /* one of the kinds in the rules, or "" when not a notice */
    char evidence_kind[32]; /* the kind phrases, labels, path and concepts point to, notice or not, or "" */
    char reason[96];    /* a DSA Transparency Database key, or "" */
    char category[96];  /* the DSA statement category of reason, or "" */
    char lang[16];      /* language whose phrases matched, else the hint, or "" */
    bt_classify_facts facts;
    /* BLAKE2b-128 of platform, kind and the normalised text (not the
     * title): the same for the same notice however it is spaced or cased */
    unsigned char fingerprint[BT_CLASSIFY_FP_BYTES];
    float features[BT_CLASSIFY_FEATURES]; /* what the decision was made from */
} bt_classification;

/* Parses rules from JSON text (json, len bytes) into *out, which the caller
 * releases with bt_classify_rules_free. BT_ERR_BAD_JSON if the text is not
 * JSON, BT_ERR_BAD_PARAMS if it does not follow docs/RULES.md (the message of
 * the first problem is written to problem, if given, problem_len bytes). */
bt_err bt_classify_rules_parse(bt_classify_rules **out, const char *json, size_t len,
                               char *problem, size_t problem_len);

/* Releases rules; NULL is fine. */
void bt_classify_rules_free(bt_classify_rules *rules);

/* The rules built in at compile time, parsed once on first use and kept for
 * the life of the process (never freed by the caller). BT_ERR_INTERNAL if
 * the built-in rules do not parse (a build error), BT_ERR_NO_MEMORY. */
bt_err bt_classify_rules_builtin(const bt_classify_rules **out);

/* The id of the platform whose hosts rules list for url's host (a
 * subdomain counts), or NULL: the same judgement classifying makes. */
const char *bt_classify_platform_of(const bt_classify_rules *rules, const char *url);

/* The built-in rules' JSON text (NUL-terminated) and its length. */
const char *bt_classify_rules_json(size_t *len);

/* Normalises text for matching: invalid UTF-8 replaced, Unicode case folding
 * (Turkish/Azeri rules when lang says so), compatibility decomposition
 * (full-width forms, ligatures), accents dropped from Latin, Greek, Cyrillic
 * and Arabic letters, Hangul and kana recomposed (NFC), quotes, apostrophes
 * and dashes unified, dotless i folded to i, ł đ ø ħ written without their
 * stroke, Hebrew final letters written as their other form, digits made
 * ASCII, invisible format characters dropped, white space collapsed (to
 * "\n" where it holds a line break, else " "), spaces between Hangul
 * syllables dropped. On BT_OK *out is a NUL-terminated malloc'd string of
 * *out_len bytes that the caller frees. lang may be NULL. */
bt_err bt_classify_normalize(char **out, size_t *out_len, const char *text, size_t len, const char *lang);

/* Classifies one capture with the built-in rules. url, title and lang (a
 * BCP 47 hint such as "pt-BR") may be NULL; text must not be. The platform
 * comes from url's host when it is a platform's, else from the wording.
 * Fills *out (always initialised, even on error). BT_ERR_BAD_PARAMS if text
 * is NULL, BT_ERR_NO_MEMORY, BT_ERR_INTERNAL if the rules cannot be loaded. */
bt_err bt_classify_text(bt_classification *out, const char *url, const char *title, const char *lang,
                        const char *text);

/* As bt_classify_text, on a page whose software the extension recognised as
 * that of platform `software` (a platform id whose rules list "software"
 * markers, such as "mastodon" on any server; NULL: none). On a host that is
 * no platform's, the page then counts as that platform's. */
bt_err bt_classify_text_as(bt_classification *out, const char *software, const char *url, const char *title,
                           const char *lang, const char *text);

/* As bt_classify_text, with given rules (NULL: the built-in ones) and a text
 * of text_len bytes that need not be NUL-terminated. */
bt_err bt_classify_text_with(bt_classification *out, const bt_classify_rules *rules, const char *url,
                             const char *title, const char *lang, const char *text, size_t text_len);

/* For tests: the straightforward ways that bt_classify_normalize and
 * bt_classify_text_with must agree with, byte for byte and field for field.
 * The reference normalises the whole text in one go through libunistring
 * (the fast one does ASCII words itself) and searches for each rule phrase
 * in the whole text in turn (the fast one scans the text once through an
 * index built with the rules). Slow: not for production use. */
bt_err bt_classify_normalize_reference(char **out, size_t *out_len, const char *text, size_t len, const char *lang);
bt_err bt_classify_text_reference(bt_classification *out, const bt_classify_rules *rules, const char *url,
                                  const char *title, const char *lang, const char *text, size_t text_len);

/* The classification as a new JSON object (the caller puts it):
 * {"notice": bool, "platform": str|null, "kind": str|null, "reason": str|null,
 *  "category": str|null, "lang": str|null, "score": n,
 *  "facts": {"dates": [str], "days_left": n|null, "duration": str|null,
 *            "handle": str|null}}.
 * NULL when out of memory. */
json_object *bt_classify_to_json(const bt_classification *c);

#endif
