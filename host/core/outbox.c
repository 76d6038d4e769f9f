/* Unions, reports and the outbox, kept in the log: see include/bantrail/outbox.h. */
#include "bantrail/outbox.h"

#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "bantrail/cases.h"
#include "bantrail/records.h"
#include "util/json.h"

#define UNION_JSON_MAX 2048 /* a rendered union entry: five bounded strings and a key */

static const char *const state_names[] = {"sent", "failed", "withdrawn"};

int bt_report_state_parse(const char *s)
{
    for (size_t i = 0; s != NULL && i < sizeof state_names / sizeof state_names[0]; i++)
        if (!strcmp(s, state_names[i])) return (int)i;
    return -1;
}

/* ---- reading the log ---- */

/* The unspent tokens of union uid (borrowed; made when absent). */
static json_object *union_tokens(bt_outbox *o, const char *uid)
{
    json_object *m;
    if (!json_object_object_get_ex(o->tokens, uid, &m)) {
        m = json_object_new_object();
        json_object_object_add(o->tokens, uid, m);
    }
    return m;
}

size_t bt_outbox_tokens_left(const bt_outbox *o, const char *union_id)
{
    json_object *m;
    return json_object_object_get_ex(o->tokens, union_id, &m) ? (size_t)json_object_object_length(m) : 0;
}

/* Tokens issued: each is the union's until a report entry spends it. */
static void add_tokens(bt_outbox *o, json_object *head)
{
    const char *uid = bt_json_str(head, "union");
    json_object *arr;
    char key[24];
    if (uid == NULL || !json_object_object_get_ex(head, "tokens", &arr) || !json_object_is_type(arr, json_type_array))
        return;
    json_object *m = union_tokens(o, uid);
    for (size_t i = 0; i < json_object_array_length(arr); i++) {
        json_object *tok = json_object_array_get_idx(arr, i);
        const char *t = bt_json_str(tok, "t"), *n = bt_json_str(tok, "n");
        if (t != NULL && n != NULL) json_object_object_add(m, t, json_object_new_string(n));
    }
    snprintf(key, sizeof key, "%lld", (long long)bt_json_int_or(head, "request", 0));
    json_object_object_add(o->answered, key, json_object_new_boolean(1));
}

static void add_report(bt_outbox *o, int64_t id, json_object *head)
{
    const char *rid = bt_json_str(head, "report_id"), *seed = bt_json_str(head, "seed");
    const char *uid = bt_json_str(head, "union");
    json_object *tok;
    if (rid != NULL && seed != NULL) json_object_object_add(o->seeds, rid, json_object_new_string(seed));
    if (rid != NULL && uid != NULL && json_object_object_get_ex(head, "token", &tok) && bt_json_str(tok, "t") != NULL) {
        json_object_object_del(union_tokens(o, uid), bt_json_str(tok, "t")); /* spent on this report id */
        if (!json_object_object_get_ex(o->id_tokens, rid, NULL))
            json_object_object_add(o->id_tokens, rid, json_object_get(tok));
    }
    static const char *const keep[] = {"union", "case", "report_id", "json", "wire", "submit_url"};
    json_object *item = json_object_new_object(), *x;
    json_object_object_add(item, "id", json_object_new_int64(id));
    for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
        if (json_object_object_get_ex(head, keep[i], &x)) json_object_object_add(item, keep[i], json_object_get(x));
    json_object_object_add(item, "state", json_object_new_string("queued"));
    json_object_object_add(item, "updated_at", json_object_new_int64(bt_json_int_or(head, "captured_at", 0)));
    json_object_object_add(item, "attempts", json_object_new_int(0));
    json_object_array_add(o->reports, item);
}

