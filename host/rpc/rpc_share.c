/* unions, union_import, report_preview, report_queue, report_list,
 * report_get, report_withdrawal, report_mark, token_request, token_finish
 * (docs/PROTOCOL.md, docs/REPORT.md) over
 * core/outbox.c, core/share.c and core/report.c. */
#include <stdlib.h>
#include <string.h>

#include "bantrail/outbox.h"
#include "bantrail/send.h"
#include "rpc/rpc_int.h"
#include "util/json.h"

/* Loads the unions and the outbox; needs the log readable. */
static bt_err load_outbox(call *c, bt_outbox *o)
{
    bt_err err = need_vault(c);
    return err != BT_OK ? err : bt_outbox_load(o, c->r->vault);
}

static json_object *union_with_demo(json_object *entry, int demo, size_t tokens_left)
{
    if (entry != NULL) json_object_object_add(entry, "demo", json_object_new_boolean(demo));
    if (entry != NULL && !demo) json_object_object_add(entry, "tokens_left", json_object_new_int64((int64_t)tokens_left));
    return entry;
}

bt_err m_unions(call *c)
{
    bt_outbox o;
    bt_union demo;
    bt_err err = load_outbox(c, &o);
    if (err != BT_OK) return err;
    json_object *arr = json_object_new_array();
    bt_share_demo_union(&demo);
    json_object_array_add(arr, union_with_demo(bt_outbox_union_json(&demo), 1, 0));
    json_object_object_foreach(o.unions, key, val)
        json_object_array_add(arr, union_with_demo(json_object_get(val), 0, bt_outbox_tokens_left(&o, key)));
    bt_outbox_free(&o);
    c->result = json_object_new_object();
    json_object_object_add(c->result, "unions", arr);
    return BT_OK;
}

bt_err m_union_import(call *c)
{
    json_object *entry;
    bt_union u;
    int64_t id;
    size_t n;
    bt_err err = need_vault(c);
    if (err != BT_OK) return err;
    if ((err = param(c, "entry", json_type_object, 1, &entry)) != BT_OK) return err;
    const char *s = json_object_to_json_string_length(entry, JSON_C_TO_STRING_PLAIN, &n);
    if ((err = bt_outbox_pin_union(c->r->vault, s, n, (int64_t)time(NULL), &u, &id, &c->detail)) != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_string(u.id));
    json_object_object_add(c->result, "entry", json_object_new_int64(id));
    return BT_OK;
}

/* Reads params {case, union, context} into *ask. */
static bt_err report_ask(call *c, bt_report_ask *ask)
{
    json_object *ctx = NULL, *paid = NULL;
    bt_err err;
    memset(ask, 0, sizeof *ask);
    ask->context.paid_verification = -1;
    if ((err = param_int(c, "case", 1, 1, INT64_MAX, &ask->case_id)) != BT_OK) return err;
    if ((err = param_string(c, "union", 1, 64, &ask->union_id, NULL)) != BT_OK) return err;
    if ((err = param(c, "context", json_type_object, 0, &ctx)) != BT_OK) return err;
    if (ctx == NULL) return need_vault(c);
    ask->context.account_type = bt_json_str(ctx, "account_type");
    ask->context.country = bt_json_str(ctx, "country");
    json_object_object_get_ex(ctx, "paid_verification", &paid);
    if (paid != NULL && !json_object_is_type(paid, json_type_boolean)) return bad_param(c, "context.paid_verification");
    if (paid != NULL) ask->context.paid_verification = json_object_get_boolean(paid);
    return need_vault(c);
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

bt_err m_report_preview(call *c)
{
    bt_report_ask ask;
    bt_report_built b;
    char json[BT_REPORT_JSON_MAX + 1];
    size_t n;
    json_object *report = NULL;
    bt_err err;
    if ((err = report_ask(c, &ask)) != BT_OK) return err;
    if ((err = bt_outbox_build(c->r->vault, &ask, NULL, (int64_t)time(NULL), &b, &c->detail)) != BT_OK) return err;
    sodium_memzero(b.seed, sizeof b.seed); /* queueing takes them again */
    sodium_memzero(&b.token, sizeof b.token);
    if ((err = bt_report_render(json, sizeof json, &n, &b.report)) != BT_OK) return err;
    bt_json_parse(json, n, JSON_DEPTH, &report);
    c->result = json_object_new_object();
    json_object_object_add(c->result, "case", json_object_new_int64(b.case_id));
    json_object_object_add(c->result, "json", json_object_new_string_len(json, (int)n));
    json_object_object_add(c->result, "report", report);
    json_object_object_add(c->result, "words", bt_share_words(&b.report));
    json_object *u = union_summary(&b.u, b.demo);
    if (b.u.tokens != BT_TOKENS_OFF) { /* whether it will count (docs/REPORT.md section 5) */
        json_object_object_add(u, "tokens", json_object_new_string(b.u.tokens == BT_TOKENS_REQUIRED ? "required" : "counted"));
        json_object_object_add(u, "tokens_left", json_object_new_int64((int64_t)b.tokens_left));
        json_object_object_add(c->result, "token", json_object_new_boolean(b.has_token));
    }
    json_object_object_add(c->result, "union", u);
    return BT_OK;
}

/* The answer of report_queue and report_withdrawal: what the sender posts, and where. */
static bt_err sealed_result(call *c, const bt_report_queued *q)
{
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(q->entry));
    json_object_object_add(c->result, "report_id", json_object_new_string(q->report_id));
    json_object_object_add(c->result, "submit_url", json_object_new_string(q->submit_url));
    json_object_object_add(c->result, "wire", json_object_new_string_len(q->wire, (int)q->wire_len));
    return BT_OK;
}

