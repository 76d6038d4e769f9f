/* The CLI's unlocked session: see session.h. */
#define _GNU_SOURCE /* struct ucred, SO_PEERCRED */
#include "session.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bantrail/frame.h"
#include "bantrail/rpc.h"

/* The session's socket: its full path in path (PATH_MAX), and in *a the
 * address bind and connect take. An address holds 108 bytes; for a longer
 * path *a names the socket relative to dir, which the caller enters for
 * bind or connect (socket_enter) and leaves at once (socket_leave). 0, or
 * -1 if the path is too long even for PATH_MAX. */
static int socket_address(const char *dir, char *path, struct sockaddr_un *a)
{
    memset(a, 0, sizeof *a);
    a->sun_family = AF_UNIX;
    int n = snprintf(path, PATH_MAX, "%s/%s", dir, BT_SESSION_SOCKET);
    if (n <= 0 || n >= PATH_MAX) return -1;
    snprintf(a->sun_path, sizeof a->sun_path, "%s", (size_t)n < sizeof a->sun_path ? path : BT_SESSION_SOCKET);
    return 0;
}

/* Enters dir when the address is relative to it: the folder to come back
 * to, -1 when there is none to (the address is the full path), -2 on error. */
static int socket_enter(const char *dir, const struct sockaddr_un *a)
{
    if (a->sun_path[0] == '/') return -1;
    int back = open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (back < 0) return -2;
    if (chdir(dir) != 0) {
        close(back);
        return -2;
    }
    return back;
}

static void socket_leave(int back)
{
    if (back < 0) return;
    if (fchdir(back) != 0) { /* nowhere else to go: the caller keeps working with full paths */ }
    close(back);
}

int bt_session_connect(const char *dir)
{
    struct sockaddr_un a;
    struct stat st;
    char path[PATH_MAX];
    if (socket_address(dir, path, &a) != 0 || lstat(path, &st) != 0) return -1;
    if (!S_ISSOCK(st.st_mode) || st.st_uid != getuid()) return -1; /* not ours: never talked to */
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0), back = socket_enter(dir, &a);
    int ok = fd >= 0 && back != -2 && connect(fd, (struct sockaddr *)&a, sizeof a) == 0, why = errno;
    socket_leave(back);
    if (!ok) {
        if (fd >= 0 && back != -2 && why == ECONNREFUSED) unlink(path); /* left by a session that died */
        if (fd >= 0) close(fd);
        return -1;
    }
    return fd;
}

char *bt_session_call(int fd, const char *frame, size_t len, size_t *out_len)
{
    char *out = NULL;
    bt_err err;
    if (bt_frame_write(fd, frame, len) != BT_OK) return NULL;
    if (bt_frame_read(fd, BT_FRAME_IN_MAX, &out, out_len, &err) != BT_FRAME_READ || err != BT_OK) {
        free(out);
        return NULL;
    }
    return out;
}

/* Whether the peer on fd runs as this user. */
static int same_user(int fd)
{
    struct ucred cred;
    socklen_t n = sizeof cred;
    return getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &n) == 0 && cred.uid == getuid();
}

/* One connection: requests answered until it closes. 1 when a `lock` was
 * asked (the session ends; its socket, path, is removed before the answer),
 * else 0. */
static int serve_one(bt_rpc *rpc, int fd, const char *path)
{
    int lock = 0;
    for (;;) {
        char *frame = NULL, *out;
        size_t len = 0, out_len = 0;
        const char *method = NULL;
        bt_err ferr, err;
        if (bt_frame_read(fd, BT_FRAME_IN_MAX, &frame, &len, &ferr) != BT_FRAME_READ) break;
        out = bt_rpc_handle(rpc, frame, len, ferr, &out_len, &method, &err);
        if (frame != NULL) {
            sodium_memzero(frame, len); /* may hold a passphrase */
            free(frame);
        }
        if (method != NULL && strcmp(method, "lock") == 0) {
            lock = 1;
            unlink(path); /* gone before "Locked." is said: a next unlock never finds it, nor loses its own */
        }
        bt_err werr = out != NULL ? bt_frame_write(fd, out, out_len) : BT_ERR_NO_MEMORY;
        if (out != NULL) {
            sodium_memzero(out, out_len);
            free(out);
        }
        if (werr != BT_OK || lock) break;
    }
    close(fd);
    return lock;
}

/* The child: listens and answers until the log locks. */
static void serve(bt_rpc *rpc, int listener, const char *path)
{
    int idle_more = 1; /* the index to bring up to date while nothing waits (bt_rpc_idle_work) */
    for (;;) {
        int left = bt_rpc_idle_left(rpc, time(NULL));
        if (left <= 0) break; /* idle long enough, or locked */
        struct pollfd p = {listener, POLLIN, 0};
        int r = poll(&p, 1, idle_more ? 0 : (left > 60 ? 60 : left) * 1000);
        if (r < 0 && errno != EINTR) break;
        if (r == 0 && idle_more) idle_more = bt_rpc_idle_work(rpc);
        if (r <= 0) continue;
        idle_more = 1;
        int fd = accept4(listener, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) continue;
        if (!same_user(fd)) { /* another user: nothing, not even an answer */
            close(fd);
            continue;
        }
        if (serve_one(rpc, fd, path)) {
            close(listener);
            return;
        }
    }
    unlink(path);
    close(listener);
}

/* Unlocks rpc with pass for minutes; the host's error code on failure. On
 * success *waiting and *waiting_err are the reply's "waiting" and
 * "waiting_error" (sealed captures that still wait, and why). */
