#include "util/file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bt_file_write_all(int fd, const void *p, size_t n)
{
    const unsigned char *b = p;
    while (n > 0) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            if (w == 0) errno = EIO;
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return 0;
}

/* fsync of the folder holding path, so that a new or renamed entry is on
 * disk too (where the system allows it). */
static int sync_folder(const char *path)
{
    char *copy = strdup(path);
    if (copy == NULL) return -1;
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(copy);
    if (fd < 0) return -1;
    int rc = fsync(fd);
    close(fd);
    return rc;
}

int bt_file_write(const char *path, const void *data, size_t len, mode_t mode, bt_file_how how)
{
    struct stat sb;
    char *tmp = NULL;
    int fd = -1, rc = -1, made = 0, saved;
    if (how != BT_FILE_NEW) {
        if (lstat(path, &sb) == 0 && !S_ISREG(sb.st_mode) && !S_ISLNK(sb.st_mode)) {
            errno = EEXIST;
            return -1;
        }
        size_t n = strlen(path) + sizeof ".tmp";
        if ((tmp = malloc(n)) == NULL) return -1;
        snprintf(tmp, n, "%s.tmp", path);
        unlink(tmp); /* left by a write that was cut short */
    }
    fd = open(tmp != NULL ? tmp : path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
    if (fd < 0) goto done;
    made = 1;
    if (fchmod(fd, mode) != 0 || bt_file_write_all(fd, data, len) != 0 || (how != BT_FILE_CACHE && fsync(fd) != 0))
        goto done;
    rc = close(fd);
    fd = -1;
    if (rc == 0 && tmp != NULL) rc = rename(tmp, path); /* replaces the entry, follows no link */
    if (rc == 0 && how != BT_FILE_CACHE) (void)sync_folder(path); /* the file is whole either way */
done:
    saved = errno;
    if (fd >= 0) close(fd);
    if (rc != 0 && made) unlink(tmp != NULL ? tmp : path); /* only what this call created */
    free(tmp);
    errno = saved;
    return rc;
}
