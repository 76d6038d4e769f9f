#include "bantrail/frame.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>
#include <unistd.h>

/* Reads exactly n bytes. Returns n, 0 on EOF before the first byte, or -1 on
 * EOF part-way or a read error. */
static ssize_t read_full(int fd, void *buf, size_t n)
{
    size_t got = 0;
    while (got < n) {
        ssize_t r = read(fd, (char *)buf + got, n - got);
        if (r < 0 && errno == EINTR) continue;
        if (r < 0) return -1;
        if (r == 0) return got == 0 ? 0 : -1;
        got += (size_t)r;
    }
    return (ssize_t)n;
}

static int discard(int fd, size_t n)
{
    char sink[65536];
    while (n > 0) {
        size_t chunk = n < sizeof sink ? n : sizeof sink;
        if (read_full(fd, sink, chunk) != (ssize_t)chunk) return -1;
        n -= chunk;
    }
    return 0;
}

bt_frame_status bt_frame_read(int fd, size_t cap, char **out, size_t *len, bt_err *err)
{
    uint32_t n;
    ssize_t r;

    *out = NULL;
    *len = 0;
    *err = BT_OK;
    r = read_full(fd, &n, sizeof n);
    if (r == 0) return BT_FRAME_EOF;
    if (r < 0) return BT_FRAME_BROKEN;
    if (n == 0) {
        *err = BT_ERR_BAD_FRAME;
        return BT_FRAME_READ;
    }
    if ((size_t)n > cap) {
        if (discard(fd, n) != 0) return BT_FRAME_BROKEN;
        *err = BT_ERR_FRAME_TOO_LARGE;
        return BT_FRAME_READ;
    }
    char *buf = malloc((size_t)n + 1);
    if (buf == NULL) {
        if (discard(fd, n) != 0) return BT_FRAME_BROKEN;
        *err = BT_ERR_NO_MEMORY;
        return BT_FRAME_READ;
    }
    if (read_full(fd, buf, n) != (ssize_t)n) {
        free(buf);
        return BT_FRAME_BROKEN;
    }
    buf[n] = '\0';
    *out = buf;
    *len = n;
    return BT_FRAME_READ;
}

bt_err bt_frame_write(int fd, const char *json, size_t len)
{
    if (len > BT_FRAME_OUT_MAX) return BT_ERR_RESULT_TOO_LARGE;
    uint32_t n = (uint32_t)len;
    struct iovec iov[2] = {{&n, sizeof n}, {(void *)json, len}};
    size_t total = sizeof n + len;
    while (total > 0) {
        ssize_t w = writev(fd, iov, 2);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return BT_ERR_STORAGE;
        total -= (size_t)w;
        for (int i = 0; i < 2 && w > 0; i++) {
            size_t step = (size_t)w < iov[i].iov_len ? (size_t)w : iov[i].iov_len;
            iov[i].iov_base = (char *)iov[i].iov_base + step;
            iov[i].iov_len -= step;
            w -= (ssize_t)step;
        }
    }
    return BT_OK;
}
