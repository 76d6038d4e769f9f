/* The collector's store in PostgreSQL through libpq (collect_int.h), for a
 * union that runs several receivers on one database.
 *
 * Decisions written down here:
 * - The statements are collect.c's, translated once at open: ?N and ? become
 *   $N; the tables' BLOB, INTEGER and WITHOUT ROWID become BYTEA, BIGINT and
 *   nothing. Arguments go as text (integers) or binary (blobs); results come
 *   as text (bytea in hex), which every type reads back the same.
 * - Every write transaction is SERIALIZABLE: what a receiver read (the
 *   report's owner, the replay digests, a token, an invite's budget) cannot
 *   change under it in another receiver. A conflict (unique key taken,
 *   serialization failure, deadlock) is BT_DB_RETRY: collect.c does the
 *   whole transaction again, whose reads then see the other's commit.
 * - A lost connection, a server shutting down, a full disk are BT_DB_DOWN
 *   (the sender is told 503 and tries again); the next transaction resets
 *   the connection and prepares the statements again.
 * - The tables are created under an advisory lock (receivers started
 *   together), and not at all by a role that may not create them: the
 *   least-rights role of docs/ADMIN.md finds them made by the owner.
 * - synchronous_commit stays on for the receiver (a 202 follows a durable
 *   commit); bulk work (ingest, report) turns it off for its session. */
#include "collect/collect_int.h"

#include <libpq-fe.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PG_BYTEA 17
#define PG_LOCK_KEY "4242160001" /* the advisory lock that orders table creation */

typedef struct {
    bt_store base;
    PGconn *conn;
    int durable;
    int txn; /* inside a transaction of ours: never reconnect under it */
    char *sql[Q_COUNT_]; /* the translated statements, prepared as q0, q1, ... */
} pg_store;

/* ?N -> $N, ? -> $k (k counting), outside quotes; BLOB -> BYTEA, INTEGER ->
 * BIGINT, " WITHOUT ROWID" dropped when ddl. malloc'd. */
static char *translate(const char *in, int ddl)
{
    size_t cap = strlen(in) * 2 + 16, o = 0;
    char *out = malloc(cap);
    int k = 0, quoted = 0;
    if (out == NULL) return NULL;
    for (const char *p = in; *p;) {
        if (*p == '\'') quoted = !quoted;
        if (!quoted && *p == '?') {
            p++;
            if (*p >= '0' && *p <= '9') {
                out[o++] = '$';
                while (*p >= '0' && *p <= '9') out[o++] = *p++;
            } else {
                o += (size_t)snprintf(out + o, cap - o, "$%d", ++k);
            }
            continue;
        }
        if (!quoted && ddl && strncmp(p, "BLOB", 4) == 0) {
            memcpy(out + o, "BYTEA", 5), o += 5, p += 4;
            continue;
        }
        if (!quoted && ddl && strncmp(p, "INTEGER", 7) == 0) {
            memcpy(out + o, "BIGINT", 6), o += 6, p += 7;
            continue;
        }
        if (!quoted && ddl && strncmp(p, " WITHOUT ROWID", 14) == 0) {
            p += 14;
            continue;
        }
        out[o++] = *p++;
    }
    out[o] = '\0';
    return out;
}

static bt_db_rc rc_of(pg_store *s, PGresult *r)
{
    ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
    const char *state;
    if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) return BT_DB_OK;
    if (PQstatus(s->conn) != CONNECTION_OK) return BT_DB_DOWN;
    state = r ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;
    if (state == NULL) return BT_DB_DOWN; /* no answer from the server */
    if (!strcmp(state, "23505") || !strcmp(state, "40001") || !strcmp(state, "40P01")) return BT_DB_RETRY;
    /* the server, not the request: connection exceptions, operator intervention (shutdown),
     * insufficient resources (53100 disk full), system errors (58030 I/O), internal errors (XX000:
     * a file that cannot grow, "could not extend file"; XX001/XX002 damage): senders retry later */
    if (!strncmp(state, "08", 2) || !strncmp(state, "57", 2) || !strncmp(state, "53", 2) ||
        !strncmp(state, "58", 2) || !strncmp(state, "XX", 2))
        return BT_DB_DOWN;
    return BT_DB_FAIL;
}

static bt_db_rc pg_exec(pg_store *s, const char *sql)
{
    PGresult *r = PQexec(s->conn, sql);
    bt_db_rc rc = rc_of(s, r);
    PQclear(r);
    return rc;
}

