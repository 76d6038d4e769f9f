/* Cases: one account's story on one platform (docs/DESIGN.md section 7), derived
 * from the log at read time. The log is append-only and holds no mutable
 * case state: linking is a pure function of the entries in log order,
 * including the person's overrides (case_merge, case_split entries), so the
 * same log always gives the same cases and merging or splitting never
 * removes or rewrites a record.
 *
 * Linking rules, applied to each notice and event entry in log order:
 *  1. An event entry that names a case ("case": N) joins the case that now
 *     holds record N.
 *  2. Same platform and the same account handle (facts.handle of a notice,
 *     "handle" of an event; compared without a leading '@' and ASCII case
 *     folded): joins that case, however long ago it was.
 *  3. Otherwise, when the entry's time lies within BT_CASE_WINDOW of a case
 *     on the same platform (from its first event minus the window to its
 *     last event plus the window) and that case has no handle or the entry
 *     has none: joins the one of those whose last event is latest. A case
 *     without a handle takes the first handle that joins it.
 *  4. Otherwise the entry opens a new case.
 * Overrides, replayed where they stand in the log:
 *  - {"type":"case_merge","cases":[a,b]}: cases a and b (as they stand at
 *    that point) become one.
 *  - {"type":"case_split","record":n}: record n and the records of its case
 *    that come after it in the log become a new case.
 * An override that names no current case (or would leave a case empty) is
 * ignored. Occurrence entries count as sightings of their record (and keep
 * its case's window open); attachment entries belong to their record.
 *
 * A case's id is the id of its first record (the smallest id it holds).
 * An event's time is the notice's observed_at when given (ISO 8601), else its
 * captured_at; for event entries, their "at". */
#ifndef BANTRAIL_CASES_H
#define BANTRAIL_CASES_H

#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>
#include "bantrail/error.h"
#include "bantrail/vault.h"

#define BT_CASE_WINDOW ((int64_t)30 * 24 * 60 * 60) /* seconds: see rule 3 above */
#define BT_CASE_FAST_ANSWER ((int64_t)10 * 60)     /* an answer within this is flagged */
#define BT_CASE_PLATFORM_MAX 24
#define BT_CASE_HANDLE_MAX 72

typedef enum {
    BT_EVENT_RESTRICTION,      /* notice kinds suspension ... warning */
    BT_EVENT_APPEAL_SUBMITTED,
    BT_EVENT_ACKNOWLEDGEMENT,  /* appeal_received */
    BT_EVENT_DECISION,         /* appeal_rejected / appeal_reinstated */
    BT_EVENT_OTHER,            /* a notice of no known kind, or an event so named */
    BT_EVENT_COUNT_
} bt_event_kind;

typedef enum {
    BT_OUTCOME_NONE,           /* no appeal known */
    BT_OUTCOME_PENDING,        /* appealed, no decision yet */
    BT_OUTCOME_REJECTED,
    BT_OUTCOME_REINSTATED
} bt_outcome;

typedef struct {
    int64_t record;            /* the log entry */
    int is_notice;             /* 1 a captured notice, 0 an event entry */
    bt_event_kind event;
    bt_outcome outcome;        /* decisions only (else BT_OUTCOME_NONE) */
    int64_t at;                /* event time, Unix seconds */
    int at_stated;             /* 1 from observed_at or an event's at, 0 from captured_at */
    int manual;                /* entered (or forced) by hand */
    char kind[32];             /* the notice's kind, or "" */
    char platform[BT_CASE_PLATFORM_MAX];
    int64_t sightings;         /* 1 + occurrences */
    int64_t last_seen;         /* time of the last sighting */
    int64_t *attachments;      /* attachment entry ids, in log order */
    size_t n_attachments;
} bt_case_event;

/* One appeal round: a submission and the first decision after it. Fields
 * are -1 when not known. */
typedef struct {
    int64_t submitted_at, acknowledged_at, answered_at;
    bt_outcome outcome;        /* PENDING until answered */
    int64_t answer_seconds;    /* answered_at - submitted_at, or -1 */
} bt_case_appeal;

typedef struct {
    int64_t id;
    char platform[BT_CASE_PLATFORM_MAX];
    char handle[BT_CASE_HANDLE_MAX];     /* "" when none is known */
    bt_case_event *events;               /* in time order (ties: log order) */
    size_t n_events;
    bt_case_appeal *appeals;
    size_t n_appeals;
    int64_t first_at, last_at;
    /* Derived; -1 when not known. */
    int64_t restricted_at;               /* first restriction that is not a warning, else the first warning */
    int64_t appealed_at, acknowledged_at, answered_at; /* of the first appeal round with a submission */
    int64_t reinstated_at;               /* first reinstatement after restricted_at */
    int64_t restriction_to_appeal;       /* seconds */
    int64_t appeal_to_answer;            /* seconds */
    int64_t locked_out;                  /* seconds: to reinstatement, or to now when ongoing */
    int locked_out_ongoing;
    int fast_answer;                     /* some round answered within BT_CASE_FAST_ANSWER */
    bt_outcome outcome;                  /* of the last appeal round */
    size_t n_attachments;                /* of all its events (events NULL: a case taken from bt_cases_unpack) */
} bt_case;

