#include "bantrail/caller.h"

#include <string.h>

/* Whether origin ("<id>" or "<id>/") names the extension id want (not ""). */
static int is_id(const char *origin, const char *want)
{
    size_t n = strlen(want);
    return n > 0 && strncmp(origin, want, n) == 0 && (origin[n] == '\0' || strcmp(origin + n, "/") == 0);
}

int bt_caller_allowed(int argc, char **argv)
{
    static const char prefix[] = "chrome-extension://";
    const size_t plen = sizeof prefix - 1;
    if (argc <= 1) return 1;
    if (strncmp(argv[1], prefix, plen) == 0)
        return is_id(argv[1] + plen, BT_EXTENSION_ID_CHROMIUM) || is_id(argv[1] + plen, BT_EXTENSION_ID_CHROMIUM_STORE);
    return argc >= 3 && strcmp(argv[2], BT_EXTENSION_ID_GECKO) == 0;
}
