/* The collector's store, figures and key file (bantrail_collect, linked
 * without the person's core): dedupe by report id, replay refusal, only the
 * first report's key updates or withdraws it, nothing stored when refused, figures, suppression of small cells, the key file;
 * and serve's per-address report rate (rate.c), on a clock of its own.
 *
 * Run against each store: `test_collect_store` (SQLite files) and
 * `test_collect_store pg` (PostgreSQL: run under tests/lib/pgcluster.py,
 * which starts a throwaway cluster and says where in BT_PG_*; each test gets
 * a database of its own). Without that cluster the pg run fails. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bantrail/collect.h"
#include "bantrail/report.h"
#include "check.h"
#include "collect/collect_int.h"
#include "pgtest.h"
#include "report_forge.h"

static unsigned char pk[32], sk[32];
static int on_pg; /* argv[1] == "pg" */

__attribute__((constructor)) static void start_sodium(void)
{
    if (sodium_init() < 0) abort();
}

/* A new, empty store's address: a file in a fresh folder, or a new database. */
static void new_address(char *out, size_t len, char **dir, const char *name)
{
    *dir = test_tmpdir();
    if (!on_pg) {
        snprintf(out, len, "%s/%s", *dir, name);
        return;
    }
    pg_new_database(out, len);
}

static char store_address[512]; /* the latest fresh_store's */

static bt_collect *fresh_store(char **dir)
{
    bt_collect *c = NULL;
    new_address(store_address, sizeof store_address, dir, BT_COLLECT_DB);
    if (bt_collect_open(&c, store_address, 0, NULL, 0) != BT_OK) abort();
    if (strcmp(bt_collect_store_kind(c), on_pg ? "postgresql" : "sqlite") != 0) abort();
    crypto_box_keypair(pk, sk); /* each store its own union key */
    bt_collect_set_key(c, pk, sk, 0);
    return c;
}

/* Removes what fresh_store made (and frees dir); a database goes with the cluster. */
static void drop_store(char *dir)
{
    const char *names[] = {BT_COLLECT_DB, BT_COLLECT_DB "-wal", BT_COLLECT_DB "-shm", "other.sqlite",
                           "other.sqlite-wal", "other.sqlite-shm"};
    char path[512];
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        unlink(path);
    }
    rmdir(dir);
    free(dir);
}

static size_t seal_sample_as(char *wire, const unsigned char id[16], const char *platform, const char *week,
                             const unsigned char *seed)
{
    bt_report r;
    bt_union u = forge_union(pk, 0);
    char json[2048];
    size_t len = 0, n = sample_json(json, sizeof json, id, platform, week);
    if (bt_report_parse(&r, json, n, NULL) != BT_OK || bt_report_seal(wire, BT_REPORT_WIRE_MAX + 1, &len, &r, &u, seed, NULL) != BT_OK)
        abort();
    return len;
}

/* A report sealed by its sender: the same seed for every report of an id. */
static const unsigned char sender_seed[BT_REPORT_SEED_BYTES] = {1, 2, 3, 4};

static size_t seal_sample(char *wire, const unsigned char id[16], const char *platform, const char *week)
{
    return seal_sample_as(wire, id, platform, week, sender_seed);
}

static size_t seal_withdrawal(char *wire, const unsigned char id[16], const unsigned char *seed)
{
    bt_union u = forge_union(pk, 0);
    size_t len = 0;
    if (bt_report_seal_withdrawal(wire, BT_REPORT_WIRE_MAX + 1, &len, id, &u, seed) != BT_OK) abort();
    return len;
}

static int64_t count_of(bt_collect *c)
{
    int64_t n = -1;
    return bt_collect_count(c, &n) == BT_OK ? n : -1;
}

