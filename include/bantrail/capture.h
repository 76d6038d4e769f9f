/* Capturing a notice into the log (docs/DESIGN.md sections 2 and 6): the
 * host's classifier decides, a repeat of the same notice within
 * BT_REPEAT_WINDOW is folded into an "occurrence" entry of the first record,
 * and screenshots or pages are appended as "attachment" entries of a record
 * (entry names in records.h). No printing, no network.
 *
 * The repeat memory lives in a bt_capture, one per open log: a hash table of
 * the fingerprints captured lately (BLAKE2b of platform, kind and normalised
 * text, also kept inside each notice's encrypted header), rebuilt from the
 * log's last BT_REPEAT_SCAN entries the first time a capture finds the log
 * readable. While the log is locked nothing is folded nor remembered (and
 * the host forgets the memory at lock: bt_capture_forget), so that a locked
 * host tells no caller whether a notice was captured: a repeat is stored as
 * a notice, and reading the log folds it into the one it repeats
 * (bt_cases_add), as the host would have.
 *
 * Errors: every function returns a bt_err; where a detail helps, *why (may
 * be NULL) is pointed at a static English text, for the error's message
 * (docs/DESIGN.md section 11, "One way to say why"). */
#ifndef BANTRAIL_CAPTURE_H
#define BANTRAIL_CAPTURE_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>
#include "bantrail/classify.h"
#include "bantrail/error.h"
#include "bantrail/vault.h"

#define BT_REPEAT_WINDOW ((int64_t)24 * 60 * 60) /* the same notice again within this: an occurrence */
#define BT_REPEAT_SCAN 2000                      /* entries read back to rebuild the repeat memory */

/* The longest of each capture field, in bytes (docs/PROTOCOL.md, capture). */
#define BT_CAPTURE_URL_MAX 8192
#define BT_CAPTURE_TEXT_MAX ((size_t)1 << 20)
#define BT_CAPTURE_TITLE_MAX 4096
#define BT_CAPTURE_LANG_MAX 35     /* a BCP 47 tag */
#define BT_CAPTURE_SOFTWARE_MAX 23 /* a platform's software name (classify.h) */
#define BT_CAPTURE_MIME_MAX 64

typedef struct bt_capture bt_capture;

/* A repeat memory for the log v (borrowed: it must outlive the capture).
 * BT_ERR_NO_MEMORY. */
bt_err bt_capture_new(bt_capture **out, bt_vault *v);

/* Frees the memory. Accepts NULL. */
void bt_capture_free(bt_capture *c);

/* The log the capture writes to. */
bt_vault *bt_capture_vault(const bt_capture *c);

/* Forgets the repeat memory, which is read again from the log at the next
 * capture: after appends that were rolled back (bt_vault_batch_end), it
 * could name a record that is not there. */
void bt_capture_forget(bt_capture *c);

/* What a capture holds; every pointer borrowed. */
typedef struct {
    const char *url, *text;                 /* required, not empty */
    const char *title, *lang, *software;    /* NULL when not given */
    json_object *observed_at;               /* a string as the page said it, or NULL */
    json_object *client_classification;     /* the extension's own verdict (an object), or NULL */
    int manual;                             /* store it even if the classifier says it is no notice */
} bt_capture_in;

/* Fills *in from the capture object o (the capture method's params, or the
 * "capture" of a sealed box), pointing into o: url, text, title, lang,
 * software, observed_at, classification, manual, each checked for type and
 * the limits above. BT_ERR_BAD_PARAMS with *why the first member refused. */
bt_err bt_capture_in_parse(bt_capture_in *in, json_object *o, const char **why);

typedef struct {
    bt_classification verdict; /* the host's classifier's */
    int stored;                /* 0: no notice (and not manual), nothing written */
    int occurrence;            /* 1: a repeat folded into record */
    int64_t record;            /* the notice: the new one, or the one repeated */
    int64_t entry;             /* the entry written (record itself for a new notice) */
} bt_capture_out;

/* Classifies in and, when it is a notice (or manual), appends a "notice"
 * entry, or an "occurrence" "of" the notice captured with the same
 * fingerprint within BT_REPEAT_WINDOW before now (Unix seconds). A manual
 * capture is never folded, and nothing is while the log is locked (see
 * above). Works while the log is locked. Errors of the classifier and of
 * bt_vault_append; *out is filled on BT_OK only. */
bt_err bt_capture_notice(bt_capture *c, const bt_capture_in *in, int64_t now, bt_capture_out *out,
                         const char **why);

/* Appends the attachment of mime type mime (image/png, image/jpeg,
 * image/webp or text/html) whose bytes are b64 (standard base64, b64_len
 * bytes, not empty) to record, at now. Sets *id to the entry and *size to
 * the bytes stored. BT_ERR_BAD_PARAMS (*why "mime" or "data"),
 * BT_ERR_NOT_FOUND when the log holds no entry record, BT_ERR_NO_MEMORY,
 * bt_vault_append's errors. The decoded bytes are wiped after use. */
bt_err bt_capture_attach(bt_capture *c, int64_t record, const char *mime, const char *b64, size_t b64_len,
                         int64_t now, int64_t *id, size_t *size, const char **why);

#endif
