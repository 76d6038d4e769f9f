/* The log's index in memory, and its encrypted snapshot: see
 * include/bantrail/index.h. */
#include "bantrail/index.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bantrail/records.h"
#include "util/json.h"

/* The snapshot's parts (bt_vault_index_save), native byte order (the files
 * never leave this computer; the magic tells another order):
 *   0: magic, version, last, its chain hash, unreadable, count, pairs,
 *      token, segments, end, then the pairs (what get needs: small, read at
 *      once, written whole at each save)
 *   1: segments (read when needed; a save appends one with the entries
 *      after the last save's, or writes the file anew with one of them all),
 *      each: magic, version, after, its chain hash, last, its chain hash,
 *      count, text length, then ids, briefs, offs (from 0) and the
 *      summaries' text of the entries (after, last]
 * token: 16 random bytes drawn when part 1 is written anew, so that parts
 * of two saves are never taken together; segments and end: how many part 1
 * holds and where they end. The segments follow one another by their chain
 * hashes, up to part 0's last. A change of bt_case_brief, of the summary or
 * of this layout raises SNAP_VERSION. */
#define SNAP_MAGIC 0x58495442u /* "BTIX" */
#define SNAP_VERSION 2u
#define TOKEN_BYTES BT_VAULT_INDEX_TOKEN
#define HEAD0 (8 + 8 + BT_HASH_BYTES + 8 + 8 + 8 + TOKEN_BYTES + 8 + 8)
#define HEADS (8 + 8 + BT_HASH_BYTES + 8 + BT_HASH_BYTES + 8 + 8)
/* The cases' part (bt_vault_index_cases_save): magic, version, last, its
 * chain hash, unreadable, then the cases as bt_cases_pack gives them,
 * derived from the entries up to last. A change of bt_case or of this
 * layout raises CASES_VERSION. */
#define CASES_MAGIC 0x43495442u /* "BTIC" */
#define CASES_VERSION 1u
#define CASES_HEAD (8 + 8 + BT_HASH_BYTES + 8)

struct bt_index {
    bt_cases *cases;     /* fed the briefs of ids[0 .. fed) */
    size_t fed;
    int64_t *pairs;      /* of, entry, of, entry, ...: who names whom, in entry order */
    size_t n, cap;       /* pairs held, and room */
    int64_t *ids;        /* the entries held, in id order */
    bt_case_brief *briefs; /* what the cases use of each */
    size_t *offs;        /* entry ids[i]'s summary is text[offs[i] .. offs[i + 1]) ("": it did not read) */
    size_t count, ids_cap;
    char *text;          /* the summaries (bt_record_summary), as JSON */
    size_t text_n, text_cap;
    int64_t unreadable;  /* entries up to last that did not read */
    int64_t decrypted;   /* entries this index read from the log (not cleared) */
    int64_t last;        /* the last entry held (0: none) */
    unsigned char last_hash[BT_HASH_BYTES]; /* its chain hash, to know the log is still the one read */
    int64_t saved;       /* the last entry the snapshot on disk covers, as far as this index knows */
    unsigned char saved_hash[BT_HASH_BYTES]; /* its chain hash */
    uint64_t seg_count;  /* part 1 on disk: its segments, and where they end (0: no file this index knows) */
    uint64_t seg_end;
    int snapshot_tried;  /* the snapshot was read (or found missing) once: never again */
    int part1_due;       /* part 0 taken: ids, briefs and summaries still to take from part 1, before
                          * those of the entries read since (ids[0 .. count) until then) */
    uint64_t part1_count; /* the entries part 1 holds */
    unsigned char token[TOKEN_BYTES];
    int64_t cases_saved; /* the last entry of the cases on disk, as far as this index knows (0: unknown) */
    unsigned char cases_saved_hash[BT_HASH_BYTES];
    bt_cases *listed;    /* the cases taken from disk for a list (bt_index_case_list), or NULL */
    unsigned char *listed_m; /* what they were taken from, opened (sodium_malloc), for the next page */
    size_t listed_n;
};

bt_index *bt_index_new(void)
{
    return calloc(1, sizeof(bt_index)); /* its cases are made at the first update */
}

static void wipe_free(void *p, size_t n)
{
    if (p != NULL) sodium_memzero(p, n);
    free(p);
}

/* Wipes and frees what ix holds, leaving it empty (but knowing the
 * snapshot was tried). */
