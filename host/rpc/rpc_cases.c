/* cases, case_get, case_merge, case_split, event_add, case_export
 * (docs/PROTOCOL.md) over core/cases.c, core/case_edit.c and core/export.c. */
#include "bantrail/cases.h"
#include "bantrail/export.h"
#include "bantrail/records.h"
#include "rpc/rpc_int.h"
#include "util/json.h"

#define CASES_LIMIT_MAX LIST_LIMIT_MAX

/* The cases of the whole log, from the index (borrowed: valid until the
 * next use of the index); needs the log readable. */
static bt_err load_cases(call *c, const bt_cases **cs)
{
    bt_err err = need_vault(c);
    *cs = NULL;
    if (err != BT_OK) return err;
    if (bt_vault_state_of(c->r->vault) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;
    bt_index *ix = rpc_index(c->r);
    return ix != NULL ? bt_index_cases(ix, c->r->vault, (int64_t)time(NULL), cs, NULL) : BT_ERR_NO_MEMORY;
}

bt_err m_cases(call *c)
{
    int64_t after = 0, limit = LIST_LIMIT_DEFAULT;
    const bt_cases *cs = NULL;
    bt_err err;
    if ((err = param_int(c, "after", 0, 0, INT64_MAX, &after)) != BT_OK) return err;
    if ((err = param_int(c, "limit", 0, 1, CASES_LIMIT_MAX, &limit)) != BT_OK) return err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if (bt_vault_state_of(c->r->vault) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;
    bt_index *ix = rpc_index(c->r);
    if (ix == NULL) return BT_ERR_NO_MEMORY;
    /* a list needs no events: the cases kept beside the snapshot do, when they are of the log now */
    if ((err = bt_index_case_list(ix, c->r->vault, (int64_t)time(NULL), &cs, NULL)) != BT_OK) return err;
    json_object *arr = json_object_new_array();
    size_t n = bt_cases_count(cs), i = 0, shown = 0;
    while (i < n && bt_cases_at(cs, i)->id <= after) i++;
    for (; i < n && shown < (size_t)limit; i++, shown++)
        json_object_array_add(arr, bt_case_to_json(bt_cases_at(cs, i), 0));
    c->result = json_object_new_object();
    json_object_object_add(c->result, "cases", arr);
    json_object_object_add(c->result, "count", json_object_new_int64((int64_t)n));
    json_object_object_add(c->result, "next", i < n ? json_object_new_int64(bt_cases_at(cs, i - 1)->id) : NULL);
    return BT_OK;
}

/* Adds what the record itself says to a case event: its hash, address,
 * title (cut), stated reason and, for events, the note. Never notice text. */
static void event_details(bt_vault *v, json_object *ev, int64_t id)
{
    unsigned char hash[BT_HASH_BYTES];
    json_object *head = NULL, *cls = NULL;
    if (bt_vault_entry_hash(v, id, hash) == BT_OK) json_object_object_add(ev, "hash", hex_string(hash, sizeof hash));
    if (bt_record_read(v, id, &head) != BT_OK) {
        json_object_object_add(ev, "error", json_object_new_string("corrupt"));
        return;
    }
    const char *url = bt_json_str(head, "url"), *title = bt_json_str(head, "title"), *note = bt_json_str(head, "note");
    if (url) json_object_object_add(ev, "url", json_object_new_string(url));
    if (title) bt_record_add_title(ev, title);
    if (note) json_object_object_add(ev, "note", json_object_new_string(note));
    json_object_object_get_ex(head, "classification", &cls);
    if (bt_json_str(cls, "reason")) json_object_object_add(ev, "reason", json_object_new_string(bt_json_str(cls, "reason")));
    json_object_put(head);
}

/* The case's JSON with the page of events from offset, limit long. */
static void case_page(call *c, const bt_case *k, int64_t offset, int64_t limit)
{
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
}

bt_err m_case_get(call *c)
{
    int64_t id = 0, record = 0, offset = 0, limit = CASE_EVENTS_MAX;
    const bt_cases *cs = NULL;
    bt_err err;
    if ((err = param_int(c, "id", 0, 1, INT64_MAX, &id)) != BT_OK) return err;
    if ((err = param_int(c, "record", 0, 1, INT64_MAX, &record)) != BT_OK) return err;
    if ((err = param_int(c, "offset", 0, 0, INT64_MAX, &offset)) != BT_OK) return err;
    if ((err = param_int(c, "limit", 0, 1, CASE_EVENTS_MAX, &limit)) != BT_OK) return err;
    if (id == 0 && record == 0) return bad_param(c, "id");
    if ((err = load_cases(c, &cs)) != BT_OK) return err;
    const bt_case *k = id ? bt_cases_find(cs, id) : bt_cases_of_record(cs, record);
    if (k != NULL) case_page(c, k, offset, limit);
    return k != NULL ? BT_OK : BT_ERR_NOT_FOUND;
}

bt_err m_case_merge(call *c)
{
    json_object *arr, *x, *y;
    int64_t a, b, entry = 0;
    bt_err err;
    if ((err = param(c, "cases", json_type_array, 1, &arr)) != BT_OK) return err;
    x = json_object_array_get_idx(arr, 0);
    y = json_object_array_get_idx(arr, 1);
    if (json_object_array_length(arr) != 2 || !json_object_is_type(x, json_type_int) ||
        !json_object_is_type(y, json_type_int) || json_object_get_int64(x) == json_object_get_int64(y))
        return bad_param(c, "cases (two different case ids)");
    a = json_object_get_int64(x);
    b = json_object_get_int64(y);
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = bt_case_merge(c->r->vault, a, b, (int64_t)time(NULL), &entry, &c->detail)) != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(a < b ? a : b));
    json_object_object_add(c->result, "entry", json_object_new_int64(entry));
    return BT_OK;
}