/* A sending attempt (sent or failed) counts; a withdrawal does not. */
static void add_state(bt_outbox *o, json_object *head)
{
    const char *state = bt_json_str(head, "state");
    json_object *item = bt_outbox_report(o, bt_json_int_or(head, "of", 0)), *x;
    if (item == NULL) return;
    json_object_object_add(item, "state", json_object_new_string(state ? state : "queued"));
    json_object_object_add(item, "updated_at", json_object_new_int64(bt_json_int_or(head, "captured_at", 0)));
    if (state != NULL && (!strcmp(state, "sent") || !strcmp(state, "failed")))
        json_object_object_add(item, "attempts", json_object_new_int((int)bt_json_int_or(item, "attempts", 0) + 1));
    if (json_object_object_get_ex(head, "detail", &x)) json_object_object_add(item, "detail", json_object_get(x));
}

typedef struct {
    bt_vault *v;
    bt_outbox *o;
} load_ctx;

static int outbox_one(void *ctx, const bt_vault_entry_info *e)
{
    load_ctx *l = ctx;
    json_object *head = NULL, *x = NULL;
    if (e->body_len == 0 && bt_record_read(l->v, e->id, &head) == BT_OK) {
        const char *type = bt_json_str(head, "type");
        if (type != NULL && !strcmp(type, BT_REC_UNION) && json_object_object_get_ex(head, "entry", &x)) {
            const char *id = bt_json_str(x, "id");
            if (id != NULL) json_object_object_add(l->o->unions, id, json_object_get(x));
        } else if (type != NULL && !strcmp(type, BT_REC_REPORT)) {
            add_report(l->o, e->id, head);
        } else if (type != NULL && !strcmp(type, BT_REC_REPORT_STATE)) {
            add_state(l->o, head);
        } else if (type != NULL && !strcmp(type, BT_REC_TOKENS)) {
            add_tokens(l->o, head);
        }
    }
    json_object_put(head);
    return 0;
}

bt_err bt_outbox_load(bt_outbox *o, bt_vault *v)
{
    int64_t last;
    load_ctx l = {v, o};
    o->unions = json_object_new_object();
    o->reports = json_object_new_array();
    o->seeds = json_object_new_object();
    o->tokens = json_object_new_object();
    o->id_tokens = json_object_new_object();
    o->answered = json_object_new_object();
    bt_err err = bt_vault_state_of(v) == BT_VAULT_LOCKED ? BT_ERR_LOCKED
                                                         : bt_vault_entries(v, 0, INT_MAX, outbox_one, &l, &last);
    if (err != BT_OK) bt_outbox_free(o);
    return err;
}

void bt_outbox_free(bt_outbox *o)
{
    json_object_put(o->unions);
    json_object_put(o->reports);
    json_object_put(o->seeds);
    json_object_put(o->tokens);
    json_object_put(o->id_tokens);
    json_object_put(o->answered);
    o->unions = o->reports = o->seeds = o->tokens = o->id_tokens = o->answered = NULL;
}

json_object *bt_outbox_report(const bt_outbox *o, int64_t id)
{
    for (size_t i = 0; i < json_object_array_length(o->reports); i++) {
        json_object *item = json_object_array_get_idx(o->reports, i);
        if (bt_json_int_or(item, "id", 0) == id) return item;
    }
    return NULL;
}

/* ---- unions ---- */

json_object *bt_outbox_union_json(const bt_union *u)
{
    char buf[UNION_JSON_MAX];
    size_t n;
    json_object *o = NULL;
    if (bt_report_union_render(buf, sizeof buf, &n, u) == BT_OK) bt_json_parse(buf, n, 4, &o);
    return o;
}

bt_err bt_outbox_union(const bt_outbox *o, const char *id, bt_union *u, int *demo, const char **why)
{
    json_object *entry;
    const char *ignored;
    size_t n;
    *demo = 0;
    if (!strcmp(id, "demo")) {
        bt_share_demo_union(u);
        *demo = 1;
        return BT_OK;
    }
    if (!json_object_object_get_ex(o->unions, id, &entry)) {
        if (why) *why = "no union with that id: import its entry first";
        return BT_ERR_NOT_FOUND;
    }
    const char *s = json_object_to_json_string_length(entry, JSON_C_TO_STRING_PLAIN, &n);
    return bt_report_union_parse(u, s, n, &ignored) == BT_OK ? BT_OK : BT_ERR_CORRUPT;
}