TEST(store_dedupes_by_report_id_and_refuses_replays)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], wire2[BT_REPORT_WIRE_MAX + 1];
    bt_collect *c = fresh_store(&dir);
    unsigned char id[16];
    bt_collect_result res;
    int64_t n = -1;
    bt_report_new_id(id);
    size_t len = seal_sample(wire, id, "instagram", "2026-W10");
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);
    CHECK_EQ(res.updated, 0);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_REPLAYED);
    size_t len2 = seal_sample(wire2, id, "facebook", "2026-W11"); /* the same case, updated */
    CHECK_EQ(bt_collect_submit(c, wire2, len2, &res, NULL), BT_OK);
    CHECK_EQ(res.updated, 1);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_REPLAYED); /* no rolling back */
    CHECK_EQ(bt_collect_count(c, &n), BT_OK);
    CHECK_EQ(n, 1);
    char *out = NULL;
    size_t olen = 0;
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out && strstr(out, "\"facebook\": 1") != NULL); /* the latest wins */
    CHECK(out && strstr(out, "instagram") == NULL);
    free(out);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(only_the_first_reports_key_updates_or_withdraws_it)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], *out = NULL;
    bt_collect *c = fresh_store(&dir);
    unsigned char id[16], stranger[BT_REPORT_SEED_BYTES], other[16];
    bt_collect_result res;
    const char *why = NULL;
    size_t len, olen = 0;
    randombytes_buf(stranger, sizeof stranger);
    bt_report_new_id(id);
    len = seal_sample(wire, id, "instagram", "2026-W10");
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);

    /* another key: neither an update nor a withdrawal, and nothing changes */
    len = seal_sample_as(wire, id, "x", "2026-W10", stranger);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, &why), BT_ERR_NOT_OWNER);
    CHECK(why != NULL && strstr(why, "first sender") != NULL);
    len = seal_sample_as(wire, id, "x", "2026-W10", NULL);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_NOT_OWNER);
    len = seal_withdrawal(wire, id, stranger);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_NOT_OWNER);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out && strstr(out, "\"instagram\": 1") != NULL && strstr(out, "\"x\"") == NULL);
    free(out);
    /* the refused ones left no digest behind: the stranger's bytes are refused again, as not theirs */
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_NOT_OWNER);

    /* the sender's key: an update, then a withdrawal */
    len = seal_sample(wire, id, "facebook", "2026-W10");
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);
    CHECK(res.updated && !res.withdrawn);
    len = seal_withdrawal(wire, id, sender_seed);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);
    CHECK(res.updated && res.withdrawn);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_REPLAYED);
    CHECK_EQ(count_of(c), 0);
    /* withdrawn, the id stays the sender's */
    len = seal_sample_as(wire, id, "x", "2026-W10", stranger);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_NOT_OWNER);
    CHECK_EQ(count_of(c), 0);
    len = seal_sample(wire, id, "threads", "2026-W10"); /* the sender may send it again */
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);
    CHECK_EQ(count_of(c), 1);

    /* a withdrawal of an id never received: not found, and no key kept for it */
    bt_report_new_id(other);
    len = seal_withdrawal(wire, other, stranger);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_ERR_NOT_FOUND);
    len = seal_sample(wire, other, "reddit", "2026-W10");
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);
    CHECK_EQ(res.updated, 0);
    CHECK_EQ(count_of(c), 2);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(a_report_stored_before_keys_counts_but_cannot_be_changed)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], *out = NULL;
    bt_collect *c = fresh_store(&dir);
    unsigned char id[16];
    size_t len, olen = 0;
    bt_report_new_id(id);
    len = seal_sample(wire, id, "instagram", "2026-W10");
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    bt_collect_close(c);
    /* as a schema-1 store has it: the report, no key */
    CHECK_EQ(raw_sql(store_address, "DELETE FROM owners"), 0);
    CHECK_EQ(bt_collect_open(&c, store_address, 0, NULL, 0), BT_OK);
    CHECK_EQ(bt_collect_set_key(c, pk, sk, 0), BT_OK);
    len = seal_sample(wire, id, "facebook", "2026-W10"); /* even with the right seed: no key was kept */
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_ERR_NOT_OWNER);
    len = seal_withdrawal(wire, id, sender_seed);
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_ERR_NOT_OWNER);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out && strstr(out, "\"instagram\": 1") != NULL);
    free(out);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(store_refuses_without_a_key_and_stores_nothing_refused)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1];
    bt_collect *c = fresh_store(&dir), *bare = NULL;
    unsigned char id[16];
    int64_t n = -1;
    char path[512], *dir2;
    bt_report_new_id(id);
    size_t len = seal_sample(wire, id, "instagram", "2026-W10");
    new_address(path, sizeof path, &dir2, "other.sqlite");
    CHECK_EQ(bt_collect_open(&bare, path, 0, NULL, 0), BT_OK);
    CHECK_EQ(bt_collect_submit(bare, wire, len, NULL, NULL), BT_ERR_LOCKED);
    bt_collect_close(bare);
    wire[len / 2] ^= 1;
    CHECK(bt_collect_submit(c, wire, len, NULL, NULL) != BT_OK);
    CHECK_EQ(bt_collect_count(c, &n), BT_OK);
    CHECK_EQ(n, 0);
    bt_collect_close(c);
    drop_store(dir);
    drop_store(dir2);
}

TEST(report_counts_appeals_and_the_ten_minute_share)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1];
    bt_collect *c = fresh_store(&dir);
    unsigned char id[16];
    for (int i = 0; i < 3; i++) {
        bt_report_new_id(id);
        size_t len = seal_sample(wire, id, i ? "x" : "youtube", "2026-W10");
        CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    }
    char *out = NULL;
    size_t len = 0;
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &len), BT_OK);
    CHECK(out && strstr(out, "\"total\": 3") != NULL);
    CHECK(out && strstr(out, "\"x\": 2") != NULL);
    CHECK(out && strstr(out, "\"2026-W10\": 3") != NULL);
    CHECK(out && strstr(out, "\"answered_within_10_minutes\": 3") != NULL);
    CHECK(out && strstr(out, "\"share_answered_within_10_minutes\": 1") != NULL);
    free(out);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_CSV, &out, &len), BT_OK);
    CHECK(out && strstr(out, "platform,x,2\n") != NULL);
    free(out);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_HTML, &out, &len), BT_OK);
    CHECK(out && strstr(out, "<svg") != NULL && strstr(out, "<script") == NULL);
    free(out);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(export_suppresses_cells_under_ten)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1];
    bt_collect *c = fresh_store(&dir);
    unsigned char id[16];
    CHECK_EQ(bt_collect_begin(c), BT_OK);
    for (int i = 0; i < 12 + 9; i++) {
        bt_report_new_id(id);
        size_t len = seal_sample(wire, id, i < 12 ? "instagram" : "tiktok", "2026-W10");
        CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    }
    CHECK_EQ(bt_collect_commit(c), BT_OK);
    char *out = NULL;
    size_t len = 0;
    CHECK_EQ(bt_collect_export(c, BT_COLLECT_WEEKLY, 10, &out, &len), BT_OK);
    CHECK(out && strstr(out, "2026-W10,instagram,suspension,12\n") != NULL);
    CHECK(out && strstr(out, "2026-W10,tiktok,suspension,<10\n") != NULL);
    CHECK(out && strstr(out, ",9\n") == NULL);
    free(out);
    CHECK_EQ(bt_collect_export(c, BT_COLLECT_APPEALS, 5, &out, &len), BT_OK); /* never below 10 */
    CHECK(out && strstr(out, "tiktok,rejected,lt_10m,<10\n") != NULL);
    free(out);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(key_file_opens_with_its_passphrase_only)
{
    char *dir = test_tmpdir(), path[512];
    unsigned char p1[32], p2[32], *s = sodium_malloc(32);
    bt_kdf_params fast = {crypto_pwhash_OPSLIMIT_MIN, crypto_pwhash_MEMLIMIT_MIN};
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, BT_COLLECT_KEYFILE);
    CHECK_EQ(bt_collect_keygen(path, "short", 5, &fast, p1, NULL), BT_ERR_WEAK_PASSPHRASE);
    CHECK_EQ(bt_collect_keygen(path, "correct horse", 13, &fast, p1, NULL), BT_OK);
    CHECK_EQ(stat(path, &st), 0);
    CHECK_EQ(st.st_mode & 0777, 0600u);
    CHECK_EQ(bt_collect_keygen(path, "correct horse", 13, &fast, p2, NULL), BT_ERR_STORAGE); /* never overwrites */
    CHECK_EQ(bt_collect_key_load(path, "wrong horse!!", 13, p2, s), BT_ERR_WRONG_PASSPHRASE);
    CHECK_EQ(bt_collect_key_load(path, "correct horse", 13, p2, s), BT_OK);
    CHECK(memcmp(p1, p2, 32) == 0);
    unsigned char check[32];
    crypto_scalarmult_base(check, s);
    CHECK(memcmp(check, p1, 32) == 0);
    sodium_free(s);
    unlink(path);
    rmdir(dir);
    free(dir);
}

