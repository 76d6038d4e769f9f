/* What only the collector's own files share (include/bantrail/collect.h is
 * its public contract): the storage interface and its two implementations
 * (store_sqlite.c, store_pg.c), the collector's state, which collect.c
 * writes and collect_report.c reads; the connection guard and the
 * per-address report rate of `serve` (guard.c, rate.c). */
#ifndef BANTRAIL_COLLECT_INT_H
#define BANTRAIL_COLLECT_INT_H

#include "bantrail/collect.h"

/* ---- the store (store_sqlite.c, store_pg.c) ----
 * One interface, two implementations: the embedded SQLite file (the
 * default) and PostgreSQL through libpq (a postgresql:// address). The
 * statements are written once (collect.c's `queries`), with ? or ?N
 * placeholders that PostgreSQL's side turns into $N; each side prepares
 * them all when it opens. Values cross as bt_arg (in) and bt_cell (out). */
typedef struct bt_store bt_store;

typedef enum { BT_ARG_INT, BT_ARG_BLOB, BT_ARG_TEXT } bt_arg_kind;
typedef struct {
    bt_arg_kind kind;
    int64_t i;
    const void *p; /* blob or NUL-terminated text */
    size_t n;      /* blob length */
} bt_arg;
#define ARG_INT(x) ((bt_arg){BT_ARG_INT, (int64_t)(x), NULL, 0})
#define ARG_BLOB(b, len) ((bt_arg){BT_ARG_BLOB, 0, (b), (len)})
#define ARG_TEXT(t) ((bt_arg){BT_ARG_TEXT, 0, (t), 0})

#define BT_CELL_BLOB_MAX 64
typedef struct {
    int64_t i;                               /* an integer column (0 for NULL) */
    const char *text;                        /* its text (valid during the callback) */
    unsigned char blob[BT_CELL_BLOB_MAX];    /* a blob column up to 64 bytes */
    size_t blob_len;                         /* its length; longer blobs are cut (never expected) */
} bt_cell;

/* Called for each row of a query; returns 0 to go on, else stops. */
typedef int (*bt_row_fn)(void *ctx, const bt_cell *cols, int ncols);

/* What a store operation ends with. */
typedef enum {
    BT_DB_OK = 0,
    BT_DB_RETRY, /* a conflict with another writer (unique key taken, serialization): do the transaction again */
    BT_DB_DOWN,  /* the database cannot be reached or is full: try later (503) */
    BT_DB_FAIL   /* anything else */
} bt_db_rc;

/* The tallies (collect.c): what the figures count, kept by the database in
 * the transaction of each report. Each part is one GROUP BY of the counted
 * reports, its keys k1..k6: */
enum {
    TALLY_APPEALS = 1, /* platform, kind, offered, submitted, outcome, delay */
    TALLY_WEEKS,       /* week, duration */
    TALLY_STATED,      /* category, keywords 1-64, keywords 65-128, schema (0: 1, 1: 2) */
    TALLY_CONTEXT,     /* account_type, paid, country */
    TALLY_WEEKLY       /* week, platform, kind: the weekly open data */
};
#define TALLY_SHARDS 16 /* rows each part is spread over, so that receivers seldom meet on one */

/* The statements, by number (collect.c's queries[] in the same order). */
enum {
    Q_SEEN_GET, Q_SEEN_INS, Q_SPENT_GET, Q_SPENT_INS, Q_UPDATE, Q_INSERT, Q_OWNER_GET, Q_OWNER_INS,
    Q_EXISTS, Q_ROW_GET, Q_REMOVE, Q_COUNT, Q_INVITE_INS, Q_INVITE_GET, Q_INVITE_TAKE,
    Q_TALLY, Q_TALLY_ANY, Q_COUNTED_ANY, Q_RETALLY, Q_FIG_UNCOUNTED, Q_FIG_TALLIES,
    Q_EXPORT_WEEKLY, Q_EXPORT_APPEALS, Q_COUNT_
};
extern const char *const bt_store_queries[Q_COUNT_];
/* The tables, then the indexes (made after SQLite's migration), each list
 * ending in NULL, written once in SQLite's words: store_pg.c translates
 * BLOB, INTEGER and WITHOUT ROWID. */
extern const char *const bt_store_tables[];
extern const char *const bt_store_indexes[];
/* The columns of reports a store from before them gains ("name TYPE ..."),
 * ending in NULL: SQLite adds each it lacks, PostgreSQL ADD COLUMN IF NOT
 * EXISTS; both before the indexes. */