bt_err bt_outbox_pin_union(bt_vault *v, const char *json, size_t len, int64_t now, bt_union *u, int64_t *entry,
                           const char **why)
{
    if (bt_report_union_parse(u, json, len, why) != BT_OK) return BT_ERR_BAD_PARAMS;
    if (!strcmp(u->id, "demo")) {
        if (why) *why = "the id demo is the built-in demo union's";
        return BT_ERR_BAD_PARAMS;
    }
    json_object *head = bt_record_new(BT_REC_UNION);
    json_object_object_add(head, "entry", bt_outbox_union_json(u));
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    bt_err err = bt_record_append(v, head, NULL, 0, entry);
    json_object_put(head);
    return err;
}

/* ---- building and queueing reports ---- */

/* ---- report ids and their signing seeds ---- */

/* The secret that tags the report ids this host process mints: random,
 * drawn once, never written anywhere. */
static unsigned char id_key[crypto_generichash_KEYBYTES];
static pthread_once_t id_key_once = PTHREAD_ONCE_INIT;

static void id_key_init(void)
{
    randombytes_buf(id_key, sizeof id_key);
}

/* The second half of a minted id: a keyed hash of its first half, the log
 * (its public key), the case and the union. */
static void id_tag(unsigned char tag[BT_REPORT_ID_BYTES / 2], bt_vault *v, const unsigned char *half, int64_t case_id,
                   const char *union_id)
{
    crypto_generichash_state st;
    unsigned char h[16], c[8];
    pthread_once(&id_key_once, id_key_init);
    for (int i = 0; i < 8; i++) c[i] = (unsigned char)((uint64_t)case_id >> (8 * i));
    crypto_generichash_init(&st, id_key, sizeof id_key, sizeof h);
    crypto_generichash_update(&st, (const unsigned char *)"bantrail-report-id", 18);
    crypto_generichash_update(&st, half, BT_REPORT_ID_BYTES / 2);
    crypto_generichash_update(&st, bt_vault_public_key(v), crypto_box_PUBLICKEYBYTES);
    crypto_generichash_update(&st, c, sizeof c);
    crypto_generichash_update(&st, (const unsigned char *)union_id, strlen(union_id) + 1);
    crypto_generichash_final(&st, h, sizeof h);
    memcpy(tag, h, BT_REPORT_ID_BYTES / 2);
}

/* The id of the outbox's report of this case for this union (the latest),
 * with its seed when the log has one: 1, else 0. */
static int known_id(const bt_outbox *o, int64_t case_id, const char *union_id, unsigned char rid[BT_REPORT_ID_BYTES],
                    unsigned char seed[BT_REPORT_SEED_BYTES], int *have_seed)
{
    int found = 0;
    *have_seed = 0;
    for (size_t i = 0; i < json_object_array_length(o->reports); i++) {
        json_object *item = json_object_array_get_idx(o->reports, i);
        const char *hex = bt_json_str(item, "report_id"), *uid = bt_json_str(item, "union");
        size_t n = 0;
        if (bt_json_int_or(item, "case", 0) == case_id && uid != NULL && !strcmp(uid, union_id) && hex != NULL &&
            sodium_hex2bin(rid, BT_REPORT_ID_BYTES, hex, strlen(hex), NULL, &n, NULL) == 0 && n == BT_REPORT_ID_BYTES)
            found = 1;
    }
    if (found) {
        char hex[2 * BT_REPORT_ID_BYTES + 1];
        json_object *s;
        size_t n = 0;
        sodium_bin2hex(hex, sizeof hex, rid, BT_REPORT_ID_BYTES);
        *have_seed = json_object_object_get_ex(o->seeds, hex, &s) &&
                     sodium_hex2bin(seed, BT_REPORT_SEED_BYTES, json_object_get_string(s),
                                    (size_t)json_object_get_string_len(s), NULL, &n, NULL) == 0 &&
                     n == BT_REPORT_SEED_BYTES;
    }
    return found;
}

