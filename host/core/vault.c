/* The vault. Decisions beyond docs/DESIGN.md section 5, written down here:
 *
 * - One table of entries holds records and their attachments alike; what an
 *   entry is (a notice, an attachment of entry N, ...) is inside its header
 *   ciphertext, so nothing but id, session, sizes and hash is in clear.
 * - Entry keys: crypto_kdf from the writing session's key, subkey id = entry
 *   id, context "btentry1" for the header and "btbody01" for the body.
 * - AD = entry id (u64 LE) || format (u8) || previous chain hash.
 * - Chain: h[0] = BLAKE2b-256("bantrail-log-v1" || public key);
 *   h[i] = BLAKE2b-256(h[i-1] || id || session id || BLAKE2b(sealed session
 *   key) || nonce || len(head) || head || len(body) || body), integers u64 LE.
 *   Hashing the sealed session key into every entry of its session covers it
 *   by the chain.
 * - Key wraps: XChaCha20-Poly1305 of the secret key with AD = wrap kind ||
 *   public key, under Argon2id (passphrase), BLAKE2b keyed by a salt
 *   (128-bit random recovery code), or a random key in a 0600 file
 *   (unprotected, before any passphrase).
 * - Key epochs: setting or changing the passphrase makes a new key pair
 *   (epoch n + 1) and wraps only that one; the secret key of epoch n is
 *   kept sealed to the new public key (epochs.prev_sk), so that the newest
 *   secret key opens every older one, and no older key opens anything newer.
 *   Every other wrap (the unprotected key file, the recovery code) wraps the
 *   older key and is deleted. A session's key is sealed to the public key of
 *   the epoch it began in (sessions.epoch). The chain's genesis keeps the
 *   first public key (meta public_key).
 */
#include "bantrail/vault.h"
#include "bantrail/paths.h"
#include "bantrail/records.h" /* the names of the entries recovery writes */
#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define PK_BYTES crypto_box_PUBLICKEYBYTES
#define SK_BYTES crypto_box_SECRETKEYBYTES
#define SKEY_BYTES crypto_kdf_KEYBYTES
#define SEALED_BYTES (crypto_box_SEALBYTES + SKEY_BYTES)
#define NONCE_BYTES crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES crypto_aead_xchacha20poly1305_ietf_ABYTES
#define WRAP_KEY_BYTES crypto_aead_xchacha20poly1305_ietf_KEYBYTES
#define AD_BYTES (8 + 1 + BT_HASH_BYTES)
#define CACHE_SLOTS 8
#define RECOVERY_BYTES 16

enum sk_source { SK_NONE, SK_KEYFILE, SK_PASSPHRASE, SK_RECOVERY };

/* Statements on the hot paths (capture, read, state), prepared once per handle. */
enum { HOT_BEGIN, HOT_COMMIT, HOT_LAST, HOT_INSERT, HOT_SESSION, HOT_READ, HOT_WRAP, HOT_EPOCH, HOT_LINK, HOT_SCANNED,
       HOT_COUNT_ };

struct bt_vault {
    sqlite3 *db;
    char *dir;
    unsigned char genesis_pk[PK_BYTES]; /* the first epoch's public key: the chain's genesis */
    unsigned char pk[PK_BYTES];         /* the newest epoch's, to which sessions are sealed */
    int64_t epoch;                      /* the newest epoch */
    unsigned char *sk;          /* sodium_malloc, valid when sk_source != SK_NONE */
    unsigned char *older;       /* sodium_malloc, the secret keys of epochs older_from .. epoch - 1 */
    int64_t older_from;         /* the oldest epoch opened (epoch when none) */
    enum sk_source sk_source;
    int is_protected;           /* a passphrase wrap was seen (none is ever removed) */
    /* writing session */
    unsigned char *wkey;        /* sodium_malloc, NULL until the first append */
    unsigned char wsealed[SEALED_BYTES];
    unsigned char wsealed_hash[BT_HASH_BYTES];
    int64_t wsession;           /* 0 until its sealed key is stored */
    /* opened session keys */
    unsigned char *cache;       /* sodium_malloc, CACHE_SLOTS * SKEY_BYTES */
    int64_t cache_id[CACHE_SLOTS];
    int cache_next;
    sqlite3_stmt *hot[HOT_COUNT_]; /* prepared once: see hot_sql */
    int64_t damaged_at;         /* the first entry seen to fail its link, 0 while none was */
    int count_indexed;          /* the file has COUNT_INDEX (check_tail) */
    char *db_path;              /* the log's file, and the one this connection opened */
    dev_t db_dev;
    ino_t db_ino;
    char *shm_path;             /* SQLite's shared-memory file, and the one this connection maps */
    dev_t shm_dev;
    ino_t shm_ino;
    char *wal_path;             /* SQLite's write-ahead file, and the one this connection writes */
    dev_t wal_dev;
    ino_t wal_ino;
    off_t wal_size;             /* its size when last seen: it never shrinks while connections are open */
    int wal_lost;               /* the write-ahead file was removed or cut under a writer (wal_short) */
    int64_t last_written;       /* the last entry this handle appended */
    unsigned char last_written_hash[BT_HASH_BYTES]; /* its chain hash */
    int64_t batch_prev_written; /* last_written, and its hash, when the batch began */
    unsigned char batch_prev_hash[BT_HASH_BYTES];
    int batch;                  /* inside bt_vault_batch_begin .. end: appends share one transaction */
    int batch_new_session;      /* the batch stored the writing session's key */
    unsigned char *pending_sk;  /* sodium_malloc: the new key pair's secret key of a passphrase change
                                 * this handle made and that waits for its confirmation */
};

/* Connections this process holds on logs (the host and the CLI are single
 * threads). The checks that open SQLite's files themselves (wal_short,
 * file_cut_short) run only while it holds none: closing a file descriptor
 * drops every POSIX lock the process holds on that file, SQLite's among
 * them. Recovery reads the damaged file through SQLite's own (file_hash). */
static int connections_open;

/* The columns of an entry read to open it (row_check), the entry's id last:
 * one statement reads one entry, the other a run of them. */
#define ENTRY_COLUMNS "e.session, e.version, e.nonce, e.head, e.body, s.sealed, s.epoch," \
                      " (SELECT hash FROM entries p WHERE p.id = e.id - 1), e.hash, e.id" \
                      " FROM entries e LEFT JOIN sessions s ON s.id = e.session"

static const char *const hot_sql[] = {
    [HOT_BEGIN] = "BEGIN IMMEDIATE",
    [HOT_COMMIT] = "COMMIT",
    [HOT_LAST] = "SELECT id, hash FROM entries ORDER BY id DESC LIMIT 1",
    [HOT_INSERT] = "INSERT INTO entries(id, session, version, nonce, head, body, hash) VALUES (?,?,?,?,?,?,?)",
    /* a new id above every session an entry names, even if rows were removed */
    [HOT_SESSION] = "INSERT INTO sessions(id, sealed, epoch) VALUES (1 + max(coalesce((SELECT max(id) FROM sessions), 0),"
                    " coalesce((SELECT session FROM entries ORDER BY id DESC LIMIT 1), 0)), ?, ?)",
    [HOT_READ] = "SELECT " ENTRY_COLUMNS " WHERE e.id = ?",
    [HOT_WRAP] = "SELECT salt, opslimit, memlimit, nonce, ct FROM keywrap WHERE kind = ?",
    [HOT_EPOCH] = "SELECT epoch, pk FROM epochs ORDER BY epoch DESC LIMIT 1",
    [HOT_LINK] = "SELECT e.session, e.nonce, e.head, e.body, e.hash, s.sealed,"
                 " (SELECT hash FROM entries p WHERE p.id = e.id - 1)"
                 " FROM entries e LEFT JOIN sessions s ON s.id = e.session WHERE e.id = ?",
    /* BT_VAULT_MARK_SCANNED onto the entry appended, when it was on the one before */
    [HOT_SCANNED] = "UPDATE meta SET value = ?1 WHERE key = 'mark:" BT_VAULT_MARK_SCANNED "' AND value = ?1 - 1",
};

static const char *const schema_v1 =
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value BLOB NOT NULL);"
    "CREATE TABLE keywrap(kind TEXT PRIMARY KEY, salt BLOB, opslimit INTEGER NOT NULL,"
    " memlimit INTEGER NOT NULL, nonce BLOB NOT NULL, ct BLOB NOT NULL);"
    "CREATE TABLE sessions(id INTEGER PRIMARY KEY, sealed BLOB NOT NULL);"
    "CREATE TABLE entries(id INTEGER PRIMARY KEY, session INTEGER NOT NULL,"
    " version INTEGER NOT NULL, nonce BLOB NOT NULL, head BLOB NOT NULL, body BLOB,"
    " hash BLOB NOT NULL);";

/* Key epochs (see the top of this file); a log of schema 1 has one. */
static const char *const schema_v2 =
    "CREATE TABLE epochs(epoch INTEGER PRIMARY KEY, pk BLOB NOT NULL, prev_sk BLOB);"
    "INSERT INTO epochs(epoch, pk) SELECT 1, value FROM meta WHERE key = 'public_key';"
    "ALTER TABLE sessions ADD COLUMN epoch INTEGER NOT NULL DEFAULT 1;";

/* Migrations: migrations[n] takes schema n to n + 1. */
static const char *const migrations[BT_VAULT_SCHEMA] = {schema_v1, schema_v2};

static void put_u64(unsigned char *p, uint64_t x)
{
    for (int i = 0; i < 8; i++) p[i] = (unsigned char)(x >> (8 * i));
}

static void hash_u64(crypto_generichash_state *st, uint64_t x)
{
    unsigned char b[8];
    put_u64(b, x);
    crypto_generichash_update(st, b, sizeof b);
}

static void genesis(unsigned char out[BT_HASH_BYTES], const unsigned char pk[PK_BYTES])
{
    crypto_generichash_state st;
    static const char tag[] = "bantrail-log-v1";
    crypto_generichash_init(&st, NULL, 0, BT_HASH_BYTES);
    crypto_generichash_update(&st, (const unsigned char *)tag, sizeof tag - 1);
    crypto_generichash_update(&st, pk, PK_BYTES);
    crypto_generichash_final(&st, out, BT_HASH_BYTES);
}

static void entry_hash(unsigned char out[BT_HASH_BYTES], const unsigned char prev[BT_HASH_BYTES],
                       int64_t id, int64_t session, const unsigned char shash[BT_HASH_BYTES],
                       const unsigned char *nonce, const unsigned char *head, size_t head_len,
                       const unsigned char *body, size_t body_len)
{
    crypto_generichash_state st;
    crypto_generichash_init(&st, NULL, 0, BT_HASH_BYTES);
    crypto_generichash_update(&st, prev, BT_HASH_BYTES);
    hash_u64(&st, (uint64_t)id);
    hash_u64(&st, (uint64_t)session);
    crypto_generichash_update(&st, shash, BT_HASH_BYTES);
    crypto_generichash_update(&st, nonce, NONCE_BYTES);
    hash_u64(&st, head_len);
    crypto_generichash_update(&st, head, head_len);
    hash_u64(&st, body_len);
    if (body_len > 0) crypto_generichash_update(&st, body, body_len);
    crypto_generichash_final(&st, out, BT_HASH_BYTES);
}

/* Whether stored (stored_len bytes) is the hash of an entry's content and
 * the hash before it: the entry's own link of the chain. */
static int link_holds(const unsigned char prev[BT_HASH_BYTES], int64_t id, int64_t session, const void *sealed,
                      size_t sealed_len, const unsigned char *nonce, const void *head, size_t head_len,
                      const void *body, size_t body_len, const void *stored, size_t stored_len)
{
    unsigned char shash[BT_HASH_BYTES], hash[BT_HASH_BYTES];
    if (sealed == NULL || stored == NULL || stored_len != BT_HASH_BYTES) return 0;
    crypto_generichash(shash, sizeof shash, sealed, sealed_len, NULL, 0);
    entry_hash(hash, prev, id, session, shash, nonce, head, head_len, body, body_len);
    return sodium_memcmp(hash, stored, sizeof hash) == 0;
}

/* The hash entry id's link starts from, from column col of st (the stored
 * hash of entry id - 1): the genesis for the first entry, which is entry 1,
 * or entry 0 in a log made by bt_vault_recover. 0 when it is malformed. */
static int prev_hash(const bt_vault *v, sqlite3_stmt *st, int col, int64_t id, unsigned char prev[BT_HASH_BYTES]);

static void make_ad(unsigned char ad[AD_BYTES], int64_t id, const unsigned char prev[BT_HASH_BYTES])
{
    put_u64(ad, (uint64_t)id);
    ad[8] = BT_VAULT_FORMAT;
    memcpy(ad + 9, prev, BT_HASH_BYTES);
}

/* ---- SQLite helpers ---- */

/* A full disk is SQLITE_FULL when SQLite could write part of a page (or the
 * file system said ENOSPC), and SQLITE_IOERR when a write could not begin
 * past the size allowed (EFBIG) or the quota (EDQUOT): the errno SQLite's own
 * unix VFS reports (its xGetLastError) is the one its failed call left. */
static bt_err sql_err(int rc)
{
    int e = errno;
    if (rc == SQLITE_BUSY || rc == SQLITE_LOCKED) return BT_ERR_BUSY;
    if (rc == SQLITE_NOMEM) return BT_ERR_NO_MEMORY;
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) return BT_ERR_CORRUPT;
    if (rc == SQLITE_FULL) return BT_ERR_DISK_FULL;
    if (rc == SQLITE_IOERR && bt_err_from_errno(e) == BT_ERR_DISK_FULL) return BT_ERR_DISK_FULL;
    return BT_ERR_STORAGE;
}

static bt_err exec(sqlite3 *db, const char *sql)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    return rc == SQLITE_OK ? BT_OK : sql_err(rc);
}

/* Returns the reset, unbound hot statement which, preparing it on first use. */
static sqlite3_stmt *hot(bt_vault *v, int which, int *rc)
{
    sqlite3_stmt **st = &v->hot[which];
    *rc = SQLITE_OK;
    if (*st == NULL)
        *rc = sqlite3_prepare_v3(v->db, hot_sql[which], -1, SQLITE_PREPARE_PERSISTENT, st, NULL);
    else {
        sqlite3_reset(*st);
        sqlite3_clear_bindings(*st);
    }
    return *rc == SQLITE_OK ? *st : NULL;
}

