/* Anonymous reports for a users' union (docs/DESIGN.md section 8, docs/REPORT.md).
 *
 * A report is a small JSON object of closed enums (schema v2; v1, from
 * before the DSA Transparency Database's 2025 lists, is still accepted). This module
 * checks one strictly, renders its one canonical form, and moves it over the
 * wire: canonical JSON -> sodium_pad to 1 KiB blocks -> crypto_box_seal to
 * the union's X25519 key -> envelope with a proof of work -> base64.
 *
 * Client side (host / CLI):  bt_report_parse (or fill a bt_report), then
 *                            bt_report_seal with the pinned bt_union entry.
 * Collector side:            bt_report_open, which authenticates, checks the
 *                            work, unpads and validates before returning. */
#ifndef BANTRAIL_REPORT_H
#define BANTRAIL_REPORT_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
#include "bantrail/error.h"
#include "bantrail/token.h"

#define BT_REPORT_SCHEMA 2              /* "v" of the reports made now */
#define BT_REPORT_SCHEMA_OLDEST 1       /* the oldest "v" still accepted */
/* Not a "v": the figures' lists of categories and keywords (schema 2's,
 * then the schema 1 values without a schema 2 equivalent), which
 * bt_report_enum_* and bt_report_words_key name. */
#define BT_REPORT_FIGURES 0
#define BT_REPORT_KEYWORD_WORDS 2       /* 64-bit words of a keyword set: up to 128 keywords */
#define BT_REPORT_ID_BYTES 16           /* random report id */
#define BT_REPORT_KEY_ID_BYTES 8        /* first 8 bytes of BLAKE2b-256(public key) */
#define BT_REPORT_BLOCK 1024            /* sodium_pad block size */
#define BT_REPORT_MAX_BLOCKS 4
#define BT_REPORT_JSON_MAX (BT_REPORT_BLOCK * BT_REPORT_MAX_BLOCKS - 1)
#define BT_REPORT_MAGIC "BTR2"           /* "BTR1" (before sender keys) is refused */
#define BT_REPORT_HEADER_BYTES (4 + BT_REPORT_KEY_ID_BYTES + BT_REPORT_ID_BYTES) /* 28 */
#define BT_REPORT_NONCE_BYTES 8
/* envelope = magic | key id | report id | sealed | pow nonce */
#define BT_REPORT_ENVELOPE_BYTES(blocks) \
    (BT_REPORT_HEADER_BYTES + crypto_box_SEALBYTES + (blocks) * BT_REPORT_BLOCK + BT_REPORT_NONCE_BYTES)
#define BT_REPORT_ENVELOPE_MAX BT_REPORT_ENVELOPE_BYTES(BT_REPORT_MAX_BLOCKS) /* 4180 */
#define BT_REPORT_WIRE_MAX (((BT_REPORT_ENVELOPE_MAX + 2) / 3) * 4)        /* 5576 base64 chars */
#define BT_REPORT_POW_MAX 24            /* highest difficulty (leading zero bits) accepted */
/* The difficulty a new union announces unless it chooses another (keygen
 * --difficulty) and the demo union's: about 2^20 BLAKE2b tries a report, so
 * one core seals a few reports a second (tests/bench/bench_collect.c). */
#define BT_REPORT_POW_DEFAULT 20
#define BT_REPORT_KEYWORDS_MAX 8        /* DSA keywords per report */
/* The sealed plaintext opens with who may change the report (docs/REPORT.md
 * section 3): kind | Ed25519 public key | signature, then the JSON (a
 * report) or nothing (a withdrawal). The key is the report's own, made from
 * a random seed its sender keeps in their log; one key per report id. */
#define BT_REPORT_SEED_BYTES crypto_sign_SEEDBYTES                 /* 32 */
#define BT_REPORT_AUTH_BYTES (1 + crypto_sign_PUBLICKEYBYTES + crypto_sign_BYTES) /* 97 */
#define BT_REPORT_KIND_REPORT 'R'
#define BT_REPORT_KIND_WITHDRAW 'W'
/* A report that spends a membership token: the token (t | N, token.h)
 * comes between the signature and the JSON, and the signature covers it. */