static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message; /* NOTICEs ("already exists, skipping") are not the operator's business */
}

/* The session's settings and prepared statements (again after a reset). */
static bt_db_rc pg_prepare(pg_store *s)
{
    char name[16];
    bt_db_rc rc = pg_exec(s, s->durable ? "SET synchronous_commit=on" : "SET synchronous_commit=off");
    for (int i = 0; rc == BT_DB_OK && i < Q_COUNT_; i++) {
        snprintf(name, sizeof name, "q%d", i);
        PGresult *r = PQprepare(s->conn, name, s->sql[i], 0, NULL);
        rc = rc_of(s, r);
        PQclear(r);
    }
    return rc;
}

/* A connection that went away is made again before a transaction. */
static bt_db_rc pg_ready(pg_store *s)
{
    if (PQstatus(s->conn) == CONNECTION_OK) return BT_DB_OK;
    PQreset(s->conn);
    if (PQstatus(s->conn) != CONNECTION_OK) return BT_DB_DOWN;
    PQsetNoticeProcessor(s->conn, quiet, NULL);
    return pg_prepare(s);
}

static bt_db_rc pg_run(bt_store *base, int q, const bt_arg *args, int nargs, bt_row_fn row, void *ctx,
                       int64_t *changes)
{
    pg_store *s = (pg_store *)base;
    char name[16], ints[24][24];
    const char *values[24];
    int lengths[24], formats[24];
    bt_cell cols[24];
    if (nargs > 24) return BT_DB_FAIL;
    /* Outside a transaction a lost connection is made again; inside one,
     * never: the statement would run alone, and the transaction's first
     * writes would be gone. The transaction fails (503) and is done again. */
    if (!s->txn && pg_ready(s) != BT_DB_OK) return BT_DB_DOWN;
    for (int i = 0; i < nargs; i++) {
        formats[i] = 0;
        lengths[i] = 0;
        if (args[i].kind == BT_ARG_INT) {
            snprintf(ints[i], sizeof ints[i], "%lld", (long long)args[i].i);
            values[i] = ints[i];
        } else if (args[i].kind == BT_ARG_BLOB) {
            values[i] = args[i].p;
            lengths[i] = (int)args[i].n;
            formats[i] = 1;
        } else {
            values[i] = args[i].p;
        }
    }
    snprintf(name, sizeof name, "q%d", q);
    PGresult *r = PQexecPrepared(s->conn, name, nargs, values, lengths, formats, 0);
    bt_db_rc rc = rc_of(s, r);
    if (rc == BT_DB_OK && PQresultStatus(r) == PGRES_TUPLES_OK && row != NULL) {
        int rows = PQntuples(r), n = PQnfields(r);
        if (n > 24) n = 24;
        for (int t = 0; t < rows; t++) {
            for (int i = 0; i < n; i++) {
                const char *v = PQgetvalue(r, t, i);
                cols[i].text = v;
                cols[i].i = strtoll(v, NULL, 10);
                cols[i].blob_len = 0;
                if (PQftype(r, i) == PG_BYTEA && v[0] == '\\' && v[1] == 'x') {
                    size_t len = 0;
                    sodium_hex2bin(cols[i].blob, sizeof cols[i].blob, v + 2, strlen(v + 2), NULL, &len, NULL);
                    cols[i].blob_len = len;
                    cols[i].i = 0;
                }
            }
            if (row(ctx, cols, n) != 0) break;
        }
    }
    if (changes != NULL) *changes = rc == BT_DB_OK ? strtoll(PQcmdTuples(r), NULL, 10) : 0;
    PQclear(r);
    return rc;
}

/* Begins a transaction of ours (isolation: its words), reconnecting first;
 * a connection that BEGIN finds dead (the server restarted since its last
 * use: libpq learns it only then) is made again once, BEGIN having changed
 * nothing. */
static bt_db_rc pg_begin_as(pg_store *s, const char *sql)
{
    if (pg_ready(s) != BT_DB_OK) return BT_DB_DOWN;
    bt_db_rc rc = pg_exec(s, sql);
    if (rc == BT_DB_DOWN && PQstatus(s->conn) != CONNECTION_OK && pg_ready(s) == BT_DB_OK) rc = pg_exec(s, sql);
    s->txn = rc == BT_DB_OK;
    return rc;
}