/* Runs a hot statement that returns no rows. */
static bt_err hot_exec(bt_vault *v, int which)
{
    int rc;
    sqlite3_stmt *st = hot(v, which, &rc);
    if (st == NULL) return sql_err(rc);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

static void rollback(sqlite3 *db)
{
    if (!sqlite3_get_autocommit(db)) sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
}

/* Returns 1 and copies the blob when it has exactly n bytes, else 0. */
static int column_exact(sqlite3_stmt *st, int col, void *out, size_t n)
{
    if (sqlite3_column_type(st, col) != SQLITE_BLOB) return 0;
    if ((size_t)sqlite3_column_bytes(st, col) != n) return 0;
    memcpy(out, sqlite3_column_blob(st, col), n);
    return 1;
}

static int prev_hash(const bt_vault *v, sqlite3_stmt *st, int col, int64_t id, unsigned char prev[BT_HASH_BYTES])
{
    if (id <= 1 && sqlite3_column_type(st, col) == SQLITE_NULL) {
        genesis(prev, v->genesis_pk);
        return 1;
    }
    return id >= 1 && column_exact(st, col, prev, BT_HASH_BYTES);
}

/* ---- key wraps ---- */

typedef struct {
    unsigned char salt[crypto_pwhash_SALTBYTES];
    int has_salt;
    bt_kdf_params kdf;
    unsigned char nonce[NONCE_BYTES];
    unsigned char ct[SK_BYTES + TAG_BYTES];
} wrap_row;

static bt_err wrap_load(bt_vault *v, const char *kind, wrap_row *w)
{
    bt_err err = BT_ERR_NOT_FOUND;
    int rc;
    sqlite3_stmt *st = hot(v, HOT_WRAP, &rc);
    if (st == NULL) return sql_err(rc);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        w->has_salt = column_exact(st, 0, w->salt, sizeof w->salt);
        w->kdf.opslimit = (unsigned long long)sqlite3_column_int64(st, 1);
        w->kdf.memlimit = (size_t)sqlite3_column_int64(st, 2);
        err = column_exact(st, 3, w->nonce, sizeof w->nonce) &&
                      column_exact(st, 4, w->ct, sizeof w->ct)
                  ? BT_OK
                  : BT_ERR_CORRUPT;
    } else if (rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

static bt_err wrap_store(bt_vault *v, const char *kind, const wrap_row *w)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(v->db,
        "INSERT OR REPLACE INTO keywrap(kind, salt, opslimit, memlimit, nonce, ct)"
        " VALUES (?, ?, ?, ?, ?, ?)", -1, &st, NULL);
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
    if (w->has_salt) sqlite3_bind_blob(st, 2, w->salt, sizeof w->salt, SQLITE_STATIC);
    sqlite3_bind_int64(st, 3, (sqlite3_int64)w->kdf.opslimit);
    sqlite3_bind_int64(st, 4, (sqlite3_int64)w->kdf.memlimit);
    sqlite3_bind_blob(st, 5, w->nonce, sizeof w->nonce, SQLITE_STATIC);
    sqlite3_bind_blob(st, 6, w->ct, sizeof w->ct, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

static void wrap_ad(unsigned char *ad, size_t *ad_len, const char *kind, const unsigned char pk[PK_BYTES])
{
    size_t k = strlen(kind);
    memcpy(ad, kind, k);
    memcpy(ad + k, pk, PK_BYTES);
    *ad_len = k + PK_BYTES;
}

static void wrap_seal(wrap_row *w, const char *kind, const unsigned char *key,
                      const unsigned char *sk, const unsigned char pk[PK_BYTES])
{
    unsigned char ad[32 + PK_BYTES];
    size_t ad_len;
    wrap_ad(ad, &ad_len, kind, pk);
    randombytes_buf(w->nonce, sizeof w->nonce);
    crypto_aead_xchacha20poly1305_ietf_encrypt(w->ct, NULL, sk, SK_BYTES, ad, ad_len, NULL,
                                               w->nonce, key);
}

/* Opens w into sk_out (SK_BYTES). Returns 0, or -1 when authentication fails. */
static int wrap_open(const wrap_row *w, const char *kind, const unsigned char *key,
                     unsigned char *sk_out, const unsigned char pk[PK_BYTES])
{
    unsigned char ad[32 + PK_BYTES];
    size_t ad_len;
    wrap_ad(ad, &ad_len, kind, pk);
    return crypto_aead_xchacha20poly1305_ietf_decrypt(sk_out, NULL, NULL, w->ct, sizeof w->ct,
                                                      ad, ad_len, w->nonce, key);
}

/* Checks that sk really is the secret key of pk. */
static int sk_matches(const unsigned char *sk, const unsigned char pk[PK_BYTES])
{
    unsigned char derived[PK_BYTES];
    if (crypto_scalarmult_base(derived, sk) != 0) return 0;
    return sodium_memcmp(derived, pk, PK_BYTES) == 0;
}

/* ---- files ---- */

static char *path_join(const char *dir, const char *name)
{
    size_t n = strlen(dir) + 1 + strlen(name) + 1;
    char *p = malloc(n);
    if (p != NULL) snprintf(p, n, "%s/%s", dir, name);
    return p;
}

/* Writes the unprotected key file atomically (bt_file_write). */
static bt_err keyfile_write(const bt_vault *v, const unsigned char *key)
{
    char *dst = path_join(v->dir, BT_VAULT_KEYFILE);
    if (dst == NULL) return BT_ERR_NO_MEMORY;
    bt_err err = bt_file_write(dst, key, WRAP_KEY_BYTES, 0600, BT_FILE_REPLACE) == 0 ? BT_OK : bt_err_from_errno(errno);
    free(dst);
    return err;
}

/* Reads the unprotected key file into key (exactly WRAP_KEY_BYTES). */
static bt_err keyfile_read(const bt_vault *v, unsigned char *key)
{
    bt_err err = BT_ERR_STORAGE;
    char *path = path_join(v->dir, BT_VAULT_KEYFILE);
    unsigned char extra;
    int fd;
    if (path == NULL) return BT_ERR_NO_MEMORY;
    fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    free(path);
    if (fd < 0) return BT_ERR_STORAGE;
    if (read(fd, key, WRAP_KEY_BYTES) == (ssize_t)WRAP_KEY_BYTES && read(fd, &extra, 1) == 0)
        err = BT_OK;
    else
        sodium_memzero(key, WRAP_KEY_BYTES);
    close(fd);
    return err;
}

/* Overwrites and removes one key file, if there. */
static void wipe_file(const char *path)
{
    int fd = open(path, O_WRONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd >= 0) {
        unsigned char zero[WRAP_KEY_BYTES] = {0};
        (void)bt_file_write_all(fd, zero, sizeof zero);
        (void)fsync(fd);
        close(fd);
    }
    unlink(path);
}

/* Removes the unprotected key file, and the temporary copy a write cut
 * short may have left (bt_file_write's path.tmp). */
static void keyfile_remove(const bt_vault *v)
{
    char *path = path_join(v->dir, BT_VAULT_KEYFILE ".tmp");
    if (path == NULL) return;
    wipe_file(path);
    path[strlen(path) - 4] = '\0';
    wipe_file(path);
    free(path);
}

/* ---- secret key state ---- */

static void drop_sk(bt_vault *v)
{
    if (v->sk != NULL) sodium_memzero(v->sk, SK_BYTES);
    sodium_free(v->older);
    v->older = NULL;
    v->older_from = v->epoch;
    v->sk_source = SK_NONE;
    if (v->cache != NULL) sodium_memzero(v->cache, CACHE_SLOTS * SKEY_BYTES);
    for (int i = 0; i < CACHE_SLOTS; i++) v->cache_id[i] = 0;
}

static int has_wrap(bt_vault *v, const char *kind)
{
    wrap_row w;
    return wrap_load(v, kind, &w) == BT_OK;
}

/* Whether a passphrase is set, here or by another process. Once one is,
 * the answer cannot change, so it is asked of the database only until then. */
static int is_protected(bt_vault *v)
{
    if (!v->is_protected) v->is_protected = has_wrap(v, "passphrase");
    return v->is_protected;
}

/* ---- key epochs ---- */

/* Ends the writing session: the next append starts one sealed to the
 * newest public key. */
static void end_session(bt_vault *v)
{
    sodium_free(v->wkey);
    v->wkey = NULL;
    v->wsession = 0;
    sodium_memzero(v->wsealed, sizeof v->wsealed);
}

/* Reads the newest epoch and its public key. When another handle made a
 * newer one, the secret key held here (an older one) is dropped and the
 * writing session ends, so that nothing more is sealed to an older key. */
static bt_err load_epoch(bt_vault *v)
{
    unsigned char pk[PK_BYTES];
    bt_err err = BT_ERR_CORRUPT;
    int rc;
    sqlite3_stmt *st = hot(v, HOT_EPOCH, &rc);
    if (st == NULL) return sql_err(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && sqlite3_column_int64(st, 0) >= 1 && column_exact(st, 1, pk, PK_BYTES)) {
        int64_t e = sqlite3_column_int64(st, 0);
        err = BT_OK;
        if (e != v->epoch) {
            if (v->epoch != 0) {
                drop_sk(v);
                end_session(v);
            }
            v->epoch = v->older_from = e;
            memcpy(v->pk, pk, PK_BYTES);
        }
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

/* The secret key of epoch e, opening the older ones from the newest down
 * as far as needed (each is sealed to the next one's public key). NULL when
 * there is no such epoch or a key does not open. Needs v->sk. */
static const unsigned char *epoch_sk(bt_vault *v, int64_t e)
{
    if (e == v->epoch) return v->sk;
    if (e < 1 || e > v->epoch) return NULL;
    if (v->older == NULL && (v->older = sodium_malloc((size_t)(v->epoch - 1) * SK_BYTES)) == NULL) return NULL;
    while (v->older_from > e) {
        int64_t n = v->older_from; /* the key of epoch n opens that of n - 1 */
        const unsigned char *skn = n == v->epoch ? v->sk : v->older + (n - 1) * SK_BYTES;
        unsigned char pkn[PK_BYTES], sealed[crypto_box_SEALBYTES + SK_BYTES];
        sqlite3_stmt *st = NULL;
        int ok = sqlite3_prepare_v2(v->db, "SELECT prev_sk FROM epochs WHERE epoch = ?", -1, &st, NULL) == SQLITE_OK;
        sqlite3_bind_int64(st, 1, n);
        ok = ok && sqlite3_step(st) == SQLITE_ROW && column_exact(st, 0, sealed, sizeof sealed) &&
             crypto_scalarmult_base(pkn, skn) == 0 &&
             crypto_box_seal_open(v->older + (n - 2) * SK_BYTES, sealed, sizeof sealed, pkn, skn) == 0;
        sqlite3_finalize(st);
        if (!ok) return NULL;
        v->older_from = n - 1;
    }
    return v->older + (e - 1) * SK_BYTES;
}

/* Makes v->sk usable: already there, or from the key file while unprotected. */
static bt_err need_sk(bt_vault *v)
{
    if (v->sk_source == SK_KEYFILE && is_protected(v)) drop_sk(v); /* a passphrase was set elsewhere */
    if (v->sk_source != SK_NONE) return BT_OK;
    if (is_protected(v)) return BT_ERR_LOCKED;
    bt_err e = load_epoch(v);
    if (e != BT_OK) return e;

    wrap_row w;
    unsigned char *key = sodium_malloc(WRAP_KEY_BYTES);
    bt_err err;
    if (key == NULL) return BT_ERR_NO_MEMORY;
    err = wrap_load(v, "unprotected", &w);
    if (err == BT_OK) err = keyfile_read(v, key);
    if (err == BT_OK) {
        if (wrap_open(&w, "unprotected", key, v->sk, v->pk) == 0 && sk_matches(v->sk, v->pk))
            v->sk_source = SK_KEYFILE;
        else
            err = BT_ERR_CORRUPT;
    }
    sodium_free(key);
    if (err != BT_OK) drop_sk(v);
    return err;
}

/* ---- open / close ---- */

/* Runs sql with v->pk bound to its one parameter. */
static bt_err exec_pk(bt_vault *v, const char *sql)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(v->db, sql, -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(st, 1, v->pk, PK_BYTES, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

/* Makes the first key pair of a new log (whose tables exist). */
static bt_err create_log(bt_vault *v)
{
    unsigned char *sk = v->sk, *key = NULL;
    wrap_row w = {0};
    bt_err err;

    crypto_box_keypair(v->pk, sk);
    key = sodium_malloc(WRAP_KEY_BYTES);
    if (key == NULL) return BT_ERR_NO_MEMORY;
    crypto_aead_xchacha20poly1305_ietf_keygen(key);
    wrap_seal(&w, "unprotected", key, sk, v->pk);
    err = keyfile_write(v, key);
    sodium_free(key);
    drop_sk(v);
    if (err != BT_OK) return err;
    if ((err = wrap_store(v, "unprotected", &w)) != BT_OK) return err;
    if ((err = exec_pk(v, "INSERT INTO meta(key, value) VALUES ('public_key', ?)")) != BT_OK) return err;
    int rc = sqlite3_exec(v->db, "INSERT INTO meta(key, value) VALUES ('mark:" BT_VAULT_MARK_SCANNED "', 0)", NULL, NULL,
                          NULL); /* a new log: no box kept */
    if (rc != SQLITE_OK) return sql_err(rc);
    return exec_pk(v, "INSERT INTO epochs(epoch, pk) VALUES (1, ?)");
}

static bt_err load_public_key(bt_vault *v)
{
    sqlite3_stmt *st = NULL;
    bt_err err = BT_ERR_CORRUPT;
    int rc = sqlite3_prepare_v2(v->db, "SELECT value FROM meta WHERE key = 'public_key'", -1, &st, NULL);
    if (rc != SQLITE_OK) return sql_err(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW && column_exact(st, 0, v->genesis_pk, PK_BYTES)) err = BT_OK;
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE) err = sql_err(rc);
    sqlite3_finalize(st);
    return err == BT_OK ? load_epoch(v) : err;
}

/* Brings the schema to BT_VAULT_SCHEMA, creating the log when empty. */
static bt_err setup_schema(bt_vault *v)
{
    sqlite3_stmt *st = NULL;
    int version = -1, rc;
    bt_err err = exec(v->db, "BEGIN IMMEDIATE");
    if (err != BT_OK) return err;
    rc = sqlite3_prepare_v2(v->db, "PRAGMA user_version", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) version = sqlite3_column_int(st, 0);
    sqlite3_finalize(st);
    if (version < 0) err = sql_err(rc == SQLITE_OK ? sqlite3_errcode(v->db) : rc);
    else if (version > BT_VAULT_SCHEMA) err = BT_ERR_STORAGE; /* written by a newer Bantrail */
    for (int n = version; err == BT_OK && n < BT_VAULT_SCHEMA; n++) err = exec(v->db, migrations[n]);
    if (err == BT_OK && version == 0) err = create_log(v);
    if (err == BT_OK && version != BT_VAULT_SCHEMA) {
        char sql[64];
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", BT_VAULT_SCHEMA);
        err = exec(v->db, sql);
    }
    if (err == BT_OK) err = exec(v->db, "COMMIT");
    if (err != BT_OK) rollback(v->db);
    if (err == BT_OK) err = load_public_key(v);
    return err;
}

/* A damaged database must not read as a new or an empty log: every table
 * is there, and the small ones (keys, sessions) pass SQLite's quick check.
 * The entries, which can be large, are checked as they are read and by
 * verify. */
static bt_err check_structure(bt_vault *v)
{
    static const char *const tables[] = {"meta", "keywrap", "epochs", "sessions", "entries"};
    bt_err err = BT_OK;
    for (size_t i = 0; i < sizeof tables / sizeof tables[0] && err == BT_OK; i++) {
        char sql[96];
        sqlite3_stmt *st = NULL;
        snprintf(sql, sizeof sql, i + 1 < sizeof tables / sizeof tables[0] ? "PRAGMA quick_check(%s)"
                                                                           : "SELECT 'ok' FROM %s LIMIT 0", tables[i]);
        int rc = sqlite3_prepare_v2(v->db, sql, -1, &st, NULL);
        if (rc != SQLITE_OK) err = rc == SQLITE_ERROR ? BT_ERR_CORRUPT : sql_err(rc); /* no such table */
        else if ((rc = sqlite3_step(st)) == SQLITE_ROW)
            err = strcmp((const char *)sqlite3_column_text(st, 0), "ok") == 0 ? BT_OK : BT_ERR_CORRUPT;
        else if (rc != SQLITE_DONE)
            err = sql_err(rc);
        sqlite3_finalize(st);
    }
    return err;
}

static bt_err make_dir(const char *dir)
{
    struct stat sb;
    if (bt_paths_mkdirs(dir, 0700) != BT_OK) return BT_ERR_STORAGE;
    if (lstat(dir, &sb) != 0 || !S_ISDIR(sb.st_mode)) return BT_ERR_STORAGE;
    if ((sb.st_mode & 077) != 0 && chmod(dir, 0700) != 0) return BT_ERR_STORAGE;
    return BT_OK;
}

/* Creates the database file 0600 before SQLite does, so that its WAL and
 * shared-memory files inherit that mode. */
static bt_err precreate(const char *path)
{
    int fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) return BT_ERR_STORAGE;
    close(fd);
    return BT_OK;
}

/* Opens v->db on path with the log's settings (cut: a file cut short, to
 * be read only: attach_file). */
static bt_err connect(bt_vault *v, const char *path, int cut)
{
    int rc = sqlite3_open_v2(path, &v->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW | SQLITE_OPEN_FULLMUTEX, NULL);
    if (v->db != NULL) connections_open++;
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_busy_timeout(v->db, 30000);
    sqlite3_extended_result_codes(v->db, 0);
    bt_err err = cut ? exec(v->db, "PRAGMA writable_schema = ON") : BT_OK;
    if (err == BT_OK) err = exec(v->db, "PRAGMA journal_mode = WAL");
    if (err == BT_OK)
        err = exec(v->db, "PRAGMA synchronous = FULL; PRAGMA secure_delete = ON;"
                          " PRAGMA foreign_keys = ON; PRAGMA trusted_schema = OFF");
    return err;
}

/* Remembers which file this connection opened, and which shared-memory
 * file it maps. */
static void note_files(bt_vault *v)
{
    struct stat sb;
    v->db_dev = v->shm_dev = v->wal_dev = 0;
    v->db_ino = v->shm_ino = v->wal_ino = 0;
    if (stat(v->db_path, &sb) == 0) v->db_dev = sb.st_dev, v->db_ino = sb.st_ino;
    if (stat(v->shm_path, &sb) == 0) v->shm_dev = sb.st_dev, v->shm_ino = sb.st_ino;
    if (stat(v->wal_path, &sb) == 0) v->wal_dev = sb.st_dev, v->wal_ino = sb.st_ino, v->wal_size = sb.st_size;
}

/* A write-ahead file found removed or cut is written down beside the log
 * (BT_VAULT_DB "-lost": the first entry then missing), so that a later
 * open, after SQLite has rebuilt its index from what is left and the log
 * reads as a whole one, short of its last entries, still says so. */
#define WAL_LOST_FILE BT_VAULT_DB "-lost"

static int64_t first_unreadable(bt_vault *v);
static void note_damage(bt_vault *v, int64_t id);

static void wal_lost_note(bt_vault *v)
{
    char *path = path_join(v->dir, WAL_LOST_FILE), text[32];
    int64_t at = 0;
    v->wal_lost = 1;
    note_damage(v, first_unreadable(v));
    if (path == NULL) return;
    FILE *f = fopen(path, "re");
    if (f != NULL) { /* written before: keep the earliest */
        long long x = 0;
        if (fscanf(f, "%lld", &x) == 1) at = x;
        fclose(f);
    }
    if (at < 1 || at > v->damaged_at) {
        int n = snprintf(text, sizeof text, "%lld\n", (long long)v->damaged_at);
        (void)bt_file_write(path, text, (size_t)n, 0600, BT_FILE_REPLACE);
    }
    free(path);
}

/* Reads what wal_lost_note wrote, if anything: the log is then damaged from there. */
static void wal_lost_read(bt_vault *v)
{
    char *path = path_join(v->dir, WAL_LOST_FILE);
    FILE *f = path != NULL ? fopen(path, "re") : NULL;
    long long at = 0;
    if (f != NULL) {
        if (fscanf(f, "%lld", &at) == 1 && at >= 1) {
            v->wal_lost = 1;
            note_damage(v, at);
        }
        fclose(f);
    }
    free(path);
}

/* Whether SQLite's index of the write-ahead file (the header at the start
 * of the -shm file: its two copies equal, initialised, in native byte
 * order) counts more frames than the -wal file holds: the write-ahead file
 * was removed or cut under a writer, and what was committed in it is not
 * there to be read. Checked before SQLite opens the files (it would rebuild
 * the index from what is left, and a log short of its last commits would
 * read as whole) and before each transaction. */
static int wal_short(const bt_vault *v)
{
    unsigned char h[96];
    struct stat sb;
    uint16_t size;
    uint32_t frames;
    if (connections_open > 0) return 0;
    int fd = open(v->shm_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return 0;
    ssize_t n = pread(fd, h, sizeof h, 0);
    close(fd);
    if (n != (ssize_t)sizeof h || memcmp(h, h + 48, 48) != 0 || h[12] == 0) return 0; /* no settled header */
    memcpy(&size, h + 14, sizeof size);
    memcpy(&frames, h + 16, sizeof frames);
    uint64_t page = size == 1 ? 65536 : size, need = 32 + (uint64_t)frames * (24 + page);
    return frames > 0 && (stat(v->wal_path, &sb) != 0 || (uint64_t)sb.st_size < need);
}

static int same_file(const char *path, dev_t dev, ino_t ino)
{
    struct stat sb;
    return stat(path, &sb) == 0 && sb.st_dev == dev && sb.st_ino == ino;
}

/* Notes that entry id (at least 1: damage to a recovered log's entry 0, or
 * a damaged page's made-up id, counts as the first) fails. */
static void note_damage(bt_vault *v, int64_t id)
{
    if (id < 1) id = 1;
    if (v->damaged_at == 0 || id < v->damaged_at) v->damaged_at = id;
}

static bt_err check_link(bt_vault *v, int64_t id);

/* The first entry that cannot be read from the database (SQLite finds its
 * page damaged, or the file was cut before it), in id order. */
static int64_t first_unreadable(bt_vault *v)
{
    sqlite3_stmt *st = NULL;
    int64_t next = 1;
    if (sqlite3_prepare_v2(v->db, "SELECT id FROM entries WHERE id > 0 ORDER BY id", -1, &st, NULL) == SQLITE_OK)
        while (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int64(st, 0) == next) next++;
    sqlite3_finalize(st);
    return next;
}

/* At open: the chain's tail holds (its last TAIL_CHECK links), no entry is
 * missing (as many entries as ids) and SQLite can read the ends of the
 * table. Cheap, so the whole chain is left to verify and to each read.
 * Damage found is noted (v->damaged_at), and the log is then only read.
 *
 * The entries are counted through COUNT_INDEX, an index on a one-byte
 * column (version): SQLite counts the smallest b-tree of the table, and
 * this one's leaves hold hundreds of entries each, where an entry fills a
 * leaf of the table's own (0.16 s warm at 100,000 entries, more from a cold
 * disk). A row removed with SQL leaves both b-trees; a page damaged in the
 * middle of the table is found by the read or the verify that meets it. A
 * log without the index (made before it, or with it dropped) is counted
 * through the table, and the index made when that count holds. */
#define TAIL_CHECK 16
#define COUNT_INDEX "entries_count"
static bt_err check_tail(bt_vault *v)
{
    sqlite3_stmt *st = NULL;
    int64_t ids[TAIL_CHECK], count = 0, max = 0, min = 1;
    int n = 0, indexed = 0;
    int rc = sqlite3_prepare_v2(v->db, "SELECT (SELECT count(*) FROM sqlite_schema WHERE type = 'index' AND name = '"
                                COUNT_INDEX "' AND tbl_name = 'entries'), (SELECT count(*) FROM entries),"
                                " coalesce((SELECT max(id) FROM entries), 0), coalesce((SELECT min(id) FROM entries), 1)",
                                -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        indexed = sqlite3_column_int(st, 0) == 1;
        count = sqlite3_column_int64(st, 1);
        max = sqlite3_column_int64(st, 2);
        min = sqlite3_column_int64(st, 3);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
        note_damage(v, first_unreadable(v));
        return BT_OK;
    }
    if (rc != SQLITE_ROW) return sql_err(rc);
    if (min < 0 || min > 1 || count != max - min + 1) { /* a row removed, or one added below the first */
        note_damage(v, min < 0 || min > 1 ? min : first_unreadable(v));
        return BT_OK;
    }
    rc = sqlite3_prepare_v2(v->db, "SELECT id FROM entries ORDER BY id DESC LIMIT ?", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int(st, 1, TAIL_CHECK);
        while ((rc = sqlite3_step(st)) == SQLITE_ROW) ids[n++] = sqlite3_column_int64(st, 0);
    }
    sqlite3_finalize(st);
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) {
        note_damage(v, first_unreadable(v));
        return BT_OK;
    }
    if (rc != SQLITE_DONE) return sql_err(rc);
    bt_err err = BT_OK;
    while (n > 0 && err == BT_OK) err = check_link(v, ids[--n]);
    if (err == BT_ERR_CORRUPT) {
        note_damage(v, first_unreadable(v));
        err = BT_OK;
    }
    v->count_indexed = indexed;
    return err;
}

/* Closes v's connection without the checkpoint a close may run: its index
 * of the write-ahead file may be stale, and the files may have other names
 * by now. */
static void detach_file(bt_vault *v)
{
    for (size_t i = 0; i < sizeof v->hot / sizeof v->hot[0]; i++) {
        sqlite3_finalize(v->hot[i]);
        v->hot[i] = NULL;
    }
    if (v->db != NULL) {
        sqlite3_db_config(v->db, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, NULL);
        sqlite3_close_v2(v->db);
        connections_open--;
    }
    v->db = NULL;
}

/* Whether the database file is shorter than its header says, with no
 * write-ahead file that could hold the rest: the file was cut short. */
static int file_cut_short(const bt_vault *v)
{
    unsigned char h[32];
    struct stat sb, wb;
    char *wal = path_join(v->dir, BT_VAULT_DB "-wal");
    int fd = connections_open > 1 ? -1 : open(v->db_path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), cut = 0; /* its own failed one */
    if (fd >= 0 && wal != NULL && read(fd, h, sizeof h) == (ssize_t)sizeof h && fstat(fd, &sb) == 0 &&
        (stat(wal, &wb) != 0 || wb.st_size == 0)) {
        uint64_t page = h[16] << 8 | h[17], pages = (uint64_t)h[28] << 24 | h[29] << 16 | h[30] << 8 | h[31];
        if (page == 1) page = 65536;
        cut = page * pages > (uint64_t)sb.st_size;
    }
    if (fd >= 0) close(fd);
    free(wal);
    return cut;
}

/* Opens the log file at v->db_path on v (whose connection is closed) and
 * checks it: its tables, its keys, its tail. SQLite refuses a file cut
 * short; such a file is opened anyway (writable_schema lets SQLite read the
 * pages that are there), to be read and recovered, never written. */
static bt_err attach_file(bt_vault *v)
{
    if (wal_short(v)) v->wal_lost = 1;
    bt_err err = connect(v, v->db_path, 0);
    if (err == BT_OK) err = setup_schema(v);
    if (err == BT_OK) err = check_structure(v);
    if (err == BT_ERR_CORRUPT && file_cut_short(v)) {
        detach_file(v);
        err = connect(v, v->db_path, 1);
        if (err == BT_OK) err = setup_schema(v);
        if (err == BT_OK) err = check_structure(v);
        if (err == BT_OK) note_damage(v, first_unreadable(v));
    }
    if (err == BT_OK) err = check_tail(v);
    if (err == BT_OK && v->wal_lost) wal_lost_note(v); /* what follows the last entry there is missing */
    if (err == BT_OK) wal_lost_read(v);
    /* counted through the table, and whole: the index for the next open (once; should it fail, a
     * busy or full disk, the next open counts through the table again) */
    if (err == BT_OK && !v->count_indexed && v->damaged_at == 0 && !v->wal_lost)
        (void)exec(v->db, "CREATE INDEX IF NOT EXISTS " COUNT_INDEX " ON entries(version)");
    if (err != BT_OK && v->wal_lost) err = BT_ERR_DAMAGED; /* its index names frames that are gone */
    if (err == BT_OK) note_files(v);
    return err;
}

/* Forgets what v knew of the file it had open: its damage, its own last
 * entry, its writing session and the session keys it opened (the ids name
 * other sessions in another file). The secret key stays while the file
 * holds the same key pair (load_epoch). */
static void forget_file(bt_vault *v)
{
    v->epoch = 0; /* load_epoch reads the new file's key pair */
    sodium_free(v->older);
    v->older = NULL;
    v->damaged_at = 0;
    v->wal_lost = 0;
    v->last_written = 0;
    end_session(v);
    if (v->cache != NULL) sodium_memzero(v->cache, CACHE_SLOTS * SKEY_BYTES);
    for (int i = 0; i < CACHE_SLOTS; i++) v->cache_id[i] = 0;
}

/* Before a transaction (outside one): the connection still works on the
 * files that are there now.
 * - If log.sqlite was replaced (bantrail recover made a new log, here or in
 *   another process), the new one is opened.
 * - If SQLite's shared-memory file was removed or replaced since this
 *   connection mapped it (someone deleted log.sqlite-shm; another process
 *   then made a new one), two processes would each write the WAL by their
 *   own index and ruin the database: the connection is opened again on the
 *   file as it is now. */
static bt_err files_guard(bt_vault *v)
{
    if (v->db != NULL && !sqlite3_get_autocommit(v->db)) return BT_OK; /* inside a batch: its transaction */
    int replaced = !same_file(v->db_path, v->db_dev, v->db_ino);
    if (!replaced && !v->wal_lost && v->wal_ino != 0) {
        /* removed, replaced or cut under this connection (while any connection is open, SQLite
         * neither removes nor shortens it): what was committed in it is not all there for
         * others, nor for this one once it stops; nothing more is written. Only stat: opening
         * and closing one of SQLite's files here would drop the locks it holds on it. */
        struct stat sb;
        if (stat(v->wal_path, &sb) != 0 || sb.st_dev != v->wal_dev || sb.st_ino != v->wal_ino ||
            sb.st_size < v->wal_size)
            wal_lost_note(v);
        else
            v->wal_size = sb.st_size;
    }
    if (!replaced && same_file(v->shm_path, v->shm_dev, v->shm_ino)) return BT_OK;
    detach_file(v);
    if (replaced) forget_file(v);
    bt_err err = attach_file(v);
    if (err == BT_OK) err = exec(v->db, "SELECT count(*) FROM sqlite_schema"); /* maps the shared memory again */
    if (err == BT_OK) note_files(v);
    if (replaced && v->sk_source != SK_NONE && !sk_matches(v->sk, v->pk)) drop_sk(v); /* another log's key pair */
    v->older_from = v->epoch;
    return err;
}

/* Before a write: files_guard, and nothing is written onto a log seen
 * damaged (bantrail recover makes a new one). */
static bt_err write_guard(bt_vault *v)
{
    bt_err err = files_guard(v);
    return err == BT_OK && v->damaged_at != 0 ? BT_ERR_DAMAGED : err;
}

bt_err bt_vault_open(bt_vault **out, const char *dir)
{
    bt_vault *v = NULL;
    bt_err err;

    *out = NULL;
    if (sodium_init() < 0) return BT_ERR_INTERNAL;
    if ((err = make_dir(dir)) != BT_OK) return err;
    v = calloc(1, sizeof *v);
    if (v == NULL) return BT_ERR_NO_MEMORY;
    v->dir = strdup(dir);
    v->sk = sodium_malloc(SK_BYTES);
    v->cache = sodium_malloc(CACHE_SLOTS * SKEY_BYTES);
    v->db_path = v->dir ? path_join(v->dir, BT_VAULT_DB) : NULL;
    v->shm_path = v->dir ? path_join(v->dir, BT_VAULT_DB "-shm") : NULL;
    v->wal_path = v->dir ? path_join(v->dir, BT_VAULT_DB "-wal") : NULL;
    if (v->dir == NULL || v->sk == NULL || v->cache == NULL || v->db_path == NULL || v->shm_path == NULL ||
        v->wal_path == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    if ((err = precreate(v->db_path)) != BT_OK) goto done;
    err = attach_file(v);
    /* a key file a cut-short passphrase change left behind opens nothing
     * of this log any more, but it did open its older copies */
    if (err == BT_OK && is_protected(v)) keyfile_remove(v);
done:
    if (err != BT_OK) bt_vault_close(v);
    else *out = v;
    return err;
}

void bt_vault_close(bt_vault *v)
{
    if (v == NULL) return;
    drop_sk(v);
    end_session(v);
    sodium_free(v->pending_sk);
    sodium_free(v->sk);
    sodium_free(v->cache);
    for (size_t i = 0; i < sizeof v->hot / sizeof v->hot[0]; i++) sqlite3_finalize(v->hot[i]);
    if (v->db != NULL) {
        sqlite3_close_v2(v->db);
        connections_open--;
    }
    free(v->db_path);
    free(v->wal_path);
    free(v->shm_path);
    free(v->dir);
    free(v);
}

bt_vault_state bt_vault_state_of(bt_vault *v)
{
    if (!is_protected(v)) return BT_VAULT_UNPROTECTED;
    if (v->sk_source == SK_KEYFILE) drop_sk(v);
    return v->sk_source == SK_NONE ? BT_VAULT_LOCKED : BT_VAULT_UNLOCKED;
}

const unsigned char *bt_vault_public_key(const bt_vault *v)
{
    return v->pk;
}

bt_kdf_params bt_vault_default_kdf(void)
{
    return bt_kdf_default();
}

/* ---- unlock / lock / passphrase ---- */

static bt_err pass_key(unsigned char *key, const wrap_row *w, const char *pass, size_t len)
{
    if (crypto_pwhash(key, WRAP_KEY_BYTES, pass, len, w->salt, w->kdf.opslimit, w->kdf.memlimit,
                      crypto_pwhash_ALG_ARGON2ID13) != 0)
        return BT_ERR_NO_MEMORY;
    return BT_OK;
}

/* Opens the wrap of kind with key into v->sk. */
static bt_err open_into_sk(bt_vault *v, const wrap_row *w, const char *kind,
                           const unsigned char *key, enum sk_source source)
{
    drop_sk(v);
    if (wrap_open(w, kind, key, v->sk, v->pk) != 0) return BT_ERR_WRONG_PASSPHRASE;
    if (!sk_matches(v->sk, v->pk)) {
        drop_sk(v);
        return BT_ERR_CORRUPT;
    }
    v->sk_source = source;
    return BT_OK;
}

/* Checks pass against the stored passphrase wrap; on success leaves v->sk set. */
static bt_err try_passphrase(bt_vault *v, const char *pass, size_t len)
{
    wrap_row w;
    unsigned char *key;
    bt_err err = wrap_load(v, "passphrase", &w);
    if (err != BT_OK) return err;
    if (!w.has_salt) return BT_ERR_CORRUPT;
    if (len > BT_PASSPHRASE_MAX) return BT_ERR_WRONG_PASSPHRASE;
    key = sodium_malloc(WRAP_KEY_BYTES);
    if (key == NULL) return BT_ERR_NO_MEMORY;
    err = pass_key(key, &w, pass, len);
    if (err == BT_OK) err = open_into_sk(v, &w, "passphrase", key, SK_PASSPHRASE);
    sodium_free(key);
    return err;
}

bt_err bt_vault_unlock(bt_vault *v, const char *pass, size_t pass_len)
{
    if (!is_protected(v)) return need_sk(v);
    bt_err err = load_epoch(v); /* the wrap is bound to the newest public key */
    return err == BT_OK ? try_passphrase(v, pass, pass_len) : err;
}

static void recovery_key(unsigned char *key, const unsigned char *code, const wrap_row *w)
{
    crypto_generichash(key, WRAP_KEY_BYTES, code, RECOVERY_BYTES, w->salt, sizeof w->salt);
}

/* Unwraps the secret key with a recovery code, for bt_vault_reset_passphrase only. */
static bt_err unlock_recovery(bt_vault *v, const char *code)
{
    unsigned char bin[RECOVERY_BYTES];
    unsigned char *key;
    size_t bin_len = 0;
    const char *end = NULL;
    bt_err err = load_epoch(v);
    if (err != BT_OK) return err;
    if (sodium_hex2bin(bin, sizeof bin, code, strlen(code), " -", &bin_len, &end) != 0 || bin_len != sizeof bin ||
        *end != '\0')
        return BT_ERR_WRONG_PASSPHRASE;
    key = sodium_malloc(WRAP_KEY_BYTES);
    if (key == NULL) return BT_ERR_NO_MEMORY;
    /* the code in force only: a new one waits for its confirmation ("recovery_new") */
    wrap_row w;
    err = wrap_load(v, "recovery", &w);
    if (err == BT_ERR_NOT_FOUND) err = BT_ERR_WRONG_PASSPHRASE;
    if (err == BT_OK) {
        recovery_key(key, bin, &w);
        err = open_into_sk(v, &w, "recovery", key, SK_RECOVERY);
    }
    sodium_memzero(bin, sizeof bin);
    sodium_free(key);
    return err;
}

void bt_vault_lock(bt_vault *v)
{
    drop_sk(v);
    sodium_free(v->pending_sk); /* a waiting passphrase change's key: confirming it now takes the passphrase */
    v->pending_sk = NULL;
}

/* Adds the epoch after v->epoch, with the key of v->epoch sealed to it. */
static bt_err insert_epoch(bt_vault *v, const unsigned char pk[PK_BYTES], const unsigned char *prev_sealed)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(v->db, "INSERT INTO epochs(epoch, pk, prev_sk) VALUES (?, ?, ?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_int64(st, 1, v->epoch + 1);
        sqlite3_bind_blob(st, 2, pk, PK_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(st, 3, prev_sealed, crypto_box_SEALBYTES + SK_BYTES, SQLITE_STATIC);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

/* A passphrase change waits for its confirmation in keywrap "passphrase_new"
 * (the new key pair's secret key wrapped under the new passphrase, sealed
 * as kind "passphrase") and the meta rows below: the new public key, the
 * key in force sealed to it, and the epoch it follows. Nothing else changes
 * until bt_vault_confirm_passphrase, so until then only what was in force
 * opens the log. */
#define PENDING_PK "pending:pk"
#define PENDING_PREV "pending:prev_sk"
#define PENDING_EPOCH "pending:epoch"

/* Runs sql (a meta row write) with name and the value bound, in the transaction open on v. */
static bt_err meta_put(bt_vault *v, const char *name, const void *blob, size_t n, int64_t number)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(v->db, "INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)", -1, &st, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        if (blob != NULL) sqlite3_bind_blob(st, 2, blob, (int)n, SQLITE_STATIC);
        else sqlite3_bind_int64(st, 2, number);
        rc = sqlite3_step(st);
    }
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

/* Reads meta row name: exactly n bytes into blob, or an integer into *number. */
static bt_err meta_get(bt_vault *v, const char *name, void *blob, size_t n, int64_t *number)
{
    sqlite3_stmt *st = NULL;
    bt_err err = BT_ERR_NOT_FOUND;
    int rc = sqlite3_prepare_v2(v->db, "SELECT value FROM meta WHERE key = ?", -1, &st, NULL);
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        err = BT_OK;
        if (blob != NULL && !column_exact(st, 0, blob, n)) err = BT_ERR_CORRUPT;
        if (number != NULL) *number = sqlite3_column_int64(st, 0);
    } else if (rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    sqlite3_finalize(st);
    return err;
}

static const char *const drop_pending_sql =
    "DELETE FROM keywrap WHERE kind = 'passphrase_new'; DELETE FROM meta WHERE key LIKE 'pending:%'";

bt_err bt_vault_set_passphrase(bt_vault *v, const char *old, size_t old_len,
                               const char *pass, size_t pass_len,
                               const bt_kdf_params *params)
{
    bt_kdf_params kdf = params ? *params : bt_kdf_default();
    wrap_row w = {0};
    unsigned char *key = NULL, *new_sk = NULL, new_pk[PK_BYTES], prev_sealed[crypto_box_SEALBYTES + SK_BYTES];
    bt_err err;

    if (pass_len < BT_PASSPHRASE_MIN) return BT_ERR_WEAK_PASSPHRASE;
    if (pass_len > BT_PASSPHRASE_MAX) return BT_ERR_BAD_PARAMS;
    if (kdf.opslimit < crypto_pwhash_OPSLIMIT_MIN || kdf.opslimit > crypto_pwhash_OPSLIMIT_MAX ||
        kdf.memlimit < crypto_pwhash_MEMLIMIT_MIN || kdf.memlimit > (size_t)4 << 30)
        return BT_ERR_BAD_PARAMS;
    if (is_protected(v)) {
        if ((err = load_epoch(v)) != BT_OK) return err;
        if (old != NULL) err = try_passphrase(v, old, old_len);
        else err = v->sk_source == SK_RECOVERY ? BT_OK : BT_ERR_PASSPHRASE_REQUIRED;
    } else {
        err = need_sk(v);
    }
    if (err != BT_OK) return err;

    key = sodium_malloc(WRAP_KEY_BYTES);
    new_sk = sodium_malloc(SK_BYTES);
    if (key == NULL || new_sk == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    randombytes_buf(w.salt, sizeof w.salt);
    w.has_salt = 1;
    w.kdf = kdf;
    if ((err = pass_key(key, &w, pass, pass_len)) != BT_OK) goto done;
    /* a new key pair; the one before it stays readable through it */
    crypto_box_keypair(new_pk, new_sk);
    if (crypto_box_seal(prev_sealed, v->sk, SK_BYTES, new_pk) != 0) {
        err = BT_ERR_INTERNAL;
        goto done;
    }
    wrap_seal(&w, "passphrase", key, new_sk, new_pk);
    if ((err = write_guard(v)) != BT_OK || (err = exec(v->db, "BEGIN IMMEDIATE")) != BT_OK) goto done;
    if ((err = load_epoch(v)) == BT_OK && v->sk_source == SK_NONE) err = BT_ERR_LOCKED; /* rotated elsewhere */
    if (err == BT_OK) err = wrap_store(v, "passphrase_new", &w); /* an earlier change not confirmed is replaced */
    if (err == BT_OK) err = meta_put(v, PENDING_PK, new_pk, PK_BYTES, 0);
    if (err == BT_OK) err = meta_put(v, PENDING_PREV, prev_sealed, sizeof prev_sealed, 0);
    if (err == BT_OK) err = meta_put(v, PENDING_EPOCH, NULL, 0, v->epoch);
    if (err == BT_OK) err = exec(v->db, "COMMIT");
    if (err != BT_OK) {
        rollback(v->db);
        goto done;
    }
    sodium_free(v->pending_sk); /* kept for the confirmation, which then needs no passphrase */
    v->pending_sk = new_sk;
    new_sk = NULL;
done:
    sodium_free(key);
    sodium_free(new_sk);
    sodium_memzero(prev_sealed, sizeof prev_sealed);
    return err;
}

bt_err bt_vault_confirm_passphrase(bt_vault *v, const char *pass, size_t pass_len)
{
    wrap_row w;
    unsigned char new_pk[PK_BYTES], prev_sealed[crypto_box_SEALBYTES + SK_BYTES];
    unsigned char *new_sk = sodium_malloc(SK_BYTES), *key = sodium_malloc(WRAP_KEY_BYTES);
    int64_t after = 0;
    bt_err err = new_sk == NULL || key == NULL ? BT_ERR_NO_MEMORY : write_guard(v);
    if (err == BT_OK) err = exec(v->db, "BEGIN IMMEDIATE");
    if (err != BT_OK) goto out;
    if ((err = load_epoch(v)) == BT_OK) err = wrap_load(v, "passphrase_new", &w);
    if (err == BT_OK) err = meta_get(v, PENDING_PK, new_pk, PK_BYTES, NULL);
    if (err == BT_OK) err = meta_get(v, PENDING_PREV, prev_sealed, sizeof prev_sealed, NULL);
    if (err == BT_OK) err = meta_get(v, PENDING_EPOCH, NULL, 0, &after);
    if (err == BT_OK && after != v->epoch) { /* the key changed elsewhere since: this change is void */
        err = exec(v->db, drop_pending_sql);
        if (err == BT_OK) err = exec(v->db, "COMMIT");
        if (err == BT_OK) err = BT_ERR_NOT_FOUND;
        goto done;
    }
    if (err != BT_OK) goto done;
    /* the new secret key: kept by the handle that set it, else opened with the new passphrase */
    if (v->pending_sk != NULL && sk_matches(v->pending_sk, new_pk)) {
        memcpy(new_sk, v->pending_sk, SK_BYTES);
    } else if (pass == NULL) {
        err = BT_ERR_PASSPHRASE_REQUIRED;
    } else if (!w.has_salt || pass_len > BT_PASSPHRASE_MAX) {
        err = w.has_salt ? BT_ERR_WRONG_PASSPHRASE : BT_ERR_CORRUPT;
    } else if ((err = pass_key(key, &w, pass, pass_len)) == BT_OK &&
               (wrap_open(&w, "passphrase", key, new_sk, new_pk) != 0 || !sk_matches(new_sk, new_pk))) {
        err = BT_ERR_WRONG_PASSPHRASE;
    }
    if (err == BT_OK) err = insert_epoch(v, new_pk, prev_sealed);
    /* every other wrap (the key file's, a recovery code) wraps the older key */
    if (err == BT_OK) err = exec(v->db, "DELETE FROM keywrap WHERE kind <> 'passphrase_new';"
                                        " UPDATE keywrap SET kind = 'passphrase' WHERE kind = 'passphrase_new';"
                                        " DELETE FROM meta WHERE key LIKE 'pending:%'");
    if (err == BT_OK) err = exec(v->db, "COMMIT");
    if (err != BT_OK) goto done;
    keyfile_remove(v);
    drop_sk(v);
    end_session(v);
    v->epoch = v->older_from = v->epoch + 1;
    memcpy(v->pk, new_pk, PK_BYTES);
    memcpy(v->sk, new_sk, SK_BYTES);
    v->sk_source = SK_PASSPHRASE;
    v->is_protected = 1;
done:
    if (err != BT_OK) rollback(v->db);
out:
    sodium_free(v->pending_sk);
    v->pending_sk = NULL;
    sodium_free(new_sk);
    sodium_free(key);
    sodium_memzero(prev_sealed, sizeof prev_sealed);
    return err;
}

bt_err bt_vault_reset_passphrase(bt_vault *v, const char *code, const char *pass, size_t pass_len,
                                 const bt_kdf_params *params)
{
    if (pass_len < BT_PASSPHRASE_MIN) return BT_ERR_WEAK_PASSPHRASE; /* before the code is tried */
    bt_err err = unlock_recovery(v, code);
    if (err == BT_OK) err = bt_vault_set_passphrase(v, NULL, 0, pass, pass_len, params);
    if (err != BT_OK) drop_sk(v); /* the code opened the key for this reset only */
    return err;
}

bt_err bt_vault_kdf_params(bt_vault *v, bt_kdf_params *out)
{
    wrap_row w;
    bt_err err = wrap_load(v, "passphrase", &w);
    out->opslimit = 0;
    out->memlimit = 0;
    if (err == BT_ERR_NOT_FOUND) return BT_OK;
    if (err == BT_OK) *out = w.kdf;
    return err;
}

bt_err bt_vault_new_recovery_code(bt_vault *v, char code[BT_RECOVERY_CODE_MAX])
{
    unsigned char bin[RECOVERY_BYTES];
    char hex[RECOVERY_BYTES * 2 + 1];
    unsigned char *key;
    wrap_row w = {0};
    bt_err err = need_sk(v);
    if (err != BT_OK) return err;
    key = sodium_malloc(WRAP_KEY_BYTES);
    if (key == NULL) return BT_ERR_NO_MEMORY;
    randombytes_buf(bin, sizeof bin);
    randombytes_buf(w.salt, sizeof w.salt);
    w.has_salt = 1;
    recovery_key(key, bin, &w);
    if ((err = write_guard(v)) == BT_OK && (err = exec(v->db, "BEGIN IMMEDIATE")) == BT_OK) {
        /* the newest key only: wrapping one another handle has replaced would open nothing new */
        if ((err = load_epoch(v)) == BT_OK && v->sk_source == SK_NONE) err = BT_ERR_LOCKED;
        if (err == BT_OK) {
            wrap_seal(&w, "recovery", key, v->sk, v->pk);
            err = wrap_store(v, "recovery_new", &w); /* the earlier code alone works until this one is confirmed */
        }
        if (err == BT_OK) err = exec(v->db, "COMMIT");
        if (err != BT_OK) rollback(v->db);
    }
    sodium_free(key);
    if (err == BT_OK) {
        /* groups of four hex digits: xxxx-xxxx-... */
        size_t o = 0;
        sodium_bin2hex(hex, sizeof hex, bin, sizeof bin);
        for (size_t i = 0; i < sizeof bin * 2; i++) {
            if (i > 0 && i % 4 == 0) code[o++] = '-';
            code[o++] = hex[i];
        }
        code[o] = '\0';
    }
    sodium_memzero(bin, sizeof bin);
    sodium_memzero(hex, sizeof hex);
    return err;
}

bt_err bt_vault_confirm_recovery_code(bt_vault *v)
{
    bt_err err = write_guard(v);
    if (err == BT_OK) err = exec(v->db, "BEGIN IMMEDIATE");
    if (err != BT_OK) return err;
    if (!has_wrap(v, "recovery_new")) err = BT_ERR_NOT_FOUND;
    /* the new code in force, the earlier one retired: one transaction */
    if (err == BT_OK) err = exec(v->db, "DELETE FROM keywrap WHERE kind = 'recovery'");
    if (err == BT_OK) err = exec(v->db, "UPDATE keywrap SET kind = 'recovery' WHERE kind = 'recovery_new'");
    if (err == BT_OK) err = exec(v->db, "COMMIT");
    if (err != BT_OK) rollback(v->db);
    return err;
}

/* ---- append ---- */

static bt_err start_session(bt_vault *v)
{
    if (v->wkey != NULL) return BT_OK;
    v->wkey = sodium_malloc(SKEY_BYTES);
    if (v->wkey == NULL) return BT_ERR_NO_MEMORY;
    crypto_kdf_keygen(v->wkey);
    if (crypto_box_seal(v->wsealed, v->wkey, SKEY_BYTES, v->pk) != 0) {
        sodium_free(v->wkey);
        v->wkey = NULL;
        return BT_ERR_INTERNAL;
    }
    crypto_generichash(v->wsealed_hash, BT_HASH_BYTES, v->wsealed, sizeof v->wsealed, NULL, 0);
    return BT_OK;
}

/* Reads the last entry's id and hash (0 and genesis on an empty log). */
static bt_err last_entry(bt_vault *v, int64_t *id, unsigned char hash[BT_HASH_BYTES])
{
    bt_err err = BT_OK;
    int rc;
    sqlite3_stmt *st = hot(v, HOT_LAST, &rc);
    if (st == NULL) return sql_err(rc);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(st, 0);
        if (!column_exact(st, 1, hash, BT_HASH_BYTES)) err = BT_ERR_CORRUPT;
    } else if (rc == SQLITE_DONE) {
        *id = 0;
        genesis(hash, v->genesis_pk);
    } else {
        err = sql_err(rc);
    }
    sqlite3_reset(st);
    return err;
}

/* Notes whether entry id (the last, written by someone else) holds its
 * link: the host says so rather than extend a broken chain in silence. */
static bt_err check_link(bt_vault *v, int64_t id)
{
    unsigned char prev[BT_HASH_BYTES], nonce[NONCE_BYTES];
    int rc;
    sqlite3_stmt *st = hot(v, HOT_LINK, &rc);
    if (st == NULL) return sql_err(rc);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        int ok = column_exact(st, 1, nonce, sizeof nonce) && prev_hash(v, st, 6, id, prev) &&
                 link_holds(prev, id, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 5),
                            (size_t)sqlite3_column_bytes(st, 5), nonce, sqlite3_column_blob(st, 2),
                            (size_t)sqlite3_column_bytes(st, 2), sqlite3_column_blob(st, 3),
                            (size_t)sqlite3_column_bytes(st, 3), sqlite3_column_blob(st, 4),
                            (size_t)sqlite3_column_bytes(st, 4));
        if (!ok) note_damage(v, id);
    }
    sqlite3_reset(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

static bt_err insert_session(bt_vault *v)
{
    int rc;
    sqlite3_stmt *st = hot(v, HOT_SESSION, &rc);
    if (st == NULL) return sql_err(rc);
    sqlite3_bind_blob(st, 1, v->wsealed, sizeof v->wsealed, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, v->epoch);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE) return sql_err(rc);
    v->wsession = sqlite3_last_insert_rowid(v->db);
    return BT_OK;
}

/* Encrypts m into c (m_len + TAG_BYTES) under the entry key of (context, id). */
static void seal_part(unsigned char *c, const unsigned char *m, size_t m_len, const char *context,
                      int64_t id, const unsigned char *skey, const unsigned char *ad,
                      const unsigned char *nonce)
{
    unsigned char k[WRAP_KEY_BYTES];
    crypto_kdf_derive_from_key(k, sizeof k, (uint64_t)id, context, skey);
    crypto_aead_xchacha20poly1305_ietf_encrypt(c, NULL, m, m_len, ad, AD_BYTES, NULL, nonce, k);
    sodium_memzero(k, sizeof k);
}

static int open_part(unsigned char *m, const unsigned char *c, size_t c_len, const char *context,
                     int64_t id, const unsigned char *skey, const unsigned char *ad,
                     const unsigned char *nonce)
{
    unsigned char k[WRAP_KEY_BYTES];
    int rc;
    crypto_kdf_derive_from_key(k, sizeof k, (uint64_t)id, context, skey);
    rc = crypto_aead_xchacha20poly1305_ietf_decrypt(m, NULL, NULL, c, c_len, ad, AD_BYTES, nonce, k);
    sodium_memzero(k, sizeof k);
    return rc;
}

/* Inserts entry id after the one whose chain hash is prev (which becomes
 * this entry's), in the transaction open on v. */
static bt_err insert_at(bt_vault *v, int64_t id, unsigned char prev[BT_HASH_BYTES], const char *head,
                        size_t head_len, const unsigned char *body, size_t body_len)
{
    unsigned char hash[BT_HASH_BYTES], ad[AD_BYTES], nonce[NONCE_BYTES];
    unsigned char *hc = NULL, *bc = NULL;
    sqlite3_stmt *st = NULL;
    int rc;
    bt_err err = BT_OK;
    if (v->wsession == 0 && (err = insert_session(v)) != BT_OK) return err;
    hc = malloc(head_len + TAG_BYTES);
    bc = body != NULL ? malloc(body_len + TAG_BYTES) : NULL;
    if (hc == NULL || (body != NULL && bc == NULL)) { err = BT_ERR_NO_MEMORY; goto done; }
    make_ad(ad, id, prev);
    randombytes_buf(nonce, sizeof nonce);
    seal_part(hc, (const unsigned char *)head, head_len, "btentry1", id, v->wkey, ad, nonce);
    if (body != NULL) seal_part(bc, body, body_len, "btbody01", id, v->wkey, ad, nonce);
    entry_hash(hash, prev, id, v->wsession, v->wsealed_hash, nonce, hc, head_len + TAG_BYTES, bc,
               bc ? body_len + TAG_BYTES : 0);
    st = hot(v, HOT_INSERT, &rc);
    if (st == NULL) { err = sql_err(rc); goto done; }
    sqlite3_bind_int64(st, 1, id);
    sqlite3_bind_int64(st, 2, v->wsession);
    sqlite3_bind_int(st, 3, BT_VAULT_FORMAT);
    sqlite3_bind_blob(st, 4, nonce, sizeof nonce, SQLITE_STATIC);
    sqlite3_bind_blob64(st, 5, hc, head_len + TAG_BYTES, SQLITE_STATIC);
    if (bc != NULL) sqlite3_bind_blob64(st, 6, bc, body_len + TAG_BYTES, SQLITE_STATIC);
    sqlite3_bind_blob(st, 7, hash, sizeof hash, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) err = sql_err(rc);
    else memcpy(prev, hash, sizeof hash);
done:
    if (st != NULL) sqlite3_reset(st);
    free(hc);
    free(bc);
    return err;
}

static bt_err insert_entry(bt_vault *v, const char *head, size_t head_len,
                           const unsigned char *body, size_t body_len, int64_t *id_out)
{
    unsigned char prev[BT_HASH_BYTES];
    int64_t id;
    bt_err err = last_entry(v, &id, prev);
    if (err == BT_OK && id > 0) err = check_link(v, id); /* even its own: someone may have changed it since */
    if (err == BT_OK && v->damaged_at != 0) err = BT_ERR_DAMAGED; /* a chain it cannot extend */
    if (err == BT_OK) err = insert_at(v, id + 1, prev, head, head_len, body, body_len);
    if (err == BT_OK && bt_vault_state_of(v) != BT_VAULT_LOCKED) { /* it can read: it kept no box */
        int rc;
        sqlite3_stmt *st = hot(v, HOT_SCANNED, &rc);
        if (st != NULL) {
            sqlite3_bind_int64(st, 1, id + 1);
            rc = sqlite3_step(st);
            sqlite3_reset(st);
        }
        if (rc != SQLITE_DONE && rc != SQLITE_OK) err = sql_err(rc);
    }
    if (err == BT_OK) {
        *id_out = v->last_written = id + 1;
        memcpy(v->last_written_hash, prev, BT_HASH_BYTES); /* insert_at made it the new entry's */
    }
    return err;
}

/* Starts a write transaction on the file as it is now, with the writing
 * session sealed to the newest key pair (another handle may have set a
 * passphrase: then a new session, sealed to its key). */
static bt_err begin_write(bt_vault *v)
{
    bt_err err = write_guard(v);
    if (err == BT_OK) err = hot_exec(v, HOT_BEGIN);
    if (err != BT_OK) return err;
    if ((err = load_epoch(v)) == BT_OK) err = start_session(v);
    if (err != BT_OK) rollback(v->db);
    return err;
}

bt_err bt_vault_batch_begin(bt_vault *v)
{
    if (v->batch) return BT_ERR_INTERNAL;
    bt_err err = begin_write(v);
    if (err == BT_OK) {
        v->batch = 1;
        v->batch_new_session = 0;
        v->batch_prev_written = v->last_written;
        memcpy(v->batch_prev_hash, v->last_written_hash, BT_HASH_BYTES);
    }
    return err;
}

bt_err bt_vault_batch_end(bt_vault *v, int commit)
{
    bt_err err = BT_OK;
    if (!v->batch) return BT_ERR_INTERNAL;
    v->batch = 0;
    if (commit) err = hot_exec(v, HOT_COMMIT);
    if (!commit || err != BT_OK) {
        rollback(v->db);
        if (v->batch_new_session) v->wsession = 0; /* its key was not stored after all */
        v->last_written = v->batch_prev_written; /* what the batch appended is not there */
        memcpy(v->last_written_hash, v->batch_prev_hash, BT_HASH_BYTES);
    }
    return err;
}

bt_err bt_vault_last_written(const bt_vault *v, int64_t *id, unsigned char head[BT_HASH_BYTES])
{
    *id = v->last_written;
    if (v->last_written <= 0) return BT_ERR_NOT_FOUND;
    memcpy(head, v->last_written_hash, BT_HASH_BYTES);
    return BT_OK;
}

bt_err bt_vault_append(bt_vault *v, const char *head, size_t head_len,
                       const unsigned char *body, size_t body_len, int64_t *id)
{
    int new_session;
    bt_err err;
    if (head == NULL || head_len == 0) return BT_ERR_BAD_PARAMS;
    if (v->batch) { /* the batch's transaction: its end commits or rolls back */
        new_session = v->wsession == 0;
        err = insert_entry(v, head, head_len, body, body_len, id);
        if (new_session && v->wsession != 0) v->batch_new_session = 1;
        return err;
    }
    if ((err = begin_write(v)) != BT_OK) return err;
    new_session = v->wsession == 0;
    int64_t prev_written = v->last_written;
    unsigned char prev_hash[BT_HASH_BYTES];
    memcpy(prev_hash, v->last_written_hash, sizeof prev_hash);
    err = insert_entry(v, head, head_len, body, body_len, id);
    if (err == BT_OK) err = hot_exec(v, HOT_COMMIT);
    if (err != BT_OK) {
        rollback(v->db);
        if (new_session) v->wsession = 0;
        v->last_written = prev_written; /* it is not there */
        memcpy(v->last_written_hash, prev_hash, sizeof prev_hash);
    }
    return err;
}

/* ---- read ---- */

/* Opens sealed (n bytes, sealed to the key pair of epoch e) into m. */
static int open_for_epoch(bt_vault *v, int64_t e, unsigned char *m, const unsigned char *sealed, size_t n)
{
    unsigned char pk[PK_BYTES];
    const unsigned char *sk = epoch_sk(v, e);
    return sk != NULL && crypto_scalarmult_base(pk, sk) == 0 && crypto_box_seal_open(m, sealed, n, pk, sk) == 0
               ? 0
               : -1;
}

/* Finds or opens the key of session id (of epoch e) into the cache;
 * returns it or NULL. */
static const unsigned char *session_key(bt_vault *v, int64_t id, int64_t e, const unsigned char *sealed, size_t n)
{
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (v->cache_id[i] == id) return v->cache + i * SKEY_BYTES;
    if (n != SEALED_BYTES) return NULL;
    int slot = v->cache_next;
    unsigned char *k = v->cache + slot * SKEY_BYTES;
    v->cache_id[slot] = 0;
    if (open_for_epoch(v, e, k, sealed, n) != 0) return NULL;
    v->cache_id[slot] = id;
    v->cache_next = (slot + 1) % CACHE_SLOTS;
    return k;
}

bt_err bt_vault_open_sealed(bt_vault *v, const unsigned char *c, size_t c_len, unsigned char **m, size_t *m_len)
{
    bt_err err = need_sk(v);
    *m = NULL;
    *m_len = 0;
    if (err != BT_OK) return err;
    if (c_len <= crypto_box_SEALBYTES) return BT_ERR_CORRUPT;
    unsigned char *out = sodium_malloc(c_len - crypto_box_SEALBYTES + 1);
    if (out == NULL) return BT_ERR_NO_MEMORY;
    int64_t e = v->epoch; /* sealed to the newest key, or to an older one before a passphrase was set */
    while (e >= 1 && open_for_epoch(v, e, out, c, c_len) != 0) e--;
    if (e < 1) {
        sodium_free(out);
        return BT_ERR_CORRUPT;
    }
    out[c_len - crypto_box_SEALBYTES] = '\0';
    *m = out;
    *m_len = c_len - crypto_box_SEALBYTES;
    return BT_OK;
}

void bt_vault_free(void *p)
{
    sodium_free(p);
}

/* Checks the entry on st's row (ENTRY_COLUMNS) before it is opened: its
 * format, its own link of the chain (an entry whose stored hash is not that
 * of its content and the hash before it was replaced or altered; verify
 * checks every link, this is the one a reader relies on), and its session's
 * key, which *skey then points at; ad and nonce are filled for open_part.
 * BT_ERR_LOCKED when it was written under a key pair newer than the one
 * unlocked here (st is reset then), BT_ERR_CORRUPT. */
static bt_err row_check(bt_vault *v, sqlite3_stmt *st, int64_t id, unsigned char ad[AD_BYTES],
                        unsigned char nonce[NONCE_BYTES], const unsigned char **skey)
{
    unsigned char prev[BT_HASH_BYTES];
    size_t hn = (size_t)sqlite3_column_bytes(st, 3), bn = (size_t)sqlite3_column_bytes(st, 4);
    if (sqlite3_column_int(st, 1) != BT_VAULT_FORMAT || !column_exact(st, 2, nonce, NONCE_BYTES) ||
        !prev_hash(v, st, 7, id, prev))
        return BT_ERR_CORRUPT;
    if (hn < TAG_BYTES || (sqlite3_column_type(st, 4) == SQLITE_BLOB && bn < TAG_BYTES)) return BT_ERR_CORRUPT;
    if (!link_holds(prev, id, sqlite3_column_int64(st, 0), sqlite3_column_blob(st, 5),
                    (size_t)sqlite3_column_bytes(st, 5), nonce, sqlite3_column_blob(st, 3), hn,
                    sqlite3_column_blob(st, 4), bn, sqlite3_column_blob(st, 8), (size_t)sqlite3_column_bytes(st, 8))) {
        note_damage(v, id);
        return BT_ERR_CORRUPT;
    }
    if (sqlite3_column_int64(st, 6) > v->epoch) { /* a key pair newer than the one unlocked here */
        sqlite3_reset(st);
        bt_err err = load_epoch(v);
        return err == BT_OK ? BT_ERR_LOCKED : err;
    }
    *skey = session_key(v, sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 6), sqlite3_column_blob(st, 5),
                        (size_t)sqlite3_column_bytes(st, 5));
    if (*skey == NULL) return BT_ERR_CORRUPT;
    make_ad(ad, id, prev);
    return BT_OK;
}

/* Opens the header of the entry on st's row into h (room for its length
 * less the tag, plus one) and NUL-terminates it. */
static bt_err row_head(sqlite3_stmt *st, int64_t id, const unsigned char *skey, const unsigned char *ad,
                       const unsigned char *nonce, char *h)
{
    size_t hn = (size_t)sqlite3_column_bytes(st, 3);
    if (open_part((unsigned char *)h, sqlite3_column_blob(st, 3), hn, "btentry1", id, skey, ad, nonce) != 0)
        return BT_ERR_CORRUPT;
    h[hn - TAG_BYTES] = '\0';
    return BT_OK;
}

bt_err bt_vault_read(bt_vault *v, int64_t id, char **head, size_t *head_len,
                     unsigned char **body, size_t *body_len)
{
    sqlite3_stmt *st = NULL;
    unsigned char ad[AD_BYTES], nonce[NONCE_BYTES];
    const unsigned char *skey = NULL;
    char *h = NULL;
    unsigned char *b = NULL;
    size_t hn, bn;
    bt_err err = need_sk(v);
    int rc;

    *head = NULL;
    *head_len = 0;
    if (body != NULL) { *body = NULL; *body_len = 0; }
    if (err != BT_OK) return err;
    if ((st = hot(v, HOT_READ, &rc)) == NULL) return sql_err(rc);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) { err = BT_ERR_NOT_FOUND; goto done; }
    if (rc != SQLITE_ROW) { err = sql_err(rc); goto done; }
    if ((err = row_check(v, st, id, ad, nonce, &skey)) != BT_OK) goto done;
    hn = (size_t)sqlite3_column_bytes(st, 3);
    bn = (size_t)sqlite3_column_bytes(st, 4);
    h = sodium_malloc(hn - TAG_BYTES + 1);
    if (h == NULL) { err = BT_ERR_NO_MEMORY; goto done; }
    if ((err = row_head(st, id, skey, ad, nonce, h)) != BT_OK) goto done;
    err = BT_ERR_CORRUPT;
    if (body != NULL && sqlite3_column_type(st, 4) == SQLITE_BLOB) {
        b = sodium_malloc(bn - TAG_BYTES + 1); /* +1: never a zero-size allocation */
        if (b == NULL) { err = BT_ERR_NO_MEMORY; goto done; }
        if (open_part(b, sqlite3_column_blob(st, 4), bn, "btbody01", id, skey, ad, nonce) != 0) goto done;
        *body = b;
        *body_len = bn - TAG_BYTES;
        b = NULL;
    }
    *head = h;
    *head_len = hn - TAG_BYTES;
    h = NULL;
    err = BT_OK;
done:
    sodium_free(h);
    sodium_free(b);
    sqlite3_reset(st);
    return err;
}

bt_err bt_vault_read_each(bt_vault *v, int64_t after, int limit,
                          int (*fn)(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *head,
                                    size_t head_len),
                          void *ctx, int64_t *last)
{
    return bt_vault_check_each(v, after, limit, -1, fn, ctx, last);
}

bt_err bt_vault_check_each(bt_vault *v, int64_t after, int limit, int64_t known,
                           int (*fn)(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *head,
                                     size_t head_len),
                           void *ctx, int64_t *last)
{
    sqlite3_stmt *st = NULL;
    unsigned char ad[AD_BYTES], nonce[NONCE_BYTES];
    const unsigned char *skey = NULL;
    char *h = NULL; /* one buffer for every header, wiped after each */
    size_t cap = 0;
    bt_err err = need_sk(v);
    int rc;
    *last = after;
    if (err == BT_OK) err = files_guard(v);
    if (err != BT_OK) return err;
    rc = sqlite3_prepare_v2(v->db, "SELECT " ENTRY_COLUMNS " WHERE e.id > ? ORDER BY e.id LIMIT ?", -1, &st, NULL);
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 9);
        if (id <= *last) continue; /* out of order: a damaged file's tree; each id once, in order */
        size_t hn = (size_t)sqlite3_column_bytes(st, 3);
        bt_vault_entry_info info = {id, sqlite3_column_int64(st, 0), hn, (size_t)sqlite3_column_bytes(st, 4)};
        bt_err e = row_check(v, st, id, ad, nonce, &skey);
        if (e == BT_ERR_LOCKED || e == BT_ERR_NO_MEMORY || e == BT_ERR_STORAGE || e == BT_ERR_BUSY) {
            err = e; /* row_check reset st: nothing further reads */
            break;
        }
        int open = e == BT_OK && id > known; /* an entry up to known: its link checked, not opened */
        if (open && hn - TAG_BYTES + 1 > cap) {
            sodium_free(h);
            cap = hn - TAG_BYTES + 1 > 4096 ? hn - TAG_BYTES + 1 : 4096;
            if ((h = sodium_malloc(cap)) == NULL) { err = BT_ERR_NO_MEMORY; break; }
        }
        if (open) e = row_head(st, id, skey, ad, nonce, h);
        open = open && e == BT_OK;
        *last = id;
        int stop = fn(ctx, &info, e, open ? h : NULL, open ? hn - TAG_BYTES : 0);
        if (open) sodium_memzero(h, hn - TAG_BYTES);
        if (stop) break;
    }
    if (err == BT_OK && (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB)) note_damage(v, *last + 1);
    else if (err == BT_OK && rc != SQLITE_ROW && rc != SQLITE_DONE) err = sql_err(rc);
    sodium_free(h);
    sqlite3_finalize(st);
    return err;
}

/* ---- the index's snapshot ----
 * log.sqlite-index (part 0): nonce || XChaCha20-Poly1305 of what the index
 * saved, written whole through .tmp and rename.
 * log.sqlite-index-entries (part 1): the save's token (BT_VAULT_INDEX_TOKEN
 * bytes, in clear: random, it only tells saves apart), then segments, each
 * length (u64 LE) || nonce || XChaCha20-Poly1305; written in place under an
 * exclusive flock of the file, whole (a new token) or by one segment
 * appended at its end, and read under a shared one.
 * Key: crypto_kdf from the newest secret key, subkey id = epoch, context
 * "btindex1". AD = "bantrail-index-v1" || the chain's genesis hash || epoch
 * (u64 LE) || part (u8), and for a segment || token || its number (u64 LE).
 * log.sqlite-index-cases (part 2): nonce || XChaCha20-Poly1305 of the
 * cases as the index last derived them, written whole through .tmp and
 * rename, under the same key, AD with part 2.
 * Another log's, another key pair's, the other part, another save's, a
 * segment moved, a cut or altered file: it does not open. */
#define INDEX_FILE BT_VAULT_DB "-index"
#define INDEX_FILE_MAX ((off_t)1 << 32)

#define INDEX_AD_BASE (17 + BT_HASH_BYTES + 8 + 1)
#define INDEX_AD_BYTES (INDEX_AD_BASE + BT_VAULT_INDEX_TOKEN + 8)

static bt_err index_key(bt_vault *v, int part, unsigned char key[WRAP_KEY_BYTES], unsigned char ad[INDEX_AD_BYTES],
                        char **path)
{
    bt_err err = need_sk(v);
    if (err != BT_OK) return err;
    if ((*path = path_join(v->dir, part == 0 ? INDEX_FILE : part == 1 ? INDEX_FILE "-entries" : INDEX_FILE "-cases")) ==
        NULL)
        return BT_ERR_NO_MEMORY;
    memcpy(ad, "bantrail-index-v1", 17);
    genesis(ad + 17, v->genesis_pk);
    put_u64(ad + 17 + BT_HASH_BYTES, (uint64_t)v->epoch);
    ad[17 + BT_HASH_BYTES + 8] = (unsigned char)part;
    return crypto_kdf_derive_from_key(key, WRAP_KEY_BYTES, (uint64_t)v->epoch, "btindex1", v->sk) == 0
               ? BT_OK
               : BT_ERR_INTERNAL;
}

/* Opens part 1's file at path, creating it (empty, 0600) when there is
 * none, and takes its flock (how: LOCK_EX or LOCK_SH); the file locked is
 * the one path names (it may have been removed while this waited). -1 and
 * errno when it cannot. */
static int index_file_lock(const char *path, int how)
{
    for (int tries = 0; tries < 8; tries++) {
        struct stat a, b;
        int fd = open(path, (how == LOCK_EX ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0) return -1;
        if (flock(fd, how) == 0 && fstat(fd, &a) == 0 && S_ISREG(a.st_mode) && stat(path, &b) == 0 &&
            a.st_dev == b.st_dev && a.st_ino == b.st_ino)
            return fd;
        close(fd); /* replaced while it waited: the one there now */
    }
    errno = EAGAIN;
    return -1;
}

bt_err bt_vault_index_save(bt_vault *v, const unsigned char token[BT_VAULT_INDEX_TOKEN], uint64_t seg, uint64_t off,
                           const unsigned char *m1, size_t n1, const unsigned char *m0, size_t n0, uint64_t *end)
{
    unsigned char ad[INDEX_AD_BYTES], ad0[INDEX_AD_BYTES], got[BT_VAULT_INDEX_TOKEN];
    unsigned char *key = sodium_malloc(WRAP_KEY_BYTES), *c = NULL;
    char *path = NULL, *path0 = NULL;
    int fd = -1;
    struct stat sb;
    size_t head = off == 0 ? BT_VAULT_INDEX_TOKEN : 0, n = BT_VAULT_INDEX_SEGMENT(n1), n0c = NONCE_BYTES + n0 + TAG_BYTES;
    bt_err err = key != NULL ? index_key(v, 0, key, ad0, &path0) : BT_ERR_NO_MEMORY;
    if (err == BT_OK) err = index_key(v, 1, key, ad, &path);
    if (err == BT_OK && (n1 > (size_t)INDEX_FILE_MAX || off + head + n > (uint64_t)INDEX_FILE_MAX ||
                         n0 > (size_t)INDEX_FILE_MAX - NONCE_BYTES - TAG_BYTES || (off > 0 && seg == 0)))
        err = BT_ERR_BAD_PARAMS;
    if (err == BT_OK && (c = malloc(head + n > n0c ? head + n : n0c)) == NULL) err = BT_ERR_NO_MEMORY;
    if (err == BT_OK && (fd = index_file_lock(path, LOCK_EX)) < 0) err = BT_ERR_STORAGE;
    /* appended only to this save's file, as long as the caller knows it: nobody wrote it since */
    if (err == BT_OK && off > 0 &&
        (fstat(fd, &sb) != 0 || (uint64_t)sb.st_size != off || pread(fd, got, sizeof got, 0) != (ssize_t)sizeof got ||
         sodium_memcmp(got, token, sizeof got) != 0))
        err = BT_ERR_NOT_FOUND;
    if (err == BT_OK) {
        /* key is part 1's now (index_key derives the same key for both parts: AD tells them apart) */
        memcpy(ad + INDEX_AD_BASE, token, BT_VAULT_INDEX_TOKEN);
        put_u64(ad + INDEX_AD_BASE + BT_VAULT_INDEX_TOKEN, seg);
        memcpy(c, token, head);
        put_u64(c + head, (uint64_t)(NONCE_BYTES + n1 + TAG_BYTES));
        randombytes_buf(c + head + 8, NONCE_BYTES);
        crypto_aead_xchacha20poly1305_ietf_encrypt(c + head + 8 + NONCE_BYTES, NULL, m1, n1, ad, sizeof ad, NULL,
                                                   c + head + 8, key);
        /* not flushed: a snapshot cut by a crash does not open, and the index is built again */
        if (ftruncate(fd, (off_t)off) != 0 || lseek(fd, (off_t)off, SEEK_SET) != (off_t)off ||
            bt_file_write_all(fd, c, head + n) != 0)
            err = bt_err_from_errno(errno);
    }
    if (err == BT_OK) { /* then part 0, which names it, under the same lock */
        randombytes_buf(c, NONCE_BYTES);
        crypto_aead_xchacha20poly1305_ietf_encrypt(c + NONCE_BYTES, NULL, m0, n0, ad0, INDEX_AD_BASE, NULL, c, key);
        if (bt_file_write(path0, c, n0c, 0600, BT_FILE_CACHE) != 0) err = bt_err_from_errno(errno);
    }
    if (err == BT_OK) *end = off + head + n;
    if (fd >= 0) close(fd); /* and its lock */
    sodium_free(key);
    free(c);
    free(path);
    free(path0);
    return err;
}

/* Reads the whole file at fd (at most INDEX_FILE_MAX bytes) into *c. */
static bt_err read_whole(int fd, unsigned char **c, size_t *n)
{
    struct stat sb;
    size_t got = 0;
    *c = NULL;
    *n = 0;
    if (fstat(fd, &sb) != 0 || !S_ISREG(sb.st_mode)) return BT_ERR_STORAGE;
    if (sb.st_size > INDEX_FILE_MAX) return BT_ERR_CORRUPT;
    if ((*c = malloc((size_t)sb.st_size + 1)) == NULL) return BT_ERR_NO_MEMORY;
    while (got < (size_t)sb.st_size) {
        ssize_t k = read(fd, *c + got, (size_t)sb.st_size - got);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) break; /* shorter than it said: cut while read */
        got += (size_t)k;
    }
    *n = got;
    return BT_OK;
}

/* Opens c (n bytes: nonce || ciphertext) into a sodium_malloc'd *m. */
static bt_err index_open(const unsigned char *c, size_t n, const unsigned char *ad, size_t ad_len,
                         const unsigned char *key, unsigned char **m, size_t *m_len)
{
    *m = NULL;
    if (n < NONCE_BYTES + TAG_BYTES) return BT_ERR_CORRUPT;
    if ((*m = sodium_malloc(n - NONCE_BYTES - TAG_BYTES + 1)) == NULL) return BT_ERR_NO_MEMORY;
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(*m, NULL, NULL, c + NONCE_BYTES, n - NONCE_BYTES, ad, ad_len, c,
                                                   key) != 0) {
        sodium_free(*m);
        *m = NULL;
        return BT_ERR_CORRUPT;
    }
    *m_len = n - NONCE_BYTES - TAG_BYTES;
    return BT_OK;
}

/* Part 0 or part 2, whole, opened into *m. */
static bt_err index_whole_load(bt_vault *v, int part, unsigned char **m, size_t *n)
{
    unsigned char ad[INDEX_AD_BYTES];
    unsigned char *key = sodium_malloc(WRAP_KEY_BYTES), *c = NULL;
    char *path = NULL;
    int fd = -1;
    size_t got = 0;
    bt_err err = key != NULL ? index_key(v, part, key, ad, &path) : BT_ERR_NO_MEMORY;
    *m = NULL;
    *n = 0;
    if (err == BT_OK && (fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0)
        err = errno == ENOENT ? BT_ERR_NOT_FOUND : BT_ERR_STORAGE;
    if (err == BT_OK) err = read_whole(fd, &c, &got);
    if (err == BT_OK) err = index_open(c, got, ad, INDEX_AD_BASE, key, m, n);
    if (fd >= 0) close(fd);
    sodium_free(key);
    free(c);
    free(path);
    return err;
}

bt_err bt_vault_index_load(bt_vault *v, unsigned char **m, size_t *n)
{
    return index_whole_load(v, 0, m, n);
}

bt_err bt_vault_index_cases_load(bt_vault *v, unsigned char **m, size_t *n)
{
    return index_whole_load(v, 2, m, n);
}

bt_err bt_vault_index_cases_save(bt_vault *v, const unsigned char *m, size_t n)
{
    unsigned char ad[INDEX_AD_BYTES];
    unsigned char *key = sodium_malloc(WRAP_KEY_BYTES), *c = NULL;
    char *path = NULL;
    size_t nc = NONCE_BYTES + n + TAG_BYTES;
    bt_err err = key != NULL ? index_key(v, 2, key, ad, &path) : BT_ERR_NO_MEMORY;
    if (err == BT_OK && n > (size_t)INDEX_FILE_MAX - NONCE_BYTES - TAG_BYTES) err = BT_ERR_BAD_PARAMS;
    if (err == BT_OK && (c = malloc(nc)) == NULL) err = BT_ERR_NO_MEMORY;
    if (err == BT_OK) {
        randombytes_buf(c, NONCE_BYTES);
        crypto_aead_xchacha20poly1305_ietf_encrypt(c + NONCE_BYTES, NULL, m, n, ad, INDEX_AD_BASE, NULL, c, key);
        /* not flushed: a cache, as part 0 */
        if (bt_file_write(path, c, nc, 0600, BT_FILE_CACHE) != 0) err = bt_err_from_errno(errno);
    }
    sodium_free(key);
    free(c);
    free(path);
    return err;
}

bt_err bt_vault_index_segments(bt_vault *v, const unsigned char token[BT_VAULT_INDEX_TOKEN], uint64_t count,
                               int (*fn)(void *ctx, const unsigned char *m, size_t n), void *ctx, uint64_t *end)
{
    unsigned char ad[INDEX_AD_BYTES];
    unsigned char *key = sodium_malloc(WRAP_KEY_BYTES), *c = NULL, *m = NULL;
    char *path = NULL;
    int fd = -1;
    size_t got = 0, at = BT_VAULT_INDEX_TOKEN, mn = 0;
    bt_err err = key != NULL ? index_key(v, 1, key, ad, &path) : BT_ERR_NO_MEMORY;
    if (err == BT_OK && (fd = index_file_lock(path, LOCK_SH)) < 0)
        err = errno == ENOENT ? BT_ERR_NOT_FOUND : BT_ERR_STORAGE;
    if (err == BT_OK) err = read_whole(fd, &c, &got);
    if (err == BT_OK && (got < at || sodium_memcmp(c, token, BT_VAULT_INDEX_TOKEN) != 0)) err = BT_ERR_CORRUPT;
    memcpy(ad + INDEX_AD_BASE, token, BT_VAULT_INDEX_TOKEN);
    for (uint64_t k = 0; err == BT_OK && k < count; k++) {
        uint64_t len = 0;
        for (int i = 7; at + 8 <= got && i >= 0; i--) len = len << 8 | c[at + (size_t)i];
        if (at + 8 > got || len > got - at - 8) {
            err = BT_ERR_CORRUPT; /* cut */
            break;
        }
        put_u64(ad + INDEX_AD_BASE + BT_VAULT_INDEX_TOKEN, k);
        if ((err = index_open(c + at + 8, (size_t)len, ad, sizeof ad, key, &m, &mn)) != BT_OK) break;
        if (fn(ctx, m, mn) != 0) err = BT_ERR_CORRUPT;
        sodium_free(m);
        m = NULL;
        at += 8 + (size_t)len;
    }
    if (err == BT_OK) *end = at;
    if (fd >= 0) close(fd);
    sodium_free(key);
    free(c);
    free(path);
    return err;
}

/* ---- listing, verify, stats ---- */

bt_err bt_vault_mark(bt_vault *v, const char *name, int64_t *value)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(v->db, "SELECT value FROM meta WHERE key = 'mark:' || ?", -1, &st, NULL);
    *value = 0;
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) *value = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return rc == SQLITE_ROW || rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

bt_err bt_vault_set_mark(bt_vault *v, const char *name, int64_t value)
{
    sqlite3_stmt *st = NULL;
    bt_err err = write_guard(v);
    if (err != BT_OK) return err;
    int rc = sqlite3_prepare_v2(v->db, "INSERT OR REPLACE INTO meta(key, value) VALUES ('mark:' || ?, ?)", -1, &st,
                                NULL);
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 2, value);
    rc = sqlite3_step(st);
    sqlite3_finalize(st);
    return rc == SQLITE_DONE ? BT_OK : sql_err(rc);
}

bt_err bt_vault_entries(bt_vault *v, int64_t after, int limit,
                        int (*fn)(void *ctx, const bt_vault_entry_info *e),
                        void *ctx, int64_t *last)
{
    sqlite3_stmt *st = NULL;
    bt_err err = files_guard(v);
    *last = after;
    if (err != BT_OK) return err;
    int rc = sqlite3_prepare_v2(v->db,
        "SELECT id, session, length(head), length(body) FROM entries WHERE id > ? ORDER BY id LIMIT ?",
        -1, &st, NULL);
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_bind_int64(st, 1, after);
    sqlite3_bind_int(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        bt_vault_entry_info e = {
            sqlite3_column_int64(st, 0), sqlite3_column_int64(st, 1),
            (size_t)sqlite3_column_int64(st, 2), (size_t)sqlite3_column_int64(st, 3)};
        *last = e.id;
        if (fn(ctx, &e) != 0) break;
    }
    if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) /* SQLite can read no further: the entries up to here */
        note_damage(v, *last + 1);
    else if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        err = sql_err(rc);
    sqlite3_finalize(st);
    return err;
}