#define BT_REPORT_KIND_MEMBER 'M'
#define BT_REPORT_SIGN_CONTEXT "bantrail-report-v2"

/* The closed enums. Every field's value 0 means "absent"; names are looked
 * up with bt_report_list_name (a schema's) or bt_report_enum_name (the
 * figures'). Only the category and keyword lists differ between schemas. */
typedef enum {
    BT_RF_PLATFORM,
    BT_RF_KIND,
    BT_RF_CATEGORY,     /* DSA STATEMENT_CATEGORY_* */
    BT_RF_KEYWORD,      /* DSA KEYWORD_*, bit (value - 1) of the set bt_report.keywords */
    BT_RF_DURATION,     /* stated duration bucket */
    BT_RF_OFFERED,      /* appeal offered: yes / no / unknown */
    BT_RF_OUTCOME,      /* appeal outcome */
    BT_RF_DELAY,        /* appeal response delay bucket */
    BT_RF_ACCOUNT_TYPE,
    BT_RF_PAID,         /* paid verification: no / yes */
    BT_RF_COUNTRY,      /* ISO 3166-1 alpha-2 */
    BT_RF_COUNT_
} bt_report_field;

/* A validated report in integer form (what the collector stores). Its
 * category and keywords are values of its own schema's lists. */
typedef struct {
    uint8_t v;              /* the schema: 1 or 2 */
    unsigned char id[BT_REPORT_ID_BYTES];
    uint32_t client;        /* major << 20 | minor << 10 | patch */
    uint8_t platform;       /* required */
    uint8_t kind;           /* required */
    uint8_t category;       /* 0: no reason stated */
    uint64_t keywords[BT_REPORT_KEYWORD_WORDS]; /* bit i % 64 of word i / 64: keyword value i + 1 */
    int32_t week;           /* ISO year * 100 + ISO week, required */
    uint8_t duration;       /* required */
    uint8_t offered;        /* required */
    uint8_t submitted;      /* 0 or 1 */
    uint8_t outcome;        /* 0 iff not submitted */
    uint8_t delay;          /* 0 iff not submitted */
    uint8_t account_type;   /* 0: not given */
    uint8_t paid;           /* 0: not given */
    uint16_t country;       /* 0: not given */
} bt_report;

/* A union's policy on membership tokens (docs/REPORT.md section 5), in its
 * entry as "tokens": absent (off), "counted" or "required". */
typedef enum {
    BT_TOKENS_OFF,      /* issues none: every valid report counts */
    BT_TOKENS_COUNTED,  /* reports without a token are kept, but the figures count them apart */
    BT_TOKENS_REQUIRED, /* a report without a token is refused (token_required) */
} bt_tokens_policy;

/* A union's entry (docs/REPORT.md "Union entry"), pinned by the person. */
typedef struct {
    char id[65];
    char name[129];
    char homepage[513];
    char submit_url[513];
    char policy_url[513];
    unsigned char public_key[crypto_box_PUBLICKEYBYTES];
    unsigned char key_id[BT_REPORT_KEY_ID_BYTES];
    unsigned pow_difficulty;
    bt_tokens_policy tokens;                         /* BT_TOKENS_OFF: no token_key */
    unsigned char token_key[BT_TOKEN_POINT_BYTES];   /* the token key's public half (token.h) */
} bt_union;

/* Schema's list of field f (schema 1, 2 or BT_REPORT_FIGURES; only the
 * category and keyword lists differ): its number of names (values run
 * 1..count; 0 for a bad f or schema), the name of value v (NULL when v is 0
 * or out of range), the value of a name (0 when it is not one). */
int bt_report_list_count(int schema, bt_report_field f);
const char *bt_report_list_name(int schema, bt_report_field f, int v);
int bt_report_list_value(int schema, bt_report_field f, const char *name);

