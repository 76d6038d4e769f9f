/* The log's index: which entries name which record (attachments,
 * occurrences, marks: their "of") and the cases (cases.h), kept in memory
 * only, built from the decrypted headers the first time a question needs it
 * and then brought up to date by reading only the entries written since (by
 * this process or another: the host and the CLI append to the same log).
 * Nothing of it is ever written to disk. It holds decrypted metadata: free
 * it (which wipes it) when the log is locked. */
#ifndef BANTRAIL_INDEX_H
#define BANTRAIL_INDEX_H

#include <json-c/json.h>
#include <stdint.h>
#include "bantrail/cases.h"
#include "bantrail/error.h"
#include "bantrail/vault.h"

typedef struct bt_index bt_index;

/* NULL when out of memory. */
bt_index *bt_index_new(void);

/* Wipes and frees; accepts NULL. */
void bt_index_free(bt_index *ix);

/* Brings ix up to the log's last entry (or only max entries further, when
 * max > 0: a slice of the work): decrypts the entries after the last one it
 * holds, or from the first when that one is no longer what it was (its
 * chain hash changed: the log was recovered or replaced). Needs the log
 * readable: bt_vault_read_each's errors (BT_ERR_LOCKED, when it also
 * forgets everything); on another error ix keeps what it had. *read (may be
 * NULL) is the number of entries read. */
bt_err bt_index_update(bt_index *ix, bt_vault *v, int64_t max, int64_t *read);

/* The last entry ix holds (0 when none). */
int64_t bt_index_last(const bt_index *ix);

/* Updates ix, then calls fn for each entry whose header names record id in
 * "of", in id order, with that header (read now, borrowed); fn returns
 * nonzero to stop. An entry that no longer reads is passed over. */
bt_err bt_index_related(bt_index *ix, bt_vault *v, int64_t id,
                        int (*fn)(void *ctx, int64_t entry, json_object *head), void *ctx);

/* Updates ix, then derives the cases as of now (cases.h) into *out,
 * borrowed: valid until the next call on ix. *unreadable (may be NULL):
 * entries that did not read. */
bt_err bt_index_cases(bt_index *ix, bt_vault *v, int64_t now, const bt_cases **out, int64_t *unreadable);

#endif
