/* Strict JSON parsing, the one way every part of Bantrail reads JSON it did
 * not write itself (frames, log entries, reports, key files). */
#ifndef BANTRAIL_UTIL_JSON_H
#define BANTRAIL_UTIL_JSON_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#include "bantrail/error.h"

/* The most objects and arrays, and values (counted by their commas), one
 * text may hold: far above anything Bantrail exchanges, and a bound on the
 * memory parsing takes (about 20 MB). */
#define BT_JSON_CONTAINERS_MAX 10000
#define BT_JSON_VALUES_MAX 100000

/* Parses text (n bytes) as exactly one JSON value: strict syntax (RFC 8259:
 * no single quotes, no raw control characters in strings), well-formed
 * UTF-8, nested at most depth deep, no NUL byte (raw or escaped), nothing
 * after the value, at most BT_JSON_CONTAINERS_MAX objects and arrays and
 * BT_JSON_VALUES_MAX values.
 * BT_OK with *out set (the caller puts it), BT_ERR_BAD_JSON with *out NULL,
 * or BT_ERR_NO_MEMORY. */
bt_err bt_json_parse(const char *text, size_t n, int depth, json_object **out);

/* As bt_json_parse, for a reader that needs nothing of one member of the
 * outermost object where it is most of the text (a notice's "text" in a
 * log entry's header, for the index): the contents of each string value of
 * a member named skip there (its name written without escapes) are checked
 * as bt_json_parse checks them but not parsed: *out has "" for it. The
 * answer (BT_OK or BT_ERR_BAD_JSON) is bt_json_parse's for the same text. */
bt_err bt_json_parse_lean(const char *text, size_t n, int depth, const char *skip, json_object **out);

/* Member key of o when it is a string, else NULL (also for o NULL). */
const char *bt_json_str(json_object *o, const char *key);

/* Sets *out to member key of o and returns 1 when it is an integer; else
 * returns 0 and leaves *out alone (also for o NULL). */
int bt_json_int(json_object *o, const char *key, int64_t *out);

/* Member key of o when it is an integer, else dflt. */
int64_t bt_json_int_or(json_object *o, const char *key, int64_t dflt);

/* The checked getters for what a caller sent (request params, a sealed
 * box's contents). Each returns BT_OK with *out set, or BT_ERR_BAD_PARAMS
 * with *why (may be NULL) pointed at key, the detail every caller reports.
 * A member that is absent (or null, or o not an object) is refused when
 * required, else BT_OK with *out NULL (left alone for an integer). */

/* Member key of o, borrowed, when it is of type. */
bt_err bt_json_member(json_object *o, const char *key, json_type type, int required, json_object **out,
                      const char **why);

/* A string member of at most max bytes (a required one not empty); *out
 * borrowed, its length in *len (may be NULL). */
bt_err bt_json_member_string(json_object *o, const char *key, int required, size_t max, const char **out,
                             size_t *len, const char **why);

/* An integer member within lo..hi. */
bt_err bt_json_member_int(json_object *o, const char *key, int required, int64_t lo, int64_t hi, int64_t *out,
                          const char **why);

#endif
