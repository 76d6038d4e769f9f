#include "bantrail/rpc.h"

#include <json-c/json.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bantrail/classify.h"
#include "bantrail/frame.h"
#include "bantrail/share.h"
#include "bantrail/cases.h"
#include "bantrail/export.h"
#include "bantrail/records.h"
#include "bantrail/vault.h"
#include "bantrail/version.h"
#include "util/json.h"

/* Member key of o when it is an integer, else 0. */
static int64_t int_or_0(json_object *o, const char *key)
{
    return bt_json_int_or(o, key, 0);
}

#define LIST_LIMIT_MAX 200
#define LIST_LIMIT_DEFAULT 50
#define CHUNK_BYTES ((size_t)512 * 1024) /* raw bytes per attachment page: ~700 KB in base64 */
#define TITLE_SUMMARY_MAX 200
#define JSON_DEPTH 32
#define REPEAT_WINDOW (24 * 60 * 60) /* the same notice again within this: an occurrence */
#define REPEAT_SCAN 2000             /* entries looked back at to rebuild the recent list */
#define FP_BYTES BT_CLASSIFY_FP_BYTES

/* A notice captured lately, by fingerprint: BLAKE2b of its platform, kind and
 * normalised text. The fingerprint is also stored inside the record's
 * encrypted header, so the list can be rebuilt from the log when readable. */
typedef struct {
    unsigned char fp[FP_BYTES];
    int64_t id;
    time_t last_seen;
} recent_notice;

struct bt_rpc {
    char *dir;
    bt_vault *vault;
    bt_err open_err;
    int caller_allowed;
    int auto_lock_minutes;
    time_t last_use;
    recent_notice *recent;
    size_t n_recent, cap_recent;
    uint32_t *recent_slot; /* 2 * cap_recent slots: 1 + index in recent by fingerprint, 0 empty */
    int recent_loaded; /* the list holds what the log had when the host started */
};

typedef struct {
    bt_rpc *r;
    json_object *params;
    json_object *result;  /* set by the method on success */
    const char *detail;   /* optional static text for the error message */
} call;

/* ---- parameters ---- */

/* Fetches params[key]. Returns BT_OK with *out borrowed, or BT_ERR_BAD_PARAMS
 * naming the key when it is missing (and required) or not of type. */
static bt_err param(call *c, const char *key, json_type type, int required, json_object **out)
{
    json_object *o = NULL;
    *out = NULL;
    if (c->params == NULL || !json_object_object_get_ex(c->params, key, &o) || o == NULL) {
        if (!required) return BT_OK;
        c->detail = key;
        return BT_ERR_BAD_PARAMS;
    }
    if (!json_object_is_type(o, type)) {
        c->detail = key;
        return BT_ERR_BAD_PARAMS;
    }
    *out = o;
    return BT_OK;
}

static bt_err param_string(call *c, const char *key, int required, size_t max, const char **out, size_t *len)
{
    json_object *o;
    bt_err err = param(c, key, json_type_string, required, &o);
    *out = NULL;
    if (len) *len = 0;
    if (err != BT_OK || o == NULL) return err;
    size_t n = (size_t)json_object_get_string_len(o);
    if (n > max || (required && n == 0)) {
        c->detail = key;
        return BT_ERR_BAD_PARAMS;
    }
    *out = json_object_get_string(o);
    if (len) *len = n;
    return BT_OK;
}

static bt_err param_int(call *c, const char *key, int required, int64_t lo, int64_t hi, int64_t *out)
{
    json_object *o;
    bt_err err = param(c, key, json_type_int, required, &o);
    if (err != BT_OK || o == NULL) return err;
    int64_t x = json_object_get_int64(o);
    if (x < lo || x > hi) {
        c->detail = key;
        return BT_ERR_BAD_PARAMS;
    }
    *out = x;
    return BT_OK;
}

/* Wipes a secret string in place inside the parsed request. */
static void wipe_param(json_object *params, const char *key)
{
    json_object *o;
    if (params != NULL && json_object_object_get_ex(params, key, &o) &&
        json_object_is_type(o, json_type_string))
        sodium_memzero((char *)json_object_get_string(o), (size_t)json_object_get_string_len(o));
}

/* ---- shared pieces ---- */

static bt_err need_vault(call *c)
{
    if (c->r->vault == NULL) return c->r->open_err;
    return BT_OK;
}

static const char *state_name(bt_vault_state s)
{
    switch (s) {
    case BT_VAULT_UNPROTECTED: return "unprotected";
    case BT_VAULT_LOCKED: return "locked";
    case BT_VAULT_UNLOCKED: return "unlocked";
    }
    return "error";
}

static json_object *hex_string(const unsigned char *bin, size_t n)
{
    char hex[2 * 64 + 1];
    sodium_bin2hex(hex, sizeof hex, bin, n);
    return json_object_new_string(hex);
}

static json_object *b64_string(const unsigned char *bin, size_t n)
{
    size_t cap = sodium_base64_ENCODED_LEN(n, sodium_base64_VARIANT_ORIGINAL);
    char *s = malloc(cap);
    json_object *o = NULL;
    if (s == NULL) return NULL;
    sodium_bin2base64(s, cap, bin, n, sodium_base64_VARIANT_ORIGINAL);
    o = json_object_new_string_len(s, (int)(cap - 1));
    free(s);
    return o;
}

/* Parses text (n bytes) strictly as JSON (bt_json_parse); NULL when it is
 * not, with *err saying why. */
static json_object *parse_strict(const char *text, size_t n, bt_err *err)
{
    json_object *o;
    *err = bt_json_parse(text, n, JSON_DEPTH, &o);
    return o;
}

/* Decrypts entry id's header into a JSON object (the caller puts it). */
static bt_err read_head(bt_vault *v, int64_t id, json_object **out)
{
    char *head = NULL;
    size_t n = 0;
    bt_err err = bt_vault_read(v, id, &head, &n, NULL, NULL);
    *out = NULL;
    if (err != BT_OK) return err;
    *out = parse_strict(head, n, &err);
    if (err == BT_ERR_BAD_JSON) err = BT_ERR_CORRUPT;
    bt_vault_free(head);
    return err;
}

/* ---- methods ---- */

static json_object *capabilities(void);

static bt_err m_hello(call *c)
{
    json_object *res = json_object_new_object();
    json_object *vault = json_object_new_object();
    json_object_object_add(res, "protocol", json_object_new_int(BT_PROTOCOL_VERSION));
    json_object_object_add(res, "version", json_object_new_string(BT_VERSION));
    json_object_object_add(res, "capabilities", capabilities());
    json_object_object_add(res, "caller_allowed", json_object_new_boolean(c->r->caller_allowed));
    json_object *limits = json_object_new_object();
    json_object_object_add(limits, "frame_in_max", json_object_new_int64((int64_t)BT_FRAME_IN_MAX));
    json_object_object_add(limits, "frame_out_max", json_object_new_int64((int64_t)BT_FRAME_OUT_MAX));
    json_object_object_add(limits, "list_max", json_object_new_int(LIST_LIMIT_MAX));
    json_object_object_add(res, "limits", limits);
    /* the words the extension shares with the host, from their one source here
     * (tests/js/facts.test.mjs checks the extension's copies against them) */
    json_object *vocabulary = json_object_new_object(), *events = json_object_new_array();
    for (int e = 0; e < BT_EVENT_COUNT_; e++) json_object_array_add(events, json_object_new_string(bt_event_name(e)));
    json_object_object_add(vocabulary, "events", events);
    json_object_object_add(res, "vocabulary", vocabulary);
    if (c->r->vault != NULL) {
        bt_vault_stats s;
        bt_vault_state st = bt_vault_state_of(c->r->vault);
        json_object_object_add(vault, "state", json_object_new_string(state_name(st)));
        json_object_object_add(vault, "protected", json_object_new_boolean(st != BT_VAULT_UNPROTECTED));
        json_object_object_add(vault, "public_key",
                               b64_string(bt_vault_public_key(c->r->vault), crypto_box_PUBLICKEYBYTES));
        if (bt_vault_stats_of(c->r->vault, &s) == BT_OK) {
            json_object_object_add(vault, "entries", json_object_new_int64(s.entries));
            json_object_object_add(vault, "sessions", json_object_new_int64(s.sessions));
            json_object_object_add(vault, "has_recovery", json_object_new_boolean(s.has_recovery));
            if (s.damaged_at > 0) json_object_object_add(vault, "damaged_at", json_object_new_int64(s.damaged_at));
            json_object_object_add(vault, "head", hex_string(s.head, sizeof s.head));
        }
    } else {
        json_object_object_add(vault, "state", json_object_new_string("error"));
        json_object_object_add(vault, "error", json_object_new_string(bt_err_code(c->r->open_err)));
    }
    json_object_object_add(res, "vault", vault);
    c->result = res;
    return BT_OK;
}

/* ---- capture: classify, fold repeats, store ---- */

static size_t recent_hash(const bt_rpc *r, const unsigned char fp[FP_BYTES])
{
    size_t h = 0;
    memcpy(&h, fp, sizeof h); /* a fingerprint is a hash already */
    return h & (2 * r->cap_recent - 1);
}

static recent_notice *recent_find(bt_rpc *r, const unsigned char fp[FP_BYTES], time_t now)
{
    if (r->cap_recent == 0) return NULL;
    for (size_t h = recent_hash(r, fp); r->recent_slot[h] != 0; h = (h + 1) & (2 * r->cap_recent - 1)) {
        recent_notice *n = &r->recent[r->recent_slot[h] - 1];
        if (memcmp(n->fp, fp, FP_BYTES) == 0 && now - n->last_seen <= REPEAT_WINDOW) return n;
    }
    return NULL;
}

