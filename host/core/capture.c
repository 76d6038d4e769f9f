/* Capturing notices, folding repeats, attaching: see include/bantrail/capture.h. */
#include "bantrail/capture.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/records.h"
#include "core/core_int.h"
#include "util/json.h"

#define FP_BYTES BT_CLASSIFY_FP_BYTES

/* A notice captured lately, by fingerprint. */
typedef struct {
    unsigned char fp[FP_BYTES];
    int64_t id;
    int64_t last_seen;
} recent_notice;

struct bt_capture {
    bt_vault *vault;
    recent_notice *recent;
    size_t n_recent, cap_recent;
    uint32_t *recent_slot; /* 2 * cap_recent slots: 1 + index in recent by fingerprint, 0 empty */
    int recent_loaded;     /* the list holds what the log had when it was first readable */
    unsigned char (*boxes)[BT_BOX_ID_BYTES]; /* sealed boxes taken: bt_capture_box_seen */
    size_t n_boxes, cap_boxes;
};

bt_err bt_capture_new(bt_capture **out, bt_vault *v)
{
    *out = calloc(1, sizeof **out);
    if (*out == NULL) return BT_ERR_NO_MEMORY;
    (*out)->vault = v;
    return BT_OK;
}

void bt_capture_free(bt_capture *c)
{
    if (c == NULL) return;
    free(c->recent);
    free(c->recent_slot);
    free(c->boxes);
    free(c);
}

bt_vault *bt_capture_vault(const bt_capture *c)
{
    return c->vault;
}

void bt_capture_forget(bt_capture *c)
{
    c->n_recent = 0;
    if (c->recent_slot != NULL) memset(c->recent_slot, 0, 2 * c->cap_recent * sizeof *c->recent_slot);
    c->recent_loaded = 0;
    c->n_boxes = 0;
}