static uint64_t tag_of(const bt_rate *r, const char *ip)
{
    struct sockaddr_in v4 = {0};
    struct sockaddr_in6 v6 = {0};
    if (inet_pton(AF_INET, ip, &v4.sin_addr) == 1) {
        v4.sin_family = AF_INET;
        return bt_rate_tag(r, (struct sockaddr *)&v4);
    }
    if (inet_pton(AF_INET6, ip, &v6.sin6_addr) != 1) abort();
    v6.sin6_family = AF_INET6;
    return bt_rate_tag(r, (struct sockaddr *)&v6);
}

TEST(the_report_rate_gives_a_burst_then_one_per_interval_per_address)
{
    bt_rate *r = bt_rate_new(64, 6, 3), *other = bt_rate_new(64, 6, 3); /* 6 a minute: one per 10 s */
    uint64_t a = tag_of(r, "192.0.2.1"), b = tag_of(r, "192.0.2.2");
    double t = 1000;
    CHECK(a != b);
    CHECK(a != tag_of(other, "192.0.2.1")); /* a tag means nothing outside its table */
    CHECK_EQ(tag_of(r, "2001:db8:1:2::1"), tag_of(r, "2001:db8:1:2:ffff::9")); /* one /64, one bucket */
    CHECK(tag_of(r, "2001:db8:1:2::1") != tag_of(r, "2001:db8:1:3::1"));
    CHECK_EQ(tag_of(r, "::ffff:192.0.2.1"), a); /* IPv4 through a dual-stack socket: the same bucket */
    CHECK(tag_of(r, "::ffff:192.0.2.2") != a);
    for (int i = 0; i < 3; i++) CHECK(bt_rate_take(r, a, t) == 0);
    double wait = bt_rate_take(r, a, t);
    CHECK(wait > 9.9 && wait <= 10.0);
    CHECK(bt_rate_take(r, b, t) == 0);            /* another address is not held back */
    CHECK(bt_rate_take(r, a, t + 5) > 0);         /* half a token */
    CHECK(bt_rate_take(r, a, t + 10) == 0);       /* one token later */
    CHECK(bt_rate_take(r, a, t + 10) > 0);
    bt_rate_give_back(r, a, t + 10);              /* a refused report costs nothing */
    CHECK(bt_rate_take(r, a, t + 10) == 0);
    CHECK(bt_rate_take(r, a, t + 1000) == 0);     /* refilled, never above the burst */
    CHECK(bt_rate_take(r, a, t + 1000) == 0);
    CHECK(bt_rate_take(r, a, t + 1000) == 0);
    CHECK(bt_rate_take(r, a, t + 1000) > 0);
    bt_rate_free(r);
    bt_rate_free(other);
}

