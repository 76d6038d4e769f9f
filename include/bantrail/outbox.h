/* Sharing with a union, as kept in the log (docs/DESIGN.md section 8,
 * docs/REPORT.md): the unions the person pinned, the report built from a
 * case for one of them, and the outbox of sealed reports with what became
 * of each. Nothing is kept outside the log:
 *  - {"type":"union","entry":{...}} pins a union (a later one with the same
 *    id replaces it);
 *  - {"type":"report",...} queues a sealed report, with the report's
 *    signing seed (only in the log, which is sealed: never in the report,
 *    never in an answer), the same for every report of that report id;
 *  - {"type":"report_state","of":N,"state":...} records what became of it;
 *  - {"type":"token_request","union":...,"blind":[{"t","r","m"}]} keeps the
 *    secrets of membership tokens asked of a union (docs/REPORT.md section
 *    5) until its answer; {"type":"tokens","request":N,"tokens":[{"t","n"}]}
 *    the tokens it issued; a report entry's "token" is the one it spends.
 * The core never sends: the extension's worker or the CLI does, and marks.
 *
 * Errors: a bt_err, and where a detail helps *why (may be NULL) pointed at a
 * static English text (docs/DESIGN.md section 11). */
#ifndef BANTRAIL_OUTBOX_H
#define BANTRAIL_OUTBOX_H

#include <json-c/json.h>
#include <stdint.h>
#include "bantrail/error.h"
#include "bantrail/report.h"
#include "bantrail/share.h"
#include "bantrail/vault.h"

/* The unions and the outbox as the log has them (new objects, owned). */
typedef struct {
    json_object *unions;  /* union id -> its pinned entry, in the union entry's JSON */
    json_object *reports; /* outbox items in log order: {"id" (the report entry), "union", "case",
                             "report_id", "json", "wire", "submit_url", "state" (queued, sent,
                             failed, withdrawn), "updated_at", "attempts"[, "detail"]} */
    json_object *seeds;   /* report id (hex) -> its signing seed (hex): internal, never answered */
    json_object *tokens;  /* union id -> {t (hex): N (hex)}: the membership tokens not spent yet (internal) */
    json_object *id_tokens; /* report id (hex) -> {"t", "n"}: the token its reports carry (internal) */
    json_object *answered;  /* token_request entry (decimal) -> true: answered already */
} bt_outbox;

/* Membership tokens the log holds for union_id, not spent yet. */
size_t bt_outbox_tokens_left(const bt_outbox *o, const char *union_id);

/* Reads the pinned unions and the outbox from the log. BT_ERR_LOCKED when
 * it is locked; storage errors. Release with bt_outbox_free (on BT_OK). */
bt_err bt_outbox_load(bt_outbox *o, bt_vault *v);
void bt_outbox_free(bt_outbox *o);

/* The outbox item of report entry id (borrowed), or NULL. */
json_object *bt_outbox_report(const bt_outbox *o, int64_t id);

/* A union entry as a new JSON object (the caller puts it), NULL when it does
 * not render. */
json_object *bt_outbox_union_json(const bt_union *u);

/* Union id: the built-in demo union ("demo", *demo = 1) or a pinned one.
 * BT_ERR_NOT_FOUND (with *why) when none is pinned under id, BT_ERR_CORRUPT
 * when the pinned entry no longer parses. */
bt_err bt_outbox_union(const bt_outbox *o, const char *id, bt_union *u, int *demo, const char **why);

/* Pins the union entry (json, len bytes) at now: sets *u and *entry.
 * BT_ERR_BAD_PARAMS (with *why) when it is not a valid entry or takes the
 * demo union's id; storage errors. Works while locked. */
bt_err bt_outbox_pin_union(bt_vault *v, const char *json, size_t len, int64_t now, bt_union *u, int64_t *entry,
                           const char **why);

/* What the person asks to share: a case, for a union, with what they chose
 * to add (share.h). */
typedef struct {
    int64_t case_id;
    const char *union_id;
    bt_share_context context;
} bt_report_ask;

/* A report built for a union. */
typedef struct {
    bt_report report;
    bt_union u;
    int demo;        /* u is the demo union */
    int64_t case_id; /* the case's id */
    unsigned char seed[BT_REPORT_SEED_BYTES]; /* the report's signing seed (wipe it) */
    int has_token;   /* the report spends token (the union issues them and one is left, or the id has one) */
    bt_token token;  /* wipe it */
    size_t tokens_left; /* the union's tokens in the log not spent yet, this one included */
} bt_report_built;