/* The same in the figures' lists (BT_REPORT_FIGURES). */
int bt_report_enum_count(bt_report_field f);
const char *bt_report_enum_name(bt_report_field f, int v);
int bt_report_enum_value(bt_report_field f, const char *name);

/* The key of value v of field f (the figures' lists) in the person's words
 * (words.h: the extension's locale files), written to out (cap bytes):
 * "kind_suspension", "rcategory_STATEMENT_CATEGORY_...", ... Returns out, or
 * NULL when v is 0 or out of range, or f is a country (its ISO code is its
 * own label). */
char *bt_report_words_key(char *out, size_t cap, bt_report_field f, int v);

/* Value v of a category or keyword (f) in schema 1 or 2 -> its value in the
 * figures' lists (docs/REPORT.md section 1, "Both schemas in the figures"):
 * schema 2's is its own; schema 1's is its schema 2 equivalent, or its own
 * place after schema 2's when it has none. 0 when v is not in schema's list. */
int bt_report_to_figures(int schema, bt_report_field f, int v);

/* A report's stated category (0: none) and keyword set in schema 1 or 2 ->
 * the figures' (schema 1 keywords that became one keyword count once).
 * -1 when a value is not in the schema's lists (a store edited by hand). */
int bt_report_stated_figures(int schema, int category, const uint64_t keywords[BT_REPORT_KEYWORD_WORDS],
                             int *fig_category, uint64_t fig_keywords[BT_REPORT_KEYWORD_WORDS]);

/* Fills id with fresh randomness. A new case gets a new id; an id is reused
 * only to update the same case for the same union. */
void bt_report_new_id(unsigned char id[BT_REPORT_ID_BYTES]);

/* The key id of an X25519 public key: BLAKE2b-256(pk), first 8 bytes. */
void bt_report_key_id(unsigned char kid[BT_REPORT_KEY_ID_BYTES],
                      const unsigned char pk[crypto_box_PUBLICKEYBYTES]);

/* The bucketing the anonymising function uses (docs/REPORT.md section 1), so
 * that the boundaries live in one place. Each returns a value of its field.
 * duration: the stated duration in seconds (< 0: none stated), or permanent.
 * delay: seconds from submitting the appeal to the decision (< 0: none yet).
 * week: the ISO 8601 week (YYYY*100+WW) of a UTC time, 0 outside 2020-2099. */
int bt_report_duration_bucket(int64_t seconds, int permanent);
int bt_report_delay_bucket(int64_t seconds);
int32_t bt_report_week_of(int64_t unix_seconds);

/* Validates json (len bytes, need not be NUL-terminated) against schema 1
 * or 2, as its "v" says (each schema's own category and keyword lists):
 * strict UTF-8 JSON, closed enums, no unknown or missing members, cross-field
 * rules. Does not demand the canonical form. On failure returns
 * BT_ERR_BAD_REPORT and, when why is not NULL, points it at a static reason. */
bt_err bt_report_parse(bt_report *out, const char *json, size_t len, const char **why);

/* Checks the rules bt_report_parse checks on a report filled in by hand. */
bt_err bt_report_check(const bt_report *r, const char **why);

/* Writes r's canonical JSON (the one form the collector accepts), NUL-
 * terminated, into out (cap bytes) and its length into *len.
 * BT_ERR_BAD_REPORT when r breaks a rule, BT_ERR_RESULT_TOO_LARGE when cap
 * is too small (BT_REPORT_JSON_MAX + 1 always suffices). */
bt_err bt_report_render(char *out, size_t cap, size_t *len, const bt_report *r);

/* Who may change a report: what bt_report_open_signed found inside the box. */
typedef struct {
    int withdrawal;                                 /* a withdrawal of the report id, no report */
    unsigned char key[crypto_sign_PUBLICKEYBYTES];  /* the report's key, whose signature held */
    int has_token;                                  /* a member report: token is what it spends */
    bt_token token;                                 /* unchecked: the collector checks it */
} bt_report_auth;

