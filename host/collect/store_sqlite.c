/* The collector's store in an embedded SQLite file (collect_int.h): the
 * default. WAL, secure_delete, a 30 s busy timeout; write transactions are
 * BEGIN IMMEDIATE (one writer at a time, across processes too), so nothing
 * a transaction read changes under it. synchronous=FULL for the receiver. */
#include "collect/collect_int.h"

#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct {
    bt_store base;
    sqlite3 *db;
    sqlite3_stmt *st[Q_COUNT_];
} sq_store;

static bt_db_rc rc_of(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_OK:
    case SQLITE_ROW:
    case SQLITE_DONE: return BT_DB_OK;
    case SQLITE_CONSTRAINT: return BT_DB_RETRY;
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
    case SQLITE_FULL: return BT_DB_DOWN;
    default: return BT_DB_FAIL;
    }
}

static bt_db_rc sq_run(bt_store *base, int q, const bt_arg *args, int nargs, bt_row_fn row, void *ctx,
                       int64_t *changes)
{
    sq_store *s = (sq_store *)base;
    sqlite3_stmt *st = s->st[q];
    bt_cell cols[24];
    int rc;
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
    for (int i = 0; i < nargs; i++) {
        if (args[i].kind == BT_ARG_INT) sqlite3_bind_int64(st, i + 1, args[i].i);
        else if (args[i].kind == BT_ARG_BLOB) sqlite3_bind_blob(st, i + 1, args[i].p, (int)args[i].n, SQLITE_STATIC);
        else sqlite3_bind_text(st, i + 1, args[i].p, -1, SQLITE_STATIC);
    }
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        int n = sqlite3_column_count(st);
        if (n > 24) n = 24;
        for (int i = 0; i < n; i++) {
            /* the type first: reading a blob as text would convert it */
            int type = sqlite3_column_type(st, i);
            cols[i].i = 0;
            cols[i].text = "";
            cols[i].blob_len = 0;
            if (type == SQLITE_BLOB) {
                size_t len = (size_t)sqlite3_column_bytes(st, i);
                cols[i].blob_len = len > BT_CELL_BLOB_MAX ? BT_CELL_BLOB_MAX : len;
                if (len > 0) memcpy(cols[i].blob, sqlite3_column_blob(st, i), cols[i].blob_len);
            } else if (type != SQLITE_NULL) {
                cols[i].i = sqlite3_column_int64(st, i);
                cols[i].text = (const char *)sqlite3_column_text(st, i);
            }
        }
        if (row != NULL && row(ctx, cols, n) != 0) {
            rc = SQLITE_DONE;
            break;
        }
    }
    if (changes != NULL) *changes = sqlite3_changes(s->db);
    sqlite3_reset(st);
    return rc_of(rc);
}

static bt_db_rc sq_exec(sq_store *s, const char *sql)
{
    return rc_of(sqlite3_exec(s->db, sql, NULL, NULL, NULL));
}

static bt_db_rc sq_begin(bt_store *s) { return sq_exec((sq_store *)s, "BEGIN IMMEDIATE"); }
static bt_db_rc sq_begin_read(bt_store *s) { return sq_exec((sq_store *)s, "BEGIN"); }
static bt_db_rc sq_commit(bt_store *s) { return sq_exec((sq_store *)s, "COMMIT"); }
static void sq_rollback(bt_store *s) { sq_exec((sq_store *)s, "ROLLBACK"); }

static void sq_close(bt_store *base)
{
    sq_store *s = (sq_store *)base;
    if (s == NULL) return;
    for (int i = 0; i < Q_COUNT_; i++) sqlite3_finalize(s->st[i]);
    if (s->db != NULL && !sqlite3_get_autocommit(s->db)) sq_exec(s, "ROLLBACK");
    sqlite3_close(s->db);
    free(s);
}

static const bt_store_ops sq_ops = {"sqlite", sq_run, sq_begin, sq_begin_read, sq_commit, sq_rollback, sq_close};

/* A store from before tokens (user_version 2) or schema 2 (3) gains the
 * columns it lacks (bt_store_added_columns), with its reports' values. */
static int migrate(sqlite3 *db)
{
    for (int i = 0; bt_store_added_columns[i] != NULL; i++) {
        const char *def = bt_store_added_columns[i];
        char sql[160];
        sqlite3_stmt *s = NULL;
        snprintf(sql, sizeof sql, "SELECT %.*s FROM reports LIMIT 0", (int)strcspn(def, " "), def);
        int has = sqlite3_prepare_v2(db, sql, -1, &s, NULL) == SQLITE_OK;
        sqlite3_finalize(s);
        snprintf(sql, sizeof sql, "ALTER TABLE reports ADD COLUMN %s", def);
        if (!has && sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK) return -1;
    }
    return sqlite3_exec(db, "PRAGMA user_version=4", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

bt_err bt_store_sqlite_open(bt_store **out, const char *path, int durable)
{
    sq_store *s = calloc(1, sizeof *s);
    int fd;
    *out = NULL;
    if (s == NULL) return BT_ERR_NO_MEMORY;
    s->base.ops = &sq_ops;
    /* Create the file 0600 ourselves: SQLite would follow the umask. */
    fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd < 0) {
        free(s);
        return BT_ERR_STORAGE;
    }
    close(fd);
    if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOFOLLOW, NULL) != SQLITE_OK) goto fail;
    sqlite3_busy_timeout(s->db, 30000);
    /* Receivers started together: switching to WAL takes the file alone and
     * SQLite answers busy at once rather than wait; try for up to 30 s. */
    for (int tries = 0;; tries++) {
        int rc = sqlite3_exec(s->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
        if (rc == SQLITE_OK) break;
        if ((rc & 0xff) != SQLITE_BUSY || tries == 600) goto fail;
        sqlite3_sleep(50);
    }
    if (sqlite3_exec(s->db, "PRAGMA secure_delete=ON; PRAGMA cache_size=-32768;", NULL, NULL, NULL) != SQLITE_OK)
        goto fail;
    for (int i = 0; bt_store_tables[i] != NULL; i++)
        if (sqlite3_exec(s->db, bt_store_tables[i], NULL, NULL, NULL) != SQLITE_OK) goto fail;
    if (migrate(s->db) != 0) goto fail;
    for (int i = 0; bt_store_indexes[i] != NULL; i++)
        if (sqlite3_exec(s->db, bt_store_indexes[i], NULL, NULL, NULL) != SQLITE_OK) goto fail;
    if (sqlite3_exec(s->db, durable ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL", NULL, NULL, NULL) !=
        SQLITE_OK)
        goto fail;
    for (int i = 0; i < Q_COUNT_; i++)
        if (sqlite3_prepare_v3(s->db, bt_store_queries[i], -1, SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK)
            goto fail;
    *out = &s->base;
    return BT_OK;
fail:
    sq_close(&s->base);
    return BT_ERR_STORAGE;
}
