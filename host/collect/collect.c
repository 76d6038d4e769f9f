/* The union's collector: key file, store and figures (include/bantrail/collect.h).
 *
 * Decisions written down here:
 * - The store is SQLite's file or PostgreSQL (collect_int.h, store_*.c):
 *   every statement below is written once for both. Reports are stored as
 *   small integer columns keyed by the 16-byte report id; the figures are
 *   counted by the database (GROUP BY, collect_report.c).
 * - Every check and write of one report is one transaction (serializable in
 *   PostgreSQL, BEGIN IMMEDIATE in SQLite), and every uniqueness the
 *   collector relies on is a primary key (seen digest, owner per id, spent
 *   token, report id): two receivers given the same bytes at once store them
 *   once, because the second's insert conflicts and its transaction, done
 *   again, reads the first's commit. Nothing of this lives in a process.
 * - Replays are recognised by the digest of the sealed bytes (without the
 *   proof-of-work nonce), its first 64 bits kept in their own table. An update of a case is a
 *   new sealing (crypto_box_seal is randomised) and so a new digest.
 * - Who may change a report: the Ed25519 key its first report carried, kept
 *   in `owners` by report id, and kept after a withdrawal (which deletes the
 *   report's row), so that nobody else can take the id over. Reports stored
 *   before keys (schema 1) have no owner row and cannot be changed.
 * - Nothing about the sender is stored: no address, no receipt time. The
 *   key is the report's own (one per report id), never the person's. */
#include "collect/collect_int.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "util/file.h"
#include "util/json.h"


/* ---- key file ---- */

#define KEYFILE_MAX 4096
#define WRAP_AD "bantrail-collect-key-v1"

static bt_err write_new_file(const char *path, const char *data, size_t len)
{
    return bt_file_write(path, data, len, 0600, BT_FILE_NEW) == 0 ? BT_OK : BT_ERR_STORAGE;
}

static char *b64(const unsigned char *bin, size_t len)
{
    size_t n = sodium_base64_ENCODED_LEN(len, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(n);
    if (s != NULL) sodium_bin2base64(s, n, bin, len, sodium_base64_VARIANT_ORIGINAL);
    return s;
}

/* Decodes member key of o: base64 of exactly len bytes. */
static int unb64(unsigned char *bin, size_t len, json_object *o, const char *key)
{
    json_object *v;
    const char *s, *end = NULL;
    size_t n = 0;
    if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_string)) return -1;
    s = json_object_get_string(v);
    if (sodium_base642bin(bin, len, s, strlen(s), NULL, &n, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        n != len || *end != '\0')
        return -1;
    return 0;
}

bt_err bt_collect_keygen(const char *path, const char *pass, size_t pass_len, const bt_kdf_params *kdf,
                         unsigned char pk[crypto_box_PUBLICKEYBYTES], unsigned char *token_pub)
{
    bt_kdf_params p = kdf ? *kdf : bt_kdf_default();
    unsigned char salt[crypto_pwhash_SALTBYTES], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned char wrapped[crypto_box_SECRETKEYBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
    unsigned char *sk = NULL, *key = NULL;
    char *s_pk = NULL, *s_salt = NULL, *s_nonce = NULL, *s_wrapped = NULL;
    json_object *o = NULL, *k = NULL;
    bt_err err = BT_ERR_NO_MEMORY;

    if (pass_len < BT_PASSPHRASE_MIN) return BT_ERR_WEAK_PASSPHRASE;
    if (pass_len > BT_PASSPHRASE_MAX) return BT_ERR_BAD_PARAMS;
    sk = sodium_malloc(crypto_box_SECRETKEYBYTES);
    key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    if (sk == NULL || key == NULL) goto done;
    crypto_box_keypair(pk, sk);
    if (token_pub != NULL && (err = bt_collect_token_public(sk, token_pub)) != BT_OK) goto done;
    err = BT_ERR_NO_MEMORY;
    randombytes_buf(salt, sizeof salt);
    randombytes_buf(nonce, sizeof nonce);
    if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len, salt, p.opslimit,
                      p.memlimit, crypto_pwhash_ALG_ARGON2ID13) != 0)
        goto done;
    crypto_aead_xchacha20poly1305_ietf_encrypt(wrapped, NULL, sk, crypto_box_SECRETKEYBYTES, pk,
                                               crypto_box_PUBLICKEYBYTES, NULL, nonce, key);
    sodium_memzero(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    s_pk = b64(pk, crypto_box_PUBLICKEYBYTES);
    s_salt = b64(salt, sizeof salt);
    s_nonce = b64(nonce, sizeof nonce);
    s_wrapped = b64(wrapped, sizeof wrapped);
    o = json_object_new_object();
    k = json_object_new_object();
    if (!s_pk || !s_salt || !s_nonce || !s_wrapped || !o || !k) goto done;
    json_object_object_add(o, "v", json_object_new_int(1));
    json_object_object_add(o, "format", json_object_new_string(WRAP_AD));
    json_object_object_add(o, "public_key", json_object_new_string(s_pk));
    json_object_object_add(k, "alg", json_object_new_string("argon2id13"));
    json_object_object_add(k, "opslimit", json_object_new_int64((int64_t)p.opslimit));
    json_object_object_add(k, "memlimit", json_object_new_int64((int64_t)p.memlimit));
    json_object_object_add(k, "salt", json_object_new_string(s_salt));
    json_object_object_add(o, "kdf", k);
    k = NULL;
    json_object_object_add(o, "nonce", json_object_new_string(s_nonce));
    json_object_object_add(o, "wrapped_secret_key", json_object_new_string(s_wrapped));
    {
        const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PRETTY);
        err = text ? write_new_file(path, text, strlen(text)) : BT_ERR_NO_MEMORY;
    }