bt_err m_case_split(call *c)
{
    int64_t record = 0, from = 0, entry = 0;
    bt_err err;
    if ((err = param_int(c, "record", 1, 1, INT64_MAX, &record)) != BT_OK) return err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = bt_case_split(c->r->vault, record, (int64_t)time(NULL), &from, &entry, &c->detail)) != BT_OK)
        return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "case", json_object_new_int64(from));
    json_object_object_add(c->result, "new_case", json_object_new_int64(record));
    json_object_object_add(c->result, "entry", json_object_new_int64(entry));
    return BT_OK;
}

bt_err m_event_add(call *c)
{
    bt_event_in in;
    int64_t id = 0, at = 0, case_id = 0;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = bt_event_in_parse(&in, c->params, &c->detail)) != BT_OK) return err;
    err = bt_event_add(c->r->vault, &in, (int64_t)time(NULL), &id, &at, &case_id, &c->detail);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "id", json_object_new_int64(id));
    json_object_object_add(c->result, "at", json_object_new_int64(at));
    json_object_object_add(c->result, "case", case_id ? json_object_new_int64(case_id) : NULL);
    return BT_OK;
}

bt_err m_case_export(call *c)
{
    const char *format, *lang = NULL;
    int64_t id = 0, offset = 0, upto = 0, generated = (int64_t)time(NULL);
    bt_export_piece *p = &c->r->export;
    bt_err err;
    if ((err = need_vault(c)) != BT_OK) return err;
    if ((err = param_int(c, "id", 1, 1, INT64_MAX, &id)) != BT_OK) return err;
    if ((err = param_string(c, "format", 1, 8, &format, NULL)) != BT_OK) return err;
    if ((err = param_int(c, "offset", 0, 0, INT64_MAX, &offset)) != BT_OK) return err;
    if ((err = param_int(c, "upto", 0, 1, INT64_MAX, &upto)) != BT_OK) return err;
    if ((err = param_int(c, "generated_at", 0, 0, INT64_MAX, &generated)) != BT_OK) return err;
    if ((err = param_string(c, "lang", 0, 35, &lang, NULL)) != BT_OK) return err;
    int fmt = bt_export_format_parse(format);
    if (fmt < 0) return bad_param(c, "format (html or json)");
    err = bt_export_page(p, c->r->vault, id, (bt_export_format)fmt, upto, generated, lang, offset);
    if (err != BT_OK) return err;
    c->result = json_object_new_object();
    json_object_object_add(c->result, "format", json_object_new_string(bt_export_format_name((bt_export_format)fmt)));
    json_object_object_add(c->result, "filename", json_object_new_string(p->filename));
    json_object_object_add(c->result, "size", json_object_new_int64((int64_t)p->len));
    json_object_object_add(c->result, "digest", hex_string(p->digest, sizeof p->digest));
    json_object_object_add(c->result, "upto", json_object_new_int64(p->upto));
    json_object_object_add(c->result, "generated_at", json_object_new_int64(p->generated_at));
    json_object_object_add(c->result, "lang", json_object_new_string(p->lang));
    add_piece(c->result, (const unsigned char *)p->doc, p->len, p->offset, p->n);
    if ((size_t)p->offset + p->n >= p->len) bt_export_piece_free(p); /* the last piece: nothing kept */
    return BT_OK;
}
