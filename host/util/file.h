/* Writing a file whole or not at all, the one way Bantrail writes the files
 * it keeps outside SQLite (key files, exports, browser manifests). */
#ifndef BANTRAIL_UTIL_FILE_H
#define BANTRAIL_UTIL_FILE_H

#include <stddef.h>
#include <sys/types.h>

typedef enum {
    BT_FILE_NEW,    /* path must not exist (O_EXCL): an existing entry or a link is refused (EEXIST) */
    BT_FILE_REPLACE, /* path may exist as a file or a link: written beside it as path.tmp, then renamed
                     * over it (a link is replaced, never followed); anything else is refused (EEXIST) */
    BT_FILE_CACHE   /* as REPLACE, but nothing is flushed: for a file whose loss or damage in a crash costs
                     * only work, and which its reader authenticates (the index's snapshot) */
} bt_file_how;

/* Writes len bytes of data to path with exactly the permission bits mode,
 * following no link, durably (but for BT_FILE_CACHE): the data, then the
 * folder's entry, are flushed (fsync) before it returns. 0, or -1 with errno set; on failure
 * nothing this call created is left behind, and a replaced file is as it
 * was. */
int bt_file_write(const char *path, const void *data, size_t len, mode_t mode, bt_file_how how);

/* Writes all of p to fd, going on after EINTR. 0, or -1 with errno set. */
int bt_file_write_all(int fd, const void *p, size_t n);

#endif
