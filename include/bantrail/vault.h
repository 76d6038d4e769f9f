/* The vault: an encrypted, tamper-evident, append-only log in SQLite
 * (docs/DESIGN.md section 5, docs/SECURITY.md).
 *
 * Every entry has a header (small JSON) and an optional body (bytes, e.g. a
 * PNG), each sealed with XChaCha20-Poly1305 under keys derived from the
 * writing session's key. Appending needs only the log's public key; reading
 * needs the secret key, which the passphrase (or the recovery code, or before
 * any passphrase the unprotected key file) unwraps. */
#ifndef BANTRAIL_VAULT_H
#define BANTRAIL_VAULT_H

#include <stddef.h>
#include <stdint.h>
#include <sodium.h>
#include "bantrail/error.h"
#include "bantrail/kdf.h" /* bt_kdf_params, BT_PASSPHRASE_MIN/MAX */

#define BT_VAULT_FORMAT 1          /* entry format, bound into each entry's AD */
#define BT_VAULT_SCHEMA 2          /* SQLite schema, PRAGMA user_version */
#define BT_HASH_BYTES 32
#define BT_RECOVERY_CODE_MAX 64    /* buffer size for a recovery code */
#define BT_VAULT_DB "log.sqlite"
#define BT_VAULT_KEYFILE "unprotected.key"

typedef struct bt_vault bt_vault;

typedef enum {
    BT_VAULT_UNPROTECTED, /* no passphrase chosen yet: readable with the key file */
    BT_VAULT_LOCKED,
    BT_VAULT_UNLOCKED
} bt_vault_state;

typedef struct {
    int64_t entries;
    int64_t sessions;
    int has_recovery;         /* a recovery code wraps the secret key */
    int recovery_pending;     /* a newer one is made but not yet confirmed */
    int passphrase_pending;   /* a new passphrase is set but not yet confirmed: the earlier one is in force */
    int64_t damaged_at;       /* the first entry this handle saw fail its link of the chain
                               * (reading, appending after it, verify), 0 while none did */
    int wal_lost;             /* the write-ahead file was removed or cut while in use: damaged_at is
                               * where what was committed in it, now missing, began */
    unsigned char head[BT_HASH_BYTES]; /* chain head (genesis hash when empty) */
} bt_vault_stats;

typedef struct {
    int64_t checked;          /* entries whose hash was recomputed */
    int64_t bad_id;           /* first entry that fails, 0 when the chain holds */
    const char *reason;       /* static text when bad_id != 0 */
    unsigned char head[BT_HASH_BYTES];
} bt_vault_verify_result;

typedef struct {
    int64_t id;
    int64_t session;
    size_t head_len, body_len; /* ciphertext sizes */
} bt_vault_entry_info;

/* Opens the log in folder dir (created 0700 if missing, files 0600), creating
 * the key pair and the unprotected key file on first use. On success *out
 * owns the vault; release it with bt_vault_close. */
bt_err bt_vault_open(bt_vault **out, const char *dir);

/* Stops the writing session, wipes every secret and closes. Accepts NULL. */
void bt_vault_close(bt_vault *v);

bt_vault_state bt_vault_state_of(bt_vault *v);

/* The log's newest X25519 public key (crypto_box_PUBLICKEYBYTES), borrowed:
 * the one to seal captures to. */
const unsigned char *bt_vault_public_key(const bt_vault *v);

/* Unwraps the secret key with the passphrase. BT_ERR_WRONG_PASSPHRASE on a
 * wrong one; BT_OK at once in the unprotected state. */
bt_err bt_vault_unlock(bt_vault *v, const char *pass, size_t pass_len);

/* A lost passphrase reset with the recovery code (spaces and dashes
 * ignored): bt_vault_set_passphrase's first step, the code standing for the
 * old passphrase; bt_vault_confirm_passphrase makes it the one in force. The
 * code is used up by it: the confirmation's transaction deletes its wrap, so
 * it opens nothing written from then on, and it opens nothing on its own: a
 * code is good for one reset, never for unlocking (issue 13). On any failure
 * the vault is left locked.
 * BT_ERR_WRONG_PASSPHRASE for a wrong or used code, BT_ERR_WEAK_PASSPHRASE
 * and bt_vault_set_passphrase's errors. */
bt_err bt_vault_reset_passphrase(bt_vault *v, const char *code, const char *pass, size_t pass_len,
                                 const bt_kdf_params *params);

