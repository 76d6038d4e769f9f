/* The union's collector (docs/DESIGN.md section 8, docs/REPORT.md): its secret
 * key on disk, the store of received reports (SQLite, WAL) and the figures.
 * It links the report format (report.h) and kdf.h, nothing of the person's
 * core.
 *
 * The store (a SQLite file or a PostgreSQL database) keeps each report as integer columns, never the sealed bytes,
 * never an address or a receipt time. Reports are deduplicated by report id
 * (the latest received wins); a sealed report received before is refused as
 * a replay (its digest is remembered). The first report of an id brings the
 * report's public key, kept with the id (also after a withdrawal): a later
 * report or a withdrawal of that id must be signed by it. */
#ifndef BANTRAIL_COLLECT_H
#define BANTRAIL_COLLECT_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
#include "bantrail/error.h"
#include "bantrail/report.h"
#include "bantrail/kdf.h"

#define BT_COLLECT_DB "reports.sqlite"
#define BT_COLLECT_KEYFILE "union.key"
#define BT_COLLECT_ENTRY "union.json"
#define BT_COLLECT_MIN_CELL 10      /* export suppresses cells below this */

typedef struct bt_collect bt_collect;

typedef enum { BT_COLLECT_JSON, BT_COLLECT_CSV, BT_COLLECT_HTML } bt_collect_format;
typedef enum { BT_COLLECT_WEEKLY, BT_COLLECT_APPEALS } bt_collect_table;

typedef struct {
    unsigned char id[BT_REPORT_ID_BYTES];
    int updated;                   /* an earlier report with this id was replaced (or withdrawn) */
    int withdrawn;                 /* it was a withdrawal: the report no longer counts */
} bt_collect_result;

/* Creates a key pair, wraps the secret key under Argon2id(pass) (kdf NULL:
 * bt_kdf_default()) and writes it to path (O_EXCL, O_NOFOLLOW, 0600).
 * pk receives the public key, token_pub (when not NULL) the public half of
 * the token key derived from it (bt_collect_token_public). BT_ERR_WEAK_PASSPHRASE below
 * BT_PASSPHRASE_MIN bytes; BT_ERR_STORAGE when path exists or cannot be
 * written. */
bt_err bt_collect_keygen(const char *path, const char *pass, size_t pass_len, const bt_kdf_params *kdf,
                         unsigned char pk[crypto_box_PUBLICKEYBYTES], unsigned char *token_pub);

/* Reads the key file at path and unwraps the secret key with pass into sk,
 * which the caller allocated with sodium_malloc (crypto_box_SECRETKEYBYTES).
 * BT_ERR_WRONG_PASSPHRASE, BT_ERR_CORRUPT (the key does not match its public
 * key or the file is malformed), BT_ERR_NOT_FOUND, BT_ERR_STORAGE. */
bt_err bt_collect_key_load(const char *path, const char *pass, size_t pass_len,
                           unsigned char pk[crypto_box_PUBLICKEYBYTES], unsigned char *sk);

/* Reads only the public key of the key file at path. */
bt_err bt_collect_key_public(const char *path, unsigned char pk[crypto_box_PUBLICKEYBYTES]);

/* Opens (creating its tables) the store: a SQLite file's path, or a
 * postgresql:// (postgres://) connection string (libpq's, docs/ADMIN.md).
 * durable: every accepted report is committed durably (SQLite
 * synchronous=FULL, PostgreSQL synchronous_commit on: the receiver);
 * otherwise not (bulk ingestion, reports). *out owns it; release with
 * bt_collect_close. BT_ERR_BUSY when PostgreSQL cannot be reached,
 * BT_ERR_STORAGE otherwise; why (may be NULL) gets a line saying why
 * (libpq's message, which names no password). */
bt_err bt_collect_open(bt_collect **out, const char *store, int durable, char *why, size_t why_len);

/* "sqlite" or "postgresql". */
const char *bt_collect_store_kind(const bt_collect *c);

/* Closes the store and wipes the key. Accepts NULL. */
void bt_collect_close(bt_collect *c);

/* Copies the union key pair (the secret into sodium_malloc memory) and the
 * proof-of-work difficulty that bt_collect_submit demands. */
bt_err bt_collect_set_key(bt_collect *c, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                          const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned difficulty);

/* Also opens reports sealed to the union's previous key pair (a key
 * rotation, docs/ADMIN.md section 5): a report whose key id is not the
 * current key's is tried with it. The secret is copied into sodium_malloc
 * memory. */
bt_err bt_collect_set_previous_key(bt_collect *c, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                                   const unsigned char sk[crypto_box_SECRETKEYBYTES]);