/* The report id and seed of case_id for union_id (see bt_outbox_build). */
static bt_err report_id_for(bt_vault *v, const bt_outbox *o, int64_t case_id, const char *union_id, const unsigned char *want_id,
                            unsigned char rid[BT_REPORT_ID_BYTES], unsigned char seed[BT_REPORT_SEED_BYTES],
                            const char **why)
{
    unsigned char tag[BT_REPORT_ID_BYTES / 2];
    int have_seed = 0;
    if (!known_id(o, case_id, union_id, rid, seed, &have_seed)) {
        if (want_id == NULL) {
            bt_report_new_id(rid);
            id_tag(rid + BT_REPORT_ID_BYTES / 2, v, rid, case_id, union_id);
        } else {
            id_tag(tag, v, want_id, case_id, union_id);
            if (sodium_memcmp(tag, want_id + BT_REPORT_ID_BYTES / 2, sizeof tag) != 0) goto foreign;
            memcpy(rid, want_id, BT_REPORT_ID_BYTES);
        }
    } else if (want_id != NULL && sodium_memcmp(rid, want_id, BT_REPORT_ID_BYTES) != 0) {
        goto foreign;
    }
    if (!have_seed) randombytes_buf(seed, BT_REPORT_SEED_BYTES);
    return BT_OK;
foreign:
    if (why) *why = "report_id: not one this log made for this case and union (preview again)";
    return BT_ERR_BAD_PARAMS;
}

/* The case's first readable restriction notice (its header, *notice the
 * caller puts; NULL when there is none). */
static bt_err first_restriction(bt_vault *v, const bt_case *k, json_object **notice)
{
    bt_err err = BT_OK;
    *notice = NULL;
    for (size_t i = 0; i < k->n_events && *notice == NULL; i++)
        if (k->events[i].is_notice && k->events[i].event == BT_EVENT_RESTRICTION)
            err = bt_record_read(v, k->events[i].record, notice);
    return err;
}

/* bin (len bytes) from the hex of member key of o: 0, else -1. */
static int hex_member(unsigned char *bin, size_t len, json_object *o, const char *key)
{
    const char *hex = bt_json_str(o, key);
    size_t n = 0;
    return hex != NULL && sodium_hex2bin(bin, len, hex, strlen(hex), NULL, &n, NULL) == 0 && n == len ? 0 : -1;
}

/* The token the reports of id carry (docs/REPORT.md section 5): the one its
 * earlier reports carried, else one of the union's not spent yet. */
static void choose_token(const bt_outbox *o, const unsigned char rid[BT_REPORT_ID_BYTES], bt_report_built *out)
{
    char hex[2 * BT_REPORT_ID_BYTES + 1];
    json_object *tok = NULL, *m;
    out->has_token = 0;
    out->tokens_left = bt_outbox_tokens_left(o, out->u.id);
    if (out->u.tokens == BT_TOKENS_OFF) return;
    sodium_bin2hex(hex, sizeof hex, rid, BT_REPORT_ID_BYTES);
    if (!json_object_object_get_ex(o->id_tokens, hex, &tok) && json_object_object_get_ex(o->tokens, out->u.id, &m)) {
        json_object_object_foreach(m, t, n) { /* the first left */
            tok = json_object_new_object();
            json_object_object_add(tok, "t", json_object_new_string(t));
            json_object_object_add(tok, "n", json_object_get(n));
            break;
        }
        if (tok != NULL) json_object_object_add(o->id_tokens, hex, tok); /* o is the caller's and freed with it */
    }
    out->has_token = tok != NULL && hex_member(out->token.t, sizeof out->token.t, tok, "t") == 0 &&
                     hex_member(out->token.n, sizeof out->token.n, tok, "n") == 0;
}