static void recent_index(bt_rpc *r, size_t i)
{
    size_t h = recent_hash(r, r->recent[i].fp);
    while (r->recent_slot[h] != 0) h = (h + 1) & (2 * r->cap_recent - 1);
    r->recent_slot[h] = (uint32_t)i + 1;
}

static void recent_add(bt_rpc *r, const unsigned char fp[FP_BYTES], int64_t id, time_t seen, time_t now)
{
    if (now - seen > REPEAT_WINDOW) return;
    if (r->n_recent == r->cap_recent) { /* full: drop what is past the window, grow if need be, re-index */
        size_t k = 0;
        for (size_t i = 0; i < r->n_recent; i++)
            if (now - r->recent[i].last_seen <= REPEAT_WINDOW) r->recent[k++] = r->recent[i];
        r->n_recent = k;
        size_t cap = r->cap_recent == 0 ? 16 : k * 2 > r->cap_recent ? r->cap_recent * 2 : r->cap_recent;
        if (cap != r->cap_recent && cap < UINT32_MAX / 2) {
            recent_notice *bigger = realloc(r->recent, cap * sizeof *bigger);
            uint32_t *slot = bigger != NULL ? malloc(2 * cap * sizeof *slot) : NULL;
            if (bigger != NULL) r->recent = bigger;
            if (slot != NULL) {
                free(r->recent_slot);
                r->recent_slot = slot;
                r->cap_recent = cap;
            }
        }
        if (r->n_recent == r->cap_recent) return; /* no room: only folding is lost */
        memset(r->recent_slot, 0, 2 * r->cap_recent * sizeof *r->recent_slot);
        for (size_t i = 0; i < r->n_recent; i++) recent_index(r, i);
    }
    recent_notice *n = &r->recent[r->n_recent];
    memcpy(n->fp, fp, FP_BYTES);
    n->id = id;
    n->last_seen = seen;
    recent_index(r, r->n_recent++);
}

static int load_recent_one(void *ctx, const bt_vault_entry_info *e)
{
    bt_rpc *r = ctx;
    json_object *head = NULL;
    time_t now = time(NULL);
    if (e->body_len == 0 && read_head(r->vault, e->id, &head) == BT_OK) {
        const char *type = bt_json_str(head, "type"), *fp_hex = bt_json_str(head, "fp");
        time_t at = (time_t)int_or_0(head, "captured_at");
        unsigned char fp[FP_BYTES];
        size_t n = 0;
        if (type != NULL && !strcmp(type, BT_REC_NOTICE) && fp_hex != NULL &&
            sodium_hex2bin(fp, sizeof fp, fp_hex, strlen(fp_hex), NULL, &n, NULL) == 0 && n == FP_BYTES) {
            recent_add(r, fp, e->id, at, now);
        } else if (type != NULL && !strcmp(type, BT_REC_OCCURRENCE)) {
            for (size_t i = 0; i < r->n_recent; i++)
                if (r->recent[i].id == int_or_0(head, "of") && at > r->recent[i].last_seen) r->recent[i].last_seen = at;
        }
    }
    json_object_put(head);
    return 0;
}

/* Fills the recent list from the log's last entries, once, when readable. */
static void load_recent(bt_rpc *r)
{
    bt_vault_stats s;
    int64_t last;
    if (r->recent_loaded || bt_vault_state_of(r->vault) == BT_VAULT_LOCKED) return;
    if (bt_vault_stats_of(r->vault, &s) != BT_OK) return;
    bt_vault_entries(r->vault, s.entries > REPEAT_SCAN ? s.entries - REPEAT_SCAN : 0, REPEAT_SCAN,
                     load_recent_one, r, &last);
    r->recent_loaded = 1;
}

static bt_err append_json(bt_rpc *r, json_object *head, const unsigned char *body, size_t body_len, int64_t *id)
{
    size_t n;
    const char *s = json_object_to_json_string_length(head, JSON_C_TO_STRING_PLAIN, &n);
    return s ? bt_vault_append(r->vault, s, n, body, body_len, id) : BT_ERR_NO_MEMORY;
}

static bt_err m_capture(call *c)
{
    const char *url, *title, *lang, *text, *software;
    json_object *observed, *cls, *manual_o;
    bt_classification verdict;
    const unsigned char *fp = verdict.fingerprint;
    char fp_hex[2 * FP_BYTES + 1];
    time_t now = time(NULL);
    int64_t id = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "url", 1, 8192, &url, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "text", 1, (size_t)1 << 20, &text, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "title", 0, 4096, &title, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "lang", 0, 35, &lang, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "software", 0, 23, &software, NULL)) != BT_OK) return err;
    if ((err = param(c, "observed_at", json_type_string, 0, &observed)) != BT_OK) return err;
    if ((err = param(c, "classification", json_type_object, 0, &cls)) != BT_OK) return err;
    if ((err = param(c, "manual", json_type_boolean, 0, &manual_o)) != BT_OK) return err;
    int manual = manual_o != NULL && json_object_get_boolean(manual_o);

    /* the host's classifier is the authority; the caller's view is kept beside it */
    if ((err = bt_classify_text_as(&verdict, software, url, title, lang, text)) != BT_OK) return err;
    json_object *verdict_json = bt_classify_to_json(&verdict);
    if (verdict_json == NULL) return BT_ERR_NO_MEMORY;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "classification", verdict_json);
    if (!verdict.notice && !manual) {
        json_object_object_add(c->result, "stored", json_object_new_boolean(0));
        return BT_OK;
    }

    if (!manual) load_recent(c->r);
    recent_notice *seen = manual ? NULL : recent_find(c->r, fp, now);
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(seen ? BT_REC_OCCURRENCE : BT_REC_NOTICE));
    if (seen) json_object_object_add(head, "of", json_object_new_int64(seen->id));
    if (observed) json_object_object_add(head, "observed_at", json_object_get(observed));
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)now));
    if (!seen) {
        sodium_bin2hex(fp_hex, sizeof fp_hex, fp, FP_BYTES);
        json_object_object_add(head, "url", json_object_new_string(url));
        if (title) json_object_object_add(head, "title", json_object_new_string(title));
        if (lang) json_object_object_add(head, "lang", json_object_new_string(lang));
        json_object_object_add(head, "text", json_object_new_string(text));
        json_object_object_add(head, "classification", json_object_get(verdict_json));
        if (cls) json_object_object_add(head, "client_classification", json_object_get(cls));
        if (manual) json_object_object_add(head, "manual", json_object_new_boolean(1));
        json_object_object_add(head, "fp", json_object_new_string(fp_hex));
    }
    err = append_json(c->r, head, NULL, 0, &id);
    json_object_put(head);
    if (err != BT_OK) return err;
    if (seen) seen->last_seen = now;
    else recent_add(c->r, fp, id, now, now);
    json_object_object_add(c->result, "stored", json_object_new_boolean(1));
    json_object_object_add(c->result, "id", json_object_new_int64(seen ? seen->id : id));
    json_object_object_add(c->result, "occurrence", json_object_new_boolean(seen != NULL));
    if (seen) json_object_object_add(c->result, "entry", json_object_new_int64(id));
    return BT_OK;
}

static int stop_at_first(void *ctx, const bt_vault_entry_info *e)
{
    (void)ctx;
    (void)e;
    return 1;
}

static int entry_exists(bt_vault *v, int64_t id)
{
    int64_t last = 0;
    return bt_vault_entries(v, id - 1, 1, stop_at_first, NULL, &last) == BT_OK && last == id;
}

static bt_err m_attach(call *c)
{
    static const char *const mimes[] = {"image/png", "image/jpeg", "image/webp", "text/html"};
    const char *mime, *data;
    size_t data_len;
    int64_t record = 0, id = 0;
    bt_err err;
    int ok = 0;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "record", 1, 1, INT64_MAX, &record)) != BT_OK) return err;
    if ((err = param_string(c, "mime", 1, 64, &mime, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "data", 1, BT_FRAME_IN_MAX, &data, &data_len)) != BT_OK) return err;
    for (size_t i = 0; i < sizeof mimes / sizeof mimes[0]; i++) ok |= strcmp(mime, mimes[i]) == 0;
    if (!ok) { c->detail = "mime"; return BT_ERR_BAD_PARAMS; }
    if (!entry_exists(c->r->vault, record)) return BT_ERR_NOT_FOUND;

    size_t cap = data_len / 4 * 3 + 3, bin_len = 0;
    unsigned char *bin = malloc(cap);
    const char *end = NULL;
    if (bin == NULL) return BT_ERR_NO_MEMORY;
    if (sodium_base642bin(bin, cap, data, data_len, NULL, &bin_len, &end,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || end != data + data_len || bin_len == 0) {
        free(bin);
        c->detail = "data";
        return BT_ERR_BAD_PARAMS;
    }
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(BT_REC_ATTACHMENT));
    json_object_object_add(head, "of", json_object_new_int64(record));
    json_object_object_add(head, "mime", json_object_new_string(mime));
    json_object_object_add(head, "size", json_object_new_int64((int64_t)bin_len));
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    err = append_json(c->r, head, bin, bin_len, &id);
    json_object_put(head);
    sodium_memzero(bin, bin_len);
    free(bin);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "size", json_object_new_int64((int64_t)bin_len));
    return BT_OK;
}