static void index_clear(bt_index *ix)
{
    int tried = ix->snapshot_tried;
    int64_t decrypted = ix->decrypted;
    bt_cases_free(ix->cases);
    bt_cases_free(ix->listed);
    bt_vault_free(ix->listed_m);
    wipe_free(ix->pairs, 2 * ix->cap * sizeof *ix->pairs);
    wipe_free(ix->ids, ix->ids_cap * sizeof *ix->ids);
    wipe_free(ix->briefs, ix->ids_cap * sizeof *ix->briefs);
    wipe_free(ix->offs, (ix->ids_cap + 1) * sizeof *ix->offs);
    wipe_free(ix->text, ix->text_cap);
    sodium_memzero(ix, sizeof *ix);
    ix->snapshot_tried = tried;
    ix->decrypted = decrypted;
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

int64_t bt_index_decrypted(const bt_index *ix)
{
    return ix->decrypted;
}

/* Grows *p (*cap items of sz bytes, plus extra) to room for need items,
 * wiping what it leaves. */
static int grow(void **p, size_t *cap, size_t need, size_t sz, size_t extra)
{
    if (need <= *cap && *p != NULL) return 0;
    size_t cap2 = *cap ? *cap : 256;
    while (cap2 < need) cap2 *= 2;
    void *more = malloc((cap2 + extra) * sz);
    if (more == NULL) return -1;
    if (*p != NULL) {
        memcpy(more, *p, (*cap + extra) * sz);
        sodium_memzero(*p, (*cap + extra) * sz);
    }
    free(*p);
    *p = more;
    *cap = cap2;
    return 0;
}

/* Room for need entries (ids, briefs, offs) and text_need bytes of text. */
static bt_err room(bt_index *ix, size_t need, size_t text_need)
{
    if (need > ix->ids_cap || ix->ids == NULL) {
        void *ids = ix->ids, *briefs = ix->briefs, *offs = ix->offs;
        size_t c1 = ix->ids_cap, c2 = ix->ids_cap, c3 = ix->ids_cap;
        int bad = grow(&ids, &c1, need, sizeof *ix->ids, 0);
        ix->ids = ids;
        bad = bad || grow(&briefs, &c2, need, sizeof *ix->briefs, 0);
        ix->briefs = briefs;
        bad = bad || grow(&offs, &c3, need, sizeof *ix->offs, 1);
        ix->offs = offs;
        if (bad) return BT_ERR_NO_MEMORY; /* the caller clears ix */
        ix->ids_cap = c1;
    }
    void *t = ix->text;
    size_t ct = ix->text_cap;
    if (grow(&t, &ct, text_need > 0 ? text_need : 1, 1, 0) != 0) return BT_ERR_NO_MEMORY;
    ix->text = t;
    ix->text_cap = ct;
    return BT_OK;
}

/* Keeps the pair (of, id). */
static bt_err pair_add(bt_index *ix, int64_t of, int64_t id)
{
    if (ix->n == ix->cap || ix->pairs == NULL) {
        size_t cap = ix->cap;
        void *p = ix->pairs;
        if (grow(&p, &cap, ix->n + 1, 2 * sizeof *ix->pairs, 0) != 0) return BT_ERR_NO_MEMORY;
        ix->pairs = p;
        ix->cap = cap;
    }
    ix->pairs[2 * ix->n] = of;
    ix->pairs[2 * ix->n + 1] = id;
    ix->n++;
    return BT_OK;
}

/* ---- the snapshot ---- */

static void put(unsigned char **p, const void *x, size_t n)
{
    if (n > 0) memcpy(*p, x, n);
    *p += n;
}

static void take(const unsigned char **p, void *x, size_t n)
{
    if (n > 0) memcpy(x, *p, n);
    *p += n;
}

int64_t bt_index_unsaved(const bt_index *ix)
{
    return ix->last > ix->saved ? ix->last - ix->saved : 0;
}

static bt_err part1_load(bt_index *ix, bt_vault *v);

/* The first of the entries held that is after id. */
static size_t held_after(const bt_index *ix, int64_t id)
{
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->ids[mid] <= id) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* How many of the pairs held are of entries up to last (they are in entry
 * order). */
static size_t pairs_through(const bt_index *ix, int64_t last)
{
    size_t lo = 0, hi = ix->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->pairs[2 * mid + 1] <= last) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

/* Writes into m (room for it) the segment of the entries held from index
 * from to index to (not included), which follow entry after (chain hash
 * after_hash), the last of them with chain hash last_hash. */
static void segment_put(const bt_index *ix, unsigned char *m, size_t from, size_t to, int64_t after,
                        const unsigned char *after_hash, const unsigned char *last_hash)
{
    uint32_t magic = SNAP_MAGIC, version = SNAP_VERSION;
    uint64_t count = to - from, base = ix->offs[from], text_n = ix->offs[to] - base;
    unsigned char *p = m;
    put(&p, &magic, 4);
    put(&p, &version, 4);
    put(&p, &after, 8);
    put(&p, after_hash, BT_HASH_BYTES);
    put(&p, &ix->ids[to - 1], 8);
    put(&p, last_hash, BT_HASH_BYTES);
    put(&p, &count, 8);
    put(&p, &text_n, 8);
    put(&p, ix->ids + from, count * sizeof *ix->ids);
    put(&p, ix->briefs + from, count * sizeof *ix->briefs);
    for (size_t i = from; i <= to; i++) {
        uint64_t o = ix->offs[i] - base;
        put(&p, &o, sizeof o);
    }
    put(&p, ix->text + base, text_n);
}

static void check_last(bt_index *ix, bt_vault *v);

static bt_err parts_save(bt_index *ix, bt_vault *v, int64_t max)
{
    static const unsigned char no_hash[BT_HASH_BYTES];
    bt_err err = BT_OK;
    /* the entries after the last save go at the end of its part 1, if this index knows where that is */
    int append = ix->seg_end > 0 && ix->saved > 0;
    for (;;) {
        if (bt_index_unsaved(ix) <= 0) return BT_OK;
        if (!append && ix->part1_due && ((err = part1_load(ix, v)) != BT_OK || ix->last == 0))
            return err; /* written anew, it holds every entry: part 1's first (set aside if it was not good) */
        size_t from = append ? held_after(ix, ix->saved) : 0, to = ix->count;
        if (from == to) { /* nothing held to write (not met: an entry read is held) */
            if (!append) return BT_OK;
            append = 0;
            continue;
        }
        /* only max of them (not while part 1 waits: those held then are few), up to an entry whose
         * chain hash the log gives, once it still has the last one read with the hash read: the
         * entries up to it are then the ones read */
        unsigned char hash[BT_HASH_BYTES];
        memcpy(hash, ix->last_hash, sizeof hash);
        if (max > 0 && !ix->part1_due && to - from > (uint64_t)max) {
            to = from + (size_t)max;
            check_last(ix, v);
            if (ix->last == 0) return BT_OK; /* the log is not the one read: nothing of it is saved */
            if ((err = bt_vault_entry_hash(v, ix->ids[to - 1], hash)) != BT_OK) return err;
        }
        int64_t last = ix->ids[to - 1], unreadable = ix->unreadable;
        uint64_t pairs = ix->n;
        if (to < ix->count) { /* what part 0 says is of the entries up to last only */
            unreadable = 0;
            for (size_t i = 0; i < to; i++) unreadable += ix->offs[i + 1] == ix->offs[i];
            pairs = pairs_through(ix, last);
        }
        uint64_t total = append && ix->part1_due ? ix->part1_count + (to - from) : to;
        uint64_t segs = append ? ix->seg_count + 1 : 1;
        size_t n1 = HEADS + (to - from) * (sizeof *ix->ids + sizeof *ix->briefs) + (to - from + 1) * sizeof *ix->offs +
                    (ix->offs[to] - ix->offs[from]);
        size_t n0 = HEAD0 + 2 * pairs * sizeof *ix->pairs;
        uint64_t end = (append ? ix->seg_end : TOKEN_BYTES) + BT_VAULT_INDEX_SEGMENT(n1), got = 0;
        unsigned char *m = sodium_malloc(n1 + n0), *p = m + n1;
        if (m == NULL) return BT_ERR_NO_MEMORY;
        if (!append) randombytes_buf(ix->token, sizeof ix->token);
        segment_put(ix, m, from, to, append ? ix->saved : 0, append ? ix->saved_hash : no_hash, hash);
        uint32_t magic = SNAP_MAGIC, version = SNAP_VERSION;
        put(&p, &magic, 4);
        put(&p, &version, 4);
        put(&p, &last, 8);
        put(&p, hash, BT_HASH_BYTES);
        put(&p, &unreadable, 8);
        put(&p, &total, 8);
        put(&p, &pairs, 8);
        put(&p, ix->token, TOKEN_BYTES);
        put(&p, &segs, 8);
        put(&p, &end, 8);
        put(&p, ix->pairs, 2 * pairs * sizeof *ix->pairs);
        err = bt_vault_index_save(v, ix->token, segs - 1, append ? ix->seg_end : 0, m, n1, m + n1, n0, &got);
        sodium_free(m);
        if (err == BT_ERR_NOT_FOUND && append) { /* written by another process since: anew */
            append = 0;
            continue;
        }
        if (err != BT_OK || got != end) {
            ix->seg_end = 0; /* not known any more */
            return err != BT_OK ? err : BT_ERR_INTERNAL;
        }
        ix->saved = last;
        memcpy(ix->saved_hash, hash, sizeof ix->saved_hash);
        ix->seg_count = segs;
        ix->seg_end = end;
        if (ix->part1_due) { /* the entries held are in part 1 now: taken from there with the rest */
            ix->part1_count = total;
            ix->count = 0;
            ix->text_n = 0;
        }
        return BT_OK;
    }
}

/* Writes the cases, derived from every entry ix holds, beside the snapshot
 * when those on disk are not of the same last entry as far as ix knows;
 * only when ix's cases are fed every entry it holds (not while part 1
 * waits: their making would cost what the list saves). */
static bt_err cases_save(bt_index *ix, bt_vault *v)
{
    unsigned char *packed = NULL, *m = NULL;
    size_t n = 0;
    bt_err err;
    if (ix->cases == NULL || ix->part1_due || ix->count == 0 || ix->fed != ix->count || ix->last != ix->ids[ix->count - 1])
        return BT_OK;
    if (ix->cases_saved == ix->last && sodium_memcmp(ix->cases_saved_hash, ix->last_hash, BT_HASH_BYTES) == 0)
        return BT_OK;
    if ((err = bt_cases_finish(ix->cases, (int64_t)time(NULL))) != BT_OK ||
        (err = bt_cases_pack(ix->cases, &packed, &n)) != BT_OK)
        return err;
    if ((m = sodium_malloc(CASES_HEAD + n)) == NULL) {
        err = BT_ERR_NO_MEMORY;
    } else {
        unsigned char *p = m;
        uint32_t magic = CASES_MAGIC, version = CASES_VERSION;
        put(&p, &magic, 4);
        put(&p, &version, 4);
        put(&p, &ix->last, 8);
        put(&p, ix->last_hash, BT_HASH_BYTES);
        put(&p, &ix->unreadable, 8);
        put(&p, packed, n);
        err = bt_vault_index_cases_save(v, m, CASES_HEAD + n);
        sodium_free(m);
    }
    wipe_free(packed, n);
    if (err == BT_OK) {
        ix->cases_saved = ix->last;
        memcpy(ix->cases_saved_hash, ix->last_hash, BT_HASH_BYTES);
    }
    return err;
}

bt_err bt_index_save(bt_index *ix, bt_vault *v, int64_t max)
{
    bt_err err = parts_save(ix, v, max);
    if (err == BT_OK && bt_index_unsaved(ix) == 0) err = cases_save(ix, v);
    return err;
}

/* Takes part 0 of the snapshot into an empty ix when it opens and holds
 * together (whether it still describes the log is the caller's check: the
 * chain hash at last). Anything else leaves ix empty. */
static void part0_load(bt_index *ix, bt_vault *v)
{
    unsigned char *m = NULL;
    size_t n = 0;
    ix->snapshot_tried = 1;
    if (bt_vault_index_load(v, &m, &n) != BT_OK) return;
    const unsigned char *p = m;
    uint32_t magic = 0, version = 0;
    uint64_t count = 0, pairs = 0;
    int ok = n >= HEAD0;
    if (ok) {
        take(&p, &magic, 4);
        take(&p, &version, 4);
        take(&p, &ix->last, 8);
        take(&p, ix->last_hash, BT_HASH_BYTES);
        take(&p, &ix->unreadable, 8);
        take(&p, &count, 8);
        take(&p, &pairs, 8);
        take(&p, ix->token, TOKEN_BYTES);
        take(&p, &ix->seg_count, 8);
        take(&p, &ix->seg_end, 8);
        ok = magic == SNAP_MAGIC && version == SNAP_VERSION && ix->last > 0 && ix->unreadable >= 0 && count > 0 &&
             count <= (uint64_t)ix->last + 1 && pairs <= count && n - HEAD0 == pairs * 2 * sizeof *ix->pairs &&
             ix->seg_count > 0 && ix->seg_count <= count && ix->seg_end > TOKEN_BYTES;
    }
    if (ok && pairs > 0) {
        void *q = NULL;
        size_t cap = 0;
        ok = grow(&q, &cap, pairs, 2 * sizeof *ix->pairs, 0) == 0;
        if (ok) {
            ix->pairs = q;
            ix->cap = cap;
            take(&p, ix->pairs, pairs * 2 * sizeof *ix->pairs);
            ix->n = pairs;
        }
        for (size_t i = 0; ok && i < pairs; i++) /* pairs name entries held, once each, in order */
            ok = ix->pairs[2 * i] >= 0 && ix->pairs[2 * i + 1] > 0 && ix->pairs[2 * i + 1] <= ix->last &&
                 (i == 0 || ix->pairs[2 * i + 1] > ix->pairs[2 * i - 1]);
    }
    if (ok) {
        ix->saved = ix->last;
        memcpy(ix->saved_hash, ix->last_hash, sizeof ix->saved_hash);
        ix->part1_due = 1;
        ix->part1_count = count;
    } else {
        index_clear(ix);
    }
    bt_vault_free(m);
}

typedef struct {
    bt_index *ix;
    int64_t after; /* the last entry taken, and its chain hash */
    unsigned char hash[BT_HASH_BYTES];
} seg_ctx;

/* Takes one segment of part 1 after those taken: 0, or 1 when it does not
 * follow them or does not hold together. */
static int take_segment(void *ctx, const unsigned char *m, size_t n)
{
    seg_ctx *sc = ctx;
    bt_index *ix = sc->ix;
    const unsigned char *p = m;
    uint32_t magic = 0, version = 0;
    uint64_t count = 0, text_n = 0;
    int64_t after = 0, last = 0;
    unsigned char after_hash[BT_HASH_BYTES], last_hash[BT_HASH_BYTES];
    size_t per = sizeof *ix->ids + sizeof *ix->briefs + sizeof *ix->offs, c0 = ix->count, t0 = ix->text_n;
    if (n < HEADS) return 1;
    take(&p, &magic, 4);
    take(&p, &version, 4);
    take(&p, &after, 8);
    take(&p, after_hash, BT_HASH_BYTES);
    take(&p, &last, 8);
    take(&p, last_hash, BT_HASH_BYTES);
    take(&p, &count, 8);
    take(&p, &text_n, 8);
    size_t left = n - HEADS;
    if (magic != SNAP_MAGIC || version != SNAP_VERSION || after != sc->after ||
        sodium_memcmp(after_hash, sc->hash, sizeof after_hash) != 0 || last <= after || count == 0 ||
        count > left / per || left != count * per + sizeof *ix->offs + text_n ||
        room(ix, c0 + count, t0 + text_n) != BT_OK)
        return 1;
    take(&p, ix->ids + c0, count * sizeof *ix->ids);
    take(&p, ix->briefs + c0, count * sizeof *ix->briefs);
    int ok = ix->ids[c0 + count - 1] == last;
    for (size_t i = 0; ok && i <= count; i++) { /* summaries within the text, in order */
        uint64_t o = 0;
        take(&p, &o, sizeof o);
        ok = i == 0 ? o == 0 : o >= ix->offs[c0 + i - 1] - t0 && o <= text_n && (i < count || o == text_n);
        ix->offs[c0 + i] = t0 + (size_t)o;
    }
    for (size_t i = 0; ok && i < count; i++) /* ids rising after after */
        ok = ix->ids[c0 + i] > (i == 0 ? after : ix->ids[c0 + i - 1]) &&
             ix->briefs[c0 + i].what >= BT_BRIEF_NONE && ix->briefs[c0 + i].what <= BT_BRIEF_SPLIT;
    if (!ok) return 1;
    take(&p, ix->text + t0, text_n);
    ix->count = c0 + count;
    ix->text_n = t0 + text_n;
    sc->after = last;
    memcpy(sc->hash, last_hash, sizeof sc->hash);
    return 0;
}

/* Takes part 1 (ids, briefs, summaries) when part 0 was taken, before the
 * entries read since; a part 1 that is not of the same save, does not open
 * or does not hold together leaves ix empty, to be built again from the log. */
static bt_err part1_load(bt_index *ix, bt_vault *v)
{
    if (!ix->part1_due) return BT_OK;
    ix->part1_due = 0;
    /* the entries read since part 0, set aside to go after it */
    size_t held = ix->count, held_text = ix->text_n;
    int64_t *hid = NULL;
    bt_case_brief *hbr = NULL;
    size_t *hoff = NULL;
    char *htext = NULL;
    bt_err err = BT_OK;
    if (held > 0) {
        hid = malloc(held * sizeof *hid);
        hbr = malloc(held * sizeof *hbr);
        hoff = malloc((held + 1) * sizeof *hoff);
        htext = malloc(held_text + 1);
        if (hid == NULL || hbr == NULL || hoff == NULL || htext == NULL) err = BT_ERR_NO_MEMORY;
        else {
            memcpy(hid, ix->ids, held * sizeof *hid);
            memcpy(hbr, ix->briefs, held * sizeof *hbr);
            memcpy(hoff, ix->offs, (held + 1) * sizeof *hoff);
            memcpy(htext, ix->text, held_text);
        }
    }
    ix->count = 0;
    ix->text_n = 0;
    seg_ctx sc = {ix, 0, {0}};
    uint64_t end = 0;
    bt_err got = err == BT_OK ? bt_vault_index_segments(v, ix->token, ix->seg_count, take_segment, &sc, &end) : err;
    int ok = got == BT_OK && end == ix->seg_end && sc.after == ix->saved &&
             sodium_memcmp(sc.hash, ix->saved_hash, sizeof sc.hash) == 0 && ix->count == ix->part1_count &&
             room(ix, ix->count + held, ix->text_n + held_text) == BT_OK;
    if (ok && held > 0) {
        memcpy(ix->ids + ix->count, hid, held * sizeof *hid);
        memcpy(ix->briefs + ix->count, hbr, held * sizeof *hbr);
        memcpy(ix->text + ix->text_n, htext, held_text);
        for (size_t i = 0; i <= held; i++) ix->offs[ix->count + i] = ix->text_n + hoff[i];
        ix->count += held;
        ix->text_n += held_text;
    }
    if (ok && ix->count == 0) ix->offs[0] = 0;
    if (!ok) index_clear(ix);
    wipe_free(hid, held * sizeof *hid);
    wipe_free(hbr, held * sizeof *hbr);
    wipe_free(hoff, (held + 1) * sizeof *hoff);
    wipe_free(htext, held_text + 1);
    return got == BT_ERR_NO_MEMORY || got == BT_ERR_LOCKED ? got : BT_OK;
}

/* ---- bringing it up to date ---- */

/* Feeds the cases the briefs held and not fed yet, up to max of them
 * (0: all); *done counts them. */
static bt_err feed_held(bt_index *ix, int64_t max, int64_t *done)
{
    bt_err err;
    if (ix->cases == NULL && (err = bt_cases_new(&ix->cases)) != BT_OK) return err;
    while (ix->fed < ix->count && (max <= 0 || *done < max)) {
        size_t i = ix->fed;
        int readable = ix->offs[i + 1] > ix->offs[i];
        if ((err = bt_cases_add_brief(ix->cases, ix->ids[i], readable ? &ix->briefs[i] : NULL)) != BT_OK) return err;
        ix->fed++;
        (*done)++;
    }
    return BT_OK;
}

typedef struct {
    bt_index *ix;
    bt_err err;
    int64_t read;
    int (*fn)(void *ctx, int64_t id, json_object *head); /* told of each entry read, or NULL */
    void *fn_ctx;
} read_ctx;

/* Holds one entry read from the log: its brief, its summary, the pair it
 * makes; feeds it to the cases when they have every entry before it. */
static int read_one(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *text, size_t n)
{
    read_ctx *r = ctx;
    bt_index *ix = r->ix;
    json_object *head = NULL, *sum = NULL;
    const char *s = "";
    size_t len = 0, i = ix->count;
    int64_t of = 0;
    int feed = !ix->part1_due && ix->fed == ix->count && ix->cases != NULL;
    /* the notice's text, most of a header, is checked but not parsed: nothing here uses it */
    if (err == BT_OK && (err = bt_record_parse_lean(text, n, &head)) == BT_ERR_NO_MEMORY) goto fail;
    if (head != NULL && json_object_is_type(head, json_type_object)) {
        if ((sum = bt_record_summary(head)) == NULL ||
            (s = json_object_to_json_string_length(sum, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE,
                                                   &len)) == NULL) {
            err = BT_ERR_NO_MEMORY;
            goto fail;
        }
    }
    if (sum == NULL) ix->unreadable++;
    if ((err = room(ix, i + 1, ix->text_n + len)) != BT_OK) goto fail;
    ix->ids[i] = e->id;
    bt_cases_brief(sum != NULL ? head : NULL, &ix->briefs[i]);
    if (i == 0) ix->offs[0] = 0;
    memcpy(ix->text + ix->text_n, s, len);
    ix->text_n += len;
    ix->offs[i + 1] = ix->text_n;
    ix->count++;
    if (sum != NULL && bt_json_int(head, "of", &of) && of >= 0 && (err = pair_add(ix, of, e->id)) != BT_OK) goto fail;
    if (feed) { /* the cases have every entry before it: this one too */
        if ((err = bt_cases_add_brief(ix->cases, e->id, sum != NULL ? &ix->briefs[i] : NULL)) != BT_OK) goto fail;
        ix->fed++;
    }
    if (r->fn != NULL) (void)r->fn(r->fn_ctx, e->id, sum != NULL ? head : NULL);
    r->read++;
    ix->decrypted++;
    json_object_put(sum);
    json_object_put(head);
    return 0;
fail:
    r->err = err;
    json_object_put(sum);
    json_object_put(head);
    return 1;
}

/* Whether the log still has ix's last entry with the chain hash ix read;
 * when not, ix forgets everything. */
static void check_last(bt_index *ix, bt_vault *v)
{
    unsigned char hash[BT_HASH_BYTES];
    if (ix->last > 0 && (bt_vault_entry_hash(v, ix->last, hash) != BT_OK ||
                         sodium_memcmp(hash, ix->last_hash, sizeof hash) != 0))
        index_clear(ix);
}

/* Takes the snapshot's part 0 when ix is empty (once per ix) and checks
 * the chain hash at ix's last entry: BT_ERR_LOCKED (ix forgotten) when the
 * log is locked. */
static bt_err start(bt_index *ix, bt_vault *v)
{
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) { /* locked elsewhere (a new passphrase): forget it all */
        index_clear(ix);
        return BT_ERR_LOCKED;
    }
    if (ix->last == 0 && !ix->snapshot_tried) part0_load(ix, v);
    check_last(ix, v); /* the entry read last is still there, the same: only what follows it is new */
    return BT_OK;
}