/* Derives the report of case k with out->u and the outbox o. */
static bt_err derive(bt_vault *v, const bt_outbox *o, const bt_case *k, const bt_report_ask *ask,
                     const unsigned char *want_id, bt_report_built *out, const char **why)
{
    unsigned char rid[BT_REPORT_ID_BYTES];
    json_object *notice = NULL;
    const char *reason = NULL;
    out->case_id = k->id;
    bt_err err = report_id_for(v, o, k->id, out->u.id, want_id, rid, out->seed, why);
    if (err != BT_OK) return err;
    choose_token(o, rid, out);
    err = first_restriction(v, k, &notice);
    if (err == BT_OK) err = bt_share_derive(&out->report, k, notice, &ask->context, rid, &reason);
    if (reason != NULL && why != NULL) *why = reason;
    json_object_put(notice);
    return err;
}

bt_err bt_outbox_build(bt_vault *v, const bt_report_ask *ask, const unsigned char *want_id, int64_t now,
                       bt_report_built *out, const char **why)
{
    bt_outbox o;
    bt_cases *cs = NULL;
    const bt_case *k;
    bt_err err = bt_outbox_load(&o, v);
    if (err != BT_OK) return err;
    if ((err = bt_outbox_union(&o, ask->union_id, &out->u, &out->demo, why)) == BT_OK &&
        (err = bt_cases_load(&cs, v, 0, now, NULL)) == BT_OK)
        err = (k = bt_cases_find(cs, ask->case_id)) == NULL ? BT_ERR_NOT_FOUND
                                                             : derive(v, &o, k, ask, want_id, out, why);
    bt_cases_free(cs);
    bt_outbox_free(&o);
    return err;
}

/* The report entry of q, sealed report included. */
static bt_err append_report(bt_vault *v, const bt_report_built *b, const char *json, size_t n, int64_t now,
                            bt_report_queued *q)
{
    json_object *head = bt_record_new(BT_REC_REPORT);
    json_object_object_add(head, "union", json_object_new_string(b->u.id));
    json_object_object_add(head, "case", json_object_new_int64(b->case_id));
    json_object_object_add(head, "report_id", json_object_new_string(q->report_id));
    char seed[2 * BT_REPORT_SEED_BYTES + 1];
    sodium_bin2hex(seed, sizeof seed, b->seed, sizeof b->seed);
    json_object_object_add(head, "seed", json_object_new_string(seed));
    sodium_memzero(seed, sizeof seed);
    json_object_object_add(head, "json", json_object_new_string_len(json, (int)n));
    json_object_object_add(head, "wire", json_object_new_string_len(q->wire, (int)q->wire_len));
    json_object_object_add(head, "submit_url", json_object_new_string(b->u.submit_url));
    if (b->has_token) { /* spent on this report id from now on */
        char th[2 * BT_TOKEN_BYTES + 1], nh[2 * BT_TOKEN_POINT_BYTES + 1];
        json_object *tok = json_object_new_object();
        sodium_bin2hex(th, sizeof th, b->token.t, sizeof b->token.t);
        sodium_bin2hex(nh, sizeof nh, b->token.n, sizeof b->token.n);
        json_object_object_add(tok, "t", json_object_new_string(th));
        json_object_object_add(tok, "n", json_object_new_string(nh));
        json_object_object_add(head, "token", tok);
        sodium_memzero(th, sizeof th);
        sodium_memzero(nh, sizeof nh);
    }
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    bt_err err = bt_record_append(v, head, NULL, 0, &q->entry);
    json_object_put(head);
    return err;
}

