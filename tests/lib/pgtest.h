/* Test helper: the throwaway PostgreSQL cluster that tests/lib/pgcluster.py
 * starts for a C program (BT_PG_HOST, BT_PG_PORT, BT_PG_USER), and plain SQL
 * on either store, for tests and benchmarks that look at or fill a store by
 * hand. Shared by test_collect_store.c and bench_collect.c. */
#ifndef BT_TEST_PGTEST_H
#define BT_TEST_PGTEST_H

#include <libpq-fe.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Whether the program runs under pgcluster.py. */
static inline int pg_available(void)
{
    return getenv("BT_PG_HOST") && getenv("BT_PG_PORT") && getenv("BT_PG_USER");
}

/* The address of database db of that cluster; exits when there is none. */
static inline void pg_address(char *out, size_t len, const char *db)
{
    if (!pg_available()) {
        fprintf(stderr, "run it under tests/lib/pgcluster.py (BT_PG_HOST, BT_PG_PORT, BT_PG_USER unset)\n");
        exit(1);
    }
    snprintf(out, len, "postgresql:///%s?host=%s&port=%s&user=%s", db, getenv("BT_PG_HOST"), getenv("BT_PG_PORT"),
             getenv("BT_PG_USER"));
}

/* Runs sql on the store at address (a SQLite file or postgresql://): the
 * first column of its first row as an integer, 0 for a statement without
 * rows, -1 on failure (said on stderr). */
static inline int64_t raw_sql(const char *address, const char *sql)
{
    int64_t n = -1;
    if (strncmp(address, "postgresql://", 13) == 0) {
        PGconn *conn = PQconnectdb(address);
        PGresult *r = PQexec(conn, sql);
        if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0) n = atoll(PQgetvalue(r, 0, 0));
        else if (PQresultStatus(r) == PGRES_COMMAND_OK || PQresultStatus(r) == PGRES_TUPLES_OK) n = 0;
        else fprintf(stderr, "  %s: %s", sql, PQerrorMessage(conn));
        PQclear(r);
        PQfinish(conn);
        return n;
    }
    sqlite3 *db = NULL;
    sqlite3_stmt *s = NULL;
    if (sqlite3_open(address, &db) == SQLITE_OK && sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK) {
        int rc = sqlite3_step(s);
        n = rc == SQLITE_ROW ? sqlite3_column_int64(s, 0) : rc == SQLITE_DONE ? 0 : -1;
    }
    if (n < 0) fprintf(stderr, "  %s: %s\n", sql, sqlite3_errmsg(db));
    sqlite3_finalize(s);
    sqlite3_close(db);
    return n;
}

/* A new, empty database of the cluster: its address into out. */
static inline void pg_new_database(char *out, size_t len)
{
    char admin[512], sql[64], db[32];
    unsigned char r[6];
    randombytes_buf(r, sizeof r);
    snprintf(db, sizeof db, "bt_");
    sodium_bin2hex(db + 3, sizeof db - 3, r, sizeof r);
    pg_address(admin, sizeof admin, "postgres");
    snprintf(sql, sizeof sql, "CREATE DATABASE %s", db);
    if (raw_sql(admin, sql) != 0) abort();
    pg_address(out, len, db);
}

#endif