/* Brings what ix holds (pairs, briefs, summaries; not yet the cases) up to
 * the log: started (start), then the entries after its last one, up to max
 * (0: all), each told to fn when not NULL. *done counts them. */
static bt_err catch_up(bt_index *ix, bt_vault *v, int64_t max, int64_t *done,
                       int (*fn)(void *ctx, int64_t id, json_object *head), void *fn_ctx)
{
    bt_err err = start(ix, v);
    if (err != BT_OK) return err;
    int64_t last = 0, limit = max > 0 ? max - *done : 0;
    if (max > 0 && limit <= 0) return BT_OK;
    /* while part 1 waits, what follows is held alone (get needs only the pairs) and goes after it */
    if (ix->cases == NULL && ix->count == 0 && !ix->part1_due && bt_cases_new(&ix->cases) != BT_OK)
        return BT_ERR_NO_MEMORY;
    read_ctx r = {ix, BT_OK, 0, fn, fn_ctx};
    err = bt_vault_read_each(v, ix->last, limit > 0 ? (int)limit : INT32_MAX, read_one, &r, &last);
    if (err == BT_OK) err = r.err;
    *done += r.read;
    if (ix->count > 0) ix->last = ix->ids[ix->count - 1];
    if (r.read > 0 && bt_vault_entry_hash(v, ix->last, ix->last_hash) != BT_OK)
        ix->last_hash[0] ^= 1; /* unknown: the next update finds it changed and reads everything again */
    if (err == BT_ERR_NO_MEMORY) index_clear(ix); /* an entry half held: read everything again next time */
    return err;
}