bt_err m_report_queue(call *c)
{
    json_object *confirm;
    const char *previewed, *why;
    size_t previewed_len;
    bt_report shown;
    bt_report_ask ask;
    bt_report_queued q;
    bt_err err = param(c, "confirm", json_type_boolean, 1, &confirm);
    if (err != BT_OK) return err;
    if (!json_object_get_boolean(confirm)) return bad_param(c, "confirm must be true: the person confirms each report");
    /* what is sealed is exactly what the person was shown */
    if ((err = param_string(c, "json", 1, BT_REPORT_JSON_MAX, &previewed, &previewed_len)) != BT_OK) return err;
    if (bt_report_parse(&shown, previewed, previewed_len, &why) != BT_OK)
        return bad_param(c, "json: not the preview's report");
    if ((err = report_ask(c, &ask)) != BT_OK) return err;
    err = bt_outbox_queue(c->r->vault, &ask, &shown, previewed, previewed_len, (int64_t)time(NULL), &q, &c->detail);
    return err != BT_OK ? err : sealed_result(c, &q);
}

bt_err m_report_list(call *c)
{
    bt_outbox o;
    bt_err err = load_outbox(c, &o);
    if (err != BT_OK) return err;
    for (size_t i = 0; i < json_object_array_length(o.reports); i++)
        json_object_object_del(json_object_array_get_idx(o.reports, i), "wire"); /* report_get has it */
    c->result = json_object_new_object();
    json_object_object_add(c->result, "reports", json_object_get(o.reports));
    bt_outbox_free(&o);
    return BT_OK;
}

bt_err m_report_get(call *c)
{
    bt_outbox o;
    int64_t id = 0;
    bt_err err = param_int(c, "id", 1, 1, INT64_MAX, &id);
    if (err == BT_OK) err = load_outbox(c, &o);
    if (err != BT_OK) return err;
    c->result = json_object_get(bt_outbox_report(&o, id));
    bt_outbox_free(&o);
    return c->result != NULL ? BT_OK : BT_ERR_NOT_FOUND;
}

bt_err m_report_withdrawal(call *c)
{
    bt_report_queued q;
    int64_t id = 0;
    bt_err err = param_int(c, "id", 1, 1, INT64_MAX, &id);
    if (err == BT_OK) err = need_vault(c);
    if (err == BT_OK) err = bt_outbox_withdrawal(c->r->vault, id, &q, &c->detail);
    return err != BT_OK ? err : sealed_result(c, &q);
}

