/* What the method files of host/rpc share, and nothing else includes: the
 * dispatcher's state, one call's context, the param getters and the JSON
 * pieces several methods answer with. A method reads its params, calls the
 * core and turns the answer into JSON; what it decides lives in the core. */
#ifndef BANTRAIL_RPC_INT_H
#define BANTRAIL_RPC_INT_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "bantrail/capture.h"
#include "bantrail/error.h"
#include "bantrail/export.h"
#include "bantrail/inbox.h"
#include "bantrail/index.h"
#include "bantrail/records.h"
#include "bantrail/rpc.h"
#include "bantrail/vault.h"

#define LIST_LIMIT_MAX 200
#define LIST_LIMIT_DEFAULT 50
#define CASE_EVENTS_MAX 50    /* events in one page of case_get */
#define JSON_DEPTH 32         /* nesting allowed in a request or a stored header */

struct bt_rpc {
    char *dir;
    bt_vault *vault;
    bt_err open_err;
    bt_capture *capture; /* the repeat memory, NULL when the vault did not open */
    bt_index *index;     /* the log's index in memory (get, cases), while unlocked; NULL until needed */
    bt_export_piece export; /* the export being fetched piece by piece (decrypted), until its last piece or a lock */
    int caller_allowed;
    int auto_lock_minutes;
    time_t last_use;
    int looks_while_idle; /* bt_rpc_look_while_idle: unlock may leave a long scan for sealed captures to idle work */
    bt_inbox_scan *scan;  /* that scan, while it runs (NULL: none) */
    int sealed_waiting;   /* sealed captures the last look could not store (hello says so until lock) */
    bt_err sealed_waiting_err; /* why the first of them waits */
};

typedef struct {
    bt_rpc *r;
    json_object *params;
    json_object *result;  /* set by the method on success */
    const char *detail;   /* the why of the error: static text for the message */
} call;

typedef bt_err (*rpc_method)(call *c);

/* ---- rpc.c: params and shared pieces ---- */

/* params[key] checked as util/json.h's bt_json_member*: on refusal
 * BT_ERR_BAD_PARAMS with c->detail the key. */
bt_err param(call *c, const char *key, json_type type, int required, json_object **out);
bt_err param_string(call *c, const char *key, int required, size_t max, const char **out, size_t *len);
bt_err param_int(call *c, const char *key, int required, int64_t lo, int64_t hi, int64_t *out);

/* The vault's open error when it did not open, else BT_OK. */
bt_err need_vault(call *c);

/* Refuses with BT_ERR_BAD_PARAMS and detail. */
bt_err bad_param(call *c, const char *detail);

const char *state_name(bt_vault_state s);
json_object *state_result(bt_rpc *r);
json_object *hex_string(const unsigned char *bin, size_t n);
json_object *b64_string(const unsigned char *bin, size_t n);


/* Adds the piece of bytes (len) that starts at offset and is n long (as
 * export.h's bt_page cuts it): "offset", "data" (base64), "next_offset"
 * (null at the end). */
void add_piece(json_object *o, const unsigned char *bytes, size_t len, int64_t offset, size_t n);

/* ---- the methods, one file per family ---- */

/* rpc_capture.c */
bt_err m_capture(call *c);
bt_err m_attach(call *c);
bt_err m_capture_sealed(call *c);

/* rpc_log.c */
bt_err m_unlock(call *c);
bt_err m_lock(call *c);

/* Locks the log and drops what was learnt from reading it (the index, the
 * repeat memory of what was captured lately). */
void rpc_lock(bt_rpc *r);
/* Wipes and drops the index only (the log was recovered into a new one). */
void rpc_drop_index(bt_rpc *r);

/* The index, made when first needed: NULL when out of memory. */
bt_index *rpc_index(bt_rpc *r);
bt_err m_set_passphrase(call *c);
bt_err m_recovery_code(call *c);
bt_err m_list(call *c);
bt_err m_get(call *c);
bt_err m_verify(call *c);
bt_err m_recover(call *c);
bt_err m_stats(call *c);

/* rpc_cases.c */
bt_err m_cases(call *c);
bt_err m_case_get(call *c);
bt_err m_case_merge(call *c);
bt_err m_case_split(call *c);
bt_err m_event_add(call *c);
bt_err m_case_export(call *c);

/* rpc_share.c */
bt_err m_unions(call *c);
bt_err m_union_import(call *c);
bt_err m_report_preview(call *c);
bt_err m_report_queue(call *c);
bt_err m_report_list(call *c);
bt_err m_report_get(call *c);
bt_err m_report_withdrawal(call *c);
bt_err m_report_mark(call *c);
bt_err m_token_request(call *c);
bt_err m_token_finish(call *c);

#endif
