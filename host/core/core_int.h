/* What several core modules share and nobody else needs. */
#ifndef BANTRAIL_CORE_INT_H
#define BANTRAIL_CORE_INT_H

#include <stddef.h>
#include "bantrail/error.h"

/* (capture.c) Decodes standard base64 (all of s, n bytes) into a new malloc'd buffer
 * *out of *out_len bytes (the caller wipes and frees it). BT_ERR_BAD_PARAMS
 * when s is not base64, BT_ERR_NO_MEMORY; *out is NULL on error. */
bt_err bt_core_base64(const char *s, size_t n, unsigned char **out, size_t *out_len);

#endif
