/* unlock, lock, set_passphrase, recovery_code, list, get, verify, recover, stats
 * (docs/PROTOCOL.md): the log itself, over core/vault.c; unlock also
 * empties the sealed-capture inbox (core/inbox.c). */
#include <json-c/printbuf.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sodium.h>
#include <string.h>

#include "bantrail/export.h"
#include "bantrail/inbox.h"
#include "bantrail/records.h"
#include "rpc/rpc_int.h"
#include "util/json.h"

bt_err m_unlock(call *c)
{
    const char *pass, *code;
    size_t pass_len;
    int64_t minutes = c->r->auto_lock_minutes;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "passphrase", 0, BT_PASSPHRASE_MAX, &pass, &pass_len)) != BT_OK) return err;
    if ((err = param_string(c, "recovery_code", 0, 128, &code, NULL)) != BT_OK) return err;
    if ((err = param_int(c, "auto_lock_minutes", 0, 1, 24 * 60, &minutes)) != BT_OK) return err;
    if (code != NULL) return bad_param(c, "recovery_code: a recovery code does not unlock, it resets a lost passphrase "
                                          "once (set_passphrase with recovery_code and new)");
    if (pass != NULL) err = bt_vault_unlock(c->r->vault, pass, pass_len);
    else if (bt_vault_state_of(c->r->vault) == BT_VAULT_UNPROTECTED) err = BT_OK;
    else { c->detail = "passphrase"; err = BT_ERR_BAD_PARAMS; }
    if (err != BT_OK) return err;
    c->r->auto_lock_minutes = (int)minutes;
    bt_err cause = BT_OK;
    int waiting = 0, expanded = 0;
    if (c->r->scan == NULL && c->r->looks_while_idle && bt_inbox_unscanned(c->r->capture) > BT_RPC_SCAN_AT_ONCE)
        c->r->scan = bt_inbox_scan_new(c->r->capture); /* NULL (out of memory): looked for at once, below */
    if (c->r->scan == NULL) {
        expanded = bt_inbox_expand_pending_why(c->r->capture, rpc_index(c->r), (int64_t)time(NULL), &waiting, &cause);
        c->r->sealed_waiting = waiting; /* hello says it too, until lock */
        c->r->sealed_waiting_err = cause;
    }
    c->result = state_result(c->r);
    if (c->r->scan != NULL) json_object_object_add(c->result, "looking", json_object_new_boolean(1));
    json_object_object_add(c->result, "delivered", json_object_new_int(expanded));
    json_object_object_add(c->result, "waiting", json_object_new_int(waiting));
    if (waiting > 0) /* why the first of them still waits: disk_full, corrupt (a box that does not open), ... */
        json_object_object_add(c->result, "waiting_error", json_object_new_string(bt_err_code(cause)));
    json_object_object_add(c->result, "auto_lock_minutes", json_object_new_int(c->r->auto_lock_minutes));
    return BT_OK;
}

bt_err m_lock(call *c)
{
    bt_err err = need_vault(c);
    if (err != BT_OK) return err;
    rpc_lock(c->r);
    c->result = state_result(c->r);
    return BT_OK;
}

