#include "bantrail/paths.h"

#include <stdio.h>
#include <stdlib.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>

static char *join(const char *a, const char *b)
{
    size_t n = strlen(a) + strlen(b) + 1;
    char *p = malloc(n);
    if (p != NULL) snprintf(p, n, "%s%s", a, b);
    return p;
}

bt_err bt_paths_data_dir(char **out)
{
    const char *env = getenv("BANTRAIL_HOME");
    const char *home = getenv("HOME");
    *out = NULL;
    if (env != NULL && env[0] != '\0') {
        *out = strdup(env);
    } else {
#ifdef __APPLE__
        if (home == NULL || home[0] == '\0') return BT_ERR_NOT_FOUND;
        *out = join(home, "/Library/Application Support/Bantrail");
#else
        const char *xdg = getenv("XDG_DATA_HOME");
        if (xdg != NULL && xdg[0] == '/') *out = join(xdg, "/bantrail");
        else if (home != NULL && home[0] != '\0') *out = join(home, "/.local/share/bantrail");
        else return BT_ERR_NOT_FOUND;
#endif
    }
    return *out != NULL ? BT_OK : BT_ERR_NO_MEMORY;
}

bt_err bt_paths_mkdirs(const char *dir, unsigned mode)
{
    char *p = strdup(dir);
    bt_err err = BT_OK;
    if (p == NULL) return BT_ERR_NO_MEMORY;
    for (char *s = strchr(p + 1, '/');; s = strchr(s + 1, '/')) {
        if (s != NULL) *s = '\0';
        if (p[0] != '\0' && mkdir(p, (mode_t)mode) != 0 && errno != EEXIST) err = BT_ERR_STORAGE;
        if (s == NULL || err != BT_OK) break;
        *s = '/';
    }
    free(p);
    return err;
}
