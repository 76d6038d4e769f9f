/* Cases derived from the log at read time: see include/bantrail/cases.h for
 * the linking rules. Nothing here writes to the log. */
#include "bantrail/cases.h"

#include <limits.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/capture.h"
#include "bantrail/records.h"
#include "util/json.h"

#define FP_BYTES BT_CLASSIFY_FP_BYTES

/* A linkable record (a notice or an event entry) while the log is fed. */
typedef struct {
    bt_case_event ev;
    char handle[BT_CASE_HANDLE_MAX];
    size_t caseix;       /* index into bt_cases.ic */
    size_t attach_cap;
    unsigned char fp[FP_BYTES]; /* a notice's fingerprint, when has_fp */
    int has_fp;
    int64_t seen;        /* when it was captured or last seen again (the repeat window runs from it) */
} rec;

/* A notice folded at read time into an earlier one (see repeat_of). */
typedef struct {
    int64_t id, into;
} alias;

/* A case while the log is fed. */
typedef struct {
    int64_t id;
    int alive;
    char platform[BT_CASE_PLATFORM_MAX];
    char handle[BT_CASE_HANDLE_MAX];
    int64_t first_at, last_at;
    uint64_t key;        /* its platform and handle's in the handle index (0: not in it) */
} icase;

struct bt_cases {
    rec *recs;
    size_t n_recs, cap_recs;
    icase *ic;
    size_t n_ic, cap_ic;
    int64_t last_id;
    int finished;
    bt_case *cases;      /* after finish, by id */
    size_t n_cases;
    size_t *fp_slot;     /* 1 + index in recs of the latest notice by fingerprint, 0 empty */
    size_t fp_cap, fp_n;
    alias *aliases;      /* in id order */
    size_t n_aliases, cap_aliases;
    size_t *hslot;       /* the handle index: 1 + index in ic of a case by platform and handle, 0 empty */
    size_t h_cap, h_n;
    size_t *noh;         /* the cases without a handle (when last looked), in index order */
    size_t n_noh, cap_noh;
    int h_broken;        /* out of memory once: the two above are not whole, every case is looked at */
};

static const char *const event_names[BT_EVENT_COUNT_] = {
    "restriction", "appeal_submitted", "acknowledgement", "decision", "other"};

const char *bt_event_name(bt_event_kind e)
{
    return (unsigned)e < BT_EVENT_COUNT_ ? event_names[e] : "other";
}

const char *bt_outcome_name(bt_outcome o)
{
    switch (o) {
    case BT_OUTCOME_NONE: return "none";
    case BT_OUTCOME_PENDING: return "pending";
    case BT_OUTCOME_REJECTED: return "rejected";
    case BT_OUTCOME_REINSTATED: return "reinstated";
    }
    return "none";
}

int bt_event_parse(const char *s)
{
    for (int i = 0; s != NULL && i < BT_EVENT_COUNT_; i++)
        if (strcmp(s, event_names[i]) == 0) return i;
    return -1;
}

/* ---- time ---- */

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar. */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Reads exactly n digits at *p; -1 when they are not there. */
static int64_t digits(const char **p, int n)
{
    int64_t x = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9') return -1;
        x = x * 10 + (c - '0');
    }
    *p += n;
    return x;
}

int bt_cases_parse_time(const char *s, int64_t *out)
{
    static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *p = s;
    int64_t y, mo, d, h = 0, mi = 0, sec = 0, off = 0;
    if (s == NULL) return -1;
    if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 || *p++ != '-' ||
        (d = digits(&p, 2)) < 1 || d > mdays[mo - 1])
        return -1;
    if (mo == 2 && d == 29 && !(y % 4 == 0 && (y % 100 != 0 || y % 400 == 0))) return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 || mi > 59) return -1;
        if (*p == ':') {
            p++;
            if ((sec = digits(&p, 2)) < 0 || sec > 60) return -1;
            if (sec == 60) sec = 59; /* a leap second: the second before */
            if (*p == '.' || *p == ',') {
                p++;
                if (*p < '0' || *p > '9') return -1;
                while (*p >= '0' && *p <= '9') p++;
            }
        }
        if (*p == 'Z' || *p == 'z') {
            p++;
        } else if (*p == '+' || *p == '-') {
            int64_t sign = *p++ == '-' ? -1 : 1, oh, om;
            if ((oh = digits(&p, 2)) < 0 || oh > 23) return -1;
            if (*p == ':') p++;
            if ((om = digits(&p, 2)) < 0 || om > 59) return -1;
            off = sign * (oh * 3600 + om * 60);
        }
    }
    if (*p != '\0') return -1;
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - off;
    return 0;
}

/* ---- reading headers ---- */

static void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = src ? strlen(src) : 0;
    if (n >= cap) n = 0; /* a value that does not fit is not one we know */
    if (n) memcpy(dst, src, n);
    dst[n] = '\0';
}

/* Handles compare without a leading '@' and with ASCII case folded. */
static int same_handle(const char *a, const char *b)
{
    if (*a == '@') a++;
    if (*b == '@') b++;
    for (; *a && *b; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a;
        char y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y) return 0;
    }
    return *a == *b;
}

static void event_of_kind(bt_case_event *ev, const char *kind)
{
    static const char *const restrictions[] = {"suspension", "disabled", "temporary_restriction",
                                               "action_blocked", "checkpoint", "warning"};
    ev->event = BT_EVENT_OTHER;
    ev->outcome = BT_OUTCOME_NONE;
    if (kind == NULL) return;
    for (size_t i = 0; i < sizeof restrictions / sizeof restrictions[0]; i++)
        if (strcmp(kind, restrictions[i]) == 0) ev->event = BT_EVENT_RESTRICTION;
    if (strcmp(kind, "appeal_received") == 0) ev->event = BT_EVENT_ACKNOWLEDGEMENT;
    if (strcmp(kind, "appeal_rejected") == 0) {
        ev->event = BT_EVENT_DECISION;
        ev->outcome = BT_OUTCOME_REJECTED;
    }
    if (strcmp(kind, "appeal_reinstated") == 0) {
        ev->event = BT_EVENT_DECISION;
        ev->outcome = BT_OUTCOME_REINSTATED;
    }
}