/* Builds the report of ask (bt_share_derive over the case and its first
 * restriction). Its report id: the one of the outbox's report of this case
 * for this union when there is one (so that the union updates that report),
 * else a new one this host mints for this case and union (random bits and
 * a tag keyed by a secret of this host process). want_id (NULL: any) must be
 * that id: a report id the log did not make for this case and union is
 * refused with BT_ERR_BAD_PARAMS, so that nobody has the host seal an update
 * of a report that is not theirs. out->seed: the seed kept with that id,
 * else a fresh one. out->token: when the union issues membership tokens,
 * the one this id's reports carry, else one not spent yet (a token buys one
 * report id: every report of the id carries the same). Needs the log
 * readable. BT_ERR_NOT_FOUND (no such case or union, or nothing to report),
 * BT_ERR_BAD_PARAMS (with *why) for a bad context or a foreign report id,
 * BT_ERR_LOCKED. */
bt_err bt_outbox_build(bt_vault *v, const bt_report_ask *ask, const unsigned char *want_id, int64_t now,
                       bt_report_built *out, const char **why);

/* A report queued: the entry and what the sender needs. */
typedef struct {
    int64_t entry;
    char report_id[2 * BT_REPORT_ID_BYTES + 1];
    char submit_url[sizeof ((bt_union *)0)->submit_url];
    char wire[BT_REPORT_WIRE_MAX + 1];
    size_t wire_len;
} bt_report_queued;

/* Queues the report of ask that the person was shown: previewed (len bytes)
 * is the preview's JSON and shown what it parses to (bt_report_parse). The
 * report is built again with shown's id and must equal previewed byte for
 * byte (only what was shown is sealed): else BT_ERR_BAD_PARAMS (with *why:
 * the case changed, preview again). Then sealed to the union (with the
 * token bt_outbox_build chose) and appended at now. bt_outbox_build's
 * errors, and BT_ERR_TOKEN_REQUIRED (with *why) when the union accepts only
 * reports with a token and none is left. */
bt_err bt_outbox_queue(bt_vault *v, const bt_report_ask *ask, const bt_report *shown, const char *previewed,
                       size_t len, int64_t now, bt_report_queued *out, const char **why);

/* The withdrawal of outbox report entry id, sealed for its union with the
 * report's seed, in *out (entry: id; nothing is appended: the sender sends
 * it, then marks the report withdrawn). BT_ERR_NOT_FOUND when id is not in
 * the outbox or its union is no longer pinned, BT_ERR_BAD_PARAMS (with *why)
 * for a report queued before sender keys, BT_ERR_LOCKED. */
bt_err bt_outbox_withdrawal(bt_vault *v, int64_t id, bt_report_queued *out, const char **why);

/* What became of a queued report, as the sender says. */
typedef enum { BT_SENT, BT_FAILED, BT_WITHDRAWN } bt_report_state;

/* "sent", "failed" or "withdrawn" to a state; -1 when none. */
int bt_report_state_parse(const char *s);

/* Records that report entry id became state (detail: the sender's words,
 * or NULL) at now. BT_ERR_NOT_FOUND when id is not in the outbox,
 * BT_ERR_LOCKED. */
bt_err bt_outbox_mark(bt_vault *v, int64_t id, bt_report_state state, const char *detail, int64_t now);

/* Membership tokens asked of a union (docs/REPORT.md section 5). */
typedef struct {
    int64_t entry;                                  /* the token_request entry keeping their secrets */
    size_t n;
    char token_url[sizeof ((bt_union *)0)->submit_url]; /* where to ask: the submit URL's /tokens */
    unsigned char m[BT_TOKEN_BATCH_MAX][BT_TOKEN_POINT_BYTES]; /* the blinded elements to send */
} bt_token_ask;

/* Makes n (1..BT_TOKEN_BATCH_MAX) fresh tokens for pinned union union_id,
 * blinded, and appends their secrets (t, r) at now: the union's answer is
 * finished with bt_outbox_token_finish. BT_ERR_NOT_FOUND (with *why): no
 * such union, or it issues no tokens; BT_ERR_BAD_PARAMS; BT_ERR_LOCKED. */
bt_err bt_outbox_token_request(bt_vault *v, const char *union_id, size_t n, int64_t now, bt_token_ask *out,
                               const char **why);

/* The union's answer to token_request entry request: n evaluated elements
 * and their DLEQ proofs. Every proof must hold for the token key the pinned
 * entry announces, else nothing is kept (BT_ERR_BAD_TOKEN, with *why: a
 * union proving another key may be telling members apart). Appends the
 * tokens at now; *added, *left: how many, and how many the union now has.
 * BT_ERR_NOT_FOUND: no such request, or answered already; BT_ERR_BAD_PARAMS:
 * n is not the request's. */
bt_err bt_outbox_token_finish(bt_vault *v, int64_t request, const unsigned char (*z)[BT_TOKEN_POINT_BYTES],
                              const unsigned char (*proof)[BT_TOKEN_PROOF_BYTES], size_t n, int64_t now,
                              size_t *added, size_t *left, const char **why);

#endif