static bt_err unlock(bt_rpc *rpc, const char *pass, size_t pass_len, int minutes, int64_t *waiting,
                     bt_err *waiting_err)
{
    json_object *req = json_object_new_object(), *p = json_object_new_object();
    json_object_object_add(req, "id", json_object_new_int(1));
    json_object_object_add(req, "method", json_object_new_string("unlock"));
    json_object_object_add(p, "passphrase", json_object_new_string_len(pass, (int)pass_len));
    json_object_object_add(p, "auto_lock_minutes", json_object_new_int(minutes));
    json_object_object_add(req, "params", p);
    size_t len = 0, out_len = 0;
    const char *s = json_object_to_json_string_length(req, JSON_C_TO_STRING_PLAIN, &len);
    char *frame = strndup(s, len), *out = NULL;
    bt_err err = BT_ERR_NO_MEMORY;
    sodium_memzero((char *)s, len);
    sodium_memzero((char *)json_object_get_string(json_object_object_get(p, "passphrase")), pass_len);
    json_object_put(req);
    if (frame != NULL) out = bt_rpc_handle(rpc, frame, len, BT_OK, &out_len, NULL, &err);
    if (frame != NULL) {
        sodium_memzero(frame, len);
        free(frame);
    }
    json_object *rep = out != NULL && err == BT_OK ? json_tokener_parse(out) : NULL, *res = NULL, *w = NULL;
    if (json_object_object_get_ex(rep, "result", &res) && json_object_object_get_ex(res, "waiting", &w))
        *waiting = json_object_get_int64(w);
    if (json_object_object_get_ex(res, "waiting_error", &w) && json_object_is_type(w, json_type_string))
        *waiting_err = bt_err_from_code(json_object_get_string(w));
    json_object_put(rep);
    free(out);
    return err;
}

bt_err bt_session_start(const char *dir, const char *pass, size_t pass_len, int minutes, int64_t *waiting,
                        bt_err *waiting_err)
{
    int ready[2];
    struct sockaddr_un a;
    char path[PATH_MAX];
    if (socket_address(dir, path, &a) != 0 || pipe2(ready, O_CLOEXEC) != 0) return BT_ERR_STORAGE;
    pid_t pid = fork();
    if (pid < 0) {
        close(ready[0]);
        close(ready[1]);
        return BT_ERR_STORAGE;
    }
    if (pid == 0) { /* the session: its own process group, no terminal, its own log handle */
        close(ready[0]);
        setsid();
        pid_t session = fork(); /* the session is a grandchild, so that nobody waits for it */
        if (session != 0) _exit(session < 0 ? 1 : 0);
        signal(SIGPIPE, SIG_IGN);
        int null = open("/dev/null", O_RDWR);
        if (null >= 0) {
            dup2(null, STDIN_FILENO);
            dup2(null, STDOUT_FILENO);
            dup2(null, STDERR_FILENO);
            if (null > STDERR_FILENO) close(null);
        }
        for (int fd = STDERR_FILENO + 1; fd < 1024; fd++) /* nothing of the command's: a passphrase stream... */
            if (fd != ready[1]) close(fd);
        bt_rpc *rpc = bt_rpc_new(dir, 1);
        if (rpc != NULL) bt_rpc_look_while_idle(rpc, 1); /* serve's idle slices */
        int64_t wait_n = 0;
        bt_err wait_err = BT_OK;
        bt_err err = rpc == NULL ? BT_ERR_NO_MEMORY : unlock(rpc, pass, pass_len, minutes, &wait_n, &wait_err);
        sodium_memzero((char *)pass, pass_len); /* this process's copy */
        if (err == BT_OK && bt_rpc_idle_left(rpc, time(NULL)) < 0) err = BT_ERR_NOT_FOUND; /* no passphrase yet */
        int listener = -1;
        if (err == BT_OK) {
            listener = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
            unlink(path);
            mode_t old = umask(0177); /* the socket: this user only */
            int back = socket_enter(dir, &a);
            if (listener < 0 || back == -2 || bind(listener, (struct sockaddr *)&a, sizeof a) != 0 ||
                listen(listener, 8) != 0)
                err = BT_ERR_STORAGE;
            socket_leave(back);
            umask(old);
        }
        /* the unlock's answer, and what still waits (its count, u64 native, and why) for the command to say */
        unsigned char said[10];
        uint64_t w = wait_n > 0 ? (uint64_t)wait_n : 0;
        said[0] = (unsigned char)err;
        memcpy(said + 1, &w, 8);
        said[9] = (unsigned char)wait_err;
        if (write(ready[1], said, sizeof said) != (ssize_t)sizeof said) err = BT_ERR_INTERNAL;
        close(ready[1]);
        if (err == BT_OK) serve(rpc, listener, path);
        bt_rpc_free(rpc);
        _exit(err == BT_OK ? 0 : 1);
    }
    close(ready[1]);
    unsigned char said[10] = {(unsigned char)BT_ERR_INTERNAL};
    size_t got = 0;
    while (got < sizeof said) {
        ssize_t n = read(ready[0], said + got, sizeof said - got);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) break;
        got += (size_t)n;
    }
    close(ready[0]);
    waitpid(pid, NULL, 0); /* the child that started the session has gone */
    uint64_t w = 0;
    memcpy(&w, said + 1, 8);
    *waiting = got == sizeof said && w <= INT64_MAX ? (int64_t)w : 0;
    *waiting_err = got == sizeof said ? (bt_err)said[9] : BT_OK;
    return got == sizeof said ? (bt_err)said[0] : BT_ERR_INTERNAL;
}