bt_err m_set_passphrase(call *c)
{
    const char *pass, *old, *code;
    size_t pass_len, old_len;
    json_object *confirm = NULL;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param(c, "confirm", json_type_boolean, 0, &confirm)) != BT_OK) return err;
    if (confirm != NULL && json_object_get_boolean(confirm)) { /* the answer to the change came back */
        if ((err = param_string(c, "new", 0, BT_PASSPHRASE_MAX, &pass, &pass_len)) != BT_OK) return err;
        if ((err = bt_vault_confirm_passphrase(c->r->vault, pass, pass != NULL ? pass_len : 0)) != BT_OK)
            return err;
        c->result = state_result(c->r);
        json_object_object_add(c->result, "confirmed", json_object_new_boolean(1));
        return BT_OK;
    }
    if ((err = param_string(c, "new", 1, BT_PASSPHRASE_MAX, &pass, &pass_len)) != BT_OK) return err;
    if ((err = param_string(c, "old", 0, BT_PASSPHRASE_MAX, &old, &old_len)) != BT_OK) return err;
    if ((err = param_string(c, "recovery_code", 0, 128, &code, NULL)) != BT_OK) return err;
    if (old != NULL && code != NULL) return bad_param(c, "old or recovery_code, not both");
    bt_kdf_params kdf = bt_vault_default_kdf();
    int64_t ops = (int64_t)kdf.opslimit, mem = (int64_t)kdf.memlimit;
    if ((err = param_int(c, "kdf_ops", 0, 1, 64, &ops)) != BT_OK) return err;
    if ((err = param_int(c, "kdf_mem", 0, 8192, (int64_t)4 << 30, &mem)) != BT_OK) return err;
    kdf.opslimit = (unsigned long long)ops;
    kdf.memlimit = (size_t)mem;
    err = code != NULL ? bt_vault_reset_passphrase(c->r->vault, code, pass, pass_len, &kdf)
                       : bt_vault_set_passphrase(c->r->vault, old, old_len, pass, pass_len, &kdf);
    if (err != BT_OK) return err;
    c->result = state_result(c->r);
    json_object_object_add(c->result, "pending", json_object_new_boolean(1));
    return BT_OK;
}

bt_err m_recovery_code(call *c)
{
    char *code;
    json_object *confirm = NULL;
    bt_err err = need_vault(c);
    if (err == BT_OK) err = param(c, "confirm", json_type_boolean, 0, &confirm);
    if (err != BT_OK) return err;
    if (confirm != NULL && json_object_get_boolean(confirm)) { /* the code shown last reached the person */
        if ((err = bt_vault_confirm_recovery_code(c->r->vault)) == BT_OK) {
            c->result = json_object_new_object();
            json_object_object_add(c->result, "confirmed", json_object_new_boolean(1));
        }
        return err;
    }
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
    json_object *arr;
    int readable;
    bt_vault *vault;
    const bt_index *index; /* the headers of the entries it holds, checked but not opened again */
} list_ctx;

/* An item of a list whose summary the index holds (bt_index_header): the
 * summary's JSON as it is, after the id and the size. json-c calls
 * raw_write to write it, so no object is built for it. */
typedef struct {
    int64_t id, size;
    size_t n;
    char s[];
} raw_item;

static int raw_write(json_object *o, struct printbuf *pb, int level, int flags)
{
    const raw_item *r = json_object_get_userdata(o);
    char head[64];
    (void)level;
    (void)flags;
    int k = snprintf(head, sizeof head, "{\"id\":%lld,\"size\":%lld", (long long)r->id, (long long)r->size);
    printbuf_memappend(pb, head, k);
    if (r->n > 2) { /* "{...}": its members, and its closing brace */
        printbuf_memappend(pb, ",", 1);
        printbuf_memappend(pb, r->s + 1, (int)r->n - 1);
    } else {
        printbuf_memappend(pb, "}", 1);
    }
    return 0;
}

static void raw_free(json_object *o, void *userdata)
{
    (void)o;
    free(userdata);
}

/* Adds a short summary of an entry: what it is and where, never its text
 * (bt_record_summary of its header when the log is readable: decrypted now,
 * or, for an entry whose link was checked and not opened, the one the index
 * holds). */
