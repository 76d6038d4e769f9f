/* Native messaging frames: a 32-bit length in native byte order, then that
 * many bytes of UTF-8 JSON (docs/PROTOCOL.md, "Frames"). */
#ifndef BANTRAIL_FRAME_H
#define BANTRAIL_FRAME_H

#include <stddef.h>
#include "bantrail/error.h"

/* Largest inbound frame: a full-screen PNG in base64 fits with room to spare. */
#define BT_FRAME_IN_MAX ((size_t)32 * 1024 * 1024)
/* Largest outbound frame: browsers drop the port on anything longer. */
#define BT_FRAME_OUT_MAX ((size_t)1024 * 1024)

typedef enum {
    BT_FRAME_READ = 1,   /* a frame was consumed; see *err */
    BT_FRAME_EOF = 0,    /* the stream ended cleanly between frames */
    BT_FRAME_BROKEN = -1 /* truncated prefix or body, or a read error */
} bt_frame_status;

/* Reads one frame from fd. On BT_FRAME_READ, *err is BT_OK and *out holds a
 * NUL-terminated malloc'd copy of the body (*len bytes, the caller frees), or
 * *err is BT_ERR_BAD_FRAME (zero length) or BT_ERR_FRAME_TOO_LARGE (length
 * above cap; the body was read and discarded, never allocated) and *out is
 * NULL: the stream is still framed and the caller goes on reading. */
bt_frame_status bt_frame_read(int fd, size_t cap, char **out, size_t *len, bt_err *err);

/* Writes json (len bytes) as one frame. Returns BT_ERR_RESULT_TOO_LARGE
 * without writing anything if len exceeds BT_FRAME_OUT_MAX, BT_ERR_STORAGE
 * on a write error, BT_OK otherwise. */
bt_err bt_frame_write(int fd, const char *json, size_t len);

#endif