static bt_db_rc pg_begin(bt_store *s) { return pg_begin_as((pg_store *)s, "BEGIN ISOLATION LEVEL SERIALIZABLE"); }

static bt_db_rc pg_begin_read(bt_store *s)
{
    return pg_begin_as((pg_store *)s, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
}

static bt_db_rc pg_commit(bt_store *base)
{
    pg_store *s = (pg_store *)base;
    bt_db_rc rc = pg_exec(s, "COMMIT");
    if (rc == BT_DB_OK) s->txn = 0; /* else the caller rolls back */
    return rc;
}

static void pg_rollback(bt_store *base)
{
    pg_store *s = (pg_store *)base;
    if (PQstatus(s->conn) == CONNECTION_OK) pg_exec(s, "ROLLBACK");
    s->txn = 0;
}

static void pg_close(bt_store *base)
{
    pg_store *s = (pg_store *)base;
    if (s == NULL) return;
    PQfinish(s->conn);
    for (int i = 0; i < Q_COUNT_; i++) free(s->sql[i]);
    free(s);
}

static const bt_store_ops pg_ops = {"postgresql", pg_run, pg_begin, pg_begin_read, pg_commit, pg_rollback, pg_close};

/* Creates what is missing, one receiver at a time. A role without the right
 * to create finds the owner's tables (or fails to prepare, said below). */
static bt_db_rc make_tables(pg_store *s)
{
    bt_db_rc rc = pg_exec(s, "BEGIN");
    if (rc == BT_DB_OK) rc = pg_exec(s, "SELECT pg_advisory_xact_lock(" PG_LOCK_KEY ")");
    for (int pass = 0; pass < 3; pass++) {
        const char *const *list = pass == 0 ? bt_store_tables : pass == 1 ? bt_store_added_columns : bt_store_indexes;
        for (int i = 0; rc == BT_DB_OK && list[i] != NULL; i++) {
            char add[160], *sql;
            snprintf(add, sizeof add, "ALTER TABLE reports ADD COLUMN IF NOT EXISTS %s", list[i]);
            sql = translate(pass == 1 ? add : list[i], 1);
            rc = sql ? pg_exec(s, sql) : BT_DB_FAIL;
            free(sql);
        }
    }
    if (rc == BT_DB_OK) rc = pg_exec(s, "COMMIT");
    else pg_exec(s, "ROLLBACK");
    return rc;
}

static void say(char *why, size_t why_len, const char *what, const char *detail)
{
    if (why == NULL || why_len == 0) return;
    snprintf(why, why_len, "%s%s%s", what, detail ? ": " : "", detail ? detail : "");
    for (char *p = why; *p; p++)
        if (*p == '\n' || *p == '\r') *p = ' ';
    for (size_t n = strlen(why); n > 0 && why[n - 1] == ' '; n--) why[n - 1] = '\0';
}

bt_err bt_store_pg_open(bt_store **out, const char *address, int durable, char *why, size_t why_len)
{
    /* connect_timeout first: the address may set its own, which wins */
    const char *keys[] = {"connect_timeout", "application_name", "dbname", NULL};
    const char *vals[] = {"10", "bantrail-collect", address, NULL};
    pg_store *s = calloc(1, sizeof *s);
    bt_err err = BT_ERR_STORAGE;
    *out = NULL;
    if (s == NULL) return BT_ERR_NO_MEMORY;
    s->base.ops = &pg_ops;
    s->durable = durable;
    for (int i = 0; i < Q_COUNT_; i++)
        if ((s->sql[i] = translate(bt_store_queries[i], 0)) == NULL) {
            err = BT_ERR_NO_MEMORY;
            goto fail;
        }
    s->conn = PQconnectdbParams(keys, vals, 1);
    if (s->conn == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto fail;
    }
    if (PQstatus(s->conn) != CONNECTION_OK) {
        say(why, why_len, "cannot connect to PostgreSQL", PQerrorMessage(s->conn));
        err = BT_ERR_BUSY;
        goto fail;
    }
    PQsetNoticeProcessor(s->conn, quiet, NULL);
    (void)make_tables(s); /* without the right to create: the owner's tables, or prepare says */
    if (pg_prepare(s) != BT_DB_OK) {
        say(why, why_len, "the collector's tables cannot be used (made by their owner? docs/ADMIN.md)",
            PQerrorMessage(s->conn));
        goto fail;
    }
    *out = &s->base;
    return BT_OK;
fail:
    pg_close(&s->base);
    return err;
}
