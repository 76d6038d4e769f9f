/* bantrail-host: the native messaging host (docs/PROTOCOL.md).
 * stdout carries frames only; diagnostics go to host.log in the data folder
 * and to stderr, and never hold a passphrase, a key or a notice. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sodium.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "bantrail/caller.h"
#include "bantrail/classify.h"
#include "bantrail/frame.h"
#include "bantrail/paths.h"
#include "bantrail/rpc.h"

#define LOG_ROTATE_BYTES (1024 * 1024)
#define WARM_AFTER_MS 50 /* a pause this long after start: time to parse the rules */

static FILE *logf_;

static void open_log(const char *dir)
{
    size_t n = strlen(dir) + sizeof "/host.log.1";
    char *path = malloc(n), *old = malloc(n);
    struct stat sb;
    if (path == NULL || old == NULL) goto done;
    snprintf(path, n, "%s/host.log", dir);
    snprintf(old, n, "%s/host.log.1", dir);
    if (lstat(path, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > LOG_ROTATE_BYTES) rename(path, old);
    int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0600);
    if (fd >= 0) logf_ = fdopen(fd, "a");
done:
    free(path);
    free(old);
}

__attribute__((format(printf, 1, 2))) static void say(const char *fmt, ...)
{
    char line[512], stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(stderr, "bantrail-host[%ld]: %s\n", (long)getpid(), line);
    if (logf_ != NULL) {
        fprintf(logf_, "%s [%ld] %s\n", stamp, (long)getpid(), line);
        fflush(logf_);
    }
}

static void usage(void)
{
    printf("Usage: bantrail-host [chrome-extension://ID/ | MANIFEST ADDON-ID]\n"
           "The native messaging host of Bantrail. Browsers start it; it speaks\n"
           "length-prefixed JSON frames on stdin and stdout (docs/PROTOCOL.md).\n"
           "The log lives in $BANTRAIL_HOME, or ~/.local/share/bantrail.\n");
}

#define GROUP_MAX 64 /* captures made durable together, at most */

/* Whether another frame is already waiting on stdin. */
static int input_waiting(void)
{
    struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
    return poll(&pfd, 1, 0) > 0 && (pfd.revents & (POLLIN | POLLHUP)) != 0;
}

/* Answers one frame (wiped and freed here) and writes the reply: 0 to go
 * on, else the exit status. */
static int answer(bt_rpc *rpc, char *frame, size_t len, bt_err ferr)
{
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    size_t out_len = 0;
    const char *method = NULL;
    bt_err err;
    char *out = bt_rpc_handle(rpc, frame, len, ferr, &out_len, &method, &err);
    free(frame);
    if (out == NULL) {
        say("out of memory answering %s", method ? method : "-");
        return 2;
    }
    bt_err werr = bt_frame_write(STDOUT_FILENO, out, out_len);
    free(out);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
    if (err != BT_OK) say("%s -> %s (%ld us)", method, bt_err_code(err), us);
    if (werr != BT_OK) {
        say("stdout closed; stopping");
        return 1;
    }
    return 0;
}

typedef struct {
    char *frame; /* kept whole (bt_rpc_handle wipes what it is given) to answer it alone again */
    size_t len;
    char *out;
    size_t out_len;
} member;

/* Group commit: the captures in g (n of them, arrived together) answered in
 * one transaction, their replies written once it is durable; when anything
 * in it fails, nothing of it was stored and each is answered alone. Frees
 * and wipes every frame. 0 to go on, else the exit status. */
static int answer_group(bt_rpc *rpc, member *g, size_t n)
{
    int status = 0, began = n > 1 && bt_rpc_group_begin(rpc) == BT_OK, ok = began;
    for (size_t i = 0; ok && i < n; i++) {
        bt_err err;
        char *copy = malloc(g[i].len + 1);
        if (copy == NULL) {
            ok = 0;
            break;
        }
        memcpy(copy, g[i].frame, g[i].len + 1);
        g[i].out = bt_rpc_handle(rpc, copy, g[i].len, BT_OK, &g[i].out_len, NULL, &err); /* wipes the copy */
        free(copy);
        if (g[i].out == NULL || err != BT_OK) ok = 0; /* refused or failed: each alone, as if no group */
    }
    if (began && bt_rpc_group_end(rpc, ok) != BT_OK) ok = 0;
    if (began && !ok) say("%zu captures arrived together and were not stored together; each is answered alone", n);
    for (size_t i = 0; i < n; i++) {
        if (status == 0 && ok && bt_frame_write(STDOUT_FILENO, g[i].out, g[i].out_len) != BT_OK) {
            say("stdout closed; stopping");
            status = 1;
        } else if (status == 0 && !ok) {
            status = answer(rpc, g[i].frame, g[i].len, BT_OK);
            g[i].frame = NULL;
        }
        if (g[i].frame != NULL) sodium_memzero(g[i].frame, g[i].len);
        free(g[i].frame);
        free(g[i].out);
    }
    return status;
}

