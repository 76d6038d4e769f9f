/* The sealed-capture inbox: see include/bantrail/inbox.h. A box is stored
 * through the same core functions as a direct capture, attachment or
 * event, so that both ways give the same records. */
#include "bantrail/inbox.h"

#include <limits.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/cases.h"
#include "bantrail/records.h"
#include "core/core_int.h"
#include "util/json.h"

#define BOX_DEPTH 32

void bt_box_out_free(bt_box_out *out)
{
    free(out->attachments);
    out->attachments = NULL;
    out->n_attachments = 0;
}

static bt_err refuse(const char *detail, const char **why)
{
    if (why) *why = detail;
    return BT_ERR_BAD_PARAMS;
}

/* Stores each {mime, data} of atts (an array, or NULL for none) as an
 * attachment of out->record, keeping the entry ids in out. */
static bt_err store_attachments(bt_capture *c, json_object *atts, int64_t now, bt_box_out *out, const char **why)
{
    size_t n = json_object_is_type(atts, json_type_array) ? json_object_array_length(atts) : 0;
    out->attachments = calloc(n ? n : 1, sizeof *out->attachments);
    if (out->attachments == NULL) return BT_ERR_NO_MEMORY;
    for (size_t i = 0; i < n; i++) {
        json_object *a = json_object_array_get_idx(atts, i);
        const char *mime, *data;
        size_t data_len, size;
        bt_err err;
        if (out->record < 1) return refuse("record", why);
        if ((err = bt_json_member_string(a, "mime", 1, BT_CAPTURE_MIME_MAX, &mime, NULL, why)) != BT_OK ||
            (err = bt_json_member_string(a, "data", 1, SIZE_MAX, &data, &data_len, why)) != BT_OK ||
            (err = bt_capture_attach(c, out->record, mime, data, data_len, now,
                                     &out->attachments[out->n_attachments], &size, why)) != BT_OK)
            return err;
        out->n_attachments++;
    }
    return BT_OK;
}

static bt_err expand_capture(bt_capture *c, json_object *cap, json_object *atts, int64_t now, bt_box_out *out,
                             const char **why)
{
    bt_capture_in in;
    bt_err err;
    out->kind = BT_BOX_CAPTURE;
    if (!json_object_is_type(cap, json_type_object)) return refuse(NULL, why);
    if ((err = bt_capture_in_parse(&in, cap, why)) != BT_OK) return err;
    if ((err = bt_capture_notice(c, &in, now, &out->capture, why)) != BT_OK) return err;
    if (!out->capture.stored) return BT_OK; /* not a notice */
    out->record = out->capture.record;
    return store_attachments(c, out->capture.occurrence ? NULL : atts, now, out, why); /* one screenshot a record */
}

static bt_err expand_event(bt_capture *c, json_object *ev, int64_t now, bt_box_out *out, const char **why)
{
    bt_event_in in;
    bt_err err;
    out->kind = BT_BOX_EVENT;
    if (!json_object_is_type(ev, json_type_object)) return refuse(NULL, why);
    if ((err = bt_event_in_parse(&in, ev, why)) != BT_OK) return err;
    return bt_event_add(bt_capture_vault(c), &in, now, &out->event_id, &out->event_at, &out->event_case, why);
}

/* Stores what the opened box (len bytes of JSON) holds. */
static bt_err expand_box(bt_capture *c, const unsigned char *box, size_t len, int64_t now, bt_box_out *out,
                         const char **why)
{
    json_object *msg = NULL, *x = NULL, *atts = NULL;
    bt_err err;
    memset(out, 0, sizeof *out);
    if (bt_json_parse((const char *)box, len, BOX_DEPTH, &msg) != BT_OK || bt_json_int_or(msg, "v", 0) != 1) {
        json_object_put(msg);
        return refuse("sealed: not a version 1 capture or event", why);
    }
    json_object_object_get_ex(msg, "attachments", &atts);
    if (json_object_object_get_ex(msg, "event", &x)) {
        err = expand_event(c, x, now, out, why);
    } else if (json_object_object_get_ex(msg, "capture", &x)) {
        err = expand_capture(c, x, atts, now, out, why);
    } else {
        out->kind = BT_BOX_RECORD;
        out->record = bt_json_int_or(msg, "record", 0);
        err = store_attachments(c, atts, now, out, why);
    }
    json_object_put(msg);
    if (err != BT_OK) bt_box_out_free(out);
    return err;
}

