/* The classifier (include/bantrail/classify.h). The rules file decides what
 * counts; this file only normalises text, finds the rules' phrases,
 * concepts and n-grams in it, turns them into the features of
 * bt_classify_feature_names and lets the rules' fitted model decide, as
 * docs/RULES.md, "The decision", describes (rules without a model fall back
 * to the older additive score).
 *
 * Cost: parsing the rules builds indexes of their phrases (Aho-Corasick
 * automata, "the index" below), so a text is read once whatever the number
 * of phrases, and only the places where a phrase's first part occurs are
 * looked at closer. Words of plain ASCII are normalised here, the rest by
 * libunistring. The straightforward ways (each phrase searched for in turn,
 * the whole text through libunistring) stay as bt_classify_*_reference, and
 * tests/unit/test_classify.c checks that both give the same answers. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <regex.h>
#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <uninorm.h>
#include <unistr.h>

#include "bantrail/classify.h"

/* Generated at build time from extension/rules/rules.json (CMakeLists.txt). */
extern const unsigned char bt_embed_rules[];
extern const size_t bt_embed_rules_len;

enum { PARTS_MAX = 8, LANGS_MAX = 128, KINDS_MAX = 12, UNITS = 7 };

/* A set of languages: bit i of w[i / 64] for the language at index i of
 * the rules' langs. */
typedef struct {
    uint64_t w[LANGS_MAX / 64];
} lang_set;
#define WILDCARD_CHARS 40 /* what "*" may skip, in characters */
#define CUE_WINDOW 60     /* bytes around "N days" searched for a days-left cue */

typedef enum {
    E_PHRASE, /* kinds: an unmistakable statement of a restriction */
    E_LABEL,  /* labels: a heading or button that goes with one */
    E_NEG,    /* negative: news, help pages, a person's own account */
    E_REASON, /* reasons: a stated reason (idx = reason) */
    E_NAME,   /* platforms[].names (idx = platform) */
    E_UNIT,   /* facts.units (idx = unit) */
    E_CUE,    /* facts.days_left_cues */
    E_MONTH,  /* facts.months (idx = month 1..12) */
    E_MONTHWORD,
    E_CONCEPT /* concepts (idx = C_YOU .. C_STATE + kind) */
} entry_class;

/* The concepts (docs/RULES.md, "Concepts"): who is addressed, what is
 * restricted, someone else's account, a supposition, the person's own
 * doing, a negation before or after a state, a place inside the platform,
 * a security reason, failed login attempts, the one activity a ban is from
 * and the one action refused (beside which a ban is another kind), the
 * ban said to be permanent (beside which a suspension is disabled) or to
 * last a time only (beside which a disabled account is suspended), an
 * appeal named (which a bare "rejected" needs), the reader sent to support,
 * an ordinary failure named ("server error": an error, not a restriction),
 * a threat before or after a state ("may result in", "可能性があります":
 * a consequence to come, a warning), and one state per kind. */
enum { C_YOU, C_WE, C_OBJECT, C_OTHER, C_IF, C_SELF, C_NOT, C_NOT_AFTER, C_PLACE, C_SECURITY, C_ATTEMPTS, C_SCOPE, C_ACTION, C_PERMANENT, C_TEMPORARY, C_APPEAL, C_CONTACT, C_FAILURE, C_THREAT, C_THREAT_AFTER, C_STATE };
/* a sentence's concepts and states are bits of one mask */
_Static_assert(C_STATE + KINDS_MAX <= 32, "concepts and kinds fit a uint32_t mask");
#define WHO_WE 0xCCCCu /* the companies (BT_CLASSIFY_WHO bits) that hold "we" */
#define NOT_GAP 25 /* characters: how far a negation may stand from the state it negates (docs/RULES.md) */
#define THREAT_GAP 40 /* characters: how far a threat may stand from the state it threatens */

typedef struct {
    char *norm;                 /* the normalised phrase; parts point into it */
    const char *part[PARTS_MAX];
    size_t part_len[PARTS_MAX];
    size_t n_parts;
    int whole_word;             /* the raw phrase ended with a space */
    int ending;                 /* a concept term that began with '-': a word's ending, it may start inside one */
    int says_not;               /* a phrase or label that holds a negation word itself ("can't post") */
    uint8_t bound[PARTS_MAX];   /* BOUND_LEFT, BOUND_RIGHT: where a part needs a word boundary */
    entry_class cls;
    int idx;                    /* kind, reason, platform, unit or month */
    int lang;                   /* index into langs, or -1 */
    lang_set langs;             /* a concept's languages (all when unknown) */
    uint32_t part_id[PARTS_MAX]; /* parts after the first: the same id for the same bytes */
} entry;

/* A part starting (BOUND_LEFT) or ending (BOUND_RIGHT) with a letter of a
 * script written with spaces must start or end at a word boundary; one
 * starting with a katakana letter (BOUND_KANA) must start a katakana word. */
enum { BOUND_LEFT = 1, BOUND_RIGHT = 2, BOUND_KANA = 4 };

/* What a scan reads of an entry before it knows that the entry's first
 * part matches where the index found it: 24 bytes in an array of their own
 * (an entry is over 200, and its phrase's bytes lie elsewhere again). */
typedef struct {
    lang_set langs;
    uint16_t len0, idx; /* part_len[0], idx */
    uint8_t bound0, n_parts, whole_word;
} entry_head;

typedef struct {
    regex_t re;
    int kind;
} path_rule;

typedef struct {
    char id[24];
    char **hosts;
    size_t n_hosts;
    path_rule *paths;
    size_t n_paths;
    int has_software; /* the extension may recognise it by its pages' software */
} platform_rule;

typedef struct {
    char key[96];
    char category[96];
} reason_rule;

/* An index of entries for finding them without trying each one at each
 * position: an Aho-Corasick automaton over keys (the entries' first parts,
 * and for one index also the later parts), built when the rules are parsed
 * and only read afterwards (so shared between threads). A node stands for
 * the bytes on the path from the root (node 0) to it. For each node: its
 * children (edge_byte[] and edge_to[] from edge_first, sorted by byte), its
 * failure link (the longest proper suffix that is a node), its dictionary
 * link (the nearest node on the failure chain with outputs, 0 for none) and
 * its outputs: out[] from out_first, the keys that are exactly its bytes, in
 * key order (dictionary link and outputs in outs[], apart: a step reads only
 * nodes[]). Most nodes have one child: it is also kept in the node itself
 * (only_to, only_byte), so that a walk down a chain reads one node a byte.
 * The shallow nodes (SHALLOW deep or less), where a scan spends most of its
 * steps, are numbered first and step by a table of 256 next nodes each
 * (dense; for the scored index 431 rows, 431 KiB: against rows for the
 * root's children alone, a 2 KiB notice 57.6 -> 56.0 us and 64 KiB of
 * text 1.36 -> 1.25 ms, bench_classify 2000); below them, each subtree is
 * numbered depth first, so that a chain's nodes lie one after the other (a
 * step's node is then most often in the cache line of the one before). The
 * scored index also holds WORD_MARK where its keys start a word (see
 * word_start). */
typedef struct { /* what each step reads: 16 bytes */
    uint32_t fail, edge_first, only_to;
    uint16_t n_edges;
    uint8_t only_byte, has_out; /* has_out: outputs here or on the dictionary chain */
} ac_node;

typedef struct { /* what only a match reads */
    uint32_t dict, out_first;
    uint16_t out_n;
} ac_out;

/* One n-gram of the model, found by its hash (key, 0 for an empty slot):
 * its weight, and the kind it points to (kind + 1, 0 none). Together, so
 * that a look-up reads one cache line. */
typedef struct {
    uint64_t key;
    float weight;
    uint8_t kind;
} gram_entry;

typedef struct {
    ac_node *nodes;
    ac_out *outs; /* beside nodes[], by the same number */
    size_t n_nodes;
    uint8_t *edge_byte;
    uint32_t *edge_to;
    uint32_t *out;
    uint8_t *out_tag; /* beside out[]: what key() said of each (KEY_...), so that a scan need not read the entry */
    uint32_t root[256]; /* the root's children, 0 for none */
    uint32_t *dense;    /* the step from each shallow node (nodes 1 to n_dense), by byte: where */
    uint32_t n_dense;   /* most steps are, a look-up in place of a search and failure links */
} ac_index;

struct bt_classify_rules {
    char kinds[KINDS_MAX][32]; /* in priority order */
    size_t n_kinds;
    int dominant[KINDS_MAX];   /* wins whenever it has evidence */
    int level_feature[KINDS_MAX]; /* the feature "level_<kind>", -1 for a kind without one */
    int who_feature[KINDS_MAX];   /* the first of its BT_CLASSIFY_WHO features ("<kind>_alone"), or -1 */
    uint32_t banned;                /* suspension and disabled (bits): a ban of the account */
    uint32_t reframe_from[C_STATE]; /* by concept: the kinds (bits) whose state means another beside it, */
    int reframe_to[C_STATE];        /* and that kind: beside a place ("group") or a scope ("from editing")
                                     * temporary_restriction, beside a security reason checkpoint, beside
                                     * failed attempts or an action ("this action") action_blocked; -1 for none */
    uint32_t throttle_from;        /* kinds (bits) that, lasting minutes, are a throttle: */
    int throttle_to;               /* action_blocked, or -1 */
    int suspension, disabled;      /* a suspension said to be permanent is disabled (kinds, or -1) */
    int checkpoint;                /* a lock only an administrator lifts is a suspension (kind, or -1) */
    int reinstated;                /* an unlocking still to be done is no reinstatement (kind, or -1) */
    uint32_t needs_appeal;         /* kinds (bits) whose one-word states need an appeal word in the text */
    uint32_t threat_from;          /* kinds (bits) a threat makes a warning: the restrictions */
    int threat_to;                 /* warning, or -1 */
    char langs[LANGS_MAX][16];
    size_t n_langs;
    platform_rule *platforms;
    size_t n_platforms;
    reason_rule *reasons;
    size_t n_reasons;
    entry *entries;
    entry_head *heads; /* beside entries[], by the same number */
    size_t n_entries, cap_entries;
    size_t n_part_ids;         /* distinct later parts (entry.part_id) */
    const char **part_text;    /* each later part's bytes and length, by id */
    size_t *part_text_len;
    char day_first[LANGS_MAX][16];
    size_t n_day_first;
    int w_phrase, w_label, w_path, w_short, w_neg, w_quoted, w_foreign, threshold;
    size_t short_bytes;
    size_t month_max;          /* the longest month name (E_MONTH, one part) */
    ac_index scored; /* phrases, labels, negative cues, reasons, names, concept words; then the
                      * distinct later parts (key n_entries + part id) */
    ac_index cues;   /* days-left cues */
    ac_index facts;  /* units, months, month words (one part only): entry_at */
    int has_model;
    bt_classify_model model;
    gram_entry *grams; /* the model's n-gram weights: open addressing by gram_hash */
    size_t gram_mask;  /* capacity - 1; 0 without n-grams */
};

#define BT_FEATURE_NAME(name) #name,
const char *const bt_classify_feature_names[BT_CLASSIFY_FEATURES] = {BT_CLASSIFY_FEATURE_LIST(BT_FEATURE_NAME)};
#define BT_FEATURE_ENUM(name) F_##name,
enum { BT_CLASSIFY_FEATURE_LIST(BT_FEATURE_ENUM) };
static const char *const bt_classify_feature_names_null[BT_CLASSIFY_FEATURES + 1] = {
    BT_CLASSIFY_FEATURE_LIST(BT_FEATURE_NAME) NULL};

/* ---- normalisation ---- */

typedef struct {
    uint8_t *p;
    size_t n, cap;
} buf;

/* Makes room for n more bytes and a NUL; -1 when out of memory. */
static int buf_reserve(buf *b, size_t n)
{
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + n + 1 > cap) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (p == NULL) return -1;
        b->p = p;
        b->cap = cap;
    }
    return 0;
}

static int buf_put(buf *b, const uint8_t *s, size_t n)
{
    if (buf_reserve(b, n) != 0) return -1;
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = 0;
    return 0;
}

static int buf_putc(buf *b, ucs4_t c)
{
    uint8_t tmp[6];
    int n = u8_uctomb(tmp, c, (int)sizeof tmp);
    if (n <= 0) return 0;
    return buf_put(b, tmp, (size_t)n);
}

static int is_hangul(ucs4_t c)
{
    return (c >= 0x1100 && c <= 0x11FF) || (c >= 0x3130 && c <= 0x318F) || (c >= 0xA960 && c <= 0xA97F) ||
           (c >= 0xAC00 && c <= 0xD7FF);
}

/* The letters of India's other scripts as Devanagari's (Bengali and
 * Assamese, Gurmukhi, Gujarati, Odia, Tamil, Telugu, Kannada, Malayalam):
 * their Unicode blocks follow one layout, a letter at the same place in
 * each, so a word shared by the languages (निलंबित, suspended; প্রতিবন্ধ,
 * પ્રતિબંધ, ban) is one word once normalised. The few letters a script
 * has at a place of its own are written as the letter they stand for;
 * digits and punctuation are left to the steps after. */
static ucs4_t brahmic(ucs4_t c)
{
    switch (c) {
    case 0x09CE: return 0x0924;                       /* Bengali khanda ta */
    case 0x09F0: return 0x0930;                       /* Assamese ra */
    case 0x09F1: case 0x0B71: return 0x0935;          /* Assamese, Odia wa */
    case 0x0A70: return 0x0902;                       /* Gurmukhi tippi: a nasal */
    case 0x0A71: return (ucs4_t)-1;                   /* Gurmukhi addak: the next letter doubled */
    case 0x0B5F: return 0x092F;                       /* Odia yya */
    case 0x0D54: return 0x092E;                       /* Malayalam chillu letters: the consonant */
    case 0x0D55: return 0x092F;
    case 0x0D56: return 0x0934;
    case 0x0D7A: return 0x0923;
    case 0x0D7B: return 0x0928;
    case 0x0D7C: return 0x0930;
    case 0x0D7D: return 0x0932;
    case 0x0D7E: return 0x0933;
    case 0x0D7F: return 0x0915;
    default: {
        ucs4_t d = 0x0900 + (c & 0x7F);
        /* letters and signs only: "৷" (Bengali's full stop, a currency sign) stays itself */
        if (!uc_is_general_category(c, UC_CATEGORY_L) && !uc_is_general_category(c, UC_CATEGORY_M)) return 0;
        return d;
    }
    }
}

/* One character's replacement while normalising: 0 keeps c, -1 drops it,
 * otherwise the code point to write instead. */
static ucs4_t mapped(ucs4_t c)
{
    if (c >= 0x0980 && c <= 0x0D7F) return brahmic(c);
    switch (c) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032: case 0x02BC: case 0x0060: case 0x00B4:
        return '\'';
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x00AB: case 0x00BB: case 0x2033:
    case 0x300C: case 0x300D: case 0x300E: case 0x300F: case 0x2039: case 0x203A:
        return '"';
    case 0x2010: case 0x2011: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212:
        return '-';
    case 0x0131: return 'i';           /* dotless i: Turkish text typed either way */
    /* letters with a stroke, which no decomposition takes apart, as people type them
     * without it: Polish "zostales zbanowany", Vietnamese and Croatian "d", Danish "o" */
    case 0x0142: return 'l';
    case 0x0111: return 'd';
    case 0x00F8: return 'o';
    case 0x0127: return 'h';
    case 0x0649: return 0x064A;        /* Arabic alef maqsura written for yeh */
    case 0x0629: return 0x0647;        /* Arabic teh marbuta written as heh */
    case 0x0640: return (ucs4_t)-1;    /* Arabic tatweel */
    /* Hebrew final letters as their other form, so that a stem ending in one
     * matches the longer word: "חסום" (blocked) in "חסומה" */
    case 0x05DA: return 0x05DB;
    case 0x05DD: return 0x05DE;
    case 0x05DF: return 0x05E0;
    case 0x05E3: return 0x05E4;
    case 0x05E5: return 0x05E6;
    default: return 0;
    }
}

/* Step 3 of normalising, one code point at a time: what is left of the
 * text after case folding goes through here in order. */
typedef struct {
    ucs4_t base;       /* the last letter or sign seen (accents on it may go) */
    ucs4_t last;       /* the last code point written, 0 before the first */
    int pending_space; /* white space seen since last: 1 spaces, 2 a line break among them */
} flat_state;

/* A line break ends a sentence (a heading, a page's block of text): white
 * space that holds one is written as "\n", other white space as " ". */
static int is_line_break(ucs4_t c)
{
    return (c >= 0x0A && c <= 0x0D) || c == 0x85 || c == 0x2028 || c == 0x2029;
}

static void white_space(flat_state *st, ucs4_t c)
{
    int kind = is_line_break(c) ? 2 : 1;
    if (st->last != 0 && kind > st->pending_space) st->pending_space = kind;
}

/* Writes what c becomes to b: marks, quotes, digits and spaces as
 * bt_classify_normalize describes. -1 when out of memory. */
static int flatten(buf *b, flat_state *st, ucs4_t c)
{
    ucs4_t m = mapped(c);
    if (m == (ucs4_t)-1) return 0;
    if (m != 0) c = m;
    if (uc_is_general_category(c, UC_CATEGORY_Mn)) {
        if (st->base < 0x800) return 0; /* accents of Latin, Greek, Cyrillic, Arabic... */
    } else if (uc_is_general_category(c, UC_CATEGORY_Cf)) {
        return 0;
    } else if (uc_is_space(c) || uc_is_general_category(c, UC_CATEGORY_Z) ||
               uc_is_general_category(c, UC_CATEGORY_Cc)) {
        white_space(st, c);
        return 0;
    } else {
        st->base = c;
        int v = uc_decimal_value(c);
        if (c > 0x7F && v >= 0 && v <= 9) c = (ucs4_t)('0' + v);
    }
    if (st->pending_space && (st->pending_space == 2 || !(is_hangul(st->last) && is_hangul(c))) &&
        buf_put(b, (const uint8_t *)(st->pending_space == 2 ? "\n" : " "), 1) != 0)
        return -1;
    st->pending_space = 0;
    if (buf_putc(b, c) != 0) return -1;
    st->last = c;
    return 0;
}

/* The language whose special casing rules apply ("tr", "az" or ""). */
static const char *casing_language(const char *lang)
{
    if (lang != NULL && (strncmp(lang, "tr", 2) == 0 || strncmp(lang, "az", 2) == 0) &&
        (lang[2] == '\0' || lang[2] == '-' || lang[2] == '_'))
        return lang[0] == 't' ? "tr" : "az";
    return "";
}

/* Step 1: text with each invalid UTF-8 sequence replaced by U+FFFD and NUL
 * by a space, into clean. -1 when out of memory. */
static int clean_utf8(buf *clean, const char *text, size_t len)
{
    if (buf_put(clean, (const uint8_t *)"", 0) != 0) return -1;
    for (size_t i = 0; i < len;) {
        size_t run = 0;
        while (i + run < len && (unsigned char)text[i + run] - 1u < 0x7Fu) run++; /* ASCII but NUL */
        if (run > 0) {
            if (buf_put(clean, (const uint8_t *)text + i, run) != 0) return -1;
            i += run;
            continue;
        }
        ucs4_t c;
        int n = u8_mbtouc(&c, (const uint8_t *)text + i, len - i);
        if (n <= 0) n = 1;
        if (c == 0) c = ' ';
        if (buf_putc(clean, c) != 0) return -1;
        i += (size_t)n;
    }
    return 0;
}

/* Moves the NFC form of pending (step 4) to the end of out and empties
 * pending. BT_OK, BT_ERR_NO_MEMORY or BT_ERR_INTERNAL. */
static bt_err flush_nfc(buf *out, buf *pending)
{
    size_t nfc_len = 0;
    if (pending->n == 0) return BT_OK;
    uint8_t *nfc = u8_normalize(UNINORM_NFC, pending->p, pending->n, NULL, &nfc_len);
    if (nfc == NULL) return errno == ENOMEM ? BT_ERR_NO_MEMORY : BT_ERR_INTERNAL;
    int bad = buf_put(out, nfc, nfc_len);
    free(nfc);
    pending->n = 0;
    return bad ? BT_ERR_NO_MEMORY : BT_OK;
}

/* Step 2 and 3 for s[0, n): case folding with compatibility decomposition,
 * then flatten, onto the end of b. */
static bt_err fold_and_flatten(buf *b, flat_state *st, const uint8_t *s, size_t n, const char *language)
{
    size_t folded_len = 0;
    uint8_t *folded = u8_casefold(s, n, language, UNINORM_NFKD, NULL, &folded_len);
    if (folded == NULL) return errno == ENOMEM ? BT_ERR_NO_MEMORY : BT_ERR_INTERNAL;
    bt_err rc = BT_OK;
    for (size_t i = 0; i < folded_len && rc == BT_OK;) {
        ucs4_t c;
        int k = u8_mbtouc(&c, folded + i, folded_len - i);
        i += (size_t)(k > 0 ? k : 1);
        if (flatten(b, st, c) != 0) rc = BT_ERR_NO_MEMORY;
    }
    free(folded);
    return rc;
}