int64_t bt_index_start(bt_index *ix, bt_vault *v)
{
    return start(ix, v) == BT_OK ? ix->last : 0;
}

bt_err bt_index_read_new(bt_index *ix, bt_vault *v, int (*fn)(void *ctx, int64_t id, json_object *head), void *ctx)
{
    int64_t done = 0;
    return catch_up(ix, v, 0, &done, fn, ctx);
}

bt_err bt_index_update(bt_index *ix, bt_vault *v, int64_t max, int64_t *read)
{
    int64_t done = 0;
    bt_err err = catch_up(ix, v, max, &done, NULL, NULL);
    if (err == BT_OK && ix->part1_due && (err = part1_load(ix, v)) == BT_OK && ix->last == 0)
        err = catch_up(ix, v, max, &done, NULL, NULL); /* part 1 was not good: built again from the log */
    if (err == BT_OK) err = feed_held(ix, max > 0 ? max : 0, &done);
    if (err == BT_ERR_NO_MEMORY) index_clear(ix);
    if (read != NULL) *read = done;
    return err;
}

int64_t bt_index_known(bt_index *ix, bt_vault *v)
{
    check_last(ix, v);
    return ix->part1_due || ix->count == 0 ? 0 : ix->ids[ix->count - 1];
}

bt_err bt_index_header(const bt_index *ix, int64_t id, const char **text, size_t *len)
{
    if (ix->part1_due) return BT_ERR_NOT_FOUND; /* the summaries are not taken yet */
    size_t lo = held_after(ix, id - 1);
    if (lo == ix->count || ix->ids[lo] != id) return BT_ERR_NOT_FOUND;
    if (ix->offs[lo + 1] == ix->offs[lo]) return BT_ERR_CORRUPT;
    *text = ix->text + ix->offs[lo];
    *len = ix->offs[lo + 1] - ix->offs[lo];
    return BT_OK;
}