bt_err bt_vault_verify(bt_vault *v, bt_vault_verify_result *r)
{
    sqlite3_stmt *st = NULL;
    unsigned char prev[BT_HASH_BYTES], hash[BT_HASH_BYTES], stored[BT_HASH_BYTES];
    unsigned char shash[BT_HASH_BYTES], nonce[NONCE_BYTES];
    int64_t expect = 1, shash_id = -1;
    bt_err err = BT_OK;
    int rc;

    memset(r, 0, sizeof *r);
    if ((err = files_guard(v)) != BT_OK) return err;
    genesis(prev, v->genesis_pk);
    /* A read transaction: one consistent snapshot while writers go on. */
    int own = sqlite3_get_autocommit(v->db); /* inside a batch, its transaction is the snapshot */
    if (own && (err = exec(v->db, "BEGIN")) != BT_OK) return err;
    rc = sqlite3_prepare_v2(v->db,
        "SELECT e.id, e.session, e.version, e.nonce, e.head, e.body, e.hash, s.sealed"
        " FROM entries e LEFT JOIN sessions s ON s.id = e.session ORDER BY e.id", -1, &st, NULL);
    if (rc != SQLITE_OK) { err = sql_err(rc); goto done; }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int64_t id = sqlite3_column_int64(st, 0), session = sqlite3_column_int64(st, 1);
        const char *why = NULL;
        if (r->checked == 0 && id == 0) expect = 0; /* a recovered log's first entry (bt_vault_recover) */
        if (id != expect) why = "an entry is missing before this one";
        else if (sqlite3_column_type(st, 7) != SQLITE_BLOB) why = "its session key is missing";
        else if (sqlite3_column_int(st, 2) != BT_VAULT_FORMAT) why = "unknown entry format";
        else if (!column_exact(st, 3, nonce, sizeof nonce)) why = "malformed nonce";
        else if (!column_exact(st, 6, stored, sizeof stored)) why = "malformed hash";
        if (why == NULL) {
            if (session != shash_id) {
                crypto_generichash(shash, sizeof shash, sqlite3_column_blob(st, 7),
                                   (size_t)sqlite3_column_bytes(st, 7), NULL, 0);
                shash_id = session;
            }
            entry_hash(hash, prev, id, session, shash, nonce, sqlite3_column_blob(st, 4),
                       (size_t)sqlite3_column_bytes(st, 4), sqlite3_column_blob(st, 5),
                       (size_t)sqlite3_column_bytes(st, 5));
            if (sodium_memcmp(hash, stored, sizeof hash) != 0)
                why = "its hash does not match its content and the entry before it";
        }
        if (why != NULL) {
            r->bad_id = id >= 1 ? id : expect >= 1 ? expect : 1; /* a damaged page may give any id */
            r->reason = why;
            note_damage(v, id);
            break;
        }
        memcpy(prev, hash, sizeof prev);
        r->checked++;
        expect++;
    }
    if ((rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB || v->damaged_at != 0) && r->bad_id == 0) {
        /* SQLite's own pages are damaged, or the file was cut short (the scan may just end there) */
        r->bad_id = v->damaged_at != 0 && v->damaged_at < expect ? v->damaged_at : expect;
        r->reason = v->wal_lost ? "the write-ahead file (log.sqlite-wal) was removed or cut while in use: what was"
                                  " committed in it after the entry before this one is missing"
                                : "the database cannot be read from here on (damaged or cut short)";
        note_damage(v, r->bad_id);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        err = sql_err(rc);
    }
    memcpy(r->head, prev, sizeof prev);