TEST(the_report_rate_table_stays_bounded_under_many_addresses)
{
    bt_rate *r = bt_rate_new(64, 60, 1);
    char ip[32];
    for (int i = 0; i < 100000; i++) { /* far more addresses than slots */
        snprintf(ip, sizeof ip, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
        CHECK(bt_rate_take(r, tag_of(r, ip), 1.0) == 0);
    }
    uint64_t last = tag_of(r, ip);
    CHECK(bt_rate_take(r, last, 1.0) > 0); /* the newest is remembered */
    bt_rate_free(r);
}

/* ---- membership tokens (docs/REPORT.md section 5) ---- */

/* A token issued by c's union through an invite code, as a member gets it. */
static bt_token member_token(bt_collect *c)
{
    unsigned char code[BT_COLLECT_INVITE_BYTES], t[32], r[32], m[1][32], z[1][32], proof[1][64];
    int64_t left = 0;
    bt_token tok;
    if (bt_collect_invite(c, 1, code) != BT_OK || bt_token_blind(t, r, m[0]) != BT_OK ||
        bt_collect_issue(c, code, (const unsigned char (*)[32])m, 1, z, proof, &left, NULL) != BT_OK ||
        bt_token_finish(&tok, t, r, m[0], z[0], proof[0], c->token_pub) != BT_OK)
        abort();
    return tok;
}

static size_t seal_member(char *wire, const unsigned char id[16], const char *platform, const bt_token *tok)
{
    bt_report r;
    bt_union u = forge_union(pk, 0);
    char json[2048];
    size_t len = 0, n = sample_json(json, sizeof json, id, platform, "2026-W10");
    if (bt_report_parse(&r, json, n, NULL) != BT_OK ||
        bt_report_seal(wire, BT_REPORT_WIRE_MAX + 1, &len, &r, &u, sender_seed, tok) != BT_OK)
        abort();
    return len;
}

static bt_collect *token_store(char **dir, bt_tokens_policy policy)
{
    unsigned char pub[32];
    bt_collect *c = fresh_store(dir);
    if (bt_collect_token_public(sk, pub) != BT_OK || bt_collect_set_tokens(c, policy, pub) != BT_OK) abort();
    return c;
}

/* Rows of table in the latest fresh store (c's). */
static int64_t rows(bt_collect *c, const char *table)
{
    char sql[64];
    (void)c;
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", table);
    return raw_sql(store_address, sql);
}

TEST(a_token_is_spent_on_one_report_id_and_a_double_spend_stores_nothing)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], *out = NULL;
    bt_collect *c = token_store(&dir, BT_TOKENS_REQUIRED);
    unsigned char id[16], other[16];
    size_t len, olen = 0;
    bt_collect_result res;
    bt_token tok = member_token(c);
    bt_report_new_id(id);
    bt_report_new_id(other);
    len = seal_member(wire, id, "instagram", &tok);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);
    /* the same id updated with its token: fine, still one report */
    len = seal_member(wire, id, "facebook", &tok);
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, NULL), BT_OK);
    CHECK(res.updated);
    /* the same token on another id, in a batch too: refused, nothing kept */
    CHECK_EQ(bt_collect_begin(c), BT_OK);
    len = seal_member(wire, other, "x", &tok);
    const char *why = NULL;
    CHECK_EQ(bt_collect_submit(c, wire, len, &res, &why), BT_ERR_TOKEN_SPENT);
    CHECK(why != NULL && strstr(why, "spent") != NULL);
    CHECK_EQ(bt_collect_commit(c), BT_OK);
    CHECK_EQ(rows(c, "reports"), 1);
    CHECK_EQ(rows(c, "owners"), 1);
    CHECK_EQ(rows(c, "seen"), 2);
    CHECK_EQ(rows(c, "spent"), 1);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out && strstr(out, "\"facebook\": 1") != NULL && strstr(out, "\"x\"") == NULL);
    free(out);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(a_forged_token_or_a_token_where_none_are_issued_is_refused)
{
    char *dir, *dir2, wire[BT_REPORT_WIRE_MAX + 1];
    bt_collect *c = token_store(&dir, BT_TOKENS_COUNTED);
    unsigned char id[16];
    bt_token tok = member_token(c), forged = tok;
    bt_report_new_id(id);
    forged.n[3] ^= 0x10; /* forged N */
    size_t len = seal_member(wire, id, "instagram", &forged);
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_ERR_BAD_TOKEN);
    randombytes_buf(forged.t, sizeof forged.t); /* made up whole */
    crypto_core_ristretto255_random(forged.n);
    len = seal_member(wire, id, "instagram", &forged);
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_ERR_BAD_TOKEN);
    CHECK_EQ(rows(c, "reports") + rows(c, "seen") + rows(c, "spent") + rows(c, "owners"), 0);
    /* tokens off: a member report is refused, not silently counted */
    CHECK_EQ(bt_collect_set_tokens(c, BT_TOKENS_OFF, NULL), BT_OK);
    len = seal_member(wire, id, "instagram", &tok);
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_ERR_BAD_TOKEN);
    bt_collect_close(c);
    drop_store(dir);
    /* another union's store (another key, sealed to it): the honest token is not its */
    bt_collect *d = token_store(&dir2, BT_TOKENS_COUNTED);
    len = seal_member(wire, id, "instagram", &tok);
    CHECK_EQ(bt_collect_submit(d, wire, len, NULL, NULL), BT_ERR_BAD_TOKEN);
    bt_collect_close(d);
    drop_store(dir2);
}