static int list_one(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *text, size_t n)
{
    list_ctx *l = ctx;
    json_object *item = json_object_new_object();
    int64_t size = (int64_t)(e->head_len + e->body_len);
    char *read = NULL;
    if (l->readable && err == BT_OK && text == NULL &&
        (err = bt_index_header(l->index, e->id, &text, &n)) == BT_OK && n >= 2 && text[0] == '{') {
        raw_item *r = malloc(sizeof *r + n);
        if (r != NULL) {
            r->id = e->id;
            r->size = size;
            r->n = n;
            memcpy(r->s, text, n);
            json_object_set_serializer(item, raw_write, r, raw_free);
            json_object_array_add(l->arr, item);
            return 0;
        }
        err = BT_ERR_NO_MEMORY;
    }
    json_object_object_add(item, "id", json_object_new_int64(e->id));
    json_object_object_add(item, "size", json_object_new_int64(size));
    if (l->readable) {
        json_object *head = NULL, *sum = NULL;
        if (err == BT_ERR_NOT_FOUND) /* the index does not hold it after all: opened */
            err = bt_vault_read(l->vault, e->id, &read, &n, NULL, NULL);
        if (read != NULL) text = read;
        if (err == BT_OK && bt_json_parse(text, n, JSON_DEPTH, &head) != BT_OK) err = BT_ERR_CORRUPT;
        bt_vault_free(read);
        if (err == BT_OK && (sum = bt_record_summary(head)) == NULL) err = BT_ERR_NO_MEMORY;
        if (err == BT_OK) {
            json_object_object_foreach(sum, k, x) json_object_object_add(item, k, json_object_get(x));
        } else {
            json_object_object_add(item, "error", json_object_new_string(bt_err_code(err)));
        }
        json_object_put(sum);
        json_object_put(head);
    }
    json_object_array_add(l->arr, item);
    return 0;
}

/* list_one while locked: the sizes only. */
static int list_locked(void *ctx, const bt_vault_entry_info *e)
{
    return list_one(ctx, e, BT_ERR_LOCKED, NULL, 0);
}

static int no_more(void *ctx, const bt_vault_entry_info *e)
{
    (void)ctx;
    (void)e;
    return 1;
}

bt_err m_list(call *c)
{
    int64_t after = 0, limit = LIST_LIMIT_DEFAULT, last = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "after", 0, 0, INT64_MAX, &after)) != BT_OK) return err;
    if ((err = param_int(c, "limit", 0, 1, LIST_LIMIT_MAX, &limit)) != BT_OK) return err;
    bt_vault_state st = bt_vault_state_of(c->r->vault);
    list_ctx l = {json_object_new_array(), st != BT_VAULT_LOCKED, c->r->vault, NULL};
    int64_t known = -1;
    if (l.readable && (l.index = rpc_index(c->r)) != NULL) {
        known = bt_index_known(rpc_index(c->r), c->r->vault);
        if (known == 0) known = -1; /* none held (a recovered log's entry 0 is an entry) */
    }
    err = l.readable ? bt_vault_check_each(c->r->vault, after, (int)limit, known, list_one, &l, &last)
                     : bt_vault_entries(c->r->vault, after, (int)limit, list_locked, &l, &last);
    if (err != BT_OK) {
        json_object_put(l.arr);
        return err;
    }
    int64_t beyond = last; /* whether an entry follows this page: one more row, not a count of them all */
    if (bt_vault_entries(c->r->vault, last, 1, no_more, NULL, &beyond) != BT_OK) beyond = last;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "entries", l.arr);
    json_object_object_add(c->result, "state", json_object_new_string(state_name(st)));
    json_object_object_add(c->result, "next", beyond > last ? json_object_new_int64(last) : NULL);
    return BT_OK;
}

typedef struct {
    json_object *attachments, *occurrences;
} related_ctx;

/* Adds an attachment or later sighting of the record asked for. */
static int add_related(void *ctx, int64_t entry, json_object *head)
{
    related_ctx *a = ctx;
    const char *type = bt_json_str(head, "type");
    if (type != NULL && strcmp(type, BT_REC_ATTACHMENT) == 0) {
        json_object *item = json_object_new_object();
        const char *mime = bt_json_str(head, "mime");
        json_object_object_add(item, "id", json_object_new_int64(entry));
        json_object_object_add(item, "mime", json_object_new_string(mime ? mime : ""));
        json_object_object_add(item, "size", json_object_new_int64(bt_json_int_or(head, "size", 0)));
        json_object_array_add(a->attachments, item);
    } else if (type != NULL && strcmp(type, BT_REC_OCCURRENCE) == 0) {
        json_object *item = json_object_new_object();
        json_object_object_add(item, "id", json_object_new_int64(entry));
        json_object_object_add(item, "captured_at", json_object_new_int64(bt_json_int_or(head, "captured_at", 0)));
        json_object_array_add(a->occurrences, item);
    }
    return 0;
}