/* ---- building ---- */

bt_err bt_cases_new(bt_cases **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? BT_OK : BT_ERR_NO_MEMORY;
}

/* Wipes and frees the cases bt_cases_finish derived (the records stay). */
static void cases_unfinish(bt_cases *cs)
{
    for (size_t i = 0; i < cs->n_cases; i++) {
        if (cs->cases[i].events != NULL) sodium_memzero(cs->cases[i].events, cs->cases[i].n_events * sizeof(bt_case_event));
        free(cs->cases[i].events);
        free(cs->cases[i].appeals);
    }
    if (cs->cases != NULL) sodium_memzero(cs->cases, cs->n_cases * sizeof *cs->cases);
    free(cs->cases);
    cs->cases = NULL;
    cs->n_cases = 0;
    cs->finished = 0;
}

void bt_cases_free(bt_cases *cs)
{
    if (cs == NULL) return;
    cases_unfinish(cs);
    for (size_t i = 0; i < cs->n_recs; i++) free(cs->recs[i].ev.attachments);
    /* what the headers said (platforms, handles, fingerprints, times): wiped */
    if (cs->recs != NULL) sodium_memzero(cs->recs, cs->cap_recs * sizeof *cs->recs);
    if (cs->ic != NULL) sodium_memzero(cs->ic, cs->cap_ic * sizeof *cs->ic);
    if (cs->aliases != NULL) sodium_memzero(cs->aliases, cs->cap_aliases * sizeof *cs->aliases);
    free(cs->recs);
    free(cs->ic);
    free(cs->hslot);
    free(cs->noh);
    free(cs->fp_slot);
    free(cs->aliases);
    sodium_memzero(cs, sizeof *cs);
    free(cs);
}

static rec *rec_find(bt_cases *cs, int64_t id)
{
    size_t lo = 0, hi = cs->n_recs;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cs->recs[mid].ev.record < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < cs->n_recs && cs->recs[lo].ev.record == id ? &cs->recs[lo] : NULL;
}

