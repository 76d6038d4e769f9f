/* The log's index in memory: see include/bantrail/index.h. */
#include "bantrail/index.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/records.h"
#include "util/json.h"

struct bt_index {
    bt_cases *cases;     /* fed every entry up to last */
    int64_t *pairs;      /* of, entry, of, entry, ...: who names whom, in entry order */
    size_t n, cap;       /* pairs held, and room */
    int64_t unreadable;  /* entries up to last that did not read */
    int64_t last;        /* the last entry fed (0: none) */
    unsigned char last_hash[BT_HASH_BYTES]; /* its chain hash, to know the log is still the one read */
};

bt_index *bt_index_new(void)
{
    return calloc(1, sizeof(bt_index)); /* its cases are made at the first update */
}

/* Wipes and frees what ix holds, leaving it empty. */
static void index_clear(bt_index *ix)
{
    bt_cases_free(ix->cases);
    if (ix->pairs != NULL) sodium_memzero(ix->pairs, 2 * ix->cap * sizeof *ix->pairs);
    free(ix->pairs);
    sodium_memzero(ix, sizeof *ix);
}

void bt_index_free(bt_index *ix)
{
    if (ix == NULL) return;
    index_clear(ix);
    free(ix);
}

int64_t bt_index_last(const bt_index *ix)
{
    return ix->last;
}

/* Keeps the pair (of, id) when head names a record in "of". */
static bt_err link_one(void *ctx, int64_t id, json_object *head)
{
    bt_index *ix = ctx;
    int64_t of = 0;
    if (!bt_json_int(head, "of", &of) || of < 0) return BT_OK;
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? 2 * ix->cap : 256;
        int64_t *more = malloc(2 * cap * sizeof *more);
        if (more == NULL) return BT_ERR_NO_MEMORY;
        if (ix->pairs != NULL) {
            memcpy(more, ix->pairs, 2 * ix->n * sizeof *more);
            sodium_memzero(ix->pairs, 2 * ix->cap * sizeof *ix->pairs);
        }
        free(ix->pairs);
        ix->pairs = more;
        ix->cap = cap;
    }
    ix->pairs[2 * ix->n] = of;
    ix->pairs[2 * ix->n + 1] = id;
    ix->n++;
    return BT_OK;
}

bt_err bt_index_update(bt_index *ix, bt_vault *v, int64_t max, int64_t *read)
{
    unsigned char hash[BT_HASH_BYTES];
    bt_err err = BT_OK;
    if (read != NULL) *read = 0;
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) { /* locked elsewhere (a new passphrase): forget it all */
        index_clear(ix);
        return BT_ERR_LOCKED;
    }
    /* the entry read last is still there, the same: only what follows it is new */
    if (ix->last > 0 && (bt_vault_entry_hash(v, ix->last, hash) != BT_OK ||
                         sodium_memcmp(hash, ix->last_hash, sizeof hash) != 0)) {
        index_clear(ix);
    }
    if (ix->cases == NULL && (err = bt_cases_new(&ix->cases)) != BT_OK) return err;
    int64_t from = ix->last;
    err = bt_cases_feed(ix->cases, v, max > 0 ? from + max : 0, &ix->unreadable, link_one, ix);
    ix->last = bt_cases_last(ix->cases);
    if (ix->last > 0 && bt_vault_entry_hash(v, ix->last, ix->last_hash) != BT_OK)
        ix->last_hash[0] ^= 1; /* unknown: the next update finds it changed and reads everything again */
    if (err == BT_ERR_NO_MEMORY) { /* an entry half fed: read everything again next time */
        index_clear(ix);
        return err;
    }
    if (read != NULL) *read = ix->last - from;
    return err;
}

bt_err bt_index_related(bt_index *ix, bt_vault *v, int64_t id,
                        int (*fn)(void *ctx, int64_t entry, json_object *head), void *ctx)
{
    bt_err err = bt_index_update(ix, v, 0, NULL);
    if (err != BT_OK) return err;
    for (size_t i = 0; i < ix->n; i++) {
        if (ix->pairs[2 * i] != id) continue;
        json_object *head = NULL;
        int stop = 0;
        if (bt_record_read(v, ix->pairs[2 * i + 1], &head) == BT_OK) stop = fn(ctx, ix->pairs[2 * i + 1], head);
        json_object_put(head);
        if (stop) break;
    }
    return BT_OK;
}

bt_err bt_index_cases(bt_index *ix, bt_vault *v, int64_t now, const bt_cases **out, int64_t *unreadable)
{
    bt_err err = bt_index_update(ix, v, 0, NULL);
    *out = NULL;
    if (err == BT_OK) err = bt_cases_finish(ix->cases, now);
    if (err != BT_OK) return err;
    if (unreadable != NULL) *unreadable = ix->unreadable;
    *out = ix->cases;
    return BT_OK;
}