bt_err m_get(call *c)
{
    int64_t id = 0, offset = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "id", 1, 0, INT64_MAX, &id)) != BT_OK) return err; /* 0: a recovered log's first */
    if ((err = param_int(c, "offset", 0, 0, INT64_MAX, &offset)) != BT_OK) return err;
    if (bt_vault_state_of(c->r->vault) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;

    char *head_s = NULL;
    unsigned char *body = NULL;
    size_t head_len = 0, body_len = 0;
    err = bt_vault_read(c->r->vault, id, &head_s, &head_len, &body, &body_len);
    if (err != BT_OK) return err;
    json_object *head = NULL;
    bt_json_parse(head_s, head_len, JSON_DEPTH, &head);
    bt_vault_free(head_s);
    if (head == NULL) {
        bt_vault_free(body);
        return BT_ERR_CORRUPT;
    }
    const char *type = bt_json_str(head, "type");
    /* secrets kept in the log, never answered: a report key's seed, membership tokens and their blinding */
    if (type != NULL && !strcmp(type, BT_REC_REPORT)) {
        json_object_object_del(head, "seed");
        json_object_object_del(head, "token");
    }
    if (type != NULL && !strcmp(type, BT_REC_TOKEN_REQUEST)) json_object_object_del(head, "blind");
    if (type != NULL && !strcmp(type, BT_REC_TOKENS)) json_object_object_del(head, "tokens");
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "record", head);
    if (body != NULL) {
        size_t n = bt_page(body_len, &offset);
        add_piece(c->result, body, body_len, offset, n);
        bt_vault_free(body);
    } else {
        /* the entries naming it, from the index (brought up to the entries written since) */
        related_ctx a = {json_object_new_array(), json_object_new_array()};
        bt_index *ix = rpc_index(c->r);
        err = ix != NULL ? bt_index_related(ix, c->r->vault, id, add_related, &a) : BT_ERR_NO_MEMORY;
        json_object_object_add(c->result, "attachments", a.attachments);
        json_object_object_add(c->result, "occurrences", a.occurrences);
        if (err != BT_OK) {
            json_object_put(c->result);
            c->result = NULL;
            return err;
        }
    }
    return BT_OK;
}

/* Whether the log leads through the head someone was given with entry at (a
 * write's "log"): fills in "expected" and, when it does not, says so. */
static bt_err expect_tail(call *c, int64_t at, const unsigned char want[BT_HASH_BYTES], int *holds)
{
    unsigned char here[BT_HASH_BYTES];
    bt_vault_stats s;
    char why[256];
    bt_err err = bt_vault_stats_of(c->r->vault, &s);
    if (err == BT_OK) err = bt_vault_entry_hash(c->r->vault, at, here);
    if (err != BT_OK && err != BT_ERR_NOT_FOUND) return err;
    *holds = err == BT_OK && sodium_memcmp(here, want, sizeof here) == 0;
    json_object *e = json_object_new_object();
    json_object_object_add(e, "at", json_object_new_int64(at));
    json_object_object_add(e, "head", hex_string(want, BT_HASH_BYTES));
    json_object_object_add(e, "holds", json_object_new_boolean(*holds));
    json_object_object_add(e, "entries", json_object_new_int64(s.entries));
    if (!*holds) {
        if (err == BT_ERR_NOT_FOUND)
            snprintf(why, sizeof why, "entries up to %lld were acknowledged, only %lld are here", (long long)at,
                     (long long)s.entries);
        else
            snprintf(why, sizeof why,
                     "entries up to %lld were acknowledged, but this log does not lead through that head: its "
                     "entry %lld is another (an older copy that went on, or another log)",
                     (long long)at, (long long)at);
        json_object_object_add(e, "reason", json_object_new_string(why));
    }
    json_object_object_add(c->result, "expected", e);
    return BT_OK;
}