/* rec_find, or the record a notice was folded into. */
static rec *rec_or_folded(bt_cases *cs, int64_t id)
{
    rec *r = rec_find(cs, id);
    size_t lo = 0, hi = cs->n_aliases;
    if (r != NULL) return r;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cs->aliases[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < cs->n_aliases && cs->aliases[lo].id == id ? rec_find(cs, cs->aliases[lo].into) : NULL;
}

/* ---- repeats folded at read time ----
 * The host folds a repeat into an "occurrence" when it captures it, but not
 * while the log is locked: its memory of what was captured is forgotten at
 * lock, so that a locked host tells no caller whether a notice was captured
 * (docs/SECURITY.md). A notice captured then, with the fingerprint of one
 * seen within BT_REPEAT_WINDOW before it, is folded here into that one, as
 * the host would have folded it: same cases, figures, exports and reports. */

static size_t fp_home(const bt_cases *cs, const unsigned char *fp)
{
    size_t h = 0;
    memcpy(&h, fp, sizeof h < FP_BYTES ? sizeof h : FP_BYTES);
    return h & (cs->fp_cap - 1);
}

/* The slot of fp: its record's, or the empty one where it goes. */
static size_t *fp_slot_of(bt_cases *cs, const unsigned char *fp)
{
    size_t h = fp_home(cs, fp);
    while (cs->fp_slot[h] != 0 && memcmp(cs->recs[cs->fp_slot[h] - 1].fp, fp, FP_BYTES) != 0)
        h = (h + 1) & (cs->fp_cap - 1);
    return &cs->fp_slot[h];
}

/* Remembers recs[i] as the latest notice of its fingerprint. */
static bt_err fp_put(bt_cases *cs, size_t i)
{
    if (2 * (cs->fp_n + 1) > cs->fp_cap) {
        size_t cap = cs->fp_cap ? cs->fp_cap * 2 : 64, *old = cs->fp_slot, old_cap = cs->fp_cap;
        if ((cs->fp_slot = calloc(cap, sizeof *cs->fp_slot)) == NULL) {
            cs->fp_slot = old;
            return BT_ERR_NO_MEMORY;
        }
        cs->fp_cap = cap;
        for (size_t k = 0; k < old_cap; k++)
            if (old[k] != 0) *fp_slot_of(cs, cs->recs[old[k] - 1].fp) = old[k];
        free(old);
    }
    size_t *slot = fp_slot_of(cs, cs->recs[i].fp);
    if (*slot == 0) cs->fp_n++;
    *slot = i + 1;
    return BT_OK;
}

/* The notice r repeats (same fingerprint, within the window of its last
 * sighting), or NULL. */
static rec *repeat_of(bt_cases *cs, const rec *r)
{
    if (!r->has_fp || cs->fp_cap == 0) return NULL;
    size_t *slot = fp_slot_of(cs, r->fp);
    if (*slot == 0) return NULL;
    rec *prev = &cs->recs[*slot - 1];
    return r->seen >= prev->seen && r->seen - prev->seen <= BT_REPEAT_WINDOW ? prev : NULL;
}

static bt_err alias_add(bt_cases *cs, int64_t id, int64_t into)
{
    if (cs->n_aliases == cs->cap_aliases) {
        size_t cap = cs->cap_aliases ? cs->cap_aliases * 2 : 16;
        alias *bigger = realloc(cs->aliases, cap * sizeof *bigger);
        if (bigger == NULL) return BT_ERR_NO_MEMORY;
        cs->aliases = bigger;
        cs->cap_aliases = cap;
    }
    cs->aliases[cs->n_aliases++] = (alias){id, into};
    return BT_OK;
}

/* A sighting of target at captured (an occurrence entry, or a folded notice). */
static void sighted(bt_cases *cs, rec *target, int64_t captured)
{
    target->ev.sightings++;
    if (captured > target->seen) target->seen = captured;
    if (captured > target->ev.last_seen) {
        target->ev.last_seen = captured;
        icase *c = &cs->ic[target->caseix];
        if (captured > c->last_at) c->last_at = captured;
    }
}

static icase *case_by_id(bt_cases *cs, int64_t id)
{
    for (size_t i = 0; i < cs->n_ic; i++)
        if (cs->ic[i].alive && cs->ic[i].id == id) return &cs->ic[i];
    return NULL;
}

/* Recomputes case k's id and window from its records. */
static void case_recompute(bt_cases *cs, size_t k)
{
    icase *c = &cs->ic[k];
    int any = 0;
    for (size_t i = 0; i < cs->n_recs; i++) {
        const rec *r = &cs->recs[i];
        if (r->caseix != k) continue;
        int64_t last = r->ev.last_seen > r->ev.at ? r->ev.last_seen : r->ev.at;
        if (!any || r->ev.record < c->id) c->id = r->ev.record;
        if (!any || r->ev.at < c->first_at) c->first_at = r->ev.at;
        if (!any || last > c->last_at) c->last_at = last;
        any = 1;
    }
    c->alive = any;
}

static int within_window(const icase *c, int64_t t)
{
    return t >= c->first_at - BT_CASE_WINDOW && t <= c->last_at + BT_CASE_WINDOW;
}

/* ---- the handle index: the cases of a platform and handle found at once,
 * not by looking at every case for every record (which grew as records
 * times cases: 0.2 s of 'case list' at 100,000 entries and 3,600 cases) ---- */

/* FNV-1a of platform and handle as same_handle compares it; never 0. */
static uint64_t handle_key(const char *platform, const char *handle)
{
    uint64_t h = 1469598103934665603ULL;
    for (; *platform; platform++) h = (h ^ (unsigned char)*platform) * 1099511628211ULL;
    h = (h ^ 0xff) * 1099511628211ULL;
    if (*handle == '@') handle++;
    for (; *handle; handle++) {
        char x = *handle >= 'A' && *handle <= 'Z' ? (char)(*handle + 32) : *handle;
        h = (h ^ (unsigned char)x) * 1099511628211ULL;
    }
    return h ? h : 1;
}

static void hslot_put(bt_cases *cs, size_t k)
{
    size_t i = (size_t)cs->ic[k].key & (cs->h_cap - 1);
    while (cs->hslot[i] != 0) i = (i + 1) & (cs->h_cap - 1);
    cs->hslot[i] = k + 1;
    cs->h_n++;
}

/* Puts case k in the handle index once it has a handle (again when its key
 * changed: a merge gave it a platform); an entry left under an old key is
 * only ever passed over. 0, or -1 out of memory. */
static int handle_index_note(bt_cases *cs, size_t k)
{
    icase *c = &cs->ic[k];
    if (c->handle[0] == '\0') return 0;
    uint64_t key = handle_key(c->platform, c->handle);
    if (c->key == key) return 0;
    if (2 * (cs->h_n + 1) > cs->h_cap) {
        size_t cap = cs->h_cap ? cs->h_cap * 2 : 64, *old = cs->hslot, old_cap = cs->h_cap;
        size_t *bigger = calloc(cap, sizeof *bigger);
        if (bigger == NULL) return -1;
        cs->hslot = bigger;
        cs->h_cap = cap;
        cs->h_n = 0;
        for (size_t i = 0; i < old_cap; i++)
            if (old[i] != 0) hslot_put(cs, old[i] - 1);
        free(old);
    }
    c->key = key;
    hslot_put(cs, k);
    return 0;
}

/* Notes that case k has no handle (yet): rule 2 of a record with one looks only at those. */
static int no_handle_note(bt_cases *cs, size_t k)
{
    if (cs->ic[k].handle[0] != '\0') return 0;
    if (cs->n_noh == cs->cap_noh) {
        size_t cap = cs->cap_noh ? cs->cap_noh * 2 : 16;
        size_t *bigger = realloc(cs->noh, cap * sizeof *bigger);
        if (bigger == NULL) return -1;
        cs->noh = bigger;
        cs->cap_noh = cap;
    }
    size_t at = cs->n_noh; /* in index order, as the scan over every case met them */
    while (at > 0 && cs->noh[at - 1] > k) at--;
    if (at > 0 && cs->noh[at - 1] == k) return 0;
    memmove(cs->noh + at + 1, cs->noh + at, (cs->n_noh - at) * sizeof *cs->noh);
    cs->noh[at] = k;
    cs->n_noh++;
    return 0;
}

/* Whether case i is a better choice than best (SIZE_MAX for none): the one
 * seen last, and of those the first made, as one scan in index order chose. */
static int better_case(const bt_cases *cs, size_t i, size_t best)
{
    return best == SIZE_MAX || cs->ic[i].last_at > cs->ic[best].last_at ||
           (cs->ic[i].last_at == cs->ic[best].last_at && i < best);
}

/* Which case record r joins (rules 1-4); SIZE_MAX for a new one. */
static size_t link_case(bt_cases *cs, const rec *r, int64_t named)
{
    size_t best = SIZE_MAX;
    if (named > 0) {
        rec *target = rec_find(cs, named);
        if (target != NULL) return target->caseix;
    }
    if (r->handle[0] != '\0' && cs->h_broken) { /* as before the index: every case */
        for (size_t i = 0; i < cs->n_ic; i++) {
            const icase *c = &cs->ic[i];
            if (c->alive && strcmp(c->platform, r->ev.platform) == 0 && c->handle[0] != '\0' &&
                same_handle(c->handle, r->handle) && better_case(cs, i, best))
                best = i;
        }
        if (best != SIZE_MAX) return best;
    } else if (r->handle[0] != '\0') {
        for (size_t i = cs->h_cap ? (size_t)handle_key(r->ev.platform, r->handle) & (cs->h_cap - 1) : 0;
             cs->h_cap && cs->hslot[i] != 0; i = (i + 1) & (cs->h_cap - 1)) {
            size_t k = cs->hslot[i] - 1;
            const icase *c = &cs->ic[k];
            if (c->alive && strcmp(c->platform, r->ev.platform) == 0 && c->handle[0] != '\0' &&
                same_handle(c->handle, r->handle) && better_case(cs, k, best))
                best = k;
        }
        if (best != SIZE_MAX) return best;
        /* rule 2 for a record with a handle: the cases without one */
        size_t kept = 0;
        for (size_t j = 0; j < cs->n_noh; j++) {
            size_t k = cs->noh[j];
            const icase *c = &cs->ic[k];
            if (c->handle[0] != '\0') continue; /* it has one now: never again without */
            cs->noh[kept++] = k;
            if (c->alive && strcmp(c->platform, r->ev.platform) == 0 && within_window(c, r->ev.at) &&
                better_case(cs, k, best))
                best = k;
        }
        cs->n_noh = kept;
        return best;
    }
    for (size_t i = 0; i < cs->n_ic; i++) {
        const icase *c = &cs->ic[i];
        if (c->alive && strcmp(c->platform, r->ev.platform) == 0 && within_window(c, r->ev.at) &&
            (r->handle[0] == '\0' || c->handle[0] == '\0') && better_case(cs, i, best))
            best = i;
    }
    return best;
}

static bt_err add_record(bt_cases *cs, rec *r, int64_t named)
{
    size_t k = link_case(cs, r, named);
    if (k == SIZE_MAX) {
        if (cs->n_ic == cs->cap_ic) {
            size_t cap = cs->cap_ic ? cs->cap_ic * 2 : 16;
            icase *bigger = realloc(cs->ic, cap * sizeof *bigger);
            if (bigger == NULL) return BT_ERR_NO_MEMORY;
            cs->ic = bigger;
            cs->cap_ic = cap;
        }
        k = cs->n_ic++;
        icase *c = &cs->ic[k];
        memset(c, 0, sizeof *c);
        c->id = r->ev.record;
        c->alive = 1;
        memcpy(c->platform, r->ev.platform, sizeof c->platform);
        c->first_at = c->last_at = r->ev.at;
    }
    if (cs->n_recs == cs->cap_recs) {
        size_t cap = cs->cap_recs ? cs->cap_recs * 2 : 64;
        rec *bigger = realloc(cs->recs, cap * sizeof *bigger);
        if (bigger == NULL) return BT_ERR_NO_MEMORY;
        cs->recs = bigger;
        cs->cap_recs = cap;
    }
    r->caseix = k;
    cs->recs[cs->n_recs++] = *r;
    icase *c = &cs->ic[k];
    if (c->handle[0] == '\0') memcpy(c->handle, r->handle, sizeof c->handle);
    if (r->ev.at < c->first_at) c->first_at = r->ev.at;
    if (r->ev.at > c->last_at) c->last_at = r->ev.at;
    if (handle_index_note(cs, k) != 0 || no_handle_note(cs, k) != 0) cs->h_broken = 1;
    return BT_OK;
}

static void replay_merge(bt_cases *cs, const bt_case_brief *b)
{
    icase *a = case_by_id(cs, b->merge[0]), *c = case_by_id(cs, b->merge[1]);
    if (a == NULL || c == NULL || a == c) return;
    if (c->id < a->id) { icase *t = a; a = c; c = t; }
    size_t ka = (size_t)(a - cs->ic), kc = (size_t)(c - cs->ic);
    for (size_t i = 0; i < cs->n_recs; i++)
        if (cs->recs[i].caseix == kc) cs->recs[i].caseix = ka;
    if (a->handle[0] == '\0') memcpy(a->handle, c->handle, sizeof a->handle);
    if (a->platform[0] == '\0') memcpy(a->platform, c->platform, sizeof a->platform);
    c->alive = 0;
    case_recompute(cs, ka);
    if (handle_index_note(cs, ka) != 0) cs->h_broken = 1;
}

static void replay_split(bt_cases *cs, int64_t n)
{
    rec *r;
    if ((r = rec_find(cs, n)) == NULL) return;
    size_t old = r->caseix;
    if (cs->ic[old].id == n) return; /* nothing would stay behind */
    if (cs->n_ic == cs->cap_ic) {
        size_t cap = cs->cap_ic * 2;
        icase *bigger = realloc(cs->ic, cap * sizeof *bigger);
        if (bigger == NULL) return;
        cs->ic = bigger;
        cs->cap_ic = cap;
    }
    size_t k = cs->n_ic++;
    cs->ic[k] = cs->ic[old];
    cs->ic[k].key = 0; /* not in the handle index yet */
    for (size_t i = 0; i < cs->n_recs; i++)
        if (cs->recs[i].caseix == old && cs->recs[i].ev.record >= n) cs->recs[i].caseix = k;
    case_recompute(cs, old);
    case_recompute(cs, k);
    if (handle_index_note(cs, k) != 0 || no_handle_note(cs, k) != 0) cs->h_broken = 1;
}

static bt_err attach_to(rec *r, int64_t id)
{
    if (r->ev.n_attachments == r->attach_cap) {
        size_t cap = r->attach_cap ? r->attach_cap * 2 : 4;
        int64_t *bigger = realloc(r->ev.attachments, cap * sizeof *bigger);
        if (bigger == NULL) return BT_ERR_NO_MEMORY;
        r->ev.attachments = bigger;
        r->attach_cap = cap;
    }
    r->ev.attachments[r->ev.n_attachments++] = id;
    return BT_OK;
}

void bt_cases_brief(json_object *head, bt_case_brief *b)
{
    const char *type = bt_json_str(head, "type");
    json_object *manual, *arr;
    memset(b, 0, sizeof *b);
    if (type == NULL) return;
    bt_json_int(head, "captured_at", &b->captured);
    if (strcmp(type, BT_REC_OCCURRENCE) == 0 || strcmp(type, BT_REC_ATTACHMENT) == 0) {
        if (bt_json_int(head, "of", &b->of)) b->what = type[0] == 'a' ? BT_BRIEF_ATTACHMENT : BT_BRIEF_OCCURRENCE;
        return;
    }
    if (strcmp(type, BT_REC_CASE_MERGE) == 0) {
        if (!json_object_object_get_ex(head, "cases", &arr) || !json_object_is_type(arr, json_type_array) ||
            json_object_array_length(arr) != 2)
            return;
        json_object *x = json_object_array_get_idx(arr, 0), *y = json_object_array_get_idx(arr, 1);
        if (!json_object_is_type(x, json_type_int) || !json_object_is_type(y, json_type_int)) return;
        b->merge[0] = json_object_get_int64(x);
        b->merge[1] = json_object_get_int64(y);
        b->what = BT_BRIEF_MERGE;
        return;
    }
    if (strcmp(type, BT_REC_CASE_SPLIT) == 0) {
        if (bt_json_int(head, "record", &b->of)) b->what = BT_BRIEF_SPLIT;
        return;
    }
    b->manual = json_object_object_get_ex(head, "manual", &manual) && json_object_get_boolean(manual);
    if (strcmp(type, BT_REC_NOTICE) == 0) {
        json_object *cls = NULL, *facts = NULL;
        const char *observed = bt_json_str(head, "observed_at");
        bt_case_event ev;
        b->what = BT_BRIEF_NOTICE;
        json_object_object_get_ex(head, "classification", &cls);
        json_object_object_get_ex(cls, "facts", &facts);
        copy_str(b->kind, sizeof b->kind, bt_json_str(cls, "kind"));
        copy_str(b->platform, sizeof b->platform, bt_json_str(cls, "platform"));
        copy_str(b->handle, sizeof b->handle, bt_json_str(facts, "handle"));
        event_of_kind(&ev, b->kind[0] ? b->kind : NULL);
        b->event = (int8_t)ev.event;
        b->outcome = (int8_t)ev.outcome;
        b->at = b->captured;
        if (observed != NULL && bt_cases_parse_time(observed, &b->at) == 0) b->at_stated = 1;
        else b->at = b->captured;
        const char *fp_hex = bt_json_str(head, "fp");
        size_t n = 0;
        b->has_fp = fp_hex != NULL &&
                    sodium_hex2bin(b->fp, sizeof b->fp, fp_hex, strlen(fp_hex), NULL, &n, NULL) == 0 && n == FP_BYTES;
    } else if (strcmp(type, BT_REC_EVENT) == 0) {
        int e = bt_event_parse(bt_json_str(head, "event"));
        const char *outcome = bt_json_str(head, "outcome");
        b->what = BT_BRIEF_EVENT;
        b->event = (int8_t)(e < 0 ? BT_EVENT_OTHER : (bt_event_kind)e);
        if (b->event == BT_EVENT_DECISION && outcome != NULL)
            b->outcome = (int8_t)(strcmp(outcome, "reinstated") == 0 ? BT_OUTCOME_REINSTATED
                                  : strcmp(outcome, "rejected") == 0 ? BT_OUTCOME_REJECTED : BT_OUTCOME_NONE);
        copy_str(b->platform, sizeof b->platform, bt_json_str(head, "platform"));
        copy_str(b->handle, sizeof b->handle, bt_json_str(head, "handle"));
        b->at_stated = (int8_t)bt_json_int(head, "at", &b->at);
        if (!b->at_stated) b->at = b->captured;
        bt_json_int(head, "case", &b->named);
    }
}

bt_err bt_cases_add(bt_cases *cs, int64_t id, json_object *head)
{
    bt_case_brief b;
    bt_cases_brief(head, &b);
    bt_err err = bt_cases_add_brief(cs, id, &b);
    sodium_memzero(&b, sizeof b);
    return err;
}

bt_err bt_cases_add_brief(bt_cases *cs, int64_t id, const bt_case_brief *b)
{
    rec r;
    if (id <= cs->last_id) return BT_ERR_BAD_PARAMS;
    cs->last_id = id;
    if (b == NULL || b->what == BT_BRIEF_NONE) return BT_OK;
    if (b->what == BT_BRIEF_OCCURRENCE || b->what == BT_BRIEF_ATTACHMENT) {
        rec *target = rec_or_folded(cs, b->of);
        if (target == NULL) return BT_OK;
        if (b->what == BT_BRIEF_ATTACHMENT) return attach_to(target, id);
        sighted(cs, target, b->captured);
        return BT_OK;
    }
    if (b->what == BT_BRIEF_MERGE) { replay_merge(cs, b); return BT_OK; }
    if (b->what == BT_BRIEF_SPLIT) { replay_split(cs, b->of); return BT_OK; }
    if (b->what != BT_BRIEF_NOTICE && b->what != BT_BRIEF_EVENT) return BT_OK;

    memset(&r, 0, sizeof r);
    r.ev.record = id;
    r.ev.sightings = 1;
    r.ev.manual = b->manual;
    r.ev.is_notice = b->what == BT_BRIEF_NOTICE;
    memcpy(r.ev.kind, b->kind, sizeof r.ev.kind);
    memcpy(r.ev.platform, b->platform, sizeof r.ev.platform);
    memcpy(r.handle, b->handle, sizeof r.handle);
    r.ev.event = (bt_event_kind)b->event;
    r.ev.outcome = (bt_outcome)b->outcome;
    r.ev.at = b->at;
    r.ev.at_stated = b->at_stated;
    if (r.ev.is_notice) {
        r.seen = b->captured;
        r.has_fp = b->has_fp;
        memcpy(r.fp, b->fp, sizeof r.fp);
        rec *prev = r.ev.manual ? NULL : repeat_of(cs, &r); /* a manual capture is never folded */
        if (prev != NULL) { /* captured while locked: the sighting the host would have folded */
            sighted(cs, prev, b->captured);
            return alias_add(cs, id, prev->ev.record);
        }
    }
    r.ev.last_seen = r.ev.at;
    bt_err err = add_record(cs, &r, b->what == BT_BRIEF_EVENT ? b->named : 0);
    if (err == BT_OK && r.has_fp) err = fp_put(cs, cs->n_recs - 1);
    return err;
}

/* ---- deriving ---- */

static int event_cmp(const void *a, const void *b)
{
    const bt_case_event *x = a, *y = b;
    if (x->at != y->at) return x->at < y->at ? -1 : 1;
    return x->record < y->record ? -1 : x->record > y->record;
}

static bt_err derive_appeals(bt_case *c)
{
    bt_case_appeal *open = NULL;
    c->appeals = calloc(c->n_events ? c->n_events : 1, sizeof *c->appeals);
    if (c->appeals == NULL) return BT_ERR_NO_MEMORY;
    for (size_t i = 0; i < c->n_events; i++) {
        const bt_case_event *e = &c->events[i];
        if (e->event != BT_EVENT_APPEAL_SUBMITTED && e->event != BT_EVENT_ACKNOWLEDGEMENT &&
            e->event != BT_EVENT_DECISION)
            continue;
        if (open == NULL || (e->event == BT_EVENT_APPEAL_SUBMITTED && open->submitted_at >= 0)) {
            if (open != NULL && e->event == BT_EVENT_APPEAL_SUBMITTED) continue; /* sent again: the first counts */
            open = &c->appeals[c->n_appeals++];
            open->submitted_at = open->acknowledged_at = open->answered_at = open->answer_seconds = -1;
            open->outcome = BT_OUTCOME_PENDING;
        }
        if (e->event == BT_EVENT_APPEAL_SUBMITTED) {
            open->submitted_at = e->at; /* an acknowledgement came first: the submission is the start */
        } else if (e->event == BT_EVENT_ACKNOWLEDGEMENT) {
            if (open->acknowledged_at < 0) open->acknowledged_at = e->at;
        } else {
            open->answered_at = e->at;
            open->outcome = e->outcome == BT_OUTCOME_REINSTATED ? BT_OUTCOME_REINSTATED : BT_OUTCOME_REJECTED;
            if (open->submitted_at >= 0 && e->at >= open->submitted_at)
                open->answer_seconds = e->at - open->submitted_at;
            open = NULL;
        }
    }
    return BT_OK;
}

static void derive_times(bt_case *c, int64_t now)
{
    int64_t warned = -1;
    c->restricted_at = c->appealed_at = c->acknowledged_at = c->answered_at = c->reinstated_at = -1;
    c->restriction_to_appeal = c->appeal_to_answer = c->locked_out = -1;
    for (size_t i = 0; i < c->n_events; i++) {
        const bt_case_event *e = &c->events[i];
        if (e->event != BT_EVENT_RESTRICTION) continue;
        if (strcmp(e->kind, "warning") == 0) {
            if (warned < 0) warned = e->at;
        } else if (c->restricted_at < 0) {
            c->restricted_at = e->at;
        }
    }
    int locks = c->restricted_at >= 0;
    if (!locks) c->restricted_at = warned;
    for (size_t i = 0; i < c->n_appeals; i++) {
        const bt_case_appeal *a = &c->appeals[i];
        if (a->answer_seconds >= 0 && a->answer_seconds <= BT_CASE_FAST_ANSWER) c->fast_answer = 1;
        if (c->appealed_at < 0 && a->submitted_at >= 0) {
            c->appealed_at = a->submitted_at;
            c->acknowledged_at = a->acknowledged_at;
            c->answered_at = a->answered_at;
            c->appeal_to_answer = a->answer_seconds;
        }
    }
    c->outcome = c->n_appeals ? c->appeals[c->n_appeals - 1].outcome : BT_OUTCOME_NONE;
    if (c->appealed_at >= 0 && c->restricted_at >= 0 && c->appealed_at >= c->restricted_at)
        c->restriction_to_appeal = c->appealed_at - c->restricted_at;
    for (size_t i = 0; locks && i < c->n_events; i++) {
        const bt_case_event *e = &c->events[i];
        if (e->event == BT_EVENT_DECISION && e->outcome == BT_OUTCOME_REINSTATED && e->at >= c->restricted_at) {
            c->reinstated_at = e->at;
            break;
        }
    }
    if (locks) {
        int64_t end = c->reinstated_at >= 0 ? c->reinstated_at : now;
        c->locked_out_ongoing = c->reinstated_at < 0;
        c->locked_out = end >= c->restricted_at ? end - c->restricted_at : 0;
    }
}

bt_err bt_cases_finish(bt_cases *cs, int64_t now)
{
    size_t alive = 0, *fill = NULL;
    bt_err err = BT_ERR_NO_MEMORY;
    cases_unfinish(cs); /* derived again, with what was added since */
    cs->finished = 1;
    for (size_t i = 0; i < cs->n_ic; i++) alive += cs->ic[i].alive != 0;
    cs->cases = calloc(alive ? alive : 1, sizeof *cs->cases);
    fill = calloc(cs->n_ic ? cs->n_ic : 1, sizeof *fill);
    if (cs->cases == NULL || fill == NULL) goto done;
    /* ic is in order of creation; order cases by id */
    for (size_t i = 0; i < cs->n_ic; i++) {
        if (!cs->ic[i].alive) continue;
        size_t at = cs->n_cases++;
        while (at > 0 && cs->cases[at - 1].id > cs->ic[i].id) {
            cs->cases[at] = cs->cases[at - 1];
            at--;
        }
        bt_case *c = &cs->cases[at];
        memset(c, 0, sizeof *c);
        c->id = cs->ic[i].id;
        memcpy(c->platform, cs->ic[i].platform, sizeof c->platform);
        memcpy(c->handle, cs->ic[i].handle, sizeof c->handle);
        c->first_at = cs->ic[i].first_at;
        c->last_at = cs->ic[i].last_at;
    }
    for (size_t i = 0; i < cs->n_recs; i++) {
        const bt_case *c = bt_cases_find(cs, cs->ic[cs->recs[i].caseix].id);
        if (c != NULL) ((bt_case *)c)->n_events++;
    }
    for (size_t i = 0; i < cs->n_cases; i++) {
        cs->cases[i].events = calloc(cs->cases[i].n_events ? cs->cases[i].n_events : 1, sizeof(bt_case_event));
        if (cs->cases[i].events == NULL) goto done;
        fill[i] = 0;
    }
    for (size_t i = 0; i < cs->n_recs; i++) {
        bt_case *c = (bt_case *)bt_cases_find(cs, cs->ic[cs->recs[i].caseix].id);
        if (c == NULL) continue;
        size_t ix = (size_t)(c - cs->cases);
        c->events[fill[ix]++] = cs->recs[i].ev;
    }
    for (size_t i = 0; i < cs->n_cases; i++) {
        bt_case *c = &cs->cases[i];
        qsort(c->events, c->n_events, sizeof *c->events, event_cmp);
        for (size_t j = 0; j < c->n_events; j++) c->n_attachments += c->events[j].n_attachments;
        if ((err = derive_appeals(c)) != BT_OK) goto done;
        derive_times(c, now);
    }
    err = BT_OK;
done:
    free(fill);
    return err;
}

typedef struct {
    bt_cases *cs;
    int64_t unreadable;
    bt_err err;
    bt_err (*also)(void *ctx, int64_t id, json_object *head);
    void *also_ctx;
} load_ctx;

static int load_one(void *ctx, const bt_vault_entry_info *e, bt_err err, const char *text, size_t n)
{
    load_ctx *l = ctx;
    int64_t id = e->id;
    json_object *head = NULL;
    if (err == BT_OK && (err = bt_json_parse(text, n, 32, &head)) == BT_ERR_NO_MEMORY) {
        l->err = err;
        return 1;
    }
    if (head == NULL) l->unreadable++;
    err = bt_cases_add(l->cs, id, head); /* no header: only passed over */
    if (err == BT_OK && head != NULL && l->also != NULL) err = l->also(l->also_ctx, id, head);
    json_object_put(head);
    if (err != BT_OK) {
        l->err = err;
        return 1;
    }
    return 0;
}

bt_err bt_cases_feed(bt_cases *cs, bt_vault *v, int64_t upto, int64_t *unreadable,
                     bt_err (*also)(void *ctx, int64_t id, json_object *head), void *also_ctx)
{
    load_ctx l = {cs, 0, BT_OK, also, also_ctx};
    int64_t last = 0;
    int64_t n = upto > 0 ? upto - cs->last_id : INT_MAX;
    if (n <= 0) return BT_OK;
    bt_err err = bt_vault_read_each(v, cs->last_id, n < INT_MAX ? (int)n : INT_MAX, load_one, &l, &last);
    if (err == BT_OK) err = l.err;
    if (unreadable) *unreadable += l.unreadable;
    return err;
}

bt_err bt_cases_load(bt_cases **out, bt_vault *v, int64_t upto, int64_t now, int64_t *unreadable)
{
    bt_cases *cs = NULL;
    bt_err err;
    *out = NULL;
    if (unreadable) *unreadable = 0;
    if (bt_vault_state_of(v) == BT_VAULT_LOCKED) return BT_ERR_LOCKED;
    if ((err = bt_cases_new(&cs)) != BT_OK) return err;
    err = bt_cases_feed(cs, v, upto, unreadable, NULL, NULL);
    if (err == BT_OK) err = bt_cases_finish(cs, now);
    if (err != BT_OK) {
        bt_cases_free(cs);
        return err;
    }
    *out = cs;
    return BT_OK;
}

int64_t bt_cases_last(const bt_cases *cs)
{
    return cs->last_id;
}

/* ---- packed (the index keeps them sealed: index.h) ----
 * u64 count, then for each case its bt_case (events and appeals NULL)
 * followed by its n_appeals bt_case_appeal, cases in id order. */

bt_err bt_cases_pack(const bt_cases *cs, unsigned char **out, size_t *n)
{
    size_t len = 8;
    *out = NULL;
    *n = 0;
    if (!cs->finished) return BT_ERR_BAD_PARAMS;
    for (size_t i = 0; i < cs->n_cases; i++) len += sizeof(bt_case) + cs->cases[i].n_appeals * sizeof(bt_case_appeal);
    unsigned char *m = malloc(len), *p = m;
    if (m == NULL) return BT_ERR_NO_MEMORY;
    uint64_t count = cs->n_cases;
    memcpy(p, &count, 8);
    p += 8;
    for (size_t i = 0; i < cs->n_cases; i++) {
        bt_case c = cs->cases[i];
        c.events = NULL;
        c.appeals = NULL;
        memcpy(p, &c, sizeof c);
        p += sizeof c;
        if (c.n_appeals > 0) memcpy(p, cs->cases[i].appeals, c.n_appeals * sizeof(bt_case_appeal));
        p += c.n_appeals * sizeof(bt_case_appeal);
        sodium_memzero(&c, sizeof c);
    }
    *out = m;
    *n = len;
    return BT_OK;
}

bt_err bt_cases_unpack(bt_cases **out, const unsigned char *m, size_t n, int64_t now)
{
    bt_cases *cs = NULL;
    uint64_t count = 0;
    size_t at = 8;
    bt_err err = BT_ERR_CORRUPT;
    *out = NULL;
    if (n < 8) return BT_ERR_CORRUPT;
    memcpy(&count, m, 8);
    if (count > (n - 8) / sizeof(bt_case)) return BT_ERR_CORRUPT;
    if (bt_cases_new(&cs) != BT_OK) return BT_ERR_NO_MEMORY;
    cs->finished = 1;
    if ((cs->cases = calloc(count ? count : 1, sizeof *cs->cases)) == NULL) {
        err = BT_ERR_NO_MEMORY;
        goto done;
    }
    for (size_t i = 0; i < count; i++) {
        bt_case *c = &cs->cases[i];
        if (n - at < sizeof *c) goto done;
        memcpy(c, m + at, sizeof *c);
        at += sizeof *c;
        c->events = NULL;
        c->appeals = NULL;
        cs->n_cases = i + 1;
        size_t na = c->n_appeals;
        c->n_appeals = 0;
        if (c->id <= 0 || (i > 0 && c->id <= cs->cases[i - 1].id) ||
            memchr(c->platform, 0, sizeof c->platform) == NULL || memchr(c->handle, 0, sizeof c->handle) == NULL ||
            na > c->n_events || na > (n - at) / sizeof(bt_case_appeal) || (unsigned)c->outcome > BT_OUTCOME_REINSTATED)
            goto done;
        if ((c->appeals = calloc(na ? na : 1, sizeof *c->appeals)) == NULL) {
            err = BT_ERR_NO_MEMORY;
            goto done;
        }
        if (na > 0) memcpy(c->appeals, m + at, na * sizeof *c->appeals);
        at += na * sizeof *c->appeals;
        c->n_appeals = na;
        if (c->locked_out_ongoing) /* as derive_times: to now, while no reinstatement ends it */
            c->locked_out = now >= c->restricted_at ? now - c->restricted_at : 0;
    }
    if (at == n) err = BT_OK;
done:
    if (err != BT_OK) {
        bt_cases_free(cs);
        return err;
    }
    *out = cs;
    return BT_OK;
}

/* ---- queries ---- */

size_t bt_cases_count(const bt_cases *cs)
{
    return cs->n_cases;
}

const bt_case *bt_cases_at(const bt_cases *cs, size_t i)
{
    return i < cs->n_cases ? &cs->cases[i] : NULL;
}

const bt_case *bt_cases_find(const bt_cases *cs, int64_t id)
{
    size_t lo = 0, hi = cs->n_cases;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (cs->cases[mid].id < id) lo = mid + 1;
        else hi = mid;
    }
    return lo < cs->n_cases && cs->cases[lo].id == id ? &cs->cases[lo] : NULL;
}