/* A box's id: BLAKE2b-128 of its sealed bytes. They are random (a new
 * ephemeral key each time it is sealed), so the id names this box, the same
 * when it is sent again, and tells nothing of what is inside. */
static void box_id(const unsigned char *sealed, size_t len, unsigned char id[BT_BOX_ID_BYTES])
{
    crypto_generichash(id, BT_BOX_ID_BYTES, sealed, len, NULL, 0);
}

/* Appends the sealed_done entry of a box taken: its id, what it became (or
 * that it was taken before), and the sealed_capture entry it was kept in
 * (kept, 0 for none). */
static bt_err mark_done(bt_capture *c, const unsigned char id[BT_BOX_ID_BYTES], int64_t kept, const bt_box_out *out,
                        int64_t now)
{
    char hex[2 * BT_BOX_ID_BYTES + 1];
    int64_t entry;
    json_object *mark = bt_record_new(BT_REC_SEALED_DONE);
    sodium_bin2hex(hex, sizeof hex, id, BT_BOX_ID_BYTES);
    if (kept > 0) json_object_object_add(mark, "of", json_object_new_int64(kept));
    json_object_object_add(mark, "box", json_object_new_string(hex));
    if (out->kind == BT_BOX_DUPLICATE)
        json_object_object_add(mark, "duplicate", json_object_new_boolean(1));
    else
        json_object_object_add(mark, "record",
                               json_object_new_int64(out->kind == BT_BOX_EVENT ? out->event_id : out->record));
    json_object_object_add(mark, "captured_at", json_object_new_int64(now));
    bt_err err = bt_record_append(bt_capture_vault(c), mark, NULL, 0, &entry);
    json_object_put(mark);
    if (err == BT_OK) bt_capture_box_taken(c, id);
    return err;
}

/* Stores what the opened box holds and its sealed_done mark in one
 * transaction, unless a box with the same id was taken before: then nothing
 * is stored (kind DUPLICATE), and a box kept while locked (kept > 0) is marked
 * done. A failure leaves the log as it was. In the transaction of a group
 * (grouped: the batch is the caller's, which rolls it back and forgets what
 * the capture remembered when any box of the group fails), only its part. */
static bt_err take_box(bt_capture *c, const unsigned char *box, size_t len, const unsigned char id[BT_BOX_ID_BYTES],
                       int64_t kept, int64_t now, int grouped, bt_box_out *out, const char **why)
{
    bt_vault *v = bt_capture_vault(c);
    int taken = bt_capture_box_seen(c, id, now);
    bt_err err = BT_OK, end;
    memset(out, 0, sizeof *out);
    out->kind = BT_BOX_DUPLICATE;
    if (taken && kept == 0) return BT_OK;
    if (!grouped && (err = bt_vault_batch_begin(v)) != BT_OK) return err;
    if (!taken) err = expand_box(c, box, len, now, out, why);
    if (err == BT_OK) err = mark_done(c, id, kept, out, now);
    if (!grouped) {
        end = bt_vault_batch_end(v, err == BT_OK);
        if (err == BT_OK) err = end;
        if (err != BT_OK) bt_capture_forget(c); /* what it remembered of the rolled-back entries */
    }
    if (err != BT_OK) bt_box_out_free(out);
    return err;
}

/* Keeps the box as it is until the next unlock. */
static bt_err keep_box(bt_vault *v, const unsigned char *sealed, size_t len, int64_t now, bt_box_out *out)
{
    json_object *head = bt_record_new(BT_REC_SEALED_CAPTURE);
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    bt_err err = bt_record_append(v, head, sealed, len, &out->entry);
    json_object_put(head);
    out->kind = BT_BOX_PENDING;
    return err;
}