typedef struct bt_cases bt_cases;

/* A new, empty builder; *out is released with bt_cases_free. */
bt_err bt_cases_new(bt_cases **out);

/* Releases cases and everything they hold. Accepts NULL. */
void bt_cases_free(bt_cases *cs);

/* Feeds entry id (its decrypted header, borrowed) to the builder. Entries
 * must come in increasing id order; types it does not link are ignored. A
 * notice (not manual) with the fingerprint of one seen within
 * BT_REPEAT_WINDOW before it is folded into that one as a sighting, as the
 * host folds repeats when it captures them (a locked host does not:
 * capture.h); what names the folded notice goes to that one.
 * head NULL (an entry that did not read) is only passed over.
 * BT_ERR_NO_MEMORY, BT_ERR_BAD_PARAMS when ids go backwards. Entries may
 * still be added after bt_cases_finish: the next finish derives the cases
 * again with them. */
bt_err bt_cases_add(bt_cases *cs, int64_t id, json_object *head);

/* What of an entry's header the cases use (bt_cases_brief), so that they
 * can be fed again without the header (the index keeps it, index.h). */
enum { BT_BRIEF_NONE, BT_BRIEF_NOTICE, BT_BRIEF_EVENT, BT_BRIEF_OCCURRENCE, BT_BRIEF_ATTACHMENT,
       BT_BRIEF_MERGE, BT_BRIEF_SPLIT };
typedef struct {
    int8_t what;               /* BT_BRIEF_*: NONE, a type the cases do not link */
    int8_t manual, at_stated, has_fp, event, outcome;
    int64_t captured;          /* captured_at */
    int64_t at;                /* the event's time */
    int64_t of;                /* the record an occurrence or attachment names, the record a split starts at */
    int64_t named;             /* the case an event names */
    int64_t merge[2];          /* the cases a merge joins */
    char kind[32];
    char platform[BT_CASE_PLATFORM_MAX];
    char handle[BT_CASE_HANDLE_MAX];
    unsigned char fp[16];      /* a notice's fingerprint, when has_fp */
} bt_case_brief;

/* Reads what the cases use of head (may be NULL: what NONE) into *b. */
void bt_cases_brief(json_object *head, bt_case_brief *b);

/* bt_cases_add from the brief of the header (b NULL: only passed over). */
bt_err bt_cases_add_brief(bt_cases *cs, int64_t id, const bt_case_brief *b);

/* Orders each case's events and derives its times, with now (Unix seconds)
 * as the end of an ongoing lock-out. Called again (after more entries were
 * added, or with another now), it derives them anew; what bt_cases_at and
 * the others returned before is then gone. */
bt_err bt_cases_finish(bt_cases *cs, int64_t now);

/* Feeds cs the entries after the last one it was fed, up to entry upto
 * (upto <= 0: to the end of the log), decrypting their headers
 * (bt_vault_read_each); an entry that does not read is passed over and
 * counted in *unreadable (may be NULL; added to). also (may be NULL) is
 * given each header read too, after cs; an error from it stops the feed.
 * bt_vault_read_each's errors: on one, cs holds the entries fed before it. */
bt_err bt_cases_feed(bt_cases *cs, bt_vault *v, int64_t upto, int64_t *unreadable,
                     bt_err (*also)(void *ctx, int64_t id, json_object *head), void *also_ctx);

/* The last entry id cs was fed (0 when none). */
int64_t bt_cases_last(const bt_cases *cs);

/* Reads the headers of entries 1..upto (upto <= 0: all) from a readable
 * vault and returns the finished cases in *out (the caller frees).
 * BT_ERR_LOCKED when the log is locked. An entry whose header cannot be read
 * is skipped and counted in *unreadable (may be NULL). */
bt_err bt_cases_load(bt_cases **out, bt_vault *v, int64_t upto, int64_t now, int64_t *unreadable);

/* The finished cases of cs as bytes (native order, for this computer
 * only: the index seals them beside its snapshot, index.h): what a list of
 * cases shows of each (bt_case_to_json without events) and its appeals,
 * not its events. *out is malloc'd (the caller wipes and frees it).
 * BT_ERR_NO_MEMORY, BT_ERR_BAD_PARAMS when cs is not finished. */
bt_err bt_cases_pack(const bt_cases *cs, unsigned char **out, size_t *n);

/* Cases from bt_cases_pack's bytes, finished with now as the end of an
 * ongoing lock-out: the same bt_case_to_json(c, 0) as the cases packed
 * (finished with now), but with no events (events NULL, n_events kept):
 * bt_case_event_of and bt_cases_of_record find nothing, and nothing can
 * be added. BT_ERR_CORRUPT when the bytes do not hold together,
 * BT_ERR_NO_MEMORY. */