/* Wipes the secret key, every cached session key and the new key of a
 * passphrase change waiting for its confirmation. */
void bt_vault_lock(bt_vault *v);

/* Sets the passphrase, in two steps, so that a change whose answer is lost
 * on its way (the reply cut, the program killed) leaves the person knowing
 * which passphrase works. This first step (old may be NULL before one is
 * set, or when the vault is unlocked through the recovery code) makes a new
 * key pair and wraps it under pass with Argon2id params (NULL: the
 * defaults), and keeps it waiting: until bt_vault_confirm_passphrase,
 * nothing changes and only what was in force (the old passphrase, the key
 * file, the recovery code) opens the log; stats say passphrase_pending. A
 * second call replaces a change still waiting. The vault is unlocked
 * afterwards. BT_ERR_LOCKED if another handle made a newer key pair. */
bt_err bt_vault_set_passphrase(bt_vault *v, const char *old, size_t old_len,
                               const char *pass, size_t pass_len,
                               const bt_kdf_params *params);

/* The second step: the waiting passphrase and its key pair become the ones
 * in force, in one transaction: what is written from now on is sealed to
 * it, and nothing older than it (a copy of the folder, the old passphrase,
 * the recovery code, the unprotected key file, all of which are retired)
 * opens it; the new key still opens every older record, and the vault is
 * unlocked with it. The handle that set it needs no passphrase; any other
 * gives the new one (BT_ERR_PASSPHRASE_REQUIRED, BT_ERR_WRONG_PASSPHRASE).
 * BT_ERR_NOT_FOUND when no change waits (or the key changed elsewhere
 * since, which voids it). */
bt_err bt_vault_confirm_passphrase(bt_vault *v, const char *pass, size_t pass_len);

/* The Argon2id parameters that wrap the key now (zeros when none). */
bt_err bt_vault_kdf_params(bt_vault *v, bt_kdf_params *out);

/* Makes a new recovery code, wraps the newest secret key under it and
 * writes it, NUL-terminated, to code (BT_RECOVERY_CODE_MAX bytes). Needs the
 * secret key. The code is shown once and never stored. It waits: until
 * bt_vault_confirm_recovery_code, the earlier code (if any) is the one in
 * force and the new one resets nothing, so a code lost on its way to the
 * person (the reply cut, the program killed) loses nothing and two codes
 * never work at once; stats say recovery_pending meanwhile. A
 * second call replaces a code still waiting. Every code lasts until the
 * next set_passphrase. */
bt_err bt_vault_new_recovery_code(bt_vault *v, char code[BT_RECOVERY_CODE_MAX]);

/* Says the newest recovery code reached the person: it is the one in force
 * from now on and the earlier one stops working, in one transaction.
 * BT_ERR_NOT_FOUND when no new code waits. */
bt_err bt_vault_confirm_recovery_code(bt_vault *v);

/* Appends an entry in its own durable transaction and sets *id. Works while
 * locked. head is the JSON header, body may be NULL. Moves
 * BT_VAULT_MARK_SCANNED along as it says. */
bt_err bt_vault_append(bt_vault *v, const char *head, size_t head_len,
                       const unsigned char *body, size_t body_len, int64_t *id);

/* Several appends that must land together or not at all (a capture and the
 * mark that says it was delivered): between begin and end, bt_vault_append
 * writes into one transaction, which end commits (commit nonzero) or rolls
 * back. Nothing else may be called on v meanwhile but appends and reads.
 * BT_ERR_INTERNAL when begin is called twice or end without begin. */
bt_err bt_vault_batch_begin(bt_vault *v);
bt_err bt_vault_batch_end(bt_vault *v, int commit);

/* Decrypts entry id. *head (NUL-terminated) and, when body is not NULL,
 * *body are sodium_malloc'd: release them with bt_vault_free. An entry
 * without a body gives *body NULL and *body_len 0. */
bt_err bt_vault_read(bt_vault *v, int64_t id, char **head, size_t *head_len,
                     unsigned char **body, size_t *body_len);

/* Decrypts the headers of up to limit entries with id > after, in id
 * order, and calls fn for each with what bt_vault_entries gives and err
 * BT_OK with head (NUL-terminated after head_len bytes, borrowed and wiped
 * once fn returns), or the entry's error (BT_ERR_CORRUPT) and head NULL. fn returns nonzero to stop. *last is the
 * last id given to fn (after when none). Faster than bt_vault_read in a loop
 * (one statement, one buffer). BT_ERR_LOCKED without the secret key (or when
 * an entry needs a newer key pair than the one unlocked), storage errors. */
