/* Registering the native host with browsers (docs/DESIGN.md section 9). The
 * manifests are the templates in manifests/, compiled in, with the host's
 * absolute path and the extension's ids filled in. */
#ifndef BANTRAIL_INSTALL_H
#define BANTRAIL_INSTALL_H

#include "bantrail/error.h"

#define BT_HOST_NAME "org.bantrail.host"

typedef enum {
    BT_BROWSER_CHROME,
    BT_BROWSER_CHROMIUM,
    BT_BROWSER_BRAVE,
    BT_BROWSER_EDGE,
    BT_BROWSER_VIVALDI,
    BT_BROWSER_FIREFOX,
    BT_BROWSER_COUNT
} bt_browser;

/* "chrome", "chromium", ... Never NULL for a valid b. */
const char *bt_install_browser_name(bt_browser b);

/* The browser called name, or -1. */
int bt_install_browser_by_name(const char *name);

/* Passed as user_data_dir: the system-wide folder every user's browser
 * reads (/etc/chromium/native-messaging-hosts, /usr/lib/mozilla/
 * native-messaging-hosts, ...), where a package registers the host. */
extern const char bt_install_system[];

/* Sets *out (malloc'd) to the manifest file browser b reads for this user:
 * with user_data_dir (Chromium family only) DIR/NativeMessagingHosts/, with
 * bt_install_system the system-wide folder (BT_ERR_NOT_FOUND for a browser
 * without one), else the per-user folder of this system. BT_ERR_BAD_PARAMS
 * for Firefox with a user data dir, BT_ERR_NOT_FOUND when HOME is unset. */
bt_err bt_install_manifest_path(bt_browser b, const char *user_data_dir, char **out);

/* Sets *out (malloc'd) to browser b's manifest for the host at host_path. */
bt_err bt_install_render(bt_browser b, const char *host_path, char **out);

/* Writes the manifest (creating its folders), replacing an earlier one
 * atomically, never through a symbolic link. *written gets its path. */
bt_err bt_install_write(bt_browser b, const char *user_data_dir, const char *host_path, char **written);

/* Removes the manifest if it is Bantrail's. BT_ERR_NOT_FOUND when there is
 * none. *removed gets its path. */
bt_err bt_install_remove(bt_browser b, const char *user_data_dir, char **removed);

/* Reads the installed manifest and checks it: it names our host and our
 * extension, and its path is an executable file. Without user_data_dir, a
 * user who has no manifest of their own is checked against the system-wide
 * one (what the browser would read). On BT_OK *host_path gets the path
 * (malloc'd); otherwise *problem says what is wrong (static text). */
bt_err bt_install_check(bt_browser b, const char *user_data_dir, char **host_path, const char **problem);

/* 1 when this user seems to use browser b (its profile folder exists or its
 * program is installed), else 0. */
int bt_install_detected(bt_browser b);

/* "Flatpak" or "Snap" when browser b is installed in such a sandbox, which
 * cannot start native hosts; NULL otherwise. */
const char *bt_install_sandboxed(bt_browser b);

#endif
