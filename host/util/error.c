#include "bantrail/error.h"

#include <errno.h>
#include <string.h>

static const struct {
    const char *code;
    const char *message;
} table[BT_ERR_COUNT_] = {
    [BT_OK] = {"ok", "success"},
    [BT_ERR_BAD_FRAME] = {"bad_frame", "the message frame is empty or malformed"},
    [BT_ERR_FRAME_TOO_LARGE] = {"frame_too_large", "the message is larger than the host accepts"},
    [BT_ERR_BAD_JSON] = {"bad_json", "the message is not valid UTF-8 JSON"},
    [BT_ERR_BAD_REQUEST] = {"bad_request", "the request is not an object with an id and a method"},
    [BT_ERR_UNKNOWN_METHOD] = {"unknown_method", "no such method"},
    [BT_ERR_BAD_PARAMS] = {"bad_params", "a parameter is missing, of the wrong type or out of range"},
    [BT_ERR_CALLER_NOT_ALLOWED] = {"caller_not_allowed", "this extension is not allowed to use the host"},
    [BT_ERR_LOCKED] = {"locked", "the log is locked"},
    [BT_ERR_WRONG_PASSPHRASE] = {"wrong_passphrase", "wrong passphrase or recovery code"},
    [BT_ERR_PASSPHRASE_REQUIRED] = {"passphrase_required", "the current passphrase is required"},
    [BT_ERR_WEAK_PASSPHRASE] = {"weak_passphrase", "the passphrase is too short"},
    [BT_ERR_NOT_FOUND] = {"not_found", "no such record"},
    [BT_ERR_RESULT_TOO_LARGE] = {"result_too_large", "the answer would not fit in one message"},
    [BT_ERR_STORAGE] = {"storage", "the log could not be read or written"},
    [BT_ERR_BUSY] = {"busy", "the log is busy; try again"},
    [BT_ERR_CORRUPT] = {"corrupt", "data failed authentication: altered or damaged"},
    [BT_ERR_NO_MEMORY] = {"no_memory", "out of memory"},
    [BT_ERR_INTERNAL] = {"internal", "internal error"},
    [BT_ERR_BAD_ENVELOPE] = {"bad_envelope", "the sealed report is not base64, or has a wrong size, version or padding"},
    [BT_ERR_WRONG_KEY] = {"wrong_key", "the report is sealed to another key"},
    [BT_ERR_BAD_POW] = {"insufficient_work", "the report lacks the required proof of work"},
    [BT_ERR_BAD_REPORT] = {"bad_report", "the report does not follow the report schema"},
    [BT_ERR_REPLAYED] = {"replayed", "this sealed report was received before"},
    [BT_ERR_NOT_OWNER] = {"not_owner", "only the report's sender can update or withdraw it"},
    [BT_ERR_BAD_TOKEN] = {"bad_token", "the membership token is not valid for this union"},
    [BT_ERR_TOKEN_SPENT] = {"token_spent", "this membership token was spent before"},
    [BT_ERR_TOKEN_REQUIRED] = {"token_required", "this union accepts only reports with a membership token"},
    [BT_ERR_BAD_INVITE] = {"bad_invite", "the invite code is unknown or used up"},
    [BT_ERR_DAMAGED] = {"damaged", "the log is damaged, so nothing more is written to it; 'bantrail recover' copies "
                                   "what is intact into a new log and keeps the damaged file beside it"},
    [BT_ERR_DISK_FULL] = {"disk_full", "the disk is full: free some space; nothing already stored was lost"},
};

const char *bt_err_code(bt_err err)
{
    if ((unsigned)err >= BT_ERR_COUNT_) return "internal";
    return table[err].code;
}

const char *bt_err_message(bt_err err)
{
    if ((unsigned)err >= BT_ERR_COUNT_) return "internal error";
    return table[err].message;
}

bt_err bt_err_from_errno(int e)
{
    if (e == ENOSPC || e == EFBIG || e == EDQUOT) return BT_ERR_DISK_FULL;
    return e == ENOMEM ? BT_ERR_NO_MEMORY : BT_ERR_STORAGE;
}

bt_err bt_err_from_code(const char *code)
{
    for (int e = 0; code != NULL && e < BT_ERR_COUNT_; e++)
        if (strcmp(table[e].code, code) == 0) return (bt_err)e;
    return BT_ERR_INTERNAL;
}
