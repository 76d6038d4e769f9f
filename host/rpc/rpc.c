/* The JSON-RPC dispatcher (docs/PROTOCOL.md): the method table, the param
 * getters every method uses, hello, and answering a frame. The methods are
 * in rpc_capture.c, rpc_log.c, rpc_cases.c and rpc_share.c; what they decide
 * is in the core (host/core/). */
#include "bantrail/rpc.h"

#include <json-c/json.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/cases.h"
#include "bantrail/frame.h"
#include "bantrail/send.h"
#include "bantrail/version.h"
#include "rpc/rpc_int.h"
#include "util/json.h"

/* ---- parameters ---- */

bt_err param(call *c, const char *key, json_type type, int required, json_object **out)
{
    return bt_json_member(c->params, key, type, required, out, &c->detail);
}

bt_err param_string(call *c, const char *key, int required, size_t max, const char **out, size_t *len)
{
    return bt_json_member_string(c->params, key, required, max, out, len, &c->detail);
}

bt_err param_int(call *c, const char *key, int required, int64_t lo, int64_t hi, int64_t *out)
{
    return bt_json_member_int(c->params, key, required, lo, hi, out, &c->detail);
}

bt_err bad_param(call *c, const char *detail)
{
    c->detail = detail;
    return BT_ERR_BAD_PARAMS;
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

bt_err need_vault(call *c)
{
    if (c->r->vault == NULL) return c->r->open_err;
    return BT_OK;
}

const char *state_name(bt_vault_state s)
{
    switch (s) {
    case BT_VAULT_UNPROTECTED: return "unprotected";
    case BT_VAULT_LOCKED: return "locked";
    case BT_VAULT_UNLOCKED: return "unlocked";
    }
    return "error";
}

json_object *state_result(bt_rpc *r)
{
    json_object *res = json_object_new_object();
    json_object_object_add(res, "state", json_object_new_string(state_name(bt_vault_state_of(r->vault))));
    return res;
}

json_object *hex_string(const unsigned char *bin, size_t n)
{
    char hex[2 * 64 + 1];
    sodium_bin2hex(hex, sizeof hex, bin, n);
    return json_object_new_string(hex);
}

json_object *b64_string(const unsigned char *bin, size_t n)
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

void add_piece(json_object *o, const unsigned char *bytes, size_t len, int64_t offset, size_t n)
{
    json_object_object_add(o, "offset", json_object_new_int64(offset));
    json_object_object_add(o, "data", b64_string(bytes + offset, n));
    json_object_object_add(o, "next_offset",
                           (size_t)offset + n < len ? json_object_new_int64(offset + (int64_t)n) : NULL);
}

/* ---- hello ---- */

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
    json_object_object_add(limits, "case_events_max", json_object_new_int(CASE_EVENTS_MAX));
    json_object_object_add(limits, "url_max", json_object_new_int64((int64_t)BT_CAPTURE_URL_MAX));
    json_object_object_add(limits, "text_max", json_object_new_int64((int64_t)BT_CAPTURE_TEXT_MAX));
    json_object_object_add(limits, "title_max", json_object_new_int64((int64_t)BT_CAPTURE_TITLE_MAX));
    json_object_object_add(limits, "lang_max", json_object_new_int64((int64_t)BT_CAPTURE_LANG_MAX));
    json_object_object_add(limits, "software_max", json_object_new_int64((int64_t)BT_CAPTURE_SOFTWARE_MAX));
    json_object_object_add(limits, "mime_max", json_object_new_int64((int64_t)BT_CAPTURE_MIME_MAX));
    json_object_object_add(limits, "note_max", json_object_new_int64((int64_t)BT_EVENT_NOTE_MAX));
    json_object_object_add(res, "limits", limits);
    /* the words the extension shares with the host, from their one source here
     * (tests/js/facts.test.mjs checks the extension's copies against them) */
    json_object *vocabulary = json_object_new_object(), *events = json_object_new_array();
    for (int e = 0; e < BT_EVENT_COUNT_; e++) json_object_array_add(events, json_object_new_string(bt_event_name(e)));
    json_object_object_add(vocabulary, "events", events);
    json_object_object_add(res, "vocabulary", vocabulary);
    json_object_object_add(res, "send_policy", bt_send_policy_json());
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
            if (s.recovery_pending) json_object_object_add(vault, "recovery_pending", json_object_new_boolean(1));
            if (s.passphrase_pending) json_object_object_add(vault, "passphrase_pending", json_object_new_boolean(1));
            if (s.damaged_at > 0) json_object_object_add(vault, "damaged_at", json_object_new_int64(s.damaged_at));
            if (s.wal_lost) json_object_object_add(vault, "wal_lost", json_object_new_boolean(1));
            if (c->r->scan != NULL) json_object_object_add(vault, "sealed_looking", json_object_new_boolean(1));
            if (c->r->sealed_waiting > 0) { /* the last look left them: a full disk, a box that does not open */
                json_object_object_add(vault, "sealed_waiting", json_object_new_int(c->r->sealed_waiting));
                json_object_object_add(vault, "sealed_waiting_error",
                                       json_object_new_string(bt_err_code(c->r->sealed_waiting_err)));
            }
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

static const struct {
    const char *name;
    rpc_method fn;
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
    {"recover", m_recover, 1},
    {"stats", m_stats, 0},
    {"unions", m_unions, 1},
    {"union_import", m_union_import, 1},
    {"report_preview", m_report_preview, 1},
    {"report_queue", m_report_queue, 1},
    {"report_list", m_report_list, 1},
    {"report_get", m_report_get, 1},
    {"report_withdrawal", m_report_withdrawal, 1},
    {"report_mark", m_report_mark, 1},
    {"token_request", m_token_request, 1},
    {"token_finish", m_token_finish, 1},
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
    /* a caller that is not the installed extension gets nothing of the log:
     * not its key, not its counts, not even its creation */
    r->open_err = caller_allowed ? bt_vault_open(&r->vault, data_dir) : BT_ERR_CALLER_NOT_ALLOWED;
    if (r->open_err == BT_OK && bt_capture_new(&r->capture, r->vault) != BT_OK) {
        bt_rpc_free(r);
        return NULL;
    }
    return r;
}

/* Writes the index's snapshot when the log is readable and the index holds
 * entries its snapshot lacks, and the cases beside it when they were made
 * from more than those on disk (bt_index_save). A failure costs only the
 * next reader a rebuild: nothing is said. */
static void index_save(bt_rpc *r)
{
    if (r->index == NULL || r->vault == NULL || bt_vault_state_of(r->vault) == BT_VAULT_LOCKED) return;
    (void)bt_index_save(r->index, r->vault, 0);
}

void bt_rpc_free(bt_rpc *r)
{
    if (r == NULL) return;
    index_save(r);
    bt_index_free(r->index);
    bt_inbox_scan_free(r->scan);
    bt_export_piece_free(&r->export);
    bt_capture_free(r->capture);
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

    if (err == BT_OK) err = bt_json_parse(frame, len, JSON_DEPTH, &req);
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
        int64_t was = 0, now_id = 0;
        unsigned char was_head[BT_HASH_BYTES] = {0}, now_head[BT_HASH_BYTES];
        if (r->vault != NULL) (void)bt_vault_last_written(r->vault, &was, was_head);
        err = methods[i].fn(&c);
        if (methods[i].touches_secret) r->last_use = time(NULL);
        /* it appended: the entry and chain head its answer acknowledges (the caller's mark, docs/PROTOCOL.md) */
        if (err == BT_OK && r->vault != NULL && json_object_is_type(c.result, json_type_object) &&
            bt_vault_last_written(r->vault, &now_id, now_head) == BT_OK &&
            (now_id != was || sodium_memcmp(now_head, was_head, sizeof now_head) != 0)) {
            json_object *log = json_object_new_object();
            json_object_object_add(log, "entry", json_object_new_int64(now_id));
            json_object_object_add(log, "head", hex_string(now_head, sizeof now_head));
            json_object_object_add(c.result, "log", log);
        }
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

void bt_rpc_look_while_idle(bt_rpc *r, int yes)
{
    r->looks_while_idle = yes;
}

int bt_rpc_idle_left(bt_rpc *r, time_t now)
{
    if (r->vault == NULL || bt_vault_state_of(r->vault) != BT_VAULT_UNLOCKED) return -1;
    time_t due = r->last_use + (time_t)r->auto_lock_minutes * 60;
    return due > now ? (int)(due - now) : 0;
}

int bt_rpc_groupable(bt_rpc *r, const char *frame, size_t len)
{
    json_object *req = NULL;
    int yes = r->caller_allowed && r->vault != NULL && frame != NULL &&
              bt_json_parse(frame, len, JSON_DEPTH, &req) == BT_OK && bt_json_str(req, "method") != NULL &&
              strcmp(bt_json_str(req, "method"), "capture") == 0;
    json_object_put(req);
    return yes;
}

int bt_rpc_idle_work(bt_rpc *r)
{
    int64_t read = 0;
    if (r->vault == NULL || !r->caller_allowed || bt_vault_state_of(r->vault) == BT_VAULT_LOCKED) return 0;
    bt_index *ix = rpc_index(r);
    if (r->scan != NULL) { /* first the unlock's scan for sealed captures, left to these slices */
        if (bt_inbox_scan_step(r->scan, r->capture, BT_RPC_IDLE_SLICE)) return 1;
        (void)bt_inbox_scan_finish(r->scan, r->capture, ix, (int64_t)time(NULL), &r->sealed_waiting,
                                   &r->sealed_waiting_err);
        bt_inbox_scan_free(r->scan); /* a box that still waits is tried again at the next unlock, as ever */
        r->scan = NULL;
        return 1;
    }
    if (ix == NULL || bt_index_update(ix, r->vault, BT_RPC_IDLE_SLICE, &read) != BT_OK) return 0;
    if (read == BT_RPC_IDLE_SLICE) return 1;
    /* saved in slices too; a save that fails (a full disk) is tried again after the next request */
    return bt_index_unsaved(ix) >= BT_RPC_SAVE_AFTER && bt_index_save(ix, r->vault, BT_RPC_SAVE_SLICE) == BT_OK &&
           bt_index_unsaved(ix) >= BT_RPC_SAVE_AFTER;
}

bt_err bt_rpc_group_begin(bt_rpc *r)
{
    return r->vault != NULL ? bt_vault_batch_begin(r->vault) : BT_ERR_STORAGE;
}

bt_err bt_rpc_group_end(bt_rpc *r, int commit)
{
    bt_err err = r->vault != NULL ? bt_vault_batch_end(r->vault, commit) : BT_ERR_STORAGE;
    if ((!commit || err != BT_OK) && r->capture != NULL)
        bt_capture_forget(r->capture); /* it names captures that were not stored after all */
    return err;
}

void rpc_drop_index(bt_rpc *r)
{
    bt_index_free(r->index);
    r->index = NULL;
}

bt_index *rpc_index(bt_rpc *r)
{
    if (r->index == NULL) r->index = bt_index_new();
    return r->index;
}

void rpc_lock(bt_rpc *r)
{
    index_save(r);
    bt_vault_lock(r->vault);
    rpc_drop_index(r);
    bt_inbox_scan_free(r->scan); /* the next unlock looks again from the mark */
    r->scan = NULL;
    r->sealed_waiting = 0;
    bt_export_piece_free(&r->export);
    if (r->capture != NULL) bt_capture_forget(r->capture); /* what was captured lately: the log's to tell */
}

int bt_rpc_tick(bt_rpc *r, time_t now)
{
    if (bt_rpc_idle_left(r, now) != 0) return 0;
    rpc_lock(r);
    return 1;
}
