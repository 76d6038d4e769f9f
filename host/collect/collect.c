/* The union's collector: key file, store and figures (include/bantrail/collect.h).
 *
 * Decisions written down here:
 * - Reports are stored as small integer columns in a WITHOUT ROWID table
 *   keyed by the 16-byte report id; `report` reads them in one sequential
 *   scan and counts in C arrays, so a million reports cost one pass.
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
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
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

static const char schema[] =
    "PRAGMA journal_mode=WAL;"
    "PRAGMA secure_delete=ON;"
    "PRAGMA cache_size=-32768;"
    "CREATE TABLE IF NOT EXISTS reports("
    " id BLOB PRIMARY KEY NOT NULL,"
    " platform INTEGER NOT NULL, kind INTEGER NOT NULL, category INTEGER NOT NULL,"
    " keywords INTEGER NOT NULL, week INTEGER NOT NULL, duration INTEGER NOT NULL,"
    " offered INTEGER NOT NULL, submitted INTEGER NOT NULL, outcome INTEGER NOT NULL,"
    " delay INTEGER NOT NULL, account_type INTEGER NOT NULL, paid INTEGER NOT NULL,"
    " country INTEGER NOT NULL, client INTEGER NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS seen(digest INTEGER PRIMARY KEY);"
    "CREATE TABLE IF NOT EXISTS owners(id BLOB PRIMARY KEY NOT NULL, key BLOB NOT NULL) WITHOUT ROWID;"
    /* membership tokens: BLAKE2b-256 of each spent t, of each invite code */
    "CREATE TABLE IF NOT EXISTS spent(t BLOB PRIMARY KEY NOT NULL, id BLOB NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE IF NOT EXISTS invites(code BLOB PRIMARY KEY NOT NULL, remaining INTEGER NOT NULL) WITHOUT ROWID;";

/* A store from before tokens (user_version 2) gains reports.counted (1: its
 * reports all count, as they did). */
