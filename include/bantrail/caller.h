/* Which browser extensions may start the host (docs/DESIGN.md section 4). */
#ifndef BANTRAIL_CALLER_H
#define BANTRAIL_CALLER_H

/* The extension's ids: Chromium's comes from the "key" in
 * extension/manifest.json (the extension loaded unpacked), Firefox's is
 * browser_specific_settings.gecko.id. The Chrome Web Store gives the
 * extension another id at its first upload (its pack carries no "key"):
 * configure with -DBT_STORE_CHROMIUM_ID=<that id> and the host accepts both
 * (BT_EXTENSION_ID_CHROMIUM_STORE, "" until then). */
#define BT_EXTENSION_ID_CHROMIUM "bnmdnnfnpiijlnoabddbmgcfkcfcmknl"
#define BT_EXTENSION_ID_GECKO "bantrail@bantrail.org"
#ifndef BT_EXTENSION_ID_CHROMIUM_STORE
#define BT_EXTENSION_ID_CHROMIUM_STORE ""
#endif

/* Decides from the host's argv whether the caller is our extension.
 * Chromium passes "chrome-extension://<id>/" as argv[1] (and a window handle
 * on Windows); Firefox passes the manifest path and the add-on id. A host
 * started by hand, with no arguments, serves the person at the terminal.
 * Returns 1 when allowed, 0 when not. */
int bt_caller_allowed(int argc, char **argv);

#endif
