/* Request dispatch for the native messaging host (docs/PROTOCOL.md). Kept
 * apart from the program's main so that tests and the fuzzer drive it. */
#ifndef BANTRAIL_RPC_H
#define BANTRAIL_RPC_H

#include <stddef.h>
#include <time.h>
#include "bantrail/error.h"

#define BT_PROTOCOL_VERSION 1
#define BT_AUTO_LOCK_DEFAULT 15 /* minutes */

typedef struct bt_rpc bt_rpc;

/* Creates a dispatcher for the log in data_dir. The vault is opened here; if
 * that fails the dispatcher still answers (hello reports the error, other
 * methods answer "storage"). caller_allowed = 0 leaves the log unopened (not
 * even created) and makes every request but hello answer caller_not_allowed.
 * Returns NULL only when out of memory. */
bt_rpc *bt_rpc_new(const char *data_dir, int caller_allowed);

/* Locks, closes and frees. Accepts NULL. */
void bt_rpc_free(bt_rpc *r);

/* Answers one inbound frame. frame_err is the reader's verdict (BT_OK when
 * frame holds len bytes of JSON). The frame buffer is wiped before return,
 * since it may hold a passphrase. Returns the reply JSON (malloc'd, the
 * caller frees) and sets *reply_len; NULL only when out of memory. *method
 * (may be NULL) receives a static name of the method for the log, and *err
 * the error answered (BT_OK on success). */
char *bt_rpc_handle(bt_rpc *r, char *frame, size_t len, bt_err frame_err,
                    size_t *reply_len, const char **method, bt_err *err);

/* Group commit: captures that arrive together are made durable together.
 * bt_rpc_groupable says whether frame (len bytes, not changed) is a request
 * that may share the transaction of others: a capture, from an allowed
 * caller, with the log open. Between bt_rpc_group_begin and
 * bt_rpc_group_end only such frames may be answered (bt_rpc_handle); their
 * replies must be held back until bt_rpc_group_end(r, 1) returned BT_OK:
 * only then are they durable. When it fails, or with commit 0, nothing of
 * the group is stored (and the memory of what was captured lately is
 * forgotten): answer each frame again, alone. */
int bt_rpc_groupable(bt_rpc *r, const char *frame, size_t len);
bt_err bt_rpc_group_begin(bt_rpc *r);
bt_err bt_rpc_group_end(bt_rpc *r, int commit);

/* Work done while no request waits: bringing the log's index (index.h) up
 * to date once the log is readable (after an unlock, or entries written by
 * another process), BT_RPC_IDLE_SLICE entries per call, so that the first
 * question after an unlock finds it built and no request waits long behind
 * it (the first slice after an unlock takes the index's snapshot, when
 * there is one; a lock, the auto-lock and bt_rpc_free write it again when
 * the index holds entries it lacks), and, once it is up to date, saving
 * its snapshot when it holds BT_RPC_SAVE_AFTER entries or more that the
 * snapshot lacks (appended to it: the cost of those entries, so that a
 * host killed while unlocked leaves a snapshot short of fewer than that),
 * BT_RPC_SAVE_SLICE entries per call. Returns 1 while more remains, 0 when
 * nothing does (built and saved, a save failed, or locked). */
#define BT_RPC_IDLE_SLICE 500
#define BT_RPC_SAVE_AFTER 100
#define BT_RPC_SAVE_SLICE 5000
int bt_rpc_idle_work(bt_rpc *r);

/* Says that this process calls bt_rpc_idle_work while nothing waits (the
 * host, the CLI's session): an unlock that finds more than
 * BT_RPC_SCAN_AT_ONCE entries after the sealed-capture scan's mark (a log
 * made before the mark followed appends, vault.h) then answers at once with
 * "looking": true and leaves the scan to idle work, BT_RPC_IDLE_SLICE
 * headers a slice, before the index's (bt_inbox_scan_step); the boxes it
 * finds are delivered at its end, and hello says "sealed_looking" until
 * then. A lock drops it; the next unlock starts again from the mark. */
#define BT_RPC_SCAN_AT_ONCE 2000
void bt_rpc_look_while_idle(bt_rpc *r, int yes);

/* Seconds until the auto-lock is due (-1 when nothing is unlocked). */
int bt_rpc_idle_left(bt_rpc *r, time_t now);

/* Locks the log if the auto-lock is due. Returns 1 when it locked. */
int bt_rpc_tick(bt_rpc *r, time_t now);

#endif