bt_err bt_outbox_queue(bt_vault *v, const bt_report_ask *ask, const bt_report *shown, const char *previewed,
                       size_t len, int64_t now, bt_report_queued *out, const char **why)
{
    bt_report_built b;
    char json[BT_REPORT_JSON_MAX + 1];
    size_t n;
    bt_err err;
    memset(out, 0, sizeof *out);
    if ((err = bt_outbox_build(v, ask, shown->id, now, &b, why)) != BT_OK) return err;
    err = bt_report_render(json, sizeof json, &n, &b.report);
    /* what is sealed is exactly what the person was shown */
    if (err == BT_OK && (n != len || memcmp(json, previewed, n) != 0)) {
        if (why) *why = "the report is not the one previewed (the case changed?): preview it again";
        err = BT_ERR_BAD_PARAMS;
    }
    if (err == BT_OK && b.u.tokens == BT_TOKENS_REQUIRED && !b.has_token) {
        if (why) *why = "none is left for this union: 'bantrail union tokens' asks it for some";
        err = BT_ERR_TOKEN_REQUIRED;
    }
    if (err == BT_OK)
        err = bt_report_seal(out->wire, sizeof out->wire, &out->wire_len, &b.report, &b.u, b.seed,
                             b.has_token ? &b.token : NULL);
    if (err == BT_OK) {
        sodium_bin2hex(out->report_id, sizeof out->report_id, b.report.id, sizeof b.report.id);
        memcpy(out->submit_url, b.u.submit_url, sizeof out->submit_url);
        err = append_report(v, &b, json, n, now, out);
    }
    sodium_memzero(b.seed, sizeof b.seed);
    sodium_memzero(&b.token, sizeof b.token);
    return err;
}

bt_err bt_outbox_withdrawal(bt_vault *v, int64_t id, bt_report_queued *out, const char **why)
{
    bt_outbox o;
    bt_union u;
    unsigned char rid[BT_REPORT_ID_BYTES], seed[BT_REPORT_SEED_BYTES];
    int demo = 0;
    size_t n = 0;
    json_object *s = NULL;
    const char *ignored = NULL;
    memset(out, 0, sizeof *out);
    bt_err err = bt_outbox_load(&o, v);
    if (err != BT_OK) return err;
    json_object *item = bt_outbox_report(&o, id);
    const char *uid = item ? bt_json_str(item, "union") : NULL, *hex = item ? bt_json_str(item, "report_id") : NULL;
    if (uid == NULL || hex == NULL ||
        sodium_hex2bin(rid, sizeof rid, hex, strlen(hex), NULL, &n, NULL) != 0 || n != sizeof rid)
        err = BT_ERR_NOT_FOUND;
    else if ((err = bt_outbox_union(&o, uid, &u, &demo, &ignored)) == BT_OK &&
             (!json_object_object_get_ex(o.seeds, hex, &s) ||
              sodium_hex2bin(seed, sizeof seed, json_object_get_string(s), (size_t)json_object_get_string_len(s), NULL,
                             &n, NULL) != 0 || n != sizeof seed)) {
        if (why) *why = "this report was queued before sender keys: it cannot be withdrawn at the union";
        err = BT_ERR_BAD_PARAMS;
    }
    if (err == BT_OK) err = bt_report_seal_withdrawal(out->wire, sizeof out->wire, &out->wire_len, rid, &u, seed);
    if (err == BT_OK) {
        out->entry = id;
        sodium_bin2hex(out->report_id, sizeof out->report_id, rid, sizeof rid);
        memcpy(out->submit_url, u.submit_url, sizeof out->submit_url);
    }
    sodium_memzero(seed, sizeof seed);
    bt_outbox_free(&o);
    return err;
}

