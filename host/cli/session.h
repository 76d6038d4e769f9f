/* The CLI's unlocked session (docs/SECURITY.md, "The CLI's session"): after
 * `bantrail unlock`, a background process of the same user keeps the log
 * unlocked for a few idle minutes and answers the CLI's requests over a Unix
 * socket in the data folder, in the host's frames (docs/PROTOCOL.md), so
 * that each command does not ask for the passphrase again. Private to the
 * CLI. */
#ifndef BT_CLI_SESSION_H
#define BT_CLI_SESSION_H

#include <stddef.h>
#include <stdint.h>

#include "bantrail/error.h"

#define BT_SESSION_SOCKET "session.sock" /* in the data folder (mode 0700), the socket 0600 */
#define BT_SESSION_MINUTES_MAX 1440

/* A connection to the session of the log in dir, or -1 when none runs (a
 * socket left by one that died is removed). */
int bt_session_connect(const char *dir);

/* Sends one request frame on fd and returns the reply frame's body
 * (malloc'd, NUL-terminated, *len bytes), or NULL when the session went away. */
char *bt_session_call(int fd, const char *frame, size_t len, size_t *out_len);

/* Starts the session for the log in dir: a child process opens the log,
 * unlocks it with pass (pass_len bytes; wiped by the caller) for minutes of
 * idle time, listens on dir/BT_SESSION_SOCKET and answers requests from this
 * user's processes only, until it locks (idle, or a `lock` request).
 * Returns BT_OK once the session answers, BT_ERR_NOT_FOUND when the log
 * has no passphrase (nothing to keep unlocked), or the unlock's error
 * (BT_ERR_WRONG_PASSPHRASE, ...). The child wipes its copy of pass. On
 * BT_OK, *waiting is the number of sealed captures kept while locked that
 * the unlock could not store (unlock's "waiting") and *waiting_err why
 * ("waiting_error", BT_OK when it gave none). */
bt_err bt_session_start(const char *dir, const char *pass, size_t pass_len, int minutes, int64_t *waiting,
                        bt_err *waiting_err);

#endif
