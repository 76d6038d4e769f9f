#include "bantrail/install.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bantrail/caller.h"
#include "bantrail/paths.h"
#include "util/file.h"

extern const unsigned char bt_embed_manifest_chromium[], bt_embed_manifest_firefox[];

#define MANIFEST_FILE BT_HOST_NAME ".json"

const char bt_install_system[] = "system";

static const struct {
    const char *name;
    const char *system_dir;  /* Linux, for every user (a package's); NULL when the browser reads none */
    const char *linux_dir;   /* under $XDG_CONFIG_HOME (~/.config); Firefox: under ~ */
    const char *mac_dir;     /* under ~/Library/Application Support */
    const char *programs[3]; /* executables that tell it is installed */
    const char *flatpak;     /* Flathub application id */
    const char *snap;
} browsers[BT_BROWSER_COUNT] = {
    [BT_BROWSER_CHROME] = {"chrome", "/etc/opt/chrome/native-messaging-hosts", "google-chrome", "Google/Chrome",
                           {"/usr/bin/google-chrome", "/opt/google/chrome/chrome", NULL}, "com.google.Chrome", NULL},
    [BT_BROWSER_CHROMIUM] = {"chromium", "/etc/chromium/native-messaging-hosts", "chromium", "Chromium",
                             {"/usr/bin/chromium", "/usr/lib/chromium/chromium", NULL}, "org.chromium.Chromium",
                             "chromium"},
    [BT_BROWSER_BRAVE] = {"brave", "/etc/opt/brave.com/brave/native-messaging-hosts", "BraveSoftware/Brave-Browser", "BraveSoftware/Brave-Browser",
                          {"/usr/bin/brave-browser", "/opt/brave.com/brave/brave", NULL}, "com.brave.Browser",
                          "brave"},
    [BT_BROWSER_EDGE] = {"edge", "/etc/opt/edge/native-messaging-hosts", "microsoft-edge", "Microsoft Edge",
                         {"/usr/bin/microsoft-edge", "/opt/microsoft/msedge/msedge", NULL}, "com.microsoft.Edge",
                         NULL},
    [BT_BROWSER_VIVALDI] = {"vivaldi", NULL, "vivaldi", "Vivaldi",
                            {"/usr/bin/vivaldi", "/opt/vivaldi/vivaldi", NULL}, "com.vivaldi.Vivaldi", NULL},
    [BT_BROWSER_FIREFOX] = {"firefox", "/usr/lib/mozilla/native-messaging-hosts", ".mozilla/native-messaging-hosts", "Mozilla/NativeMessagingHosts",
                            {"/usr/bin/firefox", "/usr/bin/firefox-esr", "/usr/lib/firefox-esr/firefox-esr"},
                            "org.mozilla.firefox", "firefox"},
};

const char *bt_install_browser_name(bt_browser b)
{
    return (unsigned)b < BT_BROWSER_COUNT ? browsers[b].name : "?";
}

int bt_install_browser_by_name(const char *name)
{
    for (int b = 0; b < BT_BROWSER_COUNT; b++)
        if (strcmp(name, browsers[b].name) == 0) return b;
    return -1;
}

static char *concat(const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *p = malloc(n);
    if (p != NULL) snprintf(p, n, "%s%s%s", a, b, c);
    return p;
}

/* The folder holding browser b's profiles (Chromium family) or its
 * per-user manifest folder (Firefox). */
static bt_err browser_dir(bt_browser b, char **out)
{
    const char *home = getenv("HOME");
    *out = NULL;
    if (home == NULL || home[0] != '/') return BT_ERR_NOT_FOUND;
#ifdef __APPLE__
    *out = concat(home, "/Library/Application Support/", browsers[b].mac_dir);
#else
    const char *xdg = getenv("XDG_CONFIG_HOME");
    if (b == BT_BROWSER_FIREFOX) *out = concat(home, "/", browsers[b].linux_dir);
    else if (xdg != NULL && xdg[0] == '/') *out = concat(xdg, "/", browsers[b].linux_dir);
    else *out = concat(home, "/.config/", browsers[b].linux_dir);
#endif
    return *out != NULL ? BT_OK : BT_ERR_NO_MEMORY;
}