#define BT_COLLECT_PREVIOUS_KEYFILE "previous.key"

/* Turns membership tokens on (docs/REPORT.md section 5) under policy, after
 * bt_collect_set_key: the token key is derived from the union's secret key
 * (bt_token_key) and must have the public half pub that the union entry
 * announces (else BT_ERR_CORRUPT). BT_TOKENS_OFF turns them off. */
bt_err bt_collect_set_tokens(bt_collect *c, bt_tokens_policy policy, const unsigned char pub[BT_TOKEN_POINT_BYTES]);

/* The token key's public half for the union's secret key sk (what keygen
 * writes into the entry as token_key). */
bt_err bt_collect_token_public(const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned char pub[BT_TOKEN_POINT_BYTES]);

#define BT_COLLECT_INVITE_BYTES 16

/* A new invite code worth count tokens (1..BT_COLLECT_INVITE_MAX), for the
 * union to hand one member. Only BLAKE2b-256 of the code is stored. */
#define BT_COLLECT_INVITE_MAX 10000
bt_err bt_collect_invite(bt_collect *c, unsigned count, unsigned char code[BT_COLLECT_INVITE_BYTES]);

/* Issues n tokens (1..BT_TOKEN_BATCH_MAX) against invite code: z[i] = k·m[i]
 * with a DLEQ proof each (token.h), taking n from the code's budget in one
 * transaction. BT_ERR_BAD_INVITE (with *why) when the code is unknown or has
 * fewer than n left, BT_ERR_BAD_PARAMS when an m is not a point,
 * BT_ERR_LOCKED when tokens are off; nothing changes on error. *left: what
 * the code has left. The store keeps nothing of m or z. */
bt_err bt_collect_issue(bt_collect *c, const unsigned char code[BT_COLLECT_INVITE_BYTES],
                        const unsigned char (*m)[BT_TOKEN_POINT_BYTES], size_t n,
                        unsigned char (*z)[BT_TOKEN_POINT_BYTES], unsigned char (*proof)[BT_TOKEN_PROOF_BYTES],
                        int64_t *left, const char **why);

/* Opens, checks and stores one sealed report or withdrawal (base64 text,
 * exact; bt_report_open_signed). Outside a batch it commits before
 * returning. A report of a new id is stored with its key; a report or a
 * withdrawal of a known id must be signed by the key its first report
 * brought. Errors as bt_report_open_signed, plus BT_ERR_NOT_OWNER (another
 * key, or a report stored before keys, which nobody can change), BT_ERR_NOT_FOUND
 * (a withdrawal of an id never received), BT_ERR_REPLAYED (these sealed bytes
 * were stored before), BT_ERR_BAD_TOKEN (a member report whose token does
 * not check, or tokens are off), BT_ERR_TOKEN_SPENT (its token was spent
 * before), BT_ERR_TOKEN_REQUIRED (a new report without a token under
 * BT_TOKENS_REQUIRED), BT_ERR_LOCKED (no key set) and BT_ERR_STORAGE; on
 * every error nothing changes. A report enters the figures ("counted") when
 * it spent a token or tokens are off; under BT_TOKENS_COUNTED one without
 * is kept apart. An update keeps its report's standing. *why (may be NULL) gets a static reason on
 * failure. */
bt_err bt_collect_submit(bt_collect *c, const char *wire, size_t len, bt_collect_result *res,
                         const char **why);

/* Groups the following submits into one transaction (bulk ingestion). */
bt_err bt_collect_begin(bt_collect *c);
bt_err bt_collect_commit(bt_collect *c);

/* Number of distinct reports stored (counted or not). */
bt_err bt_collect_count(bt_collect *c, int64_t *n);

/* The figures (docs/REPORT.md "Figures") in fmt: *out is malloc'd and
 * NUL-terminated, the caller frees it. */
bt_err bt_collect_report(bt_collect *c, bt_collect_format fmt, char **out, size_t *len);
/* The same, the html page in lang ("en", "fr", "ko"; others are "en"):
 * labels in words, the data's period, the date (SOURCE_DATE_EPOCH's when
 * set) and the suppression rule (docs/REPORT.md, "The figures page"). */
bt_err bt_collect_report_in(bt_collect *c, bt_collect_format fmt, const char *lang, char **out, size_t *len);

/* Open data as CSV: table's cells, each count below min_cell (at least
 * BT_COLLECT_MIN_CELL) written as "<min_cell". *out malloc'd. */
bt_err bt_collect_export(bt_collect *c, bt_collect_table table, int min_cell, char **out, size_t *len);

#endif