const bt_case_event *bt_case_event_of(const bt_case *c, int64_t record)
{
    for (size_t i = 0; c != NULL && i < c->n_events; i++)
        if (c->events[i].record == record) return &c->events[i];
    return NULL;
}

const bt_case *bt_cases_of_record(const bt_cases *cs, int64_t record)
{
    for (size_t i = 0; i < cs->n_cases; i++)
        if (bt_case_event_of(&cs->cases[i], record) != NULL) return &cs->cases[i];
    return NULL;
}

/* ---- JSON ---- */

static json_object *opt_int(int64_t x)
{
    return x >= 0 ? json_object_new_int64(x) : NULL;
}

json_object *bt_case_to_json(const bt_case *c, int with_events)
{
    json_object *o = json_object_new_object(), *times, *dur, *appeals, *events;
    size_t attachments = 0;
    if (o == NULL) return NULL;
    if (c->events == NULL) attachments = c->n_attachments; /* unpacked: no events */
    for (size_t i = 0; c->events != NULL && i < c->n_events; i++) attachments += c->events[i].n_attachments;
    json_object_object_add(o, "id", json_object_new_int64(c->id));
    json_object_object_add(o, "platform", c->platform[0] ? json_object_new_string(c->platform) : NULL);
    json_object_object_add(o, "handle", c->handle[0] ? json_object_new_string(c->handle) : NULL);
    json_object_object_add(o, "first_at", json_object_new_int64(c->first_at));
    json_object_object_add(o, "last_at", json_object_new_int64(c->last_at));
    json_object_object_add(o, "event_count", json_object_new_int64((int64_t)c->n_events));
    json_object_object_add(o, "attachment_count", json_object_new_int64((int64_t)attachments));
    json_object_object_add(o, "outcome", json_object_new_string(bt_outcome_name(c->outcome)));
    times = json_object_new_object();
    json_object_object_add(times, "restricted_at", opt_int(c->restricted_at));
    json_object_object_add(times, "appealed_at", opt_int(c->appealed_at));
    json_object_object_add(times, "acknowledged_at", opt_int(c->acknowledged_at));
    json_object_object_add(times, "answered_at", opt_int(c->answered_at));
    json_object_object_add(times, "reinstated_at", opt_int(c->reinstated_at));
    json_object_object_add(o, "times", times);
    dur = json_object_new_object();
    json_object_object_add(dur, "restriction_to_appeal", opt_int(c->restriction_to_appeal));
    json_object_object_add(dur, "appeal_to_answer", opt_int(c->appeal_to_answer));
    json_object_object_add(dur, "appeal_to_answer_minutes",
                           c->appeal_to_answer >= 0 ? json_object_new_int64(c->appeal_to_answer / 60) : NULL);
    json_object_object_add(dur, "locked_out", opt_int(c->locked_out));
    json_object_object_add(dur, "locked_out_ongoing", json_object_new_boolean(c->locked_out_ongoing));
    json_object_object_add(o, "durations", dur);
    json_object_object_add(o, "answered_within_10_minutes", json_object_new_boolean(c->fast_answer));
    appeals = json_object_new_array();
    for (size_t i = 0; i < c->n_appeals; i++) {
        const bt_case_appeal *a = &c->appeals[i];
        json_object *x = json_object_new_object();
        json_object_object_add(x, "submitted_at", opt_int(a->submitted_at));
        json_object_object_add(x, "acknowledged_at", opt_int(a->acknowledged_at));
        json_object_object_add(x, "answered_at", opt_int(a->answered_at));
        json_object_object_add(x, "outcome", json_object_new_string(bt_outcome_name(a->outcome)));
        json_object_object_add(x, "answer_seconds", opt_int(a->answer_seconds));
        json_object_object_add(x, "answer_minutes", a->answer_seconds >= 0 ? json_object_new_int64(a->answer_seconds / 60) : NULL);
        json_object_object_add(x, "within_10_minutes",
                               json_object_new_boolean(a->answer_seconds >= 0 && a->answer_seconds <= BT_CASE_FAST_ANSWER));
        json_object_array_add(appeals, x);
    }
    json_object_object_add(o, "appeals", appeals);
    if (!with_events) return o;
    events = json_object_new_array();
    for (size_t i = 0; i < c->n_events; i++) {
        const bt_case_event *e = &c->events[i];
        json_object *x = json_object_new_object(), *att = json_object_new_array();
        json_object_object_add(x, "record", json_object_new_int64(e->record));
        json_object_object_add(x, "entry", json_object_new_string(e->is_notice ? BT_REC_NOTICE : BT_REC_EVENT));
        json_object_object_add(x, "event", json_object_new_string(bt_event_name(e->event)));
        json_object_object_add(x, "kind", e->kind[0] ? json_object_new_string(e->kind) : NULL);
        json_object_object_add(x, "outcome", e->event == BT_EVENT_DECISION
                                   ? json_object_new_string(bt_outcome_name(e->outcome)) : NULL);
        json_object_object_add(x, "at", json_object_new_int64(e->at));
        json_object_object_add(x, "time", json_object_new_string(e->at_stated ? "stated" : "captured"));
        json_object_object_add(x, "manual", json_object_new_boolean(e->manual));
        json_object_object_add(x, "platform", e->platform[0] ? json_object_new_string(e->platform) : NULL);
        json_object_object_add(x, "sightings", json_object_new_int64(e->sightings));
        json_object_object_add(x, "last_seen", json_object_new_int64(e->last_seen));
        for (size_t k = 0; k < e->n_attachments; k++) json_object_array_add(att, json_object_new_int64(e->attachments[k]));
        json_object_object_add(x, "attachments", att);
        json_object_array_add(events, x);
    }
    json_object_object_add(o, "events", events);
    return o;
}