done:
    sodium_free(sk);
    sodium_free(key);
    free(s_pk);
    free(s_salt);
    free(s_nonce);
    free(s_wrapped);
    json_object_put(k);
    json_object_put(o);
    return err;
}

static bt_err read_keyfile(const char *path, json_object **out)
{
    char buf[KEYFILE_MAX + 1];
    size_t len = 0;
    int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? BT_ERR_NOT_FOUND : BT_ERR_STORAGE;
    for (;;) {
        ssize_t n = read(fd, buf + len, sizeof buf - 1 - len);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) {
            close(fd);
            return BT_ERR_STORAGE;
        }
        if (n == 0) break;
        len += (size_t)n;
        if (len == sizeof buf - 1) break;
    }
    close(fd);
    if (len >= KEYFILE_MAX) return BT_ERR_CORRUPT;
    buf[len] = '\0';
    bt_err err = bt_json_parse(buf, len, 4, out);
    if (err == BT_ERR_NO_MEMORY) return err;
    if (*out == NULL || !json_object_is_type(*out, json_type_object)) {
        json_object_put(*out);
        *out = NULL;
        return BT_ERR_CORRUPT;
    }
    return BT_OK;
}

bt_err bt_collect_key_public(const char *path, unsigned char pk[crypto_box_PUBLICKEYBYTES])
{
    json_object *o = NULL;
    bt_err err = read_keyfile(path, &o);
    if (err != BT_OK) return err;
    if (unb64(pk, crypto_box_PUBLICKEYBYTES, o, "public_key") != 0) err = BT_ERR_CORRUPT;
    json_object_put(o);
    return err;
}