/* ---- captures the extension sealed while the host was away ----
 * The box holds {"v":1,"capture":{capture params},"attachments":[{mime,data}]}
 * or {"v":1,"record":id,"attachments":[...]}, sealed to the log's public key.
 * Readable log: opened and stored at once, as capture + attach. Locked log:
 * kept as it is in a "sealed_capture" entry (the box in its body), and
 * expanded at the next unlock, which appends a "sealed_done" entry naming
 * what it became. Either way the extension may drop its copy. */

/* Runs the captures and attachments of one opened box; sets *result. */
static bt_err m_event_add(call *c);

/* Runs method fn with params (an object) and copies its result into *result. */
static bt_err run_sub(call *c, bt_err (*fn)(call *), json_object *params, json_object *result)
{
    call sub = {c->r, params, NULL, NULL};
    bt_err err = json_object_is_type(params, json_type_object) ? fn(&sub) : BT_ERR_BAD_PARAMS;
    if (err == BT_OK) {
        json_object_object_foreach(sub.result, k, val) json_object_object_add(result, k, json_object_get(val));
    } else {
        c->detail = sub.detail;
    }
    json_object_put(sub.result);
    return err;
}

static bt_err expand_box(call *c, const unsigned char *box, size_t len, json_object **result)
{
    bt_err err;
    json_object *msg = parse_strict((const char *)box, len, &err), *cap = NULL, *ev = NULL, *atts = NULL, *ids;
    int64_t record = 0;
    *result = NULL;
    if (msg == NULL || int_or_0(msg, "v") != 1) {
        json_object_put(msg);
        c->detail = "sealed: not a version 1 capture or event";
        return BT_ERR_BAD_PARAMS;
    }
    json_object_object_get_ex(msg, "attachments", &atts);
    *result = json_object_new_object();
    if (json_object_object_get_ex(msg, "event", &ev)) { /* an appeal submission seen while the host was away */
        err = run_sub(c, m_event_add, ev, *result);
        goto done;
    }
    if (json_object_object_get_ex(msg, "capture", &cap)) {
        if ((err = run_sub(c, m_capture, cap, *result)) != BT_OK) goto done;
        if (!json_object_get_boolean(json_object_object_get(*result, "stored"))) goto done; /* not a notice */
        if (json_object_get_boolean(json_object_object_get(*result, "occurrence"))) atts = NULL; /* one screenshot */
        record = int_or_0(*result, "id");
    } else {
        record = int_or_0(msg, "record");
        json_object_object_add(*result, "id", json_object_new_int64(record));
    }
    ids = json_object_new_array();
    json_object_object_add(*result, "attachments", ids);
    for (size_t i = 0; json_object_is_type(atts, json_type_array) && i < json_object_array_length(atts); i++) {
        json_object *a = json_object_array_get_idx(atts, i), *params = json_object_new_object(), *x;
        json_object_object_add(params, "record", json_object_new_int64(record));
        if (json_object_object_get_ex(a, "mime", &x)) json_object_object_add(params, "mime", json_object_get(x));
        if (json_object_object_get_ex(a, "data", &x)) json_object_object_add(params, "data", json_object_get(x));
        json_object *one = json_object_new_object();
        err = run_sub(c, m_attach, params, one);
        if (err == BT_OK) json_object_array_add(ids, json_object_new_int64(int_or_0(one, "id")));
        json_object_put(one);
        json_object_put(params);
        if (err != BT_OK) goto done;
    }
    err = BT_OK;
done:
    json_object_put(msg);
    if (err != BT_OK) {
        json_object_put(*result);
        *result = NULL;
    }
    return err;
}

static bt_err m_capture_sealed(call *c)
{
    const char *b64;
    size_t b64_len, bin_len = 0;
    unsigned char *bin, *box = NULL;
    size_t box_len = 0;
    int64_t id = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "sealed", 1, BT_FRAME_IN_MAX, &b64, &b64_len)) != BT_OK) return err;
    bin = malloc(b64_len / 4 * 3 + 3);
    if (bin == NULL) return BT_ERR_NO_MEMORY;
    if (sodium_base642bin(bin, b64_len / 4 * 3 + 3, b64, b64_len, NULL, &bin_len, NULL,
                          sodium_base64_VARIANT_ORIGINAL) != 0 || bin_len <= crypto_box_SEALBYTES) {
        free(bin);
        c->detail = "sealed";
        return BT_ERR_BAD_PARAMS;
    }
    err = bt_vault_open_sealed(c->r->vault, bin, bin_len, &box, &box_len);
    if (err == BT_ERR_LOCKED) { /* keep the box as it is until the next unlock */
        json_object *head = json_object_new_object();
        json_object_object_add(head, "type", json_object_new_string(BT_REC_SEALED_CAPTURE));
        json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
        err = append_json(c->r, head, bin, bin_len, &id);
        json_object_put(head);
        if (err == BT_OK) {
            c->result = json_object_new_object();
            json_object_object_add(c->result, "pending", json_object_new_boolean(1));
            json_object_object_add(c->result, "entry", json_object_new_int64(id));
        }
    } else if (err == BT_OK) {
        err = expand_box(c, box, box_len, &c->result);
    }
    bt_vault_free(box);
    free(bin);
    return err;
}

typedef struct {
    bt_vault *v;
    json_object *pending; /* entry id (as key) -> 1 */
} pending_ctx;

static int find_pending(void *ctx, const bt_vault_entry_info *e)
{
    pending_ctx *p = ctx;
    json_object *head = NULL;
    char key[24];
    if (read_head(p->v, e->id, &head) == BT_OK) {
        const char *type = bt_json_str(head, "type");
        if (type != NULL && !strcmp(type, BT_REC_SEALED_CAPTURE)) {
            snprintf(key, sizeof key, "%lld", (long long)e->id);
            json_object_object_add(p->pending, key, json_object_new_int64(e->id));
        } else if (type != NULL && !strcmp(type, BT_REC_SEALED_DONE)) {
            snprintf(key, sizeof key, "%lld", (long long)int_or_0(head, "of"));
            json_object_object_del(p->pending, key);
        }
    }
    json_object_put(head);
    return 0;
}

/* Expands the sealed captures kept while the log was locked. A box that
 * fails stays pending (and is logged by the caller through the count). The
 * mark "sealed_scanned" keeps where the last scan could stop: the entry
 * before the first box still pending, else the last entry it read. */
static int expand_pending(bt_rpc *r)
{
    pending_ctx p = {r->vault, json_object_new_object()};
    int64_t from = 0, last;
    int done = 0;
    bt_vault_mark(r->vault, "sealed_scanned", &from);
    if (bt_vault_entries(r->vault, from, INT_MAX, find_pending, &p, &last) != BT_OK) last = from;
    int64_t scanned = last;
    json_object_object_foreach(p.pending, key, val) {
        (void)key;
        int64_t id = json_object_get_int64(val);
        char *head = NULL;
        unsigned char *sealed = NULL, *box = NULL;
        size_t head_len, sealed_len, box_len;
        json_object *result = NULL;
        call c = {r, NULL, NULL, NULL};
        int delivered = 0;
        if (bt_vault_read(r->vault, id, &head, &head_len, &sealed, &sealed_len) == BT_OK &&
            bt_vault_open_sealed(r->vault, sealed, sealed_len, &box, &box_len) == BT_OK &&
            expand_box(&c, box, box_len, &result) == BT_OK) {
            json_object *mark = json_object_new_object();
            int64_t entry;
            json_object_object_add(mark, "type", json_object_new_string(BT_REC_SEALED_DONE));
            json_object_object_add(mark, "of", json_object_new_int64(id));
            json_object_object_add(mark, "record", json_object_new_int64(int_or_0(result, "id")));
            json_object_object_add(mark, "captured_at", json_object_new_int64((int64_t)time(NULL)));
            delivered = append_json(r, mark, NULL, 0, &entry) == BT_OK;
            done += delivered;
            json_object_put(mark);
        }
        if (!delivered && id <= scanned) scanned = id - 1; /* still pending: the next scan starts with it */
        json_object_put(result);
        bt_vault_free(box);
        bt_vault_free(sealed);
        bt_vault_free(head);
    }
    json_object_put(p.pending);
    if (scanned != from) bt_vault_set_mark(r->vault, "sealed_scanned", scanned);
    return done;
}

static json_object *state_result(bt_rpc *r)
{
    json_object *res = json_object_new_object();
    json_object_object_add(res, "state", json_object_new_string(state_name(bt_vault_state_of(r->vault))));
    return res;
}

static bt_err m_unlock(call *c)
{
    const char *pass, *code;
    size_t pass_len;
    int64_t minutes = c->r->auto_lock_minutes;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "passphrase", 0, BT_PASSPHRASE_MAX, &pass, &pass_len)) != BT_OK) return err;
    if ((err = param_string(c, "recovery_code", 0, 128, &code, NULL)) != BT_OK) return err;
    if ((err = param_int(c, "auto_lock_minutes", 0, 1, 24 * 60, &minutes)) != BT_OK) return err;
    if (pass != NULL) err = bt_vault_unlock(c->r->vault, pass, pass_len);
    else if (code != NULL) err = bt_vault_unlock_recovery(c->r->vault, code);
    else if (bt_vault_state_of(c->r->vault) == BT_VAULT_UNPROTECTED) err = BT_OK;
    else { c->detail = "passphrase"; err = BT_ERR_BAD_PARAMS; }
    if (err != BT_OK) return err;
    c->r->auto_lock_minutes = (int)minutes;
    int expanded = expand_pending(c->r);
    c->result = state_result(c->r);
    json_object_object_add(c->result, "delivered", json_object_new_int(expanded));
    json_object_object_add(c->result, "auto_lock_minutes", json_object_new_int(c->r->auto_lock_minutes));
    return BT_OK;
}