bt_err bt_install_manifest_path(bt_browser b, const char *user_data_dir, char **out)
{
    char *dir = NULL;
    bt_err err;
    *out = NULL;
    if ((unsigned)b >= BT_BROWSER_COUNT) return BT_ERR_BAD_PARAMS;
    if (user_data_dir == bt_install_system) {
#ifdef __APPLE__
        return BT_ERR_NOT_FOUND;
#else
        if (browsers[b].system_dir == NULL) return BT_ERR_NOT_FOUND;
        *out = concat(browsers[b].system_dir, "/", MANIFEST_FILE);
        return *out != NULL ? BT_OK : BT_ERR_NO_MEMORY;
#endif
    }
    if (user_data_dir != NULL) {
        if (b == BT_BROWSER_FIREFOX || user_data_dir[0] != '/') return BT_ERR_BAD_PARAMS;
        *out = concat(user_data_dir, "/NativeMessagingHosts/", MANIFEST_FILE);
        return *out != NULL ? BT_OK : BT_ERR_NO_MEMORY;
    }
    if ((err = browser_dir(b, &dir)) != BT_OK) return err;
    *out = b == BT_BROWSER_FIREFOX ? concat(dir, "/", MANIFEST_FILE)
                                   : concat(dir, "/NativeMessagingHosts/", MANIFEST_FILE);
    free(dir);
    return *out != NULL ? BT_OK : BT_ERR_NO_MEMORY;
}

/* Replaces every @KEY@ of tmpl by its value; values are JSON-escaped. */
static char *fill(const char *tmpl, const char *const subst[][2], size_t n)
{
    size_t cap = strlen(tmpl) + 1, len = 0;
    char *out = malloc(cap);
    if (out == NULL) return NULL;
    for (const char *p = tmpl; *p;) {
        const char *val = NULL;
        size_t key_len = 0;
        for (size_t i = 0; i < n && val == NULL; i++) {
            key_len = strlen(subst[i][0]);
            if (strncmp(p, subst[i][0], key_len) == 0) val = subst[i][1];
        }
        const char *piece = p;
        size_t piece_len = 1;
        json_object *js = NULL;
        if (val != NULL) { /* the value as a JSON string, without its quotes */
            js = json_object_new_string(val);
            piece = json_object_to_json_string_ext(js, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE) + 1;
            piece_len = strlen(piece) - 1;
            p += key_len;
        } else {
            p++;
        }
        if (len + piece_len + 1 > cap) {
            cap = (len + piece_len + 1) * 2;
            char *bigger = realloc(out, cap);
            if (bigger == NULL) { free(out); json_object_put(js); return NULL; }
            out = bigger;
        }
        memcpy(out + len, piece, piece_len);
        len += piece_len;
        json_object_put(js);
    }
    out[len] = '\0';
    return out;
}

bt_err bt_install_render(bt_browser b, const char *host_path, char **out)
{
    const char *const subst[][2] = {{"@HOST_PATH@", host_path},
                                    {"@CHROMIUM_ID@", BT_EXTENSION_ID_CHROMIUM},
                                    {"@GECKO_ID@", BT_EXTENSION_ID_GECKO}};
    if ((unsigned)b >= BT_BROWSER_COUNT || host_path == NULL || host_path[0] != '/') return BT_ERR_BAD_PARAMS;
    const unsigned char *tmpl = b == BT_BROWSER_FIREFOX ? bt_embed_manifest_firefox : bt_embed_manifest_chromium;
    *out = fill((const char *)tmpl, subst, sizeof subst / sizeof subst[0]);
    if (*out == NULL) return BT_ERR_NO_MEMORY;
    if (b == BT_BROWSER_FIREFOX || BT_EXTENSION_ID_CHROMIUM_STORE[0] == '\0') return BT_OK;
    /* the store's id beside the unpacked one */
    json_object *m = json_tokener_parse(*out), *list = NULL;
    char *with = NULL;
    if (m != NULL && json_object_object_get_ex(m, "allowed_origins", &list) &&
        json_object_array_add(list, json_object_new_string("chrome-extension://" BT_EXTENSION_ID_CHROMIUM_STORE "/")) == 0)
        with = strdup(json_object_to_json_string_ext(m, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE));
    json_object_put(m);
    free(*out);
    *out = with;
    return with != NULL ? BT_OK : BT_ERR_NO_MEMORY;
}