bt_err bt_inbox_put(bt_capture *c, const char *sealed, size_t len, int64_t now, bt_box_out *out,
                    const char **why)
{
    unsigned char *bin = NULL, *box = NULL;
    size_t bin_len = 0, box_len = 0;
    memset(out, 0, sizeof *out);
    bt_err err = bt_core_base64(sealed, len, &bin, &bin_len);
    if (err == BT_OK && bin_len <= crypto_box_SEALBYTES) err = BT_ERR_BAD_PARAMS;
    if (err != BT_OK) {
        free(bin);
        return err == BT_ERR_BAD_PARAMS ? refuse("sealed", why) : err;
    }
    err = bt_vault_open_sealed(bt_capture_vault(c), bin, bin_len, &box, &box_len);
    if (err == BT_ERR_LOCKED) {
        err = keep_box(bt_capture_vault(c), bin, bin_len, now, out);
    } else if (err == BT_OK) {
        unsigned char id[BT_BOX_ID_BYTES];
        box_id(bin, bin_len, id);
        err = take_box(c, box, box_len, id, 0, now, 0, out, why);
    }
    bt_vault_free(box);
    free(bin);
    return err;
}

/* ---- at unlock: the boxes kept while locked ---- */

typedef struct {
    json_object *pending; /* entry id (as key) -> id */
    int64_t after;        /* the index's reads: only those after it are the scan's */
} pending_ctx;

/* Notes what entry id (its header head, NULL when it did not read) says of
 * the boxes: kept (sealed_capture), or done (sealed_done "of" one). */
static int note_box(void *ctx, int64_t id, json_object *head)
{
    pending_ctx *p = ctx;
    const char *type = bt_json_str(head, "type");
    char key[24];
    if (id <= p->after || type == NULL) return 0;
    if (!strcmp(type, BT_REC_SEALED_CAPTURE)) {
        snprintf(key, sizeof key, "%lld", (long long)id);
        json_object_object_add(p->pending, key, json_object_new_int64(id));
    } else if (!strcmp(type, BT_REC_SEALED_DONE)) {
        snprintf(key, sizeof key, "%lld", (long long)bt_json_int_or(head, "of", 0));
        json_object_object_del(p->pending, key);
    }
    return 0;
}

static int find_pending(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *text, size_t n)
{
    json_object *head = NULL;
    if (err == BT_OK && bt_record_parse_lean(text, n, &head) == BT_OK) note_box(ctx, e->id, head);
    json_object_put(head);
    return 0;
}

/* Opens and stores the box kept in entry id and marks it done, in one
 * transaction (or in the group's, grouped): a kill in between leaves it
 * pending with nothing stored, never stored and still pending (it would be
 * stored twice). A box taken before (sent again after its answer was lost)
 * is only marked done. */
static int deliver(bt_capture *c, int64_t id, int64_t now, int grouped,
                   bt_err *why) /* 1 stored, 0 taken before, -1 still pending (*why) */
{
    bt_vault *v = bt_capture_vault(c);
    char *head = NULL;
    unsigned char *sealed = NULL, *box = NULL, bid[BT_BOX_ID_BYTES];
    size_t head_len, sealed_len, box_len;
    bt_box_out out;
    int delivered = -1;
    memset(&out, 0, sizeof out);
    bt_err err = bt_vault_read(v, id, &head, &head_len, &sealed, &sealed_len);
    if (err == BT_OK) err = bt_vault_open_sealed(v, sealed, sealed_len, &box, &box_len);
    if (err == BT_OK) {
        box_id(sealed, sealed_len, bid);
        if ((err = take_box(c, box, box_len, bid, id, now, grouped, &out, NULL)) == BT_OK)
            delivered = out.kind != BT_BOX_DUPLICATE;
    }
    *why = err;
    bt_box_out_free(&out);
    bt_vault_free(box);
    bt_vault_free(sealed);
    bt_vault_free(head);
    return delivered;
}

