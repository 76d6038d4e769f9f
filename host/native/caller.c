#include "bantrail/caller.h"

#include <string.h>

int bt_caller_allowed(int argc, char **argv)
{
    static const char prefix[] = "chrome-extension://";
    const size_t plen = sizeof prefix - 1, idlen = sizeof BT_EXTENSION_ID_CHROMIUM - 1;
    if (argc <= 1) return 1;
    if (strncmp(argv[1], prefix, plen) == 0) {
        const char *id = argv[1] + plen;
        return strncmp(id, BT_EXTENSION_ID_CHROMIUM, idlen) == 0 &&
               (id[idlen] == '\0' || strcmp(id + idlen, "/") == 0);
    }
    return argc >= 3 && strcmp(argv[2], BT_EXTENSION_ID_GECKO) == 0;
}
