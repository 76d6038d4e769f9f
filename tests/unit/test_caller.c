/* Who may start the host, and the manifests that say so, in a build that
 * knows the extension's Chrome Web Store id (built with its own
 * BT_EXTENSION_ID_CHROMIUM_STORE: tests/CMakeLists.txt). */
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "bantrail/caller.h"
#include "bantrail/install.h"
#include "check.h"

#define STORE "abcdefghijklmnopabcdefghijklmnop"

static int allowed(const char *a1, const char *a2)
{
    char *argv[] = {"bantrail-host", (char *)a1, (char *)a2, NULL};
    return bt_caller_allowed(a1 == NULL ? 1 : a2 == NULL ? 2 : 3, argv);
}

TEST(the_unpacked_and_the_store_extension_may_start_the_host_and_no_other)
{
    CHECK(allowed("chrome-extension://" BT_EXTENSION_ID_CHROMIUM "/", NULL) == 1);
    CHECK(allowed("chrome-extension://" STORE "/", NULL) == 1);
    CHECK(allowed("chrome-extension://" STORE, NULL) == 1);
    CHECK(allowed("chrome-extension://" STORE "x/", NULL) == 0);
    CHECK(allowed("chrome-extension://abcdefghijklmnopabcdefghijklmnoa/", NULL) == 0);
    CHECK(allowed("chrome-extension:///", NULL) == 0);
    CHECK(allowed("/usr/lib/mozilla/native-messaging-hosts/org.bantrail.host.json", BT_EXTENSION_ID_GECKO) == 1);
    CHECK(allowed("/some/manifest.json", "other@example.org") == 0);
    CHECK(allowed(NULL, NULL) == 1); /* by hand, at the terminal */
}

TEST(the_chromium_manifests_name_both_ids_firefox_its_own)
{
    char *out = NULL;
    CHECK(bt_install_render(BT_BROWSER_CHROMIUM, "/usr/bin/bantrail-host", &out) == BT_OK);
    json_object *m = out ? json_tokener_parse(out) : NULL, *list = NULL;
    CHECK(m != NULL && json_object_object_get_ex(m, "allowed_origins", &list));
    CHECK(json_object_array_length(list) == 2);
    CHECK(strcmp(json_object_get_string(json_object_array_get_idx(list, 0)),
                 "chrome-extension://" BT_EXTENSION_ID_CHROMIUM "/") == 0);
    CHECK(strcmp(json_object_get_string(json_object_array_get_idx(list, 1)), "chrome-extension://" STORE "/") == 0);
    json_object_put(m);
    free(out);
    out = NULL;
    CHECK(bt_install_render(BT_BROWSER_FIREFOX, "/usr/bin/bantrail-host", &out) == BT_OK);
    CHECK(out != NULL && strstr(out, STORE) == NULL && strstr(out, BT_EXTENSION_ID_GECKO) != NULL);
    free(out);
}

RUN_TESTS(T(the_unpacked_and_the_store_extension_may_start_the_host_and_no_other),
          T(the_chromium_manifests_name_both_ids_firefox_its_own))