static bt_err m_lock(call *c)
{
    bt_err err = need_vault(c);
    if (err != BT_OK) return err;
    bt_vault_lock(c->r->vault);
    c->result = state_result(c->r);
    return BT_OK;
}

static bt_err m_set_passphrase(call *c)
{
    const char *pass, *old;
    size_t pass_len, old_len;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "new", 1, BT_PASSPHRASE_MAX, &pass, &pass_len)) != BT_OK) return err;
    if ((err = param_string(c, "old", 0, BT_PASSPHRASE_MAX, &old, &old_len)) != BT_OK) return err;
    bt_kdf_params kdf = bt_vault_default_kdf();
    int64_t ops = (int64_t)kdf.opslimit, mem = (int64_t)kdf.memlimit;
    if ((err = param_int(c, "kdf_ops", 0, 1, 64, &ops)) != BT_OK) return err;
    if ((err = param_int(c, "kdf_mem", 0, 8192, (int64_t)4 << 30, &mem)) != BT_OK) return err;
    kdf.opslimit = (unsigned long long)ops;
    kdf.memlimit = (size_t)mem;
    err = bt_vault_set_passphrase(c->r->vault, old, old_len, pass, pass_len, &kdf);
    if (err != BT_OK) return err;
    c->result = state_result(c->r);
    return BT_OK;
}

static bt_err m_recovery_code(call *c)
{
    char *code;
    bt_err err = need_vault(c);
    if (err != BT_OK) return err;
    code = sodium_malloc(BT_RECOVERY_CODE_MAX);
    if (code == NULL) return BT_ERR_NO_MEMORY;
    err = bt_vault_new_recovery_code(c->r->vault, code);
    if (err == BT_OK) {
        c->result = json_object_new_object();
        json_object_object_add(c->result, "code", json_object_new_string(code));
    }
    sodium_free(code);
    return err;
}

typedef struct {
    bt_vault *v;
    json_object *arr;
    int readable;
    bt_err err;
} list_ctx;

/* Adds a short summary of an entry: what it is and where, never its text. */
static int list_one(void *ctx, const bt_vault_entry_info *e)
{
    list_ctx *l = ctx;
    json_object *item = json_object_new_object();
    json_object_object_add(item, "id", json_object_new_int64(e->id));
    json_object_object_add(item, "size", json_object_new_int64((int64_t)(e->head_len + e->body_len)));
    if (l->readable) {
        json_object *head = NULL;
        bt_err err = read_head(l->v, e->id, &head);
        if (err == BT_OK) {
            static const char *const keep[] = {"type", "url", "lang", "observed_at", "captured_at",
                                               "classification", "of", "mime", "size"};
            for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++) {
                json_object *x;
                if (json_object_object_get_ex(head, keep[i], &x))
                    json_object_object_add(item, keep[i], json_object_get(x));
            }
            const char *title = bt_json_str(head, "title");
            if (title != NULL) {
                size_t n = strlen(title);
                if (n > TITLE_SUMMARY_MAX) { /* cut at a UTF-8 boundary */
                    n = TITLE_SUMMARY_MAX;
                    while (n > 0 && ((unsigned char)title[n] & 0xC0) == 0x80) n--;
                }
                json_object_object_add(item, "title", json_object_new_string_len(title, (int)n));
            }
        } else {
            json_object_object_add(item, "error", json_object_new_string(bt_err_code(err)));
        }
        json_object_put(head);
    }
    json_object_array_add(l->arr, item);
    return 0;
}

static bt_err m_list(call *c)
{
    int64_t after = 0, limit = LIST_LIMIT_DEFAULT, last = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "after", 0, 0, INT64_MAX, &after)) != BT_OK) return err;
    if ((err = param_int(c, "limit", 0, 1, LIST_LIMIT_MAX, &limit)) != BT_OK) return err;
    bt_vault_state st = bt_vault_state_of(c->r->vault);
    list_ctx l = {c->r->vault, json_object_new_array(), st != BT_VAULT_LOCKED, BT_OK};
    err = bt_vault_entries(c->r->vault, after, (int)limit, list_one, &l, &last);
    if (err != BT_OK) {
        json_object_put(l.arr);
        return err;
    }
    bt_vault_stats s;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "entries", l.arr);
    json_object_object_add(c->result, "state", json_object_new_string(state_name(st)));
    if (bt_vault_stats_of(c->r->vault, &s) == BT_OK && last < s.entries)
        json_object_object_add(c->result, "next", json_object_new_int64(last));
    else
        json_object_object_add(c->result, "next", NULL);
    return BT_OK;
}

typedef struct {
    bt_vault *v;
    int64_t of;
    json_object *attachments, *occurrences;
} related_ctx;

/* Collects the attachments and later sightings of record a->of. */
static int find_related(void *ctx, const bt_vault_entry_info *e)
{
    related_ctx *a = ctx;
    json_object *head = NULL;
    if (read_head(a->v, e->id, &head) == BT_OK && int_or_0(head, "of") == a->of) {
        const char *type = bt_json_str(head, "type");
        if (type != NULL && strcmp(type, BT_REC_ATTACHMENT) == 0) {
            json_object *item = json_object_new_object();
            const char *mime = bt_json_str(head, "mime");
            json_object_object_add(item, "id", json_object_new_int64(e->id));
            json_object_object_add(item, "mime", json_object_new_string(mime ? mime : ""));
            json_object_object_add(item, "size", json_object_new_int64(int_or_0(head, "size")));
            json_object_array_add(a->attachments, item);
        } else if (type != NULL && strcmp(type, BT_REC_OCCURRENCE) == 0) {
            json_object *item = json_object_new_object();
            json_object_object_add(item, "id", json_object_new_int64(e->id));
            json_object_object_add(item, "captured_at", json_object_new_int64(int_or_0(head, "captured_at")));
            json_object_array_add(a->occurrences, item);
        }
    }
    json_object_put(head);
    return 0;
}

static bt_err m_get(call *c)
{
    int64_t id = 0, offset = 0, last = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "id", 1, 1, INT64_MAX, &id)) != BT_OK) return err;
    if ((err = param_int(c, "offset", 0, 0, INT64_MAX, &offset)) != BT_OK) return err;
    if (bt_vault_state_of(c->r->vault) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;

    char *head_s = NULL;
    unsigned char *body = NULL;
    size_t head_len = 0, body_len = 0;
    err = bt_vault_read(c->r->vault, id, &head_s, &head_len, &body, &body_len);
    if (err != BT_OK) return err;
    json_object *head = parse_strict(head_s, head_len, &err);
    bt_vault_free(head_s);
    if (head == NULL) {
        bt_vault_free(body);
        return BT_ERR_CORRUPT;
    }
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "record", head);
    if (body != NULL) {
        if ((size_t)offset > body_len) offset = (int64_t)body_len;
        size_t n = body_len - (size_t)offset;
        if (n > CHUNK_BYTES) n = CHUNK_BYTES;
        json_object_object_add(c->result, "offset", json_object_new_int64(offset));
        json_object_object_add(c->result, "data", b64_string(body + offset, n));
        json_object_object_add(c->result, "next_offset",
                               (size_t)offset + n < body_len ? json_object_new_int64(offset + (int64_t)n) : NULL);
        bt_vault_free(body);
    } else {
        related_ctx a = {c->r->vault, id, json_object_new_array(), json_object_new_array()};
        bt_vault_entries(c->r->vault, id, INT_MAX, find_related, &a, &last);
        json_object_object_add(c->result, "attachments", a.attachments);
        json_object_object_add(c->result, "occurrences", a.occurrences);
    }
    return BT_OK;
}

static bt_err m_verify(call *c)
{
    bt_vault_verify_result vr;
    bt_err err = need_vault(c);
    if (err != BT_OK) return err;
    if ((err = bt_vault_verify(c->r->vault, &vr)) != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "ok", json_object_new_boolean(vr.bad_id == 0));
    json_object_object_add(c->result, "checked", json_object_new_int64(vr.checked));
    json_object_object_add(c->result, "head", hex_string(vr.head, sizeof vr.head));
    if (vr.bad_id != 0) {
        json_object_object_add(c->result, "bad_id", json_object_new_int64(vr.bad_id));
        json_object_object_add(c->result, "reason", json_object_new_string(vr.reason));
    }
    return BT_OK;
}

static bt_err m_stats(call *c)
{
    bt_vault_stats s;
    bt_err err = need_vault(c);
    if (err != BT_OK) return err;
    if ((err = bt_vault_stats_of(c->r->vault, &s)) != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "entries", json_object_new_int64(s.entries));
    json_object_object_add(c->result, "sessions", json_object_new_int64(s.sessions));
    json_object_object_add(c->result, "stored_bytes", json_object_new_int64(s.bytes));
    json_object_object_add(c->result, "head", hex_string(s.head, sizeof s.head));
    json_object_object_add(c->result, "state",
                           json_object_new_string(state_name(bt_vault_state_of(c->r->vault))));
    return BT_OK;
}