TEST(the_policy_decides_what_a_report_without_a_token_becomes)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], *out = NULL;
    bt_collect *c = token_store(&dir, BT_TOKENS_REQUIRED);
    unsigned char id[16], pub[32];
    size_t len, olen = 0;
    bt_report_new_id(id);
    len = seal_sample(wire, id, "instagram", "2026-W10");
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_ERR_TOKEN_REQUIRED);
    CHECK_EQ(rows(c, "reports") + rows(c, "seen") + rows(c, "owners"), 0);
    /* counted: kept, left out of the figures and the open data, and said so */
    CHECK_EQ(bt_collect_token_public(sk, pub), BT_OK);
    CHECK_EQ(bt_collect_set_tokens(c, BT_TOKENS_COUNTED, pub), BT_OK);
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    bt_token tok = member_token(c);
    bt_report_new_id(id);
    len = seal_member(wire, id, "x", &tok);
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out && strstr(out, "\"total\": 1") != NULL && strstr(out, "\"not_counted_without_token\": 1") != NULL &&
          strstr(out, "\"instagram\"") == NULL);
    free(out);
    /* a token key that is not the union's is refused */
    pub[0] ^= 1;
    CHECK_EQ(bt_collect_set_tokens(c, BT_TOKENS_COUNTED, pub), BT_ERR_CORRUPT);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(an_invite_code_issues_its_budget_once)
{
    char *dir;
    bt_collect *c = token_store(&dir, BT_TOKENS_COUNTED);
    unsigned char code[BT_COLLECT_INVITE_BYTES], unknown[BT_COLLECT_INVITE_BYTES] = {0}, t[32], r[32];
    unsigned char m[3][32], z[3][32], proof[3][64];
    int64_t left = -1;
    const char *why = NULL;
    CHECK_EQ(bt_collect_invite(c, 3, code), BT_OK);
    CHECK_EQ(bt_collect_invite(c, 0, code + 0), BT_ERR_BAD_PARAMS);
    for (int i = 0; i < 3; i++) CHECK_EQ(bt_token_blind(t, r, m[i]), BT_OK);
    memset(m[2], 0, 32); /* the identity: not a blinded token; nothing taken from the budget */
    CHECK_EQ(bt_collect_issue(c, code, (const unsigned char (*)[32])m, 3, z, proof, &left, NULL), BT_ERR_BAD_PARAMS);
    CHECK_EQ(bt_collect_issue(c, code, (const unsigned char (*)[32])m, 2, z, proof, &left, NULL), BT_OK);
    CHECK_EQ(left, 1);
    CHECK_EQ(bt_collect_issue(c, code, (const unsigned char (*)[32])m, 2, z, proof, &left, &why), BT_ERR_BAD_INVITE);
    CHECK_EQ(left, 1);
    CHECK_EQ(bt_collect_issue(c, unknown, (const unsigned char (*)[32])m, 1, z, proof, &left, &why), BT_ERR_BAD_INVITE);
    CHECK(why != NULL && strstr(why, "no such invite") != NULL);
    CHECK_EQ(bt_collect_issue(c, code, (const unsigned char (*)[32])m, 1, z, proof, &left, NULL), BT_OK);
    CHECK_EQ(left, 0);
    CHECK_EQ(bt_collect_issue(c, code, (const unsigned char (*)[32])m, 1, z, proof, &left, NULL), BT_ERR_BAD_INVITE);
    bt_collect_close(c);
    drop_store(dir);
}

TEST(a_store_from_before_tokens_keeps_counting_its_reports)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], *out = NULL;
    bt_collect *c = fresh_store(&dir);
    unsigned char id[16];
    sqlite3 *db = NULL;
    size_t len, olen = 0;
    const char *path = store_address;
    bt_report_new_id(id);
    len = seal_sample(wire, id, "instagram", "2026-W10");
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    bt_collect_close(c);
    CHECK_EQ(sqlite3_open(path, &db), SQLITE_OK);
    CHECK_EQ(sqlite3_exec(db, "DROP INDEX reports_not_counted; DROP TABLE tallies;"
                              "ALTER TABLE reports DROP COLUMN counted; DROP TABLE spent; DROP TABLE invites;"
                              "PRAGMA user_version=2;", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(db);
    CHECK_EQ(bt_collect_open(&c, path, 0, NULL, 0), BT_OK);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out && strstr(out, "\"instagram\": 1") != NULL);
    free(out);
    bt_collect_close(c);
    drop_store(dir);
}

/* ---- several receivers on one store ---- */

typedef struct {
    bt_collect *c;
    const char *wire;
    size_t len;
    const unsigned char *code; /* an issuance instead, when set */
    pthread_barrier_t *gate;
    bt_err err;
} racer;

static void *race(void *arg)
{
    racer *r = arg;
    unsigned char t[32], blind[32], m[2][32], z[2][32], proof[2][64];
    int64_t left = 0;
    for (int i = 0; r->code && i < 2; i++)
        if (bt_token_blind(t, blind, m[i]) != BT_OK) abort();
    pthread_barrier_wait(r->gate);
    r->err = r->code ? bt_collect_issue(r->c, r->code, (const unsigned char (*)[32])m, 2, z, proof, &left, NULL)
                     : bt_collect_submit(r->c, r->wire, r->len, NULL, NULL);
    return NULL;
}

/* Runs a and b at once, each on its own connection to the store. */
static void race_two(racer *a, racer *b)
{
    pthread_t ta, tb;
    pthread_barrier_t gate;
    pthread_barrier_init(&gate, NULL, 2);
    a->gate = b->gate = &gate;
    pthread_create(&ta, NULL, race, a);
    pthread_create(&tb, NULL, race, b);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    pthread_barrier_destroy(&gate);
}