bt_err bt_outbox_mark(bt_vault *v, int64_t id, bt_report_state state, const char *detail, int64_t now)
{
    bt_outbox o;
    bt_err err = bt_outbox_load(&o, v);
    if (err != BT_OK) return err;
    int known = bt_outbox_report(&o, id) != NULL;
    bt_outbox_free(&o);
    if (!known) return BT_ERR_NOT_FOUND;
    json_object *head = bt_record_new(BT_REC_REPORT_STATE);
    json_object_object_add(head, "of", json_object_new_int64(id));
    json_object_object_add(head, "state", json_object_new_string(state_names[state]));
    if (detail) json_object_object_add(head, "detail", json_object_new_string(detail));
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    err = bt_record_append(v, head, NULL, 0, &id);
    json_object_put(head);
    return err;
}

/* ---- membership tokens (docs/REPORT.md section 5) ---- */

/* The pinned union uid, which must issue tokens. */
static bt_err token_union(const bt_outbox *o, const char *uid, bt_union *u, const char **why)
{
    int demo = 0;
    bt_err err = bt_outbox_union(o, uid, u, &demo, why);
    if (err == BT_OK && u->tokens == BT_TOKENS_OFF) {
        if (why) *why = "this union issues no membership tokens";
        err = BT_ERR_NOT_FOUND;
    }
    return err;
}

bt_err bt_outbox_token_request(bt_vault *v, const char *union_id, size_t n, int64_t now, bt_token_ask *out,
                               const char **why)
{
    bt_outbox o;
    bt_union u;
    unsigned char t[BT_TOKEN_BYTES], r[BT_TOKEN_SCALAR_BYTES];
    char th[2 * BT_TOKEN_BYTES + 1], rh[2 * BT_TOKEN_SCALAR_BYTES + 1], mh[2 * BT_TOKEN_POINT_BYTES + 1];
    static const char suffix[] = "/reports";
    memset(out, 0, sizeof *out);
    if (n < 1 || n > BT_TOKEN_BATCH_MAX) {
        if (why) *why = "count (1-100)";
        return BT_ERR_BAD_PARAMS;
    }
    bt_err err = bt_outbox_load(&o, v);
    if (err != BT_OK) return err;
    err = token_union(&o, union_id, &u, why);
    bt_outbox_free(&o);
    if (err != BT_OK) return err;
    /* the union answers beside where it receives reports: .../reports -> .../tokens */
    size_t ul = strlen(u.submit_url);
    if (ul < sizeof suffix || strcmp(u.submit_url + ul - (sizeof suffix - 1), suffix) != 0) {
        if (why) *why = "this union's submit_url does not end in /reports: it cannot say where to ask for tokens";
        return BT_ERR_NOT_FOUND;
    }
    snprintf(out->token_url, sizeof out->token_url, "%.*s/tokens", (int)(ul - (sizeof suffix - 1)), u.submit_url);
    json_object *head = bt_record_new(BT_REC_TOKEN_REQUEST), *blind = json_object_new_array();
    for (size_t i = 0; i < n && err == BT_OK; i++) {
        json_object *b = json_object_new_object();
        if ((err = bt_token_blind(t, r, out->m[i])) != BT_OK) break;
        sodium_bin2hex(th, sizeof th, t, sizeof t);
        sodium_bin2hex(rh, sizeof rh, r, sizeof r);
        sodium_bin2hex(mh, sizeof mh, out->m[i], sizeof out->m[i]);
        json_object_object_add(b, "t", json_object_new_string(th));
        json_object_object_add(b, "r", json_object_new_string(rh));
        json_object_object_add(b, "m", json_object_new_string(mh));
        json_object_array_add(blind, b);
    }
    sodium_memzero(t, sizeof t);
    sodium_memzero(r, sizeof r);
    sodium_memzero(th, sizeof th);
    sodium_memzero(rh, sizeof rh);
    json_object_object_add(head, "union", json_object_new_string(u.id));
    json_object_object_add(head, "blind", blind);
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    if (err == BT_OK) err = bt_record_append(v, head, NULL, 0, &out->entry);
    json_object_put(head);
    if (err == BT_OK) out->n = n;
    return err;
}