/* ---- cases and appeals (include/bantrail/cases.h, docs/PROTOCOL.md) ---- */

#define CASES_LIMIT_MAX 200
#define CASE_EVENTS_MAX 50
#define NOTE_MAX 4096
#define EVENT_FUTURE_SLACK (24 * 60 * 60) /* an event's time may be this far ahead of the clock */

/* Derives the cases from the whole log; needs it readable. */
static bt_err load_cases(call *c, bt_cases **cs)
{
    bt_err err = need_vault(c);
    *cs = NULL;
    if (err != BT_OK) return err;
    if (bt_vault_state_of(c->r->vault) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;
    return bt_cases_load(cs, c->r->vault, 0, (int64_t)time(NULL), NULL);
}

static bt_err m_cases(call *c)
{
    int64_t after = 0, limit = LIST_LIMIT_DEFAULT;
    bt_cases *cs = NULL;
    bt_err err;
    if ((err = param_int(c, "after", 0, 0, INT64_MAX, &after)) != BT_OK) return err;
    if ((err = param_int(c, "limit", 0, 1, CASES_LIMIT_MAX, &limit)) != BT_OK) return err;
    if ((err = load_cases(c, &cs)) != BT_OK) return err;
    json_object *arr = json_object_new_array();
    size_t n = bt_cases_count(cs), i = 0, shown = 0;
    while (i < n && bt_cases_at(cs, i)->id <= after) i++;
    for (; i < n && shown < (size_t)limit; i++, shown++)
        json_object_array_add(arr, bt_case_to_json(bt_cases_at(cs, i), 0));
    c->result = json_object_new_object();
    json_object_object_add(c->result, "cases", arr);
    json_object_object_add(c->result, "count", json_object_new_int64((int64_t)n));
    json_object_object_add(c->result, "next", i < n ? json_object_new_int64(bt_cases_at(cs, i - 1)->id) : NULL);
    bt_cases_free(cs);
    return BT_OK;
}

/* Adds what the record itself says to a case event: its hash, address,
 * title (cut), stated reason and, for events, the note. Never notice text. */
static void event_details(bt_vault *v, json_object *ev, int64_t id)
{
    unsigned char hash[BT_HASH_BYTES];
    json_object *head = NULL, *cls = NULL;
    if (bt_vault_entry_hash(v, id, hash) == BT_OK) json_object_object_add(ev, "hash", hex_string(hash, sizeof hash));
    if (read_head(v, id, &head) != BT_OK) {
        json_object_object_add(ev, "error", json_object_new_string("corrupt"));
        return;
    }
    const char *url = bt_json_str(head, "url"), *title = bt_json_str(head, "title"), *note = bt_json_str(head, "note");
    if (url) json_object_object_add(ev, "url", json_object_new_string(url));
    if (title) {
        size_t n = strlen(title);
        if (n > TITLE_SUMMARY_MAX) {
            n = TITLE_SUMMARY_MAX;
            while (n > 0 && ((unsigned char)title[n] & 0xC0) == 0x80) n--;
        }
        json_object_object_add(ev, "title", json_object_new_string_len(title, (int)n));
    }
    if (note) json_object_object_add(ev, "note", json_object_new_string(note));
    json_object_object_get_ex(head, "classification", &cls);
    if (bt_json_str(cls, "reason")) json_object_object_add(ev, "reason", json_object_new_string(bt_json_str(cls, "reason")));
    json_object_put(head);
}

static bt_err m_case_get(call *c)
{
    int64_t id = 0, record = 0, offset = 0, limit = CASE_EVENTS_MAX;
    bt_cases *cs = NULL;
    bt_err err;
    if ((err = param_int(c, "id", 0, 1, INT64_MAX, &id)) != BT_OK) return err;
    if ((err = param_int(c, "record", 0, 1, INT64_MAX, &record)) != BT_OK) return err;
    if ((err = param_int(c, "offset", 0, 0, INT64_MAX, &offset)) != BT_OK) return err;
    if ((err = param_int(c, "limit", 0, 1, CASE_EVENTS_MAX, &limit)) != BT_OK) return err;
    if (id == 0 && record == 0) { c->detail = "id"; return BT_ERR_BAD_PARAMS; }
    if ((err = load_cases(c, &cs)) != BT_OK) return err;
    const bt_case *k = id ? bt_cases_find(cs, id) : bt_cases_of_record(cs, record);
    if (k == NULL) {
        bt_cases_free(cs);
        return BT_ERR_NOT_FOUND;
    }
    json_object *cj = bt_case_to_json(k, 1), *events = NULL, *page = json_object_new_array();
    json_object_object_get_ex(cj, "events", &events);
    size_t n = k->n_events, i = (size_t)offset < n ? (size_t)offset : n, end = i + (size_t)limit < n ? i + (size_t)limit : n;
    for (size_t j = i; j < end; j++) {
        json_object *ev = json_object_get(json_object_array_get_idx(events, j));
        event_details(c->r->vault, ev, k->events[j].record);
        json_object_array_add(page, ev);
    }
    json_object_object_add(cj, "events", page);
    c->result = json_object_new_object();
    json_object_object_add(c->result, "case", cj);
    json_object_object_add(c->result, "offset", json_object_new_int64((int64_t)i));
    json_object_object_add(c->result, "next_offset", end < n ? json_object_new_int64((int64_t)end) : NULL);
    bt_cases_free(cs);
    return BT_OK;
}

static bt_err m_case_merge(call *c)
{
    json_object *arr, *x, *y;
    bt_cases *cs = NULL;
    int64_t a, b, id = 0;
    bt_err err;
    if ((err = param(c, "cases", json_type_array, 1, &arr)) != BT_OK) return err;
    x = json_object_array_get_idx(arr, 0);
    y = json_object_array_get_idx(arr, 1);
    if (json_object_array_length(arr) != 2 || !json_object_is_type(x, json_type_int) ||
        !json_object_is_type(y, json_type_int) || json_object_get_int64(x) == json_object_get_int64(y)) {
        c->detail = "cases (two different case ids)";
        return BT_ERR_BAD_PARAMS;
    }
    a = json_object_get_int64(x);
    b = json_object_get_int64(y);
    if ((err = load_cases(c, &cs)) != BT_OK) return err;
    int found = bt_cases_find(cs, a) != NULL && bt_cases_find(cs, b) != NULL;
    bt_cases_free(cs);
    if (!found) return BT_ERR_NOT_FOUND;
    json_object *head = json_object_new_object(), *pair = json_object_new_array();
    json_object_object_add(head, "type", json_object_new_string(BT_REC_CASE_MERGE));
    json_object_array_add(pair, json_object_new_int64(a));
    json_object_array_add(pair, json_object_new_int64(b));
    json_object_object_add(head, "cases", pair);
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    err = append_json(c->r, head, NULL, 0, &id);
    json_object_put(head);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(a < b ? a : b));
    json_object_object_add(c->result, "entry", json_object_new_int64(id));
    return BT_OK;
}

static bt_err m_case_split(call *c)
{
    bt_cases *cs = NULL;
    int64_t record = 0, id = 0, from = 0;
    bt_err err;
    if ((err = param_int(c, "record", 1, 1, INT64_MAX, &record)) != BT_OK) return err;
    if ((err = load_cases(c, &cs)) != BT_OK) return err;
    const bt_case *k = bt_cases_of_record(cs, record);
    if (k != NULL) from = k->id;
    bt_cases_free(cs);
    if (from == 0) return BT_ERR_NOT_FOUND;
    if (from == record) { c->detail = "record is the first of its case: nothing would stay behind"; return BT_ERR_BAD_PARAMS; }
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(BT_REC_CASE_SPLIT));
    json_object_object_add(head, "record", json_object_new_int64(record));
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    err = append_json(c->r, head, NULL, 0, &id);
    json_object_put(head);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "case", json_object_new_int64(from));
    json_object_object_add(c->result, "new_case", json_object_new_int64(record));
    json_object_object_add(c->result, "entry", json_object_new_int64(id));
    return BT_OK;
}

