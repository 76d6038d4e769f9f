/* Sharing a case anonymously with a users' union (docs/DESIGN.md section 8,
 * docs/REPORT.md): the deterministic anonymising function from a case to a
 * report and the plain-language words shown in the preview. Sealing, the wire
 * format and the built-in demo union are in report.h. */
#ifndef BANTRAIL_SHARE_H
#define BANTRAIL_SHARE_H

#include <json-c/json.h>
#include "bantrail/cases.h"
#include "bantrail/error.h"
#include "bantrail/report.h"

/* What the person chose to add in the preview; each part optional. */
typedef struct {
    const char *account_type; /* NULL, "personal", "business" or "creator" */
    int paid_verification;    /* -1 not given, 0 no, 1 yes */
    const char *country;      /* NULL or ISO 3166-1 alpha-2 */
} bt_share_context;

/* Derives the report of case c. notice is the decrypted header of the case's
 * first restriction (borrowed): its classification gives kind, stated reason,
 * stated duration and whether an appeal was offered; the case gives the ISO
 * week of the restriction and the appeal block, in buckets. Nothing else of
 * the record reaches the report. id is the report id to use. BT_ERR_NOT_FOUND
 * when the case has no restriction to report; BT_ERR_BAD_PARAMS (with *why)
 * when the context is not valid. Same inputs, same report. */
bt_err bt_share_derive(bt_report *out, const bt_case *c, json_object *notice, const bt_share_context *ctx,
                       const unsigned char id[BT_REPORT_ID_BYTES], const char **why);

/* The report in plain English, one sentence a line, for the preview (a new
 * JSON array of strings; NULL when out of memory). */
json_object *bt_share_words(const bt_report *r);

#endif