bt_err bt_core_base64(const char *s, size_t n, unsigned char **out, size_t *out_len)
{
    size_t cap = n / 4 * 3 + 3;
    const char *end = NULL;
    *out = malloc(cap);
    *out_len = 0;
    if (*out == NULL) return BT_ERR_NO_MEMORY;
    if (sodium_base642bin(*out, cap, s, n, NULL, out_len, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
        end != s + n) {
        free(*out);
        *out = NULL;
        return BT_ERR_BAD_PARAMS;
    }
    return BT_OK;
}

/* ---- the repeat memory: an open-addressed table over a packed array ---- */

static size_t recent_hash(const bt_capture *c, const unsigned char fp[FP_BYTES])
{
    size_t h = 0;
    memcpy(&h, fp, sizeof h); /* a fingerprint is a hash already */
    return h & (2 * c->cap_recent - 1);
}

static recent_notice *recent_find(bt_capture *c, const unsigned char fp[FP_BYTES], int64_t now)
{
    if (c->cap_recent == 0) return NULL;
    for (size_t h = recent_hash(c, fp); c->recent_slot[h] != 0; h = (h + 1) & (2 * c->cap_recent - 1)) {
        recent_notice *n = &c->recent[c->recent_slot[h] - 1];
        if (memcmp(n->fp, fp, FP_BYTES) == 0 && now - n->last_seen <= BT_REPEAT_WINDOW) return n;
    }
    return NULL;
}

static void recent_index(bt_capture *c, size_t i)
{
    size_t h = recent_hash(c, c->recent[i].fp);
    while (c->recent_slot[h] != 0) h = (h + 1) & (2 * c->cap_recent - 1);
    c->recent_slot[h] = (uint32_t)i + 1;
}

/* Full: drops what is past the window, grows if need be, re-indexes. */
static void recent_make_room(bt_capture *c, int64_t now)
{
    size_t k = 0;
    for (size_t i = 0; i < c->n_recent; i++)
        if (now - c->recent[i].last_seen <= BT_REPEAT_WINDOW) c->recent[k++] = c->recent[i];
    c->n_recent = k;
    size_t cap = c->cap_recent == 0 ? 16 : k * 2 > c->cap_recent ? c->cap_recent * 2 : c->cap_recent;
    if (cap != c->cap_recent && cap < UINT32_MAX / 2) {
        recent_notice *bigger = realloc(c->recent, cap * sizeof *bigger);
        uint32_t *slot = bigger != NULL ? malloc(2 * cap * sizeof *slot) : NULL;
        if (bigger != NULL) c->recent = bigger;
        if (slot != NULL) {
            free(c->recent_slot);
            c->recent_slot = slot;
            c->cap_recent = cap;
        }
    }
    if (c->n_recent == c->cap_recent) return; /* no room: only folding is lost */
    memset(c->recent_slot, 0, 2 * c->cap_recent * sizeof *c->recent_slot);
    for (size_t i = 0; i < c->n_recent; i++) recent_index(c, i);
}

static void recent_add(bt_capture *c, const unsigned char fp[FP_BYTES], int64_t id, int64_t seen, int64_t now)
{
    if (now - seen > BT_REPEAT_WINDOW) return;
    if (c->n_recent == c->cap_recent) recent_make_room(c, now);
    if (c->n_recent == c->cap_recent) return;
    recent_notice *n = &c->recent[c->n_recent];
    memcpy(n->fp, fp, FP_BYTES);
    n->id = id;
    n->last_seen = seen;
    recent_index(c, c->n_recent++);
}

typedef struct {
    bt_capture *c;
    int64_t now;
} load_ctx;

static int load_recent_one(void *ctx, const bt_vault_entry_info *e)
{
    load_ctx *l = ctx;
    bt_capture *c = l->c;
    json_object *head = NULL;
    if (e->body_len == 0 && bt_record_read(c->vault, e->id, &head) == BT_OK) {
        const char *type = bt_json_str(head, "type"), *fp_hex = bt_json_str(head, "fp");
        int64_t at = bt_json_int_or(head, "captured_at", 0), of = bt_json_int_or(head, "of", 0);
        unsigned char fp[FP_BYTES];
        size_t n = 0;
        if (type != NULL && !strcmp(type, BT_REC_NOTICE) && fp_hex != NULL &&
            sodium_hex2bin(fp, sizeof fp, fp_hex, strlen(fp_hex), NULL, &n, NULL) == 0 && n == FP_BYTES) {
            recent_add(c, fp, e->id, at, l->now);
        } else if (type != NULL && !strcmp(type, BT_REC_OCCURRENCE)) {
            for (size_t i = 0; i < c->n_recent; i++)
                if (c->recent[i].id == of && at > c->recent[i].last_seen) c->recent[i].last_seen = at;
        } else if (type != NULL && !strcmp(type, BT_REC_SEALED_DONE)) {
            const char *box_hex = bt_json_str(head, "box");
            unsigned char box[BT_BOX_ID_BYTES];
            if (box_hex != NULL && sodium_hex2bin(box, sizeof box, box_hex, strlen(box_hex), NULL, &n, NULL) == 0 &&
                n == sizeof box)
                bt_capture_box_taken(c, box);
        }
    }
    json_object_put(head);
    return 0;
}

/* Fills the repeat memory from the log's last entries, once, when readable. */
static void load_recent(bt_capture *c, int64_t now)
{
    bt_vault_stats s;
    int64_t last;
    load_ctx l = {c, now};
    if (c->recent_loaded || bt_vault_state_of(c->vault) == BT_VAULT_LOCKED) return;
    if (bt_vault_stats_of(c->vault, &s) != BT_OK) return;
    bt_vault_entries(c->vault, s.entries > BT_REPEAT_SCAN ? s.entries - BT_REPEAT_SCAN : 0, BT_REPEAT_SCAN,
                     load_recent_one, &l, &last);
    c->recent_loaded = 1;
}

/* ---- the sealed boxes taken ---- */

int bt_capture_box_seen(bt_capture *c, const unsigned char id[BT_BOX_ID_BYTES], int64_t now)
{
    load_recent(c, now);
    for (size_t i = 0; i < c->n_boxes; i++)
        if (sodium_memcmp(c->boxes[i], id, BT_BOX_ID_BYTES) == 0) return 1;
    return 0;
}

void bt_capture_box_taken(bt_capture *c, const unsigned char id[BT_BOX_ID_BYTES])
{
    if (c->n_boxes == c->cap_boxes) {
        size_t cap = c->cap_boxes ? 2 * c->cap_boxes : 16;
        unsigned char(*bigger)[BT_BOX_ID_BYTES] = realloc(c->boxes, cap * sizeof *bigger);
        if (bigger == NULL) return; /* not remembered: only the recognition of a re-sent box is lost */
        c->boxes = bigger;
        c->cap_boxes = cap;
    }
    memcpy(c->boxes[c->n_boxes++], id, BT_BOX_ID_BYTES);
}

/* ---- capture ---- */

bt_err bt_capture_in_parse(bt_capture_in *in, json_object *o, const char **why)
{
    json_object *manual;
    bt_err err;
    memset(in, 0, sizeof *in);
    if ((err = bt_json_member_string(o, "url", 1, BT_CAPTURE_URL_MAX, &in->url, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "text", 1, BT_CAPTURE_TEXT_MAX, &in->text, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "title", 0, BT_CAPTURE_TITLE_MAX, &in->title, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "lang", 0, BT_CAPTURE_LANG_MAX, &in->lang, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "software", 0, BT_CAPTURE_SOFTWARE_MAX, &in->software, NULL, why)) != BT_OK ||
        (err = bt_json_member(o, "observed_at", json_type_string, 0, &in->observed_at, why)) != BT_OK ||
        (err = bt_json_member(o, "classification", json_type_object, 0, &in->client_classification, why)) != BT_OK ||
        (err = bt_json_member(o, "manual", json_type_boolean, 0, &manual, why)) != BT_OK)
        return err;
    in->manual = manual != NULL && json_object_get_boolean(manual);
    return BT_OK;
}

/* The header of a new notice: what was seen, the verdicts, the fingerprint. */
static void notice_fields(json_object *head, const bt_capture_in *in, const bt_classification *verdict)
{
    char fp_hex[2 * FP_BYTES + 1];
    sodium_bin2hex(fp_hex, sizeof fp_hex, verdict->fingerprint, FP_BYTES);
    json_object_object_add(head, "url", json_object_new_string(in->url));
    if (in->title) json_object_object_add(head, "title", json_object_new_string(in->title));
    if (in->lang) json_object_object_add(head, "lang", json_object_new_string(in->lang));
    json_object_object_add(head, "text", json_object_new_string(in->text));
    json_object_object_add(head, "classification", bt_classify_to_json(verdict));
    if (in->client_classification)
        json_object_object_add(head, "client_classification", json_object_get(in->client_classification));
    if (in->manual) json_object_object_add(head, "manual", json_object_new_boolean(1));
    json_object_object_add(head, "fp", json_object_new_string(fp_hex));
}

bt_err bt_capture_notice(bt_capture *c, const bt_capture_in *in, int64_t now, bt_capture_out *out,
                         const char **why)
{
    bt_err err;
    int64_t id = 0;
    (void)why; /* nothing here needs more than the code */
    memset(out, 0, sizeof *out);
    /* the host's classifier is the authority; the caller's view is kept beside it */
    err = bt_classify_text_as(&out->verdict, in->software, in->url, in->title, in->lang, in->text);
    if (err != BT_OK || (!out->verdict.notice && !in->manual)) return err;

    /* Locked, the host neither folds nor remembers: whether a notice was
     * captured before is for whoever can read the log. A repeat is stored as
     * a notice and folded when the log is read (cases.c, repeat_of). */
    int locked = bt_vault_state_of(c->vault) == BT_VAULT_LOCKED;
    if (!in->manual && !locked) load_recent(c, now);
    recent_notice *seen = in->manual || locked ? NULL : recent_find(c, out->verdict.fingerprint, now);
    json_object *head = bt_record_new(seen ? BT_REC_OCCURRENCE : BT_REC_NOTICE);
    if (seen) json_object_object_add(head, "of", json_object_new_int64(seen->id));
    if (in->observed_at) json_object_object_add(head, "observed_at", json_object_get(in->observed_at));
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    if (!seen) notice_fields(head, in, &out->verdict);
    err = bt_record_append(c->vault, head, NULL, 0, &id);
    json_object_put(head);
    if (err != BT_OK) return err;
    if (seen) seen->last_seen = now;
    else if (!locked) recent_add(c, out->verdict.fingerprint, id, now, now);
    out->stored = 1;
    out->occurrence = seen != NULL;
    out->record = seen ? seen->id : id;
    out->entry = id;
    return BT_OK;
}

/* ---- attachments ---- */

static int mime_known(const char *mime)
{
    static const char *const mimes[] = {"image/png", "image/jpeg", "image/webp", "text/html"};
    for (size_t i = 0; i < sizeof mimes / sizeof mimes[0]; i++)
        if (strcmp(mime, mimes[i]) == 0) return 1;
    return 0;
}

bt_err bt_capture_attach(bt_capture *c, int64_t record, const char *mime, const char *b64, size_t b64_len,
                         int64_t now, int64_t *id, size_t *size, const char **why)
{
    unsigned char *bin = NULL;
    size_t bin_len = 0;
    bt_err err;
    if (!mime_known(mime)) {
        if (why) *why = "mime";
        return BT_ERR_BAD_PARAMS;
    }
    if (!bt_record_exists(c->vault, record)) return BT_ERR_NOT_FOUND;
    if ((err = bt_core_base64(b64, b64_len, &bin, &bin_len)) != BT_OK || bin_len == 0) {
        free(bin);
        if (err == BT_OK || err == BT_ERR_BAD_PARAMS) {
            if (why) *why = "data";
            err = BT_ERR_BAD_PARAMS;
        }
        return err;
    }
    json_object *head = bt_record_new(BT_REC_ATTACHMENT);
    json_object_object_add(head, "of", json_object_new_int64(record));
    json_object_object_add(head, "mime", json_object_new_string(mime));
    json_object_object_add(head, "size", json_object_new_int64((int64_t)bin_len));
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    err = bt_record_append(c->vault, head, bin, bin_len, id);
    json_object_put(head);
    sodium_memzero(bin, bin_len);
    free(bin);
    *size = bin_len;
    return err;
}