bt_err bt_vault_read_each(bt_vault *v, int64_t after, int limit,
                          int (*fn)(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *head,
                                    size_t head_len),
                          void *ctx, int64_t *last);

/* bt_vault_read_each, but the entries up to id known, whose headers the
 * caller already holds (the index), are only checked (format, their own
 * link of the chain, their session's key) and not opened: fn gets err
 * BT_OK and head NULL for them. known -1: every entry is opened. */
bt_err bt_vault_check_each(bt_vault *v, int64_t after, int limit, int64_t known,
                           int (*fn)(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *head,
                                     size_t head_len),
                           void *ctx, int64_t *last);

/* The index's snapshot (index.h), in two parts kept beside the log as
 * BT_VAULT_DB "-index" (part 0: one sealed text) and "-index-entries"
 * (part 1: a save's token, then sealed segments, appended to), each
 * encrypted and authenticated under a key derived from the newest secret
 * key and bound to this log's genesis and to its part, a segment also to
 * its save's token and its number: only this log's readers read it. All
 * need the log readable (BT_ERR_LOCKED).
 *
 * save: under an exclusive lock of part 1, writes m1 (n1 bytes) as segment
 * seg of part 1 at offset off, then m0 (n0 bytes) as part 0, whole (through
 * .tmp and rename); *end is then where part 1 ends. off 0 (and seg 0)
 * starts part 1 anew with token; off > 0 appends to the file of that token
 * only if it still ends at off (nobody wrote it since the caller learnt
 * off): BT_ERR_NOT_FOUND, nothing written, when not. BT_ERR_STORAGE. Not
 * flushed (a cache: a save cut by a crash does not open).
 * load: part 0, sodium_malloc'd (release with bt_vault_free).
 * segments: calls fn with each of part 1's first count segments, opened
 * (borrowed), in order, stopping at fn's first nonzero (BT_ERR_CORRUPT);
 * *end is where the last one ends.
 * load and segments: BT_ERR_NOT_FOUND when there is no file, BT_ERR_CORRUPT
 * when it does not open (cut, altered, another log's, another key pair's,
 * the other part's, another save's, a segment moved), BT_ERR_STORAGE. The
 * caller checks that what they say still describes the log, and that both
 * parts are of one save. */
#define BT_VAULT_INDEX_TOKEN 16
#define BT_VAULT_INDEX_SEGMENT(n) ((size_t)8 + 24 + (n) + 16) /* its bytes in the file, m1 of n bytes sealed */
bt_err bt_vault_index_save(bt_vault *v, const unsigned char token[BT_VAULT_INDEX_TOKEN], uint64_t seg, uint64_t off,
                           const unsigned char *m1, size_t n1, const unsigned char *m0, size_t n0, uint64_t *end);
bt_err bt_vault_index_load(bt_vault *v, unsigned char **m, size_t *n);
bt_err bt_vault_index_segments(bt_vault *v, const unsigned char token[BT_VAULT_INDEX_TOKEN], uint64_t count,
                               int (*fn)(void *ctx, const unsigned char *m, size_t n), void *ctx, uint64_t *end);

/* The cases the index last derived (index.h), kept beside the snapshot as
 * BT_VAULT_DB "-index-cases" (part 2: one sealed text, under the snapshot's
 * key, its AD naming part 2), so that listing cases reads only that. save:
 * m (n bytes) sealed and written whole (through .tmp and rename; not
 * flushed). load: opened, sodium_malloc'd (release with bt_vault_free).
 * Errors as the snapshot's; the caller checks that it still describes the
 * log. */
bt_err bt_vault_index_cases_save(bt_vault *v, const unsigned char *m, size_t n);
bt_err bt_vault_index_cases_load(bt_vault *v, unsigned char **m, size_t *n);

/* Opens a box sealed to one of the log's public keys (crypto_box_seal), such as a
 * capture the extension kept while the host was away. Needs the secret key
 * (BT_ERR_LOCKED otherwise); BT_ERR_CORRUPT when it does not open. *m is
 * sodium_malloc'd, NUL-terminated after *m_len bytes: release it with
 * bt_vault_free. */
bt_err bt_vault_open_sealed(bt_vault *v, const unsigned char *c, size_t c_len, unsigned char **m, size_t *m_len);

