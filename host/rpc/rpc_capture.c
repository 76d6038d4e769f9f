/* capture, attach, capture_sealed (docs/PROTOCOL.md) over core/capture.c
 * and core/inbox.c. */
#include "bantrail/classify.h"
#include "bantrail/frame.h"
#include "bantrail/inbox.h"
#include "rpc/rpc_int.h"

/* The capture result: the host's verdict, and what was stored. */
static json_object *capture_json(const bt_capture_out *out)
{
    json_object *res = json_object_new_object();
    json_object_object_add(res, "classification", bt_classify_to_json(&out->verdict));
    json_object_object_add(res, "stored", json_object_new_boolean(out->stored));
    if (!out->stored) return res;
    json_object_object_add(res, "id", json_object_new_int64(out->record));
    json_object_object_add(res, "occurrence", json_object_new_boolean(out->occurrence));
    if (out->occurrence) json_object_object_add(res, "entry", json_object_new_int64(out->entry));
    return res;
}

bt_err m_capture(call *c)
{
    bt_capture_in in;
    bt_capture_out out;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = bt_capture_in_parse(&in, c->params, &c->detail)) != BT_OK) return err;
    if ((err = bt_capture_notice(c->r->capture, &in, (int64_t)time(NULL), &out, &c->detail)) != BT_OK) return err;
    c->result = capture_json(&out);
    return BT_OK;
}

bt_err m_attach(call *c)
{
    const char *mime, *data;
    size_t data_len, size = 0;
    int64_t record = 0, id = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "record", 1, 1, INT64_MAX, &record)) != BT_OK) return err;
    if ((err = param_string(c, "mime", 1, BT_CAPTURE_MIME_MAX, &mime, NULL)) != BT_OK) return err;
    if ((err = param_string(c, "data", 1, BT_FRAME_IN_MAX, &data, &data_len)) != BT_OK) return err;
    err = bt_capture_attach(c->r->capture, record, mime, data, data_len, (int64_t)time(NULL), &id, &size, &c->detail);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "size", json_object_new_int64((int64_t)size));
    return BT_OK;
}

static json_object *ids_json(const int64_t *ids, size_t n)
{
    json_object *arr = json_object_new_array();
    for (size_t i = 0; i < n; i++) json_object_array_add(arr, json_object_new_int64(ids[i]));
    return arr;
}

/* What a box became, as the method it stands for would have answered. */
static json_object *box_json(const bt_box_out *out)
{
    json_object *res;
    switch (out->kind) {
    case BT_BOX_PENDING:
        res = json_object_new_object();
        json_object_object_add(res, "pending", json_object_new_boolean(1));
        json_object_object_add(res, "entry", json_object_new_int64(out->entry));
        return res;
    case BT_BOX_DUPLICATE:
        res = json_object_new_object();
        json_object_object_add(res, "duplicate", json_object_new_boolean(1));
        return res;
    case BT_BOX_EVENT:
        res = json_object_new_object();
        json_object_object_add(res, "id", json_object_new_int64(out->event_id));
        json_object_object_add(res, "at", json_object_new_int64(out->event_at));
        json_object_object_add(res, "case", out->event_case ? json_object_new_int64(out->event_case) : NULL);
        return res;
    case BT_BOX_CAPTURE:
        res = capture_json(&out->capture);
        if (!out->capture.stored) return res;
        break;
    case BT_BOX_RECORD:
    default:
        res = json_object_new_object();
        json_object_object_add(res, "id", json_object_new_int64(out->record));
        break;
    }
    json_object_object_add(res, "attachments", ids_json(out->attachments, out->n_attachments));
    return res;
}

bt_err m_capture_sealed(call *c)
{
    const char *b64;
    size_t b64_len;
    bt_box_out out;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_string(c, "sealed", 1, BT_FRAME_IN_MAX, &b64, &b64_len)) != BT_OK) return err;
    if ((err = bt_inbox_put(c->r->capture, b64, b64_len, (int64_t)time(NULL), &out, &c->detail)) != BT_OK) return err;
    c->result = box_json(&out);
    bt_box_out_free(&out);
    return BT_OK;
}