done:
    sqlite3_finalize(st);
    if (own) exec(v->db, "COMMIT");
    return err;
}

bt_err bt_vault_stored_bytes(bt_vault *v, int64_t *bytes)
{
    sqlite3_stmt *st = NULL;
    bt_err err = files_guard(v);
    int rc;
    *bytes = 0;
    if (err != BT_OK) return err;
    rc = sqlite3_prepare_v2(v->db, "SELECT coalesce(sum(length(head) + coalesce(length(body), 0)), 0) FROM entries",
                            -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) *bytes = sqlite3_column_int64(st, 0);
    else err = sql_err(rc);
    sqlite3_finalize(st);
    return err;
}

bt_err bt_vault_stats_of(bt_vault *v, bt_vault_stats *s)
{
    sqlite3_stmt *st = NULL;
    bt_err err;
    int64_t last;
    int rc;

    memset(s, 0, sizeof *s);
    if ((err = files_guard(v)) != BT_OK) return err;
    int own = sqlite3_get_autocommit(v->db); /* inside a batch, its transaction is the snapshot */
    if (own && (err = exec(v->db, "BEGIN")) != BT_OK) return err;
    rc = sqlite3_prepare_v2(v->db,
        /* counted through COUNT_INDEX (check_tail), less entry 0 (a recovered log's): "WHERE id > 0"
         * would walk the table's own leaves, one entry each (24,000 page reads at 20,000 entries) */
        "SELECT (SELECT count(*) FROM entries) - (SELECT count(*) FROM entries WHERE id <= 0),"
        " (SELECT count(*) FROM sessions),"
        " (SELECT count(*) FROM keywrap WHERE kind = 'recovery'),"
        " (SELECT count(*) FROM keywrap WHERE kind = 'recovery_new'),"
        " (SELECT count(*) FROM keywrap WHERE kind = 'passphrase_new')", -1, &st, NULL);
    if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
        s->entries = sqlite3_column_int64(st, 0);
        s->sessions = sqlite3_column_int64(st, 1);
        s->has_recovery = sqlite3_column_int(st, 2) > 0;
        s->recovery_pending = sqlite3_column_int(st, 3) > 0;
        s->passphrase_pending = sqlite3_column_int(st, 4) > 0;
        s->damaged_at = v->damaged_at;
        s->wal_lost = v->wal_lost;
        err = last_entry(v, &last, s->head);
    } else {
        err = sql_err(rc);
    }
    sqlite3_finalize(st);
    if (own) exec(v->db, "COMMIT");
    if (err == BT_ERR_CORRUPT) { /* SQLite cannot read every entry: the count and head of those it can */
        int64_t upto = first_unreadable(v) - 1;
        note_damage(v, upto + 1);
        memset(s, 0, sizeof *s);
        s->entries = upto;
        s->damaged_at = v->damaged_at;
        s->wal_lost = v->wal_lost;
        err = bt_vault_entry_hash(v, upto, s->head);
    }
    return err;
}