/* Wipes and frees what bt_vault_read returned. Accepts NULL. */
void bt_vault_free(void *p);

/* Marks: named numbers kept beside the log, in clear and outside the hash
 * chain, for work that need not be done again (where a scan may start).
 * Never anything secret. A mark never set reads as 0.
 * BT_VAULT_MARK_SCANNED: the entries up to it hold no sealed box kept
 * unopened (inbox.h). A new log has it at 0, and an append by a handle that
 * can read the log (unlocked or unprotected: such a handle opens a box, it
 * never keeps one) moves it onto its entry, in the same transaction, when it
 * was on the entry just before; an append while locked leaves it, and so
 * does every later one, until a scan moves it. A log made before it has
 * none until its first scan. */
#define BT_VAULT_MARK_SCANNED "sealed_scanned"
bt_err bt_vault_mark(bt_vault *v, const char *name, int64_t *value);
bt_err bt_vault_set_mark(bt_vault *v, const char *name, int64_t value);

/* Calls fn for up to limit entries with id > after, in id order. fn returns
 * nonzero to stop early. *last is the last id visited (after when none). */
bt_err bt_vault_entries(bt_vault *v, int64_t after, int limit,
                        int (*fn)(void *ctx, const bt_vault_entry_info *e),
                        void *ctx, int64_t *last);

/* Recomputes the hash chain without any key. BT_OK when it was read through;
 * r->bad_id tells whether it holds. */
bt_err bt_vault_verify(bt_vault *v, bt_vault_verify_result *r);

/* The log's counts, head and state: cheap (small indexes and the last row),
 * so that hello, every CLI command and every capture may ask. */
bt_err bt_vault_stats_of(bt_vault *v, bt_vault_stats *s);

/* The ciphertext bytes stored, every entry's: it reads every row (about
 * 0.1 s a 20,000 entries), so only `stats` asks. */
bt_err bt_vault_stored_bytes(bt_vault *v, int64_t *bytes);

/* The chain hash stored with entry id (no key needed), in the log file
 * there now (one replaced since is opened, as before every read): it
 * covers the entry's ciphertext and the hash before it, so it fixes every
 * entry up to id.
 * id 0 gives the genesis hash. BT_ERR_NOT_FOUND when there is no such entry,
 * BT_ERR_CORRUPT when the stored hash is malformed. bt_vault_verify tells
 * whether the stored hashes hold. */
bt_err bt_vault_entry_hash(bt_vault *v, int64_t id, unsigned char out[BT_HASH_BYTES]);

/* The id (*id) and chain hash (head) of the last entry this handle appended:
 * committed, or appended in the batch still open (what a batch rolled back
 * appended is forgotten). What a writer acknowledges with it, a reader can
 * later ask the log for (bt_vault_entry_hash): a log cut short or replaced
 * by an older copy no longer leads through it. BT_ERR_NOT_FOUND (*id 0) when
 * this handle appended nothing to the file there now. */
bt_err bt_vault_last_written(const bt_vault *v, int64_t *id, unsigned char head[BT_HASH_BYTES]);

typedef struct {
    int recovered;            /* 0: the log was intact, nothing was done */
    int64_t upto;             /* the last entry id found in the damaged file */
    int64_t kept, lost;       /* of ids 1..upto: copied, or lost (a "lost" entry in their place) */
    int cut;                  /* SQLite could read nothing past upto: the file was cut or its end damaged */
    char damaged_file[96];    /* the damaged file's new name, in the log's folder */
} bt_vault_recovery;

/* When the log is damaged (verify fails, or v saw an entry fail its link),
 * copies every entry that reads (its own link holds and it decrypts) into
 * a new log under the same key pairs and wraps, with the same ids: its
 * entry 0, the first of a new chain, says where it came from (the damaged
 * file's name and BLAKE2b-256, its write-ahead file's, the ids kept and
 * lost, a "lost" entry standing in for each id lost). The damaged file and
 * its write-ahead file are renamed beside it (out->damaged_file), never
 * changed or removed, and v goes on with the new log. Needs the secret key
 * (BT_ERR_LOCKED). A log found intact is left as it is, out->recovered 0. */
bt_err bt_vault_recover(bt_vault *v, int64_t now, bt_vault_recovery *out);

/* The default Argon2id parameters for new passphrases: bt_kdf_default() (kdf.h),
 * under the name the method layer calls. */
bt_kdf_params bt_vault_default_kdf(void);

#endif