bt_err m_report_mark(call *c)
{
    const char *state, *detail;
    int64_t id = 0;
    bt_err err;
    if ((err = param_int(c, "id", 1, 1, INT64_MAX, &id)) != BT_OK) return err;
    if ((err = param_string(c, "state", 1, 16, &state, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "detail", 0, BT_SEND_DETAIL_MAX, &detail, NULL)) != BT_OK) return err;
    int s = bt_report_state_parse(state);
    if (s < 0) return bad_param(c, "state must be sent, failed or withdrawn");
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = bt_outbox_mark(c->r->vault, id, (bt_report_state)s, detail, (int64_t)time(NULL))) != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "state", json_object_new_string(state));
    return BT_OK;
}

bt_err m_token_request(call *c)
{
    const char *uid;
    int64_t n = 0;
    bt_token_ask *ask;
    bt_err err = param_string(c, "union", 1, 64, &uid, NULL);
    if (err == BT_OK) err = param_int(c, "count", 1, 1, BT_TOKEN_BATCH_MAX, &n);
    if (err == BT_OK) err = need_vault(c);
    if (err != BT_OK) return err;
    if ((ask = malloc(sizeof *ask)) == NULL) return BT_ERR_NO_MEMORY;
    err = bt_outbox_token_request(c->r->vault, uid, (size_t)n, (int64_t)time(NULL), ask, &c->detail);
    if (err == BT_OK) {
        json_object *arr = json_object_new_array();
        for (size_t i = 0; i < ask->n; i++) json_object_array_add(arr, b64_string(ask->m[i], sizeof ask->m[i]));
        c->result = json_object_new_object();
        json_object_object_add(c->result, "request", json_object_new_int64(ask->entry));
        json_object_object_add(c->result, "token_url", json_object_new_string(ask->token_url));
        json_object_object_add(c->result, "blinded", arr);
    }
    free(ask);
    return err;
}

/* params[key]: an array of n base64 strings of exactly size bytes each. */
static bt_err b64_array(call *c, const char *key, size_t size, unsigned char *out, size_t *n)
{
    json_object *arr;
    bt_err err = param(c, key, json_type_array, 1, &arr);
    if (err != BT_OK) return err;
    *n = json_object_array_length(arr);
    if (*n < 1 || *n > BT_TOKEN_BATCH_MAX) return bad_param(c, key);
    for (size_t i = 0; i < *n; i++) {
        json_object *v = json_object_array_get_idx(arr, i);
        const char *s = json_object_get_string(v), *end = NULL;
        size_t got = 0;
        if (!json_object_is_type(v, json_type_string) ||
            sodium_base642bin(out + i * size, size, s, strlen(s), NULL, &got, &end, sodium_base64_VARIANT_ORIGINAL) != 0 ||
            got != size || *end != '\0')
            return bad_param(c, key);
    }
    return BT_OK;
}

bt_err m_token_finish(call *c)
{
    static unsigned char z[BT_TOKEN_BATCH_MAX][BT_TOKEN_POINT_BYTES], proof[BT_TOKEN_BATCH_MAX][BT_TOKEN_PROOF_BYTES];
    int64_t request = 0;
    size_t nz = 0, np = 0, added = 0, left = 0;
    bt_err err = param_int(c, "request", 1, 1, INT64_MAX, &request);
    if (err == BT_OK) err = b64_array(c, "evaluated", BT_TOKEN_POINT_BYTES, &z[0][0], &nz);
    if (err == BT_OK) err = b64_array(c, "proofs", BT_TOKEN_PROOF_BYTES, &proof[0][0], &np);
    if (err == BT_OK && nz != np) err = bad_param(c, "proofs: one for each evaluated element");
    if (err == BT_OK) err = need_vault(c);
    if (err == BT_OK)
        err = bt_outbox_token_finish(c->r->vault, request, (const unsigned char (*)[BT_TOKEN_POINT_BYTES])z,
                                     (const unsigned char (*)[BT_TOKEN_PROOF_BYTES])proof, nz, (int64_t)time(NULL),
                                     &added, &left, &c->detail);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "added", json_object_new_int64((int64_t)added));
    json_object_object_add(c->result, "tokens_left", json_object_new_int64((int64_t)left));
    return BT_OK;
}