TEST(two_receivers_spend_a_token_once_and_never_overdraw_an_invite)
{
    char *dir, w1[BT_REPORT_WIRE_MAX + 1], w2[BT_REPORT_WIRE_MAX + 1];
    bt_collect *c = token_store(&dir, BT_TOKENS_COUNTED), *d = NULL;
    unsigned char id1[16], id2[16], pub[32], code[BT_COLLECT_INVITE_BYTES];
    CHECK_EQ(bt_collect_open(&d, store_address, 1, NULL, 0), BT_OK);
    CHECK_EQ(bt_collect_set_key(d, pk, sk, 0), BT_OK);
    CHECK_EQ(bt_collect_token_public(sk, pub), BT_OK);
    CHECK_EQ(bt_collect_set_tokens(d, BT_TOKENS_COUNTED, pub), BT_OK);
    const int rounds = 8;
    for (int i = 0; i < rounds; i++) {
        /* one token on two report ids, at two receivers at once */
        bt_token tok = member_token(c);
        bt_report_new_id(id1);
        bt_report_new_id(id2);
        racer a = {c, w1, seal_member(w1, id1, "instagram", &tok), NULL, NULL, BT_OK};
        racer b = {d, w2, seal_member(w2, id2, "x", &tok), NULL, NULL, BT_OK};
        race_two(&a, &b);
        CHECK((a.err == BT_OK && b.err == BT_ERR_TOKEN_SPENT) || (a.err == BT_ERR_TOKEN_SPENT && b.err == BT_OK));
        /* an invite worth 3, asked for 2 at each receiver at once */
        CHECK_EQ(bt_collect_invite(c, 3, code), BT_OK);
        racer e = {c, NULL, 0, code, NULL, BT_OK}, f = {d, NULL, 0, code, NULL, BT_OK};
        race_two(&e, &f);
        CHECK((e.err == BT_OK && f.err == BT_ERR_BAD_INVITE) || (e.err == BT_ERR_BAD_INVITE && f.err == BT_OK));
    }
    CHECK_EQ(rows(c, "reports"), rounds);
    CHECK_EQ(rows(c, "spent"), rounds);
    CHECK_EQ(raw_sql(store_address, "SELECT count(*) FROM invites WHERE remaining=1"), rounds);
    CHECK_EQ(raw_sql(store_address, "SELECT count(*) FROM invites WHERE remaining<0"), 0);
    bt_collect_close(d);
    bt_collect_close(c);
    drop_store(dir);
}

/* ---- both schemas in one store ---- */

/* A report of schema v, stated as given, sealed by its sender (the id's seed). */
static size_t seal_stated(char *wire, const unsigned char id[16], int v, const char *stated)
{
    char hex[33], json[2048];
    bt_report r;
    bt_union u = forge_union(pk, 0);
    size_t len = 0;
    sodium_bin2hex(hex, sizeof hex, id, 16);
    int n = snprintf(json, sizeof json,
                     "{\"v\":%d,\"report_id\":\"%s\",\"client\":\"0.1.0\",\"platform\":\"instagram\",\"kind\":\"suspension\","
                     "\"stated\":{%s},\"week\":\"2026-W10\",\"duration\":\"permanent\","
                     "\"appeal\":{\"offered\":\"yes\",\"submitted\":false}}",
                     v, hex, stated);
    if (bt_report_parse(&r, json, (size_t)n, NULL) != BT_OK ||
        bt_report_seal(wire, BT_REPORT_WIRE_MAX + 1, &len, &r, &u, sender_seed, NULL) != BT_OK)
        abort();
    return len;
}

/* The figures' count of name in the JSON figures (0 when absent). */
static long fig_count(const char *figures, const char *name)
{
    char needle[160];
    snprintf(needle, sizeof needle, "\"%s\": ", name);
    const char *at = strstr(figures, needle);
    return at ? strtol(at + strlen(needle), NULL, 10) : 0;
}

/* docs/REPORT.md section 1, "Both schemas in the figures": schema 1 reports
 * count under their schema 2 equivalents, or under their own name where
 * there is none; an update may move a report from one schema to the other;
 * the tallies made again from the rows say the same. */