static int migrate(sqlite3 *db)
{
    sqlite3_stmt *s = NULL;
    int has = sqlite3_prepare_v2(db, "SELECT counted FROM reports LIMIT 0", -1, &s, NULL) == SQLITE_OK;
    sqlite3_finalize(s);
    if (!has && sqlite3_exec(db, "ALTER TABLE reports ADD COLUMN counted INTEGER NOT NULL DEFAULT 1", NULL, NULL,
                             NULL) != SQLITE_OK)
        return -1;
    return sqlite3_exec(db, "PRAGMA user_version=3", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

bt_err bt_collect_open(bt_collect **out, const char *db_path, int durable)
{
    bt_collect *c = calloc(1, sizeof *c);
    int fd;
    *out = NULL;
    if (c == NULL) return BT_ERR_NO_MEMORY;
    /* Create the file 0600 ourselves: SQLite would follow the umask. */
    fd = open(db_path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(c);
        return BT_ERR_STORAGE;
    }
    close(fd);
    if (sqlite3_open_v2(db_path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK)
        goto fail;
    sqlite3_busy_timeout(c->db, 30000);
    if (sqlite3_exec(c->db, schema, NULL, NULL, NULL) != SQLITE_OK || migrate(c->db) != 0) goto fail;
    if (sqlite3_exec(c->db, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL,
                     NULL) != SQLITE_OK)
        goto fail;
    if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM seen WHERE digest=?", -1, &c->seen_get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "INSERT INTO seen(digest) VALUES(?)", -1, &c->seen_ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "SELECT id FROM spent WHERE t=?", -1, &c->spent_get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "INSERT INTO spent(t,id) VALUES(?,?)", -1, &c->spent_ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "UPDATE reports SET platform=?2,kind=?3,category=?4,keywords=?5,week=?6,duration=?7,offered=?8,"
                           "submitted=?9,outcome=?10,delay=?11,account_type=?12,paid=?13,country=?14,client=?15,"
                           "counted=max(counted,?16) WHERE id=?1", -1, &c->update, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db,
                           "INSERT OR IGNORE INTO reports(id,platform,kind,category,keywords,week,duration,"
                           "offered,submitted,outcome,delay,account_type,paid,country,client,counted)"
                           " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                           -1, &c->insert, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "SELECT key FROM owners WHERE id=?", -1, &c->owner_get, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "INSERT INTO owners(id,key) VALUES(?,?)", -1, &c->owner_ins, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "SELECT 1 FROM reports WHERE id=?", -1, &c->exists, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(c->db, "DELETE FROM reports WHERE id=?", -1, &c->remove, NULL) != SQLITE_OK)
        goto fail;
    *out = c;
    return BT_OK;
fail:
    bt_collect_close(c);
    return BT_ERR_STORAGE;
}

void bt_collect_close(bt_collect *c)
{
    if (c == NULL) return;
    sqlite3_finalize(c->seen_get);
    sqlite3_finalize(c->seen_ins);
    sqlite3_finalize(c->spent_get);
    sqlite3_finalize(c->spent_ins);
    sqlite3_finalize(c->update);
    sqlite3_finalize(c->insert);
    sqlite3_finalize(c->owner_get);
    sqlite3_finalize(c->owner_ins);
    sqlite3_finalize(c->exists);
    sqlite3_finalize(c->remove);
    if (c->in_batch) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    sqlite3_close(c->db);
    if (c->sk != NULL) sodium_free(c->sk);
    if (c->token_k != NULL) sodium_free(c->token_k);
    free(c);
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

bt_err bt_collect_invite(bt_collect *c, unsigned count, unsigned char code[BT_COLLECT_INVITE_BYTES])
{
    unsigned char d[32];
    sqlite3_stmt *s = NULL;
    int rc;
    if (count < 1 || count > BT_COLLECT_INVITE_MAX) return BT_ERR_BAD_PARAMS;
    randombytes_buf(code, BT_COLLECT_INVITE_BYTES);
    digest_of(d, "bantrail-invite-v1", code, BT_COLLECT_INVITE_BYTES);
    rc = sqlite3_prepare_v2(c->db, "INSERT INTO invites(code,remaining) VALUES(?,?)", -1, &s, NULL);
    if (rc == SQLITE_OK) {
        sqlite3_bind_blob(s, 1, d, sizeof d, SQLITE_STATIC);
        sqlite3_bind_int64(s, 2, count);
        rc = sqlite3_step(s);
    }
    sqlite3_finalize(s);
    return rc == SQLITE_DONE ? BT_OK : BT_ERR_STORAGE;
}

bt_err bt_collect_issue(bt_collect *c, const unsigned char code[BT_COLLECT_INVITE_BYTES],
                        const unsigned char (*m)[BT_TOKEN_POINT_BYTES], size_t n,
                        unsigned char (*z)[BT_TOKEN_POINT_BYTES], unsigned char (*proof)[BT_TOKEN_PROOF_BYTES],
                        int64_t *left, const char **why)
{
    unsigned char d[32];
    sqlite3_stmt *s = NULL;
    int64_t remaining = -1;
    bt_err err = BT_OK;
    *left = 0;
    if (c->token_k == NULL) return BT_ERR_LOCKED;
    if (n < 1 || n > BT_TOKEN_BATCH_MAX) return BT_ERR_BAD_PARAMS;
    if (c->in_batch || sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return BT_ERR_BUSY;
    digest_of(d, "bantrail-invite-v1", code, BT_COLLECT_INVITE_BYTES);
    if (sqlite3_prepare_v2(c->db, "SELECT remaining FROM invites WHERE code=?", -1, &s, NULL) != SQLITE_OK) {
        err = BT_ERR_STORAGE;
        goto done;
    }
    sqlite3_bind_blob(s, 1, d, sizeof d, SQLITE_STATIC);
    if (sqlite3_step(s) == SQLITE_ROW) remaining = sqlite3_column_int64(s, 0);
    sqlite3_finalize(s);
    s = NULL;
    if (remaining < (int64_t)n) {
        if (why) *why = remaining < 0 ? "no such invite code" : "this invite code has fewer tokens left than asked for";
        *left = remaining < 0 ? 0 : remaining;
        err = BT_ERR_BAD_INVITE;
        goto done;
    }
    for (size_t i = 0; i < n && err == BT_OK; i++) {
        err = bt_token_evaluate(z[i], proof[i], c->token_k, c->token_pub, m[i]);
        if (err == BT_ERR_BAD_PARAMS && why) *why = "a blinded element is not a ristretto255 point";
    }
    if (err == BT_OK &&
        (sqlite3_prepare_v2(c->db, "UPDATE invites SET remaining=remaining-? WHERE code=?", -1, &s, NULL) != SQLITE_OK ||
         sqlite3_bind_int64(s, 1, (int64_t)n) != SQLITE_OK || sqlite3_bind_blob(s, 2, d, sizeof d, SQLITE_STATIC) != SQLITE_OK ||
         sqlite3_step(s) != SQLITE_DONE))
        err = BT_ERR_STORAGE;
    sqlite3_finalize(s);
    if (err == BT_OK && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) err = BT_ERR_STORAGE;
    if (err == BT_OK) *left = remaining - (int64_t)n;
done:
    if (err != BT_OK) {
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        sodium_memzero(z, n * BT_TOKEN_POINT_BYTES);
        sodium_memzero(proof, n * BT_TOKEN_PROOF_BYTES);
    }
    return err;
}

bt_err bt_collect_begin(bt_collect *c)
{
    if (c->in_batch) return BT_OK;
    if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return BT_ERR_STORAGE;
    c->in_batch = 1;
    return BT_OK;
}

bt_err bt_collect_commit(bt_collect *c)
{
    if (!c->in_batch) return BT_OK;
    c->in_batch = 0;
    if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) {
        sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
        return BT_ERR_STORAGE;
    }
    return BT_OK;
}

/* Steps s (bound to id first) once: 1 a row, 0 none, -1 an error. */
static int row_of(sqlite3_stmt *s, const unsigned char id[BT_REPORT_ID_BYTES], unsigned char *key)
{
    int rc, got = -1;
    sqlite3_reset(s);
    sqlite3_bind_blob(s, 1, id, BT_REPORT_ID_BYTES, SQLITE_STATIC);
    rc = sqlite3_step(s);
    if (rc == SQLITE_DONE) got = 0;
    if (rc == SQLITE_ROW) {
        got = 1;
        if (key != NULL) {
            if (sqlite3_column_bytes(s, 0) == crypto_sign_PUBLICKEYBYTES)
                memcpy(key, sqlite3_column_blob(s, 0), crypto_sign_PUBLICKEYBYTES);
            else memset(key, 0, crypto_sign_PUBLICKEYBYTES); /* matches no real signature key */
        }
    }
    sqlite3_reset(s);
    return got;
}

/* May auth change report id? *first: the id is new. Reads only. */
static bt_err may_change(bt_collect *c, const unsigned char id[BT_REPORT_ID_BYTES], const bt_report_auth *auth,
                         int *first, const char **why)
{
    unsigned char key[crypto_sign_PUBLICKEYBYTES];
    int owned = row_of(c->owner_get, id, key), stored;
    *first = 0;
    if (owned < 0) return BT_ERR_STORAGE;
    if (owned) {
        if (sodium_memcmp(key, auth->key, sizeof key) == 0) return BT_OK;
        if (why) *why = "not signed by the key of this report's first sender: only they can update or withdraw it";
        return BT_ERR_NOT_OWNER;
    }
    if ((stored = row_of(c->exists, id, NULL)) < 0) return BT_ERR_STORAGE;
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

/* Steps s with the integer key bound once: 1 a row, 0 none (or done), -1
 * an error (*rc the code). */
static int step_key(sqlite3_stmt *s, sqlite3_int64 key, int *rc)
{
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, key);
    *rc = sqlite3_step(s);
    sqlite3_reset(s);
    return *rc == SQLITE_ROW ? 1 : *rc == SQLITE_DONE ? 0 : -1;
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
    sqlite3_stmt *s = c->spent_get;
    sqlite3_reset(s);
    sqlite3_bind_blob(s, 1, spend, 32, SQLITE_STATIC);
    int rc = sqlite3_step(s), got = rc == SQLITE_ROW;
    int same = got && sqlite3_column_bytes(s, 0) == BT_REPORT_ID_BYTES &&
               memcmp(sqlite3_column_blob(s, 0), id, BT_REPORT_ID_BYTES) == 0;
    sqlite3_reset(s);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE) return BT_ERR_STORAGE;
    if (got) {
        if (!same) {
            if (why) *why = "this membership token was spent on another report before";
            return BT_ERR_TOKEN_SPENT;
        }
    }
    *counted = 1;
    *spend_now = !got;
    return BT_OK;
}

static bt_err store(bt_collect *c, const bt_report *r, const bt_report_auth *auth, const unsigned char digest[32],
                    int *updated, const char **why)
{
    int rc, first = 0, exists, counted = 0, spend_now = 0;
    unsigned char spend[32];
    sqlite3_stmt *s;
    bt_err err = may_change(c, r->id, auth, &first, why);
    if (err != BT_OK) return err;
    /* The first 64 bits of the digest, as the rowid: the fastest key SQLite
     * has. A false "replayed" needs a 64-bit collision: about 3e-8 after a
     * million reports. Checked before the token, so that the same bytes sent
     * again (an answer lost) are "replayed", not a double spend. */
    uint64_t key = 0;
    for (int i = 0; i < 8; i++) key = key << 8 | digest[i];
    int seen = step_key(c->seen_get, (sqlite3_int64)key, &rc);
    if (seen < 0) return rc == SQLITE_BUSY ? BT_ERR_BUSY : BT_ERR_STORAGE;
    if (seen) return BT_ERR_REPLAYED;
    if ((exists = row_of(c->exists, r->id, NULL)) < 0) return BT_ERR_STORAGE;
    if ((err = token_standing(c, r->id, auth, exists, &counted, spend, &spend_now, why)) != BT_OK) return err;

    if (step_key(c->seen_ins, (sqlite3_int64)key, &rc) != 0) return BT_ERR_STORAGE;
    if (spend_now) {
        s = c->spent_ins;
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, spend, sizeof spend, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, r->id, BT_REPORT_ID_BYTES, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) return BT_ERR_STORAGE;
    }

    if (first) {
        s = c->owner_ins;
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, r->id, BT_REPORT_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_blob(s, 2, auth->key, crypto_sign_PUBLICKEYBYTES, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) return BT_ERR_STORAGE;
    }
    if (auth->withdrawal) {
        s = c->remove;
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, r->id, BT_REPORT_ID_BYTES, SQLITE_STATIC);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) return BT_ERR_STORAGE;
        *updated = sqlite3_changes(c->db) == 1;
        return BT_OK;
    }

    /* A new id is the common case: try the insert, update when it existed. */
    *updated = 0;
    for (int pass = 0; pass < 2; pass++) {
        s = pass ? c->update : c->insert;
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, r->id, BT_REPORT_ID_BYTES, SQLITE_STATIC);
        sqlite3_bind_int(s, 2, r->platform);
        sqlite3_bind_int(s, 3, r->kind);
        sqlite3_bind_int(s, 4, r->category);
        sqlite3_bind_int64(s, 5, (sqlite3_int64)r->keywords);
        sqlite3_bind_int(s, 6, r->week);
        sqlite3_bind_int(s, 7, r->duration);
        sqlite3_bind_int(s, 8, r->offered);
        sqlite3_bind_int(s, 9, r->submitted);
        sqlite3_bind_int(s, 10, r->outcome);
        sqlite3_bind_int(s, 11, r->delay);
        sqlite3_bind_int(s, 12, r->account_type);
        sqlite3_bind_int(s, 13, r->paid);
        sqlite3_bind_int(s, 14, r->country);
        sqlite3_bind_int64(s, 15, r->client);
        sqlite3_bind_int(s, 16, counted);
        rc = sqlite3_step(s);
        sqlite3_reset(s);
        if (rc != SQLITE_DONE) return BT_ERR_STORAGE;
        if (sqlite3_changes(c->db) == 1) break;
        *updated = 1;
    }
    return BT_OK;
}