static int platform_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n >= BT_CASE_PLATFORM_MAX) return 0;
    for (; *s; s++)
        if (!((*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_' || *s == '-' || *s == '.')) return 0;
    return 1;
}

static bt_err m_event_add(call *c)
{
    const char *event, *platform, *handle, *outcome, *note;
    json_object *at_o, *manual_o;
    int64_t at = 0, named = 0, id = 0, now = (int64_t)time(NULL);
    char case_platform[BT_CASE_PLATFORM_MAX] = "", case_handle[BT_CASE_HANDLE_MAX] = "";
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "event", 1, 32, &event, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "platform", 0, BT_CASE_PLATFORM_MAX - 1, &platform, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "handle", 0, BT_CASE_HANDLE_MAX - 1, &handle, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "outcome", 0, 16, &outcome, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "note", 0, NOTE_MAX, &note, NULL)) != BT_OK) return err;
    if ((err = param_int(c, "case", 0, 1, INT64_MAX, &named)) != BT_OK) return err;
    if ((err = param(c, "manual", json_type_boolean, 0, &manual_o)) != BT_OK) return err;
    int e = bt_event_parse(event);
    if (e < 0) { c->detail = "event"; return BT_ERR_BAD_PARAMS; }
    /* a decision says how; nothing else has an outcome */
    if ((e == BT_EVENT_DECISION) != (outcome != NULL) ||
        (outcome != NULL && strcmp(outcome, "rejected") != 0 && strcmp(outcome, "reinstated") != 0)) {
        c->detail = "outcome (rejected or reinstated, for a decision only)";
        return BT_ERR_BAD_PARAMS;
    }
    if (!json_object_object_get_ex(c->params, "at", &at_o) || at_o == NULL ||
        !(json_object_is_type(at_o, json_type_int) ? (at = json_object_get_int64(at_o), 1)
          : json_object_is_type(at_o, json_type_string) && bt_cases_parse_time(json_object_get_string(at_o), &at) == 0) ||
        at < 0 || at > now + EVENT_FUTURE_SLACK) {
        c->detail = "at (Unix seconds or ISO 8601, not in the future)";
        return BT_ERR_BAD_PARAMS;
    }
    if (platform != NULL && !platform_ok(platform)) { c->detail = "platform"; return BT_ERR_BAD_PARAMS; }
    if (named != 0) { /* the case must exist: that needs the log readable */
        bt_cases *cs = NULL;
        if ((err = load_cases(c, &cs)) != BT_OK) return err;
        const bt_case *k = bt_cases_find(cs, named);
        if (k != NULL) {
            memcpy(case_platform, k->platform, sizeof case_platform);
            memcpy(case_handle, k->handle, sizeof case_handle);
        }
        bt_cases_free(cs);
        if (k == NULL) return BT_ERR_NOT_FOUND;
        if (platform != NULL && strcmp(platform, case_platform) != 0) {
            c->detail = "platform differs from the case's";
            return BT_ERR_BAD_PARAMS;
        }
        platform = case_platform[0] ? case_platform : NULL;
        if (handle == NULL && case_handle[0]) handle = case_handle;
    } else if (platform == NULL) {
        c->detail = "platform (or case)";
        return BT_ERR_BAD_PARAMS;
    }
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(BT_REC_EVENT));
    json_object_object_add(head, "event", json_object_new_string(bt_event_name((bt_event_kind)e)));
    if (outcome) json_object_object_add(head, "outcome", json_object_new_string(outcome));
    if (platform) json_object_object_add(head, "platform", json_object_new_string(platform));
    if (handle && handle[0]) json_object_object_add(head, "handle", json_object_new_string(handle));
    json_object_object_add(head, "at", json_object_new_int64(at));
    json_object_object_add(head, "manual", json_object_new_boolean(manual_o == NULL || json_object_get_boolean(manual_o)));
    if (note) json_object_object_add(head, "note", json_object_new_string(note));
    if (named) json_object_object_add(head, "case", json_object_new_int64(named));
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    err = append_json(c->r, head, NULL, 0, &id);
    json_object_put(head);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "at", json_object_new_int64(at));
    /* which case it joined, when that can be told */
    bt_cases *cs = NULL;
    const bt_case *k = NULL;
    if (bt_vault_state_of(c->r->vault) != BT_VAULT_LOCKED &&
        bt_cases_load(&cs, c->r->vault, 0, now, NULL) == BT_OK)
        k = bt_cases_of_record(cs, id);
    json_object_object_add(c->result, "case", k ? json_object_new_int64(k->id) : NULL);
    bt_cases_free(cs);
    return BT_OK;
}

static bt_err m_case_export(call *c)
{
    const char *format;
    int64_t id = 0, offset = 0, upto = 0, generated = (int64_t)time(NULL);
    char *doc = NULL, name[64];
    size_t len = 0;
    unsigned char digest[BT_HASH_BYTES];
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "id", 1, 1, INT64_MAX, &id)) != BT_OK) return err;
    if ((err = param_string(c, "format", 1, 8, &format, NULL)) != BT_OK) return err;
    if ((err = param_int(c, "offset", 0, 0, INT64_MAX, &offset)) != BT_OK) return err;
    if ((err = param_int(c, "upto", 0, 1, INT64_MAX, &upto)) != BT_OK) return err;
    if ((err = param_int(c, "generated_at", 0, 0, INT64_MAX, &generated)) != BT_OK) return err;
    int fmt = bt_export_format_parse(format);
    if (fmt < 0) { c->detail = "format (html or json)"; return BT_ERR_BAD_PARAMS; }
    if (bt_vault_state_of(c->r->vault) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;
    if ((err = bt_export_case(&doc, &len, c->r->vault, id, (bt_export_format)fmt, &upto, generated)) != BT_OK)
        return err;
    crypto_generichash(digest, sizeof digest, (const unsigned char *)doc, len, NULL, 0);
    if ((size_t)offset > len) offset = (int64_t)len;
    size_t n = len - (size_t)offset;
    if (n > CHUNK_BYTES) n = CHUNK_BYTES;
    snprintf(name, sizeof name, "bantrail-case-%lld.%s", (long long)id, fmt == BT_EXPORT_JSON ? "json" : "html");
    c->result = json_object_new_object();
    json_object_object_add(c->result, "format", json_object_new_string(fmt == BT_EXPORT_JSON ? "json" : "html"));
    json_object_object_add(c->result, "filename", json_object_new_string(name));
    json_object_object_add(c->result, "size", json_object_new_int64((int64_t)len));
    json_object_object_add(c->result, "digest", hex_string(digest, sizeof digest));
    json_object_object_add(c->result, "upto", json_object_new_int64(upto));
    json_object_object_add(c->result, "generated_at", json_object_new_int64(generated));
    json_object_object_add(c->result, "offset", json_object_new_int64(offset));
    json_object_object_add(c->result, "data", b64_string((const unsigned char *)doc + offset, n));
    json_object_object_add(c->result, "next_offset",
                           (size_t)offset + n < len ? json_object_new_int64(offset + (int64_t)n) : NULL);
    bt_export_free(doc, len);
    return BT_OK;
}

/* ---- sharing with a union: unions, previews, the outbox (docs/REPORT.md) ----
 * Pinned unions and the outbox live in the log like everything else:
 * {"type":"union","entry":{...}} pins a union (a later one with the same id
 * replaces it), {"type":"report",...} queues a sealed report and
 * {"type":"report_state","of":N,"state":...} records what became of it. */

typedef struct {
    bt_vault *v;
    json_object *unions;  /* id -> entry object */
    json_object *reports; /* array of outbox items, in log order */
} outbox_ctx;

static int outbox_one(void *ctx, const bt_vault_entry_info *e)
{
    outbox_ctx *o = ctx;
    json_object *head = NULL, *x = NULL;
    if (e->body_len == 0 && read_head(o->v, e->id, &head) == BT_OK) {
        const char *type = bt_json_str(head, "type");
        if (type != NULL && !strcmp(type, BT_REC_UNION) && json_object_object_get_ex(head, "entry", &x)) {
            const char *id = bt_json_str(x, "id");
            if (id != NULL) json_object_object_add(o->unions, id, json_object_get(x));
        } else if (type != NULL && !strcmp(type, BT_REC_REPORT)) {
            json_object *item = json_object_new_object();
            static const char *const keep[] = {"union", "case", "report_id", "json", "wire", "submit_url"};
            json_object_object_add(item, "id", json_object_new_int64(e->id));
            for (size_t i = 0; i < sizeof keep / sizeof keep[0]; i++)
                if (json_object_object_get_ex(head, keep[i], &x)) json_object_object_add(item, keep[i], json_object_get(x));
            json_object_object_add(item, "state", json_object_new_string("queued"));
            json_object_object_add(item, "updated_at", json_object_new_int64(int_or_0(head, "captured_at")));
            json_object_object_add(item, "attempts", json_object_new_int(0));
            json_object_array_add(o->reports, item);
        } else if (type != NULL && !strcmp(type, BT_REC_REPORT_STATE)) {
            for (size_t i = 0; i < json_object_array_length(o->reports); i++) {
                json_object *item = json_object_array_get_idx(o->reports, i);
                if (int_or_0(item, "id") != int_or_0(head, "of")) continue;
                const char *state = bt_json_str(head, "state");
                json_object_object_add(item, "state", json_object_new_string(state ? state : "queued"));
                json_object_object_add(item, "updated_at", json_object_new_int64(int_or_0(head, "captured_at")));
                if (state != NULL && (!strcmp(state, "sent") || !strcmp(state, "failed")))
                    json_object_object_add(item, "attempts", json_object_new_int((int)int_or_0(item, "attempts") + 1));
                if (json_object_object_get_ex(head, "detail", &x))
                    json_object_object_add(item, "detail", json_object_get(x));
            }
        }
    }
    json_object_put(head);
    return 0;
}

/* Reads the pinned unions and the outbox from the log (readable only). */
static bt_err load_outbox(call *c, outbox_ctx *o)
{
    int64_t last;
    bt_err err = need_vault(c);
    o->v = c->r->vault;
    o->unions = json_object_new_object();
    o->reports = json_object_new_array();
    if (err == BT_OK && bt_vault_state_of(o->v) == BT_VAULT_LOCKED) err = BT_ERR_LOCKED;
    if (err == BT_OK) err = bt_vault_entries(o->v, 0, INT_MAX, outbox_one, o, &last);
    if (err != BT_OK) {
        json_object_put(o->unions);
        json_object_put(o->reports);
    }
    return err;
}

static void free_outbox(outbox_ctx *o)
{
    json_object_put(o->unions);
    json_object_put(o->reports);
}

static json_object *union_json(const bt_union *u, int demo)
{
    char buf[2048];
    size_t n;
    bt_err err;
    if (bt_report_union_render(buf, sizeof buf, &n, u) != BT_OK) return NULL;
    json_object *o = parse_strict(buf, n, &err);
    if (o != NULL) json_object_object_add(o, "demo", json_object_new_boolean(demo));
    return o;
}

