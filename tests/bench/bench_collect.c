/* Benchmarks of the collector; prints figures, asserts nothing about time.
 * usage: bench_collect [N_INGEST] [N_STORED] [POW_SECONDS] [N_RECEIVE] [N_PG_STORED]
 *        (defaults 100000 1000000 10 5000 10000000); under tests/lib/pgcluster.py
 *        (which starts a throwaway PostgreSQL) it measures PostgreSQL too
 *
 * 1. Seals N_INGEST reports (difficulty 8: checking costs one hash whatever
 *    the difficulty), then in the same run measures the raw
 *    crypto_box_seal_open rate over the same sealed boxes, and the full
 *    ingest rate (decode, proof of work, open, unpad, validate, dedupe,
 *    store in one transaction) into a fresh store.
 * 2. Fills a store with N_STORED reports (rows written directly: sealing a
 *    million would only measure sealing), opens it (which makes the
 *    tallies from those rows, as for a store from before them) and times
 *    `report` in each format.
 * 1b. Receivers: 1, 2 and 4 processes, each with its own connection to
 *    one fresh store, receiving N_RECEIVE of those reports as `serve` does
 *    (durable, one transaction each), on SQLite and on PostgreSQL; beside
 *    the raw rate of part 1 (one core; this machine has nproc of them).
 * 2b. PostgreSQL: N_PG_STORED rows made in the database (generate_series,
 *    the same distribution as the rows of part 2), VACUUM ANALYZE as an
 *    administrator's autovacuum would, then `report` and `export` timed;
 *    the size on disk per report for both stores.
 * 3. What flooding costs: reports sealed a second on one core (this thread)
 *    at difficulty 16 (the old default) and at BT_REPORT_POW_DEFAULT, each
 *    for POW_SECONDS, with the BLAKE2b tries a second they took (read back
 *    from each envelope's nonce) and the rate those tries give at every
 *    difficulty a union may choose. */
#include <sqlite3.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "bantrail/collect.h"
#include "bantrail/report.h"
#include "check.h"
#include "pgtest.h"
#include "report_forge.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* nproc receivers at once on the store at address, each its own process
 * and connection, taking wires i = p, p+nproc, ... below n: the seconds from
 * their start (all connected) to the last one's end; *ok: accepted. */
static double receive(const char *address, int nproc, char **wires, const size_t *lens, long n,
                      const unsigned char *pk, const unsigned char *sk, long *ok)
{
    int go[2], done[2];
    if (pipe(go) != 0 || pipe(done) != 0) return -1;
    for (int p = 0; p < nproc; p++) {
        if (fork() == 0) {
            bt_collect *c = NULL;
            char b;
            long accepted = 0;
            if (bt_collect_open(&c, address, 1, NULL, 0) != BT_OK || bt_collect_set_key(c, pk, sk, 8) != BT_OK) _exit(3);
            if (write(done[1], "r", 1) != 1 || read(go[0], &b, 1) != 1) _exit(3);
            for (long i = p; i < n; i += nproc) accepted += bt_collect_submit(c, wires[i], lens[i], NULL, NULL) == BT_OK;
            bt_collect_close(c);
            if (write(done[1], &accepted, sizeof accepted) != sizeof accepted) _exit(3);
            _exit(0);
        }
    }
    char b;
    close(go[0]);
    close(done[1]); /* a child that fails ends the reads below */
    for (int p = 0; p < nproc; p++)
        if (read(done[0], &b, 1) != 1) {
            close(go[1]), close(done[0]);
            while (wait(NULL) > 0) {
            }
            return -1;
        }
    double t0 = now();
    for (int p = 0; p < nproc; p++)
        if (write(go[1], "g", 1) != 1) return -1;
    *ok = 0;
    for (int p = 0; p < nproc; p++) {
        long a = 0;
        if (read(done[0], &a, sizeof a) == sizeof a) *ok += a;
    }
    double t = now() - t0;
    while (wait(NULL) > 0) {
    }
    close(go[1]), close(done[0]);
    return t;
}