/* The reference: the four steps, each over the whole text. */
bt_err bt_classify_normalize_reference(char **out, size_t *out_len, const char *text, size_t len, const char *lang)
{
    bt_err rc = BT_ERR_NO_MEMORY;
    buf clean = {0}, flat = {0}, done_text = {0};
    flat_state st = {0};

    *out = NULL;
    *out_len = 0;
    if (text == NULL) return BT_ERR_BAD_PARAMS;
    if (clean_utf8(&clean, text, len) != 0 || buf_put(&flat, (const uint8_t *)"", 0) != 0 ||
        buf_put(&done_text, (const uint8_t *)"", 0) != 0)
        goto done;
    if ((rc = fold_and_flatten(&flat, &st, clean.p, clean.n, casing_language(lang))) != BT_OK) goto done;
    if ((rc = flush_nfc(&done_text, &flat)) != BT_OK) goto done;
    *out = (char *)done_text.p;
    *out_len = done_text.n;
    done_text.p = NULL;
    rc = BT_OK;
done:
    free(clean.p);
    free(flat.p);
    free(done_text.p);
    return rc;
}

/* The ASCII character that normalising makes of the character at s[0, n)
 * (valid UTF-8, no white space), its length in *len; 0 when the character
 * needs the full treatment. Only characters that case folding and
 * compatibility decomposition leave alone (or, for A-Z, lower in every
 * language: Turkish I becomes dotless i, which flatten makes i), that never
 * combine with a neighbour and whose folding depends on no neighbour
 * qualify: printable ASCII, and the quotation marks and dashes without a
 * decomposition that mapped() makes ASCII. */
static unsigned char simple_ascii(uint8_t c)
{
    if (c >= 'A' && c <= 'Z') return (unsigned char)(c - 'A' + 'a');
    return c == '`' ? '\'' : c;
}

static unsigned char simple_char(const uint8_t *s, size_t n, size_t *len)
{
    if (s[0] < 0x80) {
        *len = 1;
        return simple_ascii(s[0]);
    }
    ucs4_t c;
    int k = u8_mbtouc(&c, s, n);
    switch (c) {
    case 0x2018: case 0x2019: case 0x201A: case 0x201B: case 0x2032: case 0x02BC:
    case 0x201C: case 0x201D: case 0x201E: case 0x201F: case 0x00AB: case 0x00BB:
    case 0x300C: case 0x300D: case 0x300E: case 0x300F: case 0x2039: case 0x203A:
    case 0x2010: case 0x2012: case 0x2013: case 0x2014: case 0x2015: case 0x2212:
        *len = (size_t)k;
        return (unsigned char)mapped(c);
    default:
        return 0;
    }
}

/* The same as the reference, faster: the text is cut into words at ASCII
 * white space. A word of simple_char characters only is normalised right
 * here; the others go through libunistring one word at a time. That gives
 * the same bytes because (1) case folding looks at neighbours only across
 * letters and marks, never across white space; (2) flatten keeps its state
 * from word to word, as it would over the whole text; (3) composing (NFC)
 * cannot reach across an ASCII character, and the output of a simple word
 * is ASCII and starts with the space flatten owes (as does whatever follows
 * it), so runs of other words are composed on their own. Tests compare the
 * two on generated texts (tests/unit/test_classify.c). */
bt_err bt_classify_normalize(char **out, size_t *out_len, const char *text, size_t len, const char *lang)
{
    bt_err rc = BT_ERR_NO_MEMORY;
    buf clean = {0}, res = {0}, pending = {0};
    flat_state st = {0};
    const char *language = casing_language(lang);

    *out = NULL;
    *out_len = 0;
    if (text == NULL) return BT_ERR_BAD_PARAMS;
    /* step 1, unless the text is ASCII without NUL (the common case) */
    const uint8_t *in = (const uint8_t *)text;
    size_t in_len = len;
    unsigned other = 0;
    for (size_t j = 0; j < len; j++) other |= (unsigned)(in[j] == 0) | (unsigned)(in[j] >> 7);
    if (other) {
        if (clean_utf8(&clean, text, len) != 0) goto done;
        in = clean.p;
        in_len = clean.n;
    }
    if (buf_reserve(&res, in_len + 1) != 0) goto done; /* a simple word's output is no longer than it */
    res.p[0] = '\0';
    for (size_t i = 0; i < in_len;) {
        const uint8_t *w = in + i;
        if (w[0] <= 0x20 || w[0] == 0x7F) { /* flatten's white space, as one byte */
            white_space(&st, w[0]);
            i++;
            continue;
        }
        size_t n = 0, k = 1;
        int simple = 1;
        while (i + n < in_len && in[i + n] > 0x20 && in[i + n] != 0x7F) {
            if (in[i + n] < 0x80) { /* printable ASCII: simple */
                n++;
                continue;
            }
            if (simple && simple_char(w + n, in_len - i - n, &k) == 0) simple = 0;
            n += simple ? k : 1;
        }
        if (!simple) {
            if ((rc = fold_and_flatten(&pending, &st, w, n, language)) != BT_OK) goto done;
            i += n;
            continue;
        }
        if (pending.n > 0 && (rc = flush_nfc(&res, &pending)) != BT_OK) goto done;
        if (buf_reserve(&res, n + 1) != 0) {
            rc = BT_ERR_NO_MEMORY;
            goto done;
        }
        if (st.pending_space) res.p[res.n++] = st.pending_space == 2 ? '\n' : ' ';
        for (size_t j = 0; j < n; j += k) {
            k = 1;
            res.p[res.n++] = w[j] < 0x80 ? simple_ascii(w[j]) : simple_char(w + j, n - j, &k);
        }
        st.base = st.last = res.p[res.n - 1];
        res.p[res.n] = '\0';
        st.pending_space = 0;
        i += n;
    }
    if ((rc = flush_nfc(&res, &pending)) != BT_OK) goto done;
    *out = (char *)res.p;
    *out_len = res.n;
    res.p = NULL;
    rc = BT_OK;
done:
    free(clean.p);
    free(res.p);
    free(pending.p);
    return rc;
}

/* ---- rules ---- */

/* The hash of bytes s[0, n): eight bytes at a time, each step a multiply
 * and a shift (a byte-at-a-time hash costs more than the look-up), then
 * MurmurHash3's finaliser, so that the low bits, the slot, depend on every
 * byte. Computed by this program only, on its own machine. */
static uint64_t bytes_hash(const char *s, size_t n)
{
    uint64_t h = 0x9E3779B97F4A7C15ULL ^ n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDULL;
        h ^= h >> 32;
    }
    w = 0;
    for (size_t i = 0; i < n; i++) w |= (uint64_t)(unsigned char)s[i] << (8 * i);
    h ^= w;
    h ^= h >> 33;
    h *= 0xFF51AFD7ED558CCDULL;
    h ^= h >> 33;
    h *= 0xC4CEB9FE1A85EC53ULL;
    h ^= h >> 33;
    return h;
}

/* The key of a pair of words from theirs, and of a stem ("suspe~") from
 * its letters': so that a text's walk hashes each word's bytes once
 * (ngrams_each). Never 0, the empty slot. */
static uint64_t pair_key(uint64_t first, uint64_t second)
{
    uint64_t h = (first * 0xC2B2AE3D27D4EB4FULL) ^ second;
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ULL;
    h ^= h >> 32;
    return h ? h : 1;
}

static uint64_t stem_key(uint64_t letters)
{
    uint64_t h = (letters ^ 0x94D049BB133111EBULL) * 0xD6E8FEB86659FD93ULL;
    h ^= h >> 32;
    return h ? h : 1;
}

static uint64_t word_key(uint64_t bytes)
{
    return bytes ? bytes : 1;
}

/* The key of an n-gram as the rules file writes it: a word (or a pair of
 * characters of an unspaced script), "w1 w2" or "stem~". */
static uint64_t gram_hash(const char *s, size_t n)
{
    const char *space = memchr(s, ' ', n);
    if (space != NULL) return pair_key(bytes_hash(s, (size_t)(space - s)), bytes_hash(space + 1, n - (size_t)(space - s) - 1));
    if (n > 0 && s[n - 1] == '~') return stem_key(bytes_hash(s, n - 1));
    return word_key(bytes_hash(s, n));
}

/* The table's slot for key h: where it is, or the empty slot where it
 * would go. */
static size_t gram_slot(const bt_classify_rules *r, uint64_t h)
{
    size_t i = (size_t)h & r->gram_mask;
    while (r->grams[i].key != 0 && r->grams[i].key != h) i = (i + 1) & r->gram_mask;
    return i;
}

static void problem_set(char *problem, size_t problem_len, const char *what, const char *where)
{
    if (problem != NULL && problem_len > 0) snprintf(problem, problem_len, "%s: %s", where, what);
}

/* Whether every key of o is one of the NULL-terminated names; if not, the
 * problem names the first unknown key. */
static int keys_known(json_object *o, const char *const *names, char *problem, size_t problem_len,
                      const char *where)
{
    if (!json_object_is_type(o, json_type_object)) return 1;
    json_object_object_foreach(o, key, val) {
        (void)val;
        size_t i = 0;
        while (names[i] != NULL && strcmp(names[i], key) != 0) i++;
        if (names[i] == NULL) {
            char what[160];
            snprintf(what, sizeof what, "unknown key \"%.100s\"", key);
            problem_set(problem, problem_len, what, where);
            return 0;
        }
    }
    return 1;
}

static int kind_index(const bt_classify_rules *r, const char *kind)
{
    for (size_t i = 0; i < r->n_kinds; i++)
        if (strcmp(r->kinds[i], kind) == 0) return (int)i;
    return -1;
}

static int lang_index(bt_classify_rules *r, const char *lang)
{
    for (size_t i = 0; i < r->n_langs; i++)
        if (strcmp(r->langs[i], lang) == 0) return (int)i;
    if (r->n_langs == LANGS_MAX || strlen(lang) >= sizeof r->langs[0]) return -1;
    snprintf(r->langs[r->n_langs], sizeof r->langs[0], "%s", lang);
    return (int)r->n_langs++;
}

static int is_ascii_letter(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

/* uc_is_alnum, without the call for ASCII (the common case). */
static int is_alnum(ucs4_t c)
{
    if (c < 0x80) return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
    return uc_is_alnum(c);
}

/* The code point before position i of t (0 at the start). */
static ucs4_t cp_before(const char *t, size_t i)
{
    if (i == 0) return 0;
    if ((unsigned char)t[i - 1] < 0x80) return (unsigned char)t[i - 1];
    size_t j = i - 1;
    while (j > 0 && ((unsigned char)t[j] & 0xC0) == 0x80) j--;
    ucs4_t c = 0;
    u8_mbtouc(&c, (const uint8_t *)t + j, i - j);
    return c;
}

static ucs4_t cp_at(const char *t, size_t n, size_t i)
{
    if (i >= n) return 0;
    if ((unsigned char)t[i] < 0x80) return (unsigned char)t[i];
    ucs4_t c = 0;
    u8_mbtouc(&c, (const uint8_t *)t + i, n - i);
    return c;
}

/* Scripts written without spaces between words (Thai, Lao, Myanmar, Khmer,
 * kana, CJK ideographs, and Hangul, whose spaces normalising removes):
 * their n-grams are pairs of characters. */
static int unspaced(ucs4_t c)
{
    return (c >= 0x0E00 && c <= 0x0EFF) || (c >= 0x1000 && c <= 0x109F) || (c >= 0x1780 && c <= 0x17FF) ||
           (c >= 0x3040 && c <= 0x30FF) || (c >= 0x3400 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0xF900 && c <= 0xFAFF);
}

/* A letter of katakana, or its length mark (not the middle dot, which parts
 * words): Japanese writes a borrowed word as a run of them, so a run is a
 * word, and "ロック" (lock) inside "ブロック" (block) is not one. */
static int is_katakana(ucs4_t c)
{
    return (c >= 0x30A1 && c <= 0x30FA) || c == 0x30FC;
}

/* Word-boundary checks apply to alphabetic scripts written with spaces and
 * no attached particles: Latin, Greek, Cyrillic (below U+0590). */
static int needs_boundary(ucs4_t c)
{
    return c != 0 && c < 0x590 && is_alnum(c);
}

/* A byte no UTF-8 text holds. The scored index reads it before each word
 * start (word_start), and its keys hold it where they start a word: a key
 * that must start at a word boundary (BOUND_LEFT) then matches only at one,
 * and a walk inside a word never enters such keys at all. */
#define WORD_MARK 0xFF

/* Whether t[i] starts a word whose start is a boundary (a letter or digit
 * of a script written with spaces, after a character that is neither). */
static inline int word_start(const char *t, size_t n, size_t i)
{
    unsigned char c = (unsigned char)t[i];
    if (c < 0x80) {
        if (!((c | 0x20) >= 'a' && (c | 0x20) <= 'z') && !(c >= '0' && c <= '9')) return 0;
    } else if ((c & 0xC0) == 0x80 || !needs_boundary(cp_at(t, n, i))) {
        return 0;
    }
    return !is_alnum(cp_before(t, i));
}

#define PHRASE_MAX 1000 /* bytes: a phrase is a few words, and entry_head keeps lengths in 16 bits */

/* Adds phrase as an entry; BT_ERR_BAD_PARAMS for an empty phrase or one over
 * PHRASE_MAX bytes. */
static bt_err add_entry(bt_classify_rules *r, const char *phrase, entry_class cls, int idx, int lang)
{
    bt_err rc;
    entry e = {0};
    size_t len = strlen(phrase), n = 0;

    if (len > PHRASE_MAX) return BT_ERR_BAD_PARAMS;
    e.ending = cls == E_CONCEPT && len > 1 && phrase[0] == '-';
    if (e.ending) {
        phrase++;
        len--;
    }
    if (r->n_entries == r->cap_entries) {
        size_t cap = r->cap_entries ? r->cap_entries * 2 : 512;
        entry *p = realloc(r->entries, cap * sizeof *p);
        if (p == NULL) return BT_ERR_NO_MEMORY;
        r->entries = p;
        r->cap_entries = cap;
    }
    e.whole_word = len > 0 && phrase[len - 1] == ' ';
    if ((rc = bt_classify_normalize(&e.norm, &n, phrase, len, NULL)) != BT_OK) return rc;
    /* split on '*' into trimmed parts */
    char *s = e.norm;
    while (s != NULL && e.n_parts < PARTS_MAX) {
        char *star = strchr(s, '*');
        char *end = star ? star : s + strlen(s);
        while (*s == ' ') s++;
        while (end > s && end[-1] == ' ') end--;
        if (end > s) {
            size_t pl = (size_t)(end - s);
            e.part[e.n_parts] = s;
            e.part_len[e.n_parts] = pl;
            ucs4_t first = cp_at(s, pl, 0);
            e.bound[e.n_parts] = (uint8_t)((needs_boundary(first) ? BOUND_LEFT : 0) |
                                           (is_katakana(first) ? BOUND_KANA : 0) |
                                           (needs_boundary(cp_before(s, pl)) ? BOUND_RIGHT : 0));
            e.n_parts++;
        }
        s = star ? star + 1 : NULL;
    }
    if (e.n_parts == 0) {
        free(e.norm);
        return BT_ERR_BAD_PARAMS;
    }
    /* a phrase ending with a space ends a word in every script written with
     * spaces, also where it may start inside one (Arabic "لو ", if, is not
     * the start of "الويكي") */
    ucs4_t last = cp_before(e.part[e.n_parts - 1], e.part_len[e.n_parts - 1]);
    if (e.whole_word && is_alnum(last) && !unspaced(last)) e.bound[e.n_parts - 1] |= BOUND_RIGHT;
    if (e.ending) e.bound[0] &= (uint8_t)~(BOUND_LEFT | BOUND_KANA); /* "-dınız ": yasaklandınız (you were banned) */
    e.cls = cls;
    e.idx = idx;
    e.lang = lang;
    for (size_t w = 0; w < LANGS_MAX / 64; w++)
        e.langs.w[w] = lang < 0 ? ~0ull : (size_t)lang / 64 == w ? 1ull << (lang % 64) : 0;
    r->entries[r->n_entries++] = e;
    return BT_OK;
}

/* Adds every term of a concept's language, its terms joined by '|' in one
 * string ("you |your|you've": the concepts hold fifty thousand terms, and a
 * list's quotes and commas would take a twentieth of the rules file). */
static bt_err add_joined(bt_classify_rules *r, const char *s, int idx, int lang)
{
    char term[PHRASE_MAX + 1];
    for (;;) {
        const char *bar = strchr(s, '|'), *end = bar != NULL ? bar : s + strlen(s);
        if (end == s || (size_t)(end - s) > PHRASE_MAX) return BT_ERR_BAD_PARAMS;
        memcpy(term, s, (size_t)(end - s));
        term[end - s] = '\0';
        bt_err rc = add_entry(r, term, E_CONCEPT, idx, lang);
        if (rc != BT_OK || bar == NULL) return rc;
        s = bar + 1;
    }
}

/* Adds every string of a {lang: [phrases]} object; for a concept,
 * {lang: "term|term|..."}. */
static bt_err add_lang_lists(bt_classify_rules *r, json_object *by_lang, entry_class cls, int idx,
                             char *problem, size_t problem_len, const char *where)
{
    bt_err rc;
    if (!json_object_is_type(by_lang, json_type_object)) {
        problem_set(problem, problem_len, "must be an object {language: [phrases]}", where);
        return BT_ERR_BAD_PARAMS;
    }
    json_object_object_foreach(by_lang, lang, list) {
        int li = lang_index(r, lang);
        if (cls == E_CONCEPT) {
            if (li < 0 || !json_object_is_type(list, json_type_string)) {
                problem_set(problem, problem_len, "each language must hold its terms joined by '|' in one string", where);
                return BT_ERR_BAD_PARAMS;
            }
            if ((rc = add_joined(r, json_object_get_string(list), idx, li)) != BT_OK) {
                problem_set(problem, problem_len, "an empty term, or one over 1000 bytes", where);
                return rc;
            }
            continue;
        }
        if (li < 0 || !json_object_is_type(list, json_type_array)) {
            problem_set(problem, problem_len, "each language must hold an array of phrases", where);
            return BT_ERR_BAD_PARAMS;
        }
        for (size_t i = 0; i < json_object_array_length(list); i++) {
            json_object *p = json_object_array_get_idx(list, i);
            if (!json_object_is_type(p, json_type_string)) {
                problem_set(problem, problem_len, "a phrase is not a string", where);
                return BT_ERR_BAD_PARAMS;
            }
            if ((rc = add_entry(r, json_object_get_string(p), cls, idx, li)) != BT_OK) {
                problem_set(problem, problem_len, "an empty phrase, or one over 1000 bytes", where);
                return rc;
            }
        }
    }
    return BT_OK;
}

/* Adds {kind: {lang: [phrases]}} (kinds, labels). */
static bt_err add_kind_lists(bt_classify_rules *r, json_object *by_kind, entry_class cls, char *problem,
                             size_t problem_len, const char *where)
{
    bt_err rc;
    if (by_kind == NULL) return BT_OK;
    if (!json_object_is_type(by_kind, json_type_object)) {
        problem_set(problem, problem_len, "must be an object {kind: {language: [phrases]}}", where);
        return BT_ERR_BAD_PARAMS;
    }
    json_object_object_foreach(by_kind, kind, by_lang) {
        int k = kind_index(r, kind);
        if (k < 0) {
            problem_set(problem, problem_len, "a kind missing from kind_priority", kind);
            return BT_ERR_BAD_PARAMS;
        }
        if ((rc = add_lang_lists(r, by_lang, cls, k, problem, problem_len, kind)) != BT_OK) return rc;
    }
    return BT_OK;
}

static int get_int(json_object *o, const char *key, int dflt)
{
    json_object *x;
    if (!json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int)) return dflt;
    int64_t v = json_object_get_int64(x);
    return v < 0 ? 0 : v > 1000000 ? 1000000 : (int)v;
}

