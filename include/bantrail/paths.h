/* Where Bantrail keeps its files (docs/DESIGN.md section 3). */
#ifndef BANTRAIL_PATHS_H
#define BANTRAIL_PATHS_H

#include "bantrail/error.h"

/* The data folder: $BANTRAIL_HOME if set; else $XDG_DATA_HOME/bantrail or
 * ~/.local/share/bantrail on Linux, ~/Library/Application Support/Bantrail on
 * macOS. Sets *out to a malloc'd path (the caller frees); does not create it.
 * BT_ERR_NOT_FOUND when no home folder is known. */
bt_err bt_paths_data_dir(char **out);

/* Creates dir and any missing parents with mode (existing ones are left as
 * they are). BT_ERR_STORAGE when one cannot be made. */
bt_err bt_paths_mkdirs(const char *dir, unsigned mode);

#endif