int main(int argc, char **argv)
{
    char *dir = NULL;
    bt_rpc *rpc;
    int status = 0, rules_ready = 0, idle_more = 1; /* idle_more: bt_rpc_idle_work has more to do */
    static member group[GROUP_MAX];
    member next = {NULL, 0, NULL, 0}; /* a frame read after a group, to answer next (when have_next) */
    int have_next = 0;
    bt_err next_ferr = BT_OK;
    bt_frame_status next_fs = BT_FRAME_READ; /* the end or a break met after a group */

    if (argc == 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)) {
        usage();
        return 0;
    }
    umask(077);
    signal(SIGPIPE, SIG_IGN);
    if (bt_paths_data_dir(&dir) != BT_OK) {
        fprintf(stderr, "bantrail-host: no data folder: set BANTRAIL_HOME or HOME\n");
        return 2;
    }
    int allowed = bt_caller_allowed(argc, argv);
    rpc = bt_rpc_new(dir, allowed);
    if (rpc == NULL) {
        fprintf(stderr, "bantrail-host: out of memory\n");
        return 2;
    }
    bt_rpc_look_while_idle(rpc, 1); /* idle slices below */
    open_log(dir);
    if (!allowed) { /* its name, as printable ASCII: it is the caller's to choose */
        char name[201];
        const char *arg = argc > 2 ? argv[2] : argc > 1 ? argv[1] : "";
        size_t n = 0;
        for (; arg[n] != '\0' && n < sizeof name - 1; n++) name[n] = arg[n] >= 0x20 && arg[n] < 0x7f ? arg[n] : '?';
        name[n] = '\0';
        say("caller not allowed: %s", name);
    }

    for (;;) {
        /* Wait for a frame, or for the time to lock when unlocked; the first
         * pause also parses the classifier's rules (a few ms), so that the
         * first capture does not. */
        int left = bt_rpc_idle_left(rpc, time(NULL));
        int wait_ms = left < 0 ? -1 : (left > 3600 ? 3600 : left) * 1000;
        if (!rules_ready && allowed && (wait_ms < 0 || wait_ms > WARM_AFTER_MS)) wait_ms = WARM_AFTER_MS;
        if (rules_ready && idle_more) wait_ms = 0; /* work waits: a slice of it unless a frame does */
        if (wait_ms >= 0 && !have_next && next_fs == BT_FRAME_READ) { /* nothing read waits */
            struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
            int pr = poll(&pfd, 1, wait_ms);
            if (pr < 0 && errno == EINTR) continue;
            if (pr == 0) {
                if (!rules_ready) {
                    const bt_classify_rules *rules;
                    (void)bt_classify_rules_builtin(&rules);
                    rules_ready = 1;
                } else if (idle_more) {
                    idle_more = bt_rpc_idle_work(rpc);
                }
                if (bt_rpc_tick(rpc, time(NULL))) say("auto-lock after idle time");
                continue;
            }
        }
        char *frame = NULL;
        size_t len = 0;
        bt_err ferr;
        bt_frame_status fs = have_next || next_fs != BT_FRAME_READ
                                 ? next_fs
                                 : bt_frame_read(STDIN_FILENO, BT_FRAME_IN_MAX, &frame, &len, &ferr);
        if (have_next) { /* read while gathering a group, which it did not belong to */
            frame = next.frame;
            len = next.len;
            ferr = next_ferr;
            next.frame = NULL;
            have_next = 0;
        }
        next_fs = BT_FRAME_READ;
        if (fs == BT_FRAME_EOF) break;
        idle_more = 1; /* an unlock, or entries written: the index may have more to read */
        if (fs == BT_FRAME_BROKEN) {
            say("input stream truncated or unreadable; stopping");
            status = 1;
            break;
        }
        if (ferr != BT_OK || !input_waiting() || !bt_rpc_groupable(rpc, frame, len)) {
            if ((status = answer(rpc, frame, len, ferr)) != 0) break;
            continue;
        }
        /* captures arriving together: gather those already waiting */
        size_t n = 1;
        group[0] = (member){frame, len, NULL, 0};
        while (n < GROUP_MAX && input_waiting()) {
            char *f = NULL;
            size_t fl = 0;
            bt_err fe;
            bt_frame_status s = bt_frame_read(STDIN_FILENO, BT_FRAME_IN_MAX, &f, &fl, &fe);
            if (s != BT_FRAME_READ) { /* the end, or a broken stream: after the group */
                next_fs = s;
                break;
            }
            if (fe != BT_OK || !bt_rpc_groupable(rpc, f, fl)) { /* answered after the group */
                next = (member){f, fl, NULL, 0};
                next_ferr = fe;
                have_next = 1;
                break;
            }
            group[n++] = (member){f, fl, NULL, 0};
        }
        if ((status = answer_group(rpc, group, n)) != 0) break;
    }
    if (next.frame != NULL) {
        sodium_memzero(next.frame, next.len);
        free(next.frame);
    }
    bt_rpc_free(rpc);
    free(dir);
    if (logf_ != NULL) fclose(logf_);
    return status;
}