/* Prints how long the figures (json, csv, html) and the open data (both
 * tables) take over store c; 0, or 1 when one fails. */
static int time_figures(bt_collect *c, const char *store, const char *goal)
{
    static const char *const names[] = {"json", "csv", "html"};
    int64_t count = 0;
    bt_collect_count(c, &count);
    for (int f = 0; f < 5; f++) {
        char *out = NULL;
        size_t len = 0;
        double t0 = now();
        bt_err err = f < 3 ? bt_collect_report(c, (bt_collect_format)f, &out, &len)
                           : bt_collect_export(c, (bt_collect_table)(f - 3), 10, &out, &len);
        if (f < 3)
            printf("%s: report --format %s over %lld stored reports: %.3f s (%zu bytes%s)%s\n", store, names[f],
                   (long long)count, now() - t0, len, goal, err == BT_OK ? "" : " FAILED");
        else
            printf("%s: export --table %s: %.3f s (%zu bytes)%s\n", store, f == 4 ? "appeals" : "weekly", now() - t0,
                   len, err == BT_OK ? "" : " FAILED");
        free(out);
        if (err != BT_OK) return 1;
    }
    return 0;
}

int main(int argc, char **argv)
{
    long n_ingest = argc > 1 ? atol(argv[1]) : 100000, n_stored = argc > 2 ? atol(argv[2]) : 1000000;
    double pow_seconds = argc > 3 ? atof(argv[3]) : 10;
    long n_receive = argc > 4 ? atol(argv[4]) : 5000, n_pg = argc > 5 ? atol(argv[5]) : 10000000;
    unsigned char pk[32], sk[32];
    char *dir, path[512];
    if (sodium_init() < 0 || n_ingest < 1 || n_stored < 1) return 2;
    crypto_box_keypair(pk, sk);
    dir = test_tmpdir();
    bt_union u;
    memset(&u, 0, sizeof u);
    memcpy(u.public_key, pk, 32);
    u.pow_difficulty = 8;

    /* ---- 1. ingest beside raw crypto_box_seal_open ---- */
    char **wires = malloc(sizeof *wires * (size_t)n_ingest);
    size_t *lens = malloc(sizeof *lens * (size_t)n_ingest);
    double t0 = now();
    for (long i = 0; i < n_ingest; i++) {
        bt_report r;
        forge_random_report(&r, randombytes_random());
        wires[i] = malloc(BT_REPORT_WIRE_MAX + 1);
        if (bt_report_seal(wires[i], BT_REPORT_WIRE_MAX + 1, &lens[i], &r, &u, NULL, NULL) != BT_OK) return 1;
    }
    double t_seal = now() - t0;

    /* raw: the sealed boxes alone, decoded beforehand */
    unsigned char *boxes = malloc((size_t)n_ingest * (crypto_box_SEALBYTES + BT_REPORT_BLOCK));
    unsigned char env[BT_REPORT_ENVELOPE_MAX], plain[BT_REPORT_BLOCK];
    for (long i = 0; i < n_ingest; i++) {
        size_t el = 0;
        sodium_base642bin(env, sizeof env, wires[i], lens[i], NULL, &el, NULL, sodium_base64_VARIANT_ORIGINAL);
        if (el != BT_REPORT_ENVELOPE_BYTES(1)) return 1;
        memcpy(boxes + (size_t)i * (crypto_box_SEALBYTES + BT_REPORT_BLOCK), env + BT_REPORT_HEADER_BYTES,
               crypto_box_SEALBYTES + BT_REPORT_BLOCK);
    }
    /* Interleaved in chunks of 1000 (raw, open alone, ingest), so that a busy
     * machine slows all three alike: the ratios are the figures to read. */
    bt_collect *c = NULL;
    snprintf(path, sizeof path, "%s/ingest.sqlite", dir);
    if (bt_collect_open(&c, path, 0, NULL, 0) != BT_OK || bt_collect_set_key(c, pk, sk, 8) != BT_OK) return 1;
    long opened = 0, valid = 0, accepted = 0;
    double t_raw = 0, t_open = 0, t_ingest = 0;
    for (long start = 0; start < n_ingest; start += 1000) {
        long end = start + 1000 < n_ingest ? start + 1000 : n_ingest, k;
        t0 = now();
        for (long i = start; i < end; i++)
            opened += crypto_box_seal_open(plain, boxes + (size_t)i * (crypto_box_SEALBYTES + BT_REPORT_BLOCK),
                                           crypto_box_SEALBYTES + BT_REPORT_BLOCK, pk, sk) == 0;
        t_raw += now() - t0;
        t0 = now();
        for (long i = start; i < end; i++) {
            bt_report r;
            valid += bt_report_open(&r, NULL, wires[i], lens[i], pk, sk, 8, NULL) == BT_OK;
        }
        t_open += now() - t0;
        t0 = now();
        if (start % 10000 == 0) bt_collect_begin(c); /* commit in batches, as `ingest` of many files would */
        for (k = start; k < end; k++) accepted += bt_collect_submit(c, wires[k], lens[k], NULL, NULL) == BT_OK;
        if (end % 10000 == 0 || end == n_ingest) bt_collect_commit(c);
        t_ingest += now() - t0;
    }
    bt_collect_close(c);
    double raw_rate = (double)n_ingest / t_raw, ingest_rate = (double)n_ingest / t_ingest;
    printf("sealed %ld reports (difficulty 8) in %.2f s: %.0f/s\n", n_ingest, t_seal, (double)n_ingest / t_seal);
    printf("raw crypto_box_seal_open (interleaved with the rows below): %ld opened in %.2f s: %.0f/s\n", opened, t_raw, raw_rate);
    printf("bt_report_open (decode+pow+open+unpad+validate, no store): %ld in %.2f s: %.0f/s = %.0f%% of raw\n",
           valid, t_open, (double)n_ingest / t_open, 100.0 * t_raw / t_open);
    printf("ingest (decode+pow+open+unpad+validate+dedupe+store): %ld accepted in %.2f s: %.0f/s = %.0f%% of raw\n",
           accepted, t_ingest, ingest_rate, 100.0 * ingest_rate / raw_rate);

    /* ---- 1b. receivers: 1, 2 and 4 processes on one store ---- */
    if (n_receive > n_ingest) n_receive = n_ingest;
    for (int pg = 0; pg < 2; pg++) {
        if (pg && !pg_available()) {
            printf("receivers on PostgreSQL: not measured (run under tests/lib/pgcluster.py)\n");
            break;
        }
        for (int nproc = 1; nproc <= 4; nproc *= 2) {
            char address[512];
            long ok = 0;
            if (pg) pg_new_database(address, sizeof address);
            else snprintf(address, sizeof address, "%s/receive%d.sqlite", dir, nproc);
            double t = receive(address, nproc, wires, lens, n_receive, pk, sk, &ok);
            if (t < 0) {
                printf("%d receivers: a receiver could not open the store\n", nproc);
                return 1;
            }
            printf("%s, %d receiver%s (durable commit each, as serve): %ld accepted in %.2f s: %.0f/s = %.0f%% of "
                   "raw one-core seal-open (%.0f/s)\n", pg ? "PostgreSQL" : "SQLite", nproc, nproc > 1 ? "s" : "",
                   ok, t, (double)ok / t, 100.0 * (double)ok / t / raw_rate, raw_rate);
            if (nproc == 4) {
                int64_t bytes = -1;
                struct stat st;
                if (pg) bytes = raw_sql(address, "SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c "
                                                 "JOIN pg_namespace n ON n.oid=c.relnamespace WHERE n.nspname='public' "
                                                 "AND c.relkind='r'");
                else if (stat(address, &st) == 0) bytes = st.st_size;
                printf("%s: size on disk per received report (every table and index; %ld reports): %.0f bytes\n",
                       pg ? "PostgreSQL" : "SQLite", ok, (double)bytes / (double)ok);
            }
        }
    }
    for (long i = 0; i < n_ingest; i++) free(wires[i]);
    free(wires);
    free(lens);
    free(boxes);

    /* ---- 2. report over n_stored ---- */
    snprintf(path, sizeof path, "%s/stored.sqlite", dir);
    if (bt_collect_open(&c, path, 0, NULL, 0) != BT_OK) return 1;
    bt_collect_close(c);
    sqlite3 *db;
    sqlite3_stmt *s;
    sqlite3_open(path, &db);
    sqlite3_exec(db, "PRAGMA synchronous=OFF; BEGIN", NULL, NULL, NULL);
    sqlite3_prepare_v2(db,
                       "INSERT INTO reports(id,platform,kind,category,keywords,week,duration,offered,submitted,"
                       "outcome,delay,account_type,paid,country,client,keywords_hi,schema_v)"
                       " VALUES(?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
                       -1, &s, NULL);
    t0 = now();
    for (long i = 0; i < n_stored; i++) {
        bt_report r;
        forge_random_report(&r, randombytes_random());
        sqlite3_bind_blob(s, 1, r.id, 16, SQLITE_TRANSIENT);
        int v[] = {r.platform, r.kind, r.category, 0, r.week, r.duration, r.offered, r.submitted,
                   r.outcome, r.delay, r.account_type, r.paid, r.country};
        for (int k = 0; k < 13; k++) sqlite3_bind_int(s, 2 + k, v[k]);
        sqlite3_bind_int64(s, 5, (sqlite3_int64)r.keywords[0]);
        sqlite3_bind_int64(s, 15, r.client);
        sqlite3_bind_int64(s, 16, (sqlite3_int64)r.keywords[1]);
        sqlite3_bind_int(s, 17, r.v);
        sqlite3_step(s);
        sqlite3_reset(s);
    }
    sqlite3_finalize(s);
    sqlite3_exec(db, "COMMIT", NULL, NULL, NULL);
    sqlite3_close(db);
    printf("filled a store with %ld reports in %.2f s\n", n_stored, now() - t0);
    t0 = now();
    if (bt_collect_open(&c, path, 0, NULL, 0) != BT_OK) return 1;
    printf("SQLite: the tallies made from those rows at open (once: rows loaded in bulk, or a store from before "
           "them): %.2f s\n", now() - t0);
    if (time_figures(c, "SQLite", "") != 0) return 1;
    bt_collect_close(c);
    {
        struct stat st;
        if (stat(path, &st) == 0)
            printf("SQLite: size on disk per stored report (%ld, with its primary key): %.0f bytes\n", n_stored,
                   (double)st.st_size / (double)n_stored);
    }

    /* ---- 2b. PostgreSQL: the figures over n_pg reports ---- */
    if (!pg_available()) {
        printf("PostgreSQL figures: not measured (run under tests/lib/pgcluster.py)\n");
    } else {
        char address[512], sql[2048];
        pg_new_database(address, sizeof address);
        if (bt_collect_open(&c, address, 0, NULL, 0) != BT_OK) return 1;
        bt_collect_close(c);
        /* the rows of forge_random_report, made in the database, in key order (appends to the key's index) */
        snprintf(sql, sizeof sql,
                 "INSERT INTO reports(id,platform,kind,category,keywords,week,duration,offered,submitted,outcome,delay,"
                 "account_type,paid,country,client,counted,keywords_hi,schema_v) SELECT id,1+x%%16,1+(x>>4)%%6,"
                 "(x>>7)%%(16+(x&1)),CASE WHEN k<64 THEN 1::bigint<<k ELSE 0 END,"
                 "202400+1+(x>>17)%%52+100*((x>>23)%%3),1+(x>>3)%%8,1+(x>>5)%%3,(x>>9)&1,"
                 "CASE WHEN (x>>9)&1=1 THEN 1+(x>>13)%%4 ELSE 0 END,"
                 "CASE WHEN (x>>9)&1=0 THEN 0 WHEN (x>>13)%%4=0 THEN 1 ELSE 2+(x>>15)%%6 END,"
                 "(x>>19)%%4,(x>>21)%%3,(x>>22)%%250,1024,1,CASE WHEN k>=64 THEN 1::bigint<<(k-64) ELSE 0 END,1+(x&1)"
                 " FROM (SELECT id,x,((x>>11)%%(CASE WHEN x&1=1 THEN 69 ELSE 54 END))::int AS k FROM"
                 " (SELECT decode(md5(g::text),'hex') AS id,(random()*4294967295)::bigint AS x"
                 " FROM generate_series(1,%ld) g) s0) s ORDER BY id", n_pg);
        t0 = now();
        if (raw_sql(address, sql) != 0 || raw_sql(address, "VACUUM ANALYZE reports") != 0) return 1;
        printf("PostgreSQL: filled with %ld reports (generate_series, VACUUM ANALYZE) in %.1f s\n", n_pg, now() - t0);
        t0 = now();
        if (bt_collect_open(&c, address, 0, NULL, 0) != BT_OK) return 1;
        printf("PostgreSQL: the tallies made from those rows at open (once): %.1f s\n", now() - t0);
        if (time_figures(c, "PostgreSQL", "; goal <= 5 s at 10,000,000") != 0) return 1;
        int64_t count = 0;
        bt_collect_count(c, &count);
        bt_collect_close(c);
        int64_t bytes = raw_sql(address, "SELECT pg_total_relation_size('reports')");
        printf("PostgreSQL: size on disk per stored report (%lld, the reports table with its primary key): %.0f bytes\n",
               (long long)count, (double)bytes / (double)count);
    }
    free(dir);

    /* ---- 3. the proof of work, one core ---- */
    double tries_per_s = 0;
    const unsigned diffs[] = {16, BT_REPORT_POW_DEFAULT};
    for (int k = 0; k < 2; k++) {
        u.pow_difficulty = diffs[k];
        long sealed = 0;
        double tries = 0, t_pow;
        t0 = now();
        do { /* at least one report, however short the time */
            bt_report r;
            char wire[BT_REPORT_WIRE_MAX + 1];
            size_t wl = 0, el = 0;
            forge_random_report(&r, randombytes_random());
            if (bt_report_seal(wire, sizeof wire, &wl, &r, &u, NULL, NULL) != BT_OK ||
                sodium_base642bin(env, sizeof env, wire, wl, NULL, &el, NULL, sodium_base64_VARIANT_ORIGINAL) != 0)
                return 1;
            uint64_t nonce = 0;
            for (int i = 7; i >= 0; i--) nonce = nonce << 8 | env[el - 8 + (size_t)i];
            tries += (double)nonce + 1;
            sealed++;
        } while ((t_pow = now() - t0) < pow_seconds);
        tries_per_s = tries / t_pow;
        printf("flooding, one core: difficulty %u%s: %ld reports sealed in %.2f s: %.2f reports/s "
               "(%.2f M BLAKE2b tries/s)\n", diffs[k], k ? " (the default)" : " (the old default)", sealed, t_pow,
               (double)sealed / t_pow, tries_per_s / 1e6);
    }
    printf("expected reports/s for one core at that rate:");
    for (unsigned d = 16; d <= BT_REPORT_POW_MAX; d += 2) printf(" %u bits %.2f;", d, tries_per_s / (double)(1u << d));
    printf("\n");
    return 0;
}