TEST(schema_1_and_2_reports_merge_in_the_figures)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], *out = NULL;
    bt_collect *c = fresh_store(&dir);
    unsigned char ids[4][16];
    size_t len, olen = 0;
    static const struct {
        int v;
        const char *stated;
    } sent[4] = {
        {1, "\"category\":\"STATEMENT_CATEGORY_SCOPE_OF_PLATFORM_SERVICE\",\"keywords\":[\"KEYWORD_INAUTHENTIC_ACCOUNTS\"]"},
        {1, "\"category\":\"STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT\",\"keywords\":[\"KEYWORD_DISINFORMATION\","
            "\"KEYWORD_MISINFORMATION\",\"KEYWORD_GENDER_BASED_VIOLENCE\"]"},
        {2, "\"category\":\"STATEMENT_CATEGORY_OTHER_VIOLATION_TC\",\"keywords\":[\"KEYWORD_INAUTHENTIC_ACCOUNTS\"]"},
        {2, "\"category\":\"STATEMENT_CATEGORY_CYBER_VIOLENCE\",\"keywords\":[\"KEYWORD_MISINFORMATION_DISINFORMATION\","
            "\"KEYWORD_VIOLATION_NATIONAL_LAW\"]"},
    };
    for (int i = 0; i < 4; i++) {
        bt_report_new_id(ids[i]);
        len = seal_stated(wire, ids[i], sent[i].v, sent[i].stated);
        CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    }
    CHECK_EQ(raw_sql(store_address, "SELECT count(*) FROM reports WHERE schema_v=2"), 2);
    CHECK_EQ(raw_sql(store_address, "SELECT count(*) FROM reports WHERE keywords_hi<>0"), 1); /* the 68th keyword */
    for (int round = 0; round < 2; round++) {
        CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
        CHECK(out != NULL && strstr(out, "\"schema\": 2") != NULL && strstr(out, "\"total\": 4,") != NULL);
        CHECK_EQ(fig_count(out, "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"), 2);
        CHECK_EQ(fig_count(out, "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"), 1);
        CHECK_EQ(fig_count(out, "STATEMENT_CATEGORY_CYBER_VIOLENCE"), 1);
        CHECK_EQ(fig_count(out, "KEYWORD_INAUTHENTIC_ACCOUNTS"), 2);
        CHECK_EQ(fig_count(out, "KEYWORD_MISINFORMATION_DISINFORMATION"), 2); /* two schema 1 keywords, one report */
        CHECK_EQ(fig_count(out, "KEYWORD_GENDER_BASED_VIOLENCE"), 1);
        CHECK_EQ(fig_count(out, "KEYWORD_VIOLATION_NATIONAL_LAW"), 1);
        CHECK(strstr(out, "SCOPE_OF_PLATFORM_SERVICE") == NULL && strstr(out, "\"KEYWORD_DISINFORMATION\"") == NULL &&
              strstr(out, "\"KEYWORD_MISINFORMATION\"") == NULL);
        free(out);
        out = NULL;
        /* the same from the tallies made again from the rows (a store from before them) */
        CHECK_EQ(raw_sql(store_address, "DELETE FROM tallies"), 0);
        bt_collect_close(c);
        CHECK_EQ(bt_collect_open(&c, store_address, 0, NULL, 0), BT_OK);
        CHECK_EQ(bt_collect_set_key(c, pk, sk, 0), BT_OK);
    }
    /* the sender of the schema 1 report sends it again in schema 2: it moves */
    len = seal_stated(wire, ids[1], 2, "\"category\":\"STATEMENT_CATEGORY_CYBER_VIOLENCE\",\"keywords\":[]");
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out != NULL && strstr(out, "\"total\": 4,") != NULL);
    CHECK_EQ(fig_count(out, "STATEMENT_CATEGORY_PORNOGRAPHY_OR_SEXUALIZED_CONTENT"), 0);
    CHECK_EQ(fig_count(out, "STATEMENT_CATEGORY_CYBER_VIOLENCE"), 2);
    CHECK_EQ(fig_count(out, "KEYWORD_MISINFORMATION_DISINFORMATION"), 1);
    CHECK_EQ(fig_count(out, "KEYWORD_GENDER_BASED_VIOLENCE"), 0);
    free(out);
    out = NULL;
    bt_collect_close(c);
    drop_store(dir);
}

/* A store from before schema 2 gains its columns, its reports stay schema 1's and count. */
TEST(a_store_from_before_schema_2_gains_its_columns_and_keeps_its_reports)
{
    char *dir, wire[BT_REPORT_WIRE_MAX + 1], *out = NULL;
    bt_collect *c = fresh_store(&dir);
    unsigned char id[16];
    size_t len, olen = 0;
    bt_report_new_id(id);
    len = seal_sample(wire, id, "instagram", "2026-W10"); /* schema 1 */
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    bt_collect_close(c);
    CHECK_EQ(raw_sql(store_address, "ALTER TABLE reports DROP COLUMN keywords_hi"), 0);
    CHECK_EQ(raw_sql(store_address, "ALTER TABLE reports DROP COLUMN schema_v"), 0);
    CHECK_EQ(bt_collect_open(&c, store_address, 0, NULL, 0), BT_OK);
    CHECK_EQ(bt_collect_set_key(c, pk, sk, 0), BT_OK);
    CHECK_EQ(raw_sql(store_address, "SELECT count(*) FROM reports WHERE schema_v=1 AND keywords_hi=0"), 1);
    bt_report_new_id(id);
    len = seal_stated(wire, id, 2, "\"category\":\"STATEMENT_CATEGORY_OTHER_VIOLATION_TC\",\"keywords\":[]");
    CHECK_EQ(bt_collect_submit(c, wire, len, NULL, NULL), BT_OK);
    CHECK_EQ(bt_collect_report(c, BT_COLLECT_JSON, &out, &olen), BT_OK);
    CHECK(out != NULL && strstr(out, "\"total\": 2,") != NULL);
    CHECK_EQ(fig_count(out ? out : "", "STATEMENT_CATEGORY_OTHER_VIOLATION_TC"), 2);
    free(out);
    bt_collect_close(c);
    drop_store(dir);
}

/* ---- both stores give the same bytes ---- */