/* Boxes delivered in one transaction at unlock: one durable commit for them
 * all (about 1 ms each alone), each still stored with its done mark or not
 * at all. */
#define DELIVER_GROUP 64

/* Delivers the m boxes kept in entries ids in one transaction: 1 when every
 * one was stored or taken before (res[i]) and the transaction committed; 0
 * when one failed or the commit did, the log then as it was and the capture's
 * memory forgotten, for the caller to deliver them one at a time. */
static int deliver_group(bt_capture *c, const int64_t *ids, size_t m, int64_t now, int *res, bt_err *whys)
{
    bt_vault *v = bt_capture_vault(c);
    int ok = 1;
    if (m < 2 || bt_vault_batch_begin(v) != BT_OK) return 0;
    for (size_t i = 0; i < m && ok; i++) ok = (res[i] = deliver(c, ids[i], now, 1, &whys[i])) >= 0;
    if (bt_vault_batch_end(v, ok) != BT_OK) ok = 0;
    if (!ok) bt_capture_forget(c); /* what it remembered of the rolled-back entries */
    return ok;
}

/* Notes in p the boxes kept in the entries after *last, which it moves to
 * the last entry read: those the index holds past *last (held, 0 for none)
 * read here, those after them through the index as it catches up (use_ix),
 * what is left here. */
static void scan(bt_vault *v, bt_index *ix, int use_ix, int64_t *held, pending_ctx *p, int64_t *last)
{
    if (*held > *last && (bt_vault_read_each(v, *last, *held - *last < INT_MAX ? (int)(*held - *last) : INT_MAX,
                                             find_pending, p, last) != BT_OK ||
                          *last < *held))
        *held = 0; /* not read to there: the index cannot go on from it */
    if (use_ix && *held > 0) {
        p->after = *last;
        if (bt_index_read_new(ix, v, note_box, p) == BT_OK && bt_index_last(ix) > *last) *last = bt_index_last(ix);
        p->after = 0;
    }
    int64_t from = *last;
    if (bt_vault_read_each(v, from, INT_MAX, find_pending, p, last) != BT_OK) *last = from;
}

/* A box that fails stays pending. The mark BT_VAULT_MARK_SCANNED keeps
 * where the last scan could stop: the entry before the first box still
 * pending, else the last entry it read. The scan reads the entries after
 * the mark: those the index holds (it has no headers of them, only their
 * projections, whose part 1 is costly to take at once) itself, and those
 * after the index's last through the index as it catches up, when the index
 * holds the entries up to the mark; what is left (no such index, or it
 * stopped) itself. After delivering it scans again what the boxes became
 * (and any box kept meanwhile), so that the mark ends past them and the
 * appends that follow carry it on (vault.h). */
int bt_inbox_expand_pending(bt_capture *c, bt_index *ix, int64_t now, int *waiting)
{
    return bt_inbox_expand_pending_why(c, ix, now, waiting, NULL);
}

/* The scan from the mark, seen (NULL: none) holding what the entries
 * (mark, from] hold of the boxes (a scan in slices, bt_inbox_scan_step),
 * from the mark when there is none. */