bt_err bt_vault_entry_hash(bt_vault *v, int64_t id, unsigned char out[BT_HASH_BYTES])
{
    sqlite3_stmt *st = NULL;
    bt_err err = files_guard(v); /* the file there now: the log may have been replaced */
    int rc;
    if (err != BT_OK) return err;
    if (id == 0) {
        genesis(out, v->genesis_pk);
        return BT_OK;
    }
    rc = sqlite3_prepare_v2(v->db, "SELECT hash FROM entries WHERE id = ?", -1, &st, NULL);
    if (rc != SQLITE_OK) return sql_err(rc);
    sqlite3_bind_int64(st, 1, id);
    rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) err = BT_ERR_NOT_FOUND;
    else if (rc != SQLITE_ROW) err = sql_err(rc);
    else if (!column_exact(st, 0, out, BT_HASH_BYTES)) err = BT_ERR_CORRUPT;
    sqlite3_finalize(st);
    return err;
}

/* ---- recovery ---- */

/* A growing string, for the recovered log's first header. */
typedef struct {
    char *s;
    size_t n, cap;
    int oom;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (b->oom || k < 0) return;
    if (b->n + (size_t)k + 1 > b->cap) {
        size_t cap = 2 * (b->n + (size_t)k + 1);
        char *s = realloc(b->s, cap);
        if (s == NULL) {
            b->oom = 1;
            return;
        }
        b->s = s;
        b->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(b->s + b->n, b->cap - b->n, fmt, ap);
    va_end(ap);
    b->n += (size_t)k;
}

/* Adds "name":[[a,b],...]: the runs of ids 1..upto whose ok[id] is want. */
static void sb_runs(sbuf *b, const char *name, const unsigned char *ok, int64_t upto, int want)
{
    const char *sep = "";
    sb_add(b, ",\"%s\":[", name);
    for (int64_t id = 1; id <= upto; id++) {
        if ((ok[id] != 0) != want) continue;
        int64_t to = id;
        while (to < upto && (ok[to + 1] != 0) == want) to++;
        sb_add(b, "%s[%lld,%lld]", sep, (long long)id, (long long)to);
        sep = ",";
        id = to;
    }
    sb_add(b, "]");
}

/* BLAKE2b-256 of the bytes of v's database file (op SQLITE_FCNTL_FILE_POINTER)
 * or its write-ahead file (SQLITE_FCNTL_JOURNAL_POINTER), in hex, read
 * through SQLite's own descriptor. 0 when there is none or it cannot be read. */
static int file_hash(bt_vault *v, int op, char hex[2 * BT_HASH_BYTES + 1])
{
    unsigned char buf[65536], h[BT_HASH_BYTES];
    crypto_generichash_state st;
    sqlite3_file *f = NULL;
    sqlite3_int64 size = 0;
    if (sqlite3_file_control(v->db, "main", op, &f) != SQLITE_OK || f == NULL || f->pMethods == NULL ||
        f->pMethods->xFileSize(f, &size) != SQLITE_OK || size <= 0)
        return 0;
    crypto_generichash_init(&st, NULL, 0, sizeof h);
    for (sqlite3_int64 at = 0; at < size; at += (sqlite3_int64)sizeof buf) {
        int n = size - at < (sqlite3_int64)sizeof buf ? (int)(size - at) : (int)sizeof buf;
        if (f->pMethods->xRead(f, buf, n, at) != SQLITE_OK) return 0;
        crypto_generichash_update(&st, buf, (size_t)n);
    }
    crypto_generichash_final(&st, h, sizeof h);
    sodium_bin2hex(hex, 2 * BT_HASH_BYTES + 1, h, sizeof h);
    return 1;
}

/* Whether entry id reads: its own link of the chain holds and it decrypts. */
static int entry_reads(bt_vault *v, int64_t id)
{
    char *head = NULL;
    unsigned char *body = NULL;
    size_t hl, bl;
    bt_err err = bt_vault_read(v, id, &head, &hl, &body, &bl);
    bt_vault_free(head);
    bt_vault_free(body);
    return err == BT_OK;
}

/* Ids the scan tries past a place SQLite cannot read, before it takes the
 * rest of the file as cut off. */
#define RECOVER_PROBE 65536

/* Finds every entry of v and whether it reads: ok[id] for ids 0..*upto (a
 * malloc'd array, 0 for an id missing or unreadable). *cut is set when the
 * scan stopped where SQLite could read no further. */
static bt_err recover_scan(bt_vault *v, unsigned char **ok, int64_t *upto, int *cut)
{
    sqlite3_stmt *st = NULL;
    int64_t cur = -1, misses = 0, cap = 0;
    bt_err err = BT_OK;
    int rc = sqlite3_prepare_v2(v->db, "SELECT id FROM entries WHERE id > ? ORDER BY id LIMIT 1", -1, &st, NULL);
    *ok = NULL;
    *upto = 0;
    *cut = 0;
    if (rc != SQLITE_OK) return sql_err(rc);
    for (;;) {
        sqlite3_reset(st);
        sqlite3_bind_int64(st, 1, cur);
        rc = sqlite3_step(st);
        if (rc == SQLITE_DONE) break;
        int64_t id = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
        if (rc == SQLITE_ROW && (id <= cur || id > cur + RECOVER_PROBE)) rc = SQLITE_CORRUPT; /* a made-up id */
        if (rc == SQLITE_CORRUPT || rc == SQLITE_NOTADB) { /* a damaged page: try past it */
            if (++misses > RECOVER_PROBE) {
                *cut = 1;
                break;
            }
            cur++;
            continue;
        }
        if (rc != SQLITE_ROW) {
            err = sql_err(rc);
            break;
        }
        sqlite3_reset(st);
        misses = 0;
        if (id >= cap) {
            int64_t ncap = 2 * id + 64;
            unsigned char *more = realloc(*ok, (size_t)ncap);
            if (more == NULL) {
                err = BT_ERR_NO_MEMORY;
                break;
            }
            memset(more + cap, 0, (size_t)(ncap - cap));
            *ok = more;
            cap = ncap;
        }
        (*ok)[id] = (unsigned char)entry_reads(v, id);
        *upto = id;
        cur = id;
    }
    sqlite3_finalize(st);
    if (err == BT_OK && *ok == NULL && (*ok = calloc(1, 1)) == NULL) err = BT_ERR_NO_MEMORY;
    if (err != BT_OK) {
        free(*ok);
        *ok = NULL;
    }
    return err;
}

/* Makes the new log's file at path: the schema, then the key tables of v
 * (the same key pairs, wraps and passphrase open it), and opens it on nv. */
static bt_err recover_file(bt_vault *v, bt_vault *nv, const char *path)
{
    sqlite3_stmt *st = NULL;
    char sql[64];
    bt_err err = precreate(path);
    if (err == BT_OK) err = connect(nv, path, 0);
    for (int n = 0; err == BT_OK && n < BT_VAULT_SCHEMA; n++) err = exec(nv->db, migrations[n]);
    if (err == BT_OK) {
        snprintf(sql, sizeof sql, "PRAGMA user_version = %d", BT_VAULT_SCHEMA);
        err = exec(nv->db, sql);
    }
    if (err == BT_OK) {
        int rc = sqlite3_prepare_v2(nv->db, "ATTACH DATABASE ? AS old", -1, &st, NULL);
        if (rc == SQLITE_OK) {
            sqlite3_bind_text(st, 1, v->db_path, -1, SQLITE_STATIC);
            rc = sqlite3_step(st);
        }
        sqlite3_finalize(st);
        err = rc == SQLITE_DONE ? BT_OK : sql_err(rc);
    }
    if (err == BT_OK)
        err = exec(nv->db, "BEGIN IMMEDIATE;"
                           " INSERT INTO meta(key, value) SELECT key, value FROM old.meta"
                           "  WHERE key = 'public_key' OR key LIKE 'pending:%';"
                           " INSERT INTO epochs(epoch, pk, prev_sk) SELECT epoch, pk, prev_sk FROM old.epochs;"
                           " INSERT INTO keywrap SELECT kind, salt, opslimit, memlimit, nonce, ct FROM old.keywrap;"
                           " COMMIT");
    if (err != BT_OK) rollback(nv->db);
    exec(nv->db, "DETACH DATABASE old");
    if (err == BT_OK) {
        memcpy(nv->genesis_pk, v->genesis_pk, PK_BYTES);
        memcpy(nv->pk, v->pk, PK_BYTES);
        nv->epoch = v->epoch;
        err = start_session(nv);
    }
    return err;
}

/* Writes the recovered log into nv: entry 0 says where it came from
 * (provenance, a JSON header), then every id of v up to upto, each a copy
 * of the entry when ok[id], else a "lost" entry in its place, so that every
 * id (and so every reference between entries, and every case) stays what
 * it was. One transaction. */
static bt_err recover_write(bt_vault *v, bt_vault *nv, const char *provenance, const unsigned char *ok,
                            int64_t upto, int64_t now)
{
    unsigned char prev[BT_HASH_BYTES];
    char lost[64];
    bt_err err = exec(nv->db, "BEGIN IMMEDIATE");
    if (err != BT_OK) return err;
    genesis(prev, nv->genesis_pk);
    err = insert_at(nv, 0, prev, provenance, strlen(provenance), NULL, 0);
    snprintf(lost, sizeof lost, "{\"type\":\"" BT_REC_LOST "\",\"captured_at\":%lld}", (long long)now);
    for (int64_t id = 1; err == BT_OK && id <= upto; id++) {
        char *head = NULL;
        unsigned char *body = NULL;
        size_t hl = 0, bl = 0;
        if (ok[id] && (err = bt_vault_read(v, id, &head, &hl, &body, &bl)) == BT_OK)
            err = insert_at(nv, id, prev, head, hl, body, body != NULL ? bl : 0);
        else if (err == BT_OK)
            err = insert_at(nv, id, prev, lost, strlen(lost), NULL, 0);
        bt_vault_free(head);
        bt_vault_free(body);
    }
    if (err == BT_OK) err = exec(nv->db, "COMMIT");
    if (err != BT_OK) rollback(nv->db);
    return err;
}

/* A name for the damaged file beside the log, used by nothing yet:
 * log.sqlite.damaged-<UTC time>[-n] (its write-ahead file gets "-wal"). */
static bt_err damaged_name(bt_vault *v, int64_t now, char *name, size_t cap)
{
    time_t t = (time_t)now;
    struct tm tm;
    char stamp[32];
    gmtime_r(&t, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", &tm);
    for (int n = 1; n < 100; n++) {
        char probe[PATH_MAX];
        struct stat sb;
        if (n == 1) snprintf(name, cap, "%s.damaged-%s", BT_VAULT_DB, stamp);
        else snprintf(name, cap, "%s.damaged-%s-%d", BT_VAULT_DB, stamp, n);
        snprintf(probe, sizeof probe, "%s/%s", v->dir, name);
        int free_name = lstat(probe, &sb) != 0;
        snprintf(probe, sizeof probe, "%s/%s-wal", v->dir, name);
        if (free_name && lstat(probe, &sb) != 0) return BT_OK;
    }
    return BT_ERR_STORAGE;
}

/* Puts the new log (tmp) in the damaged one's place, the damaged file and
 * its write-ahead file renamed beside it, never changed: the damaged file
 * gets its new name first (a second link), so log.sqlite always names a
 * log; its write-ahead and shared-memory files go before the new log comes,
 * so that nothing of them is ever read with it. */
static bt_err recover_swap(bt_vault *v, const char *tmp, const char *name)
{
    char *damaged = path_join(v->dir, name), *wal = path_join(v->dir, BT_VAULT_DB "-wal"), *dwal = NULL;
    bt_err err = BT_ERR_STORAGE;
    struct stat sb;
    if (damaged != NULL) dwal = malloc(strlen(damaged) + 6);
    if (damaged == NULL || wal == NULL || dwal == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    snprintf(dwal, strlen(damaged) + 5, "%s-wal", damaged);
    if (link(v->db_path, damaged) != 0) goto done;
    if (lstat(wal, &sb) == 0 && rename(wal, dwal) != 0) goto done;
    free(wal); /* log.sqlite-lost (a write-ahead file found cut) goes beside it too */
    if ((wal = path_join(v->dir, WAL_LOST_FILE)) == NULL) goto done;
    snprintf(dwal, strlen(damaged) + 6, "%s-lost", damaged);
    if (lstat(wal, &sb) == 0 && rename(wal, dwal) != 0) goto done;
    if (unlink(v->shm_path) != 0 && errno != ENOENT) goto done;
    if (rename(tmp, v->db_path) != 0) goto done;
    int fd = open(v->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    err = BT_OK;
done:
    free(damaged);
    free(wal);
    free(dwal);
    return err;
}

bt_err bt_vault_recover(bt_vault *v, int64_t now, bt_vault_recovery *out)
{
    bt_vault_verify_result vr;
    bt_vault nv = {0};
    unsigned char *ok = NULL;
    char *tmp = NULL, hex[2 * BT_HASH_BYTES + 1], whex[2 * BT_HASH_BYTES + 1];
    sbuf prov = {0};
    int cut = 0, has_wal;
    bt_err err;

    memset(out, 0, sizeof *out);
    if (v->batch) return BT_ERR_INTERNAL;
    if ((err = bt_vault_verify(v, &vr)) != BT_OK) return err;
    if (vr.bad_id == 0 && v->damaged_at == 0) return BT_OK; /* intact: nothing to do */
    if ((err = need_sk(v)) != BT_OK) return err;
    if ((err = damaged_name(v, now, out->damaged_file, sizeof out->damaged_file)) != BT_OK) return err;
    if ((err = recover_scan(v, &ok, &out->upto, &cut)) != BT_OK) return err;
    for (int64_t id = 1; id <= out->upto; id++) ok[id] ? out->kept++ : out->lost++;
    out->cut = cut;

    /* where it came from: the damaged file's hash (and its write-ahead file's), the ids kept and lost */
    if (!file_hash(v, SQLITE_FCNTL_FILE_POINTER, hex)) {
        err = BT_ERR_STORAGE;
        goto done;
    }
    has_wal = file_hash(v, SQLITE_FCNTL_JOURNAL_POINTER, whex);
    sb_add(&prov, "{\"type\":\"" BT_REC_RECOVERED "\",\"captured_at\":%lld,\"from\":{\"file\":\"%s\",\"blake2b\":\"%s\"",
           (long long)now, out->damaged_file, hex);
    if (has_wal) sb_add(&prov, ",\"wal_blake2b\":\"%s\"", whex);
    sb_add(&prov, ",\"damaged_at\":%lld,\"reason\":\"%s\",\"entries_seen\":%lld,\"cut\":%s}",
           (long long)(vr.bad_id ? vr.bad_id : v->damaged_at),
           vr.reason ? vr.reason : "an entry failed its link of the chain", (long long)out->upto,
           cut ? "true" : "false");
    sb_runs(&prov, "kept", ok, out->upto, 1);
    sb_runs(&prov, "lost", ok, out->upto, 0);
    if (ok[0] && out->upto >= 0) { /* a log recovered before: what its first entry said */
        char *head = NULL;
        size_t hl;
        if (bt_vault_read(v, 0, &head, &hl, NULL, NULL) == BT_OK) sb_add(&prov, ",\"earlier\":%s", head);
        bt_vault_free(head);
    }
    sb_add(&prov, "}");
    if (prov.oom) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }

    if ((tmp = path_join(v->dir, BT_VAULT_DB ".recovering")) == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    unlink(tmp); /* a recovery cut short before */
    if ((err = recover_file(v, &nv, tmp)) == BT_OK) err = recover_write(v, &nv, prov.s, ok, out->upto, now);
    for (size_t i = 0; i < sizeof nv.hot / sizeof nv.hot[0]; i++) sqlite3_finalize(nv.hot[i]);
    if (nv.db != NULL) {
        if (sqlite3_close(nv.db) != SQLITE_OK && err == BT_OK) err = BT_ERR_STORAGE; /* checkpoints */
        connections_open--;
    }
    nv.db = NULL;
    if (err == BT_OK) {
        detach_file(v);
        err = recover_swap(v, tmp, out->damaged_file);
        forget_file(v);
        bt_err again = attach_file(v); /* the new log, or the damaged one if it could not be swapped */
        if (err == BT_OK) err = again;
        if (v->sk_source != SK_NONE && !sk_matches(v->sk, v->pk)) drop_sk(v);
        v->older_from = v->epoch;
        out->recovered = err == BT_OK;
    }
    if (err != BT_OK) unlink(tmp);
done:
    sodium_free(nv.wkey);
    free(prov.s);
    free(tmp);
    free(ok);
    return err;
}
