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

bt_err bt_record_append(bt_vault *v, json_object *head, const unsigned char *body, size_t body_len, int64_t *id)
{
    size_t n;
    const char *s = head ? json_object_to_json_string_length(head, JSON_C_TO_STRING_PLAIN, &n) : NULL;
    return s ? bt_vault_append(v, s, n, body, body_len, id) : BT_ERR_NO_MEMORY;
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
