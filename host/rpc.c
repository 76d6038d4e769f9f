#include "bantrail/rpc.h"

#include <json-c/json.h>
#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bantrail/frame.h"
#include "bantrail/vault.h"

#define LIST_LIMIT_MAX 200
#define LIST_LIMIT_DEFAULT 50
#define CHUNK_BYTES ((size_t)512 * 1024) /* raw bytes per attachment page: ~700 KB in base64 */
#define TITLE_SUMMARY_MAX 200
#define JSON_DEPTH 32

struct bt_rpc {
    char *dir;
    bt_vault *vault;
    bt_err open_err;
    int caller_allowed;
    int auto_lock_minutes;
    time_t last_use;
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

/* Parses text (n bytes) strictly as JSON; NULL when it is not. */
static json_object *parse_strict(const char *text, size_t n, bt_err *err)
{
    json_tokener *tok = json_tokener_new_ex(JSON_DEPTH);
    json_object *o = NULL;
    *err = BT_ERR_NO_MEMORY;
    if (tok == NULL) return NULL;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    if (n <= INT_MAX) o = json_tokener_parse_ex(tok, text, (int)n);
    if (o == NULL || json_tokener_get_error(tok) != json_tokener_success ||
        json_tokener_get_parse_end(tok) != n) {
        json_object_put(o);
        o = NULL;
        *err = BT_ERR_BAD_JSON;
    } else {
        *err = BT_OK;
    }
    json_tokener_free(tok);
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

static const char *get_str(json_object *o, const char *key)
{
    json_object *x;
    if (o == NULL || !json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
        return NULL;
    return json_object_get_string(x);
}

static int64_t get_int(json_object *o, const char *key)
{
    json_object *x;
    if (o == NULL || !json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int))
        return 0;
    return json_object_get_int64(x);
}

/* ---- methods ---- */

static bt_err m_hello(call *c)
{
    static const char *const caps[] = {"capture", "attach", "unlock", "lock", "set_passphrase",
                                       "recovery_code", "list", "get", "verify", "stats"};
    json_object *res = json_object_new_object(), *arr = json_object_new_array();
    json_object *vault = json_object_new_object();
    json_object_object_add(res, "protocol", json_object_new_int(BT_PROTOCOL_VERSION));
    json_object_object_add(res, "version", json_object_new_string(BT_VERSION));
    for (size_t i = 0; i < sizeof caps / sizeof caps[0]; i++)
        json_object_array_add(arr, json_object_new_string(caps[i]));
    json_object_object_add(res, "capabilities", arr);
    json_object_object_add(res, "caller_allowed", json_object_new_boolean(c->r->caller_allowed));
    json_object *limits = json_object_new_object();
    json_object_object_add(limits, "frame_in_max", json_object_new_int64((int64_t)BT_FRAME_IN_MAX));
    json_object_object_add(limits, "frame_out_max", json_object_new_int64((int64_t)BT_FRAME_OUT_MAX));
    json_object_object_add(res, "limits", limits);
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

static bt_err m_capture(call *c)
{
    const char *url, *title, *lang, *text;
    json_object *observed, *cls;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "url", 1, 8192, &url, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "text", 1, (size_t)1 << 20, &text, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "title", 0, 4096, &title, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "lang", 0, 35, &lang, NULL)) != BT_OK) return err;
    if ((err = param(c, "observed_at", json_type_string, 0, &observed)) != BT_OK) return err;
    if ((err = param(c, "classification", json_type_object, 0, &cls)) != BT_OK) return err;

    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string("notice"));
    json_object_object_add(head, "url", json_object_new_string(url));
    if (title) json_object_object_add(head, "title", json_object_new_string(title));
    if (lang) json_object_object_add(head, "lang", json_object_new_string(lang));
    json_object_object_add(head, "text", json_object_new_string(text));
    if (observed) json_object_object_add(head, "observed_at", json_object_get(observed));
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    if (cls) json_object_object_add(head, "classification", json_object_get(cls));
    size_t n;
    const char *s = json_object_to_json_string_length(head, JSON_C_TO_STRING_PLAIN, &n);
    int64_t id = 0;
    err = s ? bt_vault_append(c->r->vault, s, n, NULL, 0, &id) : BT_ERR_NO_MEMORY;
    json_object_put(head);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
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
    json_object_object_add(head, "type", json_object_new_string("attachment"));
    json_object_object_add(head, "of", json_object_new_int64(record));
    json_object_object_add(head, "mime", json_object_new_string(mime));
    json_object_object_add(head, "size", json_object_new_int64((int64_t)bin_len));
    json_object_object_add(head, "captured_at", json_object_new_int64((int64_t)time(NULL)));
    size_t n;
    const char *s = json_object_to_json_string_length(head, JSON_C_TO_STRING_PLAIN, &n);
    err = bt_vault_append(c->r->vault, s, n, bin, bin_len, &id);
    json_object_put(head);
    sodium_memzero(bin, bin_len);
    free(bin);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "size", json_object_new_int64((int64_t)bin_len));
    return BT_OK;
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
    c->result = state_result(c->r);
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
            const char *title = get_str(head, "title");
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
    json_object *arr;
} attach_ctx;

static int find_attachment(void *ctx, const bt_vault_entry_info *e)
{
    attach_ctx *a = ctx;
    json_object *head = NULL;
    if (e->body_len > 0 && read_head(a->v, e->id, &head) == BT_OK) {
        const char *type = get_str(head, "type");
        if (type != NULL && strcmp(type, "attachment") == 0 && get_int(head, "of") == a->of) {
            json_object *item = json_object_new_object();
            json_object_object_add(item, "id", json_object_new_int64(e->id));
            json_object_object_add(item, "mime", json_object_new_string(get_str(head, "mime") ? get_str(head, "mime") : ""));
            json_object_object_add(item, "size", json_object_new_int64(get_int(head, "size")));
            json_object_array_add(a->arr, item);
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
        attach_ctx a = {c->r->vault, id, json_object_new_array()};
        bt_vault_entries(c->r->vault, id, INT_MAX, find_attachment, &a, &last);
        json_object_object_add(c->result, "attachments", a.arr);
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

static const struct {
    const char *name;
    bt_err (*fn)(call *);
    int touches_secret; /* resets the auto-lock timer */
} methods[] = {
    {"hello", m_hello, 0},
    {"capture", m_capture, 0},
    {"attach", m_attach, 0},
    {"unlock", m_unlock, 1},
    {"lock", m_lock, 0},
    {"set_passphrase", m_set_passphrase, 1},
    {"recovery_code", m_recovery_code, 1},
    {"list", m_list, 1},
    {"get", m_get, 1},
    {"verify", m_verify, 0},
    {"stats", m_stats, 0},
};

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