bt_err bt_outbox_token_finish(bt_vault *v, int64_t request, const unsigned char (*z)[BT_TOKEN_POINT_BYTES],
                              const unsigned char (*proof)[BT_TOKEN_PROOF_BYTES], size_t n, int64_t now,
                              size_t *added, size_t *left, const char **why)
{
    bt_outbox o;
    bt_union u;
    json_object *req = NULL, *blind = NULL, *tokens = NULL, *head = NULL;
    unsigned char t[BT_TOKEN_BYTES], r[BT_TOKEN_SCALAR_BYTES], m[BT_TOKEN_POINT_BYTES];
    char key[24], hex[2 * BT_TOKEN_POINT_BYTES + 1];
    const char *type, *uid;
    bt_token tok;
    *added = *left = 0;
    bt_err err = bt_outbox_load(&o, v);
    if (err != BT_OK) return err;
    snprintf(key, sizeof key, "%lld", (long long)request);
    if ((err = bt_record_read(v, request, &req)) != BT_OK || (type = bt_json_str(req, "type")) == NULL ||
        strcmp(type, BT_REC_TOKEN_REQUEST) != 0 || (uid = bt_json_str(req, "union")) == NULL ||
        !json_object_object_get_ex(req, "blind", &blind) || json_object_object_get_ex(o.answered, key, NULL)) {
        if (why) *why = "request: no token request waiting for its answer";
        err = err == BT_OK || err == BT_ERR_NOT_FOUND ? BT_ERR_NOT_FOUND : err;
        goto done;
    }
    if ((err = token_union(&o, uid, &u, why)) != BT_OK) goto done;
    if (n != json_object_array_length(blind)) {
        if (why) *why = "evaluated: not as many as the request asked for";
        err = BT_ERR_BAD_PARAMS;
        goto done;
    }
    tokens = json_object_new_array();
    for (size_t i = 0; i < n; i++) {
        json_object *b = json_object_array_get_idx(blind, i), *one;
        if (hex_member(t, sizeof t, b, "t") != 0 || hex_member(r, sizeof r, b, "r") != 0 || hex_member(m, sizeof m, b, "m") != 0) {
            err = BT_ERR_CORRUPT;
            goto done;
        }
        if (bt_token_finish(&tok, t, r, m, z[i], proof[i], u.token_key) != BT_OK) {
            if (why) *why = "the union's answer does not prove the token key its entry announces (it could tell members "
                            "apart by it): no token kept";
            err = BT_ERR_BAD_TOKEN;
            goto done;
        }
        one = json_object_new_object();
        sodium_bin2hex(hex, sizeof hex, tok.t, sizeof tok.t);
        json_object_object_add(one, "t", json_object_new_string(hex));
        sodium_bin2hex(hex, sizeof hex, tok.n, sizeof tok.n);
        json_object_object_add(one, "n", json_object_new_string(hex));
        json_object_array_add(tokens, one);
    }
    head = bt_record_new(BT_REC_TOKENS);
    json_object_object_add(head, "union", json_object_new_string(u.id));
    json_object_object_add(head, "request", json_object_new_int64(request));
    json_object_object_add(head, "tokens", tokens);
    tokens = NULL;
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    int64_t entry;
    if ((err = bt_record_append(v, head, NULL, 0, &entry)) == BT_OK) {
        *added = n;
        *left = bt_outbox_tokens_left(&o, u.id) + n;
    }
done:
    sodium_memzero(t, sizeof t);
    sodium_memzero(r, sizeof r);
    sodium_memzero(&tok, sizeof tok);
    sodium_memzero(hex, sizeof hex);
    json_object_put(head);
    json_object_put(tokens);
    json_object_put(req);
    bt_outbox_free(&o);
    return err;
}