bt_err bt_index_related(bt_index *ix, bt_vault *v, int64_t id,
                        int (*fn)(void *ctx, int64_t entry, json_object *head), void *ctx)
{
    bt_err err = bt_index_read_new(ix, v, NULL, NULL);
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

/* Whether the cases' part m (n bytes) is of the log as it is (its last
 * entry the log's last, with the chain hash it names); when so, takes its
 * cases into ix->listed, finished with now, and *unreadable. */
static int listed_fits(bt_index *ix, bt_vault *v, const unsigned char *m, size_t n, int64_t now, int64_t *unreadable)
{
    unsigned char hash[BT_HASH_BYTES], got[BT_HASH_BYTES];
    const unsigned char *p = m;
    uint32_t magic = 0, version = 0;
    int64_t last = 0, unread = 0;
    if (n < CASES_HEAD) return 0;
    take(&p, &magic, 4);
    take(&p, &version, 4);
    take(&p, &last, 8);
    take(&p, hash, BT_HASH_BYTES);
    take(&p, &unread, 8);
    if (magic != CASES_MAGIC || version != CASES_VERSION || last <= 0 || unread < 0 || unread > last ||
        bt_vault_entry_hash(v, last, got) != BT_OK || sodium_memcmp(got, hash, sizeof got) != 0 ||
        bt_vault_entry_hash(v, last + 1, got) != BT_ERR_NOT_FOUND ||
        bt_cases_unpack(&ix->listed, p, n - CASES_HEAD, now) != BT_OK)
        return 0;
    *unreadable = unread;
    ix->cases_saved = last;
    memcpy(ix->cases_saved_hash, hash, sizeof hash);
    return 1;
}

/* Takes the cases kept beside the snapshot into ix->listed when they are
 * of the log as it is: those opened for the last list when they still
 * are, else the file's. 1 when taken. */
static int listed_take(bt_index *ix, bt_vault *v, int64_t now, int64_t *unreadable)
{
    bt_cases_free(ix->listed);
    ix->listed = NULL;
    if (ix->listed_m != NULL && listed_fits(ix, v, ix->listed_m, ix->listed_n, now, unreadable)) return 1;
    bt_vault_free(ix->listed_m);
    ix->listed_m = NULL;
    if (bt_vault_index_cases_load(v, &ix->listed_m, &ix->listed_n) != BT_OK) return 0;
    if (listed_fits(ix, v, ix->listed_m, ix->listed_n, now, unreadable)) return 1;
    bt_vault_free(ix->listed_m);
    ix->listed_m = NULL;
    return 0;
}

bt_err bt_index_case_list(bt_index *ix, bt_vault *v, int64_t now, const bt_cases **out, int64_t *unreadable)
{
    int64_t unread = 0;
    *out = NULL;
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) { /* as start: forget it all */
        index_clear(ix);
        return BT_ERR_LOCKED;
    }
    /* an index without its cases (nothing held yet, or only part 0 of its snapshot and what followed it): the
     * cases kept beside the snapshot, when they are of the log now */
    if ((ix->part1_due || ix->count == 0) && listed_take(ix, v, now, &unread)) {
        if (unreadable != NULL) *unreadable = unread;
        *out = ix->listed;
        return BT_OK;
    }
    bt_cases_free(ix->listed);
    ix->listed = NULL;
    bt_vault_free(ix->listed_m);
    ix->listed_m = NULL;
    return bt_index_cases(ix, v, now, out, unreadable);
}
