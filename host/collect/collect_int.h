/* What only the collector's own files share (include/bantrail/collect.h is
 * its public contract): the store's state, which collect.c opens and writes
 * and collect_report.c reads; the connection guard and the per-address
 * report rate of `serve` (guard.c, rate.c). */
#ifndef BANTRAIL_COLLECT_INT_H
#define BANTRAIL_COLLECT_INT_H

#include <sqlite3.h>

#include "bantrail/collect.h"

struct bt_collect {
    sqlite3 *db;
    sqlite3_stmt *seen_get, *seen_ins, *update, *insert, *owner_get, *owner_ins, *exists, *remove;
    sqlite3_stmt *spent_get, *spent_ins;
    unsigned char pk[crypto_box_PUBLICKEYBYTES];
    unsigned char *sk; /* sodium_malloc, NULL until set */
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