/* Creates the folders above path's last component: private to the user,
 * or readable by all for the system-wide ones. */
static bt_err make_parents(const char *path, int system)
{
    char *dir = strdup(path);
    bt_err err;
    if (dir == NULL) return BT_ERR_NO_MEMORY;
    *strrchr(dir, '/') = '\0';
    err = bt_paths_mkdirs(dir, system ? 0755 : 0700);
    free(dir);
    return err;
}

bt_err bt_install_write(bt_browser b, const char *user_data_dir, const char *host_path, char **written)
{
    char *path = NULL, *json = NULL;
    bt_err err = bt_install_manifest_path(b, user_data_dir, &path);
    *written = NULL;
    if (err == BT_OK) err = bt_install_render(b, host_path, &json);
    if (err == BT_OK) err = make_parents(path, user_data_dir == bt_install_system);
    if (err != BT_OK) goto done;
    if (bt_file_write(path, json, strlen(json), 0644, BT_FILE_REPLACE) != 0) {
        err = BT_ERR_STORAGE;
        goto done;
    }
    *written = path;
    path = NULL;
done:
    free(json);
    free(path);
    return err;
}

/* Parses the manifest at path; NULL when missing or not JSON. */
static json_object *read_manifest(const char *path, const char **problem)
{
    struct stat sb;
    if (lstat(path, &sb) != 0) { *problem = "no manifest"; return NULL; }
    if (!S_ISREG(sb.st_mode) || sb.st_size > 65536) { *problem = "the manifest is not a plain file"; return NULL; }
    json_object *m = json_object_from_file(path);
    if (m == NULL || !json_object_is_type(m, json_type_object)) {
        json_object_put(m);
        *problem = "the manifest is not valid JSON";
        return NULL;
    }
    return m;
}

static int names_our_extension(json_object *m, bt_browser b)
{
    json_object *list = NULL;
    const char *want = b == BT_BROWSER_FIREFOX ? BT_EXTENSION_ID_GECKO
                                               : "chrome-extension://" BT_EXTENSION_ID_CHROMIUM "/";
    if (!json_object_object_get_ex(m, b == BT_BROWSER_FIREFOX ? "allowed_extensions" : "allowed_origins", &list))
        return 0;
    for (size_t i = 0; i < json_object_array_length(list); i++) {
        const char *s = json_object_get_string(json_object_array_get_idx(list, i));
        if (s != NULL && strcmp(s, want) == 0) return 1;
    }
    return 0;
}

bt_err bt_install_check(bt_browser b, const char *user_data_dir, char **host_path, const char **problem)
{
    char *path = NULL;
    json_object *m = NULL, *x = NULL;
    bt_err err = bt_install_manifest_path(b, user_data_dir, &path);
    *host_path = NULL;
    *problem = NULL;
    if (err != BT_OK) { *problem = "no manifest folder for this browser"; return err; }
    m = read_manifest(path, problem);
    free(path);
    if (m == NULL && user_data_dir == NULL && bt_install_manifest_path(b, bt_install_system, &path) == BT_OK) {
        *problem = NULL; /* none of the user's own: the package's, as the browser reads it */
        m = read_manifest(path, problem);
        free(path);
    }
    if (m == NULL) return BT_ERR_NOT_FOUND;
    err = BT_ERR_CORRUPT;
    const char *name = json_object_object_get_ex(m, "name", &x) ? json_object_get_string(x) : NULL;
    const char *hp = json_object_object_get_ex(m, "path", &x) ? json_object_get_string(x) : NULL;
    if (name == NULL || strcmp(name, BT_HOST_NAME) != 0) *problem = "the manifest names another host";
    else if (!names_our_extension(m, b)) *problem = "the manifest does not allow Bantrail's extension";
    else if (hp == NULL || hp[0] != '/') *problem = "the manifest's host path is not absolute";
    else if (access(hp, X_OK) != 0) *problem = "the host program it names is missing or not executable";
    else if ((*host_path = strdup(hp)) == NULL) err = BT_ERR_NO_MEMORY;
    else err = BT_OK;
    json_object_put(m);
    return err;
}

