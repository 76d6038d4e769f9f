/* Framing: what the host reads from the browser, byte by byte. */
#include <stdint.h>
#include <unistd.h>

#include "bantrail/frame.h"
#include "check.h"

/* Writes bytes into a pipe and closes the writing end; returns the reading end. */
static int feed(const void *bytes, size_t n)
{
    int fds[2];
    if (pipe(fds) != 0) abort();
    if (n > 0 && write(fds[1], bytes, n) != (ssize_t)n) abort();
    close(fds[1]);
    return fds[0];
}

static size_t put_frame(unsigned char *buf, const char *json)
{
    uint32_t n = (uint32_t)strlen(json);
    memcpy(buf, &n, 4);
    memcpy(buf + 4, json, n);
    return 4 + n;
}

/* Delivers bytes one at a time, as a slow pipe would. */
static int feed_slowly(const unsigned char *bytes, size_t n)
{
    int fds[2];
    if (pipe(fds) != 0) abort();
    if (fork() == 0) {
        close(fds[0]);
        for (size_t i = 0; i < n; i++) {
            if (write(fds[1], bytes + i, 1) != 1) _exit(1);
            usleep(200);
        }
        _exit(0);
    }
    close(fds[1]);
    return fds[0];
}

TEST(reads_a_frame_delivered_in_short_reads)
{
    unsigned char buf[64];
    size_t n = put_frame(buf, "{\"id\":1}");
    int fd = feed_slowly(buf, n);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_READ);
    CHECK_EQ(err, BT_OK);
    CHECK_EQ(len, 8);
    CHECK(out != NULL && strcmp(out, "{\"id\":1}") == 0);
    free(out);
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_EOF);
    close(fd);
}

TEST(zero_length_is_an_error_and_the_stream_goes_on)
{
    unsigned char buf[64] = {0};
    size_t n = 4 + put_frame(buf + 4, "{}");
    int fd = feed(buf, n);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_READ);
    CHECK_EQ(err, BT_ERR_BAD_FRAME);
    CHECK(out == NULL);
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_READ);
    CHECK_EQ(err, BT_OK);
    CHECK(out != NULL && strcmp(out, "{}") == 0);
    free(out);
    close(fd);
}

static void frame_of_size(size_t size, size_t cap, bt_err want)
{
    unsigned char *buf = malloc(4 + size + 6);
    uint32_t n = (uint32_t)size;
    memcpy(buf, &n, 4);
    memset(buf + 4, ' ', size);
    size_t total = 4 + size + put_frame(buf + 4 + size, "[]") ;
    int fd = feed(buf, total);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, cap, &out, &len, &err), BT_FRAME_READ);
    CHECK_EQ(err, want);
    CHECK_EQ(out != NULL, want == BT_OK);
    CHECK_EQ(len, want == BT_OK ? size : 0);
    free(out);
    /* the next frame is still read correctly */
    CHECK_EQ(bt_frame_read(fd, cap, &out, &len, &err), BT_FRAME_READ);
    CHECK(err == BT_OK && out != NULL && strcmp(out, "[]") == 0);
    free(out);
    close(fd);
    free(buf);
}

TEST(exactly_the_cap_is_accepted)
{
    frame_of_size(4096, 4096, BT_OK);
}

TEST(one_byte_over_the_cap_is_refused_and_skipped)
{
    frame_of_size(4097, 4096, BT_ERR_FRAME_TOO_LARGE);
}

TEST(a_huge_length_prefix_is_not_allocated)
{
    /* claims 4 GiB - 1 but sends 3 bytes: refused without allocating, and the
     * stream is then broken because the body never comes */
    unsigned char buf[7] = {0xff, 0xff, 0xff, 0xff, 'a', 'b', 'c'};
    int fd = feed(buf, sizeof buf);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, BT_FRAME_IN_MAX, &out, &len, &err), BT_FRAME_BROKEN);
    CHECK(out == NULL);
    close(fd);
}

TEST(truncated_prefix_breaks_the_stream)
{
    unsigned char buf[2] = {5, 0};
    int fd = feed(buf, sizeof buf);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_BROKEN);
    close(fd);
}

TEST(truncated_body_breaks_the_stream)
{
    unsigned char buf[64];
    size_t n = put_frame(buf, "{\"method\":\"hello\"}");
    int fd = feed(buf, n - 3);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_BROKEN);
    CHECK(out == NULL);
    close(fd);
}

TEST(garbage_after_a_frame_reads_as_a_broken_next_frame)
{
    unsigned char buf[64];
    size_t n = put_frame(buf, "{}");
    memcpy(buf + n, "xy", 2);
    int fd = feed(buf, n + 2);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_READ);
    CHECK(err == BT_OK && out != NULL && strcmp(out, "{}") == 0);
    free(out);
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_BROKEN);
    close(fd);
}

TEST(two_frames_in_one_write_are_read_apart)
{
    unsigned char buf[64];
    size_t n = put_frame(buf, "[1]");
    n += put_frame(buf + n, "[22]");
    int fd = feed(buf, n);
    char *out;
    size_t len;
    bt_err err;
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_READ);
    CHECK(out != NULL && strcmp(out, "[1]") == 0);
    free(out);
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_READ);
    CHECK(out != NULL && strcmp(out, "[22]") == 0);
    free(out);
    CHECK_EQ(bt_frame_read(fd, 1024, &out, &len, &err), BT_FRAME_EOF);
    close(fd);
}

TEST(outbound_frames_over_one_mebibyte_are_refused)
{
    int fds[2];
    char *big = malloc(BT_FRAME_OUT_MAX + 1);
    memset(big, 'x', BT_FRAME_OUT_MAX + 1);
    if (pipe(fds) != 0) abort();
    CHECK_EQ(bt_frame_write(fds[1], big, BT_FRAME_OUT_MAX + 1), BT_ERR_RESULT_TOO_LARGE);
    CHECK_EQ(bt_frame_write(fds[1], "{}", 2), BT_OK);
    close(fds[1]);
    unsigned char got[16];
    CHECK_EQ(read(fds[0], got, sizeof got), 6); /* only the small frame went out */
    uint32_t n;
    memcpy(&n, got, 4);
    CHECK_EQ(n, 2);
    close(fds[0]);
    free(big);
}

RUN_TESTS(T(reads_a_frame_delivered_in_short_reads), T(zero_length_is_an_error_and_the_stream_goes_on),
          T(exactly_the_cap_is_accepted), T(one_byte_over_the_cap_is_refused_and_skipped),
          T(a_huge_length_prefix_is_not_allocated), T(truncated_prefix_breaks_the_stream),
          T(truncated_body_breaks_the_stream), T(garbage_after_a_frame_reads_as_a_broken_next_frame),
          T(two_frames_in_one_write_are_read_apart), T(outbound_frames_over_one_mebibyte_are_refused))
