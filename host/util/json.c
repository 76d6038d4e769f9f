#include "util/json.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/utf8.h"

/* The most members bt_json_parse_lean leaves out of one text (more are parsed). */
#define LEAN_SPANS 8

/* Whether text (n bytes) avoids what json-c 0.16's strict mode lets
 * through and JSON (RFC 8259) or Bantrail does not: a single quote outside a
 * string (json-c takes {'key': 1}), a raw control character inside a string,
 * an escaped NUL (\u0000 would cut a C string short), bytes that are not
 * well-formed UTF-8 (overlong forms, surrogates, past U+10FFFF), and more
 * objects, arrays or values than BT_JSON_CONTAINERS_MAX and
 * BT_JSON_VALUES_MAX (json-c spends hundreds of bytes on each: a 32 MiB
 * frame of [{},{},...] would take gigabytes). It also refuses the escapes
 * json-c refuses (a backslash not followed by one of "\/bfnrtu, a \u
 * without four hex digits), so that what it checked is checked whole. When
 * skip is not NULL, the contents of each string value of a member named
 * skip of the outermost object (up to LEAN_SPANS of them) are noted in
 * spans[0 .. *n_spans): from after the opening quote to the closing one. */
static int acceptable(const char *text, size_t n, const char *skip, size_t spans[][2], size_t *n_spans)
{
    const unsigned char *p = (const unsigned char *)text, *end = p + n, *s0 = p;
    enum { ANY, KEY, COLON, VALUE } want = ANY; /* at the outermost object's level: what may come next */
    int in_string = 0, key = 0, value = 0, top_object = -1;
    size_t containers = 0, values = 1, depth = 0, skip_len = skip != NULL ? strlen(skip) : 0;
    while (p < end) {
        if (*p >= 0x80) {
            size_t len = bt_utf8_valid(p, (size_t)(end - p));
            if (len == 0) return 0;
            p += len;
            continue;
        }
        unsigned char c = *p++;
        if (!in_string) {
            if (c == ' ' || c == '\t' || c == '\n' || c == '\r') continue;
            if (c == '\'') return 0;
            if (c == '"') {
                in_string = 1;
                s0 = p;
                key = want == KEY;
                value = want == VALUE;
                want = ANY;
                continue;
            }
            int colon = c == ':' && want == COLON;
            want = colon ? VALUE : ANY;
            if (c == '{' || c == '[') {
                if (++containers > BT_JSON_CONTAINERS_MAX) return 0;
                if (top_object < 0) top_object = c == '{';
                if (++depth == 1 && top_object) want = KEY;
            } else if (c == '}' || c == ']') {
                depth -= depth > 0;
            } else if (c == ',') {
                if (++values > BT_JSON_VALUES_MAX) return 0;
                if (depth == 1 && top_object == 1) want = KEY;
            }
        } else if (c == '"') {
            size_t len = (size_t)(p - 1 - s0);
            in_string = 0;
            if (key && len == skip_len && skip_len > 0 && memcmp(s0, skip, len) == 0) want = COLON;
            if (value && *n_spans < LEAN_SPANS) {
                spans[*n_spans][0] = (size_t)(s0 - (const unsigned char *)text);
                spans[*n_spans][1] = (size_t)(p - 1 - (const unsigned char *)text);
                (*n_spans)++;
            }
        } else if (c == '\\') {
            if (p == end || strchr("\"\\/bfnrtu", *p) == NULL) return 0;
            if (*p == 'u') {
                if (end - p < 5 || memcmp(p + 1, "0000", 4) == 0) return 0;
                for (int i = 1; i <= 4; i++)
                    if (!((p[i] >= '0' && p[i] <= '9') || ((p[i] | 0x20) >= 'a' && (p[i] | 0x20) <= 'f'))) return 0;
            }
            p++; /* the escaped character (the hex digits are read as they come) */
        } else if (c < 0x20) {
            return 0;
        } else { /* the plain characters that follow, at once */
            while (p < end && *p >= 0x20 && *p < 0x80 && *p != '"' && *p != '\\') p++;
        }
    }
    return 1;
}

bt_err bt_json_parse(const char *text, size_t n, int depth, json_object **out)
{
    return bt_json_parse_lean(text, n, depth, NULL, out);
}

bt_err bt_json_parse_lean(const char *text, size_t n, int depth, const char *skip, json_object **out)
{
    size_t spans[LEAN_SPANS][2], n_spans = 0, m = n;
    char *lean = NULL;
    *out = NULL;
    if (n == 0 || n > INT_MAX || memchr(text, '\0', n) != NULL || !acceptable(text, n, skip, spans, &n_spans))
        return BT_ERR_BAD_JSON;
    if (n_spans > 0) { /* the text without those strings' contents: checked above, the rest by json-c */
        size_t from = 0;
        if ((lean = malloc(n)) == NULL) return BT_ERR_NO_MEMORY;
        m = 0;
        for (size_t i = 0; i <= n_spans; i++) {
            size_t to = i < n_spans ? spans[i][0] : n;
            memcpy(lean + m, text + from, to - from);
            m += to - from;
            from = i < n_spans ? spans[i][1] : n;
        }
        text = lean;
    }
    json_tokener *tok = json_tokener_new_ex(depth);
    json_object *o = NULL;
    int whole = 0;
    if (tok != NULL) {
        json_tokener_set_flags(tok, JSON_TOKENER_STRICT); /* UTF-8: acceptable checked it, more strictly */
        o = json_tokener_parse_ex(tok, text, (int)m);
        whole = json_tokener_get_error(tok) == json_tokener_success && json_tokener_get_parse_end(tok) == m;
        json_tokener_free(tok);
    }
    if (lean != NULL) sodium_memzero(lean, n);
    free(lean);
    if (tok == NULL) return BT_ERR_NO_MEMORY;
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
