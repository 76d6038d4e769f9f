/* The log's vocabulary: the "type" of each entry's JSON header, written once
 * for every part that writes or reads the log (docs/PROTOCOL.md says what
 * each holds). The stored names never change: old logs must stay readable. */
#ifndef BANTRAIL_RECORDS_H
#define BANTRAIL_RECORDS_H

#define BT_REC_NOTICE "notice"                 /* a captured notice (text, classification, fingerprint) */
#define BT_REC_OCCURRENCE "occurrence"         /* the same notice seen again within 24 h: "of" the notice */
#define BT_REC_ATTACHMENT "attachment"         /* a screenshot or file, its bytes the body: "of" a record */
#define BT_REC_SEALED_CAPTURE "sealed_capture" /* a capture sealed by the extension, kept unopened while locked */
#define BT_REC_SEALED_DONE "sealed_done"       /* a sealed capture opened and stored: "of" it */
#define BT_REC_EVENT "event"                   /* something in a case Bantrail could not see, or an appeal sent */
#define BT_REC_CASE_MERGE "case_merge"         /* the person joined two cases */
#define BT_REC_CASE_SPLIT "case_split"         /* the person split a case at a record */
#define BT_REC_UNION "union"                   /* a union pinned for reports */
#define BT_REC_REPORT "report"                 /* a sealed report queued for a union: the outbox */
#define BT_REC_REPORT_STATE "report_state"     /* what became of a queued report: "of" it */

#endif