extern const char *const bt_store_added_columns[];

typedef struct {
    const char *name; /* "sqlite" or "postgresql" */
    /* Runs query q with its arguments; row (may be NULL) sees each row;
     * *changes (may be NULL) gets the rows an INSERT/UPDATE/DELETE changed. */
    bt_db_rc (*run)(bt_store *s, int q, const bt_arg *args, int nargs, bt_row_fn row, void *ctx, int64_t *changes);
    bt_db_rc (*begin)(bt_store *s);    /* a write transaction, serializable */
    bt_db_rc (*begin_read)(bt_store *s); /* one snapshot for several reads; ended by rollback */
    bt_db_rc (*commit)(bt_store *s);
    void (*rollback)(bt_store *s);
    void (*close)(bt_store *s);
} bt_store_ops;

struct bt_store {
    const bt_store_ops *ops;
};

/* Opens the SQLite file at path (created 0600) / the PostgreSQL database of
 * a postgresql:// (or postgres://) address, creating the tables when they
 * are missing. *why (may be NULL) gets a static reason, or for PostgreSQL
 * libpq's message in why_buf. */
bt_err bt_store_sqlite_open(bt_store **out, const char *path, int durable);
bt_err bt_store_pg_open(bt_store **out, const char *address, int durable, char *why_buf, size_t why_len);

struct bt_collect {
    bt_store *db;
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    unsigned char *sk; /* sodium_malloc, NULL until set */
    unsigned char prev_pk[crypto_box_PUBLICKEYBYTES];
    unsigned char *prev_sk; /* the key before a rotation (sodium_malloc), or NULL */
    unsigned difficulty;
    int in_batch;
    bt_tokens_policy tokens;                        /* BT_TOKENS_OFF until bt_collect_set_tokens */
    unsigned char *token_k;                         /* sodium_malloc, NULL when tokens are off */
    unsigned char token_pub[BT_TOKEN_POINT_BYTES];
};

/* ---- the connection guard (guard.c) ----
 * A fixed table of slots, one per open connection, each with a deadline from
 * the moment it was accepted. Thread-safe: libmicrohttpd's thread opens and
 * closes slots, serve's main thread expires them. */
typedef struct bt_guard bt_guard;
typedef struct bt_guard_slot bt_guard_slot;

/* A guard of `slots` slots whose connections live at most lifetime seconds. */
bt_guard *bt_guard_new(unsigned slots, unsigned lifetime);
void bt_guard_free(bt_guard *g);

/* Tracks the connection on socket fd (duplicated: the guard never touches a
 * descriptor it does not own). NULL when every slot is taken or dup fails:
 * the connection then has only libmicrohttpd's idle timeout. */
bt_guard_slot *bt_guard_open(bt_guard *g, int fd);

/* The connection of s was closed (s may be NULL). */
void bt_guard_close(bt_guard *g, bt_guard_slot *s);

/* Connections tracked now. */
unsigned bt_guard_open_count(bt_guard *g);

/* Shuts down (both directions) each socket past its deadline at time now
 * (bt_guard_now's clock), once; returns how many. */
unsigned bt_guard_expire(bt_guard *g, double now);

/* CLOCK_MONOTONIC in seconds. */
double bt_guard_now(void);

/* ---- the per-address report rate (rate.c) ----
 * A token bucket per address: burst reports at once, then per_minute. Not
 * thread-safe: serve uses it from libmicrohttpd's one thread. */
typedef struct bt_rate bt_rate;
struct sockaddr;

/* A table of about `slots` buckets (a power of two, at least 64). */
bt_rate *bt_rate_new(unsigned slots, double per_minute, double burst);
void bt_rate_free(bt_rate *r);

/* The tag standing for sa's address (IPv6: its /64) in this table: a keyed
 * hash, never the address. Never 0. */
uint64_t bt_rate_tag(const bt_rate *r, const struct sockaddr *sa);

/* Takes one report's token from tag's bucket at time now (seconds, any
 * monotonic clock): 0 when there was one, else the seconds until there is. */
double bt_rate_take(bt_rate *r, uint64_t tag, double now);

/* Returns the token of a report that was not accepted after all. */
void bt_rate_give_back(bt_rate *r, uint64_t tag, double now);

#endif
