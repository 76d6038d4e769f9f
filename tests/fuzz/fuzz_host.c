/* libFuzzer target: frame reading and request dispatch, as the host runs
 * them. The input is a byte stream from the browser: frames are read with the
 * real reader and each is answered by the real dispatcher over a real log.
 * Methods that run Argon2id (unlock, set_passphrase) are left out: each call
 * costs a quarter of a second by design. */
#define _GNU_SOURCE /* memfd_create, memmem */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "bantrail/frame.h"
#include "bantrail/rpc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bt_rpc *rpc;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (rpc == NULL) {
        char dir[] = "/dev/shm/bt-fuzz-XXXXXX";
        if (mkdtemp(dir) == NULL || (rpc = bt_rpc_new(dir, 1)) == NULL) abort();
    }
    if (memmem(data, size, "passphrase", 10) != NULL || memmem(data, size, "unlock", 6) != NULL) return 0;
    int fd = memfd_create("frames", 0);
    if (fd < 0 || write(fd, data, size) != (ssize_t)size || lseek(fd, 0, SEEK_SET) != 0) abort();
    for (;;) {
        char *frame = NULL;
        size_t len = 0, out_len = 0;
        bt_err err;
        if (bt_frame_read(fd, 1 << 16, &frame, &len, &err) != BT_FRAME_READ) break;
        char *out = bt_rpc_handle(rpc, frame, len, err, &out_len, NULL, NULL);
        if (out == NULL || out_len > BT_FRAME_OUT_MAX || out[0] != '{') abort();
        free(out);
        free(frame);
    }
    close(fd);
    return 0;
}
