/* The peer's side of bench_host's comparison (issue 14): SQLCipher (Debian's
 * libsqlcipher-dev; a benchmark-only dependency, nothing of Bantrail links
 * it) appending 2 KiB rows, each in its own durable transaction, at the
 * durability Bantrail uses (WAL, synchronous=FULL). A program of its own
 * because SQLCipher's library carries SQLite's own names.
 *
 *   bench_sqlcipher DB N     prints the microseconds N appends took
 *
 * The key is set by passphrase (SQLCipher's default: PBKDF2), once, and N
 * appends are made before the clock starts (the write-ahead file grown, as
 * a long-running writer's is); what is timed is the next N appends, as for
 * Bantrail. */
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bench.h"

int main(int argc, char **argv)
{
    sqlite3 *db = NULL;
    sqlite3_stmt *st = NULL;
    unsigned char blob[2048];
    if (argc != 3) {
        fprintf(stderr, "usage: bench_sqlcipher DB N\n");
        return 2;
    }
    int n = atoi(argv[2]);
    for (size_t i = 0; i < sizeof blob; i++) blob[i] = (unsigned char)(i * 131 + 7);
    if (sqlite3_open(argv[1], &db) != SQLITE_OK ||
        sqlite3_exec(db, "PRAGMA key = 'benchmark passphrase'; PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL;"
                         "CREATE TABLE IF NOT EXISTS t(id INTEGER PRIMARY KEY, b BLOB)", NULL, NULL, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(db, "INSERT INTO t(b) VALUES (?)", -1, &st, NULL) != SQLITE_OK) {
        fprintf(stderr, "bench_sqlcipher: %s\n", db ? sqlite3_errmsg(db) : "no memory");
        return 2;
    }
    double a = 0;
    for (int i = 0; i < 2 * n; i++) {
        if (i == n) a = now_us();
        blob[i % sizeof blob] ^= 1; /* each row its own */
        if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) return 2;
        sqlite3_bind_blob(st, 1, blob, sizeof blob, SQLITE_STATIC);
        if (sqlite3_step(st) != SQLITE_DONE) return 2;
        sqlite3_reset(st);
        if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK) return 2;
    }
    printf("%.0f\n", now_us() - a);
    sqlite3_finalize(st);
    sqlite3_close(db);
    return 0;
}