TEST(figures_and_open_data_are_the_same_bytes_from_both_stores)
{
    char *dir, *dir2, path[512], wire[BT_REPORT_WIRE_MAX + 1];
    bt_collect *pg = fresh_store(&dir), *lite = NULL;
    static unsigned char seeds[600][BT_REPORT_SEED_BYTES], ids[600][16];
    bt_union u = forge_union(pk, 0);
    snprintf(path, sizeof path, "%s", store_address);
    dir2 = test_tmpdir();
    char file[512];
    snprintf(file, sizeof file, "%s/same.sqlite", dir2);
    CHECK_EQ(bt_collect_open(&lite, file, 0, NULL, 0), BT_OK);
    CHECK_EQ(bt_collect_set_key(lite, pk, sk, 0), BT_OK);
    CHECK(strcmp(bt_collect_store_kind(lite), "sqlite") == 0 && strcmp(bt_collect_store_kind(pg), "postgresql") == 0);
    bt_collect *both[2] = {lite, pg};
    int accepted[2] = {0, 0};
    for (int i = 0; i < 600; i++) {
        bt_report r;
        size_t len = 0;
        /* half spread over every field, half in a few cells (so some pass the suppression) */
        forge_random_report(&r, i % 2 ? randombytes_random() : (randombytes_random() & 0x00000213u));
        randombytes_buf(seeds[i], sizeof seeds[i]);
        memcpy(ids[i], r.id, 16);
        CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, seeds[i], NULL), BT_OK);
        for (int k = 0; k < 2; k++) accepted[k] += bt_collect_submit(both[k], wire, len, NULL, NULL) == BT_OK;
    }
    for (int i = 0; i < 600; i += 7) { /* updates and withdrawals by their senders */
        bt_report r;
        size_t len = 0;
        forge_random_report(&r, randombytes_random());
        memcpy(r.id, ids[i], 16);
        if (i % 2) CHECK_EQ(bt_report_seal(wire, sizeof wire, &len, &r, &u, seeds[i], NULL), BT_OK);
        else CHECK_EQ(bt_report_seal_withdrawal(wire, sizeof wire, &len, ids[i], &u, seeds[i]), BT_OK);
        for (int k = 0; k < 2; k++) accepted[k] += bt_collect_submit(both[k], wire, len, NULL, NULL) == BT_OK;
    }
    CHECK_EQ(accepted[0], 686);
    CHECK_EQ(accepted[1], 686);
    /* the tallies kept report by report, then the same made again from the
     * reports (as for a store from before them): the same bytes each time */
    char *first[5] = {NULL};
    size_t first_len[5] = {0};
    for (int round = 0; round < 2; round++) {
        if (round == 1) {
            CHECK_EQ(raw_sql(file, "DELETE FROM tallies"), 0);
            CHECK_EQ(raw_sql(path, "DELETE FROM tallies"), 0);
            bt_collect_close(lite);
            bt_collect_close(pg);
            CHECK_EQ(bt_collect_open(&lite, file, 0, NULL, 0), BT_OK);
            CHECK_EQ(bt_collect_open(&pg, path, 0, NULL, 0), BT_OK);
            both[0] = lite;
            both[1] = pg;
        }
        for (int f = 0; f < 5; f++) {
            char *out[2] = {NULL, NULL};
            size_t len[2] = {0, 0};
            for (int k = 0; k < 2; k++)
                CHECK_EQ(f < 3 ? bt_collect_report(both[k], (bt_collect_format)f, &out[k], &len[k])
                               : bt_collect_export(both[k], (bt_collect_table)(f - 3), 10, &out[k], &len[k]),
                         BT_OK);
            CHECK(out[0] != NULL && out[1] != NULL && len[0] == len[1] && memcmp(out[0], out[1], len[0]) == 0);
            if (f == 0) /* and they are real figures: 600 reports, 43 withdrawn */
                CHECK(out[0] && strstr(out[0], "\"total\": 557,") != NULL);
            if (f == 3) /* some cells shown, some suppressed */
                CHECK(out[0] && strstr(out[0], ",<10\n") != NULL && strstr(out[0], "2024-W01,") != NULL);
            if (round == 0) {
                first[f] = out[0];
                first_len[f] = len[0];
            } else {
                CHECK(first[f] && len[0] == first_len[f] && memcmp(out[0], first[f], len[0]) == 0);
                free(out[0]);
            }
            free(out[1]);
        }
    }
    for (int f = 0; f < 5; f++) free(first[f]);
    bt_collect_close(lite);
    bt_collect_close(pg);
    drop_store(dir);
    unlink(file);
    char wal[600];
    snprintf(wal, sizeof wal, "%s-wal", file);
    unlink(wal);
    snprintf(wal, sizeof wal, "%s-shm", file);
    unlink(wal);
    drop_store(dir2);
}

static const test_case both[] = {T(store_dedupes_by_report_id_and_refuses_replays), T(only_the_first_reports_key_updates_or_withdraws_it),
          T(a_report_stored_before_keys_counts_but_cannot_be_changed),
          T(store_refuses_without_a_key_and_stores_nothing_refused),
          T(report_counts_appeals_and_the_ten_minute_share),
          T(export_suppresses_cells_under_ten),
          T(key_file_opens_with_its_passphrase_only),
          T(the_report_rate_gives_a_burst_then_one_per_interval_per_address),
          T(the_report_rate_table_stays_bounded_under_many_addresses),
          T(a_token_is_spent_on_one_report_id_and_a_double_spend_stores_nothing),
          T(a_forged_token_or_a_token_where_none_are_issued_is_refused),
          T(the_policy_decides_what_a_report_without_a_token_becomes), T(an_invite_code_issues_its_budget_once),
          T(two_receivers_spend_a_token_once_and_never_overdraw_an_invite),
          T(schema_1_and_2_reports_merge_in_the_figures),
          T(a_store_from_before_schema_2_gains_its_columns_and_keeps_its_reports),
};
/* SQLite's own history: its stores from before tokens. A PostgreSQL store
 * was never made without them. */
static const test_case sqlite_only[] = {T(a_store_from_before_tokens_keeps_counting_its_reports)};
/* Needs both stores at once: the pg run has them. */
static const test_case pg_only[] = {T(figures_and_open_data_are_the_same_bytes_from_both_stores)};

int main(int argc, char **argv)
{
    on_pg = argc > 1 && strcmp(argv[1], "pg") == 0;
    if (argc > 1 && !on_pg) {
        fprintf(stderr, "usage: test_collect_store [pg]\n");
        return 2;
    }
    printf("store: %s\n", on_pg ? "postgresql" : "sqlite");
    setenv("SOURCE_DATE_EPOCH", "1767225600", 1); /* the html page's date: the same bytes across midnight */
    int failed = run_tests(both, sizeof both / sizeof both[0]);
    failed |= on_pg ? run_tests(pg_only, 1) : run_tests(sqlite_only, 1);
    return failed;
}
