/* What several core modules share and nobody else needs. */
#ifndef BANTRAIL_CORE_INT_H
#define BANTRAIL_CORE_INT_H

#include <stddef.h>
#include <stdint.h>
#include "bantrail/capture.h"
#include "bantrail/error.h"

/* (capture.c) Decodes standard base64 (all of s, n bytes) into a new malloc'd buffer
 * *out of *out_len bytes (the caller wipes and frees it). BT_ERR_BAD_PARAMS
 * when s is not base64, BT_ERR_NO_MEMORY; *out is NULL on error. */
bt_err bt_core_base64(const char *s, size_t n, unsigned char **out, size_t *out_len);

/* (capture.c) The sealed boxes taken (capture_sealed), by id: BLAKE2b-128 of the box's bytes, kept
 * in each box's "sealed_done" entry as "box" (hex). bt_capture_box_seen says whether a box with id
 * was taken among the log's last BT_REPEAT_SCAN entries or since (read once while the log is
 * readable, like the repeat memory, and forgotten with it); bt_capture_box_taken adds one. */
#define BT_BOX_ID_BYTES 16
int bt_capture_box_seen(bt_capture *c, const unsigned char id[BT_BOX_ID_BYTES], int64_t now);
void bt_capture_box_taken(bt_capture *c, const unsigned char id[BT_BOX_ID_BYTES]);

#endif