/* Finds union id: the demo one or a pinned one. */
static bt_err find_union(call *c, outbox_ctx *o, const char *id, bt_union *u, int *demo)
{
    json_object *entry;
    const char *why;
    *demo = 0;
    if (!strcmp(id, "demo")) {
        bt_share_demo_union(u);
        *demo = 1;
        return BT_OK;
    }
    if (!json_object_object_get_ex(o->unions, id, &entry)) {
        c->detail = "no union with that id: import its entry first";
        return BT_ERR_NOT_FOUND;
    }
    size_t n;
    const char *s = json_object_to_json_string_length(entry, JSON_C_TO_STRING_PLAIN, &n);
    return bt_report_union_parse(u, s, n, &why) == BT_OK ? BT_OK : BT_ERR_CORRUPT;
}

static bt_err m_unions(call *c)
{
    outbox_ctx o;
    bt_union demo;
    bt_err err = load_outbox(c, &o);
    if (err != BT_OK) return err;
    json_object *arr = json_object_new_array();
    bt_share_demo_union(&demo);
    json_object_array_add(arr, union_json(&demo, 1));
    json_object_object_foreach(o.unions, key, val) {
        (void)key;
        json_object *item = json_object_get(val);
        json_object_object_add(item, "demo", json_object_new_boolean(0));
        json_object_array_add(arr, item);
    }
    free_outbox(&o);
    c->result = json_object_new_object();
    json_object_object_add(c->result, "unions", arr);
    return BT_OK;
}

static bt_err m_union_import(call *c)
{
    json_object *entry;
    bt_union u;
    const char *why = NULL;
    int64_t id;
    size_t n;
    bt_err err = need_vault(c);
    if (err != BT_OK) return err;
    if ((err = param(c, "entry", json_type_object, 1, &entry)) != BT_OK) return err;
    const char *s = json_object_to_json_string_length(entry, JSON_C_TO_STRING_PLAIN, &n);
    if (bt_report_union_parse(&u, s, n, &why) != BT_OK) {
        c->detail = why;
        return BT_ERR_BAD_PARAMS;
    }
    if (!strcmp(u.id, "demo")) {
        c->detail = "the id demo is the built-in demo union's";
        return BT_ERR_BAD_PARAMS;
    }
    json_object *head = json_object_new_object(), *pinned = union_json(&u, 0);
    json_object_object_del(pinned, "demo");
    json_object_object_add(head, "type", json_object_new_string(BT_REC_UNION));
    json_object_object_add(head, "entry", pinned);
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    err = append_json(c->r, head, NULL, 0, &id);
    json_object_put(head);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_string(u.id));
    json_object_object_add(c->result, "entry", json_object_new_int64(id));
    return BT_OK;
}

/* Builds the report of params {case, union, context} (used by preview and
 * queue) with report id want_id (NULL: a fresh one), unless the outbox already
 * holds one for this case and union, whose id is kept so that the union
 * updates that report. On BT_OK *rep, *u and the loaded outbox *o are filled. */
static bt_err build_report(call *c, outbox_ctx *o, bt_report *rep, bt_union *u, int *demo, int64_t *case_id,
                           const unsigned char *want_id)
{
    const char *union_id, *account_type = NULL, *country = NULL, *why = NULL;
    json_object *ctx = NULL, *paid = NULL, *notice = NULL;
    bt_cases *cs = NULL;
    unsigned char rid[BT_REPORT_ID_BYTES];
    bt_err err;
    if ((err = param_int(c, "case", 1, 1, INT64_MAX, case_id)) != BT_OK) return err;
    if ((err = param_string(c, "union", 1, 64, &union_id, NULL)) != BT_OK) return err;
    if ((err = param(c, "context", json_type_object, 0, &ctx)) != BT_OK) return err;
    if (ctx != NULL) {
        account_type = bt_json_str(ctx, "account_type");
        country = bt_json_str(ctx, "country");
        json_object_object_get_ex(ctx, "paid_verification", &paid);
        if (paid != NULL && !json_object_is_type(paid, json_type_boolean)) {
            c->detail = "context.paid_verification";
            return BT_ERR_BAD_PARAMS;
        }
    }
    if ((err = load_outbox(c, o)) != BT_OK) return err;
    if ((err = find_union(c, o, union_id, u, demo)) != BT_OK) goto done;
    if ((err = bt_cases_load(&cs, c->r->vault, 0, (int64_t)time(NULL), NULL)) != BT_OK) goto done;
    const bt_case *cs_one = bt_cases_find(cs, *case_id);
    if (cs_one == NULL) { err = BT_ERR_NOT_FOUND; goto done; }
    *case_id = cs_one->id;
    /* the same case for the same union keeps its report id: the union updates it */
    if (want_id != NULL) memcpy(rid, want_id, sizeof rid);
    else randombytes_buf(rid, sizeof rid);
    for (size_t i = 0; i < json_object_array_length(o->reports); i++) {
        json_object *item = json_object_array_get_idx(o->reports, i);
        const char *hex = bt_json_str(item, "report_id"), *uid = bt_json_str(item, "union");
        size_t n = 0;
        if (int_or_0(item, "case") == *case_id && uid != NULL && !strcmp(uid, u->id) && hex != NULL)
            sodium_hex2bin(rid, sizeof rid, hex, strlen(hex), NULL, &n, NULL);
    }
    for (size_t i = 0; i < cs_one->n_events && notice == NULL; i++)
        if (cs_one->events[i].is_notice && cs_one->events[i].event == BT_EVENT_RESTRICTION)
            err = read_head(c->r->vault, cs_one->events[i].record, &notice);
    if (err != BT_OK) goto done;
    bt_share_context sc = {account_type, paid ? json_object_get_boolean(paid) : -1, country};
    err = bt_share_derive(rep, cs_one, notice, &sc, rid, &why);
    if (why != NULL) c->detail = why;
done:
    json_object_put(notice);
    bt_cases_free(cs);
    if (err != BT_OK) free_outbox(o);
    return err;
}

static json_object *union_summary(const bt_union *u, int demo)
{
    json_object *o = json_object_new_object();
    json_object_object_add(o, "id", json_object_new_string(u->id));
    json_object_object_add(o, "name", json_object_new_string(u->name));
    json_object_object_add(o, "policy_url", json_object_new_string(u->policy_url));
    json_object_object_add(o, "demo", json_object_new_boolean(demo));
    return o;
}

static bt_err m_report_preview(call *c)
{
    outbox_ctx o;
    bt_report rep;
    bt_union u;
    int demo;
    int64_t case_id = 0;
    char json[BT_REPORT_JSON_MAX + 1];
    size_t n;
    bt_err err = build_report(c, &o, &rep, &u, &demo, &case_id, NULL);
    if (err != BT_OK) return err;
    free_outbox(&o);
    if ((err = bt_report_render(json, sizeof json, &n, &rep)) != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "case", json_object_new_int64(case_id));
    json_object_object_add(c->result, "json", json_object_new_string_len(json, (int)n));
    json_object_object_add(c->result, "report", parse_strict(json, n, &err));
    json_object_object_add(c->result, "words", bt_share_words(&rep));
    json_object_object_add(c->result, "union", union_summary(&u, demo));
    return BT_OK;
}

static bt_err m_report_queue(call *c)
{
    outbox_ctx o;
    json_object *confirm;
    bt_report rep;
    bt_union u;
    int demo;
    int64_t case_id = 0, id = 0;
    char json[BT_REPORT_JSON_MAX + 1], wire[BT_REPORT_WIRE_MAX + 1], rid[2 * BT_REPORT_ID_BYTES + 1];
    size_t n, wire_len;
    const char *previewed, *why;
    size_t previewed_len;
    bt_report shown;
    bt_err err = param(c, "confirm", json_type_boolean, 1, &confirm);
    if (err != BT_OK) return err;
    if (!json_object_get_boolean(confirm)) {
        c->detail = "confirm must be true: the person confirms each report";
        return BT_ERR_BAD_PARAMS;
    }
    /* what is sealed is exactly what the person was shown */
    if ((err = param_string(c, "json", 1, BT_REPORT_JSON_MAX, &previewed, &previewed_len)) != BT_OK) return err;
    if (bt_report_parse(&shown, previewed, previewed_len, &why) != BT_OK) {
        c->detail = "json: not the preview's report";
        return BT_ERR_BAD_PARAMS;
    }
    if ((err = build_report(c, &o, &rep, &u, &demo, &case_id, shown.id)) != BT_OK) return err;
    free_outbox(&o);
    if ((err = bt_report_render(json, sizeof json, &n, &rep)) != BT_OK) return err;
    if (n != previewed_len || memcmp(json, previewed, n) != 0) {
        c->detail = "the report is not the one previewed (the case changed?): preview it again";
        return BT_ERR_BAD_PARAMS;
    }
    if ((err = bt_report_seal(wire, sizeof wire, &wire_len, &rep, &u)) != BT_OK) return err;
    sodium_bin2hex(rid, sizeof rid, rep.id, sizeof rep.id);
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(BT_REC_REPORT));
    json_object_object_add(head, "union", json_object_new_string(u.id));
    json_object_object_add(head, "case", json_object_new_int64(case_id));
    json_object_object_add(head, "report_id", json_object_new_string(rid));
    json_object_object_add(head, "json", json_object_new_string_len(json, (int)n));
    json_object_object_add(head, "wire", json_object_new_string_len(wire, (int)wire_len));
    json_object_object_add(head, "submit_url", json_object_new_string(u.submit_url));
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    err = append_json(c->r, head, NULL, 0, &id);
    json_object_put(head);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "report_id", json_object_new_string(rid));
    json_object_object_add(c->result, "submit_url", json_object_new_string(u.submit_url));
    json_object_object_add(c->result, "wire", json_object_new_string_len(wire, (int)wire_len));
    return BT_OK;
}