static bt_err parse_platforms(bt_classify_rules *r, json_object *plats, char *problem, size_t problem_len)
{
    bt_err rc;
    if (!json_object_is_type(plats, json_type_object)) {
        problem_set(problem, problem_len, "must be an object keyed by platform id", "platforms");
        return BT_ERR_BAD_PARAMS;
    }
    size_t n = (size_t)json_object_object_length(plats);
    r->platforms = calloc(n ? n : 1, sizeof *r->platforms);
    if (r->platforms == NULL) return BT_ERR_NO_MEMORY;
    json_object_object_foreach(plats, id, p) {
        platform_rule *pl = &r->platforms[r->n_platforms];
        json_object *hosts = NULL, *paths = NULL, *names = NULL;
        static const char *const keys[] = {"hosts", "names", "paths", "software", NULL};
        if (!keys_known(p, keys, problem, problem_len, id)) return BT_ERR_BAD_PARAMS;
        if (strlen(id) >= sizeof pl->id || !json_object_is_type(p, json_type_object) ||
            !json_object_object_get_ex(p, "hosts", &hosts) || !json_object_is_type(hosts, json_type_array)) {
            problem_set(problem, problem_len, "needs \"hosts\": [host names]", id);
            return BT_ERR_BAD_PARAMS;
        }
        snprintf(pl->id, sizeof pl->id, "%s", id);
        r->n_platforms++;
        pl->hosts = calloc(json_object_array_length(hosts) + 1, sizeof *pl->hosts);
        if (pl->hosts == NULL) return BT_ERR_NO_MEMORY;
        for (size_t i = 0; i < json_object_array_length(hosts); i++) {
            json_object *h = json_object_array_get_idx(hosts, i);
            if (!json_object_is_type(h, json_type_string)) {
                problem_set(problem, problem_len, "a host is not a string", id);
                return BT_ERR_BAD_PARAMS;
            }
            if ((pl->hosts[pl->n_hosts] = strdup(json_object_get_string(h))) == NULL) return BT_ERR_NO_MEMORY;
            for (char *c = pl->hosts[pl->n_hosts]; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
            pl->n_hosts++;
        }
        if (json_object_object_get_ex(p, "paths", &paths)) {
            if (!json_object_is_type(paths, json_type_array)) {
                problem_set(problem, problem_len, "\"paths\" must be an array", id);
                return BT_ERR_BAD_PARAMS;
            }
            pl->paths = calloc(json_object_array_length(paths) + 1, sizeof *pl->paths);
            if (pl->paths == NULL) return BT_ERR_NO_MEMORY;
            for (size_t i = 0; i < json_object_array_length(paths); i++) {
                json_object *q = json_object_array_get_idx(paths, i), *pat = NULL, *kind = NULL;
                json_object_object_get_ex(q, "pattern", &pat);
                json_object_object_get_ex(q, "kind", &kind);
                int k = kind ? kind_index(r, json_object_get_string(kind)) : -1;
                if (!json_object_is_type(pat, json_type_string) || k < 0) {
                    problem_set(problem, problem_len, "a path needs \"pattern\" and a known \"kind\"", id);
                    return BT_ERR_BAD_PARAMS;
                }
                if (regcomp(&pl->paths[pl->n_paths].re, json_object_get_string(pat),
                            REG_EXTENDED | REG_ICASE | REG_NOSUB) != 0) {
                    problem_set(problem, problem_len, "a path pattern is not a valid regular expression",
                                json_object_get_string(pat));
                    return BT_ERR_BAD_PARAMS;
                }
                pl->paths[pl->n_paths++].kind = k;
            }
        }
        json_object *software = NULL;
        if (json_object_object_get_ex(p, "software", &software)) {
            if (!json_object_is_type(software, json_type_array)) {
                problem_set(problem, problem_len, "\"software\" must be an array of CSS selectors", id);
                return BT_ERR_BAD_PARAMS;
            }
            pl->has_software = json_object_array_length(software) > 0;
        }
        if (json_object_object_get_ex(p, "names", &names)) {
            json_object *wrap = json_object_new_object();
            if (wrap == NULL) return BT_ERR_NO_MEMORY;
            json_object_object_add(wrap, "any", json_object_get(names));
            rc = add_lang_lists(r, wrap, E_NAME, (int)(r->n_platforms - 1), problem, problem_len, id);
            json_object_put(wrap);
            if (rc != BT_OK) return rc;
        }
    }
    return BT_OK;
}

static bt_err parse_reasons(bt_classify_rules *r, json_object *reasons, char *problem, size_t problem_len)
{
    bt_err rc;
    if (reasons == NULL) return BT_OK;
    if (!json_object_is_type(reasons, json_type_array)) {
        problem_set(problem, problem_len, "must be an array of {key, category, phrases}", "reasons");
        return BT_ERR_BAD_PARAMS;
    }
    size_t n = json_object_array_length(reasons);
    r->reasons = calloc(n ? n : 1, sizeof *r->reasons);
    if (r->reasons == NULL) return BT_ERR_NO_MEMORY;
    for (size_t i = 0; i < n; i++) {
        json_object *o = json_object_array_get_idx(reasons, i), *key = NULL, *cat = NULL, *ph = NULL;
        json_object_object_get_ex(o, "key", &key);
        json_object_object_get_ex(o, "category", &cat);
        json_object_object_get_ex(o, "phrases", &ph);
        if (!json_object_is_type(key, json_type_string) || !json_object_is_type(cat, json_type_string) ||
            json_object_get_string_len(key) >= (int)sizeof r->reasons[0].key ||
            json_object_get_string_len(cat) >= (int)sizeof r->reasons[0].category) {
            problem_set(problem, problem_len, "a reason needs \"key\" and \"category\" strings", "reasons");
            return BT_ERR_BAD_PARAMS;
        }
        snprintf(r->reasons[i].key, sizeof r->reasons[i].key, "%s", json_object_get_string(key));
        snprintf(r->reasons[i].category, sizeof r->reasons[i].category, "%s", json_object_get_string(cat));
        r->n_reasons++;
        if ((rc = add_lang_lists(r, ph, E_REASON, (int)i, problem, problem_len, r->reasons[i].key)) != BT_OK)
            return rc;
    }
    return BT_OK;
}

static bt_err parse_facts(bt_classify_rules *r, json_object *facts, char *problem, size_t problem_len)
{
    static const char *const unit_names[UNITS + 1] = {"minute", "hour", "day", "week", "month", "year", "second", NULL};
    bt_err rc;
    json_object *units = NULL, *cues = NULL, *months = NULL, *words = NULL, *dfl = NULL;
    if (facts == NULL) return BT_OK;
    static const char *const keys[] = {"units", "days_left_cues", "months", "month_words", "day_first_langs", NULL};
    if (!keys_known(facts, keys, problem, problem_len, "facts")) return BT_ERR_BAD_PARAMS;
    json_object_object_get_ex(facts, "units", &units);
    if (units != NULL && !keys_known(units, unit_names, problem, problem_len, "facts.units")) return BT_ERR_BAD_PARAMS;
    json_object_object_get_ex(facts, "days_left_cues", &cues);
    json_object_object_get_ex(facts, "months", &months);
    json_object_object_get_ex(facts, "month_words", &words);
    json_object_object_get_ex(facts, "day_first_langs", &dfl);
    for (int u = 0; u < UNITS && units != NULL; u++) {
        json_object *list = NULL, *wrap;
        if (!json_object_object_get_ex(units, unit_names[u], &list)) continue;
        if ((wrap = json_object_new_object()) == NULL) return BT_ERR_NO_MEMORY;
        json_object_object_add(wrap, "any", json_object_get(list));
        rc = add_lang_lists(r, wrap, E_UNIT, u, problem, problem_len, unit_names[u]);
        json_object_put(wrap);
        if (rc != BT_OK) return rc;
    }
    if (cues != NULL && (rc = add_lang_lists(r, cues, E_CUE, 0, problem, problem_len, "days_left_cues")) != BT_OK)
        return rc;
    if (words != NULL) {
        json_object *wrap = json_object_new_object();
        if (wrap == NULL) return BT_ERR_NO_MEMORY;
        json_object_object_add(wrap, "any", json_object_get(words));
        rc = add_lang_lists(r, wrap, E_MONTHWORD, 0, problem, problem_len, "month_words");
        json_object_put(wrap);
        if (rc != BT_OK) return rc;
    }
    if (months != NULL) {
        json_object_object_foreach(months, lang, list) {
            int li = lang_index(r, lang);
            if (li < 0 || !json_object_is_type(list, json_type_array) || json_object_array_length(list) != 12) {
                problem_set(problem, problem_len, "months need 12 arrays of names", lang);
                return BT_ERR_BAD_PARAMS;
            }
            for (size_t m = 0; m < 12; m++) {
                json_object *names = json_object_array_get_idx(list, m);
                if (!json_object_is_type(names, json_type_array)) {
                    problem_set(problem, problem_len, "each month is an array of names", lang);
                    return BT_ERR_BAD_PARAMS;
                }
                for (size_t j = 0; j < json_object_array_length(names); j++) {
                    json_object *nm = json_object_array_get_idx(names, j);
                    if (!json_object_is_type(nm, json_type_string)) {
                        problem_set(problem, problem_len, "a month name is not a string", lang);
                        return BT_ERR_BAD_PARAMS;
                    }
                    if ((rc = add_entry(r, json_object_get_string(nm), E_MONTH, (int)m + 1, li)) != BT_OK) return rc;
                }
            }
        }
    }
    if (dfl != NULL && !json_object_is_type(dfl, json_type_array)) {
        problem_set(problem, problem_len, "must be an array of languages", "day_first_langs");
        return BT_ERR_BAD_PARAMS;
    }
    for (size_t i = 0; dfl != NULL && i < json_object_array_length(dfl) && r->n_day_first < LANGS_MAX; i++) {
        const char *l = json_object_get_string(json_object_array_get_idx(dfl, i));
        if (l != NULL && strlen(l) < sizeof r->day_first[0])
            snprintf(r->day_first[r->n_day_first++], sizeof r->day_first[0], "%s", l);
    }
    return BT_OK;
}

static int cmp_concept(const void *a, const void *b)
{
    const entry *x = a, *y = b;
    if (x->idx != y->idx) return x->idx - y->idx;
    if (x->whole_word != y->whole_word) return x->whole_word - y->whole_word;
    if (x->ending != y->ending) return x->ending - y->ending;
    return strcmp(x->norm, y->norm);
}

/* Keeps one of the concept entries from first on that match the same words
 * as the same concept (the same word in several languages): a concept does
 * not depend on the language, and each entry costs a try wherever its first
 * part occurs. */
static void concepts_dedupe(bt_classify_rules *r, size_t first)
{
    size_t n = r->n_entries - first, kept = 0;
    if (n == 0) return;
    entry *e = r->entries + first;
    qsort(e, n, sizeof *e, cmp_concept);
    for (size_t i = 0; i < n; i++) {
        if (kept > 0 && cmp_concept(&e[kept - 1], &e[i]) == 0) {
            for (size_t w = 0; w < LANGS_MAX / 64; w++) e[kept - 1].langs.w[w] |= e[i].langs.w[w];
            free(e[i].norm);
        } else e[kept++] = e[i];
    }
    r->n_entries = first + kept;
}

/* "concepts": {"you"|"we"|"object"|"other"|"if"|"self"|"not"|"not_after"|"place"|"security"|"attempts"|"scope"|"action"|"permanent"|"temporary"|"appeal"|"contact"|"failure"|"threat"|"threat_after": {lang: "term|term|..."},
 *              "state": {kind: {lang: "term|term|..."}}} */
static bt_err parse_concept_lists(bt_classify_rules *r, json_object *c, char *problem, size_t problem_len)
{
    static const char *const names[] = {"you", "we", "object", "other", "if", "self", "not", "not_after", "place",
                                        "security", "attempts", "scope", "action", "permanent", "temporary", "appeal", "contact", "failure",
                                        "threat", "threat_after", "state", NULL};
    bt_err rc;
    if (c == NULL) return BT_OK;
    if (!json_object_is_type(c, json_type_object) || !keys_known(c, names, problem, problem_len, "concepts")) {
        if (problem != NULL && problem[0] == '\0') problem_set(problem, problem_len, "must be an object", "concepts");
        return BT_ERR_BAD_PARAMS;
    }
    for (int i = C_YOU; i < C_STATE; i++) {
        json_object *x = NULL;
        if (json_object_object_get_ex(c, names[i], &x) &&
            (rc = add_lang_lists(r, x, E_CONCEPT, i, problem, problem_len, names[i])) != BT_OK)
            return rc;
    }
    json_object *st = NULL;
    if (!json_object_object_get_ex(c, "state", &st)) return BT_OK;
    if (!json_object_is_type(st, json_type_object)) {
        problem_set(problem, problem_len, "must be an object {kind: {language: \"term|term\"}}", "concepts.state");
        return BT_ERR_BAD_PARAMS;
    }
    json_object_object_foreach(st, kind, by_lang) {
        int k = kind_index(r, kind);
        if (k < 0) {
            problem_set(problem, problem_len, "a kind missing from kind_priority", kind);
            return BT_ERR_BAD_PARAMS;
        }
        if ((rc = add_lang_lists(r, by_lang, E_CONCEPT, C_STATE + k, problem, problem_len, kind)) != BT_OK) return rc;
    }
    return BT_OK;
}

static bt_err parse_concepts(bt_classify_rules *r, json_object *c, char *problem, size_t problem_len)
{
    size_t first = r->n_entries;
    bt_err rc = parse_concept_lists(r, c, problem, problem_len);
    if (rc != BT_OK) return rc;
    concepts_dedupe(r, first);
    /* a negation a phrase holds is part of what it says */
    for (size_t k = 0; k < first; k++) {
        entry *e = &r->entries[k];
        for (size_t q = first; q < r->n_entries && (e->cls == E_PHRASE || e->cls == E_LABEL) && !e->says_not; q++)
            if (r->entries[q].idx == C_NOT || r->entries[q].idx == C_NOT_AFTER)
                e->says_not = strstr(e->norm, r->entries[q].part[0]) != NULL;
    }
    return BT_OK;
}

/* Adds grams ({n-gram: weight in hundredths}, NULL for none) to r's table,
 * each pointing to kind (-1 none). 0 after naming the n-gram whose weight is
 * no whole number (hundredths spare the rules file a "0." per n-gram). */
static int add_grams(bt_classify_rules *r, json_object *grams, int kind, char *problem, size_t problem_len)
{
    if (grams == NULL) return 1;
    json_object_object_foreach(grams, gram, w) {
        if (!json_object_is_type(w, json_type_int)) {
            problem_set(problem, problem_len, "an n-gram's weight must be a whole number of hundredths", gram);
            return 0;
        }
        uint64_t h = gram_hash(gram, strlen(gram));
        size_t slot = gram_slot(r, h);
        r->grams[slot].key = h;
        r->grams[slot].weight = (float)json_object_get_int(w) / 100;
        r->grams[slot].kind = (uint8_t)(kind + 1);
    }
    return 1;
}

/* "model": {"about": str, "bias": n, "threshold": n, "weights": {feature: n},
 * "ngrams": {n-gram: hundredths}, "ngram_kinds": {kind: {n-gram: hundredths}}} */
static bt_err parse_model(bt_classify_rules *r, json_object *m, char *problem, size_t problem_len)
{
    static const char *const names[] = {"about", "trained_on", "bias", "threshold", "weights", "ngrams", "ngram_kinds", NULL};
    json_object *x = NULL, *w = NULL, *grams = NULL;
    if (m == NULL) return BT_OK;
    if (!keys_known(m, names, problem, problem_len, "model")) return BT_ERR_BAD_PARAMS;
    if (!json_object_object_get_ex(m, "weights", &w) || !json_object_is_type(w, json_type_object)) {
        problem_set(problem, problem_len, "needs \"weights\": {feature: number}", "model");
        return BT_ERR_BAD_PARAMS;
    }
    if (!keys_known(w, bt_classify_feature_names_null, problem, problem_len, "model.weights")) return BT_ERR_BAD_PARAMS;
    for (size_t i = 0; i < BT_CLASSIFY_FEATURES; i++)
        if (json_object_object_get_ex(w, bt_classify_feature_names[i], &x)) {
            if (!json_object_is_type(x, json_type_double) && !json_object_is_type(x, json_type_int)) {
                problem_set(problem, problem_len, "a weight is not a number", bt_classify_feature_names[i]);
                return BT_ERR_BAD_PARAMS;
            }
            r->model.w[i] = json_object_get_double(x);
        }
    r->model.threshold = 0.5;
    static const char *const numbers[] = {"bias", "threshold"};
    for (size_t i = 0; i < 2; i++)
        if (json_object_object_get_ex(m, numbers[i], &x) && !json_object_is_type(x, json_type_double) &&
            !json_object_is_type(x, json_type_int)) {
            problem_set(problem, problem_len, "must be a number", numbers[i]);
            return BT_ERR_BAD_PARAMS;
        }
    if (json_object_object_get_ex(m, "bias", &x)) r->model.bias = json_object_get_double(x);
    if (json_object_object_get_ex(m, "threshold", &x)) r->model.threshold = json_object_get_double(x);
    if (!(r->model.threshold > 0 && r->model.threshold < 1)) {
        problem_set(problem, problem_len, "\"threshold\" must be between 0 and 1", "model");
        return BT_ERR_BAD_PARAMS;
    }
    json_object *kinds = NULL;
    if (json_object_object_get_ex(m, "ngram_kinds", &kinds) && !json_object_is_type(kinds, json_type_object)) {
        problem_set(problem, problem_len, "must be an object {kind: {n-gram: weight}}", "model.ngram_kinds");
        return BT_ERR_BAD_PARAMS;
    }
    if (json_object_object_get_ex(m, "ngrams", &grams) && !json_object_is_type(grams, json_type_object)) {
        problem_set(problem, problem_len, "must be an object {n-gram: weight}", "model.ngrams");
        return BT_ERR_BAD_PARAMS;
    }
    size_t n = grams != NULL ? (size_t)json_object_object_length(grams) : 0;
    if (kinds != NULL) {
        json_object_object_foreach(kinds, kind, of_kind) {
            if (kind_index(r, kind) < 0 || !json_object_is_type(of_kind, json_type_object)) {
                problem_set(problem, problem_len, "must be a known kind's {n-gram: weight}", kind);
                return BT_ERR_BAD_PARAMS;
            }
            n += (size_t)json_object_object_length(of_kind);
        }
    }
    if (n > 0) {
        size_t cap = 16;
        while (cap < n + n / 2 + 16) cap *= 2; /* at most two thirds full */
        if ((r->grams = calloc(cap, sizeof *r->grams)) == NULL) return BT_ERR_NO_MEMORY;
        r->gram_mask = cap - 1;
        /* the n-grams of no kind, then those pointing to a kind (that of most notices holding them) */
        if (!add_grams(r, grams, -1, problem, problem_len)) return BT_ERR_BAD_PARAMS;
        if (kinds != NULL) {
            json_object_object_foreach(kinds, k, of) {
                if (!add_grams(r, of, kind_index(r, k), problem, problem_len)) return BT_ERR_BAD_PARAMS;
            }
        }
    }
    r->has_model = 1;
    return BT_OK;
}

/* ---- the index ---- */

/* Whether an entry adds to a text's evidence (the scored index's entries). */
static int is_scored(const entry *e)
{
    return e->cls == E_PHRASE || e->cls == E_LABEL || e->cls == E_NEG || e->cls == E_REASON || e->cls == E_NAME;
}

/* Gives each distinct part after the first (of a scored entry) an id
 * (entry.part_id), so that a scan can remember where each occurs. A
 * quadratic search, once, over a few hundred parts. BT_OK or
 * BT_ERR_NO_MEMORY. */
static bt_err number_later_parts(bt_classify_rules *r)
{
    size_t total = 1;
    for (size_t k = 0; k < r->n_entries; k++) total += r->entries[k].n_parts;
    r->n_part_ids = 0;
    r->part_text = malloc(total * sizeof *r->part_text);
    r->part_text_len = malloc(total * sizeof *r->part_text_len);
    if (r->part_text == NULL || r->part_text_len == NULL) return BT_ERR_NO_MEMORY;
    for (size_t k = 0; k < r->n_entries; k++) {
        entry *e = &r->entries[k];
        for (size_t p = 1; p < e->n_parts && is_scored(e); p++) {
            uint32_t id = (uint32_t)r->n_part_ids;
            for (size_t j = 0; j <= k && id == r->n_part_ids; j++) {
                const entry *f = &r->entries[j];
                for (size_t q = 1; q < f->n_parts && is_scored(f) && (j < k || q < p); q++)
                    if (f->part_len[q] == e->part_len[p] && memcmp(f->part[q], e->part[p], e->part_len[p]) == 0) {
                        id = f->part_id[q];
                        break;
                    }
            }
            e->part_id[p] = id;
            if (id == r->n_part_ids) {
                r->part_text[id] = e->part[p];
                r->part_text_len[id] = e->part_len[p];
                r->n_part_ids++;
            }
        }
    }
    return BT_OK;
}

static void index_free(ac_index *a)
{
    free(a->nodes);
    free(a->outs);
    free(a->edge_byte);
    free(a->edge_to);
    free(a->out);
    free(a->out_tag);
    free(a->dense);
    memset(a, 0, sizeof *a);
}

/* Fills r->heads from r->entries. BT_OK or BT_ERR_NO_MEMORY. */
static bt_err heads_build(bt_classify_rules *r)
{
    if ((r->heads = calloc(r->n_entries + 1, sizeof *r->heads)) == NULL) return BT_ERR_NO_MEMORY;
    for (size_t k = 0; k < r->n_entries; k++) {
        const entry *e = &r->entries[k];
        r->heads[k] = (entry_head){.langs = e->langs, .len0 = (uint16_t)e->part_len[0], .idx = (uint16_t)e->idx,
                                   .bound0 = e->bound[0], .n_parts = (uint8_t)e->n_parts,
                                   .whole_word = (uint8_t)e->whole_word};
    }
    return BT_OK;
}

/* The keys of each index: key k's bytes, or 0 when k is not in it (else
 * KEY_OTHER, or what the scan needs to know of it without reading it). */
enum { KEY_OTHER = 1, KEY_CONCEPT, KEY_LATER };
typedef int (*index_key)(const bt_classify_rules *r, size_t k, const char **bytes, size_t *len);

static int first_part(const entry *e, int wanted, const char **bytes, size_t *len)
{
    *bytes = e->part[0];
    *len = e->part_len[0];
    return wanted;
}

static int key_cues(const bt_classify_rules *r, size_t k, const char **bytes, size_t *len)
{
    const entry *e = &r->entries[k];
    return first_part(e, e->cls == E_CUE, bytes, len);
}

static int key_facts(const bt_classify_rules *r, size_t k, const char **bytes, size_t *len)
{
    const entry *e = &r->entries[k];
    return first_part(e, (e->cls == E_UNIT || e->cls == E_MONTH || e->cls == E_MONTHWORD) && e->n_parts == 1,
                      bytes, len);
}

/* The one walk over a text finds what is scored and the concepts. */
static int key_scored_or_later(const bt_classify_rules *r, size_t k, const char **bytes, size_t *len)
{
    if (k < r->n_entries) {
        const entry *e = &r->entries[k];
        return first_part(e, e->cls == E_CONCEPT ? KEY_CONCEPT : is_scored(e) ? KEY_OTHER : 0, bytes, len);
    }
    *bytes = r->part_text[k - r->n_entries];
    *len = r->part_text_len[k - r->n_entries];
    return KEY_LATER;
}

/* s's child by byte c, 0 for none (a walk down the trie). */
static uint32_t ac_child(const ac_index *a, uint32_t s, unsigned char c)
{
    if (s == 0) return a->root[c];
    const ac_node *nd = &a->nodes[s];
    if (nd->n_edges <= 1) return nd->only_byte == c ? nd->only_to : 0;
    uint32_t lo = nd->edge_first, hi = nd->edge_first + nd->n_edges;
    while (hi - lo > 8) { /* the edges are sorted by byte: halve a long list, scan a short one */
        uint32_t mid = lo + (hi - lo) / 2;
        if (a->edge_byte[mid] <= c) lo = mid;
        else hi = mid;
    }
    for (uint32_t k = lo; k < hi && a->edge_byte[k] <= c; k++)
        if (a->edge_byte[k] == c) return a->edge_to[k];
    return 0;
}

/* The node reached from s by byte c, following failure links (the
 * automaton's step). ac_next looks a shallow node's step up inline and
 * leaves a deeper node's to ac_next_deep. */
static uint32_t ac_next_deep(const ac_index *a, uint32_t s, unsigned char c)
{
    while (s != 0) {
        if (s <= a->n_dense) return a->dense[(size_t)(s - 1) * 256 + c];
        uint32_t to = ac_child(a, s, c);
        if (to != 0) return to;
        s = a->nodes[s].fail;
    }
    return a->root[c];
}

static inline uint32_t ac_next(const ac_index *a, uint32_t s, unsigned char c)
{
    if (s - 1 < a->n_dense) return a->dense[(size_t)(s - 1) * 256 + c]; /* s = 0 wraps round */
    return ac_next_deep(a, s, c);
}

#define SHALLOW 2 /* nodes this deep or less are numbered breadth first, the rest depth first */

/* The child of trie node s by byte c, made (number *cap, then counted) if
 * there is none yet. */
static uint32_t trie_child(uint32_t s, uint8_t c, uint32_t *child, uint32_t *sibling, uint8_t *byte, size_t *cap)
{
    uint32_t t = child[s];
    while (t != 0 && byte[t] != c) t = sibling[t];
    if (t == 0) {
        t = (uint32_t)(*cap)++;
        byte[t] = c;
        sibling[t] = child[s];
        child[s] = t;
    }
    return t;
}

/* Builds into *a the index of keys 0 to n_keys - 1 as key() gives them
 * (outputs are key numbers), with WORD_MARK before each word start of a key
 * if marks. BT_OK or BT_ERR_NO_MEMORY (then *a holds
 * nothing to free). */
static bt_err index_build(ac_index *a, const bt_classify_rules *r, size_t n_keys, index_key key, int marks)
{
    const char *kb;
    size_t kl;
    bt_err rc = BT_ERR_NO_MEMORY;
    /* the trie first, children as linked lists: child[] first, sibling[] next */
    size_t cap = 1, total = 1;
    uint32_t *child = NULL, *sibling = NULL, *term = NULL, *queue = NULL, *fill = NULL, *stack = NULL;
    uint8_t *byte = NULL, *depth = NULL;

    memset(a, 0, sizeof *a);
    for (size_t k = 0; k < n_keys; k++)
        if (key(r, k, &kb, &kl)) total += marks ? 2 * kl : kl;
    if (total > UINT32_MAX / 2) return BT_ERR_NO_MEMORY;
    child = calloc(total, sizeof *child);
    sibling = calloc(total, sizeof *sibling);
    byte = calloc(total, sizeof *byte);
    term = calloc(n_keys ? n_keys : 1, sizeof *term);
    queue = calloc(total, sizeof *queue);
    if (child == NULL || sibling == NULL || byte == NULL || term == NULL || queue == NULL) goto done;
    for (size_t k = 0; k < n_keys; k++) {
        if (!key(r, k, &kb, &kl)) continue;
        uint32_t s = 0;
        int ending = k < r->n_entries && r->entries[k].ending; /* may start inside a word: no mark first */
        for (size_t i = 0; i < kl; i++) {
            if (marks && word_start(kb, kl, i) && !(i == 0 && ending))
                s = trie_child(s, WORD_MARK, child, sibling, byte, &cap);
            s = trie_child(s, (uint8_t)kb[i], child, sibling, byte, &cap);
        }
        term[k] = s;
    }

    /* then the flat form, made in breadth-first order (queue[]: a node's
     * failure link, shallower, is complete before the node) but numbered
     * for the scan (fill[old id] = new id): the shallow nodes, where it
     * spends most of its steps, first and together; then each deeper
     * subtree depth first, so that a walk down a chain of single children
     * reads consecutive nodes */
    a->n_nodes = cap;
    if ((a->nodes = calloc(cap, sizeof *a->nodes)) == NULL || (a->outs = calloc(cap, sizeof *a->outs)) == NULL ||
        (a->edge_byte = calloc(cap, 1)) == NULL || (a->edge_to = calloc(cap, sizeof *a->edge_to)) == NULL ||
        (fill = calloc(cap, sizeof *fill)) == NULL || (depth = calloc(cap, 1)) == NULL ||
        (stack = malloc(cap * sizeof *stack)) == NULL)
        goto done;
    size_t head = 0, tail = 0, n_edges = 0, next = 0;
    queue[tail++] = 0;
    while (head < tail) {
        uint32_t u = queue[head++];
        if (depth[u] <= SHALLOW) fill[u] = (uint32_t)next++;
        for (uint32_t v = child[u]; v != 0; v = sibling[v]) {
            depth[v] = depth[u] < UINT8_MAX ? (uint8_t)(depth[u] + 1) : UINT8_MAX;
            queue[tail++] = v;
        }
    }
    for (head = 0; head < tail; head++) {
        size_t top = 0;
        if (depth[queue[head]] == SHALLOW + 1) stack[top++] = queue[head];
        while (top > 0) {
            uint32_t u = stack[--top];
            fill[u] = (uint32_t)next++;
            for (uint32_t v = child[u]; v != 0; v = sibling[v]) stack[top++] = v;
        }
    }
    for (head = 0; head < tail; head++) {
        uint32_t u = queue[head];
        ac_node *nu = &a->nodes[fill[u]];
        nu->edge_first = (uint32_t)n_edges;
        for (uint32_t v = child[u]; v != 0; v = sibling[v]) { /* insert, sorted by byte */
            size_t at = n_edges++;
            while (at > nu->edge_first && a->edge_byte[at - 1] > byte[v]) {
                a->edge_byte[at] = a->edge_byte[at - 1];
                a->edge_to[at] = a->edge_to[at - 1];
                at--;
            }
            a->edge_byte[at] = byte[v];
            a->edge_to[at] = fill[v];
        }
        nu->n_edges = (uint16_t)(n_edges - nu->edge_first);
        if (nu->n_edges == 1) {
            nu->only_to = a->edge_to[nu->edge_first];
            nu->only_byte = a->edge_byte[nu->edge_first];
        }
        for (uint32_t k = nu->edge_first; k < nu->edge_first + nu->n_edges; k++) {
            uint32_t v = a->edge_to[k];
            if (head == 0) {
                a->root[a->edge_byte[k]] = v;
                a->nodes[v].fail = 0;
            } else {
                a->nodes[v].fail = ac_next(a, nu->fail, a->edge_byte[k]);
            }
        }
    }
    for (size_t k = 0; k < n_keys; k++) term[k] = fill[term[k]];
    size_t n_dense = 0; /* the shallow nodes are nodes 1 to n_dense (numbered first, breadth first) */
    for (head = 1; head < tail && depth[queue[head]] <= SHALLOW; head++) n_dense++;
    if (n_dense > 0 && (a->dense = malloc(n_dense * 256 * sizeof *a->dense)) == NULL) goto done;
    for (uint32_t d = 1; d <= n_dense; d++) /* (a->n_dense is still 0: ac_next searches) */
        for (int c = 0; c < 256; c++) { /* a child, else the failure link's step */
            uint32_t to = ac_child(a, d, (unsigned char)c);
            a->dense[(size_t)(d - 1) * 256 + (size_t)c] = to != 0 ? to : ac_next(a, a->nodes[d].fail, (unsigned char)c);
        }
    a->n_dense = (uint32_t)n_dense;

    /* outputs: keys grouped by node, in key order */
    size_t n_out = 0;
    for (size_t k = 0; k < n_keys; k++)
        if (key(r, k, &kb, &kl)) {
            if (a->outs[term[k]].out_n == UINT16_MAX) goto done; /* 65,535 entries of the same bytes */
            a->outs[term[k]].out_n++;
            n_out++;
        }
    for (head = 1; head < tail; head++) { /* breadth-first: the failure target is done */
        uint32_t q = fill[queue[head]], f = a->nodes[q].fail;
        a->outs[q].dict = a->outs[f].out_n > 0 ? f : a->outs[f].dict;
        a->nodes[q].has_out = a->outs[q].out_n > 0 || a->outs[q].dict != 0;
    }
    memset(fill, 0, cap * sizeof *fill); /* from here, how many outputs of each node are placed */
    if ((a->out = calloc(n_out ? n_out : 1, sizeof *a->out)) == NULL ||
        (a->out_tag = calloc(n_out ? n_out : 1, 1)) == NULL)
        goto done;
    for (size_t u = 0, at = 0; u < cap; u++) {
        a->outs[u].out_first = (uint32_t)at;
        at += a->outs[u].out_n;
    }
    for (size_t k = 0; k < n_keys; k++) {
        int tag = key(r, k, &kb, &kl);
        if (tag) {
            uint32_t u = term[k], o = a->outs[u].out_first + fill[u]++;
            a->out[o] = (uint32_t)k;
            a->out_tag[o] = (uint8_t)tag;
        }
    }
    rc = BT_OK;
done:
    if (rc != BT_OK) index_free(a);
    free(child);
    free(sibling);
    free(byte);
    free(term);
    free(queue);
    free(fill);
    free(depth);
    free(stack);
    return rc;
}

void bt_classify_rules_free(bt_classify_rules *r)
{
    if (r == NULL) return;
    for (size_t i = 0; i < r->n_platforms; i++) {
        for (size_t j = 0; j < r->platforms[i].n_hosts; j++) free(r->platforms[i].hosts[j]);
        for (size_t j = 0; j < r->platforms[i].n_paths; j++) regfree(&r->platforms[i].paths[j].re);
        free(r->platforms[i].hosts);
        free(r->platforms[i].paths);
    }
    for (size_t i = 0; i < r->n_entries; i++) free(r->entries[i].norm);
    index_free(&r->scored);
    index_free(&r->cues);
    index_free(&r->facts);
    free(r->grams);
    free(r->part_text);
    free(r->part_text_len);
    free(r->platforms);
    free(r->reasons);
    free(r->entries);
    free(r->heads);
    free(r);
}

bt_err bt_classify_rules_parse(bt_classify_rules **out, const char *json, size_t len, char *problem,
                               size_t problem_len)
{
    bt_err rc = BT_ERR_BAD_PARAMS;
    bt_classify_rules *r = NULL;
    json_tokener *tok = NULL;
    json_object *root = NULL, *x = NULL;

    *out = NULL;
    if (problem != NULL && problem_len > 0) problem[0] = '\0';
    if (json == NULL || len > INT_MAX) return BT_ERR_BAD_PARAMS;
    if ((tok = json_tokener_new_ex(64)) == NULL) return BT_ERR_NO_MEMORY;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    root = json_tokener_parse_ex(tok, json, (int)len);
    if (root == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        (json_tokener_get_parse_end(tok) < len && json[json_tokener_get_parse_end(tok)] != '\0' &&
         strspn(json + json_tokener_get_parse_end(tok), " \t\r\n") != len - json_tokener_get_parse_end(tok))) {
        size_t at = json_tokener_get_parse_end(tok), line = 1;
        for (size_t i = 0; i < at && i < len; i++) line += json[i] == '\n';
        char where[48];
        snprintf(where, sizeof where, "rules, line %zu", line);
        problem_set(problem, problem_len, json_tokener_error_desc(json_tokener_get_error(tok)), where);
        rc = BT_ERR_BAD_JSON;
        goto done;
    }
    if ((r = calloc(1, sizeof *r)) == NULL) {
        rc = BT_ERR_NO_MEMORY;
        goto done;
    }
    static const char *const top[] = {"version", "about", "kind_priority", "dominant_kinds", "scoring",
                                      "platforms", "kinds", "labels", "negative", "concepts", "reasons",
                                      "facts", "appeal_forms", "mail_senders", "model", NULL};
    static const char *const scoring[] = {"phrase", "label", "path", "short_text", "short_text_bytes", "negative",
                                          "quoted", "foreign_host", "threshold", NULL};
    if (!keys_known(root, top, problem, problem_len, "rules")) goto done;
    if (!json_object_is_type(root, json_type_object) || !json_object_object_get_ex(root, "version", &x) ||
        !json_object_is_type(x, json_type_int) || json_object_get_int(x) != 1) {
        problem_set(problem, problem_len, "needs \"version\": 1", "rules");
        goto done;
    }
    if (!json_object_object_get_ex(root, "kind_priority", &x) || !json_object_is_type(x, json_type_array) ||
        json_object_array_length(x) == 0 || json_object_array_length(x) > KINDS_MAX) {
        problem_set(problem, problem_len, "needs \"kind_priority\": [kinds]", "rules");
        goto done;
    }
    for (size_t i = 0; i < json_object_array_length(x); i++) {
        const char *k = json_object_get_string(json_object_array_get_idx(x, i));
        if (k == NULL || strlen(k) >= sizeof r->kinds[0] || kind_index(r, k) >= 0) {
            problem_set(problem, problem_len, "kinds must be distinct short strings", "kind_priority");
            goto done;
        }
        snprintf(r->kinds[r->n_kinds], sizeof r->kinds[0], "%s", k);
        char level[48], alone[48];
        snprintf(level, sizeof level, "level_%s", k);
        snprintf(alone, sizeof alone, "%s_alone", k);
        r->level_feature[r->n_kinds] = r->who_feature[r->n_kinds] = -1;
        for (int fi = 0; fi < BT_CLASSIFY_FEATURES; fi++) {
            if (strcmp(bt_classify_feature_names[fi], level) == 0) r->level_feature[r->n_kinds] = fi;
            if (strcmp(bt_classify_feature_names[fi], alone) == 0) r->who_feature[r->n_kinds] = fi;
        }
        r->n_kinds++;
    }
    /* banned from a group or from editing is restricted there, locked for security reasons is a
     * checkpoint, refused "this action" while restricted is action_blocked (docs/RULES.md, "Concepts") */
    r->banned = 0;
    for (const char *const *k = (const char *const[]){"suspension", "disabled", NULL}; *k != NULL; k++)
        if (kind_index(r, *k) >= 0) r->banned |= 1u << kind_index(r, *k);
    for (int c = 0; c < C_STATE; c++) {
        r->reframe_to[c] = -1;
        r->reframe_from[c] = r->banned;
    }
    r->reframe_to[C_PLACE] = kind_index(r, "temporary_restriction");
    r->reframe_to[C_SECURITY] = kind_index(r, "checkpoint");
    r->reframe_to[C_ATTEMPTS] = kind_index(r, "action_blocked"); /* locked after too many failed logins */
    r->reframe_to[C_SCOPE] = kind_index(r, "temporary_restriction");
    r->reframe_to[C_ACTION] = kind_index(r, "action_blocked");
    /* a bare "rejected" answers an appeal only in a text that speaks of one */
    r->needs_appeal = 0;
    for (const char *const *k = (const char *const[]){"appeal_rejected", "appeal_received", NULL}; *k != NULL; k++)
        if (kind_index(r, *k) >= 0) r->needs_appeal |= 1u << kind_index(r, *k);
    if (kind_index(r, "temporary_restriction") >= 0) {
        r->reframe_from[C_ATTEMPTS] |= 1u << kind_index(r, "temporary_restriction");
        r->reframe_from[C_ACTION] |= 1u << kind_index(r, "temporary_restriction");
    }
    /* banned forever is disabled */
    r->suspension = kind_index(r, "suspension");
    r->checkpoint = kind_index(r, "checkpoint");
    r->reinstated = kind_index(r, "appeal_reinstated");
    r->disabled = kind_index(r, "disabled");
    /* locked for 15 minutes is a rate limit, not a sanction */
    r->throttle_to = kind_index(r, "action_blocked");
    r->throttle_from = 0;
    for (const char *const *k = (const char *const[]){"suspension", "temporary_restriction", "disabled", NULL}; *k != NULL; k++)
        if (kind_index(r, *k) >= 0) r->throttle_from |= 1u << kind_index(r, *k);
    /* "further violations may result in your account being suspended" warns */
    r->threat_to = kind_index(r, "warning");
    r->threat_from = r->throttle_from;
    for (const char *const *k = (const char *const[]){"action_blocked", "checkpoint", NULL}; *k != NULL; k++)
        if (kind_index(r, *k) >= 0) r->threat_from |= 1u << kind_index(r, *k);
    if (json_object_object_get_ex(root, "dominant_kinds", &x)) {
        if (!json_object_is_type(x, json_type_array)) {
            problem_set(problem, problem_len, "must be an array of kinds", "dominant_kinds");
            goto done;
        }
        for (size_t i = 0; i < json_object_array_length(x); i++) {
            const char *k = json_object_get_string(json_object_array_get_idx(x, i));
            int ki = k ? kind_index(r, k) : -1;
            if (ki < 0) {
                problem_set(problem, problem_len, "a kind missing from kind_priority", "dominant_kinds");
                goto done;
            }
            r->dominant[ki] = 1;
        }
    }
    json_object *sc = NULL;
    json_object_object_get_ex(root, "scoring", &sc);
    if (!keys_known(sc, scoring, problem, problem_len, "scoring")) goto done;
    r->w_phrase = get_int(sc, "phrase", 3);
    r->w_label = get_int(sc, "label", 2);
    r->w_path = get_int(sc, "path", 3);
    r->w_short = get_int(sc, "short_text", 1);
    r->short_bytes = (size_t)get_int(sc, "short_text_bytes", 120);
    r->w_neg = get_int(sc, "negative", 2);
    r->w_quoted = get_int(sc, "quoted", 3);
    r->w_foreign = get_int(sc, "foreign_host", 2);
    r->threshold = get_int(sc, "threshold", 3);
    if (r->threshold < 1) r->threshold = 1;

    if (!json_object_object_get_ex(root, "platforms", &x) || (rc = parse_platforms(r, x, problem, problem_len)) != BT_OK) {
        if (x == NULL) problem_set(problem, problem_len, "needs \"platforms\"", "rules");
        if (rc == BT_OK) rc = BT_ERR_BAD_PARAMS;
        goto done;
    }
    if (!json_object_object_get_ex(root, "kinds", &x)) {
        problem_set(problem, problem_len, "needs \"kinds\"", "rules");
        rc = BT_ERR_BAD_PARAMS;
        goto done;
    }
    if ((rc = add_kind_lists(r, x, E_PHRASE, problem, problem_len, "kinds")) != BT_OK) goto done;
    x = NULL;
    json_object_object_get_ex(root, "labels", &x);
    if ((rc = add_kind_lists(r, x, E_LABEL, problem, problem_len, "labels")) != BT_OK) goto done;
    x = NULL;
    if (json_object_object_get_ex(root, "negative", &x) &&
        (rc = add_lang_lists(r, x, E_NEG, 0, problem, problem_len, "negative")) != BT_OK)
        goto done;
    x = NULL;
    json_object_object_get_ex(root, "concepts", &x);
    if ((rc = parse_concepts(r, x, problem, problem_len)) != BT_OK) goto done;
    x = NULL;
    json_object_object_get_ex(root, "model", &x);
    if ((rc = parse_model(r, x, problem, problem_len)) != BT_OK) goto done;
    x = NULL;
    json_object_object_get_ex(root, "reasons", &x);
    if ((rc = parse_reasons(r, x, problem, problem_len)) != BT_OK) goto done;
    x = NULL;
    json_object_object_get_ex(root, "facts", &x);
    if ((rc = parse_facts(r, x, problem, problem_len)) != BT_OK) goto done;
    for (size_t k = 0; k < r->n_entries; k++)
        if (r->entries[k].cls == E_MONTH && r->entries[k].part_len[0] > r->month_max)
            r->month_max = r->entries[k].part_len[0];
    if ((rc = heads_build(r)) != BT_OK || (rc = number_later_parts(r)) != BT_OK ||
        (rc = index_build(&r->scored, r, r->n_entries + r->n_part_ids, key_scored_or_later, 1)) != BT_OK ||
        (rc = index_build(&r->cues, r, r->n_entries, key_cues, 0)) != BT_OK ||
        (rc = index_build(&r->facts, r, r->n_entries, key_facts, 0)) != BT_OK)
        goto done;
    *out = r;
    r = NULL;
    rc = BT_OK;
done:
    bt_classify_rules_free(r);
    json_object_put(root);
    json_tokener_free(tok);
    return rc;
}

static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;
static bt_classify_rules *builtin;
static bt_err builtin_err = BT_ERR_INTERNAL;

static void builtin_load(void)
{
    bt_err rc = bt_classify_rules_parse(&builtin, (const char *)bt_embed_rules, bt_embed_rules_len, NULL, 0);
    builtin_err = rc == BT_ERR_NO_MEMORY ? rc : rc != BT_OK ? BT_ERR_INTERNAL : BT_OK;
}

bt_err bt_classify_rules_builtin(const bt_classify_rules **out)
{
    *out = NULL;
    if (pthread_once(&builtin_once, builtin_load) != 0) return BT_ERR_INTERNAL;
    *out = builtin;
    return builtin_err;
}

const char *bt_classify_rules_json(size_t *len)
{
    if (len != NULL) *len = bt_embed_rules_len;
    return (const char *)bt_embed_rules;
}

/* ---- matching ---- */

/* The first occurrence of needle in hay (memmem is not everywhere). */
static const char *find_bytes(const char *hay, size_t hn, const char *needle, size_t nn)
{
    if (nn == 0 || nn > hn) return NULL;
    const char *end = hay + (hn - nn) + 1;
    for (const char *p = hay; p < end;) {
        p = memchr(p, needle[0], (size_t)(end - p));
        if (p == NULL) return NULL;
        if (p[nn - 1] == needle[nn - 1] && memcmp(p, needle, nn) == 0) return p;
        p++;
    }
    return NULL;
}

/* Whether a part found at t[at, end) with the BOUND_ bits bound starts
 * (and if right, also ends) at a word boundary where it needs one. */
static int boundary_ok(const char *t, size_t n, size_t at, size_t end, unsigned bound, int right)
{
    if ((bound & BOUND_LEFT) && is_alnum(cp_before(t, at))) return 0;
    if ((bound & BOUND_KANA) && is_katakana(cp_before(t, at))) return 0;
    return !right || !(bound & BOUND_RIGHT) || !is_alnum(cp_at(t, n, end));
}

/* Whether the three bytes at u are a letter of Thai or Lao (U+0E00-0EFF),
 * Burmese (U+1000-109F) or Khmer (U+1780-17FF): scripts written without
 * spaces between words, where a space parts clauses and sentences. */
static inline int clause_spaced(const unsigned char *u)
{
    if (u[0] == 0xE0) return u[1] >= 0xB8 && u[1] <= 0xBB;
    return u[0] == 0xE1 &&
           (u[1] == 0x80 || u[1] == 0x81 || (u[1] == 0x82 && u[2] <= 0x9F) || u[1] == 0x9E || u[1] == 0x9F);
}

/* Whether a sentence ends at t[i]: ". ! ? ;" before a space, a line break or
 * the end, a line break, a script's own full stop or question mark ("。",
 * "！", "？", "؟", "۔", "।", "॥", "৷", "։", "።", "။", "។"), or a space between
 * two letters of a script that spaces clauses (clause_spaced). 2 if it ends
 * a question, 3 a line break. */
static const uint8_t may_end_sentence[256] = {[' '] = 1,  ['\n'] = 1, ['.'] = 1,  ['!'] = 1,  ['?'] = 1,
                                               [';'] = 1,  [0xD6] = 1, [0xD8] = 1, [0xDB] = 1, [0xE0] = 1,
                                               [0xE1] = 1, [0xE3] = 1, [0xEF] = 1};
static inline int sentence_end(const char *t, size_t n, size_t i)
{
    const unsigned char *u = (const unsigned char *)t;
    if (!may_end_sentence[u[i]]) return 0;
    char c = t[i];
    if (c == '\n') return 3;
    if (c == ' ') /* between two letters of a script that spaces clauses, not words */
        return i >= 3 && (u[i - 1] & 0xC0) == 0x80 && i + 3 < n && clause_spaced(u + i - 3) &&
               clause_spaced(u + i + 1);
    if (c == '.' || c == '!' || c == '?' || c == ';')
        return i + 1 >= n || t[i + 1] == ' ' || t[i + 1] == '\n' ? 1 + (c == '?') : 0;
    if (i + 1 >= n) return 0;
    unsigned b = u[i + 1], d = i + 2 < n ? u[i + 2] : 0;
    switch (u[i]) {
    case 0xD8: return b == 0x9F ? 2 : 0;                                      /* ؟ */
    case 0xDB: return b == 0x94;                                              /* ۔ (Urdu) */
    case 0xD6: return b == 0x89;                                              /* ։ (Armenian) */
    case 0xE0: return (b == 0xA5 && (d == 0xA4 || d == 0xA5)) || (b == 0xA7 && d == 0xB7); /* । ॥ ৷ */
    case 0xE1: return (b == 0x8D && d == 0xA2) || (b == 0x81 && d == 0x8B) || (b == 0x9F && d == 0x94); /* ። ။ ។ */
    case 0xE3: return b == 0x80 && d == 0x82;                                 /* 。 */
    default: return b == 0xBC && d == 0x9F ? 2 : b == 0xBC && d == 0x81;      /* 0xEF: ？ ！ */
    }
}

/* Whether the gap t[from, to) is what "*" may skip. */
static int gap_ok(const char *t, size_t from, size_t to)
{
    size_t chars = 0;
    for (size_t i = from; i < to; i++) {
        unsigned char c = (unsigned char)t[i];
        if (c == '.' && i > from && t[i - 1] >= '0' && t[i - 1] <= '9') continue; /* "31. oktober" */
        if (c == ';' || sentence_end(t, to, i)) return 0; /* a stop, not the dot of "x.com" */
        if ((c & 0xC0) != 0x80) chars++;
    }
    return chars <= WILDCARD_CHARS + 2;
}

/* Where a scan remembers, for each later part (by part_id), the first place
 * at or after `from` where it occurs in the whole text (at, SIZE_MAX for
 * nowhere), and the last place where it starts (last, SIZE_MAX for
 * nowhere). */
typedef struct {
    size_t from, at, last;
} part_seen;

/* The first occurrence of e's part k in t[q, limit) (q < limit <= n), or
 * NULL: the same as find_bytes there. With seen (a scan's memory, NULL for
 * none), a search that does not go back before the last one for the same
 * part is answered from it or goes on from it, so that each part costs
 * about one pass over the text however many entries and places ask for it;
 * a search that goes back looks in the window only. */
static const char *find_part(const char *t, size_t n, const entry *e, size_t k, size_t q, size_t limit,
                             part_seen *seen)
{
    part_seen *ps = seen != NULL ? &seen[e->part_id[k]] : NULL;
    if (ps == NULL || q < ps->from) return find_bytes(t + q, limit - q, e->part[k], e->part_len[k]);
    if (ps->at < q) { /* went past: look on from q, unless it is nowhere after */
        const char *h = ps->last >= q ? find_bytes(t + q, n - q, e->part[k], e->part_len[k]) : NULL;
        ps->from = q;
        ps->at = h != NULL ? (size_t)(h - t) : SIZE_MAX;
    }
    return ps->at != SIZE_MAX && ps->at + e->part_len[k] <= limit ? t + ps->at : NULL;
}

/* Whether e matches t[0, n) with its first part at s (which the caller
 * found there); on a match sets *end to where the last part ends and
 * returns 1. seen: as for find_part. With seen, returns -1 when a later
 * part occurs nowhere after the first part: then no later start can match
 * either. */
static int match_at(const char *t, size_t n, const entry *e, size_t s, size_t *end, part_seen *seen)
{
    size_t cur = s + e->part_len[0];
    if (seen != NULL)
        for (size_t k = 1; k < e->n_parts; k++)
            if (seen[e->part_id[k]].last == SIZE_MAX || seen[e->part_id[k]].last < cur) return -1;
    if (!boundary_ok(t, n, s, cur, e->bound[0], e->n_parts > 1 || e->whole_word)) return 0;
    for (size_t k = 1; k < e->n_parts; k++) {
        size_t limit = cur + (WILDCARD_CHARS + 2) * 4 + e->part_len[k];
        if (limit > n) limit = n;
        size_t q = cur;
        int ok = 0;
        while (q < limit) {
            const char *h = find_part(t, n, e, k, q, limit, seen);
            if (h == NULL) break;
            size_t hs = (size_t)(h - t), he = hs + e->part_len[k];
            q = hs + 1;
            if (!gap_ok(t, cur, hs) || !boundary_ok(t, n, hs, he, e->bound[k], k + 1 < e->n_parts || e->whole_word))
                continue;
            cur = he;
            ok = 1;
            break;
        }
        if (!ok) return 0;
    }
    *end = cur;
    return 1;
}

/* Finds e's parts in t[0, n) at or after from, trying each place its first
 * part occurs (the reference way); on a match sets *start and *end and
 * returns 1. */
static int find_entry(const char *t, size_t n, const entry *e, size_t from, size_t *start, size_t *end)
{
    size_t pos = from;
    while (pos < n) {
        const char *hit = find_bytes(t + pos, n - pos, e->part[0], e->part_len[0]);
        if (hit == NULL) return 0;
        size_t s = (size_t)(hit - t);
        pos = s + 1;
        if (match_at(t, n, e, s, end, NULL) == 1) {
            *start = s;
            return 1;
        }
    }
    return 0;
}

/* The first node with outputs on the dictionary chain of state (0: none). */
static uint32_t outputs_at(const ac_index *a, uint32_t state)
{
    if (!a->nodes[state].has_out) return 0;
    return a->outs[state].out_n > 0 ? state : a->outs[state].dict;
}

/* Calls found(ctx, k, s, end) for each match of an entry k of index a in
 * t[0, n) (first part at s, last part ending at end), in the order in which
 * the first parts end. Entries for which skip(ctx, k) holds are not tried.
 * One pass over t whatever the number of entries: the cost is that of the
 * text plus that of the places where a first part occurs. */
static void index_scan(const ac_index *a, const bt_classify_rules *r, const char *t, size_t n,
                       int (*skip)(void *ctx, uint32_t k), void (*found)(void *ctx, uint32_t k, size_t s, size_t end),
                       void *ctx)
{
    uint32_t state = 0;
    for (size_t i = 0; i < n; i++) {
        state = ac_next(a, state, (unsigned char)t[i]);
        for (uint32_t node = outputs_at(a, state); node != 0; node = a->outs[node].dict) {
            const ac_out *nd = &a->outs[node];
            for (uint32_t o = nd->out_first; o < nd->out_first + nd->out_n; o++) {
                uint32_t k = a->out[o];
                const entry *e = &r->entries[k];
                size_t s = i + 1 - e->part_len[0], end;
                if (!skip(ctx, k) && match_at(t, n, e, s, &end, NULL) == 1) found(ctx, k, s, end);
            }
        }
    }
}

/* ---- URL ---- */

/* Splits url into a lower-cased host and a path (both into caller buffers).
 * Returns 1 when url has a scheme and a host. */
static int url_split(const char *url, char *host, size_t host_len, char *path, size_t path_len)
{
    host[0] = path[0] = '\0';
    if (url == NULL) return 0;
    const char *p = strstr(url, "://");
    if (p == NULL) return 0;
    p += 3;
    size_t auth = strcspn(p, "/?#");
    const char *at = memchr(p, '@', auth);
    const char *h = at ? at + 1 : p;
    size_t hl = auth - (size_t)(h - p);
    const char *colon = memchr(h, ':', hl);
    if (colon != NULL) hl = (size_t)(colon - h);
    while (hl > 0 && h[hl - 1] == '.') hl--;
    if (hl == 0 || hl >= host_len) return 0;
    for (size_t i = 0; i < hl; i++) host[i] = (char)(h[i] >= 'A' && h[i] <= 'Z' ? h[i] - 'A' + 'a' : h[i]);
    host[hl] = '\0';
    const char *q = p + auth;
    size_t pl = *q == '/' ? strcspn(q, "?#") : 0;
    if (pl >= path_len) pl = path_len - 1;
    memcpy(path, pl ? q : "/", pl ? pl : 1);
    path[pl ? pl : 1] = '\0';
    return 1;
}

static int host_matches(const char *host, const char *rule)
{
    size_t hl = strlen(host), rl = strlen(rule);
    if (hl == rl) return strcmp(host, rule) == 0;
    return hl > rl && host[hl - rl - 1] == '.' && strcmp(host + hl - rl, rule) == 0;
}

/* The platform whose hosts include host (or a domain above it); -1 none. */
static int platform_by_host(const bt_classify_rules *rules, const char *host)
{
    for (size_t p = 0; p < rules->n_platforms; p++)
        for (size_t h = 0; h < rules->platforms[p].n_hosts; h++)
            if (host_matches(host, rules->platforms[p].hosts[h])) return (int)p;
    return -1;
}

const char *bt_classify_platform_of(const bt_classify_rules *rules, const char *url)
{
    char host[256], path[2048];
    int p = url != NULL && url_split(url, host, sizeof host, path, sizeof path) ? platform_by_host(rules, host) : -1;
    return p >= 0 ? rules->platforms[p].id : NULL;
}

/* ---- facts ---- */

static size_t skip_spaces(const char *t, size_t n, size_t i)
{
    while (i < n && t[i] == ' ') i++;
    return i;
}

/* Reads ASCII digits at t[i]; returns how many (0: none), value in *v. */
static size_t read_num(const char *t, size_t n, size_t i, long *v)
{
    size_t k = 0;
    long x = 0;
    if (i > 0 && t[i - 1] >= '0' && t[i - 1] <= '9') return 0;
    while (i + k < n && t[i + k] >= '0' && t[i + k] <= '9' && k < 9) {
        x = x * 10 + (t[i + k] - '0');
        k++;
    }
    if (i + k < n && t[i + k] >= '0' && t[i + k] <= '9') return 0;
    *v = x;
    return k;
}

/* Matches an entry of class cls (one part only) exactly at t[i]; returns
 * its end (0: none), the longest one, the first in entry order of that
 * length. ref: the reference way, trying every entry; otherwise a walk down
 * the facts index, as deep as t[i...] goes. */
static size_t entry_at(const bt_classify_rules *r, const char *t, size_t n, size_t i, entry_class cls, int *idx,
                       int ref)
{
    size_t best = 0;
    if (ref) {
        for (size_t k = 0; k < r->n_entries; k++) {
            const entry *e = &r->entries[k];
            if (e->cls != cls || e->n_parts != 1 || e->part_len[0] > n - i) continue;
            if (memcmp(t + i, e->part[0], e->part_len[0]) != 0) continue;
            size_t end = i + e->part_len[0];
            if (!boundary_ok(t, n, i, end, e->bound[0] & BOUND_RIGHT, 1)) continue; /* its right end only */
            if (end > best) {
                best = end;
                *idx = e->idx;
            }
        }
        return best;
    }
    const ac_index *a = &r->facts;
    uint32_t node = 0;
    for (size_t j = i; j < n && (node = ac_child(a, node, (unsigned char)t[j])) != 0; j++) {
        const ac_out *nd = &a->outs[node];
        for (uint32_t o = nd->out_first; o < nd->out_first + nd->out_n; o++) {
            const entry *e = &r->entries[a->out[o]];
            if (e->cls != cls || !boundary_ok(t, n, i, j + 1, e->bound[0] & BOUND_RIGHT, 1)) continue;
            best = j + 1;
            *idx = e->idx;
            break;
        }
    }
    return best;
}

static int valid_date(long y, long m, long d)
{
    static const int mdays[12] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return y >= 1990 && y <= 2199 && m >= 1 && m <= 12 && d >= 1 && d <= mdays[m - 1];
}

static void add_date(bt_classify_facts *f, long y, long m, long d)
{
    char iso[32]; /* YYYY-MM-DD from a valid_date(); room for any long, so no compiler doubts it */
    snprintf(iso, sizeof iso, "%04ld-%02ld-%02ld", y, m, d);
    for (size_t i = 0; i < f->n_dates; i++)
        if (strcmp(f->dates[i], iso) == 0) return;
    if (f->n_dates < BT_CLASSIFY_DATES_MAX) {
        memcpy(f->dates[f->n_dates], iso, sizeof f->dates[0] - 1);
        f->dates[f->n_dates++][sizeof f->dates[0] - 1] = '\0';
    }
}

/* Skips separators allowed inside a written date: spaces, ',', '.', "de",
 * "of", ordinal suffixes. */
static size_t skip_date_glue(const char *t, size_t n, size_t i)
{
    for (;;) {
        size_t j = skip_spaces(t, n, i);
        if (j < n && (t[j] == ',' || t[j] == '.')) j++;
        j = skip_spaces(t, n, j);
        static const char *const glue[] = {"de ", "of ", "st ", "nd ", "rd ", "th ", "er ", "del "};
        int moved = 0;
        for (size_t g = 0; g < sizeof glue / sizeof glue[0]; g++) {
            size_t gl = strlen(glue[g]);
            if (j + gl <= n && memcmp(t + j, glue[g], gl) == 0) {
                j += gl;
                moved = 1;
                break;
            }
        }
        if (!moved) return j;
        i = j;
    }
}

/* Matches a separator at t[i] from a list; returns the index after it or 0. */
static size_t sep_at(const char *t, size_t n, size_t i, const char *const *seps, size_t n_seps)
{
    for (size_t s = 0; s < n_seps; s++) {
        size_t l = strlen(seps[s]);
        if (i + l <= n && memcmp(t + i, seps[s], l) == 0) return skip_spaces(t, n, i + l);
    }
    return 0;
}

/* Tries the numeric date forms at t[i]; returns the end of the date or 0. */
static size_t numeric_date_at(const char *t, size_t n, size_t i, int day_first, bt_classify_facts *f)
{
    static const char *const ymd1[] = {"-", "/", ".", "年", "년"};
    static const char *const ymd2[] = {"-", "/", ".", "月", "월"};
    long a, b, c;
    size_t k = read_num(t, n, i, &a), j, k2, k3;
    if (k == 4) { /* Y-M-D, Y年M月D日, Y년 M월 D일 */
        j = skip_spaces(t, n, i + k);
        if ((j = sep_at(t, n, j, ymd1, 5)) == 0 || (k2 = read_num(t, n, j, &b)) == 0 || k2 > 2) return 0;
        j = skip_spaces(t, n, j + k2);
        if ((j = sep_at(t, n, j, ymd2, 5)) == 0 || (k3 = read_num(t, n, j, &c)) == 0 || k3 > 2) return 0;
        if (!valid_date(a, b, c)) return 0;
        add_date(f, a, b, c);
        return j + k3;
    }
    if (k == 1 || k == 2) { /* D/M/Y or M/D/Y */
        j = i + k;
        if (j >= n) return 0;
        char sep = t[j];
        if (sep != '/' && sep != '.' && sep != '-') return 0;
        if ((k2 = read_num(t, n, j + 1, &b)) == 0 || k2 > 2) return 0;
        j += 1 + k2;
        if (j >= n || t[j] != sep || read_num(t, n, j + 1, &c) != 4) return 0;
        long d = day_first ? a : b, m = day_first ? b : a;
        if (m > 12 && d <= 12) { long s = m; m = d; d = s; }
        if (!valid_date(c, m, d)) return 0;
        add_date(f, c, m, d);
        return j + 5;
    }
    return 0;
}

/* "31 october 2022", "31. oktober 2022", "31 de octubre de 2022",
 * "ngày 31 tháng 10 năm 2022". */
static size_t day_month_year_at(const bt_classify_rules *r, const char *t, size_t n, size_t i, bt_classify_facts *f,
                                int ref)
{
    long d, m = 0, y;
    int month = 0;
    size_t k = read_num(t, n, i, &d), j, e, k2;
    if (k == 0 || k > 2) return 0;
    j = skip_date_glue(t, n, i + k);
    if ((e = entry_at(r, t, n, j, E_MONTH, &month, ref)) != 0) {
        m = month;
        j = e;
    } else if ((e = entry_at(r, t, n, j, E_MONTHWORD, &month, ref)) != 0) {
        j = skip_spaces(t, n, e);
        if ((k2 = read_num(t, n, j, &m)) == 0 || k2 > 2) return 0;
        j += k2;
    } else {
        return 0;
    }
    j = skip_date_glue(t, n, j);
    size_t probe = j;
    while (probe < n && probe < j + 8 && !(t[probe] >= '0' && t[probe] <= '9')) probe++; /* "năm ", "г." */
    if (read_num(t, n, probe, &y) != 4 || !valid_date(y, m, d)) return 0;
    add_date(f, y, m, d);
    return probe + 4;
}

/* "october 31, 2022". */
static size_t month_day_year_at(const bt_classify_rules *r, const char *t, size_t n, size_t i, bt_classify_facts *f,
                                int ref)
{
    int month = 0;
    long d, y;
    if (i > 0 && is_alnum(cp_before(t, i))) return 0;
    size_t e = entry_at(r, t, n, i, E_MONTH, &month, ref), k;
    if (e == 0) return 0;
    size_t j = skip_spaces(t, n, e);
    if ((k = read_num(t, n, j, &d)) == 0 || k > 2) return 0;
    j = skip_date_glue(t, n, j + k);
    if (read_num(t, n, j, &y) != 4 || !valid_date(y, month, d)) return 0;
    add_date(f, y, month, d);
    return j + 4;
}

static int cue_skip(void *ctx, uint32_t k)
{
    (void)k;
    return *(int *)ctx;
}

static void cue_found(void *ctx, uint32_t k, size_t s, size_t end)
{
    (void)k;
    (void)s;
    (void)end;
    *(int *)ctx = 1;
}

/* Whether a days-left cue is within CUE_WINDOW bytes of t[from, to) (the
 * window is searched as a text of its own). */
static int cue_near(const bt_classify_rules *r, const char *t, size_t n, size_t from, size_t to, int ref)
{
    size_t lo = from > CUE_WINDOW ? from - CUE_WINDOW : 0, hi = to + CUE_WINDOW < n ? to + CUE_WINDOW : n;
    int seen = 0;
    if (!ref) {
        index_scan(&r->cues, r, t + lo, hi - lo, cue_skip, cue_found, &seen);
        return seen;
    }
    for (size_t k = 0; k < r->n_entries; k++) {
        size_t s, e;
        if (r->entries[k].cls == E_CUE && find_entry(t + lo, hi - lo, &r->entries[k], 0, &s, &e)) return 1;
    }
    return 0;
}

static void extract_facts(const bt_classify_rules *r, const char *t, size_t n, int day_first, bt_classify_facts *f,
                          int ref)
{
    static const char *const iso_prefix[UNITS] = {"PT", "PT", "P", "P", "P", "P", "PT"};
    static const char iso_unit[UNITS] = {'M', 'H', 'D', 'W', 'M', 'Y', 'S'};
    size_t digit = 0; /* the first digit at or after i (n: none) */
    while (digit < n && !(t[digit] >= '0' && t[digit] <= '9')) digit++;
    f->days_left = -1;
    for (size_t i = 0; i < n;) {
        size_t end;
        if (digit < i)
            for (digit = i; digit < n && !(t[digit] >= '0' && t[digit] <= '9');) digit++;
        unsigned char c = (unsigned char)t[i], b = i > 0 ? (unsigned char)t[i - 1] : 0;
        if (!(c >= '0' && c <= '9') && c != '@') {
            /* Otherwise only a month's name starts a fact, at the start of
             * a word and followed by spaces and a digit: so not before
             * s0 - month_max, s0 being where the spaces before the next
             * digit start. */
            size_t s0 = digit;
            while (s0 > i && t[s0 - 1] == ' ') s0--;
            if (s0 - i > r->month_max) {
                const char *at = memchr(t + i, '@', s0 - r->month_max - i);
                i = at != NULL ? (size_t)(at - t) : s0 - r->month_max;
                continue;
            }
            if (r->facts.root[c] == 0 || (is_ascii_letter(t[i]) && b < 0x80 && is_alnum(b))) {
                i++;
                continue;
            }
        }
        if ((end = numeric_date_at(t, n, i, day_first, f)) != 0 || (end = day_month_year_at(r, t, n, i, f, ref)) != 0 ||
            (end = month_day_year_at(r, t, n, i, f, ref)) != 0) {
            i = end;
            continue;
        }
        long v;
        size_t k = read_num(t, n, i, &v);
        if (k > 0 && v > 0 && v < 100000) {
            int unit = -1;
            size_t j = skip_spaces(t, n, i + k);
            if (j < n && t[j] == '-') j = skip_spaces(t, n, j + 1);
            size_t ue = entry_at(r, t, n, j, E_UNIT, &unit, ref);
            if (ue != 0 && unit >= 0) {
                if (unit == 2 && f->days_left < 0 && cue_near(r, t, n, i, ue, ref)) {
                    f->days_left = v;
                } else if (f->duration[0] == '\0') {
                    snprintf(f->duration, sizeof f->duration, "%s%ld%c", iso_prefix[unit], v, iso_unit[unit]);
                }
                i = ue;
                continue;
            }
        }
        if (k > 0) {
            i += k;
            continue;
        }
        if (t[i] == '@' && f->handle[0] == '\0' && (i == 0 || !is_alnum(cp_before(t, i)))) {
            size_t j = i + 1;
            while (j < n && j - i <= 31 &&
                   ((t[j] >= 'a' && t[j] <= 'z') || (t[j] >= '0' && t[j] <= '9') || t[j] == '_' || t[j] == '.'))
                j++;
            while (j > i + 1 && t[j - 1] == '.') j--;
            if (j > i + 1 && j - i <= 31) {
                size_t h = j;
                if (h + 1 < n && t[h] == '@') { /* @name@server */
                    size_t d = h + 1;
                    while (d < n && d - h < 40 && ((t[d] >= 'a' && t[d] <= 'z') || (t[d] >= '0' && t[d] <= '9') ||
                                                  t[d] == '-' || t[d] == '.'))
                        d++;
                    while (d > h + 1 && t[d - 1] == '.') d--;
                    if (memchr(t + h + 1, '.', d - h - 1) != NULL) j = d;
                }
                if (j - i < sizeof f->handle) {
                    memcpy(f->handle, t + i, j - i);
                    f->handle[j - i] = '\0';
                }
            }
            i = j;
            continue;
        }
        i++;
    }
}

/* ---- concepts ---- */

/* What the concepts say: for each kind, the best sentence in which its
 * state was found (0 none, 1 the state alone, 2 with the object "account",
 * 3 addressed to the person or said by the platform, 4 both), and the
 * features of docs/RULES.md, "Concepts". */
typedef struct {
    int level[KINDS_MAX];
    int seen_level[5];   /* a sentence of each level was seen */
    int full_sentences, other, addressed, first_line, hypothetical, own_action, negated;
    int contact; /* the reader is sent to support or an administrator */
    int failure; /* an ordinary failure is named: "no internet connection", "server error" */
    int permanent; /* a sentence stated a suspension to be permanent ("suspended permanently") */
    int temporary; /* a sentence stated a disabled account to be so for a time ("temporarily disabled") */
    uint32_t states;
    uint16_t who[KINDS_MAX];  /* bit c: a sentence stated the kind in the company c (BT_CLASSIFY_WHO) */
    int first_at[KINDS_MAX]; /* the first sentence stating each kind */
    uint32_t first_pos[KINDS_MAX]; /* where the first state read as each kind stands in the text */
    int moved[KINDS_MAX];    /* 1 + the kind a sentence read a state of this kind as (place, security...), or 0 */
    const bt_classify_rules *rules;
} concepts_found;

typedef struct {
    uint32_t at, end, concept;
    lang_set langs; /* the languages whose lists hold the term */
} concept_hit;

/* The concepts found in a text, in order of place once sorted. */
typedef struct {
    concept_hit *h;
    size_t n, cap;
    const char *t; /* the normalised text they were found in */
} concept_hits;

/* Whether t[a, b) holds at most gap characters: a negation reaches as
 * far in every script ("не позначений або " before "обмежений", not marked
 * or restricted, is 18 characters and 33 bytes). */
static int within_gap(const char *t, size_t a, size_t b, size_t gap)
{
    if (a > b) return 0;
    size_t chars = 0;
    for (size_t i = a; i < b; i++)
        if (((unsigned char)t[i] & 0xC0) != 0x80 && ++chars > gap) return 0;
    return 1;
}

/* Whether an ISO 8601 duration the facts read lasts minutes or seconds
 * ("PT15M", "PT30S"): a throttle's, not a sanction's. */
static int lasts_minutes(const char *duration)
{
    return strncmp(duration, "PT", 2) == 0 && strpbrk(duration, "MS") != NULL;
}

/* Whether t[a, b) ends a clause: a comma, semicolon or colon, or the
 * ideographic or Arabic comma. */
static int clause_break(const char *t, size_t a, size_t b)
{
    for (size_t i = a; i < b; i++)
        if (t[i] == ',' || t[i] == ';' || t[i] == ':' || (i + 2 < b && memcmp(t + i, "\xE3\x80\x81", 3) == 0) ||
            (i + 1 < b && memcmp(t + i, "\xD8\x8C", 2) == 0))
            return 1;
    return 0;
}

/* Whether t[a, b) holds at most gap characters and no end of a sentence or
 * a clause. */
static int one_clause(const char *t, size_t a, size_t b, size_t gap)
{
    if (!within_gap(t, a, b, gap) || clause_break(t, a, b)) return 0;
    for (size_t i = a; i < b; i++)
        if (sentence_end(t, b, i)) return 0;
    return 1;
}

/* Adds the concept of the entry with head e found at [at, end). BT_OK or
 * BT_ERR_NO_MEMORY. */
static bt_err concept_add(concept_hits *c, size_t at, size_t end, const entry_head *e)
{
    if (c->n == c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        concept_hit *more = realloc(c->h, cap * sizeof *more);
        if (more == NULL) return BT_ERR_NO_MEMORY;
        c->h = more;
        c->cap = cap;
    }
    c->h[c->n].at = (uint32_t)at;
    c->h[c->n].end = (uint32_t)end;
    c->h[c->n].langs = e->langs;
    c->h[c->n++].concept = (uint32_t)e->idx;
    return BT_OK;
}

/* Adds what one sentence, holding the concepts in mask, says. A sentence
 * that tells what the person did themselves ("you deactivated your
 * account") states nothing, and such words anywhere make own_action. One that only
 * supposes a state ("if your account is suspended...") or asks about it
 * ("deactivate your account?") states nothing either: it counts as
 * hypothetical only. The mask holds C_IF only for a conditional word of the
 * language most of the sentence's other concepts are words of (see
 * sentence_mask). */
static void concepts_close(concepts_found *cf, uint32_t mask, const uint32_t *state_at, uint32_t threatened,
                           int sentence, int question, int heading)
{
    uint32_t states = mask >> C_STATE;
    uint32_t at[KINDS_MAX];
    memcpy(at, state_at, sizeof at);
    if (mask & (1u << C_YOU)) cf->addressed = 1;
    /* the person's own doing, in any sentence: "you deactivated your account", "thank you for
     * trying diaspora*" after "your account has been locked" */
    if (mask & (1u << C_SELF)) cf->own_action = 1;
    if (states == 0 || (mask & (1u << C_SELF))) return;
    if (question || (mask & (1u << C_IF))) {
        cf->hypothetical++;
        return;
    }
    for (int k = 0; k < KINDS_MAX; k++)
        if (threatened & (1u << k)) cf->moved[k] = 1 + cf->rules->threat_to;
    /* "banned from this group", "locked for security reasons", "locked after too many failed
     * attempts", "blocked from editing", "can't perform this action while restricted": the first
     * of these that the sentence holds */
    for (int c = C_PLACE; c <= C_ACTION; c++) {
        uint32_t from = cf->rules->reframe_from[c];
        /* "your account is suspended and may not perform this action" is about the account */
        if (c == C_ACTION && (mask & (1u << C_OBJECT))) from &= ~cf->rules->banned;
        if ((mask & (1u << c)) && (states & from) && cf->rules->reframe_to[c] >= 0) {
            int to = cf->rules->reframe_to[c];
            for (int k = 0; k < KINDS_MAX; k++)
                if (states & from & (1u << k)) {
                    cf->moved[k] = 1 + to;
                    if (at[k] < at[to]) at[to] = at[k];
                }
            states = (states & ~from) | 1u << to;
            break;
        }
    }
    if ((mask & (1u << C_PERMANENT)) && cf->rules->suspension >= 0 && (states & (1u << cf->rules->suspension)))
        cf->permanent = 1;
    if ((mask & (1u << C_TEMPORARY)) && cf->rules->disabled >= 0 && (states & (1u << cf->rules->disabled)))
        cf->temporary = 1;
    int addr = (mask & ((1u << C_YOU) | (1u << C_WE))) != 0, obj = (mask & (1u << C_OBJECT)) != 0;
    int level = 1 + obj + 2 * addr;
    cf->seen_level[level] = 1;
    cf->full_sentences += level == 4;
    if ((mask & (1u << C_OTHER)) && !(mask & (1u << C_YOU))) cf->other = 1;
    if (heading) cf->first_line = 1;
    cf->states |= states;
    unsigned who = ((mask >> C_YOU) & 1u) | ((mask >> C_WE) & 1u) << 1 | (unsigned)obj << 2 |
                   ((mask >> C_OTHER) & 1u) << 3;
    for (int k = 0; k < KINDS_MAX; k++) {
        if (!(states & (1u << k))) continue;
        if (level > cf->level[k]) cf->level[k] = level;
        if (sentence < cf->first_at[k]) cf->first_at[k] = sentence;
        if (at[k] < cf->first_pos[k]) cf->first_pos[k] = at[k];
        cf->who[k] |= (uint16_t)(1u << who);
    }
}

/* Whether h[j] (a state) is negated within hits[from, to): a "not" word ends
 * at most NOT_GAP characters before it ("your account is not restricted", "nicht
 * gesperrt") or a "not_after" word starts at most NOT_GAP characters after it
 * ("凍結されていません"), the negation not being part of a state term
 * ("can't post", "not allowed to use" are restrictions). */
static int state_negated(const concept_hits *hits, size_t from, size_t to, size_t j)
{
    const concept_hit *h = hits->h;
    const char *t = hits->t;
    for (size_t k = from; k < to; k++) {
        int before = h[k].concept == C_NOT && within_gap(t, h[k].end, h[j].at, NOT_GAP);
        int after = h[k].concept == C_NOT_AFTER && within_gap(t, h[j].end, h[k].at, NOT_GAP);
        if (!before && !after) continue;
        size_t m = from;
        while (m < to && !(h[m].concept >= C_STATE && h[m].at <= h[k].at && h[k].end <= h[m].end)) m++;
        if (m == to) return 1;
    }
    return 0;
}

/* Whether a threat stands by t[s, end) (a state, phrase or label), among
 * hits[k, to), in its clause: a "threat" word ending at most THREAT_GAP
 * characters before it ("may result in your account being suspended",
 * "下次你将会被限制") or a "threat_after" word starting at most THREAT_GAP
 * characters after it ("停止される可能性があります", "정지될 수 있습니다"), or,
 * when inside is set, either one within it. */
static int threat_near(const concept_hits *hits, size_t k, size_t to, size_t s, size_t end, int inside)
{
    const char *t = hits->t;
    size_t reach = 4 * THREAT_GAP; /* bytes THREAT_GAP characters may take */
    for (; k < to && hits->h[k].at < end + reach; k++) {
        const concept_hit *h = &hits->h[k];
        if (h->concept == C_THREAT && h->end <= end && ((inside && h->end >= s) || one_clause(t, h->end, s, THREAT_GAP)))
            return 1;
        if (h->concept == C_THREAT_AFTER && h->at >= s && ((inside && h->at <= end) || one_clause(t, end, h->at, THREAT_GAP)))
            return 1;
    }
    return 0;
}

/* Whether h[j] (a state) gives way to a state of another kind in
 * hits[from, to): one that holds it and is longer (the longer term says what
 * the words mean: Chinese "禁言", muted, holds "禁", banned; "temporarily
 * blocked from" holds "blocked"), or, in Chinese and Japanese, one that starts
 * inside it and ends after it: their compounds put the head last, so
 * "被禁言" (was muted) is "被" + "禁言", not "被禁" (was banned). Only there:
 * Nepali "अनब्लक गरिएको" (unblocked) ends in "ब्लक गरिएको" (blocked) the same
 * way, and means the opposite. */
static int state_within(const concept_hits *hits, size_t from, size_t to, size_t j)
{
    const concept_hit *h = hits->h;
    for (size_t k = from; k < to; k++) {
        if (h[k].concept < C_STATE || h[k].concept == h[j].concept) continue;
        if (h[k].at <= h[j].at && h[j].end <= h[k].end && h[k].end - h[k].at > h[j].end - h[j].at) return 1;
        unsigned char lead = (unsigned char)hits->t[h[k].at]; /* U+3000-U+9FFF: kana, CJK ideographs */
        if (h[j].at < h[k].at && h[k].at < h[j].end && h[j].end < h[k].end && lead >= 0xE3 && lead <= 0xE9)
            return 1;
    }
    return 0;
}

/* Whether h[j] (a "permanent" word) is part of a longer "temporary" word in
 * hits[from, to): in scripts matched inside words, Hindi "स्थायी"
 * (permanent) is the end of "अस्थायी" (temporary), Bengali "স্থায়ী" of
 * "অস্থায়ী". */
static int temporary_within(const concept_hits *hits, size_t from, size_t to, size_t j)
{
    const concept_hit *h = hits->h;
    for (size_t k = from; k < to; k++)
        if (h[k].concept == C_TEMPORARY && h[k].at < h[j].at && h[j].end <= h[k].end) return 1;
    return 0;
}

/* The concepts of one sentence, hits[from, to), as a mask, without the
 * states a negation denies (*negated is set when there is one); state_at[k], where
 * the first state of kind k it keeps stands (UINT32_MAX: none). An "if" counts only
 * when it is a word of the language most of the sentence's other concepts
 * are words of (ties: any of them). Short words are other words
 * elsewhere, more so once flattened: Slovenian "če" (if) is French "ce",
 * Italian "se" (if) the Spanish reflexive, Hungarian "ha" (if) Spanish
 * "has" ("se eliminó tu publicación", "tu cuenta ha sido suspendida"
 * suppose nothing). */
static uint32_t sentence_mask(const concept_hits *hits, const bt_classify_rules *r, size_t from, size_t to,
                              int *negated, uint32_t *state_at, uint32_t *threatened)
{
    const concept_hit *h = hits->h;
    uint32_t mask = 0, threat_at = UINT32_MAX;
    *threatened = 0;
    for (int k = 0; k < KINDS_MAX; k++) state_at[k] = UINT32_MAX;
    for (size_t i = from; i < to; i++) {
        if (h[i].concept >= C_STATE && state_within(hits, from, to, i)) continue;
        if (h[i].concept == C_PERMANENT && temporary_within(hits, from, to, i)) continue;
        if (h[i].concept >= C_STATE && state_negated(hits, from, to, i)) {
            *negated = 1;
            continue;
        }
        if (h[i].concept >= C_STATE && (r->threat_from & (1u << (h[i].concept - C_STATE))) &&
            threat_near(hits, from, to, h[i].at, h[i].end, 0)) {
            *threatened |= 1u << (h[i].concept - C_STATE);
            if (threat_at == UINT32_MAX) threat_at = h[i].at;
            continue;
        }
        mask |= 1u << h[i].concept;
        if (h[i].concept >= C_STATE && state_at[h[i].concept - C_STATE] == UINT32_MAX)
            state_at[h[i].concept - C_STATE] = h[i].at;
    }
    /* a restriction only threatened is a warning; beside one stated, it adds nothing ("your
     * account has been suspended and may be deleted") */
    if (*threatened != 0 && r->threat_to >= 0 && !((mask >> C_STATE) & r->threat_from)) {
        mask |= 1u << (C_STATE + r->threat_to);
        if (threat_at < state_at[r->threat_to]) state_at[r->threat_to] = threat_at;
    } else {
        *threatened = 0;
    }
    if (!(mask & (1u << C_IF))) return mask;
    uint8_t votes[LANGS_MAX] = {0};
    for (size_t i = from; i < to; i++)
        for (size_t w = 0; w < LANGS_MAX / 64 && h[i].concept != C_IF; w++)
            for (uint64_t m = h[i].langs.w[w]; m != 0; m &= m - 1) {
                size_t b = 64 * w + (size_t)__builtin_ctzll(m);
                if (votes[b] < UINT8_MAX) votes[b]++;
            }
    unsigned best = 0;
    lang_set top = {{0}};
    for (size_t b = 0; b < LANGS_MAX; b++) {
        if (votes[b] > best) best = votes[b], top = (lang_set){{0}};
        if (votes[b] == best && best > 0) top.w[b / 64] |= 1ull << (b % 64);
    }
    for (size_t i = from; i < to; i++)
        for (size_t w = 0; w < LANGS_MAX / 64 && h[i].concept == C_IF; w++)
            if (h[i].langs.w[w] & top.w[w]) return mask;
    return mask & ~(1u << C_IF);
}

/* Drops from hits the one-word states of the kinds that need an appeal word
 * when t[0, head) holds none: a bare "rejected" ("denied", "odmítnut",
 * "拒绝") answers an appeal only in a text that speaks of one; a post refused
 * over a daily limit ("Příspěvek byl odmítnut") or a request refused by risk
 * control is no appeal answer. */
static void appeal_states_unsupported(concept_hits *hits, const bt_classify_rules *r, size_t head)
{
    if (r->needs_appeal == 0) return;
    for (size_t i = 0; i < hits->n; i++)
        if (hits->h[i].concept == C_APPEAL && hits->h[i].at < head) return;
    size_t kept = 0;
    for (size_t i = 0; i < hits->n; i++) {
        const concept_hit *h = &hits->h[i];
        if (h->concept >= C_STATE && (r->needs_appeal & (1u << (h->concept - C_STATE))) &&
            memchr(hits->t + h->at, ' ', h->end - h->at) == NULL)
            continue;
        hits->h[kept++] = *h;
    }
    hits->n = kept;
}

/* How many bytes of t stand outside quotation marks (the normalised text's
 * '"'), blanks not counted. A loop of its own, so that the count stays in a
 * register and the compiler vectorises it. */
static size_t outside_quotes(const char *t, size_t n)
{
    size_t outside = 0;
    const char *p = t, *end = t + n;
    while (p < end) {
        const char *q = memchr(p, '"', (size_t)(end - p)), *stop = q != NULL ? q : end;
        for (; p < stop; p++) outside += *p != ' ' && *p != '\n';
        if (q == NULL || (q = memchr(q + 1, '"', (size_t)(end - q - 1))) == NULL) break;
        p = q + 1;
    }
    return outside;
}

/* Whether a phrase at s..end counts as quoted: an odd number of '"' before
 * it (qn) and at least 40 other characters outside quotation marks (a text
 * that is all one quotation is the notice itself, pasted). */
static int quoted_at(size_t qn, size_t outside, size_t s, size_t end)
{
    return (qn & 1) && outside >= (end - s) + 40;
}

/* Drops from hits the states inside quotation marks, as a phrase there
 * counts for nothing: "Many saw the message 'We have suspended your
 * account' and did not know why" reports a notice, it is not one. */
static void quoted_states_dropped(concept_hits *hits, const char *t, size_t outside)
{
    size_t kept = 0, pos = 0, qn = 0;
    for (size_t i = 0; i < hits->n; i++) {
        const concept_hit *h = &hits->h[i];
        for (; pos < h->at; pos++) qn += t[pos] == '"';
        if (h->concept >= C_STATE && quoted_at(qn, outside, h->at, h->end)) continue;
        hits->h[kept++] = *h;
    }
    hits->n = kept;
}

/* What a heading line takes from the line after it: every concept but the
 * states, "if" and the person's own doing. */
#define HEADING_READS (((1u << C_STATE) - 1) & ~((1u << C_IF) | (1u << C_SELF)))

/* What the concepts found in t[0, n), in order of place, say, sentence by
 * sentence; the text proper starts at text_at (after the title's line): a
 * sentence starting there, or the title's, is a heading. */
static void concepts_read(concepts_found *cf, const bt_classify_rules *r, concept_hits *hits, const char *t, size_t n,
                          size_t text_at)
{
    memset(cf, 0, sizeof *cf);
    cf->rules = r;
    for (int k = 0; k < KINDS_MAX; k++) cf->first_at[k] = INT_MAX, cf->first_pos[k] = UINT32_MAX;
    /* a line that ends without a stop ("Account suspended", then "You can no longer use
     * it") is a heading or a label: it is read with what the line after it says of whom,
     * where and why (not its states, nor its "if"), so it waits for that line's mask, and
     * counts as said where that line is */
    uint32_t held = 0, held_at[KINDS_MAX], state_at[KINDS_MAX], threatened, held_threatened = 0;
    int sentence = 0, holding = 0, held_first = 0;
    size_t pos = 0, start = 0, first = 0; /* where the sentence being read starts; its first hit */
    while (first < hits->n) {
        int end = 0;
        while (pos < n && !(end = sentence_end(t, n, pos))) pos++;
        size_t last = first;
        for (; last < hits->n && hits->h[last].at <= pos; last++)
            if (hits->h[last].concept == C_CONTACT) cf->contact = 1;
            else if (hits->h[last].concept == C_FAILURE) cf->failure = 1;
        uint32_t mask = sentence_mask(hits, r, first, last, &cf->negated, state_at, &threatened);
        int heading = start == 0 || start == text_at;
        if (holding) {
            concepts_close(cf, held | (mask & HEADING_READS), held_at, held_threatened, sentence, 0, held_first);
            /* a first line that states nothing ("Dear Alex,", "Notice") leaves the heading to the next */
            if (held_first && (held >> C_STATE) == 0) heading = 1;
        }
        holding = end == 3 && pos > start && start >= text_at && !sentence_end(t, n, pos - 1) && last < hits->n;
        if (holding) {
            held = mask;
            held_threatened = threatened;
            memcpy(held_at, state_at, sizeof held_at);
            held_first = heading;
        } else {
            concepts_close(cf, mask, state_at, threatened, sentence, end == 2, heading);
        }
        sentence++;
        start = ++pos;
        first = last;
    }
}

/* Title and text, bounded, each normalised (the reference way if ref), on
 * lines of their own: *t (n bytes) for matching; *nx (nxl bytes), the text
 * alone, for the fingerprint. The caller wipes and frees both, also on
 * error. */
static bt_err normalise_input(char **t, size_t *n, char **nx, size_t *nxl, const char *title, const char *lang,
                              const char *text, size_t text_len, int ref)
{
    bt_err (*normalize)(char **, size_t *, const char *, size_t, const char *) =
        ref ? bt_classify_normalize_reference : bt_classify_normalize;
    char *nt = NULL;
    size_t ntl = 0, tl = title ? strlen(title) : 0;
    bt_err rc;
    *t = *nx = NULL;
    *n = *nxl = 0;
    if (tl > BT_CLASSIFY_TEXT_MAX) tl = BT_CLASSIFY_TEXT_MAX;
    if (text_len > BT_CLASSIFY_TEXT_MAX - tl) text_len = BT_CLASSIFY_TEXT_MAX - tl;
    if ((rc = normalize(&nt, &ntl, title ? title : "", tl, lang)) != BT_OK ||
        (rc = normalize(nx, nxl, text, text_len, lang)) != BT_OK)
        goto done;
    if ((*t = malloc(ntl + 1 + *nxl + 1)) == NULL) {
        rc = BT_ERR_NO_MEMORY;
        goto done;
    }
    memcpy(*t, nt, ntl);
    *n = ntl;
    if (ntl > 0) (*t)[(*n)++] = '\n';
    memcpy(*t + *n, *nx, *nxl + 1);
    *n += *nxl;
done:
    if (nt != NULL) sodium_memzero(nt, ntl);
    free(nt);
    return rc;
}

/* ---- n-grams ---- */

enum { GRAM_WORD = 40, /* longer words are cut to their first 40 bytes (at a character) */
       STEM_CHARS = 5 };

/* Calls fn for each n-gram of t[0, n), with its key (gram_hash): each word,
 * each pair of words in a row within a sentence ("w1 w2"), each word's stem
 * and each pair of characters in a row of an unspaced script (a lone one
 * alone). The pairs' and stems' text is made only when strings is set (the
 * corpus's vocabulary needs it, a decision only the key); otherwise fn gets
 * NULL for it. Always inline, so that fn is too (1 us of a 2 KiB notice). */
static inline __attribute__((always_inline)) void
ngrams_each(const char *t, size_t n, int strings, void (*fn)(void *ctx, const char *gram, size_t len, uint64_t key),
            void *ctx)
{
    char prev[GRAM_WORD + 1], pair[2 * GRAM_WORD + 2];
    size_t prev_len = 0, i = 0;
    uint64_t prev_hash = 0;
    size_t run_start = SIZE_MAX, run_prev = SIZE_MAX; /* unspaced run: its previous character */
    int run_chars = 0;
    if (n > BT_CLASSIFY_NGRAM_BYTES) {
        n = BT_CLASSIFY_NGRAM_BYTES;
        while (n > 0 && ((unsigned char)t[n] & 0xC0) == 0x80) n--;
    }
    while (i < n) {
        ucs4_t c = (unsigned char)t[i];
        int len = 1;
        if (c >= 0x80 && (len = u8_mbtouc(&c, (const uint8_t *)t + i, n - i)) < 1) len = 1;
        if (c >= 0x80 && unspaced(c)) {
            if (run_prev != SIZE_MAX) {
                size_t gl = i + (size_t)len - run_prev;
                fn(ctx, t + run_prev, gl, word_key(bytes_hash(t + run_prev, gl)));
            }
            if (run_start == SIZE_MAX) run_start = i;
            run_prev = i;
            run_chars++;
            prev_len = 0;
            i += (size_t)len;
            continue;
        }
        if (run_chars == 1) fn(ctx, t + run_start, i - run_start, word_key(bytes_hash(t + run_start, i - run_start)));
        run_start = run_prev = SIZE_MAX;
        run_chars = 0;
        if (!is_alnum(c)) {
            if (sentence_end(t, n, i)) prev_len = 0;
            i += (size_t)len;
            continue;
        }
        size_t w = i; /* a word: letters, digits, marks and apostrophes inside */
        while (i < n) {
            ucs4_t d = (unsigned char)t[i];
            int dl = 1;
            if (d >= 0x80 && (dl = u8_mbtouc(&d, (const uint8_t *)t + i, n - i)) < 1) dl = 1;
            /* a vowel sign or virama (Devanagari, Bengali, Tamil...: marks normalising keeps) is part of its word */
            int mark = d >= 0x0900 && uc_is_general_category(d, UC_CATEGORY_M);
            if (!((is_alnum(d) || mark) && !(d >= 0x80 && unspaced(d))) &&
                !(d == '\'' && i + 1 < n && is_ascii_letter(t[i + 1])))
                break;
            i += (size_t)dl;
        }
        size_t wl = i - w;
        if (wl > GRAM_WORD) {
            wl = GRAM_WORD;
            while (wl > 0 && ((unsigned char)t[w + wl] & 0xC0) == 0x80) wl--;
        }
        uint64_t wh = bytes_hash(t + w, wl);
        fn(ctx, t + w, wl, word_key(wh));
        size_t stem = 0; /* a longer word's first STEM_CHARS characters: "suspe~" for suspend, suspendu, ... */
        for (int chars = 0; stem < wl && chars < STEM_CHARS; chars++)
            do stem++;
            while (stem < wl && ((unsigned char)t[w + stem] & 0xC0) == 0x80);
        if (stem < wl) {
            if (strings) {
                memcpy(pair, t + w, stem);
                pair[stem] = '~';
            }
            fn(ctx, strings ? pair : NULL, stem + 1, stem_key(bytes_hash(t + w, stem)));
        }
        if (prev_len > 0) {
            if (strings) {
                memcpy(pair, prev, prev_len);
                pair[prev_len] = ' ';
                memcpy(pair + prev_len + 1, t + w, wl);
            }
            fn(ctx, strings ? pair : NULL, prev_len + 1 + wl, pair_key(prev_hash, wh));
        }
        if (strings) memcpy(prev, t + w, wl);
        prev_len = wl;
        prev_hash = wh;
    }
    if (run_chars == 1) fn(ctx, t + run_start, n - run_start, word_key(bytes_hash(t + run_start, n - run_start)));
}

typedef struct {
    const bt_classify_rules *rules;
    uint8_t *seen;   /* the model's n-grams counted so far (each counts once), a bit a slot */
    double sum;
    int votes[KINDS_MAX]; /* how many of them point to each kind */
} gram_sum;

static void gram_add(void *ctx, const char *gram, size_t len, uint64_t h)
{
    gram_sum *g = ctx;
    (void)gram;
    (void)len;
    size_t slot = gram_slot(g->rules, h);
    const gram_entry *e = &g->rules->grams[slot];
    if (e->key != h || (g->seen[slot / 8] & (1u << (slot % 8)))) return;
    g->seen[slot / 8] |= (uint8_t)(1u << (slot % 8));
    g->sum += e->weight;
    if (e->kind) g->votes[e->kind - 1]++;
}

/* The sum of the model's weights of the distinct n-grams of t[0, n), and
 * the kind most of them point to (-1 none). BT_OK or BT_ERR_NO_MEMORY. */
static bt_err ngrams_score(const bt_classify_rules *r, const char *t, size_t n, double *sum, int *kind)
{
    *sum = 0;
    *kind = -1;
    if (r->gram_mask == 0) return BT_OK;
    gram_sum g = {.rules = r, .seen = calloc(r->gram_mask / 8 + 1, 1)};
    if (g.seen == NULL) return BT_ERR_NO_MEMORY;
    ngrams_each(t, n, 0, gram_add, &g);
    free(g.seen);
    *sum = g.sum;
    for (size_t k = 0; k < r->n_kinds; k++) /* priority order breaks ties */
        if (g.votes[k] > 0 && (*kind < 0 || g.votes[k] > g.votes[*kind])) *kind = (int)k;
    return BT_OK;
}

typedef struct {
    void (*fn)(void *ctx, const char *gram, size_t len);
    void *ctx;
} gram_caller;

static void gram_call(void *ctx, const char *gram, size_t len, uint64_t key)
{
    const gram_caller *c = ctx;
    (void)key;
    c->fn(c->ctx, gram, len);
}

bt_err bt_classify_ngrams(const char *title, const char *lang, const char *text, size_t text_len,
                          void (*fn)(void *ctx, const char *gram, size_t len), void *ctx)
{
    char *t = NULL, *nx = NULL;
    size_t n = 0, nxl = 0;
    gram_caller caller = {fn, ctx};
    if (text == NULL || fn == NULL) return BT_ERR_BAD_PARAMS;
    bt_err rc = normalise_input(&t, &n, &nx, &nxl, title, lang, text, text_len, 0);
    if (rc == BT_OK) ngrams_each(t, n, 1, gram_call, &caller);
    if (nx != NULL) sodium_memzero(nx, nxl);
    if (t != NULL) sodium_memzero(t, n);
    free(nx);
    free(t);
    return rc;
}

/* The sum of n-gram weights that counts as evidence by itself (a notice in
 * words no rule lists), in logits: chosen on the figures held out by source
 * (docs/RULES.md, "The decision"). */
#define NGRAM_EVIDENCE 2.0

int bt_classify_model_decide(const bt_classify_model *m, const float *x, int *percent)
{
    double z = m->bias;
    for (size_t i = 0; i < BT_CLASSIFY_FEATURES; i++)
        z += m->w[i] * (i == F_ngrams ? BT_CLASSIFY_NGRAM_CLAMP * tanh(x[i] / BT_CLASSIFY_NGRAM_CLAMP) : x[i]);
    double p = 1.0 / (1.0 + exp(-z));
    if (percent != NULL) *percent = (int)lround(100.0 * p);
    if (x[F_path] > 0) return 1; /* a platform's own restriction screen, whatever its few words say */
    int evidence = x[F_phrase] > 0 || x[F_label] > 0 || x[F_path] > 0 || x[F_concept_full] > 0 ||
                   x[F_concept_addressed] > 0 || x[F_concept_object] > 0 || x[F_concept_bare] > 0;
    /* n-grams alone, when the text names a reason, only if it speaks to someone: "An article
     * about hate speech online." is not a notice however much "hate speech" leans to one */
    int by_ngrams = x[F_ngrams] >= NGRAM_EVIDENCE && (x[F_reason] == 0 || x[F_addressed] > 0);
    return (evidence || by_ngrams) && p >= m->threshold;
}

const bt_classify_model *bt_classify_rules_model(const bt_classify_rules *rules)
{
    return &rules->model;
}

/* ---- classifying ---- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    snprintf(dst, cap, "%s", src ? src : "");
}

/* The evidence found in a text, entry by entry. */
typedef struct {
    int kind_score[KINDS_MAX], lang_hits[LANGS_MAX];
    int positive, negatives, quoted, negated, reason, name_platform, phrases, labels;
    int named_in_text; /* a platform's name in the text, not only in the page's title (the site's name) */
    size_t text_at;    /* where the text starts, after the title's line */
    size_t name_at;
} evidence;

/* How a phrase or label was found: where it counts, only inside quotes, or
 * only where a negation denies it. */
enum { FOUND = 0, FOUND_QUOTED = 1, FOUND_NEGATED = 2 };

/* Adds what entry e, found at s as `how` says (and threatened, if so: a
 * warning's evidence), says. Called in entry order (a name found at the same
 * place as another's loses). */
static void add_evidence(evidence *ev, const bt_classify_rules *rules, const entry *e, int how, int threatened,
                         size_t s)
{
    switch (e->cls) {
    case E_PHRASE:
    case E_LABEL:
        if (how != FOUND) {
            if (how == FOUND_QUOTED) ev->quoted = 1;
            else ev->negated = 1;
            break;
        }
        ev->kind_score[threatened ? rules->threat_to : e->idx] += e->cls == E_PHRASE ? rules->w_phrase : rules->w_label;
        if (e->cls == E_PHRASE) ev->phrases++;
        else ev->labels++;
        ev->positive += e->cls == E_PHRASE ? rules->w_phrase : rules->w_label;
        if (e->lang >= 0) ev->lang_hits[e->lang] += 2;
        break;
    case E_NEG:
        ev->negatives++;
        if (e->lang >= 0) ev->lang_hits[e->lang]++;
        break;
    case E_REASON:
        if (ev->reason < 0 || e->idx < ev->reason) ev->reason = e->idx;
        break;
    case E_NAME:
        if (s < ev->name_at) {
            ev->name_at = s;
            ev->name_platform = e->idx;
        }
        if (s >= ev->text_at) ev->named_in_text = 1;
        break;
    default:
        break;
    }
}

/* The first of hits (in order of place) that may end within reach bytes
 * before a phrase found at s. */
static size_t first_hit(const concept_hits *hits, size_t s, size_t reach)
{
    size_t lo = 0, hi = hits->n, from = s > reach + PHRASE_MAX ? s - reach - PHRASE_MAX : 0;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (hits->h[mid].at < from) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Whether phrase or label e, found at t[s, end), is denied by a negation
 * (hits: the concepts, in order of place): a "not" word inside it or
 * ending at most NOT_GAP characters before it ("your account is not
 * restricted", "has not been suspended"), or a "not_after" word inside it
 * or starting at most NOT_GAP characters after it ("정지되지 않았습니다"). A
 * phrase that holds a negation word itself ("you can't post") is what it
 * says. */
static int negated_at(const concept_hits *hits, const entry *e, size_t s, size_t end)
{
    if (e->says_not || (e->cls != E_PHRASE && e->cls != E_LABEL)) return 0;
    size_t reach = 4 * NOT_GAP; /* bytes NOT_GAP characters may take */
    for (size_t i = first_hit(hits, s, reach); i < hits->n && hits->h[i].at < end + reach; i++) {
        const concept_hit *h = &hits->h[i];
        if (h->concept == C_NOT && h->end <= end && (h->end >= s || within_gap(hits->t, h->end, s, NOT_GAP))) return 1;
        if (h->concept == C_NOT_AFTER && h->at >= s && (h->at <= end || within_gap(hits->t, end, h->at, NOT_GAP))) return 1;
    }
    return 0;
}

/* Whether phrase or label e, found at t[s, end), of a kind a threat makes a
 * warning, is threatened: a threat word by it or inside it ("You have one
 * attempt left before your account is locked"). */
static int threatened_at(const concept_hits *hits, const bt_classify_rules *r, const entry *e, size_t s, size_t end)
{
    if ((e->cls != E_PHRASE && e->cls != E_LABEL) || r->threat_to < 0 || !(r->threat_from & (1u << e->idx))) return 0;
    return threat_near(hits, first_hit(hits, s, 4 * THREAT_GAP), hits->n, s, end, 1);
}

/* How phrase or label e, found at t[s, end) with qn '"' before it, counts. */
static int found_how(const concept_hits *hits, const entry *e, size_t qn, size_t outside, size_t s, size_t end)
{
    if (e->cls != E_PHRASE && e->cls != E_LABEL) return FOUND;
    return quoted_at(qn, outside, s, end) ? FOUND_QUOTED : negated_at(hits, e, s, end) ? FOUND_NEGATED : FOUND;
}

/* Puts the concepts found in order of place. Insertion sort: the index finds
 * them in the order their first parts end, which is nearly that. */
static void hits_sort(concept_hits *hits)
{
    for (size_t i = 1; i < hits->n; i++) {
        concept_hit x = hits->h[i];
        size_t j = i;
        for (; j > 0 && hits->h[j - 1].at > x.at; j--) hits->h[j] = hits->h[j - 1];
        hits->h[j] = x;
    }
}

/* The reference way: each entry searched for in the whole text, in turn;
 * each concept word in t[0, head) wherever it occurs. BT_OK or
 * BT_ERR_NO_MEMORY. */
static bt_err gather_reference(evidence *ev, concept_hits *ch, const bt_classify_rules *rules, const char *t,
                               size_t n, size_t outside, size_t head)
{
    for (size_t k = 0; k < rules->n_entries; k++) { /* concepts first: a negation is one */
        const entry *e = &rules->entries[k];
        size_t s = 0, end = 0;
        for (size_t from = 0; e->cls == E_CONCEPT && find_entry(t, head, e, from, &s, &end); from = s + 1)
            if (concept_add(ch, s, end, &rules->heads[k]) != BT_OK) return BT_ERR_NO_MEMORY;
    }
    hits_sort(ch);
    for (size_t k = 0; k < rules->n_entries; k++) {
        const entry *e = &rules->entries[k];
        size_t s = 0, end = 0, from = 0;
        int found = 0, how = FOUND;
        if (!is_scored(e)) continue;
        while (find_entry(t, n, e, from, &s, &end)) {
            size_t qn = 0;
            for (size_t i = 0; i < s; i++) qn += t[i] == '"';
            how = found_how(ch, e, qn, outside, s, end);
            found = 1;
            if (how == FOUND || e->cls == E_NEG || e->cls == E_NAME || e->cls == E_REASON) break;
            from = s + 1;
        }
        if (found) add_evidence(ev, rules, e, how, how == FOUND && threatened_at(ch, rules, e, s, end), s);
    }
    return BT_OK;
}

/* What the indexed way knows of each entry, a byte each (HIT_ values, and
 * HIT_CLOSED): the reference's loop stops at an entry's first match outside
 * quotes (at its first match at all for negative cues, reasons and names);
 * so does the indexed way, which then closes the entry and skips its later
 * matches. An entry that cannot match any more is closed too. Where the
 * match that decided starts is kept apart (at[], written before it is
 * read). */
enum { HIT_NONE, HIT_QUOTED = FOUND_QUOTED, HIT_NEGATED = FOUND_NEGATED, HIT_DONE, HIT_STATE = 3, HIT_CLOSED = 4,
       HIT_THREATENED = 8 };

/* A place where a first part ends: the automaton's state there, and i. */
typedef struct {
    uint32_t state, i;
} first_end;

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* The same evidence and concepts as gather_reference. One walk of the
 * index over the text finds the concepts, notes where each later part
 * occurs and where first parts end; then the entries are tried at those
 * places in the reference's order, and an entry whose later part occurs
 * nowhere after its first part is closed at once. BT_OK or
 * BT_ERR_NO_MEMORY. */
static bt_err gather_indexed(evidence *ev, concept_hits *ch, const bt_classify_rules *rules, const char *t, size_t n,
                             size_t outside, size_t head)
{
    const ac_index *a = &rules->scored;
    size_t ne = rules->n_entries, n_found = 0, n_ends = 0, cap_ends = 0, qpos = 0, qn = 0;
    uint8_t *hits = calloc(ne + 1, 1);
    uint32_t *found = malloc((ne + 1) * sizeof *found), *at = malloc((ne + 1) * sizeof *at);
    part_seen *seen = malloc((rules->n_part_ids + 1) * sizeof *seen);
    first_end *ends = NULL;
    bt_err rc = BT_ERR_NO_MEMORY;
    if (hits == NULL || found == NULL || at == NULL || seen == NULL || n > UINT32_MAX) goto done;
    for (size_t p = 0; p < rules->n_part_ids; p++) {
        seen[p].from = 0;
        seen[p].at = seen[p].last = SIZE_MAX;
    }

    uint32_t state = 0;
    for (size_t i = 0; i < n; i++) {
        if (word_start(t, n, i)) state = ac_next(a, state, WORD_MARK);
        state = ac_next(a, state, (unsigned char)t[i]);
        int first = 0;
        for (uint32_t node = outputs_at(a, state); node != 0; node = a->outs[node].dict) {
            const ac_out *nd = &a->outs[node];
            for (uint32_t o = nd->out_first; o < nd->out_first + nd->out_n; o++) {
                if (a->out_tag[o] == KEY_OTHER) {
                    first = 1;
                    continue;
                }
                if (a->out_tag[o] == KEY_CONCEPT) { /* most are one part: the head says if it matches */
                    const entry_head *h = &rules->heads[a->out[o]];
                    size_t s = i + 1 - h->len0, end = i + 1;
                    if (i < head &&
                        (h->n_parts == 1 ? boundary_ok(t, head, s, end, h->bound0, h->whole_word)
                                         : match_at(t, head, &rules->entries[a->out[o]], s, &end, NULL) == 1) &&
                        concept_add(ch, s, end, h) != BT_OK)
                        goto done;
                    continue;
                }
                uint32_t id = a->out[o] - (uint32_t)ne;
                seen[id].last = i + 1 - rules->part_text_len[id];
                if (seen[id].at == SIZE_MAX) seen[id].at = seen[id].last;
            }
        }
        if (!first) continue;
        if (n_ends == cap_ends) {
            cap_ends = cap_ends ? cap_ends * 2 : 64;
            first_end *more = realloc(ends, cap_ends * sizeof *more);
            if (more == NULL) goto done;
            ends = more;
        }
        ends[n_ends].state = state;
        ends[n_ends++].i = (uint32_t)i;
    }

    hits_sort(ch);
    for (size_t x = 0; x < n_ends; x++) {
        for (uint32_t node = outputs_at(a, ends[x].state); node != 0; node = a->outs[node].dict) {
            const ac_out *nd = &a->outs[node];
            for (uint32_t o = nd->out_first; o < nd->out_first + nd->out_n; o++) {
                uint32_t k = a->out[o];
                if (a->out_tag[o] != KEY_OTHER || (hits[k] & HIT_CLOSED)) continue;
                const entry *e = &rules->entries[k];
                size_t s = ends[x].i + 1 - e->part_len[0], end;
                int m = match_at(t, n, e, s, &end, seen);
                if (m < 0) hits[k] |= HIT_CLOSED;
                if (m != 1) continue;
                while (qpos < s) qn += t[qpos++] == '"'; /* qn: '"' in t[0, qpos) */
                while (qpos > s) qn -= t[--qpos] == '"';
                if (hits[k] == HIT_NONE) found[n_found++] = k;
                at[k] = (uint32_t)s;
                int how = found_how(ch, e, qn, outside, s, end);
                hits[k] = how == FOUND ? HIT_DONE | HIT_CLOSED | (threatened_at(ch, rules, e, s, end) ? HIT_THREATENED : 0)
                                       : (uint8_t)how;
            }
        }
    }
    qsort(found, n_found, sizeof *found, cmp_u32); /* evidence is added in entry order */
    for (size_t i = 0; i < n_found; i++) {
        uint8_t hit = hits[found[i]];
        add_evidence(ev, rules, &rules->entries[found[i]], (hit & HIT_STATE) == HIT_DONE ? FOUND : hit & HIT_STATE,
                     (hit & HIT_THREATENED) != 0, at[found[i]]);
    }
    rc = BT_OK;
done:
    free(hits);
    free(found);
    free(at);
    free(seen);
    free(ends);
    return rc;
}

/* bt_classify_text_with, the indexed way or (ref) the reference way. */
static bt_err classify(bt_classification *out, const bt_classify_rules *rules, const char *url, const char *software,
                       const char *title, const char *lang, const char *text, size_t text_len, int ref)
{
    bt_err rc;
    char *nx = NULL, *t = NULL, host[256], path[2048];
    size_t n = 0, nxl = 0;
    int platform = -1, path_kind = -1, foreign = 0;
    evidence ev = {.reason = -1, .name_platform = -1, .name_at = SIZE_MAX};
    concept_hits ch = {0};

    memset(out, 0, sizeof *out);
    out->facts.days_left = -1;
    if (text == NULL) return BT_ERR_BAD_PARAMS;
    if (rules == NULL && (rc = bt_classify_rules_builtin(&rules)) != BT_OK) return rc;

    if ((rc = normalise_input(&t, &n, &nx, &nxl, title, lang, text, text_len, ref)) != BT_OK) goto done;
    ch.t = t;

    /* the URL: platform by host, kind by path */
    if (url_split(url, host, sizeof host, path, sizeof path)) {
        platform = platform_by_host(rules, host);
        /* a page whose software the extension recognised (any Mastodon server) */
        for (size_t p = 0; platform < 0 && software != NULL && p < rules->n_platforms; p++)
            if (rules->platforms[p].has_software && strcmp(rules->platforms[p].id, software) == 0) platform = (int)p;
        if (platform >= 0) {
            const platform_rule *pl = &rules->platforms[platform];
            for (size_t q = 0; q < pl->n_paths && path_kind < 0; q++)
                if (regexec(&pl->paths[q].re, path, 0, NULL, 0) == 0) path_kind = pl->paths[q].kind;
        } else if (strncmp(url, "http", 4) == 0) {
            foreign = 1;
        }
    }

    /* Quotation marks: a phrase inside quotes, with text around them, is
     * someone reporting a notice (news, a post), not the notice. */
    size_t outside = outside_quotes(t, n);

    size_t head = n; /* a notice is short: its concepts are in the first BT_CLASSIFY_NGRAM_BYTES */
    if (head > BT_CLASSIFY_NGRAM_BYTES) {
        head = BT_CLASSIFY_NGRAM_BYTES;
        while (head > 0 && ((unsigned char)t[head] & 0xC0) == 0x80) head--;
    }
    ev.text_at = n - nxl;
    rc = ref ? gather_reference(&ev, &ch, rules, t, n, outside, head)
             : gather_indexed(&ev, &ch, rules, t, n, outside, head);
    if (rc != BT_OK) goto done;
    appeal_states_unsupported(&ch, rules, head);
    quoted_states_dropped(&ch, t, outside);
    concepts_found cf;
    concepts_read(&cf, rules, &ch, t, head, n - nxl);
    int score = ev.positive;
    if (path_kind >= 0) {
        score += rules->w_path;
        ev.kind_score[path_kind] += rules->w_path;
    }
    float *f = out->features;
    f[F_phrase] = (float)(ev.phrases < 3 ? ev.phrases : 3);
    f[F_label] = (float)(ev.labels < 3 ? ev.labels : 3);
    f[F_path] = path_kind >= 0;
    f[F_named] = (float)ev.named_in_text; /* a page's title is the site's name */
    f[F_negative] = (float)(ev.negatives < 3 ? ev.negatives : 3);
    f[F_quoted] = (float)ev.quoted;
    f[F_short_text] = nxl <= rules->short_bytes; /* the notice's text: a page's title is the site's name */
    f[F_long_text] = n > 1500;
    f[F_concept_full] = (float)cf.seen_level[4];
    f[F_concept_addressed] = (float)cf.seen_level[3];
    f[F_concept_object] = (float)cf.seen_level[2];
    f[F_concept_bare] = (float)cf.seen_level[1];
    f[F_full_sentences] = (float)(cf.full_sentences < 3 ? cf.full_sentences : 3);
    f[F_other_account] = (float)cf.other;
    f[F_addressed] = (float)cf.addressed;
    f[F_reason] = ev.reason >= 0;
    int state_kinds = 0;
    for (size_t k = 0; k < rules->n_kinds; k++)
        if (cf.states & (1u << k)) {
            state_kinds++;
            if (rules->dominant[k]) f[F_appeal_state] = 1;
        }
    f[F_state_kinds] = (float)(state_kinds < 3 ? state_kinds : 3);
    f[F_state_first_line] = (float)cf.first_line;
    f[F_negative_full] = ev.negatives > 0 && cf.seen_level[4];
    f[F_hypothetical] = (float)(cf.hypothetical < 3 ? cf.hypothetical : 3);
    f[F_negated] = (float)(cf.negated || ev.negated);
    f[F_own_action] = (float)cf.own_action;
    f[F_contact] = (float)cf.contact;
    f[F_failure] = (float)cf.failure;
    for (size_t k = 0; k < rules->n_kinds; k++) {
        if (rules->level_feature[k] >= 0) f[rules->level_feature[k]] = (float)cf.level[k] / 4.0f;
        for (int c = 0; c < 16 && rules->who_feature[k] >= 0; c++)
            f[rules->who_feature[k] + c] = (float)((cf.who[k] >> c) & 1u);
    }
    double grams;
    int gram_kind;
    if ((rc = ngrams_score(rules, t, n, &grams, &gram_kind)) != BT_OK) goto done;
    f[F_ngrams] = (float)grams;

    if (rules->has_model) {
        /* Bantrail keeps platforms' notices: a page on a host that is no
         * platform's (and whose software was not recognised) is none */
        out->notice = bt_classify_model_decide(&rules->model, f, &out->score) && !foreign;
    } else { /* rules without a model: the phrases' score alone */
        if (score > 0 && ev.negatives == 0 && !ev.quoted && nxl <= rules->short_bytes) score += rules->w_short;
        score -= ev.negatives * rules->w_neg + (ev.quoted ? rules->w_quoted : 0) + (foreign ? rules->w_foreign : 0);
        out->score = score;
        out->notice = (ev.positive > 0 || path_kind >= 0) && score >= rules->threshold;
    }

    if (platform < 0) platform = ev.name_platform;
    if (platform >= 0) copy_str(out->platform, sizeof out->platform, rules->platforms[platform].id);

    int best_lang = -1;
    for (size_t l = 0; l < rules->n_langs; l++)
        if (ev.lang_hits[l] > 0 && (best_lang < 0 || ev.lang_hits[l] > ev.lang_hits[best_lang])) best_lang = (int)l;
    if (best_lang >= 0) {
        copy_str(out->lang, sizeof out->lang, rules->langs[best_lang]);
    } else if (lang != NULL) {
        size_t ll = strcspn(lang, "-_");
        if (ll < sizeof out->lang) {
            memcpy(out->lang, lang, ll);
            out->lang[ll] = '\0';
            for (char *c = out->lang; *c; c++)
                if (*c >= 'A' && *c <= 'Z') *c = (char)(*c - 'A' + 'a');
        }
    }

    /* The kind: a phrase outweighs a sentence of concepts; an appeal answer
     * wins when a phrase says so, and ties; between restrictions, a tie goes
     * to the kind stated first (the heading says what it is: "Action
     * blocked", then "your account is restricted from..."), then to priority;
     * with no such evidence, the kind the text's n-grams point to. */
    int best = -1, total[KINDS_MAX];
    for (size_t k = 0; k < rules->n_kinds; k++) total[k] = 2 * ev.kind_score[k] + cf.level[k];
    /* a phrase of a kind no sentence stated as itself, only beside a place, a security
     * reason, a scope or an action, is read as the sentences were ("you have been banned"
     * from this chat) */
    for (size_t k = 0; k < rules->n_kinds; k++)
        if (cf.moved[k] && cf.level[k] == 0 && ev.kind_score[k] > 0) {
            total[cf.moved[k] - 1] += 2 * ev.kind_score[k];
            total[k] = 0;
        }
    for (int pass = 1; pass >= 0 && best < 0; pass--) /* dominant kinds first */
        for (size_t k = 0; k < rules->n_kinds; k++) /* priority order breaks ties */
            if (total[k] > 0 && (pass == 0 || (rules->dominant[k] && ev.kind_score[k] > 0)) &&
                (best < 0 || total[k] > total[best] ||
                 (total[k] == total[best] && !rules->dominant[k] && !rules->dominant[best] &&
                  cf.first_at[k] < cf.first_at[best])))
                best = (int)k;
    /* a reinstatement no phrase states and no "we" speaks, only concepts as strong as those of a
     * restriction stated before it, in an earlier sentence or an earlier clause of its own, is that
     * restriction: "Your account was locked. Click the link below to unlock it." and "您的帐号已锁定,
     * 请解锁后登录" tell how to undo the lock; "アカウントの利用停止が解除されました" (the suspension
     * was lifted), one clause, is a reinstatement */
    if (best >= 0 && best == rules->reinstated && ev.kind_score[best] == 0 && !(cf.who[best] & WHO_WE)) {
        int restriction = -1;
        for (size_t k = 0; k < rules->n_kinds; k++)
            if (!rules->dominant[k] && total[k] == total[best] &&
                (restriction < 0 || cf.first_at[k] < cf.first_at[restriction]))
                restriction = (int)k;
        if (restriction >= 0 &&
            (cf.first_at[restriction] < cf.first_at[best] ||
             (cf.first_at[restriction] == cf.first_at[best] && cf.first_pos[restriction] < cf.first_pos[best] &&
              clause_break(t, cf.first_pos[restriction], cf.first_pos[best]))))
            best = restriction;
    }
    int day_first = 0, have_facts = 0;
    for (size_t d = 0; d < rules->n_day_first; d++)
        if (strcmp(rules->day_first[d], out->lang) == 0) day_first = 1;
    /* a use given back after a stated time, no phrase saying it is a reinstatement ("Sie können den
     * Befehl in 10 Sekunden wieder nutzen", "du kannst WhatsApp wieder verwenden in 3 Stunden"), is
     * the restriction still running: the one with the most evidence, or a throttle if it lasts
     * minutes or seconds */
    if (best >= 0 && best == rules->reinstated && ev.kind_score[best] == 0) {
        extract_facts(rules, t, n, day_first, &out->facts, ref);
        have_facts = 1;
        int restriction = -1;
        for (size_t k = 0; k < rules->n_kinds && out->facts.duration[0] != '\0'; k++)
            if (!rules->dominant[k] && total[k] > 0 && (restriction < 0 || total[k] > total[restriction]))
                restriction = (int)k;
        if (restriction < 0 && lasts_minutes(out->facts.duration)) restriction = rules->throttle_to;
        if (restriction >= 0) best = restriction;
    }
    /* a suspension or restriction that lasts minutes or seconds ("locked for 15 minutes") is a throttle,
     * and so is a lock read as a checkpoint that does, or a suspension or restriction beside a rate
     * limit's words ("try again later", "limit reached") unless said to be permanent */
    int locked = 0; /* a state of a kind that can be a throttle was stated, as itself or read as another */
    for (size_t k = 0; k < rules->n_kinds; k++)
        if ((rules->throttle_from & (1u << k)) && (cf.level[k] > 0 || cf.moved[k])) locked = 1;
    if (best >= 0 && ((rules->throttle_from & (1u << best)) || (best == rules->checkpoint && locked)) &&
        rules->throttle_to >= 0) {
        if (!have_facts) extract_facts(rules, t, n, day_first, &out->facts, ref);
        have_facts = 1;
        if (lasts_minutes(out->facts.duration) ||
            (best != rules->checkpoint && cf.level[rules->throttle_to] > 0 && !cf.permanent))
            best = rules->throttle_to;
    }
    /* an account locked that only an administrator or support unlocks ("your account is locked,
     * contact the administrator": a checkpoint's phrase, a suspension's state) is a suspension:
     * there is nothing to prove */
    if (best >= 0 && best == rules->checkpoint && cf.contact && cf.level[best] == 0 && rules->suspension >= 0 &&
        cf.level[rules->suspension] > 0)
        best = rules->suspension;
    /* a suspension said to be permanent ("banned forever", "für immer gesperrt") is disabled */
    if (cf.permanent && best == rules->suspension && rules->disabled >= 0) best = rules->disabled;
    /* and a disabled one said to be so for a time ("temporarily disabled") is a suspension */
    else if (cf.temporary && !cf.permanent && best == rules->disabled && rules->suspension >= 0) best = rules->suspension;
    if (best >= 0) copy_str(out->evidence_kind, sizeof out->evidence_kind, rules->kinds[best]);
    if (best < 0) best = gram_kind;
    if (best < 0) out->notice = 0; /* evidence of no kind at all: nothing to say what it is */
    if (out->notice) {
        if (best >= 0) copy_str(out->kind, sizeof out->kind, rules->kinds[best]);
        if (ev.reason >= 0) {
            copy_str(out->reason, sizeof out->reason, rules->reasons[ev.reason].key);
            copy_str(out->category, sizeof out->category, rules->reasons[ev.reason].category);
        }
        if (!have_facts) extract_facts(rules, t, n, day_first, &out->facts, ref);
    } else if (have_facts) {
        memset(&out->facts, 0, sizeof out->facts); /* a text that is no notice states no facts */
        out->facts.days_left = -1;
    }

    /* however the notice is spaced: its line breaks as spaces */
    for (char *br = memchr(nx, '\n', nxl); br != NULL; br = memchr(br, '\n', nxl - (size_t)(br - nx))) *br = ' ';
    crypto_generichash_state fp;
    crypto_generichash_init(&fp, NULL, 0, sizeof out->fingerprint);
    crypto_generichash_update(&fp, (const unsigned char *)out->platform, strlen(out->platform) + 1);
    crypto_generichash_update(&fp, (const unsigned char *)out->kind, strlen(out->kind) + 1);
    crypto_generichash_update(&fp, (const unsigned char *)nx, nxl);
    crypto_generichash_final(&fp, out->fingerprint, sizeof out->fingerprint);
    rc = BT_OK;
done:
    /* no copy of the notice is left in freed memory */
    if (nx != NULL) sodium_memzero(nx, nxl);
    if (t != NULL) sodium_memzero(t, n);
    free(nx);
    free(t);
    free(ch.h);
    return rc;
}

bt_err bt_classify_text_with(bt_classification *out, const bt_classify_rules *rules, const char *url,
                             const char *title, const char *lang, const char *text, size_t text_len)
{
    return classify(out, rules, url, NULL, title, lang, text, text_len, 0);
}

bt_err bt_classify_text_reference(bt_classification *out, const bt_classify_rules *rules, const char *url,
                                  const char *title, const char *lang, const char *text, size_t text_len)
{
    return classify(out, rules, url, NULL, title, lang, text, text_len, 1);
}

bt_err bt_classify_text(bt_classification *out, const char *url, const char *title, const char *lang,
                        const char *text)
{
    return bt_classify_text_as(out, NULL, url, title, lang, text);
}

bt_err bt_classify_text_as(bt_classification *out, const char *software, const char *url, const char *title,
                           const char *lang, const char *text)
{
    if (text == NULL) {
        memset(out, 0, sizeof *out);
        out->facts.days_left = -1;
        return BT_ERR_BAD_PARAMS;
    }
    return classify(out, NULL, url, software, title, lang, text, strlen(text), 0);
}

static json_object *str_or_null(const char *s)
{
    return s[0] ? json_object_new_string(s) : NULL;
}

json_object *bt_classify_to_json(const bt_classification *c)
{
    json_object *o = json_object_new_object(), *facts = json_object_new_object(), *dates = json_object_new_array();
    if (o == NULL || facts == NULL || dates == NULL) {
        json_object_put(o);
        json_object_put(facts);
        json_object_put(dates);
        return NULL;
    }
    json_object_object_add(o, "notice", json_object_new_boolean(c->notice));
    json_object_object_add(o, "platform", str_or_null(c->platform));
    json_object_object_add(o, "kind", str_or_null(c->kind));
    json_object_object_add(o, "reason", str_or_null(c->reason));
    json_object_object_add(o, "category", str_or_null(c->category));
    json_object_object_add(o, "lang", str_or_null(c->lang));
    json_object_object_add(o, "score", json_object_new_int(c->score));
    for (size_t i = 0; i < c->facts.n_dates && i < BT_CLASSIFY_DATES_MAX; i++)
        json_object_array_add(dates, json_object_new_string(c->facts.dates[i]));
    json_object_object_add(facts, "dates", dates);
    json_object_object_add(facts, "days_left", c->facts.days_left >= 0 ? json_object_new_int64(c->facts.days_left) : NULL);
    json_object_object_add(facts, "duration", str_or_null(c->facts.duration));
    json_object_object_add(facts, "handle", str_or_null(c->facts.handle));
    json_object_object_add(o, "facts", facts);
    return o;
}