bt_err bt_collect_submit(bt_collect *c, const char *wire, size_t len, bt_collect_result *res,
                         const char **why)
{
    bt_report r;
    bt_report_auth auth;
    unsigned char digest[32];
    int updated = 0, own_txn = 0;
    bt_err err;
    if (why != NULL) *why = NULL;
    if (c->sk == NULL) return BT_ERR_LOCKED;
    err = bt_report_open_signed(&r, &auth, digest, wire, len, c->pk, c->sk, c->difficulty, why);
    if (err != BT_OK) return err;
    if (!c->in_batch) {
        if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
            err = BT_ERR_BUSY;
            goto done;
        }
        own_txn = 1;
    }
    /* every refusal comes before the first write: nothing changes, in a batch too */
    err = store(c, &r, &auth, digest, &updated, why);
    if (own_txn) {
        if (err == BT_OK && sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) err = BT_ERR_STORAGE;
        if (err != BT_OK) sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
    }
    if (err == BT_ERR_REPLAYED && why != NULL) *why = "these sealed bytes were received before";
    if (err == BT_OK && res != NULL) {
        memcpy(res->id, r.id, sizeof res->id);
        res->updated = updated;
        res->withdrawn = auth.withdrawal;
    }
done:
    sodium_memzero(&r, sizeof r);
    return err;
}

bt_err bt_collect_count(bt_collect *c, int64_t *n)
{
    sqlite3_stmt *s = NULL;
    bt_err err = BT_ERR_STORAGE;
    if (sqlite3_prepare_v2(c->db, "SELECT count(*) FROM reports", -1, &s, NULL) == SQLITE_OK &&
        sqlite3_step(s) == SQLITE_ROW) {
        *n = sqlite3_column_int64(s, 0);
        err = BT_OK;
    }
    sqlite3_finalize(s);
    return err;
}
