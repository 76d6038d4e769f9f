/* The log's index in memory, and its encrypted snapshot: see
 * include/bantrail/index.h. */
#include "bantrail/index.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/records.h"
#include "util/json.h"

/* The members of a header the index keeps (its projection): what the
 * cases are derived from (bt_cases_add reads nothing else) and what list
 * shows. Never a notice's text, an attachment's bytes or a report's secrets.
 * Changing this list changes what a snapshot holds: raise SNAP_VERSION. */
static const char *const kept[] = {"type",  "captured_at", "observed_at", "url",     "title",  "lang",
                                   "classification", "manual", "fp", "of",  "mime",   "size",
                                   "event", "outcome",     "platform",    "handle",  "at",     "case",
                                   "cases", "record"};

#define SNAP_MAGIC 0x58495442u /* "BTIX" */
#define SNAP_VERSION 1u
#define SNAP_HEAD (8 + 8 + BT_HASH_BYTES + 5 * 8)

struct bt_index {
    bt_cases *cases;     /* fed the projections of ids[0 .. fed) */
    size_t fed;
    int64_t *pairs;      /* of, entry, of, entry, ...: who names whom, in entry order */
    size_t n, cap;       /* pairs held, and room */
    int64_t *ids;        /* the entries held, in id order */
    size_t *offs;        /* entry ids[i]'s projection is text[offs[i] .. offs[i + 1]) ("" : it did not read) */
    size_t count, ids_cap;
    char *text;          /* the projections, as JSON */
    size_t text_n, text_cap;
    int64_t unreadable;  /* entries up to last that did not read */
    int64_t last;        /* the last entry held (0: none) */
    unsigned char last_hash[BT_HASH_BYTES]; /* its chain hash, to know the log is still the one read */
    int64_t saved;       /* the last entry the snapshot on disk covers, as far as this index knows */
    int snapshot_tried;  /* the snapshot was read (or found missing) once: never again */
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
    bt_cases_free(ix->cases);
    wipe_free(ix->pairs, 2 * ix->cap * sizeof *ix->pairs);
    wipe_free(ix->ids, ix->ids_cap * sizeof *ix->ids);
    wipe_free(ix->offs, (ix->ids_cap + 1) * sizeof *ix->offs);
    wipe_free(ix->text, ix->text_cap);
    sodium_memzero(ix, sizeof *ix);
    ix->snapshot_tried = tried;
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

/* Grows a wiped-on-free array p of *cap items of size sz to hold need. */
static int grow(void **p, size_t *cap, size_t need, size_t sz, size_t extra)
{
    if (need <= *cap) return 0;
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

/* Keeps the pair (of, id). */
static bt_err pair_add(bt_index *ix, int64_t of, int64_t id)
{
    if (ix->n == ix->cap) {
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

/* Holds entry id's projection (text, n bytes; n 0: it did not read). */
static bt_err entry_add(bt_index *ix, int64_t id, const char *text, size_t n)
{
    void *p = ix->ids;
    size_t cap = ix->ids_cap;
    if (ix->count + 1 > ix->ids_cap) {
        if (grow(&p, &cap, ix->count + 1, sizeof *ix->ids, 0) != 0) return BT_ERR_NO_MEMORY;
        ix->ids = p;
        p = ix->offs;
        cap = ix->ids_cap;
        if (grow(&p, &cap, ix->count + 1, sizeof *ix->offs, 1) != 0) return BT_ERR_NO_MEMORY;
        ix->offs = p;
        ix->ids_cap = cap;
    }
    p = ix->text;
    cap = ix->text_cap;
    if (grow(&p, &cap, ix->text_n + n, 1, 0) != 0) return BT_ERR_NO_MEMORY;
    ix->text = p;
    ix->text_cap = cap;
    if (ix->count == 0) ix->offs[0] = 0;
    memcpy(ix->text + ix->text_n, text, n);
    ix->text_n += n;
    ix->ids[ix->count++] = id;
    ix->offs[ix->count] = ix->text_n;
    return BT_OK;
}

/* Feeds the cases the projections held and not fed yet, up to max of them
 * (0: all); *done counts them. */
static bt_err feed_held(bt_index *ix, int64_t max, int64_t *done)
{
    bt_err err = BT_OK;
    if (ix->cases == NULL && (err = bt_cases_new(&ix->cases)) != BT_OK) return err;
    while (ix->fed < ix->count && (max <= 0 || *done < max)) {
        size_t i = ix->fed;
        json_object *head = NULL;
        if (ix->offs[i + 1] > ix->offs[i] &&
            bt_json_parse(ix->text + ix->offs[i], ix->offs[i + 1] - ix->offs[i], 32, &head) == BT_ERR_NO_MEMORY)
            return BT_ERR_NO_MEMORY;
        err = bt_cases_add(ix->cases, ix->ids[i], head); /* no header: only passed over */
        json_object_put(head);
        if (err != BT_OK) return err;
        ix->fed++;
        (*done)++;
    }
    return BT_OK;
}

typedef struct {
    bt_index *ix;
    bt_err err;
    int64_t read;
} read_ctx;

/* Holds one entry read from the log: its projection, the pair it makes,
 * and feeds it to the cases when they have every entry before it. */
static int read_one(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *text, size_t n)
{
    read_ctx *r = ctx;
    bt_index *ix = r->ix;
    json_object *head = NULL, *proj = NULL;
    const char *s = "";
    size_t len = 0;
    int64_t of = 0;
    int feed = ix->fed == ix->count && ix->cases != NULL;
    if (err == BT_OK && (err = bt_json_parse(text, n, 32, &head)) == BT_ERR_NO_MEMORY) goto fail;
    if (head != NULL && json_object_is_type(head, json_type_object)) {
        proj = json_object_new_object();
        if (proj == NULL) { err = BT_ERR_NO_MEMORY; goto fail; }
        for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
            json_object *x;
            if (json_object_object_get_ex(head, kept[i], &x))
                json_object_object_add(proj, kept[i], json_object_get(x));
        }
        s = json_object_to_json_string_length(proj, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
        if (s == NULL) { err = BT_ERR_NO_MEMORY; goto fail; }
    }
    if (proj == NULL) ix->unreadable++;
    if ((err = entry_add(ix, e->id, s, len)) != BT_OK) goto fail;
    if (proj != NULL && bt_json_int(proj, "of", &of) && of >= 0 && (err = pair_add(ix, of, e->id)) != BT_OK) goto fail;
    if (feed) { /* the cases have every entry before it: this one too, without parsing it again */
        if ((err = bt_cases_add(ix->cases, e->id, proj)) != BT_OK) goto fail;
        ix->fed++;
    }
    r->read++;
    json_object_put(proj);
    json_object_put(head);
    return 0;
fail:
    r->err = err;
    json_object_put(proj);
    json_object_put(head);
    return 1;
}

/* ---- the snapshot ----
 * What bt_vault_index_save seals: magic and version, last, its chain hash,
 * unreadable, count, pairs, text length, fed (unused: 0), then ids, offs,
 * pairs and the projections' text. Native byte order (the file never
 * leaves this computer; the magic tells another order). */

static void put(unsigned char **p, const void *x, size_t n)
{
    memcpy(*p, x, n);
    *p += n;
}

static void take(const unsigned char **p, void *x, size_t n)
{
    memcpy(x, *p, n);
    *p += n;
}

int64_t bt_index_unsaved(const bt_index *ix)
{
    return ix->last > ix->saved ? ix->last - ix->saved : 0;
}

bt_err bt_index_save(bt_index *ix, bt_vault *v)
{
    if (ix->last <= 0 || ix->last == ix->saved) return BT_OK;
    size_t n = SNAP_HEAD + ix->count * sizeof *ix->ids + (ix->count + 1) * sizeof *ix->offs +
               2 * ix->n * sizeof *ix->pairs + ix->text_n;
    unsigned char *m = sodium_malloc(n), *p = m;
    if (m == NULL) return BT_ERR_NO_MEMORY;
    uint32_t magic = SNAP_MAGIC, version = SNAP_VERSION;
    uint64_t count = ix->count, pairs = ix->n, text_n = ix->text_n, zero = 0, zero_off = 0;
    put(&p, &magic, 4);
    put(&p, &version, 4);
    put(&p, &ix->last, 8);
    put(&p, ix->last_hash, BT_HASH_BYTES);
    put(&p, &ix->unreadable, 8);
    put(&p, &count, 8);
    put(&p, &pairs, 8);
    put(&p, &text_n, 8);
    put(&p, &zero, 8);
    put(&p, ix->ids, ix->count * sizeof *ix->ids);
    if (ix->count > 0) put(&p, ix->offs, (ix->count + 1) * sizeof *ix->offs);
    else put(&p, &zero_off, sizeof zero_off);
    put(&p, ix->pairs, 2 * ix->n * sizeof *ix->pairs);
    put(&p, ix->text, ix->text_n);
    bt_err err = bt_vault_index_save(v, m, n);
    sodium_free(m);
    if (err == BT_OK) ix->saved = ix->last;
    return err;
}

/* Takes the snapshot into an empty ix when it opens and holds together;
 * whether it still describes the log is checked by the caller (the chain
 * hash at last). Anything else leaves ix empty. */
static void snapshot_load(bt_index *ix, bt_vault *v)
{
    unsigned char *m = NULL;
    size_t n = 0;
    ix->snapshot_tried = 1;
    if (bt_vault_index_load(v, &m, &n) != BT_OK) return;
    const unsigned char *p = m;
    uint32_t magic = 0, version = 0;
    uint64_t count = 0, pairs = 0, text_n = 0, fed = 0;
    int64_t last = 0, unreadable = 0;
    unsigned char hash[BT_HASH_BYTES];
    int ok = n >= SNAP_HEAD;
    if (ok) {
        take(&p, &magic, 4);
        take(&p, &version, 4);
        take(&p, &last, 8);
        take(&p, hash, BT_HASH_BYTES);
        take(&p, &unreadable, 8);
        take(&p, &count, 8);
        take(&p, &pairs, 8);
        take(&p, &text_n, 8);
        take(&p, &fed, 8);
        size_t left = n - SNAP_HEAD;
        ok = magic == SNAP_MAGIC && version == SNAP_VERSION && last > 0 && unreadable >= 0 && fed == 0 &&
             count <= (uint64_t)last + 1 && pairs <= count && count <= left / 16 &&
             left == count * 8 + (count + 1) * 8 + pairs * 16 + text_n;
    }
    if (ok && count > 0) {
        ix->ids_cap = ix->cap = 0;
        void *q = NULL;
        size_t cap = 0;
        if (grow(&q, &cap, count, sizeof *ix->ids, 0) == 0) {
            ix->ids = q;
            q = NULL;
            size_t cap2 = 0;
            if (grow(&q, &cap2, count, sizeof *ix->offs, 1) == 0) {
                ix->offs = q;
                ix->ids_cap = cap;
            }
        }
        q = NULL;
        cap = 0;
        if (grow(&q, &cap, pairs > 0 ? pairs : 1, 2 * sizeof *ix->pairs, 0) == 0) {
            ix->pairs = q;
            ix->cap = cap;
        }
        q = NULL;
        cap = 0;
        if (grow(&q, &cap, text_n > 0 ? text_n : 1, 1, 0) == 0) {
            ix->text = q;
            ix->text_cap = cap;
        }
        ok = ix->ids_cap != 0 && ix->cap != 0 && ix->text_cap != 0;
        if (ok) {
            take(&p, ix->ids, count * sizeof *ix->ids);
            take(&p, ix->offs, (count + 1) * sizeof *ix->offs);
            take(&p, ix->pairs, pairs * 2 * sizeof *ix->pairs);
            take(&p, ix->text, text_n);
            ix->count = count;
            ix->n = pairs;
            ix->text_n = text_n;
            /* it holds together: ids rising up to last, projections in the text, pairs naming held entries */
            ok = ix->offs[0] == 0 && ix->offs[count] == text_n && ix->ids[count - 1] == last;
            for (size_t i = 0; ok && i < count; i++)
                ok = ix->ids[i] >= 0 && (i == 0 || ix->ids[i] > ix->ids[i - 1]) && ix->offs[i + 1] >= ix->offs[i];
            for (size_t i = 0; ok && i < pairs; i++)
                ok = ix->pairs[2 * i] >= 0 && ix->pairs[2 * i + 1] > 0 && ix->pairs[2 * i + 1] <= last &&
                     (i == 0 || ix->pairs[2 * i + 1] > ix->pairs[2 * i - 1]);
        }
    }
    if (ok && count > 0) {
        ix->last = ix->saved = last;
        ix->unreadable = unreadable;
        memcpy(ix->last_hash, hash, sizeof hash);
    } else {
        index_clear(ix);
    }
    bt_vault_free(m);
}

/* Brings what ix holds (projections and pairs, not yet the cases) up to
 * the log: the snapshot first when ix is empty, the chain hash at its last
 * entry checked, then the entries after it, up to max (0: all). *done counts
 * them. */
static bt_err catch_up(bt_index *ix, bt_vault *v, int64_t max, int64_t *done)
{
    unsigned char hash[BT_HASH_BYTES];
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) { /* locked elsewhere (a new passphrase): forget it all */
        index_clear(ix);
        return BT_ERR_LOCKED;
    }
    if (ix->last == 0 && !ix->snapshot_tried) snapshot_load(ix, v);
    /* the entry read last is still there, the same: only what follows it is new */
    if (ix->last > 0 && (bt_vault_entry_hash(v, ix->last, hash) != BT_OK ||
                         sodium_memcmp(hash, ix->last_hash, sizeof hash) != 0)) {
        index_clear(ix);
    }
    if (ix->cases == NULL && bt_cases_new(&ix->cases) != BT_OK) return BT_ERR_NO_MEMORY;
    int64_t last = 0, limit = max > 0 ? max - *done : 0;
    if (max > 0 && limit <= 0) return BT_OK;
    read_ctx r = {ix, BT_OK, 0};
    bt_err err = bt_vault_read_each(v, ix->last, limit > 0 ? (int)limit : INT32_MAX, read_one, &r, &last);
    if (err == BT_OK) err = r.err;
    *done += r.read;
    if (ix->count > 0) ix->last = ix->ids[ix->count - 1];
    if (ix->last > 0 && bt_vault_entry_hash(v, ix->last, ix->last_hash) != BT_OK)
        ix->last_hash[0] ^= 1; /* unknown: the next update finds it changed and reads everything again */
    if (err == BT_ERR_NO_MEMORY) index_clear(ix); /* an entry half held: read everything again next time */
    return err;
}

bt_err bt_index_update(bt_index *ix, bt_vault *v, int64_t max, int64_t *read)
{
    int64_t done = 0;
    bt_err err = catch_up(ix, v, max, &done);
    if (err == BT_OK) err = feed_held(ix, max > 0 ? max : 0, &done);
    if (err == BT_ERR_NO_MEMORY) index_clear(ix);
    if (read != NULL) *read = done;
    return err;
}

int64_t bt_index_known(bt_index *ix, bt_vault *v)
{
    unsigned char hash[BT_HASH_BYTES];
    if (ix->last > 0 && (bt_vault_entry_hash(v, ix->last, hash) != BT_OK ||
                         sodium_memcmp(hash, ix->last_hash, sizeof hash) != 0))
        index_clear(ix);
    return ix->last;
}

bt_err bt_index_header(const bt_index *ix, int64_t id, const char **text, size_t *len)
{
    size_t lo = 0, hi = ix->count;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->ids[mid] < id) lo = mid + 1;
        else hi = mid;
    }
    if (lo == ix->count || ix->ids[lo] != id) return BT_ERR_NOT_FOUND;
    if (ix->offs[lo + 1] == ix->offs[lo]) return BT_ERR_CORRUPT;
    *text = ix->text + ix->offs[lo];
    *len = ix->offs[lo + 1] - ix->offs[lo];
    return BT_OK;
}

bt_err bt_index_related(bt_index *ix, bt_vault *v, int64_t id,
                        int (*fn)(void *ctx, int64_t entry, json_object *head), void *ctx)
{
    int64_t done = 0;
    bt_err err = catch_up(ix, v, 0, &done);
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
