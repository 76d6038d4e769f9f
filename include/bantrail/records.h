/* The log's vocabulary: the "type" of each entry's JSON header, written once
 * for every part that writes or reads the log (docs/PROTOCOL.md says what
 * each holds). The stored names never change: old logs must stay readable. */
#ifndef BANTRAIL_RECORDS_H
#define BANTRAIL_RECORDS_H

#define BT_REC_NOTICE "notice"                 /* a captured notice (text, classification, fingerprint) */
#define BT_REC_OCCURRENCE "occurrence"         /* the same notice seen again within 24 h: "of" the notice */
#define BT_REC_ATTACHMENT "attachment"         /* a screenshot or file, its bytes the body: "of" a record */
#define BT_REC_SEALED_CAPTURE "sealed_capture" /* a capture sealed by the extension, kept unopened while locked */
#define BT_REC_SEALED_DONE "sealed_done"       /* a sealed box taken: "box" its id, "of" its sealed_capture */
#define BT_REC_EVENT "event"                   /* something in a case Bantrail could not see, or an appeal sent */
#define BT_REC_CASE_MERGE "case_merge"         /* the person joined two cases */
#define BT_REC_CASE_SPLIT "case_split"         /* the person split a case at a record */
#define BT_REC_UNION "union"                   /* a union pinned for reports */
#define BT_REC_REPORT "report"                 /* a sealed report queued for a union: the outbox */
#define BT_REC_REPORT_STATE "report_state"     /* what became of a queued report: "of" it */
#define BT_REC_TOKEN_REQUEST "token_request"   /* membership tokens asked of a union: their secrets (t, r) */
#define BT_REC_TOKENS "tokens"                 /* membership tokens a union issued: (t, N), for one "request" */
#define BT_REC_RECOVERED "recovered"           /* entry 0 of a log bt_vault_recover made: where it came from */
#define BT_REC_LOST "lost"                     /* in a recovered log, in place of an entry that did not read */

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include "bantrail/error.h"
#include "bantrail/vault.h"

/* Decrypts entry id's header and parses it (strictly) into *head, a new
 * object the caller puts. bt_vault_read's errors (BT_ERR_LOCKED,
 * BT_ERR_NOT_FOUND, BT_ERR_CORRUPT, ...); BT_ERR_CORRUPT when the header is
 * not JSON. */
bt_err bt_record_read(bt_vault *v, int64_t id, json_object **head);

/* Parses a decrypted header (n bytes, as bt_vault_read_each gives it) for
 * a reader that needs everything but the notice's text, the most of it
 * (the index, the sealed-capture scan): checked as bt_record_read checks
 * it, but its "text" is "" in *head (the caller puts it). BT_ERR_CORRUPT
 * when it is not JSON, BT_ERR_NO_MEMORY. */
bt_err bt_record_parse_lean(const char *text, size_t n, json_object **head);

/* Appends an entry whose header is head (written as plain JSON; borrowed)
 * with body (may be NULL) and sets *id. bt_vault_append's errors. */
bt_err bt_record_append(bt_vault *v, json_object *head, const unsigned char *body, size_t body_len, int64_t *id);

#define BT_RECORD_TITLE_MAX 200 /* bytes of a title in a list or a case */

/* Adds "title": title cut to BT_RECORD_TITLE_MAX bytes at a UTF-8 boundary. */
void bt_record_add_title(json_object *o, const char *title);

/* What a list shows of an entry whose header is head: what it is and
 * where (type, url, lang, observed_at, captured_at, classification, of,
 * mime, size, the title cut), never its text. A new object (NULL when out
 * of memory). */
json_object *bt_record_summary(json_object *head);

/* A new header {"type": type} to add to (the caller puts it). */
json_object *bt_record_new(const char *type);

/* Whether the log holds entry id (no key needed). */
int bt_record_exists(bt_vault *v, int64_t id);

#endif
