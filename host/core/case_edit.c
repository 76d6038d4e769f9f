/* What the person adds to cases: events and the merge and split overrides,
 * each checked against the cases as they stand. See include/bantrail/cases.h. */
#include "bantrail/cases.h"

#include <stdio.h>
#include <string.h>

#include "bantrail/records.h"
#include "util/json.h"

static bt_err refuse(const char *detail, const char **why)
{
    if (why) *why = detail;
    return BT_ERR_BAD_PARAMS;
}

bt_err bt_cases_load_readable(bt_cases **out, bt_vault *v, int64_t now)
{
    *out = NULL;
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;
    return bt_cases_load(out, v, 0, now, NULL);
}

/* Appends head (put here) with captured_at now and sets *entry. */
static bt_err append_stamped(bt_vault *v, json_object *head, int64_t now, int64_t *entry)
{
    json_object_object_add(head, "captured_at", json_object_new_int64(now));
    bt_err err = bt_record_append(v, head, NULL, 0, entry);
    json_object_put(head);
    return err;
}

/* ---- events ---- */

bt_err bt_event_in_parse(bt_event_in *in, json_object *o, const char **why)
{
    json_object *manual;
    bt_err err;
    memset(in, 0, sizeof *in);
    if ((err = bt_json_member_string(o, "event", 1, 32, &in->event, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "platform", 0, BT_CASE_PLATFORM_MAX - 1, &in->platform, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "handle", 0, BT_CASE_HANDLE_MAX - 1, &in->handle, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "outcome", 0, 16, &in->outcome, NULL, why)) != BT_OK ||
        (err = bt_json_member_string(o, "note", 0, BT_EVENT_NOTE_MAX, &in->note, NULL, why)) != BT_OK ||
        (err = bt_json_member_int(o, "case", 0, 1, INT64_MAX, &in->case_id, why)) != BT_OK ||
        (err = bt_json_member(o, "manual", json_type_boolean, 0, &manual, why)) != BT_OK)
        return err;
    in->manual = manual == NULL || json_object_get_boolean(manual);
    if (json_object_is_type(o, json_type_object)) json_object_object_get_ex(o, "at", &in->at);
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

/* The event's time: an integer, or an ISO 8601 string; not after the slack. */
static int event_time(json_object *at_o, int64_t now, int64_t *at)
{
    if (json_object_is_type(at_o, json_type_int)) *at = json_object_get_int64(at_o);
    else if (!json_object_is_type(at_o, json_type_string) || bt_cases_parse_time(json_object_get_string(at_o), at) != 0)
        return 0;
    return *at >= 0 && *at <= now + BT_EVENT_FUTURE_SLACK;
}

/* What the entry says besides its kind and time: where, who, and the case. */
typedef struct {
    char platform[BT_CASE_PLATFORM_MAX], handle[BT_CASE_HANDLE_MAX];
} event_place;

/* Takes the platform and handle of the named case (which must exist). */
static bt_err place_of_case(bt_vault *v, const bt_event_in *in, int64_t now, event_place *p, const char **why)
{
    bt_cases *cs = NULL;
    bt_err err = bt_cases_load_readable(&cs, v, now);
    if (err != BT_OK) return err;
    const bt_case *k = bt_cases_find(cs, in->case_id);
    if (k != NULL) {
        memcpy(p->platform, k->platform, sizeof p->platform);
        memcpy(p->handle, k->handle, sizeof p->handle);
    }
    bt_cases_free(cs);
    if (k == NULL) return BT_ERR_NOT_FOUND;
    if (in->platform != NULL && strcmp(in->platform, p->platform) != 0)
        return refuse("platform differs from the case's", why);
    if (in->handle != NULL) snprintf(p->handle, sizeof p->handle, "%s", in->handle);
    return BT_OK;
}

static bt_err event_check(bt_vault *v, const bt_event_in *in, int64_t now, int64_t *at, event_place *p,
                          const char **why)
{
    int e = bt_event_parse(in->event);
    memset(p, 0, sizeof *p);
    if (e < 0) return refuse("event", why);
    /* a decision says how; nothing else has an outcome */
    if ((e == BT_EVENT_DECISION) != (in->outcome != NULL) ||
        (in->outcome != NULL && strcmp(in->outcome, "rejected") != 0 && strcmp(in->outcome, "reinstated") != 0))
        return refuse("outcome (rejected or reinstated, for a decision only)", why);
    if (!event_time(in->at, now, at)) return refuse("at (Unix seconds or ISO 8601, not in the future)", why);
    if (in->platform != NULL && !platform_ok(in->platform)) return refuse("platform", why);
    if (in->case_id != 0) return place_of_case(v, in, now, p, why); /* the case must exist: needs the log readable */
    if (in->platform == NULL) return refuse("platform (or case)", why);
    snprintf(p->platform, sizeof p->platform, "%s", in->platform);
    if (in->handle != NULL) snprintf(p->handle, sizeof p->handle, "%s", in->handle);
    return BT_OK;
}

bt_err bt_event_add(bt_vault *v, const bt_event_in *in, int64_t now, int64_t *id, int64_t *at,
                    int64_t *case_id, const char **why)
{
    event_place p;
    bt_err err = event_check(v, in, now, at, &p, why);
    if (err != BT_OK) return err;
    json_object *head = bt_record_new(BT_REC_EVENT);
    json_object_object_add(head, "event", json_object_new_string(bt_event_name((bt_event_kind)bt_event_parse(in->event))));
    if (in->outcome) json_object_object_add(head, "outcome", json_object_new_string(in->outcome));
    if (p.platform[0]) json_object_object_add(head, "platform", json_object_new_string(p.platform));
    if (p.handle[0]) json_object_object_add(head, "handle", json_object_new_string(p.handle));
    json_object_object_add(head, "at", json_object_new_int64(*at));
    json_object_object_add(head, "manual", json_object_new_boolean(in->manual));
    if (in->note) json_object_object_add(head, "note", json_object_new_string(in->note));
    if (in->case_id) json_object_object_add(head, "case", json_object_new_int64(in->case_id));
    if ((err = append_stamped(v, head, now, id)) != BT_OK) return err;
    /* which case it joined, when that can be told */
    bt_cases *cs = NULL;
    const bt_case *k = NULL;
    if (bt_cases_load_readable(&cs, v, now) == BT_OK) k = bt_cases_of_record(cs, *id);
    *case_id = k ? k->id : 0;
    bt_cases_free(cs);
    return BT_OK;
}

/* ---- overrides ---- */

bt_err bt_case_merge(bt_vault *v, int64_t a, int64_t b, int64_t now, int64_t *entry, const char **why)
{
    bt_cases *cs = NULL;
    if (a == b) return refuse("cases (two different case ids)", why);
    bt_err err = bt_cases_load_readable(&cs, v, now);
    if (err != BT_OK) return err;
    int found = bt_cases_find(cs, a) != NULL && bt_cases_find(cs, b) != NULL;
    bt_cases_free(cs);
    if (!found) return BT_ERR_NOT_FOUND;
    json_object *head = bt_record_new(BT_REC_CASE_MERGE), *pair = json_object_new_array();
    json_object_array_add(pair, json_object_new_int64(a));
    json_object_array_add(pair, json_object_new_int64(b));
    json_object_object_add(head, "cases", pair);
    return append_stamped(v, head, now, entry);
}

bt_err bt_case_split(bt_vault *v, int64_t record, int64_t now, int64_t *from, int64_t *entry, const char **why)
{
    bt_cases *cs = NULL;
    bt_err err = bt_cases_load_readable(&cs, v, now);
    if (err != BT_OK) return err;
    const bt_case *k = bt_cases_of_record(cs, record);
    *from = k != NULL ? k->id : 0;
    bt_cases_free(cs);
    if (*from == 0) return BT_ERR_NOT_FOUND;
    if (*from == record) return refuse("record is the first of its case: nothing would stay behind", why);
    json_object *head = bt_record_new(BT_REC_CASE_SPLIT);
    json_object_object_add(head, "record", json_object_new_int64(record));
    return append_stamped(v, head, now, entry);
}
