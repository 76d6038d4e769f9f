/* Reading and writing the log's JSON headers: see include/bantrail/records.h. */
#include "bantrail/records.h"

#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "util/json.h"

#define HEAD_DEPTH 32 /* nesting allowed in a header: ours are 3 deep */

bt_err bt_record_read(bt_vault *v, int64_t id, json_object **head)
{
    char *text = NULL;
    size_t n = 0;
    bt_err err = bt_vault_read(v, id, &text, &n, NULL, NULL);
    *head = NULL;
    if (err != BT_OK) return err;
    err = bt_json_parse(text, n, HEAD_DEPTH, head);
    if (err == BT_ERR_BAD_JSON) err = BT_ERR_CORRUPT;
    bt_vault_free(text);
    return err;
}

bt_err bt_record_parse_lean(const char *text, size_t n, json_object **head)
{
    bt_err err = bt_json_parse_lean(text, n, HEAD_DEPTH, "text", head);
    return err == BT_ERR_BAD_JSON ? BT_ERR_CORRUPT : err;
}

bt_err bt_record_append(bt_vault *v, json_object *head, const unsigned char *body, size_t body_len, int64_t *id)
{
    size_t n;
    const char *s = head ? json_object_to_json_string_length(head, JSON_C_TO_STRING_PLAIN, &n) : NULL;
    return s ? bt_vault_append(v, s, n, body, body_len, id) : BT_ERR_NO_MEMORY;
}

void bt_record_add_title(json_object *o, const char *title)
{
    size_t n = strlen(title);
    if (n > BT_RECORD_TITLE_MAX) { /* cut at a UTF-8 boundary */
        n = BT_RECORD_TITLE_MAX;
        while (n > 0 && ((unsigned char)title[n] & 0xC0) == 0x80) n--;
    }
    json_object_object_add(o, "title", json_object_new_string_len(title, (int)n));
}

json_object *bt_record_summary(json_object *head)
{
    static const char *const keep[] = {"type", "url", "lang", "observed_at", "captured_at",
                                       "classification", "of", "mime", "size"};
    json_object *o = json_object_new_object();
    for (size_t i = 0; o != NULL && i < sizeof keep / sizeof keep[0]; i++) {
        json_object *x;
        if (json_object_object_get_ex(head, keep[i], &x)) json_object_object_add(o, keep[i], json_object_get(x));
    }
    const char *title = bt_json_str(head, "title");
    if (o != NULL && title != NULL) bt_record_add_title(o, title);
    return o;
}

json_object *bt_record_new(const char *type)
{
    json_object *head = json_object_new_object();
    json_object_object_add(head, "type", json_object_new_string(type));
    return head;
}

static int stop_at_first(void *ctx, const bt_vault_entry_info *e)
{
    (void)ctx;
    (void)e;
    return 1;
}

int bt_record_exists(bt_vault *v, int64_t id)
{
    int64_t last = 0;
    return id > 0 && bt_vault_entries(v, id - 1, 1, stop_at_first, NULL, &last) == BT_OK && last == id;
}
