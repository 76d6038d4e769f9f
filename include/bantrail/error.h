/* Error codes of the core library. Each maps one-to-one to a stable wire code
 * (docs/PROTOCOL.md); codes are never renumbered or reused. */
#ifndef BANTRAIL_ERROR_H
#define BANTRAIL_ERROR_H

typedef enum {
    BT_OK = 0,
    BT_ERR_BAD_FRAME,          /* empty or unframeable message */
    BT_ERR_FRAME_TOO_LARGE,    /* length prefix above the inbound cap */
    BT_ERR_BAD_JSON,           /* not UTF-8 JSON, or trailing bytes */
    BT_ERR_BAD_REQUEST,        /* not an object, or no usable id/method */
    BT_ERR_UNKNOWN_METHOD,
    BT_ERR_BAD_PARAMS,         /* a param is missing, mistyped or out of range */
    BT_ERR_CALLER_NOT_ALLOWED, /* the browser extension is not the installed one */
    BT_ERR_LOCKED,             /* needs the log's secret key: unlock first */
    BT_ERR_WRONG_PASSPHRASE,   /* or wrong recovery code */
    BT_ERR_PASSPHRASE_REQUIRED,/* the current passphrase must be given */
    BT_ERR_WEAK_PASSPHRASE,    /* shorter than BT_PASSPHRASE_MIN bytes */
    BT_ERR_NOT_FOUND,
    BT_ERR_RESULT_TOO_LARGE,   /* would exceed the 1 MiB outbound frame */
    BT_ERR_STORAGE,            /* SQLite or file system failure */
    BT_ERR_BUSY,               /* the log stayed locked by another writer */
    BT_ERR_CORRUPT,            /* authentication failed: data altered or damaged */
    BT_ERR_NO_MEMORY,
    BT_ERR_INTERNAL,
    BT_ERR_BAD_ENVELOPE,       /* a sealed report that is not base64, or of a wrong size, version or padding */
    BT_ERR_WRONG_KEY,          /* a sealed report for another key (key id differs) */
    BT_ERR_BAD_POW,            /* a sealed report without enough proof of work */
    BT_ERR_BAD_REPORT,         /* a report that breaks the schema (docs/REPORT.md) */
    BT_ERR_REPLAYED,           /* this exact sealed report was received before */
    BT_ERR_NOT_OWNER,          /* an update or withdrawal not signed by the report's own key */
    BT_ERR_BAD_TOKEN,          /* a membership token (or its issuance proof) that does not hold */
    BT_ERR_TOKEN_SPENT,        /* a membership token spent before */
    BT_ERR_TOKEN_REQUIRED,     /* the union counts only reports with a membership token */
    BT_ERR_BAD_INVITE,         /* an invite code the union does not know, or used up */
    BT_ERR_DAMAGED,            /* the log's chain is broken: nothing more is written to it until recovered */
    BT_ERR_DISK_FULL,          /* the disk (or the file size allowed) is full: nothing was written */
    BT_ERR_COUNT_
} bt_err;

/* The stable snake_case wire code of err ("ok" for BT_OK). Never NULL. */
const char *bt_err_code(bt_err err);

/* A short English explanation for people. Never NULL. */
const char *bt_err_message(bt_err err);

/* The error a failed file system call's errno e stands for: BT_ERR_DISK_FULL
 * for a full disk (ENOSPC), a file past the size allowed (EFBIG) or a used
 * up quota (EDQUOT), BT_ERR_NO_MEMORY for ENOMEM, else BT_ERR_STORAGE. */
bt_err bt_err_from_errno(int e);

/* The error whose wire code is code (BT_ERR_INTERNAL for an unknown one). */
bt_err bt_err_from_code(const char *code);

#endif
