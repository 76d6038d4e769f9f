#include "util/json.h"

#include <limits.h>
#include <string.h>

#include "util/utf8.h"

/* Whether text (n bytes) avoids what json-c 0.16's strict mode lets
 * through and JSON (RFC 8259) or Bantrail does not: a single quote outside a
 * string (json-c takes {'key': 1}), a raw control character inside a string,
 * an escaped NUL (\u0000 would cut a C string short), bytes that are not
 * well-formed UTF-8 (overlong forms, surrogates, past U+10FFFF), and more
 * objects, arrays or values than BT_JSON_CONTAINERS_MAX and
 * BT_JSON_VALUES_MAX (json-c spends hundreds of bytes on each: a 32 MiB
 * frame of [{},{},...] would take gigabytes). */
static int acceptable(const char *text, size_t n)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + n;
    int in_string = 0;
    size_t containers = 0, values = 1;
    while (p < end) {
        size_t len = bt_utf8_valid(p, (size_t)(end - p));
        if (len == 0) return 0;
        if (len > 1) {
            p += len;
            continue;
        }
        unsigned char c = *p++;
        if (!in_string) {
            if (c == '\'') return 0;
            in_string = c == '"';
            if ((c == '{' || c == '[') && ++containers > BT_JSON_CONTAINERS_MAX) return 0;
            if (c == ',' && ++values > BT_JSON_VALUES_MAX) return 0;
        } else if (c < 0x20) {
            return 0;
        } else if (c == '"') {
            in_string = 0;
        } else if (c == '\\' && p < end) {
            if (*p == 'u' && end - p >= 5 && memcmp(p + 1, "0000", 4) == 0) return 0;
            p++; /* the escaped character (json-c checks the rest of the escape) */
        }
    }
    return 1;
}

bt_err bt_json_parse(const char *text, size_t n, int depth, json_object **out)
{
    *out = NULL;
    if (n == 0 || n > INT_MAX || memchr(text, '\0', n) != NULL || !acceptable(text, n)) return BT_ERR_BAD_JSON;
    json_tokener *tok = json_tokener_new_ex(depth);
    if (tok == NULL) return BT_ERR_NO_MEMORY;
    json_tokener_set_flags(tok, JSON_TOKENER_STRICT | JSON_TOKENER_VALIDATE_UTF8);
    json_object *o = json_tokener_parse_ex(tok, text, (int)n);
    int whole = json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == n;
    json_tokener_free(tok);
    if (o == NULL || !whole) {
        json_object_put(o);
        return BT_ERR_BAD_JSON;
    }
    *out = o;
    return BT_OK;
}

const char *bt_json_str(json_object *o, const char *key)
{
    json_object *x;
    if (o == NULL || !json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_string))
        return NULL;
    return json_object_get_string(x);
}

int bt_json_int(json_object *o, const char *key, int64_t *out)
{
    json_object *x;
    if (o == NULL || !json_object_object_get_ex(o, key, &x) || !json_object_is_type(x, json_type_int)) return 0;
    *out = json_object_get_int64(x);
    return 1;
}

int64_t bt_json_int_or(json_object *o, const char *key, int64_t dflt)
{
    bt_json_int(o, key, &dflt);
    return dflt;
}

static bt_err refuse(const char *key, const char **why)
{
    if (why != NULL) *why = key;
    return BT_ERR_BAD_PARAMS;
}

bt_err bt_json_member(json_object *o, const char *key, json_type type, int required, json_object **out,
                      const char **why)
{
    json_object *x = NULL;
    *out = NULL;
    if (!json_object_is_type(o, json_type_object) || !json_object_object_get_ex(o, key, &x) || x == NULL)
        return required ? refuse(key, why) : BT_OK;
    if (!json_object_is_type(x, type)) return refuse(key, why);
    *out = x;
    return BT_OK;
}

bt_err bt_json_member_string(json_object *o, const char *key, int required, size_t max, const char **out,
                             size_t *len, const char **why)
{
    json_object *x;
    bt_err err = bt_json_member(o, key, json_type_string, required, &x, why);
    *out = NULL;
    if (len) *len = 0;
    if (err != BT_OK || x == NULL) return err;
    size_t n = (size_t)json_object_get_string_len(x);
    if (n > max || (required && n == 0)) return refuse(key, why);
    *out = json_object_get_string(x);
    if (len) *len = n;
    return BT_OK;
}

bt_err bt_json_member_int(json_object *o, const char *key, int required, int64_t lo, int64_t hi, int64_t *out,
                          const char **why)
{
    json_object *x;
    bt_err err = bt_json_member(o, key, json_type_int, required, &x, why);
    if (err != BT_OK || x == NULL) return err;
    int64_t v = json_object_get_int64(x);
    if (v < lo || v > hi) return refuse(key, why);
    *out = v;
    return BT_OK;
}