bt_err m_verify(call *c)
{
    bt_vault_verify_result vr;
    unsigned char want[BT_HASH_BYTES];
    const char *head = NULL;
    size_t head_len = 0, bin_len = 0;
    int64_t at = -1;
    int holds = 1;
    bt_err err = need_vault(c);
    if (err == BT_OK) err = param_int(c, "at", 0, 1, INT64_MAX, &at);
    if (err == BT_OK) err = param_string(c, "head", 0, 2 * BT_HASH_BYTES, &head, &head_len);
    if (err != BT_OK) return err;
    if ((at >= 1) != (head != NULL)) return bad_param(c, "at and head: both, or neither");
    if (head != NULL && (head_len != 2 * BT_HASH_BYTES ||
                         sodium_hex2bin(want, sizeof want, head, head_len, NULL, &bin_len, NULL) != 0 ||
                         bin_len != sizeof want))
        return bad_param(c, "head: 64 hex digits");
    if ((err = bt_vault_verify(c->r->vault, &vr)) != BT_OK) return err;
    c->result = json_object_new_object();
    if (head != NULL && (err = expect_tail(c, at, want, &holds)) != BT_OK) {
        json_object_put(c->result);
        c->result = NULL;
        return err;
    }
    json_object_object_add(c->result, "ok", json_object_new_boolean(vr.bad_id == 0 && holds));
    json_object_object_add(c->result, "checked", json_object_new_int64(vr.checked));
    json_object_object_add(c->result, "head", hex_string(vr.head, sizeof vr.head));
    if (vr.bad_id != 0) {
        json_object_object_add(c->result, "bad_id", json_object_new_int64(vr.bad_id));
        json_object_object_add(c->result, "reason", json_object_new_string(vr.reason));
    }
    return BT_OK;
}

bt_err m_recover(call *c)
{
    bt_vault_recovery rec;
    bt_err err = need_vault(c);
    if (err == BT_OK) err = bt_vault_recover(c->r->vault, (int64_t)time(NULL), &rec);
    if (err == BT_ERR_LOCKED) c->detail = "unlock the log first: the entries are copied decrypted into the new log";
    if (err != BT_OK) return err;
    rpc_drop_index(c->r); /* the entries that were lost are others now */
    c->result = json_object_new_object();
    json_object_object_add(c->result, "recovered", json_object_new_boolean(rec.recovered));
    if (rec.recovered) {
        json_object_object_add(c->result, "kept", json_object_new_int64(rec.kept));
        json_object_object_add(c->result, "lost", json_object_new_int64(rec.lost));
        json_object_object_add(c->result, "upto", json_object_new_int64(rec.upto));
        json_object_object_add(c->result, "cut", json_object_new_boolean(rec.cut));
        json_object_object_add(c->result, "damaged_file", json_object_new_string(rec.damaged_file));
    }
    return BT_OK;
}

bt_err m_stats(call *c)
{
    bt_vault_stats s;
    unsigned char at_hash[BT_HASH_BYTES];
    int64_t at = -1;
    bt_err err = need_vault(c);
    if (err == BT_OK) err = param_int(c, "at", 0, 0, INT64_MAX, &at);
    if (err != BT_OK) return err;
    if ((err = bt_vault_stats_of(c->r->vault, &s)) != BT_OK) return err;
    /* the chain hash stored at an entry someone wrote down (the extension's
     * mark): a log rolled back or cut no longer has it */
    if (at >= 0 && (err = bt_vault_entry_hash(c->r->vault, at, at_hash)) != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "entries", json_object_new_int64(s.entries));
    json_object_object_add(c->result, "sessions", json_object_new_int64(s.sessions));
    int64_t bytes = 0; /* it reads every row: not for a caller that asks for a hash (the extension, each connection) */
    if (at < 0 && (err = bt_vault_stored_bytes(c->r->vault, &bytes)) != BT_OK) {
        json_object_put(c->result);
        c->result = NULL;
        return err;
    }
    if (at < 0) json_object_object_add(c->result, "stored_bytes", json_object_new_int64(bytes));
    json_object_object_add(c->result, "head", hex_string(s.head, sizeof s.head));
    if (at >= 0) json_object_object_add(c->result, "hash_at", hex_string(at_hash, sizeof at_hash));
    json_object_object_add(c->result, "state",
                           json_object_new_string(state_name(bt_vault_state_of(c->r->vault))));
    return BT_OK;
}