/* After a system-wide manifest is removed: its folder and the vendor's
 * folders above it, while empty (rmdir never removes anything else), up to
 * /etc/opt, /etc or /usr/lib, which stay. A package leaves nothing behind. */
static void remove_empty_parents(const char *path)
{
    static const char *const stops[] = {"/etc/opt", "/etc", "/usr/lib"};
    char *dir = strdup(path);
    for (char *slash; dir != NULL && (slash = strrchr(dir, '/')) != NULL && slash != dir;) {
        *slash = '\0';
        for (size_t i = 0; i < sizeof stops / sizeof stops[0]; i++)
            if (strcmp(dir, stops[i]) == 0) goto done;
        if (rmdir(dir) != 0) break;
    }
done:
    free(dir);
}

bt_err bt_install_remove(bt_browser b, const char *user_data_dir, char **removed)
{
    char *path = NULL;
    const char *problem;
    json_object *m, *x = NULL;
    bt_err err = bt_install_manifest_path(b, user_data_dir, &path);
    *removed = NULL;
    if (err != BT_OK) return err;
    m = read_manifest(path, &problem);
    if (m == NULL) {
        free(path);
        return BT_ERR_NOT_FOUND;
    }
    /* only Bantrail's own manifest is removed */
    if (json_object_object_get_ex(m, "name", &x) && strcmp(json_object_get_string(x), BT_HOST_NAME) == 0) {
        err = unlink(path) == 0 ? BT_OK : BT_ERR_STORAGE;
        if (err == BT_OK && user_data_dir == bt_install_system) remove_empty_parents(path);
    } else {
        err = BT_ERR_NOT_FOUND;
    }
    json_object_put(m);
    if (err == BT_OK) *removed = path;
    else free(path);
    return err;
}

int bt_install_detected(bt_browser b)
{
    char *dir = NULL;
    struct stat sb;
    int found = 0;
    for (int i = 0; i < 3 && browsers[b].programs[i] != NULL && !found; i++)
        found = access(browsers[b].programs[i], X_OK) == 0;
    if (!found && browser_dir(b, &dir) == BT_OK) {
        if (b == BT_BROWSER_FIREFOX) { /* ~/.mozilla, not the manifest folder */
            char *slash = strrchr(dir, '/');
            if (slash != NULL) *slash = '\0';
        }
        found = stat(dir, &sb) == 0 && S_ISDIR(sb.st_mode);
    }
    free(dir);
    return found || bt_install_sandboxed(b) != NULL;
}

const char *bt_install_sandboxed(bt_browser b)
{
    const char *home = getenv("HOME");
    char path[1024];
    struct stat sb;
    if (home == NULL) return NULL;
    if (browsers[b].flatpak != NULL) {
        snprintf(path, sizeof path, "%s/.var/app/%s", home, browsers[b].flatpak);
        if (stat(path, &sb) == 0) return "Flatpak";
        snprintf(path, sizeof path, "/var/lib/flatpak/app/%s", browsers[b].flatpak);
        if (stat(path, &sb) == 0) return "Flatpak";
    }
    if (browsers[b].snap != NULL) {
        snprintf(path, sizeof path, "/snap/bin/%s", browsers[b].snap);
        if (stat(path, &sb) == 0) return "Snap";
    }
    return NULL;
}