/* Client side. Renders r canonically, puts before it the report's public
 * key (from seed) and its signature over BT_REPORT_SIGN_CONTEXT | kind |
 * u's key id | r's id | JSON, pads it to whole 1 KiB blocks, seals it
 * to u's public key, finds a proof of work at u's difficulty and writes the
 * base64 envelope, NUL-terminated, to out (cap >= BT_REPORT_WIRE_MAX + 1).
 * seed: the report's signing seed (BT_REPORT_SEED_BYTES, the same for every
 * update of the report id, kept by its sender); NULL: a fresh one, thrown
 * away, so that the report can never be updated or withdrawn.
 * tok: a membership token to spend (a member report, kind 'M'), or NULL.
 * Every plaintext temporary is wiped. */
bt_err bt_report_seal(char *out, size_t cap, size_t *len, const bt_report *r, const bt_union *u,
                      const unsigned char *seed, const bt_token *tok);

/* Client side: the withdrawal of report id, signed with the report's seed
 * (the one its reports were sealed with), sealed and worked like a report. */
bt_err bt_report_seal_withdrawal(char *out, size_t cap, size_t *len, const unsigned char id[BT_REPORT_ID_BYTES],
                                 const bt_union *u, const unsigned char seed[BT_REPORT_SEED_BYTES]);

/* Collector side. Decodes wire (exact base64, no whitespace), checks the
 * envelope's size and version, the key id, the proof of work (difficulty
 * leading zero bits), opens the sealed box with pk/sk, checks the padding is
 * minimal and valid, parses, demands the canonical form and that the JSON's
 * report_id equals the envelope's. Returns BT_OK and fills *out and, when
 * digest is not NULL, BLAKE2b-256 of the envelope without its nonce (the
 * same sealed bytes always give the same digest, whatever the nonce: used to
 * recognise replays). Errors: BT_ERR_FRAME_TOO_LARGE,
 * BT_ERR_BAD_ENVELOPE, BT_ERR_WRONG_KEY, BT_ERR_BAD_POW, BT_ERR_CORRUPT (the
 * box does not open), BT_ERR_BAD_REPORT; *why gets a static reason. */
bt_err bt_report_open(bt_report *out, unsigned char digest[32], const char *wire, size_t wire_len,
                      const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                      const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned difficulty,
                      const char **why);

/* bt_report_open that also accepts a withdrawal and says who signed:
 * inside the box, the kind, the report's public key and its signature must
 * hold (else BT_ERR_BAD_REPORT). For a withdrawal *out has only its id; for
 * a member report auth->token is the token it spends (not yet checked).
 * Whether that key may change the id is the collector's question
 * (bt_collect_submit). bt_report_open refuses withdrawals (BT_ERR_BAD_REPORT). */
bt_err bt_report_open_signed(bt_report *out, bt_report_auth *auth, unsigned char digest[32], const char *wire,
                             size_t wire_len, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                             const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned difficulty,
                             const char **why);

/* Parses and checks a union entry (strict: all members, no others; https
 * URLs, or http only to 127.0.0.1/localhost/[::1]; public_key base64 of
 * exactly 32 bytes; key_id matching it; difficulty 0..BT_REPORT_POW_MAX;
 * "tokens" and "token_key" both or neither, the key a valid ristretto255
 * point).
 * BT_ERR_BAD_PARAMS with *why on failure. */
bt_err bt_report_union_parse(bt_union *out, const char *json, size_t len, const char **why);

/* Renders a union entry as JSON (NUL-terminated) into out. */
bt_err bt_report_union_render(char *out, size_t cap, size_t *len, const bt_union *u);

/* The demo union built into Bantrail, for trying sharing on this computer:
 * its key pair comes from a published seed, so anyone can read what is sent
 * to it. bantrail-collect serve --demo receives for it on 127.0.0.1:8470.
 * (Named for sharing, where the person meets it; defined with the report
 * format so that the collector links it without the person's core.) */
void bt_share_demo_union(bt_union *out);

/* The demo union's key pair (see above). */
void bt_share_demo_keypair(unsigned char pk[crypto_box_PUBLICKEYBYTES], unsigned char sk[crypto_box_SECRETKEYBYTES]);

#endif
