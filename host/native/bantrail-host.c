/* bantrail-host: the native messaging host (docs/PROTOCOL.md).
 * stdout carries frames only; diagnostics go to host.log in the data folder
 * and to stderr, and never hold a passphrase, a key or a notice. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
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

int main(int argc, char **argv)
{
    char *dir = NULL;
    bt_rpc *rpc;
    int status = 0, rules_ready = 0;

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
        if (wait_ms >= 0) {
            struct pollfd pfd = {STDIN_FILENO, POLLIN, 0};
            int pr = poll(&pfd, 1, wait_ms);
            if (pr < 0 && errno == EINTR) continue;
            if (pr == 0) {
                if (!rules_ready) {
                    const bt_classify_rules *rules;
                    (void)bt_classify_rules_builtin(&rules);
                    rules_ready = 1;
                }
                if (bt_rpc_tick(rpc, time(NULL))) say("auto-lock after idle time");
                continue;
            }
        }
        char *frame = NULL;
        size_t len = 0;
        bt_err ferr;
        bt_frame_status fs = bt_frame_read(STDIN_FILENO, BT_FRAME_IN_MAX, &frame, &len, &ferr);
        if (fs == BT_FRAME_EOF) break;
        if (fs == BT_FRAME_BROKEN) {
            say("input stream truncated or unreadable; stopping");
            status = 1;
            break;
        }
        struct timespec t0, t1;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        size_t out_len = 0;
        const char *method = NULL;
        bt_err err;
        char *out = bt_rpc_handle(rpc, frame, len, ferr, &out_len, &method, &err);
        free(frame);
        if (out == NULL) {
            say("out of memory answering %s", method ? method : "-");
            status = 2;
            break;
        }
        bt_err werr = bt_frame_write(STDOUT_FILENO, out, out_len);
        free(out);
        clock_gettime(CLOCK_MONOTONIC, &t1);
        long us = (t1.tv_sec - t0.tv_sec) * 1000000L + (t1.tv_nsec - t0.tv_nsec) / 1000;
        if (err != BT_OK) say("%s -> %s (%ld us)", method, bt_err_code(err), us);
        if (werr != BT_OK) {
            say("stdout closed; stopping");
            status = 1;
            break;
        }
    }
    bt_rpc_free(rpc);
    free(dir);
    if (logf_ != NULL) fclose(logf_);
    return status;
}
