/* The sealed-capture inbox (docs/PROTOCOL.md, capture_sealed): captures the
 * extension kept while the host was away, sealed to the log's public key
 * (crypto_box_seal) so that nothing waited in clear in the browser.
 *
 * A box opens to {"v":1,"capture":{capture},"attachments":[{mime,data}]},
 * {"v":1,"record":id,"attachments":[...]} or {"v":1,"event":{event}} (the
 * objects as bt_capture_in_parse and bt_event_in_parse read them). Log
 * readable: the box is opened and stored at once, as a capture and its
 * attachments (none for a repeat: one screenshot per record) or as an
 * event, with a "sealed_done" entry naming the box (its id, BLAKE2b-128 of
 * the sealed bytes, as "box") and what it became, in one transaction. Log
 * locked: the box is kept as it is in a "sealed_capture" entry (the box its
 * body) and expanded by bt_inbox_expand_pending at the next unlock, which
 * appends the "sealed_done" entry ("of" the sealed_capture), so that no box
 * is expanded twice. A box whose id a sealed_done among the log's last
 * BT_REPEAT_SCAN entries names (the extension sent it again: the answer was
 * lost on its way, a browser killed between the host's commit and the
 * removal from its outbox) is not stored again. The log mark "sealed_scanned"
 * keeps where the next scan may start.
 *
 * Errors: a bt_err, and where a detail helps *why (may be NULL) pointed at a
 * static English text (docs/DESIGN.md section 11). */
#ifndef BANTRAIL_INBOX_H
#define BANTRAIL_INBOX_H

#include <stddef.h>
#include <stdint.h>
#include "bantrail/capture.h"
#include "bantrail/error.h"
#include "bantrail/index.h"

typedef enum {
    BT_BOX_PENDING, /* kept unopened: the log is locked */
    BT_BOX_CAPTURE, /* a capture (and its attachments) */
    BT_BOX_RECORD,  /* attachments to an existing record */
    BT_BOX_EVENT,    /* an event (an appeal sent while the host was away) */
    BT_BOX_DUPLICATE /* taken before: sent again after its answer was lost; nothing stored */
} bt_box_kind;

/* What a box became. */
typedef struct {
    bt_box_kind kind;
    int64_t entry;            /* PENDING: the sealed_capture entry */
    bt_capture_out capture;   /* CAPTURE */
    int64_t record;           /* CAPTURE (when stored) and RECORD: the record attached to */
    int64_t *attachments;     /* CAPTURE (when stored) and RECORD: the attachment entries (malloc'd) */
    size_t n_attachments;
    int64_t event_id, event_at, event_case; /* EVENT: as bt_event_add sets them */
} bt_box_out;

/* Releases what *out holds (not out itself). */
void bt_box_out_free(bt_box_out *out);

/* Delivers the sealed box at now, as the extension sends it: sealed is
 * standard base64 (len bytes) of crypto_box_seal output. It goes through
 * the capture c (its log and repeat memory). Locked log: kept, kind
 * PENDING. Readable: opened and stored, or nothing when the same box was
 * taken before (kind DUPLICATE). BT_ERR_BAD_PARAMS (*why "sealed")
 * when it is not base64 or too short to be a box; BT_ERR_CORRUPT when it does
 * not open (sealed to another log's key, or damaged); BT_ERR_BAD_PARAMS
 * (with *why) when it opens to something else than above, and the errors
 * of bt_capture_notice, bt_capture_attach and bt_event_add. A box refused
 * (at any point, an attachment too) leaves the log as it was. Release *out
 * with bt_box_out_free. */
bt_err bt_inbox_put(bt_capture *c, const char *sealed, size_t len, int64_t now, bt_box_out *out,
                    const char **why);

/* Opens and stores every box kept while the log was locked, that is every
 * sealed_capture entry without a sealed_done. Needs the log readable (does
 * nothing while it is locked). A box
 * that fails stays pending and is tried again at the next call. Returns how
 * many were stored now; *waiting (may be NULL) how many were found and
 * still wait (they did not open or store: a full disk, a malformed box).
 * ix (may be NULL): the log's index, when it holds
 * the entries up to where the scan starts (its snapshot), reads the headers
 * that follow them for the scan as it catches up, and then those the boxes
 * became, so that nothing the scan read is decrypted again for it. */
int bt_inbox_expand_pending(bt_capture *c, bt_index *ix, int64_t now, int *waiting);

/* bt_inbox_expand_pending, and *cause (may be NULL) the error the first box
 * that still waits failed with: BT_ERR_DISK_FULL when the disk is full,
 * BT_ERR_CORRUPT for a box that does not open, BT_OK when none waits. */
int bt_inbox_expand_pending_why(bt_capture *c, bt_index *ix, int64_t now, int *waiting, bt_err *cause);

/* The same scan in slices, for a host that can answer first and look while
 * idle (a log whose mark is far behind: one made before the mark followed
 * appends, vault.h). bt_inbox_scan_new starts at the mark; each
 * bt_inbox_scan_step reads up to max more headers, only noting the boxes
 * kept and those done (nothing written: a kill loses only the reading),
 * and returns 1 while it read max (more may follow); bt_inbox_scan_finish
 * then scans from where it got to the end and delivers as
 * bt_inbox_expand_pending_why does. Exactly as many boxes are delivered as
 * one scan would: a box is delivered only there, after every entry up to the
 * log's end was read, and what is appended meanwhile (another process's
 * boxes or done marks) comes after where the steps got. The mark moves only
 * at the finish. bt_inbox_unscanned: the entries after the mark (0 when
 * locked). The state holds entry ids only (no header, nothing secret). */
typedef struct bt_inbox_scan bt_inbox_scan;
int64_t bt_inbox_unscanned(bt_capture *c);
bt_inbox_scan *bt_inbox_scan_new(bt_capture *c);
int bt_inbox_scan_step(bt_inbox_scan *s, bt_capture *c, int max);
int bt_inbox_scan_finish(bt_inbox_scan *s, bt_capture *c, bt_index *ix, int64_t now, int *waiting, bt_err *cause);
void bt_inbox_scan_free(bt_inbox_scan *s);

#endif
