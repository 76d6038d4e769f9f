/* Reading and writing the log's JSON headers: see include/bantrail/records.h. */
#include "bantrail/records.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

#define HEAD_DEPTH 32 /* nesting allowed in a header: ours are 3 deep */

bt_err bt_record_read(bt_vault *v, int64_t id, json_object **head)
{
    char *text = NULL;
    size_t n = 0;
    bt_err err = bt_vault_read(v, id, &text, &n, NULL, NULL);
    *head = NULL;
    if (err != BT_OK) return err;
    err = bt_json_parse(text, n, HEAD_DEPTH, head);
    if (err == BT_ERR_BAD_JSON) err = BT_ERR_CORRUPT;
    bt_vault_free(text);
    return err;
}

bt_err bt_record_append(bt_vault *v, json_object *head, const unsigned char *body, size_t body_len, int64_t *id)
{
    size_t n;
    const char *s = head ? json_object_to_json_string_length(head, JSON_C_TO_STRING_PLAIN, &n) : NULL;
    return s ? bt_vault_append(v, s, n, body, body_len, id) : BT_ERR_NO_MEMORY;
}

json_object *bt_record_new(const char *type)
{
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(type));
    return head;
}

static int stop_at_first(void *ctx, const bt_vault_entry_info *e)
{
    (void)ctx;
    (void)e;
    return 1;
}

int bt_record_exists(bt_vault *v, int64_t id)
{
    int64_t last = 0;
    return id > 0 && bt_vault_entries(v, id - 1, 1, stop_at_first, NULL, &last) == BT_OK && last == id;
}

/* ---- the links: (of, entry) pairs of the entries read ---- */

struct bt_links {
    int64_t *pairs;    /* of, entry, of, entry, ... */
    size_t n, cap;     /* pairs held, and room */
    int64_t from, upto; /* the entries read: from + 1 .. upto (from -1: none yet) */
};

bt_links *bt_links_new(void)
{
    bt_links *l = calloc(1, sizeof(bt_links));
    if (l != NULL) l->from = -1;
    return l;
}

void bt_links_free(bt_links *l)
{
    if (l == NULL) return;
    if (l->pairs != NULL) sodium_memzero(l->pairs, 2 * l->cap * sizeof *l->pairs);
    free(l->pairs);
    free(l);
}

typedef struct {
    bt_links *l;
    bt_vault *v;
    bt_err err;
} links_scan;

static int link_one(void *ctx, const bt_vault_entry_info *e)
{
    links_scan *s = ctx;
    json_object *head = NULL;
    int64_t of = 0;
    bt_err err = bt_record_read(s->v, e->id, &head);
    if (err == BT_ERR_LOCKED || err == BT_ERR_NO_MEMORY) { /* stop: read again next time */
        s->err = err;
        return 1;
    }
    if (err == BT_OK && bt_json_int(head, "of", &of) && of > 0) {
        bt_links *l = s->l;
        if (l->n == l->cap) {
            size_t cap = l->cap ? 2 * l->cap : 256;
            int64_t *more = malloc(2 * cap * sizeof *more);
            if (more == NULL) {
                json_object_put(head);
                s->err = BT_ERR_NO_MEMORY;
                return 1;
            }
            if (l->pairs != NULL) {
                memcpy(more, l->pairs, 2 * l->n * sizeof *more);
                sodium_memzero(l->pairs, 2 * l->cap * sizeof *l->pairs);
            }
            free(l->pairs);
            l->pairs = more;
            l->cap = cap;
        }
        l->pairs[2 * l->n] = of;
        l->pairs[2 * l->n + 1] = e->id;
        l->n++;
    }
    json_object_put(head);
    return 0;
}

/* Reads up to limit entries after `after` into l, whole or not at all (a
 * read cut short leaves no pairs behind, to be read again next time). */
static bt_err links_read(bt_links *l, bt_vault *v, int64_t after, int limit, int64_t *last)
{
    links_scan s = {l, v, BT_OK};
    size_t n0 = l->n;
    bt_err err = bt_vault_entries(v, after, limit, link_one, &s, last);
    if (err == BT_OK) err = s.err;
    if (err != BT_OK) l->n = n0;
    return err;
}

bt_err bt_links_each(bt_links *l, bt_vault *v, int64_t id, int (*fn)(void *ctx, int64_t entry, json_object *head),
                     void *ctx)
{
    int64_t last;
    bt_err err = BT_OK;
    /* what names id comes after it: read from id on, the first time, or
     * back to it when it is older than what was read so far */
    if (l->from < 0) l->from = l->upto = id;
    while (err == BT_OK && id < l->from) {
        int64_t n = l->from - id > INT_MAX ? INT_MAX : l->from - id;
        if ((err = links_read(l, v, l->from - n, (int)n, &last)) == BT_OK) l->from -= n;
    }
    if (err == BT_OK && (err = links_read(l, v, l->upto, INT_MAX, &last)) == BT_OK) l->upto = last;
    if (err != BT_OK) return err;
    for (size_t i = 0; i < l->n; i++) {
        if (l->pairs[2 * i] != id) continue;
        json_object *head = NULL;
        int stop = 0;
        if (bt_record_read(v, l->pairs[2 * i + 1], &head) == BT_OK) stop = fn(ctx, l->pairs[2 * i + 1], head);
        json_object_put(head);
        if (stop) break;
    }
    return BT_OK;
}