static bt_err m_report_list(call *c)
{
    outbox_ctx o;
    bt_err err = load_outbox(c, &o);
    if (err != BT_OK) return err;
    for (size_t i = 0; i < json_object_array_length(o.reports); i++)
        json_object_object_del(json_object_array_get_idx(o.reports, i), "wire"); /* report_get has it */
    c->result = json_object_new_object();
    json_object_object_add(c->result, "reports", json_object_get(o.reports));
    free_outbox(&o);
    return BT_OK;
}

/* The outbox item with entry id `id` (a new reference), or NULL. */
static json_object *outbox_item(outbox_ctx *o, int64_t id)
{
    for (size_t i = 0; i < json_object_array_length(o->reports); i++) {
        json_object *item = json_object_array_get_idx(o->reports, i);
        if (int_or_0(item, "id") == id) return json_object_get(item);
    }
    return NULL;
}

static bt_err m_report_get(call *c)
{
    outbox_ctx o;
    int64_t id = 0;
    bt_err err = param_int(c, "id", 1, 1, INT64_MAX, &id);
    if (err == BT_OK) err = load_outbox(c, &o);
    if (err != BT_OK) return err;
    c->result = outbox_item(&o, id);
    free_outbox(&o);
    return c->result != NULL ? BT_OK : BT_ERR_NOT_FOUND;
}

static bt_err m_report_mark(call *c)
{
    static const char *const states[] = {"sent", "failed", "withdrawn"};
    outbox_ctx o;
    const char *state, *detail;
    int64_t id = 0, entry = 0;
    int known = 0;
    bt_err err;
    if ((err = param_int(c, "id", 1, 1, INT64_MAX, &id)) != BT_OK) return err;
    if ((err = param_string(c, "state", 1, 16, &state, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "detail", 0, 200, &detail, NULL)) != BT_OK) return err;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) known |= !strcmp(state, states[i]);
    if (!known) {
        c->detail = "state must be sent, failed or withdrawn";
        return BT_ERR_BAD_PARAMS;
    }
    if ((err = load_outbox(c, &o)) != BT_OK) return err;
    json_object *item = outbox_item(&o, id);
    free_outbox(&o);
    if (item == NULL) return BT_ERR_NOT_FOUND;
    json_object_put(item);
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(BT_REC_REPORT_STATE));
    json_object_object_add(head, "of", json_object_new_int64(id));
    json_object_object_add(head, "state", json_object_new_string(state));
    if (detail) json_object_object_add(head, "detail", json_object_new_string(detail));
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    err = append_json(c->r, head, NULL, 0, &entry);
    json_object_put(head);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "state", json_object_new_string(state));
    return BT_OK;
}

static const struct {
    const char *name;
    bt_err (*fn)(call *);
    int touches_secret; /* resets the auto-lock timer */
} methods[] = {
    {"hello", m_hello, 0},
    {"capture", m_capture, 0},
    {"attach", m_attach, 0},
    {"capture_sealed", m_capture_sealed, 0},
    {"unlock", m_unlock, 1},
    {"lock", m_lock, 0},
    {"set_passphrase", m_set_passphrase, 1},
    {"recovery_code", m_recovery_code, 1},
    {"list", m_list, 1},
    {"get", m_get, 1},
    {"verify", m_verify, 0},
    {"stats", m_stats, 0},
    {"unions", m_unions, 1},
    {"union_import", m_union_import, 1},
    {"report_preview", m_report_preview, 1},
    {"report_queue", m_report_queue, 1},
    {"report_list", m_report_list, 1},
    {"report_get", m_report_get, 1},
    {"report_mark", m_report_mark, 1},
    {"cases", m_cases, 1},
    {"case_get", m_case_get, 1},
    {"case_merge", m_case_merge, 1},
    {"case_split", m_case_split, 1},
    {"event_add", m_event_add, 0},
    {"case_export", m_case_export, 1},
};

/* Every method but hello: what this host can do. */
static json_object *capabilities(void)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++)
        if (methods[i].fn != m_hello) json_object_array_add(arr, json_object_new_string(methods[i].name));
    return arr;
}

/* ---- the dispatcher ---- */

bt_rpc *bt_rpc_new(const char *data_dir, int caller_allowed)
{
    bt_rpc *r = calloc(1, sizeof *r);
    if (r == NULL) return NULL;
    r->dir = strdup(data_dir);
    if (r->dir == NULL) {
        free(r);
        return NULL;
    }
    r->caller_allowed = caller_allowed;
    r->auto_lock_minutes = BT_AUTO_LOCK_DEFAULT;
    r->last_use = time(NULL);
    r->open_err = bt_vault_open(&r->vault, data_dir);
    return r;
}

void bt_rpc_free(bt_rpc *r)
{
    if (r == NULL) return;
    bt_vault_close(r->vault);
    free(r->recent);
    free(r->recent_slot);
    free(r->dir);
    free(r);
}

static char *reply(json_object *id, json_object *result, bt_err err, const char *detail, size_t *len)
{
    json_object *o = json_object_new_object();
    char *out = NULL;
    json_object_object_add(o, "id", id ? json_object_get(id) : NULL);
    if (err == BT_OK) {
        json_object_object_add(o, "result", result);
    } else {
        json_object *e = json_object_new_object();
        json_object_object_add(e, "code", json_object_new_string(bt_err_code(err)));
        if (detail != NULL) {
            char msg[256];
            snprintf(msg, sizeof msg, "%s: %s", bt_err_message(err), detail);
            json_object_object_add(e, "message", json_object_new_string(msg));
        } else {
            json_object_object_add(e, "message", json_object_new_string(bt_err_message(err)));
        }
        json_object_object_add(o, "error", e);
        json_object_put(result);
    }
    const char *s = json_object_to_json_string_length(o, JSON_C_TO_STRING_PLAIN, len);
    if (s != NULL) out = strdup(s);
    json_object_put(o);
    return out;
}

char *bt_rpc_handle(bt_rpc *r, char *frame, size_t len, bt_err frame_err,
                    size_t *reply_len, const char **method_out, bt_err *err_out)
{
    json_object *req = NULL, *id = NULL, *m = NULL;
    call c = {r, NULL, NULL, NULL};
    bt_err err = frame_err;
    const char *name = "-";
    char *out;
    size_t i = 0, n = sizeof methods / sizeof methods[0];

    if (err == BT_OK) req = parse_strict(frame, len, &err);
    if (frame != NULL) sodium_memzero(frame, len);
    if (err == BT_OK) {
        if (!json_object_is_type(req, json_type_object) ||
            !json_object_object_get_ex(req, "method", &m) || !json_object_is_type(m, json_type_string)) {
            err = BT_ERR_BAD_REQUEST;
        }
        if (json_object_is_type(req, json_type_object) && json_object_object_get_ex(req, "id", &id) &&
            !(json_object_is_type(id, json_type_int) || json_object_is_type(id, json_type_string))) {
            id = NULL;
            err = BT_ERR_BAD_REQUEST;
            c.detail = "id must be a number or a string";
        }
    }
    if (err == BT_OK) {
        for (i = 0; i < n && strcmp(methods[i].name, json_object_get_string(m)) != 0; i++) {}
        if (i == n) err = BT_ERR_UNKNOWN_METHOD;
        else name = methods[i].name;
    }
    if (err == BT_OK && json_object_object_get_ex(req, "params", &c.params) && c.params != NULL &&
        !json_object_is_type(c.params, json_type_object)) {
        err = BT_ERR_BAD_PARAMS;
        c.detail = "params must be an object";
    }
    if (err == BT_OK && !r->caller_allowed && methods[i].fn != m_hello) err = BT_ERR_CALLER_NOT_ALLOWED;
    if (err == BT_OK) {
        err = methods[i].fn(&c);
        if (methods[i].touches_secret) r->last_use = time(NULL);
    }
    wipe_param(c.params, "passphrase");
    wipe_param(c.params, "recovery_code");
    wipe_param(c.params, "new");
    wipe_param(c.params, "old");
    out = reply(id, c.result, err, c.detail, reply_len);
    if (out != NULL && *reply_len > BT_FRAME_OUT_MAX) {
        free(out);
        err = BT_ERR_RESULT_TOO_LARGE;
        out = reply(id, NULL, err, NULL, reply_len);
    }
    json_object_put(req);
    if (method_out) *method_out = name;
    if (err_out) *err_out = err;
    return out;
}

int bt_rpc_idle_left(bt_rpc *r, time_t now)
{
    if (r->vault == NULL || bt_vault_state_of(r->vault) != BT_VAULT_UNLOCKED) return -1;
    time_t due = r->last_use + (time_t)r->auto_lock_minutes * 60;
    return due > now ? (int)(due - now) : 0;
}

int bt_rpc_tick(bt_rpc *r, time_t now)
{
    if (bt_rpc_idle_left(r, now) != 0) return 0;
    bt_vault_lock(r->vault);
    return 1;
}
