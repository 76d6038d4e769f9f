/* The sending policy (docs/REPORT.md "Sending"): what an HTTP answer from a
 * union's collector means, how long to wait before a first send and between
 * tries, and how many tries. One table for every sender: the CLI reads it
 * here, the host's hello announces it (bt_send_policy_json) and
 * tests/js/facts.test.mjs checks the extension's copy
 * (extension/src/core/sender.js SEND_POLICY) equal to it. Pure decisions:
 * nothing here touches the network. */
#ifndef BANTRAIL_SEND_H
#define BANTRAIL_SEND_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* A random delay in [MIN, MAX] seconds before a report's first send, so that
 * its arrival says nothing of when the person confirmed it (the extension
 * lets the person choose it within 0..LIMIT). */
#define BT_SEND_DELAY_MIN 30
#define BT_SEND_DELAY_MAX 300
#define BT_SEND_DELAY_LIMIT 86400
/* Try n (1-based) failed with "try again": wait BASE * 2^(n-1) seconds, with
 * JITTER percent either way, at most CAP, and never less than the answer's
 * Retry-After (seconds, itself capped at CAP). After TRIES tries: given up. */
#define BT_SEND_RETRY_BASE 60
#define BT_SEND_RETRY_CAP (6 * 60 * 60)
#define BT_SEND_RETRY_JITTER 20
#define BT_SEND_TRIES 10
#define BT_SEND_TIMEOUT 30       /* seconds for one POST and its answer */
#define BT_SEND_DETAIL_MAX 200   /* bytes of the detail report_mark records */

typedef enum {
    BT_SEND_SENT,   /* the union has the report */
    BT_SEND_RETRY,  /* try again later (the table's waits) */
    BT_SEND_FAILED  /* failed for good: trying again would get the same answer */
} bt_send_outcome;

/* One row of the answer table: statuses from..to (0: no answer at all, a
 * network error or a timeout), and when code is set only an answer whose
 * JSON body's error.code is that. The first row that matches decides. */
typedef struct {
    int from, to;
    const char *code;
    bt_send_outcome outcome;
    const char *say; /* what it means, in the detail recorded; NULL: the status says it */
} bt_send_answer;

extern const bt_send_answer bt_send_answers[];
extern const size_t bt_send_answers_count;

/* The row that decides an answer: HTTP status (0 for none) and the body's
 * error code (NULL when none). Never NULL. */
const bt_send_answer *bt_send_classify(long status, const char *code);

/* "sent", "retry" or "failed". */
const char *bt_send_outcome_name(bt_send_outcome o);

/* Seconds to wait after try n (1-based) answered "try again", with
 * retry_after the answer's Retry-After in seconds (0 or less: none) and
 * random in [0, 1) for the jitter. */
int64_t bt_send_retry_wait(int n, int64_t retry_after, double random);

/* The whole policy as hello announces it (docs/PROTOCOL.md): a new object. */
json_object *bt_send_policy_json(void);

#endif