static int expand(bt_capture *c, bt_index *ix, int64_t now, int *waiting, bt_err *cause, json_object *seen,
                  int64_t from)
{
    bt_vault *v = bt_capture_vault(c);
    int64_t mark = 0, last, held, scanned = 0;
    int done = 0, stuck = 0;
    if (waiting != NULL) *waiting = 0;
    if (cause != NULL) *cause = BT_OK;
    /* locked, no header reads: the scan would pass over the boxes and mark them scanned */
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) return 0;
    bt_vault_mark(v, BT_VAULT_MARK_SCANNED, &mark);
    if (seen == NULL) from = mark;
    held = ix != NULL ? bt_index_start(ix, v) : 0;
    int use_ix = held > 0 && held >= from;
    last = from;
    for (int round = 0; round < 8 && !stuck; round++) {
        pending_ctx p = {round == 0 && seen != NULL ? json_object_get(seen) : json_object_new_object(), 0};
        int delivered_now = 0;
        scan(v, ix, use_ix, &held, &p, &last);
        scanned = last;
        size_t n = (size_t)json_object_object_length(p.pending), k = 0;
        int64_t *ids = malloc((n ? n : 1) * sizeof *ids);
        json_object_object_foreach(p.pending, key, val) {
            (void)key;
            if (ids != NULL) ids[k++] = json_object_get_int64(val);
        }
        json_object_put(p.pending);
        if (ids == NULL) break;
        for (size_t g = 0; g < n; g += DELIVER_GROUP) {
            size_t m = n - g < DELIVER_GROUP ? n - g : DELIVER_GROUP;
            int res[DELIVER_GROUP];
            bt_err whys[DELIVER_GROUP];
            int grouped = deliver_group(c, ids + g, m, now, res, whys);
            for (size_t i = 0; i < m; i++) {
                int64_t id = ids[g + i];
                if (!grouped) res[i] = deliver(c, id, now, 0, &whys[i]); /* one at a time: the others are stored */
                delivered_now += res[i] > 0;
                if (res[i] < 0 && cause != NULL && *cause == BT_OK) *cause = whys[i] != BT_OK ? whys[i] : BT_ERR_INTERNAL;
                if (res[i] < 0) stuck = 1;
                if (res[i] < 0 && waiting != NULL) (*waiting)++;
                if (res[i] < 0 && id <= scanned) scanned = id - 1; /* still pending: the next scan starts with it */
            }
        }
        free(ids);
        done += delivered_now;
        if (delivered_now == 0) break;
    }
    if (scanned != mark) bt_vault_set_mark(v, BT_VAULT_MARK_SCANNED, scanned);
    return done;
}

int bt_inbox_expand_pending_why(bt_capture *c, bt_index *ix, int64_t now, int *waiting, bt_err *cause)
{
    return expand(c, ix, now, waiting, cause, NULL, 0);
}

/* ---- the same scan in slices ---- */

struct bt_inbox_scan {
    json_object *seen; /* what the entries (mark, pos] hold of the boxes: those kept and not yet done */
    int64_t pos;
};

int64_t bt_inbox_unscanned(bt_capture *c)
{
    bt_vault *v = bt_capture_vault(c);
    bt_vault_stats st;
    int64_t mark = 0;
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED || bt_vault_mark(v, BT_VAULT_MARK_SCANNED, &mark) != BT_OK ||
        bt_vault_stats_of(v, &st) != BT_OK)
        return 0;
    return st.entries > mark ? st.entries - mark : 0;
}

bt_inbox_scan *bt_inbox_scan_new(bt_capture *c)
{
    bt_inbox_scan *s = calloc(1, sizeof *s);
    if (s == NULL) return NULL;
    if ((s->seen = json_object_new_object()) == NULL ||
        bt_vault_mark(bt_capture_vault(c), BT_VAULT_MARK_SCANNED, &s->pos) != BT_OK) {
        bt_inbox_scan_free(s);
        return NULL;
    }
    return s;
}

int bt_inbox_scan_step(bt_inbox_scan *s, bt_capture *c, int max)
{
    pending_ctx p = {s->seen, 0};
    int64_t last = s->pos;
    if (bt_vault_read_each(bt_capture_vault(c), s->pos, max, find_pending, &p, &last) != BT_OK) return 0;
    int more = last - s->pos >= max;
    s->pos = last;
    return more;
}

int bt_inbox_scan_finish(bt_inbox_scan *s, bt_capture *c, bt_index *ix, int64_t now, int *waiting, bt_err *cause)
{
    return expand(c, ix, now, waiting, cause, s->seen, s->pos);
}

void bt_inbox_scan_free(bt_inbox_scan *s)
{
    if (s == NULL) return;
    json_object_put(s->seen);
    free(s);
}