bt_err bt_cases_unpack(bt_cases **out, const unsigned char *m, size_t n, int64_t now);

/* The number of cases, and case i (0 <= i < count), ordered by id. Borrowed. */
size_t bt_cases_count(const bt_cases *cs);
const bt_case *bt_cases_at(const bt_cases *cs, size_t i);

/* The case whose id is id, or the case that holds record id; NULL if none. */
const bt_case *bt_cases_find(const bt_cases *cs, int64_t id);
const bt_case *bt_cases_of_record(const bt_cases *cs, int64_t record);

/* The event of record in case c, or NULL. */
const bt_case_event *bt_case_event_of(const bt_case *c, int64_t record);

/* The case as a new JSON object (the caller puts it); NULL when out of
 * memory. with_events adds "events": [...]. Layout in docs/PROTOCOL.md. */
json_object *bt_case_to_json(const bt_case *c, int with_events);

/* Stable names: "restriction", "appeal_submitted", "acknowledgement",
 * "decision", "other"; "none", "pending", "rejected", "reinstated". */
const char *bt_event_name(bt_event_kind e);
const char *bt_outcome_name(bt_outcome o);

/* The event kind named s; -1 when s names none. */
int bt_event_parse(const char *s);

/* ---- What the person adds to the log (host/core/case_edit.c) ----
 * Errors as everywhere in the core: a bt_err, and where a detail helps *why
 * (may be NULL) pointed at a static English text. Each needs the log open;
 * what names a case needs it readable (BT_ERR_LOCKED otherwise). */

#define BT_EVENT_NOTE_MAX 4096
#define BT_EVENT_FUTURE_SLACK ((int64_t)24 * 60 * 60) /* an event's time may be this far ahead of the clock */

/* An event entry as asked for; every pointer borrowed. */
typedef struct {
    const char *event;      /* an event kind's name (bt_event_parse), required */
    const char *platform;   /* required unless case_id is given */
    const char *handle;     /* or NULL */
    const char *outcome;    /* "rejected" or "reinstated": a decision's, required for one */
    const char *note;       /* or NULL */
    json_object *at;        /* Unix seconds (an integer) or ISO 8601 (a string), required */
    int64_t case_id;        /* the case it belongs to, 0 when not named */
    int manual;             /* entered by hand (default 1); 0 when the extension saw it */
} bt_event_in;

/* Fills *in from the object o (event_add's params, or the "event" of a
 * sealed box), pointing into o: event, platform, handle, outcome, note,
 * case, manual, at, checked for type and length only. BT_ERR_BAD_PARAMS with
 * *why the member refused. */
bt_err bt_event_in_parse(bt_event_in *in, json_object *o, const char **why);

/* Appends an "event" entry after checking in: a known event, an outcome for
 * a decision only, a time not after now + BT_EVENT_FUTURE_SLACK, a platform
 * name of [a-z0-9_.-], and a named case that exists (whose platform and
 * handle it takes; a different platform is refused). Sets *id to the entry,
 * *at to its time and *case_id to the case it joined (0 when the log is
 * locked and that cannot be told). BT_ERR_BAD_PARAMS with *why,
 * BT_ERR_NOT_FOUND for an unknown case, BT_ERR_LOCKED, storage errors. */
bt_err bt_event_add(bt_vault *v, const bt_event_in *in, int64_t now, int64_t *id, int64_t *at,
                    int64_t *case_id, const char **why);

/* Appends a case_merge entry joining cases a and b (two different case ids
 * of the log as it is now); sets *entry. BT_ERR_BAD_PARAMS when a == b,
 * BT_ERR_NOT_FOUND when either is not a case. The merged case is the smaller id. */
bt_err bt_case_merge(bt_vault *v, int64_t a, int64_t b, int64_t now, int64_t *entry, const char **why);

/* Appends a case_split entry: record and what comes after it in its case
 * become a new case (whose id is record). Sets *from to the case it leaves
 * and *entry. BT_ERR_NOT_FOUND when record is in no case, BT_ERR_BAD_PARAMS
 * when it is its case's first record (nothing would stay behind). */
bt_err bt_case_split(bt_vault *v, int64_t record, int64_t now, int64_t *from, int64_t *entry, const char **why);

/* Loads the cases of the whole log when it is readable: BT_ERR_LOCKED when
 * it is locked, else bt_cases_load's answer. */
bt_err bt_cases_load_readable(bt_cases **out, bt_vault *v, int64_t now);

/* Parses an ISO 8601 time: "YYYY-MM-DD", "YYYY-MM-DDTHH:MM[:SS[.fff]]"
 * followed by "Z", "+HH:MM", "-HH:MM", "+HHMM" or nothing (UTC), a space
 * allowed for the T. Returns 0 and sets *out (Unix seconds), or -1. */
int bt_cases_parse_time(const char *s, int64_t *out);

#endif