bt_err bt_collect_key_load(const char *path, const char *pass, size_t pass_len,
                           unsigned char pk[crypto_box_PUBLICKEYBYTES], unsigned char *sk)
{
    json_object *o = NULL, *k, *v;
    unsigned char salt[crypto_pwhash_SALTBYTES], nonce[crypto_aead_xchacha20poly1305_ietf_NPUBBYTES];
    unsigned char wrapped[crypto_box_SECRETKEYBYTES + crypto_aead_xchacha20poly1305_ietf_ABYTES];
    unsigned char check[crypto_box_PUBLICKEYBYTES];
    unsigned char *key = NULL;
    int64_t ops, mem;
    bt_err err = read_keyfile(path, &o);
    if (err != BT_OK) return err;
    err = BT_ERR_CORRUPT;
    if (!json_object_object_get_ex(o, "format", &v) || !json_object_is_type(v, json_type_string) ||
        strcmp(json_object_get_string(v), WRAP_AD) != 0)
        goto done;
    if (unb64(pk, crypto_box_PUBLICKEYBYTES, o, "public_key") != 0 ||
        unb64(nonce, sizeof nonce, o, "nonce") != 0 ||
        unb64(wrapped, sizeof wrapped, o, "wrapped_secret_key") != 0 ||
        !json_object_object_get_ex(o, "kdf", &k) || unb64(salt, sizeof salt, k, "salt") != 0)
        goto done;
    if (!json_object_object_get_ex(k, "opslimit", &v) || !json_object_is_type(v, json_type_int)) goto done;
    ops = json_object_get_int64(v);
    if (!json_object_object_get_ex(k, "memlimit", &v) || !json_object_is_type(v, json_type_int)) goto done;
    mem = json_object_get_int64(v);
    if (ops < (int64_t)crypto_pwhash_OPSLIMIT_MIN || ops > 64 || mem < (int64_t)crypto_pwhash_MEMLIMIT_MIN ||
        mem > ((int64_t)4 << 30))
        goto done;
    if (pass_len > BT_PASSPHRASE_MAX) {
        err = BT_ERR_WRONG_PASSPHRASE;
        goto done;
    }
    key = sodium_malloc(crypto_aead_xchacha20poly1305_ietf_KEYBYTES);
    if (key == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    if (crypto_pwhash(key, crypto_aead_xchacha20poly1305_ietf_KEYBYTES, pass, pass_len, salt,
                      (unsigned long long)ops, (size_t)mem, crypto_pwhash_ALG_ARGON2ID13) != 0) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    if (crypto_aead_xchacha20poly1305_ietf_decrypt(sk, NULL, NULL, wrapped, sizeof wrapped, pk,
                                                   crypto_box_PUBLICKEYBYTES, nonce, key) != 0) {
        err = BT_ERR_WRONG_PASSPHRASE;
        goto done;
    }
    crypto_scalarmult_base(check, sk);
    if (sodium_memcmp(check, pk, sizeof check) != 0) {
        sodium_memzero(sk, crypto_box_SECRETKEYBYTES);
        goto done;
    }
    err = BT_OK;
done:
    sodium_free(key);
    json_object_put(o);
    return err;
}

/* ---- the store ---- */

/* The tables (collect_int.h: SQLite's words; store_pg.c translates them). */
const char *const bt_store_tables[] = {
    "CREATE TABLE IF NOT EXISTS reports("
    " id BLOB PRIMARY KEY NOT NULL,"
    " platform INTEGER NOT NULL, kind INTEGER NOT NULL, category INTEGER NOT NULL,"
    " keywords INTEGER NOT NULL, week INTEGER NOT NULL, duration INTEGER NOT NULL,"
    " offered INTEGER NOT NULL, submitted INTEGER NOT NULL, outcome INTEGER NOT NULL,"
    " delay INTEGER NOT NULL, account_type INTEGER NOT NULL, paid INTEGER NOT NULL,"
    " country INTEGER NOT NULL, client INTEGER NOT NULL, counted INTEGER NOT NULL DEFAULT 1,"
    " keywords_hi INTEGER NOT NULL DEFAULT 0, schema_v INTEGER NOT NULL DEFAULT 1) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS seen(digest INTEGER PRIMARY KEY)",
    "CREATE TABLE IF NOT EXISTS owners(id BLOB PRIMARY KEY NOT NULL, key BLOB NOT NULL) WITHOUT ROWID",
    /* membership tokens: BLAKE2b-256 of each spent t, of each invite code */
    "CREATE TABLE IF NOT EXISTS spent(t BLOB PRIMARY KEY NOT NULL, id BLOB NOT NULL) WITHOUT ROWID",
    "CREATE TABLE IF NOT EXISTS invites(code BLOB PRIMARY KEY NOT NULL, remaining INTEGER NOT NULL) WITHOUT ROWID",
    /* the figures' counts (collect_int.h TALLY_*), n summed over the shards */
    "CREATE TABLE IF NOT EXISTS tallies(shard INTEGER NOT NULL, part INTEGER NOT NULL, k1 INTEGER NOT NULL,"
    " k2 INTEGER NOT NULL, k3 INTEGER NOT NULL, k4 INTEGER NOT NULL, k5 INTEGER NOT NULL, k6 INTEGER NOT NULL,"
    " n INTEGER NOT NULL, PRIMARY KEY(shard,part,k1,k2,k3,k4,k5,k6)) WITHOUT ROWID",
    NULL};

/* The columns a store from before them gains (ALTER TABLE reports ADD
 * COLUMN ...), each with the value its reports had: counted (membership
 * tokens: all counted), keywords_hi and schema_v (schema 2: keywords 65-128,
 * and which schema's lists category and keywords are values of). */
const char *const bt_store_added_columns[] = {"counted INTEGER NOT NULL DEFAULT 1",
                                              "keywords_hi INTEGER NOT NULL DEFAULT 0",
                                              "schema_v INTEGER NOT NULL DEFAULT 1", NULL};

/* the reports kept apart (counted=0, §5), counted without reading the others */
const char *const bt_store_indexes[] = {
    "CREATE INDEX IF NOT EXISTS reports_not_counted ON reports(counted) WHERE counted=0", NULL};

/* A report's columns, in the order of every statement and array below
 * (REPORT_NCOLS): keywords holds keywords 1-64, keywords_hi 65-128 (as
 * signed 64-bit integers), schema_v the schema of category and keywords. */
#define REPORT_COLUMNS                                                                                       \
    "platform,kind,category,keywords,week,duration,offered,submitted,outcome,delay,account_type,paid,country," \
    "keywords_hi,schema_v"

/* Every statement of the collector, once, for both stores (Q_* order). */
const char *const bt_store_queries[Q_COUNT_] = {
    [Q_SEEN_GET] = "SELECT 1 FROM seen WHERE digest=?",
    [Q_SEEN_INS] = "INSERT INTO seen(digest) VALUES(?)",
    [Q_SPENT_GET] = "SELECT id FROM spent WHERE t=?",
    [Q_SPENT_INS] = "INSERT INTO spent(t,id) VALUES(?,?)",
    [Q_UPDATE] = "UPDATE reports SET platform=?2,kind=?3,category=?4,keywords=?5,week=?6,duration=?7,offered=?8,"
                 "submitted=?9,outcome=?10,delay=?11,account_type=?12,paid=?13,country=?14,keywords_hi=?15,"
                 "schema_v=?16,client=?17,counted=(counted|?18) WHERE id=?1",
    [Q_INSERT] = "INSERT INTO reports(id," REPORT_COLUMNS ",client,counted) VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)"
                 " ON CONFLICT DO NOTHING",
    [Q_OWNER_GET] = "SELECT key FROM owners WHERE id=?",
    [Q_OWNER_INS] = "INSERT INTO owners(id,key) VALUES(?,?)",
    [Q_EXISTS] = "SELECT 1 FROM reports WHERE id=?",
    [Q_ROW_GET] = "SELECT " REPORT_COLUMNS ",counted FROM reports WHERE id=?",
    [Q_REMOVE] = "DELETE FROM reports WHERE id=?",
    [Q_COUNT] = "SELECT count(*) FROM reports",
    [Q_INVITE_INS] = "INSERT INTO invites(code,remaining) VALUES(?,?)",
    [Q_INVITE_GET] = "SELECT remaining FROM invites WHERE code=?",
    [Q_INVITE_TAKE] = "UPDATE invites SET remaining=remaining-?1 WHERE code=?2 AND remaining>=?1",
    /* ?1 shard, ?2-?16 the report's columns (REPORT_COLUMNS order; schema_v
     * less 1, ?16: 0 for schema 1, as tallies from before schema 2 hold), ?17 +1 or -1 */
    [Q_TALLY] = "INSERT INTO tallies(shard,part,k1,k2,k3,k4,k5,k6,n) VALUES"
                "(?1,1,?2,?3,?8,?9,?10,?11,?17),(?1,2,?6,?7,0,0,0,0,?17),(?1,3,?4,?5,?15,?16,0,0,?17),"
                "(?1,4,?12,?13,?14,0,0,0,?17),(?1,5,?6,?2,?3,0,0,0,?17)"
                " ON CONFLICT(shard,part,k1,k2,k3,k4,k5,k6) DO UPDATE SET n=tallies.n+excluded.n",
    [Q_TALLY_ANY] = "SELECT 1 FROM tallies LIMIT 1",
    [Q_COUNTED_ANY] = "SELECT 1 FROM reports WHERE counted<>0 LIMIT 1",
    /* a store from before the tallies: made from its reports once */
    [Q_RETALLY] = "INSERT INTO tallies(shard,part,k1,k2,k3,k4,k5,k6,n)"
                  " SELECT 0,1,platform,kind,offered,submitted,outcome,delay,count(*) FROM reports WHERE counted<>0"
                  " GROUP BY 3,4,5,6,7,8"
                  " UNION ALL SELECT 0,2,week,duration,0,0,0,0,count(*) FROM reports WHERE counted<>0 GROUP BY 3,4"
                  " UNION ALL SELECT 0,3,category,keywords,keywords_hi,schema_v-1,0,0,count(*) FROM reports"
                  " WHERE counted<>0 GROUP BY 3,4,5,6"
                  " UNION ALL SELECT 0,4,account_type,paid,country,0,0,0,count(*) FROM reports WHERE counted<>0"
                  " GROUP BY 3,4,5"
                  " UNION ALL SELECT 0,5,week,platform,kind,0,0,0,count(*) FROM reports WHERE counted<>0 GROUP BY 3,4,5",
    [Q_FIG_UNCOUNTED] = "SELECT count(*) FROM reports WHERE counted=0",
    [Q_FIG_TALLIES] = "SELECT part,k1,k2,k3,k4,k5,k6,sum(n) FROM tallies WHERE part<5 GROUP BY 1,2,3,4,5,6,7"
                      " HAVING sum(n)<>0",
    /* open data: cells under ?1 written as ?2 ("<10") by the database */
    [Q_EXPORT_WEEKLY] = "SELECT k1,k2,k3,CASE WHEN sum(n)<?1 THEN ?2 ELSE CAST(sum(n) AS TEXT) END FROM tallies"
                        " WHERE part=5 GROUP BY 1,2,3 HAVING sum(n)<>0 ORDER BY 1,2,3",
    [Q_EXPORT_APPEALS] = "SELECT k1,k5,k6,CASE WHEN sum(n)<?1 THEN ?2 ELSE CAST(sum(n) AS TEXT) END FROM tallies"
                         " WHERE part=1 AND k4=1 GROUP BY 1,2,3 HAVING sum(n)<>0 ORDER BY 1,2,3",
};

static bt_err in_txn(bt_collect *c, bt_err (*fn)(bt_collect *, void *), void *ctx);
static bt_err retally(bt_collect *c, void *ctx);

static int is_pg_address(const char *store)
{
    return strncmp(store, "postgresql://", 13) == 0 || strncmp(store, "postgres://", 11) == 0;
}

bt_err bt_collect_open(bt_collect **out, const char *store, int durable, char *why, size_t why_len)
{
    bt_collect *c = calloc(1, sizeof *c);
    bt_err err;
    *out = NULL;
    if (why != NULL && why_len > 0) why[0] = '\0';
    if (c == NULL) return BT_ERR_NO_MEMORY;
    err = is_pg_address(store) ? bt_store_pg_open(&c->db, store, durable, why, why_len)
                               : bt_store_sqlite_open(&c->db, store, durable);
    if (err != BT_OK) {
        free(c);
        return err;
    }
    if ((err = in_txn(c, retally, NULL)) != BT_OK) {
        if (why != NULL && why_len > 0 && why[0] == '\0') snprintf(why, why_len, "the store's tallies cannot be made");
        bt_collect_close(c);
        return err;
    }
    *out = c;
    return BT_OK;
}

void bt_collect_close(bt_collect *c)
{
    if (c == NULL) return;
    if (c->in_batch) c->db->ops->rollback(c->db);
    c->db->ops->close(c->db);
    if (c->sk != NULL) sodium_free(c->sk);
    if (c->prev_sk != NULL) sodium_free(c->prev_sk);
    if (c->token_k != NULL) sodium_free(c->token_k);
    free(c);
}

const char *bt_collect_store_kind(const bt_collect *c)
{
    return c->db->ops->name;
}

/* The error a store's answer means for a caller. */
static bt_err err_of(bt_db_rc rc)
{
    return rc == BT_DB_OK ? BT_OK : rc == BT_DB_FAIL ? BT_ERR_STORAGE : BT_ERR_BUSY;
}

/* Runs q; shorthand for the common case. */
static bt_db_rc run(bt_collect *c, int q, const bt_arg *args, int nargs, bt_row_fn row, void *ctx, int64_t *changes)
{
    return c->db->ops->run(c->db, q, args, nargs, row, ctx, changes);
}

/* Row callbacks: the first row's first column as an integer, or as a blob. */
typedef struct {
    int got;
    int64_t i;
    unsigned char blob[BT_CELL_BLOB_MAX];
    size_t blob_len;
} first_row;

static int take_first(void *ctx, const bt_cell *cols, int n)
{
    first_row *f = ctx;
    f->got = 1;
    if (n > 0) {
        f->i = cols[0].i;
        f->blob_len = cols[0].blob_len;
        memcpy(f->blob, cols[0].blob, cols[0].blob_len);
    }
    return 1;
}

bt_err bt_collect_set_key(bt_collect *c, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                          const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned difficulty)
{
    if (difficulty > BT_REPORT_POW_MAX) return BT_ERR_BAD_PARAMS;
    if (c->sk == NULL && (c->sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL) return BT_ERR_NO_MEMORY;
    memcpy(c->pk, pk, sizeof c->pk);
    memcpy(c->sk, sk, crypto_box_SECRETKEYBYTES);
    c->difficulty = difficulty;
    return BT_OK;
}

bt_err bt_collect_set_previous_key(bt_collect *c, const unsigned char pk[crypto_box_PUBLICKEYBYTES],
                                   const unsigned char sk[crypto_box_SECRETKEYBYTES])
{
    if (c->prev_sk == NULL && (c->prev_sk = sodium_malloc(crypto_box_SECRETKEYBYTES)) == NULL) return BT_ERR_NO_MEMORY;
    memcpy(c->prev_pk, pk, sizeof c->prev_pk);
    memcpy(c->prev_sk, sk, crypto_box_SECRETKEYBYTES);
    return BT_OK;
}

bt_err bt_collect_token_public(const unsigned char sk[crypto_box_SECRETKEYBYTES], unsigned char pub[BT_TOKEN_POINT_BYTES])
{
    unsigned char *k = sodium_malloc(BT_TOKEN_SCALAR_BYTES);
    if (k == NULL) return BT_ERR_NO_MEMORY;
    bt_err err = bt_token_key(k, pub, sk, crypto_box_SECRETKEYBYTES);
    sodium_free(k);
    return err;
}

bt_err bt_collect_set_tokens(bt_collect *c, bt_tokens_policy policy, const unsigned char pub[BT_TOKEN_POINT_BYTES])
{
    unsigned char derived[BT_TOKEN_POINT_BYTES];
    bt_err err;
    if (c->token_k != NULL) sodium_free(c->token_k);
    c->token_k = NULL;
    c->tokens = BT_TOKENS_OFF;
    if (policy == BT_TOKENS_OFF) return BT_OK;
    if (c->sk == NULL) return BT_ERR_LOCKED;
    if ((c->token_k = sodium_malloc(BT_TOKEN_SCALAR_BYTES)) == NULL) return BT_ERR_NO_MEMORY;
    err = bt_token_key(c->token_k, derived, c->sk, crypto_box_SECRETKEYBYTES);
    if (err == BT_OK && sodium_memcmp(derived, pub, sizeof derived) != 0) err = BT_ERR_CORRUPT;
    if (err != BT_OK) {
        sodium_free(c->token_k);
        c->token_k = NULL;
        return err;
    }
    memcpy(c->token_pub, derived, sizeof c->token_pub);
    c->tokens = policy;
    return BT_OK;
}

/* The stored form of an invite code or a spent token value: BLAKE2b-256. */
static void digest_of(unsigned char out[32], const char *context, const unsigned char *in, size_t len)
{
    crypto_generichash(out, 32, in, len, (const unsigned char *)context, strlen(context));
}

/* ---- transactions ---- */

/* A conflict with another writer (collect_int.h BT_DB_RETRY), inside this
 * file only: the transaction is done again, never returned to a caller. */
#define ERR_RETRY ((bt_err)BT_ERR_COUNT_)
#define TRIES 12

static bt_err dberr(bt_db_rc rc)
{
    return rc == BT_DB_RETRY ? ERR_RETRY : err_of(rc);
}

/* Runs fn(c, ctx) in a write transaction of its own, or in the batch's
 * (where a conflict cannot be done again: BT_ERR_BUSY, the batch is lost).
 * Done again on a conflict, up to TRIES times, after a short random pause:
 * what the other writer committed is then read. Every refusal of fn comes
 * before its first write, so a refusal rolls back nothing that mattered. */
static bt_err in_txn(bt_collect *c, bt_err (*fn)(bt_collect *, void *), void *ctx)
{
    bt_err err = BT_OK;
    for (int attempt = 0; attempt < TRIES; attempt++) {
        if (c->in_batch) return (err = fn(c, ctx)) == ERR_RETRY ? BT_ERR_BUSY : err;
        if ((err = dberr(c->db->ops->begin(c->db))) == BT_OK) {
            err = fn(c, ctx);
            if (err == BT_OK) err = dberr(c->db->ops->commit(c->db));
        }
        if (err != BT_OK) c->db->ops->rollback(c->db);
        if (err != ERR_RETRY) return err;
        struct timespec pause = {0, (long)(randombytes_uniform(2000) + 100) * 1000 * (attempt + 1)};
        nanosleep(&pause, NULL);
    }
    return BT_ERR_BUSY;
}

/* A store from before the tallies (or one whose tallies were emptied)
 * gets them from its reports, once, whichever receiver opens it first. */
static bt_err retally(bt_collect *c, void *ctx)
{
    first_row t = {0}, r = {0};
    bt_err err;
    (void)ctx;
    if ((err = dberr(run(c, Q_TALLY_ANY, NULL, 0, take_first, &t, NULL))) != BT_OK || t.got) return err;
    if ((err = dberr(run(c, Q_COUNTED_ANY, NULL, 0, take_first, &r, NULL))) != BT_OK || !r.got) return err;
    return dberr(run(c, Q_RETALLY, NULL, 0, NULL, NULL, NULL));
}

bt_err bt_collect_begin(bt_collect *c)
{
    if (c->in_batch) return BT_OK;
    if (c->db->ops->begin(c->db) != BT_DB_OK) return BT_ERR_STORAGE;
    c->in_batch = 1;
    return BT_OK;
}

bt_err bt_collect_commit(bt_collect *c)
{
    if (!c->in_batch) return BT_OK;
    c->in_batch = 0;
    if (c->db->ops->commit(c->db) != BT_DB_OK) {
        c->db->ops->rollback(c->db);
        return BT_ERR_STORAGE;
    }
    return BT_OK;
}

/* ---- invites and tokens ---- */

bt_err bt_collect_invite(bt_collect *c, unsigned count, unsigned char code[BT_COLLECT_INVITE_BYTES])
{
    unsigned char d[32];
    if (count < 1 || count > BT_COLLECT_INVITE_MAX) return BT_ERR_BAD_PARAMS;
    randombytes_buf(code, BT_COLLECT_INVITE_BYTES);
    digest_of(d, "bantrail-invite-v1", code, BT_COLLECT_INVITE_BYTES);
    bt_arg a[] = {ARG_BLOB(d, sizeof d), ARG_INT(count)};
    bt_err err = err_of(run(c, Q_INVITE_INS, a, 2, NULL, NULL, NULL));
    return err == BT_ERR_BUSY ? BT_ERR_STORAGE : err;
}

typedef struct {
    const unsigned char *code_digest;
    const unsigned char (*m)[BT_TOKEN_POINT_BYTES];
    size_t n;
    unsigned char (*z)[BT_TOKEN_POINT_BYTES];
    unsigned char (*proof)[BT_TOKEN_PROOF_BYTES];
    int64_t left;
    const char **why;
} issue_job;

/* Takes n from the code's budget (one statement: never below zero, whatever
 * another receiver does), then evaluates; any refusal rolls the take back. */
static bt_err issue_txn(bt_collect *c, void *ctx)
{
    issue_job *j = ctx;
    first_row f = {0};
    int64_t taken = 0;
    bt_err err;
    bt_arg take[] = {ARG_INT((int64_t)j->n), ARG_BLOB(j->code_digest, 32)};
    bt_arg get[] = {ARG_BLOB(j->code_digest, 32)};
    if ((err = dberr(run(c, Q_INVITE_TAKE, take, 2, NULL, NULL, &taken))) != BT_OK) return err;
    if ((err = dberr(run(c, Q_INVITE_GET, get, 1, take_first, &f, NULL))) != BT_OK) return err;
    j->left = f.got ? f.i : 0;
    if (taken != 1) {
        if (j->why) *j->why = f.got ? "this invite code has fewer tokens left than asked for" : "no such invite code";
        return BT_ERR_BAD_INVITE;
    }
    for (size_t i = 0; i < j->n && err == BT_OK; i++) {
        err = bt_token_evaluate(j->z[i], j->proof[i], c->token_k, c->token_pub, j->m[i]);
        if (err == BT_ERR_BAD_PARAMS && j->why) *j->why = "a blinded element is not a ristretto255 point";
    }
    if (err != BT_OK) j->left += (int64_t)j->n; /* rolled back */
    return err;
}

bt_err bt_collect_issue(bt_collect *c, const unsigned char code[BT_COLLECT_INVITE_BYTES],
                        const unsigned char (*m)[BT_TOKEN_POINT_BYTES], size_t n,
                        unsigned char (*z)[BT_TOKEN_POINT_BYTES], unsigned char (*proof)[BT_TOKEN_PROOF_BYTES],
                        int64_t *left, const char **why)
{
    unsigned char d[32];
    *left = 0;
    if (c->token_k == NULL) return BT_ERR_LOCKED;
    if (n < 1 || n > BT_TOKEN_BATCH_MAX) return BT_ERR_BAD_PARAMS;
    if (c->in_batch) return BT_ERR_BUSY;
    digest_of(d, "bantrail-invite-v1", code, BT_COLLECT_INVITE_BYTES);
    issue_job j = {d, m, n, z, proof, 0, why};
    bt_err err = in_txn(c, issue_txn, &j);
    *left = j.left;
    if (err != BT_OK) {
        sodium_memzero(z, n * BT_TOKEN_POINT_BYTES);
        sodium_memzero(proof, n * BT_TOKEN_PROOF_BYTES);
    }
    return err;
}

/* ---- reports ---- */

/* Reads query q (bound to id) : 1 a row (its first column's blob into key,
 * when key is not NULL: 32 bytes or zeros), 0 none; or an error. */
static bt_err row_of(bt_collect *c, int q, const unsigned char id[BT_REPORT_ID_BYTES], unsigned char *key, int *got)
{
    first_row f = {0};
    bt_arg a[] = {ARG_BLOB(id, BT_REPORT_ID_BYTES)};
    bt_err err = dberr(run(c, q, a, 1, take_first, &f, NULL));
    *got = f.got;
    if (err == BT_OK && f.got && key != NULL) {
        if (f.blob_len == crypto_sign_PUBLICKEYBYTES) memcpy(key, f.blob, crypto_sign_PUBLICKEYBYTES);
        else memset(key, 0, crypto_sign_PUBLICKEYBYTES); /* matches no real signature key */
    }
    return err;
}

/* May auth change report id? *first: the id is new. Reads only. */
static bt_err may_change(bt_collect *c, const unsigned char id[BT_REPORT_ID_BYTES], const bt_report_auth *auth,
                         int *first, const char **why)
{
    unsigned char key[crypto_sign_PUBLICKEYBYTES];
    int owned = 0, stored = 0;
    bt_err err;
    *first = 0;
    if ((err = row_of(c, Q_OWNER_GET, id, key, &owned)) != BT_OK) return err;
    if (owned) {
        if (sodium_memcmp(key, auth->key, sizeof key) == 0) return BT_OK;
        if (why) *why = "not signed by the key of this report's first sender: only they can update or withdraw it";
        return BT_ERR_NOT_OWNER;
    }
    if ((err = row_of(c, Q_EXISTS, id, NULL, &stored)) != BT_OK) return err;
    if (stored) {
        if (why) *why = "this report was stored before sender keys: it cannot be updated or withdrawn";
        return BT_ERR_NOT_OWNER;
    }
    if (auth->withdrawal) {
        if (why) *why = "no report with this id was received";
        return BT_ERR_NOT_FOUND;
    }
    *first = 1;
    return BT_OK;
}

/* The token's part of a report of id (docs/REPORT.md section 5): whether
 * it counts (*counted) and, when its token is spent now, the digest to keep
 * (*spend_now). A token is spent on one report id: every report of that id
 * may carry it again (an update, a try whose answer was lost). Reads only:
 * every refusal comes before the first write. */
static bt_err token_standing(bt_collect *c, const unsigned char id[BT_REPORT_ID_BYTES], const bt_report_auth *auth,
                             int exists, int *counted, unsigned char spend[32], int *spend_now, const char **why)
{
    *counted = 0;
    *spend_now = 0;
    if (!auth->has_token) {
        if (auth->withdrawal || exists) return BT_OK; /* the id keeps its standing */
        if (c->tokens == BT_TOKENS_REQUIRED) {
            if (why) *why = "this union accepts only reports with a membership token: ask it for tokens";
            return BT_ERR_TOKEN_REQUIRED;
        }
        *counted = c->tokens == BT_TOKENS_OFF;
        return BT_OK;
    }
    if (c->token_k == NULL) {
        if (why) *why = "this union issues no membership tokens";
        return BT_ERR_BAD_TOKEN;
    }
    if (bt_token_check(&auth->token, c->token_k) != BT_OK) {
        if (why) *why = "the membership token was not issued by this union";
        return BT_ERR_BAD_TOKEN;
    }
    digest_of(spend, "bantrail-spent-v1", auth->token.t, sizeof auth->token.t);
    first_row f = {0};
    bt_arg a[] = {ARG_BLOB(spend, 32)};
    bt_err err = dberr(run(c, Q_SPENT_GET, a, 1, take_first, &f, NULL));
    if (err != BT_OK) return err;
    if (f.got && !(f.blob_len == BT_REPORT_ID_BYTES && memcmp(f.blob, id, BT_REPORT_ID_BYTES) == 0)) {
        if (why) *why = "this membership token was spent on another report before";
        return BT_ERR_TOKEN_SPENT;
    }
    *counted = 1;
    *spend_now = !f.got;
    return BT_OK;
}

typedef struct {
    const bt_report *r;
    const bt_report_auth *auth;
    const unsigned char *digest;
    int updated;
    const char **why;
} submit_job;

#define REPORT_NCOLS 15
#define COL_SCHEMA 14 /* schema_v */

/* A stored report's columns (REPORT_COLUMNS order) and counted. */
typedef struct {
    int got;
    int64_t v[REPORT_NCOLS];
    int64_t counted;
} old_row;

static int take_row(void *ctx, const bt_cell *cols, int n)
{
    old_row *o = ctx;
    o->got = 1;
    for (int i = 0; i < REPORT_NCOLS && i < n; i++) o->v[i] = cols[i].i;
    o->counted = n > REPORT_NCOLS ? cols[REPORT_NCOLS].i : 0;
    return 1;
}

/* Adds sign (+1, -1) to the tallies of a report's columns v (REPORT_COLUMNS
 * order), in a shard drawn at random. */
static bt_err tally(bt_collect *c, const int64_t v[REPORT_NCOLS], int sign)
{
    bt_arg a[REPORT_NCOLS + 2];
    a[0] = ARG_INT(randombytes_uniform(TALLY_SHARDS));
    for (int i = 0; i < REPORT_NCOLS; i++) a[1 + i] = ARG_INT(i == COL_SCHEMA ? v[i] - 1 : v[i]);
    a[REPORT_NCOLS + 1] = ARG_INT(sign);
    return dberr(run(c, Q_TALLY, a, REPORT_NCOLS + 2, NULL, NULL, NULL));
}

static bt_err store(bt_collect *c, void *ctx)
{
    submit_job *j = ctx;
    const bt_report *r = j->r;
    const bt_report_auth *auth = j->auth;
    int first = 0, counted = 0, spend_now = 0;
    int64_t changed = 0;
    unsigned char spend[32];
    old_row old = {0};
    bt_err err = may_change(c, r->id, auth, &first, j->why);
    if (err != BT_OK) return err;
    /* The first 64 bits of the digest, as an integer key (SQLite's rowid:
     * the fastest key it has). A false "replayed" needs a 64-bit collision:
     * about 3e-8 after a million reports. Checked before the token, so that
     * the same bytes sent again (an answer lost) are "replayed", not a
     * double spend. */
    uint64_t key = 0;
    for (int i = 0; i < 8; i++) key = key << 8 | j->digest[i];
    first_row seen = {0};
    bt_arg k[] = {ARG_INT((int64_t)key)};
    if ((err = dberr(run(c, Q_SEEN_GET, k, 1, take_first, &seen, NULL))) != BT_OK) return err;
    if (seen.got) return BT_ERR_REPLAYED;
    bt_arg id[] = {ARG_BLOB(r->id, BT_REPORT_ID_BYTES)};
    if ((err = dberr(run(c, Q_ROW_GET, id, 1, take_row, &old, NULL))) != BT_OK) return err;
    if ((err = token_standing(c, r->id, auth, old.got, &counted, spend, &spend_now, j->why)) != BT_OK) return err;

    /* the writes: a unique key taken meanwhile by another receiver is a retry */
    if ((err = dberr(run(c, Q_SEEN_INS, k, 1, NULL, NULL, NULL))) != BT_OK) return err;
    if (spend_now) {
        bt_arg a[] = {ARG_BLOB(spend, sizeof spend), ARG_BLOB(r->id, BT_REPORT_ID_BYTES)};
        if ((err = dberr(run(c, Q_SPENT_INS, a, 2, NULL, NULL, NULL))) != BT_OK) return err;
    }
    if (first) {
        bt_arg a[] = {ARG_BLOB(r->id, BT_REPORT_ID_BYTES), ARG_BLOB(auth->key, crypto_sign_PUBLICKEYBYTES)};
        if ((err = dberr(run(c, Q_OWNER_INS, a, 2, NULL, NULL, NULL))) != BT_OK) return err;
    }
    /* what the report counted for leaves the tallies */
    if (old.got && old.counted && (err = tally(c, old.v, -1)) != BT_OK) return err;
    if (auth->withdrawal) {
        if ((err = dberr(run(c, Q_REMOVE, id, 1, NULL, NULL, &changed))) != BT_OK) return err;
        j->updated = changed == 1;
        return BT_OK;
    }
    /* A new id is the common case: try the insert, update when it existed. */
    const int64_t v[REPORT_NCOLS] = {r->platform, r->kind, r->category, (int64_t)r->keywords[0], r->week,
                                     r->duration, r->offered, r->submitted, r->outcome, r->delay, r->account_type,
                                     r->paid, r->country, (int64_t)r->keywords[1], r->v};
    bt_arg a[REPORT_NCOLS + 3];
    a[0] = id[0];
    for (int i = 0; i < REPORT_NCOLS; i++) a[1 + i] = ARG_INT(v[i]);
    a[REPORT_NCOLS + 1] = ARG_INT(r->client);
    a[REPORT_NCOLS + 2] = ARG_INT(counted);
    j->updated = 0;
    for (int pass = 0; pass < 2; pass++) {
        if ((err = dberr(run(c, pass ? Q_UPDATE : Q_INSERT, a, REPORT_NCOLS + 3, NULL, NULL, &changed))) != BT_OK)
            return err;
        if (changed == 1) break;
        if (pass) return ERR_RETRY; /* neither inserted nor updated: it moved under us */
        j->updated = 1;
    }
    /* an update keeps its report's standing (counted = counted | this one's) */
    if ((counted || (old.got && old.counted)) && (err = tally(c, v, +1)) != BT_OK) return err;
    return BT_OK;
}

bt_err bt_collect_submit(bt_collect *c, const char *wire, size_t len, bt_collect_result *res,
                         const char **why)
{
    bt_report r;
    bt_report_auth auth;
    unsigned char digest[32];
    bt_err err;
    if (why != NULL) *why = NULL;
    if (c->sk == NULL) return BT_ERR_LOCKED;
    err = bt_report_open_signed(&r, &auth, digest, wire, len, c->pk, c->sk, c->difficulty, why);
    if (err == BT_ERR_WRONG_KEY && c->prev_sk != NULL) /* sealed before a key rotation */
        err = bt_report_open_signed(&r, &auth, digest, wire, len, c->prev_pk, c->prev_sk, c->difficulty, why);
    if (err != BT_OK) return err;
    /* every refusal comes before the first write: nothing changes, in a batch too */
    submit_job j = {&r, &auth, digest, 0, why};
    err = in_txn(c, store, &j);
    if (err == BT_ERR_REPLAYED && why != NULL) *why = "these sealed bytes were received before";
    if (err == BT_ERR_BUSY && why != NULL) *why = "the store cannot be reached or is busy; try again later";
    if (err == BT_OK && res != NULL) {
        memcpy(res->id, r.id, sizeof res->id);
        res->updated = j.updated;
        res->withdrawn = auth.withdrawal;
    }
    sodium_memzero(&r, sizeof r);
    return err;
}

bt_err bt_collect_count(bt_collect *c, int64_t *n)
{
    first_row f = {0};
    bt_err err = err_of(run(c, Q_COUNT, NULL, 0, take_first, &f, NULL));
    if (err == BT_OK) *n = f.i;
    return err;
}
